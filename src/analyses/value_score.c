/*
 * value_score.c -- per-customer scores from fitted models: P(alive),
 * expected transactions over a horizon, expected spend per transaction
 * (Gamma-Gamma) and CLV (tn_value_clv).  Identical customers (same x, t_x,
 * T and mean spend) are scored once; the rest run on two threads over two
 * fixed halves, so the numbers do not depend on the thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/hashmap.h"
#include "analyses/value_internal.h"
#include "base/alloc.h"

/* BG/NBD series coefficients per whole x, shared by all customers */
typedef struct coef_cache {
	size_t xmax;
	size_t *off;   /* xmax + 1 offsets into c */
	int *nt;       /* 0: not cached */
	double *c;
} coef_cache;

#define CACHE_MAX_X 100000
#define CACHE_MAX_DOUBLES (4u << 20)

static void cache_free(coef_cache *cc)
{
	free(cc->off);
	free(cc->nt);
	free(cc->c);
	memset(cc, 0, sizeof *cc);
}

/* Coefficients for every x present, enough for the largest z of anybody:
 * H / (alpha + min T + H).  Leaves the cache empty when it does not fit. */
static void cache_build(coef_cache *cc, const tn_value_score_opts *o, const double *x, const double *T, size_t n)
{
	memset(cc, 0, sizeof *cc);
	if (o->model != TN_VALUE_BGNBD || o->horizon > TN_VBG_MAX_H || n == 0)
		return;
	double xmax = 0, tmin = INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (x[i] > xmax)
			xmax = x[i];
		if (T[i] < tmin)
			tmin = T[i];
	}
	double zmax = o->horizon / (o->tp[1] + tmin + o->horizon);
	if (!(xmax <= CACHE_MAX_X) || !(zmax <= 0.9))
		return;
	cc->xmax = (size_t)xmax;
	cc->off = tn_calloc(cc->xmax + 1, sizeof *cc->off);
	cc->nt = tn_calloc(cc->xmax + 1, sizeof *cc->nt);
	char *seen = tn_calloc(cc->xmax + 1, 1);
	double tmp[4096];
	if (!cc->off || !cc->nt || !seen) {
		free(seen);
		cache_free(cc);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (x[i] == floor(x[i]))
			seen[(size_t)x[i]] = 1;
	size_t total = 0;
	for (size_t k = 0; k <= cc->xmax; k++)
		if (seen[k]) {
			int nt = tn_vbg_coef(o->tp, (double)k, zmax, tmp, 4096);
			if (total + (size_t)nt > CACHE_MAX_DOUBLES)
				nt = 0;
			cc->nt[k] = nt;
			cc->off[k] = total;
			total += (size_t)nt;
		}
	cc->c = tn_malloc((total ? total : 1) * sizeof *cc->c);
	if (!cc->c) {
		free(seen);
		cache_free(cc);
		return;
	}
	for (size_t k = 0; k <= cc->xmax; k++)
		if (cc->nt[k])
			tn_vbg_coef(o->tp, (double)k, zmax, cc->c + cc->off[k], cc->nt[k]);
	free(seen);
}

typedef struct score_job {
	const tn_value_score_opts *o;
	const coef_cache *cc;
	const double *x, *t_x, *T, *m;
	const uint32_t *todo; /* rows to score */
	size_t lo, hi;
	tn_value_scores *out;
} score_job;

static void *score_rows(void *arg)
{
	score_job *j = arg;
	const tn_value_score_opts *o = j->o;
	for (size_t k = j->lo; k < j->hi; k++) {
		size_t i = j->todo[k];
		double x = j->x[i], tx = j->t_x[i], T = j->T[i];
		j->out->palive[i] = o->model == TN_VALUE_PNBD ? tn_value_pnbd_palive(o->tp, x, tx, T)
							      : tn_value_bgnbd_palive(o->tp, x, tx, T);
		double spend = o->gp ? tn_value_gg_mean(o->gp, x, j->m ? j->m[i] : 0) : NAN;
		double e, c;
		size_t xi = (size_t)x;
		if (j->cc->nt && x == (double)xi && xi <= j->cc->xmax && j->cc->nt[xi]) {
			double E[TN_VBG_MAX_H + 1];
			tn_vbg_path_coef(o->tp, x, tx, T, o->horizon, j->cc->c + j->cc->off[xi], j->cc->nt[xi], E);
			e = E[o->horizon];
			c = tn_vclv_path(E, o->horizon, o->discount) * o->margin;
		} else {
			c = tn_value_clv(o->model, o->tp, x, tx, T, 1, o->horizon, o->discount, o->margin, &e);
		}
		j->out->expected[i] = e;
		j->out->spend[i] = spend;
		j->out->clv[i] = c * spend;
	}
	return NULL;
}

void tn_value_scores_free(tn_value_scores *s)
{
	if (!s)
		return;
	free(s->palive);
	free(s);
}

int tn_value_score(const tn_value_score_opts *o, const double *x, const double *t_x, const double *T,
		   const double *m, size_t n, tn_value_scores **out, tn_error *err)
{
	*out = NULL;
	if (o->model != TN_VALUE_BGNBD && o->model != TN_VALUE_PNBD)
		return tn_error_set(err, TN_ERR_USAGE, "scores need a BG/NBD or Pareto/NBD model");
	if (o->horizon < 1 || o->horizon > 100000 || !(o->discount >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "expected a horizon of 1..100000 periods and a discount >= 0");
	if (n > UINT32_MAX / 2)
		return tn_error_set(err, TN_ERR_NOMEM, "too many customers (%zu)", n);
	tn_value_scores *s = tn_calloc(1, sizeof *s);
	uint32_t *todo = tn_malloc((n ? n : 1) * sizeof *todo);
	uint32_t *same = tn_malloc((n ? n : 1) * sizeof *same);
	double *buf = tn_malloc(4 * (n ? n : 1) * sizeof *buf);
	/* the first occurrence of each distinct (x, t_x, T, m) */
	const double *cols[4] = {x, t_x, T, m};
	if (!s || !todo || !same || !buf || tn_hash_rows(cols, m ? 4 : 3, n, same) == SIZE_MAX) {
		free(s), free(todo), free(same), free(buf);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory scoring %zu customers", n);
	}
	s->n = n;
	s->palive = buf;
	s->expected = buf + n;
	s->spend = buf + 2 * n;
	s->clv = buf + 3 * n;
	size_t nt = 0;
	for (size_t i = 0; i < n; i++)
		if (same[i] == i)
			todo[nt++] = (uint32_t)i;
	coef_cache cc;
	cache_build(&cc, o, x, T, n);
	score_job jobs[2];
	for (int k = 0; k < 2; k++)
		jobs[k] = (score_job){o, &cc, x, t_x, T, m, todo, nt * (size_t)k / 2, nt * (size_t)(k + 1) / 2, s};
	pthread_t th;
	int started = nt >= 1000 && pthread_create(&th, NULL, score_rows, &jobs[1]) == 0;
	score_rows(&jobs[0]);
	if (started)
		pthread_join(th, NULL);
	else
		score_rows(&jobs[1]);
	for (size_t i = 0; i < n; i++)
		if (same[i] != i) {
			size_t f = same[i];
			s->palive[i] = s->palive[f];
			s->expected[i] = s->expected[f];
			s->spend[i] = s->spend[f];
			s->clv[i] = s->clv[f];
		}
	s->ndistinct = nt;
	cache_free(&cc);
	free(todo);
	free(same);
	*out = s;
	return TN_OK;
}
