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
#include <string.h>

#include "base/fastnum_pow5.h"

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

#if FASTNUM_OK && defined(__SIZEOF_INT128__)
#define EISEL_LEMIRE 1
__extension__ typedef unsigned __int128 u128;

/*
 * Eisel-Lemire (Lemire, "Number Parsing at a Gigabyte per Second", 2021):
 * the double nearest to w * 10^q (w != 0, at most 19 digits) from one or two
 * 64x64->128-bit products of the normalised w with a 128-bit truncation of
 * 5^q (fastnum_pow5.h).  The paper proves the truncated product decides the
 * rounding except when its low word is all ones (then we give up) and that
 * exact halfway cases only occur for -4 <= q <= 23 (resolved to even below).
 * Results that would be subnormal, zero or infinite are left to strtod (it
 * also sets ERANGE there), so this path only ever returns normal doubles.
 * Returns 1 with *bits set (no sign), 0 to fall back.
 */
static int eisel_lemire(uint64_t w, long q, uint64_t *bits)
{
	if (q < TN_POW5_MIN || q > TN_POW5_MAX)
		return 0;
	int lz = __builtin_clzll(w);
	w <<= lz;
	const uint64_t *t = tn_pow5_128[q - TN_POW5_MIN];
	u128 p = (u128)w * t[0];
	uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
	if ((hi & 0x1FF) == 0x1FF) {
		/* the 9 bits below the 55 we keep are all ones: a carry from the
		 * next 64 bits of 5^q could change them, so take those in */
		uint64_t hi2 = (uint64_t)(((u128)w * t[1]) >> 64);
		lo += hi2;
		if (hi2 > lo)
			hi++;
	}
	if (lo == UINT64_MAX)
		return 0; /* cannot tell from 128 bits: strtod */
	int upper = (int)(hi >> 63);
	uint64_t m = hi >> (upper + 9);
	/* floor(q * log2(10)) + 63, exact over the table's range */
	long e2 = ((217706L * q) >> 16) + 63 + upper - lz + 1023;
	if (e2 <= 0)
		return 0; /* subnormal or zero */
	if (lo <= 1 && q >= -4 && q <= 23 && (m & 3) == 1 && (m << (upper + 9)) == hi)
		m &= ~UINT64_C(1); /* exactly halfway: round to even (down) */
	m += m & 1;
	m >>= 1;
	if (m >= (UINT64_C(2) << 52)) {
		m = UINT64_C(1) << 52;
		e2++;
	}
	if (e2 >= 0x7FF)
		return 0; /* overflow: strtod's ERANGE */
	*bits = (m & ~(UINT64_C(1) << 52)) | ((uint64_t)e2 << 52);
	return 1;
}
#else
#define EISEL_LEMIRE 0
#endif

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
	double v;
	if (w > TWO53) {
		goto slow;
	} else if (w == 0) {
		v = 0.0; /* any exponent: zero (strtod gives zero, signed) */
	} else if (q >= 0 && q <= 22) {
		v = (double)w * pow10_exact[q];
	} else if (q < 0 && q >= -22) {
		v = (double)w / pow10_exact[-q];
	} else if (q > 22 && q <= 22 + 15) {
		/* w * 10^(q-22) exact as an integer <= 2^53, then one rounding */
		uint64_t m = pow10_int[q - 22];
		if (w > TWO53 / m)
			goto slow;
		v = (double)(w * m) * pow10_exact[22];
	} else {
		goto slow;
	}
	*out = neg ? -v : v;
	return 1;
slow:
#if EISEL_LEMIRE
	{
		uint64_t bits;
		if (!eisel_lemire(w, q, &bits))
			return 0;
		bits |= (uint64_t)neg << 63;
		memcpy(out, &bits, sizeof bits);
		return 1;
	}
#else
	return 0;
#endif
}
