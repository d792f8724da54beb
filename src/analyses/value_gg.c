/*
 * value_gg.c -- the Gamma-Gamma model of spend per transaction (Fader, Hardie
 * & Lee 2005b, "RFM and CLV: using iso-value curves for customer base
 * analysis", J. Marketing Research 42(4); Fader & Hardie note 025, "The
 * Gamma-Gamma model of monetary value"), and customer lifetime value.
 *
 * A customer's transactions are Gamma(p, nu) with nu ~ Gamma(q, gamma).  For
 * a customer with x transactions of mean m (note 025, eq. 1-3):
 *   LL = lnG(px+q) - lnG(px) - lnG(q) + q ln gamma + (px-1) ln m + px ln x
 *        - (px+q) ln(gamma + m x)
 * and E[M | x, m] = p (gamma + x m) / (p x + q - 1)  (note 025, eq. 5).
 * The gradient is analytic.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "analyses/value_internal.h"
#include "base/alloc.h"

const char *tn_value_model_name(tn_value_model m)
{
	switch (m) {
	case TN_VALUE_SBG: return "sbg";
	case TN_VALUE_BGNBD: return "bgnbd";
	case TN_VALUE_PNBD: return "pareto-nbd";
	case TN_VALUE_GG: return "gamma-gamma";
	}
	return "?";
}

int tn_value_model_parse(const char *s)
{
	static const struct { const char *name; tn_value_model m; } names[] = {
		{"sbg", TN_VALUE_SBG}, {"bgnbd", TN_VALUE_BGNBD}, {"bg-nbd", TN_VALUE_BGNBD},
		{"pareto-nbd", TN_VALUE_PNBD}, {"pnbd", TN_VALUE_PNBD}, {"paretonbd", TN_VALUE_PNBD},
		{"gamma-gamma", TN_VALUE_GG}, {"gg", TN_VALUE_GG}, {"gammagamma", TN_VALUE_GG}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return (int)names[i].m;
	return -1;
}

double tn_value_gg_ll1(const double *pp, double x, double m)
{
	double p = pp[0], q = pp[1], g = pp[2], px = p * x;
	return lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(g) + (px - 1) * log(m) + px * log(x) -
	       (px + q) * log(g + m * x);
}

typedef struct gg_data {
	const double *x, *m;
	double *lm;          /* ln m per row (data only: computed once) */
	size_t n;
	size_t xmax;         /* whole x up to xmax: per-x terms cached */
	double *cx, *cdp, *cdq; /* per x: lnG(px+q) - lnG(px) - lnG(q) + px ln x, d/dp, d/dq */
} gg_data;

/* Negative log-likelihood over log(p, q, gamma) with its analytic gradient;
 * the terms that depend on x only are computed once per distinct x. */
static double gg_negll(unsigned n, const double *theta, double *grad, void *vd)
{
	(void)n;
	const gg_data *d = vd;
	double p = exp(theta[0]), q = exp(theta[1]), g = exp(theta[2]);
	double lq = lgamma(q), pq = tn_value_digamma(q), lg = log(g);
	for (size_t x = 1; x <= d->xmax; x++) {
		double xx = (double)x, px = p * xx, lx = log(xx);
		double ppq = tn_value_digamma(px + q);
		d->cx[x] = lgamma(px + q) - lgamma(px) - lq + px * lx;
		d->cdp[x] = xx * (ppq - tn_value_digamma(px) + lx);
		d->cdq[x] = ppq - pq + lg;
	}
	double ll = 0, dp = 0, dq = 0, dg = 0;
	for (size_t i = 0; i < d->n; i++) {
		size_t xi = (size_t)d->x[i];
		double x = d->x[i], m = d->m[i], px = p * x, gm = g + m * x, lgm = log(gm);
		ll += d->cx[xi] + q * lg + (px - 1) * d->lm[i] - (px + q) * lgm;
		dp += d->cdp[xi] + x * (d->lm[i] - lgm);
		dq += d->cdq[xi] - lgm;
		dg += q / g - (px + q) / gm;
	}
	if (grad) {
		grad[0] = -dp * p;
		grad[1] = -dq * q;
		grad[2] = -dg * g;
	}
	return isfinite(ll) ? -ll : HUGE_VAL;
}

int tn_value_gg_fit(const double *x, const double *m, size_t n, tn_value_fit *fit, tn_error *err)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] >= 0) || !isfinite(x[i]) || !(m[i] >= 0) || !isfinite(m[i]))
			return tn_error_set(err, TN_ERR_INPUT,
					    "row %zu: expected frequency >= 0 and monetary value >= 0, found %g and %g",
					    i + 1, x[i], m[i]);
		if (x[i] > 0 && m[i] > 0)
			k++;
	}
	if (k < 2)
		return tn_error_set(err, TN_ERR_NUMERIC,
				    "Gamma-Gamma cannot be identified: it needs at least 2 repeat buyers with a "
				    "positive spend, found %zu",
				    k);
	double xmax = 0;
	for (size_t i = 0; i < n; i++) {
		if (x[i] != floor(x[i]))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected a whole frequency, found %g", i + 1, x[i]);
		if (x[i] > xmax)
			xmax = x[i];
	}
	if (xmax > 1e7)
		return tn_error_set(err, TN_ERR_INPUT, "a frequency of %g is beyond 10^7", xmax);
	size_t nx = (size_t)xmax + 1;
	double *buf = tn_malloc((3 * k + 3 * nx) * sizeof *buf);
	if (!buf)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	gg_data d = {buf, buf + k, buf + 2 * k, k, (size_t)xmax, buf + 3 * k, buf + 3 * k + nx, buf + 3 * k + 2 * nx};
	double msum = 0;
	for (size_t i = 0, j = 0; i < n; i++)
		if (x[i] > 0 && m[i] > 0) {
			buf[j] = x[i];
			buf[k + j] = m[i];
			buf[2 * k + j] = log(m[i]);
			msum += m[i];
			j++;
		}
	/* start: p = q = 1... and gamma at the mean spend */
	double theta[3] = {0, 0, log(msum / (double)k)};
	int evals = 0, conv = 0;
	int rc = tn_vo_minimize(gg_negll, &d, 3, theta, 1, &evals, &conv);
	*fit = (tn_value_fit){.model = TN_VALUE_GG, .nparams = 3, .names = {"p", "q", "gamma"}};
	for (int i = 0; i < 3; i++)
		fit->params[i] = exp(theta[i]);
	fit->se[3] = NAN;
	fit->n = k;
	fit->ndistinct = k;
	fit->evaluations = evals;
	fit->converged = conv;
	if (rc == 0) {
		fit->loglik = -gg_negll(3, theta, NULL, &d);
		tn_vo_se_grad(gg_negll, &d, 3, theta, fit->se);
	}
	free(buf);
	if (rc)
		return tn_error_set(err, TN_ERR_NUMERIC, "Gamma-Gamma: the likelihood is not finite at the start");
	return TN_OK;
}

double tn_value_gg_mean(const double *pp, double x, double m)
{
	double p = pp[0], q = pp[1], g = pp[2];
	if (x <= 0 || !(m > 0))
		return p * g / (q - 1);
	return p * (g + x * m) / (p * x + q - 1);
}

#define CLV_PATH TN_VBG_MAX_H

double tn_vclv_path(const double *E, int H, double d)
{
	double clv = 0, df = 1, step = 1 / (1 + d);
	for (int k = 1; k <= H; k++) {
		df *= step;
		clv += (E[k] - E[k - 1]) * df;
	}
	return clv;
}

double tn_value_clv(tn_value_model model, const double *tp, double x, double t_x, double T, double spend,
		    int horizon, double discount, double margin, double *etx)
{
	if (horizon <= CLV_PATH) {
		double path[CLV_PATH + 1];
		if (model == TN_VALUE_PNBD)
			tn_value_pnbd_expected_path(tp, x, t_x, T, horizon, path);
		else
			tn_value_bgnbd_expected_path(tp, x, t_x, T, horizon, path);
		if (etx)
			*etx = path[horizon];
		return tn_vclv_path(path, horizon, discount) * spend * margin;
	}
	double prev = 0, clv = 0, df = 1, step = 1 / (1 + discount);
	for (int k = 1; k <= horizon; k++) {
		double e = model == TN_VALUE_PNBD ? tn_value_pnbd_expected(tp, x, t_x, T, k)
						  : tn_value_bgnbd_expected(tp, x, t_x, T, k);
		df *= step;
		clv += (e - prev) * df;
		prev = e;
	}
	if (etx)
		*etx = prev;
	return clv * spend * margin;
}
