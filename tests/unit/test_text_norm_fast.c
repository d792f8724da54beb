/*
 * test_text_norm_fast.c -- the per-code-point normalisation table
 * (text_norm.c, issue 17) gives the same bytes as utf8proc_map over the
 * whole text followed by the fold (tn_text_normalize_ref):
 *  - every Unicode scalar value alone (1,112,064 texts);
 *  - every code point of the table's ranges followed and preceded by each
 *    character that composes or reorders (combining marks of several
 *    classes, Hangul jamo, Indic vowel signs, the Arabic hamza/madda marks);
 *  - random texts mixing the table's ranges with code points from anywhere
 *    (TN_NORM_TEXTS of them, 300,000 by default; more for a longer run).
 * tn_text_norm_into must give the reference's bytes whenever it does not
 * decline, and tn_text_normalize (which declines to the reference) always.
 */
#include "testutil.h"
#include "base/rng.h"
#include "feedback/text_internal.h"

#define CAP 8192

static size_t put(int32_t c, char *o)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xC0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xE0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		o[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	o[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

static size_t fast_taken, checked;

/* Compare both paths on S[0..N); a difference fails with the code points. */
static void same(const char *s, size_t n)
{
	static char mid[CAP], out[CAP];
	size_t rl = 0, nl = 0;
	tn_error e1 = {0}, e2 = {0};
	char *ref = tn_text_normalize_ref(s, n, &rl, &e1);
	char *got = tn_text_normalize(s, n, &nl, &e2);
	assert_non_null(ref);
	assert_non_null(got);
	size_t fl = tn_text_norm_into(s, n, mid, out, CAP);
	int bad = rl != nl || memcmp(ref, got, rl) != 0 || (fl != (size_t)-1 && (fl != rl || memcmp(ref, out, rl) != 0));
	if (bad) {
		char hex[1024] = "";
		size_t h = 0;
		for (size_t i = 0; i < n && h + 4 < sizeof hex; i++)
			h += (size_t)snprintf(hex + h, sizeof hex - h, "%02X ", (unsigned char)s[i]);
		fail_msg("text [%s]: reference %zu bytes \"%s\", normalize %zu bytes \"%s\", fast %zu bytes", hex, rl,
			 ref, nl, got, fl);
	}
	fast_taken += fl != (size_t)-1;
	checked++;
	free(ref);
	free(got);
}

static int scalar(int32_t c)
{
	return c >= 0 && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
}

static void test_every_code_point(void **state)
{
	(void)state;
	char b[16];
	fast_taken = checked = 0;
	for (int32_t c = 0; c <= 0x10FFFF; c++)
		if (scalar(c))
			same(b, put(c, b));
	/* around a letter: the table must not be used for what composes */
	for (int32_t c = 0; c <= 0x10FFFF; c += (c < 0x20000 ? 1 : 97))
		if (scalar(c)) {
			size_t n = put('a', b);
			n += put(c, b + n);
			n += put(0x0627, b + n);
			same(b, n);
		}
	assert_true(checked > 1112064);
	/* the common ranges do take the table */
	assert_true(fast_taken > 7000);
}

static const int32_t joiners[] = {
	0x0300, 0x0301, 0x0308, 0x0316, 0x0327, 0x0345, 0x034F, 0x0653, 0x0654, 0x0655, 0x064B, 0x0651, 0x0670,
	0x05B0, 0x05BC, 0x1161, 0x1175, 0x11A8, 0x11C2, 0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0BBE, 0x0CD5, 0x0D3E,
	0x0DCF, 0x102E, 0x1B35, 0x3099, 0x309A, 0x20D0, 0x1DC0, 0xFE20, 0x200D, 0x200C, 0xFE0F, 0x0CC2, 0x093C,
};

static void test_next_to_joiners(void **state)
{
	(void)state;
	static const int32_t lo[] = {0, 0x2000, 0xFB00, 0x1F000}, hi[] = {0x800, 0x2070, 0x10000, 0x1FB00};
	char b[32];
	for (size_t r = 0; r < 4; r++)
		for (int32_t c = lo[r]; c < hi[r]; c++) {
			if (!scalar(c))
				continue;
			for (size_t j = 0; j < sizeof joiners / sizeof joiners[0]; j++) {
				size_t n = put(c, b);
				n += put(joiners[j], b + n);
				same(b, n);
				n = put(joiners[j], b);
				n += put(c, b + n);
				same(b, n);
				n = put(0x1100, b); /* a leading jamo, then the code point */
				n += put(c, b + n);
				same(b, n);
			}
		}
}

static int32_t random_cp(tn_rng *r)
{
	uint64_t x = tn_rng_next(r);
	int32_t c;
	switch (x % 12) {
	case 0: case 1: case 2: c = (int32_t)(0x20 + (x >> 8) % 0x5F); break;      /* ASCII */
	case 3: c = (int32_t)((x >> 8) % 0x20); break;                              /* controls */
	case 4: case 5: c = (int32_t)(0x0600 + (x >> 8) % 0x100); break;            /* Arabic */
	case 6: c = (int32_t)(0x80 + (x >> 8) % 0x780); break;                      /* Latin .. NKo */
	case 7: c = (int32_t)(0xFB00 + (x >> 8) % 0x500); break;                    /* presentation, fullwidth */
	case 8: c = (int32_t)(0x2000 + (x >> 8) % 0x70); break;                     /* punctuation */
	case 9: c = (int32_t)(0x1F000 + (x >> 8) % 0xB00); break;                   /* emoji */
	case 10: c = joiners[(x >> 8) % (sizeof joiners / sizeof joiners[0])]; break;
	default: c = (int32_t)((x >> 8) % 0x110000); break;                         /* anywhere */
	}
	return scalar(c) ? c : 0xFFFD;
}

static void test_random_texts(void **state)
{
	(void)state;
	const char *env = getenv("TN_NORM_TEXTS");
	long n = env && *env ? atol(env) : 300000;
	tn_rng r;
	tn_rng_seed(&r, 17, 2026);
	char b[1024];
	fast_taken = checked = 0;
	for (long t = 0; t < n; t++) {
		size_t len = 0, k = 1 + tn_rng_next(&r) % 40;
		/* most texts stay in the table's ranges, so the fast path runs */
		int table_only = tn_rng_next(&r) % 3 != 0;
		for (size_t i = 0; i < k; i++) {
			int32_t c;
			do
				c = random_cp(&r);
			while (table_only && !(c < 0x800 || (c >= 0x2000 && c < 0x2070) || (c >= 0xFB00 && c < 0x10000) ||
					       (c >= 0x1F000 && c < 0x1FB00)));
			len += put(c, b + len);
		}
		same(b, len);
	}
	assert_true(fast_taken > checked / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_next_to_joiners),
		cmocka_unit_test(test_random_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
