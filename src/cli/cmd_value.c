/*
 * cmd_value.c -- `tenure value`: what each customer is worth.
 *   tenure value summary   transactions -> per-customer x, t_x, T, mean spend
 *   tenure value fit       fit sBG, BG/NBD, Pareto/NBD or Gamma-Gamma
 *   tenure value score     per-customer P(alive), expected transactions,
 *                          expected spend and CLV (cmd_value_score.c)
 * The models live in libtenure (tenure/value.h); this file parses options
 * and prints.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "cmd_value.h"

static const char *model_title(tn_value_model m)
{
	switch (m) {
	case TN_VALUE_SBG: return "sBG, shifted-beta-geometric (Fader & Hardie 2007)";
	case TN_VALUE_BGNBD: return "BG/NBD (Fader, Hardie & Lee 2005)";
	case TN_VALUE_PNBD: return "Pareto/NBD (Schmittlein, Morrison & Colombo 1987)";
	case TN_VALUE_GG: return "Gamma-Gamma spend (Fader, Hardie & Lee 2005; note 025)";
	}
	return "";
}

int cmd_value_fail_data(const char *src, const tn_error *err)
{
	if (src && strncmp(err->msg, "row ", 4) == 0) {
		fprintf(stderr, "tenure: %s: data %s\n", src, err->msg);
		return 1;
	}
	return cli_fail(err);
}

/* ---- tenure value summary ---------------------------------------------------- */

static const char summary_help[] =
	"usage: tenure value summary [--csv FILE [--whitespace] [--no-header] [--columns A,B,...]\n"
	"                            --customer COL --date COL [--amount COL]]\n"
	"                            [--calibration-end DATE] [--unit days|weeks]\n\n"
	"Summarise a transaction log per customer, like lifetimes' summary_data_from_transaction_data:\n"
	"  frequency       x, the number of repeat purchase days (purchases on one UTC day count once)\n"
	"  recency         t_x, from the first to the last purchase day\n"
	"  T               from the first purchase day to the calibration end\n"
	"  monetary_value  the mean amount of the repeat purchase days (0 when x = 0)\n"
	"Purchases after the calibration end are ignored; customers who first bought after it are left out.\n\n"
	"Options:\n"
	"  --csv FILE             the transaction file (\"-\" for standard input); without it the store's\n"
	"                         `purchase` events are used (customer ext_id, occurred_at, amount)\n"
	"  --whitespace           fields are separated by blanks (e.g. CDNOW_master.txt), not commas\n"
	"  --no-header            the first line is data; name the fields with --columns\n"
	"  --columns A,B,...      field names, in order (override the header line)\n"
	"  --customer COL         the customer id field\n"
	"  --date COL             the date field: YYYY-MM-DD, YYYYMMDD, ISO-8601 or Unix seconds\n"
	"  --amount COL           the amount field (optional; monetary_value is 0 without it)\n"
	"  --calibration-end DATE the end of the calibration period (inclusive); default: the last\n"
	"                         purchase day\n"
	"  --unit days|weeks      the unit of recency and T (default weeks)\n\n"
	"Example (CDNOW sample, 39-week calibration):\n"
	"  tenure value summary --csv CDNOW_sample.txt --whitespace --no-header \\\n"
	"    --columns master,id,date,cds,amount --customer id --date date --amount amount \\\n"
	"    --calibration-end 1997-09-30 --format csv\n";

int value_summary(cli_ctx *ctx, int argc, char **argv)
{
	const char *csv = NULL, *cols = NULL, *cust = NULL, *date = NULL, *amount = NULL, *end = NULL,
		   *unit = "weeks";
	int ws = 0, nohdr = 0;
	const cli_option opts[] = {
		{"--whitespace", CLI_FLAG, &ws, 0, 0, NULL},
		{"--no-header", CLI_FLAG, &nohdr, 0, 0, NULL},
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--columns", CLI_STR, &cols, 0, 0, NULL},
		{"--customer", CLI_STR, &cust, 0, 0, NULL},
		{"--date", CLI_STR, &date, 0, 0, NULL},
		{"--amount", CLI_STR, &amount, 0, 0, NULL},
		{"--calibration-end", CLI_STR, &end, 0, 0, NULL},
		{"--unit", CLI_STR, &unit, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("value summary", summary_help, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	double unit_days;
	if (strcmp(unit, "days") == 0)
		unit_days = 1;
	else if (strcmp(unit, "weeks") == 0)
		unit_days = 7;
	else
		return cli_usage_error("value summary", "--unit: expected days or weeks, found \"%s\"", unit);
	tn_time cal = 0;
	if (end && tn_time_parse(end, strlen(end), &cal))
		return cli_usage_error("value summary", "--calibration-end: expected a date, found \"%s\"", end);
	if (csv && (!cust || !date))
		return cli_usage_error("value summary", "--csv needs --customer COL and --date COL");
	tn_error err = {0};
	tn_value_txns *t = NULL;
	if (cmd_value_load_txns(ctx, csv, ws, nohdr, cols, cust, date, amount, &t, &err))
		return cli_fail(&err);
	if (!end)
		cal = cmd_value_last_day(t);
	tn_value_summary *s;
	int rc = tn_value_summarize(t, cal, unit_days, &s, &err);
	tn_value_txns_free(t);
	if (rc)
		return cli_fail(&err);
	const char *names[] = {"customer", "frequency", "recency", "T", "monetary_value"};
	if (ctx->format == OUT_CSV) {
		/* streamed: a summary may have millions of rows */
		printf("customer,frequency,recency,T,monetary_value\n");
		for (size_t i = 0; i < s->n; i++) {
			tn_csv_write(stdout, s->id[i]);
			double v[4] = {s->x[i], s->t_x[i], s->T[i], s->monetary[i]};
			for (int k = 0; k < 4; k++) {
				putchar(',');
				tn_csv_write_num(stdout, v[k]);
			}
			putchar('\n');
		}
	} else {
		tn_out *o = tn_out_new(5, names);
		for (size_t i = 0; i < s->n; i++) {
			tn_out_str(o, s->id[i]);
			tn_out_int(o, (long long)s->x[i]);
			tn_out_num(o, s->t_x[i], 2);
			tn_out_num(o, s->T[i], 2);
			tn_out_num(o, s->monetary[i], 2);
		}
		tn_out_print(o, ctx->format, stdout);
		tn_out_free(o);
	}
	tn_value_summary_free(s);
	return 0;
}

/* ---- tenure value fit ------------------------------------------------------------ */

static void fit_help(void)
{
	printf("usage: tenure value fit --model sbg --survivors N0,N1,... [--project N] [--price P] [--discount D]\n"
	       "       tenure value fit --model bgnbd|pareto-nbd --csv FILE [--frequency COL] [--recency COL] [--T COL]\n"
	       "       tenure value fit --model gamma-gamma --csv FILE [--frequency COL] [--monetary COL]\n\n"
	       "Fit a customer-base model by maximum likelihood and print its parameters, standard errors\n"
	       "(from the inverse Hessian), log-likelihood and whether the optimiser converged.\n\n"
	       "Models (docs/value.md has the formulas and sources):\n"
	       "  sbg          contractual retention: churn probability per period ~ Beta(alpha, beta)\n"
	       "  bgnbd        repeat purchases: Poisson rate ~ Gamma(r, alpha), drop-out after a purchase\n"
	       "               with probability ~ Beta(a, b)\n"
	       "  pareto-nbd   repeat purchases: rate ~ Gamma(r, alpha), exponential lifetime with rate ~\n"
	       "               Gamma(s, beta)\n"
	       "  gamma-gamma  spend per transaction (p, q, gamma), on customers with frequency > 0\n\n"
	       "Options:\n"
	       "  --model NAME       sbg, bgnbd, pareto-nbd or gamma-gamma\n"
	       "  --survivors LIST   sbg: customers still active at the start of periods 0, 1, 2, ...\n"
	       "  --project N        sbg: periods to project past the data (default 5)\n"
	       "  --price P          sbg: price per period, for the lifetime values (default 1)\n"
	       "  --discount D       sbg: discount rate per period (default 0.1)\n"
	       "  --csv FILE         per-customer summary (e.g. from `tenure value summary --format csv`)\n"
	       "  --frequency COL    repeat transactions x (default frequency)\n"
	       "  --recency COL      time of the last repeat transaction t_x (default recency)\n"
	       "  --T COL            time from the first transaction to the calibration end (default T)\n"
	       "  --monetary COL     mean repeat spend (default monetary_value)\n\n"
	       "--format json prints {\"warnings\":[...], \"model\":..., \"params\":{...}, \"se\":{...}, \"loglik\":...,\n"
	       "\"converged\":...}.\n\n"
	       "Warnings come first (before the table; on stderr with --format csv).  A fit the data cannot\n"
	       "identify (too few customers or periods, a parameter running off to 0 or infinity, a standard\n"
	       "error over 10 times its estimate) or that did not converge is printed with its warnings and\n"
	       "the exit status is 3: its numbers must not be used.\n");
}

/* Print a fit: a readable block (table), the parameters (csv), or one JSON
 * object (json) extended by EXTRA when not NULL (taken over). */
static int print_fit(const cli_ctx *ctx, const tn_value_fit *f, double secs, cJSON *extra, tn_warnings *w)
{
	tn_value_fit_warnings(f, w);
	int status = cli_warnings_status(w);
	if (ctx->format == OUT_JSON) {
		cJSON *o = extra ? extra : cJSON_CreateObject();
		cJSON *p = cJSON_CreateObject(), *se = cJSON_CreateObject();
		for (int k = 0; k < f->nparams; k++) {
			tn_json_add_num(p, f->names[k], f->params[k]);
			tn_json_add_num(se, f->names[k], f->se[k]);
		}
		cJSON *out = cJSON_CreateObject();
		cli_warnings_json(out, w);
		cJSON_AddStringToObject(out, "model", tn_value_model_name(f->model));
		cJSON_AddItemToObject(out, "params", p);
		cJSON_AddItemToObject(out, "se", se);
		tn_json_add_num(out, "loglik", f->loglik);
		cJSON_AddBoolToObject(out, "converged", f->converged);
		tn_json_add_num(out, "n", (double)f->n);
		tn_json_add_num(out, "distinct_rows", (double)f->ndistinct);
		tn_json_add_num(out, "evaluations", f->evaluations);
		tn_json_add_num(out, "fit_seconds", secs);
		while (o->child) {
			cJSON *c = cJSON_DetachItemViaPointer(o, o->child);
			cJSON_AddItemToObject(out, c->string, c);
		}
		cJSON_Delete(o);
		cli_print_json(out);
		cJSON_Delete(out);
		return status;
	}
	if (extra)
		cJSON_Delete(extra);
	cli_warnings_print(ctx, w);
	const char *names[] = {"param", "estimate", "std_error"};
	tn_out *t = tn_out_new(3, names);
	for (int k = 0; k < f->nparams; k++) {
		tn_out_str(t, f->names[k]);
		tn_out_num(t, f->params[k], 4);
		tn_out_num(t, f->se[k], 4);
	}
	if (ctx->format == OUT_TABLE) {
		printf("model:          %s\n", model_title(f->model));
		if (f->model == TN_VALUE_SBG)
			printf("cohort:         %zu customers over %zu periods\n", f->n, f->ndistinct - 1);
		else
			printf("customers:      %zu (%zu distinct rows fitted)\n", f->n, f->ndistinct);
		printf("log-likelihood: %.4f\n", f->loglik);
		printf("converged:      %s (%d likelihood evaluations, %.3f s)\n\n", f->converged ? "yes" : "NO",
		       f->evaluations, secs);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return status;
}

static int fit_sbg(cli_ctx *ctx, const char *surv, const char *proj, const char *price, const char *disc)
{
	size_t n = 0;
	char **list = cli_split(surv, &n);
	double *alive = malloc((n ? n : 1) * sizeof *alive);
	if (!list || !alive) {
		cli_free_list(list);
		free(alive);
		return cli_usage_error("value fit", "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (cli_parse_double("value fit", "--survivors", list[i], &alive[i])) {
			cli_free_list(list);
			free(alive);
			return 2;
		}
	cli_free_list(list);
	long project = 5;
	double pr = 1, d = 0.1;
	if ((proj && cli_parse_long("value fit", "--project", proj, &project)) ||
	    (price && cli_parse_double("value fit", "--price", price, &pr)) ||
	    (disc && cli_parse_double("value fit", "--discount", disc, &d))) {
		free(alive);
		return 2;
	}
	if (project < 0 || project > 1000 || !(d > 0)) {
		free(alive);
		return cli_usage_error("value fit", "--project must be 0..1000 and --discount > 0");
	}
	tn_error err = {0};
	tn_value_fit f;
	double t0 = cli_now();
	if (tn_value_sbg_fit(alive, n, &f, &err)) {
		free(alive);
		return cli_fail(&err);
	}
	double secs = cli_now() - t0;
	double a = f.params[0], b = f.params[1];
	double elv = pr * tn_value_sbg_elv(a, b, d), derl = pr * tn_value_sbg_derl(a, b, (double)n, d);
	tn_warnings w = {0};
	if (!isfinite(elv) || !isfinite(derl))
		tn_warn(&w, 1, "the lifetime values cannot be computed at alpha = %.4g, beta = %.4g", a, b);
	size_t np = n + (size_t)project;
	int status;
	const char *names[] = {"period", "observed", "expected", "survival", "retention"};
	tn_out *t = tn_out_new(5, names);
	for (size_t k = 0; k < np; k++) {
		tn_out_int(t, (long long)k);
		tn_out_num(t, k < n ? alive[k] : NAN, 0);
		double S = tn_value_sbg_survival(a, b, (double)k);
		tn_out_num(t, alive[0] * S, 1);
		tn_out_num(t, S, 4);
		tn_out_num(t, k ? tn_value_sbg_retention(a, b, (double)k) : NAN, 4);
	}
	if (ctx->format == OUT_JSON) {
		cJSON *x = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(x, "projection");
		for (size_t k = 0; k < np; k++) {
			cJSON *row = cJSON_CreateObject();
			tn_json_add_num(row, "period", (double)k);
			if (k < n)
				tn_json_add_num(row, "observed", alive[k]);
			tn_json_add_num(row, "survival", tn_value_sbg_survival(a, b, (double)k));
			if (k)
				tn_json_add_num(row, "retention", tn_value_sbg_retention(a, b, (double)k));
			cJSON_AddItemToArray(arr, row);
		}
		tn_json_add_num(x, "price", pr);
		tn_json_add_num(x, "discount", d);
		tn_json_add_num(x, "expected_lifetime_value", elv);
		tn_json_add_num(x, "derl", derl);
		status = print_fit(ctx, &f, secs, x, &w);
	} else {
		status = print_fit(ctx, &f, secs, NULL, &w);
		if (ctx->format == OUT_TABLE) {
			printf("\nprojection (cohort of %.0f):\n", alive[0]);
			tn_out_print(t, ctx->format, stdout);
			printf("\nprice %g per period, discount %g per period:\n"
			       "  expected lifetime value of a new customer (E[CLV], first payment included): %.4f\n"
			       "  DERL of a customer who paid for periods 0..%zu (renewals from period %zu on): %.4f\n",
			       pr, d, elv, n - 1, n, derl);
		}
	}
	tn_warnings_free(&w);
	tn_out_free(t);
	free(alive);
	return status;
}

/* Read COLS (NCOLS numeric columns) of a summary CSV into a frame. */
tn_frame *cmd_value_read_summary(const char *csv, const char *const *cols, size_t ncols, tn_error *err)
{
	tn_frame *f = tn_frame_read_csv(csv, cols, ncols, err);
	if (!f)
		return NULL;
	for (size_t k = 0; k < ncols; k++)
		if (tn_frame_require(f, cols[k], 1, err) < 0) {
			tn_frame_free(f);
			return NULL;
		}
	/* a row with a missing value (blank or NA) in a used column is dropped
	 * and counted, as R's na.omit does */
	size_t kept = 0;
	for (size_t i = 0; i < f->nrows; i++) {
		int miss = 0;
		for (size_t k = 0; k < ncols; k++)
			miss |= isnan(f->cols[k].num[i]);
		if (miss)
			continue;
		for (size_t k = 0; k < ncols; k++)
			f->cols[k].num[kept] = f->cols[k].num[i];
		kept++;
	}
	if (kept < f->nrows) {
		fprintf(stderr, "tenure value: n=%zu, %zu observation%s deleted due to missingness (blank or NA)\n",
			kept, f->nrows - kept, f->nrows - kept == 1 ? "" : "s");
		f->nrows = kept;
		for (size_t k = 0; k < ncols; k++)
			f->cols[k].nblank = 0;
	}
	if (kept == 0) {
		tn_error_set(err, TN_ERR_INPUT, "%s: no rows with a number in every used column", csv);
		tn_frame_free(f);
		return NULL;
	}
	return f;
}

int value_fit(cli_ctx *ctx, int argc, char **argv)
{
	const char *model = NULL, *surv = NULL, *csv = NULL, *fx = "frequency", *fr = "recency", *fT = "T",
		   *fm = "monetary_value", *proj = NULL, *price = NULL, *disc = NULL;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			fit_help();
			return 0;
		}
		if ((r = cli_opt(argc, argv, &i, "--model", &model)) || (r = cli_opt(argc, argv, &i, "--survivors", &surv)) ||
		    (r = cli_opt(argc, argv, &i, "--csv", &csv)) || (r = cli_opt(argc, argv, &i, "--frequency", &fx)) ||
		    (r = cli_opt(argc, argv, &i, "--recency", &fr)) || (r = cli_opt(argc, argv, &i, "--T", &fT)) ||
		    (r = cli_opt(argc, argv, &i, "--monetary", &fm)) || (r = cli_opt(argc, argv, &i, "--project", &proj)) ||
		    (r = cli_opt(argc, argv, &i, "--price", &price)) || (r = cli_opt(argc, argv, &i, "--discount", &disc))) {
			if (r < 0)
				return 2;
			continue;
		}
		return cli_usage_error("value fit", "unexpected argument \"%s\"", argv[i]);
	}
	if (!model)
		return cli_usage_error("value fit", "--model is required (sbg, bgnbd, pareto-nbd or gamma-gamma)");
	int m = tn_value_model_parse(model);
	if (m < 0)
		return cli_usage_error("value fit", "--model: expected sbg, bgnbd, pareto-nbd or gamma-gamma, found \"%s\"",
				       model);
	if (m == TN_VALUE_SBG) {
		if (!surv)
			return cli_usage_error("value fit", "--model sbg needs --survivors N0,N1,...");
		return fit_sbg(ctx, surv, proj, price, disc);
	}
	if (!csv)
		return cli_usage_error("value fit", "--model %s needs --csv FILE", model);
	tn_error err = {0};
	const char *cols[3] = {fx, m == TN_VALUE_GG ? fm : fr, fT};
	tn_frame *f = cmd_value_read_summary(csv, cols, m == TN_VALUE_GG ? 2 : 3, &err);
	if (!f)
		return cli_fail(&err);
	tn_value_fit fit;
	double t0 = cli_now();
	int rc;
	if (m == TN_VALUE_GG)
		rc = tn_value_gg_fit(f->cols[0].num, f->cols[1].num, f->nrows, &fit, &err);
	else if (m == TN_VALUE_BGNBD)
		rc = tn_value_bgnbd_fit(f->cols[0].num, f->cols[1].num, f->cols[2].num, f->nrows, &fit, &err);
	else
		rc = tn_value_pnbd_fit(f->cols[0].num, f->cols[1].num, f->cols[2].num, f->nrows, &fit, &err);
	double secs = cli_now() - t0;
	tn_frame_free(f);
	if (rc)
		return cmd_value_fail_data(csv, &err);
	tn_warnings w = {0};
	int status = print_fit(ctx, &fit, secs, NULL, &w);
	tn_warnings_free(&w);
	return status;
}


/* ---- dispatch ------------------------------------------------------------------------- */

static void value_help(void)
{
	printf("usage: tenure value COMMAND [OPTIONS]\n\n"
	       "What each customer is worth: customer-base models and lifetime value (docs/value.md).\n\n"
	       "Commands:\n"
	       "  summary   per-customer frequency, recency, T and mean spend from transactions\n"
	       "  fit       fit sBG (retention), BG/NBD or Pareto/NBD (repeat purchases), Gamma-Gamma (spend)\n"
	       "  score     per-customer P(alive), expected transactions, expected spend and CLV\n"
	       "  at-risk   from the store: future profit, value at risk and profitability by segment\n"
	       "  retention from the store: sBG retention per plan, and each live subscriber's value\n"
	       "  profitability  from the store: revenue, future value, acquisition cost and profit by segment\n\n"
	       "`tenure value COMMAND --help` describes each.\n");
}

int cmd_value(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || cli_is_help(argv[1])) {
		value_help();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "summary") == 0)
		return value_summary(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "fit") == 0)
		return value_fit(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "score") == 0)
		return value_score(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "at-risk") == 0)
		return value_atrisk(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "retention") == 0)
		return cmd_value_retention(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "profitability") == 0)
		return cmd_value_profit(ctx, argc - 1, argv + 1);
	return cli_usage_error("value", "no subcommand \"%s\" (summary, fit, score, at-risk, retention or profitability)",
			       argv[1]);
}
