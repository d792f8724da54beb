/*
 * competing.c -- competing risks: the Aalen-Johansen estimate of the
 * cumulative incidence of each cause of leaving (voluntary, involuntary, ...)
 * with R survival's standard errors and confidence limits.
 *
 * With one starting state ("still a customer", R's "(s0)") and K absorbing
 * causes, at each distinct time t_j with n_j at risk, d_kj leaving for cause
 * k and d_j = sum_k d_kj:
 *   S(t_j)   = S(t_{j-1}) (1 - d_j / n_j)                (Kaplan-Meier, all causes)
 *   F_k(t_j) = F_k(t_{j-1}) + S(t_{j-1}) d_kj / n_j      (Aalen & Johansen 1978)
 * This is what survfit(Surv(time, status) ~ 1) gives for a factor STATUS
 * (pstate = S, F_1, ..., F_K).
 *
 * Standard errors: R (survival >= 3.0) uses the infinitesimal jackknife,
 * var p(t) = sum_i U_i(t)^2 with U_i = dp(t)/dw_i the derivative with
 * respect to subject i's case weight (Therneau, "The survfit function",
 * survival vignette; Efron 1982).  Differentiating the recursions:
 *   dh_kj/dw_i = (dN_ikj - Y_ij d_kj / n_j) / n_j
 *   dS_j = (1 - h_j) dS_{j-1} - S_{j-1} dh_j
 *   dF_kj = dF_k,j-1 + h_kj dS_{j-1} + S_{j-1} dh_kj
 * Subjects still at risk share one influence vector r_j; a subject who left
 * at t_e (for cause c, or censored) has r_e plus a jump, and from then on
 * its influence only evolves by the homogeneous part of the recursion
 * (matrix M_j).  So the sum of squares is kept as one (K+1)x(K+1) matrix Q
 * of the subjects who left, Q_j = M_j Q_{j-1} M_j' + (those leaving at t_j),
 * and var_j = diag(Q_j + (still at risk after t_j) r_j r_j'): O(times K^2)
 * instead of O(n times).  The confidence limits are R's default for
 * multi-state curves, conf.type = "log": p exp(+-z se / p), the upper capped
 * at 1, NA where p = 0 (survfit_confint).
 */
#include "tenure/survival.h"
#include "base/alloc.h"
#include "base/radix.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CAUSES 16

void tn_cif_free(tn_cif *f)
{
	if (!f)
		return;
	free(f->time); /* one block holds every array */
	free(f);
}

static tn_cif *cif_alloc(size_t nt, int k)
{
	size_t s = (size_t)k + 1;
	/* time, n_risk, n_censor: nt each; n_event: nt*k; pstate, std_err, lower, upper: nt*s each */
	size_t total = 3 * nt + nt * (size_t)k + 4 * nt * s;
	tn_cif *f = tn_calloc(1, sizeof *f);
	double *b = tn_malloc((total ? total : 1) * sizeof *b);
	if (!f || !b) {
		free(f);
		free(b);
		return NULL;
	}
	f->time = b;
	f->n_risk = b += nt;
	f->n_censor = b += nt;
	f->n_event = b += nt;
	f->pstate = b += nt * (size_t)k;
	f->std_err = b += nt * s;
	f->lower = b += nt * s;
	f->upper = b += nt * s;
	return f;
}

int tn_cif_fit(const double *time, const int *cause, const int *group, int g, size_t n, int ncauses,
	       double conf_level, tn_cif **out, tn_error *err)
{
	*out = NULL;
	if (ncauses < 1 || ncauses > MAX_CAUSES)
		return tn_error_set(err, TN_ERR_INPUT, "competing risks: expected 1 to %d causes, found %d",
				    MAX_CAUSES, ncauses);
	if (!(conf_level > 0 && conf_level < 1))
		return tn_error_set(err, TN_ERR_INPUT, "competing risks: confidence level %g not in (0, 1)",
				    conf_level);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (group && group[i] != g)
			continue;
		if (!(time[i] >= 0) || !isfinite(time[i]))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected a finite time >= 0, found %g",
					    i + 1, time[i]);
		if (cause[i] < 0 || cause[i] > ncauses)
			return tn_error_set(err, TN_ERR_INPUT,
					    "row %zu: expected a status of 0 (censored) to %d, found %d", i + 1,
					    ncauses, cause[i]);
		m++;
	}
	if (m >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "competing risks: more than 2^32 rows");
	uint64_t *key = tn_malloc((m ? m : 1) * sizeof *key);
	uint32_t *perm = tn_malloc((m ? m : 1) * sizeof *perm);
	size_t *src = tn_malloc((m ? m : 1) * sizeof *src);
	int rc = TN_OK;
	tn_cif *f = NULL;
	if (!key || !perm || !src) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t a = 0;
	for (size_t i = 0; i < n; i++)
		if (!group || group[i] == g) {
			key[a] = tn_radix_dkey(time[i]);
			src[a++] = i;
		}
	if (tn_radix_order_u64(key, m, perm, 0)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	size_t nt = 0;
	for (size_t i = 0; i < m; i++)
		nt += i == 0 || key[perm[i]] != key[perm[i - 1]];
	f = cif_alloc(nt, ncauses);
	if (!f) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto out;
	}
	const int K = ncauses, S = K + 1;
	f->n = m;
	f->ncauses = K;
	f->conf_level = conf_level;
	f->ntimes = nt;
	double z = tn_normal_z(conf_level);
	/* state: p[0] = S (no event yet), p[k] = F_k; r = influence of a subject still at risk;
	 * q = sum over subjects who left of U U' (S x S, row-major) */
	double p[MAX_CAUSES + 1] = {1}, r[MAX_CAUSES + 1] = {0}, rn[MAX_CAUSES + 1], u[MAX_CAUSES + 1];
	double q[(MAX_CAUSES + 1) * (MAX_CAUSES + 1)] = {0}, tmp[(MAX_CAUSES + 1) * (MAX_CAUSES + 1)];
	double h[MAX_CAUSES + 1];
	double at_risk = (double)m;
	size_t i = 0;
	for (size_t j = 0; j < nt; j++) {
		double t = time[src[perm[i]]];
		uint64_t kj = key[perm[i]];
		double *d = f->n_event + j * (size_t)K;
		memset(d, 0, (size_t)K * sizeof *d);
		double cens = 0, dall = 0;
		for (; i < m && key[perm[i]] == kj; i++) {
			int c = cause[src[perm[i]]];
			if (c == 0)
				cens++;
			else
				d[c - 1]++, dall++;
		}
		double nj = at_risk, hall = dall / nj;
		for (int k = 0; k < K; k++)
			h[k] = d[k] / nj;
		double s_prev = p[0];
		/* Q <- M Q M' with M: row 0 = (1 - h) e0; row k = e_k + h_k e0 */
		if (dall > 0) {
			for (int x = 0; x < S; x++) /* tmp = M Q */
				for (int y = 0; y < S; y++)
					tmp[x * S + y] = (x == 0 ? (1 - hall) * q[y] : q[x * S + y] + h[x - 1] * q[y]);
			for (int x = 0; x < S; x++) /* q = tmp M' */
				for (int y = 0; y < S; y++)
					q[x * S + y] = y == 0 ? (1 - hall) * tmp[x * S] : tmp[x * S + y] + h[y - 1] * tmp[x * S];
		}
		/* the shared influence of those at risk at t_j (no event of their own) */
		rn[0] = (1 - hall) * r[0] + s_prev * hall / nj;
		for (int k = 1; k < S; k++)
			rn[k] = r[k] + h[k - 1] * r[0] - s_prev * h[k - 1] / nj;
		/* those leaving now: censored (rn) and each cause (rn plus the jump) */
		for (int x = 0; x < S; x++)
			for (int y = 0; y < S; y++)
				q[x * S + y] += cens * rn[x] * rn[y];
		for (int k = 1; k < S; k++) {
			if (d[k - 1] == 0)
				continue;
			memcpy(u, rn, (size_t)S * sizeof *u);
			u[0] -= s_prev / nj;
			u[k] += s_prev / nj;
			for (int x = 0; x < S; x++)
				for (int y = 0; y < S; y++)
					q[x * S + y] += d[k - 1] * u[x] * u[y];
		}
		memcpy(r, rn, (size_t)S * sizeof *r);
		double stay = nj - dall - cens;
		/* the estimate */
		for (int k = 1; k < S; k++)
			p[k] += s_prev * h[k - 1];
		p[0] = s_prev * (1 - hall);
		f->time[j] = t;
		f->n_risk[j] = nj;
		f->n_censor[j] = cens;
		for (int x = 0; x < S; x++) {
			double v = q[x * S + x] + stay * r[x] * r[x];
			double se = sqrt(v > 0 ? v : 0), pv = p[x];
			size_t o = j * (size_t)S + (size_t)x;
			f->pstate[o] = pv;
			f->std_err[o] = se;
			if (pv == 0) {
				f->lower[o] = f->upper[o] = NAN;
			} else {
				double w = se == 0 ? 0 : z * se / pv;
				f->lower[o] = exp(log(pv) - w);
				f->upper[o] = fmin(exp(log(pv) + w), 1.0);
			}
		}
		at_risk = stay;
	}
	*out = f;
	f = NULL;
out:
	tn_cif_free(f);
	free(key);
	free(perm);
	free(src);
	return rc;
}

void tn_cif_at(const tn_cif *f, double t, double *n_risk, double *pstate, double *std_err, double *lower,
	       double *upper)
{
	size_t S = (size_t)f->ncauses + 1;
	/* the last time <= t */
	size_t lo = 0, hi = f->ntimes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->time[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (n_risk) /* at risk at t: of the first time >= t (0 beyond the last) */
		*n_risk = lo > 0 && f->time[lo - 1] == t ? f->n_risk[lo - 1] : lo < f->ntimes ? f->n_risk[lo] : 0;
	for (size_t x = 0; x < S; x++) {
		if (lo == 0) {
			double v = x == 0 ? 1 : 0;
			if (pstate)
				pstate[x] = v;
			if (std_err)
				std_err[x] = 0;
			if (lower)
				lower[x] = x == 0 ? 1 : NAN;
			if (upper)
				upper[x] = x == 0 ? 1 : NAN;
			continue;
		}
		size_t o = (lo - 1) * S + x;
		if (pstate)
			pstate[x] = f->pstate[o];
		if (std_err)
			std_err[x] = f->std_err[o];
		if (lower)
			lower[x] = f->lower[o];
		if (upper)
			upper[x] = f->upper[o];
	}
}
