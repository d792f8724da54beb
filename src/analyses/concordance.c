/*
 * concordance.c -- Harrell's C for a risk score, as R's concordance() for a
 * coxph fit (Harrell, Califf et al. 1982; Therneau & Watson 2017, "The
 * concordance statistic and the Cox model").  A balanced binary indexed
 * tree (Fenwick 1994) over the ranks of the score counts, for each event,
 * the subjects still at risk after it with a lower, equal or higher score:
 * O(n log n) after one radix sort.
 */
#include "tenure/cox.h"
#include "base/alloc.h"
#include "base/radix.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Counts fit in 32 bits (n < 2^32); adding -1 wraps back exactly. */
static void bit_add(uint32_t *t, uint32_t *cnt, size_t m, size_t i, uint32_t v)
{
	cnt[i] += v;
	for (i++; i <= m; i += i & (~i + 1))
		t[i - 1] += v;
}

/* sum of entries [0, i) */
static uint32_t bit_sum(const uint32_t *t, size_t i)
{
	uint32_t s = 0;
	for (; i > 0; i -= i & (~i + 1))
		s += t[i - 1];
	return s;
}

int tn_cox_concordance(const double *time, const double *event, const double *lp, const int *strata,
		       size_t n, double *concordance, double counts[4], tn_error *err)
{
	*concordance = NAN;
	memset(counts, 0, 4 * sizeof *counts);
	if (n >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "concordance: too many rows (%zu)", n);
	uint64_t *keys = tn_malloc((n ? n : 1) * sizeof *keys);
	uint32_t *ord = tn_malloc((n ? n : 1) * sizeof *ord);
	uint32_t *rank = tn_malloc((n ? n : 1) * sizeof *rank);
	uint32_t *tree = tn_calloc(n ? n : 1, sizeof *tree), *cnt = tn_calloc(n ? n : 1, sizeof *cnt);
	int rc = TN_OK;
	if (!keys || !ord || !rank || !tree || !cnt) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: out of memory for %zu rows", n);
		goto done;
	}
	/* ranks of the score, equal scores sharing a rank */
	for (size_t i = 0; i < n; i++)
		keys[i] = tn_radix_dkey(lp[i]);
	if (tn_radix_order_u64(keys, n, ord, 0)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: cannot sort");
		goto done;
	}
	uint32_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && keys[ord[i]] != keys[ord[i - 1]])
			r++;
		rank[ord[i]] = r;
	}
	size_t m = n ? (size_t)r + 1 : 1;
	/* order by (stratum, time) */
	for (size_t i = 0; i < n; i++)
		keys[i] = tn_radix_dkey(time[i]);
	if (tn_radix_order_u64(keys, n, ord, 0)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: cannot sort");
		goto done;
	}
	if (strata) {
		for (size_t i = 0; i < n; i++)
			keys[i] = (uint64_t)(uint32_t)strata[i];
		if (tn_radix_order_u64(keys, n, ord, 1)) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: cannot sort");
			goto done;
		}
	}
	double conc = 0, disc = 0, tiex = 0, tiey = 0, in_tree = 0;
	size_t i = n, stratum_end = n;
	while (i > 0) {
		size_t last = i - 1;
		uint32_t a = ord[last];
		int s = strata ? strata[a] : 0;
		size_t first = last;
		while (first > 0 && time[ord[first - 1]] == time[a] && (!strata || strata[ord[first - 1]] == s))
			first--;
		double nd = 0;
		for (size_t k = first; k <= last; k++)
			if (event[ord[k]] != 1) {
				bit_add(tree, cnt, m, rank[ord[k]], 1);
				in_tree++;
			}
		for (size_t k = first; k <= last; k++) {
			uint32_t b = ord[k];
			if (event[b] != 1)
				continue;
			nd++;
			double below = bit_sum(tree, rank[b]);
			double upto = below + cnt[rank[b]];
			conc += below;
			tiex += upto - below;
			disc += in_tree - upto;
		}
		tiey += nd * (nd - 1) / 2;
		for (size_t k = first; k <= last; k++)
			if (event[ord[k]] == 1) {
				bit_add(tree, cnt, m, rank[ord[k]], 1);
				in_tree++;
			}
		i = first;
		if (strata && (i == 0 || strata[ord[i - 1]] != s)) { /* stratum done: empty the tree */
			for (size_t k = i; k < stratum_end; k++)
				bit_add(tree, cnt, m, rank[ord[k]], UINT32_MAX);
			in_tree = 0;
			stratum_end = i;
		}
	}
	counts[0] = conc;
	counts[1] = disc;
	counts[2] = tiex;
	counts[3] = tiey;
	if (conc + disc + tiex > 0)
		*concordance = (conc + tiex / 2) / (conc + disc + tiex);
done:
	free(keys);
	free(ord);
	free(rank);
	free(tree);
	free(cnt);
	return rc;
}
