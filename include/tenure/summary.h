/*
 * tenure/summary.h -- the first look at a store: how many customers, how
 * many pay, monthly recurring revenue, how many left lately, what they say.
 * Simple, fixed definitions (docs/metrics.md has the full measures that
 * `tenure churn rate` computes with named churn definitions).
 */
#ifndef TENURE_SUMMARY_H
#define TENURE_SUMMARY_H

#include "tenure/error.h"
#include "tenure/store.h"

typedef struct tn_summary {
	tn_time as_of;            /* the data's end unless given */
	long long customers;
	long long paying;         /* subscriptions active or past_due at as_of */
	long long trialing;       /* in a free trial at as_of */
	double mrr;               /* sum of paying subscriptions' price per month */
	long long churned_30d;    /* subscriptions that ended (cancelled or expired) in the 30 days before as_of */
	long long base_30d;       /* subscriptions paying or trialing 30 days before as_of */
	double churn_rate_30d;    /* churned_30d / base_30d */
	long long reactivated;    /* customers with more than one subscription */
	long long events;
	long long nps_responses;  /* NPS answers in the 90 days before as_of */
	double nps;               /* % promoters - % detractors, -100..100 (NaN: none) */
	long long exit_answers;   /* exit-survey answers, all time */
} tn_summary;

/* Compute the summary as of AS_OF (TN_NO_TIME: the data's end). */
TN_API int tn_summary_get(tn_store *s, tn_time as_of, tn_summary *out, tn_error *err);

#endif
