/* test_hashmap.c -- the one string hash map (src/base/hashmap.c): growth, keys
 * that collide, values, limits, and the repeated-row finder. */
#include "testutil.h"
#include "base/hashmap.h"

/* FNV-1a 64: the offset basis for "" and the published value for "a"
 * (Fowler/Noll/Vo test suite, http://www.isthe.com/chongo/src/fnv/test_fnv.c). */
static void test_fnv(void **state)
{
	(void)state;
	assert_true(tn_hash_str("") == 0xcbf29ce484222325ull);
	assert_true(tn_hash_str("a") == 0xaf63dc4c8601ec8cull);
	assert_true(tn_hash_str("foobar") == 0x85944171f73967e8ull);
}

/* 100000 keys: every one found at its index with its value, through many
 * doublings of the table; absent keys are absent. */
static void test_growth(void **state)
{
	(void)state;
	tn_strmap *m = tn_strmap_new();
	assert_non_null(m);
	assert_int_equal(tn_strmap_find(m, "x"), TN_STRMAP_NONE);
	char key[32];
	size_t bytes = 0;
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "cust-%d", i);
		size_t k;
		assert_int_equal(tn_strmap_add(m, key, &k), 1);
		assert_int_equal(k, (size_t)i);
		tn_strmap_set(m, k, -i);
		bytes += strlen(key) + 1;
	}
	assert_int_equal(tn_strmap_count(m), 100000);
	assert_int_equal(tn_strmap_bytes(m), bytes);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "cust-%d", i);
		size_t k = tn_strmap_find(m, key);
		assert_int_equal(k, (size_t)i);
		assert_string_equal(tn_strmap_key(m, k), key);
		assert_true(tn_strmap_val(m, k) == -i);
	}
	assert_int_equal(tn_strmap_find(m, "cust-100000"), TN_STRMAP_NONE);
	assert_int_equal(tn_strmap_find(m, "cust-"), TN_STRMAP_NONE);
	assert_int_equal(tn_strmap_find(m, ""), TN_STRMAP_NONE);
	tn_strmap_free(m);
}

/* Adding a key twice keeps the first index and value; the empty string is a key. */
static void test_duplicates(void **state)
{
	(void)state;
	tn_strmap *m = tn_strmap_new();
	size_t k = 99;
	assert_int_equal(tn_strmap_add(m, "", &k), 1);
	assert_int_equal(k, 0);
	assert_int_equal(tn_strmap_add(m, "b", NULL), 1);
	tn_strmap_set(m, 1, 7);
	assert_int_equal(tn_strmap_add(m, "b", &k), 0);
	assert_int_equal(k, 1);
	assert_true(tn_strmap_val(m, 1) == 7);
	assert_int_equal(tn_strmap_add(m, "", &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(tn_strmap_count(m), 2);
	assert_int_equal(tn_strmap_find(m, ""), 0);
	tn_strmap_free(m);
}

/* Keys whose FNV-1a hashes agree in the low 12 bits share one home slot in
 * any table of up to 4096 slots, so they form one probe run; each is still
 * told apart by its text. */
static void test_collisions(void **state)
{
	(void)state;
	enum { WANT = 40 };
	char keys[WANT][16];
	int n = 0;
	uint64_t low = tn_hash_str("k0") & 0xfff;
	for (int i = 0; n < WANT && i < 10000000; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		if ((tn_hash_str(key) & 0xfff) == low)
			snprintf(keys[n++], sizeof keys[0], "%s", key);
	}
	assert_int_equal(n, WANT);
	tn_strmap *m = tn_strmap_new();
	for (int i = 0; i < WANT; i++)
		assert_int_equal(tn_strmap_add(m, keys[i], NULL), 1);
	for (int i = 0; i < WANT; i++) {
		assert_int_equal(tn_strmap_find(m, keys[i]), (size_t)i);
		assert_int_equal(tn_strmap_add(m, keys[i], NULL), 0);
	}
	assert_int_equal(tn_strmap_count(m), WANT);
	tn_strmap_free(m);
}

static void test_rows(void **state)
{
	(void)state;
	const double x[] = {1, 2, 1, 1, 0.0, NAN, NAN, 2};
	const double y[] = {5, 5, 5, 6, 3, 1, 1, 5};
	const double z[] = {0, 0, 0, 0, -0.0, 1, 1, 0};
	const double *cols[] = {x, y, z};
	uint32_t first[8];
	/* rows 0 and 2 agree, 1 and 7 agree; 4 = (0, 3, -0) is alone; NaN rows equal nothing */
	assert_int_equal(tn_hash_rows(cols, 3, 8, first), 6);
	const uint32_t want[8] = {0, 1, 0, 3, 4, 5, 6, 1};
	for (int i = 0; i < 8; i++)
		assert_int_equal(first[i], want[i]);
	/* two columns: row 3 differs from row 0 only in y */
	assert_int_equal(tn_hash_rows(cols, 1, 8, first), 5); /* x: 1, 2, 0, NaN, NaN */
	assert_int_equal(first[3], 0);
	/* -0 and +0 are equal numbers: one row */
	const double p[] = {0.0, -0.0}, *pc[] = {p};
	assert_int_equal(tn_hash_rows(pc, 1, 2, first), 1);
	assert_int_equal(first[1], 0);
	assert_int_equal(tn_hash_rows(pc, 1, 0, first), 0);
}

/* The fingerprint set: 200000 values (0 and ones colliding in the table's
 * low bits among them) through many doublings; each is held, added once;
 * values never added are not held; a NULL set holds nothing. */
static void test_u64set(void **state)
{
	(void)state;
	assert_int_equal(tn_u64set_has(NULL, 5), 0);
	assert_int_equal(tn_u64set_count(NULL), 0);
	tn_u64set *m = tn_u64set_new();
	assert_non_null(m);
	assert_int_equal(tn_u64set_has(m, 0), 0);
	for (uint64_t i = 0; i < 200000; i++) {
		uint64_t v = i % 2 ? tn_hash_mix64(i) : i << 40; /* even: equal low bits */
		assert_int_equal(tn_u64set_add(m, v), 1);
		assert_int_equal(tn_u64set_add(m, v), 0);
	}
	assert_int_equal(tn_u64set_count(m), 200000);
	assert_true(tn_u64set_bytes(m) >= 2 * 200000 * sizeof(uint64_t));
	for (uint64_t i = 0; i < 200000; i++) {
		assert_int_equal(tn_u64set_has(m, i % 2 ? tn_hash_mix64(i) : i << 40), 1);
		assert_int_equal(tn_u64set_has(m, i % 2 ? tn_hash_mix64(i + 1000000) : (i << 40) + 3), 0);
	}
	/* 0 is kept as 1: both say "maybe" (a filter may, never the reverse) */
	assert_int_equal(tn_u64set_has(m, 0), 1);
	assert_int_equal(tn_u64set_add(m, 1), 0);
	tn_u64set_free(m);
	tn_u64set_free(NULL);
	/* made for 5000 values: they go in without the table growing */
	m = tn_u64set_new_for(5000);
	assert_non_null(m);
	size_t bytes = tn_u64set_bytes(m);
	assert_true(bytes >= 2 * 5000 * sizeof(uint64_t));
	for (uint64_t i = 1; i <= 5000; i++)
		assert_int_equal(tn_u64set_add(m, tn_hash_mix64(i)), 1);
	assert_int_equal(tn_u64set_bytes(m), bytes);
	assert_int_equal(tn_u64set_has(m, tn_hash_mix64(77)), 1);
	tn_u64set_free(m);
}

/* Keys around the 8 bytes an entry holds inline (its head): every prefix of
 * a 20-byte key, keys equal in their first 8 bytes and different after, and
 * keys different only at byte 7 -- each found at its own index, none of the
 * absent neighbours found. */
static void test_heads(void **state)
{
	(void)state;
	static const char base[] = "abcdefghijklmnopqrst";
	char keys[64][24];
	size_t n = 0;
	for (size_t len = 0; len <= 20; len++)
		snprintf(keys[n++], sizeof keys[0], "%.*s", (int)len, base);
	const char *more[] = {"abcdefgX", "abcdefghX", "abcdefghY", "abcdefghXY", "abcdefgh\x01", "xbcdefgh", "a"};
	for (size_t i = 0; i < sizeof more / sizeof *more; i++)
		if (strcmp(more[i], "a") != 0) /* "a" is a prefix above: already there */
			snprintf(keys[n++], sizeof keys[0], "%s", more[i]);
	tn_strmap *m = tn_strmap_new();
	for (size_t i = 0; i < n; i++) {
		size_t idx;
		assert_int_equal(tn_strmap_add(m, keys[i], &idx), 1);
		assert_int_equal(idx, i);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tn_strmap_find(m, keys[i]), i);
		assert_string_equal(tn_strmap_key(m, i), keys[i]);
	}
	const char *absent[] = {"abcdefgY", "abcdefghZ", "abcdefghXZ", "abcdefghijklmnopqrsu", "abcdefghijklmnopqrstu",
				"bbcdefgh", "abcdefg\x02"};
	for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
		assert_int_equal(tn_strmap_find(m, absent[i]), TN_STRMAP_NONE);
	assert_int_equal(tn_strmap_count(m), n);
	tn_strmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnv),	   cmocka_unit_test(test_growth), cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_collisions), cmocka_unit_test(test_rows), cmocka_unit_test(test_u64set),
		cmocka_unit_test(test_heads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
