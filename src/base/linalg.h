/*
 * linalg.h -- internal: the small dense linear algebra the models share
 * (Cox and logistic Newton steps, the log-rank statistic, standard errors
 * from a Hessian).  Matrices are row-major n x n arrays of double; n is small
 * (a few to a few hundred), so plain O(n^3) loops are the right tool.
 * Not part of the public API.
 */
#ifndef TN_LINALG_H
#define TN_LINALG_H

#include <stddef.h>

/* Cholesky factor A = L L' of the symmetric n x n matrix A, in place: the
 * lower triangle of A becomes L (the upper triangle is not read or written).
 * A pivot must exceed RTOL * |a_jj| (RTOL = 0: must be > 0); otherwise returns
 * -1 with the failing column in *BAD (when BAD is not NULL), else 0. */
int tn_la_cholesky(double *a, size_t n, double rtol, size_t *bad);

/* Solve L L' x = b in place (B becomes x), L from tn_la_cholesky. */
void tn_la_cholesky_solve(const double *l, size_t n, double *b);

/* Solve A x = b in place (B becomes x; A is destroyed) by Gaussian
 * elimination with partial pivoting; -1 when a pivot is below TINY in
 * absolute value (singular for the purpose), else 0. */
int tn_la_solve(double *a, double *b, size_t n, double tiny);

/* Invert A in place by Gauss-Jordan elimination with partial pivoting;
 * WORK holds n * n doubles.  -1 when a pivot is not above TINY in absolute
 * value (A is then left part-reduced), else 0. */
int tn_la_invert(double *a, size_t n, double tiny, double *work);

#endif
