/* test_linalg.c -- the small dense linear algebra (src/base/linalg.c) on matrices
 * whose factors and inverses are known in closed form. */
#include "testutil.h"
#include "base/linalg.h"

/* A = L L' with L = [2 0 0; 6 1 0; -8 5 3] (the worked example in Wikipedia's
 * "Cholesky decomposition"); A x = b for x = (1, 2, 3). */
static void test_cholesky_known(void **state)
{
	(void)state;
	double a[9] = {4, 12, -16, 12, 37, -43, -16, -43, 98};
	const double l[9] = {2, 0, 0, 6, 1, 0, -8, 5, 3};
	assert_int_equal(tn_la_cholesky(a, 3, 1e-10, NULL), 0);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j <= i; j++)
			assert_near(a[i * 3 + j], l[i * 3 + j], 1e-14);
	double b[3] = {-20, -43, 192};
	tn_la_cholesky_solve(a, 3, b);
	assert_near(b[0], 1, 1e-12);
	assert_near(b[1], 2, 1e-12);
	assert_near(b[2], 3, 1e-12);
}

static void test_cholesky_not_pd(void **state)
{
	(void)state;
	double a[4] = {1, 2, 2, 1}; /* eigenvalues 3 and -1 */
	size_t bad = 99;
	assert_int_equal(tn_la_cholesky(a, 2, 0, &bad), -1);
	assert_int_equal(bad, 1);
	/* a relative tolerance refuses a nearly singular pivot that 0 accepts */
	double c[4] = {1, 1, 1, 1 + 1e-13}, d[4] = {1, 1, 1, 1 + 1e-13};
	assert_int_equal(tn_la_cholesky(c, 2, 0, NULL), 0);
	assert_int_equal(tn_la_cholesky(d, 2, 1e-10, &bad), -1);
	double z[1] = {0};
	assert_int_equal(tn_la_cholesky(z, 1, 0, NULL), -1);
}

/* Gaussian elimination needs the row swap here (a zero first pivot). */
static void test_solve_pivoting(void **state)
{
	(void)state;
	double a[9] = {0, 2, 1, 1, 1, 1, 2, 1, 3}, x[3] = {1, -2, 4}, b[3];
	for (int i = 0; i < 3; i++)
		b[i] = a[i * 3] * x[0] + a[i * 3 + 1] * x[1] + a[i * 3 + 2] * x[2];
	assert_int_equal(tn_la_solve(a, b, 3, 1e-12), 0);
	for (int i = 0; i < 3; i++)
		assert_near(b[i], x[i], 1e-12);
	double s[4] = {1, 2, 2, 4}, t[2] = {1, 2};
	assert_int_equal(tn_la_solve(s, t, 2, 1e-12), -1);
}

/* The inverse of the 3 x 3 Hilbert matrix is [9 -36 30; -36 192 -180; 30 -180 180]. */
static void test_invert_hilbert(void **state)
{
	(void)state;
	double h[9], work[9];
	const double inv[9] = {9, -36, 30, -36, 192, -180, 30, -180, 180};
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			h[i * 3 + j] = 1.0 / (i + j + 1);
	assert_int_equal(tn_la_invert(h, 3, 1e-300, work), 0);
	for (int k = 0; k < 9; k++)
		assert_near(h[k], inv[k], 1e-9);
	double s[4] = {1, 2, 2, 4};
	assert_int_equal(tn_la_invert(s, 2, 1e-300, work), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cholesky_known),
		cmocka_unit_test(test_cholesky_not_pd),
		cmocka_unit_test(test_solve_pivoting),
		cmocka_unit_test(test_invert_hilbert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
