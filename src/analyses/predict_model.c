/*
 * predict_model.c -- a churn-risk model as a whole: encoding + logistic
 * regression or boosted trees; training on a frame, scoring with reasons,
 * stratified folds and k-fold cross-validation (see include/tenure/predict.h
 * part 5 and docs/predict.md).  Saving and loading live in predict_io.c.
 */
#include "tenure/predict.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

tn_pred_options tn_pred_options_default(void)
{
	tn_pred_options o = {.kind = TN_PRED_LOGISTIC, .l2 = 1.0, .gbdt = tn_gbdt_params_default()};
	return o;
}

int tn_pred_kind_parse(const char *name)
{
	if (strcmp(name, "logistic") == 0)
		return TN_PRED_LOGISTIC;
	if (strcmp(name, "gbdt") == 0)
		return TN_PRED_GBDT;
	return -1;
}

const char *tn_pred_kind_name(tn_pred_kind k)
{
	return k == TN_PRED_GBDT ? "gbdt" : "logistic";
}

void tn_pred_model_free(tn_pred_model *m)
{
	if (!m)
		return;
	tn_pred_encoding_free(m->enc);
	tn_logit_free(m->logit);
	tn_gbdt_free(m->gbdt);
	free(m->target);
	free(m->positive);
	free(m->id);
	free(m);
}

static char *dup_or_null(const char *s)
{
	return s ? tn_strdup(s) : NULL;
}

/* Fit options O to the N x P matrix X. */
static int fit(const double *x, const double *y, size_t n, size_t p, const tn_pred_options *o,
	       tn_logit **lg, tn_gbdt **gb, tn_error *err)
{
	*lg = NULL;
	*gb = NULL;
	if (o->kind == TN_PRED_GBDT)
		return tn_gbdt_fit(x, y, n, p, &o->gbdt, gb, err);
	return tn_logit_fit(x, y, n, p, o->l2, lg, err);
}

int tn_pred_train(const tn_frame *f, const tn_pred_spec *spec, const tn_pred_options *o,
		  tn_pred_model **out, tn_error *err)
{
	*out = NULL;
	const char *ex[64 + 2];
	size_t nex = 0;
	if (spec->ndrop > 64)
		return tn_error_set(err, TN_ERR_USAGE, "--drop: at most 64 columns");
	ex[nex++] = spec->target;
	if (spec->id)
		ex[nex++] = spec->id;
	for (size_t k = 0; k < spec->ndrop; k++)
		ex[nex++] = spec->drop[k];
	double *y = NULL, *x = NULL;
	tn_pred_model *m = tn_calloc(1, sizeof *m);
	if (!m)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	m->kind = o->kind;
	int rc = tn_pred_target(f, spec->target, spec->positive, &y, err);
	if (!rc) { /* one class only: nothing tells churners from the others */
		size_t npos = 0;
		for (size_t i = 0; i < f->nrows; i++)
			npos += y[i] > 0.5;
		if (f->nrows == 0)
			rc = tn_error_set(err, TN_ERR_INPUT, "no rows to learn from");
		else if (npos == 0 || npos == f->nrows)
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "nothing to learn from: %s of the %zu rows %s churned (%s); a model needs "
					  "both churners and stayers",
					  npos ? "all" : "none", f->nrows, npos ? "have" : "has", spec->target);
	}
	if (!rc)
		rc = tn_pred_encoding_fit(f, ex, nex, &m->enc, err);
	if (!rc)
		rc = tn_pred_encode(m->enc, f, &x, err);
	if (!rc)
		rc = fit(x, y, f->nrows, m->enc->p, o, &m->logit, &m->gbdt, err);
	if (!rc) {
		m->target = tn_strdup(spec->target);
		m->positive = dup_or_null(spec->positive);
		m->id = dup_or_null(spec->id);
		if (!m->target || (spec->positive && !m->positive) || (spec->id && !m->id))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	free(x);
	free(y);
	if (rc) {
		tn_pred_model_free(m);
		return rc;
	}
	*out = m;
	return TN_OK;
}

/* rows encoded at a time: logistic works row by row (a small block stays in
 * cache); XGBoost's in-place prediction pays a fixed cost per call */
#define SCORE_BLOCK_LOGIT 16384
#define SCORE_BLOCK_GBDT 131072

int tn_pred_score(const tn_pred_model *m, const tn_frame *f, double *risk, tn_error *err)
{
	size_t n = f->nrows, p = m->enc->p;
	size_t blk = m->kind == TN_PRED_GBDT ? SCORE_BLOCK_GBDT : SCORE_BLOCK_LOGIT;
	if (n < blk)
		blk = n;
	double *x = tn_malloc(blk * p > 0 ? blk * p * sizeof *x : 1);
	size_t *rows = tn_malloc((blk ? blk : 1) * sizeof *rows);
	int rc = x && rows ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t at = 0; at < n && !rc; at += blk) {
		size_t k = n - at < blk ? n - at : blk;
		for (size_t r = 0; r < k; r++)
			rows[r] = at + r;
		rc = tn_pred_encode_rows(m->enc, f, rows, k, x, err);
		if (!rc && m->kind == TN_PRED_GBDT)
			rc = tn_gbdt_predict(m->gbdt, x, k, risk + at, err);
		else if (!rc)
			for (size_t r = 0; r < k; r++)
				risk[at + r] = tn_logit_predict(m->logit, x + r * p);
	}
	free(rows);
	free(x);
	return rc;
}

int tn_pred_explain(const tn_pred_model *m, const tn_frame *f, const size_t *rows, size_t n,
		    double *contrib, tn_error *err)
{
	size_t p = m->enc->p, ns = m->enc->nsrc;
	if (n && (p + 1) > SIZE_MAX / sizeof(double) / n)
		return tn_error_set(err, TN_ERR_NOMEM, "contribution matrix too large");
	double *x = tn_malloc(n * p > 0 ? n * p * sizeof *x : 1);
	double *c = tn_malloc(n * (p + 1) > 0 ? n * (p + 1) * sizeof *c : 1);
	int rc = x && c ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory (contributions)");
	if (!rc)
		rc = tn_pred_encode_rows(m->enc, f, rows, n, x, err);
	if (!rc && m->kind == TN_PRED_GBDT)
		rc = tn_gbdt_contrib(m->gbdt, x, n, c, err);
	else if (!rc)
		for (size_t i = 0; i < n; i++)
			tn_logit_contrib(m->logit, x + i * p, c + i * (p + 1));
	for (size_t i = 0; i < n && !rc; i++) {
		double *ci = contrib + i * ns;
		memset(ci, 0, ns * sizeof *ci);
		for (size_t j = 0; j < p; j++)
			ci[m->enc->feature_src[j]] += c[i * (p + 1) + j];
	}
	free(x);
	free(c);
	return rc;
}

int tn_pred_folds(const double *y, size_t n, int k, uint64_t seed, int *fold, tn_error *err)
{
	if (k < 2 || k > 64)
		return tn_error_set(err, TN_ERR_USAGE, "--folds: expected 2..64, found %d", k);
	size_t *idx = tn_malloc((n ? n : 1) * sizeof *idx);
	if (!idx)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	uint64_t st = seed;
	size_t deal = 0; /* one round-robin across both classes: fold sizes differ by <= 1 */
	for (int cls = 0; cls <= 1; cls++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if ((y[i] > 0.5) == cls)
				idx[m++] = i;
		for (size_t i = m; i > 1; i--) { /* Fisher-Yates */
			size_t r = (size_t)(tn_rng_splitmix64(&st) % (uint64_t)i);
			size_t t = idx[i - 1];
			idx[i - 1] = idx[r];
			idx[r] = t;
		}
		for (size_t i = 0; i < m; i++)
			fold[idx[i]] = (int)(deal++ % (size_t)k);
	}
	free(idx);
	return TN_OK;
}

void tn_pred_cv_free(tn_pred_cv *cv)
{
	free(cv->oof);
	free(cv->fold);
	cv->oof = NULL;
	cv->fold = NULL;
}

/* Fit on the rows outside fold F, predict the rows inside it. */
static int cv_fold(const double *x, const double *y, size_t n, size_t p, const tn_pred_options *o,
		   const int *fold, int f, double *oof, double *secs, tn_error *err)
{
	size_t ntr = 0, nte = 0;
	for (size_t i = 0; i < n; i++)
		fold[i] == f ? nte++ : ntr++;
	double *xtr = tn_malloc((ntr * p > 0 ? ntr * p : 1) * sizeof *xtr);
	double *ytr = tn_malloc((ntr ? ntr : 1) * sizeof *ytr);
	double *xte = tn_malloc((nte * p > 0 ? nte * p : 1) * sizeof *xte);
	double *pte = tn_malloc((nte ? nte : 1) * sizeof *pte);
	int rc = TN_OK;
	if (!xtr || !ytr || !xte || !pte)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory (cross-validation)");
	size_t a = 0, b = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (fold[i] == f) {
			memcpy(xte + b * p, x + i * p, p * sizeof *x);
			b++;
		} else {
			memcpy(xtr + a * p, x + i * p, p * sizeof *x);
			ytr[a++] = y[i];
		}
	}
	tn_logit *lg = NULL;
	tn_gbdt *gb = NULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!rc)
		rc = fit(xtr, ytr, ntr, p, o, &lg, &gb, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	if (!rc && gb)
		rc = tn_gbdt_predict(gb, xte, nte, pte, err);
	else if (!rc)
		for (size_t i = 0; i < nte; i++)
			pte[i] = tn_logit_predict(lg, xte + i * p);
	b = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (fold[i] == f)
			oof[i] = pte[b++];
	tn_logit_free(lg);
	tn_gbdt_free(gb);
	free(xtr);
	free(ytr);
	free(xte);
	free(pte);
	return rc;
}

int tn_pred_cross_validate(const double *x, const double *y, size_t n, size_t p,
			   const tn_pred_options *o, int k, uint64_t seed, tn_pred_cv *cv, tn_error *err)
{
	memset(cv, 0, sizeof *cv);
	cv->k = k;
	cv->n = n;
	for (size_t i = 0; i < n; i++)
		cv->npos += y[i] > 0.5;
	if (cv->npos < (size_t)k || n - cv->npos < (size_t)k)
		return tn_error_set(err, TN_ERR_INPUT,
				    "cross-validation needs at least %d rows of each class (found %zu positive, "
				    "%zu negative)",
				    k, cv->npos, n - cv->npos);
	cv->oof = tn_malloc((n ? n : 1) * sizeof *cv->oof);
	cv->fold = tn_malloc((n ? n : 1) * sizeof *cv->fold);
	double *sy = tn_malloc((n ? n : 1) * sizeof *sy), *ss = tn_malloc((n ? n : 1) * sizeof *ss);
	int rc = TN_OK;
	if (!cv->oof || !cv->fold || !sy || !ss)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = tn_pred_folds(y, n, k, seed, cv->fold, err);
	for (int f = 0; f < k && !rc; f++)
		rc = cv_fold(x, y, n, p, o, cv->fold, f, cv->oof, &cv->fit_seconds, err);
	double sum = 0;
	for (int f = 0; f < k && !rc; f++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (cv->fold[i] == f)
				ss[m] = cv->oof[i], sy[m++] = y[i];
		rc = tn_metrics_auc(ss, sy, m, &cv->auc_folds[f], err);
		sum += cv->auc_folds[f];
	}
	if (!rc) {
		cv->auc = sum / k;
		rc = tn_metrics_auc(cv->oof, y, n, &cv->auc_pooled, err);
	}
	if (!rc)
		rc = tn_metrics_avg_precision(cv->oof, y, n, &cv->pr_auc, err);
	if (!rc)
		rc = tn_metrics_top(cv->oof, y, n, 0.10, &cv->lift_top10, &cv->captured_top10, err);
	if (!rc)
		rc = tn_metrics_calibration(cv->oof, y, n, 10, cv->calib, err);
	cv->brier = tn_metrics_brier(cv->oof, y, n);
	free(sy);
	free(ss);
	if (rc)
		tn_pred_cv_free(cv);
	return rc;
}
