/* test_time.c -- instants: ISO-8601 with and without zones, dates, Unix seconds. */
#include "testutil.h"
#include "tenure/time.h"

static tn_time parse(const char *s)
{
	tn_time t = 0;
	if (tn_time_parse(s, strlen(s), &t) != 0)
		fail_msg("could not parse \"%s\"", s);
	return t;
}

static void test_formats(void **state)
{
	(void)state;
	/* 2024-03-01T09:30:00Z = 1709285400 (date -u -d 2024-03-01T09:30:00Z +%s) */
	assert_int_equal(parse("2024-03-01T09:30:00Z"), 1709285400);
	assert_int_equal(parse("2024-03-01 09:30:00"), 1709285400);
	assert_int_equal(parse("2024-03-01T09:30"), 1709285400);
	assert_int_equal(parse("2024-03-01T13:00:00+03:30"), 1709285400);
	assert_int_equal(parse("2024-03-01T04:30:00.250-0500"), 1709285400);
	assert_int_equal(parse("1709285400"), 1709285400);
	assert_int_equal(parse("2024-03-01"), 1709251200);
	assert_int_equal(parse("20240301"), 1709251200);
	assert_int_equal(parse("1970-01-01"), 0);
	assert_int_equal(parse("2000-02-29"), 951782400);
}

static void test_rejects(void **state)
{
	(void)state;
	const char *bad[] = {"", "2024-13-01", "2023-02-29", "2024-03-01T25:00", "2024-03-01X", "yesterday",
			     "2024-3-1", "2024-03-01T09:30:00+3", "12.5",
			     /* 8 digits are a YYYYMMDD date or nothing (issue 10: 20240230 was 1970-08-23) */
			     "20240230", "20231301", "20230229", "12345678", "00000000"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tn_time t;
		if (tn_time_parse(bad[i], strlen(bad[i]), &t) == 0)
			fail_msg("\"%s\" should not parse", bad[i]);
	}
}

static void test_civil_roundtrip(void **state)
{
	(void)state;
	for (int64_t z = -800000; z <= 800000; z += 37) {
		int y, m, d;
		tn_civil_from_days(z, &y, &m, &d);
		assert_int_equal(tn_days_from_civil(y, m, d), z);
	}
	char buf[32];
	assert_string_equal(tn_time_format(1709285400, buf, sizeof buf), "2024-03-01T09:30:00Z");
	assert_int_equal(tn_month_start(1709285400), 1709251200);
	assert_int_equal(tn_add_months(1709285400, 10), parse("2025-01-01"));
	assert_int_equal(tn_add_months(1709285400, -3), parse("2023-12-01"));
}

/* tn_now reads the clock until pinned, tn_mono stands still while pinned */
static void test_now_pin(void **state)
{
	(void)state;
	tn_time t0 = tn_now();
	assert_true(t0 > 1700000000); /* after 2023: the clock, not a pin */
	double m0 = tn_mono();
	tn_now_pin(1782907200);
	assert_int_equal(tn_now(), 1782907200);
	tn_mono_pin(1);
	double m1 = tn_mono();
	assert_true(tn_mono() == m1);
	tn_mono_pin(0);
	tn_now_pin(INT64_MIN);
	assert_true(tn_now() >= t0);
	assert_true(tn_mono() >= m0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_civil_roundtrip),
		cmocka_unit_test(test_now_pin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
