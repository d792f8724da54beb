/*
 * cmd_alerts.c -- `tenure alerts`: raise churn-risk alerts from the store and
 * list them; `tenure alerts ack ID`.  The work is in libtenure
 * (tn_pred_alerts_*, predict_alerts.c).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const alerts_usage =
	"usage: tenure alerts [--as-of DATE] [--since DATE] [--top N] [--all] [--no-update] [--model MODEL]\n"
	"                     [--drop-fraction 0.5] [--drop-min 10] [--inactive-days 14]\n"
	"                     [--detractor 6] [--ending-days 30] [--risk 0.3]\n"
	"       tenure alerts ack ID\n"
	"\n"
	"Evaluate every customer whose subscription is live at --as-of (default: the end of\n"
	"the data) and record alerts in the store, one per episode: a condition that still\n"
	"holds at the next run is not raised again; one that stops holding is resolved.\n"
	"Then list the open, unacknowledged alerts with the most monthly revenue at risk\n"
	"(churn risk x MRR) first: the top 20, and how many there are.\n"
	"\n"
	"Alerts:\n"
	"  activity_drop     events/day over the last 30 days < --drop-fraction x the rate of\n"
	"                    the 60 days before, with at least --drop-min events in those 60\n"
	"  inactive          no event for --inactive-days days\n"
	"  failed_payment    the latest charge failed\n"
	"  detractor         the latest NPS answer is <= --detractor\n"
	"  ending_high_risk  the paid period ends within --ending-days days and the churn risk\n"
	"                    is >= --risk (risk: --model MODEL from `tenure predict train` on\n"
	"                    `tenure predict features`, else a logistic model fitted on the\n"
	"                    store 30 days before --as-of)\n"
	"\n"
	"Options:\n"
	"  --as-of DATE    evaluate at this instant (a date means its end)\n"
	"  --since DATE    list only alerts raised at or after DATE\n"
	"  --top N         list the N alerts with the most revenue at risk (default 20)\n"
	"  --all           list every alert: all rows, acknowledged and resolved ones too\n"
	"  --no-update     only list; do not evaluate\n"
	"  ack ID          acknowledge alert ID (it stays open until its condition ends)\n";

static int parse_date(const char *opt, const char *v, tn_time *t)
{
	if (tn_as_of_parse(v, strlen(v), t))
		return cli_usage_error("alerts", "%s: expected a date like 2026-06-30, found \"%s\"", opt, v);
	return 0;
}

static int ack(cli_ctx *ctx, int argc, char **argv)
{
	long id;
	if (argc != 2)
		return cli_usage_error("alerts ack", "expected one alert ID");
	if (cli_parse_long("alerts ack", "ID", argv[1], &id))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_pred_alerts_ack(s, id, tn_now(), &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "alert %ld acknowledged\n", id);
	return 0;
}

int cmd_alerts(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ack") == 0)
		return ack(ctx, argc - 1, argv + 1);
	tn_pred_alert_opts o = tn_pred_alert_opts_default();
	tn_time since = TN_NO_TIME;
	int all = 0, update = 1;
	long top = 20;
	const char *as_of = NULL;
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if (cli_is_help(argv[i])) {
			fputs(alerts_usage, stdout);
			return 0;
		}
		if (strcmp(argv[i], "--all") == 0) {
			all = 1;
			continue;
		}
		if (strcmp(argv[i], "--no-update") == 0) {
			update = 0;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--as-of", &as_of)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--top", &v)) != 0) {
			if (r < 0 || cli_parse_long("alerts", "--top", v, &top))
				return 2;
			if (top < 1)
				return cli_usage_error("alerts", "--top: expected a positive number, found %ld", top);
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--model", &o.model_path)) != 0) {
			if (r < 0)
				return 2;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--since", &v)) != 0) {
			if (r < 0 || parse_date("--since", v, &since))
				return 2;
			since -= TN_DAY - 1; /* the start of that day */
			continue;
		}
		static const char *const names[] = {"--drop-fraction", "--drop-min", "--inactive-days",
						    "--detractor", "--ending-days", "--risk"};
		double *dst[] = {&o.drop_fraction, &o.drop_min_events, &o.inactive_days,
				 &o.detractor_max, &o.ending_days, &o.risk_min};
		int matched = 0;
		for (size_t k = 0; k < 6 && !matched; k++)
			if ((r = cli_opt(argc, argv, &i, names[k], &v)) != 0) {
				if (r < 0 || cli_parse_double("alerts", names[k], v, dst[k]))
					return 2;
				matched = 1;
			}
		if (matched)
			continue;
		return cli_usage_error("alerts", "unexpected argument \"%s\" (see tenure alerts --help)", argv[i]);
	}
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = TN_OK;
	if (update) {
		if (as_of) {
			if (parse_date("--as-of", as_of, &o.as_of)) {
				tn_store_close(s);
				return 2;
			}
		} else {
			rc = tn_churn_data_end(s, &o.as_of, &err);
			if (!rc && o.as_of == TN_NO_TIME)
				rc = tn_error_set(&err, TN_ERR_INPUT, "alerts: the store is empty");
		}
		tn_pred_alert_run run;
		if (!rc)
			rc = tn_pred_alerts_update(s, &o, &run, &err);
		if (!rc && !ctx->quiet) {
			char d[24];
			fprintf(stderr,
				"alerts as of %s: %zu live customers; %zu new, %zu open from earlier runs and still "
				"holding, %zu resolved; %zu open now\n",
				tn_time_format(o.as_of, d, sizeof d), run.customers, run.raised, run.still_open,
				run.resolved, run.raised + run.still_open);
			if (run.risk_error[0])
				fprintf(stderr, "note: no churn risk (ending_high_risk off): %s\n", run.risk_error);
		}
	}
	tn_pred_alert *a = NULL;
	size_t n = 0;
	if (!rc)
		rc = tn_pred_alerts_list(s, since, all, &a, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"id", "customer", "kind", "raised_at", "risk", "mrr", "mrr_at_risk", "detail", "status"};
	tn_out *t = tn_out_new(9, cols);
	size_t shown = all || (size_t)top > n ? n : (size_t)top;
	for (size_t i = 0; i < shown; i++) {
		char d[24];
		tn_out_int(t, a[i].id);
		tn_out_str(t, a[i].customer);
		tn_out_str(t, a[i].kind);
		tn_out_str(t, tn_date_format(a[i].raised_at, d, sizeof d));
		tn_out_num(t, a[i].risk, 3);
		tn_out_num(t, a[i].mrr, 2);
		tn_out_num(t, a[i].risk * a[i].mrr, 2);
		tn_out_str(t, a[i].detail);
		tn_out_str(t, a[i].resolved_at != TN_NO_TIME ? "resolved" : a[i].acked_at != TN_NO_TIME ? "acked" : "open");
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	if (shown < n && (ctx->format == OUT_TABLE || !ctx->quiet))
		fprintf(ctx->format == OUT_TABLE ? stdout : stderr,
			"%s%zu of %zu open alerts shown, the most monthly revenue at risk first (--top N for more, "
			"--all for every alert)\n",
			ctx->format == OUT_TABLE ? "\n" : "", shown, n);
	else if (ctx->format == OUT_TABLE)
		printf("\n%zu alert%s\n", n, n == 1 ? "" : "s");
	free(a);
	return 0;
}
