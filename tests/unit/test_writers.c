/* test_writers.c -- the one JSON writer (tenure/json.h), the CSV number
 * writer (tn_csv_write_num), the warnings list (tenure/warn.h) and R's
 * infinite-coefficient check in tn_cox_fit: NaN and infinities never reach
 * JSON or CSV, numbers read back exactly, streamed arrays parse. */
#include "testutil.h"
#include "tenure/cox.h"
#include "tenure/csv.h"
#include "tenure/json.h"
#include "tenure/warn.h"

#include <cjson/cJSON.h>

/* Write with FN into a memory stream and return the text (static). */
static const char *captured(FILE *fp, char **buf)
{
	fflush(fp);
	return *buf;
}

static void test_json_numbers(void **state)
{
	(void)state;
	double v[] = {0.1, 1.0 / 3, -2.5e-300, 1e308, 123456789012345678.0, 42, -0.0};
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		assert_non_null(tn_json_push_num(a, v[i]));
	tn_json_push_num(a, NAN);
	tn_json_push_num(a, INFINITY);
	tn_json_push_num(a, -INFINITY);
	char *s = tn_json_print(a);
	assert_non_null(s);
	cJSON *back = cJSON_Parse(s); /* valid JSON */
	assert_non_null(back);
	assert_int_equal(cJSON_GetArraySize(back), 10);
	for (int i = 0; i < 7; i++) /* exact round trip */
		assert_true(cJSON_GetArrayItem(back, i)->valuedouble == v[i]);
	for (int i = 7; i < 10; i++)
		assert_true(cJSON_IsNull(cJSON_GetArrayItem(back, i)));
	assert_null(strstr(s, "nan"));
	assert_null(strstr(s, "inf"));
	assert_null(strstr(s, "-0,")); /* no negative zero */
	free(s);
	cJSON_Delete(back);
	cJSON_Delete(a);
}

static void test_json_stream(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	tn_json_stream js;
	tn_json_stream_begin(&js, fp);
	for (int i = 0; i < 3; i++) {
		cJSON *o = cJSON_CreateObject();
		tn_json_add_num(o, "i", i);
		tn_json_add_num(o, "x", i == 1 ? NAN : 1.0 / (i + 1));
		tn_json_stream_item(&js, o);
		cJSON_Delete(o);
	}
	assert_int_equal(tn_json_stream_end(&js), TN_OK);
	cJSON *back = cJSON_Parse(captured(fp, &buf));
	assert_non_null(back);
	assert_int_equal(cJSON_GetArraySize(back), 3);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(back, 1), "x")));
	cJSON_Delete(back);
	fclose(fp);
	free(buf);
	/* an empty stream is an empty array */
	buf = NULL;
	fp = open_memstream(&buf, &len);
	tn_json_stream_begin(&js, fp);
	tn_json_stream_end(&js);
	assert_string_equal(captured(fp, &buf), "[]\n");
	fclose(fp);
	free(buf);
}

static void test_csv_numbers(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	double v[] = {0.1, NAN, INFINITY, 2.0 / 3, -7};
	for (int i = 0; i < 5; i++) {
		if (i)
			fputc(',', fp);
		tn_csv_write_num(fp, v[i]);
	}
	fputc(',', fp);
	tn_csv_write(fp, "a,\"b\"");
	assert_string_equal(captured(fp, &buf), "0.1,,,0.6666666666666666,-7,\"a,\"\"b\"\"\"");
	fclose(fp);
	free(buf);
}

static void test_warnings(void **state)
{
	(void)state;
	tn_warnings w = {0};
	assert_int_equal(tn_warn(&w, 0, "first %d", 1), TN_OK);
	assert_int_equal(w.severe, 0);
	assert_int_equal(tn_warn(&w, 1, "second %s", "x"), TN_OK);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.severe, 1);
	assert_string_equal(w.msg[1], "second x");
	tn_warnings_free(&w);
	assert_int_equal(w.n, 0);
	assert_int_equal(w.severe, 0);
}

/* x separates the events perfectly (every event has x = 1, and each x = 1
 * row is an event), so its coefficient runs to infinity while z stays
 * finite: R flags x only. */
static void test_cox_infinite(void **state)
{
	(void)state;
	double t[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, e[10] = {1, 0, 1, 0, 1, 0, 0, 1, 0, 0};
	double x[20];
	for (int i = 0; i < 10; i++) {
		x[2 * i] = e[i];                 /* x: monotone likelihood */
		x[2 * i + 1] = (double)(i % 3); /* z: an ordinary covariate */
	}
	tn_cox *f = NULL;
	tn_error err = {0};
	tn_cox_opts o = {0};
	o.max_iter = 30;
	assert_int_equal(tn_cox_fit(t, e, x, 10, 2, NULL, &o, &f, &err), TN_OK);
	tn_warnings w = {0};
	assert_int_equal(tn_cox_warnings(f, NULL, &w), TN_OK);
	/* R survival 3.5: coxph(Surv(t, e) ~ x + z, iter.max = 30) converges in
	 * 21 iterations, x = 23.0942770, z = -0.4812118, and warns "Loglik
	 * converged before variable 1; coefficient may be infinite." */
	assert_int_equal(f->converged, 1);
	assert_int_equal(f->infinite[0], 1);
	assert_int_equal(f->infinite[1], 0);
	assert_int_equal(f->ninfinite, 1);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.severe, 0);
	assert_near(f->coef[1], -0.4812118, 1e-6);
	assert_near(f->coef[0], 23.0942770, 1e-3);
	tn_warnings_free(&w);
	tn_cox_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_stream),
		cmocka_unit_test(test_csv_numbers),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_cox_infinite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
