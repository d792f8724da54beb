/*
 * design.c -- design matrices and group indices from a frame (design.h):
 * the bridge from "any flat file" to the plain arrays of km.c and cox.c.
 * Text columns become treatment-coded indicators (reference = first level
 * in byte order, or the one the caller names), as R's model.matrix with
 * contr.treatment on a factor with sorted levels.
 */
#include "tenure/design.h"
#include "base/alloc.h"
#include "base/hashmap.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int blank(const tn_column *c, size_t r)
{
	return c->is_numeric ? isnan(c->num[r]) : c->text[r][0] == '\0';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *dupstr(const char *s)
{
	size_t len = strlen(s);
	char *d = tn_malloc(len + 1);
	if (d)
		memcpy(d, s, len + 1);
	return d;
}

/* Distinct values of text column C over ROWS, sorted (pointers into C), and
 * when CODES is not NULL each row's index among them: one pass with the
 * string map (first-seen order), then a sort of the distinct values. */
static int text_levels(const tn_column *c, const size_t *rows, size_t n, const char ***levels, int *nlev,
		       int *codes, const char *path, tn_error *err)
{
	tn_strmap *slot = tn_strmap_new();
	const char **lv = tn_malloc(TN_DESIGN_MAX_LEVELS * sizeof *lv);
	int *remap = tn_malloc(TN_DESIGN_MAX_LEVELS * sizeof *remap);
	if (!slot || !lv || !remap) {
		tn_strmap_free(slot);
		free(lv);
		free(remap);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = c->text[rows ? rows[i] : i];
		size_t at = tn_strmap_find(slot, s);
		if (at == TN_STRMAP_NONE) {
			if (k == TN_DESIGN_MAX_LEVELS || tn_strmap_add(slot, s, &at) < 0) {
				tn_strmap_free(slot);
				free(lv);
				free(remap);
				if (k < TN_DESIGN_MAX_LEVELS)
					return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				return tn_error_set(err, TN_ERR_INPUT,
						    "%s: column \"%s\" has more than %d distinct values; expected a category",
						    path, c->name, TN_DESIGN_MAX_LEVELS);
			}
			assert(at == (size_t)k); /* levels are numbered in order of first sight */
			lv[k++] = s;
		}
		if (codes)
			codes[i] = (int)at;
	}
	if (codes) { /* first-seen order -> sorted order */
		const char **sorted = tn_malloc((k ? (size_t)k : 1) * sizeof *sorted);
		if (!sorted) {
			tn_strmap_free(slot);
			free(lv);
			free(remap);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		memcpy(sorted, lv, (size_t)k * sizeof *lv);
		qsort(sorted, (size_t)k, sizeof *sorted, cmp_str);
		for (int j = 0; j < k; j++) {
			const char **hit = bsearch(&lv[j], sorted, (size_t)k, sizeof *sorted, cmp_str);
			remap[j] = (int)(hit - sorted);
		}
		for (size_t i = 0; i < n; i++)
			codes[i] = remap[codes[i]];
		memcpy(lv, sorted, (size_t)k * sizeof *lv);
		free(sorted);
	} else {
		qsort(lv, (size_t)k, sizeof *lv, cmp_str);
	}
	tn_strmap_free(slot);
	free(remap);
	*levels = lv;
	*nlev = k;
	return TN_OK;
}

static int level_of(const char **levels, int nlev, const char *s)
{
	const char **hit = bsearch(&s, levels, (size_t)nlev, sizeof *levels, cmp_str);
	return hit ? (int)(hit - levels) : -1;
}

void tn_design_free(tn_design *d)
{
	if (!d)
		return;
	for (size_t j = 0; d->names && j < d->p; j++)
		free(d->names[j]);
	free(d->names);
	free(d->x);
	free(d->cols);
	free(d->rows);
	free(d);
}

static int find_cols(const tn_frame *f, const char *const *names, size_t n, int *idx, tn_error *err)
{
	for (size_t k = 0; k < n; k++) {
		idx[k] = tn_frame_require(f, names[k], 0, err);
		if (idx[k] < 0)
			return tn_error_code(err, TN_ERR_INPUT);
	}
	return TN_OK;
}

static int design_build(const tn_frame *f, const char *const *cols, size_t ncols, const char *const *required,
			size_t nreq, const char *const *refs, size_t nrefs, int no_x, tn_design **out, tn_error *err)
{
	*out = NULL;
	int *ci = tn_calloc(ncols + nreq + 1, sizeof *ci);
	tn_design *d = tn_calloc(1, sizeof *d);
	const char ***lv = tn_calloc(ncols + 1, sizeof *lv);
	int *nlv = tn_calloc(ncols + 1, sizeof *nlv), *ref = tn_calloc(ncols + 1, sizeof *ref);
	int rc = TN_OK;
	if (!ci || !d || !lv || !nlv || !ref) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = find_cols(f, cols, ncols, ci, err)) || (rc = find_cols(f, required, nreq, ci + ncols, err)))
		goto done;
	for (size_t k = 0; k < nrefs; k++) { /* each reference names a used text column */
		const char *eq = strchr(refs[k], '=');
		size_t len = eq ? (size_t)(eq - refs[k]) : 0;
		int found = 0;
		for (size_t j = 0; eq && j < ncols; j++)
			if (strlen(cols[j]) == len && memcmp(cols[j], refs[k], len) == 0)
				found = 1;
		if (!found) {
			rc = tn_error_set(err, TN_ERR_USAGE,
					  "reference \"%s\": expected COLUMN=LEVEL with COLUMN among the covariates",
					  refs[k]);
			goto done;
		}
	}
	d->rows = tn_malloc((f->nrows ? f->nrows : 1) * sizeof *d->rows);
	if (!d->rows) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	/* a column at a time first: when no used column has a blank (the
	 * common case), every row is kept without the row-by-row test */
	int any_blank = 0;
	for (size_t k = 0; k < ncols + nreq && !any_blank; k++) {
		const tn_column *c = &f->cols[ci[k]];
		for (size_t r = 0; r < f->nrows && !any_blank; r++)
			any_blank = c->is_numeric ? isnan(c->num[r]) : c->text[r][0] == '\0';
	}
	if (!any_blank) {
		for (size_t r = 0; r < f->nrows; r++)
			d->rows[r] = r;
		d->n = f->nrows;
	}
	for (size_t r = 0; any_blank && r < f->nrows; r++) {
		int keep = 1;
		for (size_t k = 0; k < ncols + nreq && keep; k++)
			keep = !blank(&f->cols[ci[k]], r);
		if (keep)
			d->rows[d->n++] = r;
	}
	d->dropped = f->nrows - d->n;
	/* columns: one per numeric column, nlevels - 1 per text column */
	size_t p = 0;
	for (size_t k = 0; k < ncols; k++) {
		const tn_column *c = &f->cols[ci[k]];
		if (c->is_numeric) {
			p++;
			continue;
		}
		if ((rc = text_levels(c, d->rows, d->n, &lv[k], &nlv[k], NULL, f->path, err)))
			goto done;
		ref[k] = 0;
		for (size_t j = 0; j < nrefs; j++) {
			size_t len = strlen(cols[k]);
			if (strncmp(refs[j], cols[k], len) == 0 && refs[j][len] == '=') {
				ref[k] = level_of(lv[k], nlv[k], refs[j] + len + 1);
				if (ref[k] < 0) {
					rc = tn_error_set(err, TN_ERR_USAGE,
							  "reference \"%s\": column \"%s\" has no value \"%s\"", refs[j],
							  cols[k], refs[j] + len + 1);
					goto done;
				}
			}
		}
		p += nlv[k] > 0 ? (size_t)nlv[k] - 1 : 0;
	}
	d->p = p;
	/* no x when asked and every covariate is a distinct numeric column: the
	 * caller reads the frame's columns (cols) on the kept rows */
	for (size_t k = 0; no_x && k < ncols; k++) {
		no_x = f->cols[ci[k]].is_numeric;
		for (size_t k2 = 0; no_x && k2 < k; k2++)
			no_x = ci[k2] != ci[k];
	}
	d->names = tn_calloc(p ? p : 1, sizeof *d->names);
	if (no_x) {
		d->cols = tn_malloc((p ? p : 1) * sizeof *d->cols);
		for (size_t k = 0; d->cols && k < ncols; k++)
			d->cols[k] = ci[k];
	} else {
		d->x = tn_calloc((d->n ? d->n : 1) * (p ? p : 1), sizeof *d->x);
	}
	if (!d->names || !(d->x || d->cols)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory for %zu x %zu design", d->n, p);
		goto done;
	}
	size_t j = 0;
	for (size_t k = 0; k < ncols; k++) {
		const tn_column *c = &f->cols[ci[k]];
		if (c->is_numeric) {
			d->names[j] = dupstr(c->name);
			if (!d->names[j]) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto done;
			}
			j++; /* its cells: below, all numeric columns in one pass over the rows */
			continue;
		}
		size_t base = j;
		for (int l = 0; l < nlv[k]; l++) {
			if (l == ref[k])
				continue;
			size_t len = strlen(c->name) + strlen(lv[k][l]) + 2;
			d->names[j] = tn_malloc(len);
			if (!d->names[j]) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto done;
			}
			snprintf(d->names[j], len, "%s=%s", c->name, lv[k][l]);
			j++;
		}
		for (size_t r = 0; r < d->n; r++) {
			int l = level_of(lv[k], nlv[k], c->text[d->rows[r]]);
			if (l != ref[k])
				d->x[r * p + base + (size_t)(l > ref[k] ? l - 1 : l)] = 1;
		}
	}
	if (!rc && d->x) {
		/* numeric columns row by row: each row of x is written once, in
		 * order (a column at a time would sweep all of x p times) */
		size_t nnum = 0;
		for (size_t k = 0; k < ncols; k++)
			nnum += f->cols[ci[k]].is_numeric != 0;
		const double **src = tn_malloc((nnum ? nnum : 1) * sizeof *src);
		size_t *dst = tn_malloc((nnum ? nnum : 1) * sizeof *dst);
		if (!src || !dst) {
			free(src);
			free(dst);
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			goto done;
		}
		size_t m = 0, jj = 0;
		for (size_t k = 0; k < ncols; k++) {
			const tn_column *c = &f->cols[ci[k]];
			if (c->is_numeric) {
				src[m] = c->num;
				dst[m++] = jj++;
			} else {
				jj += nlv[k] > 0 ? (size_t)nlv[k] - 1 : 0;
			}
		}
		for (size_t r = 0; r < d->n; r++) {
			double *xr = d->x + r * p;
			size_t fr = d->rows[r];
			for (size_t q = 0; q < m; q++)
				xr[dst[q]] = src[q][fr];
		}
		free(src);
		free(dst);
	}
done:
	for (size_t k = 0; lv && k < ncols; k++)
		free(lv[k]);
	free(lv);
	free(nlv);
	free(ref);
	free(ci);
	if (rc) {
		tn_design_free(d);
		return rc;
	}
	*out = d;
	return TN_OK;
}

int tn_design_new(const tn_frame *f, const char *const *cols, size_t ncols, const char *const *required,
		  size_t nreq, const char *const *refs, size_t nrefs, tn_design **out, tn_error *err)
{
	return design_build(f, cols, ncols, required, nreq, refs, nrefs, 0, out, err);
}

int tn_design_new_cols(const tn_frame *f, const char *const *cols, size_t ncols, const char *const *required,
		       size_t nreq, const char *const *refs, size_t nrefs, tn_design **out, tn_error *err)
{
	return design_build(f, cols, ncols, required, nreq, refs, nrefs, 1, out, err);
}

int tn_design_numeric(const tn_frame *f, const char *col, const size_t *rows, size_t n, double **out,
		      tn_error *err)
{
	*out = NULL;
	int c = tn_frame_require(f, col, 1, err);
	if (c < 0)
		return tn_error_code(err, TN_ERR_INPUT);
	double *v = tn_malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for %zu values", n);
	for (size_t i = 0; i < n; i++)
		v[i] = f->cols[c].num[rows ? rows[i] : i];
	*out = v;
	return TN_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void tn_design_groups_free(int *idx, char **labels, int nlevels)
{
	free(idx);
	for (int i = 0; labels && i < nlevels; i++)
		free(labels[i]);
	free(labels);
}

int tn_design_groups(const tn_frame *f, const char *col, const size_t *rows, size_t n, int **idx,
		     char ***labels, int *nlevels, tn_error *err)
{
	*idx = NULL;
	*labels = NULL;
	*nlevels = 0;
	int c = tn_frame_require(f, col, 0, err);
	if (c < 0)
		return tn_error_code(err, TN_ERR_INPUT);
	const tn_column *cc = &f->cols[c];
	int *ix = tn_malloc((n ? n : 1) * sizeof *ix);
	char **lab = tn_calloc(TN_DESIGN_MAX_LEVELS, sizeof *lab);
	if (!ix || !lab) {
		free(ix);
		free(lab);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int k = 0, rc = TN_OK;
	if (cc->is_numeric) {
		double *v = tn_malloc((n ? n : 1) * sizeof *v), lv[TN_DESIGN_MAX_LEVELS];
		if (!v) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			v[i] = cc->num[rows ? rows[i] : i];
		qsort(v, n, sizeof *v, cmp_double);
		for (size_t i = 0; i < n; i++) {
			if (k > 0 && lv[k - 1] == v[i])
				continue;
			if (k == TN_DESIGN_MAX_LEVELS) {
				free(v);
				rc = tn_error_set(err, TN_ERR_INPUT, "%s: column \"%s\" has more than %d distinct values",
						  f->path, col, TN_DESIGN_MAX_LEVELS);
				goto fail;
			}
			lv[k++] = v[i];
		}
		free(v);
		for (int l = 0; l < k; l++) {
			char buf[64];
			tn_format_double(lv[l], buf, sizeof buf); /* %g made 1234567 and 1234568 one label */
			if (!(lab[l] = dupstr(buf))) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto fail;
			}
		}
		for (size_t i = 0; i < n; i++) {
			double x = cc->num[rows ? rows[i] : i];
			const double *hit = bsearch(&x, lv, (size_t)k, sizeof *lv, cmp_double);
			ix[i] = hit ? (int)(hit - lv) : 0;
		}
	} else {
		const char **lv;
		if ((rc = text_levels(cc, rows, n, &lv, &k, ix, f->path, err)))
			goto fail;
		for (int l = 0; l < k; l++)
			if (!(lab[l] = dupstr(lv[l]))) {
				free(lv);
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto fail;
			}
		free(lv);
	}
	*idx = ix;
	*labels = lab;
	*nlevels = k;
	return TN_OK;
fail:
	tn_design_groups_free(ix, lab, TN_DESIGN_MAX_LEVELS);
	return rc;
}

char *tn_design_reference(const tn_design *d, const tn_frame *f, size_t j, char *buf, size_t n)
{
	buf[0] = '\0';
	const char *name = j < d->p ? d->names[j] : NULL, *eq = name ? strchr(name, '=') : NULL;
	if (!eq)
		return buf;
	char col[256];
	snprintf(col, sizeof col, "%.*s", (int)(eq - name), name);
	int *idx = NULL, nl = 0;
	char **lab = NULL;
	tn_error err = {0};
	if (tn_design_groups(f, col, d->rows, d->n, &idx, &lab, &nl, &err) != TN_OK)
		return buf;
	for (int l = 0; l < nl && !buf[0]; l++) {
		size_t k;
		for (k = 0; k < d->p; k++)
			if (strncmp(d->names[k], col, (size_t)(eq - name)) == 0 && d->names[k][eq - name] == '=' &&
			    strcmp(d->names[k] + (eq - name) + 1, lab[l]) == 0)
				break;
		if (k == d->p)
			snprintf(buf, n, "%s", lab[l]);
	}
	tn_design_groups_free(idx, lab, nl);
	return buf;
}
