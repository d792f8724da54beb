/*
 * store_customer.c -- one customer's record for the API (GET
 * /v1/customers/{id}, docs/api.md), read with a handful of keyed queries so a
 * lookup costs a few B-tree descents whatever the size of the store.
 *
 * What the store holds is returned; what it does not (a risk score when no
 * alert carried one) is null; the value estimate comes from the caller (the
 * server's value model, src/server/value.c) or is null.  The tier rule is the one of
 * points_query.c (the highest-level tier whose threshold the customer's
 * earned points or net spend reach), restricted to one customer.
 */
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Add column I of ST to O under NAME, typed: NULL -> null, numbers, text. */
static void add_col(cJSON *o, const char *name, tn_stmt *st, int i)
{
	if (tn_db_column_is_null(st, i))
		cJSON_AddNullToObject(o, name);
	else if (tn_db_column_is_number(st, i))
		cJSON_AddNumberToObject(o, name, tn_db_column_double0(st, i));
	else
		cJSON_AddStringToObject(o, name, tn_db_column_text(st, i));
}

static void add_time(cJSON *o, const char *name, tn_stmt *st, int i)
{
	if (tn_db_column_is_null(st, i)) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	char buf[32];
	cJSON_AddStringToObject(o, name, tn_time_format(tn_db_column_int64(st, i), buf, sizeof buf));
}

/* Run ST (a cached statement; ?1 is bound to the customer key) and hand each
 * row to FN; resets ST.  Returns TN_OK or the database error. */
typedef void (*row_fn)(tn_stmt *st, cJSON *into, void *ud);
static int each_row(tn_store *s, tn_stmt *st, int64_t key, row_fn fn, cJSON *into, void *ud, tn_error *err)
{
	if (!st)
		return TN_ERR_DB;
	tn_db_bind_int64(st, 1, key);
	int rc;
	while ((rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW)
		fn(st, into, ud);
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "reading a customer", err);
}

static void sub_row(tn_stmt *st, cJSON *arr, void *ud)
{
	double *mrr = ud;
	cJSON *o = cJSON_CreateObject();
	add_col(o, "id", st, 0);
	add_col(o, "plan", st, 1);
	add_col(o, "billing_period", st, 2);
	add_col(o, "price", st, 3);
	add_col(o, "currency", st, 4);
	add_time(o, "started_at", st, 5);
	add_time(o, "trial_ends_at", st, 6);
	add_time(o, "current_period_end", st, 7);
	add_time(o, "cancelled_at", st, 8);
	add_col(o, "cancel_reason", st, 9);
	const char *status = tn_db_column_text(st, 10);
	/* the subscriptions table's own status, what every analysis reads */
	cJSON_AddStringToObject(o, "record_status", status);
	double months = tn_period_months(tn_db_column_text(st, 2));
	double m = months > 0 ? tn_db_column_double0(st, 3) / months : 0;
	/* MRR as in the summary: active and past-due subscriptions */
	int counts = strcmp(status, "active") == 0 || strcmp(status, "past_due") == 0;
	cJSON_AddNumberToObject(o, "mrr", counts ? m : 0);
	if (counts)
		*mrr += m;
	/* the exact status (docs/sources.md): what its source reports
	 * (subscription_state), else read from the record -- trialing is trial,
	 * active is cancelling once a cancellation is recorded, past_due is
	 * billing_retry, cancelled and expired are expired */
	const char *exact = tn_db_column_text(st, 12), *cause = tn_db_column_text(st, 13);
	const char *reason = tn_db_column_text(st, 9);
	static const char *const CAUSES[] = {"voluntary", "billing", "price_increase", "refund", "revoked",
					     "product_unavailable", "other", NULL};
	if (!exact) {
		int ended = strcmp(status, "cancelled") == 0 || strcmp(status, "expired") == 0;
		exact = strcmp(status, "trialing") == 0 ? "trial"
			: strcmp(status, "past_due") == 0 ? "billing_retry"
			: ended ? "expired"
			: tn_db_column_is_null(st, 8) ? "active" : "cancelling";
		cause = NULL;
		for (int i = 0; ended && reason && CAUSES[i]; i++)
			if (strcmp(reason, CAUSES[i]) == 0)
				cause = CAUSES[i];
		if (ended && !cause)
			cause = strcmp(status, "cancelled") == 0 ? "voluntary" : "other";
	}
	if (tn_db_column_is_null(st, 11))
		cJSON_AddStringToObject(o, "source", "import");
	else
		add_col(o, "source", st, 11);
	add_col(o, "product", st, 1);
	cJSON_AddStringToObject(o, "status", exact);
	if (cause)
		cJSON_AddStringToObject(o, "cause", cause);
	else
		cJSON_AddNullToObject(o, "cause");
	add_time(o, "expires_at", st, 14);
	if (tn_db_column_is_null(st, 15))
		cJSON_AddNullToObject(o, "auto_renew");
	else
		cJSON_AddBoolToObject(o, "auto_renew", (int)tn_db_column_int64(st, 15) != 0);
	cJSON_AddItemToArray(arr, o);
}

static void alert_row(tn_stmt *st, cJSON *arr, void *ud)
{
	(void)ud;
	cJSON *o = cJSON_CreateObject();
	add_col(o, "id", st, 0);
	add_col(o, "kind", st, 1);
	add_time(o, "raised_at", st, 2);
	add_col(o, "detail", st, 3);
	add_col(o, "risk", st, 4);
	add_time(o, "acked_at", st, 5);
	cJSON_AddItemToArray(arr, o);
}

static void risk_row(tn_stmt *st, cJSON *o, void *ud)
{
	(void)ud;
	cJSON *r = cJSON_CreateObject();
	add_col(r, "score", st, 0);
	add_time(r, "at", st, 1);
	cJSON *reasons = cJSON_AddArrayToObject(r, "reasons");
	cJSON_AddItemToArray(reasons, cJSON_CreateString(tn_db_column_text(st, 2)));
	cJSON_ReplaceItemInObject(o, "risk", r);
}

/* The customer's stored score (customer_scores: the nightly refresh or
 * `tenure offers scores`): it replaces the alerts' risk. */
static void score_row(tn_stmt *st, cJSON *o, void *ud)
{
	(void)ud;
	cJSON *r = cJSON_CreateObject();
	add_col(r, "score", st, 0);
	add_time(r, "at", st, 1);
	add_col(r, "source", st, 3);
	cJSON *reasons = tn_db_column_is_null(st, 2) ? NULL : cJSON_Parse(tn_db_column_text(st, 2));
	if (!cJSON_IsArray(reasons)) {
		cJSON_Delete(reasons);
		reasons = cJSON_CreateArray();
	}
	cJSON_AddItemToObject(r, "reasons", reasons);
	cJSON_ReplaceItemInObject(o, "risk", r);
}

static void points_row(tn_stmt *st, cJSON *o, void *ud)
{
	(void)ud;
	cJSON *p = cJSON_CreateObject();
	add_col(p, "balance", st, 0);
	add_col(p, "earned", st, 1);
	add_col(p, "tier", st, 2);
	cJSON_ReplaceItemInObject(o, "points", p);
}

/* An event type's first time for one customer. */
typedef struct type_span {
	int64_t type;
	tn_time first;
} type_span;
#define TYPE_SPANS 64 /* on the stack; more types go to the heap */

static int customer_json(tn_store *s, const char *ext_id, tn_time now, tn_customer_parts *p, tn_time *until,
			 tn_error *err);

int tn_store_data_version(tn_store *s, int64_t *version, tn_error *err)
{
	*version = 0;
	if (tn_db_engine(s) != TN_DB_SQLITE)
		return tn_error_set(err, TN_ERR_USAGE, "the store's data version is SQLite's (PRAGMA data_version)");
	tn_stmt *st = tn_db_cached(s, "PRAGMA data_version", err);
	if (!st)
		return TN_ERR_DB;
	int rc = tn_db_step(st, "reading the store's data version", err);
	if (rc == TN_DB_ROW)
		*version = tn_db_column_int64(st, 0);
	tn_db_reset(st);
	return rc == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "reading the store's data version", err);
}

int tn_store_customer_json(tn_store *s, const char *ext_id, tn_time now, char **json, tn_error *err)
{
	return tn_store_customer_json_value(s, ext_id, now, NULL, json, err);
}

int tn_store_customer_json_value(tn_store *s, const char *ext_id, tn_time now, const char *value_json,
				 char **json, tn_error *err)
{
	tn_time until;
	return tn_store_customer_json_until(s, ext_id, now, value_json, json, &until, err);
}

int tn_store_customer_json_until(tn_store *s, const char *ext_id, tn_time now, const char *value_json,
				 char **json, tn_time *until, tn_error *err)
{
	*json = NULL;
	tn_customer_parts p;
	int rc = tn_store_customer_parts(s, ext_id, now, &p, until, err);
	if (rc)
		return rc;
	size_t len;
	if (!(*json = tn_customer_parts_render(&p, value_json, &len, NULL)))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_customer_parts_free(&p);
	return rc;
}

int tn_store_customer_parts(tn_store *s, const char *ext_id, tn_time now, tn_customer_parts *p, tn_time *until,
			    tn_error *err)
{
	memset(p, 0, sizeof *p);
	*until = now;
	/* one read transaction: a consistent snapshot, and one lock for all queries */
	tn_stmt *begin = tn_db_cached(s, "BEGIN", err), *commit = tn_db_cached(s, "COMMIT", err);
	if (!begin || !commit)
		return TN_ERR_DB;
	int rc = tn_db_step(begin, "reading the store", err);
	tn_db_reset(begin);
	if (rc != TN_DB_DONE)
		return tn_store_db_error(s, "reading a customer", err);
	rc = customer_json(s, ext_id, now, p, until, err);
	int crc = tn_db_step(commit, "reading the store", err);
	tn_db_reset(commit);
	if (crc != TN_DB_DONE && rc == TN_OK)
		rc = tn_store_db_error(s, "reading a customer", err);
	if (rc)
		tn_customer_parts_free(p);
	return rc;
}

void tn_customer_parts_free(tn_customer_parts *p)
{
	free(p->tmpl);
	for (size_t i = 0; i < p->nmiles; i++)
		free(p->mile_type[i]);
	free(p->mile_type);
	free(p->mile_at);
	memset(p, 0, sizeof *p);
}

/* A time as the record writes it: a JSON string, or null. */
static size_t put_time(char *out, tn_time t)
{
	if (t == TN_NO_TIME) {
		memcpy(out, "null", 4);
		return 4;
	}
	char buf[32];
	tn_time_format(t, buf, sizeof buf);
	size_t n = strlen(buf);
	out[0] = '"';
	memcpy(out + 1, buf, n);
	out[n + 1] = '"';
	return n + 2;
}

char *tn_customer_parts_render(const tn_customer_parts *p, const char *value_json, size_t *len,
			       tn_part_span *spans)
{
	size_t nsp = 0;
	const char *v = value_json ? value_json : "null";
	size_t vlen = strlen(v), tlen = strlen(p->tmpl);
	/* each mark (2 bytes) becomes at most the value or a quoted time (< 40) */
	size_t cap = tlen + vlen + 40 * (p->nmiles + 2) + 1;
	char *out = tn_malloc(cap), *o = out;
	if (!out)
		return NULL;
	for (const char *t = p->tmpl;;) {
		const char *m = memchr(t, TN_PART_MARK, tlen - (size_t)(t - p->tmpl));
		size_t n = m ? (size_t)(m - t) : tlen - (size_t)(t - p->tmpl);
		memcpy(o, t, n);
		o += n;
		if (!m)
			break;
		char k = m[1];
		char *at = o;
		if (k == 'V') {
			memcpy(o, v, vlen);
			o += vlen;
		} else if (k == 'L') {
			o += put_time(o, p->last);
		} else { /* a milestone's reached_at */
			size_t i = (size_t)(k - 'a');
			o += put_time(o, i < p->nmiles ? p->mile_at[i] : TN_NO_TIME);
		}
		if (spans && nsp < 2 + p->nmiles)
			spans[nsp++] = (tn_part_span){k, (uint32_t)(at - out), (uint32_t)(o - at)};
		t = m + 2;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

/* A mark in the template: TN_PART_MARK then V (the value), L (last_event_at)
 * or a, b, ... (milestone i's reached_at); raw, so cJSON prints it as is
 * (a string's control characters are escaped: a mark is never data). */
static cJSON *mark_item(char k)
{
	char m[3] = {TN_PART_MARK, k, '\0'};
	return cJSON_CreateRaw(m);
}

static int customer_json(tn_store *s, const char *ext_id, tn_time now, tn_customer_parts *p, tn_time *until,
			 tn_error *err)
{
	tn_stmt *st = tn_db_cached(s,
					    "SELECT c.id, c.ext_id, c.signed_up_at, c.country, c.channel, c.attrs, "
					    "(SELECT min(started_at) FROM subscriptions WHERE customer_id = c.id) "
					    "FROM customers c WHERE c.ext_id = ?1",
					    err);
	if (!st)
		return TN_ERR_DB;
	tn_db_bind_text(st, 1, ext_id);
	int rc = tn_db_step(st, "reading the store", err);
	if (rc != TN_DB_ROW) {
		tn_db_reset(st);
		if (rc == TN_DB_DONE)
			return tn_error_set(err, TN_ERR_NOTFOUND, "customer \"%s\" is not in the store", ext_id);
		return tn_store_db_error(s, "reading a customer", err);
	}
	cJSON *o = cJSON_CreateObject();
	int64_t key = tn_db_column_int64(st, 0);
	add_col(o, "id", st, 1);
	add_time(o, "signed_up_at", st, 2);
	add_col(o, "country", st, 3);
	add_col(o, "channel", st, 4);
	cJSON *attrs = cJSON_Parse(tn_db_column_text(st, 5));
	cJSON_AddItemToObject(o, "attributes", attrs ? attrs : cJSON_CreateObject());
	tn_time since = !tn_db_column_is_null(st, 2) ? tn_db_column_int64(st, 2)
		      : !tn_db_column_is_null(st, 6) ? tn_db_column_int64(st, 6)
								    : TN_NO_TIME;
	tn_db_reset(st);
	if (since != TN_NO_TIME && now >= since)
		cJSON_AddNumberToObject(o, "days_as_customer", (double)((now - since) / 86400));
	else
		cJSON_AddNullToObject(o, "days_as_customer");
	/* the only part of the answer that moves with the clock: days as a
	 * customer, which steps each 86,400 s after `since` (or appears at it) */
	*until = since == TN_NO_TIME ? INT64_MAX
		 : now >= since     ? since + ((now - since) / 86400 + 1) * 86400
				    : since;
	double mrr = 0;
	cJSON *subs = cJSON_AddArrayToObject(o, "subscriptions");
	cJSON *alerts = cJSON_CreateArray(), *miles = cJSON_CreateArray();
	cJSON_AddItemToObject(o, "last_event_at", mark_item('L'));
	cJSON_AddNullToObject(o, "risk");
	cJSON_AddItemToObject(o, "value", mark_item('V'));
	cJSON_AddNullToObject(o, "points");
	rc = each_row(s,
		      tn_db_cached(s,
				       "SELECT u.ext_id, u.plan, u.billing_period, u.price, u.currency, u.started_at, "
				       "u.trial_ends_at, u.current_period_end, u.cancelled_at, u.cancel_reason, u.status, "
				       "st.source, st.state, st.cause, COALESCE(st.expires_at, u.current_period_end), "
				       "st.auto_renew FROM subscriptions u "
				       "LEFT JOIN subscription_state st ON st.subscription_id = u.id "
				       "WHERE u.customer_id = ?1 ORDER BY u.started_at, u.id",
				       err),
		      key, sub_row, subs, &mrr, err);
	/* one pass over the customer's events (contiguous in the table's key):
	 * the first and last time of each event type, for the last event and
	 * the milestones -- rather than a search per milestone */
	type_span stack[TYPE_SPANS], *spans = stack;
	size_t nspans = 0, cap = TYPE_SPANS;
	tn_time last = TN_NO_TIME;
	if (!rc) {
		tn_stmt *ev = tn_db_cached(s,
						   "SELECT type_id, min(occurred_at), max(occurred_at) FROM events "
						   "WHERE customer_id = ?1 GROUP BY type_id",
						   err);
		if (!ev)
			rc = TN_ERR_DB;
		else {
			tn_db_bind_int64(ev, 1, key);
			int step;
			while ((step = tn_db_step(ev, "reading the store", err)) == TN_DB_ROW) {
				tn_time hi = tn_db_column_int64(ev, 2);
				if (last == TN_NO_TIME || hi > last)
					last = hi;
				if (nspans == cap) { /* a customer with many event types */
					type_span *grown = tn_malloc(2 * cap * sizeof *grown);
					if (!grown) {
						rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
						break;
					}
					memcpy(grown, spans, nspans * sizeof *grown);
					if (spans != stack)
						free(spans);
					spans = grown;
					cap *= 2;
				}
				spans[nspans++] = (type_span){tn_db_column_int64(ev, 0), tn_db_column_int64(ev, 1)};
			}
			tn_db_reset(ev);
			if (!rc && step != TN_DB_DONE)
				rc = tn_store_db_error(s, "reading a customer", err);
		}
	}
	if (!rc)
		rc = each_row(s,
			      tn_db_cached(s,
					       "SELECT risk, last_seen, kind || ': ' || detail FROM alerts "
					       "WHERE customer_id = ?1 AND risk IS NOT NULL ORDER BY last_seen DESC, id DESC LIMIT 1",
					       err),
			      key, risk_row, o, NULL, err);
	if (!rc)
		rc = each_row(s,
			      tn_db_cached(s,
					       "SELECT p_churn, as_of, reasons, source FROM customer_scores WHERE customer_id = ?1",
					       err),
			      key, score_row, o, NULL, err);
	if (!rc)
		rc = each_row(s,
			      tn_db_cached(s,
					       "SELECT b.balance, b.earned, (SELECT name FROM points_tiers t WHERE "
					       "(t.basis = 'points' AND t.threshold <= b.earned) OR (t.basis = 'spend' AND "
					       "t.threshold <= (SELECT total(CASE status WHEN 'succeeded' THEN amount "
					       "WHEN 'refunded' THEN -amount ELSE 0 END) FROM payments WHERE customer_id = ?1)) "
					       "ORDER BY level DESC LIMIT 1) FROM points_balances b WHERE b.customer_id = ?1",
					       err),
			      key, points_row, o, NULL, err);
	p->last = last;
	if (!rc) {
		/* the journey's milestones with their event type's key (4 rows) */
		tn_stmt *ms = tn_db_cached(s,
						   "SELECT m.milestone, m.event_type, t.id FROM journey_milestones m "
						   "LEFT JOIN event_types t ON t.name = m.event_type ORDER BY CASE m.milestone "
						   "WHEN 'first_impression' THEN 1 WHEN 'first_value' THEN 2 "
						   "WHEN 'intended_value' THEN 3 ELSE 4 END",
						   err);
		if (!ms)
			rc = TN_ERR_DB;
		else {
			int step;
			while ((step = tn_db_step(ms, "reading the store", err)) == TN_DB_ROW) {
				cJSON *m = cJSON_CreateObject();
				add_col(m, "milestone", ms, 0);
				add_col(m, "event_type", ms, 1);
				if (p->nmiles == TN_PART_MILES) { /* more than the marks can name */
					rc = tn_error_set(err, TN_ERR_DB, "more than %d journey milestones", TN_PART_MILES);
					cJSON_Delete(m);
					break;
				}
				char **nt = tn_realloc(p->mile_type, (p->nmiles + 1) * sizeof *nt);
				if (nt)
					p->mile_type = nt;
				tn_time *na = nt ? tn_realloc(p->mile_at, (p->nmiles + 1) * sizeof *na) : NULL;
				if (na)
					p->mile_at = na;
				const char *et = tn_db_column_text(ms, 1);
				char *etc = na && et ? tn_strdup(et) : NULL;
				if (!na || (et && !etc)) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
					cJSON_Delete(m);
					break;
				}
				p->mile_type[p->nmiles] = etc;
				tn_time reached = TN_NO_TIME;
				if (!tn_db_column_is_null(ms, 2)) {
					int64_t tid = tn_db_column_int64(ms, 2);
					for (size_t i = 0; i < nspans; i++)
						if (spans[i].type == tid)
							reached = spans[i].first;
				}
				p->mile_at[p->nmiles] = reached;
				cJSON_AddItemToObject(m, "reached_at", mark_item((char)('a' + p->nmiles)));
				p->nmiles++;
				cJSON_AddItemToArray(miles, m);
			}
			tn_db_reset(ms);
			if (!rc && step != TN_DB_DONE)
				rc = tn_store_db_error(s, "reading a customer", err);
		}
	}
	if (!rc)
		rc = each_row(s,
			      tn_db_cached(s,
					       "SELECT id, kind, raised_at, detail, risk, acked_at FROM alerts "
					       "WHERE customer_id = ?1 AND resolved_at IS NULL ORDER BY raised_at, id",
					       err),
			      key, alert_row, alerts, NULL, err);
	if (spans != stack)
		free(spans);
	cJSON_AddNumberToObject(o, "mrr", mrr);
	cJSON_AddItemToObject(o, "milestones", miles);
	cJSON_AddItemToObject(o, "open_alerts", alerts);
	if (!rc) {
		p->tmpl = cJSON_PrintUnformatted(o);
		if (!p->tmpl)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	cJSON_Delete(o);
	return rc;
}
