/*
 * predict_gbdt.c -- gradient-boosted trees (Friedman 2001; Chen & Guestrin
 * 2016, XGBoost) through XGBoost's C API (Debian libxgboost-dev), objective
 * binary:logistic, exact tree method, single thread by default so results
 * are reproducible.  Reasons are SHAP values (Lundberg et al. 2020,
 * TreeSHAP) from XGBoosterPredictFromDMatrix with type 2 (contributions).
 */
#include "tenure/predict.h"
#include "base/alloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

struct tn_gbdt {
	BoosterHandle booster;
	size_t p;
};

tn_gbdt_params tn_gbdt_params_default(void)
{
	tn_gbdt_params par = {.rounds = 300,
			      .depth = 3,
			      .eta = 0.05,
			      .min_child_weight = 1.0,
			      .lambda = 1.0,
			      .subsample = 1.0,
			      .nthread = 1,
			      .seed = 0};
	return par;
}

/* XGBoost's last error, first line only (it appends a stack trace). */
static int xgb_fail(tn_error *err, const char *what)
{
	const char *m = XGBGetLastError();
	size_t len = strcspn(m, "\n");
	return tn_error_set(err, TN_ERR_NUMERIC, "xgboost: %s: %.*s", what, (int)(len < 400 ? len : 400), m);
}

/* An XGBoost DMatrix from N x P doubles (converted to float, XGBoost's type). */
static int make_dmatrix(const double *x, size_t n, size_t p, DMatrixHandle *dm, tn_error *err)
{
	if (n && p > SIZE_MAX / sizeof(float) / n)
		return tn_error_set(err, TN_ERR_NOMEM, "matrix too large");
	float *f = tn_malloc((n * p > 0 ? n * p : 1) * sizeof *f);
	if (!f)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory (%zu x %zu floats)", n, p);
	for (size_t i = 0; i < n * p; i++)
		f[i] = (float)x[i];
	int r = XGDMatrixCreateFromMat(f, (bst_ulong)n, (bst_ulong)p, NAN, dm);
	free(f);
	return r ? xgb_fail(err, "creating the matrix") : TN_OK;
}

void tn_gbdt_free(tn_gbdt *g)
{
	if (!g)
		return;
	if (g->booster)
		XGBoosterFree(g->booster);
	free(g);
}

int tn_gbdt_set_threads(tn_gbdt *g, int nthread, tn_error *err)
{
	char v[32];
	snprintf(v, sizeof v, "%d", nthread < 0 ? 0 : nthread);
	return XGBoosterSetParam(g->booster, "nthread", v) ? xgb_fail(err, "nthread") : TN_OK;
}

size_t tn_gbdt_nfeatures(const tn_gbdt *g)
{
	return g->p;
}

static int set_param(BoosterHandle b, const char *k, const char *v, tn_error *err)
{
	if (XGBoosterSetParam(b, k, v))
		return xgb_fail(err, k);
	return TN_OK;
}

int tn_gbdt_fit(const double *x, const double *y, size_t n, size_t p, const tn_gbdt_params *par,
		tn_gbdt **out, tn_error *err)
{
	*out = NULL;
	if (n == 0 || p == 0)
		return tn_error_set(err, TN_ERR_INPUT, "gradient boosting: no rows or no columns");
	if (par->rounds < 1 || par->rounds > 100000 || par->depth < 1 || par->depth > 30 ||
	    !(par->eta > 0 && par->eta <= 1) || par->nthread < 1)
		return tn_error_set(err, TN_ERR_USAGE,
				    "gradient boosting: expected 1 <= rounds <= 100000, 1 <= depth <= 30, "
				    "0 < eta <= 1, nthread >= 1");
	DMatrixHandle dm;
	int rc = make_dmatrix(x, n, p, &dm, err);
	if (rc)
		return rc;
	float *lab = tn_malloc(n * sizeof *lab);
	tn_gbdt *g = tn_calloc(1, sizeof *g);
	if (!lab || !g) {
		free(lab);
		free(g);
		XGDMatrixFree(dm);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		lab[i] = (float)y[i];
	g->p = p;
	if (XGDMatrixSetFloatInfo(dm, "label", lab, (bst_ulong)n))
		rc = xgb_fail(err, "setting labels");
	free(lab);
	if (!rc && XGBoosterCreate(&dm, 1, &g->booster))
		rc = xgb_fail(err, "creating the booster");
	char v[64];
	struct {
		const char *k;
		double v;
		int integer;
	} num[] = {{"max_depth", par->depth, 1},      {"eta", par->eta, 0},
		   {"min_child_weight", par->min_child_weight, 0}, {"lambda", par->lambda, 0},
		   {"subsample", par->subsample, 0},       {"nthread", par->nthread, 1},
		   {"seed", par->seed, 1}};
	if (!rc)
		rc = set_param(g->booster, "objective", "binary:logistic", err);
	if (!rc)
		rc = set_param(g->booster, "tree_method", "exact", err);
	if (!rc)
		rc = set_param(g->booster, "verbosity", "0", err);
	for (size_t k = 0; k < sizeof num / sizeof *num && !rc; k++) {
		if (num[k].integer)
			snprintf(v, sizeof v, "%d", (int)num[k].v);
		else
			snprintf(v, sizeof v, "%.17g", num[k].v);
		rc = set_param(g->booster, num[k].k, v, err);
	}
	for (int it = 0; it < par->rounds && !rc; it++)
		if (XGBoosterUpdateOneIter(g->booster, it, dm))
			rc = xgb_fail(err, "boosting");
	XGDMatrixFree(dm);
	if (rc) {
		tn_gbdt_free(g);
		return rc;
	}
	*out = g;
	return TN_OK;
}

static int predict(const tn_gbdt *g, const double *x, size_t n, int type, double *out, size_t width,
		   tn_error *err)
{
	DMatrixHandle dm;
	int rc = make_dmatrix(x, n, g->p, &dm, err);
	if (rc)
		return rc;
	char cfg[160];
	snprintf(cfg, sizeof cfg,
		 "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
		 "\"strict_shape\": false}",
		 type);
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;
	if (XGBoosterPredictFromDMatrix(g->booster, dm, cfg, &shape, &dim, &res)) {
		rc = xgb_fail(err, "predicting");
	} else {
		bst_ulong total = 1;
		for (bst_ulong d = 0; d < dim; d++)
			total *= shape[d];
		if (total != (bst_ulong)(n * width))
			rc = tn_error_set(err, TN_ERR_NUMERIC, "xgboost: unexpected prediction shape");
		else
			for (size_t i = 0; i < n * width; i++)
				out[i] = res[i];
	}
	XGDMatrixFree(dm);
	return rc;
}

/* Probabilities by XGBoost's in-place prediction on a dense float array
 * (no DMatrix to build: several times faster for scoring). */
int tn_gbdt_predict(const tn_gbdt *g, const double *x, size_t n, double *prob, tn_error *err)
{
	if (n == 0)
		return TN_OK;
	size_t p = g->p;
	if (p > SIZE_MAX / sizeof(float) / n)
		return tn_error_set(err, TN_ERR_NOMEM, "matrix too large");
	float *f = tn_malloc(n * p * sizeof *f);
	if (!f)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory (%zu x %zu floats)", n, p);
	for (size_t i = 0; i < n * p; i++)
		f[i] = (float)x[i];
	char arr[200];
	snprintf(arr, sizeof arr,
		 "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long long)(uintptr_t)f, n, p);
	const char *cfg = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
			  "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
			  "\"cache_id\": 0}";
	const bst_ulong *shape;
	bst_ulong dim;
	const float *res;
	int rc = TN_OK;
	if (XGBoosterPredictFromDense(g->booster, arr, cfg, NULL, &shape, &dim, &res))
		rc = xgb_fail(err, "predicting");
	else
		for (size_t i = 0; i < n; i++)
			prob[i] = res[i];
	free(f);
	return rc;
}

int tn_gbdt_contrib(const tn_gbdt *g, const double *x, size_t n, double *out, tn_error *err)
{
	return predict(g, x, n, 2, out, g->p + 1, err);
}

int tn_gbdt_to_json(const tn_gbdt *g, char **json, tn_error *err)
{
	*json = NULL;
	bst_ulong len;
	const char *buf;
	if (XGBoosterSaveModelToBuffer(g->booster, "{\"format\": \"json\"}", &len, &buf))
		return xgb_fail(err, "saving the model");
	char *s = tn_malloc((size_t)len + 1);
	if (!s)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	memcpy(s, buf, (size_t)len);
	s[len] = '\0';
	*json = s;
	return TN_OK;
}

int tn_gbdt_from_json(const char *json, size_t len, size_t p, tn_gbdt **out, tn_error *err)
{
	*out = NULL;
	tn_gbdt *g = tn_calloc(1, sizeof *g);
	if (!g)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	g->p = p;
	int rc = TN_OK;
	if (XGBoosterCreate(NULL, 0, &g->booster))
		rc = xgb_fail(err, "creating the booster");
	else if (XGBoosterLoadModelFromBuffer(g->booster, json, (bst_ulong)len))
		rc = xgb_fail(err, "loading the model");
	else
		rc = set_param(g->booster, "nthread", "1", err);
	if (rc) {
		tn_gbdt_free(g);
		return rc;
	}
	*out = g;
	return TN_OK;
}
