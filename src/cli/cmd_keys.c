/*
 * cmd_keys.c -- `tenure keys create|list|revoke`: the API keys of `tenure
 * serve`.  A new key is printed once; the store keeps only its SHA-256.
 */
#include "cli.h"
#include "tenure/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char keys_help[] =
	"usage: tenure keys create --scope ingest|read|admin [--name NAME]\n"
	"       tenure keys list\n"
	"       tenure keys revoke ID\n\n"
	"API keys for `tenure serve` (docs/api.md).  A request sends its key as\n"
	"`Authorization: Bearer KEY`.  Scopes: ingest (the POST routes), read (the GET\n"
	"routes and /metrics), admin (everything).  `create` prints the new key once:\n"
	"the store keeps only its SHA-256 hash.  `revoke` takes effect within a second\n"
	"on a running server.\n";

static int keys_create(cli_ctx *ctx, int argc, char **argv)
{
	const char *scope = NULL, *name = NULL;
	for (int i = 1; i < argc; i++) {
		int r;
		if ((r = cli_opt(argc, argv, &i, "--scope", &scope)) || (r = cli_opt(argc, argv, &i, "--name", &name))) {
			if (r < 0)
				return 2;
			continue;
		}
		return cli_usage_error("keys", "create: unexpected argument \"%s\"", argv[i]);
	}
	if (!scope)
		return cli_usage_error("keys", "create needs --scope ingest|read|admin");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err))
		return cli_fail(&err);
	char key[TN_KEY_LEN + 1];
	int64_t id;
	int rc = tn_key_create(s, scope, name, key, &id, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (ctx->format == OUT_TABLE) {
		printf("%s\n", key);
		fprintf(stderr, "key %lld (%s%s%s): store it now, it is not shown again\n", (long long)id, scope,
			name ? ", " : "", name ? name : "");
	} else {
		const char *cols[] = {"id", "scope", "name", "key"};
		tn_out *t = tn_out_new(4, cols);
		tn_out_int(t, id);
		tn_out_str(t, scope);
		tn_out_str(t, name);
		tn_out_str(t, key);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	return 0;
}

static int keys_list(cli_ctx *ctx)
{
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_api_key *keys;
	size_t n;
	int rc = tn_store_keys_list(s, &keys, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"id", "name", "scope", "prefix", "created_at", "revoked_at"};
	tn_out *t = tn_out_new(6, cols);
	for (size_t i = 0; i < n; i++) {
		char a[32], b[32];
		tn_out_int(t, keys[i].id);
		tn_out_str(t, keys[i].name[0] ? keys[i].name : NULL);
		tn_out_str(t, keys[i].scope);
		tn_out_str(t, keys[i].prefix);
		tn_out_str(t, tn_time_format(keys[i].created_at, a, sizeof a));
		tn_out_str(t, keys[i].revoked_at == TN_NO_TIME ? NULL : tn_time_format(keys[i].revoked_at, b, sizeof b));
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(keys);
	return 0;
}

static int keys_revoke(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("keys", "revoke needs one key ID (see `tenure keys list`)");
	long id;
	if (cli_parse_long("keys", "revoke", argv[1], &id))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_store_key_revoke(s, id, tn_now(), &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "key %ld revoked\n", id);
	return 0;
}

int cmd_keys(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(keys_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "create") == 0)
		return keys_create(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0) {
		if (argc > 2)
			return cli_usage_error("keys", "list: unexpected argument \"%s\"", argv[2]);
		return keys_list(ctx);
	}
	if (strcmp(argv[1], "revoke") == 0)
		return keys_revoke(ctx, argc - 1, argv + 1);
	return cli_usage_error("keys", "unknown subcommand \"%s\" (create, list or revoke)", argv[1]);
}
