/*
 * cmd_sources.c -- `tenure sources add|list|remove|replay` and the source
 * kinds of `tenure import` (appstore, googleplay, stripe, revenuecat,
 * googleplay-state): where subscriptions live (docs/sources.md).
 */
#include "cli.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/types.h>

#define SRC_LINE_MAX (1 << 20) /* a body: the webhooks' limit */

static const char sources_help[] =
	"usage: tenure sources add appstore --bundle-id ID [--app-apple-id N] --environment Production|Sandbox\n"
	"                                   --root-cert FILE [--test-root]\n"
	"       tenure sources add googleplay --package NAME [--jwks FILE [--audience URL] [--service-account EMAIL]]\n"
	"       tenure sources add stripe --secret whsec_...\n"
	"       tenure sources add revenuecat --authorization VALUE\n"
	"       tenure sources list\n"
	"       tenure sources remove ID\n"
	"       tenure sources replay\n\n"
	"Subscriptions from where they live (docs/sources.md).  `tenure serve` takes their\n"
	"notifications at POST /v1/webhooks/appstore|googleplay|stripe|revenuecat, verified by\n"
	"the source's own signature; `tenure import appstore|googleplay|stripe|revenuecat FILE`\n"
	"loads the same bodies (one per line) for a backfill.\n"
	"  appstore    App Store Server Notifications V2; --root-cert is Apple Root CA - G3 (its\n"
	"              SHA-256 fingerprint is checked unless --test-root: a chain made for tests)\n"
	"  googleplay  real-time developer notifications by Pub/Sub push; with --jwks the push's\n"
	"              OIDC token is verified (and its audience and service account when given)\n"
	"  stripe      the endpoint's signing secret (kept in the store: HMAC needs it)\n"
	"  revenuecat  the Authorization header value set in RevenueCat (kept as its SHA-256)\n"
	"replay: rebuild every source subscription's state from the kept notifications.\n";

static char *slurp(const char *path, size_t *len, tn_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		tn_error_set(err, TN_ERR_IO, "%s: cannot open", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = tn_malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			if (cap > ((size_t)16 << 20)) {
				free(buf);
				fclose(f);
				tn_error_set(err, TN_ERR_INPUT, "%s: larger than 16 MiB", path);
				return NULL;
			}
			char *p = tn_realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (bad) {
		free(buf);
		tn_error_set(err, TN_ERR_IO, "%s: read error", path);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static int sources_add(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("sources", "add needs a kind: appstore, googleplay, stripe or revenuecat");
	tn_source_spec sp = {.kind = tn_source_kind_parse(argv[1])};
	if (!sp.kind)
		return cli_usage_error("sources", "add: unknown kind \"%s\" (appstore, googleplay, stripe or revenuecat)",
				       argv[1]);
	const char *root = NULL, *jwks = NULL, *app = NULL;
	int test_root = 0;
	const cli_option opts[] = {
		{"--bundle-id", CLI_STR, &sp.bundle_id, 0, 0, "the app's bundle id"},
		{"--app-apple-id", CLI_STR, &app, 0, 0, "the app's Apple id"},
		{"--environment", CLI_STR, &sp.environment, 0, 0, "Production or Sandbox"},
		{"--root-cert", CLI_STR, &root, 0, 0, "a certificate file"},
		{"--test-root", CLI_FLAG, &test_root, 0, 0, NULL},
		{"--package", CLI_STR, &sp.package, 0, 0, "the package name"},
		{"--audience", CLI_STR, &sp.audience, 0, 0, "the push's audience"},
		{"--service-account", CLI_STR, &sp.service_account, 0, 0, "an email"},
		{"--jwks", CLI_STR, &jwks, 0, 0, "a JWKS file"},
		{"--secret", CLI_STR, &sp.secret, 0, 0, "the signing secret"},
		{"--authorization", CLI_STR, &sp.authorization, 0, 0, "the header value"},
		{NULL, 0, NULL, 0, 0, NULL}};
	int rc = cli_parse("sources add", sources_help, opts, argc - 1, argv + 1, NULL, 0, NULL);
	if (rc >= 0)
		return rc;
	sp.test_root = test_root;
	if (app) {
		char *end;
		long long v = strtoll(app, &end, 10);
		if (*end || end == app || v <= 0)
			return cli_usage_error("sources", "--app-apple-id: expected a positive number, found \"%s\"", app);
		sp.app_apple_id = v;
	}
	tn_error err = {0};
	char *rootbuf = NULL, *jwksbuf = NULL;
	size_t rl = 0, jl = 0;
	if (root && !(rootbuf = slurp(root, &rl, &err)))
		return cli_fail(&err);
	if (jwks && !(jwksbuf = slurp(jwks, &jl, &err))) {
		free(rootbuf);
		return cli_fail(&err);
	}
	sp.root_pem = rootbuf;
	sp.root_len = rl;
	sp.jwks = jwksbuf;
	tn_store *s = NULL;
	int64_t id = 0;
	rc = tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err);
	if (!rc)
		rc = tn_sources_add(s, &sp, tn_now(), &id, &err);
	tn_store_close(s);
	free(rootbuf);
	free(jwksbuf);
	if (rc)
		return cli_fail(&err);
	printf("%lld\n", (long long)id);
	if (!ctx->quiet)
		fprintf(stderr, "source %lld: %s added; POST its notifications to /v1/webhooks/%s\n", (long long)id,
			argv[1], argv[1]);
	return 0;
}

static int sources_list(cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("sources", "list takes no argument");
	tn_error err = {0};
	tn_store *s;
	char *json = NULL;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_sources_list_json(s, &json, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (ctx->format == OUT_JSON) {
		printf("%s\n", json);
		free(json);
		return 0;
	}
	cJSON *arr = cJSON_Parse(json);
	free(json);
	const char *cols[] = {"id", "kind", "name", "created_at", "removed_at", "notifications"};
	tn_out *t = tn_out_new(6, cols);
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		tn_out_int(t, (long long)cJSON_GetObjectItem(o, "id")->valuedouble);
		tn_out_str(t, cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind")));
		tn_out_str(t, cJSON_GetStringValue(cJSON_GetObjectItem(o, "name")));
		tn_out_str(t, cJSON_GetStringValue(cJSON_GetObjectItem(o, "created_at")));
		tn_out_str(t, cJSON_GetStringValue(cJSON_GetObjectItem(o, "removed_at")));
		tn_out_int(t, (long long)cJSON_GetObjectItem(o, "notifications")->valuedouble);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	cJSON_Delete(arr);
	return 0;
}

static int sources_remove(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("sources", "remove needs one source ID (see `tenure sources list`)");
	long id;
	if (cli_parse_long("sources", "remove", argv[1], &id))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_sources_remove(s, id, tn_now(), &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "source %ld removed (its notifications are kept)\n", id);
	return 0;
}

static int sources_replay(cli_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error("sources", "replay takes no argument");
	tn_error err = {0};
	tn_store *s;
	long long n = 0;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_sources_replay(s, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "replayed %lld notifications\n", n);
	printf("%lld\n", n);
	return 0;
}

int cmd_sources(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		fputs(sources_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 2; i < argc; i++)
		if (cli_is_help(argv[i])) {
			fputs(sources_help, stdout);
			return 0;
		}
	if (strcmp(argv[1], "add") == 0)
		return sources_add(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return sources_list(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return sources_remove(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return sources_replay(ctx, argc - 1, argv + 1);
	return cli_usage_error("sources", "unknown subcommand \"%s\" (add, list, remove or replay)", argv[1]);
}

/* ---- tenure import SOURCE FILE -------------------------------------------- */

/* The header NAME of an envelope's "headers" object, case-insensitively. */
static const char *header(const cJSON *h, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, h)
	{
		if (it->string && strcasecmp(it->string, name) == 0 && cJSON_IsString(it))
			return it->valuestring;
	}
	return NULL;
}

int cmd_import_source(cli_ctx *ctx, const char *kind_name, const char *file);
int cmd_import_source(cli_ctx *ctx, const char *kind_name, const char *file)
{
	int state = strcmp(kind_name, "googleplay-state") == 0;
	int kind = state ? TN_SRC_GOOGLEPLAY : tn_source_kind_parse(kind_name);
	tn_error err = {0};
	FILE *fp = fopen(file, "rb");
	if (!fp) {
		tn_error_set(&err, TN_ERR_IO, "%s: cannot open", file);
		return cli_fail(&err);
	}
	tn_store *s = NULL;
	tn_sources *c = NULL;
	int rc = tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err);
	if (!rc && !state)
		rc = tn_sources_load(s, &c, &err);
	if (!rc)
		rc = tn_store_begin(s, &err);
	if (rc) {
		fclose(fp);
		tn_sources_free(c);
		tn_store_close(s);
		return cli_fail(&err);
	}
	long long lines = 0, counts[5] = {0};
	int bad = 0;
	tn_time now = tn_now();
	char *p = NULL;
	size_t cap = 0;
	ssize_t got;
	/* one body a line, read line by line: a backfill may be gigabytes */
	for (long line = 1; !bad && (got = getline(&p, &cap, fp)) >= 0; line++) {
		size_t n = (size_t)got;
		while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
			n--;
		p[n] = 0;
		if (n == 0)
			continue;
		if (n > 2 * SRC_LINE_MAX) {
			fprintf(stderr, "%s:%ld: the line is longer than %d bytes\n", file, line, 2 * SRC_LINE_MAX);
			bad = 1;
			break;
		}
		lines++;
		tn_source_note note;
		int refusal = 0, outcome = 0;
		tn_error e = {0};
		if (state) {
			rc = tn_sources_googleplay_state(p, n, now, &note, &e);
		} else {
			/* a raw body, or {"headers": {...}, "body": "...", "received_at": T} */
			cJSON *env = NULL;
			tn_source_request req = {.body = p, .len = n, .now = now};
			if (p[0] == '{' && strstr(p, "\"body\"")) {
				env = cJSON_ParseWithLength(p, n);
				const cJSON *b = cJSON_GetObjectItemCaseSensitive(env, "body");
				const cJSON *h = cJSON_GetObjectItemCaseSensitive(env, "headers");
				if (cJSON_IsString(b) && (cJSON_IsObject(h) || !h)) {
					req.body = b->valuestring;
					req.len = strlen(b->valuestring);
					req.signature = header(h, "Stripe-Signature");
					req.authorization = header(h, "Authorization");
					const cJSON *at = cJSON_GetObjectItemCaseSensitive(env, "received_at");
					if (cJSON_IsNumber(at) && at->valuedouble > 0 && at->valuedouble < 1e13)
						req.now = (tn_time)at->valuedouble;
				}
			}
			rc = tn_sources_verify(c, kind, &req, &note, &refusal, &e);
			if (rc == TN_OK)
				now = req.now;
			cJSON_Delete(env);
		}
		if (rc == TN_OK) {
			rc = tn_sources_store(s, &note, now, &outcome, &e);
			tn_source_note_free(&note);
			if (rc == TN_OK && outcome >= 1 && outcome <= 4)
				counts[outcome]++;
		}
		now = tn_now();
		if (rc) {
			fprintf(stderr, "%s:%ld: %s\n", file, line, e.msg);
			bad = 1;
			err = e;
		}
	}
	if (!bad && ferror(fp)) {
		fprintf(stderr, "%s: read error\n", file);
		bad = 1;
	}
	free(p);
	fclose(fp);
	tn_sources_free(c);
	if (!bad)
		rc = tn_store_commit(s, &err);
	if (bad || rc) {
		tn_store_rollback(s);
		tn_store_close(s);
		if (bad)
			fprintf(stderr, "tenure: %s: nothing was imported\n", file);
		return bad ? 1 : cli_fail(&err);
	}
	tn_store_close(s);
	if (ctx->quiet) /* --quiet: nothing on stdout on success */
		return 0;
	const char *cols[] = {"kind", "file", "notifications", "applied", "duplicate", "stale", "stored"};
	tn_out *t = tn_out_new(7, cols);
	tn_out_str(t, kind_name);
	tn_out_str(t, file);
	tn_out_int(t, lines);
	tn_out_int(t, counts[TN_SRC_APPLIED]);
	tn_out_int(t, counts[TN_SRC_DUPLICATE]);
	tn_out_int(t, counts[TN_SRC_STALE]);
	tn_out_int(t, counts[TN_SRC_STORED]);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}
