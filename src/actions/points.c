/*
 * points.c -- loyalty points: an append-only ledger (points_ledger: earn,
 * grant, redeem, expire entries, each with a UNIQUE idempotency key) and two
 * derived tables kept in the same transaction: points_lots (what is left of
 * each earn/grant, consumed oldest first -- FIFO) and points_balances (the
 * running balance, CHECK >= 0).  `tenure points check` (points_query.c)
 * proves the derived tables equal the ledger.
 *
 * Concurrency: every batch runs in one BEGIN IMMEDIATE transaction, so two
 * processes serialise on the write lock (waiting up to the store's busy
 * timeout) and a balance is read and written under the same lock; a retried
 * entry finds its key and is not applied twice.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EXPIRY_KEY "points.expiry_days"

typedef struct pstmts {
	tn_stmt *key, *refuse, *rule, *ins, *lot, *bal_up, *bal_down, *open, *lot_set;
} pstmts;

static void pst_free(pstmts *p)
{
	tn_db_finalize(p->key);
	tn_db_finalize(p->rule);
	tn_db_finalize(p->refuse);
	tn_db_finalize(p->ins);
	tn_db_finalize(p->lot);
	tn_db_finalize(p->bal_up);
	tn_db_finalize(p->bal_down);
	tn_db_finalize(p->open);
	tn_db_finalize(p->lot_set);
}

static int pst_prepare(tn_store *s, pstmts *p, tn_error *err)
{
	memset(p, 0, sizeof *p);
	if (!(p->key = tn_db_prepare(s,
					"SELECT customer_id, kind, points FROM points_ledger WHERE idem_key = ?1 "
					"UNION ALL SELECT customer_id, 'refused', -points FROM points_refused WHERE idem_key = ?1",
					err)) ||
	    !(p->refuse = tn_db_prepare(s, "INSERT INTO points_refused(idem_key, customer_id, at, points) "
					      "VALUES(?,?,?,?)", err)) ||
	    !(p->rule = tn_db_prepare(s, "SELECT per_action, per_amount FROM points_rules WHERE event_type = ?",
					 err)) ||
	    !(p->ins = tn_db_prepare(s,
					"INSERT INTO points_ledger(customer_id, at, kind, points, expires_at, lot_id, "
					"idem_key, note) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(idem_key) DO NOTHING RETURNING id",
					err)) ||
	    !(p->lot = tn_db_prepare(s,
					"INSERT INTO points_lots(lot_id, customer_id, at, expires_at, remaining) "
					"VALUES(?,?,?,?,?)",
					err)) ||
	    !(p->bal_up = tn_db_prepare(s,
					   "INSERT INTO points_balances(customer_id, balance, earned) VALUES(?1,?2,?3) "
					   "ON CONFLICT(customer_id) DO UPDATE SET balance = points_balances.balance + ?2, "
					   "earned = points_balances.earned + ?3",
					   err)) ||
	    /* a decrease is a plain UPDATE: an upsert would test CHECK (balance >= 0)
	     * on the would-be inserted row first */
	    !(p->bal_down = tn_db_prepare(s, "UPDATE points_balances SET balance = balance + ?2 "
						"WHERE customer_id = ?1", err)) ||
	    !(p->open = tn_db_prepare(s,
					 "SELECT lot_id, remaining, expires_at FROM points_lots INDEXED BY points_lots_open "
					 "WHERE customer_id = ? AND remaining > 0 ORDER BY at, lot_id",
					 err)) ||
	    !(p->lot_set = tn_db_prepare(s, "UPDATE points_lots SET remaining = ? WHERE lot_id = ?", err))) {
		pst_free(p);
		return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

static int step_done(tn_store *s, tn_stmt *st, const char *what, tn_error *err)
{
	int rc = tn_db_step(st, "reading the store", err);
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return tn_store_db_error(s, what, err);
	return TN_OK;
}

/* Append one ledger entry; returns its id in *id. */
static int ledger_add(tn_store *s, pstmts *p, int64_t cust, tn_time at, const char *kind, long long pts,
		      tn_time expires, int64_t lot, const char *key, const char *note, int64_t *id, tn_error *err)
{
	(void)s;
	tn_stmt *st = p->ins;
	tn_db_bind_int64(st, 1, cust);
	tn_db_bind_int64(st, 2, at);
	tn_db_bind_text(st, 3, kind);
	tn_db_bind_int64(st, 4, pts);
	if (expires == TN_NO_TIME)
		tn_db_bind_null(st, 5);
	else
		tn_db_bind_int64(st, 5, expires);
	if (lot)
		tn_db_bind_int64(st, 6, lot);
	else
		tn_db_bind_null(st, 6);
	tn_db_bind_text(st, 7, key);
	if (note)
		tn_db_bind_text(st, 8, note);
	else
		tn_db_bind_null(st, 8);
	/* a row (the new id) when added; none when the key was there */
	int rc = tn_db_step(st, "writing the points ledger", err);
	*id = rc == TN_DB_ROW ? tn_db_column_int64(st, 0) : 0;
	if (rc == TN_DB_ROW)
		rc = tn_db_step(st, "writing the points ledger", err);
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

static int balance_add(tn_store *s, pstmts *p, int64_t cust, long long delta, long long earned, tn_error *err)
{
	if (delta < 0) {
		tn_db_bind_int64(p->bal_down, 1, cust);
		tn_db_bind_int64(p->bal_down, 2, delta);
		return step_done(s, p->bal_down, "updating a points balance", err);
	}
	tn_db_bind_int64(p->bal_up, 1, cust);
	tn_db_bind_int64(p->bal_up, 2, delta);
	tn_db_bind_int64(p->bal_up, 3, earned);
	return step_done(s, p->bal_up, "updating a points balance", err);
}

static int lot_set(tn_store *s, pstmts *p, int64_t lot, long long remaining, tn_error *err)
{
	tn_db_bind_int64(p->lot_set, 1, remaining);
	tn_db_bind_int64(p->lot_set, 2, lot);
	return step_done(s, p->lot_set, "updating a points lot", err);
}

/* Expire one lot's remainder: an 'expire' entry keyed "expire:LOT". */
static int expire_lot(tn_store *s, pstmts *p, int64_t cust, int64_t lot, long long rem, tn_time at, tn_error *err)
{
	char key[48];
	int64_t id;
	snprintf(key, sizeof key, "expire:%lld", (long long)lot);
	if (ledger_add(s, p, cust, at, "expire", -rem, TN_NO_TIME, lot, key, NULL, &id, err) ||
	    lot_set(s, p, lot, 0, err) || balance_add(s, p, cust, -rem, 0, err))
		return tn_error_code(err, TN_ERR_DB);
	return TN_OK;
}

typedef struct lot_rem {
	int64_t lot;
	long long rem;
	tn_time expires; /* TN_NO_TIME: never */
} lot_rem;

#define LOTS_MAX 1000000 /* open lots of one customer read at once */

static int op_points(pstmts *p, const tn_points_op *op, long long *pts, tn_error *err)
{
	*pts = op->points;
	if (op->kind != TN_POINTS_EARN || op->points > 0)
		return op->points > 0 ? TN_OK
				      : tn_error_set(err, TN_ERR_INPUT, "points entry %s: expected points > 0, found %lld",
						     op->key, op->points);
	if (!op->event_type)
		return tn_error_set(err, TN_ERR_INPUT, "points entry %s: expected points or an event type with a rule",
				    op->key);
	tn_db_bind_text(p->rule, 1, op->event_type);
	int rc = tn_db_step(p->rule, "reading points rules", err);
	if (rc != TN_DB_ROW) {
		if (rc != TN_DB_DONE) { /* a failed read is not a missing rule */
			tn_db_reset(p->rule);
			return rc;
		}
		tn_db_reset(p->rule);
		return tn_error_set(err, TN_ERR_NOTFOUND,
				    "points entry %s: no earn rule for event type \"%s\" (set one with `tenure points rule`)",
				    op->key, op->event_type);
	}
	long long per_action = tn_db_column_int64(p->rule, 0);
	double per_amount = tn_db_column_double0(p->rule, 1);
	tn_db_reset(p->rule);
	double amt = isnan(op->amount) ? 0 : op->amount;
	*pts = per_action + (long long)floor(per_amount * amt + 1e-9);
	return TN_OK;
}

/* Is OP's key known?  Sets *status to DUPLICATE (or INSUFFICIENT for a
 * remembered refusal) when it is the same entry, -1 when the key is new;
 * a key used for a different entry is an error. */
static int key_seen(tn_store *s, pstmts *p, const tn_points_op *op, int64_t cust, const char *kind,
		    long long signed_pts, int *status, tn_error *err)
{
	(void)s;
	*status = -1;
	tn_db_bind_text(p->key, 1, op->key);
	int step = tn_db_step(p->key, "looking up a points key", err);
	if (step == TN_DB_ROW) {
		const char *k = tn_db_column_text(p->key, 1);
		int refused = strcmp(k, "refused") == 0;
		int same = tn_db_column_int64(p->key, 0) == cust &&
			   (strcmp(k, kind) == 0 || (refused && op->kind == TN_POINTS_REDEEM)) &&
			   tn_db_column_int64(p->key, 2) == signed_pts;
		tn_db_reset(p->key);
		if (!same)
			return tn_error_set(err, TN_ERR_INPUT,
					    "points key \"%s\" was already used for a different entry (customer, kind "
					    "or points differ)",
					    op->key);
		*status = refused ? TN_POINTS_INSUFFICIENT : TN_POINTS_DUPLICATE;
		return TN_OK;
	}
	int rc = tn_db_step_end( step, err);
	tn_db_reset(p->key);
	return rc;
}

static int apply_one(tn_store *s, pstmts *p, const tn_points_op *op, double expiry_days, int *status, tn_error *err)
{
	static const char *kinds[] = {"", "earn", "grant", "redeem"};
	if (op->kind < TN_POINTS_EARN || op->kind > TN_POINTS_REDEEM)
		return tn_error_set(err, TN_ERR_USAGE, "points entry: unknown kind %d", op->kind);
	if (!op->key || !*op->key)
		return tn_error_set(err, TN_ERR_INPUT, "points entry for %s: an idempotency key is required",
				    op->customer ? op->customer : "?");
	int64_t cust;
	if (tn_store_customer_key(s, op->customer, &cust, err))
		return tn_error_code(err, TN_ERR_NOTFOUND);
	long long pts;
	if (op_points(p, op, &pts, err))
		return tn_error_code(err, TN_ERR_INPUT);
	const char *kind = kinds[op->kind];
	long long signed_pts = op->kind == TN_POINTS_REDEEM ? -pts : pts;
	if (pts <= 0) {
		*status = TN_POINTS_NOTHING;
		return TN_OK;
	}
	/* exactly once: a known key is a retry (same entry) or a mistake.  Earns
	 * and grants find out from the UNIQUE index as they insert; a redeem
	 * looks first, since it expires and consumes lots before writing. */
	if (op->kind == TN_POINTS_REDEEM) {
		int rc = key_seen(s, p, op, cust, kind, signed_pts, status, err);
		if (rc || *status == TN_POINTS_DUPLICATE || *status == TN_POINTS_INSUFFICIENT)
			return rc;
	}
	int64_t id;
	if (op->kind != TN_POINTS_REDEEM) {
		tn_time exp = expiry_days > 0 ? op->at + (tn_time)llround(expiry_days * TN_DAY) : TN_NO_TIME;
		if (ledger_add(s, p, cust, op->at, kind, pts, exp, 0, op->key, op->note, &id, err))
			return tn_error_code(err, TN_ERR_DB);
		if (!id) { /* the key is taken: a retry, or a mistake */
			int rc = key_seen(s, p, op, cust, kind, signed_pts, status, err);
			if (!rc && *status == TN_POINTS_INSUFFICIENT)
				rc = tn_error_set(err, TN_ERR_INPUT, "points key \"%s\" was already used for a refused "
								     "redemption", op->key);
			return rc;
		}
		tn_db_bind_int64(p->lot, 1, id);
		tn_db_bind_int64(p->lot, 2, cust);
		tn_db_bind_int64(p->lot, 3, op->at);
		if (exp == TN_NO_TIME)
			tn_db_bind_null(p->lot, 4);
		else
			tn_db_bind_int64(p->lot, 4, exp);
		tn_db_bind_int64(p->lot, 5, pts);
		if (step_done(s, p->lot, "writing a points lot", err) || balance_add(s, p, cust, pts, pts, err))
			return tn_error_code(err, TN_ERR_DB);
		*status = TN_POINTS_APPLIED;
		return TN_OK;
	}
	/* redeem: walk the open lots oldest first (a covering index), noting the
	 * ones due to expire by then and what to take from the others, and stop
	 * as soon as the redemption is covered; then write. */
	lot_rem *v = NULL;
	size_t n = 0, cap = 0;
	long long left = pts;
	int rc = TN_OK, step;
	tn_db_bind_int64(p->open, 1, cust);
	while (left > 0 && (step = tn_db_step(p->open, "reading the store", err)) == TN_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			lot_rem *t = nc <= LOTS_MAX ? tn_realloc(v, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "too many open points lots for customer %s", op->customer);
				break;
			}
			v = t;
			cap = nc;
		}
		lot_rem *l = &v[n++];
		l->lot = tn_db_column_int64(p->open, 0);
		l->rem = tn_db_column_int64(p->open, 1);
		l->expires = tn_db_column_is_null(p->open, 2) ? TN_NO_TIME : tn_db_column_int64(p->open, 2);
		if (l->expires == TN_NO_TIME || l->expires > op->at)
			left -= l->rem; /* may go below 0: the last lot is taken in part */
	}
	tn_db_reset(p->open);
	/* expire what is due (whether or not the redemption goes ahead) */
	for (size_t i = 0; i < n && !rc; i++)
		if (v[i].expires != TN_NO_TIME && v[i].expires <= op->at)
			rc = expire_lot(s, p, cust, v[i].lot, v[i].rem, op->at, err);
	if (!rc && left > 0) {
		free(v);
		/* remember the refusal, so that a retry gets the same answer */
		tn_db_bind_text(p->refuse, 1, op->key);
		tn_db_bind_int64(p->refuse, 2, cust);
		tn_db_bind_int64(p->refuse, 3, op->at);
		tn_db_bind_int64(p->refuse, 4, pts);
		if (step_done(s, p->refuse, "recording a refused redemption", err))
			return tn_error_code(err, TN_ERR_DB);
		*status = TN_POINTS_INSUFFICIENT;
		return TN_OK;
	}
	left = pts;
	for (size_t i = 0; i < n && left > 0 && !rc; i++) {
		if (v[i].expires != TN_NO_TIME && v[i].expires <= op->at)
			continue;
		long long take = v[i].rem < left ? v[i].rem : left;
		rc = lot_set(s, p, v[i].lot, v[i].rem - take, err);
		left -= take;
	}
	free(v);
	if (rc)
		return rc;
	if (ledger_add(s, p, cust, op->at, kind, -pts, TN_NO_TIME, 0, op->key, op->note, &id, err) ||
	    balance_add(s, p, cust, -pts, 0, err))
		return tn_error_code(err, TN_ERR_DB);
	*status = TN_POINTS_APPLIED;
	return TN_OK;
}

static int read_expiry(tn_store *s, double *d, tn_error *err)
{
	char *v;
	*d = 0;
	int rc = tn_store_meta_get(s, EXPIRY_KEY, &v, err);
	if (v && tn_parse_double(v, strlen(v), d))
		*d = 0;
	free(v);
	return rc;
}

double tn_points_expiry_days(tn_store *s)
{
	double d;
	return read_expiry(s, &d, NULL) ? NAN : d;
}

int tn_points_apply_in(tn_store *s, const tn_points_op *ops, size_t n, int *status, tn_error *err)
{
	double expiry;
	pstmts p;
	if (read_expiry(s, &expiry, err) || pst_prepare(s, &p, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		int st = 0;
		rc = apply_one(s, &p, &ops[i], expiry, &st, err);
		if (status)
			status[i] = st;
	}
	pst_free(&p);
	return rc;
}

int tn_points_apply(tn_store *s, const tn_points_op *ops, size_t n, int *status, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_points_apply_in(s, ops, n, status, err);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

int tn_points_set_rule(tn_store *s, const char *event_type, long long per_action, double per_amount, tn_error *err)
{
	if (per_action < 0 || !(per_amount >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "points rule: expected per-action and per-amount >= 0");
	tn_stmt *st = tn_db_prepare(s,
					    "INSERT INTO points_rules(event_type, per_action, per_amount) VALUES(?,?,?) "
					    "ON CONFLICT(event_type) DO UPDATE SET per_action = excluded.per_action, "
					    "per_amount = excluded.per_amount",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, event_type);
	tn_db_bind_int64(st, 2, per_action);
	tn_db_bind_double(st, 3, per_amount);
	int rc = tn_db_step(st, "saving a points rule", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "saving a points rule", err);
	tn_db_finalize(st);
	return rc;
}

int tn_points_set_expiry(tn_store *s, double days, tn_error *err)
{
	if (!(days >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "points expiry: expected days >= 0, found %g", days);
	char buf[64];
	snprintf(buf, sizeof buf, "%.17g", days);
	return tn_store_meta_set(s, EXPIRY_KEY, buf, err);
}

int tn_points_expire(tn_store *s, tn_time now, long *entries, long long *points, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	pstmts p;
	if (pst_prepare(s, &p, err)) {
		tn_store_rollback(s);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT lot_id, customer_id, remaining FROM points_lots WHERE remaining > 0 "
					    "AND expires_at <= ? ORDER BY customer_id, at, lot_id",
					    err);
	long cnt = 0;
	long long total = 0;
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
	typedef struct {
		int64_t lot, cust;
		long long rem;
	} due;
	due *v = NULL;
	size_t n = 0, cap = 0;
	if (st) {
		tn_db_bind_int64(st, 1, now);
		int step;
		while ((step = tn_db_step(st, "reading points lots", err)) == TN_DB_ROW) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				due *t = nc <= 50000000 ? tn_realloc(v, nc * sizeof *t) : NULL;
				if (!t) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory expiring points");
					break;
				}
				v = t;
				cap = nc;
			}
			v[n].lot = tn_db_column_int64(st, 0);
			v[n].cust = tn_db_column_int64(st, 1);
			v[n++].rem = tn_db_column_int64(st, 2);
		}
		if (!rc)
			rc = tn_db_step_end( step, err);
		tn_db_finalize(st);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = expire_lot(s, &p, v[i].cust, v[i].lot, v[i].rem, now, err);
		cnt++;
		total += v[i].rem;
	}
	free(v);
	pst_free(&p);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		return rc;
	}
	if (entries)
		*entries = cnt;
	if (points)
		*points = total;
	return TN_OK;
}

int tn_points_earn_from_events(tn_store *s, tn_time since, long *applied, tn_error *err)
{
	*applied = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT c.ext_id, e.occurred_at, t.name, e.amount, e.ext_id, c.id FROM events e "
		"JOIN event_types t ON t.id = e.type_id JOIN points_rules r ON r.event_type = t.name "
		"JOIN customers c ON c.id = e.customer_id WHERE e.occurred_at > ? ORDER BY e.occurred_at",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, since);
	enum { BATCH = 5000 };
	tn_points_op *ops = tn_calloc(BATCH, sizeof *ops);
	char **strs = tn_calloc(BATCH * 3, sizeof *strs);
	int *status = tn_calloc(BATCH, sizeof *status);
	int rc = (ops && strs && status) ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (;;) {
		int step = rc ? TN_DB_DONE : tn_db_step(st, "reading events for points", err), more = step == TN_DB_ROW;
		if (!more && !rc)
			rc = tn_db_step_end( step, err);
		if (more) {
			/* the whole key, however long the event id: a cut key made
			 * two events one, and the second was never credited */
			const char *type = tn_db_column_text(st, 2);
			const char *eid = tn_db_column_text(st, 4);
			long long cid = tn_db_column_int64(st, 5), at = tn_db_column_int64(st, 1);
			int klen = snprintf(NULL, 0, "ev:%lld:%lld:%s:%s", cid, at, type, eid);
			char *key = klen >= 0 ? tn_malloc((size_t)klen + 1) : NULL;
			if (key)
				snprintf(key, (size_t)klen + 1, "ev:%lld:%lld:%s:%s", cid, at, type, eid);
			strs[3 * k] = tn_strdup(tn_db_column_text(st, 0));
			strs[3 * k + 1] = tn_strdup(type);
			strs[3 * k + 2] = key;
			if (!strs[3 * k] || !strs[3 * k + 1] || !strs[3 * k + 2]) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				k++;
			} else {
				ops[k] = (tn_points_op){.kind = TN_POINTS_EARN,
							.customer = strs[3 * k],
							.at = tn_db_column_int64(st, 1),
							.event_type = strs[3 * k + 1],
							.amount = tn_db_column_is_null(st, 3)
									  ? NAN
									  : tn_db_column_double0(st, 3),
							.key = strs[3 * k + 2]};
				k++;
			}
		}
		if (k && (k == BATCH || !more)) {
			/* the read statement must not hold the database across our writes:
			 * SQLite allows a write transaction while this read is pending on
			 * the same connection */
			if (!rc && !(rc = tn_points_apply(s, ops, k, status, err)))
				for (size_t i = 0; i < k; i++)
					*applied += status[i] == TN_POINTS_APPLIED;
			for (size_t i = 0; i < 3 * k; i++) {
				free(strs[i]);
				strs[i] = NULL;
			}
			k = 0;
		}
		if (!more)
			break;
	}
	tn_db_finalize(st);
	free(ops);
	free(strs);
	free(status);
	return rc;
}
