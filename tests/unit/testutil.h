/*
 * testutil.h -- helpers for the cmocka unit tests.
 *
 * assert_near(a, b, tol): |a - b| <= tol, printing both values to 17 digits
 * when it fails (cmocka's assert_float_equal works in float precision only).
 * shared_path(): where ../shared/data lives; tests that need a reference data
 * set call require_shared() which fails with a clear message when it is gone.
 */
#ifndef TENURE_TESTUTIL_H
#define TENURE_TESTUTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define assert_near(a, b, tol)                                                                      \
	do {                                                                                        \
		double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                      \
		if (!(fabs(a_ - b_) <= t_))                                                         \
			fail_msg("%s = %.17g, expected %s = %.17g within %g", #a, a_, #b, b_, t_); \
	} while (0)

/* Path of a file under the shared reference data folder (../shared/data by
 * default, $TENURE_SHARED/data when set). Returns a static buffer. */
static inline const char *shared_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("TENURE_SHARED");
	snprintf(buf, sizeof buf, "%s/data/%s", root && *root ? root : "../shared", rel);
	return buf;
}

/* Fail the test (not skip) when a reference file is missing. */
static inline const char *require_shared(const char *rel)
{
	const char *p = shared_path(rel);
	FILE *fp = fopen(p, "rb");
	if (!fp)
		fail_msg("reference data %s is missing: run the tests from a checkout with shared/ beside it", p);
	fclose(fp);
	return p;
}

#endif
