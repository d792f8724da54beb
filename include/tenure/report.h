/*
 * tenure/report.h -- the one-page HTML retention report (tenure report
 * --html FILE): self-contained (inline CSS and SVG, no scripts, fonts or
 * network references), sections in the order a growth team reads them:
 *   1. churn-rate trend (monthly customer churn and gross revenue churn)
 *   2. cohort retention heatmap
 *   3. survival curves by plan with confidence bands     (survival library)
 *   4. hazard by customer age with the danger window     (survival library)
 *   5. churn drivers as hazard ratios (forest chart)     (survival library)
 * each with a one-line plain-language reading.  Sections 3-5 are filled by
 * whoever has the survival results (`tenure report` fits Kaplan-Meier, the
 * danger window and Cox on the frame from tn_churn_frame); when a section's
 * data is absent the page says how to get it instead.
 */
#ifndef TENURE_REPORT_H
#define TENURE_REPORT_H

#include <stddef.h>
#include "tenure/churn.h"
#include "tenure/svg.h"
#include "tenure/summary.h"

/* A section shown as a table after the charts (offers, win-back, loyalty,
 * onboarding): a heading, a one-line reading, and text cells.  With no rows
 * the reading is shown as a hint on how to fill the section. */
typedef struct tn_report_table {
	char *title;
	char *reading;
	size_t ncols, nrows;
	char **cols;  /* ncols names */
	char **cells; /* nrows x ncols, row-major */
} tn_report_table;

typedef struct tn_report {
	const char *title;            /* page title; NULL: "Retention report" */
	const char *store_path;       /* shown in the header, or NULL */
	const char *definition;       /* churn definition name, or NULL */
	tn_time as_of;
	/* the headline box (tn_summary_get_def for the same as-of and
	 * definition), or NULL; each figure sits in data-metric="NAME", NAME
	 * being the measure of `tenure --format json summary` */
	const tn_summary *headline;
	/* 1: ungrouped monthly rows from tn_churn_rate */
	const tn_churn_rate_row *rates;
	size_t nrates;
	/* 2: from tn_cohorts_compute (customers variant) */
	const tn_cohorts *cohorts;
	/* 3: survival S(t) by group: x = days, y = S, lo/hi = CI, step = 1 */
	const tn_svg_series *survival;
	size_t nsurvival;
	const char *survival_reading; /* NULL: a reading is derived from the medians */
	const double *survival_median; /* nsurvival Kaplan-Meier medians in days (NaN: not reached), or NULL */
	/* 4: hazard by age in days; the danger window [danger_from, danger_to] (NaN: none) */
	const tn_svg_series *hazard;
	size_t nhazard;
	double danger_from, danger_to;
	const char *hazard_reading;
	/* 5: drivers: hazard ratio with 95% CI per covariate */
	size_t ndrivers;
	const char *const *driver_names;
	const double *hr, *hr_lo, *hr_hi;
	/* per driver, or NULL: its factor ("plan") and the factor's reference
	 * level ("monthly"); the chart colours drivers by factor with a key */
	const char *const *driver_factor, *const *driver_ref;
	const char *drivers_reading;
	/* what customers say, what they are worth, who is about to leave
	 * (tn_report_insights), shown after the drivers */
	const tn_report_table *insights;
	size_t ninsights;
	/* 6..: the actions' tables (tn_report_actions) */
	const tn_report_table *tables;
	size_t ntables;
} tn_report;

/* Fill R's sections 1 and 2 from the store (rates and cohorts under DEF as
 * of AS_OF); the arrays are owned by R and freed by tn_report_free_store.
 * The survival sections are left empty. */
TN_API int tn_report_from_store(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_report *r, tn_error *err);
TN_API void tn_report_free_store(tn_report *r);

/* The sections on acting to keep customers, from the store as of NOW:
 * retention offers (the latest plan against its control group), win-back
 * campaigns (cost per customer won back), loyalty points (ledger check and
 * points at risk) and the onboarding journey (churn by furthest milestone).
 * *out (n tables) is freed with tn_report_tables_free. */
TN_API int tn_report_actions(tn_store *s, tn_time now, tn_report_table **out, size_t *n, tn_error *err);
TN_API void tn_report_tables_free(tn_report_table *t, size_t n);

/* Why customers leave (report_causes.c): voluntary against involuntary churn
 * with the involuntary share of churned MRR and churn after price increases;
 * billing recovery, trial conversion, refunds and the save window
 * (tn_churn_recovery_compute as of AS_OF).  Two tables, freed with
 * tn_report_tables_free. */
TN_API int tn_report_causes(tn_store *s, tn_time as_of, tn_report_table **out, size_t *n, tn_error *err);

/* The sections on customers (report_insights.c), as of AS_OF under DEF:
 * survey scores with 95% intervals; complaints by type and theme with their
 * churn rates and hazard ratios; the impact/effort matrix; value and
 * profitability by plan and by channel; and the riskiest live customers
 * with their value and reasons, scored with the model at MODEL_PATH or, when
 * NULL, one trained on the spot (logistic regression on the features at
 * as-of - 30 days, as `tenure alerts` does).  CURRENCY labels money.  A
 * section without data says which command fills it.  Free with
 * tn_report_tables_free. */
TN_API int tn_report_insights(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
			      const char *currency, tn_report_table **out, size_t *n, tn_error *err);

/* The risk scoring of the live customers at an as-of, shared by the report's
 * "who is about to leave" and the dashboard's /who (one feature build, one
 * model fit and one scoring instead of one each): F the live customers'
 * features (tn_pred_features, horizon 30 days), M the model (MODEL_PATH, or
 * trained on the features at as-of - 30 days), RISK each row's P(leaving).
 * OK 0: ERR says why (empty: no live customers); a failure is a result,
 * not an error (tn_report_scores_compute returns TN_OK).  RET, the live
 * subscribers' value (tn_value_retention, discount 0.10), is the caller's
 * to fill (or NULL: computed and owned here, OWN_RET). */
struct tn_frame;
struct tn_pred_model;
struct tn_value_retention_result;
typedef struct tn_report_scores {
	int ok;
	tn_error err;
	struct tn_frame *f;
	struct tn_pred_model *m;
	double *risk;
	struct tn_value_retention_result *ret;
	int own_ret;
} tn_report_scores;
TN_API void tn_report_scores_compute(tn_store *s, tn_time as_of, const char *model_path, tn_report_scores *o);
/* RET: its value result when it fails (an error is kept in O->err and O->ok
 * is 0), computed with DEF and AS_OF unless O->ret is set already */
TN_API void tn_report_scores_value(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_report_scores *o);
TN_API void tn_report_scores_clear(tn_report_scores *o);
/* tn_report_insights with the scores given (SC computed at AS_OF, with
 * MODEL_PATH and its value; NULL: computed here).  AS_OF must then be the
 * data's end: SC's value also serves the profitability tables (which value
 * the subscribers at the data's end, tn_value_profitability). */
TN_API int tn_report_insights_scored(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
				     const char *currency, const tn_report_scores *sc, tn_report_table **out,
				     size_t *n, tn_error *err);
/* The same with the churn frame given too (CHURN: tn_churn_frame under DEF
 * as of the data's end, e.g. the one survival reads; NULL: built here for
 * the complaints' hazard ratios). */
TN_API int tn_report_insights_shared(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
				     const char *currency, const tn_report_scores *sc, const struct tn_frame *churn,
				     tn_report_table **out, size_t *n, tn_error *err);
/* The same with the scores asked for only when a table needs them: GET_SC(UD)
 * is called once, after the survey, complaint, matrix and words tables (which
 * do not read them), and returns SC (NULL: computed here).  A caller can so
 * compute the scores on another connection meanwhile (the dashboard,
 * web_pages.c); the tables are those of tn_report_insights_shared. */
typedef const tn_report_scores *(*tn_report_scores_wait)(void *ud);
TN_API int tn_report_insights_wait(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
				   const char *currency, tn_report_scores_wait get_sc, void *ud,
				   const struct tn_frame *churn, tn_report_table **out, size_t *n, tn_error *err);

/* V with DIGITS decimals and thousands separators ("21,272", "-1,234.5";
 * "n/a" for NaN); returns BUF. */
TN_API char *tn_report_number(double v, int digits, char *buf, size_t n);
/* V as money: tn_report_number with two decimals, then the currency when
 * given ("192,530.10 USD"); returns BUF. */
TN_API char *tn_report_money(double v, const char *currency, char *buf, size_t n);

/* Render R as one HTML page into *out (caller frees with tn_sbuf_free). */
TN_API int tn_report_render(const tn_report *r, tn_sbuf *out, tn_error *err);

/* Render and write to PATH. */
TN_API int tn_report_write_html(const tn_report *r, const char *path, tn_error *err);

#endif
