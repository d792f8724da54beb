/*
 * feedback_impact.c -- what the feedback costs and what to do about it:
 * impact per type and theme (customers affected, churn rate vs the rest,
 * revenue), exit reasons with Wilson intervals, the impact/effort matrix,
 * the effort and "fixed" marks per theme, and the follow-up list.  Reads the
 * labels written by tn_fb_label_store (feedback_store.c).
 */
#include "feedback/feedback_internal.h"
#include "base/alloc.h"
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/hashmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each customer's churn flag and revenue (succeeded payments), from the
 * customers row c. */
#define CUST_COLS \
	"c.id, " CHURNED_SQL " AS churned, " \
	"COALESCE((SELECT SUM(tn_money(p.amount, p.currency, p.paid_at)) FROM payments p WHERE p.customer_id = c.id AND p.status = 'succeeded'), 0) " \
	"AS revenue"
/* the labelled answers outside exit surveys (the impact's rows) */
#define IMPACT_LABELS "FROM feedback_labels l JOIN feedback f ON f.id = l.feedback_id WHERE f.kind <> 'exit'"
/* The impact's customers: those with such a label only.  The statement uses
 * them twice, so SQLite materializes them, and with every customer it summed
 * every customer's payments for the few it looks up (on 200,000 customers,
 * 1.1-1.3 -> 0.6-0.8 s of CPU: docs/dashboard.md, "Session 32 (ins)").  A
 * customer's row is the same whichever customers are listed, and the sums
 * below add the same customers' values in the same order (the labels drive
 * them).  TOT, the churn rate of the rest, counts every customer. */
#define IMPACT_CTE \
	"WITH cust AS (SELECT " CUST_COLS " FROM customers c WHERE c.id IN (SELECT f.customer_id " IMPACT_LABELS ")), " \
	"tot AS (SELECT COUNT(*) AS n, COALESCE(SUM(" CHURNED_SQL "), 0) AS k FROM customers c) "

tn_fb_row *tn_fb_row_push(rowvec *r, tn_error *err)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		if (cap > ROWS_MAX) {
			tn_error_set(err, TN_ERR_NOMEM, "report has more than %d rows", ROWS_MAX);
			return NULL;
		}
		tn_fb_row *v = tn_realloc(r->v, cap * sizeof *v);
		if (!v) {
			tn_error_set(err, TN_ERR_NOMEM, "out of memory for a report");
			return NULL;
		}
		r->v = v;
		r->cap = cap;
	}
	tn_fb_row *row = &r->v[r->n++];
	memset(row, 0, sizeof *row);
	return row;
}

const char *tn_fb_col_text(tn_stmt *st, int i)
{
	const unsigned char *t = (const unsigned char *)tn_db_column_text(st, i);
	return t ? (const char *)t : "";
}

static int step_done(tn_store *s, tn_stmt *st, int rc, tn_error *err)
{
	if (rc != TN_DB_DONE)
		tn_store_db_error(s, "feedback report", err);
	tn_db_finalize(st);
	return rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

/* Cut a possibly truncated UTF-8 sequence off the end of S. */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), i = n;
	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char c = (unsigned char)s[i - 1];
	size_t want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (c >= 0x80 && (i - 1) + want > n)
		s[i - 1] = '\0';
}

/* Run SQL (with optional text parameter P1) and hand each row to FN. */
typedef int (*row_fn)(tn_stmt *st, rowvec *out, tn_error *err);

static int run_report(tn_store *s, const char *sql, const char *p1, row_fn fn, tn_fb_row **rows, size_t *nrows,
		      tn_error *err)
{
	*rows = NULL;
	*nrows = 0;
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (p1)
		tn_db_bind_text(st, 1, p1);
	rowvec out = {0};
	int rc, status = TN_OK;
	while ((rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW)
		if ((status = fn(st, &out, err)) != TN_OK)
			break;
	if (status == TN_OK)
		status = step_done(s, st, rc, err);
	else
		tn_db_finalize(st);
	if (status) {
		free(out.v);
		return status;
	}
	*rows = out.v;
	*nrows = out.n;
	return TN_OK;
}

static int impact_row(tn_stmt *st, rowvec *out, tn_error *err)
{
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->segment, sizeof r->segment, "%s", tn_fb_col_text(st, 0));
	snprintf(r->period, sizeof r->period, "%s", tn_fb_col_text(st, 1));
	long long n = tn_db_column_int64(st, 2), k = tn_db_column_int64(st, 3);
	long long tn = tn_db_column_int64(st, 5), tk = tn_db_column_int64(st, 6);
	r->n = (size_t)n;
	r->extra = (double)k;
	r->value = n ? (double)k / (double)n : NAN;
	r->lo = tn > n ? (double)(tk - k) / (double)(tn - n) : NAN;
	r->hi = tn_db_column_double0(st, 4);
	return TN_OK;
}

int tn_fb_impact_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		IMPACT_CTE
		"SELECT * FROM ("
		"SELECT lab.type AS ty, lab.theme AS th, COUNT(*) AS cn, SUM(cust.churned) AS ck, SUM(cust.revenue), "
		"tot.n, tot.k FROM (SELECT DISTINCT l.type, l.theme, f.customer_id " IMPACT_LABELS ") lab "
		"JOIN cust ON cust.id = lab.customer_id, tot "
		"GROUP BY lab.type, lab.theme, tot.n, tot.k "
		"UNION ALL "
		"SELECT lab.type, '(all)', COUNT(*), SUM(cust.churned), SUM(cust.revenue), tot.n, tot.k FROM "
		"(SELECT DISTINCT l.type, f.customer_id " IMPACT_LABELS ") "
		"lab JOIN cust ON cust.id = lab.customer_id, tot GROUP BY lab.type, tot.n, tot.k) "
		"ORDER BY ty, th = '(all)' DESC, ck DESC, cn DESC, th";
	return run_report(s, sql, NULL, impact_row, rows, nrows, err);
}

static int exit_row(tn_stmt *st, rowvec *out, tn_error *err)
{
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->segment, sizeof r->segment, "%s", tn_fb_col_text(st, 0));
	snprintf(r->period, sizeof r->period, "%s", tn_fb_col_text(st, 1));
	size_t k = (size_t)tn_db_column_int64(st, 2), n = (size_t)tn_db_column_int64(st, 3);
	r->n = k;
	r->value = n ? (double)k / (double)n : NAN;
	tn_fb_wilson(k, n, &r->lo, &r->hi);
	return TN_OK;
}

int tn_fb_exit_reasons_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		"SELECT l.type, l.theme, COUNT(*), (SELECT COUNT(*) FROM feedback_labels l2 JOIN feedback f2 ON "
		"f2.id = l2.feedback_id WHERE f2.kind = 'exit') FROM feedback_labels l JOIN feedback f ON f.id = "
		"l.feedback_id WHERE f.kind = 'exit' GROUP BY l.type, l.theme ORDER BY 3 DESC, 2";
	return run_report(s, sql, NULL, exit_row, rows, nrows, err);
}

static int matrix_row(tn_stmt *st, rowvec *out, tn_error *err)
{
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->period, sizeof r->period, "%s", tn_fb_col_text(st, 0));
	snprintf(r->segment, sizeof r->segment, "%s", tn_fb_col_text(st, 1));
	r->n = (size_t)tn_db_column_int64(st, 2);
	r->extra = (double)tn_db_column_int64(st, 3);
	r->value = r->n ? r->extra / (double)r->n : NAN;
	snprintf(r->metric, sizeof r->metric, "%s", tn_fb_col_text(st, 4));
	r->hi = tn_db_column_double0(st, 5);
	return TN_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int tn_fb_matrix_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		/* every customer, and TOT though the statement does not read it:
		 * PostgreSQL then counts two uses of CUST and materializes it, so
		 * its plan and its revenue sums' order are the ones it always had
		 * (without TOT it folds CUST in and the sums move in their last
		 * bits); SQLite drops the unused TOT either way */
		"WITH cust AS (SELECT " CUST_COLS " FROM customers c), "
		"tot AS (SELECT COUNT(*) AS n, COALESCE(SUM(churned), 0) AS k FROM cust) "
		"SELECT lab.theme, (SELECT l3.type FROM feedback_labels l3 WHERE l3.theme = lab.theme GROUP BY l3.type "
		"ORDER BY COUNT(*) DESC LIMIT 1), COUNT(*), SUM(cust.churned), COALESCE(ft.effort, ''), "
		"SUM(cust.revenue) FROM (SELECT DISTINCT l.theme, f.customer_id FROM feedback_labels l JOIN feedback f "
		"ON f.id = l.feedback_id WHERE l.type <> 'praise') lab JOIN cust ON cust.id = lab.customer_id LEFT JOIN feedback_themes ft ON "
		"ft.theme = lab.theme GROUP BY lab.theme, ft.effort ORDER BY 4 DESC, 3 DESC, 1";
	int rc = run_report(s, sql, NULL, matrix_row, rows, nrows, err);
	if (rc || *nrows == 0)
		return rc;
	double *imp = tn_malloc(*nrows * sizeof *imp);
	if (!imp) {
		free(*rows);
		*rows = NULL;
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for the matrix");
	}
	for (size_t i = 0; i < *nrows; i++)
		imp[i] = (*rows)[i].extra;
	qsort(imp, *nrows, sizeof *imp, cmp_double);
	double med = *nrows % 2 ? imp[*nrows / 2] : (imp[*nrows / 2 - 1] + imp[*nrows / 2]) / 2;
	free(imp);
	for (size_t i = 0; i < *nrows; i++) {
		tn_fb_row *r = &(*rows)[i];
		int high = r->extra >= med && r->extra > 0;
		const char *q = "effort not set";
		if (strcmp(r->metric, "low") == 0)
			q = high ? "do now" : "fill in";
		else if (strcmp(r->metric, "high") == 0)
			q = high ? "plan next" : "later";
		snprintf(r->text, sizeof r->text, "%s", q);
		r->lo = high;
	}
	return TN_OK;
}

static int follow_row(tn_stmt *st, rowvec *out, tn_error *err)
{
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->metric, sizeof r->metric, "%s", tn_fb_col_text(st, 0));
	snprintf(r->segment, sizeof r->segment, "%s", tn_fb_col_text(st, 1));
	snprintf(r->period, sizeof r->period, "%s", tn_fb_col_text(st, 2));
	r->extra = (double)tn_db_column_int64(st, 3);
	r->value = (int)tn_db_column_int64(st, 4);
	snprintf(r->text, sizeof r->text, "%s", tn_fb_col_text(st, 5));
	utf8_trim(r->text);
	r->n = 1;
	return TN_OK;
}

int tn_fb_follow_up_store(tn_store *s, const char *theme, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		"SELECT c.ext_id, l.type, l.theme, f.given_at, " CHURNED_SQL ", f.answer FROM feedback_labels l "
		"JOIN feedback f ON f.id = l.feedback_id JOIN customers c ON c.id = f.customer_id JOIN feedback_themes "
		"ft ON ft.theme = l.theme WHERE ft.fixed_at IS NOT NULL AND f.given_at <= ft.fixed_at AND "
		"(?1 IS NULL OR l.theme = ?1) ORDER BY l.theme, c.ext_id, f.given_at";
	return run_report(s, sql, theme, follow_row, rows, nrows, err);
}

static int label_row(tn_stmt *st, rowvec *out, tn_error *err)
{
	tn_fb_row *r = tn_fb_row_push(out, err);
	if (!r)
		return tn_error_code(err, TN_ERR_NOMEM);
	snprintf(r->metric, sizeof r->metric, "%s", tn_fb_col_text(st, 0));
	snprintf(r->kind, sizeof r->kind, "%s", tn_fb_col_text(st, 1));
	snprintf(r->segment, sizeof r->segment, "%s", tn_fb_col_text(st, 2));
	snprintf(r->period, sizeof r->period, "%s", tn_fb_col_text(st, 3));
	snprintf(r->language, sizeof r->language, "%s", tn_fb_col_text(st, 4));
	r->value = tn_db_column_double0(st, 5);
	r->lo = (int)tn_db_column_int64(st, 6);
	r->extra = (double)tn_db_column_int64(st, 7);
	snprintf(r->text, sizeof r->text, "%s", tn_fb_col_text(st, 8));
	utf8_trim(r->text);
	r->n = 1;
	return TN_OK;
}

int tn_fb_labels_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		"SELECT c.ext_id, f.kind, l.type, l.theme, l.language, l.confidence, l.by_rule, f.given_at, f.answer "
		"FROM feedback_labels l JOIN feedback f ON f.id = l.feedback_id JOIN customers c ON c.id = "
		"f.customer_id ORDER BY f.given_at, f.id";
	return run_report(s, sql, NULL, label_row, rows, nrows, err);
}

/* the rows and order of tn_fb_labels_store, for the two below */
#define LABELS_FROM \
	"FROM feedback_labels l JOIN feedback f ON f.id = l.feedback_id JOIN customers c ON c.id = f.customer_id "

int tn_fb_label_themes(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err)
{
	static const char sql[] =
		"SELECT l.theme " LABELS_FROM "WHERE l.type <> 'praise' AND l.theme <> '' ORDER BY f.given_at, f.id";
	*rows = NULL;
	*nrows = 0;
	tn_strmap *m = tn_strmap_new();
	tn_stmt *st = m ? tn_db_prepare(s, sql, err) : NULL;
	if (!st) {
		tn_strmap_free(m);
		return m ? tn_error_code(err, TN_ERR_DB) : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int rc, status = TN_OK;
	while ((rc = tn_db_step(st, "reading feedback labels", err)) == TN_DB_ROW) {
		char theme[sizeof((tn_fb_row *)0)->period]; /* as tn_fb_labels_store's rows hold it */
		snprintf(theme, sizeof theme, "%s", tn_fb_col_text(st, 0));
		size_t k;
		if (tn_strmap_add(m, theme, &k) < 0) {
			status = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		tn_strmap_set(m, k, tn_strmap_val(m, k) + 1);
	}
	if (status == TN_OK)
		status = step_done(s, st, rc, err);
	else
		tn_db_finalize(st);
	rowvec out = {0};
	for (size_t k = 0; status == TN_OK && k < tn_strmap_count(m); k++) {
		tn_fb_row *r = tn_fb_row_push(&out, err);
		if (!r) {
			status = tn_error_code(err, TN_ERR_NOMEM);
			break;
		}
		snprintf(r->period, sizeof r->period, "%s", tn_strmap_key(m, k));
		r->n = (size_t)tn_strmap_val(m, k);
	}
	tn_strmap_free(m);
	if (status) {
		free(out.v);
		return status;
	}
	*rows = out.v;
	*nrows = out.n;
	return TN_OK;
}

int tn_fb_label_first(tn_store *s, const char *theme, const char *language, tn_fb_row *row, int *found,
		      tn_error *err)
{
	/* a top-1 sort of the theme's labels (its index), not every label */
	static const char sql[] =
		"SELECT c.ext_id, f.kind, l.type, l.theme, l.language, l.confidence, l.by_rule, f.given_at, f.answer "
		LABELS_FROM "WHERE l.theme = ?1 AND l.language = ?2 AND f.answer <> '' ORDER BY f.given_at, f.id LIMIT 1";
	*found = 0;
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, theme);
	tn_db_bind_text(st, 2, language);
	rowvec out = {0};
	int rc, status = TN_OK;
	while ((rc = tn_db_step(st, "reading feedback labels", err)) == TN_DB_ROW)
		if ((status = label_row(st, &out, err)) != TN_OK)
			break;
	if (status == TN_OK)
		status = step_done(s, st, rc, err);
	else
		tn_db_finalize(st);
	if (status == TN_OK && out.n > 0) {
		*row = out.v[0];
		*found = 1;
	}
	free(out.v);
	return status;
}

static int set_theme(tn_store *s, const char *sql, const char *theme, const char *text, tn_time t, tn_error *err)
{
	if (!theme || !*theme || strlen(theme) >= TN_FB_THEME_MAX)
		return tn_error_set(err, TN_ERR_USAGE, "expected a theme name of 1 to %d bytes", TN_FB_THEME_MAX - 1);
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, theme);
	if (text)
		tn_db_bind_text(st, 2, text);
	else if (t != TN_NO_TIME)
		tn_db_bind_int64(st, 2, t);
	else
		tn_db_bind_null(st, 2);
	return step_done(s, st, tn_db_step(st, "reading the store", err), err);
}

int tn_fb_set_effort(tn_store *s, const char *theme, const char *effort, tn_error *err)
{
	if (!effort || (strcmp(effort, "low") != 0 && strcmp(effort, "high") != 0))
		return tn_error_set(err, TN_ERR_USAGE, "effort: expected low or high, found \"%s\"", effort ? effort : "");
	return set_theme(s,
			 "INSERT INTO feedback_themes(theme, effort) VALUES (?1, ?2) "
			 "ON CONFLICT(theme) DO UPDATE SET effort = excluded.effort",
			 theme, effort, TN_NO_TIME, err);
}

int tn_fb_set_fixed(tn_store *s, const char *theme, tn_time fixed_at, tn_error *err)
{
	return set_theme(s,
			 "INSERT INTO feedback_themes(theme, fixed_at) VALUES (?1, ?2) "
			 "ON CONFLICT(theme) DO UPDATE SET fixed_at = excluded.fixed_at",
			 theme, NULL, fixed_at, err);
}
