/*
 * test_text_same.c -- feedback classification gives the same predictions as
 * before its speed-ups (issue 17): the type, the theme, the language, the rule
 * flag and the confidence to the last bit, for a fixed corpus of 3,000 texts
 * generated here (the held-out texts, then texts mixed from the words of the
 * training and held-out files in English, Arabic and Persian, seed fixed),
 * against tests/data/feedback/classify_expected.tsv, which was written by the
 * classifier as it was before the change (TN_WRITE_EXPECTED=PATH writes the
 * file again from the current code; only for a deliberate model change).
 * The model: trained on data/feedback/train.csv plus one user rule.
 */
#include "testutil.h"
#include "base/rng.h"
#include "tenure/feedback.h"
#include "tenure/frame.h"
#include "feedback/text_internal.h"

#define NTEXTS 3000

static char *corpus[NTEXTS];

static void make_corpus(void)
{
	tn_error err = {0};
	tn_frame *tr = tn_frame_read_csv("../../data/feedback/train.csv", NULL, 0, &err);
	tn_frame *ho = tn_frame_read_csv("../../data/feedback/heldout.csv", NULL, 0, &err);
	if (!tr || !ho)
		fail_msg("feedback data: %s", err.msg);
	int tc = tn_frame_find(tr, "text"), hc = tn_frame_find(ho, "text");
	assert_true(tc >= 0 && hc >= 0);
	/* the words of every text, to mix */
	size_t nw = 0, cap = 1024;
	char **words = malloc(cap * sizeof *words);
	assert_non_null(words);
	for (int pass = 0; pass < 2; pass++) {
		const tn_frame *f = pass ? ho : tr;
		int c = pass ? hc : tc;
		for (size_t i = 0; i < f->nrows; i++) {
			const char *s = f->cols[c].text[i];
			while (*s) {
				while (*s == ' ')
					s++;
				size_t n = strcspn(s, " ");
				if (n) {
					if (nw == cap) {
						cap *= 2;
						words = realloc(words, cap * sizeof *words);
						assert_non_null(words);
					}
					words[nw] = strndup(s, n);
					assert_non_null(words[nw]);
					nw++;
				}
				s += n;
			}
		}
	}
	tn_rng r;
	tn_rng_seed(&r, 2026, 17);
	size_t k = 0;
	for (size_t i = 0; i < ho->nrows && k < NTEXTS; i++)
		corpus[k++] = strdup(ho->cols[hc].text[i]);
	while (k < NTEXTS) {
		char buf[2048];
		size_t len = 0, n = 1 + tn_rng_next(&r) % 30;
		/* words near each other in the list come from the same text and language */
		size_t at = tn_rng_next(&r) % nw;
		for (size_t j = 0; j < n; j++) {
			size_t w = (tn_rng_next(&r) % 4 == 0) ? tn_rng_next(&r) % nw : (at + j) % nw;
			int m = snprintf(buf + len, sizeof buf - len, "%s%s", len ? " " : "", words[w]);
			if (m < 0 || (size_t)m >= sizeof buf - len)
				break;
			len += (size_t)m;
		}
		if (tn_rng_next(&r) % 10 == 0)
			snprintf(buf + len, sizeof buf - len, " 1234 !!");
		corpus[k++] = strdup(buf);
	}
	for (size_t i = 0; i < NTEXTS; i++)
		assert_non_null(corpus[i]);
	for (size_t i = 0; i < nw; i++)
		free(words[i]);
	free(words);
	tn_frame_free(tr);
	tn_frame_free(ho);
}

static tn_fb_model *model(void)
{
	tn_error err = {0};
	tn_fb_model *m = tn_fb_model_new(&err);
	assert_non_null(m);
	size_t n = 0;
	if (tn_fb_model_train_csv(m, "../../data/feedback/train.csv", "text", "type", "theme", &n, &err))
		fail_msg("train: %s", err.msg);
	if (tn_fb_model_add_rule(m, "refund", tn_fb_type_parse("pricing_billing"), "refunds", &err))
		fail_msg("rule: %s", err.msg);
	return m;
}

static void line_of(const tn_fb_result *res, char *buf, size_t n)
{
	snprintf(buf, n, "%s\t%s\t%s\t%d\t%a", tn_fb_type_name(res->type), res->theme, tn_lang_name(res->language),
		 res->by_rule, res->confidence);
}

static void same_predictions(int simd)
{
	tn_fb_simd(simd);
	make_corpus();
	tn_fb_model *m = model();
	const char *out = getenv("TN_WRITE_EXPECTED");
	FILE *fp = out && *out ? fopen(out, "w") : fopen(require_data("feedback/classify_expected.tsv"), "r");
	assert_non_null(fp);
	char want[512], got[512];
	size_t differ = 0;
	for (size_t i = 0; i < NTEXTS; i++) {
		tn_error err = {0};
		tn_fb_result res;
		if (tn_fb_classify(m, corpus[i], strlen(corpus[i]), &res, &err))
			fail_msg("text %zu: %s", i, err.msg);
		line_of(&res, got, sizeof got);
		if (out && *out) {
			fprintf(fp, "%s\n", got);
			continue;
		}
		if (!fgets(want, sizeof want, fp))
			fail_msg("classify_expected.tsv: %zu lines, expected %d", i, NTEXTS);
		want[strcspn(want, "\n")] = '\0';
		if (strcmp(want, got) != 0 && differ++ < 5)
			fprintf(stderr, "text %zu \"%s\": got %s, expected %s\n", i, corpus[i], got, want);
	}
	fclose(fp);
	if (differ)
		fail_msg("%zu of %d predictions differ from the ones made before the speed-ups", differ, NTEXTS);
	tn_fb_model_free(m);
	for (size_t i = 0; i < NTEXTS; i++)
		free(corpus[i]);
}

/* ---- many more texts, altered the ways real feedback differs ------------
 * NMORE texts mixed from the words of both files (English, Arabic, Persian),
 * each word altered now and then: upper case, a letter repeated, a character
 * inserted from ALTER (harakat, tatweel, alef/yeh/kaf/heh variants, Arabic
 * and Persian digits, ZWNJ/ZWJ, NBSP, presentation forms, emoji, accents,
 * fullwidth and ligature letters, curly apostrophes, CJK, Hangul, combining
 * marks), separators varied.  The expected predictions are kept as one
 * 64-bit FNV-1a digest of the result lines per block of BLOCK texts
 * (tests/data/feedback/classify_more_expected.txt, written by the classifier
 * as it was before the speed-ups); a differing block prints its texts. */
#define NMORE 40000
#define BLOCK 100

static const char *const alter[] = {
	"\u0640", "\u064B", "\u064E", "\u0650", "\u0651", "\u0652", "\u0670", "\u0653", "\u0654",
	"\u0655", "\u200C", "\u200D", "\u200B", "\u00A0", "\u0622", "\u0623", "\u0625", "\u0671",
	"\u0649", "\u064A", "\u0626", "\u0643", "\u0629", "\u06C0", "\u0624", "\u060C", "\u061B",
	"\u061F", "\u066A", "\u0660", "\u0665", "\u06F3", "\u06F9", "\uFEFB", "\uFE8E", "\uFB8A",
	"\uFDF2", "\U0001F600", "\U0001F44D", "\u2764\uFE0F", "\u2019", "'", "\u00E9", "\u00C9",
	"\u00DF", "\uFB01", "\uFF21", "\uFF42", "\u2460", "\u00B2", "\u2028", "\u3000", "\t", "\r\n",
	"!!!", "...", "?", "-", "\u00AD", "\u0130", "\u03A3\u0391\u03A3", "\u0451", "\u4E2D\u6587",
	"\u0301", "e\u0301", "\u01C4", "\uFEFF", "\u2126", "\u212B", "\u06D6", "\u1100\u1161",
	"\uAC00\u11A8", "\u0915\u093F", "\u09C7\u09BE", "\U0001D400", "\u1E9E", "\u0131", "10%", "\u066B",
};

static size_t put_word(char *buf, size_t len, size_t cap, const char *w, tn_rng *r)
{
	size_t n = strlen(w), k = tn_rng_next(r) % 100;
	char tmp[512];
	if (n >= sizeof tmp / 2)
		n = sizeof tmp / 2 - 1;
	memcpy(tmp, w, n);
	tmp[n] = '\0';
	if (k < 8) { /* upper case (ASCII letters) */
		for (size_t i = 0; i < n; i++)
			if (tmp[i] >= 'a' && tmp[i] <= 'z')
				tmp[i] = (char)(tmp[i] - 'a' + 'A');
	} else if (k < 18) { /* insert a character at a code point boundary */
		size_t at = tn_rng_next(r) % (n + 1);
		while (at < n && ((unsigned char)tmp[at] & 0xC0) == 0x80)
			at++;
		const char *a = alter[tn_rng_next(r) % (sizeof alter / sizeof alter[0])];
		size_t an = strlen(a);
		memmove(tmp + at + an, tmp + at, n - at + 1);
		memcpy(tmp + at, a, an);
		n += an;
	} else if (k < 22 && n) { /* repeat the first byte (a letter when ASCII) */
		size_t rep = 1 + tn_rng_next(r) % 4;
		if (((unsigned char)tmp[0] & 0x80) == 0) {
			memmove(tmp + rep, tmp, n + 1);
			memset(tmp, tmp[rep], rep);
			n += rep;
		}
	}
	if (len + n + 1 >= cap)
		return len;
	memcpy(buf + len, tmp, n);
	return len + n;
}

static void same_predictions_more(int simd)
{
	tn_fb_simd(simd);
	tn_error err = {0};
	tn_frame *tr = tn_frame_read_csv("../../data/feedback/train.csv", NULL, 0, &err);
	tn_frame *ho = tn_frame_read_csv("../../data/feedback/heldout.csv", NULL, 0, &err);
	if (!tr || !ho)
		fail_msg("feedback data: %s", err.msg);
	size_t nw = 0, cap = 1024;
	char **words = malloc(cap * sizeof *words);
	assert_non_null(words);
	for (int pass = 0; pass < 2; pass++) {
		const tn_frame *f = pass ? ho : tr;
		int c = tn_frame_find(f, "text");
		assert_true(c >= 0);
		for (size_t i = 0; i < f->nrows; i++)
			for (const char *s = f->cols[c].text[i]; *s;) {
				while (*s == ' ')
					s++;
				size_t n = strcspn(s, " ");
				if (n) {
					if (nw == cap) {
						cap *= 2;
						words = realloc(words, cap * sizeof *words);
						assert_non_null(words);
					}
					words[nw] = strndup(s, n);
					assert_non_null(words[nw++]);
				}
				s += n;
			}
	}
	tn_fb_model *m = model();
	const char *out = getenv("TN_WRITE_EXPECTED_MORE");
	FILE *fp = out && *out ? fopen(out, "w") : fopen(require_data("feedback/classify_more_expected.txt"), "r");
	assert_non_null(fp);
	static const char *const seps[] = {" ", " ", " ", " ", "  ", "\u00A0", "\t", "\n", " \u200C ", ", "};
	tn_rng r;
	tn_rng_seed(&r, 2026, 1717);
	static char texts[BLOCK][4096];
	size_t differ = 0;
	for (size_t blk = 0; blk < NMORE / BLOCK; blk++) {
		uint64_t h = 14695981039346656037u;
		for (size_t b = 0; b < BLOCK; b++) {
			char *buf = texts[b];
			size_t len = 0, n = 1 + tn_rng_next(&r) % 40, at = tn_rng_next(&r) % nw;
			const char *sep = seps[tn_rng_next(&r) % (sizeof seps / sizeof seps[0])];
			for (size_t j = 0; j < n; j++) {
				if (j && len + strlen(sep) + 1 < sizeof texts[0]) {
					memcpy(buf + len, sep, strlen(sep));
					len += strlen(sep);
				}
				size_t w = (tn_rng_next(&r) % 4 == 0) ? tn_rng_next(&r) % nw : (at + j) % nw;
				len = put_word(buf, len, sizeof texts[0], words[w], &r);
			}
			buf[len] = '\0';
			tn_fb_result res;
			char line[512];
			if (tn_fb_classify(m, buf, len, &res, &err))
				fail_msg("text %zu: %s", blk * BLOCK + b, err.msg);
			line_of(&res, line, sizeof line);
			for (const char *p = line; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211u;
			h = (h ^ '\n') * 1099511628211u;
		}
		char got[32], want[64];
		snprintf(got, sizeof got, "%016llx", (unsigned long long)h);
		if (out && *out) {
			fprintf(fp, "%s\n", got);
			continue;
		}
		if (!fgets(want, sizeof want, fp))
			fail_msg("classify_more_expected.txt: %zu lines, expected %d", blk, NMORE / BLOCK);
		want[strcspn(want, "\n")] = '\0';
		if (strcmp(want, got) != 0 && differ++ < 3) {
			fprintf(stderr, "block %zu (texts %zu-%zu) differs; its results now:\n", blk, blk * BLOCK,
				blk * BLOCK + BLOCK - 1);
			for (size_t b = 0; b < BLOCK; b++) {
				tn_fb_result res;
				char line[512];
				if (tn_fb_classify(m, texts[b], strlen(texts[b]), &res, &err) == 0) {
					line_of(&res, line, sizeof line);
					fprintf(stderr, "  \"%s\": %s\n", texts[b], line);
				}
			}
		}
	}
	fclose(fp);
	if (differ)
		fail_msg("%zu of %d blocks of predictions differ from the ones made before the speed-ups", differ,
			 NMORE / BLOCK);
	tn_fb_model_free(m);
	for (size_t i = 0; i < nw; i++)
		free(words[i]);
	free(words);
	tn_frame_free(tr);
	tn_frame_free(ho);
}

/* Both code paths (the vector code where the CPU has AVX-512, and the
 * scalar code) against the same expected predictions. */
static void test_same_predictions(void **state)
{
	(void)state;
	same_predictions(1);
}

static void test_same_predictions_scalar(void **state)
{
	(void)state;
	same_predictions(0);
}

static void test_same_predictions_more(void **state)
{
	(void)state;
	same_predictions_more(1);
}

static void test_same_predictions_more_scalar(void **state)
{
	(void)state;
	same_predictions_more(0);
}

/* The features of random texts by the vector and the scalar code: words of
 * 1 to 90 bytes (the vector code takes words up to 62 bytes), ASCII,
 * Arabic, 3- and 4-byte code points, with room for every feature and with
 * the output cut short at random. */
static void test_features_simd_scalar(void **state)
{
	(void)state;
	static const char *const pieces[] = {"a", "b", "z", "0", "\u0627", "\u0644", "\u06CC", "\u067E", "\u00E9",
					     "\u4E2D", "\uFB01", "\U0001F600", " ", " ", "\u2019", "'", "\u0301"};
	tn_rng r;
	tn_rng_seed(&r, 17, 23);
	static uint32_t a[TN_FB_MAX_FEATURES], b[TN_FB_MAX_FEATURES];
	char t[2048];
	int vec = tn_fb_simd(-1);
	for (int k = 0; k < 20000; k++) {
		size_t len = 0, n = tn_rng_next(&r) % 400;
		int longw = tn_rng_next(&r) % 4 == 0; /* long words: spaces rare */
		for (size_t j = 0; j < n; j++) {
			const char *p = pieces[tn_rng_next(&r) % (sizeof pieces / sizeof pieces[0])];
			if (longw && p[0] == ' ' && tn_rng_next(&r) % 8)
				p = "x";
			size_t pl = strlen(p);
			if (len + pl >= sizeof t)
				break;
			memcpy(t + len, p, pl);
			len += pl;
		}
		size_t max = tn_rng_next(&r) % 3 ? TN_FB_MAX_FEATURES : 1 + tn_rng_next(&r) % 200;
		tn_fb_simd(1);
		size_t na = tn_fb_features(t, len, a, max);
		tn_fb_simd(0);
		size_t nb = tn_fb_features(t, len, b, max);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na * sizeof a[0]);
	}
	tn_fb_simd(vec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_predictions),
		cmocka_unit_test(test_same_predictions_more),
		cmocka_unit_test(test_same_predictions_scalar),
		cmocka_unit_test(test_same_predictions_more_scalar),
		cmocka_unit_test(test_features_simd_scalar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
