/*
 * tenure/churn.h -- churn definitions and churn measures on the store.
 *
 * A churn definition is a named set of rules (docs/churn.md); a customer
 * churns at the earliest instant one of its rules fires:
 *   cancelled       the subscription ended (cancelled, or expired = not
 *                   renewed) and no new subscription started within
 *                   grace_days of the end (default 7 days)
 *   inactive        no event (of the given types) for inactive_days
 *   defection       events in the last W days below F times the customer's
 *                   own rate over the B days before them
 *   failed payment  a failed payment not followed by a succeeded one
 *                   within failed_payment_days
 * The built-in definition "cancelled" (cancelled rule, 7 grace days) always
 * exists; others are stored in the store's churn_definitions table.
 *
 * tn_churn_scan() streams the store once, customer by customer in key order
 * (memory proportional to one customer's history plus the customer count
 * for the caller's aggregates), and hands the caller each customer with its
 * subscriptions and its spells: each spell is [start, end] with end the
 * churn instant (status churned) or the censoring instant (as-of).  A
 * reactivated customer has several spells.  The rates, cohorts, the
 * survival frame (time, event, covariates) and the CLI are built on it.
 */
#ifndef TENURE_CHURN_H
#define TENURE_CHURN_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/frame.h"
#include "tenure/store.h"
#include "tenure/time.h"

#define TN_CHURN_NAME_MAX 64
#define TN_CHURN_MAX_TYPES 16

/* ---- definitions ------------------------------------------------------ */

typedef struct tn_churn_def {
	char name[TN_CHURN_NAME_MAX];
	int cancelled;            /* 1: the cancellation / non-renewal rule is on */
	double grace_days;        /* a new subscription within this many days of the end continues the spell */
	double inactive_days;     /* > 0: inactivity rule on */
	double defection_window;  /* W > 0: defection rule on (needs B > 0 and 0 < F < 1... F <= 1) */
	double defection_baseline; /* B days */
	double defection_fraction; /* F */
	double failed_payment_days; /* >= 0 when failed_payment is 1 */
	int failed_payment;       /* 1: the failed-payment rule is on */
	size_t ntypes;            /* activity event types for inactivity/defection; 0 = every type */
	char types[TN_CHURN_MAX_TYPES][TN_CHURN_NAME_MAX];
	/* TN_CAUSE_VOLUNTARY or TN_CAUSE_INVOLUNTARY: only churn of that class
	 * counts; a spell that ends for the other class ends with reason
	 * TN_CHURN_OTHER_CAUSE, churned = 0 (censored there: the cause-specific
	 * view of competing risks).  0: every cause counts.  The built-in
	 * definitions "voluntary" and "involuntary" are the cancelled rule with
	 * this set (docs/churn.md, "Voluntary and involuntary churn"). */
	int cause_class;
} tn_churn_def;

/* The two classes of churn causes. */
enum { TN_CAUSE_NONE = 0, TN_CAUSE_VOLUNTARY = 1, TN_CAUSE_INVOLUNTARY = 2 };
/* The class of a cause (voluntary, billing, price_increase, refund, revoked,
 * product_unavailable, other): involuntary for billing, revoked and
 * product_unavailable (the customer did not decide to leave), voluntary for
 * the others; TN_CAUSE_NONE for NULL or an unknown name. */
TN_API int tn_churn_cause_class(const char *cause);
/* "voluntary", "involuntary", or "censored" for TN_CAUSE_NONE. */
TN_API const char *tn_churn_cause_class_name(int cls);

/* Why a spell ended (tn_churn_spell.reason). */
enum { TN_CHURN_CENSORED = 0, TN_CHURN_CANCELLED, TN_CHURN_INACTIVE, TN_CHURN_DEFECTION, TN_CHURN_FAILED_PAYMENT,
       TN_CHURN_OTHER_CAUSE /* left for the cause the definition does not count (cause_class) */ };

/* "censored", "cancelled", "inactive", "defection", "failed_payment", "other_cause". */
TN_API const char *tn_churn_reason_name(int reason);

/* The built-in default: name "cancelled", cancelled rule, grace 7 days.
 * (tn_churn_def_load also knows "voluntary" and "involuntary": the same
 * rule counting one class of causes.) */
TN_API void tn_churn_def_default(tn_churn_def *def);

/* Check a definition: at least one rule, sane numbers, a name of letters,
 * digits, '_' '-' '.'.  TN_ERR_USAGE naming the bad field otherwise. */
TN_API int tn_churn_def_check(const tn_churn_def *def, tn_error *err);

/* The rule as JSON text (the stored form; caller frees with free()), and
 * back (TN_ERR_INPUT naming the field when malformed). */
TN_API char *tn_churn_def_to_json(const tn_churn_def *def);
TN_API int tn_churn_def_from_json(const char *name, const char *json, tn_churn_def *def, tn_error *err);

/* Store (insert or replace) a definition; the name "cancelled" is reserved. */
TN_API int tn_churn_def_save(tn_store *s, const tn_churn_def *def, tn_error *err);
/* Look NAME up (NULL or "cancelled" gives the built-in); TN_ERR_NOTFOUND
 * naming the definitions that exist otherwise. */
TN_API int tn_churn_def_load(tn_store *s, const char *name, tn_churn_def *def, tn_error *err);
/* Remove NAME; TN_ERR_NOTFOUND when absent, TN_ERR_USAGE for the built-in. */
TN_API int tn_churn_def_drop(tn_store *s, const char *name, tn_error *err);
/* Every definition, the built-in first.  *defs is malloc'ed (caller frees). */
TN_API int tn_churn_def_list(tn_store *s, tn_churn_def **defs, size_t *n, tn_error *err);

/* ---- the scan: customers, subscriptions and spells --------------------- */

typedef struct tn_churn_sub {
	const char *plan;           /* interned: valid for the whole scan */
	const char *billing_period; /* interned */
	double price;               /* per billing period */
	double mrr;                 /* price / tn_period_months(billing_period) */
	tn_time start;              /* started_at */
	tn_time paid_from;          /* trial_ends_at when later than start, else start */
	tn_time end;                /* the instant it ended as of the scan's as-of, or TN_NO_TIME (open) */
	/* filled when the scan wants causes (want_causes, or a definition with a
	 * cause_class); NULL / TN_NO_TIME otherwise: */
	const char *source;         /* subscription_state.source; "import" when it has no state */
	const char *state;          /* subscription_state.state, or NULL */
	const char *cause;          /* why it ended (docs/churn.md), NULL while open */
	tn_time auto_renew_off_at;  /* subscription_state.auto_renew_off_at */
	tn_time expires_at;         /* subscription_state.expires_at */
} tn_churn_sub;

typedef struct tn_churn_spell {
	tn_time start;
	tn_time end;   /* churn instant when churned, else the as-of (censored); an as-of at a day's
			  end (23:59:59, a date) censors at the next midnight, so whole days stay whole */
	int churned;   /* 1 churned, 0 censored */
	int reason;    /* TN_CHURN_* */
	int sub;       /* index of the subscription the spell started with, or -1 */
	const char *cause; /* with causes: why it ended (a cause name), NULL when censored */
	int cause_class;   /* with causes: TN_CAUSE_* of cause */
} tn_churn_spell;

typedef struct tn_churn_customer {
	int64_t key;           /* internal key */
	const char *id;        /* the business's id */
	tn_time signed_up_at;  /* or TN_NO_TIME */
	const char *country;   /* or NULL */
	const char *channel;   /* or NULL */
	const char *attrs;     /* JSON object text */
	const tn_churn_sub *subs; /* by start time */
	size_t nsubs;
	const tn_churn_spell *spells;
	size_t nspells;        /* 0: never a customer as of the as-of (no subscription / activity) */
	const tn_time *milestone_at; /* first instant of each requested milestone event type, or TN_NO_TIME */
	double first_nps;      /* score of the first nps feedback up to as-of, or NaN (when requested) */
} tn_churn_customer;

/* Called once per customer, in key order.  The customer and everything it
 * points to are valid during the call only (interned strings: the scan).
 * Return TN_OK to go on, or an error code (with err set) to stop. */
typedef int (*tn_churn_customer_fn)(void *ud, const tn_churn_customer *c, tn_error *err);

typedef struct tn_churn_scan_opts {
	tn_time as_of;                 /* TN_NO_TIME: the data's end (tn_churn_data_end) */
	const char *const *milestones; /* event types whose first instant is wanted, or NULL */
	size_t nmilestones;
	int want_nps;                  /* 1: fill first_nps */
	int want_causes;               /* 1: fill the subscriptions' source/state/cause and the spells' cause */
	/* optional progress: called every few thousand customers with the
	 * customer key reached and the largest key */
	void (*on_progress)(void *ud, double done, double total);
	void *progress_ud;
	/* only the customers with key_lo <= key < key_hi when key_hi > key_lo
	 * (a part of the store for one thread; 0, 0: every customer) */
	int64_t key_lo, key_hi;
} tn_churn_scan_opts;

/* The end (23:59:59 UTC) of the last day with data in the store
 * (subscriptions, cancellations, payments, feedback, the events' recorded
 * range and a recorded data_end), or TN_NO_TIME when empty: the default
 * "as of" of every command (docs/metrics.md).
 * Does not scan the events table. */
TN_API int tn_churn_data_end(tn_store *s, tn_time *out, tn_error *err);

/* Stream the store.  Only what DEF's rules need is read (events only for
 * inactivity/defection/milestones -- only the milestones' types when the
 * rules read no activity -- payments only for failed payments).
 * *as_of_out (if not NULL) receives the as-of instant used. */
TN_API int tn_churn_scan(tn_store *s, const tn_churn_def *def, const tn_churn_scan_opts *opts,
			 tn_churn_customer_fn fn, void *ud, tn_time *as_of_out, tn_error *err);

/* A customer's MRR at instant T: the sum of the mrr of subscriptions with
 * paid_from <= T < end (COMMITTED: start <= T < end, i.e. trials included). */
TN_API double tn_churn_mrr_at(const tn_churn_customer *c, tn_time t, int committed);

/* ---- rates and cohorts (docs/metrics.md) ------------------------------- */

enum { TN_PERIOD_MONTH = 1, TN_PERIOD_QUARTER = 3, TN_PERIOD_YEAR = 12 };

typedef struct tn_churn_rate_row {
	const char *group; /* "" without grouping; whole (no length limit), inside the rows' allocation */
	tn_time period_start, period_end; /* [start, end); end capped at as-of + 1 s */
	long long customers_start, new_customers, reactivated, churned, customers_end;
	/* of customers_end: paying (MRR > 0 at the end) and in a free trial (no
	 * MRR, a subscription whose trial runs at the end); the rest are alive
	 * but neither (a free plan, or a grace period under DEF) */
	long long paying_end, trialing_end;
	double churn_rate; /* churned / customers_start (NaN when 0) */
	double mrr_start, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr, mrr_end;
	double gross_revenue_churn; /* (churned_mrr + contraction_mrr) / mrr_start */
	double nrr;                 /* (mrr_start + expansion - contraction - churned) / mrr_start */
	/* a definition with a cause_class: customers who left for the other
	 * class (end = start + new + reactivated - churned - churned_other) */
	long long churned_other;
} tn_churn_rate_row;

/* The first of a rate computation's two scans of the store: the earliest
 * spell or subscription start (where the periods begin) and the as-of it
 * resolved -- the same for every period, grouping and cause.  Several
 * rates of one definition on one version of the store (the dashboard's
 * nine) share it: zero one, pass it to each; the first fills it, the ones
 * after with the same requested as-of skip that scan (on 1,000,000
 * customers, about half of each rate's 3 s of CPU). */
typedef struct tn_churn_first {
	int known;
	tn_time as_of_in;   /* the requested as-of (TN_NO_TIME: the data's end) */
	tn_time first;      /* INT64_MAX: no customers */
	tn_time as_of;      /* resolved */
} tn_churn_first;

typedef struct tn_churn_rate_opts {
	int period_months;  /* TN_PERIOD_* */
	const char *by;     /* NULL, "plan", "channel", "country" or an attrs key */
	tn_time as_of;      /* TN_NO_TIME: the data's end */
	void (*on_progress)(void *ud, double done, double total); /* optional, as in tn_churn_scan_opts */
	void *progress_ud;
	tn_churn_first *first; /* optional: shared by rates of the same DEF on the same data (above) */
} tn_churn_rate_opts;

/* Customer counts follow DEF's spells; MRR follows the subscriptions.
 * Rows by group then period; *rows is malloc'ed (caller frees). */
TN_API int tn_churn_rate(tn_store *s, const tn_churn_def *def, const tn_churn_rate_opts *opts,
			 tn_churn_rate_row **rows, size_t *nrows, tn_error *err);

typedef struct tn_cohorts {
	size_t ncohorts, nages;
	tn_time *cohort_start;  /* ncohorts period starts */
	long long *size;        /* customers in each cohort */
	double *base_mrr;       /* revenue variant: cohort committed MRR at age 0 */
	double *value;          /* ncohorts x nages share retained (row-major), NaN when not yet observed */
	int revenue;
	int period_months;
} tn_cohorts;

/* Retention by cohort of first spell start: value[c][k] is the share of the
 * cohort alive k periods after each member's start (or, with REVENUE, the
 * cohort's committed MRR then over its committed MRR at k = 0), counting only
 * members for whom that instant is not after the as-of.  Free with
 * tn_cohorts_free(). */
TN_API int tn_cohorts_compute(tn_store *s, const tn_churn_def *def, int period_months, int revenue, tn_time as_of,
			      tn_cohorts **out, tn_error *err);
/* The same, sharing the first scan with rates of the same DEF on the same
 * data (FIRST as in tn_churn_rate_opts; NULL: as tn_cohorts_compute). */
TN_API int tn_cohorts_compute_first(tn_store *s, const tn_churn_def *def, int period_months, int revenue,
				    tn_time as_of, tn_churn_first *first, tn_cohorts **out, tn_error *err);
TN_API void tn_cohorts_free(tn_cohorts *c);

/* ---- the survival frame (for tenure survival / drivers in store mode) --- */

typedef struct tn_churn_frame_opts {
	tn_time as_of;                 /* TN_NO_TIME: the data's end */
	int all_spells;                /* 0: each customer's first spell only; 1: every spell */
	const char *const *milestones; /* onboarding events; NULL: {"onboarding_complete"} */
	size_t nmilestones;
	double milestone_days;         /* reached within this many days of the spell start (default 7 when <= 0) */
	void (*on_progress)(void *ud, double done, double total); /* optional, as in tn_churn_scan_opts */
	void *progress_ud;
	int causes;                    /* 1: add columns cause (voluntary|involuntary|censored), churn_cause, source */
} tn_churn_frame_opts;

/* One row per spell: customer (text), spell (number), time (days from spell
 * start to churn or censoring), event (1 churned, 0 censored), reason (text),
 * plan (the group: text), billing_period (text), price, mrr, channel,
 * country (text), one attr_KEY text column per key found in attrs,
 * reached_EVENT (0/1) per milestone, first_nps (NaN when none).
 * Free with tn_frame_free(). */
TN_API tn_frame *tn_churn_frame(tn_store *s, const tn_churn_def *def, const tn_churn_frame_opts *opts,
				tn_error *err);

/* The same table streamed to PATH as RFC 4180 CSV (memory: one customer's
 * rows at a time; tenure churn export). */
TN_API int tn_churn_export_csv(tn_store *s, const tn_churn_def *def, const tn_churn_frame_opts *opts,
			       const char *path, tn_error *err);

/* ---- what the causes teach: billing recovery and the save window -------
 * (src/analyses/churn_recovery.c, docs/churn.md "Billing recovery").  One
 * scan with causes under the built-in "cancelled" definition plus the
 * payments, customer by customer. */

#define TN_WINDOW_BINS 6 /* save-window days: [0,1) [1,3) [3,7) [7,14) [14,30) [30,inf) */

typedef struct tn_churn_recovery {
	tn_time as_of;
	/* billing recovery, from the payments: an episode opens at a failed
	 * payment and is recovered by the next succeeded payment; with none by
	 * the as-of it is lost when the customer has no open subscription left,
	 * else still open (in retry) */
	long long episodes, recovered, lost, open;
	double recovery_rate;           /* recovered / (recovered + lost); NaN when none */
	double days_to_recover_median, days_to_recover_mean, days_to_recover_p90; /* NaN when none */
	double revenue_recovered;       /* the recovering payments, reporting currency */
	/* the sources' state now: subscriptions in a grace period or billing retry */
	long long in_grace, in_billing_retry;
	double mrr_in_billing_issue;
	/* trials that ended by the as-of and how many went on paying */
	long long trials_ended, trials_converted;
	double trial_conversion;
	/* refunds: refunded payments among succeeded + refunded (count, amount) */
	long long payments_paid, payments_refunded, subscriptions_refunded;
	double refund_rate, refund_amount_rate;
	/* churned spells by cause (the built-in "cancelled" definition) */
	long long churned, churned_voluntary, churned_involuntary, churned_price_increase;
	double churned_mrr, churned_mrr_involuntary, churned_mrr_price_increase;
	double involuntary_mrr_share;   /* churned_mrr_involuntary / churned_mrr */
	double price_increase_share;    /* churned_price_increase / churned */
	/* the save window: days from auto-renew off to expiry, over the
	 * subscriptions whose window closed by the as-of */
	long long window_n;
	double window_min, window_p25, window_median, window_p75, window_p90, window_max, window_mean;
	long long window_bins[TN_WINDOW_BINS];
	/* windows still open: auto-renew off, expiry after the as-of -- the
	 * customers a save offer can still reach */
	long long window_open;
	double window_open_mrr;
} tn_churn_recovery;

/* AS_OF TN_NO_TIME: the data's end.  Quantiles as R's quantile() (type 7). */
TN_API int tn_churn_recovery_compute(tn_store *s, tn_time as_of, tn_churn_recovery *out, tn_error *err);

/* Write a frame as RFC 4180 CSV to PATH. */
TN_API int tn_frame_write_csv(const tn_frame *f, const char *path, tn_error *err);

#endif
