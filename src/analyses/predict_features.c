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
#include "store/db_pg.h"
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
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

#define FEAT_MAX_CUTS 4 /* cut-offs in one pass (tn_pred_features_many) */

/* What one cut-off collects for the current customer. */
typedef struct {
	double n7, n30, n90, nprev60, tickets, failed, failing, nps, csat, ces;
	tn_time last;
	uint64_t types;
} tally;

typedef struct {
	tn_store *store;
	tn_time t;            /* the cut-off being written (one of cuts[]) */
	double horizon_days;
	tn_frame *f;          /* its frame */
	size_t cap;
	size_t nrows;
	/* every cut-off of the pass, in increasing order, with its frame */
	size_t ncuts;
	tn_time cuts[FEAT_MAX_CUTS];
	tn_frame *fs[FEAT_MAX_CUTS];
	size_t caps[FEAT_MAX_CUTS], nrowss[FEAT_MAX_CUTS];
	int64_t *keys[FEAT_MAX_CUTS]; /* the rows' store keys (NULL: not wanted) */
	size_t cur;                   /* the cut-off being written */
	cursor pay, fb;
	tn_stmt *ev90, *evlast; /* per customer: events in (first cut - 90 d, last cut]; the last event <= t */
	/* on PostgreSQL, instead of ev90's query per customer (a round trip
	 * each): one cursor over the window's events in customer order, read
	 * along with the customers as pay and fb are */
	cursor evw;
	int ev_stream;
	int support_type;     /* type id of support_ticket, or -1 */
	/* onboarding: the event types of the journey's milestones (tenure journey
	 * map), or onboarding_complete when none are mapped; evonb lists the
	 * distinct types a customer used in their first 30 days */
	int ms_type[TN_MS_COUNT];
	int nms;
	tn_stmt *evonb;
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
	if (x->keys[x->cur]) {
		int64_t *k = tn_realloc(x->keys[x->cur], nc * sizeof *k);
		if (!k)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
		x->keys[x->cur] = k;
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

/* Make cut-off Q the one rows are written to (grow and set_* write there). */
static void use_cut(fctx *x, size_t q)
{
	x->t = x->cuts[q];
	x->f = x->fs[q];
	x->cap = x->caps[q];
	x->nrows = x->nrowss[q];
	x->cur = q;
}

static void keep_cut(fctx *x)
{
	x->caps[x->cur] = x->cap;
	x->nrowss[x->cur] = x->nrows;
}

static int on_customer(void *ud, const tn_churn_customer *c, tn_error *err)
{
	fctx *x = ud;
	const tn_time day = (tn_time)TN_DAY;
	/* per cut-off: the spell live at it, the subscription live at it, the
	 * subscriptions started by it and the first start */
	const tn_churn_spell *sp[FEAT_MAX_CUTS];
	const tn_churn_sub *live[FEAT_MAX_CUTS];
	size_t nsubs[FEAT_MAX_CUTS];
	tn_time first[FEAT_MAX_CUTS];
	tally tl[FEAT_MAX_CUTS];
	int any = 0;
	for (size_t q = 0; q < x->ncuts; q++) {
		tn_time t = x->cuts[q];
		sp[q] = NULL;
		live[q] = NULL;
		nsubs[q] = 0;
		first[q] = TN_NO_TIME;
		for (size_t k = 0; k < c->nspells; k++)
			if (c->spells[k].start <= t && c->spells[k].end > t)
				sp[q] = &c->spells[k];
		for (size_t k = 0; k < c->nsubs; k++) {
			const tn_churn_sub *s = &c->subs[k];
			if (s->start > t)
				continue;
			nsubs[q]++;
			if (first[q] == TN_NO_TIME || s->start < first[q])
				first[q] = s->start;
			if (s->end == TN_NO_TIME || s->end > t)
				live[q] = s;
		}
		if (!live[q])
			sp[q] = NULL; /* sp[q] != NULL: the customer has a row at cut-off q */
		any |= sp[q] != NULL;
		tl[q] = (tally){.nps = NAN, .csat = NAN, .ces = NAN, .last = TN_NO_TIME};
	}
	if (!any)
		return TN_OK;
	/* events of (first cut-off - 90 days, last cut-off] by an index range on
	 * (customer, time): each counts for the cut-offs at or after it */
	tn_stmt *qe = x->ev_stream ? x->evw.st : x->ev90;
	int r, rc, col = x->ev_stream ? 1 : 0; /* the streamed cursor's rows start with the customer */
	if (x->ev_stream) {
		if ((rc = cursor_seek(x->store, &x->evw, c->key, err)))
			return rc;
	} else {
		/* every parameter each time: tn_db_reset clears the bindings (binding
		 * the window once left every customer but the first without events) */
		tn_db_bind_int64(qe, 1, c->key);
		tn_db_bind_int64(qe, 2, x->cuts[0] - 90 * day);
		tn_db_bind_int64(qe, 3, x->cuts[x->ncuts - 1]);
	}
	for (;;) {
		if (x->ev_stream) {
			if (!x->evw.has_row || tn_db_column_int64(qe, 0) != c->key) {
				r = TN_DB_DONE;
				break;
			}
		} else if ((r = tn_db_step(qe, "reading events", err)) != TN_DB_ROW) {
			break;
		}
		tn_time at = tn_db_column_int64(qe, col);
		int ty = (int)tn_db_column_int64(qe, col + 1);
		for (size_t q = 0; q < x->ncuts; q++) {
			tn_time t = x->cuts[q];
			tally *u = &tl[q];
			if (!sp[q] || at > t)
				continue;
			u->last = at > u->last ? at : u->last;
			if (at <= t - 90 * day)
				continue;
			double age = (double)(t - at) / TN_DAY;
			u->n7 += age < 7;
			u->n30 += age < 30;
			u->n90++;
			u->nprev60 += age >= 30;
			u->types |= 1ull << (ty & 63);
			u->tickets += ty == x->support_type;
		}
		if (x->ev_stream && (rc = cursor_step(x->store, &x->evw, err)))
			return rc;
	}
	if (!x->ev_stream)
		tn_db_reset(qe);
	if (r != TN_DB_DONE)
		return tn_store_db_error(x->store, "reading events", err);
	for (size_t q = 0; q < x->ncuts; q++) {
		if (!sp[q] || tl[q].last != TN_NO_TIME)
			continue;
		/* nothing in the window: the last event before */
		tn_db_bind_int64(x->evlast, 1, c->key);
		tn_db_bind_int64(x->evlast, 2, x->cuts[q]);
		if ((r = tn_db_step(x->evlast, "reading events", err)) == TN_DB_ROW && !tn_db_column_is_null(x->evlast, 0))
			tl[q].last = tn_db_column_int64(x->evlast, 0);
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
		int refunded = st && strcmp(st, "refunded") == 0;
		for (size_t q = 0; q < x->ncuts; q++) {
			if (!sp[q] || at > x->cuts[q])
				continue;
			tl[q].failed += (double)(x->cuts[q] - at) / TN_DAY < 90 && is_failed;
			if (!refunded)
				tl[q].failing = is_failed; /* ordered by time: the latest charge decides */
		}
		if ((rc = cursor_step(x->store, &x->pay, err)))
			return rc;
	}
	if ((rc = cursor_seek(x->store, &x->fb, c->key, err)))
		return rc;
	while (x->fb.has_row && tn_db_column_int64(x->fb.st, 0) == c->key) {
		const char *kind = tn_db_column_text(x->fb.st, 1);
		double score = tn_db_column_is_null(x->fb.st, 2) ? NAN : tn_db_column_double0(x->fb.st, 2);
		tn_time at = tn_db_column_int64(x->fb.st, 3);
		for (size_t q = 0; q < x->ncuts; q++) {
			if (!sp[q] || at > x->cuts[q])
				continue;
			if (kind && strcmp(kind, "nps") == 0)
				tl[q].nps = score; /* ordered by time: the latest wins */
			else if (kind && strcmp(kind, "csat") == 0)
				tl[q].csat = score;
			else if (kind && strcmp(kind, "ces") == 0)
				tl[q].ces = score;
		}
		if ((rc = cursor_step(x->store, &x->fb, err)))
			return rc;
	}
	/* onboarding milestones reached in the first 30 days (up to the cut-off):
	 * the first instant of each milestone's type in [from, from + 30 days],
	 * read once for the cut-offs that share the same start */
	double milestones[FEAT_MAX_CUTS];
	tn_time msfirst[TN_MS_COUNT], msfrom = TN_NO_TIME;
	for (size_t q = 0; q < x->ncuts; q++) {
		milestones[q] = NAN;
		if (!sp[q] || x->nms == 0)
			continue;
		tn_time from = c->signed_up_at != TN_NO_TIME && c->signed_up_at < first[q] ? c->signed_up_at : first[q];
		tn_time hi = x->cuts[x->ncuts - 1];
		if (from != msfrom) {
			msfrom = from;
			for (int k = 0; k < x->nms; k++)
				msfirst[k] = TN_NO_TIME;
			tn_db_bind_int64(x->evonb, 1, c->key);
			tn_db_bind_int64(x->evonb, 2, from);
			tn_db_bind_int64(x->evonb, 3, from + 30 * day < hi ? from + 30 * day : hi);
			while ((r = tn_db_step(x->evonb, "reading events", err)) == TN_DB_ROW) {
				int ty = (int)tn_db_column_int64(x->evonb, 0);
				tn_time at = tn_db_column_int64(x->evonb, 1);
				for (int k = 0; k < x->nms; k++)
					if (ty == x->ms_type[k])
						msfirst[k] = at;
			}
			tn_db_reset(x->evonb);
			if (r != TN_DB_DONE)
				return tn_store_db_error(x->store, "reading events", err);
		}
		tn_time to = from + 30 * day < x->cuts[q] ? from + 30 * day : x->cuts[q];
		milestones[q] = 0;
		for (int k = 0; k < x->nms; k++)
			milestones[q] += msfirst[k] != TN_NO_TIME && msfirst[k] <= to;
	}
	cJSON *a = cJSON_Parse(c->attrs ? c->attrs : "{}");
	const char *device = attr(a, "device"), *age_band = attr(a, "age_band");
	rc = TN_OK;
	for (size_t q = 0; q < x->ncuts && !rc; q++) {
		if (!sp[q])
			continue;
		use_cut(x, q);
		if ((rc = grow(x, err)))
			break;
		tn_time t = x->t;
		const tally *u = &tl[q];
		size_t j = 0;
		if ((rc = set_text(x, j++, c->id, err)))
			break;
		set_num(x, j++,
			(double)(t - (c->signed_up_at != TN_NO_TIME && c->signed_up_at < first[q] ? c->signed_up_at : first[q])) /
				TN_DAY);
		if ((rc = set_text(x, j++, live[q]->plan, err)) || (rc = set_text(x, j++, live[q]->billing_period, err)))
			break;
		set_num(x, j++, live[q]->price);
		set_num(x, j++, live[q]->mrr);
		set_num(x, j++, t < live[q]->paid_from);
		set_num(x, j++, (double)(period_end_at(live[q], t) - t) / TN_DAY);
		set_num(x, j++, (double)nsubs[q]);
		set_num(x, j++, u->last == TN_NO_TIME ? NAN : (double)(t - u->last) / TN_DAY);
		set_num(x, j++, u->n7);
		set_num(x, j++, u->n30);
		set_num(x, j++, u->n90);
		/* events in the last 30 days per 30 days of the 60 before, smoothed by +1 */
		set_num(x, j++, (u->n30 + 1.0) / (u->nprev60 / 2.0 + 1.0));
		set_num(x, j++, (double)__builtin_popcountll(u->types));
		set_num(x, j++, milestones[q]);
		set_num(x, j++, u->failed);
		set_num(x, j++, u->failing);
		set_num(x, j++, u->tickets);
		set_num(x, j++, u->nps);
		set_num(x, j++, u->csat);
		set_num(x, j++, u->ces);
		if ((rc = set_text(x, j++, c->channel, err)) || (rc = set_text(x, j++, c->country, err)) ||
		    (rc = set_text(x, j++, device, err)) || (rc = set_text(x, j++, age_band, err)))
			break;
		set_num(x, j++, sp[q]->churned && sp[q]->end <= t + (tn_time)(x->horizon_days * TN_DAY));
		if (x->keys[q])
			x->keys[q][x->nrows] = c->key;
		x->nrows++;
		x->f->nrows = x->nrows;
		keep_cut(x);
	}
	cJSON_Delete(a);
	return rc;
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

static int open_cursor(tn_store *s, cursor *c, const char *sql, tn_time t, int64_t lo, int64_t hi, tn_error *err)
{
	if (!(c->st = tn_db_prepare(s, sql, err)))
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(c->st, 1, t);
	tn_db_bind_int64(c->st, 2, hi > lo ? lo : INT64_MIN);
	tn_db_bind_int64(c->st, 3, hi > lo ? hi : INT64_MAX);
	return cursor_step(s, c, err);
}

static tn_frame *new_frame(void)
{
	tn_frame *f = tn_calloc(1, sizeof *f);
	if (!f || !(f->cols = tn_calloc(NCOLS, sizeof *f->cols)) || !(f->path = tn_strdup("features"))) {
		tn_frame_free(f);
		return NULL;
	}
	f->ncols = NCOLS;
	for (size_t j = 0; j < NCOLS; j++) {
		f->cols[j].is_numeric = COLS[j].kind == NUMERIC;
		if (!(f->cols[j].name = tn_strdup(COLS[j].name))) {
			tn_frame_free(f);
			return NULL;
		}
	}
	return f;
}

int tn_pred_features(tn_store *s, const tn_pred_features_opts *o, tn_frame **out, tn_error *err)
{
	tn_time t = o->as_of;
	return tn_pred_features_many(s, o, &t, 1, out, NULL, err);
}

/* The features of the customers with key_lo <= key < key_hi (every
 * customer when key_hi <= key_lo) into OUT / KEYS. */
static int features_range(tn_store *s, const tn_pred_features_opts *o, const tn_time *cuts, size_t n,
			  int64_t key_lo, int64_t key_hi, tn_frame **out, int64_t **keys, tn_error *err)
{
	tn_churn_def def;
	int rc = tn_churn_def_load(s, o->definition, &def, err);
	if (rc)
		return rc;
	fctx x = {.store = s, .horizon_days = o->horizon_days, .support_type = -1, .ncuts = n};
	for (size_t q = 0; q < n && !rc; q++) {
		x.cuts[q] = cuts[q];
		if (!(x.fs[q] = new_frame()) || (keys && !(x.keys[q] = tn_malloc(sizeof(int64_t)))))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		if (!rc) {
			use_cut(&x, q);
			rc = grow(&x, err);
			keep_cut(&x);
		}
	}
	const tn_time hi = cuts[n - 1];
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
					 "SELECT type_id, min(occurred_at) FROM events WHERE customer_id = ?1 "
					 "AND occurred_at >= ?2 AND occurred_at <= ?3 GROUP BY type_id",
					 err)))
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc && (!(x.ev90 = tn_db_prepare(s,
						"SELECT occurred_at, type_id FROM events WHERE customer_id = ?1 "
						"AND occurred_at > ?2 AND occurred_at <= ?3",
						err)) ||
		    !(x.evlast = tn_db_prepare(s,
						  "SELECT max(occurred_at) FROM events WHERE customer_id = ?1 "
						  "AND occurred_at <= ?2",
						  err))))
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc && tn_store_pg(s)) {
		/* PostgreSQL: the window's events in one cursor (customer order) */
		x.ev_stream = 1;
		if (!(x.evw.st = tn_db_prepare(s,
					       "SELECT customer_id, occurred_at, type_id FROM events "
					       "WHERE occurred_at > ?4 AND occurred_at <= ?1 "
					       "AND customer_id >= ?2 AND customer_id < ?3 ORDER BY customer_id",
					       err)))
			rc = tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_int64(x.evw.st, 4, cuts[0] - 90 * (tn_time)TN_DAY);
			tn_db_bind_int64(x.evw.st, 1, hi);
			tn_db_bind_int64(x.evw.st, 2, key_hi > key_lo ? key_lo : INT64_MIN);
			tn_db_bind_int64(x.evw.st, 3, key_hi > key_lo ? key_hi : INT64_MAX);
			rc = cursor_step(s, &x.evw, err);
		}
	}
	if (!rc)
		rc = open_cursor(s, &x.pay,
				 "SELECT customer_id, paid_at, status FROM payments WHERE paid_at <= ?1 "
				 "AND customer_id >= ?2 AND customer_id < ?3 ORDER BY customer_id, paid_at",
				 hi, key_lo, key_hi, err);
	if (!rc)
		rc = open_cursor(s, &x.fb,
				 "SELECT customer_id, kind, score, given_at FROM feedback WHERE given_at <= ?1 "
				 "AND customer_id >= ?2 AND customer_id < ?3 AND kind IN ('nps','csat','ces') "
				 "ORDER BY customer_id, given_at",
				 hi, key_lo, key_hi, err);
	tn_churn_scan_opts so = {.as_of = hi + (tn_time)(o->horizon_days * TN_DAY),
				 .key_lo = key_hi > key_lo ? key_lo : 0,
				 .key_hi = key_hi > key_lo ? key_hi : 0};
	if (!rc)
		rc = tn_churn_scan(s, &def, &so, on_customer, &x, NULL, err);
	tn_db_finalize(x.ev90);
	tn_db_finalize(x.evw.st);
	tn_db_finalize(x.evlast);
	tn_db_finalize(x.evonb);
	tn_db_finalize(x.pay.st);
	tn_db_finalize(x.fb.st);
	for (size_t q = 0; q < n; q++) {
		if (rc) {
			tn_frame_free(x.fs[q]);
			free(x.keys[q]);
			continue;
		}
		out[q] = x.fs[q];
		if (keys)
			keys[q] = x.keys[q];
	}
	return rc;
}

/* One thread's part of tn_pred_features_many. */
typedef struct fpart {
	tn_store *s; /* its own connection */
	const tn_pred_features_opts *o;
	const tn_time *cuts;
	size_t n;
	int64_t lo, hi;
	tn_frame *out[FEAT_MAX_CUTS];
	int64_t *keys[FEAT_MAX_CUTS];
	int rc;
	tn_error err;
} fpart;

static void *fpart_run(void *arg)
{
	fpart *p = arg;
	p->rc = features_range(p->s, p->o, p->cuts, p->n, p->lo, p->hi, p->out, p->keys, &p->err);
	return NULL;
}

/* Append B's rows to A (B's cells move to A). */
static int frame_append(tn_frame *a, tn_frame *b, int64_t **ka, int64_t **kb, tn_error *err)
{
	size_t n = a->nrows + b->nrows;
	for (size_t j = 0; j < a->ncols; j++) {
		tn_column *x = &a->cols[j], *y = &b->cols[j];
		if (x->is_numeric) {
			double *p = tn_realloc(x->num, (n ? n : 1) * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
			memcpy(p + a->nrows, y->num, b->nrows * sizeof *p);
			x->num = p;
		} else {
			char **p = tn_realloc(x->text, (n ? n : 1) * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
			memcpy(p + a->nrows, y->text, b->nrows * sizeof *p);
			memset(y->text, 0, b->nrows * sizeof *p); /* moved */
			x->text = p;
		}
		x->nblank += y->nblank;
	}
	if (ka && *ka) {
		int64_t *p = tn_realloc(*ka, (n ? n : 1) * sizeof *p);
		if (!p)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory (features)");
		memcpy(p + a->nrows, *kb, b->nrows * sizeof *p);
		*ka = p;
	}
	a->nrows = n;
	return TN_OK;
}

int tn_pred_features_many(tn_store *s, const tn_pred_features_opts *o, const tn_time *cuts, size_t n,
			  tn_frame **out, int64_t **keys, tn_error *err)
{
	for (size_t q = 0; q < n && q < FEAT_MAX_CUTS; q++) {
		out[q] = NULL;
		if (keys)
			keys[q] = NULL;
	}
	if (!(o->horizon_days > 0))
		return tn_error_set(err, TN_ERR_USAGE, "features: --horizon must be a positive number of days");
	if (n < 1 || n > FEAT_MAX_CUTS)
		return tn_error_set(err, TN_ERR_USAGE, "features: 1 to %d cut-offs in one pass", FEAT_MAX_CUTS);
	for (size_t q = 1; q < n; q++)
		if (!(cuts[q] > cuts[q - 1]))
			return tn_error_set(err, TN_ERR_USAGE, "features: the cut-offs must be increasing");
	/* one thread on PostgreSQL: the store's name there has no password to
	 * open a second connection with */
	if (o->threads <= 1 || o->threads > 2 || tn_pg_is_url(tn_store_path(s)))
		return features_range(s, o, cuts, n, 0, 0, out, keys, err);
	/* two threads, each on its own connection, over the two halves of the
	 * customer keys; the second half's rows are appended to the first's, so
	 * the frames are those of one pass (rows in key order) */
	int64_t mid = 0;
	tn_stmt *st = tn_db_prepare(s, "SELECT count(*) FROM customers", err);
	int rc = st ? tn_db_step_row(st, "counting customers", err) : tn_error_code(err, TN_ERR_DB);
	int64_t count = rc ? 0 : tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	if (rc)
		return rc;
	if (count < 2)
		return features_range(s, o, cuts, n, 0, 0, out, keys, err);
	st = tn_db_prepare(s, "SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET ?1", err);
	if (st) {
		tn_db_bind_int64(st, 1, count / 2);
		rc = tn_db_step_row(st, "splitting customers", err);
		mid = rc ? 0 : tn_db_column_int64(st, 0);
	} else
		rc = tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	if (rc)
		return rc;
	fpart part[2] = {{.s = s, .o = o, .cuts = cuts, .n = n, .lo = INT64_MIN + 1, .hi = mid},
			 {.o = o, .cuts = cuts, .n = n, .lo = mid, .hi = INT64_MAX}};
	if ((rc = tn_store_open(tn_store_path(s), TN_STORE_READONLY, &part[1].s, err)))
		return rc;
	pthread_t th;
	int threaded = pthread_create(&th, NULL, fpart_run, &part[1]) == 0;
	fpart_run(&part[0]);
	if (threaded)
		pthread_join(th, NULL);
	else
		fpart_run(&part[1]); /* no thread: the second half after the first */
	tn_store_close(part[1].s);
	rc = part[0].rc ? part[0].rc : part[1].rc;
	if (rc)
		tn_error_set(err, rc, "%s", part[0].rc ? part[0].err.msg : part[1].err.msg);
	for (size_t q = 0; q < n; q++) {
		if (!rc)
			rc = frame_append(part[0].out[q], part[1].out[q], keys ? &part[0].keys[q] : NULL, &part[1].keys[q],
					  err);
		tn_frame_free(part[1].out[q]);
		free(part[1].keys[q]);
		if (rc) {
			tn_frame_free(part[0].out[q]);
			free(part[0].keys[q]);
			continue;
		}
		out[q] = part[0].out[q];
		if (keys)
			keys[q] = part[0].keys[q];
		else
			free(part[0].keys[q]);
	}
	return rc;
}
