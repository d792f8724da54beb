/*
 * store_state.c -- a subscription's exact state from its source (migration
 * 8): what the App Store, Google Play, Stripe and RevenueCat say, kept beside
 * the coarse status every analysis reads.  Written through the SQL interface
 * (db.h), so it runs on either engine.
 */
#include <string.h>

#include "store/db.h"
#include "tenure.h"

static int one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return 1;
	return 0;
}

static const char *const SOURCES[] = {"import", "appstore", "googleplay", "stripe", "revenuecat", NULL};
static const char *const STATES[] = {"trial",   "active",  "cancelling", "grace", "billing_retry",
				     "paused",  "expired", "refunded",   NULL};
static const char *const CAUSES[] = {"voluntary", "billing", "price_increase", "refund", "revoked",
				     "product_unavailable", "other", NULL};

static const char SQL_FIND[] = "SELECT id FROM subscriptions WHERE ext_id = ?";
/* one row when the subscription has a state: 1 when it is the same one */
static const char SQL_SAME[] =
	"SELECT source = ?2 AND state = ?3 AND cause IS NOT DISTINCT FROM ?4"
	" AND auto_renew IS NOT DISTINCT FROM ?5 AND expires_at IS NOT DISTINCT FROM ?6"
	" AND auto_renew_off_at IS NOT DISTINCT FROM ?7 FROM subscription_state WHERE subscription_id = ?1";
static const char SQL_PUT[] =
	"INSERT INTO subscription_state(subscription_id, source, state, cause, auto_renew, expires_at,"
	" auto_renew_off_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
	" ON CONFLICT (subscription_id) DO UPDATE SET source = excluded.source, state = excluded.state,"
	" cause = excluded.cause, auto_renew = excluded.auto_renew, expires_at = excluded.expires_at,"
	" auto_renew_off_at = excluded.auto_renew_off_at, updated_at = excluded.updated_at";

static void bind_fields(tn_stmt *st, int64_t id, const tn_subscription_state *r)
{
	tn_db_bind_int64(st, 1, id);
	tn_db_bind_text(st, 2, r->source);
	tn_db_bind_text(st, 3, r->state);
	tn_db_bind_text(st, 4, r->cause);
	if (r->auto_renew < 0)
		tn_db_bind_null(st, 5);
	else
		tn_db_bind_int64(st, 5, r->auto_renew != 0);
	tn_db_bind_time(st, 6, r->expires_at);
	tn_db_bind_time(st, 7, r->auto_renew_off_at);
}

int tn_store_put_subscription_state(tn_store *s, const tn_subscription_state *r, int *outcome, tn_error *err)
{
	if (outcome)
		*outcome = TN_PUT_UNCHANGED;
	if (!r->subscription || !*r->subscription)
		return tn_error_set(err, TN_ERR_INPUT, "subscription state: the subscription id is required");
	if (!r->source || !one_of(r->source, SOURCES))
		return tn_error_set(err, TN_ERR_INPUT, "subscription state: unknown source '%s'",
				    r->source ? r->source : "");
	if (!r->state || !one_of(r->state, STATES))
		return tn_error_set(err, TN_ERR_INPUT, "subscription state: unknown state '%s'",
				    r->state ? r->state : "");
	if (r->cause && !one_of(r->cause, CAUSES))
		return tn_error_set(err, TN_ERR_INPUT, "subscription state: unknown cause '%s'", r->cause);
	if (r->updated_at == TN_NO_TIME)
		return tn_error_set(err, TN_ERR_INPUT, "subscription state: the time of the report is required");

	tn_stmt *find = tn_db_cached(s, SQL_FIND, err);
	if (!find)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(find, 1, r->subscription);
	int rc = tn_db_step(find, "finding a subscription", err);
	int64_t id = rc == TN_DB_ROW ? tn_db_column_int64(find, 0) : 0;
	tn_db_reset(find);
	if (rc == TN_DB_DONE)
		return tn_error_set(err, TN_ERR_NOTFOUND, "subscription state: no subscription '%s'", r->subscription);
	if (rc != TN_DB_ROW)
		return rc;

	tn_stmt *same = tn_db_cached(s, SQL_SAME, err);
	if (!same)
		return tn_error_code(err, TN_ERR_DB);
	bind_fields(same, id, r);
	rc = tn_db_step(same, "reading a subscription's state", err);
	int existed = rc == TN_DB_ROW;
	int unchanged = existed && tn_db_column_int64(same, 0) == 1;
	tn_db_reset(same);
	if (rc != TN_DB_ROW && rc != TN_DB_DONE)
		return rc;
	if (unchanged)
		return TN_OK; /* keep updated_at as the first report of this state */

	tn_stmt *put = tn_db_cached(s, SQL_PUT, err);
	if (!put)
		return tn_error_code(err, TN_ERR_DB);
	bind_fields(put, id, r);
	tn_db_bind_time(put, 8, r->updated_at);
	rc = tn_db_step(put, "writing a subscription's state", err);
	tn_db_reset(put);
	if (rc != TN_DB_DONE)
		return rc == TN_DB_ROW ? tn_error_set(err, TN_ERR_DB, "subscription state: unexpected rows") : rc;
	if (outcome)
		*outcome = existed ? TN_PUT_UPDATED : TN_PUT_ADDED;
	return TN_OK;
}
