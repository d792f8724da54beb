/*
 * tenure/survival.h -- survival timing: Kaplan-Meier curves, Nelson-Aalen
 * cumulative hazard, the log-rank test and the "danger window".
 *
 * Every function takes plain arrays, so the caller decides where the data
 * comes from (a CSV frame, the store's churn definitions, ...):
 *   time[i]   follow-up time of subject i (>= 0; any unit, e.g. days)
 *   event[i]  1 when subject i left (churned) at time[i], 0 when censored
 *   group[i]  0..ngroups-1 (optional: NULL means one group)
 * Rows with a NaN time or event are an input error; the caller drops blanks.
 *
 * The numbers follow R's survival package (Therneau) exactly:
 * survfit(conf.type = "log-log"), summary.survfit, quantile.survfit and
 * survdiff (rho = 0).  Formulas with sources are in docs/survival.md.
 */
#ifndef TENURE_SURVIVAL_H
#define TENURE_SURVIVAL_H

#include <stddef.h>
#include "tenure/error.h"

/* A Kaplan-Meier fit: one row per distinct time (events or censorings), in
 * increasing order, as R's survfit object. */
typedef struct tn_km {
	size_t n;           /* subjects */
	double events;      /* total events */
	double conf_level;  /* e.g. 0.95 */
	size_t ntimes;      /* distinct times */
	double *time;       /* ntimes arrays: */
	double *n_risk;     /*   at risk just before time[i] */
	double *n_event;    /*   events at time[i] */
	double *n_censor;   /*   censored at time[i] */
	double *surv;       /*   S(t), product-limit estimate */
	double *se;         /*   Greenwood standard error of S(t) (as summary.survfit) */
	double *se_log;     /*   standard error of log S(t) (survfit's std.err) */
	double *lower;      /*   log-log confidence limits; NaN where S = 0 or 1 */
	double *upper;
	double *cumhaz;     /*   Nelson-Aalen H(t) = sum d/n */
	double *se_cumhaz;  /*   its standard error sqrt(sum d/n^2) (survfit's std.chaz) */
	double median, median_lower, median_upper; /* NaN when not reached */
} tn_km;

/* Fit Kaplan-Meier on the rows of GROUP equal to G (all rows when GROUP is
 * NULL).  CONF_LEVEL in (0,1), usually 0.95.  *OUT is freed with
 * tn_km_free().  Errors: TN_ERR_INPUT for negative/NaN times or events other
 * than 0/1 (naming the row), TN_ERR_NOMEM. */
TN_API int tn_km_fit(const double *time, const double *event, const int *group, int g, size_t n,
		     double conf_level, tn_km **out, tn_error *err);
TN_API void tn_km_free(tn_km *km);

/* The curve at time T, as summary.survfit(fit, times = T): the values at the
 * last distinct time <= T.  Before the first time: S = 1, se = 0, limits 1.
 * After the last time: all NaN (beyond follow-up).  n_risk is the number at
 * risk at T. */
typedef struct tn_km_value {
	double time, n_risk, surv, se, lower, upper, cumhaz;
} tn_km_value;
TN_API tn_km_value tn_km_at(const tn_km *km, double t);

/* Quantile P of the survival time (0.5 = median) and its confidence limits,
 * by R's rule (quantile.survfit): the first time where 1 - S(t) >= P, the
 * mid-point between that time and the next when S equals 1 - P (within
 * sqrt(DBL_EPSILON)); the limits apply the same rule to the lower and upper
 * curves.  NaN when not reached. */
TN_API void tn_km_quantile(const tn_km *km, double p, double *q, double *lower, double *upper);

/* The curve as steps for a chart: at most MAX_POINTS (>= 4) vertices of the
 * right-continuous step function (time, surv, lower, upper), starting at
 * (0, 1, 1, 1), thinned evenly in time when there are more steps.  Arrays
 * are allocated by the function; free with tn_km_steps_free(). */
typedef struct tn_km_steps {
	size_t n;
	double *time, *surv, *lower, *upper; /* lower/upper NaN where undefined */
} tn_km_steps;
TN_API int tn_km_steps_new(const tn_km *km, size_t max_points, tn_km_steps **out, tn_error *err);
TN_API void tn_km_steps_free(tn_km_steps *s);

/* Log-rank test (Mantel-Haenszel; R survdiff with rho = 0) between NGROUPS
 * groups.  OBSERVED/EXPECTED (optional, NGROUPS entries each) receive the
 * observed and expected events per group.  df = (groups with expected > 0)
 * - 1; chisq = 0 and p = 1 when df < 1. */
typedef struct tn_logrank {
	double chisq;
	int df;
	double p;
} tn_logrank;
TN_API int tn_logrank_test(const double *time, const double *event, const int *group, size_t n,
			   int ngroups, tn_logrank *out, double *observed, double *expected,
			   tn_error *err);

/* The danger window: the discrete hazard per bin of age [k*w, (k+1)*w)
 * (events in the bin / subjects still at risk at its start) and where it
 * peaks.  Bins whose at-risk count is below MIN_AT_RISK (e.g. 30) are not
 * considered for the peak.  The window is the run of consecutive bins around
 * the peak whose hazard is at least half the peak's. */
typedef struct tn_danger {
	double width;        /* bin width w, in time units */
	size_t nbins;
	double *at_risk;     /* nbins arrays */
	double *events;
	double *hazard;      /* events / at_risk (NaN when at_risk = 0) */
	long peak;           /* index of the bin with the highest hazard, -1 if none */
	long from, to;       /* the window: bins from..to (inclusive), -1 if none */
	double window_events;/* events in the window */
	double window_share; /* window_events / all events */
} tn_danger;
TN_API int tn_danger_new(const double *time, const double *event, const int *group, int g, size_t n,
			 double width, double min_at_risk, tn_danger **out, tn_error *err);
TN_API void tn_danger_free(tn_danger *d);
/* A plain sentence for a growth team, e.g. "Most customers who leave, leave
 * in days 28 to 35 (31% of all leavers, hazard 4.1% a day at its peak): act
 * before day 28."  UNIT is the name of one time unit ("day").  Writes at most
 * SIZE bytes to BUF (always terminated). */
TN_API void tn_danger_sentence(const tn_danger *d, const char *unit, char *buf, size_t size);

/* Regularized upper tail of the chi-square distribution, P(X > x), df >= 1,
 * and of the standard normal, 2 * P(Z > |z|). */
TN_API double tn_chisq_upper(double x, int df);
TN_API double tn_normal_two_sided(double z);

/* ---- competing risks (src/analyses/competing.c, docs/churn.md) ----------
 * When customers leave for different reasons -- voluntary (they cancel) or
 * involuntary (a payment fails) -- the Kaplan-Meier curve of one cause,
 * treating the other as censoring, overstates it: a customer lost to a failed
 * card can no longer cancel.  The Aalen-Johansen estimate gives each cause's
 * cumulative incidence F_k(t), the share who have left for cause k by t, with
 * S(t) + sum_k F_k(t) = 1.
 *   cause[i]  0 censored, 1..NCAUSES the cause subject i left for
 * Numbers as R survival's survfit(Surv(time, factor(status)) ~ 1): pstate,
 * std.err (infinitesimal jackknife), lower/upper (conf.type "log"). */
typedef struct tn_cif {
	size_t n;           /* subjects */
	int ncauses;        /* K */
	double conf_level;
	size_t ntimes;      /* distinct times (events or censorings), increasing */
	double *time;       /* ntimes */
	double *n_risk;     /* ntimes: at risk just before time[j] */
	double *n_censor;   /* ntimes */
	double *n_event;    /* ntimes x K, row-major: leaving for cause k+1 at time[j] */
	/* ntimes x (K+1), row-major; column 0 = still there (R's "(s0)"), column
	 * k = cumulative incidence of cause k */
	double *pstate, *std_err;
	double *lower, *upper; /* NaN where the estimate is 0 (R's NA) */
} tn_cif;

/* Fit on the rows of GROUP equal to G (all rows when GROUP is NULL).
 * Errors: TN_ERR_INPUT naming the row (negative/NaN time, a status outside
 * 0..NCAUSES), TN_ERR_NOMEM.  Free with tn_cif_free(). */
TN_API int tn_cif_fit(const double *time, const int *cause, const int *group, int g, size_t n, int ncauses,
		      double conf_level, tn_cif **out, tn_error *err);
TN_API void tn_cif_free(tn_cif *f);
/* The estimate at time T, as summary(fit, times = T): the values at the last
 * time <= T (before the first: S = 1, F_k = 0, se 0).  Each non-NULL array
 * receives K+1 values; *N_RISK the number at risk at T. */
TN_API void tn_cif_at(const tn_cif *f, double t, double *n_risk, double *pstate, double *std_err, double *lower,
		      double *upper);

/* The two-sided normal quantile of a confidence level (1.959964 for 0.95). */
TN_API double tn_normal_z(double conf_level);

/* Cox regression and the design-matrix helper are part of the same story. */
#include "tenure/cox.h"
#include "tenure/design.h"

#endif
