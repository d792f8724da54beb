/*
 * summary.c -- `tenure summary`: a first look at the store with fixed,
 * simple definitions (include/tenure/summary.h).  A subscription counts as
 * running at time T when it started at or before T and has not ended: ended
 * means cancelled or expired with its current period over.
 */
#include "tenure/summary.h"
#include "store_sqlite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int one_row(tn_store *s, const char *sql, tn_time as_of, double *vals, int n, tn_error *err)
{
	sqlite3_stmt *st = tn_store_prepare(s, sql, err);
	if (!st)
		return TN_ERR_DB;
	for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++)
		sqlite3_bind_int64(st, i, as_of);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		for (int i = 0; i < n; i++)
			vals[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? TN_OK : tn_store_db_error(s, "computing the summary", err);
}

/* When a subscription stops counting: its period end if cancelled/expired,
 * else never.  (SQL expression over a row of subscriptions.) */
#define ENDED_AT "(CASE WHEN status IN ('cancelled','expired') THEN coalesce(current_period_end, cancelled_at) END)"
/* When it stopped being wanted: the cancellation, else the lapse. */
#define LEFT_AT "(CASE WHEN status IN ('cancelled','expired') THEN coalesce(cancelled_at, current_period_end) END)"

int tn_summary_get(tn_store *s, tn_time as_of, tn_summary *o, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	memset(o, 0, sizeof *o);
	tn_store_counts c;
	if (tn_store_counts_get(s, &c, err))
		return err->code;
	if (as_of == TN_NO_TIME) {
		char *end;
		int rc = tn_store_meta_get(s, "data_end", &end, err);
		if (rc)
			return rc;
		as_of = end ? strtoll(end, NULL, 10) : (c.last == TN_NO_TIME ? 0 : c.last);
		free(end);
	}
	o->as_of = as_of;
	o->customers = c.customers;
	o->events = c.events;
	double v[4];
	if (one_row(s,
		    "SELECT sum(status IN ('active','past_due') OR (status = 'trialing' AND trial_ends_at <= ?1)),"
		    " sum(status = 'trialing' AND coalesce(trial_ends_at, ?1 + 1) > ?1),"
		    " total(CASE WHEN status IN ('active','past_due') THEN tn_money(price, currency, started_at) / (CASE billing_period"
		    " WHEN 'month' THEN 1.0 WHEN 'year' THEN 12.0 WHEN 'quarter' THEN 3.0"
		    " WHEN 'week' THEN 12.0/52 WHEN 'day' THEN 12.0/365 END) END)"
		    " FROM subscriptions WHERE started_at <= ?1",
		    as_of, v, 3, err))
		return err->code;
	o->paying = (long long)(isnan(v[0]) ? 0 : v[0]);
	o->trialing = (long long)(isnan(v[1]) ? 0 : v[1]);
	o->mrr = v[2];
	if (one_row(s,
		    "SELECT sum(" LEFT_AT " > ?1 - 30*86400 AND " LEFT_AT " <= ?1),"
		    " sum(started_at <= ?1 - 30*86400 AND coalesce(" LEFT_AT ", ?1 + 1) > ?1 - 30*86400)"
		    " FROM subscriptions",
		    as_of, v, 2, err))
		return err->code;
	o->churned_30d = (long long)(isnan(v[0]) ? 0 : v[0]);
	o->base_30d = (long long)(isnan(v[1]) ? 0 : v[1]);
	o->churn_rate_30d = o->base_30d > 0 ? (double)o->churned_30d / (double)o->base_30d : NAN;
	if (one_row(s, "SELECT count(*) FROM (SELECT customer_id FROM subscriptions GROUP BY customer_id"
		       " HAVING count(*) > 1) WHERE ?1 = ?1",
		    as_of, v, 1, err))
		return err->code;
	o->reactivated = (long long)v[0];
	if (one_row(s,
		    "SELECT count(*), 100.0 * (total(score >= 9) - total(score <= 6)) / count(*) FROM feedback"
		    " WHERE kind = 'nps' AND score IS NOT NULL AND given_at > ?1 - 90*86400 AND given_at <= ?1",
		    as_of, v, 2, err))
		return err->code;
	o->nps_responses = (long long)v[0];
	o->nps = o->nps_responses ? v[1] : NAN;
	if (one_row(s, "SELECT count(*) FROM feedback WHERE kind = 'exit' AND ?1 = ?1", as_of, v, 1, err))
		return err->code;
	o->exit_answers = (long long)v[0];
	return TN_OK;
}
