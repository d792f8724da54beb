/*
 * logrank.c -- the log-rank test between groups and the "danger window"
 * (discrete hazard per bin of age).
 *
 * Log-rank: Mantel (1966); Peto & Peto (1972); the statistic and its
 * variance as in Kalbfleisch & Prentice (2002) sec. 7.2.2 and R survdiff
 * (rho = 0): at each distinct event time t with d deaths among n at risk,
 * E_g += d n_g / n and V_gh += d (n - d) / (n - 1) * n_g / n * (1[g=h] -
 * n_h / n); chisq = (O - E)' V^-1 (O - E) over the groups with E > 0 but the
 * first, df = that count.
 *
 * Danger window: the life-table (discrete) hazard q_k = d_k / r_k per bin
 * (Kalbfleisch & Prentice sec. 4.3, actuarial estimator without the
 * half-censoring correction, since a customer's exit day is known).
 */
#include "tenure/survival.h"
#include "base/alloc.h"
#include "base/linalg.h"
#include "base/radix.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TN_MAX_GROUPS 10000
#define TN_MAX_BINS 1000000

int tn_logrank_test(const double *time, const double *event, const int *group, size_t n,
		    int ngroups, tn_logrank *out, double *observed, double *expected, tn_error *err)
{
	out->chisq = 0;
	out->df = 0;
	out->p = 1;
	if (ngroups < 1 || ngroups > TN_MAX_GROUPS)
		return tn_error_set(err, TN_ERR_USAGE, "log-rank: expected 1 to %d groups, found %d",
				    TN_MAX_GROUPS, ngroups);
	for (size_t i = 0; i < n; i++) {
		if (!(time[i] >= 0) || !isfinite(time[i]) || (event[i] != 0 && event[i] != 1))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected time >= 0 and event 0/1, found %g, %g",
					    i + 1, time[i], event[i]);
		if (group[i] < 0 || group[i] >= ngroups)
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: group %d is not in 0..%d", i + 1, group[i],
					    ngroups - 1);
	}
	size_t k = (size_t)ngroups;
	uint64_t *keys = tn_malloc((n ? n : 1) * sizeof *keys);
	uint32_t *perm = tn_malloc((n ? n : 1) * sizeof *perm);
	double *mem = tn_calloc(4 * k + k * k + k * k, sizeof(double));
	if (!keys || !perm || !mem) {
		free(keys);
		free(perm);
		free(mem);
		return tn_error_set(err, TN_ERR_NOMEM, "log-rank: out of memory for %zu rows", n);
	}
	double *risk = mem, *dg = mem + k, *obs = mem + 2 * k, *exp_ = mem + 3 * k;
	double *var = mem + 4 * k, *sub = var + k * k;
	for (size_t i = 0; i < n; i++) {
		keys[i] = tn_radix_dkey(time[i]);
		risk[group[i]]++;
	}
	int rc = TN_OK;
	if (tn_radix_order_u64(keys, n, perm, 0)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "log-rank: cannot sort %zu rows", n);
		goto done;
	}
	double nr = (double)n;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double d = 0;
		while (j < n && keys[perm[j]] == keys[perm[i]]) {
			uint32_t r = perm[j];
			if (event[r] == 1) {
				dg[group[r]]++;
				d++;
			}
			j++;
		}
		if (d > 0) {
			for (size_t g = 0; g < k; g++) {
				obs[g] += dg[g];
				exp_[g] += d * risk[g] / nr;
			}
			if (nr > 1) {
				double f = d * (nr - d) / (nr - 1);
				for (size_t g = 0; g < k; g++) {
					if (risk[g] == 0)
						continue;
					double pg = risk[g] / nr;
					for (size_t h = 0; h < k; h++)
						var[g * k + h] += f * pg * ((g == h) - risk[h] / nr);
				}
			}
			memset(dg, 0, k * sizeof *dg);
		}
		for (size_t m = i; m < j; m++)
			risk[group[perm[m]]]--;
		nr -= (double)(j - i);
		i = j;
	}
	if (observed)
		memcpy(observed, obs, k * sizeof *obs);
	if (expected)
		memcpy(expected, exp_, k * sizeof *exp_);
	/* the groups with E > 0, the first dropped */
	int *use = tn_malloc(k * sizeof *use);
	if (!use) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "log-rank: out of memory");
		goto done;
	}
	int m = 0;
	for (size_t g = 0; g < k; g++)
		if (exp_[g] > 0)
			use[m++] = (int)g;
	if (m >= 2) {
		int q = m - 1;
		double *b = dg; /* reuse: k >= q */
		for (int r = 0; r < q; r++) {
			b[r] = obs[use[r + 1]] - exp_[use[r + 1]];
			for (int c = 0; c < q; c++)
				sub[r * q + c] = var[(size_t)use[r + 1] * k + (size_t)use[c + 1]];
		}
		double *b0 = tn_malloc((size_t)q * sizeof *b0);
		if (!b0) {
			free(use);
			rc = tn_error_set(err, TN_ERR_NOMEM, "log-rank: out of memory");
			goto done;
		}
		memcpy(b0, b, (size_t)q * sizeof *b);
		if (tn_la_solve(sub, b, (size_t)q, 1e-12)) {
			free(b0);
			free(use);
			rc = tn_error_set(err, TN_ERR_NUMERIC, "log-rank: the variance matrix is singular");
			goto done;
		}
		double chi = 0;
		for (int r = 0; r < q; r++)
			chi += b[r] * b0[r];
		free(b0);
		out->chisq = chi;
		out->df = q;
		out->p = tn_chisq_upper(chi, q);
	}
	free(use);
done:
	free(keys);
	free(perm);
	free(mem);
	return rc;
}

void tn_danger_free(tn_danger *d)
{
	if (!d)
		return;
	free(d->at_risk);
	free(d);
}

int tn_danger_new(const double *time, const double *event, const int *group, int g, size_t n,
		  double width, double min_at_risk, tn_danger **out, tn_error *err)
{
	*out = NULL;
	if (!(width > 0) || !isfinite(width))
		return tn_error_set(err, TN_ERR_USAGE, "danger window: bin width must be > 0, found %g", width);
	double tmax = 0, total = 0, nsel = 0;
	for (size_t i = 0; i < n; i++) {
		if (group && group[i] != g)
			continue;
		if (!(time[i] >= 0) || !isfinite(time[i]) || (event[i] != 0 && event[i] != 1))
			return tn_error_set(err, TN_ERR_INPUT, "row %zu: expected time >= 0 and event 0/1, found %g, %g",
					    i + 1, time[i], event[i]);
		if (time[i] > tmax)
			tmax = time[i];
		total += event[i];
		nsel++;
	}
	double nb = floor(tmax / width) + 1;
	if (nb > TN_MAX_BINS)
		return tn_error_set(err, TN_ERR_USAGE,
				    "danger window: %.0f bins of width %g; use a wider bin (at most %d bins)", nb,
				    width, TN_MAX_BINS);
	size_t nbins = (size_t)nb;
	tn_danger *d = tn_calloc(1, sizeof *d);
	double *block = tn_calloc(3 * nbins + nbins, sizeof(double));
	if (!d || !block) {
		free(d);
		free(block);
		return tn_error_set(err, TN_ERR_NOMEM, "danger window: out of memory for %zu bins", nbins);
	}
	d->width = width;
	d->nbins = nbins;
	d->at_risk = block;
	d->events = block + nbins;
	d->hazard = block + 2 * nbins;
	double *leave = block + 3 * nbins; /* everyone whose time falls in the bin */
	for (size_t i = 0; i < n; i++) {
		if (group && group[i] != g)
			continue;
		size_t b = (size_t)floor(time[i] / width);
		if (b >= nbins)
			b = nbins - 1;
		leave[b]++;
		d->events[b] += event[i];
	}
	double risk = nsel;
	d->peak = d->from = d->to = -1;
	for (size_t b = 0; b < nbins; b++) {
		d->at_risk[b] = risk;
		d->hazard[b] = risk > 0 ? d->events[b] / risk : NAN;
		risk -= leave[b];
		if (d->at_risk[b] >= min_at_risk && d->events[b] > 0 &&
		    (d->peak < 0 || d->hazard[b] > d->hazard[d->peak]))
			d->peak = (long)b;
	}
	if (d->peak >= 0) {
		double half = d->hazard[d->peak] / 2;
		d->from = d->to = d->peak;
		while (d->from > 0 && d->at_risk[d->from - 1] >= min_at_risk && d->hazard[d->from - 1] >= half)
			d->from--;
		while ((size_t)d->to + 1 < nbins && d->at_risk[d->to + 1] >= min_at_risk &&
		       d->hazard[d->to + 1] >= half)
			d->to++;
		for (long b = d->from; b <= d->to; b++)
			d->window_events += d->events[b];
		d->window_share = total > 0 ? d->window_events / total : NAN;
	}
	*out = d;
	return TN_OK;
}

void tn_danger_sentence(const tn_danger *d, const char *unit, char *buf, size_t size)
{
	if (!size)
		return;
	if (d->peak < 0) {
		snprintf(buf, size, "Too few customers leave to show when the risk peaks.");
		return;
	}
	double a = (double)d->from * d->width, b = (double)(d->to + 1) * d->width;
	double per_unit = d->hazard[d->peak] / d->width;
	snprintf(buf, size,
		 "The risk of leaving peaks in %ss %g to %g (%.1f%% of those still there leave per %s at the peak; "
		 "%.0f%% of all who leave, leave then): act before %s %g.",
		 unit, a, b, 100 * per_unit, unit, 100 * d->window_share, unit, a);
}
