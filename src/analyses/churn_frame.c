/*
 * churn_frame.c -- the store as a survival table: one row per spell with
 * time (days), event (churned 0/1) and covariates, as a tn_frame, so that
 * tenure survival / tenure drivers can run on the store exactly as on a CSV
 * file; and a frame written back as CSV (tenure churn export).
 *
 * Covariates are taken at the spell's start (the subscription it started
 * with) or from the customer record; onboarding milestones count only when
 * reached within milestone_days of the spell start (a landmark, so that a
 * customer does not get credit for surviving long enough to reach them:
 * immortal-time bias, Suissa 2008, Am J Epidemiol 167(4)).  The export
 * streams the same rows to CSV one customer at a time.
 */
#include "tenure/churn.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "store/db.h"
#include "tenure/frame.h"
#include "tenure/csv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 100000000
#define MAX_ATTRS 32
#define MAX_COLS (C_FIXED + MAX_ATTRS + 16 + 4)
/* a column with more distinct values than this is copied, not interned
 * (its map would cost more than it saves) */
#define MAX_INTERN ((size_t)1 << 16)

enum { C_CUSTOMER, C_SPELL, C_TIME, C_EVENT, C_REASON, C_PLAN, C_PERIOD, C_PRICE, C_MRR, C_CHANNEL, C_COUNTRY, C_FIXED };

typedef struct fb {
	const tn_churn_frame_opts *o;
	tn_frame *f;
	size_t cap;
	size_t nattrs;
	char *attr_keys[MAX_ATTRS];
	size_t nmile;
	FILE *fp; /* streaming export: rows are written and dropped per customer */
	const char *path;
	/* the frame (no FP): text cells in the frame's pool, one copy per
	 * distinct value of a column (a million rows hold a few plans,
	 * countries, reasons: 8 bytes a cell instead of a string each) */
	tn_strmap *seen[MAX_COLS];
	const char *cust_id; /* the current customer's id in the pool (its spells share it) */
} fb;

static void write_rows(FILE *fp, const tn_frame *f, size_t from, size_t to);

static int add_col(tn_frame *f, const char *name, int numeric)
{
	tn_column *c = &f->cols[f->ncols++];
	c->name = tn_strdup(name);
	c->is_numeric = numeric;
	return c->name ? 0 : -1;
}

static int grow_rows(fb *b, tn_error *err)
{
	if (b->f->nrows < b->cap)
		return TN_OK;
	size_t nc = b->cap ? b->cap * 2 : 1024;
	if (nc > MAX_ROWS)
		return tn_error_set(err, TN_ERR_NOMEM, "more than %d spells", MAX_ROWS);
	for (size_t j = 0; j < b->f->ncols; j++) {
		tn_column *c = &b->f->cols[j];
		if (c->is_numeric) {
			double *p = tn_realloc(c->num, nc * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			c->num = p;
		} else {
			char **p = tn_realloc(c->text, nc * sizeof *p);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			c->text = p;
		}
	}
	b->cap = nc;
	return TN_OK;
}

static int set_text(fb *b, tn_column *c, size_t row, const char *s)
{
	if (!s)
		s = "";
	if (!*s)
		c->nblank++;
	if (!c->pooled) {
		c->text[row] = tn_strdup(s);
		return c->text[row] ? 0 : -1;
	}
	size_t j = (size_t)(c - b->f->cols);
	tn_strmap *m = j < MAX_COLS ? b->seen[j] : NULL;
	if (m && tn_strmap_count(m) < MAX_INTERN) {
		size_t k;
		int added = tn_strmap_add(m, s, &k);
		if (added < 0)
			return -1;
		if (!added) {
			c->text[row] = (char *)(intptr_t)tn_strmap_val(m, k);
			return 0;
		}
		if (!(c->text[row] = tn_frame_pool_strdup(b->f, s, strlen(s))))
			return -1;
		tn_strmap_set(m, k, (int64_t)(intptr_t)c->text[row]);
		return 0;
	}
	c->text[row] = tn_frame_pool_strdup(b->f, s, strlen(s));
	return c->text[row] ? 0 : -1;
}

/* The attribute keys of one customer's ATTRS not seen yet, appended in order. */
static int attr_keys_add(fb *b, const char *attrs, tn_error *err)
{
	cJSON *o = cJSON_Parse(attrs ? attrs : "{}");
	const cJSON *x;
	int rc = TN_OK;
	if (!o) /* the store holds only valid JSON objects (a CHECK): out of memory */
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading attributes");
	cJSON_ArrayForEach(x, o)
	{
		size_t i = 0;
		while (i < b->nattrs && strcmp(b->attr_keys[i], x->string) != 0)
			i++;
		if (i < b->nattrs)
			continue;
		if (b->nattrs >= MAX_ATTRS) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "more than %d attribute keys in customers.attrs", MAX_ATTRS);
			break;
		}
		if (!(b->attr_keys[b->nattrs++] = tn_strdup(x->string))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	cJSON_Delete(o);
	return rc;
}

static int row_pass(void *ud, const tn_churn_customer *c, tn_error *err)
{
	fb *b = ud;
	tn_frame *f = b->f;
	size_t nsp = b->o->all_spells ? c->nspells : (c->nspells ? 1 : 0);
	cJSON *attrs = nsp && b->nattrs ? cJSON_Parse(c->attrs ? c->attrs : "{}") : NULL;
	int rc = TN_OK;
	if (nsp && b->nattrs && !attrs) /* valid JSON in the store: out of memory */
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading attributes");
	int64_t mdays = (int64_t)llround((b->o->milestone_days > 0 ? b->o->milestone_days : 7) * TN_DAY);
	for (size_t i = 0; i < nsp && rc == TN_OK; i++) {
		const tn_churn_spell *sp = &c->spells[i];
		if ((rc = grow_rows(b, err)))
			break;
		size_t r = f->nrows;
		const tn_churn_sub *sub = sp->sub >= 0 ? &c->subs[sp->sub] : NULL;
		tn_column *col = f->cols;
		int bad = 0;
		if (col[C_CUSTOMER].pooled) { /* one copy per customer, shared by its spells */
			if (i == 0)
				b->cust_id = tn_frame_pool_strdup(f, c->id ? c->id : "", c->id ? strlen(c->id) : 0);
			col[C_CUSTOMER].text[r] = (char *)b->cust_id;
			bad = !b->cust_id;
			if (!c->id || !*c->id)
				col[C_CUSTOMER].nblank++;
		} else
			bad = set_text(b, &col[C_CUSTOMER], r, c->id);
		col[C_SPELL].num[r] = (double)(i + 1);
		col[C_TIME].num[r] = (double)(sp->end - sp->start) / TN_DAY;
		col[C_EVENT].num[r] = sp->churned;
		bad |= set_text(b, &col[C_REASON], r, tn_churn_reason_name(sp->reason));
		bad |= set_text(b, &col[C_PLAN], r, sub ? sub->plan : NULL);
		bad |= set_text(b, &col[C_PERIOD], r, sub ? sub->billing_period : NULL);
		col[C_PRICE].num[r] = sub ? sub->price : NAN;
		col[C_MRR].num[r] = sub ? sub->mrr : NAN;
		bad |= set_text(b, &col[C_CHANNEL], r, c->channel);
		bad |= set_text(b, &col[C_COUNTRY], r, c->country);
		size_t j = C_FIXED;
		for (size_t k = 0; k < b->nattrs; k++, j++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(attrs, b->attr_keys[k]);
			char num[64] = "";
			const char *v = num;
			if (cJSON_IsString(x))
				v = x->valuestring;
			else if (cJSON_IsNumber(x))
				tn_format_double(x->valuedouble, num, sizeof num); /* exact and shortest */
			else if (cJSON_IsBool(x))
				v = cJSON_IsTrue(x) ? "true" : "false";
			bad |= set_text(b, &col[j], r, v);
		}
		for (size_t k = 0; k < b->nmile; k++, j++) {
			tn_time m = c->milestone_at[k];
			col[j].num[r] = m != TN_NO_TIME && m <= sp->start + mdays && m <= sp->end;
		}
		col[j].num[r] = c->first_nps;
		if (isnan(c->first_nps))
			col[j].nblank++;
		if (b->o->causes) { /* the competing risks: cause class, the cause, the source */
			const tn_churn_sub *last = NULL; /* the subscription the spell ended with */
			for (size_t k = 0; k < c->nsubs && c->subs[k].start <= sp->end; k++)
				if (c->subs[k].start >= sp->start)
					last = &c->subs[k];
			bad |= set_text(b, &col[j + 1], r, tn_churn_cause_class_name(sp->churned ? sp->cause_class : 0));
			bad |= set_text(b, &col[j + 2], r, sp->churned ? sp->cause : NULL);
			bad |= set_text(b, &col[j + 3], r, sub ? sub->source : last ? last->source : NULL);
		}
		if (isnan(col[C_PRICE].num[r])) {
			col[C_PRICE].nblank++;
			col[C_MRR].nblank++;
		}
		f->nrows++;
		if (bad)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	cJSON_Delete(attrs);
	if (rc == TN_OK && b->fp && f->nrows) {
		write_rows(b->fp, f, 0, f->nrows);
		for (size_t j = 0; j < f->ncols; j++)
			if (!f->cols[j].is_numeric)
				for (size_t i = 0; i < f->nrows; i++)
					free(f->cols[j].text[i]);
		f->nrows = 0;
		if (ferror(b->fp))
			rc = tn_error_set(err, TN_ERR_IO, "%s: write failed", b->path);
	}
	return rc;
}

static void csv_header(FILE *fp, const tn_frame *f);

static tn_frame *build(tn_store *s, const tn_churn_def *def, const tn_churn_frame_opts *o, FILE *fp,
		       const char *path, tn_error *err)
{
	static const char *const default_milestones[] = {"onboarding_complete"};
	tn_churn_frame_opts opts = *o;
	if (!opts.milestones) {
		opts.milestones = default_milestones;
		opts.nmilestones = 1;
	}
	fb b = {.o = &opts, .nmile = opts.nmilestones, .fp = fp, .path = path};
	tn_churn_scan_opts so = {.as_of = o->as_of, .on_progress = o->on_progress, .progress_ud = o->progress_ud};
	tn_frame *f = NULL;
	/* The frame's columns: every attribute key, in the order the customers
	 * (by key, as the scan walks them) first use them.  Read from the
	 * customers alone: a whole churn scan for it (subscriptions, spells, and
	 * the events under an inactivity rule) was ~10 s of CPU on 1,000,000
	 * customers.  The as-of is resolved once, as the scan would, so that a
	 * commit between here and the scan does not move it. */
	if (tn_churn_def_check(def, err))
		goto fail;
	if (so.as_of == TN_NO_TIME) {
		if (tn_churn_data_end(s, &so.as_of, err))
			goto fail;
		if (so.as_of == TN_NO_TIME)
			so.as_of = 0;
	}
	tn_stmt *ast = tn_db_prepare(s, "SELECT attrs FROM customers ORDER BY id", err);
	if (!ast)
		goto fail;
	int step, arc = TN_OK;
	while ((step = tn_db_step(ast, "reading the customers' attributes", err)) == TN_DB_ROW)
		if ((arc = attr_keys_add(&b, tn_db_column_text(ast, 0), err)))
			break;
	tn_db_finalize(ast);
	if (arc || tn_db_step_end(step, err))
		goto fail;
	f = tn_calloc(1, sizeof *f);
	if (!f || !(f->cols = tn_calloc(C_FIXED + b.nattrs + b.nmile + 4, sizeof *f->cols)) ||
	    !(f->path = tn_strdup(tn_store_path(s)))) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto fail;
	}
	static const char *const fixed[] = {"customer", "spell", "time", "event", "reason", "plan",
					     "billing_period", "price", "mrr", "channel", "country"};
	static const int fixed_num[] = {0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0};
	int bad = 0;
	for (int j = 0; j < C_FIXED; j++)
		bad |= add_col(f, fixed[j], fixed_num[j]);
	char name[128];
	for (size_t k = 0; k < b.nattrs; k++) {
		snprintf(name, sizeof name, "attr_%s", b.attr_keys[k]);
		bad |= add_col(f, name, 0);
	}
	for (size_t k = 0; k < b.nmile; k++) {
		snprintf(name, sizeof name, "reached_%s", opts.milestones[k]);
		bad |= add_col(f, name, 1);
	}
	bad |= add_col(f, "first_nps", 1);
	if (opts.causes) {
		bad |= add_col(f, "cause", 0);
		bad |= add_col(f, "churn_cause", 0);
		bad |= add_col(f, "source", 0);
	}
	for (size_t j = 0; !fp && j < f->ncols; j++)
		if (!f->cols[j].is_numeric) { /* the frame's text columns are pooled */
			f->cols[j].pooled = 1;
			if (j != C_CUSTOMER && j < MAX_COLS && !(b.seen[j] = tn_strmap_new()))
				bad = 1;
		}
	if (bad) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto fail;
	}
	b.f = f;
	if (fp)
		csv_header(fp, f);
	so.milestones = opts.milestones;
	so.nmilestones = opts.nmilestones;
	so.want_nps = 1;
	so.want_causes = opts.causes;
	if (tn_churn_scan(s, def, &so, row_pass, &b, NULL, err))
		goto fail;
	for (size_t k = 0; k < b.nattrs; k++)
		free(b.attr_keys[k]);
	for (size_t j = 0; j < MAX_COLS; j++)
		tn_strmap_free(b.seen[j]);
	return f;
fail:
	for (size_t k = 0; k < b.nattrs; k++)
		free(b.attr_keys[k]);
	for (size_t j = 0; j < MAX_COLS; j++)
		tn_strmap_free(b.seen[j]);
	tn_frame_free(f);
	return NULL;
}

tn_frame *tn_churn_frame(tn_store *s, const tn_churn_def *def, const tn_churn_frame_opts *o, tn_error *err)
{
	return build(s, def, o, NULL, NULL, err);
}

int tn_churn_export_csv(tn_store *s, const tn_churn_def *def, const tn_churn_frame_opts *o, const char *path,
			tn_error *err)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return tn_error_set(err, TN_ERR_IO, "%s: cannot write", path);
	tn_frame *f = build(s, def, o, fp, path, err);
	int rc = f ? TN_OK : tn_error_code(err, TN_ERR_NOMEM);
	tn_frame_free(f);
	if (fclose(fp) != 0 && rc == TN_OK)
		rc = tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
	return rc;
}

static void csv_header(FILE *fp, const tn_frame *f)
{
	for (size_t j = 0; j < f->ncols; j++) {
		if (j)
			fputc(',', fp);
		tn_csv_write(fp, f->cols[j].name);
	}
	fputc('\n', fp);
}

static void write_rows(FILE *fp, const tn_frame *f, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		for (size_t j = 0; j < f->ncols; j++) {
			const tn_column *c = &f->cols[j];
			if (j)
				fputc(',', fp);
			if (!c->is_numeric)
				tn_csv_write(fp, c->text[i]);
			else
				tn_csv_write_num(fp, c->num[i]);
		}
		fputc('\n', fp);
	}
}

int tn_frame_write_csv(const tn_frame *f, const char *path, tn_error *err)
{
	FILE *fp = fopen(path, "w");
	if (!fp)
		return tn_error_set(err, TN_ERR_IO, "%s: cannot write", path);
	csv_header(fp, f);
	write_rows(fp, f, 0, f->nrows);
	if (fclose(fp) != 0)
		return tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
	return TN_OK;
}
