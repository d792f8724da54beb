/*
 * fuzz_text.c -- libFuzzer target for feedback text: any bytes must be
 * rejected as invalid UTF-8 or give a valid UTF-8 normalisation, a language
 * and a type, never a crash, a hang or a leak; the keyword scan must find
 * the keywords the reference scan finds; the one-pass normaliser gives the
 * reference's bytes (or declines) and rejects what is not UTF-8; the vector
 * code (AVX-512, where the CPU has it) and the scalar code classify alike.
 */
#include "tenure/feedback.h"
#include "tenure/utf8.h"
#include "feedback/text_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static tn_fb_model *model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); /* libFuzzer's entry point */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tn_error err = {0};
	if (!model) { /* kept for the whole run (reachable, not a leak) */
		model = tn_fb_model_new(&err);
		if (!model || tn_fb_model_train_csv(model, "data/feedback/train.csv", "text", "type", "theme", NULL, &err))
			__builtin_trap();
		tn_fb_model_add_rule(model, "zz rule", TN_FB_USABILITY, "fuzz theme", &err);
	}
	const char *s = (const char *)data;
	int valid = tn_text_validate(s, size, &err) == TN_OK;
	if (valid != tn_utf8_valid(s, size, NULL) && size <= TN_TEXT_MAX)
		__builtin_trap(); /* the two validators agree */
	tn_error_clear(&err);
	size_t n;
	char *out = tn_text_normalize(s, size, &n, &err);
	if (!valid != !out)
		__builtin_trap();
	static char fast[8192];
	size_t fl = size < sizeof fast ? tn_text_norm_into(s, size, NULL, fast, sizeof fast) : (size_t)-1;
	if (fl != (size_t)-1 && (!valid || fl != n || memcmp(fast, out, n) != 0))
		__builtin_trap(); /* the one pass is the reference's normalisation */
	if (!valid) {
		tn_fb_result r;
		if (tn_fb_classify(model, s, size, &r, &err) == TN_OK)
			__builtin_trap(); /* not UTF-8: refused */
		tn_error_clear(&err);
	}
	if (out) {
		/* NFKC with case folding maps one code point to at most 11 times
		 * its bytes (U+FDFA, 3 bytes to 33; UAX #15 section 9 gives x11 for
		 * UTF-8 NFKC, and every code point was checked against the
		 * system's utf8proc with the normaliser's flags); the fold never
		 * lengthens.  U+3307 (3 bytes to 15) broke an earlier bound of 4. */
		if (strlen(out) != n || !tn_utf8_valid(out, n, NULL) || n > 11 * size)
			__builtin_trap();
		/* the keyword scan finds what the reference scan finds (issue 17) */
		unsigned char a[TN_FB_MAX_KWS], b[TN_FB_MAX_KWS];
		memset(a, 0, model->nkws);
		memset(b, 0, model->nkws);
		if (tn_fb_kw_scan(model, out, n, a) != tn_fb_kw_scan_ref(model, out, n, b) ||
		    memcmp(a, b, model->nkws) != 0)
			__builtin_trap();
		int lang = tn_text_detect_lang(s, size);
		if (lang < 0 || lang >= TN_LANG_COUNT)
			__builtin_trap();
		tn_fb_result r, r0;
		if (tn_fb_classify(model, s, size, &r, &err) || r.type < 0 || r.type >= TN_FB_NTYPES ||
		    !(r.confidence > 0 && r.confidence <= 1) || !r.theme[0])
			__builtin_trap();
		int vec = tn_fb_simd(0);
		int rc0 = tn_fb_classify(model, s, size, &r0, &err);
		tn_fb_simd(vec);
		if (rc0 || memcmp(&r, &r0, sizeof r) != 0)
			__builtin_trap(); /* the scalar code gives the same result to the bit */
		free(out);
	}
	return 0;
}
