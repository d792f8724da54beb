/*
 * tenure/feedback.h -- why customers leave, in their own words.
 *
 * Three layers, in the order text flows:
 *   1. text normalisation and language detection (src/feedback/text_norm.c): UTF-8
 *      validation, NFKC + case folding + mark stripping (utf8proc), an
 *      Arabic/Persian fold table, digits to ASCII; en / ar / fa / mixed.
 *   2. the classifier (src/feedback/text_classify.c, src/feedback/text_model.c): six feedback
 *      types (or praise, not a complaint) with a confidence, a short theme per
 *      text, user keyword rules that override, and a model file (save/load)
 *      so a business can retrain on its own labelled answers.
 *   3. survey scores over plain arrays (src/feedback/feedback_scores.c): NPS with a
 *      confidence interval, CSAT, CES, Wilson intervals.  The store-based
 *      reports (scores by segment and period, impact, effort matrix,
 *      follow-up) live in src/feedback/feedback_store.c.
 * docs/feedback.md has the definitions and formulas.
 */
#ifndef TENURE_FEEDBACK_H
#define TENURE_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/store.h"

/* ---- 1. text ---------------------------------------------------------- */

#define TN_TEXT_MAX (64u << 10) /* one text may not exceed 64 KiB */

enum { TN_LANG_UND = 0, TN_LANG_EN, TN_LANG_AR, TN_LANG_FA, TN_LANG_MIXED, TN_LANG_COUNT };

/* "und", "en", "ar", "fa", "mixed"; tn_lang_parse returns -1 when unknown. */
TN_API const char *tn_lang_name(int lang);
TN_API int tn_lang_parse(const char *name);

/* Check that S[0..LEN) is valid UTF-8 (no overlongs, no surrogates) and not
 * longer than TN_TEXT_MAX.  TN_ERR_INPUT otherwise, with the byte offset and
 * the byte found ("invalid UTF-8 at byte 12 (0xC3 0x28): ..."). */
TN_API int tn_text_validate(const char *s, size_t len, tn_error *err);

/* Normalise S for matching: NFKC, case fold, combining marks (harakat)
 * stripped, tatweel and zero-width non-joiners removed, alef forms to bare
 * alef, alef maksura and Arabic yeh to Persian yeh (ی), Arabic kaf to Persian
 * kaf (ک), taa marbuta to heh, Arabic-Indic and Persian digits to ASCII,
 * letters repeated more than twice cut to two ("soooo" -> "soo"), runs of
 * white space to one space, trimmed.  Returns a malloc'd NUL-terminated
 * string the caller frees, its length in *outlen (if not NULL), or NULL with
 * err set (invalid UTF-8, out of memory). */
TN_API char *tn_text_normalize(const char *s, size_t len, size_t *outlen, tn_error *err);

/* The language of valid UTF-8 text S: TN_LANG_EN (Latin letters), TN_LANG_AR
 * or TN_LANG_FA (Arabic script; Persian when Persian-only letters پ چ ژ گ ک ی
 * and common Persian words outweigh Arabic-only letters ة ى and common Arabic
 * words), TN_LANG_MIXED when both Latin and Arabic script carry at least 30%
 * of the letters, TN_LANG_UND when there are no letters. */
TN_API int tn_text_detect_lang(const char *s, size_t len);

/* ---- 2. classifier ----------------------------------------------------- */

enum {
	TN_FB_FUNCTIONALITY = 0,
	TN_FB_FEATURE_REQUEST,
	TN_FB_USABILITY,
	TN_FB_RELIABILITY,
	TN_FB_CUSTOMER_SERVICE,
	TN_FB_PRICING_BILLING,
	TN_FB_PRAISE, /* not a complaint (thanks, compliments): kept apart from the six problem types */
	TN_FB_NTYPES
};

/* The label names, for messages: "functionality, ..., pricing_billing or praise". */
#define TN_FB_TYPE_LIST \
	"functionality, feature_request, usability, reliability, customer_service, pricing_billing or praise"

/* "functionality", "feature_request", ..., "praise"; tn_fb_type_parse
 * returns -1 when NAME is not one of them. */
TN_API const char *tn_fb_type_name(int type);
TN_API int tn_fb_type_parse(const char *name);

/* The built-in theme list (src/feedback/text_themes.c): each theme belongs to one
 * type and has keywords in English, Arabic and Persian. */
TN_API size_t tn_fb_theme_count(void);
TN_API const char *tn_fb_theme_name(size_t i);
TN_API int tn_fb_theme_type(size_t i);

typedef struct tn_fb_model tn_fb_model;

/* An empty model (no training data, no rules).  Free with tn_fb_model_free. */
TN_API tn_fb_model *tn_fb_model_new(tn_error *err);
TN_API void tn_fb_model_free(tn_fb_model *m);

/* Add one labelled text: TYPE one of TN_FB_*, THEME a theme name or NULL.
 * Texts are counted into the model at once (training is counting). */
TN_API int tn_fb_model_add(tn_fb_model *m, const char *text, size_t len, int type, const char *theme,
			   tn_error *err);

/* Train on CSV file PATH: column TEXT_COL holds the text, LABEL_COL the type
 * name, THEME_COL (NULL to ignore; optional when absent from the file) the
 * theme.  Errors name the file, line and column of a bad row (an unknown
 * type, invalid UTF-8).  *nrows (if not NULL) receives the rows used. */
TN_API int tn_fb_model_train_csv(tn_fb_model *m, const char *path, const char *text_col,
				 const char *label_col, const char *theme_col, size_t *nrows, tn_error *err);

/* A user rule: a text containing KEYWORD (after normalisation, on word
 * boundaries) gets TYPE (and THEME when not NULL) with confidence 1; rules
 * are tried in the order added, before the statistical model. */
TN_API int tn_fb_model_add_rule(tn_fb_model *m, const char *keyword, int type, const char *theme,
				tn_error *err);
/* Read rules from CSV PATH with columns keyword,type[,theme]. */
TN_API int tn_fb_model_load_rules(tn_fb_model *m, const char *path, tn_error *err);

/* Save the model (counts and rules) to PATH in the text format documented in
 * docs/feedback.md ("tenure-feedback-model 1"), and load one back.  Load
 * rejects a file of another format or version with TN_ERR_INPUT naming the
 * line. */
TN_API int tn_fb_model_save(const tn_fb_model *m, const char *path, tn_error *err);
TN_API tn_fb_model *tn_fb_model_load(const char *path, tn_error *err);

/* Number of training texts counted into M. */
TN_API size_t tn_fb_model_ntrain(const tn_fb_model *m);

/* The default model: trained from the shipped data/feedback/train.csv,
 * looked up in $TENURE_DATA/feedback/, then beside the executable
 * (EXE_DIR/../data, EXE_DIR/../../data), then ./data.  EXE_DIR may be NULL. */
TN_API tn_fb_model *tn_fb_model_default(const char *exe_dir, tn_error *err);

#define TN_FB_THEME_MAX 64

typedef struct tn_fb_result {
	int type;                     /* TN_FB_* */
	double confidence;            /* 0..1 (1 for a rule) */
	int language;                 /* TN_LANG_* */
	int by_rule;                  /* 1 when a user rule decided */
	char theme[TN_FB_THEME_MAX];  /* short theme, e.g. "app crashes" */
} tn_fb_result;

/* Classify one text (validated as UTF-8 first: TN_ERR_INPUT if invalid).
 * The model is read-only here, so threads may share it. */
TN_API int tn_fb_classify(const tn_fb_model *m, const char *text, size_t len, tn_fb_result *out,
			  tn_error *err);

/* Accuracy of M on labelled CSV PATH (columns text, type, and optionally
 * language; the language column, when present, groups the results, else
 * the detected language does).  confusion[true][pred] counts rows. */
typedef struct tn_fb_eval {
	size_t n, correct;
	size_t n_lang[TN_LANG_COUNT], correct_lang[TN_LANG_COUNT];
	size_t confusion[TN_FB_NTYPES][TN_FB_NTYPES];
	size_t theme_n, theme_correct; /* rows with a theme column value */
	size_t lang_n, lang_correct;   /* detected language == language column */
} tn_fb_eval;
TN_API int tn_fb_evaluate_csv(const tn_fb_model *m, const char *path, const char *text_col,
			      const char *label_col, tn_fb_eval *out, tn_error *err);

/* K-fold cross-validation on labelled CSV PATH (the rows' fold is their
 * number modulo K, 2 <= K <= 20): train on K-1 folds (with THEME_COL when
 * present), classify the held-out fold, and add up the results in *out as
 * tn_fb_evaluate_csv does.  For a business's own labelled answers, where
 * there is no separate held-out set. */
TN_API int tn_fb_cross_validate(const char *path, const char *text_col, const char *label_col,
				const char *theme_col, int k, tn_fb_eval *out, tn_error *err);

/* ---- 3. survey scores over arrays -------------------------------------- */

typedef struct tn_fb_score {
	size_t n;            /* answers used (NaN and out-of-range ignored) */
	double value;        /* NPS in points (-100..100), CSAT in % (0..100), CES mean */
	double lo, hi;       /* 95% confidence interval */
	size_t promoters, passives, detractors; /* NPS only */
} tn_fb_score;

/* NPS over 0..10 scores: promoters 9-10, passives 7-8, detractors 0-6,
 * NPS = 100 (p - d).  CI: NPS +- 1.96 * 100 * sqrt((p + d - (p - d)^2) / n),
 * the multinomial variance of the difference of two shares (e.g. Rocks,
 * "Confidence intervals for the Net Promoter Score", 2016). */
TN_API void tn_fb_nps(const double *scores, size_t n, tn_fb_score *out);
/* CSAT over 1..5 scores: share (in %) of 4 and 5, with a Wilson interval. */
TN_API void tn_fb_csat(const double *scores, size_t n, tn_fb_score *out);
/* CES over 1..7 scores: the mean, CI mean +- 1.96 s / sqrt(n). */
TN_API void tn_fb_ces(const double *scores, size_t n, tn_fb_score *out);
/* Wilson score interval for K successes of N at 95% (Wilson 1927), as shares. */
TN_API void tn_fb_wilson(size_t k, size_t n, double *lo, double *hi);

/* ---- 4. store-based reports (src/feedback/feedback_store.c) ----------------------- */

/* Classify every text answer in the store's feedback table (kinds exit and
 * free, and any other kind whose answers are not fixed choices) that has no
 * label yet, and store type, theme, language, confidence in feedback_labels.
 * FORCE relabels everything.  *nlabelled receives how many were labelled. */
TN_API int tn_fb_label_store(tn_store *s, const tn_fb_model *m, int force, size_t *nlabelled,
			     tn_error *err);

/* One row of a store report: a score per segment and period, or an impact
 * line, or a customer to follow up.  Strings are NUL-terminated in place. */
typedef struct tn_fb_row {
	char segment[64];  /* scores: "all", an ATTR value, "churned"/"stayed"; impact: the type */
	char period[64];   /* scores: "all" or "2025-03"; impact: the theme ("(all)" for the type) */
	char metric[96];   /* scores: nps, csat, ces, responses, QUESTION=ANSWER; follow-up: customer id */
	size_t n;          /* answers (scores) or customers affected (impact) */
	double value;      /* the score; impact: churn rate of the affected customers */
	double lo, hi;     /* 95% interval; impact: churn rate of the rest (lo), revenue (hi) */
	double extra;      /* impact: churned customers affected; follow-up: given_at */
	char text[256];    /* follow-up, labels: the answer (cut); matrix: the quadrant */
	char kind[48];     /* labels: the feedback kind */
	char language[8];  /* labels: the detected language */
} tn_fb_row;

/* Survey scores from the store (docs/feedback.md): NPS, CSAT, CES, response
 * counts and fixed-choice custom questions (kind = question id, answer =
 * choice; a kind with at most 20 distinct answers counts as fixed-choice) --
 * overall, per BY segment (NULL: none; country, channel, plan, or a key of
 * the customer's attrs JSON), per PERIOD (NULL, "week", "month", "quarter",
 * "year"), and for customers who churned (a subscription with status
 * cancelled or expired) vs stayed.  *rows is malloc'd; the caller frees it. */
TN_API int tn_fb_scores_store(tn_store *s, const char *by, const char *period, tn_fb_row **rows,
			      size_t *nrows, tn_error *err);
/* The overall NPS, CSAT and CES alone (OUT[0], [1], [2]): the same figures as
 * tn_fb_scores_store's rows for segment and period "all" (an OUT with n 0
 * where it has none), without reading the other answers, the churn flags
 * or the custom questions (the report's survey table, report_insights.c). */
TN_API int tn_fb_scores_all(tn_store *s, tn_fb_score out[3], tn_error *err);

/* Impact per type and theme of the labelled answers (tn_fb_label_store
 * first; answers given in exit surveys are left out): customers affected
 * (n), their churn rate (value), the churn rate
 * of all other customers (lo), their revenue -- the sum of succeeded
 * payments (hi), churned customers affected (extra).  Rows with period
 * "(all)" total a type; by type, then churned customers affected. */
TN_API int tn_fb_impact_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err);
/* The hazard ratio, with its 95% interval, of raising each impact row's type
 * and theme (outside exit surveys) in a Cox model of the time to churn under
 * DEF (feedback_hazard.c); NaN where nobody or everybody raised it, or where
 * the Cox fit is degenerate (not converged, or the coefficient may be infinite). */
struct tn_churn_def;
TN_API int tn_fb_impact_hazard(tn_store *s, const struct tn_churn_def *def, const tn_fb_row *rows, size_t n,
			       double *hr, double *lo, double *hi, tn_error *err);
/* The same on a churn frame F given (tn_churn_frame under DEF as of the
 * data's end, e.g. one already built for survival): no scan of the store
 * for the times, only the labels read. */
struct tn_frame;
TN_API int tn_fb_impact_hazard_frame(tn_store *s, const struct tn_frame *f, const tn_fb_row *rows, size_t n,
				     double *hr, double *lo, double *hi, tn_error *err);

/* Exit reasons (kind exit) ranked by count: segment = type, period = theme,
 * n = answers, value = share of exit answers, lo/hi = Wilson 95% interval. */
TN_API int tn_fb_exit_reasons_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err);

/* The impact/effort matrix per theme: n = customers affected, extra =
 * churned customers affected (the impact), value = churn rate, text =
 * quadrant: "do now" (high impact, low effort), "plan next" (high, high),
 * "fill in" (low, low), "later" (low, high), or "effort not set"; metric =
 * the effort.  High impact: churned customers affected at least the median
 * over themes and more than zero. */
TN_API int tn_fb_matrix_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err);

/* Customers who raised a theme marked fixed (THEME NULL: every fixed theme):
 * metric = customer id, segment = type, period = theme, extra = given_at,
 * value = 1 when the customer churned, text = the answer. */
TN_API int tn_fb_follow_up_store(tn_store *s, const char *theme, tn_fb_row **rows, size_t *nrows,
				 tn_error *err);

/* The labelled answers: metric = customer id, kind, segment = type,
 * period = theme, language, value = confidence, lo = 1 when a rule decided,
 * extra = given_at, text = the answer (cut at 255 bytes). */
TN_API int tn_fb_labels_store(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err);
/* The complaint themes of those labels (praise and labels without a theme
 * left out), each with its number of labelled answers (n; the theme in
 * period), in the order tn_fb_labels_store first lists each.  *rows is
 * malloc'd; the caller frees it. */
TN_API int tn_fb_label_themes(tn_store *s, tn_fb_row **rows, size_t *nrows, tn_error *err);
/* The first of those labels (tn_fb_labels_store's order) with theme THEME,
 * language LANGUAGE and an answer, as tn_fb_labels_store gives it, into *ROW;
 * *FOUND 0 when there is none. */
TN_API int tn_fb_label_first(tn_store *s, const char *theme, const char *language, tn_fb_row *row, int *found,
			     tn_error *err);

/* Effort of THEME ("low" or "high") for the impact/effort matrix, and the
 * "fixed" mark (FIXED_AT, or TN_NO_TIME to clear). */
TN_API int tn_fb_set_effort(tn_store *s, const char *theme, const char *effort, tn_error *err);
TN_API int tn_fb_set_fixed(tn_store *s, const char *theme, tn_time fixed_at, tn_error *err);

#endif
