/*
 * text_classify.c -- features, prediction and evaluation for the feedback
 * classifier.
 *
 * Features (hashed, the "hashing trick": Weinberger et al., "Feature hashing
 * for large scale multitask learning", ICML 2009) of the normalised text:
 * word unigrams, word bigrams, and character 3- and 4-grams of each word
 * padded with boundary marks (robust to misspellings and to Arabic/Persian
 * clitics such as al-, wa-, bi-, -ha).  Emoji are words of their own.
 * The type is the multinomial naive Bayes argmax (text_model.c); the
 * confidence is its posterior with the summed log-likelihood tempered by
 * TN_FB_TEMPER, since overlapping n-grams are far from independent and raw
 * naive Bayes posteriors are nearly always 0 or 1 (Bennett, "Assessing the
 * calibration of naive Bayes posterior estimates", 2000).
 * The theme is the best of the predicted type's themes: theme-model score
 * plus a bonus per built-in keyword found (text_themes.c).
 */
#include "feedback/text_internal.h"
#include "tenure/csv.h"
#include "tenure/frame.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define TN_FB_TEMPER 0.15 /* log-likelihood scale for the confidence */
#define KW_BONUS 4.0      /* theme score per keyword hit, in log units (5-fold CV on train.csv) */
#define KW_REPEAT 5       /* weight of a keyword feature (5-fold CV on train.csv) */

static inline uint32_t fnv(const char *s, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static inline uint32_t mix(uint32_t a, uint32_t b)
{
	uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u + (a << 6) + (a >> 2));
	h ^= h >> 15;
	h *= 0x2C1B3C6Du;
	h ^= h >> 12;
	return h;
}

/* 0: separator, 1: word character, 2: a symbol that is a word by itself
 * (emoji), 3: ignored inside a word (apostrophes). */
static int char_class_ref(int32_t c)
{
	if (c < 0x80) {
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))
			return 1;
		return c == '\'' ? 3 : 0;
	}
	if (c == 0x2019)
		return 3;
	utf8proc_category_t cat = utf8proc_category(c);
	if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO)
		return 1;
	if (cat == UTF8PROC_CATEGORY_SO)
		return 2;
	return 0;
}

/* char_class for U+0000-07FF, computed once (a utf8proc call per code
 * point was much of an Arabic or Persian text's features; issue 17). */
#define CLASS_TABLE 0x800
static uint8_t class_table[CLASS_TABLE];
static pthread_once_t class_once = PTHREAD_ONCE_INIT;

static int simd_supported(void);
static int simd_on = -1; /* -1: not yet decided (class_build decides) */
#if defined(__x86_64__) && defined(__GNUC__)
static int popcnt_on; /* the CPU has the popcount instruction */
#endif

static void class_build(void)
{
	if (simd_on < 0)
		simd_on = simd_supported();
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	popcnt_on = __builtin_cpu_supports("popcnt");
#endif
	for (int32_t c = 0; c < CLASS_TABLE; c++)
		class_table[c] = (uint8_t)char_class_ref(c);
}

static inline int char_class(int32_t c)
{
	if (c < 0x80) /* ASCII without the table (has_word tests bytes before any table is built) */
		return char_class_ref(c);
	return c < CLASS_TABLE ? class_table[c] : char_class_ref(c);
}

static size_t cp_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int32_t cp_at(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0];
	if (n == 2)
		return (int32_t)(((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu));
	if (n == 3)
		return (int32_t)(((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
	return (int32_t)(((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu));
}

/* ---- the character n-grams with AVX-512 (issue 17) -----------------------
 *
 * A word's 3- and 4-grams are hashed independently of each other: one
 * n-gram per 32-bit lane, sixteen at a time, the bytes taken from the
 * padded word held in one register (VBMI's byte permute), each lane running
 * the same FNV-1a steps over its own bytes and then mix(h, 3), so every
 * hash is the scalar one to the bit.  Used when the CPU has AVX-512 F, BW
 * and VBMI (checked at run time) and the padded word fits in 64 bytes;
 * tn_fb_simd(0) forces the scalar code (the tests run both). */
#if defined(__x86_64__) && defined(__GNUC__)
#define TN_FB_HAVE_AVX512 1
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static void
ngrams_avx512(const char *pw, size_t plen, const uint32_t *st, const uint32_t *ln, const uint32_t *bs, size_t nn,
	      uint32_t *out)
{
	__m512i word = _mm512_maskz_loadu_epi8(plen >= 64 ? ~0ull : (1ull << plen) - 1, pw);
	const __m512i prime = _mm512_set1_epi32(16777619), low = _mm512_set1_epi32(0xFF);
	for (size_t b = 0; b < nn; b += 16) {
		size_t cnt = nn - b < 16 ? nn - b : 16;
		__mmask16 km = (__mmask16)((1u << cnt) - 1);
		__m512i start = _mm512_maskz_loadu_epi32(km, st + b), len = _mm512_maskz_loadu_epi32(km, ln + b);
		__m512i h = _mm512_maskz_loadu_epi32(km, bs + b);
		uint32_t maxl = 0;
		for (size_t j = 0; j < cnt; j++)
			maxl = ln[b + j] > maxl ? ln[b + j] : maxl;
		for (uint32_t k = 0; k < maxl; k++) {
			__m512i kk = _mm512_set1_epi32((int)k);
			__mmask16 act = _mm512_cmpgt_epu32_mask(len, kk);
			__m512i byte = _mm512_and_si512(_mm512_permutexvar_epi8(_mm512_add_epi32(start, kk), word), low);
			h = _mm512_mask_mullo_epi32(h, act, _mm512_xor_si512(h, byte), prime);
		}
		/* mix(h, 3) */
		__m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)(3u + 0x7F4A7C15u)),
							      _mm512_slli_epi32(h, 6)),
					     _mm512_srli_epi32(h, 2));
		h = _mm512_xor_si512(_mm512_mullo_epi32(h, _mm512_set1_epi32((int)0x9E3779B1u)), t);
		h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 15));
		h = _mm512_mullo_epi32(h, _mm512_set1_epi32(0x2C1B3C6D));
		h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 12));
		_mm512_mask_storeu_epi32(out + b, km, h);
	}
}
#endif

static int simd_supported(void)
{
#ifdef TN_FB_HAVE_AVX512
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vbmi");
#else
	return 0;
#endif
}

int tn_fb_simd(int want)
{
	pthread_once(&class_once, class_build);
	int was = simd_on;
	if (want >= 0) /* a test's switch: not meant to be flipped while other threads classify */
		simd_on = want && simd_supported();
	return was;
}

/* Emit the features of one word W (bytes W[0..N), apostrophes removed),
 * which sits in a padded buffer: W[-1] is '<' and W[N] is writable (the
 * '>' mark goes there), so that every character n-gram of "<" w ">" is one
 * run of bytes and hashes as the same bytes in the same order as before. */
static size_t word_features(char *w, size_t n, uint32_t prev, uint32_t *out, size_t o, size_t max, uint32_t *hw)
{
	uint32_t h = fnv(w, n, 2166136261u);
	*hw = h;
	if (o < max)
		out[o++] = mix(h, 1);
	if (prev && o < max)
		out[o++] = mix(mix(prev, h), 2);
	/* character n-grams over "<" w ">" by code point: padded position p
	 * (0 the "<", then one per code point -- at most 63, the last taking
	 * the rest of a longer word -- then the ">") starts at byte ps[p] of
	 * P = w - 1, and ps[total] is the end */
	const char *pw = w - 1;
	w[n] = '>';
	size_t ps[67];
	size_t ncp = 0;
	ps[ncp++] = 0;
	for (size_t i = 0; i < n && ncp < 64; i += cp_len((unsigned char)w[i]))
		ps[ncp++] = 1 + i;
	ps[ncp] = 1 + n; /* the ">" */
	size_t total = ncp + 1;
	ps[total] = n + 2;
#ifdef TN_FB_HAVE_AVX512
	size_t n3 = total >= 3 ? total - 2 : 0, n4 = total >= 4 ? total - 3 : 0;
	if (simd_on > 0 && n + 2 <= 64 && n3 && o + n3 + n4 <= max) {
		/* the same n-grams in the same order: the 3-grams, then the 4-grams */
		uint32_t st[128], ln[128], bs[128];
		size_t q = 0;
		for (size_t s = 0; s < n3; s++, q++)
			st[q] = (uint32_t)ps[s], ln[q] = (uint32_t)(ps[s + 3] - ps[s]), bs[q] = 2166136261u ^ 3u;
		for (size_t s = 0; s < n4; s++, q++)
			st[q] = (uint32_t)ps[s], ln[q] = (uint32_t)(ps[s + 4] - ps[s]), bs[q] = 2166136261u ^ 4u;
		ngrams_avx512(pw, n + 2, st, ln, bs, q, out + o);
		return o + q;
	}
#endif
	for (size_t g = 3; g <= 4; g++) {
		if (total < g)
			continue;
		uint32_t basis = 2166136261u ^ (uint32_t)g;
		for (size_t s = 0; s + g <= total && o < max; s++)
			out[o++] = mix(fnv(pw + ps[s], ps[s + g] - ps[s], basis), 3);
	}
	return o;
}

/* char_class of ASCII, by table */
static const uint8_t ascii_class[128] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
	['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
	['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1, ['\''] = 3,
};

#define WORD_MAX 256 /* bytes of a word kept (the rest of a longer word is dropped, as before) */

size_t tn_fb_features(const char *t, size_t len, uint32_t *out, size_t max)
{
	pthread_once(&class_once, class_build);
	const unsigned char *s = (const unsigned char *)t;
	char pad[WORD_MAX + 2], sym[8];
	char *word = pad + 1; /* pad[0] is the "<" mark, and a byte stays free after the word */
	pad[0] = sym[0] = '<';
	size_t wl = 0, o = 0, i = 0;
	uint32_t prev = 0, hw;
	while (i <= len && o < max) {
		int32_t c = 0;
		size_t n = 1;
		int cls = 0;
		if (i < len) {
			if (s[i] < 0x80) {
				cls = ascii_class[s[i]];
				if (cls == 1 && wl + 1 < WORD_MAX) {
					word[wl++] = (char)s[i++];
					continue;
				}
			} else {
				n = cp_len(s[i]);
				if (i + n > len)
					n = len - i;
				c = cp_at(s + i, n);
				cls = char_class(c);
			}
		}
		if (cls == 1 && wl + n < WORD_MAX) {
			memcpy(word + wl, s + i, n);
			wl += n;
		} else if (cls != 3 && cls != 1) {
			if (wl) {
				o = word_features(word, wl, prev, out, o, max, &hw);
				prev = hw;
				wl = 0;
			}
			if (cls == 2) {
				memcpy(sym + 1, s + i, n);
				o = word_features(sym + 1, n, prev, out, o, max, &hw);
				prev = hw;
			}
		}
		i += n;
	}
	return o;
}

/* The first occurrence of K (length KN) in S (length N), or NULL. */
static const char *find_bytes(const char *s, size_t n, const char *k, size_t kn)
{
	if (kn == 0 || kn > n)
		return kn == 0 ? s : NULL;
	const char *end = s + n - kn + 1;
	for (const char *p = s; p < end; p++) {
		p = memchr(p, k[0], (size_t)(end - p));
		if (!p)
			return NULL;
		if (p[kn - 1] == k[kn - 1] && memcmp(p, k, kn) == 0)
			return p;
	}
	return NULL;
}

/* KW occurs in T with word boundaries (start/end or an ASCII non-letter). */
static int has_word(const char *t, size_t tlen, const char *kw, size_t klen)
{
	const char *p = t, *end = t + tlen;
	while (p + klen <= end) {
		const char *q = find_bytes(p, (size_t)(end - p), kw, klen);
		if (!q)
			return 0;
		int lb = q == t || ((unsigned char)q[-1] < 0x80 && char_class((unsigned char)q[-1]) != 1);
		int rb = q + klen == end || ((unsigned char)q[klen] < 0x80 && char_class((unsigned char)q[klen]) != 1);
		if (lb && rb)
			return 1;
		p = q + 1;
	}
	return 0;
}

size_t tn_fb_kw_scan_ref(const tn_fb_model *m, const char *t, size_t tlen, unsigned char *hit)
{
	size_t n = 0;
	for (size_t i = 0; i + 3 <= tlen; i++) {
		if (((unsigned char)t[i] & 0xC0) == 0x80)
			continue; /* keywords start on a code point */
		int32_t k = m->kw_head[tn_fb_kw_key(t + i)];
		if (k < 0)
			continue;
		uint32_t w = 0;
		int four = i + 4 <= tlen;
		if (four)
			memcpy(&w, t + i, 4);
		for (; k >= 0; k = m->kw_next[k]) {
			const tn_fb_kw *kw = &m->kws[k];
			if (hit[k] || kw->len > tlen - i)
				continue;
			/* the first bytes in one compare; memcmp only for the rest */
			int same = four ? (w & kw->mask) == kw->head &&
						  (kw->len <= 4 || memcmp(t + i + 4, kw->text + 4, kw->len - 4) == 0)
					: memcmp(t + i, kw->text, kw->len) == 0;
			if (same) {
				hit[k] = 1;
				n++;
			}
		}
	}
	return n;
}

/* A keyword may start at T[0] (LEFT bytes left): the chain K of keywords
 * sharing the first bytes is walked, each compared on its first 8 bytes
 * (W8, the text's next 8 bytes, zeros past its end) and by memcmp only
 * beyond them. */
static inline size_t kw_chain_hits(const tn_fb_model *m, int32_t k, const char *t, size_t left, unsigned char *hit,
				   uint16_t *list, size_t nl)
{
	uint64_t w8 = 0;
	memcpy(&w8, t, left < 8 ? left : 8);
	size_t n = 0;
	for (; k >= 0; k = m->kw_chain[k]) {
		const tn_fb_kw *kw = &m->kws[k];
		if (hit[k] || (w8 & kw->mask8) != kw->head8 || kw->len > left)
			continue;
		if (kw->len <= 8 || memcmp(t + 8, kw->text + 8, kw->len - 8) == 0) {
			hit[k] = 1;
			list[nl + n++] = (uint16_t)k;
		}
	}
	return n;
}

/* Every keyword is at least 3 bytes and starts on a code point (it is
 * normalised text), so it occurs in T exactly when, at some position, its
 * first 8 bytes (4 for a keyword of 4 to 7 bytes, 3 for a 3-byte one) equal
 * the text's and the rest follows.  A position costs a load, a multiply
 * and a filter bit test per prefix length; the chains are walked only
 * where a filter bit is set (a keyword's prefix or, about once in a hundred
 * positions, a hash collision).  Indexing the long keywords by 8 bytes
 * keeps the Arabic ones (many start with the article al-, 4 bytes) out of
 * one long chain.  Continuation bytes need no test: no keyword's first
 * byte is one. */
static size_t kw_scan(const tn_fb_model *m, const char *t, size_t tlen, unsigned char *hit, uint16_t *list)
{
	size_t n = 0;
	if (tlen < 3)
		return 0;
	uint32_t m3 = 0;
	{
		const unsigned char b[4] = {0xFF, 0xFF, 0xFF, 0};
		memcpy(&m3, b, 4);
	}
	for (size_t i = 0; i + 3 <= tlen; i++) {
		size_t left = tlen - i;
		uint32_t w = 0;
		if (left >= 8) {
			uint64_t w8;
			memcpy(&w8, t + i, 8);
			unsigned h8 = tn_fb_kw8_hash(w8);
			if (m->kw8_filter[h8 / 64] >> (h8 % 64) & 1)
				n += kw_chain_hits(m, m->kw8_head[h8 >> 4], t + i, left, hit, list, n);
		}
		if (left >= 4) {
			memcpy(&w, t + i, 4);
			unsigned h4 = tn_fb_kw4_hash(w);
			if (m->kw4_filter[h4 / 64] >> (h4 % 64) & 1)
				n += kw_chain_hits(m, m->kw4_head[h4 >> 4], t + i, left, hit, list, n);
		} else
			memcpy(&w, t + i, 3);
		if (m->nkw3) {
			unsigned h3 = tn_fb_kw3_hash(w & m3);
			if (m->kw3_filter[h3 / 64] >> (h3 % 64) & 1)
				n += kw_chain_hits(m, m->kw3_head[h3], t + i, left, hit, list, n);
		}
	}
	return n;
}

size_t tn_fb_kw_scan(const tn_fb_model *m, const char *t, size_t tlen, unsigned char *hit)
{
	uint16_t list[TN_FB_MAX_KWS];
	return kw_scan(m, t, tlen, hit, list);
}

size_t tn_fb_kw_features(const tn_fb_model *m, const unsigned char *hit, uint32_t *f, size_t nf, size_t max)
{
	for (size_t i = 0; i < m->nkws && nf < max; i++)
		if (hit[i])
			for (int r = 0; r < KW_REPEAT && nf < max; r++)
				f[nf++] = mix((uint32_t)tn_fb_themes[m->kws[i].theme].type + 1000u, 7);
	return nf;
}

/* The two score tables (a few MB each) are read at one random row per
 * feature: the time went into waiting for memory, one row after the other.
 * The rows of the features a little ahead are prefetched so that the waits
 * overlap; the sums are the same, in the same order, so the predictions are
 * the same to the bit (tests/unit/test_text_same.c). */
#define PREFETCH_AHEAD 16
#define NORM_STACK 4096 /* bytes of a normalised text kept on the stack */

static inline void prefetch_type_row(const tn_fb_model *m, uint32_t f)
{
	size_t b = f & (TN_FB_BUCKETS - 1);
	if (m->tmap.bits)
		__builtin_prefetch(m->tmap.bits + b / 64);
	else if (m->tidx)
		__builtin_prefetch(m->tidx + b); /* the rows themselves stay in cache */
	else
		__builtin_prefetch(m->logp + b * TN_FB_TROW);
}

static inline void prefetch_theme_row(const tn_fb_model *m, int t, uint32_t f)
{
	size_t b = f & (TN_FB_THEME_BUCKETS - 1);
	if (m->thidx[t]) {
		__builtin_prefetch(m->thidx[t] + b);
		return;
	}
	size_t stride = m->theme_stride[t];
	const char *p = (const char *)(m->theme_logp + m->theme_off[t] + b * stride);
	__builtin_prefetch(p);
	if (stride > 16)
		__builtin_prefetch(p + stride * sizeof(float) - 1);
}

/* tn_fb_kw_features over the hits' keyword numbers LIST[0..NHIT), in
 * increasing order: the same features in the same order, without a walk
 * over every keyword's flag (issue 17). */
static size_t kw_features_n(const tn_fb_model *m, const uint16_t *list, size_t nhit, uint32_t *f, size_t nf,
			   size_t max)
{
	for (size_t j = 0; j < nhit && nf < max; j++)
		for (int r = 0; r < KW_REPEAT && nf < max; r++)
			f[nf++] = mix((uint32_t)tn_fb_themes[m->kws[list[j]].theme].type + 1000u, 7);
	return nf;
}

/* LIST[0..N) in increasing order (a handful of hits: insertion sort) */
static void sort_hits(uint16_t *list, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint16_t v = list[i];
		size_t j = i;
		for (; j > 0 && list[j - 1] > v; j--)
			list[j] = list[j - 1];
		list[j] = v;
	}
}

/* Row sums with the running sums in registers: SC[j] += ROWS[IX[i] * W + j]
 * for i = 0..N-1 in that order, each sum a double as before (a float widens
 * to a double exactly; vector lanes add as the scalar code did), so the
 * sums are the same to the bit.  The row numbers are looked up first, in a
 * pass of independent loads, so that the memory waits overlap and the adds
 * wait for nothing but each other. */
typedef double tn_v2d __attribute__((vector_size(16)));
typedef float tn_v2f __attribute__((vector_size(8)));

static inline tn_v2d widen2(const float *p)
{
	tn_v2f x;
	memcpy(&x, p, sizeof x);
	return __builtin_convertvector(x, tn_v2d);
}

#ifdef TN_FB_HAVE_AVX512
/* The same sums with a row of 8 (4) floats widened and added in one
 * instruction: each lane adds what the scalar code's sum of that column
 * added, in the same order. */
__attribute__((target("avx512f"))) static void sum_rows_avx512(double *sc, size_t w, const float *rows,
							       const uint32_t *ix, size_t n)
{
	if (w == 8) {
		__m512d a = _mm512_loadu_pd(sc);
		for (size_t i = 0; i < n; i++)
			a = _mm512_add_pd(a, _mm512_cvtps_pd(_mm256_loadu_ps(rows + (size_t)ix[i] * 8)));
		_mm512_storeu_pd(sc, a);
	} else {
		__m256d a = _mm256_loadu_pd(sc);
		for (size_t i = 0; i < n; i++)
			a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(rows + (size_t)ix[i] * 4)));
		_mm256_storeu_pd(sc, a);
	}
}
#endif

static void sum_rows(double *sc, size_t w, const float *rows, const uint32_t *ix, size_t n)
{
#ifdef TN_FB_HAVE_AVX512
	if (simd_on > 0 && (w == 8 || w == 4)) {
		sum_rows_avx512(sc, w, rows, ix, n);
		return;
	}
#endif
	if (w == 8) {
		tn_v2d a0 = {sc[0], sc[1]}, a1 = {sc[2], sc[3]}, a2 = {sc[4], sc[5]}, a3 = {sc[6], sc[7]};
		for (size_t i = 0; i < n; i++) {
			const float *lp = rows + (size_t)ix[i] * 8;
			a0 += widen2(lp);
			a1 += widen2(lp + 2);
			a2 += widen2(lp + 4);
			a3 += widen2(lp + 6);
		}
		sc[0] = a0[0], sc[1] = a0[1], sc[2] = a1[0], sc[3] = a1[1];
		sc[4] = a2[0], sc[5] = a2[1], sc[6] = a3[0], sc[7] = a3[1];
	} else if (w == 4) {
		tn_v2d a0 = {sc[0], sc[1]}, a1 = {sc[2], sc[3]};
		for (size_t i = 0; i < n; i++) {
			const float *lp = rows + (size_t)ix[i] * 4;
			a0 += widen2(lp);
			a1 += widen2(lp + 2);
		}
		sc[0] = a0[0], sc[1] = a0[1], sc[2] = a1[0], sc[3] = a1[1];
	} else
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < w; j++)
				sc[j] += rows[(size_t)ix[i] * w + j];
}

/* IX[i] = the row of feature F[i] (masked to the table's buckets) in RM;
 * the popcount instruction where the CPU has it (the same numbers). */
static inline __attribute__((always_inline)) void rowmap_ix_body(const tn_fb_rowmap *rm, const uint32_t *f,
								  size_t n, uint32_t mask, uint32_t *ix)
{
	for (size_t i = 0; i < n; i++)
		ix[i] = tn_fb_rowmap_get(rm, f[i] & mask);
}

static void rowmap_ix_plain(const tn_fb_rowmap *rm, const uint32_t *f, size_t n, uint32_t mask, uint32_t *ix)
{
	rowmap_ix_body(rm, f, n, mask, ix);
}

#ifdef TN_FB_HAVE_AVX512
__attribute__((target("popcnt"))) static void rowmap_ix_popcnt(const tn_fb_rowmap *rm, const uint32_t *f,
								 size_t n, uint32_t mask, uint32_t *ix)
{
	rowmap_ix_body(rm, f, n, mask, ix);
}
#endif

static void rowmap_ix(const tn_fb_rowmap *rm, const uint32_t *f, size_t n, uint32_t mask, uint32_t *ix)
{
#ifdef TN_FB_HAVE_AVX512
	if (popcnt_on) /* nearly every x86-64 CPU; not a vector instruction, so on in the scalar code too */
		return rowmap_ix_popcnt(rm, f, n, mask, ix);
#endif
	rowmap_ix_plain(rm, f, n, mask, ix);
}

/* snprintf(DST, TN_FB_THEME_MAX, "%s", SRC) without the format parsing */
static void set_theme(char *dst, const char *src)
{
	size_t n = strlen(src);
	if (n > TN_FB_THEME_MAX - 1)
		n = TN_FB_THEME_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void pick_theme(const tn_fb_model *m, const uint16_t *list, size_t nhit, const uint32_t *f,
		       size_t nf, tn_fb_result *r)
{
	int t = r->type;
	if (m->thidx[t] && !m->thmap[t].bits) /* the row numbers requested while the rest is prepared */
		for (size_t i = 0; i < nf; i++)
			__builtin_prefetch(m->thidx[t] + (f[i] & (TN_FB_THEME_BUCKETS - 1)));
	double kwh[64] = {0}; /* hits per built-in theme (whole numbers: any order gives the same) */
	for (size_t j = 0; j < nhit; j++) {
		const tn_fb_kw *kw = &m->kws[list[j]];
		if (tn_fb_themes[kw->theme].type == r->type && kw->theme < 64)
			kwh[kw->theme] += 1;
	}
	/* the theme model's scores for the predicted type's themes, feature by
	 * feature (one cache line or two per feature) */
	size_t cand[TN_FB_MAX_THEMES], nc = 0;
	double sc[TN_FB_MAX_THEMES];
	for (size_t k = 0; k < m->nthemes; k++)
		if (m->theme_type[k] == r->type) {
			sc[nc] = m->theme_lprior[k];
			cand[nc++] = k;
		}
	size_t stride = m->theme_stride[t];
	for (size_t i = 0; !m->thidx[t] && nc && i < nf && i < PREFETCH_AHEAD; i++)
		prefetch_theme_row(m, t, f[i]);
	if (stride <= 8) {
		/* eight running sums held in registers (the padding columns are
		 * zeros and unused); each sum takes its features in the same order */
		double acc[8];
		for (size_t j = 0; j < 8; j++)
			acc[j] = j < nc ? sc[j] : 0;
		const uint16_t *idx = m->thidx[t];
		if (idx && nc) {
			const float *rows = m->throws[t];
			uint32_t ix[TN_FB_MAX_FEATURES];
			if (m->thmap[t].bits)
				rowmap_ix(&m->thmap[t], f, nf, TN_FB_THEME_BUCKETS - 1, ix);
			else
				for (size_t i = 0; i < nf; i++)
					ix[i] = idx[f[i] & (TN_FB_THEME_BUCKETS - 1)];
			sum_rows(acc, stride, rows, ix, nf);
		}
		for (size_t i = 0; !idx && nc && i < nf; i++) {
			if (i + PREFETCH_AHEAD < nf)
				prefetch_theme_row(m, t, f[i + PREFETCH_AHEAD]);
			const float *lp = tn_fb_theme_row(m, t, f[i]);
			if (stride == 8)
				for (size_t j = 0; j < 8; j++)
					acc[j] += lp[j];
			else
				for (size_t j = 0; j < nc; j++)
					acc[j] += lp[j];
		}
		for (size_t j = 0; j < nc; j++)
			sc[j] = acc[j];
	} else
		for (size_t i = 0; nc && i < nf; i++) {
			if (i + PREFETCH_AHEAD < nf)
				prefetch_theme_row(m, t, f[i + PREFETCH_AHEAD]);
			const float *lp = tn_fb_theme_row(m, t, f[i]);
			for (size_t j = 0; j < nc; j++)
				sc[j] += lp[j];
		}
	double best = -INFINITY;
	int bi = -1;
	for (size_t j = 0; j < nc; j++) {
		size_t k = cand[j];
		double v = sc[j] * TN_FB_TEMPER;
		if (m->theme_def[k] >= 0 && m->theme_def[k] < 64)
			v += KW_BONUS * kwh[m->theme_def[k]];
		if (v > best)
			best = v, bi = (int)k;
	}
	if (bi >= 0) {
		set_theme(r->theme, m->theme_name[bi]);
		return;
	}
	/* no theme model for this type: the built-in keywords alone */
	double bh = 0;
	for (size_t d = 0; d < tn_fb_ntheme_defs && d < 64; d++)
		if (kwh[d] > bh)
			bh = kwh[d], bi = (int)d;
	set_theme(r->theme, bi >= 0 ? tn_fb_themes[bi].name : "other");
}

int tn_fb_classify(const tn_fb_model *m, const char *text, size_t len, tn_fb_result *r, tn_error *err)
{
	if (m->dirty)
		return tn_error_set(err, TN_ERR_USAGE, "feedback model used before training finished");
	memset(r, 0, sizeof *r);
	/* normalised on the stack when it fits (no allocation per text) */
	char nbuf[NORM_STACK];
	if (len > TN_TEXT_MAX && tn_text_validate(text, len, err))
		return tn_error_code(err, TN_ERR_INPUT);
	/* the fast path checks the UTF-8 as it goes; the general path
	 * (tn_text_normalize) validates and reports */
	size_t tlen = len > TN_TEXT_MAX ? (size_t)-1 : tn_text_norm_into(text, len, NULL, nbuf, sizeof nbuf);
	char *heap = NULL, *t = nbuf;
	if (tlen == (size_t)-1) {
		t = heap = tn_text_normalize(text, len, &tlen, err);
		if (!t)
			return tn_error_code(err, TN_ERR_INPUT);
	}
	uint32_t f[TN_FB_MAX_FEATURES];
	unsigned char hit[TN_FB_MAX_KWS];
	size_t nf = tn_fb_features(t, tlen, f, TN_FB_MAX_FEATURES);
	/* On a loaded machine the row numbers of the type model (512 KB) are
	 * mostly out of the caches: every feature's is requested now, and the
	 * keyword scan, the language and the rules run while they arrive. */
	for (size_t i = 0; i < nf; i++)
		prefetch_type_row(m, f[i]);
	r->language = tn_text_detect_lang(text, len);
	memset(hit, 0, m->nkws);
	uint16_t list[TN_FB_MAX_KWS];
	size_t nhit = kw_scan(m, t, tlen, hit, list);
	sort_hits(list, nhit);
	nf = kw_features_n(m, list, nhit, f, nf, TN_FB_MAX_FEATURES);
	for (size_t i = 0; i < m->nrules; i++)
		if (has_word(t, tlen, m->rules[i].keyword, m->rules[i].len)) {
			r->type = m->rules[i].type;
			r->confidence = 1;
			r->by_rule = 1;
			if (m->rules[i].theme[0])
				set_theme(r->theme, m->rules[i].theme);
			else
				pick_theme(m, list, nhit, f, nf, r);
			free(heap);
			return TN_OK;
		}
	/* TN_FB_TROW running sums held in registers (the padding column is zero
	 * and unused); each sum takes its features in the same order as before */
	double sc[TN_FB_TROW];
	for (int k = 0; k < TN_FB_TROW; k++)
		sc[k] = k < TN_FB_NTYPES ? m->prior[k] : 0;
	if (m->tidx) {
		uint32_t ix[TN_FB_MAX_FEATURES];
		if (m->tmap.bits)
			rowmap_ix(&m->tmap, f, nf, TN_FB_BUCKETS - 1, ix);
		else
			for (size_t i = 0; i < nf; i++)
				ix[i] = m->tidx[f[i] & (TN_FB_BUCKETS - 1)];
		sum_rows(sc, TN_FB_TROW, m->trows, ix, nf);
	} else
		for (size_t i = 0; i < nf; i++) {
			if (i + PREFETCH_AHEAD < nf)
				prefetch_type_row(m, f[i + PREFETCH_AHEAD]);
			const float *lp = tn_fb_type_row(m, f[i]);
			for (int k = 0; k < TN_FB_TROW; k++)
				sc[k] += lp[k];
		}
	int best = 0;
	for (int k = 1; k < TN_FB_NTYPES; k++)
		if (sc[k] > sc[best])
			best = k;
	double z = 0;
	for (int k = 0; k < TN_FB_NTYPES; k++)
		z += exp((sc[k] - sc[best]) * TN_FB_TEMPER);
	r->type = best;
	r->confidence = 1 / z;
	pick_theme(m, list, nhit, f, nf, r);
	free(heap);
	return TN_OK;
}

static void eval_add(tn_fb_eval *ev, int truth, const tn_fb_result *res, int lang_given, const char *theme);

static int col_of(tn_csv *r, const char *name)
{
	for (size_t j = 0; name && j < tn_csv_nfields(r); j++)
		if (strcmp(tn_csv_field(r, j, NULL), name) == 0)
			return (int)j;
	return -1;
}

int tn_fb_evaluate_csv(const tn_fb_model *m, const char *path, const char *text_col, const char *label_col,
		       tn_fb_eval *ev, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	memset(ev, 0, sizeof *ev);
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return tn_error_code(err, TN_ERR_IO);
	int rc = TN_OK, got = tn_csv_next(r, err);
	if (got <= 0) {
		rc = got < 0 ? err->code : tn_error_set(err, TN_ERR_INPUT, "%s: empty file, expected a header", path);
		goto out;
	}
	int cx = col_of(r, text_col), cl = col_of(r, label_col), cg = col_of(r, "language"),
	    ch = col_of(r, "theme");
	if (cx < 0 || cl < 0) {
		rc = tn_error_set(err, TN_ERR_INPUT, "%s: no column \"%s\"", path, cx < 0 ? text_col : label_col);
		goto out;
	}
	while ((got = tn_csv_next(r, err)) == 1) {
		size_t nf = tn_csv_nfields(r), len;
		if ((size_t)cx >= nf || (size_t)cl >= nf) {
			rc = tn_error_set(err, TN_ERR_INPUT, "%s:%ld: expected at least %d fields, found %zu", path,
					  tn_csv_line(r), (cx > cl ? cx : cl) + 1, nf);
			goto out;
		}
		const char *label = tn_csv_field(r, (size_t)cl, NULL);
		int truth = tn_fb_type_parse(label);
		if (truth < 0) {
			rc = tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: %s: expected one of " TN_FB_TYPE_LIST "; found \"%s\"",
					  path, tn_csv_field_line(r, (size_t)cl), cl + 1, label_col, label);
			goto out;
		}
		const char *text = tn_csv_field(r, (size_t)cx, &len);
		tn_fb_result res;
		tn_error e2 = {0};
		if (tn_fb_classify(m, text, len, &res, &e2)) {
			rc = tn_error_set(err, e2.code, "%s:%ld:%d: %s: %s", path, tn_csv_field_line(r, (size_t)cx),
					  cx + 1, text_col, e2.msg);
			goto out;
		}
		int given = cg >= 0 && (size_t)cg < nf ? tn_lang_parse(tn_csv_field(r, (size_t)cg, NULL)) : -1;
		eval_add(ev, truth, &res, given, ch >= 0 && (size_t)ch < nf ? tn_csv_field(r, (size_t)ch, NULL) : NULL);
	}
	if (got < 0)
		rc = err->code;
out:
	tn_csv_close(r);
	return rc;
}

/* Count one classified row into EV. */
static void eval_add(tn_fb_eval *ev, int truth, const tn_fb_result *res, int lang_given, const char *theme)
{
	int lang = res->language;
	if (lang_given >= 0) {
		ev->lang_n++;
		ev->lang_correct += lang_given == res->language;
		lang = lang_given;
	}
	ev->n++;
	ev->correct += res->type == truth;
	ev->n_lang[lang]++;
	ev->correct_lang[lang] += res->type == truth;
	ev->confusion[truth][res->type]++;
	if (theme && *theme) {
		ev->theme_n++;
		ev->theme_correct += strcmp(res->theme, theme) == 0;
	}
}

int tn_fb_cross_validate(const char *path, const char *text_col, const char *label_col, const char *theme_col,
			 int k, tn_fb_eval *ev, tn_error *err)
{
	memset(ev, 0, sizeof *ev);
	if (k < 2 || k > 20)
		return tn_error_set(err, TN_ERR_USAGE, "cross-validation folds: expected 2 to 20, found %d", k);
	tn_frame *f = tn_frame_read_csv(path, NULL, 0, err);
	if (!f)
		return tn_error_code(err, TN_ERR_IO);
	int rc = TN_OK;
	int cx = tn_frame_require(f, text_col, 0, err), cl = cx < 0 ? -1 : tn_frame_require(f, label_col, 0, err);
	int ch = theme_col ? tn_frame_find(f, theme_col) : -1, cg = tn_frame_find(f, "language");
	if (cx < 0 || cl < 0) {
		rc = tn_error_code(err, TN_ERR_INPUT);
		goto out;
	}
	if (f->cols[cx].is_numeric || f->cols[cl].is_numeric || (ch >= 0 && f->cols[ch].is_numeric) ||
	    (cg >= 0 && f->cols[cg].is_numeric)) {
		rc = tn_error_set(err, TN_ERR_INPUT, "%s: the text, label, theme and language columns must hold text",
				  path);
		goto out;
	}
	if (f->nrows < (size_t)k) {
		rc = tn_error_set(err, TN_ERR_INPUT, "%s: %zu rows, fewer than the %d folds", path, f->nrows, k);
		goto out;
	}
	char **text = f->cols[cx].text, **label = f->cols[cl].text;
	for (size_t i = 0; i < f->nrows; i++)
		if (tn_fb_type_parse(label[i]) < 0) {
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "%s:%zu:%d: %s: expected one of " TN_FB_TYPE_LIST "; found \"%s\"",
					  path, i + 2, cl + 1, label_col, label[i]);
			goto out;
		}
	for (int fold = 0; fold < k && rc == TN_OK; fold++) {
		tn_fb_model *m = tn_fb_model_new(err);
		if (!m) {
			rc = tn_error_code(err, TN_ERR_NOMEM);
			break;
		}
		for (size_t i = 0; i < f->nrows && rc == TN_OK; i++)
			if ((int)(i % (size_t)k) != fold)
				rc = tn_fb_model_add(m, text[i], strlen(text[i]), tn_fb_type_parse(label[i]),
						     ch >= 0 ? f->cols[ch].text[i] : NULL, err);
		if (rc == TN_OK)
			tn_fb_model_finish(m);
		for (size_t i = (size_t)fold; i < f->nrows && rc == TN_OK; i += (size_t)k) {
			tn_fb_result res;
			rc = tn_fb_classify(m, text[i], strlen(text[i]), &res, err);
			if (rc == TN_OK)
				eval_add(ev, tn_fb_type_parse(label[i]), &res,
					 cg >= 0 ? tn_lang_parse(f->cols[cg].text[i]) : -1,
					 ch >= 0 ? f->cols[ch].text[i] : NULL);
		}
		tn_fb_model_free(m);
	}
	if (rc && err && !strstr(err->msg, path)) {
		tn_error e2 = *err;
		tn_error_clear(err);
		tn_error_set(err, e2.code, "%s: %s", path, e2.msg);
	}
out:
	tn_frame_free(f);
	return rc;
}
