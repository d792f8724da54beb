/*
 * text_internal.h -- internal: the feedback classifier's model layout, shared
 * by text_model.c (training, save/load, rules) and text_classify.c
 * (features, prediction, evaluation).  Not part of the public API.
 */
#ifndef TENURE_TEXT_INTERNAL_H
#define TENURE_TEXT_INTERNAL_H

#include <stdint.h>
#include "tenure/feedback.h"

#define TN_FB_BUCKETS (1u << 18)       /* hashed features for the type model */
#define TN_FB_THEME_BUCKETS (1u << 15) /* hashed features for the theme model */
#define TN_FB_MAX_THEMES 48            /* theme labels per model */
#define TN_FB_MAX_RULES 4096
#define TN_FB_MAX_FEATURES 4096        /* features taken from one text */
#define TN_FB_ALPHA 1.0                /* additive smoothing (Laplace); chosen by 5-fold CV on train.csv */
#define TN_FB_KW_HEADS 4096             /* keyword index buckets */
#define TN_FB_MAX_KWS 2048
#define TN_FB_KW4_BITS (1u << 16)       /* filter bits over the first 4 bytes of keywords */
#define TN_FB_KW3_BITS (1u << 12)       /* filter bits over 3-byte keywords */

typedef struct tn_fb_theme_def {
	int type;
	const char *name;
	const char *keywords; /* '|'-separated */
} tn_fb_theme_def;

extern const tn_fb_theme_def tn_fb_themes[];
extern const size_t tn_fb_ntheme_defs;

typedef struct tn_fb_rule {
	char *keyword; /* normalised */
	size_t len;
	int type;
	char theme[TN_FB_THEME_MAX];
} tn_fb_rule;

typedef struct tn_fb_kw {
	char *text; /* normalised keyword */
	size_t len;
	uint16_t theme; /* index into tn_fb_themes */
	uint32_t head, mask; /* the first bytes (up to 4) as loaded from memory, to test before memcmp */
	uint64_t head8, mask8; /* the same for the first 8 bytes */
} tn_fb_kw;

/* Score table layouts (issue 17: one cache line per feature).  The type
 * model's row of a bucket is TN_FB_TROW floats (NTYPES used), 64-byte
 * aligned; the theme model keeps one slice per type holding only that
 * type's themes, each row THEME_STRIDE[type] floats (a power of two up to
 * 16, so a row never straddles a cache line).  The values are the same
 * floats as before, summed in the same order: the predictions are the same
 * to the bit (tests/unit/test_text_same.c). */
#define TN_FB_TROW 8

/* A bucket -> row number table, compact (issue 17): of the 262,144 type
 * buckets only some 8% hold a row other than the commonest one (the
 * features never seen in training), so a bit per bucket says which, and
 * those buckets' row numbers are kept in bucket order, found by the number
 * of flagged buckets before (CUM per 64 buckets plus a popcount).  For the
 * shipped model 32 KB + 16 KB + 42 KB instead of 512 KB: it stays in the
 * caches on a busy machine where the plain table was evicted. */
typedef struct tn_fb_rowmap {
	uint64_t *bits;  /* [b / 64] bit b % 64: bucket b is flagged */
	uint32_t *cum;   /* [b / 64] flagged buckets before word b / 64 */
	uint16_t *rows;  /* the rows of the flagged buckets, in bucket order */
	uint16_t zero;   /* the row of every other bucket */
} tn_fb_rowmap;
#define TN_FB_THEME_SLAB (2 * TN_FB_MAX_THEMES) /* floats per bucket over every slice, padding included */

struct tn_fb_model {
	/* type model: counts[b * NTYPES + k]; log-probabilities after finish in
	 * logp[b * TN_FB_TROW + k] */
	uint32_t *counts;
	float *logp;
	void *logp_mem; /* the allocation logp is aligned in */
	double docs[TN_FB_NTYPES], tokens[TN_FB_NTYPES];
	double prior[TN_FB_NTYPES];
	/* theme model over the theme labels seen in training */
	size_t nthemes;
	char theme_name[TN_FB_MAX_THEMES][TN_FB_THEME_MAX];
	int theme_type[TN_FB_MAX_THEMES];
	double theme_docs[TN_FB_MAX_THEMES], theme_tokens[TN_FB_MAX_THEMES];
	uint32_t *theme_counts; /* [b * MAX_THEMES + k] */
	float *theme_logp;      /* slice of type t: theme_logp + theme_off[t], row b at b * theme_stride[t] */
	void *theme_logp_mem;
	size_t theme_off[TN_FB_NTYPES], theme_stride[TN_FB_NTYPES];
	double theme_lprior[TN_FB_MAX_THEMES]; /* log(theme_docs[k] + 1) */
	/* The same tables, deduplicated: a bucket's row is a function of its
	 * count vector, and a model holds few distinct vectors (some thousands
	 * against 262,144 buckets), so a bucket keeps the 16-bit number of its
	 * row and the rows fit in the first-level caches.  NULL when a table has
	 * more than 65,535 distinct rows (or memory ran short): the full tables
	 * above are filled then. */
	uint16_t *tidx;  /* [b] -> row of trows (TN_FB_TROW floats each) */
	float *trows;
	void *trows_mem;
	uint16_t *thidx[TN_FB_NTYPES]; /* [b] -> row of throws[t] (theme_stride[t] floats each) */
	tn_fb_rowmap tmap, thmap[TN_FB_NTYPES]; /* tidx and thidx[t] compact; bits NULL when not built */
	float *throws[TN_FB_NTYPES];
	void *throws_mem[TN_FB_NTYPES];
	/* user rules and the built-in theme keywords */
	tn_fb_rule *rules;
	size_t nrules;
	tn_fb_kw *kws;
	size_t nkws;
	int32_t kw_head[TN_FB_KW_HEADS]; /* keywords by their first 3 bytes, chained (the reference scan) */
	int32_t *kw_next;
	/* The scan's index (issue 17): keywords of 4 bytes or more by their
	 * first 4 bytes, 3-byte keywords by their 3 bytes, each behind a bit
	 * filter small enough for the first-level cache, so that a text
	 * position costs one load, a multiply and a bit test. */
	uint64_t kw8_filter[TN_FB_KW4_BITS / 64]; /* keywords of 8 bytes or more, by their first 8 */
	int32_t kw8_head[TN_FB_KW_HEADS];
	uint64_t kw4_filter[TN_FB_KW4_BITS / 64];
	uint64_t kw3_filter[TN_FB_KW3_BITS / 64];
	int32_t kw4_head[TN_FB_KW_HEADS], kw3_head[TN_FB_KW_HEADS];
	int32_t *kw_chain; /* next keyword of the same 4-byte (3-byte) chain */
	size_t nkw3;       /* keywords of exactly 3 bytes */
	int theme_def[TN_FB_MAX_THEMES]; /* built-in theme of the same name, or -1 */
	size_t ntrain;
	int dirty; /* counts changed since the log-probabilities were computed */
};

/* Hash the features of normalised text T into OUT (at most MAX); returns the
 * count.  THEME_SET selects the smaller feature set of the theme model. */
size_t tn_fb_features(const char *t, size_t len, uint32_t *out, size_t max);

/* The vector code (AVX-512 F/BW/VBMI, when the CPU has it): WANT 1 to use
 * it where the CPU allows, 0 to force the scalar code (same results; the
 * tests run both), -1 to leave as is.  Returns whether it was in use. */
int tn_fb_simd(int want);

/* The bucket of a keyword starting at P (at least 3 bytes). */
static inline unsigned tn_fb_kw_key(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return ((u[0] * 131u + u[1]) * 131u + u[2]) & (TN_FB_KW_HEADS - 1);
}

/* The filter hashes: 16 bits of a keyword's first 4 bytes W (as loaded
 * from memory), 12 bits of its first 3 bytes (W masked); the chain heads
 * are the top 12 bits of the first and all of the second. */
static inline unsigned tn_fb_kw4_hash(uint32_t w) { return (w * 0x9E3779B1u) >> 16; }
static inline unsigned tn_fb_kw3_hash(uint32_t w3) { return (w3 * 0x85EBCA6Bu) >> 20; }
static inline unsigned tn_fb_kw8_hash(uint64_t w8) { return (unsigned)((w8 * 0x9E3779B97F4A7C15u) >> 48); }

/* Find the built-in keywords in normalised text T: HIT[i] = 1 for keyword i
 * (HIT has m->nkws entries, zeroed by the caller); returns how many.  A
 * keyword is found when it occurs anywhere in T as bytes. */
size_t tn_fb_kw_scan(const tn_fb_model *m, const char *t, size_t len, unsigned char *hit);

/* The same by the previous index (every byte position probes the chain of
 * its first 3 bytes), kept as the reference the scan is tested against. */
size_t tn_fb_kw_scan_ref(const tn_fb_model *m, const char *t, size_t len, unsigned char *hit);

/* Append KW_REPEAT features per keyword hit (the keyword's type). */
size_t tn_fb_kw_features(const tn_fb_model *m, const unsigned char *hit, uint32_t *f, size_t nf, size_t max);

/* Normalise STR[0..LEN) as tn_text_normalize does, into OUT (capacity CAP,
 * NUL-terminated), checking that it is UTF-8 on the way (one pass: issue
 * 17); no allocation; MID is unused (kept for the callers).  Returns the
 * length, or (size_t)-1 when the text needs the general path: not valid
 * UTF-8, a code point outside the fast table, or too long for CAP. */
size_t tn_text_norm_into(const char *str, size_t len, char *mid, char *out, size_t cap);

/* The general path (utf8proc_map over the whole text), kept as the
 * reference the fast path is tested against. */
char *tn_text_normalize_ref(const char *str, size_t len, size_t *outlen, tn_error *err);

/* The row of type scores of feature F, and of theme scores of F for type T. */
static inline const float *tn_fb_type_row(const tn_fb_model *m, uint32_t f)
{
	size_t b = f & (TN_FB_BUCKETS - 1);
	return m->tidx ? m->trows + (size_t)m->tidx[b] * TN_FB_TROW : m->logp + b * TN_FB_TROW;
}

static inline const float *tn_fb_theme_row(const tn_fb_model *m, int t, uint32_t f)
{
	size_t b = f & (TN_FB_THEME_BUCKETS - 1);
	return m->thidx[t] ? m->throws[t] + (size_t)m->thidx[t][b] * m->theme_stride[t]
			   : m->theme_logp + m->theme_off[t] + b * m->theme_stride[t];
}

/* The row of bucket B in RM (flagged: its rank among the flagged ones). */
static inline unsigned tn_fb_rowmap_get(const tn_fb_rowmap *rm, size_t b)
{
	uint64_t w = rm->bits[b >> 6];
	unsigned sh = (unsigned)(b & 63);
	/* without a branch (a feature is seen in training or not at random):
	 * ROWS has one entry more, so the rank past the last flagged bucket is
	 * read too */
	unsigned v = rm->rows[rm->cum[b >> 6] + (unsigned)__builtin_popcountll(w & ((1ull << sh) - 1))];
	unsigned flag = (unsigned)(w >> sh & 1);
	return (v & -flag) | (rm->zero & (flag - 1));
}

/* Free the deduplicated tables (tn_fb_model_finish rebuilds them). */
void tn_fb_model_drop_rows(tn_fb_model *m);

/* Recompute log-probabilities from counts (after training or loading). */
void tn_fb_model_finish(tn_fb_model *m);

#endif
