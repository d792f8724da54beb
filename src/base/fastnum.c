/*
 * fastnum.c -- Clinger's exact fast path for decimal strings (see fastnum.h).
 *
 * Why it is exact: with round-to-nearest IEEE-754 doubles and no excess
 * precision (FLT_EVAL_METHOD == 0, as on x86-64 SSE2 and AArch64), an integer
 * w <= 2^53 and 10^q for 0 <= q <= 22 are both exact doubles, so w * 10^q and
 * w / 10^q are one correctly rounded operation on exact operands: the
 * correctly rounded value of the decimal string, which is what strtod
 * returns.  tests/unit/test_fastnum.c checks bit equality with strtod on
 * millions of strings.
 */
#include "base/fastnum.h"

#include <float.h>
#include <stdint.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0 && FLT_RADIX == 2 && DBL_MANT_DIG == 53
#define FASTNUM_OK 1
#else
#define FASTNUM_OK 0
#endif

static const double pow10_exact[23] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static const uint64_t pow10_int[16] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
};

#define TWO53 (UINT64_C(1) << 53)

int tn_fastnum_parse(const char *s, size_t len, double *out)
{
	if (!FASTNUM_OK)
		return 0;
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int neg = 0;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	uint64_t w = 0;
	int sig = 0;        /* significant digits taken into w (leading zeros skipped) */
	int ndigits = 0;    /* all mantissa digits seen */
	long q = 0;         /* decimal exponent of w */
	while (p < end && *p >= '0' && *p <= '9') {
		if (w || *p != '0') {
			if (++sig > 19)
				return 0;
			w = w * 10 + (uint64_t)(*p - '0');
		}
		p++, ndigits++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			if (w || *p != '0') {
				if (++sig > 19)
					return 0;
				w = w * 10 + (uint64_t)(*p - '0');
			}
			q--;
			p++, ndigits++;
		}
	}
	if (ndigits == 0)
		return 0;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		int eneg = 0;
		if (p < end && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		if (p == end || *p < '0' || *p > '9')
			return 0; /* "1e" and "1e+": strtod's business */
		long e = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			if (e > 100000)
				return 0;
			e = e * 10 + (*p++ - '0');
		}
		q += eneg ? -e : e;
	}
	if (p != end)
		return 0;
	if (w > TWO53)
		return 0;
	double v;
	if (w == 0) {
		v = 0.0; /* any exponent: zero (strtod gives zero, signed) */
	} else if (q >= 0 && q <= 22) {
		v = (double)w * pow10_exact[q];
	} else if (q < 0 && q >= -22) {
		v = (double)w / pow10_exact[-q];
	} else if (q > 22 && q <= 22 + 15) {
		/* w * 10^(q-22) exact as an integer <= 2^53, then one rounding */
		uint64_t m = pow10_int[q - 22];
		if (w > TWO53 / m)
			return 0;
		v = (double)(w * m) * pow10_exact[22];
	} else {
		return 0;
	}
	*out = neg ? -v : v;
	return 1;
}
