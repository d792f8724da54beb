/*
 * cmd_value_profit.c -- `tenure value profitability`: which customer
 * profiles are worth attracting and keeping, and which cost more than they
 * bring (tn_value_profitability).
 */
#include "cmd_value.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char help[] =
	"usage: tenure value profitability [--by channel|country|plan|ATTR] [--margin M]\n"
	"                                  [--cost-attr KEY] [--definition NAME] [--discount D]\n\n"
	"Per segment of customers (a subscription business, from the store):\n"
	"  revenue_to_date     succeeded minus refunded payments\n"
	"  future_value        live subscribers' discounted value of the renewals to come (sBG per\n"
	"                      plan, `tenure value retention --subscribers`)\n"
	"  value_at_risk       P(not renewing at the next decision) x that value\n"
	"  acquisition_cost    the sum of the customers' cost attribute (0 when absent)\n"
	"  profit_to_date      margin x revenue_to_date - acquisition_cost\n"
	"  profit              margin x (revenue_to_date + future_value) - acquisition_cost\n"
	"  verdict             profitable already (profit_to_date > 0); pays back only if renewals go as\n"
	"                      projected (profit > 0); or costs more than it brings\n\n"
	"  --by SEGMENT        channel (default), country, plan (latest subscription) or a key of attrs\n"
	"  --margin M          share of revenue kept, e.g. 0.7 after an app store's 30% (default 0.7)\n"
	"  --cost-attr KEY     customer attribute holding the acquisition cost (default acquisition_cost)\n"
	"  --definition NAME   churn definition for the retention model (default cancelled)\n"
	"  --discount D        yearly discount rate of future value (default 0.10)\n\n"
	"--format json prints {\"warnings\": [...], \"segments\": [...]}.  The retention fits' warnings\n"
	"(as `tenure value retention`) come first (on stderr with --format csv); the exit status is 3\n"
	"when no plan has a usable fit.\n";

int cmd_value_profit(cli_ctx *ctx, int argc, char **argv)
{
	const char *by = "channel", *cost = NULL, *defn = NULL;
	double margin = 0.7, disc = 0.10;
	const cli_option opts[] = {
		{"--by", CLI_STR, &by, 0, 0, NULL},
		{"--margin", CLI_DOUBLE, &margin, 0, 0, "share of revenue kept"},
		{"--cost-attr", CLI_STR, &cost, 0, 0, NULL},
		{"--definition", CLI_STR, &defn, 0, 0, NULL},
		{"--discount", CLI_DOUBLE, &disc, 0, 0, "yearly discount rate"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("value profitability", help, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, &err))
		return cli_fail(&err);
	tn_churn_def def;
	tn_value_profit_row *rows = NULL;
	size_t n = 0;
	tn_warnings w = {0};
	int rc = tn_churn_def_load(s, defn, &def, &err);
	if (!rc)
		rc = tn_value_profitability(s, &def, by, margin, disc, cost, &rows, &n, &w, &err);
	tn_store_close(s);
	if (rc) {
		tn_warnings_free(&w);
		return cli_fail(&err);
	}
	cli_warnings_print(ctx, &w); /* the retention fits' warnings, first */
	const char *cols[] = {"segment",	  "customers",	      "subscribers",	   "revenue_to_date",
			      "future_value",	  "value_at_risk",    "acquisition_cost", "profit_to_date",
			      "profit",		  "profit_per_customer", "verdict"};
	tn_out *t = tn_out_new(11, cols);
	tn_value_profit_row all = {.segment = "(all)"};
	for (size_t i = 0; i <= n; i++) {
		const tn_value_profit_row *g = i < n ? &rows[i] : &all;
		if (i < n) {
			all.customers += g->customers, all.subscribers += g->subscribers, all.revenue += g->revenue;
			all.future += g->future, all.at_risk += g->at_risk, all.acquisition += g->acquisition;
			all.profit += g->profit;
		}
		double per = g->customers ? g->profit / (double)g->customers : 0;
		double to_date = margin * g->revenue - g->acquisition;
		tn_out_str(t, g->segment);
		tn_out_int(t, (long long)g->customers);
		tn_out_int(t, (long long)g->subscribers);
		tn_out_num(t, g->revenue, 2);
		tn_out_num(t, g->future, 2);
		tn_out_num(t, g->at_risk, 2);
		tn_out_num(t, g->acquisition, 2);
		tn_out_num(t, to_date, 2);
		tn_out_num(t, g->profit, 2);
		tn_out_num(t, per, 2);
		tn_out_str(t, to_date > 0 ? "profitable already"
			   : per > 0   ? "pays back only if renewals go as projected"
				       : "costs more than it brings");
	}
	if (ctx->format == OUT_TABLE)
		printf("Profitability by %s (margin %g, future value discounted %g%%/year):\n", by, margin, 100 * disc);
	if (ctx->format == OUT_JSON) { /* {"warnings": [...], "segments": [...]} */
		cJSON *root = cJSON_CreateObject();
		cli_warnings_json(root, &w);
		cJSON_AddItemToObject(root, "segments", tn_out_json(t));
		cli_print_json(root);
		cJSON_Delete(root);
	} else {
		tn_out_print(t, ctx->format, stdout);
	}
	tn_out_free(t);
	tn_value_profit_free(rows, n);
	int status = cli_warnings_status(&w);
	tn_warnings_free(&w);
	return status;
}
