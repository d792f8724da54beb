/* test_survival.c -- Kaplan-Meier, log-rank, Cox and concordance on the
 * Rossi recidivism data against the published numbers in
 * tests/data/README.md (R survival 3.5 / lifelines), plus small hand
 * checks of the median rule, the danger window and the design matrix. */
#include "testutil.h"
#include "tenure/survival.h"
#include "tenure/cox.h"
#include "tenure/design.h"

static const char *const rossi_cov[] = {"fin", "age", "race", "wexp", "mar", "paro", "prio"};

static tn_frame *rossi(void)
{
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(require_data("survival/rossi.csv"), NULL, 0, &err);
	if (!f)
		fail_msg("%s", err.msg);
	return f;
}

static void test_rossi_km(void **state)
{
	(void)state;
	tn_frame *f = rossi();
	tn_error err = {0};
	double *t, *e;
	assert_int_equal(tn_design_numeric(f, "week", NULL, f->nrows, &t, &err), TN_OK);
	assert_int_equal(tn_design_numeric(f, "arrest", NULL, f->nrows, &e, &err), TN_OK);
	tn_km *km;
	assert_int_equal(tn_km_fit(t, e, NULL, 0, f->nrows, 0.95, &km, &err), TN_OK);
	assert_int_equal(km->n, 432);
	assert_near(km->events, 114, 0);
	tn_km_value v = tn_km_at(km, 52);
	/* README: Kaplan-Meier S(52) = 0.736111 (Greenwood SE 0.021205) */
	assert_near(v.surv, 0.736111, 1e-6);
	assert_near(v.se, 0.021205, 1e-6);
	assert_true(v.lower < v.surv && v.surv < v.upper);
	assert_true(isnan(km->median)); /* S never reaches 0.5 */
	tn_km_steps *s;
	assert_int_equal(tn_km_steps_new(km, 20, &s, &err), TN_OK);
	assert_true(s->n <= 20 && s->n >= 2);
	assert_near(s->surv[s->n - 1], km->surv[km->ntimes - 1], 0);
	assert_near(s->time[s->n - 1], 52, 0); /* reaches the end of follow-up */
	for (size_t i = 1; i < s->n; i++)
		assert_true(s->time[i] > s->time[i - 1] && s->surv[i] <= s->surv[i - 1]);
	tn_km_steps_free(s);
	assert_int_equal(tn_km_steps_new(km, 4, &s, &err), TN_OK);
	assert_true(s->n <= 4);
	assert_near(s->time[s->n - 1], 52, 0);
	tn_km_steps_free(s);
	tn_km_free(km);
	free(t);
	free(e);
	tn_frame_free(f);
}

static void test_rossi_cox(void **state)
{
	(void)state;
	tn_frame *f = rossi();
	tn_error err = {0};
	const char *req[] = {"week", "arrest"};
	tn_design *d;
	assert_int_equal(tn_design_new(f, rossi_cov, 7, req, 2, NULL, 0, &d, &err), TN_OK);
	double *t, *e;
	assert_int_equal(tn_design_numeric(f, "week", d->rows, d->n, &t, &err), TN_OK);
	assert_int_equal(tn_design_numeric(f, "arrest", d->rows, d->n, &e, &err), TN_OK);
	tn_cox *fit;
	assert_int_equal(tn_cox_fit(t, e, d->x, d->n, d->p, NULL, NULL, &fit, &err), TN_OK);
	/* README (R survival 3.5 / lifelines, Efron ties) */
	const double want[] = {-0.3794222, -0.0574377, 0.3138998, -0.1497957, -0.4337039, -0.0848711, 0.0914971};
	for (int j = 0; j < 7; j++)
		assert_near(fit->coef[j], want[j], 1e-6);
	assert_near(fit->loglik_null, -675.3806, 1e-4);
	assert_near(fit->loglik, -658.7477, 1e-4);
	assert_near(fit->concordance, 0.6403, 1e-4);
	assert_true(fit->converged);
	tn_cox_free(fit);
	free(t);
	free(e);
	tn_design_free(d);
	tn_frame_free(f);
}

static void test_median_rule(void **state)
{
	(void)state;
	/* 4 deaths at 1..4: S = .75 .5 .25 0; S hits 0.5 exactly at t = 2, so R
	 * gives the median (2 + 3) / 2 = 2.5 (quantile.survfit); lower limit 1,
	 * upper limit not reached (checked with R survival 3.5.3). */
	double t[] = {1, 2, 3, 4}, e[] = {1, 1, 1, 1};
	tn_km *km;
	tn_error err = {0};
	assert_int_equal(tn_km_fit(t, e, NULL, 0, 4, 0.95, &km, &err), TN_OK);
	assert_near(km->median, 2.5, 1e-12);
	assert_near(km->median_lower, 1, 1e-12);
	assert_true(isnan(km->median_upper));
	tn_km_free(km);
}

static void test_danger_window(void **state)
{
	(void)state;
	/* 100 customers: 40 leave on days 28..34, the rest stay to day 90. */
	double t[100], e[100];
	for (int i = 0; i < 100; i++) {
		t[i] = i < 40 ? 28 + i % 7 : 90;
		e[i] = i < 40;
	}
	tn_danger *d;
	tn_error err = {0};
	assert_int_equal(tn_danger_new(t, e, NULL, 0, 100, 7, 10, &d, &err), TN_OK);
	assert_int_equal(d->peak, 4);
	assert_int_equal(d->from, 4);
	assert_int_equal(d->to, 4);
	assert_near(d->hazard[4], 0.4, 1e-12);
	assert_near(d->window_share, 1, 1e-12);
	char buf[256];
	tn_danger_sentence(d, "day", buf, sizeof buf);
	assert_non_null(strstr(buf, "days 28 to 35"));
	assert_non_null(strstr(buf, "act before day 28"));
	tn_danger_free(d);
}

static void test_bad_input(void **state)
{
	(void)state;
	double t[] = {1, -2}, e[] = {1, 0};
	tn_km *km;
	tn_error err = {0};
	assert_int_equal(tn_km_fit(t, e, NULL, 0, 2, 0.95, &km, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "row 2"));
	double e2[] = {1, 2}, t2[] = {1, 2};
	tn_error_clear(&err);
	assert_int_equal(tn_km_fit(t2, e2, NULL, 0, 2, 0.95, &km, &err), TN_ERR_INPUT);
	/* a constant covariate cannot be fitted */
	double x[] = {1, 1, 1, 1}, t3[] = {1, 2, 3, 4}, e3[] = {1, 0, 1, 1};
	tn_cox *fit;
	tn_error_clear(&err);
	assert_int_equal(tn_cox_fit(t3, e3, x, 4, 1, NULL, NULL, &fit, &err), TN_ERR_NUMERIC);
}


static void test_design(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_design_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	fputs("t,e,plan,age\n1,1,monthly,20\n2,0,annual,\n3,1,premium,40\n4,0,monthly,50\n5,1,,60\n", fp);
	fclose(fp);
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(path, NULL, 0, &err);
	assert_non_null(f);
	const char *cols[] = {"plan", "age"}, *req[] = {"t", "e"};
	tn_design *d;
	/* rows 2 (blank age) and 5 (blank plan) dropped; levels sorted:
	 * monthly < premium (annual only on a dropped row); reference monthly */
	assert_int_equal(tn_design_new(f, cols, 2, req, 2, NULL, 0, &d, &err), TN_OK);
	assert_int_equal(d->n, 3);
	assert_int_equal(d->dropped, 2);
	assert_int_equal(d->p, 2);
	assert_string_equal(d->names[0], "plan=premium");
	assert_string_equal(d->names[1], "age");
	assert_near(d->x[0 * 2 + 0], 0, 0);
	assert_near(d->x[1 * 2 + 0], 1, 0);
	assert_near(d->x[1 * 2 + 1], 40, 0);
	tn_design_free(d);
	const char *refs[] = {"plan=premium"};
	assert_int_equal(tn_design_new(f, cols, 2, req, 2, refs, 1, &d, &err), TN_OK);
	assert_string_equal(d->names[0], "plan=monthly");
	tn_design_free(d);
	const char *bad[] = {"plan=gold"};
	assert_int_equal(tn_design_new(f, cols, 2, req, 2, bad, 1, &d, &err), TN_ERR_USAGE);
	assert_non_null(strstr(err.msg, "gold"));
	int *g, ng;
	char **labels;
	size_t rows[] = {0, 2, 3};
	tn_error_clear(&err);
	assert_int_equal(tn_design_groups(f, "plan", rows, 3, &g, &labels, &ng, &err), TN_OK);
	assert_int_equal(ng, 2);
	assert_string_equal(labels[1], "premium");
	assert_int_equal(g[1], 1);
	tn_design_groups_free(g, labels, ng);
	tn_frame_free(f);
	remove(path);
}

static void test_distributions(void **state)
{
	(void)state;
	/* chi-square 95% points (Abramowitz & Stegun table 26.8) and the
	 * normal 97.5% point 1.959964 */
	assert_near(tn_chisq_upper(3.841459, 1), 0.05, 1e-7);
	assert_near(tn_chisq_upper(5.991465, 2), 0.05, 1e-7);
	assert_near(tn_chisq_upper(7.814728, 3), 0.05, 1e-7);
	assert_near(tn_chisq_upper(18.307038, 10), 0.05, 1e-7);
	assert_near(tn_chisq_upper(0, 3), 1, 0);
	assert_near(tn_normal_two_sided(1.959964), 0.05, 1e-7);
	assert_near(tn_normal_two_sided(-2.575829), 0.01, 1e-7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rossi_km),     cmocka_unit_test(test_rossi_cox),
		cmocka_unit_test(test_median_rule),  cmocka_unit_test(test_danger_window),
		cmocka_unit_test(test_bad_input),    cmocka_unit_test(test_design), cmocka_unit_test(test_distributions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
