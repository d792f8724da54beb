/* test_csv.c -- the RFC 4180 reader: quoting, CRLF, BOM, errors with positions. */
#include "testutil.h"
#include "tenure/csv.h"
#include "tenure/design.h"
#include "tenure/frame.h"

#include <math.h>

static tn_csv *open_str(const char *s, tn_error *err)
{
	return tn_csv_open_mem(s, strlen(s), "t.csv", ',', err);
}

static void test_quoted_fields(void **state)
{
	(void)state;
	tn_error err = {0};
	const char *in = "\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"y\"\"\",\"multi\nline\"\r\n\r\n3,,\n";
	tn_csv *r = open_str(in, &err);
	assert_non_null(r);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_nfields(r), 3);
	assert_string_equal(tn_csv_field(r, 0, NULL), "a");
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_line(r), 2);
	assert_string_equal(tn_csv_field(r, 1, NULL), "x, \"y\"");
	size_t len;
	assert_string_equal(tn_csv_field(r, 2, &len), "multi\nline");
	assert_int_equal(len, 10);
	assert_int_equal(tn_csv_next(r, &err), 1); /* blank line skipped */
	assert_int_equal(tn_csv_line(r), 5);
	assert_int_equal(tn_csv_nfields(r), 3);
	assert_string_equal(tn_csv_field(r, 0, NULL), "3");
	assert_string_equal(tn_csv_field(r, 2, NULL), "");
	assert_int_equal(tn_csv_next(r, &err), 0);
	tn_csv_close(r);
}

static void test_no_final_newline(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_csv *r = open_str("a,b\n1,2", &err);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_string_equal(tn_csv_field(r, 1, NULL), "2");
	assert_int_equal(tn_csv_next(r, &err), 0);
	tn_csv_close(r);
}

static void test_errors_have_positions(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_csv *r = open_str("a,b\n1,\"open\n2,3\n", &err);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_next(r, &err), -1);
	assert_int_equal(err.code, TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "t.csv:2:2:"));
	assert_non_null(strstr(err.msg, "closing quote"));
	tn_csv_close(r);

	tn_error_clear(&err);
	r = open_str("a,b\n1,x\"y\n", &err);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_next(r, &err), -1);
	assert_non_null(strstr(err.msg, "t.csv:2:2:"));
	tn_csv_close(r);

	tn_error_clear(&err);
	r = open_str("\"a\"b\n", &err);
	assert_int_equal(tn_csv_next(r, &err), -1);
	assert_non_null(strstr(err.msg, "t.csv:1:1:"));
	tn_csv_close(r);
}

static void test_file_larger_than_buffer(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_csv_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	fprintf(fp, "id,text\n");
	for (int i = 0; i < 200000; i++)
		fprintf(fp, "%d,\"row %d, with \"\"quotes\"\"\"\r\n", i, i);
	fclose(fp);
	tn_error err = {0};
	tn_csv *r = tn_csv_open(path, ',', &err);
	assert_non_null(r);
	assert_int_equal(tn_csv_next(r, &err), 1);
	int n = 0;
	char want[64];
	while (tn_csv_next(r, &err) == 1) {
		snprintf(want, sizeof want, "row %d, with \"quotes\"", n);
		if (strcmp(tn_csv_field(r, 1, NULL), want) != 0)
			fail_msg("row %d: got \"%s\"", n, tn_csv_field(r, 1, NULL));
		n++;
	}
	assert_int_equal(err.code, TN_OK);
	assert_int_equal(n, 200000);
	tn_csv_close(r);
	remove(path);
}

static tn_frame *frame_of(const char *text, char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(path, NULL, 0, &err);
	if (!f)
		fail_msg("%s", err.msg);
	remove(path);
	return f;
}

/* NA and blank are missing: the column stays numeric (an NA used to make it
 * text, so a covariate became one indicator column per value) and the row is
 * dropped from the design, counted. */
static void test_frame_na_is_missing(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_frame_XXXXXX";
	tn_frame *f = frame_of("time,event,age,plan\n1,1,30,a\n2,0,NA,b\n3,1, NA ,NA\n4,1,45,\n5,0,50,b\n", path);
	assert_true(f->cols[2].is_numeric);
	assert_int_equal(f->cols[2].nblank, 2);
	assert_true(isnan(f->cols[2].num[1]));
	assert_false(f->cols[3].is_numeric);
	assert_string_equal(f->cols[3].text[2], "");
	const char *cols[] = {"age"}, *req[] = {"time", "event"};
	tn_design *d = NULL;
	tn_error err = {0};
	assert_int_equal(tn_design_new(f, cols, 1, req, 2, NULL, 0, &d, &err), TN_OK);
	assert_int_equal(d->p, 1);
	assert_int_equal(d->n, 3);
	assert_int_equal(d->dropped, 2);
	tn_design_free(d);
	tn_frame_free(f);
}

/* Numeric group labels are exact: %g printed 1234567 and 1234568 alike. */
static void test_group_labels_exact(void **state)
{
	(void)state;
	char path[] = "/tmp/tenure_frame_XXXXXX";
	tn_frame *f = frame_of("zip\n1234568\n1234567\n0.1\n1234567\n", path);
	int *idx = NULL, nl = 0;
	char **labels = NULL;
	tn_error err = {0};
	assert_int_equal(tn_design_groups(f, "zip", NULL, f->nrows, &idx, &labels, &nl, &err), TN_OK);
	assert_int_equal(nl, 3);
	assert_string_equal(labels[0], "0.1");
	assert_string_equal(labels[1], "1234567");
	assert_string_equal(labels[2], "1234568");
	tn_design_groups_free(idx, labels, nl);
	tn_frame_free(f);
	char buf[32];
	assert_string_equal(tn_format_double(1.0 / 3, buf, sizeof buf), "0.3333333333333333");
	assert_string_equal(tn_format_double(1e21, buf, sizeof buf), "1e+21");
}

/* A record over 16 MiB is refused while it is read, at its line and field. */
static void test_record_cap(void **state)
{
	(void)state;
	size_t n = (17u << 20);
	char *buf = malloc(n + 32);
	assert_non_null(buf);
	memcpy(buf, "a,b\n1,", 6);
	memset(buf + 6, 'x', n);
	memcpy(buf + 6 + n, "\n", 2);
	tn_error err = {0};
	tn_csv *r = tn_csv_open_mem(buf, n + 7, "big.csv", ',', &err);
	assert_non_null(r);
	assert_int_equal(tn_csv_next(r, &err), 1);
	assert_int_equal(tn_csv_next(r, &err), -1);
	if (!strstr(err.msg, "big.csv:2:2: record longer than 16777216 bytes"))
		fail_msg("%s", err.msg);
	tn_csv_close(r);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_errors_have_positions),
		cmocka_unit_test(test_file_larger_than_buffer),
		cmocka_unit_test(test_frame_na_is_missing),
		cmocka_unit_test(test_group_labels_exact),
		cmocka_unit_test(test_record_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
