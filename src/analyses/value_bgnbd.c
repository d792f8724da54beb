/*
 * value_bgnbd.c -- the BG/NBD model of Fader, Hardie & Lee (2005a),
 * "Counting your customers the easy way: an alternative to the Pareto/NBD
 * model", Marketing Science 24(2), 275-284.
 *
 * While active a customer buys at Poisson rate lambda ~ Gamma(r, alpha);
 * after each purchase she drops out with probability p ~ Beta(a, b).
 * Likelihood (eq. 6), written as in the authors' note 004:
 *   LL = A1 + A2 + log(exp(A3) + [x > 0] exp(A4))
 *   A1 = lnG(r+x) - lnG(r) + r ln alpha
 *   A2 = lnG(a+b) + lnG(b+x) - lnG(b) - lnG(a+b+x)
 *   A3 = -(r+x) ln(alpha+T)
 *   A4 = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x)
 * The terms that depend on x only are computed once per distinct x; the
 * gradient is analytic (digamma for the A1, A2 terms).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "analyses/value_internal.h"
#include "base/alloc.h"

#define XCACHE_MAX 1000000 /* per-x cache when max x is at most this */

typedef struct bg_data {
	tn_vrows rows;
	size_t xmax;
	double *c0, *cr, *ca, *cb; /* per x: A1+A2 without r ln alpha, and its derivatives */
	double *c4, *c4b;          /* per x: ln a - ln(b+x-1), d/db of it */
} bg_data;

static void fill_cache(bg_data *d, double r, double a, double b)
{
	double lr = lgamma(r), lb = lgamma(b), lab = lgamma(a + b);
	double pr = tn_value_digamma(r), pb = tn_value_digamma(b), pab = tn_value_digamma(a + b);
	double la = log(a);
	for (size_t x = 0; x <= d->xmax; x++) {
		double xx = (double)x;
		d->c0[x] = lgamma(r + xx) - lr + lab + lgamma(b + xx) - lb - lgamma(a + b + xx);
		d->cr[x] = tn_value_digamma(r + xx) - pr;
		double pabx = tn_value_digamma(a + b + xx);
		d->ca[x] = pab - pabx;
		d->cb[x] = pab + tn_value_digamma(b + xx) - pb - pabx;
		if (x > 0) {
			d->c4[x] = la - log(b + xx - 1);
			d->c4b[x] = -1 / (b + xx - 1);
		}
	}
}

double tn_value_bgnbd_ll1(const double *p, double x, double t_x, double T)
{
	double r = p[0], alpha = p[1], a = p[2], b = p[3];
	double A1 = lgamma(r + x) - lgamma(r) + r * log(alpha);
	double A2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
	double A3 = -(r + x) * log(alpha + T);
	if (x <= 0)
		return A1 + A2 + A3;
	double A4 = log(a) - log(b + x - 1) - (r + x) * log(alpha + t_x);
	return A1 + A2 + tn_value_logaddexp(A3, A4);
}

/* One block of rows: sums of the log-likelihood and its derivatives in
 * natural parameters, with the per-x caches filled. */
typedef struct bg_block {
	const bg_data *d;
	size_t lo, hi;
	double r, alpha, a;
	double s[5]; /* ll, d/dr, d/dalpha, d/da, d/db */
} bg_block;

static void *bg_rows(void *arg)
{
	bg_block *B = arg;
	const bg_data *d = B->d;
	const tn_vrows *R = &d->rows;
	double r = B->r, alpha = B->alpha, a = B->a, lal = log(alpha);
	double ll = 0, gr = 0, gal = 0, ga = 0, gb = 0;
	for (size_t i = B->lo; i < B->hi; i++) {
		size_t x = (size_t)R->x[i];
		double w = R->w[i], rx = r + R->x[i];
		double iT = 1 / (alpha + R->T[i]), lT = log(alpha + R->T[i]);
		double A3 = -rx * lT;
		double l = d->c0[x] + r * lal, dr = d->cr[x] + lal - lT, dal = r / alpha - rx * iT;
		double da = d->ca[x], db = d->cb[x];
		if (x > 0) {
			double lt = log(alpha + R->t_x[i]);
			double A4 = d->c4[x] - rx * lt;
			/* log(e^A3 + e^A4) and the weight w4 of the A4 term */
			double dd = A4 - A3, e = exp(-fabs(dd)), w4 = dd > 0 ? 1 / (1 + e) : e / (1 + e);
			l += (dd > 0 ? A4 : A3) + log(1 + e); /* e <= 1: log1p is slower, no more exact here */
			dr += w4 * (lT - lt);
			dal += w4 * (rx * iT - rx / (alpha + R->t_x[i]));
			da += w4 / a;
			db += w4 * d->c4b[x];
		} else {
			l += A3;
		}
		ll += w * l;
		gr += w * dr;
		gal += w * dal;
		ga += w * da;
		gb += w * db;
	}
	B->s[0] = ll;
	B->s[1] = gr;
	B->s[2] = gal;
	B->s[3] = ga;
	B->s[4] = gb;
	return NULL;
}

/* Rows are summed in BG_BLOCKS fixed blocks (one per thread when there are
 * many rows), added in order: the result does not depend on the threads. */
#define BG_BLOCKS 2
#define BG_THREAD_MIN 50000

/* Negative log-likelihood over theta = log(r, alpha, a, b), with gradient. */
static double bg_negll(unsigned n, const double *theta, double *grad, void *vd)
{
	(void)n;
	bg_data *d = vd;
	double r = exp(theta[0]), alpha = exp(theta[1]), a = exp(theta[2]), b = exp(theta[3]);
	const tn_vrows *R = &d->rows;
	double ll = 0;
	if (d->c0) {
		fill_cache(d, r, a, b);
		bg_block blk[BG_BLOCKS];
		pthread_t th;
		int started = 0;
		for (int k = 0; k < BG_BLOCKS; k++)
			blk[k] = (bg_block){d, R->n * (size_t)k / BG_BLOCKS, R->n * (size_t)(k + 1) / BG_BLOCKS, r, alpha, a,
					    {0}};
		if (R->n >= BG_THREAD_MIN)
			started = pthread_create(&th, NULL, bg_rows, &blk[1]) == 0;
		bg_rows(&blk[0]);
		if (started)
			pthread_join(th, NULL);
		else
			for (int k = 1; k < BG_BLOCKS; k++)
				bg_rows(&blk[k]);
		double s[5] = {0};
		for (int k = 0; k < BG_BLOCKS; k++)
			for (int j = 0; j < 5; j++)
				s[j] += blk[k].s[j];
		ll = s[0];
		if (grad) {
			grad[0] = -s[1] * r;
			grad[1] = -s[2] * alpha;
			grad[2] = -s[3] * a;
			grad[3] = -s[4] * b;
		}
		return isfinite(ll) ? -ll : HUGE_VAL;
	}
	/* x too large for a table: plain evaluation, numeric gradient */
	double p[4] = {r, alpha, a, b};
	for (size_t i = 0; i < R->n; i++)
		ll += R->w[i] * tn_value_bgnbd_ll1(p, R->x[i], R->t_x[i], R->T[i]);
	if (grad) {
		for (int k = 0; k < 4; k++) {
			double q[4] = {theta[0], theta[1], theta[2], theta[3]}, h = 1e-6;
			q[k] += h;
			double fp = bg_negll(4, q, NULL, vd);
			q[k] -= 2 * h;
			double fm = bg_negll(4, q, NULL, vd);
			grad[k] = (fp - fm) / (2 * h);
		}
	}
	return isfinite(ll) ? -ll : HUGE_VAL;
}

static double bg_ll(const double *p, void *vd)
{
	bg_data *d = vd;
	double ll = 0;
	for (size_t i = 0; i < d->rows.n; i++)
		ll += d->rows.w[i] * tn_value_bgnbd_ll1(p, d->rows.x[i], d->rows.t_x[i], d->rows.T[i]);
	return ll;
}

int tn_value_bgnbd_fit(const double *x, const double *t_x, const double *T, size_t n, tn_value_fit *fit,
		       tn_error *err)
{
	bg_data d = {0};
	if (tn_vrows_make(x, t_x, T, n, &d.rows, err))
		return tn_error_code(err, TN_ERR_INPUT);
	double xmax = 0, rep = 0, Tsum = 0;
	for (size_t i = 0; i < d.rows.n; i++) {
		if (d.rows.x[i] > xmax)
			xmax = d.rows.x[i];
		if (d.rows.x[i] > 0)
			rep += d.rows.w[i];
		Tsum += d.rows.w[i] * d.rows.T[i];
	}
	if (rep == 0) {
		tn_vrows_free(&d.rows);
		return tn_error_set(err, TN_ERR_NUMERIC,
				    "BG/NBD cannot be identified: no customer made a repeat purchase (every x is 0)");
	}
	if (xmax <= XCACHE_MAX) {
		d.xmax = (size_t)xmax;
		d.c0 = tn_malloc(6 * (d.xmax + 1) * sizeof *d.c0);
		if (!d.c0) {
			tn_vrows_free(&d.rows);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		d.cr = d.c0 + (d.xmax + 1);
		d.ca = d.cr + (d.xmax + 1);
		d.cb = d.ca + (d.xmax + 1);
		d.c4 = d.cb + (d.xmax + 1);
		d.c4b = d.c4 + (d.xmax + 1);
		d.c4[0] = d.c4b[0] = 0;
	}
	/* start: r = a = b = 1, alpha at the mean observation length */
	double theta[4] = {0, log(Tsum / d.rows.total), 0, 0};
	int evals = 0, conv = 0;
	int rc = tn_vo_minimize(bg_negll, &d, 4, theta, 1, &evals, &conv);
	*fit = (tn_value_fit){.model = TN_VALUE_BGNBD, .nparams = 4, .names = {"r", "alpha", "a", "b"}};
	for (int k = 0; k < 4; k++)
		fit->params[k] = exp(theta[k]);
	fit->n = n;
	fit->ndistinct = d.rows.n;
	fit->evaluations = evals;
	fit->converged = conv;
	if (rc == 0) {
		fit->loglik = -bg_negll(4, theta, NULL, &d);
		if (d.c0)
			tn_vo_se_grad(bg_negll, &d, 4, theta, fit->se);
		else
			tn_vo_se(bg_ll, &d, 4, fit->params, fit->se);
	}
	free(d.c0);
	tn_vrows_free(&d.rows);
	if (rc)
		return tn_error_set(err, TN_ERR_NUMERIC, "BG/NBD: the likelihood is not finite at the start");
	return TN_OK;
}

double tn_value_bgnbd_palive(const double *p, double x, double t_x, double T)
{
	double r = p[0], alpha = p[1], a = p[2], b = p[3];
	if (x <= 0)
		return 1;
	/* eq. 13: 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) */
	double lo = log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + t_x));
	return 1 / (1 + exp(lo));
}

/* Eq. 9 and 10 divide by a - 1 a difference that vanishes at a = 1: there
 * the functions (smooth in a) are the mean of a = 1 +- A1_STEP. */
#define A1_STEP 1e-5
#define NEAR_A1(p) (fabs((p)[2] - 1) < 0.5 * A1_STEP)

double tn_value_bgnbd_expected(const double *p, double x, double t_x, double T, double t)
{
	if (NEAR_A1(p)) {
		double lo[4] = {p[0], p[1], 1 - A1_STEP, p[3]}, hi[4] = {p[0], p[1], 1 + A1_STEP, p[3]};
		return 0.5 * (tn_value_bgnbd_expected(lo, x, t_x, T, t) + tn_value_bgnbd_expected(hi, x, t_x, T, t));
	}
	double r = p[0], alpha = p[1], a = p[2], b = p[3];
	/* eq. 10 */
	double z = t / (alpha + T + t);
	double f = tn_value_hyp2f1(r + x, b + x, a + b + x - 1, z);
	double pw = exp((r + x) * log((alpha + T) / (alpha + T + t)));
	double num = (a + b + x - 1) / (a - 1) * (1 - pw * f);
	double den = 1;
	if (x > 0)
		den += a / (b + x - 1) * exp((r + x) * (log(alpha + T) - log(alpha + t_x)));
	return num / den;
}

double tn_value_bgnbd_unconditional(const double *p, double t)
{
	if (NEAR_A1(p)) {
		double lo[4] = {p[0], p[1], 1 - A1_STEP, p[3]}, hi[4] = {p[0], p[1], 1 + A1_STEP, p[3]};
		return 0.5 * (tn_value_bgnbd_unconditional(lo, t) + tn_value_bgnbd_unconditional(hi, t));
	}
	double r = p[0], alpha = p[1], a = p[2], b = p[3];
	/* eq. 9 */
	double f = tn_value_hyp2f1(r, b, a + b - 1, t / (alpha + t));
	return (a + b - 1) / (a - 1) * (1 - exp(r * log(alpha / (alpha + t))) * f);
}

/* E[Y(t)] for t = 0..H at once: the 2F1 of eq. 10 has the same parameters
 * for every t, so its series coefficients are computed once and each z_t =
 * t/(alpha+T+t) costs one Horner pass (vectorised across t). */
#define PATH_MAX_H TN_VBG_MAX_H
#define PATH_MAX_TERMS 4096

/* sum_k coef[k] z[l]^k for 16 z's: Horner on the even and the odd
 * coefficients in z^2 (two independent chains per lane, twice the
 * instruction-level parallelism of plain Horner), then even + z * odd.
 * Eight 2-wide GCC vectors (SSE2), or four 4-wide ones on CPUs with AVX: the
 * same IEEE multiplies and adds in the same order (no FMA), so identical
 * results either way. */
typedef double v2 __attribute__((vector_size(16)));
typedef double v4 __attribute__((vector_size(32)));

static void horner16(const double *coef, int ng, const double *z, double *out)
{
	int m = (ng + 1) / 2;
	for (int h = 0; h < 2; h++) { /* two halves of 8 z's: fewer live registers */
		const double *zz = z + 8 * h;
		v2 z0 = {zz[0], zz[1]}, z1 = {zz[2], zz[3]}, z2 = {zz[4], zz[5]}, z3 = {zz[6], zz[7]};
		v2 y0 = z0 * z0, y1 = z1 * z1, y2 = z2 * z2, y3 = z3 * z3;
		v2 e0 = {0, 0}, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
		for (int j = m - 1; j >= 0; j--) {
			double ce = coef[2 * j], co = 2 * j + 1 < ng ? coef[2 * j + 1] : 0;
			v2 ve = {ce, ce}, vo = {co, co};
			e0 = e0 * y0 + ve;
			o0 = o0 * y0 + vo;
			e1 = e1 * y1 + ve;
			o1 = o1 * y1 + vo;
			e2 = e2 * y2 + ve;
			o2 = o2 * y2 + vo;
			e3 = e3 * y3 + ve;
			o3 = o3 * y3 + vo;
		}
		v2 as[4] = {e0 + z0 * o0, e1 + z1 * o1, e2 + z2 * o2, e3 + z3 * o3};
		memcpy(out + 8 * h, as, sizeof as);
	}
}

#if defined(__x86_64__) || defined(__i386__)
/* The AVX variant exists only on x86; elsewhere horner16 is the one path. */
#define TN_BGNBD_AVX 1
__attribute__((target("avx"))) static void horner16_avx(const double *coef, int ng, const double *z, double *out)
{
	int m = (ng + 1) / 2;
	v4 z0 = {z[0], z[1], z[2], z[3]}, z1 = {z[4], z[5], z[6], z[7]};
	v4 z2 = {z[8], z[9], z[10], z[11]}, z3 = {z[12], z[13], z[14], z[15]};
	v4 y0 = z0 * z0, y1 = z1 * z1, y2 = z2 * z2, y3 = z3 * z3;
	v4 e0 = {0, 0, 0, 0}, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
	for (int j = m - 1; j >= 0; j--) {
		double ce = coef[2 * j], co = 2 * j + 1 < ng ? coef[2 * j + 1] : 0;
		v4 ve = {ce, ce, ce, ce}, vo = {co, co, co, co};
		e0 = e0 * y0 + ve;
		o0 = o0 * y0 + vo;
		e1 = e1 * y1 + ve;
		o1 = o1 * y1 + vo;
		e2 = e2 * y2 + ve;
		o2 = o2 * y2 + vo;
		e3 = e3 * y3 + ve;
		o3 = o3 * y3 + vo;
	}
	v4 as[4] = {e0 + z0 * o0, e1 + z1 * o1, e2 + z2 * o2, e3 + z3 * o3};
	memcpy(out, as, sizeof as);
}

static int have_avx(void)
{
	return __builtin_cpu_supports("avx") ? 1 : 0;
}
#else
#define TN_BGNBD_AVX 0
#endif

int tn_vbg_coef(const double *p, double x, double zmax, double *coef, int cap)
{
	double r = p[0], a = p[2], b = p[3];
	double A = r + x, B = b + x, C = a + b + x - 1;
	if (!(zmax <= 0.9) || cap < 8)
		return 0;
	double cf = 1, zk = 1, sum = 1;
	int nt = 0;
	coef[nt++] = 1;
	for (int k = 0; k < cap - 1; k++) {
		cf *= (A + k) * (B + k) / ((C + k) * (k + 1));
		zk *= zmax;
		coef[nt++] = cf;
		double term = cf * zk;
		sum += term;
		if (term == 0 || (fabs(term) <= 1e-17 * fabs(sum) && k > 2))
			break;
	}
	if (!(fabs(coef[nt - 1]) * zk <= 1e-16 * fabs(sum)) || !isfinite(sum))
		return 0;
	return nt;
}

void tn_value_bgnbd_expected_path(const double *p, double x, double t_x, double T, int H, double *E)
{
	if (NEAR_A1(p) && H <= PATH_MAX_H) {
		double lo[4] = {p[0], p[1], 1 - A1_STEP, p[3]}, hi[4] = {p[0], p[1], 1 + A1_STEP, p[3]};
		double E2[PATH_MAX_H + 1];
		tn_value_bgnbd_expected_path(lo, x, t_x, T, H, E);
		tn_value_bgnbd_expected_path(hi, x, t_x, T, H, E2);
		for (int t = 0; t <= H; t++)
			E[t] = 0.5 * (E[t] + E2[t]);
		return;
	}
	double coef[PATH_MAX_TERMS];
	double c = p[1] + T;
	int nt = H <= PATH_MAX_H ? tn_vbg_coef(p, x, H / (c + H), coef, PATH_MAX_TERMS) : 0;
	if (nt == 0) {
		E[0] = 0;
		for (int t = 1; t <= H; t++)
			E[t] = tn_value_bgnbd_expected(p, x, t_x, T, t);
		return;
	}
	tn_vbg_path_coef(p, x, t_x, T, H, coef, nt, E);
}

void tn_vbg_path_coef(const double *p, double x, double t_x, double T, int H, const double *coef, int nt,
		      double *E)
{
	if (NEAR_A1(p)) { /* the coefficients were made for a: use the general path */
		tn_value_bgnbd_expected_path(p, x, t_x, T, H, E);
		return;
	}
	double r = p[0], alpha = p[1], a = p[2], b = p[3];
	double A = r + x, c = alpha + T;
	E[0] = 0;
	double den = 1;
	if (x > 0)
		den += a / (b + x - 1) * exp(A * (log(c) - log(alpha + t_x)));
	double K = (a + b + x - 1) / (a - 1) / den, lc = log(c);
	/* Horner in groups of 16 t's, each group with the terms its largest z needs */
	double res[PATH_MAX_H + 16];
#if TN_BGNBD_AVX
	int use_avx = have_avx();
#endif
	for (int g0 = 0; g0 < H; g0 += 16) {
		double zg = (g0 + 16.0) / (c + g0 + 16.0), zk = 1, sum = 0;
		int ng = 0;
		while (ng < nt) {
			double term = coef[ng] * zk;
			sum += term;
			zk *= zg;
			ng++;
			if (ng > 3 && fabs(term) <= 1e-17 * fabs(sum))
				break;
		}
		double z[16];
		for (int l = 0; l < 16; l++) {
			double t = g0 + l + 1.0;
			z[l] = t / (c + t);
		}
#if TN_BGNBD_AVX
		if (use_avx)
			horner16_avx(coef, ng, z, res + g0);
		else
#endif
			horner16(coef, ng, z, res + g0);
	}
	for (int t = 0; t < H; t++)
		E[t + 1] = K * (1 - exp(A * (lc - log(c + t + 1.0))) * res[t]);
}
