/*
 * text_norm.c -- UTF-8 validation, normalisation for matching, and language
 * detection (en / ar / fa / mixed) for customer feedback texts.
 *
 * Normalisation is utf8proc (NFKC, case fold, mark stripping, lumping of
 * look-alike punctuation) followed by a small Arabic/Persian fold table in
 * the spirit of the normalisers used for Arabic and Persian retrieval
 * (Larkey, Ballesteros & Connell, "Light stemming for Arabic information
 * retrieval", 2007, section 3: alef forms, yeh/alef maksura, taa marbuta,
 * tatweel, diacritics; hazm's Persian normaliser for yeh/kaf and ZWNJ).
 * Pure-ASCII texts take a fast path with the same result.
 */
#include "tenure/feedback.h"
#include "base/alloc.h"
#include "tenure/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static const char *const lang_names[TN_LANG_COUNT] = {"und", "en", "ar", "fa", "mixed"};

const char *tn_lang_name(int lang)
{
	return lang >= 0 && lang < TN_LANG_COUNT ? lang_names[lang] : "und";
}

int tn_lang_parse(const char *name)
{
	for (int i = 0; i < TN_LANG_COUNT; i++)
		if (strcmp(name, lang_names[i]) == 0)
			return i;
	return -1;
}

/* Decode one code point of valid UTF-8 at S (length left N); returns the
 * number of bytes used (1 for a stray byte, which validated text has not). */
static size_t decode(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned c = s[0];
	if (c < 0x80 || n < 2) {
		*cp = (int32_t)c;
		return 1;
	}
	if (c < 0xE0) {
		*cp = (int32_t)(((c & 0x1Fu) << 6) | (s[1] & 0x3Fu));
		return 2;
	}
	if (c < 0xF0 || n < 4) {
		if (n < 3) {
			*cp = (int32_t)c;
			return 1;
		}
		*cp = (int32_t)(((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
		return 3;
	}
	*cp = (int32_t)(((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu));
	return 4;
}

static size_t encode(int32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int tn_text_validate(const char *str, size_t len, tn_error *err)
{
	const unsigned char *s = (const unsigned char *)str;
	if (len > TN_TEXT_MAX)
		return tn_error_set(err, TN_ERR_INPUT, "text of %zu bytes is longer than the %u-byte limit", len,
				    TN_TEXT_MAX);
	size_t i;
	if (tn_utf8_valid(str, len, &i))
		return TN_OK;
	if (i + 1 < len)
		return tn_error_set(err, TN_ERR_INPUT,
				    "invalid UTF-8 at byte %zu (0x%02X 0x%02X): expected UTF-8 text (re-save the file as UTF-8)",
				    i + 1, s[i], s[i + 1]);
	return tn_error_set(err, TN_ERR_INPUT,
			    "invalid UTF-8 at byte %zu (0x%02X): expected UTF-8 text (re-save the file as UTF-8)", i + 1,
			    i < len ? s[i] : 0);
}

/* The Arabic/Persian fold: returns the replacement code point, or -1 to drop. */
static int32_t fold_cp(int32_t c)
{
	if (c < 0x0600) {
		if (c == 0x00A0)
			return ' ';
		return c;
	}
	switch (c) {
	case 0x0622: case 0x0623: case 0x0625: case 0x0671: case 0x0672: case 0x0673:
		return 0x0627; /* alef forms -> bare alef */
	case 0x0649: case 0x064A: case 0x0626: case 0x06D0:
		return 0x06CC; /* alef maksura, Arabic yeh -> Persian yeh */
	case 0x0643:
		return 0x06A9; /* Arabic kaf -> Persian kaf */
	case 0x0629: case 0x06C0: case 0x06D5: case 0x06C1:
		return 0x0647; /* taa marbuta, heh forms -> heh */
	case 0x0624:
		return 0x0648; /* waw with hamza -> waw */
	case 0x0640:
		return -1; /* tatweel */
	case 0x060C:
		return ',';
	case 0x061B:
		return ';';
	case 0x061F:
		return '?';
	case 0x066A:
		return '%';
	case 0x200B: case 0x200C: case 0x200D: case 0x200E: case 0x200F: case 0xFEFF:
		return -1; /* zero-width characters, ZWNJ joins its halves */
	default:
		break;
	}
	if ((c >= 0x064B && c <= 0x065F) || c == 0x0670 || (c >= 0x06D6 && c <= 0x06ED))
		return -1; /* harakat, Quranic marks */
	if (c >= 0x0660 && c <= 0x0669)
		return '0' + (c - 0x0660);
	if (c >= 0x06F0 && c <= 0x06F9)
		return '0' + (c - 0x06F0);
	return c;
}

static int is_space_cp(int32_t c)
{
	if (c <= ' ' || c == 0x7F) /* white space and control characters (NUL included) */
		return 1;
	if (c < 0x80)
		return 0;
	utf8proc_category_t cat = utf8proc_category(c);
	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
	       cat == UTF8PROC_CATEGORY_CC;
}

static int is_letter_cp(int32_t c)
{
	if (c < 0x80)
		return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	utf8proc_category_t cat = utf8proc_category(c);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

/* Write the fold of S[0..N) to OUT (capacity >= 4 * N + 1): whitespace runs
 * to one space, letters repeated more than twice cut to two, trimmed. */
static size_t fold_into(const unsigned char *s, size_t n, char *out, int ascii)
{
	size_t o = 0, i = 0;
	int32_t p1 = -1, p2 = -1; /* the previous two code points written */
	int pending_space = 0;
	while (i < n) {
		int32_t c;
		if (ascii) {
			c = s[i++];
			if (c >= 'A' && c <= 'Z')
				c += 'a' - 'A';
		} else {
			i += decode(s + i, n - i, &c);
			c = fold_cp(c);
			if (c < 0)
				continue;
		}
		if (is_space_cp(c)) {
			pending_space = o > 0;
			continue;
		}
		if (!pending_space && c == p1 && c == p2 && is_letter_cp(c))
			continue;
		if (pending_space) {
			out[o++] = ' ';
			pending_space = 0;
			p2 = p1, p1 = ' ';
		}
		o += encode(c, out + o);
		p2 = p1, p1 = c;
	}
	out[o] = '\0';
	return o;
}

char *tn_text_normalize(const char *str, size_t len, size_t *outlen, tn_error *err)
{
	if (tn_text_validate(str, len, err))
		return NULL;
	const unsigned char *s = (const unsigned char *)str;
	int ascii = 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 0x80) {
			ascii = 0;
			break;
		}
	if (ascii) {
		char *out = tn_malloc(len + 1);
		if (!out) {
			tn_error_set(err, TN_ERR_NOMEM, "out of memory normalising a text");
			return NULL;
		}
		size_t o = fold_into(s, len, out, 1);
		if (outlen)
			*outlen = o;
		return out;
	}
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)str, (utf8proc_ssize_t)len, &mapped,
					  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
						  UTF8PROC_STRIPMARK | UTF8PROC_LUMP);
	if (m < 0) {
		tn_error_set(err, m == UTF8PROC_ERROR_NOMEM ? TN_ERR_NOMEM : TN_ERR_INPUT,
			     "cannot normalise text: %s", utf8proc_errmsg(m));
		return NULL;
	}
	/* the fold never lengthens a code point's encoding beyond 4 bytes */
	char *out = tn_malloc((size_t)m * 4 + 1);
	if (!out) {
		free(mapped);
		tn_error_set(err, TN_ERR_NOMEM, "out of memory normalising a text");
		return NULL;
	}
	size_t o = fold_into(mapped, (size_t)m, out, 0);
	free(mapped);
	if (outlen)
		*outlen = o;
	return out;
}

/* ---- language detection ------------------------------------------------ */

/* Common function words, written in the folded spelling (Persian yeh ی and
 * kaf ک), so they match texts typed on either keyboard. */
#define W(s) {s, sizeof s - 1}
typedef struct word {
	const char *w;
	size_t n;
} lang_word;

static const lang_word ar_words[] = {
	W("فی"), W("علی"), W("ما"), W("لا"), W("هذا"), W("هذه"), W("مع"), W("عن"), W("الی"), W("انا"), W("کل"), W("بس"), W("مش"), W("لیش"), W("لماذا"),
	W("شی"), W("شیء"), W("جدا"), W("کثیر"), W("عند"), W("لم"), W("لن"), W("یعنی"), W("والله"), W("لقد"), W("کان"), W("هو"), W("هی"), W("اللی"),
	W("ولا"), W("او"), W("لو"), W("حتی"), W("بعد"), W("قبل"), W("ان"), W("انه"), W("لیس"), W("ایش"), W("وش"), W("شو"), W("لکن"), W("فیه"), W("ماذا"),
	W("اذا"), W("عم"), W("ده"), W("دی"), W("مره"), W("اوی"), W("کتیر"), W("تطبیق"), W("یا"), W("الله"), W("اشتراک"), W("ممکن"), W("اصلا"),
};
static const lang_word fa_words[] = {
	W("است"), W("را"), W("که"), W("این"), W("از"), W("به"), W("با"), W("برای"), W("خیلی"), W("نمی"), W("می"), W("هست"), W("نیست"), W("چرا"),
	W("کنم"), W("کنید"), W("شده"), W("شد"), W("بود"), W("دارم"), W("ندارم"), W("یه"), W("هم"), W("اما"), W("ولی"), W("اپ"), W("برنامه"), W("کار"),
	W("میشه"), W("نمیشه"), W("چی"), W("اون"), W("همه"), W("بدون"), W("باید"), W("نمیکنه"), W("میکنه"), W("کنه"), W("بهتر"), W("خوب"), W("بد"),
	W("پول"), W("ها"), W("های"), W("تو"), W("رو"), W("هیچ"), W("دیگه"), W("چون"), W("واقعا"), W("اصلا"), W("لطفا"), W("چطور"), W("کجا"), W("دادم"),
};

static int word_in(const char *w, size_t n, const lang_word *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (list[i].n == n && memcmp(list[i].w, w, n) == 0)
			return 1;
	return 0;
}

int tn_text_detect_lang(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	double latin = 0, arabic = 0, fa = 0, ar = 0;
	char word[256];
	size_t wl = 0, wcp = 0;
	size_t i = 0;
	for (;;) {
		int32_t c = 0;
		int end = i >= len;
		if (!end)
			i += decode(s + i, len - i, &c);
		int in_ar = !end && ((c >= 0x0620 && c <= 0x064A) || (c >= 0x066E && c <= 0x06D3) ||
				     (c >= 0xFB50 && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFC));
		if (in_ar) {
			arabic++;
			switch (c) {
			case 0x067E: case 0x0686: case 0x0698: case 0x06AF:
				fa += 2;
				break;
			case 0x06A9: case 0x06CC:
				fa += 1;
				break;
			case 0x0629: case 0x0649: case 0x0623: case 0x0625:
				ar += 1;
				break;
			case 0x064A: case 0x0643:
				ar += 0.5;
				break;
			default:
				break;
			}
			int32_t f = fold_cp(c);
			if (f > 0 && wl + 4 < sizeof word)
				wl += encode(f, word + wl), wcp++;
			continue;
		}
		if (!end && c < 0x250 && is_letter_cp(c))
			latin++;
		if (!end && (c == 0x200C || c == 0x0640 || (c >= 0x064B && c <= 0x065F)))
			continue; /* inside a word */
		if (wl) {
			if (word_in(word, wl, fa_words, sizeof fa_words / sizeof fa_words[0]))
				fa += 3;
			else if (word_in(word, wl, ar_words, sizeof ar_words / sizeof ar_words[0]))
				ar += 3;
			else if (wcp > 3 && memcmp(word, "\xD8\xA7\xD9\x84", 4) == 0)
				ar += 2; /* the article al- */
			wl = wcp = 0;
		}
		if (end)
			break;
	}
	double total = latin + arabic;
	if (total == 0)
		return TN_LANG_UND;
	if (latin >= 0.3 * total && arabic >= 0.3 * total)
		return TN_LANG_MIXED;
	if (latin >= arabic)
		return TN_LANG_EN;
	return fa > ar ? TN_LANG_FA : TN_LANG_AR;
}
