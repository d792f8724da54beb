/*
 * cmd_value_score.c -- `tenure value score`: fit BG/NBD (or Pareto/NBD) and
 * Gamma-Gamma on a customer summary, then write each customer's P(alive),
 * expected transactions over the horizon, expected spend per transaction and
 * CLV.  Also the loaders the value commands share (transactions from a file
 * or the store).  Scoring itself is tn_value_score (value_score.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_value.h"

#include <cjson/cJSON.h>

tn_time cmd_value_last_day(const tn_value_txns *t)
{
	return tn_value_txns_last_day(t);
}

int cmd_value_load_txns(cli_ctx *ctx, const char *csv, int ws, int nohdr, const char *cols, const char *cust,
			const char *date, const char *amount, tn_value_txns **out, tn_error *err)
{
	if (!csv) {
		tn_store *s;
		if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, err))
			return err->code;
		int rc = tn_value_txns_from_store(s, out, err);
		tn_store_close(s);
		if (rc == TN_OK && tn_value_txns_count(*out) == 0) {
			tn_value_txns_free(*out);
			*out = NULL;
			return tn_error_set(err, TN_ERR_INPUT, "%s: no purchase events in the store", ctx->db_path);
		}
		return rc;
	}
	size_t ncols = 0;
	char **list = cols ? cli_split(cols, &ncols) : NULL;
	tn_value_read_opts o = {.whitespace = ws, .no_header = nohdr, .columns = (const char *const *)list,
				.ncolumns = ncols, .customer = cust, .date = date, .amount = amount};
	int rc = tn_value_txns_read(csv, &o, out, err);
	cli_free_list(list);
	return rc;
}

/* ---- scoring ----------------------------------------------------------------- */

static const char score_help[] =
	"usage: tenure value score [--csv FILE [--id COL] [--frequency COL] [--recency COL] [--T COL]\n"
	"                          [--monetary COL]] [--model bgnbd|pareto-nbd]\n"
	"                          [--horizon N] [--discount D] [--margin M]\n"
	"                          [--calibration-end DATE] [--unit days|weeks]\n\n"
	"Fit the transaction model (BG/NBD by default) and the Gamma-Gamma spend model, then write per\n"
	"customer:\n"
	"  p_alive                P(the customer is still active | x, t_x, T)\n"
	"  expected_transactions  E[transactions in the next N periods | x, t_x, T]\n"
	"  expected_spend         E[spend per transaction | x, mean spend] (Gamma-Gamma)\n"
	"  clv                    sum over periods k = 1..N of expected transactions in period k x\n"
	"                         expected spend x margin / (1 + discount)^k\n"
	"Without --csv the store's purchase events are summarised first (like `tenure value summary`).\n"
	"Without a spend column (or with fewer than 2 repeat buyers) expected_spend and clv are empty.\n\n"
	"Options:\n"
	"  --csv FILE          per-customer summary (columns as in `tenure value summary --format csv`)\n"
	"  --id COL            customer id column (default customer, if present; else the row number)\n"
	"  --frequency COL     repeat transactions x (default frequency)\n"
	"  --recency COL       t_x (default recency)\n"
	"  --T COL             T (default T)\n"
	"  --monetary COL      mean repeat spend (default monetary_value, if present)\n"
	"  --model NAME        bgnbd (default) or pareto-nbd\n"
	"  --horizon N         periods (of the recency/T unit) to look ahead (default 52)\n"
	"  --discount D        discount rate per period (default 0.01)\n"
	"  --margin M          profit margin applied to spend (default 0.3)\n"
	"  --calibration-end DATE, --unit days|weeks   for the store (defaults: last purchase day, weeks)\n"
	"The fits' warnings (as `tenure value fit`) come first: before the table, on stderr with\n"
	"--format csv or json.  When a fit is degenerate the exit status is 3: the scores mean nothing.\n";

typedef struct score_in {
	size_t n;
	const double *x, *t_x, *T, *m;
	char **ids;            /* text ids or NULL */
	const double *num_ids; /* numeric ids or NULL */
	const char *src;       /* the file, for messages (NULL: the store) */
} score_in;

static void print_scores(cli_ctx *ctx, const score_in *in, const tn_value_scores *r)
{
	if (ctx->format == OUT_JSON) { /* one array, streamed a customer at a time */
		tn_json_stream js;
		tn_json_stream_begin(&js, stdout);
		for (size_t i = 0; i < in->n; i++) {
			cJSON *o = cJSON_CreateObject();
			if (!o) {
				js.failed = 1;
				break;
			}
			if (in->ids)
				cJSON_AddStringToObject(o, "customer", in->ids[i]);
			else
				tn_json_add_num(o, "customer", in->num_ids ? in->num_ids[i] : (double)(i + 1));
			tn_json_add_num(o, "frequency", in->x[i]);
			tn_json_add_num(o, "recency", in->t_x[i]);
			tn_json_add_num(o, "T", in->T[i]);
			tn_json_add_num(o, "p_alive", r->palive[i]);
			tn_json_add_num(o, "expected_transactions", r->expected[i]);
			tn_json_add_num(o, "expected_spend", r->spend[i]);
			tn_json_add_num(o, "clv", isfinite(r->spend[i]) ? r->clv[i] : NAN);
			tn_json_stream_item(&js, o);
			cJSON_Delete(o);
		}
		tn_json_stream_end(&js);
		return;
	}
	if (ctx->format == OUT_CSV) {
		puts("customer,frequency,recency,T,p_alive,expected_transactions,expected_spend,clv");
		for (size_t i = 0; i < in->n; i++) {
			if (in->ids)
				tn_csv_write(stdout, in->ids[i]);
			else
				tn_csv_write_num(stdout, in->num_ids ? in->num_ids[i] : (double)(i + 1));
			double v[7] = {in->x[i], in->t_x[i], in->T[i], r->palive[i], r->expected[i], r->spend[i],
				       isfinite(r->spend[i]) ? r->clv[i] : NAN};
			for (int k = 0; k < 7; k++) {
				putchar(',');
				tn_csv_write_num(stdout, v[k]);
			}
			putchar('\n');
		}
		return;
	}
	const char *names[] = {"customer", "frequency", "recency", "T", "p_alive", "expected_transactions",
			       "expected_spend", "clv"};
	tn_out *t = tn_out_new(8, names);
	char buf[64];
	for (size_t i = 0; i < in->n; i++) {
		if (in->ids) {
			tn_out_str(t, in->ids[i]);
		} else {
			snprintf(buf, sizeof buf, "%.17g", in->num_ids ? in->num_ids[i] : (double)(i + 1));
			tn_out_str(t, buf);
		}
		tn_out_num(t, in->x[i], 0);
		tn_out_num(t, in->t_x[i], 2);
		tn_out_num(t, in->T[i], 2);
		tn_out_num(t, r->palive[i], 3);
		tn_out_num(t, r->expected[i], 3);
		tn_out_num(t, r->spend[i], 2);
		tn_out_num(t, r->clv[i], 2);
	}
	tn_out_print(t, OUT_TABLE, stdout);
	tn_out_free(t);
}

static int run_score(cli_ctx *ctx, const score_in *in, tn_value_model model, int horizon, double d, double margin)
{
	tn_error err = {0};
	tn_value_fit tf, gf;
	double t0 = cli_now(), c0 = (double)clock() / CLOCKS_PER_SEC;
	int rc = model == TN_VALUE_PNBD ? tn_value_pnbd_fit(in->x, in->t_x, in->T, in->n, &tf, &err)
					: tn_value_bgnbd_fit(in->x, in->t_x, in->T, in->n, &tf, &err);
	if (rc)
		return cmd_value_fail_data(in->src, &err);
	int have_gg = 0;
	if (in->m) {
		tn_error gerr = {0};
		have_gg = tn_value_gg_fit(in->x, in->m, in->n, &gf, &gerr) == TN_OK;
		if (!have_gg)
			fprintf(stderr, "tenure value score: no spend model: %s\n", gerr.msg);
	}
	double t1 = cli_now(), c1 = (double)clock() / CLOCKS_PER_SEC;
	tn_value_score_opts so = {model, tf.params, have_gg ? gf.params : NULL, horizon, d, margin};
	tn_value_scores *sc;
	if (tn_value_score(&so, in->x, in->t_x, in->T, in->m, in->n, &sc, &err))
		return cli_fail(&err);
	double t2 = cli_now(), c2 = (double)clock() / CLOCKS_PER_SEC;
	if (!ctx->quiet && getenv("TENURE_TIMING"))
		fprintf(stderr, "value score: %zu customers (%zu distinct), fit %.3f s (CPU %.3f s), scoring %.3f s "
			"(CPU %.3f s)\n", in->n, sc->ndistinct, t1 - t0, c1 - c0, t2 - t1, c2 - c1);
	/* the fits' warnings first: before the table, else on stderr (the
	 * scores stay one CSV table or one JSON array) */
	tn_warnings w = {0};
	tn_value_fit_warnings(&tf, &w);
	if (have_gg)
		tn_value_fit_warnings(&gf, &w);
	cli_ctx wctx = *ctx;
	if (wctx.format == OUT_JSON)
		wctx.format = OUT_CSV;
	cli_warnings_print(&wctx, &w);
	int status = cli_warnings_status(&w);
	tn_warnings_free(&w);
	if (ctx->format == OUT_TABLE) {
		printf("%s: ", tn_value_model_name(model));
		for (int k = 0; k < tf.nparams; k++)
			printf("%s=%.4g ", tf.names[k], tf.params[k]);
		if (have_gg)
			printf("| gamma-gamma: p=%.4g q=%.4g gamma=%.4g ", gf.params[0], gf.params[1], gf.params[2]);
		printf("| horizon %d, discount %g, margin %g\n\n", horizon, d, margin);
	}
	print_scores(ctx, in, sc);
	tn_value_scores_free(sc);
	return status;
}

int value_score(cli_ctx *ctx, int argc, char **argv)
{
	const char *csv = NULL, *idc = NULL, *fx = "frequency", *fr = "recency", *fT = "T", *fm = NULL,
		   *model = "bgnbd", *end = NULL, *unit = "weeks";
	long horizon = 52;
	double d = 0.01, margin = 0.3;
	const cli_option opts[] = {
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--id", CLI_STR, &idc, 0, 0, NULL},
		{"--frequency", CLI_STR, &fx, 0, 0, NULL},
		{"--recency", CLI_STR, &fr, 0, 0, NULL},
		{"--T", CLI_STR, &fT, 0, 0, NULL},
		{"--monetary", CLI_STR, &fm, 0, 0, NULL},
		{"--model", CLI_STR, &model, 0, 0, NULL},
		{"--horizon", CLI_INT, &horizon, 1, 10000, "periods ahead"},
		{"--discount", CLI_DOUBLE, &d, 0, 0, "discount rate per period"},
		{"--margin", CLI_DOUBLE, &margin, 0, 0, "profit share of revenue"},
		{"--calibration-end", CLI_STR, &end, 0, 0, NULL},
		{"--unit", CLI_STR, &unit, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("value score", score_help, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	int m = tn_value_model_parse(model);
	if (m != TN_VALUE_BGNBD && m != TN_VALUE_PNBD)
		return cli_usage_error("value score", "--model: expected bgnbd or pareto-nbd, found \"%s\"", model);
	if (horizon < 1 || horizon > 10000 || !(d >= 0) || !(margin >= 0))
		return cli_usage_error("value score", "expected --horizon 1..10000, --discount >= 0, --margin >= 0");
	tn_error err = {0};
	score_in in = {0};
	int rc;
	if (!csv) {
		double ud = strcmp(unit, "days") == 0 ? 1 : strcmp(unit, "weeks") == 0 ? 7 : 0;
		tn_time cal = 0;
		if (!ud)
			return cli_usage_error("value score", "--unit: expected days or weeks, found \"%s\"", unit);
		if (end && tn_time_parse(end, strlen(end), &cal))
			return cli_usage_error("value score", "--calibration-end: expected a date, found \"%s\"", end);
		tn_value_txns *t;
		if (cmd_value_load_txns(ctx, NULL, 0, 0, NULL, NULL, NULL, NULL, &t, &err))
			return cli_fail(&err);
		tn_value_summary *s;
		rc = tn_value_summarize(t, end ? cal : cmd_value_last_day(t), ud, &s, &err);
		tn_value_txns_free(t);
		if (rc)
			return cli_fail(&err);
		size_t dropped = tn_value_summary_drop_unobserved(s);
		if (dropped && !ctx->quiet)
			fprintf(stderr, "tenure value score: %zu customers first bought on the calibration end (T = 0) "
					"and are not scored\n", dropped);
		in = (score_in){s->n, s->x, s->t_x, s->T, s->monetary, s->id, NULL, NULL};
		rc = run_score(ctx, &in, (tn_value_model)m, (int)horizon, d, margin);
		tn_value_summary_free(s);
		return rc;
	}
	/* which optional columns exist: peek at the header */
	tn_frame *hdr = tn_frame_read_csv(csv, NULL, 0, &err);
	if (!hdr)
		return cli_fail(&err);
	if (!idc && tn_frame_find(hdr, "customer") >= 0)
		idc = "customer";
	if (!fm && tn_frame_find(hdr, "monetary_value") >= 0)
		fm = "monetary_value";
	const char *cols[4] = {fx, fr, fT, fm};
	tn_frame *f = cmd_value_read_summary(csv, cols, fm ? 4 : 3, &err);
	int ii = idc ? tn_frame_require(hdr, idc, 0, &err) : -1;
	if (!f || (idc && ii < 0)) {
		tn_frame_free(f);
		tn_frame_free(hdr);
		return cli_fail(&err);
	}
	in = (score_in){f->nrows, f->cols[0].num, f->cols[1].num, f->cols[2].num, fm ? f->cols[3].num : NULL, NULL, NULL,
			csv};
	if (ii >= 0) {
		if (hdr->cols[ii].is_numeric)
			in.num_ids = hdr->cols[ii].num;
		else
			in.ids = hdr->cols[ii].text;
	}
	rc = run_score(ctx, &in, (tn_value_model)m, (int)horizon, d, margin);
	tn_frame_free(f);
	tn_frame_free(hdr);
	return rc;
}
