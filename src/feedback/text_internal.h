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
} tn_fb_kw;

struct tn_fb_model {
	/* type model: counts[b * NTYPES + k], log-probabilities after finish */
	uint32_t *counts;
	float *logp;
	double docs[TN_FB_NTYPES], tokens[TN_FB_NTYPES];
	double prior[TN_FB_NTYPES];
	/* theme model over the theme labels seen in training */
	size_t nthemes;
	char theme_name[TN_FB_MAX_THEMES][TN_FB_THEME_MAX];
	int theme_type[TN_FB_MAX_THEMES];
	double theme_docs[TN_FB_MAX_THEMES], theme_tokens[TN_FB_MAX_THEMES];
	uint32_t *theme_counts; /* [b * MAX_THEMES + k] */
	float *theme_logp;
	/* user rules and the built-in theme keywords */
	tn_fb_rule *rules;
	size_t nrules;
	tn_fb_kw *kws;
	size_t nkws;
	int32_t kw_head[TN_FB_KW_HEADS]; /* keywords by their first 3 bytes, chained */
	int32_t *kw_next;
	int theme_def[TN_FB_MAX_THEMES]; /* built-in theme of the same name, or -1 */
	size_t ntrain;
	int dirty; /* counts changed since the log-probabilities were computed */
};

/* Hash the features of normalised text T into OUT (at most MAX); returns the
 * count.  THEME_SET selects the smaller feature set of the theme model. */
size_t tn_fb_features(const char *t, size_t len, uint32_t *out, size_t max);

/* The bucket of a keyword starting at P (at least 3 bytes). */
static inline unsigned tn_fb_kw_key(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return ((u[0] * 131u + u[1]) * 131u + u[2]) & (TN_FB_KW_HEADS - 1);
}

/* Find the built-in keywords in normalised text T: HIT[i] = 1 for keyword i
 * (HIT has m->nkws entries, zeroed by the caller); returns how many. */
size_t tn_fb_kw_scan(const tn_fb_model *m, const char *t, size_t len, unsigned char *hit);

/* Append KW_REPEAT features per keyword hit (the keyword's type). */
size_t tn_fb_kw_features(const tn_fb_model *m, const unsigned char *hit, uint32_t *f, size_t nf, size_t max);

/* Recompute log-probabilities from counts (after training or loading). */
void tn_fb_model_finish(tn_fb_model *m);

#endif
