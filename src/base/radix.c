/*
 * radix.c -- least-significant-digit radix sort on 64-bit keys, 16 bits a
 * pass (Knuth, TAOCP vol. 3, 5.2.5).  One read builds all four histograms;
 * a pass whose digit is the same for every key is skipped, so integer-valued
 * times (days) usually sort in two passes.  tn_radix_sort_kv sorts (key,
 * row) pairs whose key's width the caller knows, in passes of up to 11 bits.
 */
#include "base/radix.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

#define DIGITS 4
#define RADIX 65536

static uint32_t *histograms(const uint64_t *keys, size_t n, const uint32_t *perm)
{
	uint32_t *h = tn_calloc((size_t)DIGITS * RADIX, sizeof *h);
	if (!h)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = perm ? keys[perm[i]] : keys[i];
		for (int d = 0; d < DIGITS; d++)
			h[d * RADIX + ((k >> (16 * d)) & 0xFFFF)]++;
	}
	return h;
}

/* Turn counts into starting offsets; returns 0 when one bucket holds all n. */
static int offsets(uint32_t *h, size_t n)
{
	uint32_t sum = 0;
	int useful = 1;
	for (size_t b = 0; b < RADIX; b++) {
		if (h[b] == n)
			useful = 0;
		uint32_t c = h[b];
		h[b] = sum;
		sum += c;
	}
	return useful;
}

int tn_radix_sort_u64(uint64_t *keys, size_t n)
{
	if (n < 2)
		return 0;
	if (n >= UINT32_MAX)
		return -1;
	uint32_t *h = histograms(keys, n, NULL);
	uint64_t *tmp = tn_malloc(n * sizeof *tmp);
	if (!h || !tmp) {
		free(h);
		free(tmp);
		return -1;
	}
	uint64_t *src = keys, *dst = tmp;
	for (int d = 0; d < DIGITS; d++) {
		uint32_t *c = h + (size_t)d * RADIX;
		if (!offsets(c, n))
			continue;
		int sh = 16 * d;
		for (size_t i = 0; i < n; i++) {
			uint64_t k = src[i];
			dst[c[(k >> sh) & 0xFFFF]++] = k;
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != keys)
		memcpy(keys, src, n * sizeof *keys);
	free(tmp);
	free(h);
	return 0;
}

int tn_radix_order_u64(const uint64_t *keys, size_t n, uint32_t *perm, int init)
{
	if (n >= UINT32_MAX)
		return -1;
	if (!init)
		for (size_t i = 0; i < n; i++)
			perm[i] = (uint32_t)i;
	if (n < 2)
		return 0;
	uint32_t *h = histograms(keys, n, NULL);
	uint32_t *tmp = tn_malloc(n * sizeof *tmp);
	if (!h || !tmp) {
		free(h);
		free(tmp);
		return -1;
	}
	uint32_t *src = perm, *dst = tmp;
	for (int d = 0; d < DIGITS; d++) {
		uint32_t *c = h + (size_t)d * RADIX;
		if (!offsets(c, n))
			continue;
		int sh = 16 * d;
		for (size_t i = 0; i < n; i++) {
			uint32_t j = src[i];
			dst[c[(keys[j] >> sh) & 0xFFFF]++] = j;
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != perm)
		memcpy(perm, src, n * sizeof *perm);
	free(tmp);
	free(h);
	return 0;
}

tn_radix_kv *tn_radix_sort_kv(tn_radix_kv *a, tn_radix_kv *tmp, size_t n, int bits)
{
	int passes = (bits + 10) / 11;
	int width = passes ? (bits + passes - 1) / passes : 0;
	uint64_t mask = ((uint64_t)1 << width) - 1;
	tn_radix_kv *b = tmp;
	for (int shift = 0; shift < bits; shift += width) {
		size_t cnt[(1 << 11) + 1] = {0};
		for (size_t i = 0; i < n; i++)
			cnt[((a[i].key >> shift) & mask) + 1]++;
		for (uint64_t k = 0; k < mask + 1; k++)
			cnt[k + 1] += cnt[k];
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i].key >> shift) & mask]++] = a[i];
		tn_radix_kv *t = a;
		a = b;
		b = t;
	}
	return a;
}
