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
#include "analyses/cox_internal.h"

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

/* The reference: the tree walked in time order, one event at a time (the
 * test compares tn_cox_concordance with it). */
/* RANK[i]: the rank of LP[i] among the scores, equal scores sharing a rank
 * (0 ..  *TOP); KEYS and ORD are n-long scratch.  Nonzero when the sort
 * cannot get its memory. */
static int score_ranks(const double *lp, size_t n, uint64_t *keys, uint32_t *ord, uint32_t *rank, uint32_t *top)
{
	for (size_t i = 0; i < n; i++)
		keys[i] = tn_radix_dkey(lp[i]);
	if (tn_radix_order_u64(keys, n, ord, 0))
		return 1;
	uint32_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && keys[ord[i]] != keys[ord[i - 1]])
			r++;
		rank[ord[i]] = r;
	}
	*top = r;
	return 0;
}

int tn_cox_concordance_tree(const double *time, const double *event, const double *lp, const int *strata,
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
	uint32_t r = 0;
	if (score_ranks(lp, n, keys, ord, rank, &r)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: cannot sort");
		goto done;
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

/* Pairs (i, j), i before j in A[0, n), j an event, with rank_i < rank_j,
 * added to *LESS.  A key is rank << 1 | (not an event), so an event sorts
 * before the non-events of its rank.  A bottom-up merge sort (CDQ divide
 * and conquer): when a merge takes an event from its right half, the left
 * elements already taken are exactly those of a lower rank (equal keys take
 * the right one first).  O(n log n) in sequential, branch-free passes over
 * A and TMP (n each); A ends up sorted. */
static void count_less(uint64_t *a, uint64_t *tmp, size_t n, uint64_t *less)
{
	uint64_t *src = a, *dst = tmp, acc = 0;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi) {
				uint64_t x = src[i], y = src[j];
				uint64_t tr = y <= x;
				dst[o++] = tr ? y : x;
				acc += (tr & ~y & 1) * (uint64_t)(i - lo);
				i += 1 - tr;
				j += tr;
			}
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi) {
				acc += (~src[j] & 1) * (uint64_t)(mid - lo);
				dst[o++] = src[j++];
			}
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	*less += acc;
}

/* Harrell's C without the tree: the tree's counts are only ever summed, so
 * each stratum becomes one sequence, groups of equal time from the largest
 * down, in each its censored rows then its events (the set an event is
 * compared with is exactly the rows before it, less the events of its own
 * group).  Pairs of a lower rank are counted by merge sort (count_less): all
 * pairs, less those within each group's events; pairs of equal rank by a
 * count per rank, bumped for a group's events only after its queries.  The same counts as the tree, in
 * passes over memory instead of a random walk per row. */
int tn_cox_concordance(const double *time, const double *event, const double *lp, const int *strata,
		       size_t n, double *concordance, double counts[4], tn_error *err)
{
	*concordance = NAN;
	memset(counts, 0, 4 * sizeof *counts);
	if (n >= UINT32_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "concordance: too many rows (%zu)", n);
	/* keys: the sorts' keys, then count_less' scratch (up to 2 n for a group's events and its own) */
	uint64_t *keys = tn_malloc((n ? 2 * n : 1) * sizeof *keys);
	uint64_t *seq = tn_malloc((n ? n : 1) * sizeof *seq);
	uint32_t *ord = tn_malloc((n ? n : 1) * sizeof *ord);
	uint32_t *rank = tn_malloc((n ? n : 1) * sizeof *rank);
	uint32_t *cnt = tn_calloc(n ? n : 1, sizeof *cnt); /* rows so far per rank */
	int rc = TN_OK;
	if (!keys || !seq || !ord || !rank || !cnt) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: out of memory for %zu rows", n);
		goto done;
	}
	/* ranks of the score, equal scores sharing a rank */
	uint32_t r = 0;
	if (score_ranks(lp, n, keys, ord, rank, &r)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "concordance: cannot sort");
		goto done;
	}
	/* order by (stratum, time); the Cox fit's rows come sorted already */
	int sorted = 1;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = strata && strata[i] != strata[i - 1] ? strata[i] > strata[i - 1]
							      : !(time[i] < time[i - 1]) && !isnan(time[i]);
	if (sorted && n > 0 && isnan(time[0]))
		sorted = 0;
	if (sorted) {
		for (size_t i = 0; i < n; i++)
			ord[i] = (uint32_t)i;
	} else {
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
	}
	uint64_t less = 0, eq = 0, gless = 0;
	double before = 0, tiey = 0; /* before: sum over events of the rows they are compared with */
	size_t s1 = n;
	while (s1 > 0) { /* strata from the last */
		int s = strata ? strata[ord[s1 - 1]] : 0;
		size_t s0 = s1;
		while (s0 > 0 && (!strata || strata[ord[s0 - 1]] == s))
			s0--;
		size_t m = 0, last = s1;
		while (last > s0) { /* its groups of equal time, from the largest */
			size_t first = last - 1;
			double t = time[ord[first]];
			while (first > s0 && time[ord[first - 1]] == t)
				first--;
			for (size_t k = first; k < last; k++) {
				uint32_t rk = rank[ord[k]];
				if (event[ord[k]] != 1) {
					seq[s0 + m++] = (uint64_t)rk << 1 | 1;
					cnt[rk]++;
				}
			}
			size_t e0 = m;
			for (size_t k = first; k < last; k++) /* ties: the rows before it of its rank */
				if (event[ord[k]] == 1) {
					uint32_t rk = rank[ord[k]];
					seq[s0 + m++] = (uint64_t)rk << 1;
					eq += cnt[rk];
				}
			for (size_t k = first; k < last; k++)
				if (event[ord[k]] == 1)
					cnt[rank[ord[k]]]++;
			double nd = (double)(m - e0);
			before += nd * (double)e0;
			tiey += nd * (nd - 1) / 2;
			if (m - e0 > 1) { /* pairs within the group's events: not compared */
				memcpy(keys, seq + s0 + e0, (m - e0) * sizeof *keys);
				count_less(keys, keys + (m - e0), m - e0, &gless);
			}
			last = first;
		}
		for (size_t k = s0; k < s1; k++) /* empty the counts for the next stratum */
			cnt[rank[ord[k]]] = 0;
		count_less(seq + s0, keys, m, &less);
		s1 = s0;
	}
	double conc = (double)(less - gless), tiex = (double)eq;
	double disc = before - conc - tiex;
	counts[0] = conc;
	counts[1] = disc;
	counts[2] = tiex;
	counts[3] = tiey;
	if (conc + disc + tiex > 0)
		*concordance = (conc + tiex / 2) / (conc + disc + tiex);
done:
	free(keys);
	free(seq);
	free(ord);
	free(rank);
	free(cnt);
	return rc;
}
