/*
 * value_sbg.c -- the shifted-beta-geometric (sBG) model of contractual
 * retention: Fader & Hardie (2007), "How to project customer retention",
 * Journal of Interactive Marketing 21(1), 76-90.  Each customer renews each
 * period with a fixed churn probability theta ~ Beta(alpha, beta):
 *   P(T = 1) = alpha/(alpha+beta),
 *   P(T = t) = (beta+t-2)/(alpha+beta+t-1) P(T = t-1)        (eq. 6)
 *   S(t)     = (beta+t-1)/(alpha+beta+t-1) S(t-1), S(0) = 1  (eq. 7)
 *   r_t      = (beta+t-1)/(alpha+beta+t-1)                   (eq. 8)
 * and the valuation of Fader & Hardie (2010), "Customer-base valuation in a
 * contractual setting: the perils of ignoring heterogeneity", Marketing
 * Science 29(1): E[CLV] = 2F1(1, beta; alpha+beta; 1/(1+d)) (eq. 5),
 * DERL(d | n) = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)) (eq. 6).
 */
#include <math.h>
#include "analyses/value_internal.h"

#define SBG_MAX_PERIODS 100000

double tn_value_sbg_loglik(double alpha, double beta, const double *alive, size_t np)
{
	double ll = 0, P = alpha / (alpha + beta);
	for (size_t t = 1; t < np; t++) {
		if (t > 1)
			P *= (beta + t - 2) / (alpha + beta + t - 1);
		double lost = alive[t - 1] - alive[t];
		if (lost > 0)
			ll += lost * log(P);
	}
	/* the survivors at the last period, from the recursion (eq. 7), not 1 - sum P */
	double Sl = tn_value_sbg_survival(alpha, beta, (double)(np - 1));
	if (alive[np - 1] > 0)
		ll += alive[np - 1] * log(Sl);
	return ll;
}

double tn_value_sbg_survival(double alpha, double beta, double t)
{
	return exp(tn_value_lbeta(alpha, beta + t) - tn_value_lbeta(alpha, beta));
}

double tn_value_sbg_retention(double alpha, double beta, double t)
{
	return (beta + t - 1) / (alpha + beta + t - 1);
}

double tn_value_sbg_derl(double alpha, double beta, double n, double d)
{
	return (beta + n - 1) / (alpha + beta + n - 1) * tn_value_hyp2f1(1, beta + n, alpha + beta + n, 1 / (1 + d));
}

double tn_value_sbg_elv(double alpha, double beta, double d)
{
	return tn_value_hyp2f1(1, beta, alpha + beta, 1 / (1 + d));
}

typedef struct sbg_data {
	const double *alive;
	size_t np;
} sbg_data;

static double sbg_ll(const double *p, void *vd)
{
	const sbg_data *d = vd;
	return tn_value_sbg_loglik(p[0], p[1], d->alive, d->np);
}

static double sbg_negll(unsigned n, const double *theta, double *grad, void *vd)
{
	(void)n;
	(void)grad;
	double p[2] = {exp(theta[0]), exp(theta[1])};
	double ll = sbg_ll(p, vd);
	return isfinite(ll) ? -ll : HUGE_VAL;
}

int tn_value_sbg_fit(const double *alive, size_t np, tn_value_fit *fit, tn_error *err)
{
	if (np < 2)
		return tn_error_set(err, TN_ERR_INPUT,
				    "sBG needs the cohort size and at least one later count of survivors, found %zu "
				    "number(s)",
				    np);
	if (np > SBG_MAX_PERIODS)
		return tn_error_set(err, TN_ERR_INPUT, "sBG: at most %d periods, found %zu", SBG_MAX_PERIODS, np);
	for (size_t t = 0; t < np; t++) {
		if (!(alive[t] >= 0) || !isfinite(alive[t]))
			return tn_error_set(err, TN_ERR_INPUT, "survivors: value %zu: expected a count >= 0, found %g",
					    t + 1, alive[t]);
		if (t > 0 && alive[t] > alive[t - 1])
			return tn_error_set(err, TN_ERR_INPUT,
					    "survivors: value %zu: expected at most the previous %g (survivors cannot "
					    "grow), found %g",
					    t + 1, alive[t - 1], alive[t]);
	}
	if (!(alive[0] > 0))
		return tn_error_set(err, TN_ERR_INPUT, "survivors: the cohort size (first value) must be > 0");
	if (alive[np - 1] == alive[0])
		return tn_error_set(err, TN_ERR_NUMERIC, "sBG cannot be identified: nobody churned");
	if (alive[np - 1] == 0 && alive[1] == 0)
		return tn_error_set(err, TN_ERR_NUMERIC, "sBG cannot be identified: everybody churned in period 1");
	sbg_data d = {alive, np};
	double theta[2] = {0, 0};
	int evals = 0, conv = 0;
	int rc = tn_vo_minimize(sbg_negll, &d, 2, theta, 0, &evals, &conv);
	*fit = (tn_value_fit){.model = TN_VALUE_SBG, .nparams = 2, .names = {"alpha", "beta"}};
	fit->params[0] = exp(theta[0]);
	fit->params[1] = exp(theta[1]);
	fit->se[2] = fit->se[3] = NAN;
	fit->n = (size_t)alive[0];
	fit->ndistinct = np;
	fit->evaluations = evals;
	fit->converged = conv;
	if (rc)
		return tn_error_set(err, TN_ERR_NUMERIC, "sBG: the likelihood is not finite at the start");
	fit->loglik = sbg_ll(fit->params, &d);
	tn_vo_se(sbg_ll, &d, 2, fit->params, fit->se);
	return TN_OK;
}
