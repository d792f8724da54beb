/*
 * feedback_store.c -- the feedback reports that read the store: labelling
 * the text answers, survey scores by segment and period, churned vs stayed,
 * impact per type and theme, exit reasons, the impact/effort matrix and the
 * follow-up list (docs/feedback.md has the definitions).
 *
 * "Churned" here is the simple definition of the feedback issue: the
 * customer has a subscription with status cancelled or expired.  Revenue is
 * succeeded payments (a refunded payment does not count), in their amounts.
 */
#include "tenure/feedback.h"
#include "base/alloc.h"
#include "store/db.h"
#include "store/store_sqlite.h"
#include "feedback/feedback_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX 20000   /* segment x period groups */
#define CHOICES_MAX 256    /* distinct (question, answer) pairs per group */
#define FIXED_CHOICES 20   /* a custom kind with at most this many distinct answers */


static const char text_kinds_sql[] = TEXT_KINDS_SQL;

/* ---- labelling --------------------------------------------------------- */

int tn_fb_label_store(tn_store *s, const tn_fb_model *m, int force, size_t *nlabelled, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	/* relabelling starts from an empty table, so the scan below never reads
	 * rows it is rewriting */
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT f.id, f.answer FROM feedback f LEFT JOIN feedback_labels l ON l.feedback_id = f.id "
		 "WHERE f.answer IS NOT NULL AND f.answer <> '' AND l.feedback_id IS NULL AND %s ORDER BY f.id",
		 text_kinds_sql);
	size_t n = 0;
	if (tn_store_begin(s, err))
		return err->code;
	if (force && tn_store_exec(s, "DELETE FROM feedback_labels", err)) {
		tn_store_rollback(s);
		return err->code;
	}
	tn_stmt *sel = tn_db_prepare(s, sql, err);
	tn_stmt *ins = sel ? tn_db_prepare(s,
						   "INSERT INTO feedback_labels(feedback_id, type, theme, "
						   "language, confidence, by_rule) VALUES (?, ?, ?, ?, ?, ?) "
						   "ON CONFLICT (feedback_id) DO UPDATE SET type = excluded.type, "
						   "theme = excluded.theme, language = excluded.language, "
						   "confidence = excluded.confidence, by_rule = excluded.by_rule",
						   err)
				: NULL;
	int rc = TN_DB_DONE, status = TN_OK;
	if (!sel || !ins) {
		status = tn_error_code(err, TN_ERR_DB);
		goto out;
	}
	while ((rc = tn_db_step(sel, "reading the store", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(sel, 0);
		const char *text = tn_fb_col_text(sel, 1);
		tn_fb_result r;
		tn_error e2 = {0};
		if (tn_fb_classify(m, text, (size_t)tn_db_column_bytes(sel, 1), &r, &e2)) {
			status = tn_error_set(err, e2.code, "%s: feedback row id %lld: answer: %s", tn_store_path(s),
					      (long long)id, e2.msg);
			goto out;
		}
		tn_db_bind_int64(ins, 1, id);
		tn_db_bind_text(ins, 2, tn_fb_type_name(r.type));
		tn_db_bind_text(ins, 3, r.theme);
		tn_db_bind_text(ins, 4, tn_lang_name(r.language));
		tn_db_bind_double(ins, 5, r.confidence);
		tn_db_bind_int64(ins, 6, r.by_rule);
		if (tn_db_step(ins, "saving feedback labels", err) != TN_DB_DONE) {
			status = tn_store_db_error(s, "saving feedback labels", err);
			goto out;
		}
		tn_db_reset(ins);
		n++;
	}
	if (rc != TN_DB_DONE)
		status = tn_store_db_error(s, "reading feedback", err);
out:
	tn_db_finalize(sel);
	tn_db_finalize(ins);
	if (status == TN_OK)
		status = tn_store_commit(s, err);
	else
		tn_store_rollback(s);
	if (nlabelled)
		*nlabelled = n;
	return status;
}

/* ---- scores ------------------------------------------------------------ */

typedef struct dvec {
	double *v;
	size_t n, cap;
} dvec;

static int dpush(dvec *d, double x)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		double *v = tn_realloc(d->v, cap * sizeof *v);
		if (!v)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = x;
	return 0;
}

typedef struct choice {
	char kind[48], answer[48];
	size_t count;
} choice;

typedef struct group {
	char seg[64], per[64];
	dvec nps, csat, ces;
	size_t responses;
	choice *ch;
	size_t nch;
} group;

typedef struct groups {
	group *g;
	size_t n, cap;
} groups;

static group *group_get(groups *gs, const char *seg, const char *per, tn_error *err)
{
	for (size_t i = gs->n; i-- > 0;)
		if (strcmp(gs->g[i].seg, seg) == 0 && strcmp(gs->g[i].per, per) == 0)
			return &gs->g[i];
	if (gs->n == gs->cap) {
		size_t cap = gs->cap ? gs->cap * 2 : 16;
		group *g = cap <= GROUPS_MAX ? tn_realloc(gs->g, cap * sizeof *g) : NULL;
		if (!g) {
			tn_error_set(err, TN_ERR_NOMEM, "more than %d segment/period groups", GROUPS_MAX);
			return NULL;
		}
		gs->g = g;
		gs->cap = cap;
	}
	group *g = &gs->g[gs->n++];
	memset(g, 0, sizeof *g);
	snprintf(g->seg, sizeof g->seg, "%s", seg);
	snprintf(g->per, sizeof g->per, "%s", per);
	return g;
}

static int group_add(group *g, const char *kind, double score, const char *answer, int fixed_choice, tn_error *err)
{
	int bad = 0;
	g->responses++;
	if (strcmp(kind, "nps") == 0)
		bad = !isnan(score) && dpush(&g->nps, score);
	else if (strcmp(kind, "csat") == 0)
		bad = !isnan(score) && dpush(&g->csat, score);
	else if (strcmp(kind, "ces") == 0)
		bad = !isnan(score) && dpush(&g->ces, score);
	else if (fixed_choice && *answer) {
		size_t i;
		for (i = 0; i < g->nch; i++)
			if (strcmp(g->ch[i].kind, kind) == 0 && strcmp(g->ch[i].answer, answer) == 0)
				break;
		if (i == g->nch) {
			choice *c = g->nch < CHOICES_MAX ? tn_realloc(g->ch, (g->nch + 1) * sizeof *c) : NULL;
			if (!c)
				return tn_error_set(err, TN_ERR_NOMEM, "too many custom answers (more than %d)", CHOICES_MAX);
			g->ch = c;
			memset(&c[i], 0, sizeof c[i]);
			snprintf(c[i].kind, sizeof c[i].kind, "%s", kind);
			snprintf(c[i].answer, sizeof c[i].answer, "%s", answer);
			g->nch++;
		}
		g->ch[i].count++;
	}
	return bad ? tn_error_set(err, TN_ERR_NOMEM, "out of memory for scores") : TN_OK;
}

static int emit_score(rowvec *out, const group *g, const char *metric, const tn_fb_score *sc, tn_error *err)
{
	if (sc->n == 0)
		return TN_OK;
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->segment, sizeof r->segment, "%s", g->seg);
	snprintf(r->period, sizeof r->period, "%s", g->per);
	snprintf(r->metric, sizeof r->metric, "%s", metric);
	r->n = sc->n;
	r->value = sc->value;
	r->lo = sc->lo;
	r->hi = sc->hi;
	return TN_OK;
}

static int emit_group(rowvec *out, const group *g, tn_error *err)
{
	tn_fb_score sc = {.n = g->responses, .value = (double)g->responses, .lo = NAN, .hi = NAN};
	if (emit_score(out, g, "responses", &sc, err))
		return tn_error_code(err, TN_ERR_NOMEM);
	tn_fb_nps(g->nps.v, g->nps.n, &sc);
	if (emit_score(out, g, "nps", &sc, err))
		return tn_error_code(err, TN_ERR_NOMEM);
	tn_fb_csat(g->csat.v, g->csat.n, &sc);
	if (emit_score(out, g, "csat", &sc, err))
		return tn_error_code(err, TN_ERR_NOMEM);
	tn_fb_ces(g->ces.v, g->ces.n, &sc);
	if (emit_score(out, g, "ces", &sc, err))
		return tn_error_code(err, TN_ERR_NOMEM);
	for (size_t i = 0; i < g->nch; i++) {
		size_t tot = 0;
		for (size_t j = 0; j < g->nch; j++)
			if (strcmp(g->ch[j].kind, g->ch[i].kind) == 0)
				tot += g->ch[j].count;
		char metric[100];
		snprintf(metric, sizeof metric, "%s=%s", g->ch[i].kind, g->ch[i].answer);
		tn_fb_score c = {.n = tot, .value = 100.0 * (double)g->ch[i].count / (double)tot};
		tn_fb_wilson(g->ch[i].count, tot, &c.lo, &c.hi);
		c.lo *= 100;
		c.hi *= 100;
		if (emit_score(out, g, metric, &c, err))
			return tn_error_code(err, TN_ERR_NOMEM);
	}
	return TN_OK;
}

static int valid_attr(const char *a)
{
	if (!*a || strlen(a) > 40)
		return 0;
	for (; *a; a++)
		if (!((*a >= 'a' && *a <= 'z') || (*a >= 'A' && *a <= 'Z') || (*a >= '0' && *a <= '9') || *a == '_'))
			return 0;
	return 1;
}

static int scores_sql(const char *by, const char *period, char *sql, size_t size, tn_error *err)
{
	const char *seg = "'all'";
	char segbuf[160];
	if (by) {
		if (!valid_attr(by))
			return tn_error_set(err, TN_ERR_USAGE,
					    "--by: expected country, channel, plan or an attrs key (letters, digits, _), "
					    "found \"%s\"",
					    by);
		if (strcmp(by, "country") == 0 || strcmp(by, "channel") == 0)
			snprintf(segbuf, sizeof segbuf, "COALESCE(c.%s, '(unknown)')", by);
		else if (strcmp(by, "plan") == 0)
			snprintf(segbuf, sizeof segbuf,
				 "COALESCE((SELECT s.plan FROM subscriptions s WHERE s.customer_id = c.id "
				 "ORDER BY s.started_at DESC LIMIT 1), '(none)')");
		else
			snprintf(segbuf, sizeof segbuf, "COALESCE(json_extract(c.attrs, '$.%s'), '(unknown)')", by);
		seg = segbuf;
	}
	const char *per = "'all'";
	if (period) {
		if (strcmp(period, "month") == 0)
			per = "strftime('%Y-%m', f.given_at, 'unixepoch')";
		else if (strcmp(period, "week") == 0)
			per = "strftime('%Y-W%W', f.given_at, 'unixepoch')";
		else if (strcmp(period, "year") == 0)
			per = "strftime('%Y', f.given_at, 'unixepoch')";
		else if (strcmp(period, "quarter") == 0)
			per = "strftime('%Y', f.given_at, 'unixepoch') || '-Q' || "
			      "((CAST(strftime('%m', f.given_at, 'unixepoch') AS INTEGER) + 2) / 3)";
		else
			return tn_error_set(err, TN_ERR_USAGE, "--period: expected week, month, quarter or year, found \"%s\"",
					    period);
	}
	snprintf(sql, size,
		 "SELECT f.kind, f.score, COALESCE(f.answer, ''), %s, %s, " CHURNED_SQL ", "
		 "f.kind IN (SELECT kind FROM feedback WHERE kind NOT IN ('nps','csat','ces','exit','free') "
		 "GROUP BY kind HAVING COUNT(DISTINCT answer) <= %d) "
		 "FROM feedback f JOIN customers c ON c.id = f.customer_id ORDER BY f.given_at",
		 seg, per, FIXED_CHOICES);
	return TN_OK;
}

static int cmp_choice(const void *a, const void *b)
{
	const choice *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);
	return c ? c : strcmp(x->answer, y->answer);
}

/* Report order: overall first, then segments by name, churned/stayed last;
 * within a segment "all" periods first, then periods in order. */
static int seg_rank(const char *seg)
{
	if (strcmp(seg, "all") == 0)
		return 0;
	return strcmp(seg, "churned") == 0 || strcmp(seg, "stayed") == 0 ? 2 : 1;
}

static int cmp_group(const void *a, const void *b)
{
	const group *x = a, *y = b;
	int rx = seg_rank(x->seg), ry = seg_rank(y->seg);
	if (rx != ry)
		return rx - ry;
	int c = strcmp(x->seg, y->seg);
	if (c)
		return c;
	int px = strcmp(x->per, "all") != 0, py = strcmp(y->per, "all") != 0;
	return px != py ? px - py : strcmp(x->per, y->per);
}

int tn_fb_scores_store(tn_store *s, const char *by, const char *period, tn_fb_row **rows, size_t *nrows,
		       tn_error *err)
{
	TN_ERROR_ENSURE(err);
	*rows = NULL;
	*nrows = 0;
	char sql[2048];
	if (scores_sql(by, period, sql, sizeof sql, err))
		return err->code;
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	groups gs = {0};
	rowvec out = {0};
	int rc, status = TN_OK;
	group *all = group_get(&gs, "all", "all", err);
	if (!all)
		status = err->code;
	while (status == TN_OK && (rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		const char *kind = tn_fb_col_text(st, 0);
		double score = tn_db_column_is_null(st, 1) ? NAN : tn_db_column_double0(st, 1);
		const char *answer = tn_fb_col_text(st, 2), *seg = tn_fb_col_text(st, 3), *per = tn_fb_col_text(st, 4);
		int churned = (int)tn_db_column_int64(st, 5), fixed = (int)tn_db_column_int64(st, 6);
		/* the groups this answer counts in (group_get may move the array,
		 * so each pointer is used at once) */
		const char *keys[5][2] = {{"all", "all"}, {seg, "all"}, {"all", per}, {seg, per},
					  {churned ? "churned" : "stayed", "all"}};
		int use[5] = {1, by != NULL, period != NULL, by && period, 1};
		for (size_t i = 0; i < 5 && status == TN_OK; i++) {
			if (!use[i])
				continue;
			group *g = group_get(&gs, keys[i][0], keys[i][1], err);
			status = g ? group_add(g, kind, score, answer, fixed, err) : err->code;
		}
	}
	if (status == TN_OK && rc != TN_DB_DONE)
		status = tn_store_db_error(s, "reading feedback scores", err);
	tn_db_finalize(st);
	if (gs.n)
		qsort(gs.g, gs.n, sizeof *gs.g, cmp_group);
	for (size_t i = 0; i < gs.n; i++) {
		if (gs.g[i].nch)
			qsort(gs.g[i].ch, gs.g[i].nch, sizeof *gs.g[i].ch, cmp_choice);
		if (status == TN_OK)
			status = emit_group(&out, &gs.g[i], err);
		free(gs.g[i].nps.v);
		free(gs.g[i].csat.v);
		free(gs.g[i].ces.v);
		free(gs.g[i].ch);
	}
	free(gs.g);
	if (status) {
		free(out.v);
		return status;
	}
	*rows = out.v;
	*nrows = out.n;
	return TN_OK;
}


int tn_fb_scores_all(tn_store *s, tn_fb_score out[3], tn_error *err)
{
	/* tn_fb_scores_store's statement (segment and period "all") with only
	 * the three surveys' rows: the same join and scan, so the same rows in
	 * the same order -- which the CES's running mean depends on, ties of
	 * given_at included (SQLite's sorter keeps the scan's order among equal
	 * keys, and a subset of the rows keeps their order) */
	static const char sql[] = "SELECT f.kind, f.score FROM feedback f JOIN customers c ON c.id = f.customer_id "
				  "WHERE f.kind IN ('nps','csat','ces') ORDER BY f.given_at";
	static const char *const kinds[3] = {"nps", "csat", "ces"};
	dvec v[3] = {{0}};
	int rc, status = TN_OK;
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	while ((rc = tn_db_step(st, "reading survey scores", err)) == TN_DB_ROW) {
		double score = tn_db_column_is_null(st, 1) ? NAN : tn_db_column_double0(st, 1);
		if (isnan(score))
			continue;
		const char *kind = tn_fb_col_text(st, 0);
		for (size_t m = 0; m < 3; m++)
			if (strcmp(kind, kinds[m]) == 0 && dpush(&v[m], score)) {
				status = tn_error_set(err, TN_ERR_NOMEM, "out of memory for scores");
				break;
			}
		if (status)
			break;
	}
	if (status == TN_OK && rc != TN_DB_DONE)
		status = tn_store_db_error(s, "reading survey scores", err);
	tn_db_finalize(st);
	if (status == TN_OK) {
		tn_fb_nps(v[0].v, v[0].n, &out[0]);
		tn_fb_csat(v[1].v, v[1].n, &out[1]);
		tn_fb_ces(v[2].v, v[2].n, &out[2]);
	}
	for (size_t m = 0; m < 3; m++)
		free(v[m].v);
	return status;
}
