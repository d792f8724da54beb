/*
 * value_internal.h -- internal: what the value_*.c model files share (the
 * optimiser, the Hessian standard errors, the (x, t_x, T) compression).
 * Not part of the public API.
 */
#ifndef TENURE_VALUE_INTERNAL_H
#define TENURE_VALUE_INTERNAL_H

#include <stddef.h>
#include "tenure/value.h"

/* Digamma psi(x) (value_specfun.c). */
double tn_value_digamma(double x);

/* An objective to MINIMISE over unconstrained theta (log-parameters), in
 * NLopt's shape: when grad is not NULL, fill it. */
typedef double (*tn_vo_fn)(unsigned n, const double *theta, double *grad, void *data);

/* Minimise F from THETA (updated in place).  HAS_GRAD: F fills grad;
 * otherwise central differences are used.  Returns 0 when an optimum was
 * found (*converged says whether the tolerance was met cleanly), -1 when
 * the objective is not finite at the start. */
int tn_vo_minimize(tn_vo_fn f, void *data, unsigned n, double *theta, int has_grad, int *evals,
		   int *converged);

/* Log-likelihood in natural parameters for the Hessian. */
typedef double (*tn_vo_ll)(const double *p, void *data);
/* Standard errors sqrt(diag((-H)^-1)) of LL at P, H by central second
 * differences with relative step 1e-4; NaN when -H is not positive definite. */
void tn_vo_se(tn_vo_ll ll, void *data, int n, const double *p, double *se);

/* The same from the analytic gradient of the negative log-likelihood F
 * over theta = log p, at its minimum THETA: H_theta by central differences
 * of the gradient, then se(p_i) = p_i sqrt((H_theta^-1)_ii) (delta method). */
void tn_vo_se_grad(tn_vo_fn f, void *data, unsigned n, const double *theta, double *se);

/* The warnings of a fit of NP parameters P (names NAMES, standard errors
 * SE) labelled WHAT, on NOBS data points (NOBS_WHAT, e.g. "customers") of
 * which the model needs at least NMIN.  Severe: too few data, not
 * converged, a parameter running off to 0 or infinity alone (beyond 1e-3 /
 * 1e3 with a standard error not below the estimate), a parameter whose
 * standard error is not finite or above 10 times the estimate.  Not
 * severe: both parameters of a mixing distribution running off together
 * (NPAIRS triples {i, j, 1 = beta / 0 = gamma} in PAIRS): the mixture
 * collapses to a point, a limit whose predictions are well defined. */
struct tn_warnings;
int tn_vo_warnings(struct tn_warnings *w, const char *what, int np, const char *const *names, const double *p,
		   const double *se, const int *pairs, int npairs, int converged, double nobs, double nmin,
		   const char *nobs_what);

/* BG/NBD eq. 10 for t = 1..H in one pass (value_bgnbd.c): the series
 * coefficients of 2F1(r+x, b+x; a+b+x-1; z), enough for z <= ZMAX (returns
 * their number, at most CAP; 0 when ZMAX > 0.9 or CAP is too small), and the
 * path from them, for H <= TN_VBG_MAX_H and H/(alpha+T+H) <= that ZMAX. */
#define TN_VBG_MAX_H 512
int tn_vbg_coef(const double *p, double x, double zmax, double *coef, int cap);
void tn_vbg_path_coef(const double *p, double x, double t_x, double T, int H, const double *coef, int nt,
		      double *E);

/* sum_{k=1..H} (E[k] - E[k-1]) / (1+d)^k (value_gg.c) */
double tn_vclv_path(const double *E, int H, double d);

/* Customers compressed to distinct (x, t_x, T) rows with a weight. */
typedef struct tn_vrows {
	size_t n;
	double *x, *t_x, *T, *w;
	double total; /* sum of weights */
} tn_vrows;

/* Validate and compress; errors name the first bad row (1-based). */
int tn_vrows_make(const double *x, const double *t_x, const double *T, size_t n, tn_vrows *out,
		  tn_error *err);
void tn_vrows_free(tn_vrows *r);

#endif
