/*
 * state.c -- one state machine for every source, and what it writes.
 *
 * A decoded note says what the source reported: a state (or none: keep the
 * current one), a cause, auto-renew, the paid-through date, a payment.  The
 * machine combines it with the subscription's current state:
 *   - no state but auto-renew turned off: an active or trial subscription
 *     becomes `cancelling`; turned back on, `cancelling` becomes `active`;
 *   - `active`/`trial` reported with auto-renew off is `cancelling`;
 *   - `expired` or `refunded` without a cause takes it from the state before:
 *     grace or billing retry -> billing; a cause kept pending when auto-renew
 *     was turned off (voluntary, price_increase) -> that; else other;
 *   - auto_renew_off_at is when auto-renew went off (kept until it is on).
 * Notifications are applied in the order received; one older (by the
 * source's own time) than the last applied to its subscription is kept but
 * changes no state (`stale`) -- so `sources replay`, which applies the kept
 * bodies again in the same order with the same rule, arrives at the same
 * state.  The subscriptions row (what analyses read) follows: trial ->
 * trialing, active/cancelling -> active, grace/billing_retry/paused ->
 * past_due, expired -> cancelled when voluntary else expired, refunded ->
 * expired; an ended subscription's cancelled_at is when it ended, its
 * cancel_reason the cause.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"
#include "store/db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* A notification is kept first, with the outcome nearly every one has
 * ("applied"), in one INSERT that is also the duplicate check: the unique
 * key (kind, dedupe_key) takes the place of a look-up beforehand (one index
 * probe less per notification, and on PostgreSQL a concurrent writer's copy
 * waits on the key and is then a duplicate).  It is then applied; the rare
 * other outcome (stale, stored) is written afterwards by the same key.  No
 * RETURNING (SQLite builds a temporary table for it) and no second write of
 * the raw body.  Every caller runs this in a transaction or savepoint it
 * rolls back on failure, so a notification whose apply fails is not kept. */
static const char SQL_NOTE[] =
	"INSERT INTO source_notifications(source_id, kind, dedupe_key, type, received_at, event_at, customer,"
	" subscription, outcome, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	" ON CONFLICT (kind, dedupe_key) DO NOTHING";
static const char SQL_NOTE_OUTCOME[] = "UPDATE source_notifications SET outcome = ? WHERE kind = ? AND dedupe_key = ?";
static const char SQL_OUTCOME[] = "UPDATE source_notifications SET outcome = ? WHERE id = ?";
static const char SQL_CURRENT[] =
	"SELECT s.id, s.plan, s.billing_period, s.price, s.currency, s.started_at, s.trial_ends_at, c.ext_id,"
	" ss.last_event_at, ss.pending_cause, st.state, st.cause, st.auto_renew, st.expires_at, st.auto_renew_off_at"
	" FROM subscriptions s JOIN customers c ON c.id = s.customer_id"
	" LEFT JOIN source_subscriptions ss ON ss.subscription_id = s.id"
	" LEFT JOIN subscription_state st ON st.subscription_id = s.id WHERE s.ext_id = ?";
static const char SQL_TRACK[] =
	"INSERT INTO source_subscriptions(subscription_id, kind, last_event_at, pending_cause) VALUES (?, ?, ?, ?)"
	" ON CONFLICT (subscription_id) DO UPDATE SET kind = excluded.kind, last_event_at = excluded.last_event_at,"
	" pending_cause = excluded.pending_cause";

static const char *const OUTCOMES[] = {NULL, "applied", "duplicate", "stale", "stored"};

typedef struct current {
	int exists, tracked;
	int64_t id;
	char plan[256], period[16], currency[8], customer[512], pending[32], state[32], cause[32];
	double price;
	tn_time started_at, trial_ends_at, last_event_at, expires_at, off_at;
	int auto_renew;
} current;

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static int read_current(tn_store *s, const char *sub, current *c, tn_error *err)
{
	memset(c, 0, sizeof *c);
	c->auto_renew = -1;
	c->expires_at = c->off_at = c->last_event_at = c->started_at = c->trial_ends_at = TN_NO_TIME;
	tn_stmt *st = tn_db_cached(s, SQL_CURRENT, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, sub);
	int rc = tn_db_step(st, "reading a subscription", err);
	if (rc == TN_DB_ROW) {
		c->exists = 1;
		c->id = tn_db_column_int64(st, 0);
		copy(c->plan, sizeof c->plan, tn_db_column_text(st, 1));
		copy(c->period, sizeof c->period, tn_db_column_text(st, 2));
		c->price = tn_db_column_double(st, 3);
		copy(c->currency, sizeof c->currency, tn_db_column_text(st, 4));
		c->started_at = tn_db_column_time(st, 5);
		c->trial_ends_at = tn_db_column_time(st, 6);
		copy(c->customer, sizeof c->customer, tn_db_column_text(st, 7));
		c->tracked = !tn_db_column_is_null(st, 8);
		c->last_event_at = tn_db_column_time(st, 8);
		copy(c->pending, sizeof c->pending, tn_db_column_text(st, 9));
		copy(c->state, sizeof c->state, tn_db_column_text(st, 10));
		copy(c->cause, sizeof c->cause, tn_db_column_text(st, 11));
		c->auto_renew = tn_db_column_is_null(st, 12) ? -1 : (int)tn_db_column_int64(st, 12);
		c->expires_at = tn_db_column_time(st, 13);
		c->off_at = tn_db_column_time(st, 14);
		rc = TN_DB_DONE;
	}
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

static int ensure_customer(tn_store *s, const char *id, tn_time since, tn_error *err)
{
	int64_t key;
	tn_error e = {0};
	int rc = tn_store_customer_key(s, id, &key, &e);
	if (rc == TN_OK)
		return TN_OK;
	if (rc != TN_ERR_NOTFOUND)
		return tn_error_set(err, rc, "%s", e.msg);
	tn_customer_rec c = {.id = id, .signed_up_at = since};
	return tn_store_put_customer(s, &c, NULL, err);
}

static const char SQL_ALIAS[] = "SELECT customer FROM customer_links WHERE alias = ?";

/* The customer ID names: itself, or the one it was linked to. */
static int resolve(tn_store *s, const char *id, char *out, size_t n, tn_error *err)
{
	copy(out, n, id);
	tn_stmt *st = tn_db_cached(s, SQL_ALIAS, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, id);
	int rc = tn_db_step(st, "reading a customer link", err);
	if (rc == TN_DB_ROW) {
		copy(out, n, tn_db_column_text(st, 0));
		rc = TN_DB_DONE;
	}
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

/* One statement of the link: ?1 alias id, ?2 keep id, ?3 now (each
 * statement binds what it uses). */
static int link_exec(tn_store *s, const char *sql, int64_t aid, int64_t kid, tn_time now, long long *changes,
		     tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	/* bind only up to the highest ?N the statement names (PostgreSQL counts them) */
	int np = 0;
	for (const char *q = strchr(sql, '?'); q; q = strchr(q + 1, '?'))
		if (q[1] >= '1' && q[1] <= '9' && q[1] - '0' > np)
			np = q[1] - '0';
	if (np >= 1)
		tn_db_bind_int64(st, 1, aid);
	if (np >= 2)
		tn_db_bind_int64(st, 2, kid);
	if (np >= 3)
		tn_db_bind_time(st, 3, now);
	int rc = tn_db_step(st, "linking customers", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	if (rc == TN_OK && changes)
		*changes = tn_db_changes(s);
	tn_db_finalize(st);
	return rc;
}

/* The alias's open points lots become KEEP's, through the ledger (append-only):
 * a 'redeem' on the alias and a 'grant' on KEEP with the lot's expiry, a new
 * lot for KEEP of the same age, and both balances; lifetime earned points
 * follow. */
static int link_points(tn_store *s, int64_t aid, int64_t kid, tn_time now, const char *keep, tn_error *err)
{
	typedef struct lot {
		int64_t id;
		long long rem;
		tn_time at, expires;
	} lot;
	lot *v = NULL;
	size_t n = 0, cap = 0;
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT lot_id, remaining, at, expires_at FROM points_lots WHERE customer_id = ?"
				    " AND remaining > 0 ORDER BY at, lot_id",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, aid);
	int rc;
	while ((rc = tn_db_step(st, "reading points lots", err)) == TN_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			lot *nv = tn_realloc(v, nc * sizeof *nv);
			if (!nv) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		v[n].id = tn_db_column_int64(st, 0);
		v[n].rem = tn_db_column_int64(st, 1);
		v[n].at = tn_db_column_time(st, 2);
		v[n].expires = tn_db_column_time(st, 3);
		n++;
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		free(v);
		return tn_error_code(err, TN_ERR_DB);
	}
	rc = TN_OK;
	tn_stmt *ins = tn_db_prepare(s,
				     "INSERT INTO points_ledger(customer_id, at, kind, points, expires_at, lot_id, idem_key,"
				     " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
				     err);
	tn_stmt *newlot = ins ? tn_db_prepare(s,
					      "INSERT INTO points_lots(lot_id, customer_id, at, expires_at, remaining)"
					      " VALUES (?, ?, ?, ?, ?)",
					      err)
			      : NULL;
	tn_stmt *empty = newlot ? tn_db_prepare(s, "UPDATE points_lots SET remaining = 0 WHERE lot_id = ?", err) : NULL;
	if (!empty)
		rc = tn_error_code(err, TN_ERR_DB);
	long long total = 0;
	char note[600];
	snprintf(note, sizeof note, "customers link: moved to %s", keep);
	for (size_t i = 0; i < n && rc == TN_OK; i++) {
		int64_t ids[2] = {0, 0};
		for (int k = 0; k < 2 && rc == TN_OK; k++) {
			char key[80];
			snprintf(key, sizeof key, "link:%lld:%lld:%s", (long long)aid, (long long)v[i].id, k ? "in" : "out");
			tn_db_bind_int64(ins, 1, k ? kid : aid);
			tn_db_bind_time(ins, 2, now);
			tn_db_bind_text(ins, 3, k ? "grant" : "redeem");
			tn_db_bind_int64(ins, 4, k ? v[i].rem : -v[i].rem);
			if (k && v[i].expires != TN_NO_TIME)
				tn_db_bind_time(ins, 5, v[i].expires);
			else
				tn_db_bind_null(ins, 5);
			if (k)
				tn_db_bind_null(ins, 6);
			else
				tn_db_bind_int64(ins, 6, v[i].id);
			tn_db_bind_text(ins, 7, key);
			tn_db_bind_text(ins, 8, note);
			int r = tn_db_step(ins, "writing the points ledger", err);
			ids[k] = r == TN_DB_ROW ? tn_db_column_int64(ins, 0) : 0;
			if (r == TN_DB_ROW)
				r = tn_db_step(ins, "writing the points ledger", err);
			tn_db_reset(ins);
			if (r != TN_DB_DONE)
				rc = tn_error_code(err, TN_ERR_DB);
		}
		if (rc == TN_OK) {
			tn_db_bind_int64(newlot, 1, ids[1]);
			tn_db_bind_int64(newlot, 2, kid);
			tn_db_bind_time(newlot, 3, v[i].at);
			if (v[i].expires != TN_NO_TIME)
				tn_db_bind_time(newlot, 4, v[i].expires);
			else
				tn_db_bind_null(newlot, 4);
			tn_db_bind_int64(newlot, 5, v[i].rem);
			tn_db_bind_int64(empty, 1, v[i].id);
			if (tn_db_step(newlot, "writing a points lot", err) != TN_DB_DONE ||
			    tn_db_step(empty, "writing a points lot", err) != TN_DB_DONE)
				rc = tn_error_code(err, TN_ERR_DB);
			tn_db_reset(newlot);
			tn_db_reset(empty);
			total += v[i].rem;
		}
	}
	tn_db_finalize(ins);
	tn_db_finalize(newlot);
	tn_db_finalize(empty);
	free(v);
	if (rc)
		return rc;
	/* the balances: KEEP gains the moved points and the alias's lifetime earned */
	static const char *const bal[] = {
		("INSERT INTO points_balances(customer_id, balance, earned) SELECT CAST(?2 AS INTEGER), 0, 0 WHERE EXISTS"
		 " (SELECT 1 FROM points_balances WHERE customer_id = ?1) ON CONFLICT (customer_id) DO NOTHING"),
		("UPDATE points_balances SET balance = balance + ?3, earned = earned + COALESCE((SELECT earned FROM"
		 " points_balances b WHERE b.customer_id = ?1), 0) WHERE customer_id = ?2"),
		"UPDATE points_balances SET balance = balance - ?3, earned = 0 WHERE customer_id = ?1"};
	for (int i = 0; i < 3 && rc == TN_OK; i++) {
		tn_stmt *b = tn_db_prepare(s, bal[i], err);
		if (!b)
			return tn_error_code(err, TN_ERR_DB);
		tn_db_bind_int64(b, 1, aid);
		tn_db_bind_int64(b, 2, kid);
		tn_db_bind_int64(b, 3, total);
		if (tn_db_step(b, "updating points balances", err) != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		tn_db_finalize(b);
	}
	return rc;
}

int tn_customers_link(tn_store *s, const char *keep, const char *alias, tn_time now, long long *moved, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	int64_t kid, aid = 0;
	if (moved)
		*moved = 0;
	if (!keep || !alias || !*keep || !*alias || strcmp(keep, alias) == 0)
		return tn_error_set(err, TN_ERR_USAGE, "customers link: two different customer ids are needed");
	int rc = tn_store_customer_key(s, keep, &kid, err);
	if (rc)
		return rc;
	tn_error e = {0};
	rc = tn_store_customer_key(s, alias, &aid, &e);
	if (rc && rc != TN_ERR_NOTFOUND)
		return tn_error_set(err, rc, "%s", e.msg);
	rc = TN_OK;
	if ((rc = tn_store_begin(s, err)))
		return rc;
	static const char *const links[] = {
		("INSERT INTO customer_links(alias, customer, linked_at) VALUES (?1, ?2, ?3) ON CONFLICT (alias) DO UPDATE"
		 " SET customer = excluded.customer, linked_at = excluded.linked_at"),
		/* links that pointed at ALIAS now point at KEEP */
		"UPDATE customer_links SET customer = ?2 WHERE customer = ?1"};
	for (size_t i = 0; i < 2 && rc == TN_OK; i++) {
		tn_stmt *st = tn_db_prepare(s, links[i], err);
		if (!st) {
			rc = tn_error_code(err, TN_ERR_DB);
			break;
		}
		tn_db_bind_text(st, 1, alias);
		tn_db_bind_text(st, 2, keep);
		if (i == 0)
			tn_db_bind_time(st, 3, now);
		if (tn_db_step(st, "linking customers", err) != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		tn_db_finalize(st);
	}
	/* everything the alias has becomes KEEP's: one customer from now on.
	 * Rows both would hold (the same event, consent for the same channel,
	 * one holdout draw, one score) keep KEEP's (consent: the newer);
	 * a subscription, payment or answer both hold is refused. */
	static const struct {
		const char *table, *sql;
	} moves[] = {
		{"subscriptions", "UPDATE subscriptions SET customer_id = ?2 WHERE customer_id = ?1"},
		{"payments", "UPDATE payments SET customer_id = ?2 WHERE customer_id = ?1"},
		{"feedback", "UPDATE feedback SET customer_id = ?2 WHERE customer_id = ?1"},
		{"events", ("DELETE FROM events WHERE customer_id = ?1 AND EXISTS (SELECT 1 FROM events k WHERE"
			    " k.customer_id = ?2 AND k.occurred_at = events.occurred_at AND k.type_id = events.type_id AND"
			    " k.ext_id = events.ext_id)")},
		{"events", "UPDATE events SET customer_id = ?2 WHERE customer_id = ?1"},
		{"alerts", ("UPDATE alerts SET resolved_at = ?3 WHERE customer_id = ?1 AND resolved_at IS NULL AND EXISTS"
			    " (SELECT 1 FROM alerts k WHERE k.customer_id = ?2 AND k.kind = alerts.kind AND"
			    " k.resolved_at IS NULL)")},
		{"alerts", "UPDATE alerts SET customer_id = ?2 WHERE customer_id = ?1"},
		{"decisions", "UPDATE decisions SET customer_id = ?2 WHERE customer_id = ?1"},
		{"survey_invitations", "UPDATE survey_invitations SET customer_id = ?2 WHERE customer_id = ?1"},
		{"winback_contacts", "UPDATE winback_contacts SET customer_id = ?2 WHERE customer_id = ?1"},
		{"outbox", "UPDATE outbox SET customer_id = ?2 WHERE customer_id = ?1"},
		{"offer_assignments", ("DELETE FROM offer_assignments WHERE customer_id = ?1 AND EXISTS (SELECT 1 FROM"
				       " offer_assignments k WHERE k.customer_id = ?2 AND k.plan_id = offer_assignments.plan_id)")},
		{"offer_assignments", "UPDATE offer_assignments SET customer_id = ?2 WHERE customer_id = ?1"},
		{"consent", ("DELETE FROM consent WHERE customer_id = ?2 AND EXISTS (SELECT 1 FROM consent a WHERE"
			     " a.customer_id = ?1 AND a.channel = consent.channel AND a.updated_at > consent.updated_at)")},
		{"consent", ("DELETE FROM consent WHERE customer_id = ?1 AND EXISTS (SELECT 1 FROM consent k WHERE"
			     " k.customer_id = ?2 AND k.channel = consent.channel)")},
		{"consent", "UPDATE consent SET customer_id = ?2 WHERE customer_id = ?1"},
		{"decision_holdout", ("DELETE FROM decision_holdout WHERE customer_id = ?1 AND EXISTS (SELECT 1 FROM"
				      " decision_holdout k WHERE k.customer_id = ?2)")},
		{"decision_holdout", "UPDATE decision_holdout SET customer_id = ?2 WHERE customer_id = ?1"},
		{"customer_scores", ("DELETE FROM customer_scores WHERE customer_id = ?1 AND EXISTS (SELECT 1 FROM"
				     " customer_scores k WHERE k.customer_id = ?2)")},
		{"customer_scores", "UPDATE customer_scores SET customer_id = ?2 WHERE customer_id = ?1"},
		/* the server's events journal (empty after the fold every CLI open
		 * makes); its index starts with the generation, id >> 16 (store.c,
		 * JGENS): one seek per generation */
		{"events_journal", ("UPDATE events_journal SET customer_id = ?2 WHERE (id >> 16) IN (WITH RECURSIVE"
				    " g(v) AS (SELECT min(id) >> 16 FROM events_journal UNION ALL SELECT v + 1 FROM g"
				    " WHERE v < (SELECT max(id) >> 16 FROM events_journal)) SELECT v FROM g)"
				    " AND customer_id = ?1")},
		{"events_journal_b", ("UPDATE events_journal_b SET customer_id = ?2 WHERE (id >> 16) IN (WITH"
				      " RECURSIVE g(v) AS (SELECT min(id) >> 16 FROM events_journal_b UNION ALL SELECT"
				      " v + 1 FROM g WHERE v < (SELECT max(id) >> 16 FROM events_journal_b)) SELECT v"
				      " FROM g) AND customer_id = ?1")},
		{"points_refused", "UPDATE points_refused SET customer_id = ?2 WHERE customer_id = ?1"},
		/* KEEP is a customer since the earlier of the two sign-ups */
		{"customers", ("UPDATE customers SET signed_up_at = (SELECT a.signed_up_at FROM customers a WHERE a.id = ?1)"
			       " WHERE id = ?2 AND (SELECT a.signed_up_at FROM customers a WHERE a.id = ?1) <"
			       " COALESCE(signed_up_at, (SELECT a.signed_up_at FROM customers a WHERE a.id = ?1) + 1)")},
	};
	for (size_t i = 0; aid && rc == TN_OK && i < sizeof moves / sizeof moves[0]; i++) {
		long long ch = 0;
		rc = link_exec(s, moves[i].sql, aid, kid, now, &ch, err);
		if (rc == TN_OK && i == 0 && moved)
			*moved = ch;
		if (rc && strstr(err->msg, "UNIQUE")) { /* the message says what to do, not the constraint */
			tn_error_clear(err);
			rc = tn_error_set(err, TN_ERR_INPUT,
					  strcmp(moves[i].table, "subscriptions") == 0
						  ? "customers link: %s already has a subscription to the same plan starting at"
						    " the same instant as one of %s's; nothing was linked"
						  : "customers link: %s already has a record of %s that %s has too; nothing was linked",
					  keep, strcmp(moves[i].table, "subscriptions") == 0 ? alias : moves[i].table, alias);
		}
	}
	if (aid && rc == TN_OK)
		rc = link_points(s, aid, kid, now, keep, err);
	if (rc == TN_OK)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

static const char *coarse(const char *state, const char *cause)
{
	if (eq(state, "trial"))
		return "trialing";
	if (eq(state, "active") || eq(state, "cancelling"))
		return "active";
	if (eq(state, "expired"))
		return eq(cause, "voluntary") ? "cancelled" : "expired";
	if (eq(state, "refunded"))
		return "expired";
	return "past_due"; /* grace, billing_retry, paused */
}

/* Apply N (already kept); *outcome applied, stale or stored. */
static int apply(tn_store *s, const tn_source_note *n, int *outcome, tn_error *err)
{
	int rc;
	*outcome = TN_SRC_STORED;
	if (n->test)
		return TN_OK;
	current cur = {0};
	char linked[512];
	const char *owner = NULL;
	if (n->customer) {
		if ((rc = resolve(s, n->customer, linked, sizeof linked, err)))
			return rc;
		owner = linked;
	}
	if (n->subscription) {
		if ((rc = read_current(s, n->subscription, &cur, err)))
			return rc;
		if (cur.exists)
			owner = cur.customer;
	}
	if (owner && (rc = ensure_customer(s, owner, n->started_at != TN_NO_TIME ? n->started_at : n->event_at, err)))
		return rc;
	if (n->subscription) {
		if (cur.tracked && cur.last_event_at != TN_NO_TIME && n->event_at < cur.last_event_at) {
			*outcome = TN_SRC_STALE;
		} else {
			const char *prev = cur.state[0] ? cur.state : NULL;
			int ar = n->auto_renew >= 0 ? n->auto_renew : cur.auto_renew;
			const char *state = n->state;
			if (!state) {
				if (!prev)
					state = ar == 0 ? "cancelling" : "active";
				else if (ar == 0 && (eq(prev, "active") || eq(prev, "trial")))
					state = "cancelling";
				else if (ar == 1 && eq(prev, "cancelling"))
					state = "active";
				else
					state = prev;
			} else if (ar == 0 && (eq(state, "active") || eq(state, "trial")))
				state = "cancelling";
			const char *pending = n->pending_cause ? n->pending_cause : cur.pending[0] ? cur.pending : NULL;
			if (ar == 1 && !n->pending_cause)
				pending = NULL;
			const char *cause = NULL;
			int ended = eq(state, "expired") || eq(state, "refunded");
			if (ended) {
				if (n->cause)
					cause = n->cause;
				else if (eq(prev, "expired") || eq(prev, "refunded"))
					cause = cur.cause[0] ? cur.cause : "other";
				else if (eq(prev, "grace") || eq(prev, "billing_retry"))
					cause = "billing";
				else if (pending)
					cause = pending;
				else if (eq(prev, "cancelling"))
					cause = "voluntary";
				else
					cause = "other";
				pending = NULL;
			}
			tn_time expires = n->expires_at != TN_NO_TIME ? n->expires_at : cur.expires_at;
			tn_time off = ar == 0 ? (cur.auto_renew == 0 && cur.off_at != TN_NO_TIME ? cur.off_at : n->event_at)
				    : ar == 1 ? TN_NO_TIME
					      : cur.off_at;
			/* the subscriptions row */
			tn_time end = TN_NO_TIME;
			if (ended)
				end = eq(state, "expired") && expires != TN_NO_TIME && expires <= n->event_at ? expires
													     : n->event_at;
			tn_subscription_rec r = {
				.id = n->subscription,
				.customer = owner,
				.plan = n->product ? n->product : cur.exists ? cur.plan : "unknown",
				.billing_period = n->period ? n->period : cur.exists ? cur.period : "month",
				.price = !isnan(n->price) ? n->price : cur.exists ? cur.price : 0,
				.currency = n->currency[0] ? n->currency : cur.exists ? cur.currency : "USD",
				.started_at = cur.exists ? cur.started_at
					      : n->started_at != TN_NO_TIME ? n->started_at
									    : n->event_at,
				.trial_ends_at = n->trial_ends_at != TN_NO_TIME ? n->trial_ends_at : cur.trial_ends_at,
				.current_period_end = expires,
				.cancelled_at = end,
				.cancel_reason = ended ? cause : NULL,
				.status = coarse(state, cause),
			};
			if (r.price < 0)
				r.price = 0;
			if ((rc = tn_store_put_subscription(s, &r, NULL, err)))
				return rc;
			tn_subscription_state ss = {.subscription = n->subscription,
						    .source = tn_source_kind_name(n->kind),
						    .state = state,
						    .cause = cause,
						    .auto_renew = ar,
						    .expires_at = expires,
						    .auto_renew_off_at = off,
						    .updated_at = n->event_at};
			if ((rc = tn_store_put_subscription_state(s, &ss, NULL, err)))
				return rc;
			if (!cur.exists && (rc = read_current(s, n->subscription, &cur, err)))
				return rc;
			tn_stmt *st = tn_db_cached(s, SQL_TRACK, err);
			if (!st)
				return tn_error_code(err, TN_ERR_DB);
			tn_db_bind_int64(st, 1, cur.id);
			tn_db_bind_text(st, 2, tn_source_kind_name(n->kind));
			tn_db_bind_time(st, 3, n->event_at);
			tn_db_bind_text(st, 4, pending);
			rc = tn_db_step(st, "tracking a source subscription", err);
			tn_db_reset(st);
			if (rc != TN_DB_DONE)
				return tn_error_code(err, TN_ERR_DB);
			*outcome = TN_SRC_APPLIED;
		}
	}
	if (n->pay_status && owner && n->pay_id && n->pay_currency[0] && !isnan(n->pay_amount)) {
		tn_payment_rec p = {.customer = owner,
				    .at = n->paid_at,
				    .amount = n->pay_amount,
				    .currency = n->pay_currency,
				    .status = n->pay_status,
				    .id = n->pay_id};
		if ((rc = tn_store_put_payment(s, &p, NULL, err)))
			return rc;
		if (*outcome == TN_SRC_STORED)
			*outcome = TN_SRC_APPLIED;
	}
	return TN_OK;
}

static int set_outcome(tn_store *s, int64_t id, int outcome, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, SQL_OUTCOME, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, OUTCOMES[outcome]);
	tn_db_bind_int64(st, 2, id);
	int rc = tn_db_step(st, "recording a notification's outcome", err);
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

int tn_sources_store(tn_store *s, const tn_source_note *n, tn_time now, int *outcome, tn_error *err)
{
	int oc = TN_SRC_STORED;
	if (outcome)
		*outcome = 0;
	if (!n->dedupe || !n->type || !n->body)
		return tn_error_set(err, TN_ERR_INPUT, "a notification needs its id, type and body");
	const char *kind = tn_source_kind_name(n->kind);
	tn_stmt *st = tn_db_cached(s, SQL_NOTE, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (n->source_id)
		tn_db_bind_int64(st, 1, n->source_id);
	else
		tn_db_bind_null(st, 1);
	tn_db_bind_text(st, 2, kind);
	tn_db_bind_text(st, 3, n->dedupe);
	tn_db_bind_text(st, 4, n->type);
	tn_db_bind_time(st, 5, now);
	tn_db_bind_time(st, 6, n->event_at);
	tn_db_bind_text(st, 7, n->customer);
	tn_db_bind_text(st, 8, n->subscription);
	tn_db_bind_text(st, 9, OUTCOMES[TN_SRC_APPLIED]);
	tn_db_bind_text(st, 10, n->body);
	int rc = tn_db_step(st, "keeping a notification", err);
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return tn_error_code(err, TN_ERR_DB);
	if (tn_db_changes(s) != 1) { /* kept before: the same notification again */
		if (outcome)
			*outcome = TN_SRC_DUPLICATE;
		return TN_OK;
	}
	if ((rc = apply(s, n, &oc, err)))
		return rc;
	if (oc != TN_SRC_APPLIED) {
		if (!(st = tn_db_cached(s, SQL_NOTE_OUTCOME, err)))
			return tn_error_code(err, TN_ERR_DB);
		tn_db_bind_text(st, 1, OUTCOMES[oc]);
		tn_db_bind_text(st, 2, kind);
		tn_db_bind_text(st, 3, n->dedupe);
		rc = tn_db_step(st, "recording a notification's outcome", err);
		tn_db_reset(st);
		if (rc != TN_DB_DONE)
			return tn_error_code(err, TN_ERR_DB);
	}
	if (outcome)
		*outcome = oc;
	return TN_OK;
}

typedef struct kept {
	int64_t id;
	int kind;
	char *dedupe, *body;
	size_t len;
	tn_time received;
} kept;

int tn_sources_replay(tn_store *s, long long *count, tn_error *err)
{
	long long n = 0;
	int rc = tn_store_begin(s, err);
	if (rc)
		return rc;
	static const char *const wipe[] = {
		"DELETE FROM subscription_state WHERE subscription_id IN (SELECT subscription_id FROM source_subscriptions)",
		"DELETE FROM source_subscriptions"};
	for (size_t i = 0; i < 2 && !rc; i++) {
		tn_stmt *st = tn_db_prepare(s, wipe[i], err);
		rc = !st ? tn_error_code(err, TN_ERR_DB)
			 : tn_db_step(st, "clearing the sources' state", err) == TN_DB_DONE ? TN_OK
											: tn_error_code(err, TN_ERR_DB);
		tn_db_finalize(st);
	}
	int64_t after = 0;
	kept *batch = rc ? NULL : tn_calloc(500, sizeof *batch);
	if (!rc && !batch)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	while (!rc) {
		tn_stmt *st = tn_db_prepare(s,
					    "SELECT id, kind, dedupe_key, body, received_at FROM source_notifications"
					    " WHERE id > ? ORDER BY id LIMIT 500",
					    err);
		if (!st) {
			rc = tn_error_code(err, TN_ERR_DB);
			break;
		}
		tn_db_bind_int64(st, 1, after);
		size_t k = 0;
		int r;
		while ((r = tn_db_step(st, "reading the kept notifications", err)) == TN_DB_ROW) {
			kept *e = &batch[k];
			e->id = tn_db_column_int64(st, 0);
			e->kind = tn_source_kind_parse(tn_db_column_text(st, 1));
			e->dedupe = tn_strdup(tn_db_column_text(st, 2));
			const char *b = tn_db_column_text(st, 3);
			e->len = b ? strlen(b) : 0;
			e->body = b ? tn_strdup(b) : NULL;
			e->received = tn_db_column_time(st, 4);
			k++;
			if (!e->dedupe || !e->body) {
				r = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
		}
		tn_db_finalize(st);
		if (r != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		for (size_t i = 0; i < k; i++) {
			kept *e = &batch[i];
			if (!rc) {
				tn_source_note note;
				tn_error e2 = {0};
				int oc;
				rc = src_decode_at(e->kind, e->dedupe, e->body, e->len, e->received, &note, &e2);
				if (rc)
					tn_error_set(err, rc, "notification %lld: %s", (long long)e->id, e2.msg);
				else {
					if ((rc = apply(s, &note, &oc, err)) == TN_OK)
						rc = set_outcome(s, e->id, oc, err);
					tn_source_note_free(&note);
				}
				n++;
				after = e->id;
			}
			free(e->dedupe);
			free(e->body);
			memset(e, 0, sizeof *e);
		}
		if (k < 500)
			break;
	}
	free(batch);
	if (rc) {
		tn_store_rollback(s);
		return rc;
	}
	if ((rc = tn_store_commit(s, err))) {
		tn_store_rollback(s);
		return rc;
	}
	if (count)
		*count = n;
	return TN_OK;
}
