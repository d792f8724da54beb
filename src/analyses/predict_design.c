/*
 * predict_design.c -- turn a frame into a numeric design matrix for the risk
 * models (see include/tenure/predict.h, part 1, and docs/predict.md).
 *
 * Numeric columns pass through; a blank becomes the training mean, plus a
 * 0/1 "(missing)" indicator when the training data had blanks.  Text columns
 * become treatment-coded indicators (one per level but the most frequent,
 * which is the reference); a blank text cell is the level "(blank)".
 */
#include "tenure/predict.h"
#include "base/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cell_text(const tn_column *c, size_t i)
{
	return c->text[i][0] ? c->text[i] : TN_PRED_BLANK_LEVEL;
}

void tn_pred_encoding_free(tn_pred_encoding *e)
{
	if (!e)
		return;
	for (size_t s = 0; s < e->nsrc; s++) {
		free(e->src[s].name);
		for (size_t l = 0; l < e->src[s].nlevels; l++)
			free(e->src[s].levels[l]);
		free(e->src[s].levels);
	}
	free(e->src);
	if (e->feature)
		for (size_t j = 0; j < e->p; j++)
			free(e->feature[j]);
	free(e->feature);
	free(e->feature_src);
	free(e);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct levels of text column C, most frequent first, then the rest
 * in byte order. */
static int text_levels(const tn_frame *f, const tn_column *c, tn_pred_source *s, tn_error *err)
{
	size_t n = f->nrows;
	const char **v = tn_malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		v[i] = cell_text(c, i);
	qsort(v, n, sizeof *v, cmp_str);
	size_t nd = 0, best = 0, bestcnt = 0;
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && strcmp(v[k], v[i]) == 0)
			k++;
		if (k - i > bestcnt)
			bestcnt = k - i, best = nd;
		v[nd++] = v[i];
		i = k;
	}
	if (nd > TN_PRED_MAX_LEVELS) {
		free(v);
		return tn_error_set(err, TN_ERR_INPUT,
				    "%s: column \"%s\" has %zu distinct text values (more than %d): "
				    "if it is an identifier pass it to --id, else --drop it",
				    f->path, c->name, nd, TN_PRED_MAX_LEVELS);
	}
	s->levels = tn_calloc(nd ? nd : 1, sizeof *s->levels);
	if (!s->levels) {
		free(v);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	s->nlevels = nd;
	size_t o = 0;
	if (nd)
		s->levels[o++] = tn_strdup(v[best]);
	for (size_t l = 0; l < nd; l++)
		if (l != best)
			s->levels[o++] = tn_strdup(v[l]);
	free(v);
	for (size_t l = 0; l < nd; l++)
		if (!s->levels[l])
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	return TN_OK;
}

static int add_feature(tn_pred_encoding *e, size_t s, const char *a, const char *b, tn_error *err)
{
	size_t n = strlen(a) + (b ? strlen(b) : 0) + 2;
	char *name = tn_malloc(n);
	if (!name)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	snprintf(name, n, "%s%s", a, b ? b : "");
	e->feature[e->p] = name;
	e->feature_src[e->p] = s;
	e->p++;
	return TN_OK;
}

static int excluded(const char *name, const char *const *ex, size_t nex)
{
	for (size_t k = 0; k < nex; k++)
		if (strcmp(ex[k], name) == 0)
			return 1;
	return 0;
}

int tn_pred_encoding_fit(const tn_frame *f, const char *const *exclude, size_t nexclude,
			 tn_pred_encoding **out, tn_error *err)
{
	*out = NULL;
	for (size_t k = 0; k < nexclude; k++)
		if (tn_frame_require(f, exclude[k], 0, err) < 0)
			return tn_error_code(err, TN_ERR_USAGE);
	tn_pred_encoding *e = tn_calloc(1, sizeof *e);
	if (!e || !(e->src = tn_calloc(f->ncols ? f->ncols : 1, sizeof *e->src))) {
		free(e);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t maxfeat = 0;
	int rc = TN_OK;
	for (size_t j = 0; j < f->ncols && rc == TN_OK; j++) {
		const tn_column *c = &f->cols[j];
		if (excluded(c->name, exclude, nexclude))
			continue;
		tn_pred_source *s = &e->src[e->nsrc++];
		if (!(s->name = tn_strdup(c->name)))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		s->is_numeric = c->is_numeric;
		if (c->is_numeric) {
			double sum = 0;
			size_t cnt = 0;
			for (size_t i = 0; i < f->nrows; i++)
				if (!isnan(c->num[i]))
					sum += c->num[i], cnt++;
			s->mean = cnt ? sum / (double)cnt : 0.0;
			s->has_missing = cnt < f->nrows;
			s->nfeat = 1 + (size_t)s->has_missing;
		} else if (rc == TN_OK) {
			rc = text_levels(f, c, s, err);
			s->nfeat = s->nlevels ? s->nlevels - 1 : 0;
		}
		maxfeat += s->nfeat;
	}
	if (rc == TN_OK && maxfeat == 0)
		rc = tn_error_set(err, TN_ERR_INPUT, "%s: no usable predictor columns (all dropped or constant)",
				  f->path);
	if (rc == TN_OK && (!(e->feature = tn_calloc(maxfeat, sizeof *e->feature)) ||
			    !(e->feature_src = tn_calloc(maxfeat, sizeof *e->feature_src))))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t s = 0; s < e->nsrc && rc == TN_OK; s++) {
		tn_pred_source *src = &e->src[s];
		src->first = e->p;
		if (src->is_numeric) {
			rc = add_feature(e, s, src->name, NULL, err);
			if (rc == TN_OK && src->has_missing)
				rc = add_feature(e, s, src->name, " (missing)", err);
		} else {
			for (size_t l = 1; l < src->nlevels && rc == TN_OK; l++) {
				char pre[512];
				snprintf(pre, sizeof pre, "%s=", src->name);
				rc = add_feature(e, s, pre, src->levels[l], err);
			}
		}
	}
	if (rc != TN_OK) {
		tn_pred_encoding_free(e);
		return rc;
	}
	*out = e;
	return TN_OK;
}

int tn_pred_encode(const tn_pred_encoding *e, const tn_frame *f, double **xout, tn_error *err)
{
	*xout = NULL;
	size_t n = f->nrows, p = e->p;
	if (n && p > SIZE_MAX / sizeof(double) / n)
		return tn_error_set(err, TN_ERR_NOMEM, "design matrix too large");
	double *x = tn_malloc(n * p > 0 ? n * p * sizeof *x : 1);
	if (!x)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory (design matrix %zu x %zu)", n, p);
	int rc = tn_pred_encode_rows(e, f, NULL, n, x, err);
	if (rc) {
		free(x);
		return rc;
	}
	*xout = x;
	return TN_OK;
}

int tn_pred_encode_rows(const tn_pred_encoding *e, const tn_frame *f, const size_t *rows, size_t n,
			double *x, tn_error *err)
{
	size_t p = e->p;
	int colbuf[256], *col = e->nsrc <= 256 ? colbuf : tn_malloc(e->nsrc * sizeof *col);
	if (!col)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int rc = TN_OK;
	for (size_t s = 0; s < e->nsrc && !rc; s++)
		if ((col[s] = tn_frame_require(f, e->src[s].name, e->src[s].is_numeric, err)) < 0)
			rc = tn_error_code(err, TN_ERR_INPUT);
	if (!rc)
		memset(x, 0, n * p * sizeof *x);
	for (size_t s = 0; s < e->nsrc && !rc; s++) {
		const tn_pred_source *src = &e->src[s];
		const tn_column *c = &f->cols[col[s]];
		for (size_t r = 0; r < n; r++) {
			size_t i = rows ? rows[r] : r;
			double *xr = x + r * p + src->first;
			if (src->is_numeric) {
				double v = c->num[i];
				int miss = isnan(v);
				xr[0] = miss ? src->mean : v;
				if (src->has_missing)
					xr[1] = miss;
				continue;
			}
			char nb[40];
			const char *v;
			if (!c->is_numeric) {
				v = cell_text(c, i);
			} else { /* text in training, numbers here: compare as the frame renders them */
				if (isnan(c->num[i]))
					v = TN_PRED_BLANK_LEVEL;
				else
					snprintf(nb, sizeof nb, "%.17g", c->num[i]), v = nb;
			}
			for (size_t l = 1; l < src->nlevels; l++)
				if (v[0] == src->levels[l][0] && strcmp(v, src->levels[l]) == 0) {
					xr[l - 1] = 1.0;
					break;
				}
		}
	}
	if (col != colbuf)
		free(col);
	return rc;
}

int tn_pred_target(const tn_frame *f, const char *name, const char *positive, double **yout,
		   tn_error *err)
{
	*yout = NULL;
	int j = tn_frame_require(f, name, 0, err);
	if (j < 0)
		return tn_error_code(err, TN_ERR_USAGE);
	const tn_column *c = &f->cols[j];
	double *y = tn_malloc((f->nrows ? f->nrows : 1) * sizeof *y);
	if (!y)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	const char *pos = positive;
	if (!c->is_numeric && !pos) {
		static const char *const guess[] = {"Yes", "yes", "1", "true", "TRUE", "True"};
		for (size_t g = 0; g < sizeof guess / sizeof *guess && !pos; g++)
			for (size_t i = 0; i < f->nrows; i++)
				if (strcmp(c->text[i], guess[g]) == 0) {
					pos = guess[g];
					break;
				}
		if (!pos) {
			free(y);
			return tn_error_set(err, TN_ERR_USAGE,
					    "%s: target column \"%s\" is text: say which value means churn with --positive",
					    f->path, name);
		}
	}
	for (size_t i = 0; i < f->nrows; i++) {
		if (c->is_numeric) {
			double v = c->num[i];
			if (positive) {
				double pv;
				if (tn_parse_double(positive, strlen(positive), &pv)) {
					free(y);
					return tn_error_set(err, TN_ERR_USAGE,
							    "--positive \"%s\": column \"%s\" is numeric, expected a number",
							    positive, name);
				}
				if (isnan(v))
					goto blank;
				y[i] = v == pv;
				continue;
			}
			if (isnan(v))
				goto blank;
			if (v != 0 && v != 1) {
				free(y);
				return tn_error_set(err, TN_ERR_INPUT,
						    "%s: data row %zu: target \"%s\": expected 0 or 1, found %.17g "
						    "(or use --positive VALUE)",
						    f->path, i + 1, name, v);
			}
			y[i] = v;
			continue;
		}
		if (!c->text[i][0])
			goto blank;
		y[i] = strcmp(c->text[i], pos) == 0;
		continue;
	blank:
		free(y);
		return tn_error_set(err, TN_ERR_INPUT, "%s: data row %zu: target \"%s\" is blank", f->path,
				    i + 1, name);
	}
	*yout = y;
	return TN_OK;
}
