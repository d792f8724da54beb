/*
 * cmd_survival.c -- `tenure survival`: Kaplan-Meier curves by group, median
 * time to leave, survival at chosen ages, the log-rank test and the danger
 * window, from a flat file (--csv) or from the store under a named churn
 * definition (--definition): either way a frame, read by surv_load_frame.
 */
#include "cli.h"
#include "survcli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: tenure survival --csv FILE --time COL --event COL [--by COL]\n"
    "                       [--at T1,T2,...] [--bin day|week|N] [--unit NAME]\n"
    "                       [--conf LEVEL] [--timing]\n"
    "       tenure survival [--definition NAME] [--as-of DATE] [--all-spells] [--by COL] ...\n"
    "       tenure survival --causes [--csv FILE --time COL --status COL] [--by COL] [--at ...]\n"
    "\n"
    "How long customers stay: Kaplan-Meier survival curves (one per group), the\n"
    "median time to leave with its confidence interval, survival at chosen ages,\n"
    "the log-rank test between groups, and the danger window (when the risk of\n"
    "leaving peaks).  Numbers match R survfit(conf.type = \"log-log\") and survdiff.\n"
    "\n"
    "  --csv FILE     a flat CSV file with a header line\n"
    "  --definition NAME  without --csv: the store's customers (--db), time in\n"
    "                 days from subscribing to churn under this churn definition\n"
    "                 (default cancelled); --by plan, channel, country,\n"
    "                 billing_period, attr_KEY, reached_onboarding_complete...\n"
    "  --as-of DATE   store mode: censor at the end of this day (default: the data's last day)\n"
    "  --all-spells   store mode: every subscription spell, not only the first\n"
    "  --time COL     follow-up time (age of the customer when they left or were\n"
    "                 last seen), a number >= 0, e.g. days\n"
    "  --event COL    1 when the customer left at that time, 0 when still there\n"
    "  --by COL       one curve per value of COL and a log-rank test between them\n"
    "  --at LIST      ages at which to report survival (default: a quarter, half\n"
    "                 and three quarters of the longest time)\n"
    "  --bin W        danger-window bin width: day (1), week (7) or a number\n"
    "                 (default day)\n"
    "  --unit NAME    the time unit's name in the danger sentence (default day)\n"
    "  --conf LEVEL   confidence level of the intervals (default 0.95)\n"
    "  --timing       print the read and compute times on stderr\n"
    "  --causes       competing risks: the cumulative incidence of each cause of\n"
    "                 leaving (Aalen-Johansen, as R survfit with a factor status),\n"
    "                 with standard errors and 95% limits; on the store the causes\n"
    "                 are voluntary and involuntary (docs/churn.md)\n"
    "  --status COL   with --causes and --csv: the cause column; 0, censor or\n"
    "                 censored mean still there, every other value is a cause\n"
    "\n"
    "Rows with a blank or NA time, event or group are dropped (counted on stderr, as R does).\n"
    "--format json prints {\"warnings\":[...], \"groups\":[{group, n, events, median,\n"
    "median_lower, median_upper, at:[{time, survival, se, lower, upper}], curve:[...],\n"
    "chart, danger}], \"logrank\":{chisq, df, p}}.  See docs/survival.md.\n"
    "When the log-rank test cannot be computed (a singular variance, fewer than two\n"
    "groups with customers at risk at an event) the curves are still printed, a\n"
    "warning says why (first; on stderr with --format csv) and chisq, df, p are null.\n";

/* ---- the data source -------------------------------------------------- */

void surv_data_free(surv_data *d)
{
	free(d->time);
	free(d->event);
	tn_design_groups_free(d->group, d->labels, d->ngroups);
	memset(d, 0, sizeof *d);
}

int surv_load_frame(const tn_frame *f, const char *path, const char *tcol, const char *ecol, const char *bycol,
		    surv_data *d, tn_error *err)
{
	memset(d, 0, sizeof *d);
	const char *req[3] = {tcol, ecol, bycol};
	tn_design *ds = NULL;
	int rc = tn_design_new(f, NULL, 0, req, bycol ? 3 : 2, NULL, 0, &ds, err);
	if (!rc)
		rc = tn_design_numeric(f, tcol, ds->rows, ds->n, &d->time, err);
	if (!rc)
		rc = tn_design_numeric(f, ecol, ds->rows, ds->n, &d->event, err);
	if (!rc && bycol)
		rc = tn_design_groups(f, bycol, ds->rows, ds->n, &d->group, &d->labels, &d->ngroups, err);
	if (!rc) {
		d->n = ds->n;
		d->dropped = ds->dropped;
		/* name the first bad row by its line in the file (header = line 1) */
		for (size_t i = 0; i < d->n; i++) {
			if (!(d->time[i] >= 0))
				rc = tn_error_set(err, TN_ERR_INPUT, "%s:%zu: %s: expected a time >= 0, found %g",
						  path, ds->rows[i] + 2, tcol, d->time[i]);
			else if (d->event[i] != 0 && d->event[i] != 1)
				rc = tn_error_set(err, TN_ERR_INPUT, "%s:%zu: %s: expected 0 or 1, found %g", path,
						  ds->rows[i] + 2, ecol, d->event[i]);
			if (rc)
				break;
		}
	}
	tn_design_free(ds);
	if (rc)
		surv_data_free(d);
	return rc;
}

/* ---- competing risks (--causes) ---------------------------------------- */

static int survival_causes(const cli_ctx *ctx, const tn_frame *f, const char *path, const char *tcol,
			   const char *scol, const char *by, const double *at_in, size_t nat_in, double conf, int store)
{
	tn_error err = {0};
	const char *req[3] = {tcol, scol, by};
	tn_design *ds = NULL;
	double *t = NULL;
	int *st = NULL, *grp = NULL, nst = 0, ng = 1, rc;
	char **slab = NULL, **glab = NULL;
	int *cause = NULL, *code = NULL;
	tn_cif **fits = NULL;
	const char *names[16];
	int ncauses = 0;
	cJSON *root = NULL;
	rc = tn_design_new(f, NULL, 0, req, by ? 3 : 2, NULL, 0, &ds, &err);
	if (!rc)
		rc = tn_design_numeric(f, tcol, ds->rows, ds->n, &t, &err);
	if (!rc)
		rc = tn_design_groups(f, scol, ds->rows, ds->n, &st, &slab, &nst, &err);
	if (!rc && by)
		rc = tn_design_groups(f, by, ds->rows, ds->n, &grp, &glab, &ng, &err);
	if (rc)
		goto out;
	/* the causes: on the store voluntary then involuntary; from a file every
	 * level that is not "censored", in sorted order */
	code = calloc((size_t)nst + 1, sizeof *code);
	cause = malloc((ds->n ? ds->n : 1) * sizeof *cause);
	if (!code || !cause) {
		rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (store) {
		names[ncauses++] = "voluntary";
		names[ncauses++] = "involuntary";
	}
	for (int k = 0; k < nst; k++) {
		if (surv_is_censored_level(slab[k]))
			continue;
		int c = 0;
		while (c < ncauses && strcmp(names[c], slab[k]) != 0)
			c++;
		if (c == ncauses) {
			if (store || ncauses >= 15) {
				rc = tn_error_set(&err, TN_ERR_INPUT, "%s: %s: %s is not a cause (at most 15 causes; "
								      "0, censor or censored for still there)",
						  path, scol, slab[k]);
				goto out;
			}
			names[ncauses++] = slab[k];
		}
		code[k] = c + 1;
	}
	if (ncauses == 0) {
		rc = tn_error_set(&err, TN_ERR_INPUT, "%s: %s: no cause, every row is censored", path, scol);
		goto out;
	}
	for (size_t i = 0; i < ds->n; i++) {
		cause[i] = code[st[i]];
		if (!(t[i] >= 0)) {
			rc = tn_error_set(&err, TN_ERR_INPUT, "%s:%zu: %s: expected a time >= 0, found %g", path,
					  ds->rows[i] + 2, tcol, t[i]);
			goto out;
		}
	}
	if (ds->dropped && !ctx->quiet)
		fprintf(stderr, "tenure survival: n=%zu, %zu observation%s deleted due to missingness\n", ds->n,
			ds->dropped, ds->dropped == 1 ? "" : "s");
	if (ds->n == 0) {
		rc = tn_error_set(&err, TN_ERR_INPUT, "%s: no rows with a %s and %s", path, tcol, scol);
		goto out;
	}
	double at[64];
	size_t nat = nat_in;
	memcpy(at, at_in, nat * sizeof *at);
	if (nat == 0) {
		double tmax = 0;
		for (size_t i = 0; i < ds->n; i++)
			tmax = t[i] > tmax ? t[i] : tmax;
		for (int k = 1; k <= 3; k++) {
			double v = round(tmax * k / 4);
			if (nat == 0 || v != at[nat - 1])
				at[nat++] = v;
		}
	}
	fits = calloc((size_t)ng, sizeof *fits);
	if (!fits) {
		rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (int g = 0; g < ng && !rc; g++)
		rc = tn_cif_fit(t, cause, grp, g, ds->n, ncauses, conf, &fits[g], &err);
	if (rc)
		goto out;
	int K = ncauses;
	if (ctx->format == OUT_JSON) {
		root = cJSON_CreateObject();
		cJSON *cs = cJSON_AddArrayToObject(root, "causes");
		for (int k = 0; k < K; k++)
			cJSON_AddItemToArray(cs, cJSON_CreateString(names[k]));
		tn_json_add_num(root, "conf_level", conf);
		cJSON *groups = cJSON_AddArrayToObject(root, "groups");
		for (int g = 0; g < ng; g++) {
			const tn_cif *fc = fits[g];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "group", glab ? glab[g] : "all");
			tn_json_add_num(o, "n", (double)fc->n);
			cJSON *ev = cJSON_AddObjectToObject(o, "events");
			for (int k = 0; k < K; k++) {
				double e = 0;
				for (size_t j = 0; j < fc->ntimes; j++)
					e += fc->n_event[j * (size_t)K + (size_t)k];
				tn_json_add_num(ev, names[k], e);
			}
			cJSON *a = cJSON_AddArrayToObject(o, "at");
			for (size_t q = 0; q < nat; q++) {
				double nr, p[17], se[17], lo[17], up[17];
				tn_cif_at(fc, at[q], &nr, p, se, lo, up);
				for (int k = 0; k <= K; k++) {
					cJSON *e = cJSON_CreateObject();
					tn_json_add_num(e, "time", at[q]);
					cJSON_AddStringToObject(e, "state", k ? names[k - 1] : "still_there");
					tn_json_add_num(e, "n_risk", nr);
					cJSON_AddItemToObject(e, "probability", tn_json_num(p[k]));
					cJSON_AddItemToObject(e, "se", tn_json_num(se[k]));
					cJSON_AddItemToObject(e, "lower", tn_json_num(lo[k]));
					cJSON_AddItemToObject(e, "upper", tn_json_num(up[k]));
					cJSON_AddItemToArray(a, e);
				}
			}
			cJSON *cv = cJSON_AddArrayToObject(o, "curve"); /* every time with an event */
			for (size_t j = 0; j < fc->ntimes; j++) {
				double e = 0;
				for (int k = 0; k < K; k++)
					e += fc->n_event[j * (size_t)K + (size_t)k];
				if (e == 0)
					continue;
				cJSON *x = cJSON_CreateObject();
				tn_json_add_num(x, "time", fc->time[j]);
				tn_json_add_num(x, "n_risk", fc->n_risk[j]);
				cJSON *pa = cJSON_AddArrayToObject(x, "pstate"), *sa = cJSON_AddArrayToObject(x, "se");
				for (int k = 0; k <= K; k++) {
					cJSON_AddItemToArray(pa, tn_json_num(fc->pstate[j * (size_t)(K + 1) + (size_t)k]));
					cJSON_AddItemToArray(sa, tn_json_num(fc->std_err[j * (size_t)(K + 1) + (size_t)k]));
				}
				cJSON_AddItemToArray(cv, x);
			}
			cJSON_AddItemToArray(groups, o);
		}
		tn_json_add_num(root, "dropped", (double)ds->dropped);
		cli_print_json(root);
		goto out;
	}
	const char *h[] = {"group", "age", "at_risk", "state", "probability", "se", "lower", "upper"};
	tn_out *o = tn_out_new(8, h);
	for (int g = 0; g < ng; g++)
		for (size_t q = 0; q < nat; q++) {
			double nr, p[17], se[17], lo[17], up[17];
			tn_cif_at(fits[g], at[q], &nr, p, se, lo, up);
			for (int k = 0; k <= K; k++) {
				tn_out_str(o, glab ? glab[g] : "all");
				tn_out_num(o, at[q], ctx->format == OUT_TABLE ? 0 : 2);
				tn_out_num(o, nr, 0);
				tn_out_str(o, k ? names[k - 1] : "still_there");
				tn_out_num(o, p[k], ctx->format == OUT_TABLE ? 4 : 6);
				tn_out_num(o, se[k], ctx->format == OUT_TABLE ? 4 : 6);
				tn_out_num(o, lo[k], ctx->format == OUT_TABLE ? 4 : 6);
				tn_out_num(o, up[k], ctx->format == OUT_TABLE ? 4 : 6);
			}
		}
	if (ctx->format == OUT_TABLE)
		printf("Who has left, and why, by each age (competing risks: Aalen-Johansen cumulative incidence, "
		       "%g%% CI):\n",
		       100 * conf);
	tn_out_print(o, ctx->format, stdout);
	tn_out_free(o);
out:
	cJSON_Delete(root);
	for (int g = 0; fits && g < ng; g++)
		tn_cif_free(fits[g]);
	free(fits);
	free(cause);
	free(code);
	free(t);
	tn_design_groups_free(st, slab, nst);
	if (by)
		tn_design_groups_free(grp, glab, ng);
	tn_design_free(ds);
	return rc ? cli_fail(&err) : 0;
}

/* ---- output ------------------------------------------------------------ */

#define num tn_json_num

static cJSON *group_json(const tn_km *km, const char *label, const double *at, size_t nat,
			 const tn_danger *dg, const char *unit)
{
	cJSON *g = cJSON_CreateObject();
	cJSON_AddItemToObject(g, "group", label ? cJSON_CreateString(label) : cJSON_CreateString("all"));
	tn_json_add_num(g, "n", (double)km->n);
	tn_json_add_num(g, "events", km->events);
	cJSON_AddItemToObject(g, "median", num(km->median));
	cJSON_AddItemToObject(g, "median_lower", num(km->median_lower));
	cJSON_AddItemToObject(g, "median_upper", num(km->median_upper));
	cJSON *a = cJSON_AddArrayToObject(g, "at");
	for (size_t k = 0; k < nat; k++) {
		tn_km_value v = tn_km_at(km, at[k]);
		cJSON *o = cJSON_CreateObject();
		tn_json_add_num(o, "time", at[k]);
		cJSON_AddItemToObject(o, "n_risk", num(v.n_risk));
		cJSON_AddItemToObject(o, "survival", num(v.surv));
		cJSON_AddItemToObject(o, "se", num(v.se));
		cJSON_AddItemToObject(o, "lower", num(v.lower));
		cJSON_AddItemToObject(o, "upper", num(v.upper));
		cJSON_AddItemToObject(o, "cumhaz", num(v.cumhaz));
		cJSON_AddItemToArray(a, o);
	}
	cJSON *c = cJSON_AddArrayToObject(g, "curve");
	for (size_t i = 0; i < km->ntimes; i++) {
		if (!(km->n_event[i] > 0))
			continue; /* event times, as summary.survfit */
		cJSON *o = cJSON_CreateObject();
		tn_json_add_num(o, "time", km->time[i]);
		tn_json_add_num(o, "n_risk", km->n_risk[i]);
		tn_json_add_num(o, "n_event", km->n_event[i]);
		cJSON_AddItemToObject(o, "survival", num(km->surv[i]));
		cJSON_AddItemToObject(o, "se", num(km->surv[i] > 0 ? km->se[i] : NAN));
		cJSON_AddItemToObject(o, "lower", num(km->lower[i]));
		cJSON_AddItemToObject(o, "upper", num(km->upper[i]));
		cJSON_AddItemToObject(o, "cumhaz", num(km->cumhaz[i]));
		cJSON_AddItemToObject(o, "cumhaz_se", num(km->se_cumhaz[i]));
		cJSON_AddItemToArray(c, o);
	}
	tn_km_steps *st = NULL;
	tn_error err = {0};
	if (tn_km_steps_new(km, 200, &st, &err) == TN_OK) {
		cJSON *ch = cJSON_AddObjectToObject(g, "chart");
		cJSON *arr[4] = {cJSON_AddArrayToObject(ch, "time"), cJSON_AddArrayToObject(ch, "survival"),
				 cJSON_AddArrayToObject(ch, "lower"), cJSON_AddArrayToObject(ch, "upper")};
		for (size_t i = 0; i < st->n; i++) {
			cJSON_AddItemToArray(arr[0], num(st->time[i]));
			cJSON_AddItemToArray(arr[1], num(st->surv[i]));
			cJSON_AddItemToArray(arr[2], num(st->lower[i]));
			cJSON_AddItemToArray(arr[3], num(st->upper[i]));
		}
		tn_km_steps_free(st);
	}
	if (dg) {
		char sentence[512];
		tn_danger_sentence(dg, unit, sentence, sizeof sentence);
		cJSON *o = cJSON_AddObjectToObject(g, "danger");
		tn_json_add_num(o, "bin_width", dg->width);
		cJSON_AddItemToObject(o, "from", dg->from >= 0 ? num((double)dg->from * dg->width) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "to",
				      dg->to >= 0 ? num((double)(dg->to + 1) * dg->width) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "peak_hazard", dg->peak >= 0 ? num(dg->hazard[dg->peak]) : cJSON_CreateNull());
		cJSON_AddItemToObject(o, "share_of_events", num(dg->window_share));
		cJSON_AddStringToObject(o, "sentence", sentence);
		cJSON *b = cJSON_AddArrayToObject(o, "bins");
		for (size_t k = 0; k < dg->nbins; k++) {
			cJSON *e = cJSON_CreateObject();
			tn_json_add_num(e, "from", (double)k * dg->width);
			tn_json_add_num(e, "at_risk", dg->at_risk[k]);
			tn_json_add_num(e, "events", dg->events[k]);
			cJSON_AddItemToObject(e, "hazard", num(dg->hazard[k]));
			cJSON_AddItemToArray(b, e);
		}
	}
	return g;
}

static void print_table(const cli_ctx *ctx, tn_km **km, tn_danger **dg, const surv_data *d, int ng,
			const double *at, size_t nat, const tn_logrank *lr, const char *unit)
{
	const char *cols[] = {"group", "n", "events", "median", "median_lower", "median_upper",
			      "time", "n_risk", "survival", "se", "lower", "upper"};
	if (ctx->format == OUT_TABLE) {
		const char *h[] = {"group", "customers", "left", "median", "median_lower", "median_upper"};
		tn_out *t = tn_out_new(6, h);
		for (int g = 0; g < ng; g++) {
			tn_out_str(t, d->labels ? d->labels[g] : "all");
			tn_out_int(t, (long long)km[g]->n);
			tn_out_int(t, (long long)km[g]->events);
			double m[3] = {km[g]->median, km[g]->median_lower, km[g]->median_upper};
			for (int k = 0; k < 3; k++)
				if (isnan(m[k]))
					tn_out_str(t, "not reached");
				else
					tn_out_num(t, m[k], 1);
		}
		printf("Time to leave (Kaplan-Meier; median = age by which half have left, %g%% CI):\n",
		       100 * km[0]->conf_level);
		tn_out_print(t, OUT_TABLE, stdout);
		tn_out_free(t);
		const char *h2[] = {"group", "age", "at_risk", "still_there", "se", "lower", "upper"};
		t = tn_out_new(7, h2);
		for (int g = 0; g < ng; g++)
			for (size_t k = 0; k < nat; k++) {
				tn_km_value v = tn_km_at(km[g], at[k]);
				tn_out_str(t, d->labels ? d->labels[g] : "all");
				tn_out_num(t, at[k], 0);
				tn_out_num(t, v.n_risk, 0);
				tn_out_num(t, v.surv, 4);
				tn_out_num(t, v.se, 4);
				tn_out_num(t, v.lower, 4);
				tn_out_num(t, v.upper, 4);
			}
		printf("\nShare still there at each age:\n");
		tn_out_print(t, OUT_TABLE, stdout);
		tn_out_free(t);
		if (ng > 1 && lr) {
			char pt[32];
			printf("\nLog-rank test: chi-square %.3f on %d df, %s (%s)\n", lr->chisq, lr->df,
			       surv_p_text(lr->p, pt, sizeof pt),
			       lr->p < 0.05 ? "the groups differ" : "no clear difference between the groups");
		} else if (ng > 1)
			printf("\nLog-rank test: not computed (see the warning above)\n");
		printf("\nDanger window:\n");
		for (int g = 0; g < ng; g++) {
			char s[512];
			tn_danger_sentence(dg[g], unit, s, sizeof s);
			printf("  %s: %s\n", d->labels ? d->labels[g] : "all", s);
		}
		return;
	}
	tn_out *t = tn_out_new(12, cols);
	for (int g = 0; g < ng; g++)
		for (size_t k = 0; k < nat; k++) {
			tn_km_value v = tn_km_at(km[g], at[k]);
			tn_out_str(t, d->labels ? d->labels[g] : "all");
			tn_out_int(t, (long long)km[g]->n);
			tn_out_int(t, (long long)km[g]->events);
			tn_out_num(t, km[g]->median, 2);
			tn_out_num(t, km[g]->median_lower, 2);
			tn_out_num(t, km[g]->median_upper, 2);
			tn_out_num(t, at[k], 2);
			tn_out_num(t, v.n_risk, 0);
			tn_out_num(t, v.surv, 6);
			tn_out_num(t, v.se, 6);
			tn_out_num(t, v.lower, 6);
			tn_out_num(t, v.upper, 6);
		}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

/* Both cores, the same results: the log-rank test and the per-group curves
 * read the same rows and write nothing the others read.  The second thread
 * runs the log-rank test, then helps with the curves; the groups are handed
 * out one at a time.  Errors are reported as one thread would: the curves'
 * error of the lowest group first, the log-rank test's only when every curve
 * was fitted. */
typedef struct lr_job {
	const surv_data *d;
	int ng;
	tn_logrank *lr;
	double *obs, *expd;
	tn_error err;
	int rc;
} lr_job;

static void *lr_run(void *arg)
{
	lr_job *j = arg;
	j->rc = tn_logrank_test(j->d->time, j->d->event, j->d->group, j->d->n, j->ng, j->lr, j->obs, j->expd,
				&j->err);
	return NULL;
}

typedef struct curve_work {
	const surv_data *d;
	int ng;
	double conf, width;
	tn_km **km;
	tn_danger **dg;
	pthread_mutex_t mu;
	int next;       /* the next group to fit */
	int stop;       /* a group failed: hand out no more */
} curve_work;

typedef struct curve_fail {
	int g;          /* the lowest group that failed in this thread, or ng */
	int rc;
	tn_error err;
} curve_fail;

static int take_group(curve_work *w)
{
	pthread_mutex_lock(&w->mu);
	int g = w->stop || w->next >= w->ng ? -1 : w->next++;
	pthread_mutex_unlock(&w->mu);
	return g;
}

static void fit_curves(curve_work *w, curve_fail *f)
{
	int g;
	while ((g = take_group(w)) >= 0) {
		tn_error e = {0};
		int rc = tn_km_fit(w->d->time, w->d->event, w->d->group, g, w->d->n, w->conf, &w->km[g], &e);
		if (!rc)
			rc = tn_danger_new(w->d->time, w->d->event, w->d->group, g, w->d->n, w->width, 30, &w->dg[g], &e);
		if (rc) {
			if (g < f->g) {
				f->g = g;
				f->rc = rc;
				f->err = e;
			}
			pthread_mutex_lock(&w->mu);
			w->stop = 1;
			pthread_mutex_unlock(&w->mu);
		}
	}
}

typedef struct helper_job {
	lr_job *lr;        /* NULL: no log-rank test to run */
	curve_work *w;
	curve_fail fail;
} helper_job;

static void *helper_run(void *arg)
{
	helper_job *h = arg;
	if (h->lr)
		lr_run(h->lr);
	fit_curves(h->w, &h->fail);
	return NULL;
}

int cmd_survival(cli_ctx *ctx, int argc, char **argv)
{
	const char *csv = NULL, *tcol = NULL, *ecol = NULL, *by = NULL, *atl = NULL, *bin = "day",
		   *unit = "day", *confs = NULL, *defn = NULL, *as_of = NULL, *scol = NULL;
	int timing = 0, all_spells = 0, causes = 0;
	const cli_option opts[] = {
		{"--timing", CLI_FLAG, &timing, 0, 0, NULL},
		{"--causes", CLI_FLAG, &causes, 0, 0, NULL},
		{"--status", CLI_STR, &scol, 0, 0, NULL},
		{"--all-spells", CLI_FLAG, &all_spells, 0, 0, NULL},
		{"--csv", CLI_STR, &csv, 0, 0, NULL},
		{"--definition", CLI_STR, &defn, 0, 0, NULL},
		{"--as-of", CLI_STR, &as_of, 0, 0, NULL},
		{"--time", CLI_STR, &tcol, 0, 0, NULL},
		{"--event", CLI_STR, &ecol, 0, 0, NULL},
		{"--by", CLI_STR, &by, 0, 0, NULL},
		{"--at", CLI_STR, &atl, 0, 0, NULL},
		{"--bin", CLI_STR, &bin, 0, 0, NULL},
		{"--unit", CLI_STR, &unit, 0, 0, NULL},
		{"--conf", CLI_STR, &confs, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse("survival", usage, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	if (csv && (defn || as_of || all_spells))
		return cli_usage_error("survival", "--definition, --as-of and --all-spells are for the store, not --csv");
	if (scol && !causes)
		return cli_usage_error("survival", "--status goes with --causes");
	if (causes && ecol)
		return cli_usage_error("survival", "--causes takes --status COL (the cause), not --event");
	if (!csv) { /* store mode: the churn frame's own columns */
		if (tcol || ecol || scol)
			return cli_usage_error("survival", "--time, --event and --status go with --csv");
		tcol = "time";
		ecol = "event";
		scol = "cause";
	}
	if (causes && (!tcol || !scol))
		return cli_usage_error("survival", "--causes with --csv: expected --time COL and --status COL");
	if (!causes && (!tcol || !ecol))
		return cli_usage_error("survival", "expected --time COL and --event COL");
	double width = 1, conf = 0.95;
	if (strcmp(bin, "week") == 0)
		width = 7;
	else if (strcmp(bin, "day") != 0 && (cli_parse_double("survival", "--bin", bin, &width) || !(width > 0)))
		return cli_usage_error("survival", "--bin: expected day, week or a number > 0, found \"%s\"", bin);
	if (confs && (cli_parse_double("survival", "--conf", confs, &conf) || !(conf > 0 && conf < 1)))
		return cli_usage_error("survival", "--conf: expected a level in (0, 1), found \"%s\"", confs);
	double at[64];
	size_t nat = 0;
	if (atl) {
		size_t n;
		char **list = cli_split(atl, &n);
		if (!list)
			return cli_usage_error("survival", "out of memory");
		if (n > 64) {
			cli_free_list(list);
			return cli_usage_error("survival", "--at: at most 64 times, found %zu", n);
		}
		for (size_t k = 0; k < n; k++)
			if (cli_parse_double("survival", "--at", list[k], &at[nat++])) {
				cli_free_list(list);
				return 2;
			}
		cli_free_list(list);
	}
	tn_error err = {0};
	if (causes) {
		const char *cw[3] = {tcol, scol, by};
		tn_frame *cf = csv ? tn_frame_read_csv(csv, cw, by ? 3 : 2, &err)
				   : surv_store_frame_causes(ctx, defn, as_of, all_spells, 1, &err);
		if (!cf)
			return cli_fail(&err);
		int crc = survival_causes(ctx, cf, csv ? csv : ctx->db_path, tcol, scol, by, at, nat, conf, !csv);
		tn_frame_free(cf);
		return crc;
	}
	surv_data d;
	double t0 = cli_now();
	const char *want[3] = {tcol, ecol, by};
	tn_frame *frame = csv ? tn_frame_read_csv(csv, want, by ? 3 : 2, &err)
			      : surv_store_frame(ctx, defn, as_of, all_spells, &err);
	if (!frame)
		return cli_fail(&err);
	if (!csv)
		csv = ctx->db_path;
	int lrc = surv_load_frame(frame, csv, tcol, ecol, by, &d, &err);
	tn_frame_free(frame);
	if (lrc)
		return cli_fail(&err);
	double t1 = cli_now();
	if (d.dropped && !ctx->quiet)
		fprintf(stderr,
			"tenure survival: n=%zu, %zu observation%s deleted due to missingness (blank or NA in %s, %s%s%s)\n",
			d.n, d.dropped, d.dropped == 1 ? "" : "s", tcol, ecol, by ? " or " : "", by ? by : "");
	if (d.n == 0) {
		surv_data_free(&d);
		tn_error_set(&err, TN_ERR_INPUT, "%s: no rows with a %s and %s", csv, tcol, ecol);
		return cli_fail(&err);
	}
	if (!atl) { /* a quarter, half and three quarters of the longest time */
		double tmax = 0;
		for (size_t i = 0; i < d.n; i++)
			tmax = d.time[i] > tmax ? d.time[i] : tmax;
		for (int k = 1; k <= 3; k++) {
			double v = round(tmax * k / 4);
			if (nat == 0 || v != at[nat - 1])
				at[nat++] = v;
		}
	}
	int ng = d.labels ? d.ngroups : 1;
	tn_km **km = calloc((size_t)ng, sizeof *km);
	tn_danger **dg = calloc((size_t)ng, sizeof *dg);
	tn_logrank lr = {0, 0, 1};
	double *obs = calloc((size_t)ng, sizeof *obs), *expd = calloc((size_t)ng, sizeof *expd);
	/* the log-rank test reads the same rows as the curves and nothing they
	 * write: it runs on the second core while this one fits the curves
	 * (the same results as one after the other; its outcome is looked at
	 * only where the sequential order would have run it) */
	lr_job job = {&d, ng, &lr, obs, expd, {0}, TN_OK};
	curve_work cw = {&d, ng, conf, width, km, dg, PTHREAD_MUTEX_INITIALIZER, 0, 0};
	helper_job hj = {ng > 1 && obs && expd ? &job : NULL, &cw, {ng, TN_OK, {0}}};
	curve_fail mine = {ng, TN_OK, {0}};
	pthread_t helper;
	int helper_started = 0;
	if (km && dg && ng > 1)
		helper_started = pthread_create(&helper, NULL, helper_run, &hj) == 0;
	int lr_started = helper_started && hj.lr;
	int rc = km && dg ? TN_OK : tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
	if (!rc)
		fit_curves(&cw, &mine);
	if (helper_started)
		pthread_join(helper, NULL);
	if (!rc) {
		curve_fail *first = hj.fail.g < mine.g ? &hj.fail : &mine;
		if (first->rc) {
			rc = first->rc;
			err = first->err;
		}
	}
	if (!rc && (!obs || !expd))
		rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
	tn_warnings w = {0};
	int have_lr = 0;
	if (!rc && ng > 1) {
		tn_error lerr = {0};
		if (!lr_started)
			lr_run(&job);
		int lrs = job.rc;
		lerr = job.err;
		if (lrs == TN_ERR_NUMERIC) /* the curves stand; say why the test is missing */
			tn_warn(&w, 0, "no log-rank test: its variance matrix is singular (at every event time nobody "
				       "else is at risk to compare with)");
		else if (lrs)
			rc = tn_error_set(&err, lrs, "%s", lerr.msg);
		else if (lr.df == 0)
			tn_warn(&w, 0, "no log-rank test: fewer than two groups have an expected event (customers at "
				       "risk when someone leaves), so there is nothing to compare");
		else
			have_lr = 1;
	}
	double t2 = cli_now();
	if (timing)
		fprintf(stderr, "timing: read %.3f s, compute %.3f s (%zu rows)\n", t1 - t0, t2 - t1, d.n);
	if (!rc) {
		if (ctx->format == OUT_JSON) {
			cJSON *root = cJSON_CreateObject();
			cli_warnings_json(root, &w);
			cJSON *groups = cJSON_AddArrayToObject(root, "groups");
			for (int g = 0; g < ng; g++)
				cJSON_AddItemToArray(groups, group_json(km[g], d.labels ? d.labels[g] : NULL, at, nat,
									dg[g], unit));
			cJSON *l = cJSON_AddObjectToObject(root, "logrank");
			if (have_lr) {
				cJSON_AddItemToObject(l, "chisq", num(lr.chisq));
				tn_json_add_num(l, "df", lr.df);
				cJSON_AddItemToObject(l, "p", num(lr.p));
				cJSON *o = cJSON_AddArrayToObject(l, "observed");
				cJSON *x = cJSON_AddArrayToObject(l, "expected");
				for (int g = 0; g < ng; g++) {
					cJSON_AddItemToArray(o, num(obs[g]));
					cJSON_AddItemToArray(x, num(expd[g]));
				}
			} else {
				cJSON_AddNullToObject(l, "chisq");
				cJSON_AddNullToObject(l, "df");
				cJSON_AddNullToObject(l, "p");
			}
			tn_json_add_num(root, "dropped", (double)d.dropped);
			cli_print_json(root);
			cJSON_Delete(root);
		} else {
			cli_warnings_print(ctx, &w);
			print_table(ctx, km, dg, &d, ng, at, nat, have_lr ? &lr : NULL, unit);
		}
	}
	for (int g = 0; km && g < ng; g++) {
		tn_km_free(km[g]);
		tn_danger_free(dg[g]);
	}
	free(km);
	free(dg);
	free(obs);
	free(expd);
	surv_data_free(&d);
	tn_warnings_free(&w);
	return rc ? cli_fail(&err) : 0;
}
