/*
 * journey.c -- onboarding milestones.  Four milestones, in order:
 * first_impression, first_value, intended_value, extended_value (the
 * "customer journey" stages of a subscription product's onboarding), each
 * mapped to an event type; a customer reaches a milestone with their first
 * event of that type at or after signup.  From that: the funnel (conversion
 * and median days to each milestone, by signup cohort), churn by the furthest
 * milestone reached, and the customers stuck before first value.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"
#include "base/radix.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ms_names[TN_MS_COUNT] = {"first_impression", "first_value", "intended_value", "extended_value"};
static const char *ms_defaults[TN_MS_COUNT] = {"session", "feature_use", "onboarding_complete", "invite_sent"};

const char *tn_milestone_name(int m)
{
	return m >= 0 && m < TN_MS_COUNT ? ms_names[m] : "none";
}

int tn_milestone_parse(const char *name)
{
	for (int m = 0; m < TN_MS_COUNT; m++)
		if (strcmp(name, ms_names[m]) == 0)
			return m;
	return -1;
}

int tn_journey_map(tn_store *s, int m, const char *event_type, tn_error *err)
{
	if (m < 0 || m >= TN_MS_COUNT)
		return tn_error_set(err, TN_ERR_USAGE, "milestone: expected first_impression, first_value, "
						       "intended_value or extended_value");
	if (!event_type || !*event_type)
		return tn_error_set(err, TN_ERR_USAGE, "event type: expected a name, found a blank");
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO journey_milestones(milestone, event_type) VALUES(?,?) "
					       "ON CONFLICT(milestone) DO UPDATE SET event_type = excluded.event_type",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, ms_names[m]);
	tn_db_bind_text(st, 2, event_type);
	int rc = tn_db_step(st, "saving a milestone", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "saving a milestone", err);
	tn_db_finalize(st);
	return rc;
}

void tn_journey_types_free(char *types[TN_MS_COUNT])
{
	for (int m = 0; m < TN_MS_COUNT; m++) {
		free(types[m]);
		types[m] = NULL;
	}
}

int tn_journey_types(tn_store *s, char *types[TN_MS_COUNT], int mapped[TN_MS_COUNT], tn_error *err)
{
	for (int m = 0; m < TN_MS_COUNT; m++) {
		types[m] = NULL;
		mapped[m] = 0;
	}
	tn_stmt *st = tn_db_prepare(s, "SELECT milestone, event_type FROM journey_milestones", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "reading journey milestones", err)) == TN_DB_ROW) {
		int m = tn_milestone_parse(tn_db_column_text(st, 0));
		if (m >= 0 && !types[m]) {
			if (!(types[m] = tn_strdup(tn_db_column_text(st, 1)))) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			mapped[m] = 1;
		}
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	if (rc) {
		tn_journey_types_free(types);
		return rc;
	}
	for (int m = 0; m < TN_MS_COUNT; m++)
		if (!types[m] && !(types[m] = tn_strdup(ms_defaults[m]))) {
			tn_journey_types_free(types);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
	return TN_OK;
}

void tn_journey_free(tn_journey *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		free(j->customer[i]);
	free(j->customer);
	free(j->signed_up_at);
	free(j->reached);
	free(j->furthest);
	free(j->churned);
	free(j->has_subs);
	free(j);
}

typedef struct jrow {
	int64_t cid, ty;
	tn_time t;
} jrow;

/* An event (customer CID, instant T, type TY) found apart from the look-ups:
 * it moves a milestone earlier if it is at/after signup and before what the
 * look-up found.  LAST[2] (customer, row; start with INT64_MIN) saves the
 * search while rows come customer by customer. */
static void reach(tn_journey *j, const int64_t *ids, const int64_t tid[TN_MS_COUNT], int64_t last[2], int64_t cid,
		  tn_time t, int64_t ty)
{
	if (cid != last[0])
		last[1] = tn_sorted_find_i64(ids, j->n, cid), last[0] = cid;
	int64_t row = last[1];
	if (row < 0 || t < j->signed_up_at[row])
		return;
	for (int m = 0; m < TN_MS_COUNT; m++) {
		tn_time *r = &j->reached[(size_t)row * TN_MS_COUNT + (size_t)m];
		if (ty == tid[m] && (*r == TN_NO_TIME || t < *r))
			*r = t;
	}
}

int tn_journey_load(tn_store *s, tn_time now, tn_journey **out, tn_error *err)
{
	*out = NULL;
	char *types[TN_MS_COUNT];
	int mapped[TN_MS_COUNT];
	int rc = tn_journey_types(s, types, mapped, err), step;
	if (rc)
		return rc;
	rc = TN_ERR_DB; /* the status of a jump to fail */
	tn_journey *j = tn_calloc(1, sizeof *j);
	int64_t *ids = NULL; /* the loaded customers' keys, ascending */
	char *jq = NULL;     /* the events' part scanned (tn_store_events_seek_sql) */
	jrow *jr = NULL;     /* the journal's rows, read before the look-ups */
	size_t njr = 0;
	tn_stmt *st = NULL;
	if (!j)
		goto nomem;
	j->now = now;
	if (!(st = tn_db_prepare(s, "SELECT count(*) FROM customers", err)))
		goto fail;
	if (tn_db_step_row(st, "counting customers", err))
		goto fail;
	size_t cap = (size_t)tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	st = NULL;
	if (!cap)
		cap = 1;
	if (!(ids = tn_malloc(cap * sizeof *ids)) || !(j->customer = tn_calloc(cap, sizeof *j->customer)) ||
	    !(j->signed_up_at = tn_malloc(cap * sizeof *j->signed_up_at)) ||
	    !(j->reached = tn_malloc(cap * TN_MS_COUNT * sizeof *j->reached)) ||
	    !(j->furthest = tn_malloc(cap * sizeof *j->furthest)) || !(j->churned = tn_calloc(cap, sizeof *j->churned)) ||
	    !(j->has_subs = tn_calloc(cap, sizeof *j->has_subs)))
		goto nomem;
	/* the milestones' event types (an unknown type: none reached) */
	int64_t tid[TN_MS_COUNT];
	for (int m = 0; m < TN_MS_COUNT; m++) {
		tid[m] = -1;
		if (!(st = tn_db_prepare(s, "SELECT id FROM event_types WHERE name = ?", err)))
			goto fail;
		tn_db_bind_text(st, 1, types[m]);
		step = tn_db_step(st, "reading event types", err);
		if (step == TN_DB_ROW)
			tid[m] = tn_db_column_int64(st, 0);
		else if (tn_db_step_end(step, err))
			goto fail;
		tn_db_finalize(st);
		st = NULL;
	}
	/* The first event of each milestone's type at/after signup, looked up
	 * per customer inside the store: a seek on the events' key (customer,
	 * time) from the signup on, stopping at the type's first row.  Until
	 * session 31 every event of the four types was scanned and handed to C
	 * in key order (~104M rows on 1,000,000 customers, 72% of them sessions,
	 * each stepped, read and skipped after the customer's first); a seek
	 * finds a frequent type within a few rows, and a rare one costs one
	 * walk of the customer's events inside SQLite, with nothing handed over
	 * (a type the store has never seen is not looked up).  The customer's
	 * row brings its four instants along.  Where the store says not to
	 * seek (PostgreSQL), the scan stays. */
	char cond[320];
	snprintf(cond, sizeof cond,
		 "(type_id = %lld OR type_id = %lld OR type_id = %lld OR type_id = %lld) AND occurred_at <= %lld",
		 (long long)tid[0], (long long)tid[1], (long long)tid[2], (long long)tid[3], (long long)now);
	const char *events = NULL;
	if (!(jq = tn_store_events_seek_sql(s, &events, "customer_id, occurred_at, type_id", cond,
					   "customer_id, occurred_at", err)))
		goto fail;
	/* The journal's rows are read before the look-ups, not after: they are
	 * separate statements, so separate snapshots, and a fold committed
	 * between them moves rows from the journal into the events' table.
	 * Read in this order such a row is seen twice (harmless for a minimum);
	 * in the other order it could be seen by neither. */
	if (events && *jq) {
		if (!(st = tn_db_prepare(s, jq, err)))
			goto fail;
		size_t cap_jr = 0;
		while ((step = tn_db_step(st, "reading the events journal", err)) == TN_DB_ROW) {
			if (njr == cap_jr) {
				size_t nc = cap_jr ? cap_jr * 2 : 256;
				jrow *t = tn_realloc(jr, nc * sizeof *t);
				if (!t)
					goto nomem;
				jr = t;
				cap_jr = nc;
			}
			jr[njr].cid = tn_db_column_int64(st, 0);
			jr[njr].t = tn_db_column_int64(st, 1);
			jr[njr++].ty = tn_db_column_int64(st, 2);
		}
		if (tn_db_step_end( step, err))
			goto fail;
		tn_db_finalize(st);
		st = NULL;
	}
	char first[TN_MS_COUNT][320], q[1536];
	for (int m = 0; m < TN_MS_COUNT; m++)
		if (tid[m] < 0 || !events) /* no event of that type in the store, or no seek: the scan below */
			snprintf(first[m], sizeof first[m], "CAST(NULL AS BIGINT)");
		else
			snprintf(first[m], sizeof first[m],
				 "(SELECT e.occurred_at FROM %s e WHERE e.customer_id = c.id AND e.occurred_at >= "
				 "c.signed_up_at AND e.occurred_at <= ?1 AND e.type_id = %lld ORDER BY e.occurred_at LIMIT 1)",
				 events, (long long)tid[m]);
	snprintf(q, sizeof q,
		 "SELECT c.id, c.ext_id, c.signed_up_at, %s, %s, %s, %s FROM customers c WHERE c.signed_up_at IS NOT NULL "
		 "AND c.signed_up_at <= ?1 ORDER BY c.id",
		 first[0], first[1], first[2], first[3]);
	if (!(st = tn_db_prepare(s, q, err)))
		goto fail;
	tn_db_bind_int64(st, 1, now);
	while ((step = tn_db_step(st, "reading customers", err)) == TN_DB_ROW && j->n < cap) {
		int64_t id = tn_db_column_int64(st, 0);
		ids[j->n] = id; /* ORDER BY id: ascending */
		if (!(j->customer[j->n] = tn_strdup(tn_db_column_text(st, 1))))
			goto nomem;
		j->signed_up_at[j->n] = tn_db_column_int64(st, 2);
		for (int m = 0; m < TN_MS_COUNT; m++)
			j->reached[j->n * TN_MS_COUNT + (size_t)m] = tn_db_column_time(st, 3 + m);
		j->n++;
	}
	if (step == TN_DB_ROW) { /* more rows than counted a moment ago */
		tn_error_set(err, TN_ERR_DB, "%s: customers were added while reading them; run again",
			     tn_store_path(s));
		goto fail;
	}
	if (tn_db_step_end( step, err))
		goto fail;
	tn_db_finalize(st);
	st = NULL;
	/* the rest, merged in as minima: the journal's rows read above, or
	 * every event of the four types in key order where there was no seek */
	int64_t last[2] = {INT64_MIN, -1};
	for (size_t k = 0; k < njr; k++)
		reach(j, ids, tid, last, jr[k].cid, jr[k].t, jr[k].ty);
	if (!events) {
		if (!(st = tn_db_prepare(s, jq, err)))
			goto fail;
		while ((step = tn_db_step(st, "reading events", err)) == TN_DB_ROW)
			reach(j, ids, tid, last, tn_db_column_int64(st, 0), tn_db_column_int64(st, 1),
			      tn_db_column_int64(st, 2));
		if (tn_db_step_end( step, err))
			goto fail;
		tn_db_finalize(st);
		st = NULL;
	}
	free(jq);
	jq = NULL;
	free(jr);
	jr = NULL;
	/* live as of now: started by then, and not ended (cancelled or expired) by then */
	if (!(st = tn_db_prepare(s,
				    "SELECT customer_id, max(CASE WHEN status IN ('cancelled','expired') AND "
				    "coalesce(cancelled_at, current_period_end, started_at) <= ?1 THEN 0 ELSE 1 END) "
				    "FROM subscriptions WHERE started_at <= ?1 GROUP BY customer_id",
				    err)))
		goto fail;
	tn_db_bind_int64(st, 1, now);
	while ((step = tn_db_step(st, "reading subscriptions", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(st, 0);
		int64_t at = tn_sorted_find_i64(ids, j->n, id);
		if (at < 0)
			continue;
		j->has_subs[at] = 1;
		j->churned[at] = !(int)tn_db_column_int64(st, 1);
	}
	if (tn_db_step_end( step, err))
		goto fail;
	tn_db_finalize(st);
	st = NULL;
	for (size_t i = 0; i < j->n; i++) {
		j->furthest[i] = -1;
		for (int m = 0; m < TN_MS_COUNT; m++)
			if (j->reached[i * TN_MS_COUNT + (size_t)m] != TN_NO_TIME)
				j->furthest[i] = m;
	}
	free(ids);
	tn_journey_types_free(types);
	*out = j;
	return TN_OK;
nomem:
	rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory loading the journey");
fail:
	tn_db_finalize(st);
	free(jq);
	free(jr);
	free(ids);
	tn_journey_free(j);
	tn_journey_types_free(types);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const tn_journey *g_j; /* qsort context */

static int by_signup(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, k = *(const size_t *)b;
	tn_time x = g_j->signed_up_at[i], y = g_j->signed_up_at[k];
	if (x != y)
		return (x > y) - (x < y);
	return (i > k) - (i < k);
}

static size_t *sorted_by_signup(const tn_journey *j)
{
	size_t *idx = tn_malloc((j->n ? j->n : 1) * sizeof *idx);
	if (!idx)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		idx[i] = i;
	g_j = j;
	qsort(idx, j->n, sizeof *idx, by_signup);
	g_j = NULL;
	return idx;
}

int tn_journey_funnel(const tn_journey *j, int by_month, tn_funnel_row **rows, size_t *n, tn_error *err)
{
	*rows = NULL;
	*n = 0;
	size_t *idx = sorted_by_signup(j);
	double *days = tn_malloc((j->n ? j->n : 1) * sizeof *days);
	tn_funnel_row *out = NULL;
	size_t len = 0, cap = 0;
	if (!idx || !days)
		goto nomem;
	for (size_t a = 0; a < j->n;) {
		tn_time ms = by_month ? tn_month_start(j->signed_up_at[idx[a]]) : 0;
		size_t b = a;
		while (b < j->n && (!by_month || tn_month_start(j->signed_up_at[idx[b]]) == ms))
			b++;
		for (int m = 0; m < TN_MS_COUNT; m++) {
			size_t k = 0;
			for (size_t q = a; q < b; q++) {
				tn_time t = j->reached[idx[q] * TN_MS_COUNT + (size_t)m];
				if (t != TN_NO_TIME)
					days[k++] = (double)(t - j->signed_up_at[idx[q]]) / TN_DAY;
			}
			if (len == cap) {
				size_t nc = cap ? cap * 2 : 64;
				tn_funnel_row *t = tn_realloc(out, nc * sizeof *t);
				if (!t)
					goto nomem;
				out = t;
				cap = nc;
			}
			tn_funnel_row *r = &out[len++];
			memset(r, 0, sizeof *r);
			if (by_month) {
				int y, mo, d;
				tn_civil_from_days(ms / TN_DAY, &y, &mo, &d);
				snprintf(r->cohort, sizeof r->cohort, "%04d-%02d", y, mo);
			} else {
				snprintf(r->cohort, sizeof r->cohort, "all");
			}
			r->milestone = m;
			r->customers = (long)(b - a);
			r->reached = (long)k;
			r->conversion = b > a ? (double)k / (double)(b - a) : NAN;
			r->median_days = median(days, k);
		}
		a = b;
	}
	free(idx);
	free(days);
	*rows = out;
	*n = len;
	return TN_OK;
nomem:
	free(idx);
	free(days);
	free(out);
	return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

void tn_journey_churn(const tn_journey *j, tn_journey_churn_row rows[TN_MS_COUNT + 1])
{
	for (int f = -1; f < TN_MS_COUNT; f++) {
		rows[f + 1].furthest = f;
		rows[f + 1].customers = rows[f + 1].churned = 0;
	}
	for (size_t i = 0; i < j->n; i++) {
		if (!j->has_subs[i])
			continue;
		tn_journey_churn_row *r = &rows[j->furthest[i] + 1];
		r->customers++;
		r->churned += j->churned[i];
	}
	for (int k = 0; k <= TN_MS_COUNT; k++)
		rows[k].churn_rate = rows[k].customers ? (double)rows[k].churned / (double)rows[k].customers : NAN;
}

int tn_journey_stuck(const tn_journey *j, double days, size_t **idx, size_t *n, tn_error *err)
{
	*idx = NULL;
	*n = 0;
	size_t *all = sorted_by_signup(j);
	if (!all)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	size_t k = 0;
	tn_time cutoff = j->now - (tn_time)llround(days * TN_DAY);
	for (size_t q = 0; q < j->n; q++) {
		size_t i = all[q];
		if (j->churned[i] || j->signed_up_at[i] > cutoff)
			continue;
		if (j->reached[i * TN_MS_COUNT + TN_MS_FIRST_VALUE] == TN_NO_TIME)
			all[k++] = i;
	}
	*idx = all;
	*n = k;
	return TN_OK;
}
