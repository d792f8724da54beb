/*
 * cmd_value_atrisk.c -- `tenure value at-risk`: from the store's purchases,
 * the value each segment (channel, country, device, age band, plan) is
 * expected to bring, how much of it is at risk of churn, and the segment's
 * profitability to date and ahead.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_value.h"

#include <cjson/cJSON.h>

static const char atrisk_help[] =
	"usage: tenure value at-risk [--db FILE] [--by channel|country|device|age_band|plan]\n"
	"                            [--model bgnbd|pareto-nbd] [--horizon N] [--discount D] [--margin M]\n"
	"                            [--calibration-end DATE] [--unit days|weeks]\n\n"
	"Summarise the store's purchase events per customer, fit the transaction model (BG/NBD by\n"
	"default) and Gamma-Gamma, score every customer, and total by segment:\n"
	"  churn_probability   mean of 1 - P(alive)\n"
	"  future_profit       sum of CLV over the horizon (margin applied)\n"
	"  value_at_risk       sum of (1 - P(alive)) x CLV given alive (CLV / P(alive)): what the\n"
	"                      customers who have probably left would have been worth\n"
	"  revenue_to_date     purchases up to the calibration end; profit_to_date = revenue x margin\n"
	"  total_profit        profit_to_date + future_profit\n"
	"Segments are ordered by future profit; the last row, (all), totals every customer.\n\n"
	"Options:\n"
	"  --by SEGMENT        channel (default), country, device, age_band (customer attrs) or plan\n"
	"                      (latest subscription)\n"
	"  --model NAME        bgnbd (default) or pareto-nbd\n"
	"  --horizon N         periods ahead (default 52)\n"
	"  --discount D        discount rate per period (default 0.01)\n"
	"  --margin M          profit share of revenue (default 0.3)\n"
	"  --calibration-end DATE   default: the last purchase day\n"
	"  --unit days|weeks   the period (default weeks)\n\n"
	"--format json prints {\"warnings\": [...], \"segments\": [...]}.  The fits' warnings (as\n"
	"`tenure value fit`) come first (on stderr with --format csv); when a fit is degenerate the\n"
	"exit status is 3: the values mean nothing.\n";

int value_atrisk(cli_ctx *ctx, int argc, char **argv)
{
	const char *by = "channel", *model = "bgnbd", *end = NULL, *unit = "weeks";
	long horizon = 52;
	double d = 0.01, margin = 0.3;
	const cli_option opts[] = {
		{"--by", CLI_STR, &by, 0, 0, NULL},
		{"--model", CLI_STR, &model, 0, 0, NULL},
		{"--horizon", CLI_INT, &horizon, 1, 10000, "periods ahead"},
		{"--discount", CLI_DOUBLE, &d, 0, 0, "discount rate per period"},
		{"--margin", CLI_DOUBLE, &margin, 0, 0, "profit share of revenue"},
		{"--calibration-end", CLI_STR, &end, 0, 0, NULL},
		{"--unit", CLI_STR, &unit, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("value at-risk", atrisk_help, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	int m = tn_value_model_parse(model);
	if (m != TN_VALUE_BGNBD && m != TN_VALUE_PNBD)
		return cli_usage_error("value at-risk", "--model: expected bgnbd or pareto-nbd, found \"%s\"", model);
	double ud = strcmp(unit, "days") == 0 ? 1 : strcmp(unit, "weeks") == 0 ? 7 : 0;
	if (!ud)
		return cli_usage_error("value at-risk", "--unit: expected days or weeks, found \"%s\"", unit);
	tn_time cal = 0;
	if (end && tn_time_parse(end, strlen(end), &cal))
		return cli_usage_error("value at-risk", "--calibration-end: expected a date, found \"%s\"", end);
	if (horizon < 1 || horizon > 10000 || !(d >= 0) || !(margin >= 0))
		return cli_usage_error("value at-risk", "expected --horizon 1..10000, --discount >= 0, --margin >= 0");

	tn_error err = {0};
	tn_store *st;
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &st, &err))
		return cli_fail(&err);
	tn_value_txns *t = NULL;
	tn_value_summary *s = NULL;
	tn_value_scores *sc = NULL;
	tn_value_segment *seg = NULL;
	char **labels = NULL;
	size_t nseg = 0;
	tn_value_fit tf, gf;
	int rc = tn_value_txns_from_store(st, &t, &err);
	if (!rc && tn_value_txns_count(t) == 0)
		rc = tn_error_set(&err, TN_ERR_INPUT, "%s: no purchase events in the store", ctx->db_path);
	if (!rc)
		rc = tn_value_summarize(t, end ? cal : tn_value_txns_last_day(t), ud, &s, &err);
	if (!rc) {
		size_t dropped = tn_value_summary_drop_unobserved(s);
		if (dropped && !ctx->quiet)
			fprintf(stderr, "tenure value at-risk: %zu customers first bought on the calibration end "
					"(T = 0) and are left out\n", dropped);
	}
	if (!rc)
		rc = m == TN_VALUE_PNBD ? tn_value_pnbd_fit(s->x, s->t_x, s->T, s->n, &tf, &err)
					: tn_value_bgnbd_fit(s->x, s->t_x, s->T, s->n, &tf, &err);
	if (!rc)
		rc = tn_value_gg_fit(s->x, s->monetary, s->n, &gf, &err);
	if (!rc) {
		tn_value_score_opts so = {(tn_value_model)m, tf.params, gf.params, (int)horizon, d, margin};
		rc = tn_value_score(&so, s->x, s->t_x, s->T, s->monetary, s->n, &sc, &err);
	}
	if (!rc)
		rc = tn_value_segments_from_store(st, by, s->id, s->n, &labels, &err);
	if (!rc)
		rc = tn_value_segment_table(labels, s->n, sc->palive, sc->clv, s->revenue, margin, &seg, &nseg, &err);
	tn_store_close(st);
	tn_warnings w = {0};
	if (!rc) { /* the fits' warnings, first */
		tn_value_fit_warnings(&tf, &w);
		tn_value_fit_warnings(&gf, &w);
		cli_warnings_print(ctx, &w);
	}
	if (!rc) {
		const char *all[] = {"segment", "customers", "churn_probability", "future_profit", "value_at_risk",
				     "at_risk_share", "revenue_to_date", "profit_to_date", "total_profit",
				     "profit_per_customer", "share_of_future"};
		double tot = seg[nseg - 1].future;
		if (ctx->format == OUT_TABLE)
			printf("%s: %zu customers, horizon %ld periods, discount %g, margin %g, by %s\n\n",
			       tn_value_model_name((tn_value_model)m), s->n, horizon, d, margin, by);
		/* table: two readable tables; csv/json: one row per segment, all columns */
		for (int part = 0; part < (ctx->format == OUT_TABLE ? 2 : 1); part++) {
			int tab = ctx->format == OUT_TABLE;
			static const int risk[] = {0, 1, 2, 3, 4, 5}, prof[] = {0, 1, 6, 7, 3, 8, 9, 10};
			const int *cols = !tab ? NULL : part == 0 ? risk : prof;
			size_t nc = !tab ? 11 : part == 0 ? 6 : 8;
			const char *names[11];
			for (size_t c = 0; c < nc; c++)
				names[c] = all[cols ? cols[c] : (int)c];
			tn_out *o = tn_out_new(nc, names);
			for (size_t i = 0; i < nseg; i++) {
				const tn_value_segment *g = &seg[i];
				double v[11] = {0, (double)g->customers, 1 - g->p_alive, g->future, g->at_risk,
						g->at_risk / (g->future + g->at_risk), g->revenue, g->profit,
						g->profit + g->future, (g->profit + g->future) / (double)g->customers,
						tot > 0 ? g->future / tot : NAN};
				for (size_t c = 0; c < nc; c++) {
					int k = cols ? cols[c] : (int)c;
					if (k == 0)
						tn_out_str(o, g->label);
					else if (k == 1)
						tn_out_int(o, (long long)g->customers);
					else
						tn_out_num(o, v[k], (k == 2 || k == 5 || k == 10) ? 3 : 2);
				}
			}
			if (tab)
				printf(part == 0 ? "value at risk by %s:\n" : "\nprofitability by %s:\n", by);
			if (ctx->format == OUT_JSON) { /* {"warnings": [...], "segments": [...]} */
				cJSON *root = cJSON_CreateObject();
				cli_warnings_json(root, &w);
				cJSON_AddItemToObject(root, "segments", tn_out_json(o));
				cli_print_json(root);
				cJSON_Delete(root);
			} else {
				tn_out_print(o, ctx->format, stdout);
			}
			tn_out_free(o);
		}
	}
	tn_value_segments_free(seg, nseg);
	tn_value_labels_free(labels, s ? s->n : 0);
	tn_value_scores_free(sc);
	tn_value_summary_free(s);
	tn_value_txns_free(t);
	int status = cli_warnings_status(&w);
	tn_warnings_free(&w);
	return rc ? cli_fail(&err) : status;
}
