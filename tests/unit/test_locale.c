/*
 * test_locale.c -- numbers in files are read and re-rendered with a '.'
 * decimal point whatever C locale the host program set: a program that
 * calls setlocale(LC_ALL, "de_DE.UTF-8") (where strtod reads "1.5" as 1 and
 * printf writes "1,5") still gets 1.5 from "1.5", and a report whose SVG
 * coordinates read "12.5", not "12,5".  The de_DE.UTF-8 locale is
 * compiled by tests/run.sh into $TENURE_TEST_LOCPATH (Debian package
 * `locales`); without it the tests fail, they are not skipped.
 */
#include "testutil.h"
#include "tenure/frame.h"
#include "tenure/svg.h"

#include <locale.h>

static int setup_de(void **state)
{
	(void)state;
	const char *lp = getenv("TENURE_TEST_LOCPATH");
	if (lp && *lp)
		setenv("LOCPATH", lp, 1);
	if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
		fprintf(stderr, "test_locale: no de_DE.UTF-8 locale (TENURE_TEST_LOCPATH=%s; tests/run.sh makes it "
				"with localedef from the package locales)\n", lp ? lp : "unset");
		return -1;
	}
	return 0;
}

static int teardown_c(void **state)
{
	(void)state;
	setlocale(LC_ALL, "C");
	return 0;
}

static void test_the_locale_is_active(void **state)
{
	(void)state;
	/* the premise: in this locale the C library's own strtod and printf use ',' */
	assert_string_equal(localeconv()->decimal_point, ",");
	assert_near(strtod("1.5", NULL), 1.0, 0);
	char b[16];
	snprintf(b, sizeof b, "%.1f", 1.5);
	assert_string_equal(b, "1,5");
}

static void test_parse_double_uses_a_point(void **state)
{
	(void)state;
	double v = 0;
	assert_int_equal(tn_parse_double("1.5", 3, &v), 0);
	assert_near(v, 1.5, 0);
	assert_int_equal(tn_parse_double(" -2.25e3 ", 9, &v), 0);
	assert_near(v, -2250.0, 0);
	assert_int_not_equal(tn_parse_double("1,5", 3, &v), 0);
}

static void test_frame_reads_and_renders_with_a_point(void **state)
{
	(void)state;
	const char *path = "locale_frame.csv";
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	/* x stays numeric; y turns to text at "n/a", re-rendering 0.125 as text */
	fputs("x,y\n0.5,0.125\n2.75,n/a\n", fp);
	assert_int_equal(fclose(fp), 0);
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(path, NULL, 0, &err);
	remove(path);
	assert_non_null(f);
	int x = tn_frame_find(f, "x"), y = tn_frame_find(f, "y");
	assert_true(x >= 0 && y >= 0);
	assert_true(f->cols[x].is_numeric);
	assert_near(f->cols[x].num[0], 0.5, 0);
	assert_near(f->cols[x].num[1], 2.75, 0);
	assert_false(f->cols[y].is_numeric);
	assert_string_equal(f->cols[y].text[0], "0.125");
	tn_frame_free(f);
}

static void test_report_text_uses_a_point(void **state)
{
	(void)state;
	tn_sbuf b = {0};
	tn_sbuf_printf(&b, "<line x1=\"%.1f\" y1=\"%g\"/>", 12.5, 0.25);
	assert_false(b.oom);
	assert_string_equal(b.p, "<line x1=\"12.5\" y1=\"0.25\"/>");
	tn_sbuf_free(&b);
	/* and the thread's locale is back as it was */
	assert_string_equal(localeconv()->decimal_point, ",");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_locale_is_active, setup_de, teardown_c),
		cmocka_unit_test_setup_teardown(test_parse_double_uses_a_point, setup_de, teardown_c),
		cmocka_unit_test_setup_teardown(test_frame_reads_and_renders_with_a_point, setup_de, teardown_c),
		cmocka_unit_test_setup_teardown(test_report_text_uses_a_point, setup_de, teardown_c),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
