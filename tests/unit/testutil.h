/*
 * testutil.h -- helpers for the cmocka unit tests.
 *
 * assert_near(a, b, tol): |a - b| <= tol, printing both values to 17 digits
 * when it fails (cmocka's assert_float_equal works in float precision only).
 * data_path(): where tests/data lives (the reference data sets the repository
 * carries, sources in tests/data/README.md); tests call require_data() which
 * fails with a clear message when a file is gone.
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

/* Path of a file under tests/data ($TENURE_TEST_DATA when set; the unit
 * tests run from tests/unit, so ../data by default). Returns a static buffer. */
static inline const char *data_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("TENURE_TEST_DATA");
	snprintf(buf, sizeof buf, "%s/%s", root && *root ? root : "../data", rel);
	return buf;
}

/* Fail the test (not skip) when a reference file is missing. */
static inline const char *require_data(const char *rel)
{
	const char *p = data_path(rel);
	FILE *fp = fopen(p, "rb");
	if (!fp)
		fail_msg("reference data %s is missing: the repository carries it under tests/data", p);
	fclose(fp);
	return p;
}

#endif
