/*
 * value_optim.c -- maximum likelihood for the customer-base models:
 * minimisation over log-parameters with NLopt's L-BFGS (Liu & Nocedal 1989)
 * and analytic or central-difference gradients, Nelder-Mead (NLopt) as the
 * fallback when L-BFGS stops on round-off; standard errors from the inverse
 * of a numeric Hessian; and the compression of identical (x, t_x, T) rows
 * into weighted distinct rows (an open-addressing hash, first-seen order).
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <nlopt.h>
#include "base/hashmap.h"
#include "analyses/value_internal.h"
#include "base/alloc.h"
#include "base/linalg.h"
#include "tenure/warn.h"

#define LOG_BOUND 30.0 /* parameters between e^-30 and e^30 */

typedef struct numgrad {
	tn_vo_fn f;
	void *data;
	int evals;
} numgrad;

static double with_numgrad(unsigned n, const double *x, double *grad, void *data)
{
	numgrad *g = data;
	double f0 = g->f(n, x, NULL, g->data);
	g->evals++;
	if (grad) {
		double xx[8];
		memcpy(xx, x, n * sizeof *x);
		for (unsigned i = 0; i < n; i++) {
			double h = 1e-6 * (fabs(x[i]) > 1 ? fabs(x[i]) : 1);
			xx[i] = x[i] + h;
			double fp = g->f(n, xx, NULL, g->data);
			xx[i] = x[i] - h;
			double fm = g->f(n, xx, NULL, g->data);
			xx[i] = x[i];
			grad[i] = (fp - fm) / (2 * h);
			g->evals += 2;
		}
	}
	return f0;
}

/* Counts the calls of an objective that has its own gradient. */
static double counted(unsigned n, const double *x, double *grad, void *data)
{
	numgrad *g = data;
	g->evals++;
	return g->f(n, x, grad, g->data);
}

static nlopt_result run(nlopt_algorithm alg, tn_vo_fn f, void *data, unsigned n, double *theta,
			double *fmin)
{
	nlopt_opt o = nlopt_create(alg, n);
	if (!o)
		return NLOPT_OUT_OF_MEMORY;
	double lb[8], ub[8];
	for (unsigned i = 0; i < n; i++) {
		lb[i] = -LOG_BOUND;
		ub[i] = LOG_BOUND;
	}
	nlopt_set_lower_bounds(o, lb);
	nlopt_set_upper_bounds(o, ub);
	nlopt_set_min_objective(o, f, data);
	nlopt_set_ftol_rel(o, 1e-13);
	nlopt_set_xtol_rel(o, 1e-10);
	nlopt_set_maxeval(o, 5000);
	if (alg == NLOPT_LD_LBFGS)
		nlopt_set_vector_storage(o, 10);
	else
		nlopt_set_initial_step1(o, 0.1);
	nlopt_result r = nlopt_optimize(o, theta, fmin);
	nlopt_destroy(o);
	return r;
}

int tn_vo_minimize(tn_vo_fn f, void *data, unsigned n, double *theta, int has_grad, int *evals,
		   int *converged)
{
	numgrad g = {f, data, 0};
	double fmin;
	*converged = 0;
	*evals = 0;
	if (!isfinite(f(n, theta, NULL, data)))
		return -1;
	nlopt_result r = run(NLOPT_LD_LBFGS, has_grad ? counted : with_numgrad, &g, n, theta, &fmin);
	if (r < 0 || !isfinite(fmin)) {
		/* round-off limited or failed: polish without derivatives */
		r = run(NLOPT_LN_NELDERMEAD, counted, &g, n, theta, &fmin);
	}
	double grad[8];
	if (has_grad)
		counted(n, theta, grad, &g);
	else
		with_numgrad(n, theta, grad, &g);
	*evals = g.evals;
	double gmax = 0;
	int interior = 1;
	for (unsigned i = 0; i < n; i++) {
		if (fabs(grad[i]) > gmax)
			gmax = fabs(grad[i]);
		if (fabs(theta[i]) > LOG_BOUND - 1e-3)
			interior = 0;
	}
	*converged = r > 0 && interior && gmax < 1e-3 * (1 + fabs(fmin)) && isfinite(fmin);
	return isfinite(fmin) ? 0 : -1;
}

void tn_vo_se_grad(tn_vo_fn f, void *data, unsigned n, const double *theta, double *se)
{
	double H[64], work[64], gp[8], gm[8], q[8];
	for (unsigned i = 0; i < n; i++)
		se[i] = NAN;
	for (unsigned j = 0; j < n; j++) {
		double h = 1e-5;
		memcpy(q, theta, n * sizeof *q);
		q[j] = theta[j] + h;
		f(n, q, gp, data);
		q[j] = theta[j] - h;
		f(n, q, gm, data);
		for (unsigned i = 0; i < n; i++)
			H[i * n + j] = (gp[i] - gm[i]) / (2 * h);
	}
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
	if (tn_la_invert(H, n, 1e-300, work))
		return;
	/* at a stationary point the Hessian in p = e^theta is J^-1 H_theta J^-1, J = diag(p) */
	for (unsigned i = 0; i < n; i++)
		if (H[i * n + i] > 0)
			se[i] = exp(theta[i]) * sqrt(H[i * n + i]);
}

void tn_vo_se(tn_vo_ll ll, void *data, int n, const double *p, double *se)
{
	double h[8], q[8], H[64], work[64];
	for (int i = 0; i < n; i++) {
		h[i] = 1e-4 * fabs(p[i]);
		se[i] = NAN;
	}
	double f0 = ll(p, data);
	for (int i = 0; i < n; i++) {
		for (int j = i; j < n; j++) {
			double v;
			memcpy(q, p, (size_t)n * sizeof *p);
			if (i == j) {
				q[i] = p[i] + h[i];
				double fp = ll(q, data);
				q[i] = p[i] - h[i];
				double fm = ll(q, data);
				v = (fp - 2 * f0 + fm) / (h[i] * h[i]);
			} else {
				double f[4];
				for (int k = 0; k < 4; k++) {
					q[i] = p[i] + (k & 1 ? -h[i] : h[i]);
					q[j] = p[j] + (k & 2 ? -h[j] : h[j]);
					f[k] = ll(q, data);
				}
				v = (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j]);
			}
			H[i * n + j] = H[j * n + i] = -v;
		}
	}
	if (tn_la_invert(H, (size_t)n, 1e-300, work))
		return;
	for (int i = 0; i < n; i++)
		if (H[i * n + i] > 0)
			se[i] = sqrt(H[i * n + i]);
}

/* ---- degenerate fits ------------------------------------------------------ */

#define DIVERGE 1e3  /* beyond 1e3 or below 1e-3 with a standard error as large: running off */
#define SE_RATIO 10  /* a standard error 10 times the estimate: not identified */

int tn_vo_warnings(tn_warnings *w, const char *what, int np, const char *const *names, const double *p,
		   const double *se, const int *pairs, int npairs, int converged, double nobs, double nmin,
		   const char *nobs_what)
{
	int rc = TN_OK;
	if (nobs < nmin)
		return tn_warn(w, 1,
			       "%s: %g %s for %d parameters (at least %g needed): the data cannot identify the model; "
			       "its numbers mean nothing",
			       what, nobs, nobs_what, np, nmin);
	if (!converged)
		rc |= tn_warn(w, 1, "%s: the optimiser did not converge: the estimates are not a maximum of the likelihood",
			      what);
	int done[8] = {0};
	/* a mixing distribution whose two parameters run off together: its
	 * limit is a point mass (no heterogeneity), a model with one parameter
	 * less whose predictions are well defined */
	for (int k = 0; k < npairs; k++) {
		int i = pairs[3 * k], j = pairs[3 * k + 1], beta = pairs[3 * k + 2];
		if (!(p[i] > DIVERGE && p[j] > DIVERGE))
			continue;
		done[i] = done[j] = 1;
		rc |= tn_warn(w, 0,
			      "%s: %s = %.4g and %s = %.4g both run off to infinity: every customer looks alike here "
			      "(the %s mixing distribution collapses to its mean %s = %.4g), so these two parameters are "
			      "not identified, though the predictions are those of the limiting model",
			      what, names[i], p[i], names[j], p[j], beta ? "beta" : "gamma",
			      beta ? "probability" : "rate", beta ? p[i] / (p[i] + p[j]) : p[i] / p[j]);
	}
	for (int k = 0; k < np; k++) {
		if (done[k])
			continue;
		int off = (p[k] > DIVERGE || p[k] < 1 / DIVERGE) && !(se[k] < p[k]);
		if (off)
			rc |= tn_warn(w, 1,
				      "%s: %s = %.4g is running off to %s (a boundary of the model): the data do not "
				      "identify it",
				      what, names[k], p[k], p[k] > DIVERGE ? "infinity" : "0");
		else if (!(se[k] <= SE_RATIO * p[k]))
			rc |= tn_warn(w, 1,
				      "%s: %s = %.4g is not identified by the data (standard error %s%.4g%s)", what, names[k],
				      p[k], isfinite(se[k]) ? "" : "not finite: ", se[k],
				      isfinite(se[k]) ? ", over 10 times the estimate" : "");
	}
	return rc ? TN_ERR_NOMEM : TN_OK;
}

int tn_value_fit_warnings(const tn_value_fit *f, tn_warnings *w)
{
	/* mixing pairs {i, j, 1 = beta / 0 = gamma}: sBG (alpha, beta) ~ Beta;
	 * BG/NBD (r, alpha) ~ Gamma, (a, b) ~ Beta; Pareto/NBD (r, alpha),
	 * (s, beta) ~ Gamma; Gamma-Gamma (q, gamma) ~ Gamma */
	static const int sbg[] = {0, 1, 1}, bg[] = {0, 1, 0, 2, 3, 1}, pn[] = {0, 1, 0, 2, 3, 0}, gg[] = {1, 2, 0};
	char what[64];
	snprintf(what, sizeof what, "%s fit", tn_value_model_name(f->model));
	switch (f->model) {
	case TN_VALUE_SBG: /* the periods after the first count: two are needed for two parameters */
		return tn_vo_warnings(w, what, f->nparams, f->names, f->params, f->se, sbg, 1, f->converged,
				      (double)f->ndistinct - 1, 2, "period(s) of survivors");
	case TN_VALUE_GG:
		return tn_vo_warnings(w, what, f->nparams, f->names, f->params, f->se, gg, 1, f->converged,
				      (double)f->n, 3, "repeat buyer(s)");
	default:
		return tn_vo_warnings(w, what, f->nparams, f->names, f->params, f->se,
				      f->model == TN_VALUE_BGNBD ? bg : pn, 2, f->converged, (double)f->ndistinct, 4,
				      "distinct customer row(s)");
	}
}

/* ---- compression -------------------------------------------------------- */


void tn_vrows_free(tn_vrows *r)
{
	if (!r)
		return;
	free(r->x);
	memset(r, 0, sizeof *r);
}

int tn_vrows_make(const double *x, const double *t_x, const double *T, size_t n, tn_vrows *out,
		  tn_error *err)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return tn_error_set(err, TN_ERR_INPUT, "no customers");
	if (n > ((size_t)1 << 31))
		return tn_error_set(err, TN_ERR_NOMEM, "too many customers (%zu; the limit is 2^31)", n);
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] >= 0) || x[i] != floor(x[i]) || !(T[i] > 0) || !(t_x[i] >= 0) || !(t_x[i] <= T[i]) ||
		    (x[i] == 0 && t_x[i] != 0) || !isfinite(T[i]))
			return tn_error_set(err, TN_ERR_INPUT,
					    "row %zu: expected a whole x >= 0 and 0 <= t_x <= T with T > 0 "
					    "(t_x = 0 when x = 0), found x=%g t_x=%g T=%g",
					    i + 1, x[i], t_x[i], T[i]);
	}
	uint32_t *first = tn_malloc(n * sizeof *first);
	double *buf = tn_malloc(4 * n * sizeof *buf);
	const double *cols[3] = {x, t_x, T};
	if (!first || !buf || tn_hash_rows(cols, 3, n, first) == SIZE_MAX) {
		free(first);
		free(buf);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory compressing %zu customers", n);
	}
	double *ox = buf, *ot = buf + n, *oT = buf + 2 * n, *ow = buf + 3 * n;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		size_t f = first[i];
		assert(f <= i);
		if (f == i) { /* a new row: first[i] becomes its number among the distinct rows */
			first[i] = (uint32_t)m;
			ox[m] = x[i];
			ot[m] = t_x[i];
			oT[m] = T[i];
			ow[m] = 1;
			m++;
		} else { /* a repeat of row f < i, whose first[f] was renumbered above */
			ow[first[f]] += 1;
		}
	}
	free(first);
	/* pack the m rows contiguously */
	double *p = tn_malloc(4 * (m ? m : 1) * sizeof *p);
	if (!p) {
		free(buf);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory compressing %zu customers", n);
	}
	memcpy(p, ox, m * sizeof *p);
	memcpy(p + m, ot, m * sizeof *p);
	memcpy(p + 2 * m, oT, m * sizeof *p);
	memcpy(p + 3 * m, ow, m * sizeof *p);
	free(buf);
	out->n = m;
	out->x = p;
	out->t_x = p + m;
	out->T = p + 2 * m;
	out->w = p + 3 * m;
	out->total = (double)n;
	return TN_OK;
}
