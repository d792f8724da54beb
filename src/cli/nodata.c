/*
 * nodata.c -- one answer for "there is nothing to analyse yet".  Before a
 * command that reads the store runs, a store that does not exist or holds
 * no customers (or no subscriptions, for what is measured on them; no
 * purchase events, for the purchase models) gets the same message from
 * every command, and exit status 0 (no data is not a failure).  Commands
 * that write (import, demo, schema, definitions, rules) and commands reading
 * a --csv file are not concerned.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Commands and subcommands that read the store ("*": every subcommand). */
static const struct {
	const char *cmd, *sub;
} READERS[] = {
	{"summary", "*"},      {"cohorts", "*"},       {"report", "*"},        {"survival", "*"},
	{"drivers", "*"},      {"churn", "status"},    {"churn", "rate"},      {"churn", "export"},
	{"value", "summary"},  {"value", "fit"},       {"value", "score"},     {"value", "at-risk"},
	{"value", "retention"}, {"value", "profitability"},
	{"predict", "features"}, {"predict", "backtest"}, {"predict", "cv"},    {"predict", "train"},
	{"predict", "score"},  {"alerts", "*"},        {"feedback", "classify"}, {"feedback", "scores"},
	{"feedback", "impact"}, {"feedback", "matrix"}, {"feedback", "follow-up"}, {"offers", "*"},
	{"winback", "schedule"}, {"winback", "report"}, {"winback", "reasons"}, {"points", "balance"},
	{"points", "history"}, {"points", "tiers"},    {"points", "check"},    {"points", "at-risk"},
	{"journey", "funnel"}, {"journey", "churn"},   {"journey", "stuck"},
};

static int has_arg(int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0 || (strncmp(argv[i], name, n) == 0 && argv[i][n] == '='))
			return 1;
	return 0;
}

static int reads_store(int argc, char **argv)
{
	const char *cmd = argv[0], *sub = argc > 1 ? argv[1] : "";
	for (int i = 1; i < argc; i++)
		if (cli_is_help(argv[i]))
			return 0;
	if (has_arg(argc, argv, "--csv") && !(strcmp(cmd, "churn") == 0 && strcmp(sub, "export") == 0))
		return 0; /* a flat file, not the store (churn export's --csv is its output) */
	if (has_arg(argc, argv, "--survivors") || has_arg(argc, argv, "--time") || has_arg(argc, argv, "--event"))
		return 0; /* data on the command line, or a flat file's options (the command checks them) */
	if (strcmp(cmd, "alerts") == 0 && strcmp(sub, "ack") == 0)
		return 0;
	if (strcmp(cmd, "predict") == 0 &&
	    (strcmp(sub, "cv") == 0 || strcmp(sub, "train") == 0 || strcmp(sub, "score") == 0) &&
	    !has_arg(argc, argv, "--as-of"))
		return 0;
	for (size_t k = 0; k < sizeof READERS / sizeof *READERS; k++)
		if (strcmp(READERS[k].cmd, cmd) == 0 &&
		    (strcmp(READERS[k].sub, "*") == 0 || strcmp(READERS[k].sub, sub) == 0))
			return 1;
	return 0;
}

int cli_no_data(const cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 1 || !reads_store(argc, argv))
		return CLI_DATA;
	int none = 0, nosubs = 0, nobuys = 0;
	/* the purchase models (value summary, score, at-risk) need purchase events */
	int buys = strcmp(argv[0], "value") == 0 && argc > 1 &&
		   (strcmp(argv[1], "summary") == 0 || strcmp(argv[1], "score") == 0 || strcmp(argv[1], "at-risk") == 0);
	int url = strncmp(ctx->db_path, "postgresql://", 13) == 0 || strncmp(ctx->db_path, "postgres://", 11) == 0;
	if (!url && access(ctx->db_path, F_OK) != 0) {
		if (errno != ENOENT)
			return CLI_DATA; /* the command reports why it cannot open it */
		none = 1;
	} else {
		tn_error err = {0};
		tn_store *s;
		tn_store_counts c;
		if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, &err))
			return CLI_DATA; /* not a store, newer, locked...: the command says so */
		if (tn_store_counts_get(s, &c, &err) == TN_OK) {
			none = c.customers == 0;
			nosubs = c.subscriptions == 0;
		}
		int yes = 1;
		if (!none && buys && tn_value_store_has_purchases(s, &yes, &err) == TN_OK)
			nobuys = !yes;
		tn_store_close(s);
	}
	/* customers without subscriptions: what is measured on subscriptions
	 * (churn, survival, risk, offers) has nothing to show; purchases,
	 * payments, feedback and points still have */
	static const char *const SUBS[] = {"churn", "cohorts", "survival", "drivers", "predict", "alerts", "offers"};
	int needs_subs = 0;
	for (size_t k = 0; k < sizeof SUBS / sizeof *SUBS; k++)
		needs_subs |= strcmp(argv[0], SUBS[k]) == 0;
	if (!none && nosubs && needs_subs) {
		fprintf(ctx->format == OUT_TABLE ? stdout : stderr,
			"no data yet in %s: no subscriptions; import them (tenure --db %s import subscriptions FILE; "
			"docs/import.md) or run `tenure demo`\n",
			ctx->db_path, ctx->db_path);
		return CLI_NO_DATA;
	}
	if (!none && nobuys) {
		fprintf(ctx->format == OUT_TABLE ? stdout : stderr,
			"no data yet in %s: no purchase events; import events of type purchase with an amount "
			"(tenure --db %s import events FILE; docs/import.md) or run `tenure demo`\n",
			ctx->db_path, ctx->db_path);
		return CLI_NO_DATA;
	}
	if (!none)
		return CLI_DATA;
	fprintf(ctx->format == OUT_TABLE ? stdout : stderr,
		"no data yet in %s: import your customers and subscriptions (tenure --db %s import customers "
		"FILE; docs/import.md) or run `tenure demo`\n",
		ctx->db_path, ctx->db_path);
	/* the report still writes its page (which says the same) when the store exists */
	return strcmp(argv[0], "report") == 0 && (url || access(ctx->db_path, F_OK) == 0) ? CLI_NO_DATA_GO_ON
											   : CLI_NO_DATA;
}
