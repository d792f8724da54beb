/*
 * tenure/summary.h -- the headline figures of a store, each computed once
 * here and shown by `tenure summary`, the report's headline box and the
 * server: customers, paying and trialing, MRR, this month's churn rate and
 * last month's, net revenue retention, NPS and revenue at risk.  The counts
 * and MRR are the last period of `tenure churn rate` (monthly, default churn
 * definition) for the same as-of, so the two always agree
 * (docs/metrics.md, "Headline figures").
 */
#ifndef TENURE_SUMMARY_H
#define TENURE_SUMMARY_H

#include "tenure/error.h"
#include "tenure/store.h"

typedef struct tn_summary {
	tn_time as_of;            /* the end of the as-of day (tn_churn_data_end unless given) */
	tn_time month_start;      /* the start of the as-of's month (the current period) */
	int month_partial;        /* 1 when the as-of is not the month's last day */
	char currency[8];         /* the subscriptions' currency ("" when none; "mixed" when several) */
	long long customers;      /* customers in the store */
	long long active;         /* customers with a live spell at the as-of (churn rate's customers_end) */
	long long paying;         /* of active: MRR > 0 */
	long long trialing;       /* of active: in a free trial */
	double mrr;               /* monthly recurring revenue at the as-of (churn rate's mrr_end) */
	long long churned;        /* customers who churned this month (to the as-of) */
	long long churn_base;     /* customers at the start of this month */
	double churn_rate;        /* churned / churn_base (NaN: none at the start) */
	double churn_rate_prev;   /* the previous month's churn rate (NaN: none) */
	double nrr;               /* this month's net revenue retention (NaN: no MRR at its start) */
	long long reactivated;    /* customers with more than one subscription */
	long long events;
	long long nps_responses;  /* NPS answers in the 90 days to the as-of */
	double nps;               /* % promoters - % detractors, -100..100 (NaN: none) */
	double revenue_at_risk;   /* sum over live subscribers of P(not renewing next) x future value */
	long long exit_answers;   /* exit-survey answers to the as-of */
} tn_summary;

struct tn_churn_def;

/* Compute the summary as of AS_OF (TN_NO_TIME: the end of the data's last
 * day) under churn definition DEF (tn_summary_get: the built-in default). */
TN_API int tn_summary_get(tn_store *s, tn_time as_of, tn_summary *out, tn_error *err);
TN_API int tn_summary_get_def(tn_store *s, const struct tn_churn_def *def, tn_time as_of, tn_summary *out,
			      tn_error *err);
/* The same, the live subscribers' value (tn_value_retention at AS_OF,
 * discount 0.10: the revenue at risk) shared with the caller: *RET non-NULL
 * is used as is (it must be that of DEF and AS_OF); NULL is computed when
 * needed and left in *RET for the caller to free (the dashboard's /who and
 * insights read the same result: one scan of the store instead of three). */
struct tn_value_retention_result;
TN_API int tn_summary_get_shared(tn_store *s, const struct tn_churn_def *def, tn_time as_of,
				 struct tn_value_retention_result **ret, tn_summary *out, tn_error *err);

#endif
