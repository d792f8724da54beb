/* test_rng.c -- the one RNG (src/base/rng.c): published test vectors, the demo's
 * seeding, reproducibility, and a distribution check. */
#include "testutil.h"
#include "base/rng.h"

/* SplitMix64 from state 0: the outputs of Vigna's splitmix64.c
 * (prng.di.unimi.it), also those of Java's SplittableRandom mixer. */
static void test_splitmix_vectors(void **state)
{
	(void)state;
	uint64_t x = 0;
	assert_true(tn_rng_splitmix64(&x) == 0xe220a8397b1dcdafull);
	assert_true(tn_rng_splitmix64(&x) == 0x6e789e6aa1b965f4ull);
	assert_true(tn_rng_splitmix64(&x) == 0x06c45d188009454full);
	assert_true(x == 3 * 0x9E3779B97F4A7C15ull);
}

/* xoshiro256** from the state {1, 2, 3, 4}: the first output is
 * rotl(2 * 5, 7) * 9 = 11520 by hand; the rest as in the rand_xoshiro test
 * suite (and an independent Python transcription of xoshiro256starstar.c). */
static void test_xoshiro_vectors(void **state)
{
	(void)state;
	tn_rng r = {{1, 2, 3, 4}};
	assert_true(tn_rng_next(&r) == 11520u);
	assert_true(tn_rng_next(&r) == 0u);
	assert_true(tn_rng_next(&r) == 1509978240u);
	assert_true(tn_rng_next(&r) == 1215971899390074240ull);
}

/* The demo's seeding (seed, stream) -> state is the one its planted figures
 * were generated with: x = seed * FNV prime ^ (stream + constant), then four
 * SplitMix64 outputs.  Values from a Python transcription of that rule. */
static void test_seed_stream(void **state)
{
	(void)state;
	tn_rng r;
	tn_rng_seed(&r, 42, 7);
	assert_true(tn_rng_next(&r) == 0xc96d71a85a30eef5ull);
	assert_true(tn_rng_next(&r) == 0xef477eef3ed33ac4ull);
	assert_true(tn_rng_next(&r) == 0x930e548bf23ca6e1ull);
}

static void test_reproducible(void **state)
{
	(void)state;
	tn_rng a, b, c;
	tn_rng_seed(&a, 2024, 3);
	tn_rng_seed(&b, 2024, 3);
	tn_rng_seed(&c, 2024, 4);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t va = tn_rng_next(&a), vc = tn_rng_next(&c);
		assert_true(va == tn_rng_next(&b));
		differ += va != vc;
	}
	assert_true(differ > 990); /* another stream is another sequence */
}

/* Uniform (0, 1): never 0 or 1; mean 1/2 and a chi-square over 20 bins. */
static void test_uniform(void **state)
{
	(void)state;
	enum { N = 200000, BINS = 20 };
	tn_rng r;
	tn_rng_seed(&r, 1, 0);
	long count[BINS] = {0};
	double sum = 0;
	for (int i = 0; i < N; i++) {
		double u = tn_rng_unif(&r);
		assert_true(u > 0 && u < 1);
		sum += u;
		count[(int)(u * BINS)]++;
	}
	/* the mean's sd is sqrt(1/12/N) = 6.5e-4: 5 sd */
	assert_near(sum / N, 0.5, 5 * sqrt(1.0 / 12 / N));
	double chi = 0, e = (double)N / BINS;
	for (int k = 0; k < BINS; k++)
		chi += (count[k] - e) * (count[k] - e) / e;
	/* chi-square, 19 df: the 0.999 quantile is 43.82 (qchisq(0.999, 19) in R) */
	assert_true(chi < 43.82);
	assert_true(tn_rng_u01(0) == 0);
	assert_true(tn_rng_u01(UINT64_MAX) < 1);
}

/* the OS's bytes until pinned (two draws differ); pinned, the same stream
 * for the same seed (last: nothing unpins it) */
static void test_random_bytes(void **state)
{
	(void)state;
	unsigned char a[33], b[33], c[33];
	assert_int_equal(tn_random_bytes(a, sizeof a), 0);
	assert_int_equal(tn_random_bytes(b, sizeof b), 0);
	assert_true(memcmp(a, b, sizeof a) != 0);
	tn_random_pin(7);
	assert_int_equal(tn_random_bytes(a, sizeof a), 0);
	assert_int_equal(tn_random_bytes(b, sizeof b), 0);
	tn_random_pin(7);
	assert_int_equal(tn_random_bytes(c, sizeof c), 0);
	assert_memory_equal(a, c, sizeof a);
	assert_true(memcmp(a, b, sizeof a) != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splitmix_vectors), cmocka_unit_test(test_xoshiro_vectors),
		cmocka_unit_test(test_seed_stream),	 cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_uniform),	 cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
