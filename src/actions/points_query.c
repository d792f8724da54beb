/*
 * points_query.c -- reading the loyalty-points ledger: the invariant check
 * (balances = ledger sums = open lots, and a FIFO replay of the ledger),
 * tiers, balances, history, rules, and points at risk.  Writing is in
 * points.c.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Replay the ledger: per customer, in entry order, earns and grants open
 * lots, an expire entry empties its lot (it must hold exactly what is left),
 * a redeem takes from the open lots oldest first (by time, then entry).  The
 * lots left over must be the stored points_lots, lot by lot. */
typedef struct rlot {
	int64_t id;
	tn_time at;
	long long rem;
} rlot;

/* The stored lots, ascending by lot id (ORDER BY the primary key: no sort),
 * looked up by binary search.  An array indexed by lot id took 8 bytes per ledger
 * id up to the largest: 1.5 GB (and 20 s of CPU filling it) on a ledger
 * whose ids reach 190,000,000 with 2,400,000 lots. */
typedef struct slot {
	int64_t id;
	long long rem;
} slot;

static long long stored_rem(const slot *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].id == id ? v[lo].rem : -1;
}

/* Per-customer sums, ascending by customer: the ledger's (from the replay),
 * the balances and the open lots' remaining points, compared by a merge.
 * The check's GROUP BY over each UNION ALL sorted every ledger entry and lot
 * (4 s of CPU and a sorter of 100s of MB on 1,000,000 customers). */
typedef struct csum {
	int64_t cust;
	long long sum;
} csum;
typedef struct csums {
	csum *v;
	size_t n, cap;
} csums;

/* Add V to customer CUST's sum (customers come in ascending order). */
static int csums_add(csums *c, int64_t cust, long long v, tn_error *err)
{
	if (c->n && c->v[c->n - 1].cust == cust) {
		if (__builtin_add_overflow(c->v[c->n - 1].sum, v, &c->v[c->n - 1].sum))
			return tn_error_set(err, TN_ERR_DB, "points check: integer overflow");
		return TN_OK;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		csum *t = nc <= 400000000 ? tn_realloc(c->v, nc * sizeof *t) : NULL;
		if (!t)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		c->v = t;
		c->cap = nc;
	}
	c->v[c->n].cust = cust;
	c->v[c->n++].sum = v;
	return TN_OK;
}

/* The sums of SQL's rows (customer, value), in customer order. */
static int csums_read(tn_store *s, const char *sql, csums *c, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "checking points", err)) == TN_DB_ROW)
		if ((rc = csums_add(c, tn_db_column_int64(st, 0), tn_db_column_int64(st, 1), err)))
			break;
	if (!rc)
		rc = tn_db_step_end(step, err);
	tn_db_finalize(st);
	return rc;
}

/* Customers whose sums differ between A and B (a customer missing from one
 * has 0 there, as in a GROUP BY over a UNION ALL of the two). */
static long csums_diff(const csums *a, const csums *b)
{
	long n = 0;
	size_t i = 0, k = 0;
	while (i < a->n || k < b->n) {
		if (k == b->n || (i < a->n && a->v[i].cust < b->v[k].cust))
			n += a->v[i++].sum != 0;
		else if (i == a->n || b->v[k].cust < a->v[i].cust)
			n += b->v[k++].sum != 0;
		else
			n += a->v[i++].sum != b->v[k++].sum;
	}
	return n;
}

static int fifo_replay(tn_store *s, tn_points_check *out, csums *ledger, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "SELECT coalesce(max(id), 0), (SELECT count(*) FROM points_lots) FROM points_ledger",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (tn_db_step_row(st, "counting ledger entries", err)) {
		tn_db_finalize(st);
		return tn_error_code(err, TN_ERR_DB);
	}
	int64_t maxid = tn_db_column_int64(st, 0), nlots = tn_db_column_int64(st, 1);
	tn_db_finalize(st);
	if (nlots > 200000000)
		return tn_error_set(err, TN_ERR_NOMEM, "points check: more than 200,000,000 points lots");
	size_t cap_st = nlots > 0 ? (size_t)nlots : 1, nst = 0;
	slot *stored = tn_malloc(cap_st * sizeof *stored);
	rlot *lots = NULL;
	size_t nl = 0, cap = 0;
	int rc = TN_OK;
	if (!stored)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!(st = tn_db_prepare(s, "SELECT lot_id, remaining FROM points_lots ORDER BY lot_id", err))) {
		free(stored);
		return tn_error_code(err, TN_ERR_DB);
	}
	int step;
	while ((step = tn_db_step(st, "reading points lots", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(st, 0);
		if (id < 0 || id > maxid) {
			out->mismatched_fifo++;
			continue;
		}
		if (nst == cap_st) { /* lots added since the count */
			slot *t = cap_st < 200000000 ? tn_realloc(stored, 2 * cap_st * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			stored = t;
			cap_st *= 2;
		}
		stored[nst].id = id;
		stored[nst++].rem = tn_db_column_int64(st, 1);
	}
	if (rc || tn_db_step_end( step, err)) {
		tn_db_finalize(st);
		free(stored);
		return rc ? rc : tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	if (!(st = tn_db_prepare(s, "SELECT customer_id, id, kind, points, at, lot_id FROM points_ledger "
				       "ORDER BY customer_id, id", err))) {
		free(stored);
		return tn_error_code(err, TN_ERR_DB);
	}
	int64_t cur = INT64_MIN;
	for (int more = 1; more && !rc;) {
		more = (step = tn_db_step(st, "reading the points ledger", err)) == TN_DB_ROW;
		if (!more && (rc = tn_db_step_end( step, err)))
			break;
		int64_t cust = more ? tn_db_column_int64(st, 0) : INT64_MIN + 1;
		if (cust != cur) { /* compare the finished customer's lots */
			for (size_t i = 0; i < nl; i++)
				out->mismatched_fifo += stored_rem(stored, nst, lots[i].id) != lots[i].rem;
			nl = 0;
			cur = cust;
		}
		if (!more)
			break;
		int64_t id = tn_db_column_int64(st, 1);
		const char *kind = tn_db_column_text(st, 2);
		long long pts = tn_db_column_int64(st, 3);
		if ((rc = csums_add(ledger, cust, pts, err)))
			break;
		if (strcmp(kind, "earn") == 0 || strcmp(kind, "grant") == 0) {
			if (nl == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				rlot *t = ncap <= 100000000 ? tn_realloc(lots, ncap * sizeof *t) : NULL;
				if (!t) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
					break;
				}
				lots = t;
				cap = ncap;
			}
			lots[nl].id = id;
			lots[nl].at = tn_db_column_int64(st, 4);
			lots[nl++].rem = pts;
		} else if (strcmp(kind, "expire") == 0) { /* its lot must hold exactly -pts */
			int64_t lot = tn_db_column_int64(st, 5);
			size_t i = 0;
			while (i < nl && lots[i].id != lot)
				i++;
			if (i == nl || lots[i].rem != -pts)
				out->mismatched_fifo++;
			else
				lots[i].rem = 0;
		} else { /* redeem: oldest first by (at, id) */
			long long left = -pts;
			while (left > 0) {
				size_t best = SIZE_MAX;
				for (size_t i = 0; i < nl; i++)
					if (lots[i].rem > 0 && (best == SIZE_MAX || lots[i].at < lots[best].at ||
								(lots[i].at == lots[best].at && lots[i].id < lots[best].id)))
						best = i;
				if (best == SIZE_MAX) {
					out->mismatched_fifo++;
					break;
				}
				long long take = lots[best].rem < left ? lots[best].rem : left;
				lots[best].rem -= take;
				left -= take;
			}
		}
	}
	tn_db_finalize(st);
	free(lots);
	free(stored);
	return rc;
}

int tn_points_check_run(tn_store *s, tn_points_check *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	static const char *sql = "SELECT (SELECT count(*) FROM points_ledger), (SELECT count(*) FROM points_balances), "
				 "(SELECT coalesce(sum(balance), 0) FROM points_balances), "
				 "(SELECT count(*) FROM points_balances WHERE balance < 0)";
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (tn_db_step(st, "checking points", err) != TN_DB_ROW) {
		tn_db_finalize(st);
		return tn_store_db_error(s, "checking points", err);
	}
	out->entries = tn_db_column_int64(st, 0);
	out->customers = tn_db_column_int64(st, 1);
	out->outstanding = tn_db_column_int64(st, 2);
	out->negative = (long)tn_db_column_int64(st, 3);
	tn_db_finalize(st);
	/* balances = ledger sums = open lots, customer by customer; lots with
	 * nothing remaining add 0 (remaining >= 0), so the open ones (a partial
	 * index in customer order) give the same sums */
	csums ledger = {0}, bal = {0}, lots = {0};
	int rc = fifo_replay(s, out, &ledger, err);
	if (!rc)
		rc = csums_read(s, "SELECT customer_id, balance FROM points_balances ORDER BY customer_id", &bal, err);
	if (!rc)
		rc = csums_read(s, "SELECT customer_id, remaining FROM points_lots WHERE remaining > 0 ORDER BY customer_id",
				&lots, err);
	if (!rc) {
		out->mismatched_balance = csums_diff(&ledger, &bal);
		out->mismatched_lots = csums_diff(&lots, &bal);
	}
	free(ledger.v);
	free(bal.v);
	free(lots.v);
	return rc;
}

int tn_points_set_tier(tn_store *s, const char *name, int level, const char *basis, double threshold,
		       const char *benefits, tn_error *err)
{
	if (strcmp(basis, "points") != 0 && strcmp(basis, "spend") != 0)
		return tn_error_set(err, TN_ERR_USAGE, "tier basis: expected points or spend, found \"%s\"", basis);
	if (!(threshold >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "tier threshold: expected a number >= 0");
	tn_stmt *st = tn_db_prepare(s,
					    "INSERT INTO points_tiers(name, level, basis, threshold, benefits) "
					    "VALUES(?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET level = excluded.level, "
					    "basis = excluded.basis, threshold = excluded.threshold, "
					    "benefits = excluded.benefits",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, name);
	tn_db_bind_int64(st, 2, level);
	tn_db_bind_text(st, 3, basis);
	tn_db_bind_double(st, 4, threshold);
	if (benefits)
		tn_db_bind_text(st, 5, benefits);
	tn_error e = {0};
	int rc = tn_db_step(st, "adding a tier", &e) == TN_DB_DONE ? TN_OK
						 : tn_error_set(err, TN_ERR_INPUT, "tier %s: %s (is level %d taken?)",
								name, e.msg, level);
	tn_db_finalize(st);
	return rc;
}

/* Per-customer points and spend, and the tier they reach (a SQL fragment). */
#define CUSTOMER_STATS                                                                                        \
	"WITH spend AS (SELECT customer_id, sum(CASE status WHEN 'succeeded' THEN tn_money(amount, currency, "    \
	"  paid_at) WHEN 'refunded' THEN -tn_money(amount, currency, paid_at) ELSE 0 END) AS spend FROM payments " \
	"  GROUP BY customer_id), "                                                                          \
	"st AS (SELECT b.customer_id, b.balance, b.earned, coalesce(sp.spend, 0) AS spend FROM points_balances b " \
	"  LEFT JOIN spend sp ON sp.customer_id = b.customer_id), "                                             \
	"tiered AS (SELECT st.*, (SELECT name FROM points_tiers t WHERE (t.basis = 'points' AND t.threshold <= " \
	"  st.earned) OR (t.basis = 'spend' AND t.threshold <= st.spend) ORDER BY level DESC LIMIT 1) AS tier " \
	"  FROM st) "

int tn_points_tier_of(tn_store *s, const char *customer, char **tier, tn_error *err)
{
	*tier = NULL;
	int64_t key;
	if (tn_store_customer_key(s, customer, &key, err))
		return tn_error_code(err, TN_ERR_NOTFOUND);
	tn_stmt *st = tn_db_prepare(s, CUSTOMER_STATS "SELECT tier FROM tiered WHERE customer_id = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	int step = tn_db_step(st, "finding a tier", err), rc = TN_OK;
	if (step == TN_DB_ROW) {
		if (!tn_db_column_is_null(st, 0) &&
		    !(*tier = tn_strdup(tn_db_column_text(st, 0))))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	} else {
		rc = tn_db_step_end( step, err);
	}
	tn_db_finalize(st);
	return rc;
}

int tn_points_balances(tn_store *s, const char *customer, tn_rowset **out, tn_error *err)
{
	int64_t key = 0;
	if (customer && tn_store_customer_key(s, customer, &key, err))
		return tn_error_code(err, TN_ERR_NOTFOUND);
	tn_stmt *st = tn_db_prepare(s,
					    CUSTOMER_STATS "SELECT c.ext_id AS customer, t.balance, t.earned, round(t.spend, 2) AS spend, "
							   "t.tier FROM tiered t JOIN customers c ON c.id = t.customer_id "
							   "WHERE ?1 = 0 OR t.customer_id = ?1 ORDER BY t.balance DESC, c.ext_id",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	static const int digits[] = {-1, 0, 0, 2, -1};
	return tn_rowset_from_db(s, st, digits, out, err);
}

int tn_points_history(tn_store *s, const char *customer, tn_rowset **out, tn_error *err)
{
	int64_t key;
	if (tn_store_customer_key(s, customer, &key, err))
		return tn_error_code(err, TN_ERR_NOTFOUND);
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT id AS entry, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at, kind, points, "
		"sum(points) OVER (ORDER BY id) AS balance, strftime('%Y-%m-%d', expires_at, 'unixepoch') AS expires, "
		"lot_id AS lot, idem_key AS key, note FROM points_ledger WHERE customer_id = ? ORDER BY id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	static const int digits[] = {0, -1, -1, 0, 0, -1, 0, -1, -1};
	return tn_rowset_from_db(s, st, digits, out, err);
}

int tn_points_tiers(tn_store *s, tn_rowset **out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s,
					    CUSTOMER_STATS "SELECT p.name AS tier, p.level, p.basis, p.threshold, "
							   "p.benefits, (SELECT count(*) FROM tiered t WHERE t.tier = "
							   "p.name) AS members FROM points_tiers p ORDER BY p.level",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	static const int digits[] = {-1, 0, -1, 2, -1, 0};
	return tn_rowset_from_db(s, st, digits, out, err);
}

int tn_points_rules(tn_store *s, tn_rowset **out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(
		s, "SELECT event_type, per_action, per_amount FROM points_rules ORDER BY event_type", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	static const int digits[] = {-1, 0, 4};
	return tn_rowset_from_db(s, st, digits, out, err);
}

int tn_points_at_risk(tn_store *s, tn_time now, double days, const tn_scores *sc, double min_p, tn_rowset **out,
		      tn_error *err)
{
	if (tn_scores_to_temp(s, sc, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = tn_db_prepare(
		s,
		"WITH x AS (SELECT customer_id, sum(remaining) AS pts, min(expires_at) AS first_exp FROM points_lots "
		"  WHERE remaining > 0 AND expires_at > ?1 AND expires_at <= ?2 GROUP BY customer_id), "
		"r AS (SELECT b.customer_id, b.balance, coalesce(x.pts, 0) AS expiring, x.first_exp, k.p_churn, "
		"  (k.p_churn >= ?3) IS TRUE AS risky FROM points_balances b "
		"  LEFT JOIN x ON x.customer_id = b.customer_id LEFT JOIN temp.tn_risk k ON k.customer_id = b.customer_id "
		"  WHERE b.balance > 0) "
		"SELECT c.ext_id AS customer, r.balance, r.expiring, strftime('%Y-%m-%d', r.first_exp, 'unixepoch') "
		"  AS first_expiry, r.p_churn, CASE WHEN r.risky THEN r.balance ELSE r.expiring END AS at_risk, "
		"  CASE WHEN r.risky AND r.expiring > 0 THEN 'expiring, churn risk' WHEN r.risky THEN 'churn risk' "
		"  ELSE 'expiring' END AS why "
		"FROM r JOIN customers c ON c.id = r.customer_id WHERE r.expiring > 0 OR r.risky "
		"ORDER BY at_risk DESC, c.ext_id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	tn_db_bind_int64(st, 2, now + (tn_time)llround(days * TN_DAY));
	tn_db_bind_double(st, 3, min_p);
	static const int digits[] = {-1, 0, 0, -1, 3, 0, -1};
	return tn_rowset_from_db(s, st, digits, out, err);
}
