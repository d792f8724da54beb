/*
 * predict_logit.c -- L2-regularised logistic regression fitted exactly by
 * Newton's method (iteratively reweighted least squares, McCullagh & Nelder
 * 1989, sec. 4.4) with step halving on the penalised objective.
 *
 * Inputs are standardised z_j = (x_j - mean_j) / sd_j (population sd, as
 * scikit-learn's StandardScaler); the objective is
 *   J(b0, b) = -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] + l2/2 sum_j b_j^2
 * with p_i = 1 / (1 + exp(-(b0 + z_i . b))): scikit-learn's
 * LogisticRegression with C = 1/l2.  The Newton system (Hessian
 * Z'WZ + l2 I, W = diag p(1-p)) is solved by Cholesky factorisation.
 */
#include "tenure/predict.h"
#include "base/alloc.h"
#include "base/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tn_logit_free(tn_logit *m)
{
	if (!m)
		return;
	free(m->beta);
	free(m->mean);
	free(m->sd);
	free(m);
}

/* log(1 + exp(t)) without overflow */
static double log1pexp(double t)
{
	return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

static double sigmoid(double t)
{
	if (t >= 0)
		return 1.0 / (1.0 + exp(-t));
	double e = exp(t);
	return e / (1.0 + e);
}

/* Penalised objective at coefficients c (c[0] intercept) and the
 * log-likelihood; z is the standardised n x p matrix. */
static double objective(const double *z, const double *y, size_t n, size_t p, const double *c,
			double l2, double *loglik)
{
	double ll = 0;
	for (size_t i = 0; i < n; i++) {
		const double *zi = z + i * p;
		double eta = c[0];
		for (size_t j = 0; j < p; j++)
			eta += zi[j] * c[j + 1];
		/* y log p + (1-y) log(1-p) = y eta - log(1 + e^eta) */
		ll += y[i] * eta - log1pexp(eta);
	}
	double pen = 0;
	for (size_t j = 0; j < p; j++)
		pen += c[j + 1] * c[j + 1];
	*loglik = ll;
	return -ll + 0.5 * l2 * pen;
}

int tn_logit_fit(const double *x, const double *y, size_t n, size_t p, double l2, tn_logit **out,
		 tn_error *err)
{
	*out = NULL;
	if (n == 0)
		return tn_error_set(err, TN_ERR_INPUT, "logistic regression: no rows");
	if (!(l2 >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "logistic regression: --l2 must be >= 0");
	size_t m = p + 1;
	tn_logit *g = tn_calloc(1, sizeof *g);
	double *z = NULL, *c = NULL, *cn = NULL, *grad = NULL, *h = NULL;
	int rc = TN_OK;
	if (!g || !(g->beta = tn_calloc(p ? p : 1, sizeof(double))) ||
	    !(g->mean = tn_calloc(p ? p : 1, sizeof(double))) || !(g->sd = tn_calloc(p ? p : 1, sizeof(double))) ||
	    (n && p > SIZE_MAX / sizeof(double) / n) || !(z = tn_malloc((n * p > 0 ? n * p : 1) * sizeof *z)) ||
	    !(c = tn_calloc(m, sizeof *c)) || !(cn = tn_calloc(m, sizeof *cn)) ||
	    !(grad = tn_calloc(m, sizeof *grad)) || !(h = tn_calloc(m * m, sizeof *h))) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory (logistic regression, %zu x %zu)", n, p);
		goto done;
	}
	g->p = p;
	g->l2 = l2;
	for (size_t j = 0; j < p; j++) {
		double s = 0, ss = 0;
		for (size_t i = 0; i < n; i++)
			s += x[i * p + j];
		double mu = s / (double)n;
		for (size_t i = 0; i < n; i++)
			ss += (x[i * p + j] - mu) * (x[i * p + j] - mu);
		g->mean[j] = mu;
		g->sd[j] = sqrt(ss / (double)n);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < p; j++)
			z[i * p + j] = g->sd[j] > 0 ? (x[i * p + j] - g->mean[j]) / g->sd[j] : 0.0;
	/* start from the intercept-only solution */
	double ybar = 0;
	for (size_t i = 0; i < n; i++)
		ybar += y[i];
	ybar /= (double)n;
	if (ybar > 0 && ybar < 1)
		c[0] = log(ybar / (1 - ybar));
	double ll, obj = objective(z, y, n, p, c, l2, &ll);
	int it, converged = 0;
	for (it = 1; it <= 100 && !converged; it++) {
		memset(grad, 0, m * sizeof *grad);
		memset(h, 0, m * m * sizeof *h);
		for (size_t i = 0; i < n; i++) {
			const double *zi = z + i * p;
			double eta = c[0];
			for (size_t j = 0; j < p; j++)
				eta += zi[j] * c[j + 1];
			double pi = sigmoid(eta), r = y[i] - pi, w = pi * (1 - pi);
			grad[0] += r;
			h[0] += w;
			for (size_t j = 0; j < p; j++) { /* lower triangle */
				double wz = w * zi[j];
				grad[j + 1] += r * zi[j];
				double *hr = h + (j + 1) * m;
				hr[0] += wz;
				for (size_t k = 0; k <= j; k++)
					hr[k + 1] += wz * zi[k];
			}
		}
		for (size_t j = 0; j < p; j++) {
			grad[j + 1] -= l2 * c[j + 1];
			h[(j + 1) * m + j + 1] += l2;
			if (!(g->sd[j] > 0))
				h[(j + 1) * m + j + 1] += 1.0; /* constant feature: keep it at 0 */
		}
		for (size_t j = 0; j < m; j++) /* symmetric: fill upper from lower */
			for (size_t k = j + 1; k < m; k++)
				h[j * m + k] = h[k * m + j];
		/* grad is now the Newton step direction after the solve */
		if (tn_la_cholesky(h, m, 0, NULL)) {
			rc = tn_error_set(err, TN_ERR_NUMERIC,
					  "logistic regression: the Hessian is singular (perfect separation, "
					  "or collinear columns with --l2 0)");
			goto done;
		}
		tn_la_cholesky_solve(h, m, grad);
		double step = 1.0, nobj = obj, nll = ll;
		for (int half = 0; half < 40; half++, step *= 0.5) {
			for (size_t j = 0; j < m; j++)
				cn[j] = c[j] + step * grad[j];
			nobj = objective(z, y, n, p, cn, l2, &nll);
			if (nobj <= obj + 1e-12 * fabs(obj))
				break;
		}
		double dmax = 0, cmax = 0;
		for (size_t j = 0; j < m; j++) {
			dmax = fmax(dmax, fabs(cn[j] - c[j]));
			cmax = fmax(cmax, fabs(cn[j]));
		}
		memcpy(c, cn, m * sizeof *c);
		obj = nobj;
		ll = nll;
		converged = dmax <= 1e-10 * (1.0 + cmax);
	}
	if (!converged) {
		rc = tn_error_set(err, TN_ERR_NUMERIC,
				  "logistic regression did not converge in 100 Newton steps "
				  "(perfect separation? try a larger --l2)");
		goto done;
	}
	g->intercept = c[0];
	memcpy(g->beta, c + 1, p * sizeof *c);
	g->iterations = it - 1;
	g->loglik = ll;
	*out = g;
	g = NULL;
done:
	tn_logit_free(g);
	free(z);
	free(c);
	free(cn);
	free(grad);
	free(h);
	return rc;
}

double tn_logit_predict(const tn_logit *m, const double *row)
{
	double eta = m->intercept;
	for (size_t j = 0; j < m->p; j++)
		if (m->sd[j] > 0)
			eta += m->beta[j] * (row[j] - m->mean[j]) / m->sd[j];
	return sigmoid(eta);
}

void tn_logit_contrib(const tn_logit *m, const double *row, double *out)
{
	for (size_t j = 0; j < m->p; j++)
		out[j] = m->sd[j] > 0 ? m->beta[j] * (row[j] - m->mean[j]) / m->sd[j] : 0.0;
}

void tn_logit_coef_raw(const tn_logit *m, double *out)
{
	out[0] = m->intercept;
	for (size_t j = 0; j < m->p; j++) {
		double b = m->sd[j] > 0 ? m->beta[j] / m->sd[j] : 0.0;
		out[j + 1] = b;
		out[0] -= b * m->mean[j];
	}
}
