/*
 * cmd_customers.c -- `tenure customers link KEEP ALIAS`: one customer known by
 * two ids (an App Store customer seen as appstore:ORIGINAL-TRANSACTION-ID
 * before the app sent its appAccountToken, a Stripe customer id, a
 * RevenueCat app_user_id) becomes one (docs/sources.md, "Customer ids").
 */
#include "cli.h"

#include <time.h>

static const char help[] =
	"usage: tenure customers link KEEP ALIAS\n\n"
	"Customer ALIAS is customer KEEP: ALIAS's subscriptions and payments move to KEEP, and\n"
	"every later notification from a source naming ALIAS (appstore:..., googleplay:..., a\n"
	"Stripe customer, a RevenueCat app_user_id) is KEEP's.  KEEP must exist (docs/sources.md).\n";

/* `tenure customers link KEEP ALIAS` (the other subcommands: cmd_outbox.c) */
int cmd_customers_link(cli_ctx *ctx, int argc, char **argv)
{
	if (argc == 2 && cli_is_help(argv[1])) {
		fputs(help, stdout);
		return 0;
	}
	if (argc != 3)
		return cli_usage_error("customers", "link needs KEEP and ALIAS");
	tn_error err = {0};
	tn_store *s;
	long long moved = 0;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_customers_link(s, argv[1], argv[2], tn_now(), &moved, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "%s is now %s (%lld subscriptions moved)\n", argv[2], argv[1], moved);
	return 0;
}
