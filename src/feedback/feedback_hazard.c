/*
 * feedback_hazard.c -- the hazard ratio of each feedback type and theme
 * (tn_fb_impact_hazard): customers who raised it against the rest, in a Cox
 * model (Efron ties) on the time from subscribing to churn under a churn
 * definition -- the same times `tenure survival` and `tenure drivers` use
 * (tn_churn_frame, first spell per customer).
 *
 * Answers given in exit surveys are left out: they are given on leaving, so
 * they describe why customers left, not who is about to.  Raising a theme
 * is treated as a trait known from the start, which flatters customers who
 * stayed long enough to write (immortal-time bias): read the ratio as an
 * association, docs/feedback.md says more.
 */
#include "tenure/feedback.h"
#include "base/alloc.h"
#include "tenure/churn.h"
#include "tenure/cox.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ext id -> row of the frame, by binary search over sorted ids */
typedef struct id_row {
	const char *id;
	size_t row;
} id_row;

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const id_row *)a)->id, ((const id_row *)b)->id);
}

/* one (type, theme, customer) of the labels, the customer as its index in
 * the sorted first spells */
typedef struct lab {
	char *type, *theme;
	size_t k;
} lab;

static void labs_free(lab *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].type);
		free(l[i].theme);
	}
	free(l);
}

int tn_fb_impact_hazard(tn_store *s, const tn_churn_def *def, const tn_fb_row *rows, size_t n, double *hr,
			double *lo, double *hi, tn_error *err)
{
	for (size_t i = 0; i < n; i++)
		hr[i] = lo[i] = hi[i] = NAN;
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME};
	tn_frame *f = tn_churn_frame(s, def, &fo, err);
	if (!f)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_fb_impact_hazard_frame(s, f, rows, n, hr, lo, hi, err);
	tn_frame_free(f);
	return rc;
}

int tn_fb_impact_hazard_frame(tn_store *s, const tn_frame *f, const tn_fb_row *rows, size_t n, double *hr,
			      double *lo, double *hi, tn_error *err)
{
	for (size_t i = 0; i < n; i++)
		hr[i] = lo[i] = hi[i] = NAN;
	int ccol = tn_frame_find(f, "customer"), scol = tn_frame_find(f, "spell"), tcol = tn_frame_find(f, "time"),
	    ecol = tn_frame_find(f, "event");
	int rc = TN_OK;
	id_row *ids = tn_calloc(f->nrows ? f->nrows : 1, sizeof *ids);
	double *x = tn_calloc(f->nrows ? f->nrows : 1, sizeof *x);
	double *tt = NULL, *ee = NULL;
	lab *labs = NULL;
	size_t nids = 0, nlabs = 0, cap = 0;
	tn_stmt *st = NULL;
	if (ccol < 0 || tcol < 0 || ecol < 0 || !ids || !x) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory (or an unexpected churn frame)");
		goto done;
	}
	for (size_t r = 0; r < f->nrows; r++) {
		if (scol >= 0 && f->cols[scol].is_numeric && f->cols[scol].num[r] != 1)
			continue;
		const char *id = f->cols[ccol].is_numeric ? NULL : f->cols[ccol].text[r];
		if (id)
			ids[nids++] = (id_row){id, r};
	}
	qsort(ids, nids, sizeof *ids, cmp_id);
	/* every (type, theme, customer) raised outside exit surveys, read once
	 * (one query instead of one per row; the rows then pick theirs) */
	st = tn_db_prepare(s,
			   "SELECT DISTINCT l.type, l.theme, c.ext_id FROM feedback_labels l JOIN feedback f ON "
			   "f.id = l.feedback_id JOIN customers c ON c.id = f.customer_id WHERE f.kind <> 'exit'",
			   err);
	if (!st) {
		rc = tn_error_code(err, TN_ERR_DB);
		goto done;
	}
	int step;
	while ((step = tn_db_step(st, "reading feedback labels", err)) == TN_DB_ROW) {
		id_row key = {tn_db_column_text(st, 2), 0};
		id_row *hit = key.id ? bsearch(&key, ids, nids, sizeof *ids, cmp_id) : NULL;
		if (!hit)
			continue;
		if (nlabs == cap) {
			size_t nc = cap ? 2 * cap : 256;
			lab *g = tn_realloc(labs, nc * sizeof *g);
			if (!g) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			labs = g;
			cap = nc;
		}
		const char *ty = tn_db_column_text(st, 0), *th = tn_db_column_text(st, 1);
		lab *l = &labs[nlabs];
		l->type = tn_strdup(ty ? ty : "");
		l->theme = th ? tn_strdup(th) : NULL;
		l->k = (size_t)(hit - ids);
		if (!l->type || (th && !l->theme)) {
			free(l->type);
			free(l->theme);
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		nlabs++;
	}
	if (!rc)
		rc = tn_db_step_end(step, err);
	if (rc)
		goto done;
	/* the frame's rows for first spells only: gather time/event once */
	tt = tn_malloc((nids ? nids : 1) * sizeof *tt);
	ee = tn_malloc((nids ? nids : 1) * sizeof *ee);
	if (!tt || !ee) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	const double *t = f->cols[tcol].num, *e = f->cols[ecol].num;
	for (size_t k = 0; k < nids; k++) {
		tt[k] = t[ids[k].row];
		ee[k] = e[ids[k].row];
	}
	/* every row's fit has the same times: sort them once; and none shows a
	 * concordance (tn_cox_opts: a third of each fit) */
	tn_cox_order *ord = NULL;
	tn_error oe = {0};
	if (nids >= 2 && tn_cox_order_new(tt, NULL, nids, &ord, &oe) != TN_OK)
		ord = NULL; /* each fit sorts, and says what is wrong, as before */
	for (size_t i = 0; i < n && rc == TN_OK; i++) {
		memset(x, 0, nids * sizeof *x);
		int all = strcmp(rows[i].period, "(all)") == 0;
		size_t with = 0;
		for (size_t j = 0; j < nlabs; j++) {
			const lab *l = &labs[j];
			if (strcmp(l->type, rows[i].segment) != 0 || (!all && (!l->theme || strcmp(l->theme, rows[i].period) != 0)))
				continue;
			if (x[l->k] == 0) {
				x[l->k] = 1;
				with++;
			}
		}
		if (with == 0 || with == nids)
			continue;
		const char *name = "raised";
		tn_cox_opts o = {TN_COX_EFRON, 0, 0, 0, &name, 1, ord};
		tn_cox *fit = NULL;
		tn_error ce = {0};
		/* a degenerate fit (not converged, or R's "coefficient may be
		 * infinite") leaves the ratio NaN rather than print 1e9 */
		if (tn_cox_fit(tt, ee, x, nids, 1, NULL, &o, &fit, &ce) == TN_OK && fit->converged && !fit->ninfinite) {
			hr[i] = exp(fit->coef[0]);
			lo[i] = fit->lower[0];
			hi[i] = fit->upper[0];
		}
		tn_cox_free(fit);
	}
	tn_cox_order_free(ord);
done:
	tn_db_finalize(st);
	labs_free(labs, nlabs);
	free(tt);
	free(ee);
	free(ids);
	free(x);
	return rc;
}
