/*
 * cmd_drivers.c -- `tenure drivers`: Cox proportional hazards on a flat
 * file: which customer traits and behaviours make leaving sooner or later.
 * The data is a frame: a CSV file (--csv), or the store's customers under a
 * named churn definition (--definition), read by drivers_load_frame.
 */
#include "cli.h"
#include "survcli.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Store mode's drivers when --covariates is not given: what the business
 * controls or knows at signup. */
#define STORE_COVARIATES "reached_onboarding_complete,plan,channel,attr_device,country"

/* CPU seconds of the process (all threads): the fair figure on a shared machine */
static double cpu_now(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char usage[] =
    "usage: tenure drivers --csv FILE --time COL --event COL [--covariates A,B,...]\n"
    "                      [--ties efron|breslow] [--strata COL]\n"
    "                      [--reference COL=LEVEL[,COL=LEVEL...]] [--timing]\n"
    "       tenure drivers [--definition NAME] [--as-of DATE] [--all-spells] [--covariates ...] ...\n"
    "       tenure drivers --cause voluntary|involuntary ...   (store)\n"
    "       tenure drivers --csv FILE --time COL --status COL --cause LEVEL ...\n"
    "\n"
    "What drives leaving: a Cox proportional-hazards model.  A hazard ratio of 0.7\n"
    "for a trait means customers with it leave at 70% of the rate of the others at\n"
    "any age (30% less); 1.5 means 50% more.  Numbers match R coxph.\n"
    "\n"
    "  --csv FILE         a flat CSV file with a header line\n"
    "  --definition NAME  without --csv: the store's customers (--db), time in days\n"
    "                     from subscribing to churn under this churn definition\n"
    "                     (default cancelled); default covariates:\n"
    "                     " STORE_COVARIATES "\n"
    "                     (also: price, mrr, billing_period, first_nps, attr_KEY)\n"
    "  --as-of DATE       store mode: censor at the end of this day (default: the data's last day)\n"
    "  --all-spells       store mode: every subscription spell, not only the first\n"
    "  --time COL         follow-up time, a number >= 0\n"
    "  --event COL        1 when the customer left at that time, 0 when still there\n"
    "  --covariates LIST  the drivers to test (default: every other numeric column).\n"
    "                     A text column becomes one indicator per value COL=VALUE,\n"
    "                     against the first value in sorted order\n"
    "  --ties METHOD      efron (default, as R) or breslow\n"
    "  --strata COL       a separate baseline hazard per value of COL\n"
    "  --reference LIST   the reference value of text columns, e.g. plan=monthly\n"
    "                     (repeat the option or separate with commas)\n"
    "  --timing           print the read and fit times (wall and CPU) on stderr\n"
    "  --cause LEVEL      a cause-specific model (competing risks): only leaving for\n"
    "                     this cause is an event, leaving for another cause censors\n"
    "                     (R: coxph(Surv(time, status == LEVEL) ~ ...)); on the store\n"
    "                     voluntary or involuntary (docs/churn.md)\n"
    "  --status COL       with --cause and --csv: the column naming the cause\n"
    "\n"
    "Rows with a blank or NA in a used column are dropped (counted on stderr, as R does).\n"
    "--format json prints {n, events, loglik_null, loglik, concordance,\n"
    "coefficients:[{name, coef, hazard_ratio, se, z, p, lower, upper,\n"
    "may_be_infinite}], ..., converged, warnings:[...]}.\n"
    "\n"
    "Warnings come first (before the table; on stderr with --format csv; \"warnings\"\n"
    "in JSON).  A coefficient that may be infinite (R: \"Loglik converged before\n"
    "variable ...\") is flagged and its effect shown as \"infinite?\"; the others\n"
    "stand (exit status 0).  A fit that did not converge is printed with a warning\n"
    "and exit status 3: its numbers must not be used.\n"
    "See docs/survival.md.\n";

/* Keep the columns of COVS (a NULL-terminated list of N) that exist in F and
 * take at least two values: the store's default drivers adapt to the data a
 * business has (no device attribute, a single country...). */
static void keep_varying(const tn_frame *f, char **covs, size_t *n)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++) {
		int j = tn_frame_find(f, covs[i]), varies = 0;
		const tn_column *c = j >= 0 ? &f->cols[j] : NULL;
		for (size_t r = 1; c && r < f->nrows && !varies; r++)
			varies = c->is_numeric ? c->num[r] != c->num[0] && !isnan(c->num[r]) && !isnan(c->num[0])
					       : strcmp(c->text[r], c->text[0]) != 0 && *c->text[r] && *c->text[0];
		if (varies)
			covs[k++] = covs[i];
		else
			free(covs[i]);
	}
	covs[k] = NULL;
	*n = k;
}

/* Column C's numbers, now the caller's: the frame no longer holds them */
static double *take_column(tn_frame *f, int c)
{
	double *v = f->cols[c].num;
	f->cols[c].num = NULL;
	return v;
}

/* Column COL of F on the design's rows (time or event): when every row is
 * kept and no other use reads the column (the covariates read from the
 * frame, the OTHER column, the strata), the frame's own array is taken, not
 * copied: 8 bytes a row less of fresh memory. */
static int load_numeric(tn_frame *f, const tn_design *ds, const char *col, const char *other, const char *scol,
			double **out, tn_error *err)
{
	int c = tn_frame_find(f, col);
	int shared = c < 0 || ds->dropped || !ds->cols || !f->cols[c].is_numeric || strcmp(col, other) == 0 ||
		     (scol && strcmp(col, scol) == 0);
	for (size_t j = 0; !shared && j < ds->p; j++)
		shared = ds->cols[j] == c;
	if (shared)
		return tn_design_numeric(f, col, ds->rows, ds->n, out, err);
	*out = take_column(f, c);
	return TN_OK;
}

typedef struct drivers_data {
	tn_design *design;
	double *time, *event;
	int *strata;
	char **slabels;
	int nstrata;
} drivers_data;

static void drivers_data_free(drivers_data *d)
{
	tn_design_free(d->design);
	free(d->time);
	free(d->event);
	tn_design_groups_free(d->strata, d->slabels, d->nstrata);
	memset(d, 0, sizeof *d);
}

/* The data: frame F (PATH names it in messages).  COVS NULL means every
 * other numeric column. */
static int drivers_load_frame(tn_frame *f, const char *path, const char *tcol, const char *ecol, char **covs,
			      size_t ncov, const char *scol, char **refs, size_t nrefs, drivers_data *d, tn_error *err)
{
	memset(d, 0, sizeof *d);
	const char **use = NULL;
	size_t nuse = 0;
	int rc = TN_OK;
	if (covs) {
		use = malloc((ncov ? ncov : 1) * sizeof *use);
		if (use)
			for (size_t k = 0; k < ncov; k++)
				use[nuse++] = covs[k];
	} else {
		use = malloc((f->ncols ? f->ncols : 1) * sizeof *use);
		for (size_t c = 0; use && c < f->ncols; c++) {
			const char *nm = f->cols[c].name;
			if (strcmp(nm, tcol) && strcmp(nm, ecol) && (!scol || strcmp(nm, scol)) && f->cols[c].is_numeric)
				use[nuse++] = nm;
		}
	}
	if (!use)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (nuse == 0)
		rc = tn_error_set(err, TN_ERR_USAGE, "%s: no covariates: name them with --covariates", path);
	const char *req[3] = {tcol, ecol, scol};
	if (!rc && tn_frame_require(f, tcol, 1, err) < 0)
		rc = err->code;
	if (!rc && tn_frame_require(f, ecol, 1, err) < 0)
		rc = err->code;
	if (!rc)
		rc = tn_design_new_cols(f, use, nuse, req, scol ? 3 : 2, (const char *const *)refs, nrefs, &d->design,
					err);
	if (!rc)
		rc = load_numeric(f, d->design, tcol, ecol, scol, &d->time, err);
	if (!rc)
		rc = load_numeric(f, d->design, ecol, tcol, scol, &d->event, err);
	if (!rc && scol)
		rc = tn_design_groups(f, scol, d->design->rows, d->design->n, &d->strata, &d->slabels, &d->nstrata,
				      err);
	for (size_t i = 0; !rc && i < (d->design ? d->design->n : 0); i++) {
		if (!(d->time[i] >= 0))
			rc = tn_error_set(err, TN_ERR_INPUT, "%s:%zu: %s: expected a time >= 0, found %g", path,
					  d->design->rows[i] + 2, tcol, d->time[i]);
		else if (d->event[i] != 0 && d->event[i] != 1)
			rc = tn_error_set(err, TN_ERR_INPUT, "%s:%zu: %s: expected 0 or 1, found %g", path,
					  d->design->rows[i] + 2, ecol, d->event[i]);
	}
	free(use);
	if (rc)
		drivers_data_free(d);
	return rc;
}

#define num tn_json_num

static void print_fit(const cli_ctx *ctx, const tn_cox *fit, const tn_design *ds, char (*ref)[64],
		      const char *ties, const tn_warnings *w)
{
	if (ctx->format == OUT_JSON) {
		cJSON *root = cJSON_CreateObject();
		cli_warnings_json(root, w);
		tn_json_add_num(root, "n", (double)fit->n);
		tn_json_add_num(root, "events", fit->events);
		cJSON_AddItemToObject(root, "loglik_null", num(fit->loglik_null));
		cJSON_AddItemToObject(root, "loglik", num(fit->loglik));
		cJSON_AddItemToObject(root, "concordance", num(fit->concordance));
		cJSON *co = cJSON_AddArrayToObject(root, "coefficients");
		for (size_t j = 0; j < fit->p; j++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", ds->names[j]);
			cJSON_AddItemToObject(o, "coef", num(fit->coef[j]));
			cJSON_AddItemToObject(o, "hazard_ratio", num(exp(fit->coef[j])));
			cJSON_AddItemToObject(o, "se", num(fit->se[j]));
			cJSON_AddItemToObject(o, "z", num(fit->z[j]));
			cJSON_AddItemToObject(o, "p", num(fit->pvalue[j]));
			cJSON_AddItemToObject(o, "lower", num(fit->lower[j]));
			cJSON_AddItemToObject(o, "upper", num(fit->upper[j]));
			cJSON_AddBoolToObject(o, "may_be_infinite", fit->infinite[j]);
			if (ref[j][0])
				cJSON_AddStringToObject(o, "reference", ref[j]);
			else
				cJSON_AddNullToObject(o, "reference");
			cJSON_AddItemToArray(co, o);
		}
		cJSON_AddStringToObject(root, "ties", ties);
		cJSON_AddItemToObject(root, "lr_chisq", num(fit->lr_chisq));
		tn_json_add_num(root, "lr_df", (double)fit->p);
		cJSON_AddItemToObject(root, "lr_p", num(fit->lr_p));
		tn_json_add_num(root, "iterations", fit->iterations);
		cJSON_AddBoolToObject(root, "converged", fit->converged);
		tn_json_add_num(root, "dropped", (double)ds->dropped);
		cli_print_json(root);
		cJSON_Delete(root);
		return;
	}
	const char *h[] = {"driver", "hazard_ratio", "lower", "upper", "p", "effect", "coef", "se", "z", "reference"};
	tn_out *t = tn_out_new(10, h);
	for (size_t j = 0; j < fit->p; j++) {
		double hr = exp(fit->coef[j]);
		char eff[64];
		if (fit->infinite[j] || !fit->converged)
			snprintf(eff, sizeof eff, "infinite?");
		else if (fit->pvalue[j] >= 0.05)
			snprintf(eff, sizeof eff, "unclear");
		else
			snprintf(eff, sizeof eff, "%+.0f%% risk", 100 * (hr - 1));
		tn_out_str(t, ds->names[j]);
		tn_out_num(t, hr, 3);
		tn_out_num(t, fit->lower[j], 3);
		tn_out_num(t, fit->upper[j], 3);
		tn_out_num(t, fit->pvalue[j], 4);
		tn_out_str(t, eff);
		tn_out_num(t, fit->coef[j], 4);
		tn_out_num(t, fit->se[j], 4);
		tn_out_num(t, fit->z[j], 2);
		tn_out_str(t, ref[j][0] ? ref[j] : "per unit");
	}
	cli_warnings_print(ctx, w);
	if (ctx->format == OUT_TABLE) {
		printf("Drivers of leaving (Cox model, %s ties): %zu customers, %.0f left\n", ties, fit->n, fit->events);
		printf("Hazard ratio against the reference level (last column; per unit for a number), 95%% CI;\n"
		       "effect shown when p < 0.05.\n\n");
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	if (ctx->format == OUT_TABLE) {
		char pt[32];
		printf("\nConcordance %.4f (0.5 = no better than chance).  Likelihood ratio test %.2f on %zu df, "
		       "%s.\n", fit->concordance, fit->lr_chisq, fit->p, surv_p_text(fit->lr_p, pt, sizeof pt));
		printf("Log-likelihood: null %.4f, fitted %.4f%s\n", fit->loglik_null, fit->loglik,
		       fit->converged ? "" : " (did not converge)");
	}
}

int cmd_drivers(cli_ctx *ctx, int argc, char **argv)
{
	const char *csv = NULL, *tcol = NULL, *ecol = NULL, *covl = NULL, *ties = "efron", *scol = NULL;
	cli_list refs = {NULL, 0}; /* --reference, repeatable */
	int timing = 0, rc = 0, all_spells = 0, default_covs = 0;
	const char *defn = NULL, *as_of = NULL, *cause = NULL, *scol_cause = NULL;
	char **covs = NULL;
	size_t ncov = 0;
	const cli_option opts[] = {
		{"--timing", CLI_FLAG, &timing, 0, 0, NULL},
		{"--all-spells", CLI_FLAG, &all_spells, 0, 0, NULL},
		{"--reference", CLI_LIST, &refs, 0, 0, NULL},
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--time", CLI_STR, &tcol, 0, 0, NULL},
		{"--event", CLI_STR, &ecol, 0, 0, NULL},
		{"--covariates", CLI_STR, &covl, 0, 0, NULL},
		{"--ties", CLI_STR, &ties, 0, 0, NULL},
		{"--strata", CLI_STR, &scol, 0, 0, NULL},
		{"--definition", CLI_STR, &defn, 0, 0, NULL},
		{"--as-of", CLI_STR, &as_of, 0, 0, NULL},
		{"--cause", CLI_STR, &cause, 0, 0, NULL},
		{"--status", CLI_STR, &scol_cause, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("drivers", usage, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0) {
		cli_free_list(refs.items);
		return parsed;
	}
	if (!rc && csv && (defn || as_of || all_spells))
		rc = cli_usage_error("drivers", "--definition, --as-of and --all-spells are for the store, not --csv");
	char cause_col[96] = "";
	if (!rc && scol_cause && !cause)
		rc = cli_usage_error("drivers", "--status goes with --cause");
	if (!rc && cause && ecol)
		rc = cli_usage_error("drivers", "--cause takes --status COL (the cause), not --event");
	if (!rc && cause && csv && !scol_cause)
		rc = cli_usage_error("drivers", "--cause with --csv: expected --status COL");
	if (!rc && cause && !csv && strcmp(cause, "voluntary") && strcmp(cause, "involuntary"))
		rc = cli_usage_error("drivers", "--cause: expected voluntary or involuntary, found \"%s\"", cause);
	if (!rc && cause && csv && !covl)
		rc = cli_usage_error("drivers", "--cause with --csv: name the drivers with --covariates");
	if (!rc && cause) {
		snprintf(cause_col, sizeof cause_col, "event_%.80s", cause);
		ecol = cause_col;
	}
	if (!rc && !csv) { /* store mode: the churn frame's own columns */
		if (tcol || (ecol && !cause) || scol_cause)
			rc = cli_usage_error("drivers", "--time, --event and --status go with --csv");
		tcol = "time";
		if (!cause)
			ecol = "event";
		else
			scol_cause = "cause";
		if (!covl) {
			covl = STORE_COVARIATES;
			default_covs = 1;
		}
	}
	if (!rc && (!tcol || !ecol))
		rc = cli_usage_error("drivers", "expected --time COL and --event COL");
	if (!rc && strcmp(ties, "efron") && strcmp(ties, "breslow"))
		rc = cli_usage_error("drivers", "--ties: expected efron or breslow, found \"%s\"", ties);
	if (!rc && covl && !(covs = cli_split(covl, &ncov)))
		rc = cli_usage_error("drivers", "out of memory");
	if (rc) {
		cli_free_list(refs.items);
		return rc;
	}
	tn_error err = {0};
	drivers_data d;
	double t0 = cli_now(), c0 = cpu_now();
	tn_frame *frame = csv ? tn_frame_read_csv(csv, NULL, 0, &err)
			      : surv_store_frame_causes(ctx, defn, as_of, all_spells, cause != NULL, &err);
	if (frame && cause && surv_add_cause_event(frame, scol_cause, cause, cause_col, &err)) {
		tn_frame_free(frame);
		frame = NULL;
	}
	if (frame && cause && !ctx->quiet && ctx->format == OUT_TABLE)
		printf("Cause-specific model: leaving for \"%s\" is the event; leaving for another cause censors.\n",
		       cause);
	if (frame && default_covs)
		keep_varying(frame, covs, &ncov);
	if (frame && default_covs && ncov == 0) {
		tn_error_set(&err, TN_ERR_USAGE, "%s: none of the default drivers (" STORE_COVARIATES
						 ") varies here: name them with --covariates", ctx->db_path);
		tn_frame_free(frame);
		frame = NULL;
	}
	rc = frame ? drivers_load_frame(frame, csv ? csv : ctx->db_path, tcol, ecol, covs, ncov, scol, refs.items, refs.n,
					&d, &err)
		   : err.code;
	/* each driver's reference level, while the frame is here */
	char(*dref)[64] = rc ? NULL : calloc(d.design->p ? d.design->p : 1, sizeof *dref);
	if (!rc && !dref) {
		drivers_data_free(&d);
		rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
	}
	for (size_t j = 0; !rc && j < d.design->p; j++)
		tn_design_reference(d.design, frame, j, dref[j], sizeof dref[j]);
	/* all-numeric covariates: the fit takes the frame's columns themselves
	 * (freeing each once sorted), the rest of the frame goes now */
	double **xcols = NULL;
	if (!rc && !d.design->x) {
		xcols = tn_malloc(d.design->p * sizeof *xcols);
		if (!xcols) {
			drivers_data_free(&d);
			free(dref);
			dref = NULL;
			rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		}
		for (size_t j = 0; xcols && j < d.design->p; j++)
			xcols[j] = take_column(frame, d.design->cols[j]);
		if (xcols && !d.design->dropped) { /* the kept rows are all rows */
			free(d.design->rows);
			d.design->rows = NULL;
		}
	}
	tn_frame_free(frame);
	cli_free_list(covs);
	cli_free_list(refs.items);
	if (rc)
		return cli_fail(&err);
	double t1 = cli_now(), c1 = cpu_now();
	if (d.design->dropped && !ctx->quiet)
		fprintf(stderr, "tenure drivers: n=%zu, %zu observation%s deleted due to missingness (blank or NA in a "
				"used column)\n",
			d.design->n, d.design->dropped, d.design->dropped == 1 ? "" : "s");
	tn_cox_opts o = {strcmp(ties, "breslow") == 0 ? TN_COX_BRESLOW : TN_COX_EFRON, 0, 0, 0,
			 (const char *const *)d.design->names, 0, NULL};
	tn_cox *fit = NULL;
	if (xcols)
		rc = tn_cox_fit_cols(d.time, d.event, xcols, d.design->rows, d.design->n, d.design->p, d.strata, &o, 1,
				     &fit, &err);
	else
		rc = tn_cox_fit(d.time, d.event, d.design->x, d.design->n, d.design->p, d.strata, &o, &fit, &err);
	free(xcols);
	double t2 = cli_now(), c2 = cpu_now();
	if (timing)
		fprintf(stderr,
			"timing: read %.3f s (CPU %.3f s), fit %.3f s (CPU %.3f s, both threads) (%zu rows x %zu "
			"covariates)\n",
			t1 - t0, c1 - c0, t2 - t1, c2 - c1,
			d.design->n, d.design->p);
	tn_warnings w = {0};
	if (!rc) {
		tn_cox_warnings(fit, (const char *const *)d.design->names, &w);
		print_fit(ctx, fit, d.design, dref, ties, &w);
	}
	free(dref);
	int status = cli_warnings_status(&w);
	tn_warnings_free(&w);
	tn_cox_free(fit);
	drivers_data_free(&d);
	return rc ? cli_fail(&err) : status;
}
