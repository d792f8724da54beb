/*
 * actions_fixture.h -- a scratch store for the action tests (offers,
 * win-back, points, journey), built with the store writer API.
 */
#ifndef TENURE_ACTIONS_FIXTURE_H
#define TENURE_ACTIONS_FIXTURE_H

#include "testutil.h"
#include "tenure.h"
#include <unistd.h>

#define T0 1704067200 /* 2024-01-01T00:00:00Z */
#define DAY 86400

typedef struct fixture {
	char path[64];
	tn_store *s;
} fixture;

static inline void fx_open(fixture *f)
{
	snprintf(f->path, sizeof f->path, "/tmp/tenure-actions-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	tn_error err = {0};
	if (tn_store_open(f->path, TN_STORE_CREATE, &f->s, &err))
		fail_msg("open: %s", err.msg);
}

static inline void fx_close(fixture *f)
{
	tn_store_close(f->s);
	unlink(f->path);
}

static inline void fx_customer(fixture *f, const char *id, tn_time signup)
{
	tn_error err = {0};
	tn_customer_rec c = {.id = id, .signed_up_at = signup};
	if (tn_store_put_customer(f->s, &c, NULL, &err))
		fail_msg("customer %s: %s", id, err.msg);
}

static inline void fx_sub(fixture *f, const char *cust, const char *plan, double price, tn_time start, tn_time end,
			  tn_time cancelled, const char *status)
{
	tn_error err = {0};
	tn_subscription_rec r = {.customer = cust, .plan = plan, .billing_period = "month", .price = price,
				 .currency = "USD", .started_at = start, .trial_ends_at = TN_NO_TIME,
				 .current_period_end = end, .cancelled_at = cancelled, .status = status};
	if (tn_store_put_subscription(f->s, &r, NULL, &err))
		fail_msg("subscription of %s: %s", cust, err.msg);
}

static inline void fx_event(fixture *f, const char *cust, tn_time at, const char *type, double amount)
{
	tn_error err = {0};
	tn_event_rec e = {.customer = cust, .at = at, .type = type, .amount = amount};
	if (tn_store_put_event(f->s, &e, &err))
		fail_msg("event: %s", err.msg);
}

static inline void fx_payment(fixture *f, const char *cust, tn_time at, double amount)
{
	tn_error err = {0};
	tn_payment_rec p = {.customer = cust, .at = at, .amount = amount, .currency = "USD", .status = "succeeded"};
	if (tn_store_put_payment(f->s, &p, NULL, &err))
		fail_msg("payment: %s", err.msg);
}

static inline void fx_begin(fixture *f)
{
	tn_error err = {0};
	if (tn_store_begin(f->s, &err))
		fail_msg("begin: %s", err.msg);
}

static inline void fx_commit(fixture *f)
{
	tn_error err = {0};
	if (tn_store_commit(f->s, &err))
		fail_msg("commit: %s", err.msg);
}

#endif
