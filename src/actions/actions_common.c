/*
 * actions_common.c -- what the action modules (offers, win-back, points,
 * journey) share: the scores table (P(churn) and value per customer, read
 * from a scored CSV or estimated from the store), "now" as of the data, and
 * the Wilson / Newcombe intervals for the difference of two proportions.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- scores ---------------------------------------------------------------- */

void tn_scores_free(tn_scores *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++)
		free(sc->customer[i]);
	free(sc->customer);
	free(sc->p_churn);
	free(sc->value);
	free(sc->key);
	free(sc->signed_up_at);
	free(sc->period_end);
	free(sc);
}

static int scores_reserve(tn_scores *sc, size_t *cap, size_t want)
{
	if (want <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 1024;
	while (nc < want)
		nc *= 2;
	char **c = tn_realloc(sc->customer, nc * sizeof *c);
	if (!c)
		return -1;
	sc->customer = c;
	double *p = tn_realloc(sc->p_churn, nc * sizeof *p);
	if (!p)
		return -1;
	sc->p_churn = p;
	double *v = tn_realloc(sc->value, nc * sizeof *v);
	if (!v)
		return -1;
	sc->value = v;
	*cap = nc;
	return 0;
}

/* Arrays that follow n: keys, signup, period end (filled by attach / estimate). */
static int scores_extras(tn_scores *sc)
{
	size_t n = sc->n ? sc->n : 1;
	free(sc->key);
	free(sc->signed_up_at);
	free(sc->period_end);
	sc->key = tn_calloc(n, sizeof *sc->key);
	sc->signed_up_at = tn_malloc(n * sizeof *sc->signed_up_at);
	sc->period_end = tn_malloc(n * sizeof *sc->period_end);
	if (!sc->key || !sc->signed_up_at || !sc->period_end)
		return -1;
	for (size_t i = 0; i < sc->n; i++)
		sc->signed_up_at[i] = sc->period_end[i] = TN_NO_TIME;
	return 0;
}

/* The first column whose name is one of NAMES (NULL-terminated), or -1. */
static int col_index(tn_csv *r, const char *const *names)
{
	for (const char *const *n = names; *n; n++)
		for (size_t i = 0; i < tn_csv_nfields(r); i++)
			if (strcmp(tn_csv_field(r, i, NULL), *n) == 0)
				return (int)i;
	return -1;
}

static const char *const ID_COLS[] = {"customer", "id", "customer_id", NULL};
static const char *const P_COLS[] = {"p_churn", "risk", "probability", NULL};
static const char *const V_COLS[] = {"value", "clv", NULL};

enum { NEED_P = 1, NEED_V = 2, BLANK_V_OK = 4 };

/* Read customer ids with P(churn) and/or value (MODE); a blank value is NaN
 * with BLANK_V_OK, else an error. */
static int read_scores(const char *path, int mode, tn_scores **out, tn_error *err)
{
	*out = NULL;
	const char *want = (mode & NEED_P) && (mode & NEED_V) ? "customer, p_churn, value"
			   : (mode & NEED_P)		      ? "customer, p_churn (or risk)"
							      : "customer, value (or clv)";
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return tn_error_code(err, TN_ERR_IO);
	int rc = tn_csv_next(r, err);
	if (rc <= 0) {
		tn_csv_close(r);
		return rc < 0 ? TN_ERR_INPUT
			      : tn_error_set(err, TN_ERR_INPUT, "%s:1: expected a header with columns %s, found an "
							       "empty file", path, want);
	}
	int ci = col_index(r, ID_COLS), pi = (mode & NEED_P) ? col_index(r, P_COLS) : -2,
	    vi = (mode & NEED_V) ? col_index(r, V_COLS) : -2;
	if (ci < 0 || pi == -1 || vi == -1) {
		tn_error_set(err, TN_ERR_INPUT, "%s:1: expected columns %s; missing %s", path, want,
			     ci < 0 ? "customer" : pi == -1 ? "p_churn" : "value");
		tn_csv_close(r);
		return TN_ERR_INPUT;
	}
	int maxc = ci > pi ? ci : pi;
	maxc = maxc > vi ? maxc : vi;
	tn_scores *sc = tn_calloc(1, sizeof *sc);
	tn_strmap *seen = tn_strmap_new(); /* the customers so far, to refuse a second row */
	size_t cap = 0;
	if (!sc || !seen)
		goto nomem;
	while ((rc = tn_csv_next(r, err)) == 1) {
		long line = tn_csv_line(r);
		if (tn_csv_nfields(r) <= (size_t)maxc) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld: expected at least %d fields, found %zu", path, line,
				     maxc + 1, tn_csv_nfields(r));
			goto fail;
		}
		if (sc->n >= TN_SCORES_MAX) {
			tn_error_set(err, TN_ERR_NOMEM, "%s:%ld: more than %d scored customers", path, line,
				     TN_SCORES_MAX);
			goto fail;
		}
		if (scores_reserve(sc, &cap, sc->n + 1))
			goto nomem;
		const char *cust = tn_csv_field(r, (size_t)ci, NULL);
		if (!*cust) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: customer: expected an id, found a blank", path,
				     line, ci + 1);
			goto fail;
		}
		double p = NAN, v = NAN;
		size_t len;
		if (pi >= 0) {
			const char *ps = tn_csv_field(r, (size_t)pi, &len);
			if (tn_parse_double(ps, len, &p) || p < 0 || p > 1) {
				tn_error_set(err, TN_ERR_INPUT,
					     "%s:%ld:%d: p_churn: expected a probability in [0, 1], found \"%s\"", path,
					     line, pi + 1, ps);
				goto fail;
			}
		}
		if (vi >= 0) {
			const char *vs = tn_csv_field(r, (size_t)vi, &len);
			if (!(len == 0 && (mode & BLANK_V_OK)) && (tn_parse_double(vs, len, &v) || v < 0)) {
				tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: value: expected a number >= 0, found \"%s\"",
					     path, line, vi + 1, vs);
				goto fail;
			}
		}
		if (!(sc->customer[sc->n] = tn_strdup(cust)))
			goto nomem;
		sc->p_churn[sc->n] = p;
		sc->value[sc->n] = v;
		sc->n++;
		int added = tn_strmap_add(seen, cust, NULL);
		if (added < 0)
			goto nomem;
		if (!added) {
			tn_error_set(err, TN_ERR_INPUT,
				     "%s:%ld:%d: customer: expected each customer once, found \"%s\" again", path, line,
				     ci + 1, cust);
			goto fail;
		}
	}
	if (rc < 0)
		goto fail;
	tn_strmap_free(seen);
	tn_csv_close(r);
	if (scores_extras(sc)) {
		tn_scores_free(sc);
		return tn_error_set(err, TN_ERR_NOMEM, "%s: out of memory", path);
	}
	*out = sc;
	return TN_OK;
nomem:
	tn_error_set(err, TN_ERR_NOMEM, "%s: out of memory", path);
fail:
	tn_strmap_free(seen);
	tn_csv_close(r);
	tn_scores_free(sc);
	return tn_error_code(err, TN_ERR_INPUT);
}

int tn_scores_read_csv(const char *path, tn_scores **out, tn_error *err)
{
	return read_scores(path, NEED_P | NEED_V, out, err);
}

int tn_scores_read_pair(const char *risk_path, const char *value_path, tn_scores **out, size_t *no_value,
			tn_error *err)
{
	tn_scores *r = NULL, *v = NULL;
	tn_strmap *vmap = NULL; /* value file: customer -> row */
	*out = NULL;
	*no_value = 0;
	if (read_scores(risk_path, NEED_P, &r, err) || read_scores(value_path, NEED_V | BLANK_V_OK, &v, err))
		goto fail;
	if (!(vmap = tn_strmap_new()))
		goto nomem;
	for (size_t i = 0; i < v->n; i++) {
		size_t k;
		if (tn_strmap_add(vmap, v->customer[i], &k) < 0)
			goto nomem;
		assert(k == i); /* read_scores refused a customer twice */
	}
	for (size_t i = 0; i < r->n; i++) {
		size_t k = tn_strmap_find(vmap, r->customer[i]);
		double val = k == TN_STRMAP_NONE ? NAN : v->value[k];
		if (isnan(val)) {
			val = 0;
			++*no_value;
		}
		r->value[i] = val;
	}
	tn_strmap_free(vmap);
	tn_scores_free(v);
	*out = r;
	return TN_OK;
nomem:
	tn_error_set(err, TN_ERR_NOMEM, "out of memory");
fail:
	tn_strmap_free(vmap);
	tn_scores_free(r);
	tn_scores_free(v);
	return tn_error_code(err, TN_ERR_INPUT);
}

/* Per customer key: signup and live period end, in key order (looked up by
 * binary search: an array indexed by the key took gigabytes for sparse keys). */
typedef struct cust_info {
	int64_t key;
	tn_time signed_up_at, period_end;
} cust_info;

static int load_cust_info(tn_store *s, cust_info **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s, "SELECT count(*) FROM customers", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (tn_db_step_row(st, "reading customers", err)) {
		tn_db_finalize(st);
		return tn_error_code(err, TN_ERR_DB);
	}
	size_t cap = (size_t)tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	cust_info *ci = tn_malloc((cap ? cap : 1) * sizeof *ci);
	if (!ci)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	st = tn_db_prepare(s,
			      "SELECT c.id, c.signed_up_at, (SELECT max(coalesce(current_period_end, trial_ends_at)) "
			      "FROM subscriptions WHERE customer_id = c.id AND status IN ('trialing','active','past_due')) "
			      "FROM customers c ORDER BY c.id",
			      err);
	if (!st) {
		free(ci);
		return tn_error_code(err, TN_ERR_DB);
	}
	int step;
	while ((step = tn_db_step(st, "reading customers", err)) == TN_DB_ROW) {
		if (*n >= cap) /* customers added since the count: not in this snapshot */
			break;
		cust_info *c = &ci[(*n)++];
		c->key = tn_db_column_int64(st, 0);
		c->signed_up_at = !tn_db_column_is_null(st, 1) ? tn_db_column_int64(st, 1) : TN_NO_TIME;
		c->period_end = !tn_db_column_is_null(st, 2) ? tn_db_column_int64(st, 2) : TN_NO_TIME;
	}
	if (step != TN_DB_ROW && tn_db_step_end( step, err)) {
		tn_db_finalize(st);
		free(ci);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	*out = ci;
	return TN_OK;
}

static const cust_info *cust_find(const cust_info *ci, size_t n, int64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ci[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ci[lo].key == key ? &ci[lo] : NULL;
}

int tn_scores_attach(tn_store *s, tn_scores *sc, tn_error *err)
{
	cust_info *ci;
	size_t nci;
	if (load_cust_info(s, &ci, &nci, err))
		return tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < sc->n; i++) {
		int64_t k;
		if (tn_store_customer_key(s, sc->customer[i], &k, err)) {
			free(ci);
			return tn_error_code(err, TN_ERR_NOTFOUND);
		}
		sc->key[i] = k;
		const cust_info *c = cust_find(ci, nci, k);
		if (c) {
			sc->signed_up_at[i] = c->signed_up_at;
			sc->period_end[i] = c->period_end;
		}
	}
	free(ci);
	return TN_OK;
}

int tn_scores_estimate(tn_store *s, tn_time now, tn_scores **out, tn_error *err)
{
	*out = NULL;
	/* Plan monthly churn over the 90 days before now (see actions.h). */
	static const char *sql =
		"WITH w AS (SELECT plan, "
		"   sum(cancelled_at > ?1 - 90*86400 AND cancelled_at <= ?1) AS cancels, "
		"   sum(started_at <= ?1 AND (cancelled_at IS NULL OR cancelled_at > ?1 - 90*86400)) AS exposed "
		"  FROM subscriptions GROUP BY plan), "
		"act AS (SELECT DISTINCT customer_id FROM events WHERE occurred_at > ?1 - 14*86400 AND occurred_at <= ?1) "
		"SELECT c.ext_id, c.id, s.plan, tn_money(s.price, s.currency, s.started_at), s.billing_period, "
		"  CASE WHEN w.exposed > 0 THEN w.cancels * 1.0 / w.exposed / 3.0 ELSE 0 END, "
		"  c.id IN (SELECT customer_id FROM act), c.signed_up_at, coalesce(s.current_period_end, s.trial_ends_at) "
		"FROM subscriptions s JOIN customers c ON c.id = s.customer_id JOIN w ON w.plan = s.plan "
		"WHERE s.status IN ('trialing','active','past_due') AND s.started_at <= ?1 "
		"ORDER BY c.id, s.started_at DESC";
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	tn_scores *sc = tn_calloc(1, sizeof *sc);
	size_t cap = 0, xcap = 0;
	if (!sc)
		goto nomem;
	sc->estimated = 1;
	int64_t last = -1;
	int rc;
	while ((rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(st, 1);
		if (id == last)
			continue; /* one row per customer: the latest live subscription */
		last = id;
		if (scores_reserve(sc, &cap, sc->n + 1))
			goto nomem;
		if (sc->n + 1 > xcap) {
			size_t nx = cap;
			int64_t *k = tn_realloc(sc->key, nx * sizeof *k);
			if (!k)
				goto nomem;
			sc->key = k;
			tn_time *a = tn_realloc(sc->signed_up_at, nx * sizeof *a);
			if (!a)
				goto nomem;
			sc->signed_up_at = a;
			tn_time *b = tn_realloc(sc->period_end, nx * sizeof *b);
			if (!b)
				goto nomem;
			sc->period_end = b;
			xcap = nx;
		}
		double months = tn_period_months(tn_db_column_text(st, 4));
		double monthly = months > 0 ? tn_db_column_double0(st, 3) / months : 0;
		double h = tn_db_column_double0(st, 5);
		double p = h * ((int)tn_db_column_int64(st, 6) ? 1.0 : 2.0);
		double life = 1.0 / (h > 1.0 / 36 ? h : 1.0 / 36);
		size_t i = sc->n;
		if (!(sc->customer[i] = tn_strdup(tn_db_column_text(st, 0))))
			goto nomem;
		sc->p_churn[i] = p < 0.95 ? p : 0.95;
		sc->value[i] = monthly * life;
		sc->key[i] = id;
		sc->signed_up_at[i] = tn_db_column_is_null(st, 7) ? TN_NO_TIME : tn_db_column_int64(st, 7);
		sc->period_end[i] = tn_db_column_is_null(st, 8) ? TN_NO_TIME : tn_db_column_int64(st, 8);
		sc->n++;
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		tn_scores_free(sc);
		return tn_store_db_error(s, "estimating churn and value", err);
	}
	if (!sc->key && scores_extras(sc)) {
		tn_scores_free(sc);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	*out = sc;
	return TN_OK;
nomem:
	tn_db_finalize(st);
	tn_scores_free(sc);
	return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

int tn_actions_now(tn_store *s, tn_time *now, tn_error *err)
{
	tn_time last;
	if (tn_store_data_last(s, &last, err))
		return tn_error_code(err, TN_ERR_DB);
	if (last == TN_NO_TIME || last < 0)
		return tn_error_set(err, TN_ERR_NOTFOUND, "%s: the store has no data yet (import data or run "
							   "`tenure demo`), or give --now", tn_store_path(s));
	*now = last;
	return TN_OK;
}

/* ---- proportions ------------------------------------------------------------- */

/* Wilson (1927) score interval for x/n. */
void tn_wilson_interval(long x, long n, double z, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = *hi = NAN;
		return;
	}
	double p = (double)x / (double)n, z2 = z * z, dn = (double)n;
	double centre = p + z2 / (2 * dn);
	double half = z * sqrt(p * (1 - p) / dn + z2 / (4 * dn * dn));
	double den = 1 + z2 / dn;
	*lo = (centre - half) / den;
	*hi = (centre + half) / den;
	if (x == 0)
		*lo = 0;
	if (x == n)
		*hi = 1;
}

/* Newcombe (1998) method 10: L = d - sqrt((p1-l1)^2 + (u2-p2)^2),
 * U = d + sqrt((u1-p1)^2 + (p2-l2)^2). */
void tn_prop_diff_newcombe(long x1, long n1, long x2, long n2, double z, tn_prop_diff *out)
{
	out->p1 = n1 > 0 ? (double)x1 / (double)n1 : NAN;
	out->p2 = n2 > 0 ? (double)x2 / (double)n2 : NAN;
	out->diff = out->p1 - out->p2;
	if (n1 <= 0 || n2 <= 0) {
		out->lo = out->hi = NAN;
		return;
	}
	double l1, u1, l2, u2;
	tn_wilson_interval(x1, n1, z, &l1, &u1);
	tn_wilson_interval(x2, n2, z, &l2, &u2);
	out->lo = out->diff - sqrt((out->p1 - l1) * (out->p1 - l1) + (u2 - out->p2) * (u2 - out->p2));
	out->hi = out->diff + sqrt((u1 - out->p1) * (u1 - out->p1) + (out->p2 - l2) * (out->p2 - l2));
}

/* ---- row sets ---------------------------------------------------------------- */

void tn_rowset_free(tn_rowset *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncols; i++)
		free(r->names[i]);
	for (size_t i = 0; r->text && i < r->nrows * r->ncols; i++)
		free(r->text[i]);
	free(r->names);
	free(r->digits);
	free(r->num);
	free(r->text);
	free(r);
}

int tn_rowset_from_stmt(tn_store *s, sqlite3_stmt *raw, const int *digits, tn_rowset **out, tn_error *err)
{
	tn_stmt *st = tn_db_wrap_sqlite(s, raw);
	if (!st) {
		sqlite3_finalize(raw);
		*out = NULL;
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	return tn_rowset_from_db(s, st, digits, out, err);
}

int tn_rowset_from_db(tn_store *s, tn_stmt *st, const int *digits, tn_rowset **out, tn_error *err)
{
	*out = NULL;
	size_t nc = (size_t)tn_db_column_count(st), cap = 0;
	tn_rowset *r = tn_calloc(1, sizeof *r);
	if (!r || !(r->names = tn_calloc(nc ? nc : 1, sizeof *r->names)) ||
	    !(r->digits = tn_malloc((nc ? nc : 1) * sizeof *r->digits)))
		goto nomem;
	r->ncols = nc;
	for (size_t c = 0; c < nc; c++) {
		if (!(r->names[c] = tn_strdup(tn_db_column_name(st, (int)c))))
			goto nomem;
		r->digits[c] = digits[c];
	}
	int rc;
	while ((rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		if (r->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			if (ncap > TN_ROWSET_MAX) {
				tn_db_finalize(st);
				tn_rowset_free(r);
				return tn_error_set(err, TN_ERR_NOMEM, "more than %d rows in one listing", TN_ROWSET_MAX);
			}
			double *num = tn_realloc(r->num, ncap * (nc ? nc : 1) * sizeof *num);
			if (!num)
				goto nomem;
			r->num = num;
			char **text = tn_realloc(r->text, ncap * (nc ? nc : 1) * sizeof *text);
			if (!text)
				goto nomem;
			r->text = text;
			cap = ncap;
		}
		for (size_t c = 0; c < nc; c++) {
			size_t k = r->nrows * nc + c;
			int null = tn_db_column_is_null(st, (int)c);
			r->num[k] = null || digits[c] < 0 ? NAN : tn_db_column_double0(st, (int)c);
			r->text[k] = NULL;
			if (!null && digits[c] < 0 && !(r->text[k] = tn_strdup(tn_db_column_text(st, (int)c)))) {
				r->nrows++;
				goto nomem;
			}
		}
		r->nrows++;
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		tn_rowset_free(r);
		return tn_store_db_error(s, "listing", err);
	}
	*out = r;
	return TN_OK;
nomem:
	tn_db_finalize(st);
	tn_rowset_free(r);
	return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

int tn_scores_to_temp(tn_store *s, const tn_scores *sc, tn_error *err)
{
	if (tn_store_exec(s, "DROP TABLE IF EXISTS temp.tn_risk; CREATE TEMP TABLE tn_risk(customer_id INTEGER "
			     "PRIMARY KEY, p_churn REAL, value REAL)", err))
		return tn_error_code(err, TN_ERR_DB);
	if (!sc)
		return TN_OK;
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO temp.tn_risk VALUES(?,?,?) ON CONFLICT (customer_id) DO UPDATE SET "
					   "p_churn = excluded.p_churn, value = excluded.value", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < sc->n; i++) {
		tn_db_reset(st);
		tn_db_bind_int64(st, 1, sc->key[i]);
		tn_db_bind_double(st, 2, sc->p_churn[i]);
		tn_db_bind_double(st, 3, sc->value[i]);
		if (tn_db_step(st, "loading scores", err) != TN_DB_DONE) {
			tn_db_finalize(st);
			return tn_store_db_error(s, "loading scores", err);
		}
	}
	tn_db_finalize(st);
	return TN_OK;
}
