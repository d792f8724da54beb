/*
 * tenure/predict.h -- who is about to leave: churn-risk models on a flat
 * table (one row per customer), their cross-validated accuracy, and the
 * reasons behind each score.  docs/predict.md is the user-facing manual.
 *
 * The pieces, in the order data flows:
 *   1. tn_pred_encoding / tn_pred_design: a frame (frame.h) -> a numeric
 *      design matrix.  Numeric columns are used as they are (a blank becomes
 *      the column mean plus a 0/1 "is missing" indicator when the training
 *      data had blanks); text columns become 0/1 indicators, one per level
 *      except the reference level (the most frequent); a blank text cell is
 *      its own level "(blank)"; a level unseen in training scores as the
 *      reference level.
 *   2. tn_logit_*: L2-regularised logistic regression on standardised inputs,
 *      fitted by Newton's method (IRLS) with a backtracking line search.
 *   3. tn_gbdt_*: gradient-boosted trees through XGBoost's C API
 *      (single-threaded by default, so results are reproducible), with SHAP
 *      contributions (Lundberg & Lee 2017, TreeSHAP) for reasons.
 *   4. tn_metrics_*: ROC AUC, average precision, Brier score, lift, deciles.
 *   5. tn_pred_*: a model = encoding + fitted model; train, score with
 *      reasons, save/load as one JSON file, and stratified k-fold CV.
 */
#ifndef TENURE_PREDICT_H
#define TENURE_PREDICT_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/frame.h"

/* ---- 1. encoding ------------------------------------------------------ */

#define TN_PRED_MAX_LEVELS 1000 /* a text column with more levels is an error */
#define TN_PRED_BLANK_LEVEL "(blank)"

typedef struct tn_pred_source {
	char *name;          /* the frame column */
	int is_numeric;
	double mean;         /* numeric: mean of the non-blank training values */
	int has_missing;     /* numeric: the training data had blanks -> indicator */
	size_t nlevels;      /* text: levels[0] is the reference (most frequent) */
	char **levels;
	size_t first, nfeat; /* the design columns this source produces */
} tn_pred_source;

typedef struct tn_pred_encoding {
	size_t nsrc;
	tn_pred_source *src;
	size_t p;            /* number of design columns */
	char **feature;      /* p names: "tenure", "TotalCharges (missing)", "Contract=Two year" */
	size_t *feature_src; /* p: index into src */
} tn_pred_encoding;

/* Learn an encoding from every column of F except the NEXCLUDE names in
 * EXCLUDE (target, id, dropped columns; names that are absent are an error).
 * Errors: a text column with more than TN_PRED_MAX_LEVELS levels (probably
 * an identifier: pass it to --id or --drop), no usable column.  Free with
 * tn_pred_encoding_free. */
TN_API int tn_pred_encoding_fit(const tn_frame *f, const char *const *exclude, size_t nexclude,
				tn_pred_encoding **out, tn_error *err);
TN_API void tn_pred_encoding_free(tn_pred_encoding *e);

/* Encode F (which must hold every source column; numeric ones numeric) into
 * a row-major nrows x e->p matrix of doubles *X (caller frees with free()). */
TN_API int tn_pred_encode(const tn_pred_encoding *e, const tn_frame *f, double **x, tn_error *err);
/* Encode only the N rows listed in ROWS (all rows 0..N-1 when ROWS is NULL)
 * into the caller's N x e->p buffer X. */
TN_API int tn_pred_encode_rows(const tn_pred_encoding *e, const tn_frame *f, const size_t *rows,
			       size_t n, double *x, tn_error *err);

/* The 0/1 target from column COL of F: a numeric column must hold 0/1; a text
 * column is 1 where the value equals POSITIVE (default "Yes", "1", "true"
 * when POSITIVE is NULL are tried in that order).  Blank targets are errors
 * naming the row.  *Y is caller-freed. */
TN_API int tn_pred_target(const tn_frame *f, const char *col, const char *positive, double **y,
			  tn_error *err);

/* ---- 2. logistic regression ------------------------------------------- */

typedef struct tn_logit {
	size_t p;
	double intercept;  /* on the standardised scale */
	double *beta;      /* p, standardised scale: z_j = (x_j - mean_j) / sd_j */
	double *mean, *sd; /* p, training means and population sd (sd 0 -> feature unused) */
	double l2;         /* penalty: objective = -loglik + l2/2 * sum beta_j^2 */
	int iterations;
	double loglik;     /* unpenalised log-likelihood at the solution */
} tn_logit;

/* Fit to N rows of the row-major N x P matrix X and 0/1 labels Y.  Newton's
 * method on the penalised negative log-likelihood (the intercept is not
 * penalised) with step halving, stopped when the largest Newton step is
 * below 1e-10 (relative).  With L2 = 0 this is the maximum-likelihood fit of
 * R's glm(binomial); TN_ERR_NUMERIC when it does not converge in 100 steps
 * (e.g. perfect separation).  Equivalent to scikit-learn's
 * LogisticRegression(C = 1/L2) on StandardScaler inputs. */
TN_API int tn_logit_fit(const double *x, const double *y, size_t n, size_t p, double l2,
			tn_logit **out, tn_error *err);
/* Probability of the positive class for one row of P raw values. */
TN_API double tn_logit_predict(const tn_logit *m, const double *row);
/* Per-feature contributions to the log-odds of one row:
 * out[j] = beta_j * (x_j - mean_j) / sd_j (= b_j (x_j - mean_j) in raw units). */
TN_API void tn_logit_contrib(const tn_logit *m, const double *row, double *out);
/* Coefficients on the raw scale: out[0] intercept, out[1..p] slopes. */
TN_API void tn_logit_coef_raw(const tn_logit *m, double *out);
TN_API void tn_logit_free(tn_logit *m);

/* ---- 3. gradient-boosted trees (XGBoost) ------------------------------ */

typedef struct tn_gbdt_params {
	int rounds;              /* boosting rounds (default 300) */
	int depth;               /* max tree depth (default 3) */
	double eta;              /* learning rate (default 0.05) */
	double min_child_weight; /* default 1 */
	double lambda;           /* L2 on leaf weights (default 1) */
	double subsample;        /* row sampling (default 1: deterministic) */
	int nthread;             /* default 1 (deterministic) */
	int seed;                /* default 0 */
} tn_gbdt_params;

typedef struct tn_gbdt tn_gbdt;

TN_API tn_gbdt_params tn_gbdt_params_default(void);
/* Fit binary:logistic boosted trees to the N x P matrix X, labels Y. */
TN_API int tn_gbdt_fit(const double *x, const double *y, size_t n, size_t p,
		       const tn_gbdt_params *par, tn_gbdt **out, tn_error *err);
/* Probabilities for N rows into PROB. */
TN_API int tn_gbdt_predict(const tn_gbdt *g, const double *x, size_t n, double *prob,
			   tn_error *err);
/* SHAP contributions to the log-odds: N x (P + 1) into OUT, the last column
 * of each row being the bias (expected value). */
TN_API int tn_gbdt_contrib(const tn_gbdt *g, const double *x, size_t n, double *out,
			   tn_error *err);
/* The model as XGBoost JSON (*JSON caller-freed, NUL-terminated) and back. */
TN_API int tn_gbdt_to_json(const tn_gbdt *g, char **json, tn_error *err);
TN_API int tn_gbdt_from_json(const char *json, size_t len, size_t p, tn_gbdt **out, tn_error *err);
TN_API size_t tn_gbdt_nfeatures(const tn_gbdt *g);
/* Threads for prediction (0: all cores).  Predictions do not depend on it;
 * a loaded model starts with 1. */
TN_API int tn_gbdt_set_threads(tn_gbdt *g, int nthread, tn_error *err);
TN_API void tn_gbdt_free(tn_gbdt *g);

/* ---- 4. metrics -------------------------------------------------------- */

/* ROC AUC of SCORE for 0/1 labels Y: the Mann-Whitney statistic with tied
 * scores counted one half (= sklearn.metrics.roc_auc_score).  NaN when Y has
 * one class only; TN_ERR_NOMEM on allocation failure. */
TN_API int tn_metrics_auc(const double *score, const double *y, size_t n, double *out, tn_error *err);
/* Average precision, sum_k (R_k - R_{k-1}) P_k over distinct thresholds in
 * decreasing order (= sklearn.metrics.average_precision_score). */
TN_API int tn_metrics_avg_precision(const double *score, const double *y, size_t n, double *out,
				    tn_error *err);
/* Brier score: mean (score - y)^2 (Brier 1950). */
TN_API double tn_metrics_brier(const double *prob, const double *y, size_t n);
/* The top FRAC of rows by score (ceil(FRAC n) rows; ties broken by row
 * order): *LIFT = positive rate there / overall rate, *CAPTURED = share of
 * all positives found there. */
TN_API int tn_metrics_top(const double *score, const double *y, size_t n, double frac,
			  double *lift, double *captured, tn_error *err);

typedef struct tn_metrics_bin {
	size_t n;
	double mean_pred, observed; /* mean predicted probability, observed rate */
} tn_metrics_bin;
/* Calibration table: rows sorted by PROB and cut into NBINS groups of equal
 * size (group k holds rows floor(k n / NBINS) .. floor((k+1) n / NBINS) - 1). */
TN_API int tn_metrics_calibration(const double *prob, const double *y, size_t n, size_t nbins,
				  tn_metrics_bin *bins, tn_error *err);

/* ---- 5. models, scoring, cross-validation ------------------------------ */

typedef enum { TN_PRED_LOGISTIC = 0, TN_PRED_GBDT = 1 } tn_pred_kind;

typedef struct tn_pred_options {
	tn_pred_kind kind;
	double l2;           /* logistic penalty (default 1.0) */
	tn_gbdt_params gbdt;
} tn_pred_options;

TN_API tn_pred_options tn_pred_options_default(void);
/* "logistic" / "gbdt" and back; -1 for an unknown name. */
TN_API int tn_pred_kind_parse(const char *name);
TN_API const char *tn_pred_kind_name(tn_pred_kind k);

typedef struct tn_pred_model {
	tn_pred_kind kind;
	tn_pred_encoding *enc;
	tn_logit *logit;     /* when kind == TN_PRED_LOGISTIC */
	tn_gbdt *gbdt;       /* when kind == TN_PRED_GBDT */
	char *target, *positive, *id; /* as trained (id may be NULL) */
	double horizon_days; /* trained on the store's features: the label window; 0 unknown */
} tn_pred_model;

typedef struct tn_pred_spec {
	const char *target;   /* required */
	const char *positive; /* NULL: see tn_pred_target */
	const char *id;       /* NULL: no id column */
	const char *const *drop;
	size_t ndrop;
} tn_pred_spec;

/* Train on every row of F.  Free with tn_pred_model_free. */
TN_API int tn_pred_train(const tn_frame *f, const tn_pred_spec *spec, const tn_pred_options *o,
			 tn_pred_model **out, tn_error *err);
/* Score F: RISK[i] = probability of churn of row i.  Rows are encoded in
 * blocks (16,384 rows for logistic, 131,072 for gbdt), so memory beyond the
 * frame stays bounded. */
TN_API int tn_pred_score(const tn_pred_model *m, const tn_frame *f, double *risk, tn_error *err);
/* Contributions to the log-odds of the N rows ROWS of F: N x enc->nsrc values
 * into CONTRIB, summed over the design columns of each source column
 * (logistic: tn_logit_contrib; gbdt: SHAP).  Explaining only the rows shown
 * keeps scoring fast (TreeSHAP costs far more than prediction). */
TN_API int tn_pred_explain(const tn_pred_model *m, const tn_frame *f, const size_t *rows, size_t n,
			   double *contrib, tn_error *err);
/* A reason in plain words for source S of row ROW of F with contribution C,
 * e.g. "Contract is Month-to-month" or "tenure is 1, below the average 32.37",
 * "TotalCharges is blank"; written to BUF (N bytes). */
TN_API void tn_pred_reason(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s,
			   char *buf, size_t n);
/* The same with the store's features in words (src/analyses/predict_words.c): one
 * phrase per feature, with units, e.g. "paid period ends tomorrow", "12 days
 * without using the app, usually every 2 days", "pays 79.99 USD a month,
 * above the average 25.10 USD" (CURRENCY: ISO code for money, or NULL). */
TN_API void tn_pred_reason_words(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s,
				 const char *currency, char *buf, size_t n);
/* The sources that raise a row's risk most: the indexes of the (up to) two
 * largest positive contributions of CONTRIB (NSRC values, from
 * tn_pred_explain) into *A and *B, NSRC where there is none. */
TN_API void tn_pred_top2(const double *contrib, size_t nsrc, size_t *a, size_t *b);
/* The same reason as a message id and its parameters, so an interface can
 * write it in another language (the dashboard does, src/web/web_i18n.c);
 * tn_pred_reason_format writes it in English, exactly as
 * tn_pred_reason_words does. */
enum {
	TN_RW_TENURE = 1,  /* a customer for v0 days; flag: only */
	TN_RW_ENDS,        /* the paid period (flag: the free trial) ends in v0 whole days (0 today, 1 tomorrow) */
	TN_RW_IDLE,        /* v0 days without using the app, usually every v1 days (NaN: not known) */
	TN_RW_USED_AGO,    /* used the app v0 days ago */
	TN_RW_NO_USE,      /* did not use the app in the last v1 days (average v2 times) */
	TN_RW_USED,        /* used the app v0 times in the last v1 days (average v2); flag: only */
	TN_RW_TREND,       /* app use v0 times the pace of the two months before */
	TN_RW_KINDS,       /* used v0 kinds of feature in 90 days (average v1); flag: only */
	TN_RW_MILESTONES,  /* reached v0 onboarding milestones in 30 days (average v1); flag: only */
	TN_RW_SUBS,        /* v0 subscriptions so far */
	TN_RW_PRICE,       /* pays v0 a text[0] (the billing period; "" none), average v1; flag: below */
	TN_RW_MRR,         /* pays v0 a month, average v1; flag: below */
	TN_RW_TRIAL,       /* v0 1: still in the free trial, 0: past it */
	TN_RW_FAILED,      /* v0 failed payments in the last 90 days */
	TN_RW_FAILING,     /* v0 1: the latest payment failed, 0: went through */
	TN_RW_TICKETS,     /* v0 support tickets in the last 90 days */
	TN_RW_NPS,         /* NPS answer v0 of 10 */
	TN_RW_CSAT,        /* satisfaction v0 of 5 */
	TN_RW_CES,         /* effort v0 of 7 */
	TN_RW_NEVER,       /* a store feature never observed; text[0] its name */
	TN_RW_LEVEL,       /* a store feature's text level: text[0] name, text[1] level */
	TN_RW_NUMBER,      /* another column: text[0] name, v0 value, v1 average */
	TN_RW_IS,          /* another column: text[0] name, text[1] value (or v0 when text[1] is "") */
	TN_RW_BLANK,       /* another column is blank: text[0] name */
	TN_RW_NAME,        /* a column the frame lacks: text[0] its name */
};
typedef struct tn_reason_msg {
	int id;            /* TN_RW_*; 0: none */
	int flag;
	double v[3];
	char text[2][128];
	char currency[8];  /* money's ISO code ("" none) */
} tn_reason_msg;
TN_API void tn_pred_reason_msg(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s,
			       const char *currency, tn_reason_msg *out);
TN_API void tn_pred_reason_format(const tn_reason_msg *r, char *buf, size_t n);
struct tn_store;
/* The store's currency (the most used in subscriptions) into BUF; "" if none. */
TN_API int tn_pred_store_currency(struct tn_store *s, char *buf, size_t n, tn_error *err);
/* Save as one JSON file (encoding + model; gbdt embeds XGBoost's JSON) / load. */
TN_API int tn_pred_save(const tn_pred_model *m, const char *path, tn_error *err);
TN_API int tn_pred_load(const char *path, tn_pred_model **out, tn_error *err);
TN_API void tn_pred_model_free(tn_pred_model *m);

/* Stratified fold assignment: the rows of each class are shuffled by a
 * Fisher-Yates shuffle driven by SplitMix64(SEED) (Steele et al. 2014) and
 * dealt round-robin to folds 0..K-1, negatives first, the deal continuing
 * with the positives (so fold sizes differ by at most one, and so do the
 * numbers of positives).  FOLD has N entries. */
TN_API int tn_pred_folds(const double *y, size_t n, int k, uint64_t seed, int *fold, tn_error *err);

typedef struct tn_pred_cv {
	int k;
	size_t n, npos;
	double auc_folds[64];
	double auc;          /* mean of the fold AUCs (as sklearn cross_val_score) */
	double auc_pooled;   /* AUC of all out-of-fold predictions together */
	double pr_auc;       /* average precision of the pooled predictions */
	double brier;
	double lift_top10, captured_top10;
	tn_metrics_bin calib[10];
	double fit_seconds;  /* wall-clock time spent fitting, all folds */
	double *oof;         /* n out-of-fold probabilities (owned; tn_pred_cv_free) */
	int *fold;           /* n fold numbers */
} tn_pred_cv;

/* K-fold (2 <= K <= 64) cross-validation of options O on the N x P design X
 * with labels Y.  The encoding is learned once from all rows (it uses no
 * labels); standardisation and the model are fitted on each training part. */
TN_API int tn_pred_cross_validate(const double *x, const double *y, size_t n, size_t p,
				  const tn_pred_options *o, int k, uint64_t seed, tn_pred_cv *out,
				  tn_error *err);
TN_API void tn_pred_cv_free(tn_pred_cv *cv);

/* ---- 6. features and backtests from the store --------------------------- */

struct tn_store;
typedef struct tn_pred_features_opts {
	int64_t as_of;          /* the cut-off instant t (tn_time) */
	double horizon_days;    /* label: churned within (t, t + horizon] */
	const char *definition; /* churn definition name (NULL: the built-in "cancelled") */
	int threads;            /* tn_pred_features_many: 2 = two threads over the two halves of the
				   customers (each with its own connection; the same frames); 0/1 = one */
} tn_pred_features_opts;

/* One row per customer whose subscription is live at the cut-off, from the
 * history up to the cut-off only: customer, tenure_days, plan,
 * billing_period, price, mrr, in_trial, days_to_period_end, subscriptions,
 * recency_days, events_7d/30d/90d, trend_30_vs_60, event_types_90d,
 * failed_payments_90d, payment_failing (the latest charge failed),
 * support_tickets_90d, nps, csat, ces (latest; blank
 * when none), channel, country, device, age_band (customer attributes), and
 * the label churned (0/1).  Streams the store in customer key order: memory
 * is the frame.  Free with tn_frame_free. */
TN_API int tn_pred_features(struct tn_store *s, const tn_pred_features_opts *o, tn_frame **out,
			    tn_error *err);
/* The features at N (1 to 4) increasing cut-offs CUTS in one pass over the
 * store (o->as_of is not used): the nightly jobs fit at T - 30 days and score
 * at T from one read of each customer's history.  OUT[k] is the frame of
 * CUTS[k]; KEYS (optional) receives, per cut-off, the rows' store keys
 * (malloc'ed).  The labels come from one scan as of the last cut-off + the
 * horizon, so OUT[k] equals tn_pred_features at CUTS[k] when the store holds
 * nothing after CUTS[k] + horizon (later data, e.g. a reactivation, could
 * change an earlier label); the features never read past their cut-off. */
TN_API int tn_pred_features_many(struct tn_store *s, const tn_pred_features_opts *o, const int64_t *cuts,
				 size_t n, tn_frame **out, int64_t **keys, tn_error *err);

typedef struct tn_pred_backtest {
	size_t ntrain, ntest;
	double train_rate, test_rate; /* churn rates */
	double auc, pr_auc, brier, lift_top10, captured_top10;
} tn_pred_backtest;

/* Train options O on the features at t - horizon (labels in (t - h, t], all
 * known at t) and test on the features at t (labels in (t, t + h]). */
TN_API int tn_pred_backtest_run(struct tn_store *s, const tn_pred_features_opts *o,
				const tn_pred_options *opt, tn_pred_backtest *out, tn_error *err);

/* ---- 7. alerts ------------------------------------------------------------ */

typedef struct tn_pred_alert_opts {
	int64_t as_of;            /* evaluate the customers live at this instant */
	double drop_fraction;     /* activity_drop: events/day in the last 30 days below this
				     fraction of the rate in the 60 days before (default 0.5) */
	double drop_min_events;   /* ... with at least this many events in those 60 days (default 10) */
	double inactive_days;     /* inactive: no event for this many days (default 14) */
	double detractor_max;     /* detractor: latest NPS <= this (default 6) */
	double ending_days;       /* ending_high_risk: the paid period ends within this many days */
	double risk_min;          /* ... and the churn risk is >= this (default 0.3) */
	const char *model_path;   /* risk model (tenure predict train on features); NULL: a
				     logistic model fitted on the store at as_of - 30 days */
} tn_pred_alert_opts;

typedef struct tn_pred_alert_run {
	size_t customers, raised, still_open, resolved;
	char risk_error[256]; /* why no risk could be computed ("" when it was) */
} tn_pred_alert_run;

typedef struct tn_pred_alert {
	int64_t id;
	char customer[128];
	char kind[24];
	int64_t raised_at, resolved_at, acked_at; /* TN_NO_TIME-like INT64_MIN when absent */
	double risk;                               /* NaN when not computed */
	char detail[160];
	double mrr; /* monthly price of the customer's latest subscription; NaN if none */
} tn_pred_alert;

TN_API tn_pred_alert_opts tn_pred_alert_opts_default(void);
/* Evaluate the five conditions for every customer live at o->as_of (from
 * tn_pred_features) and update the alerts table in one transaction: a true
 * condition with no open episode raises a new alert; a true condition with
 * an open episode raises nothing; an open episode whose condition is false
 * (or whose customer is no longer live) is resolved at as_of. */
TN_API int tn_pred_alerts_update(struct tn_store *s, const tn_pred_alert_opts *o, tn_pred_alert_run *run,
				 tn_error *err);
/* The same on features already computed (the nightly jobs: refresh's frame
 * at o->as_of, its risks -- NaN disables ending_high_risk -- and the rows'
 * store keys in increasing order, from tn_pred_features_many): the open
 * episodes are read once and merged with the rows in customer order. */
TN_API int tn_pred_alerts_apply(struct tn_store *s, const tn_pred_alert_opts *o, const tn_frame *f,
				const double *risk, const int64_t *keys, tn_pred_alert_run *run, tn_error *err);
/* Alerts raised at or after SINCE (INT64_MIN: all), largest MRR at risk
 * (risk x MRR) first, then MRR, then newest; only open, unacknowledged ones
 * unless ALL.  *out is malloc'ed (caller frees); at most
 * 1,000,000 rows. */
TN_API int tn_pred_alerts_list(struct tn_store *s, int64_t since, int all, tn_pred_alert **out, size_t *n,
			       tn_error *err);
/* Acknowledge alert ID at instant AT; TN_ERR_NOTFOUND when there is no such alert. */
/* An alert's detail (the English the store keeps and the CLI prints) as a
 * message id and its numbers, so an interface can write it in another
 * language: TN_ALERT_MSG_DROP (v0 events in the last 30 days, v1 in the 60
 * before), _NEW_INACTIVE (no activity since signing up v0 days ago),
 * _INACTIVE (none for v0 days), _FAILED (v0 failed in 90 days), _DETRACTOR
 * (latest NPS v0), _ENDING (period ends in v0 days, churn risk v1); 0 when
 * DETAIL is none of them. */
enum { TN_ALERT_MSG_DROP = 1, TN_ALERT_MSG_NEW_INACTIVE, TN_ALERT_MSG_INACTIVE, TN_ALERT_MSG_FAILED,
       TN_ALERT_MSG_DETRACTOR, TN_ALERT_MSG_ENDING };
TN_API int tn_pred_alert_detail_msg(const char *detail, double v[2]);
TN_API int tn_pred_alerts_ack(struct tn_store *s, int64_t id, int64_t at, tn_error *err);

#endif
