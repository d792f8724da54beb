/*
 * test_fastnum.c -- tn_parse_double (Clinger's and Eisel-Lemire's exact fast
 * paths, then strtod)
 * gives the same answer as the reference (strtod in the "C" locale on the
 * trimmed field, tn_parse_double_strtod) on millions of decimal strings:
 * the same accept/reject decision and, when accepted, the same bits.
 * Random strings are drawn in the shapes CSV files hold (integers, fixed
 * decimals, %.17g output, exponents near the fast path's limits, leading and
 * trailing zeros, signs, spaces) plus hand-picked edge cases (2^53 +- 1,
 * 1e22/1e23, halfway cases, subnormals, overflow, junk).  The locale test
 * (test_locale.c) covers a ',' locale; this one runs in de_DE too when
 * available, so the fast path is checked not to depend on the locale.
 */
#include "testutil.h"
#include "base/fastnum.h"
#include "base/frame_internal.h"
#include "base/rng.h"
#include "tenure/frame.h"

#include <locale.h>

static long long nfast, nchecked;

static void check(const char *s, size_t len)
{
	double a = 12345.0, b = 12345.0;
	int ra = tn_parse_double(s, len, &a);
	int rb = tn_parse_double_strtod(s, len, &b);
	if (ra != rb)
		fail_msg("\"%.*s\": fast path says %s, strtod says %s", (int)len, s, ra ? "no" : "yes",
			 rb ? "no" : "yes");
	if (ra == 0 && memcmp(&a, &b, sizeof a) != 0)
		fail_msg("\"%.*s\": fast path %.17g (%a), strtod %.17g (%a)", (int)len, s, a, a, b, b);
	double c;
	nfast += tn_fastnum_parse(s, len, &c);
	nchecked++;
}

static void check_str(const char *s) { check(s, strlen(s)); }

static void test_edge_cases(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"0", "-0", "+0", "0.0", "-0.0", "00", "0e0", "0e-400", "-0e999", "0.000000000000000000000000001",
		"1", "-1", "+1", "1.", ".5", "-.5", "+.5", ".", "-", "+", "", " ", "e5", ".e5", "1e", "1e+", "1e-",
		"1.5e", "1..2", "1.2.3", "--1", "+-1", "1-", "1e5.5", "1,5", "1 5", " 1", "1 ", "\t-2.5\t", "x",
		"0x10", "0X1p3", "inf", "-inf", "Infinity", "nan", "NaN", "NA", "1e308", "1e309", "-1e309",
		"1.7976931348623157e308", "1.7976931348623159e308", "2.2250738585072011e-308",
		"2.2250738585072014e-308", "4.9e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
		"1e-400", "9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994",
		"9007199254740995", "18014398509481985", "9007199254740993.0", "900719925474099.3e1",
		"1e22", "1e23", "1e-22", "1e-23", "9e22", "9007199254740992e22", "9007199254740991e-22",
		"123456789012345678", "1234567890123456789", "12345678901234567890", "0.1", "0.2", "0.3",
		"0.30000000000000004", "0.1e1", "1e15", "1e16", "1e17", "1e37", "1e38", "3e37", "3e38",
		"8.98846567431158e307", "3.14159265358979323846264338327950288", "1e-5", "5e-324", "1E5",
		"1E+05", "1e-05", "00000000000000000000000000001", "1.00000000000000000000",
		"107.75", "5.11", "0.9959", "-273.15", "1e+308", "123456789e-300",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_str(cases[i]);
}

static size_t digits(tn_rng *r, char *p, int n, int lead_nonzero)
{
	for (int i = 0; i < n; i++) {
		int d = (int)(tn_rng_next(r) % 10);
		if (i == 0 && lead_nonzero && d == 0)
			d = 1 + (int)(tn_rng_next(r) % 9);
		p[i] = (char)('0' + d);
	}
	return (size_t)n;
}

static void random_strings(uint64_t seed, long n)
{
	tn_rng r;
	tn_rng_seed(&r, seed, 17);
	char buf[96];
	for (long k = 0; k < n; k++) {
		uint64_t x = tn_rng_next(&r);
		size_t len = 0;
		int shape = (int)(x % 8);
		x >>= 3;
		if (x & 1)
			buf[len++] = (x & 2) ? '-' : '+';
		x >>= 2;
		if (shape == 0) { /* integer */
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % 20), 0);
		} else if (shape == 1 || shape == 2) { /* fixed decimal */
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % 8), 1);
			buf[len++] = '.';
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % (shape == 1 ? 6 : 14)), 0);
		} else if (shape == 3) { /* a double printed with %.17g / %.15g / %.6g */
			double v;
			uint64_t bits = tn_rng_next(&r);
			memcpy(&v, &bits, sizeof v);
			if (!isfinite(v))
				v = 1.5;
			static const int prec[] = {17, 16, 15, 6};
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%.*g", prec[x % 4], v);
		} else if (shape == 4) { /* a uniform number printed in a few ways */
			double v = tn_rng_u01(tn_rng_next(&r)) * pow(10, (double)(int)(tn_rng_next(&r) % 30) - 10);
			len += (size_t)snprintf(buf + len, sizeof buf - len, (x & 4) ? "%.17g" : "%.10f", v);
		} else if (shape == 5) { /* mantissa and exponent near the fast path's limits */
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % 19), 1);
			if (x & 4) {
				buf[len++] = '.';
				len += digits(&r, buf + len, (int)(tn_rng_next(&r) % 5), 0);
			}
			buf[len++] = (x & 8) ? 'E' : 'e';
			if (x & 16)
				buf[len++] = (x & 32) ? '-' : '+';
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%d", (int)(tn_rng_next(&r) % 60));
		} else if (shape == 6) { /* leading / trailing zeros */
			int z = (int)(tn_rng_next(&r) % 12);
			for (int i = 0; i < z; i++)
				buf[len++] = '0';
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % 17), 0);
			buf[len++] = '.';
			len += digits(&r, buf + len, (int)(tn_rng_next(&r) % 6), 0);
			z = (int)(tn_rng_next(&r) % 12);
			for (int i = 0; i < z; i++)
				buf[len++] = '0';
		} else { /* integers around 2^53 and near-halfway 17-digit values */
			uint64_t m = (UINT64_C(1) << 53) + (tn_rng_next(&r) % 64) - 32;
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%llu", (unsigned long long)m);
			if (x & 4) {
				buf[len++] = 'e';
				len += (size_t)snprintf(buf + len, sizeof buf - len, "%d", (int)(tn_rng_next(&r) % 45) - 22);
			}
		}
		/* now and then: surrounding spaces, or a corrupted byte */
		uint64_t y = tn_rng_next(&r);
		if (y % 64 == 0 && len + 2 < sizeof buf) {
			memmove(buf + 1, buf, len);
			buf[0] = ' ';
			buf[++len] = '\t';
			len++;
		} else if (y % 64 == 1 && len) {
			static const char junk[] = "e.+-x ,E0";
			buf[(y >> 8) % len] = junk[(y >> 16) % (sizeof junk - 1)];
		}
		check(buf, len);
	}
}

static void test_random_strings(void **state)
{
	(void)state;
	nfast = nchecked = 0;
	random_strings(1, 8000000);
	/* the test means something only if the fast path took most of them */
	if (nfast * 3 < nchecked)
		fail_msg("the fast path took only %lld of %lld strings", nfast, nchecked);
}

/* Strings aimed at the Eisel-Lemire path (more than 2^53 or an exponent
 * beyond Clinger's): %.17g of random bit patterns over every exponent, exact
 * halfway points between two neighbouring doubles (ties to even) and strings
 * one unit above and below them, 19-digit near-halfway values, random
 * mantissas with exponents across the whole range including the subnormal
 * and overflow edges. */
static void el_strings(uint64_t seed, long n)
{
	tn_rng r;
	tn_rng_seed(&r, seed, 23);
	char buf[128];
	long long fast17 = 0, n17 = 0;
	for (long k = 0; k < n; k++) {
		uint64_t x = tn_rng_next(&r);
		int shape = (int)(x % 5);
		x >>= 3;
		size_t len = 0;
		if (x & 1)
			buf[len++] = '-';
		x >>= 1;
		if (shape == 0) { /* shortest-ish round trip of any finite double */
			double v;
			uint64_t bits = tn_rng_next(&r);
			memcpy(&v, &bits, sizeof v);
			if (!isfinite(v))
				v = 2.5e-300;
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%.*g", (x & 1) ? 17 : 16, fabs(v));
			double c;
			n17++;
			fast17 += tn_fastnum_parse(buf, len, &c);
		} else if (shape == 1) { /* exact halfway (2m+1) * 2^(e-1), and +-1 unit */
			uint64_t m = (UINT64_C(1) << 52) | (tn_rng_next(&r) & ((UINT64_C(1) << 52) - 1));
			uint64_t h = 2 * m + 1;
			int e = (int)(tn_rng_next(&r) % 15) - 4; /* -4 .. 10 */
			int s = 0;
			if (e - 1 >= 0) {
				h <<= (e - 1);
			} else {
				s = 1 - e; /* h / 2^s = h * 5^s / 10^s */
				for (int i = 0; i < s; i++)
					h *= 5;
			}
			int d = (int)((x >> 1) % 3) - 1;
			h += (uint64_t)(int64_t)d;
			char digs[32];
			int nd = snprintf(digs, sizeof digs, "%llu", (unsigned long long)h);
			if (s == 0) {
				memcpy(buf + len, digs, (size_t)nd);
				len += (size_t)nd;
				if (x & 16) { /* the same value as mantissa + exponent */
					size_t t = len, start = len - (size_t)nd;
					while (t > start + 1 && buf[t - 1] == '0')
						t--;
					int z = (int)(len - t);
					len = t + (size_t)snprintf(buf + t, sizeof buf - t, "e%d", z);
				}
			} else {
				memcpy(buf + len, digs, (size_t)(nd - s));
				len += (size_t)(nd - s);
				buf[len++] = '.';
				memcpy(buf + len, digs + nd - s, (size_t)s);
				len += (size_t)s;
			}
		} else if (shape == 2) { /* 19 digits next to the midpoint of two neighbours */
			double v;
			uint64_t bits = tn_rng_next(&r) & ~(UINT64_C(1) << 63);
			memcpy(&v, &bits, sizeof v);
			if (!isfinite(v) || v == 0)
				v = 1.0;
			long double mid = ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%.*Le", 16 + (int)(x % 3), mid);
		} else if (shape == 3) { /* random mantissa, exponent anywhere */
			len += digits(&r, buf + len, 1 + (int)(tn_rng_next(&r) % 19), 1);
			if (x & 2) {
				buf[len++] = '.';
				len += digits(&r, buf + len, (int)(tn_rng_next(&r) % 6), 0);
			}
			buf[len++] = 'e';
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%d", (int)(tn_rng_next(&r) % 700) - 360);
		} else { /* near the subnormal and overflow edges */
			static const char *const lead[] = {"2.2250738585072", "4.9406564584124", "1.797693134862315",
							   "2.225073858507201", "1.7976931348623", "9.999999999999999"};
			static const int ex[] = {-308, -324, 308, -308, 308, 307};
			int i = (int)(x % 6);
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%de%d", lead[i],
						(int)(tn_rng_next(&r) % 100), ex[i] + (int)(tn_rng_next(&r) % 3) - 1);
		}
		check(buf, len);
	}
	/* the 16/17-digit strings are what Eisel-Lemire is for: it must take them */
	if (fast17 * 100 < n17 * 99)
		fail_msg("the fast path took only %lld of %lld 16/17-digit strings", fast17, n17);
}

static void test_eisel_lemire(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"9007199254740993", "9007199254740993e1", "18014398509481987", "36028797018963975",
		"1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308",
		"2.2250738585072014e-308", "2.2250738585072011e-308", "2.225073858507201e-308",
		"4.9406564584124654e-324", "1e-307", "1e-308", "1e-309", "1e-342", "1e-343", "1e308", "1e309",
		"9999999999999999999", "9999999999999999999e-400", "1000000000000000000e290",
		"0.1000000000000000055511151231257827", "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
		"1.00000000000000011102230246251565404236316680908203124", "9214843084008499", "30078505129381147446200",
		"1777820000000000000001", "0.500000000000000166533453693773481063544750213623046875",
		"3.518437208883201171875e13", "62.5364939768271845828", "8.10109172351e-10", "1.50000000000000011102230246251565404236316680908203125",
		"9007199254740991.4999999999999999999999999999999999999999999999999999999999999999999999",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		check_str(cases[i]);
	el_strings(3, 6000000);
}

/* The same in a locale whose decimal point is ',' (when it can be loaded:
 * tests/run.sh compiles de_DE.UTF-8 into $TENURE_TEST_LOCPATH). */
static void test_random_strings_de(void **state)
{
	(void)state;
	const char *lp = getenv("TENURE_TEST_LOCPATH");
	if (lp && *lp)
		setenv("LOCPATH", lp, 1);
	if (!setlocale(LC_ALL, "de_DE.UTF-8"))
		fail_msg("no de_DE.UTF-8 locale (TENURE_TEST_LOCPATH=%s)", lp ? lp : "unset");
	double v = 0;
	assert_int_equal(tn_parse_double("1.5", 3, &v), 0);
	assert_true(v == 1.5);
	assert_int_not_equal(tn_parse_double("1,5", 3, &v), 0);
	random_strings(2, 500000);
	setlocale(LC_ALL, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_random_strings),
		cmocka_unit_test(test_eisel_lemire),
		cmocka_unit_test(test_random_strings_de),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
