/* test_predict.c -- churn-risk models: metrics against hand-computed values,
 * logistic regression against R's glm, encoding of blanks, stratified folds,
 * telco cross-validated AUC floors, and model save/load round trips. */
#include "testutil.h"
#include "tenure/predict.h"

#include <unistd.h>

/* ---- metrics ---------------------------------------------------------- */

static void test_auc_with_ties(void **state)
{
	(void)state;
	tn_error err = {0};
	/* positives 0.35, 0.8, 0.4; negatives 0.1, 0.4.  Pairs won: 0.35>0.1,
	 * 0.8>0.1, 0.8>0.4, 0.4>0.1, and 0.4=0.4 counts 1/2: 4.5 of 6 = 0.75
	 * (sklearn roc_auc_score gives 0.75 too). */
	double s[] = {0.1, 0.4, 0.35, 0.8, 0.4}, y[] = {0, 0, 1, 1, 1}, auc;
	assert_int_equal(tn_metrics_auc(s, y, 5, &auc, &err), TN_OK);
	assert_near(auc, 0.75, 1e-15);
	/* all tied: 1/2 */
	double t[] = {0.3, 0.3, 0.3, 0.3};
	double yt[] = {0, 1, 0, 1};
	assert_int_equal(tn_metrics_auc(t, yt, 4, &auc, &err), TN_OK);
	assert_near(auc, 0.5, 1e-15);
	/* one class: NaN */
	assert_int_equal(tn_metrics_auc(t, (double[]){1, 1, 1, 1}, 4, &auc, &err), TN_OK);
	assert_true(isnan(auc));
}

static void test_average_precision(void **state)
{
	(void)state;
	tn_error err = {0};
	/* descending thresholds: 0.8 -> R 1/3, P 1; 0.4 (tie, one pos one neg)
	 * -> R 2/3, P 2/3; 0.35 -> R 1, P 3/4.  AP = 1/3 + 1/3 * 2/3 + 1/3 * 3/4
	 * = 29/36 (sklearn average_precision_score: 0.8055555555555556). */
	double s[] = {0.1, 0.4, 0.35, 0.8, 0.4}, y[] = {0, 0, 1, 1, 1}, ap;
	assert_int_equal(tn_metrics_avg_precision(s, y, 5, &ap, &err), TN_OK);
	assert_near(ap, 29.0 / 36.0, 1e-15);
}

static void test_brier_top_calibration(void **state)
{
	(void)state;
	tn_error err = {0};
	double p[] = {0.1, 0.9, 0.5}, y[] = {0, 1, 1};
	/* (0.01 + 0.01 + 0.25) / 3 */
	assert_near(tn_metrics_brier(p, y, 3), 0.09, 1e-15);
	/* 10 rows, 3 positives; top 20% = the 2 highest scores: rows 9 (y 1), 8 (y 0)
	 * -> captured 1/3, lift (1/2) / (3/10) = 5/3 */
	double s[10], yy[10] = {1, 0, 0, 0, 0, 0, 0, 1, 0, 1};
	for (int i = 0; i < 10; i++)
		s[i] = i / 10.0;
	double lift, cap;
	assert_int_equal(tn_metrics_top(s, yy, 10, 0.2, &lift, &cap, &err), TN_OK);
	assert_near(cap, 1.0 / 3.0, 1e-15);
	assert_near(lift, 5.0 / 3.0, 1e-12);
	tn_metrics_bin b[5];
	assert_int_equal(tn_metrics_calibration(s, yy, 10, 5, b, &err), TN_OK);
	assert_int_equal(b[0].n, 2);
	assert_near(b[0].mean_pred, 0.05, 1e-15); /* rows 0, 1 */
	assert_near(b[0].observed, 0.5, 1e-15);
	assert_near(b[4].mean_pred, 0.85, 1e-15); /* rows 8, 9 */
	assert_near(b[4].observed, 0.5, 1e-15);
}

/* ---- logistic regression ----------------------------------------------- */

/* mtcars (R datasets): hp, wt, am */
static const double mt_hp[32] = {110, 110, 93,  110, 175, 105, 245, 62,  95,  123, 123,
				 180, 180, 180, 205, 215, 230, 66,  52,  65,  97,  150,
				 150, 245, 175, 66,  91,  113, 264, 175, 335, 109};
static const double mt_wt[32] = {2.62,  2.875, 2.32,  3.215, 3.44, 3.46,  3.57, 3.19,
				 3.15,  3.44,  3.44,  4.07,  3.73, 3.78,  5.25, 5.424,
				 5.345, 2.2,   1.615, 1.835, 2.465, 3.52,  3.435, 3.84,
				 3.845, 1.935, 2.14,  1.513, 3.17, 2.77,  3.57, 2.78};
static const double mt_am[32] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1};

static void test_logit_matches_r_glm(void **state)
{
	(void)state;
	tn_error err = {0};
	double x[64];
	for (int i = 0; i < 32; i++)
		x[2 * i] = mt_hp[i], x[2 * i + 1] = mt_wt[i];
	tn_logit *m = NULL;
	assert_int_equal(tn_logit_fit(x, mt_am, 32, 2, 0.0, &m, &err), TN_OK);
	double c[3];
	tn_logit_coef_raw(m, c);
	/* R 4.x: coef(glm(am ~ hp + wt, binomial, mtcars)); logLik -5.02955523613349.
	 * R stops at deviance change 1e-8, so compare to ~1e-6 relative. */
	assert_near(c[0], 18.8662987172041312, 2e-5 * 18.87);
	assert_near(c[1], 0.0362555960822166, 2e-5 * 0.0363);
	assert_near(c[2], -8.0834751824446371, 2e-5 * 8.08);
	assert_near(m->loglik, -5.02955523613349, 1e-8);
	tn_logit_free(m);
}

static void test_logit_l2_stationary(void **state)
{
	(void)state;
	tn_error err = {0};
	double x[64];
	for (int i = 0; i < 32; i++)
		x[2 * i] = mt_hp[i], x[2 * i + 1] = mt_wt[i];
	tn_logit *m = NULL;
	double l2 = 2.5;
	assert_int_equal(tn_logit_fit(x, mt_am, 32, 2, l2, &m, &err), TN_OK);
	/* the penalised gradient vanishes: sum (y - p) = 0, sum (y - p) z_j = l2 b_j */
	double g0 = 0, g[2] = {0, 0};
	for (int i = 0; i < 32; i++) {
		double r = mt_am[i] - tn_logit_predict(m, x + 2 * i);
		g0 += r;
		for (int j = 0; j < 2; j++)
			g[j] += r * (x[2 * i + j] - m->mean[j]) / m->sd[j];
	}
	assert_near(g0, 0.0, 1e-9);
	for (int j = 0; j < 2; j++)
		assert_near(g[j], l2 * m->beta[j], 1e-9);
	/* the penalty shrinks the coefficients compared with glm */
	assert_true(fabs(m->beta[1]) < 8.08 * m->sd[1]);
	tn_logit_free(m);
}

static void test_logit_separation_fails(void **state)
{
	(void)state;
	tn_error err = {0};
	double x[] = {1, 2, 3, 4}, y[] = {0, 0, 1, 1};
	tn_logit *m = NULL;
	assert_int_equal(tn_logit_fit(x, y, 4, 1, 0.0, &m, &err), TN_ERR_NUMERIC);
	assert_null(m);
	assert_non_null(strstr(err.msg, "separation"));
}

/* ---- encoding ---------------------------------------------------------- */

static const char *write_tmp(const char *text)
{
	static char path[] = "/tmp/tenure_predict_XXXXXX";
	memcpy(path + sizeof path - 7, "XXXXXX", 6);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void test_encoding_blanks(void **state)
{
	(void)state;
	tn_error err = {0};
	const char *p = write_tmp("id,age,plan,churn\n"
				  "a,20,basic,1\nb,,pro,0\nc,40,basic,0\nd,30,,1\n");
	tn_frame *f = tn_frame_read_csv(p, NULL, 0, &err);
	assert_non_null(f);
	const char *ex[] = {"id", "churn"};
	tn_pred_encoding *e = NULL;
	assert_int_equal(tn_pred_encoding_fit(f, ex, 2, &e, &err), TN_OK);
	/* age, age (missing), plan=(blank), plan=pro; basic (most frequent) is the reference */
	assert_int_equal(e->p, 4);
	assert_string_equal(e->feature[1], "age (missing)");
	assert_string_equal(e->src[1].levels[0], "basic");
	assert_string_equal(e->feature[2], "plan=(blank)");
	assert_string_equal(e->feature[3], "plan=pro");
	double *x = NULL;
	assert_int_equal(tn_pred_encode(e, f, &x, &err), TN_OK);
	assert_near(x[1 * 4 + 0], 30.0, 1e-15); /* blank age -> mean of 20, 40, 30 */
	assert_near(x[1 * 4 + 1], 1.0, 0);
	assert_near(x[1 * 4 + 3], 1.0, 0);   /* pro */
	assert_near(x[3 * 4 + 2], 1.0, 0);   /* blank plan */
	assert_near(x[0 * 4 + 2] + x[0 * 4 + 3], 0.0, 0); /* basic: reference */
	double *y = NULL;
	assert_int_equal(tn_pred_target(f, "churn", NULL, &y, &err), TN_OK);
	assert_near(y[0] + y[3], 2.0, 0);
	free(y);
	free(x);
	tn_pred_encoding_free(e);
	/* a missing excluded column is an error naming the columns */
	const char *bad[] = {"nope"};
	assert_int_equal(tn_pred_encoding_fit(f, bad, 1, &e, &err), TN_ERR_USAGE);
	assert_non_null(strstr(err.msg, "columns are: id, age, plan, churn"));
	tn_frame_free(f);
	unlink(p);
}

static void test_folds_stratified(void **state)
{
	(void)state;
	tn_error err = {0};
	double y[103];
	for (int i = 0; i < 103; i++)
		y[i] = i % 4 == 0;
	int f1[103], f2[103];
	assert_int_equal(tn_pred_folds(y, 103, 5, 42, f1, &err), TN_OK);
	assert_int_equal(tn_pred_folds(y, 103, 5, 42, f2, &err), TN_OK);
	assert_memory_equal(f1, f2, sizeof f1);
	int pos[5] = {0}, all[5] = {0};
	for (int i = 0; i < 103; i++) {
		assert_true(f1[i] >= 0 && f1[i] < 5);
		all[f1[i]]++;
		pos[f1[i]] += y[i] > 0;
	}
	for (int k = 0; k < 5; k++) {
		assert_true(pos[k] == 5 || pos[k] == 6); /* 26 positives over 5 folds */
		assert_true(all[k] >= 20 && all[k] <= 21);
	}
	assert_int_equal(tn_pred_folds(y, 103, 5, 43, f2, &err), TN_OK);
	assert_true(memcmp(f1, f2, sizeof f1) != 0);
}

/* ---- telco ---------------------------------------------------------------- */

static void telco_cv(tn_pred_kind kind, double *auc)
{
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(require_data("telco/telco_customer_churn.csv"), NULL, 0, &err);
	assert_non_null(f);
	const char *ex[] = {"Churn", "customerID"};
	tn_pred_encoding *e = NULL;
	double *x = NULL, *y = NULL;
	assert_int_equal(tn_pred_encoding_fit(f, ex, 2, &e, &err), TN_OK);
	assert_int_equal(tn_pred_encode(e, f, &x, &err), TN_OK);
	assert_int_equal(tn_pred_target(f, "Churn", "Yes", &y, &err), TN_OK);
	tn_pred_options o = tn_pred_options_default();
	o.kind = kind;
	tn_pred_cv cv;
	assert_int_equal(tn_pred_cross_validate(x, y, f->nrows, e->p, &o, 5, 1, &cv, &err), TN_OK);
	assert_int_equal(cv.npos, 1869); /* 26.5% of 7043 (tests/data/README.md) */
	*auc = cv.auc;
	assert_true(cv.pr_auc > 0.5 && cv.brier < 0.16 && cv.lift_top10 > 2.0);
	tn_pred_cv_free(&cv);
	free(x);
	free(y);
	tn_pred_encoding_free(e);
	tn_frame_free(f);
}

/* Published 5-fold AUC for telco is about 0.84-0.85 (tests/data/README.md). */
static void test_telco_auc_logistic(void **state)
{
	(void)state;
	double auc;
	telco_cv(TN_PRED_LOGISTIC, &auc);
	assert_true(auc >= 0.84);
}

static void test_telco_auc_gbdt(void **state)
{
	(void)state;
	double auc;
	telco_cv(TN_PRED_GBDT, &auc);
	assert_true(auc >= 0.84);
}

static void round_trip(tn_pred_kind kind)
{
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(require_data("telco/telco_customer_churn.csv"), NULL, 0, &err);
	assert_non_null(f);
	tn_pred_options o = tn_pred_options_default();
	o.kind = kind;
	o.gbdt.rounds = 50;
	tn_pred_spec spec = {"Churn", "Yes", "customerID", NULL, 0};
	tn_pred_model *m = NULL, *m2 = NULL;
	assert_int_equal(tn_pred_train(f, &spec, &o, &m, &err), TN_OK);
	char path[] = "/tmp/tenure_model_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tn_pred_save(m, path, &err), TN_OK);
	assert_int_equal(tn_pred_load(path, &m2, &err), TN_OK);
	unlink(path);
	size_t n = f->nrows, ns = m->enc->nsrc;
	double *r1 = malloc(n * sizeof *r1), *r2 = malloc(n * sizeof *r2);
	assert_int_equal(tn_pred_score(m, f, r1, &err), TN_OK);
	assert_int_equal(tn_pred_score(m2, f, r2, &err), TN_OK);
	for (size_t i = 0; i < n; i++)
		if (r1[i] != r2[i])
			fail_msg("row %zu: %.17g before save, %.17g after load", i, r1[i], r2[i]);
	size_t rows[3] = {0, 1, 2};
	double c1[3 * 64], c2[3 * 64];
	assert_true(ns <= 64);
	assert_int_equal(tn_pred_explain(m, f, rows, 3, c1, &err), TN_OK);
	assert_int_equal(tn_pred_explain(m2, f, rows, 3, c2, &err), TN_OK);
	assert_memory_equal(c1, c2, 3 * ns * sizeof *c1);
	assert_string_equal(m2->id, "customerID");
	assert_int_equal(m2->enc->p, m->enc->p);
	free(r1);
	free(r2);
	tn_pred_model_free(m);
	tn_pred_model_free(m2);
	tn_frame_free(f);
}

static void test_round_trip_logistic(void **state)
{
	(void)state;
	round_trip(TN_PRED_LOGISTIC);
}

static void test_round_trip_gbdt(void **state)
{
	(void)state;
	round_trip(TN_PRED_GBDT);
}

/* SHAP values plus the bias add up to the model's log-odds (local accuracy,
 * Lundberg & Lee 2017, eq. 5). */
static void test_shap_sums_to_margin(void **state)
{
	(void)state;
	tn_error err = {0};
	double x[64];
	for (int i = 0; i < 32; i++)
		x[2 * i] = mt_hp[i], x[2 * i + 1] = mt_wt[i];
	tn_gbdt_params par = tn_gbdt_params_default();
	par.rounds = 20;
	par.min_child_weight = 0.1;
	tn_gbdt *g = NULL;
	assert_int_equal(tn_gbdt_fit(x, mt_am, 32, 2, &par, &g, &err), TN_OK);
	double prob[32], c[32 * 3];
	assert_int_equal(tn_gbdt_predict(g, x, 32, prob, &err), TN_OK);
	assert_int_equal(tn_gbdt_contrib(g, x, 32, c, &err), TN_OK);
	for (int i = 0; i < 32; i++) {
		double margin = c[3 * i] + c[3 * i + 1] + c[3 * i + 2];
		assert_near(1.0 / (1.0 + exp(-margin)), prob[i], 1e-5);
	}
	tn_gbdt_free(g);
}

/* Reasons in words: one phrase per store feature, with units and direction;
 * no raw names, log-odds or exponents for them (src/analyses/predict_words.c). */
static const char *words_for(const tn_pred_model *m, const tn_frame *f, size_t row, const char *name, char *buf,
			     size_t n)
{
	for (size_t s = 0; s < m->enc->nsrc; s++)
		if (strcmp(m->enc->src[s].name, name) == 0) {
			tn_pred_reason_words(m, f, row, s, "USD", buf, n);
			return buf;
		}
	fail_msg("no source %s", name);
	return NULL;
}

static void test_reason_words(void **state)
{
	(void)state;
	tn_error err = {0};
	const char *p = write_tmp("id,days_to_period_end,in_trial,recency_days,events_90d,tenure_days,price,"
				  "billing_period,channel,score,churned\n"
				  "a,1.1574e-05,0,12,45,400,79.99,year,paid_social,1.5e-07,1\n"
				  "b,2.5,1,,0,10,9.99,month,organic,3,0\n"
				  "c,0,0,1,90,95,19.99,month,organic,2,1\n"
				  "d,40,0,3,30,800,19.99,month,organic,4,0\n");
	tn_frame *f = tn_frame_read_csv(p, NULL, 0, &err);
	assert_non_null(f);
	tn_pred_spec spec = {"churned", NULL, "id", NULL, 0};
	tn_pred_options o = tn_pred_options_default();
	tn_pred_model *m = NULL;
	assert_int_equal(tn_pred_train(f, &spec, &o, &m, &err), TN_OK);
	char b[256];
	assert_string_equal(words_for(m, f, 0, "days_to_period_end", b, sizeof b), "paid period ends tomorrow");
	assert_string_equal(words_for(m, f, 1, "days_to_period_end", b, sizeof b), "free trial ends in 3 days");
	assert_string_equal(words_for(m, f, 2, "days_to_period_end", b, sizeof b), "paid period ends today");
	assert_string_equal(words_for(m, f, 0, "recency_days", b, sizeof b),
			    "12 days without using the app, usually every 2 days");
	assert_string_equal(words_for(m, f, 1, "recency_days", b, sizeof b), "has never used the app");
	assert_string_equal(words_for(m, f, 2, "recency_days", b, sizeof b), "used the app 1 day ago");
	assert_string_equal(words_for(m, f, 1, "tenure_days", b, sizeof b), "a customer for only 10 days");
	assert_string_equal(words_for(m, f, 3, "tenure_days", b, sizeof b), "a customer for 2.2 years");
	assert_string_equal(words_for(m, f, 0, "price", b, sizeof b),
			    "pays 79.99 USD a year, above the average 32.49 USD");
	assert_string_equal(words_for(m, f, 0, "billing_period", b, sizeof b), "billed yearly");
	assert_string_equal(words_for(m, f, 0, "channel", b, sizeof b), "came through paid_social");
	assert_string_equal(words_for(m, f, 0, "events_90d", b, sizeof b),
			    "used the app 45 times in the last 90 days (average 41.2)");
	assert_string_equal(words_for(m, f, 1, "events_90d", b, sizeof b),
			    "did not use the app in the last 90 days (average 41.2 times)");
	/* a column Tenure has no phrase for: its name, the value without an exponent, the average */
	assert_string_equal(words_for(m, f, 0, "score", b, sizeof b), "score is 0, below the average 2.25");
	assert_string_equal(words_for(m, f, 3, "score", b, sizeof b), "score is 4, above the average 2.25");
	/* the same reasons as message ids and parameters (the dashboard translates them) */
	for (size_t s = 0; s < m->enc->nsrc; s++) {
		tn_reason_msg r;
		if (strcmp(m->enc->src[s].name, "days_to_period_end") == 0) {
			tn_pred_reason_msg(m, f, 1, s, "USD", &r);
			assert_int_equal(r.id, TN_RW_ENDS);
			assert_int_equal(r.flag, 1); /* the free trial */
			assert_true(r.v[0] == 3);
			tn_pred_reason_format(&r, b, sizeof b);
			assert_string_equal(b, "free trial ends in 3 days");
		} else if (strcmp(m->enc->src[s].name, "price") == 0) {
			tn_pred_reason_msg(m, f, 0, s, "USD", &r);
			assert_int_equal(r.id, TN_RW_PRICE);
			assert_string_equal(r.text[0], "year");
			assert_string_equal(r.currency, "USD");
			assert_true(fabs(r.v[0] - 79.99) < 1e-9);
		} else if (strcmp(m->enc->src[s].name, "channel") == 0) {
			tn_pred_reason_msg(m, f, 0, s, "USD", &r);
			assert_int_equal(r.id, TN_RW_LEVEL);
			assert_string_equal(r.text[1], "paid_social");
		}
	}
	tn_pred_model_free(m);
	tn_frame_free(f);
	unlink(p);
}

/* Alert details read back as message ids and numbers, exactly the library's formats. */
static void test_alert_detail_msg(void **state)
{
	(void)state;
	double v[2];
	assert_int_equal(tn_pred_alert_detail_msg("12 events in the last 30 days vs 80 in the 60 before", v), TN_ALERT_MSG_DROP);
	assert_true(v[0] == 12 && v[1] == 80);
	assert_int_equal(tn_pred_alert_detail_msg("no activity since signing up 40 days ago", v), TN_ALERT_MSG_NEW_INACTIVE);
	assert_true(v[0] == 40);
	assert_int_equal(tn_pred_alert_detail_msg("no activity for 1 day", v), TN_ALERT_MSG_INACTIVE);
	assert_true(v[0] == 1);
	assert_int_equal(tn_pred_alert_detail_msg("the latest charge failed (2 failed in 90 days)", v), TN_ALERT_MSG_FAILED);
	assert_true(v[0] == 2);
	assert_int_equal(tn_pred_alert_detail_msg("latest NPS 0", v), TN_ALERT_MSG_DETRACTOR);
	assert_int_equal(tn_pred_alert_detail_msg("paid period ends in 23 days; churn risk 0.43", v), TN_ALERT_MSG_ENDING);
	assert_true(v[0] == 23 && fabs(v[1] - 0.43) < 1e-12);
	assert_int_equal(tn_pred_alert_detail_msg("paid period ends tomorrow; churn risk 0.50", v), TN_ALERT_MSG_ENDING);
	assert_true(v[0] == 1 && v[1] == 0.5);
	assert_int_equal(tn_pred_alert_detail_msg("latest NPS 0 and more", v), 0);
	assert_int_equal(tn_pred_alert_detail_msg("something else", v), 0);
	assert_int_equal(tn_pred_alert_detail_msg(NULL, v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auc_with_ties),
		cmocka_unit_test(test_average_precision),
		cmocka_unit_test(test_brier_top_calibration),
		cmocka_unit_test(test_logit_matches_r_glm),
		cmocka_unit_test(test_logit_l2_stationary),
		cmocka_unit_test(test_logit_separation_fails),
		cmocka_unit_test(test_encoding_blanks),
		cmocka_unit_test(test_folds_stratified),
		cmocka_unit_test(test_telco_auc_logistic),
		cmocka_unit_test(test_telco_auc_gbdt),
		cmocka_unit_test(test_round_trip_logistic),
		cmocka_unit_test(test_round_trip_gbdt),
		cmocka_unit_test(test_shap_sums_to_margin),
		cmocka_unit_test(test_reason_words),
		cmocka_unit_test(test_alert_detail_msg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
