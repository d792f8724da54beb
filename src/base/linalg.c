/*
 * linalg.c -- small dense linear algebra (see linalg.h): Cholesky factor and
 * solve, Gaussian elimination with partial pivoting, Gauss-Jordan inverse.
 * The algorithms are the textbook ones (Golub & Van Loan, "Matrix
 * Computations", 4th ed., alg. 4.2.1 for Cholesky, 3.4.1 for partial
 * pivoting); the order of operations is kept fixed so that results are
 * reproducible to the last bit.
 */
#include "base/linalg.h"

#include <assert.h>
#include <math.h>
#include <string.h>

int tn_la_cholesky(double *a, size_t n, double rtol, size_t *bad)
{
	assert(a && rtol >= 0);
	for (size_t j = 0; j < n; j++) {
		double s = a[j * n + j];
		for (size_t k = 0; k < j; k++)
			s -= a[j * n + k] * a[j * n + k];
		double least = rtol > 0 ? rtol * (fabs(a[j * n + j]) + 1e-300) : 0;
		if (!(s > least)) {
			if (bad)
				*bad = j;
			return -1;
		}
		double l = sqrt(s);
		a[j * n + j] = l;
		for (size_t i = j + 1; i < n; i++) {
			double t = a[i * n + j];
			for (size_t k = 0; k < j; k++)
				t -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = t / l;
		}
	}
	return 0;
}

void tn_la_cholesky_solve(const double *l, size_t n, double *b)
{
	for (size_t i = 0; i < n; i++) { /* L u = b */
		double t = b[i];
		for (size_t k = 0; k < i; k++)
			t -= l[i * n + k] * b[k];
		assert(l[i * n + i] > 0); /* a factor from tn_la_cholesky */
		b[i] = t / l[i * n + i];
	}
	for (size_t i = n; i-- > 0;) { /* L' x = u */
		double t = b[i];
		for (size_t k = i + 1; k < n; k++)
			t -= l[k * n + i] * b[k];
		b[i] = t / l[i * n + i];
	}
}

int tn_la_solve(double *a, double *b, size_t n, double tiny)
{
	for (size_t c = 0; c < n; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < n; r++)
			if (fabs(a[r * n + c]) > fabs(a[piv * n + c]))
				piv = r;
		if (!(fabs(a[piv * n + c]) >= tiny))
			return -1;
		if (piv != c) {
			for (size_t k = 0; k < n; k++) {
				double t = a[c * n + k];
				a[c * n + k] = a[piv * n + k];
				a[piv * n + k] = t;
			}
			double t = b[c];
			b[c] = b[piv];
			b[piv] = t;
		}
		for (size_t r = c + 1; r < n; r++) {
			double f = a[r * n + c] / a[c * n + c];
			for (size_t k = c; k < n; k++)
				a[r * n + k] -= f * a[c * n + k];
			b[r] -= f * b[c];
		}
	}
	/* A is now upper triangular with nonzero diagonal: back substitution */
	for (size_t c = n; c-- > 0;) {
		for (size_t k = c + 1; k < n; k++)
			b[c] -= a[c * n + k] * b[k];
		b[c] /= a[c * n + c];
	}
	return 0;
}

int tn_la_invert(double *a, size_t n, double tiny, double *work)
{
	double *inv = work;
	memset(inv, 0, n * n * sizeof *inv);
	for (size_t i = 0; i < n; i++)
		inv[i * n + i] = 1;
	for (size_t c = 0; c < n; c++) {
		size_t p = c;
		for (size_t r = c + 1; r < n; r++)
			if (fabs(a[r * n + c]) > fabs(a[p * n + c]))
				p = r;
		if (!(fabs(a[p * n + c]) > tiny))
			return -1;
		for (size_t k = 0; k < n; k++) {
			double t = a[c * n + k];
			a[c * n + k] = a[p * n + k];
			a[p * n + k] = t;
			t = inv[c * n + k];
			inv[c * n + k] = inv[p * n + k];
			inv[p * n + k] = t;
		}
		double d = a[c * n + c];
		for (size_t k = 0; k < n; k++) {
			a[c * n + k] /= d;
			inv[c * n + k] /= d;
		}
		for (size_t r = 0; r < n; r++) {
			if (r == c)
				continue;
			double m = a[r * n + c];
			for (size_t k = 0; k < n; k++) {
				a[r * n + k] -= m * a[c * n + k];
				inv[r * n + k] -= m * inv[c * n + k];
			}
		}
	}
	memcpy(a, inv, n * n * sizeof *a);
	return 0;
}
