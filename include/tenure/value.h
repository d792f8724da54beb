/*
 * tenure/value.h -- what each customer is worth: probability models of the
 * customer base ("buy till you die" models) and customer lifetime value.
 *
 *   contractual (subscriptions renew or not each period):
 *     sBG        shifted-beta-geometric, Fader & Hardie (2007), "How to project
 *                customer retention", J. Interactive Marketing 21(1)
 *   non-contractual (customers buy whenever they like, leave unseen):
 *     BG/NBD     Fader, Hardie & Lee (2005a), "Counting your customers the
 *                easy way", Marketing Science 24(2)
 *     Pareto/NBD Schmittlein, Morrison & Colombo (1987); likelihood as in
 *                Fader & Hardie (2005), "A note on deriving the Pareto/NBD
 *                model and related expressions" (note 008)
 *     Gamma-Gamma spend per transaction, Fader, Hardie & Lee (2005b), "RFM and
 *                CLV", J. Marketing Research 42(4); Fader & Hardie note 025
 *
 * Data: per customer x (repeat transactions), t_x (time of the last one, from
 * the first), T (time from the first transaction to the end of calibration),
 * in one time unit (weeks, days), and the mean spend of the repeat
 * transactions.  tn_value_summary_* builds those from a transaction log.
 *
 * Fits maximise the log-likelihood over log-parameters (NLopt L-BFGS with
 * analytic or central-difference gradients, Nelder-Mead as fallback);
 * identical rows are fitted once with a weight.  Standard errors come from the
 * inverse of a numeric Hessian of the log-likelihood at the optimum.
 * Everything here is single-threaded and deterministic.
 */
#ifndef TENURE_VALUE_H
#define TENURE_VALUE_H

#include <stddef.h>
#include "tenure/error.h"
#include "tenure/time.h"

/* ---- special functions (value_specfun.c) ------------------------------ */

/* log(exp(a) + exp(b)) without overflow or underflow; -inf when both are. */
TN_API double tn_value_logaddexp(double a, double b);
/* log(exp(a) - exp(b)) for a >= b; -inf when a == b, NaN when a < b. */
TN_API double tn_value_logsubexp(double a, double b);
/* log of the beta function B(a, b) for a, b > 0. */
TN_API double tn_value_lbeta(double a, double b);
/* Gauss hypergeometric 2F1(a, b; c; z) for real a, b, c (c not 0, -1, ...)
 * and 0 <= z < 1 (also -1 < z < 0): the power series for z <= 0.8, and for
 * z > 0.8 the 1 - z transformation (Abramowitz & Stegun 15.3.6) when c-a-b is
 * not an integer, else the series with up to 10^7 terms.  Returns NaN when it
 * cannot reach full precision. */
TN_API double tn_value_hyp2f1(double a, double b, double c, double z);

/* ---- fitted models --------------------------------------------------- */

typedef enum { TN_VALUE_SBG, TN_VALUE_BGNBD, TN_VALUE_PNBD, TN_VALUE_GG } tn_value_model;

typedef struct tn_value_fit {
	tn_value_model model;
	int nparams;             /* 2 (sBG) to 4 */
	const char *names[4];    /* "r","alpha","a","b" / "r","alpha","s","beta" / "p","q","gamma" / "alpha","beta" */
	double params[4];
	double se[4];            /* NaN when the Hessian is not invertible */
	double loglik;
	int converged;           /* 1 when the optimiser met its tolerance at an interior optimum */
	int evaluations;         /* likelihood evaluations used */
	size_t n;                /* customers (or cohort members) used */
	size_t ndistinct;        /* distinct rows after compression */
} tn_value_fit;

/* The fit's warnings (tenure/warn.h).  Severe (the numbers mean nothing):
 * too few data for the model (sBG: fewer than 2 periods after the first
 * count; BG/NBD and Pareto/NBD: fewer than 4 distinct customer rows;
 * Gamma-Gamma: fewer than 3 repeat buyers), not converged, a parameter
 * running off to 0 or infinity alone (below 1e-3 or above 1e3 and its
 * standard error not below it), a parameter not identified (standard error
 * not finite or above 10 times the estimate).  Not severe: both parameters
 * of a mixing distribution running off to infinity together (sBG alpha and
 * beta, BG/NBD r and alpha or a and b, Pareto/NBD r and alpha or s and
 * beta, Gamma-Gamma q and gamma): every customer looks alike there, the
 * model reduces to its limit and its predictions stand.  TN_OK or
 * TN_ERR_NOMEM. */
struct tn_warnings;
TN_API int tn_value_fit_warnings(const tn_value_fit *f, struct tn_warnings *w);

/* Model name ("sbg", "bgnbd", "pareto-nbd", "gamma-gamma"). */
TN_API const char *tn_value_model_name(tn_value_model m);
/* Parse a model name (also "bg-nbd", "pnbd", "gg"); -1 if unknown. */
TN_API int tn_value_model_parse(const char *s);

/* ---- sBG (value_sbg.c) ----------------------------------------------- */

/* Fit alpha, beta to ALIVE[0..nperiods-1]: customers still active at the
 * start of periods 0, 1, ... (alive[0] is the cohort size), non-increasing.
 * LL = sum_t (alive[t-1]-alive[t]) ln P(T=t) + alive[last] ln S(last)
 * (Fader & Hardie 2007, eq. 5-7).  TN_ERR_INPUT for a bad series,
 * TN_ERR_NUMERIC when nobody or everybody churned. */
TN_API int tn_value_sbg_fit(const double *alive, size_t nperiods, tn_value_fit *fit, tn_error *err);
/* Log-likelihood at (alpha, beta). */
TN_API double tn_value_sbg_loglik(double alpha, double beta, const double *alive, size_t nperiods);
/* Survival S(t) = B(alpha, beta+t)/B(alpha, beta) (eq. 7) and the retention
 * rate r_t = (beta+t-1)/(alpha+beta+t-1) of period t >= 1 (eq. 8). */
TN_API double tn_value_sbg_survival(double alpha, double beta, double t);
TN_API double tn_value_sbg_retention(double alpha, double beta, double t);
/* Discounted expected residual lifetime of a customer who has made N >= 1
 * payments, at the moment of renewal decision N (Fader & Hardie 2010,
 * "Customer-base valuation in a contractual setting", Marketing Science
 * 29(1), eq. 6): DERL = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n;
 * alpha+beta+n; 1/(1+d)), in payments (multiply by the price).  Discount d > 0. */
TN_API double tn_value_sbg_derl(double alpha, double beta, double n, double d);
/* Expected lifetime value of a just-acquired customer in payments, counting
 * the first: E[CLV] = 2F1(1, beta; alpha+beta; 1/(1+d)) (ibid., eq. 5). */
TN_API double tn_value_sbg_elv(double alpha, double beta, double d);

/* ---- BG/NBD (value_bgnbd.c) and Pareto/NBD (value_pnbd.c) --------------- */

/* Fit on N customers (x, t_x, T): x >= 0 whole, 0 <= t_x <= T, T > 0, and
 * t_x == 0 when x == 0.  TN_ERR_INPUT names the first bad row (1-based);
 * TN_ERR_NUMERIC when the data cannot identify the model (no repeat buyers,
 * or everybody bought again). */
TN_API int tn_value_bgnbd_fit(const double *x, const double *t_x, const double *T, size_t n,
			      tn_value_fit *fit, tn_error *err);
TN_API int tn_value_pnbd_fit(const double *x, const double *t_x, const double *T, size_t n,
			     tn_value_fit *fit, tn_error *err);
/* Log-likelihood of one customer at P (BG/NBD: r, alpha, a, b, FHL 2005a
 * eq. 6; Pareto/NBD: r, alpha, s, beta, note 008 eq. 22). */
TN_API double tn_value_bgnbd_ll1(const double *p, double x, double t_x, double T);
TN_API double tn_value_pnbd_ll1(const double *p, double x, double t_x, double T);
/* P(alive | x, t_x, T) (FHL 2005a eq. 13; note 008 eq. 18). */
TN_API double tn_value_bgnbd_palive(const double *p, double x, double t_x, double T);
TN_API double tn_value_pnbd_palive(const double *p, double x, double t_x, double T);
/* E[Y(t) | x, t_x, T]: expected transactions in the next t units
 * (FHL 2005a eq. 10; note 008 eq. 21 / Schmittlein et al. 1987). */
TN_API double tn_value_bgnbd_expected(const double *p, double x, double t_x, double T, double t);
TN_API double tn_value_pnbd_expected(const double *p, double x, double t_x, double T, double t);
/* E[Y(t) | x, t_x, T] for t = 0, 1, ..., H into E[0..H] (E[0] = 0): the same
 * numbers as tn_value_bgnbd_expected, computed together (fast for H <= 512). */
TN_API void tn_value_bgnbd_expected_path(const double *p, double x, double t_x, double T, int H, double *E);
TN_API void tn_value_pnbd_expected_path(const double *p, double x, double t_x, double T, int H, double *E);
/* E[X(t)]: expected transactions of a new customer in (0, t] (FHL eq. 9). */
TN_API double tn_value_bgnbd_unconditional(const double *p, double t);

/* ---- Gamma-Gamma (value_gg.c) ------------------------------------------ */

/* Fit p, q, gamma on customers with x > 0 (others are skipped) and mean
 * repeat spend m > 0 (note 025, eq. 1-3).  TN_ERR_NUMERIC with fewer than 2
 * repeat buyers. */
TN_API int tn_value_gg_fit(const double *x, const double *m, size_t n, tn_value_fit *fit, tn_error *err);
TN_API double tn_value_gg_ll1(const double *p, double x, double m);
/* E[M | x, m] = (p (gamma + x m)) / (p x + q - 1), the population mean
 * p gamma / (q - 1) when x == 0 (note 025 eq. 5; FHL 2005b eq. 5). */
TN_API double tn_value_gg_mean(const double *p, double x, double m);

/* ---- CLV ----------------------------------------------------------------- */

/* Customer lifetime value over HORIZON whole periods of the time unit:
 * sum_{k=1..H} (E[Y(k)] - E[Y(k-1)]) * spend * margin / (1 + d)^k, with
 * E[Y] from the transaction model (BG/NBD or Pareto/NBD, parameters TP).
 * The expected transactions over the horizon go to *etx when not NULL. */
TN_API double tn_value_clv(tn_value_model model, const double *tp, double x, double t_x, double T,
			   double spend, int horizon, double discount, double margin, double *etx);

/* Scores for many customers (value_score.c). */
typedef struct tn_value_score_opts {
	tn_value_model model;      /* TN_VALUE_BGNBD or TN_VALUE_PNBD */
	const double *tp;          /* its parameters */
	const double *gp;          /* Gamma-Gamma p, q, gamma, or NULL (no spend: spend and clv NaN) */
	int horizon;               /* periods ahead */
	double discount, margin;   /* per period; share of spend that is profit */
} tn_value_score_opts;

typedef struct tn_value_scores {
	size_t n, ndistinct;       /* customers, distinct (x, t_x, T, m) scored */
	double *palive, *expected, *spend, *clv; /* n each */
} tn_value_scores;

/* Score N customers (M: mean repeat spend, may be NULL).  Identical rows are
 * scored once; two threads over fixed halves (results do not depend on
 * threads).  Free with tn_value_scores_free. */
TN_API int tn_value_score(const tn_value_score_opts *o, const double *x, const double *t_x, const double *T,
			  const double *m, size_t n, tn_value_scores **out, tn_error *err);
TN_API void tn_value_scores_free(tn_value_scores *s);

/* ---- from transactions to (x, t_x, T, mean spend) (value_summary.c) ----- */

typedef struct tn_value_summary {
	size_t n;
	char **id;          /* customer ids, ordered as text */
	double *x, *t_x, *T;
	double *monetary;   /* mean repeat spend per period-day; 0 when x == 0 */
	double *first;      /* first purchase, Unix seconds */
	double *revenue;    /* all amounts up to the calibration end (first purchase included) */
} tn_value_summary;

typedef struct tn_value_txns tn_value_txns;

/* A transaction log: customer id, instant, amount (NaN if none). */
TN_API tn_value_txns *tn_value_txns_new(void);
TN_API void tn_value_txns_free(tn_value_txns *t);
TN_API int tn_value_txns_add(tn_value_txns *t, const char *id, tn_time at, double amount, tn_error *err);
TN_API size_t tn_value_txns_count(const tn_value_txns *t);
/* The start (UTC midnight) of the day of the latest transaction; 0 when empty. */
TN_API tn_time tn_value_txns_last_day(const tn_value_txns *t);

/* How a transaction file is laid out.  COLUMNS names the fields when the file
 * has no header (or overrides it); CUSTOMER, DATE, AMOUNT (may be NULL) pick
 * the fields by name. */
typedef struct tn_value_read_opts {
	int whitespace;            /* fields separated by runs of blanks, not commas */
	int no_header;             /* first line is data */
	const char *const *columns; /* ncolumns names, or NULL */
	size_t ncolumns;
	const char *customer, *date, *amount;
} tn_value_read_opts;

/* Read a transaction file.  Errors name FILE:LINE:COLUMN. */
TN_API int tn_value_txns_read(const char *path, const tn_value_read_opts *o, tn_value_txns **out,
			      tn_error *err);
struct tn_store;
/* The event type whose events are the value model's transactions. */
#define TN_VALUE_PURCHASE_TYPE "purchase"
/* Events of type "purchase" (amount in `amount`) from the store, keyed by the
 * customer's ext_id. */
TN_API int tn_value_txns_from_store(struct tn_store *s, tn_value_txns **out, tn_error *err);
/* *YES = 1 when the store holds at least one purchase event. */
TN_API int tn_value_store_has_purchases(struct tn_store *s, int *yes, tn_error *err);

/* Summarise like lifetimes' summary_data_from_transaction_data: transactions
 * on the same UTC day are one transaction (amounts summed); transactions
 * after CAL_END are ignored; x = days with a purchase - 1, t_x = last - first,
 * T = CAL_END - first (days from UTC midnights), in UNIT days (1 or 7);
 * monetary = mean of the repeat days' amounts.  Customers first seen after
 * CAL_END are left out.  Free with tn_value_summary_free. */
TN_API int tn_value_summarize(const tn_value_txns *t, tn_time cal_end, double unit_days,
			      tn_value_summary **out, tn_error *err);
TN_API void tn_value_summary_free(tn_value_summary *s);
/* Remove the customers with T = 0 (first purchase on the calibration end:
 * no observation window, so no model can score them); returns how many. */
TN_API size_t tn_value_summary_drop_unobserved(tn_value_summary *s);

/* Segment labels from the store for N customers given by ext_id: BY is
 * "channel", "country", "device" or "age_band" (from attrs), or "plan" (of
 * the customer's latest subscription).  (*labels)[i] is "(none)" when
 * unknown.  Free with tn_value_labels_free(labels, n). */
TN_API int tn_value_segments_from_store(struct tn_store *s, const char *by, char *const *ids, size_t n,
					char ***labels, tn_error *err);
TN_API void tn_value_labels_free(char **labels, size_t n);

/* One segment's value: from per-customer P(alive), CLV (margin already
 * applied) and revenue to date.  Value at risk = sum (1 - P(alive)) x CLV
 * given alive, where CLV given alive = CLV / P(alive) (BG/NBD and Pareto/NBD
 * expected transactions are P(alive) x those of an active customer). */
typedef struct tn_value_segment {
	char *label;              /* "(all)" for the total row */
	size_t customers;
	double p_alive;           /* mean */
	double revenue;           /* to date */
	double profit;            /* revenue x margin */
	double future;            /* sum of CLV */
	double at_risk;           /* value at risk */
} tn_value_segment;

/* Group N customers by LABELS (sorted by future value, largest first; a last
 * "(all)" row totals them).  *nseg rows; free with tn_value_segments_free. */
TN_API int tn_value_segment_table(char *const *labels, size_t n, const double *palive, const double *clv,
				  const double *revenue, double margin, tn_value_segment **out, size_t *nseg,
				  tn_error *err);
TN_API void tn_value_segments_free(tn_value_segment *s, size_t nseg);


/* ---- subscribers' value from the store (value_retention.c) ------------- */

struct tn_churn_def;
typedef struct tn_value_plan_fit {
	char *plan, *billing_period;
	double price;         /* per billing period (the first seen) */
	double period_days;   /* billing period in days (a month is 365.25/12) */
	size_t customers;     /* first subscriptions on this plan */
	size_t cohorts;       /* signup-month cohorts observed for a whole period or more */
	double alpha, beta, loglik, se[2]; /* NaN when not fitted */
	int converged;
	double retention[4];  /* r_1..r_4: share renewing at decisions 1..4 */
	double elv;           /* expected lifetime value of a new subscriber, in money */
} tn_value_plan_fit;

typedef struct tn_value_live {
	char *customer;
	const char *plan;     /* points into the result's plans */
	double payments;      /* billing periods started in the open spell */
	double p_churn;       /* 1 - r_payments: not renewing at the next decision */
	double value;         /* price x DERL: discounted value of the renewals to come */
} tn_value_live;

typedef struct tn_value_cohort_fit {
	const char *plan;     /* points into the result's plans */
	int year, month;      /* signup month */
	size_t customers;
	int periods;          /* whole periods every member was observed for */
	double alpha, beta, loglik; /* NaN when the cohort alone cannot identify them */
} tn_value_cohort_fit;

typedef struct tn_value_retention_result {
	tn_time as_of;
	tn_value_plan_fit *plans;
	size_t nplans;
	tn_value_cohort_fit *cohorts; /* each signup cohort fitted alone, by plan then month */
	size_t ncohorts;
	tn_value_live *live;  /* subscribers whose latest spell is open */
	size_t nlive;
} tn_value_retention_result;

/* Fit the sBG per plan to the store's signup cohorts under churn definition
 * DEF as of AS_OF (TN_NO_TIME: the data's end), and value each live
 * subscriber, discounting at ANNUAL_DISCOUNT (e.g. 0.10) converted to the
 * plan's period.  Free *out with tn_value_retention_free(). */
TN_API int tn_value_retention(struct tn_store *s, const struct tn_churn_def *def, tn_time as_of,
			      double annual_discount, tn_value_retention_result **out, tn_error *err);
TN_API void tn_value_retention_free(tn_value_retention_result *r);
/* Warnings of the plan fits, as tn_value_fit_warnings (each names its plan;
 * a plan needs 2 customers and a cohort observed for 2 whole periods), and
 * a lifetime value that cannot be computed.  Severe only when every fitted
 * plan is degenerate. */
TN_API int tn_value_retention_warnings(const tn_value_retention_result *r, struct tn_warnings *w);


/* ---- segment profitability (value_profit.c) ---------------------------- */

typedef struct tn_value_profit_row {
	char *segment;
	size_t customers, subscribers; /* all customers; those with a live subscription */
	double revenue;     /* succeeded minus refunded payments to date */
	double future;      /* live subscribers' price x DERL (tn_value_retention) */
	double at_risk;     /* sum of P(not renewing next) x future value */
	double acquisition; /* sum of the cost attribute (0 when absent) */
	double profit;      /* margin x (revenue + future) - acquisition */
} tn_value_profit_row;

/* Per segment BY ("channel", "country", "plan" (latest subscription) or a
 * key of the customer attrs): the figures above, with MARGIN the share of
 * revenue kept (e.g. 0.7 after an app store's 30%), future values discounted
 * at ANNUAL_DISCOUNT under churn definition DEF, and the acquisition cost
 * read from attribute COST_KEY (NULL: "acquisition_cost").  Free *rows with
 * tn_value_profit_free().  The warnings of the retention fits behind the
 * future values (tn_value_retention_warnings) go to WARN when not NULL. */
TN_API int tn_value_profitability(struct tn_store *s, const struct tn_churn_def *def, const char *by, double margin,
				  double annual_discount, const char *cost_key, tn_value_profit_row **rows, size_t *n,
				  struct tn_warnings *warn, tn_error *err);
/* The same with the live subscribers' value given: RET, tn_value_retention
 * at the data's end (TN_NO_TIME) with ANNUAL_DISCOUNT, computed once for
 * several segmentations (NULL: computed here) */
TN_API int tn_value_profitability_ret(struct tn_store *s, const struct tn_churn_def *def, const char *by,
				      double margin, double annual_discount, const char *cost_key,
				      const tn_value_retention_result *ret, tn_value_profit_row **rows, size_t *n,
				      struct tn_warnings *warn, tn_error *err);
/* The same for NBY segmentations BY[0..NBY) (1 to TN_VALUE_PROFIT_MAX_BY)
 * in one pass over the customers and their payments: OUT[b], NOUT[b] as
 * tn_value_profitability_ret gives them for BY[b]. */
#define TN_VALUE_PROFIT_MAX_BY 4
TN_API int tn_value_profitability_many(struct tn_store *s, const struct tn_churn_def *def, const char *const *by,
				       size_t nby, double margin, double annual_discount, const char *cost_key,
				       const tn_value_retention_result *ret, tn_value_profit_row **out, size_t *nout,
				       struct tn_warnings *warn, tn_error *err);
TN_API void tn_value_profit_free(tn_value_profit_row *rows, size_t n);

#endif
