/*
 * cox.c -- Cox proportional hazards by Newton-Raphson, as R's coxph.
 *
 * Sources: Cox (1972); Efron (1977) for tied event times; Breslow (1974);
 * the algorithm (centring, sums over the risk set accumulated from the
 * largest time down, step halving, the convergence rule) is that of R
 * survival's coxfit6.c (Therneau; Therneau & Grambsch 2000, sec. 3.3).
 *
 * One radix sort by (stratum, time) up front (or the caller's, shared by fits
 * on the same times: tn_cox_order_new), into a column per covariate;
 * each iteration then costs O(n p) for x'beta, exp and the risk-set sums
 * denom = sum r, a = sum r x (r = exp(eta)) from the largest time down, with
 * the Efron (or Breslow) terms of the log-likelihood, the gradient u and the
 * a a' part of the information added at each distinct event time; and
 * O(n p^2) for the rest of the information, sum over event times of
 * s1 sum_{risk set} r x x' - s2 sum_{events} r x x', regrouped by rows into
 * one weighted sum sum_i w_i x_i x_i' (cox_pass).  The O(n p^2) part runs in
 * vector registers over fixed blocks of rows, on two threads when large: the
 * blocks and the order their sums are added do not depend on the threads, so
 * one or two threads give the same bits.
 */
#include "tenure/cox.h"
#include "base/alloc.h"
#include "tenure/survival.h"
#include "base/linalg.h"
#include "tenure/warn.h"
#include "base/radix.h"
#include "analyses/cox_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TN_COX_MAX_P 1000

#define COX_CHUNK 1024 /* rows per block of the information's sums: fixed by n and p, so the bits never depend on threads */
#define COX_PART_MAX ((size_t)1 << 22) /* doubles of the blocks' sums at most (32 MB): larger blocks when p is large */
#define COX_BLOCK 128  /* rows per inner block (its columns stay in L1) */

typedef struct cox_data {
	size_t n, p;
	double *xc;     /* p columns of n: centred covariates in sorted order (column-major) */
	double *time;   /* sorted */
	double *status; /* sorted */
	int *strata;    /* sorted; NULL when none */
	size_t ng;      /* tie groups: rows with the same (stratum, time) */
	size_t *gstart; /* ng + 1: first row of each group, ascending */
	unsigned char *gfirst, *glast; /* the group is its stratum's first / last */
	size_t chunk;   /* rows per block: COX_CHUNK, more when p is large */
	size_t nch;     /* blocks */
	/* work */
	double *eta, *risk; /* n: x'beta and exp(x'beta) per row */
	double *cg;         /* ng: each group's weight sum_{g' <= g} s1 (its stratum) */
	double *s2g;        /* ng: Efron's s2 of each group (0 when none) */
	double *part;       /* nch x p (p + 1) / 2: each block's share of sum w x x' */
	double *a, *a2;     /* p */
} cox_data;

/* rows [c0, c1) of chunks: eta and risk per row (each row's sum in j order) */
static void eta_rows(cox_data *d, const double *beta, size_t i0, size_t i1)
{
	size_t n = d->n, p = d->p;
	double *eta = d->eta;
	for (size_t i = i0; i < i1; i++)
		eta[i] = 0;
	for (size_t j = 0; j < p; j++) {
		const double *xj = d->xc + j * n;
		double b = beta[j];
		for (size_t i = i0; i < i1; i++)
			eta[i] += xj[i] * b;
	}
	/* exp of the last two distinct values kept: a covariate with few levels
	 * (a 0/1 flag: the feedback hazard's 30 fits) repeats them, and exp of
	 * an equal value is the same bits (+0 and -0 both give 1) */
	double e0 = NAN, r0 = NAN, e1 = NAN, r1 = NAN;
	for (size_t i = i0; i < i1; i++) {
		double v = eta[i];
		if (v == e0)
			d->risk[i] = r0;
		else if (v == e1)
			d->risk[i] = r1;
		else {
			e1 = e0;
			r1 = r0;
			e0 = v;
			r0 = d->risk[i] = exp(v);
		}
	}
}

/* lanes of two doubles: plain SSE2 registers on x86-64, so the sums stay
 * in registers; each dot product keeps four partial sums (rows b = 0, 1, 2, 3
 * mod 4) added in a fixed order, whatever the compiler targets */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
	v2d v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline double lanes(v2d lo, v2d hi)
{
	return (lo[0] + lo[1]) + (hi[0] + hi[1]);
}

/* sum_{rows in [i0, i1)} w x x' (lower triangle, packed by rows j, k <= j)
 * into OUT, w_i = risk_i (cg of its group - status_i s2 of its group); one
 * block of COX_BLOCK rows at a time (its columns stay in L1), two pairs
 * (j, k), (j, k + 1) at a time. */
static void gram_chunk(const cox_data *d, size_t i0, size_t i1, double *out)
{
	size_t n = d->n, p = d->p, np = p * (p + 1) / 2;
	double w[COX_BLOCK], wx[COX_BLOCK];
	memset(out, 0, np * sizeof *out);
	size_t lo = 0, hi = d->ng; /* the group of row i0: the last g with gstart[g] <= i0 */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->gstart[mid] <= i0)
			lo = mid;
		else
			hi = mid;
	}
	size_t g = lo;
	for (size_t b0 = i0; b0 < i1; b0 += COX_BLOCK) {
		size_t L = i1 - b0 < COX_BLOCK ? i1 - b0 : COX_BLOCK;
		for (size_t b = 0; b < L; b++) {
			size_t i = b0 + b;
			while (d->gstart[g + 1] <= i)
				g++;
			w[b] = d->risk[i] * (d->cg[g] - (d->status[i] == 1 ? d->s2g[g] : 0));
		}
		size_t L4 = L & ~(size_t)3;
		for (size_t j = 0; j < p; j++) {
			const double *xj = d->xc + j * n + b0;
			double *oj = out + j * (j + 1) / 2;
			for (size_t b = 0; b < L; b++)
				wx[b] = w[b] * xj[b];
			size_t k = 0;
			for (; k + 1 <= j; k += 2) {
				const double *xk = d->xc + k * n + b0, *xl = xk + n;
				v2d a0 = {0, 0}, a1 = {0, 0}, c0 = {0, 0}, c1 = {0, 0};
				for (size_t b = 0; b < L4; b += 4) {
					v2d w01 = ld2(wx + b), w23 = ld2(wx + b + 2);
					a0 += w01 * ld2(xk + b);
					a1 += w23 * ld2(xk + b + 2);
					c0 += w01 * ld2(xl + b);
					c1 += w23 * ld2(xl + b + 2);
				}
				double s = lanes(a0, a1), t = lanes(c0, c1);
				for (size_t b = L4; b < L; b++) {
					s += wx[b] * xk[b];
					t += wx[b] * xl[b];
				}
				oj[k] += s;
				oj[k + 1] += t;
			}
			if (k == j) {
				const double *xk = d->xc + k * n + b0;
				v2d a0 = {0, 0}, a1 = {0, 0};
				for (size_t b = 0; b < L4; b += 4) {
					a0 += ld2(wx + b) * ld2(xk + b);
					a1 += ld2(wx + b + 2) * ld2(xk + b + 2);
				}
				double s = lanes(a0, a1);
				for (size_t b = L4; b < L; b++)
					s += wx[b] * xk[b];
				oj[k] += s;
			}
		}
	}
}

typedef struct cox_job {
	cox_data *d;
	const double *beta;
	int what;       /* 0: eta and risk; 1: the information's blocks */
	size_t c0, c1;  /* chunks */
} cox_job;

static void *cox_job_run(void *arg)
{
	cox_job *jb = arg;
	cox_data *d = jb->d;
	size_t np = d->p * (d->p + 1) / 2;
	for (size_t c = jb->c0; c < jb->c1; c++) {
		size_t i0 = c * d->chunk, i1 = i0 + d->chunk < d->n ? i0 + d->chunk : d->n;
		if (jb->what == 0)
			eta_rows(d, jb->beta, i0, i1);
		else
			gram_chunk(d, i0, i1, d->part + c * np);
	}
	return NULL;
}

/* 0: decide (two threads when the pass is big enough and there are two cores) */
static int cox_threads_forced;

void tn_cox_set_threads(int n) { cox_threads_forced = n; }

/* the chunks split over one or two threads: each chunk's result is the
 * same whichever thread computes it */
/* two threads for a pass or the copy: forced, or big enough with two cores */
static int cox_two(size_t n, size_t p)
{
	return cox_threads_forced == 2 ||
	       (cox_threads_forced == 0 && (double)n * (double)(p + 1) * (double)(p + 2) / 2 >= 4e6 &&
		sysconf(_SC_NPROCESSORS_ONLN) >= 2);
}

static void cox_run(cox_data *d, const double *beta, int what, int two)
{
	cox_job jb[2] = {{d, beta, what, 0, d->nch}, {d, beta, what, d->nch, d->nch}};
	pthread_t th;
	int started = 0;
	if (two && d->nch >= 2) {
		jb[0].c1 = jb[1].c0 = d->nch / 2;
		started = pthread_create(&th, NULL, cox_job_run, &jb[1]) == 0;
	}
	cox_job_run(&jb[0]);
	if (started)
		pthread_join(th, NULL);
	else if (jb[1].c0 < jb[1].c1)
		cox_job_run(&jb[1]);
}

/* Log partial likelihood at BETA; fills U (gradient, p) and IMAT (information,
 * p x p).  The risk-set sums of the classic pass (coxfit6) are rearranged:
 * denom and a = sum r x run over the groups from the largest time down (O(n p)),
 * while the information's sum over event times of s1 cmat - s2 cmat2 is one
 * weighted sum over the rows, sum w x x' with w = r (sum of s1 over the
 * event times at or before the row's - s2 of its own group when it is an
 * event), computed in fixed blocks of rows on one or two threads. */
static double cox_pass(cox_data *d, const double *beta, double *u, double *imat, int efron)
{
	size_t n = d->n, p = d->p, np = p * (p + 1) / 2;
	int two = cox_two(n, p);
	cox_run(d, beta, 0, two);
	double *a = d->a, *a2 = d->a2;
	double loglik = 0, denom = 0;
	memset(u, 0, p * sizeof *u);
	memset(imat, 0, p * p * sizeof *imat);
	for (size_t g = d->ng; g-- > 0;) {
		if (d->glast[g]) {
			denom = 0;
			memset(a, 0, p * sizeof *a);
		}
		size_t first = d->gstart[g], end = d->gstart[g + 1];
		double nd = 0, denom2 = 0;
		int any = 0;
		for (size_t r = first; r < end; r++)
			any |= d->status[r] == 1;
		for (size_t r = first; r < end; r++)
			denom += d->risk[r];
		for (size_t j = 0; j < p; j++) {
			const double *xj = d->xc + j * n;
			double s = a[j];
			for (size_t r = first; r < end; r++)
				s += d->risk[r] * xj[r];
			a[j] = s;
		}
		d->s2g[g] = 0;
		d->cg[g] = 0;
		if (!any)
			continue;
		for (size_t r = first; r < end; r++)
			if (d->status[r] == 1) {
				nd++;
				denom2 += d->risk[r];
				loglik += d->eta[r];
			}
		for (size_t j = 0; j < p; j++) {
			const double *xj = d->xc + j * n;
			double s = 0, t = 0;
			for (size_t r = first; r < end; r++)
				if (d->status[r] == 1) {
					s += d->risk[r] * xj[r];
					t += xj[r];
				}
			a2[j] = s;
			u[j] += t;
		}
		double s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
		if (!efron || nd == 1) {
			/* Breslow: nd * log(denom) */
			loglik -= nd * log(denom);
			s1 = nd / denom;
			s3 = nd / denom / denom;
		} else {
			/* Efron: the k-th of nd tied deaths sees the tied set's
			 * risk reduced by k/nd (Efron 1977, eq. 3.1).  Summed over
			 * k with s1 = sum 1/d2, s2 = sum t/d2, s3 = sum 1/d2^2,
			 * s4 = sum t/d2^2, s5 = sum t^2/d2^2 (d2 = denom - t denom2,
			 * t = k/nd), so a tie group costs O(nd + p^2). */
			for (double kk = 0; kk < nd; kk++) {
				double t = kk / nd, d2 = denom - t * denom2, inv = 1 / d2;
				loglik -= log(d2);
				s1 += inv;
				s2 += t * inv;
				s3 += inv * inv;
				s4 += t * inv * inv;
				s5 += t * t * inv * inv;
			}
		}
		d->cg[g] = s1;
		d->s2g[g] = s2;
		for (size_t j = 0; j < p; j++) {
			double aj = a[j], a2j = a2[j];
			u[j] -= aj * s1 - a2j * s2;
			for (size_t k = 0; k <= j; k++) {
				double ak = a[k], a2k = a2[k];
				imat[j * p + k] -= aj * ak * s3 - (aj * a2k + a2j * ak) * s4 + a2j * a2k * s5;
			}
		}
	}
	/* each group's weight: s1 summed over the groups at or before it */
	double c = 0;
	for (size_t g = 0; g < d->ng; g++) {
		if (d->gfirst[g])
			c = 0;
		c += d->cg[g];
		d->cg[g] = c;
	}
	cox_run(d, beta, 1, two);
	for (size_t ch = 0; ch < d->nch; ch++) {
		const double *pt = d->part + ch * np;
		size_t q = 0;
		for (size_t j = 0; j < p; j++)
			for (size_t k = 0; k <= j; k++, q++)
				imat[j * p + k] += pt[q];
	}
	for (size_t j = 0; j < p; j++)
		for (size_t k = 0; k < j; k++)
			imat[k * p + j] = imat[j * p + k];
	return loglik;
}

void tn_cox_free(tn_cox *fit)
{
	if (!fit)
		return;
	free(fit->coef);
	free(fit->infinite);
	free(fit);
}

/* The covariates as the caller holds them: row-major X (n x p), or p
 * columns COLS[j] read at ROWS[i] (ROWS NULL: at i), each freed once gathered
 * when TAKE (so the frame's columns and the sorted copy are not all held at
 * once).  The sorted copy is the same bits either way. */
typedef struct cox_src {
	const double *x;
	double **cols;
	const size_t *rows;
	int take;
} cox_src;

typedef struct gather_job {
	cox_data *d;
	const double *time, *event;
	const cox_src *src;
	const int *strata;
	const uint32_t *perm;
	const double *means;
	size_t i0, i1; /* rows (row-major source) or columns (columns) */
} gather_job;

/* rows [i0, i1) of the sorted order; the source rows come in time order,
 * scattered, so fetch a few rows ahead */
static void *gather_rows(void *arg)
{
	gather_job *g = arg;
	cox_data *d = g->d;
	size_t n = d->n, p = d->p;
	const double *x = g->src->x;
	for (size_t i = g->i0; i < g->i1; i++) {
		if (i + 8 < g->i1)
			__builtin_prefetch(x + (size_t)g->perm[i + 8] * p);
		uint32_t r = g->perm[i];
		d->time[i] = g->time[r];
		d->status[i] = g->event[r];
		if (g->strata)
			d->strata[i] = g->strata[r];
		const double *xr = x + (size_t)r * p;
		for (size_t j = 0; j < p; j++)
			d->xc[j * n + i] = xr[j] - g->means[j];
	}
	return NULL;
}

/* columns [i0, i1) of the sorted copy from a column source: a scatter, the
 * source read in its own order and each value written at its sorted place
 * (PERM here is the rank: row k of the source's kept rows goes to
 * PERM[k]).  The sort is stable, so the writes of one time group go forward
 * in one stream: with a few thousand distinct times the streams stay in the
 * cache, where a gather would fetch a random line of the source per value
 * (10 per row where the row-major design needed 2).  Each source column is
 * freed once copied when the source is taken. */
static void *gather_cols(void *arg)
{
	gather_job *g = arg;
	cox_data *d = g->d;
	size_t n = d->n;
	const uint32_t *rank = g->perm;
	const size_t *rows = g->src->rows;
	for (size_t j = g->i0; j < g->i1; j++) {
		const double *c = g->src->cols[j];
		double m = g->means[j], *out = d->xc + j * n;
		if (rows)
			for (size_t k = 0; k < n; k++)
				out[rank[k]] = c[rows[k]] - m;
		else
			for (size_t k = 0; k < n; k++)
				out[rank[k]] = c[k] - m;
		if (g->src->take) {
			free(g->src->cols[j]);
			g->src->cols[j] = NULL;
		}
	}
	return NULL;
}

static void data_free(cox_data *d)
{
	free(d->xc);
	free(d->time);
	free(d->status);
	free(d->strata);
	free(d->gstart);
	free(d->gfirst);
	free(d->glast);
	free(d->eta);
	free(d->risk);
	free(d->cg);
	free(d->s2g);
	free(d->part);
	free(d->a);
	free(d->a2);
}

struct tn_cox_order {
	size_t n;
	uint32_t *perm;
};

/* PERM: the stable order of the rows by (stratum, time); KEYS: n-long scratch */
static int sort_rows(const double *time, const int *strata, size_t n, uint64_t *keys, uint32_t *perm)
{
	for (size_t i = 0; i < n; i++)
		keys[i] = tn_radix_dkey(time[i]);
	if (tn_radix_order_u64(keys, n, perm, 0))
		return -1;
	if (strata) {
		for (size_t i = 0; i < n; i++)
			keys[i] = (uint64_t)(uint32_t)strata[i];
		if (tn_radix_order_u64(keys, n, perm, 1))
			return -1;
	}
	return 0;
}

/* Whether PERM is exactly sort_rows' order of these rows: (stratum, time's
 * key, row) strictly ascending -- which also makes it a permutation (n
 * distinct rows below n) -- so a shared order gives the same bits as a sort */
static int order_fits(const uint32_t *perm, const double *time, const int *strata, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t b = perm[i];
		if (b >= n)
			return 0;
		if (i == 0)
			continue;
		uint32_t a = perm[i - 1];
		int sa = strata ? strata[a] : 0, sb = strata ? strata[b] : 0;
		if (sa != sb) {
			if (sa > sb)
				return 0;
			continue;
		}
		uint64_t ka = tn_radix_dkey(time[a]), kb = tn_radix_dkey(time[b]);
		if (ka > kb || (ka == kb && a >= b))
			return 0;
	}
	return 1;
}

int tn_cox_order_new(const double *time, const int *strata, size_t n, tn_cox_order **out, tn_error *err)
{
	*out = NULL;
	if (n < 1 || n >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "Cox: expected 1 to 2^32 rows, found %zu", n);
	for (size_t i = 0; i < n; i++) {
		if (isnan(time[i]))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: the time is not a number", i + 1);
		if (strata && strata[i] < 0)
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: negative stratum %d", i + 1, strata[i]);
	}
	tn_cox_order *o = tn_calloc(1, sizeof *o);
	uint64_t *keys = tn_malloc(n * sizeof *keys);
	if (o)
		o->perm = tn_malloc(n * sizeof *o->perm);
	if (!o || !keys || !o->perm || sort_rows(time, strata, n, keys, o->perm)) {
		free(keys);
		tn_cox_order_free(o);
		return tn_error_set(err, TN_ERR_NOMEM, "Cox: out of memory ordering %zu rows", n);
	}
	free(keys);
	o->n = n;
	*out = o;
	return TN_OK;
}

void tn_cox_order_free(tn_cox_order *o)
{
	if (o)
		free(o->perm);
	free(o);
}

static int data_build(cox_data *d, const double *time, const double *event, const cox_src *src, size_t n,
		      size_t p, const int *strata, const tn_cox_order *ord, double *means, tn_error *err)
{
	memset(d, 0, sizeof *d);
	d->n = n;
	d->p = p;
	size_t np = p * (p + 1) / 2, maxch = COX_PART_MAX / np > 2 ? COX_PART_MAX / np : 2;
	d->chunk = COX_CHUNK;
	if ((n + d->chunk - 1) / d->chunk > maxch)
		d->chunk = (n + maxch - 1) / maxch;
	d->nch = (n + d->chunk - 1) / d->chunk;
	uint64_t *keys = tn_malloc(n * sizeof *keys);
	uint32_t *perm = tn_malloc(n * sizeof *perm);
	d->xc = tn_malloc(n * p * sizeof *d->xc);
	d->time = tn_malloc(n * sizeof *d->time);
	d->status = tn_malloc(n * sizeof *d->status);
	d->strata = strata ? tn_malloc(n * sizeof *d->strata) : NULL;
	d->eta = tn_malloc(n * sizeof *d->eta);
	d->risk = tn_malloc(n * sizeof *d->risk);
	d->part = tn_malloc(d->nch * (p * (p + 1) / 2) * sizeof *d->part);
	d->a = tn_malloc(p * sizeof *d->a);
	d->a2 = tn_malloc(p * sizeof *d->a2);
	if (!keys || !perm || !d->xc || !d->time || !d->status || (strata && !d->strata) || !d->eta || !d->risk ||
	    !d->part || !d->a || !d->a2)
		goto nomem;
	if (ord) { /* a shared sort: checked to be this one's, else refused */
		if (ord->n != n || !order_fits(ord->perm, time, strata, n)) {
			free(keys);
			free(perm);
			data_free(d);
			return tn_error_set(err, TN_ERR_USAGE,
					    "Cox: the shared order does not sort these %zu rows' times and strata "
					    "(it was made for %zu other rows)",
					    n, ord->n);
		}
		memcpy(perm, ord->perm, n * sizeof *perm);
	} else if (sort_rows(time, strata, n, keys, perm))
		goto nomem;
	for (size_t j = 0; j < p; j++)
		means[j] = 0;
	if (src->x) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < p; j++)
				means[j] += src->x[i * p + j];
	} else { /* each mean summed in the same row order: the same bits */
		for (size_t j = 0; j < p; j++) {
			const double *c = src->cols[j];
			double m = 0;
			if (src->rows)
				for (size_t i = 0; i < n; i++)
					m += c[src->rows[i]];
			else
				for (size_t i = 0; i < n; i++)
					m += c[i];
			means[j] = m;
		}
	}
	for (size_t j = 0; j < p; j++)
		means[j] /= (double)n;
	/* the sorted, centred copy, a column per covariate: a plain copy, so
	 * two threads (halves of the rows, or of the columns) give the same
	 * result as one */
	gather_job gj[2] = {{d, time, event, src, strata, perm, means, 0, n},
			    {d, time, event, src, strata, perm, means, n, n}};
	void *(*run)(void *) = gather_rows;
	if (!src->x) {
		uint32_t *rank = (uint32_t *)keys; /* the keys' memory, no longer needed: no fresh pages */
		for (size_t i = 0; i < n; i++) {
			uint32_t r = perm[i];
			d->time[i] = time[r];
			d->status[i] = event[r];
			if (strata)
				d->strata[i] = strata[r];
			rank[r] = (uint32_t)i;
		}
		gj[0].perm = gj[1].perm = rank;
		run = gather_cols;
		gj[0].i1 = gj[1].i0 = gj[1].i1 = p;
	}
	pthread_t th;
	int started = 0;
	if (cox_two(n, p) && gj[0].i1 >= 2) {
		gj[0].i1 = gj[1].i0 = gj[0].i1 / 2;
		started = pthread_create(&th, NULL, run, &gj[1]) == 0;
	}
	run(&gj[0]);
	if (started)
		pthread_join(th, NULL);
	else if (gj[1].i0 < gj[1].i1)
		run(&gj[1]);
	free(keys);
	keys = NULL;
	size_t ng = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || d->time[i] != d->time[i - 1] || (strata && d->strata[i] != d->strata[i - 1]))
			ng++;
	free(perm);
	perm = NULL;
	d->ng = ng;
	d->gstart = tn_malloc((ng + 1) * sizeof *d->gstart);
	d->gfirst = tn_malloc(ng);
	d->glast = tn_malloc(ng);
	d->cg = tn_malloc(ng * sizeof *d->cg);
	d->s2g = tn_malloc(ng * sizeof *d->s2g);
	if (!d->gstart || !d->gfirst || !d->glast || !d->cg || !d->s2g)
		goto nomem;
	for (size_t i = 0, g = 0; i < n; i++)
		if (i == 0 || d->time[i] != d->time[i - 1] || (strata && d->strata[i] != d->strata[i - 1]))
			d->gstart[g++] = i;
	d->gstart[ng] = n;
	for (size_t g = 0; g < ng; g++) {
		int s = strata ? d->strata[d->gstart[g]] : 0;
		d->gfirst[g] = g == 0 || (strata && d->strata[d->gstart[g - 1]] != s);
		d->glast[g] = g + 1 == ng || (strata && d->strata[d->gstart[g + 1]] != s);
	}
	return TN_OK;
nomem:
	free(keys);
	free(perm);
	data_free(d);
	return tn_error_set(err, TN_ERR_NOMEM, "Cox: out of memory for %zu rows x %zu covariates", n, p);
}

static int check_input(const double *time, const double *event, const cox_src *src, size_t n, size_t p,
		       const int *strata, double *events, tn_error *err)
{
	if (p == 0 || p > TN_COX_MAX_P)
		return tn_error_set(err, TN_ERR_USAGE, "Cox: expected 1 to %d covariates, found %zu", TN_COX_MAX_P, p);
	if (n < 2 || n >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "Cox: expected 2 to 2^32 rows, found %zu", n);
	double ev = 0;
	int cells = 1; /* check the covariates row by row (the first bad row is named) */
	if (!src->x) { /* columns: a column at a time first; row by row only when one has a bad value */
		int bad = 0;
		for (size_t j = 0; j < p && !bad; j++) {
			const double *c = src->cols[j];
			for (size_t i = 0; i < n && !bad; i++)
				bad = !isfinite(c[src->rows ? src->rows[i] : i]);
		}
		cells = bad;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(time[i] >= 0) || !isfinite(time[i]) || (event[i] != 0 && event[i] != 1))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected time >= 0 and event 0/1, found %g, %g",
					    i + 1, time[i], event[i]);
		if (strata && strata[i] < 0)
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: negative stratum %d", i + 1, strata[i]);
		size_t r = src->rows ? src->rows[i] : i;
		for (size_t j = 0; j < p && cells; j++)
			if (!isfinite(src->x ? src->x[i * p + j] : src->cols[j][r]))
				return tn_error_set(err, TN_ERR_INPUT, "row %zu: covariate %zu is not a finite number",
						    i + 1, j + 1);
		ev += event[i];
	}
	if (ev == 0)
		return tn_error_set(err, TN_ERR_NUMERIC, "Cox: no events, nothing to fit");
	*events = ev;
	return TN_OK;
}

static tn_cox *fit_alloc(size_t p)
{
	tn_cox *f = tn_calloc(1, sizeof *f);
	double *b = tn_calloc(9 * p + p * p, sizeof(double));
	int *inf = tn_calloc(p, sizeof *inf);
	if (!f || !b || !inf) {
		free(f);
		free(b);
		free(inf);
		return NULL;
	}
	f->infinite = inf;
	f->coef = b;
	f->se = b + p;
	f->z = b + 2 * p;
	f->pvalue = b + 3 * p;
	f->lower = b + 4 * p;
	f->upper = b + 5 * p;
	f->means = b + 6 * p;
	/* b + 7p: spare (newbeta); b + 8p: the score at the estimate */
	f->var = b + 9 * p;
	return f;
}

/* R survival's coxph.fit (3.5): infs <- abs(coxfit$u %*% var); converged:
 * infs <- !is.finite(u) | (infs > eps & infs > toler.inf * abs(coef)) with
 * toler.inf = sqrt(eps), "Loglik converged before variable ...; coefficient
 * may be infinite"; not converged: "one or more coefficients may be
 * infinite" when max(lp) > 500 or any infs is not finite. */
static void flag_infinite(tn_cox *f, const double *score, double eps, const cox_data *d)
{
	size_t p = f->p;
	int any = 0;
	for (size_t j = 0; j < p; j++) {
		double s = 0;
		for (size_t k = 0; k < p; k++)
			s += score[k] * f->var[k * p + j];
		double inf = fabs(s);
		if (f->converged)
			f->infinite[j] = !isfinite(score[j]) || (inf > eps && inf > sqrt(eps) * fabs(f->coef[j]));
		else
			any |= !isfinite(inf);
	}
	if (!f->converged) {
		for (size_t i = 0; i < d->n && !any; i++) /* the last pass's x'beta, beta = coef */
			any = d->eta[i] > 500;
		for (size_t j = 0; j < p; j++)
			f->infinite[j] = any;
	}
	f->ninfinite = 0;
	for (size_t j = 0; j < p; j++)
		f->ninfinite += f->infinite[j] != 0;
}

int tn_cox_warnings(const tn_cox *fit, const char *const *names, tn_warnings *w)
{
	int rc = TN_OK;
	if (!fit->converged)
		rc |= tn_warn(w, 1,
			      "the Cox fit did not converge in %d iterations: its coefficients are not a maximum "
			      "of the likelihood and must not be used",
			      fit->iterations);
	for (size_t j = 0; j < fit->p; j++) {
		if (!fit->infinite[j])
			continue;
		char num[32];
		snprintf(num, sizeof num, "%zu", j + 1);
		rc |= tn_warn(w, 0,
			      "the likelihood converged before \"%s\": its coefficient may be infinite (%.4g); "
			      "its hazard ratio, standard error and p-value mean nothing (R: \"coefficient may be "
			      "infinite\")",
			      names ? names[j] : num, fit->coef[j]);
	}
	return rc ? TN_ERR_NOMEM : TN_OK;
}

static int cox_fit(const double *time, const double *event, const cox_src *src, size_t n, size_t p,
		   const int *strata, const tn_cox_opts *opts, tn_cox **out, tn_error *err)
{
	*out = NULL;
	double events = 0;
	if (check_input(time, event, src, n, p, strata, &events, err))
		return tn_error_code(err, TN_ERR_INPUT);
	int efron = !opts || opts->ties != TN_COX_BRESLOW;
	int max_iter = opts && opts->max_iter > 0 ? opts->max_iter : 20;
	double eps = opts && opts->eps > 0 ? opts->eps : 1e-9;
	double conf = opts && opts->conf > 0 && opts->conf < 1 ? opts->conf : 0.95;
	const char *const *names = opts ? opts->names : NULL;
	tn_cox *f = fit_alloc(p);
	double *u = tn_malloc(p * sizeof *u), *imat = tn_malloc(p * p * sizeof *imat);
	cox_data d;
	if (!f || !u || !imat) {
		tn_cox_free(f);
		free(u);
		free(imat);
		return tn_error_set(err, TN_ERR_NOMEM, "Cox: out of memory");
	}
	int rc = data_build(&d, time, event, src, n, p, strata, opts ? opts->order : NULL, f->means, err);
	if (rc) {
		tn_cox_free(f);
		free(u);
		free(imat);
		return rc;
	}
	f->n = n;
	f->p = p;
	f->events = events;
	double *beta = f->coef, *newbeta = f->coef + 7 * p;
	size_t bad = 0;
	/* coxfit6: loglik at beta = 0, then Newton-Raphson with step halving */
	double loglik = cox_pass(&d, beta, u, imat, efron);
	f->loglik_null = loglik;
	if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
		if (names)
			rc = tn_error_set(err, TN_ERR_NUMERIC,
					  "Cox: covariate \"%s\" is constant or a combination of the ones before it; "
					  "drop it", names[bad]);
		else
			rc = tn_error_set(err, TN_ERR_NUMERIC,
					  "Cox: covariate %zu is constant or collinear with the others", bad + 1);
		goto done;
	}
	tn_la_cholesky_solve(imat, p, u);
	for (size_t j = 0; j < p; j++)
		newbeta[j] = beta[j] + u[j];
	int halving = 0, iter;
	f->converged = 0;
	for (iter = 1; iter <= max_iter; iter++) {
		double newlk = cox_pass(&d, newbeta, u, imat, efron);
		if (!isfinite(newlk)) {
			/* overflow: treat as a failed step */
			newlk = -INFINITY;
		}
		if (fabs(1 - loglik / newlk) <= eps && halving == 0) {
			loglik = newlk;
			memcpy(beta, newbeta, p * sizeof *beta);
			f->converged = 1;
			break;
		}
		if (iter == max_iter) {
			if (newlk >= loglik) {
				loglik = newlk;
				memcpy(beta, newbeta, p * sizeof *beta);
			}
			break;
		}
		if (newlk < loglik) {
			halving++;
			for (size_t j = 0; j < p; j++)
				newbeta[j] = (newbeta[j] + beta[j]) / 2;
		} else {
			halving = 0;
			loglik = newlk;
			memcpy(beta, newbeta, p * sizeof *beta);
			if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
				rc = tn_error_set(err, TN_ERR_NUMERIC,
						  "Cox: information matrix singular at covariate %zu (collinear?)", bad + 1);
				goto done;
			}
			tn_la_cholesky_solve(imat, p, u);
			for (size_t j = 0; j < p; j++)
				newbeta[j] = beta[j] + u[j];
		}
	}
	f->iterations = iter > max_iter ? max_iter : iter;
	f->loglik = cox_pass(&d, beta, u, imat, efron);
	double *score = f->coef + 8 * p;
	memcpy(score, u, p * sizeof *u);
	if (tn_la_cholesky(imat, p, 1e-10, &bad)) {
		rc = tn_error_set(err, TN_ERR_NUMERIC, "Cox: information matrix singular at covariate %zu", bad + 1);
		goto done;
	}
	for (size_t j = 0; j < p; j++) { /* var = imat^-1, column by column */
		double *col = u;
		memset(col, 0, p * sizeof *col);
		col[j] = 1;
		tn_la_cholesky_solve(imat, p, col);
		for (size_t k = 0; k < p; k++)
			f->var[k * p + j] = col[k];
	}
	double zq = 1.959963984540054;
	if (conf != 0.95) {
		/* bisection on the normal tail for other levels */
		double lo = 0, hi = 40;
		for (int it = 0; it < 200; it++) {
			double mid = (lo + hi) / 2;
			if (tn_normal_two_sided(mid) > 1 - conf)
				lo = mid;
			else
				hi = mid;
		}
		zq = (lo + hi) / 2;
	}
	for (size_t j = 0; j < p; j++) {
		f->se[j] = sqrt(f->var[j * p + j]);
		f->z[j] = f->coef[j] / f->se[j];
		f->pvalue[j] = tn_normal_two_sided(f->z[j]);
		f->lower[j] = exp(f->coef[j] - zq * f->se[j]);
		f->upper[j] = exp(f->coef[j] + zq * f->se[j]);
	}
	flag_infinite(f, score, eps, &d);
	f->lr_chisq = 2 * (f->loglik - f->loglik_null);
	f->lr_p = tn_chisq_upper(f->lr_chisq, (int)p);
	/* concordance on the centred linear predictor, sorted order */
	double counts[4];
	/* d.eta is x'beta at beta from the last pass; the pass's work is no
	 * longer needed (the concordance's arrays are the peak of memory) */
	free(d.risk);
	free(d.part);
	d.risk = NULL;
	d.part = NULL;
	if (opts && opts->no_concordance) {
		f->concordance = NAN;
		memset(counts, 0, sizeof counts);
	} else
		rc = tn_cox_concordance(d.time, d.status, d.eta, d.strata, n, &f->concordance, counts, err);
	f->concordant = counts[0];
	f->discordant = counts[1];
	f->tied_risk = counts[2];
	f->tied_time = counts[3];
done:
	data_free(&d);
	free(u);
	free(imat);
	if (rc) {
		tn_cox_free(f);
		return rc;
	}
	*out = f;
	return TN_OK;
}

int tn_cox_fit(const double *time, const double *event, const double *x, size_t n, size_t p,
	       const int *strata, const tn_cox_opts *opts, tn_cox **out, tn_error *err)
{
	cox_src src = {x, NULL, NULL, 0};
	return cox_fit(time, event, &src, n, p, strata, opts, out, err);
}

int tn_cox_fit_cols(const double *time, const double *event, double **cols, const size_t *rows, size_t n,
		    size_t p, const int *strata, const tn_cox_opts *opts, int take, tn_cox **out, tn_error *err)
{
	cox_src src = {NULL, cols, rows, take};
	int rc;
	if (p > TN_COX_MAX_P || n >= UINT32_MAX)
		rc = tn_error_set(err, p > TN_COX_MAX_P ? TN_ERR_USAGE : TN_ERR_INPUT,
				  "Cox: expected 1 to %d covariates and fewer than 2^32 rows, found %zu x %zu",
				  TN_COX_MAX_P, n, p);
	else
		rc = cox_fit(time, event, &src, n, p, strata, opts, out, err);
	for (size_t j = 0; take && j < p; j++) { /* the ones not gathered (an error before the copy) */
		free(cols[j]);
		cols[j] = NULL;
	}
	return rc;
}
