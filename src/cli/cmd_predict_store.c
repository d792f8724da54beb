/*
 * cmd_predict_store.c -- `tenure predict features|backtest`: churn-risk
 * features and backtests from the store (--db); the work is in libtenure
 * (tn_pred_features, tn_pred_backtest_run).
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_predict_features(cli_ctx *ctx, int argc, char **argv);
int cmd_predict_backtest(cli_ctx *ctx, int argc, char **argv);

static const char *const features_usage =
	"usage: tenure predict features --as-of DATE --horizon DAYS [--definition NAME] [--out FILE]\n"
	"       tenure predict backtest --as-of DATE --horizon DAYS [--definition NAME]\n"
	"                               [--model logistic|gbdt] [--l2 L] [--rounds N --depth D --eta E]\n"
	"\n"
	"features: one row per customer whose subscription is live at DATE, computed from the\n"
	"history up to DATE only, with the label churned = 1 when the customer churned (under\n"
	"the churn definition, default the built-in \"cancelled\") within DAYS after DATE.\n"
	"Columns: customer, tenure_days, plan, billing_period, price, mrr, in_trial,\n"
	"days_to_period_end, subscriptions, recency_days, events_7d, events_30d, events_90d,\n"
	"trend_30_vs_60, event_types_90d, milestones_reached, failed_payments_90d, payment_failing,\n"
	"support_tickets_90d, nps, csat,\n"
	"ces, channel, country, device, age_band, churned (docs/predict.md).  The table can be\n"
	"fed to `tenure predict cv|train --csv FILE --target churned --id customer`.\n"
	"\n"
	"backtest: train at DATE - DAYS (labels known by DATE), test on the customers live at\n"
	"DATE against their churn in the next DAYS: ROC AUC, PR AUC, Brier, lift in the top 10%.\n"
	"\n"
	"  --as-of DATE       the cut-off: the end of this day, or an ISO date-time (UTC)\n"
	"  --horizon DAYS     the label window in days (e.g. 30)\n"
	"  --definition NAME  a churn definition (tenure churn define); default \"cancelled\"\n"
	"  --out FILE         features: write CSV to FILE instead of printing (numbers with\n"
	"                     10 significant digits)\n"
	"  --timing           features: seconds building and writing (stderr)\n"
	"  --model, --l2, --rounds, --depth, --eta: as in `tenure predict cv`\n";

typedef struct {
	const char *as_of, *definition, *out, *model;
	double horizon;
	int timing;
	tn_pred_options o;
} sopts;

static int parse(const char *cmd, int argc, char **argv, sopts *so)
{
	memset(so, 0, sizeof *so);
	so->o = tn_pred_options_default();
	so->horizon = NAN;
	long rounds = so->o.gbdt.rounds, depth = so->o.gbdt.depth;
	const cli_option opts[] = {
		{"--timing", CLI_FLAG, &so->timing, 0, 0, NULL},
		{"--as-of", CLI_STR, &so->as_of, 0, 0, NULL},
		{"--definition", CLI_STR, &so->definition, 0, 0, NULL},
		{"--out", CLI_STR, &so->out, 0, 0, NULL},
		{"--model", CLI_STR, &so->model, 0, 0, NULL},
		{"--horizon", CLI_DOUBLE, &so->horizon, 0, 0, "days"},
		{"--l2", CLI_DOUBLE, &so->o.l2, 0, 0, "ridge penalty"},
		{"--eta", CLI_DOUBLE, &so->o.gbdt.eta, 0, 0, "learning rate"},
		{"--rounds", CLI_INT, &rounds, 1, 100000, "boosting rounds"},
		{"--depth", CLI_INT, &depth, 1, 30, "tree depth"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int st = cli_parse(cmd, features_usage, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st == 0 ? -1 : st; /* -1: the help was shown */
	so->o.gbdt.rounds = (int)rounds;
	so->o.gbdt.depth = (int)depth;
	if (!so->as_of)
		return cli_usage_error(cmd, "--as-of DATE is required");
	if (!(so->horizon > 0))
		return cli_usage_error(cmd, "--horizon DAYS is required (a positive number)");
	if (so->model) {
		int k = tn_pred_kind_parse(so->model);
		if (k < 0)
			return cli_usage_error(cmd, "--model: expected logistic or gbdt, found \"%s\"", so->model);
		so->o.kind = (tn_pred_kind)k;
	}
	return 0;
}

static int features_opts(const char *cmd, const sopts *so, tn_pred_features_opts *fo)
{
	tn_time t;
	/* a plain date means the end of that day (docs/metrics.md) */
	if (tn_as_of_parse(so->as_of, strlen(so->as_of), &t))
		return cli_usage_error(cmd, "--as-of: expected a date like 2026-06-30, found \"%s\"", so->as_of);
	fo->as_of = t;
	fo->horizon_days = so->horizon;
	fo->definition = so->definition;
	return 0;
}

/* A note on stderr when the data end before as-of + horizon: churn that
 * would happen after the data's end is not seen, so labels are too low. */
static void warn_short_data(const cli_ctx *ctx, tn_store *s, const tn_pred_features_opts *fo)
{
	tn_error err = {0};
	tn_time end;
	if (ctx->quiet || tn_churn_data_end(s, &end, &err) || end == TN_NO_TIME)
		return;
	tn_time want = fo->as_of + (tn_time)(fo->horizon_days * TN_DAY);
	if (end < want) {
		char a[24], b[24];
		fprintf(stderr,
			"note: the data end at %s, before the end of the label window %s: churn after the data's "
			"end is not seen (labels too low)\n",
			tn_time_format(end, a, sizeof a), tn_time_format(want, b, sizeof b));
	}
}

static void csv_text(const char *v, FILE *fp)
{
	if (!strpbrk(v, ",\"\r\n")) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (; *v; v++) {
		if (*v == '"')
			fputc('"', fp);
		fputc(*v, fp);
	}
	fputc('"', fp);
}

/* CSV straight to FP, row by row (no table buffered: large outputs). */
static void write_csv(const tn_frame *f, FILE *fp)
{
	for (size_t j = 0; j < f->ncols; j++) {
		if (j)
			fputc(',', fp);
		csv_text(f->cols[j].name, fp);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < f->nrows; i++) {
		for (size_t j = 0; j < f->ncols; j++) {
			const tn_column *c = &f->cols[j];
			if (j)
				fputc(',', fp);
			if (!c->is_numeric)
				csv_text(c->text[i], fp);
			else if (!isnan(c->num[i]))
				fprintf(fp, "%.10g", c->num[i]);
		}
		fputc('\n', fp);
	}
}

static void print_frame(const tn_frame *f, out_format fmt, FILE *fp)
{
	if (fmt == OUT_CSV) {
		write_csv(f, fp);
		return;
	}
	const char **names = malloc(f->ncols * sizeof *names);
	if (!names)
		return;
	for (size_t j = 0; j < f->ncols; j++)
		names[j] = f->cols[j].name;
	tn_out *t = tn_out_new(f->ncols, names);
	for (size_t i = 0; i < f->nrows; i++)
		for (size_t j = 0; j < f->ncols; j++) {
			const tn_column *c = &f->cols[j];
			if (c->is_numeric)
				tn_out_num(t, c->num[i], 2);
			else
				tn_out_str(t, c->text[i][0] ? c->text[i] : NULL);
		}
	tn_out_print(t, fmt, fp);
	tn_out_free(t);
	free(names);
}

int cmd_predict_features(cli_ctx *ctx, int argc, char **argv)
{
	sopts so;
	int r = parse("predict features", argc, argv, &so);
	if (r)
		return r < 0 ? 0 : r;
	tn_pred_features_opts fo;
	if (features_opts("predict features", &so, &fo))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	warn_short_data(ctx, s, &fo);
	tn_frame *f = NULL;
	double t0 = cli_now();
	int rc = tn_pred_features(s, &fo, &f, &err);
	double t1 = cli_now();
	if (!rc && so.out) {
		FILE *fp = fopen(so.out, "w");
		if (!fp)
			rc = tn_error_set(&err, TN_ERR_IO, "%s: cannot create", so.out);
		else {
			print_frame(f, OUT_CSV, fp);
			if (fclose(fp))
				rc = tn_error_set(&err, TN_ERR_IO, "%s: write failed", so.out);
		}
	} else if (!rc) {
		print_frame(f, ctx->format, stdout);
	}
	if (!rc && so.timing)
		fprintf(stderr, "timing: %zu customers, build %.3f s, write %.3f s\n", f->nrows, t1 - t0, cli_now() - t1);
	tn_frame_free(f);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

int cmd_predict_backtest(cli_ctx *ctx, int argc, char **argv)
{
	sopts so;
	int r = parse("predict backtest", argc, argv, &so);
	if (r)
		return r < 0 ? 0 : r;
	tn_pred_features_opts fo;
	if (features_opts("predict backtest", &so, &fo))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	warn_short_data(ctx, s, &fo);
	tn_pred_backtest bt;
	int rc = tn_pred_backtest_run(s, &fo, &so.o, &bt, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *names[] = {"model", "train_customers", "train_churn_rate", "test_customers",
			       "test_churn_rate", "auc", "pr_auc", "brier", "lift_top10", "captured_top10"};
	tn_out *t = tn_out_new(10, names);
	tn_out_str(t, tn_pred_kind_name(so.o.kind));
	tn_out_int(t, (long long)bt.ntrain);
	tn_out_num(t, bt.train_rate, 4);
	tn_out_int(t, (long long)bt.ntest);
	tn_out_num(t, bt.test_rate, 4);
	tn_out_num(t, bt.auc, 4);
	tn_out_num(t, bt.pr_auc, 4);
	tn_out_num(t, bt.brier, 4);
	tn_out_num(t, bt.lift_top10, 3);
	tn_out_num(t, bt.captured_top10, 3);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}
