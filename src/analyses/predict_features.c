/*
 * predict_features.c -- one row per customer live at a cut-off, built from
 * the store's history up to that cut-off only, with the churn label over the
 * following horizon (docs/predict.md, "Features from the store").
 *
 * The churn module's scan (tn_churn_scan, as of cut-off + horizon) gives
 * customers in key order with their subscriptions and spells; for each
 * customer live at the cut-off, its events of the last 90 days are read by an
 * index range on the events' primary key (customer, time) -- so older history
 * is never scanned -- and payments and feedback by two cursors merged in the
 * same key order.  Memory is the output frame (proportional to customers)
 * plus one customer's counters.  Nothing after the cut-off is read for a
 * feature: rows are filtered by time in SQL, and subscriptions that start
 * after it are ignored.  The label uses the scan's spells: the spell live at
 * the cut-off churned (under the chosen churn definition) within the horizon.
 */
#include "tenure/predict.h"
#include "base/alloc.h"
#include "tenure/churn.h"
#include "tenure/actions.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEAT_MAX_ROWS 100000000 /* cap on customers in one frame */

enum { NUMERIC, TEXT };
static const struct {
	const char *name;
	int kind;
} COLS[] = {
	{"customer", TEXT},           {"tenure_days", NUMERIC},        {"plan", TEXT},
	{"billing_period", TEXT},     {"price", NUMERIC},              {"mrr", NUMERIC},
	{"in_trial", NUMERIC},        {"days_to_period_end", NUMERIC}, {"subscriptions", NUMERIC},
	{"recency_days", NUMERIC},    {"events_7d", NUMERIC},          {"events_30d", NUMERIC},
	{"events_90d", NUMERIC},      {"trend_30_vs_60", NUMERIC},     {"event_types_90d", NUMERIC},
	{"milestones_reached", NUMERIC},
	{"failed_payments_90d", NUMERIC}, {"payment_failing", NUMERIC}, {"support_tickets_90d", NUMERIC},
	{"nps", NUMERIC},
	{"csat", NUMERIC},            {"ces", NUMERIC},                {"channel", TEXT},
	{"country", TEXT},            {"device", TEXT},                {"age_band", TEXT},
	{"churned", NUMERIC},
};
#define NCOLS (sizeof COLS / sizeof *COLS)

/* a merged cursor over one table, ordered by customer key */
typedef struct {
	tn_stmt *st;
	int has_row;
} cursor;

typedef struct {
	tn_store *store;
	tn_time t;            /* cut-off */
	double horizon_days;
	tn_frame *f;
	size_t cap;
	cursor pay, fb;
	/* events in (t - 90 d, t] counted per customer and type by the store
	 * (one grouped query in customer order: far fewer rows and no round
	 * trip per customer on PostgreSQL); evlast: per customer, the last
	 * event <= t, asked only for those without one in 90 days */
	cursor ev;
	tn_stmt *evlast;
	int support_type;     /* type id of support_ticket, or -1 */
	/* onboarding: the event types of the journey's milestones (tenure journey
	 * map), or onboarding_complete when none are mapped; evonb lists the
	 * distinct types a customer used in their first 30 days */
	int ms_type[TN_MS_COUNT];
	int nms;
	tn_stmt *evonb;
	size_t nrows;
} fctx;

static int cursor_step(tn_store *s, cursor *c, tn_error *err)
{
	int r = tn_db_step(c->st, "reading the store", err);
	if (r == TN_DB_ROW) {
		c->has_row = 1;
		return TN_OK;
	}
	c->has_row = 0;
	return r == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "reading the store", err);
}

/* Skip rows of customers before KEY; leave the cursor on KEY's first row. */
static int cursor_seek(tn_store *s, cursor *c, int64_t key, tn_error *err)
{
	while (c->has_row && tn_db_column_int64(c->st, 0) < key)
		if (cursor_step(s, c, err))
			return tn_error_code(err, TN_ERR_DB);
	return TN_OK;
}

static int grow(fctx *x, tn_error *err)
{
	if (x->nrows < x->cap)
		return TN_OK;
	if (x->cap >= FEAT_MAX_ROWS)
		return tn_error_set(err, TN_ERR_NOMEM, "features: more than %d customers", FEAT_MAX_ROWS);
	size_t nc = x->cap ? 2 * x->cap : 4096;
	for (size_t j = 0; j < NCOLS; j++) {
		tn_column *c = &x->f->cols[j];
		if (c->is_numeric) {
			double *p = tn_realloc(c->num, nc * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
			c->num = p;
		} else {
			char **p = tn_realloc(c->text, nc * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
			c->text = p;
		}
	}
	x->cap = nc;
	return TN_OK;
}

/* T0 plus K calendar months, the day clamped to the month's length
 * (Jan 31 + 1 month = Feb 28/29), time of day kept. */
static tn_time add_months_clamped(tn_time t0, int k)
{
	int64_t days = t0 >= 0 ? t0 / TN_DAY : -((-t0 + TN_DAY - 1) / TN_DAY);
	tn_time tod = t0 - days * TN_DAY;
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	int mi = (m - 1) + k;
	y += mi >= 0 ? mi / 12 : -((11 - mi) / 12);
	m = ((mi % 12) + 12) % 12 + 1;
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int last = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d > last)
		d = last;
	return tn_days_from_civil(y, m, d) * TN_DAY + tod;
}

/* The end of the billing period running at T for a subscription paid from
 * PAID_FROM: the first anniversary of PAID_FROM (in the billing period's
 * steps) after T; the trial end while in trial. */
static tn_time period_end_at(const tn_churn_sub *sub, tn_time t)
{
	if (t < sub->paid_from)
		return sub->paid_from;
	const char *bp = sub->billing_period;
	if (strcmp(bp, "day") == 0 || strcmp(bp, "week") == 0) {
		tn_time len = strcmp(bp, "day") == 0 ? TN_DAY : 7 * TN_DAY;
		return sub->paid_from + ((t - sub->paid_from) / len + 1) * len;
	}
	int step = strcmp(bp, "year") == 0 ? 12 : strcmp(bp, "quarter") == 0 ? 3 : 1;
	/* start from the whole months elapsed (an estimate from 31-day months
	 * can only be low), then step forward */
	int k = (int)((t - sub->paid_from) / (31 * (tn_time)TN_DAY)) / step * step;
	tn_time e = add_months_clamped(sub->paid_from, k);
	while (e <= t)
		e = add_months_clamped(sub->paid_from, k += step);
	return e;
}

static int set_text(fctx *x, size_t col, const char *v, tn_error *err)
{
	char *d = tn_strdup(v ? v : "");
	if (!d)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	x->f->cols[col].text[x->nrows] = d;
	if (!v || !*v)
		x->f->cols[col].nblank++;
	return TN_OK;
}

static void set_num(fctx *x, size_t col, double v)
{
	x->f->cols[col].num[x->nrows] = v;
	if (isnan(v))
		x->f->cols[col].nblank++;
}

static const char *attr(const cJSON *a, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int on_customer(void *ud, const tn_churn_customer *c, tn_error *err)
{
	fctx *x = ud;
	tn_time t = x->t;
	/* the spell live at the cut-off, and the subscription live at it */
	const tn_churn_spell *sp = NULL;
	for (size_t k = 0; k < c->nspells; k++)
		if (c->spells[k].start <= t && c->spells[k].end > t)
			sp = &c->spells[k];
	const tn_churn_sub *live = NULL;
	size_t nsubs = 0;
	tn_time first = TN_NO_TIME;
	for (size_t k = 0; k < c->nsubs; k++) {
		const tn_churn_sub *s = &c->subs[k];
		if (s->start > t)
			continue;
		nsubs++;
		if (first == TN_NO_TIME || s->start < first)
			first = s->start;
		if (s->end == TN_NO_TIME || s->end > t)
			live = s;
	}
	if (!sp || !live)
		return TN_OK;
	int rc = grow(x, err);
	if (rc)
		return rc;
	/* events up to t */
	double n7 = 0, n30 = 0, n90 = 0, nprev60 = 0, tickets = 0, failed = 0, failing = 0;
	double nps = NAN, csat = NAN, ces = NAN;
	tn_time last = TN_NO_TIME;
	uint64_t types = 0;
	/* events of the last 90 days: rows (customer, type, n90, n7, n30, last) */
	if ((rc = cursor_seek(x->store, &x->ev, c->key, err)))
		return rc;
	int r;
	for (; x->ev.has_row && tn_db_column_int64(x->ev.st, 0) == c->key;) {
		tn_stmt *q = x->ev.st;
		int ty = (int)tn_db_column_int64(q, 1);
		double n = (double)tn_db_column_int64(q, 2), m30 = (double)tn_db_column_int64(q, 4);
		tn_time at = tn_db_column_int64(q, 5);
		last = at > last ? at : last;
		n7 += (double)tn_db_column_int64(q, 3);
		n30 += m30;
		n90 += n;
		nprev60 += n - m30;
		types |= 1ull << (ty & 63);
		tickets += ty == x->support_type ? n : 0;
		if ((rc = cursor_step(x->store, &x->ev, err)))
			return rc;
	}
	if (last == TN_NO_TIME) { /* nothing in 90 days: the last event before */
		tn_db_bind_int64(x->evlast, 1, c->key);
		tn_db_bind_int64(x->evlast, 2, t); /* tn_db_reset clears every binding */
		if ((r = tn_db_step(x->evlast, "reading events", err)) == TN_DB_ROW && !tn_db_column_is_null(x->evlast, 0))
			last = tn_db_column_int64(x->evlast, 0);
		tn_db_reset(x->evlast);
		if (r != TN_DB_ROW && r != TN_DB_DONE)
			return tn_store_db_error(x->store, "reading events", err);
	}
	if ((rc = cursor_seek(x->store, &x->pay, c->key, err)))
		return rc;
	while (x->pay.has_row && tn_db_column_int64(x->pay.st, 0) == c->key) {
		tn_time at = tn_db_column_int64(x->pay.st, 1);
		const char *st = tn_db_column_text(x->pay.st, 2);
		int is_failed = st && strcmp(st, "failed") == 0;
		failed += (double)(t - at) / TN_DAY < 90 && is_failed;
		if (!st || strcmp(st, "refunded") != 0)
			failing = is_failed; /* ordered by time: the latest charge decides */
		if ((rc = cursor_step(x->store, &x->pay, err)))
			return rc;
	}
	if ((rc = cursor_seek(x->store, &x->fb, c->key, err)))
		return rc;
	while (x->fb.has_row && tn_db_column_int64(x->fb.st, 0) == c->key) {
		const char *kind = tn_db_column_text(x->fb.st, 1);
		double score = tn_db_column_is_null(x->fb.st, 2) ? NAN : tn_db_column_double0(x->fb.st, 2);
		if (kind && strcmp(kind, "nps") == 0)
			nps = score; /* ordered by time: the latest wins */
		else if (kind && strcmp(kind, "csat") == 0)
			csat = score;
		else if (kind && strcmp(kind, "ces") == 0)
			ces = score;
		if ((rc = cursor_step(x->store, &x->fb, err)))
			return rc;
	}
	/* onboarding milestones reached in the first 30 days (up to t) */
	double milestones = NAN;
	if (x->nms > 0) {
		tn_time from = c->signed_up_at != TN_NO_TIME && c->signed_up_at < first ? c->signed_up_at : first;
		tn_time to = from + 30 * (tn_time)TN_DAY < t ? from + 30 * (tn_time)TN_DAY : t;
		tn_db_bind_int64(x->evonb, 1, c->key);
		tn_db_bind_int64(x->evonb, 2, from);
		tn_db_bind_int64(x->evonb, 3, to);
		milestones = 0;
		while ((r = tn_db_step(x->evonb, "reading events", err)) == TN_DB_ROW)
			for (int k = 0; k < x->nms; k++)
				milestones += (int)tn_db_column_int64(x->evonb, 0) == x->ms_type[k];
		tn_db_reset(x->evonb);
		if (r != TN_DB_DONE)
			return tn_store_db_error(x->store, "reading events", err);
	}
	size_t j = 0;
	if ((rc = set_text(x, j++, c->id, err)))
		return rc;
	set_num(x, j++, (double)(t - (c->signed_up_at != TN_NO_TIME && c->signed_up_at < first ? c->signed_up_at : first)) / TN_DAY);
	if ((rc = set_text(x, j++, live->plan, err)) || (rc = set_text(x, j++, live->billing_period, err)))
		return rc;
	set_num(x, j++, live->price);
	set_num(x, j++, live->mrr);
	set_num(x, j++, t < live->paid_from);
	set_num(x, j++, (double)(period_end_at(live, t) - t) / TN_DAY);
	set_num(x, j++, (double)nsubs);
	set_num(x, j++, last == TN_NO_TIME ? NAN : (double)(t - last) / TN_DAY);
	set_num(x, j++, n7);
	set_num(x, j++, n30);
	set_num(x, j++, n90);
	/* events in the last 30 days per 30 days of the 60 before, smoothed by +1 */
	set_num(x, j++, (n30 + 1.0) / (nprev60 / 2.0 + 1.0));
	set_num(x, j++, (double)__builtin_popcountll(types));
	set_num(x, j++, milestones);
	set_num(x, j++, failed);
	set_num(x, j++, failing);
	set_num(x, j++, tickets);
	set_num(x, j++, nps);
	set_num(x, j++, csat);
	set_num(x, j++, ces);
	cJSON *a = cJSON_Parse(c->attrs ? c->attrs : "{}");
	rc = set_text(x, j++, c->channel, err);
	if (!rc)
		rc = set_text(x, j++, c->country, err);
	if (!rc)
		rc = set_text(x, j++, attr(a, "device"), err);
	if (!rc)
		rc = set_text(x, j++, attr(a, "age_band"), err);
	cJSON_Delete(a);
	if (rc)
		return rc;
	set_num(x, j++, sp->churned && sp->end <= t + (tn_time)(x->horizon_days * TN_DAY));
	x->nrows++;
	x->f->nrows = x->nrows;
	return TN_OK;
}

/* The milestones' event-type ids (journey map, else onboarding_complete). */
static int milestone_types(tn_store *s, fctx *x, tn_error *err)
{
	char *names[TN_MS_COUNT] = {0};
	int mapped[TN_MS_COUNT] = {0}, any = 0;
	if (tn_journey_types(s, names, mapped, err))
		return tn_error_code(err, TN_ERR_DB);
	for (int m = 0; m < TN_MS_COUNT; m++)
		any |= mapped[m];
	tn_stmt *q = tn_db_prepare(s, "SELECT id FROM event_types WHERE name = ?1", err);
	if (!q) {
		tn_journey_types_free(names);
		return tn_error_code(err, TN_ERR_DB);
	}
	for (int m = 0; m < TN_MS_COUNT; m++) {
		const char *name = any ? (mapped[m] ? names[m] : NULL) : (m == 0 ? "onboarding_complete" : NULL);
		if (!name)
			continue;
		tn_db_bind_text(q, 1, name);
		int step = tn_db_step(q, "reading event types", err);
		if (step == TN_DB_ROW)
			x->ms_type[x->nms++] = (int)tn_db_column_int64(q, 0);
		else if (tn_db_step_end( step, err)) {
			tn_db_finalize(q);
			tn_journey_types_free(names);
			return tn_error_code(err, TN_ERR_DB);
		}
		tn_db_reset(q);
	}
	tn_db_finalize(q);
	tn_journey_types_free(names);
	return TN_OK;
}

static int open_cursor(tn_store *s, cursor *c, const char *sql, tn_time t, tn_error *err)
{
	if (!(c->st = tn_db_prepare(s, sql, err)))
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(c->st, 1, t);
	return cursor_step(s, c, err);
}

int tn_pred_features(tn_store *s, const tn_pred_features_opts *o, tn_frame **out, tn_error *err)
{
	*out = NULL;
	if (!(o->horizon_days > 0))
		return tn_error_set(err, TN_ERR_USAGE, "features: --horizon must be a positive number of days");
	tn_churn_def def;
	int rc = tn_churn_def_load(s, o->definition, &def, err);
	if (rc)
		return rc;
	fctx x = {.store = s, .t = o->as_of, .horizon_days = o->horizon_days, .support_type = -1};
	tn_frame *f = tn_calloc(1, sizeof *f);
	if (!f || !(f->cols = tn_calloc(NCOLS, sizeof *f->cols)) || !(f->path = tn_strdup("features"))) {
		tn_frame_free(f);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	f->ncols = NCOLS;
	x.f = f;
	for (size_t j = 0; j < NCOLS && !rc; j++) {
		f->cols[j].is_numeric = COLS[j].kind == NUMERIC;
		if (!(f->cols[j].name = tn_strdup(COLS[j].name)))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = grow(&x, err);
	tn_stmt *ty = rc ? NULL : tn_db_prepare(s, "SELECT id FROM event_types WHERE name = 'support_ticket'", err);
	if (!rc && !ty)
		rc = tn_error_code(err, TN_ERR_DB);
	int step = rc ? TN_DB_DONE : tn_db_step(ty, "reading event types", err);
	if (step == TN_DB_ROW)
		x.support_type = (int)tn_db_column_int64(ty, 0);
	else if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(ty);
	if (!rc)
		rc = milestone_types(s, &x, err);
	if (!rc && x.nms > 0 &&
	    !(x.evonb = tn_db_prepare(s,
					 "SELECT DISTINCT type_id FROM events WHERE customer_id = ?1 "
					 "AND occurred_at >= ?2 AND occurred_at <= ?3",
					 err)))
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc && !(x.evlast = tn_db_prepare(s,
					      "SELECT max(occurred_at) FROM events WHERE customer_id = ?1 "
					      "AND occurred_at <= ?2",
					      err)))
		rc = tn_error_code(err, TN_ERR_DB);
	/* ages in whole seconds: age < 7 days exactly when t - at < 7 * 86400 */
	if (!rc)
		rc = open_cursor(s, &x.ev,
				 "SELECT customer_id, type_id, count(*), "
				 "sum(CASE WHEN ?1 - occurred_at < 604800 THEN 1 ELSE 0 END), "
				 "sum(CASE WHEN ?1 - occurred_at < 2592000 THEN 1 ELSE 0 END), max(occurred_at) "
				 "FROM events WHERE occurred_at > ?1 - 7776000 AND occurred_at <= ?1 "
				 "GROUP BY customer_id, type_id ORDER BY customer_id, type_id",
				 o->as_of, err);
	if (!rc)
		rc = open_cursor(s, &x.pay,
				 "SELECT customer_id, paid_at, status FROM payments WHERE paid_at <= ?1 "
				 "ORDER BY customer_id, paid_at",
				 o->as_of, err);
	if (!rc)
		rc = open_cursor(s, &x.fb,
				 "SELECT customer_id, kind, score FROM feedback WHERE given_at <= ?1 "
				 "AND kind IN ('nps','csat','ces') ORDER BY customer_id, given_at",
				 o->as_of, err);
	tn_churn_scan_opts so = {.as_of = o->as_of + (tn_time)(o->horizon_days * TN_DAY)};
	if (!rc)
		rc = tn_churn_scan(s, &def, &so, on_customer, &x, NULL, err);
	tn_db_finalize(x.ev.st);
	tn_db_finalize(x.evlast);
	tn_db_finalize(x.evonb);
	tn_db_finalize(x.pay.st);
	tn_db_finalize(x.fb.st);
	if (rc) {
		tn_frame_free(f);
		return rc;
	}
	*out = f;
	return TN_OK;
}
