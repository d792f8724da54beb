/* test_report.c -- the HTML report and the SVG charts: self-contained (no
 * network reference, no script), escaped text, every section drawn from its
 * data struct, placeholders when the survival sections are empty. */
#include "testutil.h"
#include "tenure.h"
#include <unistd.h>

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void assert_self_contained(const char *html)
{
	assert_int_equal(strncmp(html, "<!DOCTYPE html>", 15), 0);
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, " src="));
	assert_null(strstr(html, "url("));
	assert_int_equal(count(html, "<svg"), count(html, "</svg>"));
	assert_non_null(strstr(html, "</html>"));
}

static void test_empty_report_has_placeholders(void **state)
{
	(void)state;
	tn_report r = {.title = "A <b>&</b> report", .as_of = 1704067200, .danger_from = NAN, .danger_to = NAN};
	tn_sbuf b = {0};
	tn_error err = {0};
	assert_int_equal(tn_report_render(&r, &b, &err), TN_OK);
	assert_self_contained(b.p);
	assert_non_null(strstr(b.p, "A &lt;b&gt;&amp;&lt;/b&gt; report"));
	assert_null(strstr(b.p, "<b>&</b>"));
	assert_int_equal(count(b.p, "class=\"pending\""), 5);
	assert_non_null(strstr(b.p, "As of the end of 2024-01-01"));
	tn_sbuf_free(&b);
}

static void test_full_report(void **state)
{
	(void)state;
	/* two rate rows (January complete, February complete) */
	tn_churn_rate_row rates[2];
	memset(rates, 0, sizeof rates);
	rates[0].period_start = 1704067200;                    /* 2024-01-01 */
	rates[0].period_end = tn_add_months(1704067200, 1);    /* complete */
	rates[0].churn_rate = 0.10, rates[0].gross_revenue_churn = 0.08, rates[0].nrr = 0.95;
	rates[1].period_start = rates[0].period_end;
	rates[1].period_end = tn_add_months(rates[1].period_start, 1);
	rates[1].churn_rate = 0.125, rates[1].gross_revenue_churn = 0.09, rates[1].nrr = 0.93;
	double t[] = {0, 7, 30, 60}, s1[] = {1, 0.8, 0.6, 0.45}, lo[] = {1, 0.75, 0.55, 0.4}, hi[] = {1, 0.85, 0.65, 0.5};
	double s2[] = {1, 0.9, 0.8, 0.7};
	tn_svg_series surv[2] = {{.name = "monthly", .n = 4, .x = t, .y = s1, .lo = lo, .hi = hi, .step = 1},
				 {.name = "annual", .n = 4, .x = t, .y = s2, .step = 1}};
	double hz[] = {0.01, 0.05, 0.02, 0.01};
	tn_svg_series haz = {.name = "all", .n = 4, .x = t, .y = hz};
	const char *names[] = {"onboarded=no", "channel=paid_social", "channel=referral"};
	const char *factor[] = {"onboarded", "channel", "channel"}, *ref[] = {"yes", "organic", "organic"};
	tn_summary head = {.as_of = 1709251199, .month_start = 1706745600, .currency = "EUR", .customers = 12345,
			   .active = 1000, .paying = 900, .trialing = 100, .mrr = 1234567.891, .churned = 125,
			   .churn_base = 1000, .churn_rate = 0.125, .churn_rate_prev = 0.10, .nrr = 0.93, .nps = 12.34,
			   .nps_responses = 200, .revenue_at_risk = 4321.5};
	double hr[] = {2.0, 1.4, 0.7}, hlo[] = {1.8, 1.2, 0.6}, hhi[] = {2.2, 1.6, 0.8};
	tn_report r = {.as_of = 1709251200, .definition = "cancelled", .rates = rates, .nrates = 2,
		       .survival = surv, .nsurvival = 2, .hazard = &haz, .nhazard = 1, .danger_from = 3,
		       .danger_to = 7, .ndrivers = 3, .driver_names = names, .hr = hr, .hr_lo = hlo, .hr_hi = hhi,
		       .driver_factor = factor, .driver_ref = ref, .headline = &head};
	tn_sbuf b = {0};
	tn_error err = {0};
	assert_int_equal(tn_report_render(&r, &b, &err), TN_OK);
	assert_self_contained(b.p);
	/* readings computed from the data */
	assert_non_null(strstr(b.p, "In 2024-02, 12.50% of the customers"));
	assert_non_null(strstr(b.p, "prints it): monthly 60.0 days; annual not reached"));
	assert_non_null(strstr(b.p, "between day 3 and day 7: act before day 3"));
	assert_non_null(strstr(b.p, "The strongest driver: no customers (onboarded) leave 2.0 times as fast as yes "
				    "customers, the reference level (95% CI 1.80 to 2.20)"));
	assert_non_null(strstr(b.p, "danger window, days 3-7"));
	assert_non_null(strstr(b.p, "onboarded (vs yes)")); /* the colour key */
	/* the headline: summary's figures, as summary prints them, with separators */
	assert_non_null(strstr(b.p, "<span data-metric=\"customers\">12,345</span>"));
	assert_non_null(strstr(b.p, "<span data-metric=\"mrr\">1,234,567.89</span> <small>EUR</small>"));
	assert_non_null(strstr(b.p, "<span data-metric=\"churn_rate_month_pct\">12.50</span>%"));
	assert_non_null(strstr(b.p, "<span data-metric=\"churn_rate_prev_month_pct\">10.00</span>% (up 2.50 points)"));
	assert_non_null(strstr(b.p, "<span data-metric=\"nps_90d\">12.3</span>"));
	assert_non_null(strstr(b.p, "<span data-metric=\"revenue_at_risk\">4,321.50</span>"));
	assert_non_null(strstr(b.p, "Churn in 2024-02<"));
	/* the hazard axis in percent, never as a bare fraction */
	assert_non_null(strstr(b.p, ">5%</text>"));
	assert_null(strstr(b.p, ">0.05</text>"));
	assert_int_equal(count(b.p, "class=\"pending\""), 1); /* only the cohorts, which are absent */
	assert_int_equal(count(b.p, "<svg"), 4);
	const char *out = getenv("TENURE_REPORT_SAMPLE");
	if (out && *out) { /* for a look in a browser */
		FILE *fp = fopen(out, "w");
		if (fp) {
			fputs(b.p, fp);
			fclose(fp);
		}
	}
	tn_sbuf_free(&b);
}

static void test_numbers(void **state)
{
	(void)state;
	char b[64];
	assert_string_equal(tn_report_number(1234567.891, 2, b, sizeof b), "1,234,567.89");
	assert_string_equal(tn_report_number(-1234.5, 1, b, sizeof b), "-1,234.5");
	assert_string_equal(tn_report_number(999, 0, b, sizeof b), "999");
	assert_string_equal(tn_report_number(-0.001, 2, b, sizeof b), "0.00");
	assert_string_equal(tn_report_number(NAN, 2, b, sizeof b), "n/a");
	assert_string_equal(tn_report_money(192530.1, "USD", b, sizeof b), "192,530.10 USD");
	assert_string_equal(tn_report_money(5, NULL, b, sizeof b), "5.00");
	tn_time t;
	assert_int_equal(tn_as_of_parse("2026-10-31", 10, &t), 0);
	assert_int_equal(t, 1793491199); /* 2026-10-31T23:59:59Z */
	assert_int_equal(tn_as_of_parse("20261031", 8, &t), 0);
	assert_int_equal(t, 1793491199);
	assert_int_equal(tn_as_of_parse("2026-10-31T12:00:00Z", 20, &t), 0);
	assert_int_equal(t, 1793448000);
	assert_int_equal(tn_as_of_parse("1793448000", 10, &t), 0);
	assert_int_equal(t, 1793448000);
	assert_int_equal(tn_as_of_parse("yesterday", 9, &t), -1);
	assert_int_equal(tn_day_end(1793404800), 1793491199);
}

static void test_sbuf_and_heatmap(void **state)
{
	(void)state;
	tn_sbuf b = {0};
	tn_sbuf_escape(&b, "a<'\">&");
	assert_string_equal(b.p, "a&lt;&#39;&quot;&gt;&amp;");
	tn_sbuf_free(&b);
	double v[4] = {1, 0.5, NAN, 0.25};
	const char *rows[] = {"2024-01", "2024-02"}, *cols[] = {"0", "1"};
	tn_svg_heatmap(&b, "cohorts", 2, 2, v, rows, cols, 0, 1);
	assert_int_equal(count(b.p, "<rect"), 3); /* the NaN cell is blank */
	assert_non_null(strstr(b.p, ">50<"));
	assert_non_null(strstr(b.p, ">25<"));
	tn_sbuf_free(&b);
}

/* A 600-customer, 8-month demo store at a fresh PATH (a mkstemp template),
 * its churn definition and the data's end. */
static tn_store *small_demo(char *path, tn_churn_def *def, tn_time *as_of)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	remove(path);
	tn_error err = {0};
	tn_store *s = NULL;
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	tn_demo_opts d;
	tn_demo_defaults(&d);
	d.customers = 600;
	d.months = 8;
	tn_demo_result dr;
	assert_int_equal(tn_demo_generate(s, &d, &dr, &err), TN_OK);
	assert_int_equal(tn_churn_def_load(s, NULL, def, &err), TN_OK);
	*as_of = TN_NO_TIME;
	assert_int_equal(tn_churn_data_end(s, as_of, &err), TN_OK);
	return s;
}

/* The scores, the live value and the profitability computed once and shared
 * (the dashboard's warming thread: tn_report_scores, tn_summary_get_shared,
 * tn_value_profitability_ret) give exactly the figures each computes alone. */
static void test_shared_equals_alone(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_report_shared_XXXXXX";
	tn_error err = {0};
	tn_churn_def def;
	tn_time as_of;
	tn_store *s = small_demo(path, &def, &as_of);
	/* the summary: alone, then computing the live value for the caller, then reading it */
	tn_summary a, b, c;
	tn_value_retention_result *ret = NULL;
	assert_int_equal(tn_summary_get_def(s, &def, TN_NO_TIME, &a, &err), TN_OK);
	assert_int_equal(tn_summary_get_shared(s, &def, as_of, &ret, &b, &err), TN_OK);
	assert_non_null(ret);
	assert_true(a.revenue_at_risk > 0);
	assert_true(a.revenue_at_risk == b.revenue_at_risk && a.active == b.active && a.as_of == b.as_of);
	const tn_value_retention_result *kept = ret;
	assert_int_equal(tn_summary_get_shared(s, &def, as_of, &ret, &c, &err), TN_OK);
	assert_ptr_equal(ret, kept); /* read, not computed again */
	assert_true(a.revenue_at_risk == c.revenue_at_risk);
	/* the profitability with the value given */
	tn_value_profit_row *p1 = NULL, *p2 = NULL;
	size_t n1 = 0, n2 = 0;
	assert_int_equal(tn_value_profitability(s, &def, "channel", 1, 0.10, NULL, &p1, &n1, NULL, &err), TN_OK);
	assert_int_equal(tn_value_profitability_ret(s, &def, "channel", 1, 0.10, NULL, ret, &p2, &n2, NULL, &err), TN_OK);
	assert_true(n1 > 1 && n1 == n2);
	for (size_t i = 0; i < n1; i++) {
		assert_string_equal(p1[i].segment, p2[i].segment);
		assert_true(p1[i].future == p2[i].future && p1[i].at_risk == p2[i].at_risk && p1[i].profit == p2[i].profit);
	}
	tn_value_profit_free(p1, n1);
	tn_value_profit_free(p2, n2);
	/* the insights: alone, and with the scores computed once */
	tn_report_scores sc;
	tn_report_scores_compute(s, as_of, NULL, &sc);
	assert_true(sc.ok);
	assert_non_null(sc.f);
	sc.ret = ret;
	tn_report_scores_value(s, &def, as_of, &sc);
	assert_ptr_equal(sc.ret, ret);
	assert_int_equal(sc.own_ret, 0);
	tn_report_table *t1 = NULL, *t2 = NULL;
	size_t m1 = 0, m2 = 0;
	assert_int_equal(tn_report_insights(s, &def, as_of, NULL, "USD", &t1, &m1, &err), TN_OK);
	assert_int_equal(tn_report_insights_scored(s, &def, as_of, NULL, "USD", &sc, &t2, &m2, &err), TN_OK);
	assert_int_equal(m1, m2);
	size_t cells = 0;
	for (size_t i = 0; i < m1; i++) {
		assert_string_equal(t1[i].reading, t2[i].reading);
		assert_int_equal(t1[i].nrows, t2[i].nrows);
		for (size_t k = 0; k < t1[i].nrows * t1[i].ncols; k++, cells++)
			assert_string_equal(t1[i].cells[k], t2[i].cells[k]);
	}
	assert_true(cells > 20);
	assert_int_equal(t1[6].nrows, 12); /* the riskiest customers were scored */
	tn_report_tables_free(t1, m1);
	tn_report_tables_free(t2, m2);
	tn_report_scores_clear(&sc);
	tn_value_retention_free(ret);
	tn_store_close(s);
	remove(path);
}

/* A and B, tables of the insights, cell for cell the same */
static void same_tables(const tn_report_table *a, size_t na, const tn_report_table *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].reading, b[i].reading);
		assert_int_equal(a[i].nrows, b[i].nrows);
		for (size_t k = 0; k < a[i].nrows * a[i].ncols; k++)
			assert_string_equal(a[i].cells[k], b[i].cells[k]);
	}
}

/* tn_report_insights_wait's scores: computed when asked for, on a
 * connection of their own (counted: asked for once) */
typedef struct late_scores {
	const char *path;
	const tn_churn_def *def;
	tn_time as_of;
	int calls;
	tn_report_scores sc;
} late_scores;
static const tn_report_scores *scores_late(void *ud)
{
	late_scores *l = ud;
	l->calls++;
	tn_store *o = NULL;
	tn_error e = {0};
	if (tn_store_open(l->path, TN_STORE_READONLY, &o, &e))
		fail_msg("open: %s", e.msg);
	tn_report_scores_compute(o, l->as_of, NULL, &l->sc);
	tn_report_scores_value(o, l->def, l->as_of, &l->sc);
	tn_store_close(o);
	return &l->sc;
}

/* The insights' shortcuts give what the long way gives: the live and the
 * training features of one pass (as-of = the data's end) score every
 * customer as two passes do, and the complaints' hazard ratios on a churn
 * frame given equal those that build their own (read to the last bit). */
static void test_one_pass_equals_two(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_report_onepass_XXXXXX";
	tn_error err = {0};
	tn_churn_def def;
	tn_time as_of;
	tn_store *s = small_demo(path, &def, &as_of);
	/* the scores: one pass (tn_report_scores_compute) against two */
	tn_report_scores sc;
	tn_report_scores_compute(s, as_of, NULL, &sc);
	assert_true(sc.ok);
	tn_pred_features_opts fo = {.as_of = as_of, .horizon_days = 30};
	tn_frame *live = NULL, *train = NULL;
	assert_int_equal(tn_pred_features(s, &fo, &live, &err), TN_OK);
	fo.as_of = as_of - 30 * (tn_time)TN_DAY;
	assert_int_equal(tn_pred_features(s, &fo, &train, &err), TN_OK);
	tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
	tn_pred_options opt = tn_pred_options_default();
	tn_pred_model *m = NULL;
	assert_int_equal(tn_pred_train(train, &spec, &opt, &m, &err), TN_OK);
	assert_int_equal(live->nrows, sc.f->nrows);
	assert_true(live->nrows > 50);
	double *risk = malloc(live->nrows * sizeof *risk);
	assert_non_null(risk);
	assert_int_equal(tn_pred_score(m, live, risk, &err), TN_OK);
	for (size_t i = 0; i < live->nrows; i++)
		assert_true(risk[i] == sc.risk[i]);
	free(risk);
	tn_pred_model_free(m);
	tn_frame_free(live);
	tn_frame_free(train);
	/* an as-of before the data's end: two passes, still scored */
	tn_report_scores early;
	tn_report_scores_compute(s, as_of - 20 * (tn_time)TN_DAY, NULL, &early);
	assert_true(early.ok);
	tn_report_scores_clear(&early);
	/* the complaints' hazard ratios, on a frame given or built */
	tn_fb_model *fm = tn_fb_model_new(&err);
	if (tn_fb_model_train_csv(fm, "../../data/feedback/train.csv", "text", "type", "theme", NULL, &err))
		fail_msg("train: %s", err.msg);
	size_t nl = 0;
	assert_int_equal(tn_fb_label_store(s, fm, 0, &nl, &err), TN_OK);
	tn_fb_model_free(fm);
	tn_fb_row *rows = NULL;
	size_t n = 0;
	assert_int_equal(tn_fb_impact_store(s, &rows, &n, &err), TN_OK);
	assert_true(n > 2);
	double *h1 = calloc(3 * n, sizeof *h1), *h2 = calloc(3 * n, sizeof *h2);
	assert_non_null(h1);
	assert_non_null(h2);
	assert_int_equal(tn_fb_impact_hazard(s, &def, rows, n, h1, h1 + n, h1 + 2 * n, &err), TN_OK);
	tn_churn_frame_opts co = {.as_of = TN_NO_TIME};
	tn_frame *cf = tn_churn_frame(s, &def, &co, &err);
	assert_non_null(cf);
	assert_int_equal(tn_fb_impact_hazard_frame(s, cf, rows, n, h2, h2 + n, h2 + 2 * n, &err), TN_OK);
	size_t fitted = 0;
	for (size_t i = 0; i < 3 * n; i++) {
		assert_true(isnan(h1[i]) ? isnan(h2[i]) : h1[i] == h2[i]);
		fitted += !isnan(h1[i]);
	}
	assert_true(fitted > 0);
	free(h1);
	free(h2);
	free(rows);
	/* the insights with the frame given: the same tables */
	tn_report_scores_value(s, &def, as_of, &sc);
	assert_true(sc.ok);
	tn_report_table *t1 = NULL, *t2 = NULL;
	size_t m1 = 0, m2 = 0;
	assert_int_equal(tn_report_insights_scored(s, &def, as_of, NULL, "USD", &sc, &t1, &m1, &err), TN_OK);
	assert_int_equal(tn_report_insights_shared(s, &def, as_of, NULL, "USD", &sc, cf, &t2, &m2, &err), TN_OK);
	same_tables(t1, m1, t2, m2);
	assert_true(t1[1].nrows > 2); /* the complaints' table has rows */
	/* the scores asked for once, when needed (tn_report_insights_wait), and
	 * computed on another connection to the same store meanwhile, as the
	 * dashboard's helper thread does (web_pages.c): the same tables */
	late_scores ls = {.path = path, .def = &def, .as_of = as_of};
	tn_report_table *t3 = NULL;
	size_t m3 = 0;
	assert_int_equal(tn_report_insights_wait(s, &def, as_of, NULL, "USD", scores_late, &ls, cf, &t3, &m3, &err),
			 TN_OK);
	assert_int_equal(ls.calls, 1);
	assert_true(ls.sc.ok);
	same_tables(t1, m1, t3, m3);
	assert_true(t3[6].nrows > 0); /* the risk table read the late scores */
	tn_report_tables_free(t3, m3);
	tn_report_scores_clear(&ls.sc);
	tn_report_tables_free(t1, m1);
	tn_report_tables_free(t2, m2);
	tn_frame_free(cf);
	tn_report_scores_clear(&sc);
	tn_store_close(s);
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_report_has_placeholders),
		cmocka_unit_test(test_full_report),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sbuf_and_heatmap),
		cmocka_unit_test(test_shared_equals_alone),
		cmocka_unit_test(test_one_pass_equals_two),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
