/*
 * value_pnbd.c -- the Pareto/NBD model of Schmittlein, Morrison & Colombo
 * (1987), "Counting your customers: who are they and what will they do
 * next?", Management Science 33(1), in the form of Fader & Hardie (2005),
 * "A note on deriving the Pareto/NBD model and related expressions" (note
 * 008).  Purchases at Poisson rate lambda ~ Gamma(r, alpha) while alive; an
 * exponential lifetime with rate mu ~ Gamma(s, beta).
 *
 * Likelihood (note 008, eq. 22), with ln A0 from eq. 19-20:
 *   L = G(r+x) alpha^r beta^s / G(r) *
 *       [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0 ]
 *   alpha >= beta: A0 = F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
 *                     - F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T))   / (alpha+T)^(r+s+x)
 *   alpha <  beta: A0 = F(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+t_x)) / (beta+t_x)^(r+s+x)
 *                     - F(r+s+x, r+x; r+s+x+1; (beta-alpha)/(beta+T))   / (beta+T)^(r+s+x)
 * computed in logs (log-sum-exp, log-difference-exp).  Gradients are central
 * differences; rows are compressed first and summed on two threads.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include "analyses/value_internal.h"

/* ln 2F1(a, b; a+1; z) through Euler's transformation (A&S 15.3.3):
 * (1-z)^(1-b) 2F1(1, a+1-b; a+1; z), whose terms are below z^k, so heavy
 * buyers (large x, so large a and b) do not overflow the series. */
static double log_f(double a, double b, double z)
{
	return (1 - b) * log1p(-z) + log(tn_value_hyp2f1(1, a + 1 - b, a + 1, z));
}

/* ln A0 (note 008 eq. 19-20) */
static double log_A0(const double *p, double x, double t_x, double T)
{
	double r = p[0], alpha = p[1], s = p[2], beta = p[3];
	double rsx = r + s + x, b2, mx;
	if (alpha >= beta) {
		b2 = s + 1;
		mx = alpha;
	} else {
		b2 = r + x;
		mx = beta;
	}
	double dd = fabs(alpha - beta);
	double p1 = log_f(rsx, b2, dd / (mx + t_x)) - rsx * log(mx + t_x);
	double p2 = log_f(rsx, b2, dd / (mx + T)) - rsx * log(mx + T);
	return tn_value_logsubexp(p1, p2);
}

double tn_value_pnbd_ll1(const double *p, double x, double t_x, double T)
{
	double r = p[0], alpha = p[1], s = p[2], beta = p[3];
	double A1 = lgamma(r + x) - lgamma(r) + r * log(alpha) + s * log(beta);
	double la0 = log_A0(p, x, t_x, T);
	double A2 = tn_value_logaddexp(-(r + x) * log(alpha + T) - s * log(beta + T),
				       log(s) + la0 - log(r + s + x));
	return A1 + A2;
}

typedef struct pn_block {
	const tn_vrows *R;
	const double *p;
	size_t lo, hi;
	double ll;
} pn_block;

static void *pn_rows(void *arg)
{
	pn_block *B = arg;
	double ll = 0;
	for (size_t i = B->lo; i < B->hi; i++)
		ll += B->R->w[i] * tn_value_pnbd_ll1(B->p, B->R->x[i], B->R->t_x[i], B->R->T[i]);
	B->ll = ll;
	return NULL;
}

/* The sum over two fixed halves (the second on a thread when there are many
 * rows), added in order: the result does not depend on the threads. */
static double pn_ll(const double *p, void *vd)
{
	const tn_vrows *R = vd;
	pn_block b[2] = {{R, p, 0, R->n / 2, 0}, {R, p, R->n / 2, R->n, 0}};
	pthread_t th;
	int started = R->n >= 4000 && pthread_create(&th, NULL, pn_rows, &b[1]) == 0;
	pn_rows(&b[0]);
	if (started)
		pthread_join(th, NULL);
	else
		pn_rows(&b[1]);
	return b[0].ll + b[1].ll;
}

static double pn_negll(unsigned n, const double *theta, double *grad, void *vd)
{
	(void)n;
	(void)grad; /* called without a gradient: tn_vo_minimize differentiates */
	double p[4] = {exp(theta[0]), exp(theta[1]), exp(theta[2]), exp(theta[3])};
	double ll = pn_ll(p, vd);
	return isfinite(ll) ? -ll : HUGE_VAL;
}

int tn_value_pnbd_fit(const double *x, const double *t_x, const double *T, size_t n, tn_value_fit *fit,
		      tn_error *err)
{
	tn_vrows R;
	if (tn_vrows_make(x, t_x, T, n, &R, err))
		return tn_error_code(err, TN_ERR_INPUT);
	double rep = 0, Tsum = 0;
	for (size_t i = 0; i < R.n; i++) {
		if (R.x[i] > 0)
			rep += R.w[i];
		Tsum += R.w[i] * R.T[i];
	}
	if (rep == 0) {
		tn_vrows_free(&R);
		return tn_error_set(err, TN_ERR_NUMERIC,
				    "Pareto/NBD cannot be identified: no customer made a repeat purchase (every x is 0)");
	}
	double lT = log(Tsum / R.total);
	double theta[4] = {0, lT, 0, lT};
	int evals = 0, conv = 0;
	int rc = tn_vo_minimize(pn_negll, &R, 4, theta, 0, &evals, &conv);
	*fit = (tn_value_fit){.model = TN_VALUE_PNBD, .nparams = 4, .names = {"r", "alpha", "s", "beta"}};
	for (int k = 0; k < 4; k++)
		fit->params[k] = exp(theta[k]);
	fit->n = n;
	fit->ndistinct = R.n;
	fit->evaluations = evals;
	fit->converged = conv;
	if (rc == 0) {
		fit->loglik = pn_ll(fit->params, &R);
		tn_vo_se(pn_ll, &R, 4, fit->params, fit->se);
	}
	tn_vrows_free(&R);
	if (rc)
		return tn_error_set(err, TN_ERR_NUMERIC, "Pareto/NBD: the likelihood is not finite at the start");
	return TN_OK;
}

double tn_value_pnbd_palive(const double *p, double x, double t_x, double T)
{
	double r = p[0], alpha = p[1], s = p[2], beta = p[3];
	/* note 008 eq. 18: 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0) */
	double lo = log(s) - log(r + s + x) + (r + x) * log(alpha + T) + s * log(beta + T) + log_A0(p, x, t_x, T);
	return 1 / (1 + exp(lo));
}

/* E[Y(t) | alive at T]: note 008 eq. 21 (Schmittlein et al. 1987 eq. 22)
 * without the P(alive) factor; s = 1 is the limit with ln((beta+T+t)/(beta+T)) */
static double pnbd_expected_alive(const double *p, double x, double T, double t)
{
	double r = p[0], alpha = p[1], s = p[2], beta = p[3];
	if (fabs(s - 1) < 1e-10)
		return (r + x) * (beta + T) / (alpha + T) * log((beta + T + t) / (beta + T));
	return (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * (1 - pow((beta + T) / (beta + T + t), s - 1));
}

double tn_value_pnbd_expected(const double *p, double x, double t_x, double T, double t)
{
	return pnbd_expected_alive(p, x, T, t) * tn_value_pnbd_palive(p, x, t_x, T);
}

void tn_value_pnbd_expected_path(const double *p, double x, double t_x, double T, int H, double *E)
{
	double pa = tn_value_pnbd_palive(p, x, t_x, T);
	E[0] = 0;
	for (int t = 1; t <= H; t++)
		E[t] = pnbd_expected_alive(p, x, T, t) * pa;
}
