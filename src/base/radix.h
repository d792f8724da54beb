/*
 * radix.h -- internal: LSD radix sorts on 64-bit keys, for the survival code
 * (km.c, cox.c, concordance.c, ...) and the store's event buffer (store.c,
 * sort_events: packed (customer, time) keys with row indexes).  Doubles are mapped to order-preserving unsigned keys so
 * that 10M follow-up times sort in a few linear passes (no comparisons).
 * Not part of the public API.
 */
#ifndef TN_RADIX_H
#define TN_RADIX_H

#include <stddef.h>
#include <stdint.h>

/* An unsigned key with the same order as the (non-NaN) double D. */
static inline uint64_t tn_radix_dkey(double d)
{
	union { double d; uint64_t u; } v;
	v.d = d == 0.0 ? 0.0 : d; /* -0 sorts with +0 */
	return (v.u >> 63) ? ~v.u : (v.u | 0x8000000000000000ull);
}

/* The position of KEY in SORTED[0..n) (ascending; the first of equal keys),
 * or -1: the one binary search over sorted ids (journey.c's customers, the
 * cluster import's routing), so keys are looked up, never used as indexes
 * (an array sized by the largest id takes gigabytes for sparse ids). */
static inline int64_t tn_sorted_find_i64(const int64_t *sorted, size_t n, int64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sorted[lo] == key ? (int64_t)lo : -1;
}

/* Sort KEYS[0..n) ascending in place.  Returns 0, or -1 when out of memory. */
int tn_radix_sort_u64(uint64_t *keys, size_t n);

/* Fill PERM with the stable ascending order of KEYS (KEYS is not changed):
 * keys[perm[0]] <= keys[perm[1]] <= ...  When PERM already holds an order
 * (INIT != 0), that order breaks ties (used for a second, major key).
 * Returns 0, or -1 when out of memory or n >= 2^32. */
int tn_radix_order_u64(const uint64_t *keys, size_t n, uint32_t *perm, int init);

/* A key and the index of its row, tn_radix_sort_kv's element: the rows
 * themselves (large) are moved once, after the sort. */
typedef struct {
	uint64_t key;
	uint32_t idx;
} tn_radix_kv;

/* Sort A[0..n) stably by key, every key below 2^BITS (0 <= BITS <= 64), in
 * ceil(BITS / 11) passes of equal digits of up to 11 bits (2,048 counters,
 * in L1: fewer passes over the array than bytes).  TMP is scratch of n
 * elements, the caller's, so that one kept between calls is reused (fresh
 * pages each time cost page faults).  Returns the array that holds the
 * result, A or TMP (no copy back); no allocation, cannot fail. */
tn_radix_kv *tn_radix_sort_kv(tn_radix_kv *a, tn_radix_kv *tmp, size_t n, int bits);

#endif
