/*
 * predict_backtest.c -- an honest test of a churn-risk model on the store:
 * fit on the customers live at t - h with the churn they showed in
 * (t - h, t] (all known at t), then score the customers live at t and
 * compare with the churn they showed in (t, t + h].  Nothing the model sees
 * comes from after its own cut-off (docs/predict.md).
 */
#include "tenure/predict.h"
#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tn_pred_backtest_run(struct tn_store *s, const tn_pred_features_opts *o,
			 const tn_pred_options *opt, tn_pred_backtest *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	tn_pred_features_opts otr = *o;
	otr.as_of = o->as_of - (int64_t)(o->horizon_days * 86400.0);
	tn_frame *tr = NULL, *te = NULL;
	tn_pred_model *m = NULL;
	double *risk = NULL, *y = NULL;
	int rc = tn_pred_features(s, &otr, &tr, err);
	if (!rc)
		rc = tn_pred_features(s, o, &te, err);
	if (!rc && (tr->nrows == 0 || te->nrows == 0))
		rc = tn_error_set(err, TN_ERR_INPUT,
				  "backtest: no live customers at the training cut-off (%zu) or the test cut-off (%zu)",
				  tr->nrows, te->nrows);
	tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
	if (!rc)
		rc = tn_pred_train(tr, &spec, opt, &m, err);
	if (!rc && !(risk = tn_malloc(te->nrows * sizeof *risk)))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!rc)
		rc = tn_pred_score(m, te, risk, err);
	if (!rc)
		rc = tn_pred_target(te, "churned", "1", &y, err);
	if (!rc) {
		size_t n = te->nrows;
		out->ntrain = tr->nrows;
		out->ntest = n;
		int j = tn_frame_find(tr, "churned");
		for (size_t i = 0; i < tr->nrows; i++)
			out->train_rate += tr->cols[j].num[i];
		out->train_rate /= (double)tr->nrows;
		for (size_t i = 0; i < n; i++)
			out->test_rate += y[i];
		out->test_rate /= (double)n;
		rc = tn_metrics_auc(risk, y, n, &out->auc, err);
		if (!rc)
			rc = tn_metrics_avg_precision(risk, y, n, &out->pr_auc, err);
		if (!rc)
			rc = tn_metrics_top(risk, y, n, 0.10, &out->lift_top10, &out->captured_top10, err);
		out->brier = tn_metrics_brier(risk, y, n);
	}
	free(risk);
	free(y);
	tn_pred_model_free(m);
	tn_frame_free(tr);
	tn_frame_free(te);
	return rc;
}
