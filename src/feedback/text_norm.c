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

#include "feedback/text_internal.h"

#include <pthread.h>
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

static int is_space_cp_ref(int32_t c)
{
	if (c <= ' ' || c == 0x7F) /* white space and control characters (NUL included) */
		return 1;
	if (c < 0x80)
		return 0;
	utf8proc_category_t cat = utf8proc_category(c);
	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP ||
	       cat == UTF8PROC_CATEGORY_CC;
}

static int is_letter_cp_ref(int32_t c)
{
	if (c < 0x80)
		return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	utf8proc_category_t cat = utf8proc_category(c);
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

/* The two tests above for U+0000-07FF (Latin, Greek, Cyrillic, Arabic),
 * computed once: a utf8proc call per code point was a tenth of the time
 * of an Arabic or Persian text (issue 17).  Bit 0: space, bit 1: letter. */
#define CP_PROPS 0x800
static uint8_t cp_props[CP_PROPS];
static pthread_once_t cp_props_once = PTHREAD_ONCE_INIT;

static void cp_props_build(void)
{
	for (int32_t c = 0; c < CP_PROPS; c++)
		cp_props[c] = (uint8_t)(is_space_cp_ref(c) | is_letter_cp_ref(c) << 1);
}

static inline int is_space_cp(int32_t c)
{
	return c >= 0 && c < CP_PROPS ? cp_props[c] & 1 : is_space_cp_ref(c);
}

static inline int is_letter_cp(int32_t c)
{
	return c >= 0 && c < CP_PROPS ? cp_props[c] >> 1 & 1 : is_letter_cp_ref(c);
}

/* Write the fold of S[0..N) to OUT (capacity >= 4 * N + 1): whitespace runs
 * to one space, letters repeated more than twice cut to two, trimmed. */
static size_t fold_into(const unsigned char *s, size_t n, char *out, int ascii)
{
	pthread_once(&cp_props_once, cp_props_build);
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

/* ---- the per-code-point fast path ---------------------------------------
 *
 * utf8proc_map over a whole text costs more than everything else the
 * classifier does.  For the code points of the common ranges (ASCII,
 * Latin, Arabic/Persian, general punctuation, presentation forms, fullwidth
 * forms, emoji), the map of a text is the concatenation of the maps of its
 * code points, provided no code point's map holds a character that the
 * canonical ordering or the composition could join with a neighbour: every
 * character of the map must have combining class 0 and not be the second
 * element of a composition (marks are removed by STRIPMARK before
 * composition; Hangul jamo are excluded).  Each code point of the ranges is
 * mapped once with utf8proc itself, and is used only if it passes that test;
 * a text with any other code point takes utf8proc_map as before.
 * tests/unit/test_text_norm_fast.c compares both paths on millions of texts. */

#define NM_FLAGS \
	(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_LUMP)
#define NM_ENTRIES (0x800 + 0x70 + 0x500 + 0xB00)
#define NM_POOL (64u << 10)

typedef struct nm_entry {
	uint16_t off; /* into nm_pool */
	uint8_t len;  /* bytes of the map */
	uint8_t ok;   /* the map is context-free */
} nm_entry;

static nm_entry nm_table[NM_ENTRIES];
static char nm_pool[NM_POOL];
static pthread_once_t nm_once = PTHREAD_ONCE_INIT;

/* The same table carried through the fold (issue 17: one pass over an
 * Arabic or Persian text instead of four): for each code point whose map
 * is context-free, the code points the fold makes of its map, in order
 * (those the fold drops left out), each with its UTF-8 bytes and the two
 * properties the fold tests.  Most maps are one code point, kept in the
 * entry; longer ones (ligatures, compatibility sequences) in nf_pool. */
typedef struct nf_cp {
	int32_t c;
	uint32_t bytes; /* UTF-8 of c as stored in memory (first byte first) */
	uint8_t len;    /* of bytes */
	uint8_t props;  /* bit 0: space, bit 1: letter */
} nf_cp;

typedef struct nf_entry {
	nf_cp one;     /* the first code point */
	uint16_t more; /* index in nf_pool of the rest */
	uint8_t n;     /* code points after the fold (0: all dropped) */
	uint8_t ok;    /* the map is context-free (nm_entry.ok) */
} nf_entry;

#define NF_POOL 8192
static nf_entry nf_table[NM_ENTRIES];
static nf_cp nf_pool[NF_POOL];

static int nm_index(int32_t c)
{
	if (c < 0x800)
		return c;
	if (c >= 0x2000 && c < 0x2070)
		return 0x800 + (c - 0x2000);
	if (c >= 0xFB00 && c < 0x10000)
		return 0x870 + (c - 0xFB00);
	if (c >= 0x1F000 && c < 0x1FB00)
		return 0xD70 + (c - 0x1F000);
	return -1;
}

static int nm_joinable(int32_t c)
{
	const utf8proc_property_t *p = utf8proc_get_property(c);
	if (p->combining_class != 0)
		return 1;
	if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000)
		return 1; /* the second element of some composition */
	return (c >= 0x1100 && c <= 0x11FF) || (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x3130 && c <= 0x318F) ||
	       (c >= 0xA960 && c <= 0xA97F) || (c >= 0xD7B0 && c <= 0xD7FF);
}

static nf_cp nf_make(int32_t c)
{
	nf_cp z = {.c = c};
	char b[4] = {0};
	z.len = (uint8_t)encode(c, b);
	memcpy(&z.bytes, b, 4);
	z.props = (uint8_t)(is_space_cp(c) | is_letter_cp(c) << 1);
	return z;
}

/* Fill E from the map MAP[0..N) (valid UTF-8 from utf8proc); 0 when the
 * pool is full (the code point then takes the general path). */
static int nf_fill(nf_entry *e, const unsigned char *map, size_t n, size_t *npool)
{
	nf_cp z[256];
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		int32_t c;
		i += decode(map + i, n - i, &c);
		c = fold_cp(c);
		if (c >= 0)
			z[k++] = nf_make(c);
	}
	if (k > 1 && *npool + k - 1 > NF_POOL)
		return 0;
	e->n = (uint8_t)k;
	e->ok = 1;
	if (k)
		e->one = z[0];
	if (k > 1) {
		e->more = (uint16_t)*npool;
		memcpy(nf_pool + *npool, z + 1, (k - 1) * sizeof z[0]);
		*npool += k - 1;
	}
	return 1;
}

static void nm_build(void)
{
	pthread_once(&cp_props_once, cp_props_build);
	size_t pool = 0, npool = 0;
	static const int32_t lo[] = {0, 0x2000, 0xFB00, 0x1F000}, hi[] = {0x800, 0x2070, 0x10000, 0x1FB00};
	for (size_t r = 0; r < 4; r++)
		for (int32_t c = lo[r]; c < hi[r]; c++) {
			int x = nm_index(c);
			if (x < 0 || (c >= 0xD800 && c <= 0xDFFF))
				continue;
			nm_entry *e = &nm_table[x];
			char in[4];
			size_t n = encode(c, in);
			utf8proc_uint8_t *out = NULL;
			utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)n, &out, NM_FLAGS);
			if (m < 0 || m > 255 || pool + (size_t)m > NM_POOL) {
				free(out);
				continue;
			}
			int ok = 1;
			for (utf8proc_ssize_t i = 0; i < m && ok;) {
				utf8proc_int32_t d;
				utf8proc_ssize_t k = utf8proc_iterate(out + i, m - i, &d);
				if (k <= 0 || nm_joinable(d))
					ok = 0;
				i += k > 0 ? k : 1;
			}
			if (ok && nf_fill(&nf_table[x], out, (size_t)m, &npool)) {
				memcpy(nm_pool + pool, out, (size_t)m);
				e->off = (uint16_t)pool;
				e->len = (uint8_t)m;
				e->ok = 1;
				pool += (size_t)m;
			}
			free(out);
		}
}

/* One code point of S[0..N) (N >= 1) decoded and checked as tn_utf8_valid
 * does; returns its length, 0 when the bytes are not valid UTF-8. */
static inline size_t decode_valid(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = (int32_t)c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = (int32_t)(((c & 0x1Fu) << 6) | (s[1] & 0x3Fu));
		return 2;
	}
	unsigned lo = 0x80, hi = 0xBF;
	size_t k;
	if (c >= 0xE0 && c <= 0xEF) {
		k = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		k = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else
		return 0;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t j = 2; j < k; j++)
		if ((s[j] & 0xC0) != 0x80)
			return 0;
	if (k == 3)
		*cp = (int32_t)(((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
	else
		*cp = (int32_t)(((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu));
	return k;
}

/* fold_into's step for one code point Z of the folded map */
#define NF_STEP(z)                                                                 \
	do {                                                                       \
		if ((z).props & 1) {                                               \
			pending_space = o > 0;                                     \
			break;                                                     \
		}                                                                  \
		if (!pending_space && (z).c == p1 && (z).c == p2 && ((z).props & 2)) \
			break;                                                     \
		if (pending_space) {                                               \
			out[o++] = ' ';                                            \
			pending_space = 0;                                         \
			p2 = p1, p1 = ' ';                                         \
		}                                                                  \
		memcpy(out + o, &(z).bytes, 4);                                    \
		o += (z).len;                                                      \
		p2 = p1, p1 = (z).c;                                               \
	} while (0)

size_t tn_text_norm_into(const char *str, size_t len, char *mid, char *out, size_t cap)
{
	(void)mid;
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i + 8 <= len) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < len && s[i] < 0x80)
		i++;
	if (i == len) {
		if (len + 1 > cap)
			return (size_t)-1;
		return fold_into(s, len, out, 1);
	}
	/* Validation, utf8proc's map (by the table), the fold and its
	 * whitespace and repeat rules in one pass.  The text takes the general
	 * path when a code point is not in the table or the mapped text would
	 * not fit CAP - 3 (the output is never longer than the map, and 4 bytes
	 * are stored per code point). */
	pthread_once(&nm_once, nm_build);
	size_t o = 0, m = 0;
	int32_t p1 = -1, p2 = -1;
	int pending_space = 0;
	for (i = 0; i < len;) {
		int32_t c;
		size_t k = decode_valid(s + i, len - i, &c);
		if (!k)
			return (size_t)-1; /* not UTF-8: the general path reports it */
		i += k;
		int x = nm_index(c);
		if (x < 0 || !nm_table[x].ok)
			return (size_t)-1;
		m += nm_table[x].len;
		if (m + 4 > cap)
			return (size_t)-1;
		const nf_entry *e = &nf_table[x];
		if (e->n == 0)
			continue;
		NF_STEP(e->one);
		for (size_t j = 1; j < e->n; j++)
			NF_STEP(nf_pool[e->more + j - 1]);
	}
	out[o] = '\0';
	return o;
}

char *tn_text_normalize_ref(const char *str, size_t len, size_t *outlen, tn_error *err)
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

char *tn_text_normalize(const char *str, size_t len, size_t *outlen, tn_error *err)
{
	if (tn_text_validate(str, len, err))
		return NULL;
	char mid[2048];
	char *out = tn_malloc(sizeof mid);
	if (!out) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory normalising a text");
		return NULL;
	}
	size_t o = tn_text_norm_into(str, len, mid, out, sizeof mid);
	if (o == (size_t)-1) {
		free(out);
		return tn_text_normalize_ref(str, len, outlen, err);
	}
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

/* The two word lists in one small hash set (built once): 1 = a Persian
 * word, 2 = an Arabic word that is not also Persian, so one probe answers
 * what word_in over fa_words and then ar_words did. */
#define LW_SLOTS 512
static struct {
	const char *w;
	uint8_t n, kind;
} lw_set[LW_SLOTS];
static pthread_once_t lw_once = PTHREAD_ONCE_INIT;

static unsigned lw_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return (h ^ (h >> 16)) & (LW_SLOTS - 1);
}

static void lw_add(const lang_word *list, size_t count, uint8_t kind)
{
	for (size_t i = 0; i < count; i++) {
		unsigned s = lw_hash(list[i].w, list[i].n);
		while (lw_set[s].w && !(lw_set[s].n == list[i].n && memcmp(lw_set[s].w, list[i].w, list[i].n) == 0))
			s = (s + 1) & (LW_SLOTS - 1);
		if (!lw_set[s].w) /* a word already there keeps its kind: Persian is looked up first */
			lw_set[s].w = list[i].w, lw_set[s].n = (uint8_t)list[i].n, lw_set[s].kind = kind;
	}
}

static void lw_build(void)
{
	lw_add(fa_words, sizeof fa_words / sizeof fa_words[0], 1);
	lw_add(ar_words, sizeof ar_words / sizeof ar_words[0], 2);
}

/* Per code point below U+0800, what the detector does with it (issue 17:
 * one table load instead of range tests, a switch, the fold and the
 * encoding): LT_AR an Arabic letter (counted, its fold appended to the
 * word), LT_LATIN a Latin letter, LT_JOIN inside a word (tatweel is an
 * Arabic letter first; the harakat), the Persian and Arabic weights, and
 * the fold's UTF-8 (0 bytes: dropped). */
enum { LT_AR = 1, LT_LATIN = 2, LT_JOIN = 4 };
typedef struct lang_cp {
	uint8_t flags, fa, ar; /* fa: 0, 1 or 2; ar: 0, 1 or 2 halves */
	uint8_t flen;
	char fb[4];
} lang_cp;
static lang_cp lang_tab[0x800];
static pthread_once_t lang_once = PTHREAD_ONCE_INIT;

static int lang_in_ar(int32_t c)
{
	return (c >= 0x0620 && c <= 0x064A) || (c >= 0x066E && c <= 0x06D3) || (c >= 0xFB50 && c <= 0xFDFF) ||
	       (c >= 0xFE70 && c <= 0xFEFC);
}

static void lang_build(void)
{
	pthread_once(&cp_props_once, cp_props_build);
	pthread_once(&lw_once, lw_build);
	for (int32_t c = 0; c < 0x800; c++) {
		lang_cp *e = &lang_tab[c];
		if (lang_in_ar(c)) {
			e->flags = LT_AR;
			switch (c) {
			case 0x067E: case 0x0686: case 0x0698: case 0x06AF:
				e->fa = 2;
				break;
			case 0x06A9: case 0x06CC:
				e->fa = 1;
				break;
			case 0x0629: case 0x0649: case 0x0623: case 0x0625:
				e->ar = 2;
				break;
			case 0x064A: case 0x0643:
				e->ar = 1;
				break;
			default:
				break;
			}
			int32_t f = fold_cp(c);
			if (f > 0)
				e->flen = (uint8_t)encode(f, e->fb);
			continue;
		}
		if (c < 0x250 && is_letter_cp_ref(c))
			e->flags |= LT_LATIN;
		if (c == 0x0640 || (c >= 0x064B && c <= 0x065F))
			e->flags |= LT_JOIN;
	}
}

/* word_kind by the FNV hash H of W already taken */
static int word_kind_h(uint32_t h, const char *w, size_t n)
{
	if (n > 255)
		return 0;
	for (unsigned s = (h ^ (h >> 16)) & (LW_SLOTS - 1); lw_set[s].w; s = (s + 1) & (LW_SLOTS - 1))
		if (lw_set[s].n == n && memcmp(lw_set[s].w, w, n) == 0)
			return lw_set[s].kind;
	return 0;
}

int tn_text_detect_lang(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	/* pure ASCII: no Arabic letters and no words to look up, so English if
	 * it has a letter (the general loop below gives the same) */
	size_t letters = 0, a = 0;
	for (; a < len && s[a] < 0x80; a++)
		letters += (s[a] | 0x20) >= 'a' && (s[a] | 0x20) <= 'z';
	if (a == len)
		return letters ? TN_LANG_EN : TN_LANG_UND;
	pthread_once(&lang_once, lang_build);
	/* the counts are whole numbers and halves: exact in any order */
	double latin = 0, arabic = 0, fa = 0, ar = 0;
	char word[256];
	size_t wl = 0, wcp = 0;
	uint32_t h = 2166136261u; /* lw_hash of the word so far */
	size_t i = 0;
	for (;;) {
		int32_t c = 0;
		int end = i >= len;
		lang_cp big = {0};
		const lang_cp *e = &big;
		if (!end) {
			if (s[i] < 0x80)
				c = s[i++];
			else
				i += decode(s + i, len - i, &c);
			if (c >= 0 && c < 0x800)
				e = &lang_tab[c];
			else if (lang_in_ar(c)) { /* the presentation forms: their fold is themselves */
				big.flags = LT_AR;
				big.flen = (uint8_t)encode(fold_cp(c), big.fb);
			} else if (c == 0x200C)
				big.flags = LT_JOIN;
		}
		if (e->flags & LT_AR) {
			arabic++;
			if (e->fa)
				fa += e->fa;
			if (e->ar)
				ar += e->ar * 0.5;
			if (e->flen && wl + 4 < sizeof word) {
				for (size_t k = 0; k < e->flen; k++) {
					word[wl + k] = e->fb[k];
					h = (h ^ (unsigned char)e->fb[k]) * 16777619u;
				}
				wl += e->flen, wcp++;
			}
			continue;
		}
		if (e->flags & LT_LATIN)
			latin++;
		if (e->flags & LT_JOIN)
			continue; /* inside a word */
		if (wl) {
			int kind = word_kind_h(h, word, wl);
			if (kind == 1)
				fa += 3;
			else if (kind == 2)
				ar += 3;
			else if (wcp > 3 && memcmp(word, "\xD8\xA7\xD9\x84", 4) == 0)
				ar += 2; /* the article al- */
			wl = wcp = 0;
			h = 2166136261u;
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
