/*
 * churn_scan.c -- stream the store customer by customer and cut each
 * customer's history into spells under a churn definition (churn.h).
 *
 * Up to five ordered cursors are merged on the customer key: customers (by
 * id), subscriptions (by customer, start), events (the clustered primary key
 * (customer_id, occurred_at, ...), so the scan is one pass over the B-tree in
 * key order), payments and nps feedback (by their unique indexes).  Only one
 * customer's history is in memory at a time, in buffers with caps.  The rules
 * are in docs/churn.md; each is evaluated from the spell start and the
 * earliest instant any rule fires ends the spell.
 */
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"
#include "tenure/churn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUBS 100000         /* per customer */
#define MAX_EVENTS 50000000     /* per customer */
#define MAX_PAYMENTS 1000000    /* per customer */
#define MAX_SPELLS 100000       /* per customer */
#define MAX_INTERN 4096         /* distinct plan / billing period strings */
#define MAX_TYPE_ID 10000000
#define MAX_MILESTONES 16
#define T_INF INT64_MAX

typedef struct cursor {
	tn_stmt *st;
	int live;
	int64_t cid;
} cursor;

typedef struct pay {
	tn_time at;
	int ok; /* 1 succeeded, 0 failed, -1 other */
} pay;

typedef struct scan {
	tn_store *s;
	const tn_churn_def *def;
	tn_time as_of;
	cursor cu, su, ev, pa, fb;
	/* event type id -> flags: bit 0 activity, bit 1+k milestone k */
	uint32_t *tflags;
	size_t ntflags;
	int activity;           /* the rules read activity (inactivity, defection, or spells without cancellations) */
	int all_types_activity; /* every event type is activity (activity, and no types named) */
	size_t nmilestones;
	/* interned strings */
	char *intern[MAX_INTERN];
	size_t nintern;
	/* one customer */
	tn_churn_sub *subs;
	size_t nsubs, subs_cap;
	tn_time *grp_end; /* per sub: its group's end (T_INF open) */
	size_t grp_cap;
	tn_time *ev_t;
	size_t nev, ev_cap;
	pay *pays;
	size_t npays, pays_cap;
	tn_churn_spell *spells;
	size_t nspells, spells_cap;
	tn_time milestone_at[MAX_MILESTONES];
	int causes; /* fill sources, states and causes (want_causes or a cause_class) */
	int rc; /* the first cursor error: sticky, so a failed step is never read as the end */
	int64_t key_lo, key_hi; /* customers with key_lo <= key < key_hi when key_hi > key_lo */
} scan;

static int grow(void **p, size_t *cap, size_t need, size_t size, size_t max, const char *what, int64_t cid,
		tn_error *err)
{
	if (need <= *cap)
		return TN_OK;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	if (need > max)
		return tn_error_set(err, TN_ERR_NOMEM, "customer key %lld has more than %zu %s (the cap)",
				    (long long)cid, max, what);
	if (nc > max)
		nc = max;
	void *q = tn_realloc(*p, nc * size);
	if (!q)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading %s", what);
	*p = q;
	*cap = nc;
	return TN_OK;
}

static const char *intern(scan *sc, const char *s, tn_error *err)
{
	if (!s)
		s = "";
	for (size_t i = 0; i < sc->nintern; i++)
		if (strcmp(sc->intern[i], s) == 0)
			return sc->intern[i];
	if (sc->nintern >= MAX_INTERN) {
		tn_error_set(err, TN_ERR_NOMEM, "more than %d distinct plans and billing periods", MAX_INTERN);
		return NULL;
	}
	char *d = tn_strdup(s);
	if (!d) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return sc->intern[sc->nintern++] = d;
}

static int cur_step(scan *sc, cursor *c, tn_error *err)
{
	int rc = tn_db_step(c->st, "reading the store", err);
	if (rc == TN_DB_ROW) {
		c->live = 1;
		c->cid = tn_db_column_int64(c->st, 0);
		return TN_OK;
	}
	c->live = 0;
	if (rc == TN_DB_DONE)
		return TN_OK;
	int code = tn_store_db_error(sc->s, "reading the store", err);
	if (!sc->rc)
		sc->rc = code;
	return code;
}

static int cur_open_sql(scan *sc, cursor *c, const char *sql, int ranged, tn_error *err)
{
	char buf[1024];
	if (sc->key_hi > sc->key_lo && !ranged) {
		/* a key range (tn_churn_scan_opts): the condition goes before the
		 * ORDER BY, on the cursor's customer key column */
		const char *ob = strstr(sql, " ORDER BY ");
		const char *col = strncmp(sql, "SELECT id,", 10) == 0 ? "id"
				  : strncmp(sql, "SELECT s.", 9) == 0 ? "s.customer_id"
								       : "customer_id";
		size_t head = ob ? (size_t)(ob - sql) : strlen(sql);
		const char *w = strstr(sql, " WHERE ");
		int n = snprintf(buf, sizeof buf, "%.*s %s %s >= %lld AND %s < %lld%s", (int)head, sql,
				 w && w < sql + head ? "AND" : "WHERE", col, (long long)sc->key_lo, col,
				 (long long)sc->key_hi, ob ? ob : "");
		if (n < 0 || (size_t)n >= sizeof buf)
			return tn_error_set(err, TN_ERR_USAGE, "churn scan: query too long for a key range");
		sql = buf;
	}
	c->st = tn_db_prepare(sc->s, sql, err);
	if (!c->st)
		return tn_error_code(err, TN_ERR_DB);
	return cur_step(sc, c, err);
}

static int cur_open(scan *sc, cursor *c, const char *sql, tn_error *err)
{
	return cur_open_sql(sc, c, sql, 0, err);
}

static tn_time col_time(tn_stmt *st, int i)
{
	return tn_db_column_is_null(st, i) ? TN_NO_TIME : tn_db_column_int64(st, i);
}

int tn_churn_data_end(tn_store *s, tn_time *out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT max(t) FROM (SELECT max(signed_up_at) t FROM customers UNION ALL "
		"SELECT max(started_at) FROM subscriptions UNION ALL SELECT max(cancelled_at) FROM subscriptions "
		"UNION ALL SELECT max(paid_at) FROM payments UNION ALL SELECT max(given_at) FROM feedback UNION ALL "
		"SELECT CAST(value AS INTEGER) FROM meta WHERE key IN ('events_last', 'data_end'))",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "finding the data's end", err);
	*out = rc == TN_DB_ROW ? col_time(st, 0) : TN_NO_TIME;
	if (*out != TN_NO_TIME)
		*out = tn_day_end(*out); /* "as of" a day is its end (docs/metrics.md) */
	tn_db_finalize(st);
	return rc == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "finding the data's end", err);
}

/* Map the definition's activity types and the milestones to type ids. */
static int load_types(scan *sc, const tn_churn_scan_opts *o, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(sc->s, "SELECT id, name FROM event_types ORDER BY id", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	const tn_churn_def *d = sc->def;
	int found[TN_CHURN_MAX_TYPES] = {0};
	char names[400];
	size_t used = 0;
	names[0] = '\0';
	int step;
	while ((step = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(st, 0);
		const char *name = tn_db_column_text(st, 1);
		if (id < 0 || id > MAX_TYPE_ID) {
			rc = tn_error_set(err, TN_ERR_INPUT, "event type id %lld out of range", (long long)id);
			break;
		}
		if ((size_t)id >= sc->ntflags) {
			size_t n = (size_t)id + 1;
			uint32_t *f = tn_realloc(sc->tflags, n * sizeof *f);
			if (!f) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			memset(f + sc->ntflags, 0, (n - sc->ntflags) * sizeof *f);
			sc->tflags = f;
			sc->ntflags = n;
		}
		uint32_t fl = sc->all_types_activity ? 1u : 0u;
		for (size_t i = 0; i < d->ntypes; i++)
			if (strcmp(d->types[i], name) == 0)
				fl |= sc->activity ? 1u : 0u, found[i] = 1;
		for (size_t k = 0; k < sc->nmilestones; k++)
			if (strcmp(o->milestones[k], name) == 0)
				fl |= 2u << k;
		sc->tflags[id] = fl;
		int w = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", name);
		if (w > 0 && (size_t)w < sizeof names - used)
			used += (size_t)w;
	}
	if (rc == TN_OK && step != TN_DB_DONE)
		rc = tn_store_db_error(sc->s, "reading event types", err);
	tn_db_finalize(st);
	for (size_t i = 0; rc == TN_OK && i < d->ntypes; i++)
		if (!found[i])
			rc = tn_error_set(err, TN_ERR_NOTFOUND,
					  "churn definition \"%s\": no event type \"%s\" in %s; the types are: %s",
					  d->name, d->types[i], tn_store_path(sc->s), used ? names : "(none)");
	return rc;
}

static int64_t days_s(double d)
{
	return (int64_t)llround(d * TN_DAY);
}

/* First index i in t[0..n) with t[i] > x. */
static size_t upper(const tn_time *t, size_t n, tn_time x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Inactivity: the first instant with no activity for N days since the later
 * of T0 and the last event, if it is <= L. */
static tn_time fire_inactive(const scan *sc, tn_time t0, tn_time l)
{
	int64_t n = days_s(sc->def->inactive_days);
	tn_time prev = t0;
	for (size_t i = upper(sc->ev_t, sc->nev, t0); i < sc->nev && sc->ev_t[i] <= l; i++) {
		if (sc->ev_t[i] - prev > n)
			return prev + n;
		prev = sc->ev_t[i];
	}
	return prev + n <= l ? prev + n : T_INF;
}

/* Partial defection, checked at the end of each day d from t0 + W + B:
 * events in (d-W, d] < F * events in [d-W-B, d-W] * W / B (the baseline
 * includes the spell's first instant). */
static tn_time fire_defection(const scan *sc, tn_time t0, tn_time l)
{
	const tn_churn_def *d = sc->def;
	int64_t w = days_s(d->defection_window), b = days_s(d->defection_baseline);
	double ratio = d->defection_fraction * d->defection_window / d->defection_baseline;
	const tn_time *e = sc->ev_t;
	size_t n = sc->nev, i1 = 0, i2 = 0, i3 = 0;
	for (tn_time t = t0 + w + b; t <= l; t += TN_DAY) {
		while (i1 < n && e[i1] < t - w - b)
			i1++;
		while (i2 < n && e[i2] <= t - w)
			i2++;
		while (i3 < n && e[i3] <= t)
			i3++;
		size_t base = i2 - i1, recent = i3 - i2;
		if (base > 0 && (double)recent < ratio * (double)base)
			return t;
	}
	return T_INF;
}

/* Failed payment at f >= t0 with no succeeded payment in (f, f+G], f+G <= L. */
static tn_time fire_failed(const scan *sc, tn_time t0, tn_time l)
{
	int64_t g = days_s(sc->def->failed_payment_days);
	size_t j = 0;
	for (size_t i = 0; i < sc->npays; i++) {
		const pay *p = &sc->pays[i];
		if (p->ok != 0 || p->at < t0)
			continue;
		if (p->at + g > l)
			return T_INF;
		if (j < i + 1)
			j = i + 1;
		while (j < sc->npays && !(sc->pays[j].ok == 1 && sc->pays[j].at > p->at))
			j++;
		if (j >= sc->npays || sc->pays[j].at > p->at + g)
			return p->at + g;
	}
	return T_INF;
}

static tn_time next_after(const scan *sc, tn_time end, int *sub)
{
	*sub = -1;
	tn_time best = T_INF;
	for (size_t i = 0; i < sc->nsubs; i++)
		if (sc->subs[i].start > end) {
			best = sc->subs[i].start;
			*sub = (int)i;
			break;
		}
	if (sc->def->cancelled)
		return best;
	size_t i = upper(sc->ev_t, sc->nev, end);
	if (i < sc->nev && sc->ev_t[i] < best)
		best = sc->ev_t[i], *sub = -1;
	if (sc->def->failed_payment)
		for (size_t k = 0; k < sc->npays; k++)
			if (sc->pays[k].ok == 1 && sc->pays[k].at > end) {
				if (sc->pays[k].at < best)
					best = sc->pays[k].at, *sub = -1;
				break;
			}
	return best;
}

/* The latest subscription started at or before T, or -1. */
static int sub_at(const scan *sc, tn_time t)
{
	int k = -1;
	for (size_t i = 0; i < sc->nsubs && sc->subs[i].start <= t; i++)
		k = (int)i;
	return k;
}

/* Why a churned spell ended: the failed-payment rule is billing, inactivity
 * and defection are voluntary; a cancellation takes the cause of the
 * subscription whose end ended the spell (the last one ending then). */
static const char *spell_cause(const scan *sc, const tn_churn_spell *sp)
{
	if (sp->reason == TN_CHURN_FAILED_PAYMENT)
		return "billing";
	if (sp->reason != TN_CHURN_CANCELLED)
		return "voluntary";
	const char *c = NULL;
	for (size_t i = 0; i < sc->nsubs && sc->subs[i].start <= sp->end; i++)
		if (sc->subs[i].end == sp->end && sc->subs[i].cause)
			c = sc->subs[i].cause;
	return c ? c : "voluntary";
}

static int cut_spells(scan *sc, tn_time signed_up, tn_error *err, int64_t cid)
{
	const tn_churn_def *d = sc->def;
	tn_time as_of = sc->as_of;
	int64_t grace = days_s(d->grace_days);
	sc->nspells = 0;
	/* groups of subscriptions joined by overlaps and gaps <= grace */
	if (d->cancelled && sc->nsubs) {
		if (grow((void **)&sc->grp_end, &sc->grp_cap, sc->nsubs, sizeof *sc->grp_end, MAX_SUBS,
			 "subscriptions", cid, err))
			return TN_ERR_NOMEM;
		size_t first = 0;
		tn_time gend = sc->subs[0].end == TN_NO_TIME ? T_INF : sc->subs[0].end;
		for (size_t i = 1; i <= sc->nsubs; i++) {
			if (i < sc->nsubs && (gend == T_INF || sc->subs[i].start <= gend + grace)) {
				tn_time e = sc->subs[i].end == TN_NO_TIME ? T_INF : sc->subs[i].end;
				if (e > gend)
					gend = e;
				continue;
			}
			for (size_t k = first; k < i; k++)
				sc->grp_end[k] = gend;
			if (i < sc->nsubs) {
				first = i;
				gend = sc->subs[i].end == TN_NO_TIME ? T_INF : sc->subs[i].end;
			}
		}
	}
	int sub = -1;
	tn_time t0 = T_INF;
	if (d->cancelled) {
		if (sc->nsubs)
			t0 = sc->subs[0].start, sub = 0;
	} else {
		if (signed_up != TN_NO_TIME)
			t0 = signed_up;
		if (sc->nsubs && sc->subs[0].start < t0)
			t0 = sc->subs[0].start;
		if (sc->nev && sc->ev_t[0] < t0)
			t0 = sc->ev_t[0];
		if (d->failed_payment && sc->npays && sc->pays[0].at < t0)
			t0 = sc->pays[0].at;
		sub = t0 == T_INF ? -1 : sub_at(sc, t0);
	}
	while (t0 != T_INF && t0 <= as_of) {
		tn_time limit = d->cancelled && sub >= 0 ? sc->grp_end[sub] : T_INF;
		tn_time l = limit < as_of ? limit : as_of;
		tn_time fire = T_INF;
		int reason = TN_CHURN_CENSORED;
		tn_time f;
		if (d->inactive_days > 0 && (f = fire_inactive(sc, t0, l)) < fire)
			fire = f, reason = TN_CHURN_INACTIVE;
		if (d->defection_window > 0 && (f = fire_defection(sc, t0, l)) < fire)
			fire = f, reason = TN_CHURN_DEFECTION;
		if (d->failed_payment && (f = fire_failed(sc, t0, l)) < fire)
			fire = f, reason = TN_CHURN_FAILED_PAYMENT;
		tn_churn_spell sp = {.start = t0, .sub = sub};
		if (fire < limit && fire <= as_of)
			sp.end = fire, sp.churned = 1, sp.reason = reason;
		else if (limit <= as_of)
			sp.end = limit, sp.churned = 1, sp.reason = TN_CHURN_CANCELLED;
		else /* censored at the as-of; observed through a whole day's end: at the next midnight */
			sp.end = as_of + (tn_day_end(as_of) == as_of), sp.churned = 0, sp.reason = TN_CHURN_CENSORED;
		if (sc->causes && sp.churned) {
			sp.cause = spell_cause(sc, &sp);
			sp.cause_class = tn_churn_cause_class(sp.cause);
			if (d->cause_class && sp.cause_class != d->cause_class)
				sp.churned = 0, sp.reason = TN_CHURN_OTHER_CAUSE; /* censored here: a competing risk */
		}
		if (grow((void **)&sc->spells, &sc->spells_cap, sc->nspells + 1, sizeof *sc->spells, MAX_SPELLS,
			 "spells", cid, err))
			return TN_ERR_NOMEM;
		sc->spells[sc->nspells++] = sp;
		if (!sp.churned && sp.reason != TN_CHURN_OTHER_CAUSE)
			break;
		t0 = next_after(sc, sp.end, &sub);
		if (!d->cancelled && t0 != T_INF)
			sub = sub_at(sc, t0);
	}
	return TN_OK;
}

/* When a subscription ended, as of AS_OF: its cancelled_at; else, when it
 * is expired or cancelled, its current_period_end, or (no date at all) its
 * trial end, or its start; else it is open. */
static void sub_end(tn_churn_sub *x, tn_stmt *st, tn_time as_of)
{
	tn_time trial = col_time(st, 5), cpe = col_time(st, 6), cancelled = col_time(st, 7);
	const char *status = tn_db_column_text(st, 8);
	x->end = TN_NO_TIME;
	if (cancelled != TN_NO_TIME) {
		if (cancelled <= as_of)
			x->end = cancelled;
	} else if (status && (strcmp(status, "expired") == 0 || strcmp(status, "cancelled") == 0)) {
		tn_time e = cpe != TN_NO_TIME ? cpe : trial != TN_NO_TIME ? trial : x->start;
		if (e <= as_of)
			x->end = e;
	}
	if (x->end != TN_NO_TIME && x->end < x->start)
		x->end = x->start;
}

static const char *const CAUSES[] = {"voluntary", "billing", "price_increase", "refund", "revoked",
				     "product_unavailable", "other"};

static const char *cause_name(const char *v)
{
	for (size_t i = 0; v && i < sizeof CAUSES / sizeof *CAUSES; i++)
		if (strcmp(v, CAUSES[i]) == 0)
			return CAUSES[i];
	return NULL;
}

/* Why subscription X ended (docs/churn.md, "Causes"): the source's cause;
 * else from the source's state (refunded: refund; grace or billing retry:
 * billing; expired or paused without a cause: other; trial, active or
 * cancelling, yet ended: voluntary); without a
 * state (a plain import), billing when it ended past_due or when the last
 * payment from its start to a week after its end failed, voluntary
 * otherwise. */
static const char *derive_cause(const scan *sc, const tn_churn_sub *x, int past_due)
{
	if (x->end == TN_NO_TIME)
		return NULL;
	if (x->cause)
		return x->cause;
	if (x->state) {
		if (strcmp(x->state, "refunded") == 0)
			return "refund";
		if (strcmp(x->state, "grace") == 0 || strcmp(x->state, "billing_retry") == 0)
			return "billing";
		if (strcmp(x->state, "expired") == 0 || strcmp(x->state, "paused") == 0)
			return "other";
		return "voluntary"; /* trial, active or cancelling, yet ended: the customer cancelled */
	}
	if (past_due)
		return "billing";
	/* the renewal charge that fails is often taken on the day the period ends,
	 * after its first instant: look a week past the end (the default grace) */
	int last = -1;
	for (size_t i = 0; i < sc->npays && sc->pays[i].at <= x->end + 7 * TN_DAY; i++)
		if (sc->pays[i].at >= x->start && sc->pays[i].ok >= 0)
			last = sc->pays[i].ok;
	return last == 0 ? "billing" : "voluntary";
}

static int read_customer(scan *sc, int64_t cid, const tn_churn_scan_opts *o, double *nps, tn_error *err)
{
	sc->nsubs = sc->nev = sc->npays = 0;
	for (size_t k = 0; k < sc->nmilestones; k++)
		sc->milestone_at[k] = TN_NO_TIME;
	cursor *c = &sc->su;
	while (c->live && c->cid < cid)
		if (cur_step(sc, c, err))
			return tn_error_code(err, TN_ERR_DB);
	for (; c->live && c->cid == cid; cur_step(sc, c, err)) {
		tn_time start = tn_db_column_int64(c->st, 4);
		if (start > sc->as_of)
			continue;
		if (grow((void **)&sc->subs, &sc->subs_cap, sc->nsubs + 1, sizeof *sc->subs, MAX_SUBS,
			 "subscriptions", cid, err))
			return TN_ERR_NOMEM;
		tn_churn_sub *x = &sc->subs[sc->nsubs++];
		x->plan = intern(sc, tn_db_column_text(c->st, 1), err);
		x->billing_period = intern(sc, tn_db_column_text(c->st, 2), err);
		if (!x->plan || !x->billing_period)
			return TN_ERR_NOMEM;
		x->price = tn_db_column_double0(c->st, 3);
		double months = tn_period_months(x->billing_period);
		x->mrr = months > 0 ? x->price / months : 0;
		x->start = start;
		tn_time trial = col_time(c->st, 5);
		x->paid_from = trial != TN_NO_TIME && trial > start ? trial : start;
		sub_end(x, c->st, sc->as_of);
		x->source = x->state = x->cause = NULL;
		x->auto_renew_off_at = x->expires_at = TN_NO_TIME;
		if (sc->causes) {
			const char *src = tn_db_column_text(c->st, 9);
			const char *status = tn_db_column_text(c->st, 8);
			x->source = intern(sc, src ? src : "import", err);
			x->state = src ? intern(sc, tn_db_column_text(c->st, 10), err) : NULL;
			if (!x->source || (src && !x->state))
				return TN_ERR_NOMEM;
			x->cause = cause_name(tn_db_column_text(c->st, 11));
			/* an ended state's report is not in the future of the as-of */
			x->auto_renew_off_at = col_time(c->st, 12);
			if (x->auto_renew_off_at != TN_NO_TIME && x->auto_renew_off_at > sc->as_of)
				x->auto_renew_off_at = TN_NO_TIME;
			x->expires_at = col_time(c->st, 13);
			/* past_due kept in the cause slot until payments are read */
			if (!src && status && strcmp(status, "past_due") == 0)
				x->cause = "past_due";
		}
	}
	c = &sc->ev;
	if (c->st) {
		while (c->live && c->cid < cid)
			if (cur_step(sc, c, err))
				return tn_error_code(err, TN_ERR_DB);
		for (; c->live && c->cid == cid; cur_step(sc, c, err)) {
			tn_time at = tn_db_column_int64(c->st, 1);
			int64_t tid = tn_db_column_int64(c->st, 2);
			if (at > sc->as_of || tid < 0 || (size_t)tid >= sc->ntflags)
				continue;
			uint32_t fl = sc->tflags[tid];
			if (fl & 1u) {
				if (grow((void **)&sc->ev_t, &sc->ev_cap, sc->nev + 1, sizeof *sc->ev_t, MAX_EVENTS,
					 "events", cid, err))
					return TN_ERR_NOMEM;
				sc->ev_t[sc->nev++] = at;
			}
			for (size_t k = 0; (fl >> 1) && k < sc->nmilestones; k++)
				if ((fl & (2u << k)) && sc->milestone_at[k] == TN_NO_TIME)
					sc->milestone_at[k] = at;
		}
	}
	c = &sc->pa;
	if (c->st) {
		while (c->live && c->cid < cid)
			if (cur_step(sc, c, err))
				return tn_error_code(err, TN_ERR_DB);
		for (; c->live && c->cid == cid; cur_step(sc, c, err)) {
			tn_time at = tn_db_column_int64(c->st, 1);
			if (at > sc->as_of)
				continue;
			const char *status = tn_db_column_text(c->st, 2);
			if (grow((void **)&sc->pays, &sc->pays_cap, sc->npays + 1, sizeof *sc->pays, MAX_PAYMENTS,
				 "payments", cid, err))
				return TN_ERR_NOMEM;
			sc->pays[sc->npays++] = (pay){at, strcmp(status, "succeeded") == 0 ? 1
							  : strcmp(status, "failed") == 0  ? 0
											   : -1};
		}
	}
	for (size_t i = 0; sc->causes && i < sc->nsubs; i++) {
		tn_churn_sub *x = &sc->subs[i];
		int past_due = x->cause && strcmp(x->cause, "past_due") == 0;
		if (past_due)
			x->cause = NULL;
		x->cause = derive_cause(sc, x, past_due);
	}
	*nps = NAN;
	c = &sc->fb;
	if (c->st) {
		while (c->live && c->cid < cid)
			if (cur_step(sc, c, err))
				return tn_error_code(err, TN_ERR_DB);
		for (; c->live && c->cid == cid; cur_step(sc, c, err))
			if (isnan(*nps) && tn_db_column_int64(c->st, 1) <= sc->as_of &&
			    !tn_db_column_is_null(c->st, 2))
				*nps = tn_db_column_double0(c->st, 2);
	}
	(void)o;
	return sc->rc;
}

static void scan_free(scan *sc)
{
	tn_db_finalize(sc->cu.st);
	tn_db_finalize(sc->su.st);
	tn_db_finalize(sc->ev.st);
	tn_db_finalize(sc->pa.st);
	tn_db_finalize(sc->fb.st);
	for (size_t i = 0; i < sc->nintern; i++)
		free(sc->intern[i]);
	free(sc->tflags);
	free(sc->subs);
	free(sc->grp_end);
	free(sc->ev_t);
	free(sc->pays);
	free(sc->spells);
}

/* The events the scan uses, filtered where the data are: up to as_of, and of
 * the types that count (activity or a milestone) unless every type is
 * activity.  Rows the scan would skip are not sent at all -- on PostgreSQL
 * fewer bytes over the connection; the result is the same. */
static int open_events(scan *sc, tn_error *err)
{
	size_t cap = 320 + 24 * sc->ntflags, len;
	char *sql = tn_malloc(cap);
	if (!sql)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	len = (size_t)snprintf(sql, cap, "occurred_at <= %lld", (long long)sc->as_of);
	if (sc->key_hi > sc->key_lo) /* a key range (tn_churn_scan_opts) */
		len += (size_t)snprintf(sql + len, cap - len, " AND customer_id >= %lld AND customer_id < %lld",
					(long long)sc->key_lo, (long long)sc->key_hi);
	if (!sc->all_types_activity) {
		len += (size_t)snprintf(sql + len, cap - len, " AND type_id IN (-1");
		for (size_t id = 0; id < sc->ntflags; id++)
			if (sc->tflags[id])
				len += (size_t)snprintf(sql + len, cap - len, ",%zu", id);
		len += (size_t)snprintf(sql + len, cap - len, ")");
	}
	/* in key order: (customer_id, occurred_at, type_id); rows equal in
	 * these are alike to the scan (it reads nothing else).  The store writes
	 * it so that a live connection's journal view is merged, not sorted in
	 * memory (GBs on 1,000,000 customers). */
	char *q = tn_store_events_scan_sql(sc->s, "customer_id, occurred_at, type_id", sql,
					   "customer_id, occurred_at, type_id", err);
	free(sql);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	int rc = cur_open_sql(sc, &sc->ev, q, 1, err);
	free(q);
	return rc;
}

int tn_churn_scan(tn_store *s, const tn_churn_def *def, const tn_churn_scan_opts *opts, tn_churn_customer_fn fn,
		  void *ud, tn_time *as_of_out, tn_error *err)
{
	tn_churn_scan_opts none = {.as_of = TN_NO_TIME};
	const tn_churn_scan_opts *o = opts ? opts : &none;
	if (tn_churn_def_check(def, err))
		return tn_error_code(err, TN_ERR_USAGE);
	if (o->nmilestones > MAX_MILESTONES)
		return tn_error_set(err, TN_ERR_USAGE, "at most %d milestone event types", MAX_MILESTONES);
	scan sc = {.s = s,
		   .def = def,
		   .as_of = o->as_of,
		   .nmilestones = o->nmilestones,
		   .key_lo = o->key_lo,
		   .key_hi = o->key_hi};
	int rc = TN_OK;
	if (sc.as_of == TN_NO_TIME) {
		if ((rc = tn_churn_data_end(s, &sc.as_of, err)))
			return rc;
		if (sc.as_of == TN_NO_TIME)
			sc.as_of = 0;
	}
	if (as_of_out)
		*as_of_out = sc.as_of;
	sc.causes = o->want_causes || def->cause_class;
	int need_events = def->inactive_days > 0 || def->defection_window > 0 || o->nmilestones > 0 ||
			  (!def->cancelled && def->failed_payment);
	/* Activity (the events' instants, sc.ev_t) is read only by the
	 * inactivity and defection rules and, without the cancellation rule, to
	 * start a spell.  A scan that reads events only for milestones (the
	 * churn frame under the default definition) then asks the store for the
	 * milestones' types alone instead of every event: on 1,000,000 customers
	 * ~100M rows handed over and kept per customer, for ~1M used. */
	sc.activity = def->inactive_days > 0 || def->defection_window > 0 || !def->cancelled;
	sc.all_types_activity = sc.activity && def->ntypes == 0;
	if ((rc = cur_open(&sc, &sc.cu,
			   "SELECT id, ext_id, signed_up_at, country, channel, attrs FROM customers ORDER BY id",
			   err)) ||
	    (rc = cur_open(&sc, &sc.su,
			   /* price in the reporting currency (currency.c); with causes, the source's state */
			   sc.causes ? "SELECT s.customer_id, s.plan, s.billing_period, "
				       "tn_money(s.price, s.currency, s.started_at), s.started_at, s.trial_ends_at, "
				       "s.current_period_end, s.cancelled_at, s.status, x.source, x.state, x.cause, "
				       "x.auto_renew_off_at, x.expires_at FROM subscriptions s "
				       "LEFT JOIN subscription_state x ON x.subscription_id = s.id "
				       "ORDER BY s.customer_id, s.started_at, s.plan"
				     : "SELECT customer_id, plan, billing_period, tn_money(price, currency, started_at), "
				       "started_at, trial_ends_at, "
				       "current_period_end, cancelled_at, status FROM subscriptions "
				       "ORDER BY customer_id, started_at, plan",
			   err)))
		goto out;
	if (need_events && ((rc = load_types(&sc, o, err)) || (rc = open_events(&sc, err))))
		goto out;
	if ((def->failed_payment || sc.causes) &&
	    (rc = cur_open(&sc, &sc.pa,
			   "SELECT customer_id, paid_at, status FROM payments ORDER BY customer_id, paid_at, status, ext_id",
			   err)))
		goto out;
	if (o->want_nps && (rc = cur_open(&sc, &sc.fb,
					  "SELECT customer_id, given_at, score FROM feedback WHERE kind = 'nps' "
					  "ORDER BY customer_id, given_at",
					  err)))
		goto out;
	double total = 0;
	if (o->on_progress) {
		tn_stmt *mx = tn_db_prepare(s, "SELECT max(id) FROM customers", err);
		if (!mx) {
			rc = tn_error_code(err, TN_ERR_DB);
			goto out;
		}
		int step = tn_db_step(mx, "counting customers", err);
		if (step == TN_DB_ROW)
			total = tn_db_column_double0(mx, 0);
		else
			rc = tn_store_db_error(s, "counting customers", err);
		tn_db_finalize(mx);
		if (rc)
			goto out;
	}
	for (unsigned long nc = 0; sc.cu.live; cur_step(&sc, &sc.cu, err), nc++) {
		tn_stmt *st = sc.cu.st;
		if (o->on_progress && (nc & 8191) == 0)
			o->on_progress(o->progress_ud, (double)sc.cu.cid, total);
		tn_churn_customer c = {.key = sc.cu.cid,
				       .id = tn_db_column_text(st, 1),
				       .signed_up_at = col_time(st, 2),
				       .country = tn_db_column_text(st, 3),
				       .channel = tn_db_column_text(st, 4),
				       .attrs = tn_db_column_text(st, 5)};
		if ((rc = read_customer(&sc, c.key, o, &c.first_nps, err)))
			goto out;
		tn_time signed_up = c.signed_up_at != TN_NO_TIME && c.signed_up_at <= sc.as_of ? c.signed_up_at
											    : TN_NO_TIME;
		if ((rc = cut_spells(&sc, signed_up, err, c.key)))
			goto out;
		c.subs = sc.subs;
		c.nsubs = sc.nsubs;
		c.spells = sc.spells;
		c.nspells = sc.nspells;
		c.milestone_at = sc.milestone_at;
		if ((rc = fn(ud, &c, err)))
			goto out;
	}
	rc = sc.rc; /* a failed step of the customers cursor ends the loop: report it */
out:
	scan_free(&sc);
	return rc;
}

double tn_churn_mrr_at(const tn_churn_customer *c, tn_time t, int committed)
{
	double m = 0;
	for (size_t i = 0; i < c->nsubs; i++) {
		const tn_churn_sub *x = &c->subs[i];
		tn_time from = committed ? x->start : x->paid_from;
		if (from <= t && (x->end == TN_NO_TIME || t < x->end))
			m += x->mrr;
	}
	return m;
}
