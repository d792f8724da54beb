/*
 * tenure/demo.h -- the demo company: a deterministic synthetic mobile-app
 * subscription business with planted, documented effects (docs/demo.md),
 * for a first look and for recovering those effects in tests.
 */
#ifndef TENURE_DEMO_H
#define TENURE_DEMO_H

#include "tenure/error.h"
#include "tenure/store.h"

typedef struct tn_demo_opts {
	long customers;     /* default 50000 */
	int months;         /* default 18 */
	unsigned long long seed; /* default 42 */
	tn_time end;        /* the data's last day (default 2026-06-30T00:00:00Z) */
	void (*on_progress)(void *ud, double done, double total);
	void *ud;
} tn_demo_opts;

typedef struct tn_demo_result {
	long long customers, subscriptions, events, payments, feedback;
} tn_demo_result;

/* Fill defaults into O. */
TN_API void tn_demo_defaults(tn_demo_opts *o);
/* Generate the demo into S (which should be empty) in one transaction. */
TN_API int tn_demo_generate(tn_store *s, const tn_demo_opts *o, tn_demo_result *res, tn_error *err);

/* The demo's store customers (src/demo/demo_sources.c, docs/demo.md): PER_SOURCE
 * subscribers each on the App Store, Google Play and Stripe over the MONTHS
 * before END, whose notifications are generated, signed (a certificate chain
 * and a secret made on the spot, configured as sources) and then verified and
 * applied as `tenure serve` does -- with planted voluntary and involuntary
 * churn.  One transaction; *notifications counts what was delivered. */
TN_API int tn_demo_sources(tn_store *s, long per_source, tn_time end, int months, unsigned long long seed,
			   long long *notifications, tn_error *err);

#endif
