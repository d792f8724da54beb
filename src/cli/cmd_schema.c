/*
 * cmd_schema.c -- `tenure schema`: open (and so upgrade) the store and show
 * its schema version and row counts.
 */
#include "cli.h"

int cmd_schema(cli_ctx *ctx, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			printf("usage: tenure schema [--db FILE]\n\n"
			       "Open the store (upgrading a file written by an older Tenure) and print its\n"
			       "schema version and the number of rows in each table.\n");
			return 0;
		}
		return cli_usage_error("schema", "unexpected argument \"%s\"", argv[i]);
	}
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_store_counts c;
	if (tn_store_counts_get(s, &c, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	const char *names[] = {"item", "value"};
	tn_out *t = tn_out_new(2, names);
	char ver[32];
	snprintf(ver, sizeof ver, "%d", tn_store_schema_latest());
	tn_out_str(t, "schema_version");
	tn_out_str(t, ver);
	if (tn_store_opened_version(s) != tn_store_schema_latest()) {
		snprintf(ver, sizeof ver, "%d", tn_store_opened_version(s));
		tn_out_str(t, "upgraded_from");
		tn_out_str(t, ver);
	}
	const char *tables[] = {"customers", "subscriptions", "events", "payments", "feedback"};
	long long n[] = {c.customers, c.subscriptions, c.events, c.payments, c.feedback};
	for (int i = 0; i < 5; i++) {
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", n[i]);
		tn_out_str(t, tables[i]);
		tn_out_str(t, buf);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	tn_store_close(s);
	return 0;
}
