/*
 * tenure/cox.h -- Cox proportional hazards: which drivers speed up or slow
 * down leaving.
 *
 * Plain arrays in (the caller builds them from a frame with design.h, or
 * from the store):
 *   time[i], event[i]   as in survival.h (event 1 = left, 0 = censored)
 *   x[i * p + j]        covariate j of subject i (row-major n x p)
 *   strata[i]           optional stratum index (NULL: one stratum); each
 *                       stratum has its own baseline hazard
 *
 * The fit follows R's coxph (Therneau & Grambsch 2000, "Modeling Survival
 * Data", ch. 3; R survival's coxfit6.c): centred covariates, Efron (default)
 * or Breslow ties, Newton-Raphson from beta = 0 with step halving, converged
 * when |1 - loglik_old / loglik_new| <= 1e-9.  Concordance is Harrell's C as
 * R's concordance() reports for a coxph fit.  See docs/survival.md.
 */
#ifndef TENURE_COX_H
#define TENURE_COX_H

#include <stddef.h>
#include "tenure/error.h"

enum { TN_COX_EFRON = 0, TN_COX_BRESLOW = 1 };

/* The rows' order by (stratum, time), made once (tn_cox_order_new) for
 * several fits on the same times and strata and different covariates: each
 * fit then skips its sort.  A fit checks that the order it is given sorts
 * its times and strata exactly as its own sort would (O(n)) and refuses it
 * otherwise, so a stale order is an error, never a different fit. */
typedef struct tn_cox_order tn_cox_order;

typedef struct tn_cox_opts {
	int ties;       /* TN_COX_EFRON (default) or TN_COX_BRESLOW */
	int max_iter;   /* 0 means 20, as coxph */
	double eps;     /* 0 means 1e-9, as coxph */
	double conf;    /* 0 means 0.95: the level of lower/upper */
	const char *const *names; /* optional p covariate names, for error messages */
	/* nonzero: no concordance (NaN, its counts 0): its two sorts and tree
	 * are a third of a one-covariate fit, wasted on a caller that shows
	 * only the ratios; every other field is the same bits */
	int no_concordance;
	const tn_cox_order *order; /* optional: the shared sort (above) */
} tn_cox_opts;

/* The stable order of the rows by (stratum, time) (STRATA NULL: by time).
 * *OUT is freed with tn_cox_order_free().  TN_ERR_INPUT (a NaN time, a
 * negative stratum, n >= 2^32), TN_ERR_NOMEM. */
TN_API int tn_cox_order_new(const double *time, const int *strata, size_t n, tn_cox_order **out, tn_error *err);
TN_API void tn_cox_order_free(tn_cox_order *o);

typedef struct tn_cox {
	size_t n, p;          /* subjects, covariates */
	double events;
	int iterations;
	int converged;        /* 0 when max_iter was reached */
	double *coef;         /* p log hazard ratios */
	double *se;           /* p standard errors (sqrt of the inverse information) */
	double *z, *pvalue;   /* Wald z = coef / se and its two-sided p */
	double *lower, *upper;/* confidence limits of the hazard ratio exp(coef) */
	double *var;          /* p x p inverse information, row-major */
	double *means;        /* p covariate means used for centring */
	double loglik_null;   /* partial log-likelihood at beta = 0 */
	double loglik;        /* at the estimate */
	double lr_chisq;      /* 2 (loglik - loglik_null), df = p */
	double lr_p;
	double concordance;   /* (concordant + tied_risk / 2) / (concordant + discordant + tied_risk) */
	double concordant, discordant, tied_risk, tied_time;
	/* R's check for a monotone likelihood (survival's coxph.fit): after
	 * convergence, coefficient j "may be infinite" when the next Newton
	 * step |(u' I^-1)_j| (u the score at the estimate, I the information)
	 * exceeds both eps and sqrt(eps) |coef_j|, or u_j is not finite.
	 * Without convergence, every coefficient is suspect when the linear
	 * predictor passes 500 or a step is not finite (all flags set). */
	int *infinite;        /* p flags */
	size_t ninfinite;     /* how many are set */
} tn_cox;

/* Fit.  OPTS may be NULL (defaults).  *OUT is freed with tn_cox_free().
 * Errors: TN_ERR_INPUT (bad time/event/NaN covariate, naming the row),
 * TN_ERR_NUMERIC (no events, or collinear covariates: names the column
 * index), TN_ERR_NOMEM. */
TN_API int tn_cox_fit(const double *time, const double *event, const double *x, size_t n, size_t p,
		      const int *strata, const tn_cox_opts *opts, tn_cox **out, tn_error *err);
TN_API void tn_cox_free(tn_cox *fit);

/* The same fit (the same bits) with the covariates as p columns: covariate j
 * of subject i is COLS[j][ROWS[i]] (ROWS NULL: COLS[j][i]), e.g. a frame's
 * numeric columns and a design's kept rows, without building x.  With TAKE,
 * the columns (malloc'ed) become the fit's: each is freed as soon as it is
 * copied into the fit's sorted order, and all are freed and set to NULL
 * before the call returns, whatever its result (the peak memory holds the
 * columns or their sorted copy, not both). */
TN_API int tn_cox_fit_cols(const double *time, const double *event, double **cols, const size_t *rows, size_t n,
			   size_t p, const int *strata, const tn_cox_opts *opts, int take, tn_cox **out,
			   tn_error *err);

/* The fit's warnings, in R's words where R has them: not converged
 * (severe: the estimates are not a maximum), coefficients that may be
 * infinite (each named, from NAMES when not NULL).  TN_OK or TN_ERR_NOMEM. */
struct tn_warnings;
TN_API int tn_cox_warnings(const tn_cox *fit, const char *const *names, struct tn_warnings *w);

/* Harrell's concordance of the risk score LP (higher = leaves sooner)
 * within strata (NULL: one), counting pairs as R's concordance(): a pair is
 * comparable when the shorter time is an event (an event and a censoring at
 * the same time are comparable; two events at the same time are tied_time
 * and not counted).  O(n log n). */
TN_API int tn_cox_concordance(const double *time, const double *event, const double *lp,
			      const int *strata, size_t n, double *concordance, double counts[4],
			      tn_error *err);

#endif
