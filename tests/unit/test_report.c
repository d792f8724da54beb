/* test_report.c -- the HTML report and the SVG charts: self-contained (no
 * network reference, no script), escaped text, every section drawn from its
 * data struct, placeholders when the survival sections are empty. */
#include "testutil.h"
#include "tenure.h"

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
	assert_non_null(strstr(b.p, "As of 2024-01-01"));
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
	const char *names[] = {"not onboarded", "paid_social", "referral"};
	double hr[] = {2.0, 1.4, 0.7}, hlo[] = {1.8, 1.2, 0.6}, hhi[] = {2.2, 1.6, 0.8};
	tn_report r = {.as_of = 1709251200, .definition = "cancelled", .rates = rates, .nrates = 2,
		       .survival = surv, .nsurvival = 2, .hazard = &haz, .nhazard = 1, .danger_from = 3,
		       .danger_to = 7, .ndrivers = 3, .driver_names = names, .hr = hr, .hr_lo = hlo, .hr_hi = hhi};
	tn_sbuf b = {0};
	tn_error err = {0};
	assert_int_equal(tn_report_render(&r, &b, &err), TN_OK);
	assert_self_contained(b.p);
	/* readings computed from the data */
	assert_non_null(strstr(b.p, "In 2024-02, 12.5% of the customers"));
	assert_non_null(strstr(b.p, "Median lifetime: monthly 60 days; annual not reached"));
	assert_non_null(strstr(b.p, "between day 3 and day 7: act before day 3"));
	assert_non_null(strstr(b.p, "The strongest driver is not onboarded: those customers leave 2.0 times as fast"));
	assert_non_null(strstr(b.p, "danger window"));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_report_has_placeholders),
		cmocka_unit_test(test_full_report),
		cmocka_unit_test(test_sbuf_and_heatmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
