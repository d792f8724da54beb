/*
 * cmd_recovery.c -- `tenure churn recovery`: billing recovery, trial-to-paid
 * conversion, refunds, churn after price increases, the involuntary share
 * of churned MRR and the save window (tn_churn_recovery_compute, churn.h,
 * docs/churn.md "Billing recovery and the save window").
 */
#include "churn_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static const char usage[] =
	"usage: tenure churn recovery [--as-of DATE]\n\n"
	"What the causes of churn teach, from the store's payments and the sources'\n"
	"subscription state (docs/churn.md):\n"
	"  billing recovery   failed-payment episodes, recovered (a later succeeded\n"
	"                     payment), lost, still open; recovery rate, days to recover,\n"
	"                     revenue recovered; subscriptions in grace or billing retry now\n"
	"  trials             trials ended and converted to paid\n"
	"  refunds            refunded payments among paid ones (count and amount)\n"
	"  churn by cause     involuntary share of churned MRR; churn after price increases\n"
	"  save window        days between auto-renew off and expiry (quantiles and bins),\n"
	"                     and the windows still open: customers a save offer can reach\n"
	"--format csv prints measure,value rows; json one object.\n";

typedef struct row {
	const char *name;
	double v;
	int digits;
} row;

int cmd_churn_recovery(cli_ctx *ctx, int argc, char **argv)
{
	tn_time as_of = TN_NO_TIME;
	const cli_option opts[] = {{"--as-of", CLI_AS_OF, &as_of, 0, 0, NULL}, {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse("churn recovery", usage, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_store *s;
	tn_error err = {0};
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, &err))
		return cli_fail(&err);
	tn_churn_recovery r;
	int rc = tn_churn_recovery_compute(s, as_of, &r, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const row rows[] = {
		{"billing_episodes", (double)r.episodes, 0},
		{"billing_recovered", (double)r.recovered, 0},
		{"billing_lost", (double)r.lost, 0},
		{"billing_open", (double)r.open, 0},
		{"recovery_rate", r.recovery_rate, 4},
		{"days_to_recover_median", r.days_to_recover_median, 2},
		{"days_to_recover_mean", r.days_to_recover_mean, 2},
		{"days_to_recover_p90", r.days_to_recover_p90, 2},
		{"revenue_recovered", r.revenue_recovered, 2},
		{"in_grace", (double)r.in_grace, 0},
		{"in_billing_retry", (double)r.in_billing_retry, 0},
		{"mrr_in_billing_issue", r.mrr_in_billing_issue, 2},
		{"trials_ended", (double)r.trials_ended, 0},
		{"trials_converted", (double)r.trials_converted, 0},
		{"trial_conversion", r.trial_conversion, 4},
		{"payments_paid", (double)r.payments_paid, 0},
		{"payments_refunded", (double)r.payments_refunded, 0},
		{"refund_rate", r.refund_rate, 4},
		{"refund_amount_rate", r.refund_amount_rate, 4},
		{"subscriptions_refunded", (double)r.subscriptions_refunded, 0},
		{"churned", (double)r.churned, 0},
		{"churned_voluntary", (double)r.churned_voluntary, 0},
		{"churned_involuntary", (double)r.churned_involuntary, 0},
		{"churned_mrr", r.churned_mrr, 2},
		{"churned_mrr_involuntary", r.churned_mrr_involuntary, 2},
		{"involuntary_mrr_share", r.involuntary_mrr_share, 4},
		{"churned_price_increase", (double)r.churned_price_increase, 0},
		{"churned_mrr_price_increase", r.churned_mrr_price_increase, 2},
		{"price_increase_share", r.price_increase_share, 4},
		{"save_window_n", (double)r.window_n, 0},
		{"save_window_min_days", r.window_min, 2},
		{"save_window_p25_days", r.window_p25, 2},
		{"save_window_median_days", r.window_median, 2},
		{"save_window_p75_days", r.window_p75, 2},
		{"save_window_p90_days", r.window_p90, 2},
		{"save_window_max_days", r.window_max, 2},
		{"save_window_mean_days", r.window_mean, 2},
		{"save_window_open", (double)r.window_open, 0},
		{"save_window_open_mrr", r.window_open_mrr, 2},
	};
	static const char *const bins[TN_WINDOW_BINS] = {"0-1", "1-3", "3-7", "7-14", "14-30", "30+"};
	size_t n = sizeof rows / sizeof rows[0];
	if (ctx->format == OUT_JSON) {
		cJSON *o = cJSON_CreateObject();
		char d[24];
		cJSON_AddStringToObject(o, "as_of", tn_date_format(r.as_of, d, sizeof d));
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToObject(o, rows[i].name, tn_json_num(rows[i].v));
		cJSON *b = cJSON_AddArrayToObject(o, "save_window_bins");
		for (int k = 0; k < TN_WINDOW_BINS; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "days", bins[k]);
			tn_json_add_num(e, "subscriptions", (double)r.window_bins[k]);
			cJSON_AddItemToArray(b, e);
		}
		cli_print_json(o);
		cJSON_Delete(o);
		return 0;
	}
	const char *h[] = {"measure", "value"};
	tn_out *t = tn_out_new(2, h);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, rows[i].name);
		tn_out_num(t, rows[i].v, ctx->format == OUT_TABLE ? rows[i].digits : 6);
	}
	for (int k = 0; k < TN_WINDOW_BINS; k++) {
		char nm[48];
		snprintf(nm, sizeof nm, "save_window_days_%s", bins[k]);
		tn_out_str(t, nm);
		tn_out_int(t, r.window_bins[k]);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}
