/*
 * predict_metrics.c -- how good a churn-risk score is: ROC AUC with ties
 * (Mann & Whitney 1947; Hanley & McNeil 1982), average precision (the
 * step-wise area under the precision-recall curve, as scikit-learn's
 * average_precision_score), Brier score (Brier 1950), lift and capture in the
 * top of the ranking, and a calibration table by equal-size groups.
 */
#include "tenure/predict.h"
#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
	double s;
	size_t i;
} ranked;

/* descending score, ties by row order (stable) */
static int cmp_desc(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->s != y->s)
		return x->s > y->s ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static ranked *sorted_desc(const double *score, size_t n, tn_error *err)
{
	ranked *r = tn_malloc((n ? n : 1) * sizeof *r);
	if (!r) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory (sorting %zu scores)", n);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		r[i].s = score[i], r[i].i = i;
	qsort(r, n, sizeof *r, cmp_desc);
	return r;
}

int tn_metrics_auc(const double *score, const double *y, size_t n, double *out, tn_error *err)
{
	*out = NAN;
	ranked *r = sorted_desc(score, n, err);
	if (!r)
		return TN_ERR_NOMEM;
	/* walk groups of tied scores from the top; a negative counts the
	 * positives scored above it, plus one half of those tied with it */
	double npos = 0, nneg = 0, pairs = 0;
	for (size_t a = 0; a < n;) {
		size_t b = a;
		double gp = 0, gn = 0;
		while (b < n && r[b].s == r[a].s) {
			if (y[r[b].i] > 0.5)
				gp++;
			else
				gn++;
			b++;
		}
		pairs += gn * npos + 0.5 * gn * gp;
		npos += gp;
		nneg += gn;
		a = b;
	}
	free(r);
	if (npos > 0 && nneg > 0)
		*out = pairs / (npos * nneg);
	return TN_OK;
}

int tn_metrics_avg_precision(const double *score, const double *y, size_t n, double *out, tn_error *err)
{
	*out = NAN;
	ranked *r = sorted_desc(score, n, err);
	if (!r)
		return TN_ERR_NOMEM;
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += y[i] > 0.5;
	double tp = 0, seen = 0, prev_recall = 0, ap = 0;
	for (size_t a = 0; a < n;) {
		size_t b = a;
		while (b < n && r[b].s == r[a].s) {
			tp += y[r[b].i] > 0.5;
			seen++;
			b++;
		}
		double recall = total > 0 ? tp / total : 0, precision = tp / seen;
		ap += (recall - prev_recall) * precision;
		prev_recall = recall;
		a = b;
	}
	free(r);
	if (total > 0)
		*out = ap;
	return TN_OK;
}

double tn_metrics_brier(const double *prob, const double *y, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (prob[i] - y[i]) * (prob[i] - y[i]);
	return n ? s / (double)n : NAN;
}

int tn_metrics_top(const double *score, const double *y, size_t n, double frac, double *lift,
		   double *captured, tn_error *err)
{
	*lift = *captured = NAN;
	if (n == 0 || !(frac > 0 && frac <= 1))
		return TN_OK;
	ranked *r = sorted_desc(score, n, err);
	if (!r)
		return TN_ERR_NOMEM;
	size_t top = (size_t)ceil(frac * (double)n - 1e-9);
	if (top < 1)
		top = 1;
	double total = 0, hit = 0;
	for (size_t i = 0; i < n; i++) {
		total += y[r[i].i] > 0.5;
		if (i < top)
			hit += y[r[i].i] > 0.5;
	}
	free(r);
	if (total > 0) {
		*captured = hit / total;
		*lift = (hit / (double)top) / (total / (double)n);
	}
	return TN_OK;
}

int tn_metrics_calibration(const double *prob, const double *y, size_t n, size_t nbins,
			   tn_metrics_bin *bins, tn_error *err)
{
	ranked *r = sorted_desc(prob, n, err);
	if (!r)
		return TN_ERR_NOMEM;
	for (size_t k = 0; k < nbins; k++) {
		/* ascending: bin 0 holds the lowest predictions */
		size_t lo = k * n / nbins, hi = (k + 1) * n / nbins;
		double sp = 0, sy = 0;
		for (size_t t = lo; t < hi; t++) {
			const ranked *e = &r[n - 1 - t];
			sp += e->s;
			sy += y[e->i];
		}
		bins[k].n = hi - lo;
		bins[k].mean_pred = hi > lo ? sp / (double)(hi - lo) : NAN;
		bins[k].observed = hi > lo ? sy / (double)(hi - lo) : NAN;
	}
	free(r);
	return TN_OK;
}
