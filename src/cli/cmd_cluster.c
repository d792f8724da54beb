/*
 * cmd_cluster.c -- `tenure cluster init|status`: a store across several
 * PostgreSQL servers (include/tenure/cluster.h, docs/scaling.md).
 */
#include "cli.h"
#include "tenure/cluster.h"

#include <stdlib.h>

static const char cluster_help[] =
	"usage: tenure --db COORDINATOR_URL cluster init --shards URL,URL,... [--citus]\n"
	"       tenure --db COORDINATOR_URL cluster status [--count]\n\n"
	"A store across several PostgreSQL servers (docs/scaling.md, \"A cluster\").\n"
	"`init` makes the --db PostgreSQL database, which must hold no customers yet, the\n"
	"coordinator: customers, subscriptions, events, payments and feedback are\n"
	"hash-partitioned by customer, each partition a postgres_fdw foreign table on one\n"
	"shard (each shard gets the Tenure schema and must be empty); everything else\n"
	"stays on the coordinator.  Then import and run every command through the\n"
	"coordinator's URL.  A shard URL without a password uses the coordinator's.\n"
	"  --shards URL,...  the shards' postgresql:// URLs, in a fixed order (1 to 64)\n"
	"  --citus           distribute with the Citus extension (create_distributed_table\n"
	"                    on the customer column) instead; refused when Citus is not\n"
	"                    installed on the coordinator\n"
	"`status` lists the shards; --count adds each shard's customers and events.\n";

static int cluster_init(cli_ctx *ctx, int argc, char **argv)
{
	cli_list shards = {0};
	int citus = 0;
	const cli_option opts[] = {
		{"--shards", CLI_LIST, &shards, 0, 0, "the shards' URLs"},
		{"--citus", CLI_FLAG, &citus, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int r = cli_parse("cluster init", cluster_help, opts, argc, argv, NULL, 0, NULL);
	if (r >= 0) {
		cli_free_list(shards.items);
		return r;
	}
	if (shards.n == 0) {
		cli_free_list(shards.items);
		return cli_usage_error("cluster", "init needs --shards URL,URL,... (the shards' postgresql:// URLs)");
	}
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err)) {
		cli_free_list(shards.items);
		return cli_fail(&err);
	}
	int rc = tn_cluster_init(s, (const char *const *)shards.items, shards.n, citus, &err);
	cli_free_list(shards.items);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "%s is the coordinator of %zu shards (%s): import and run commands through it\n",
			ctx->db_path, shards.n, citus ? "Citus" : "postgres_fdw");
	return 0;
}

static int cluster_status(cli_ctx *ctx, int argc, char **argv)
{
	int count = 0;
	const cli_option opts[] = {
		{"--count", CLI_FLAG, &count, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int r = cli_parse("cluster status", cluster_help, opts, argc, argv, NULL, 0, NULL);
	if (r >= 0)
		return r;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, &err))
		return cli_fail(&err);
	tn_cluster_shard *sh;
	size_t n;
	int rc = tn_cluster_shards(s, count, &sh, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"kind", "server", "location", "partition", "customers", "events"};
	tn_out *t = tn_out_new(count ? 6 : 4, cols);
	for (size_t i = 0; i < n; i++) {
		char part[32];
		snprintf(part, sizeof part, "%d of %d", sh[i].remainder, sh[i].modulus);
		tn_out_str(t, sh[i].kind);
		tn_out_str(t, sh[i].server);
		tn_out_str(t, sh[i].location);
		tn_out_str(t, sh[i].modulus ? part : NULL);
		if (count) {
			if (sh[i].customers < 0) {
				tn_out_str(t, NULL);
				tn_out_str(t, NULL);
			} else {
				tn_out_int(t, sh[i].customers);
				tn_out_int(t, sh[i].events);
			}
		}
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(sh);
	return 0;
}

int cmd_cluster(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"init", cluster_init, "make the --db PostgreSQL database the coordinator of --shards URL,..."},
		{"status", cluster_status, "the shards (--count: their customers and events)"},
	};
	return cli_dispatch(ctx, "cluster", cluster_help, subs, sizeof subs / sizeof subs[0], argc, argv);
}
