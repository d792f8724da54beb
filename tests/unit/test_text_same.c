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

static void test_same_predictions(void **state)
{
	(void)state;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_predictions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
