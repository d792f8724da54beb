/*
 * frame.c -- read a CSV file into typed columns (see include/tenure/frame.h).
 *
 * Cells are parsed as numbers while a column stays numeric; the first cell
 * that is not a number turns the column into text, re-rendering the earlier
 * numbers with %.17g (exact for doubles) so nothing is lost.
 */
#include "tenure/frame.h"
#include "base/alloc.h"
#include "tenure/csv.h"

#include "base/numlocale.h"
#include "base/fastnum.h"
#include "base/frame_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reference reader: strtod in the "C" locale on a copy of the trimmed
 * field.  tn_parse_double gives the same answer faster (the exact fast path
 * of fastnum.h first); tests/unit/test_fastnum.c compares the two. */
int tn_parse_double_strtod(const char *s, size_t len, double *out)
{
	char buf[64];
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	double v = tn_strtod_c(buf, &end); /* a '.' whatever the locale */
	if (end != buf + len || !isfinite(v))
		return -1;
	/* strtod accepts hex floats and "inf"; a CSV number is decimal */
	for (size_t i = 0; i < len; i++)
		if (buf[i] == 'x' || buf[i] == 'X' || buf[i] == 'n' || buf[i] == 'N')
			return -1;
	*out = v;
	return 0;
}

int tn_parse_double(const char *s, size_t len, double *out)
{
	const char *t = s;
	size_t n = len;
	while (n && (*t == ' ' || *t == '\t'))
		t++, n--;
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= 64) /* the reference's limits (its buffer) */
		return -1;
	if (tn_fastnum_parse(t, n, out))
		return 0;
	return tn_parse_double_strtod(t, n, out);
}

char *tn_format_double(double x, char *buf, size_t n)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, x);
		if (strtod(buf, NULL) == x || !isfinite(x))
			break;
	}
	return buf;
}

/* The pool: blocks of at least POOL_BLOCK bytes, chained, never moved (the
 * cells point into them). */
#define POOL_BLOCK ((size_t)1 << 20)
typedef struct pool_block {
	struct pool_block *next;
	size_t used, cap;
	char data[];
} pool_block;

char *tn_frame_pool_put(void **pool, const char *s, size_t n)
{
	pool_block *b = *pool;
	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > POOL_BLOCK ? n + 1 : POOL_BLOCK;
		pool_block *nb = tn_malloc(sizeof *nb + cap);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->used = 0;
		nb->cap = cap;
		*pool = b = nb;
	}
	char *d = b->data + b->used;
	memcpy(d, s, n);
	d[n] = '\0';
	b->used += n + 1;
	return d;
}

char *tn_frame_pool_strdup(tn_frame *f, const char *s, size_t n) { return tn_frame_pool_put(&f->pool, s, n); }

void tn_frame_pool_splice(void **dst, void **src)
{
	pool_block *b = *src;
	if (!b)
		return;
	while (b->next)
		b = b->next;
	b->next = *dst;
	*dst = *src;
	*src = NULL;
}

void tn_frame_pool_drop(void **pool)
{
	for (pool_block *b = *pool, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	*pool = NULL;
}

void tn_frame_free(tn_frame *f)
{
	if (!f)
		return;
	for (size_t j = 0; j < f->ncols; j++) {
		tn_column *c = &f->cols[j];
		free(c->name);
		free(c->num);
		if (c->text) {
			for (size_t i = 0; i < f->nrows && !c->pooled; i++)
				free(c->text[i]);
			free(c->text);
		}
	}
	tn_frame_pool_drop(&f->pool);
	free(f->cols);
	free(f->path);
	free(f);
}

int tn_frame_find(const tn_frame *f, const char *name)
{
	for (size_t j = 0; j < f->ncols; j++)
		if (strcmp(f->cols[j].name, name) == 0)
			return (int)j;
	return -1;
}

static void list_columns(const tn_frame *f, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t j = 0; j < f->ncols && used + 4 < n; j++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s", j ? ", " : "", f->cols[j].name);
}

int tn_frame_require(const tn_frame *f, const char *name, int need_numeric, tn_error *err)
{
	int j = tn_frame_find(f, name);
	if (j < 0) {
		char cols[600];
		list_columns(f, cols, sizeof cols);
		tn_error_set(err, TN_ERR_USAGE, "%s: no column \"%s\"; columns are: %s", f->path, name, cols);
		return -1;
	}
	if (need_numeric && !f->cols[j].is_numeric) {
		tn_error_set(err, TN_ERR_INPUT, "%s: column \"%s\": expected numbers, found text", f->path, name);
		return -1;
	}
	return j;
}

/* Turn numeric column C (rows [0, upto)) into text. */
static int to_text(tn_column *c, size_t cap, size_t upto)
{
	c->text = tn_calloc(cap, sizeof *c->text);
	if (!c->text)
		return -1;
	for (size_t i = 0; i < upto; i++) {
		char buf[40] = "";
		if (!isnan(c->num[i]))
			tn_snprintf_c(buf, sizeof buf, "%.17g", c->num[i]);
		if (!(c->text[i] = tn_strdup(buf)))
			return -1;
	}
	free(c->num);
	c->num = NULL;
	c->is_numeric = 0;
	return 0;
}

/* The reference reader: record by record through tn_csv. */
static tn_frame *frame_read_stream(const char *path, const char *const *want, size_t nwant, tn_error *err)
{
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return NULL;
	tn_frame *f = tn_calloc(1, sizeof *f);
	size_t *src = NULL; /* frame column -> csv field index */
	size_t cap = 0, nfields = 0;
	if (!f)
		goto nomem;
	if (!(f->path = tn_strdup(path)))
		goto nomem;
	int rc = tn_csv_next(r, err);
	if (rc <= 0) {
		if (rc == 0)
			tn_error_set(err, TN_ERR_INPUT, "%s:1:1: expected a header line, found an empty file", path);
		goto fail;
	}
	nfields = tn_csv_nfields(r);
	f->ncols = want ? nwant : nfields;
	f->cols = tn_calloc(f->ncols ? f->ncols : 1, sizeof *f->cols);
	src = tn_calloc(f->ncols ? f->ncols : 1, sizeof *src);
	if (!f->cols || !src || !f->path)
		goto nomem;
	if (want) {
		for (size_t j = 0; j < nwant; j++) {
			size_t i;
			for (i = 0; i < nfields; i++)
				if (strcmp(tn_csv_field(r, i, NULL), want[j]) == 0)
					break;
			if (i == nfields) {
				char cols[600];
				size_t used = 0;
				cols[0] = '\0';
				for (size_t k = 0; k < nfields && used + 4 < sizeof cols; k++)
					used += (size_t)snprintf(cols + used, sizeof cols - used, "%s%s", k ? ", " : "",
								 tn_csv_field(r, k, NULL));
				tn_error_set(err, TN_ERR_USAGE, "%s:1: no column \"%s\"; columns are: %s", path,
					     want[j], cols);
				goto fail;
			}
			src[j] = i;
		}
	} else {
		for (size_t j = 0; j < nfields; j++)
			src[j] = j;
	}
	for (size_t j = 0; j < f->ncols; j++) {
		f->cols[j].name = tn_strdup(tn_csv_field(r, src[j], NULL));
		f->cols[j].is_numeric = 1;
		if (!f->cols[j].name)
			goto nomem;
	}
	while ((rc = tn_csv_next(r, err)) == 1) {
		if (tn_csv_nfields(r) != nfields) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld: expected %zu fields, found %zu", path,
				     tn_csv_line(r), nfields, tn_csv_nfields(r));
			goto fail;
		}
		if (f->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			for (size_t j = 0; j < f->ncols; j++) {
				tn_column *c = &f->cols[j];
				if (c->is_numeric) {
					double *p = tn_realloc(c->num, ncap * sizeof *p);
					if (!p)
						goto nomem;
					c->num = p;
				} else {
					char **p = tn_realloc(c->text, ncap * sizeof *p);
					if (!p)
						goto nomem;
					c->text = p;
				}
			}
			cap = ncap;
		}
		for (size_t j = 0; j < f->ncols; j++) {
			tn_column *c = &f->cols[j];
			size_t len;
			const char *s = tn_csv_field(r, src[j], &len);
			size_t k = 0;
			while (k < len && (s[k] == ' ' || s[k] == '\t'))
				k++;
			size_t e = len;
			while (e > k && (s[e - 1] == ' ' || s[e - 1] == '\t'))
				e--;
			/* blank and R's NA are missing values (R: read.csv's na.strings);
			 * an NA used to turn a numeric column into text */
			int blank = k == len || (e - k == 2 && s[k] == 'N' && s[k + 1] == 'A');
			c->nblank += (size_t)blank;
			if (c->is_numeric) {
				double v = NAN;
				if (blank || tn_parse_double(s, len, &v) == 0) {
					c->num[f->nrows] = v;
					continue;
				}
				if (to_text(c, cap, f->nrows))
					goto nomem;
			}
			if (!(c->text[f->nrows] = tn_strdup(blank ? "" : s)))
				goto nomem;
		}
		f->nrows++;
	}
	if (rc < 0)
		goto fail;
	free(src);
	tn_csv_close(r);
	return f;
nomem:
	tn_error_set(err, TN_ERR_NOMEM, "%s: out of memory", path);
fail:
	/* rows counted so far are the ones that must be freed */
	free(src);
	tn_csv_close(r);
	tn_frame_free(f);
	return NULL;
}

tn_frame *tn_frame_read_csv_mode(const char *path, const char *const *want, size_t nwant, int mode,
				 tn_error *err)
{
	if (mode != TN_FRAME_STREAM) {
		int fallback = 0;
		int threads = mode == TN_FRAME_FAST_ONE ? 1 : mode == TN_FRAME_FAST_TWO ? 2 : 0;
		tn_frame *f = tn_frame_read_fast(path, want, nwant, threads, &fallback, err);
		if (f || !fallback)
			return f;
	}
	return frame_read_stream(path, want, nwant, err);
}

tn_frame *tn_frame_read_csv(const char *path, const char *const *want, size_t nwant, tn_error *err)
{
	return tn_frame_read_csv_mode(path, want, nwant, TN_FRAME_AUTO, err);
}
