/* test_radix.c -- the radix sorts of src/base/radix.c: tn_radix_sort_kv
 * (the store's event buffer) against a stable reference sort, at widths that
 * take one pass, several, an uneven last digit, 0 and 64 bits; and
 * tn_radix_order_u64 (the survival code) with and without a prior order. */
#include "testutil.h"
#include "base/radix.h"
#include "base/rng.h"

#include <stdlib.h>

/* Stable reference: by key, then by the original position (idx). */
static int kv_cmp(const void *x, const void *y)
{
	const tn_radix_kv *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* N pairs with keys below 2^BITS (few distinct keys when FEW, so that most
 * have equals and stability shows), idx = position; sorted by the helper
 * and by qsort on (key, idx): the same sequence, element for element. */
static void check_kv(size_t n, int bits, int few, uint64_t seed)
{
	tn_radix_kv *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp), *ref = malloc(n * sizeof *ref);
	assert_true(a && tmp && ref);
	uint64_t x = seed;
	uint64_t mask = bits == 64 ? ~(uint64_t)0 : ((uint64_t)1 << bits) - 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = tn_rng_splitmix64(&x) & mask;
		if (few)
			k = (k % 7) << (bits > 3 ? bits - 3 : 0);
		a[i].key = k & mask;
		a[i].idx = (uint32_t)i;
		ref[i] = a[i];
	}
	qsort(ref, n, sizeof *ref, kv_cmp);
	tn_radix_kv *out = tn_radix_sort_kv(a, tmp, n, bits);
	assert_true(out == a || out == tmp);
	for (size_t i = 0; i < n; i++) {
		assert_true(out[i].key == ref[i].key);
		assert_int_equal(out[i].idx, ref[i].idx);
	}
	free(a);
	free(tmp);
	free(ref);
}

static void test_kv_widths(void **state)
{
	(void)state;
	static const int widths[] = {1, 8, 11, 12, 15, 22, 23, 34, 35, 63, 64};
	for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
		check_kv(5000, widths[w], 0, 1 + w);
		check_kv(5000, widths[w], 1, 100 + w); /* many equal keys: stability */
	}
	check_kv(1, 20, 0, 7);
	check_kv(0, 20, 0, 7);
}

/* Width 0 (one customer, rising times): no pass, the input order stays. */
static void test_kv_zero_bits(void **state)
{
	(void)state;
	tn_radix_kv a[3] = {{0, 2}, {0, 0}, {0, 1}}, tmp[3];
	tn_radix_kv *out = tn_radix_sort_kv(a, tmp, 3, 0);
	assert_ptr_equal(out, a);
	assert_int_equal(out[0].idx, 2);
	assert_int_equal(out[1].idx, 0);
	assert_int_equal(out[2].idx, 1);
}

/* tn_radix_order_u64: a stable ascending order; with INIT, the given order
 * breaks ties (a major key sorted after a minor one). */
static void test_order_u64(void **state)
{
	(void)state;
	enum { N = 4000 };
	uint64_t *minor = malloc(N * sizeof *minor), *major = malloc(N * sizeof *major);
	uint32_t *perm = malloc(N * sizeof *perm);
	assert_true(minor && major && perm);
	uint64_t x = 42;
	for (size_t i = 0; i < N; i++) {
		minor[i] = tn_radix_dkey((double)(tn_rng_splitmix64(&x) % 1000) / 4.0);
		major[i] = tn_rng_splitmix64(&x) % 5;
	}
	assert_int_equal(tn_radix_order_u64(minor, N, perm, 0), 0);
	for (size_t i = 1; i < N; i++) {
		assert_true(minor[perm[i - 1]] <= minor[perm[i]]);
		if (minor[perm[i - 1]] == minor[perm[i]])
			assert_true(perm[i - 1] < perm[i]);
	}
	assert_int_equal(tn_radix_order_u64(major, N, perm, 1), 0);
	for (size_t i = 1; i < N; i++) {
		uint32_t p = perm[i - 1], q = perm[i];
		assert_true(major[p] < major[q] || (major[p] == major[q] && minor[p] <= minor[q]));
	}
	free(minor);
	free(major);
	free(perm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_widths),
		cmocka_unit_test(test_kv_zero_bits),
		cmocka_unit_test(test_order_u64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
