/*
 * test_import.c -- import into a real SQLite store: idempotence, all-or-nothing
 * on bad rows with FILE:LINE:COLUMN messages, rejects files, UTF-8 (Arabic and
 * Persian kept byte for byte, invalid bytes refused), JSON Lines, --map, and
 * the schema's version rules.
 */
#include "testutil.h"
#include "tenure.h"

#include <sqlite3.h>
#include <unistd.h>

static char dir[64];

static const char *path_in(const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

static void write_file(const char *name, const char *text)
{
	FILE *fp = fopen(path_in(name), "wb");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static long long count(tn_store *s, const char *table)
{
	(void)s;
	sqlite3 *db;
	char sql[128];
	long long n = -1;
	assert_int_equal(sqlite3_open(path_in("t.db"), &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static char errors[8][512];
static int nerrors;
static void collect(void *ud, const char *msg)
{
	(void)ud;
	if (nerrors < 8)
		snprintf(errors[nerrors], sizeof errors[0], "%s", msg);
	nerrors++;
}

static int run_import(tn_store *s, tn_kind kind, const char *file, const char *rejects, tn_import_result *res,
		      tn_error *err)
{
	tn_import_opts o = {.kind = kind, .on_error = collect, .rejects_path = rejects ? path_in(rejects) : NULL};
	nerrors = 0;
	tn_error_clear(err);
	return tn_import(s, path_in(file), &o, res, err);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tenure_imp_XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("customers.csv", "\xEF\xBB\xBFid,signed_up_at,country,channel,device\r\n"
				    "c1,2024-01-05,SA,organic,ios\r\n"
				    "c2,2024-01-06T10:00:00+03:30,IR,paid_social,android\r\n"
				    "c3,1704500000,EG,search,\r\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static tn_store *fresh_store(void)
{
	unlink(path_in("t.db"));
	tn_store *s = NULL;
	tn_error err = {0};
	if (tn_store_open(path_in("t.db"), TN_STORE_CREATE, &s, &err))
		fail_msg("%s", err.msg);
	return s;
}

static void test_idempotent(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.rows, 3);
	assert_int_equal(res.added, 3);
	write_file("events.csv", "customer,occurred_at,type,amount,id\n"
				 "c1,2024-01-05T10:00:00Z,session,,\n"
				 "c1,2024-01-06,purchase,9.99,p-1\n"
				 "c2,1704500000,session,,\n"
				 "c2,1704500000,session,,\n"); /* a duplicate row: one event */
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "events.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.rows, 4);
	assert_int_equal(res.added, 3);
	assert_int_equal(count(s, "events"), 3);
	/* the same files again change nothing */
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.unchanged, 3);
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "events.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 0);
	assert_int_equal(count(s, "events"), 3);
	assert_int_equal(count(s, "customers"), 3);
	/* extra customer columns became attributes; times were stored as UTC */
	sqlite3 *db;
	sqlite3_open(path_in("t.db"), &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT signed_up_at, attrs FROM customers WHERE ext_id = 'c2'", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 1704522600); /* 06:30Z */
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "{\"device\":\"android\"}");
	sqlite3_finalize(st);
	sqlite3_close(db);
	tn_store_close(s);
}

static void test_bad_rows_write_nothing(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	write_file("bad.csv", "customer,occurred_at,type,amount\n"
			      "c1,2024-01-05,session,\n"
			      "c1,2024-13-05,session,\n"
			      "zz,2024-01-06,purchase,9.99\n"
			      "c2,2024-01-07,session,abc\n"
			      "c2,2024-01-07\n");
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "bad.csv", NULL, &res, &err), TN_ERR_INPUT);
	assert_int_equal(nerrors, 4);
	assert_non_null(strstr(errors[0], "bad.csv:3:2: occurred_at: expected an ISO-8601 time"));
	assert_non_null(strstr(errors[0], "found \"2024-13-05\""));
	assert_non_null(strstr(errors[1], "bad.csv:4:1: customer: customer \"zz\" is not in the store"));
	assert_non_null(strstr(errors[2], "bad.csv:5:4: amount: expected a number, found \"abc\""));
	assert_non_null(strstr(errors[3], "bad.csv:6:"));
	assert_non_null(strstr(errors[3], "expected 4 fields"));
	assert_int_equal(res.committed, 0);
	assert_int_equal(count(s, "events"), 0);
	/* the store still works after the rollback */
	write_file("good.csv", "customer,occurred_at,type\nc3,2024-02-01,session\n");
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "good.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(count(s, "events"), 1);

	/* with a rejects file, the good rows land and the bad ones are kept with the reason */
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "bad.csv", "rejects.csv", &res, &err), TN_OK);
	assert_int_equal(res.rejected, 4);
	assert_int_equal(res.added, 1);
	assert_int_equal(count(s, "events"), 2);
	tn_frame *f = tn_frame_read_csv(path_in("rejects.csv"), NULL, 0, &err);
	assert_non_null(f);
	assert_int_equal(f->nrows, 4); /* the short row is padded to the header's width */
	assert_int_equal(tn_frame_find(f, "error"), 4);
	assert_non_null(strstr(f->cols[4].text[1], "not in the store"));
	assert_non_null(strstr(f->cols[4].text[3], "expected 4 fields"));
	tn_frame_free(f);
	tn_store_close(s);
}

static void test_utf8(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	const char *ar = "التطبيق يقفل كل ما أسجل دخول";
	const char *fa = "اشتراکش خیلی گرونه\xE2\x80\x8C ها"; /* with a zero-width non-joiner */
	char text[1024];
	snprintf(text, sizeof text,
		 "customer,given_at,kind,score,answer,language\n"
		 "c1,2024-02-01,exit,,\"%s\",ar\n"
		 "c2,2024-02-02,exit,,\"%s\",fa\n"
		 "c3,2024-02-03,nps,9,,en\n",
		 ar, fa);
	write_file("fb.csv", text);
	assert_int_equal(run_import(s, TN_KIND_FEEDBACK, "fb.csv", NULL, &res, &err), TN_OK);
	sqlite3 *db;
	sqlite3_open(path_in("t.db"), &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT answer FROM feedback WHERE kind = 'exit' ORDER BY given_at", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_memory_equal(sqlite3_column_text(st, 0), ar, strlen(ar) + 1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_memory_equal(sqlite3_column_text(st, 0), fa, strlen(fa) + 1);
	sqlite3_finalize(st);
	sqlite3_close(db);

	write_file("badutf.csv", "customer,given_at,kind,score,answer\n"
				 "c1,2024-02-05,free,,\"caf\xE9 is closed\"\n"
				 "c1,2024-02-06,nps,11,\n"
				 "c1,2024-02-06,csat,,\n");
	assert_int_equal(run_import(s, TN_KIND_FEEDBACK, "badutf.csv", NULL, &res, &err), TN_ERR_INPUT);
	assert_int_equal(nerrors, 3);
	assert_non_null(strstr(errors[0], "badutf.csv:2:5: answer: expected UTF-8 text, found the invalid byte 0xE9"));
	assert_non_null(strstr(errors[1], "badutf.csv:3:4: score: expected a whole nps score from 0 to 10"));
	assert_non_null(strstr(errors[2], "badutf.csv:4:"));
	tn_store_close(s);
}

static void test_jsonl_and_map(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	write_file("c.jsonl", "{\"id\":\"j1\",\"signed_up_at\":\"2024-02-01\",\"plan_type\":\"pro\",\"attrs\":{\"a\":1}}\n"
			      "\n"
			      "{\"id\":\"j2\",\"country\":\"AE\",\"signed_up_at\":1706745600}\n");
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "c.jsonl", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 2);
	write_file("s.jsonl", "{\"customer\":\"j1\",\"plan\":\"pro\",\"billing_period\":\"monthly\",\"price\":9.99,"
			      "\"currency\":\"USD\",\"started_at\":\"2024-02-01\"}\n"
			      "{\"customer\":\"j2\",\"plan\":\"pro\",\"billing_period\":\"fortnight\",\"price\":9.99,"
			      "\"currency\":\"USD\",\"started_at\":\"2024-02-01\"}\n"
			      "{\"customer\":\"j2\", broken\n");
	assert_int_equal(run_import(s, TN_KIND_SUBSCRIPTIONS, "s.jsonl", NULL, &res, &err), TN_ERR_INPUT);
	assert_int_equal(nerrors, 2);
	assert_non_null(strstr(errors[0], "s.jsonl:2:"));
	assert_non_null(strstr(errors[0], "billing_period: expected day, week, month, quarter or year, found \"fortnight\""));
	assert_non_null(strstr(errors[1], "s.jsonl:3:"));
	assert_non_null(strstr(errors[1], "invalid JSON"));
	assert_int_equal(count(s, "subscriptions"), 0);

	/* --map: the business's own column names */
	write_file("p.csv", "user,when,value,cur,state\nj1,2024-03-01,9.99,USD,paid\nj2,2024-03-01,9.99,USD,declined\n");
	const char *map[] = {"customer=user", "paid_at=when", "amount=value", "currency=cur", "status=state"};
	tn_import_opts o = {.kind = TN_KIND_PAYMENTS, .map = map, .nmap = 5, .on_error = collect};
	tn_error_clear(&err);
	assert_int_equal(tn_import(s, path_in("p.csv"), &o, &res, &err), TN_OK);
	assert_int_equal(res.added, 2);
	/* a required column that is missing is named with the fix */
	tn_import_opts o2 = {.kind = TN_KIND_PAYMENTS};
	tn_error_clear(&err);
	assert_int_equal(tn_import(s, path_in("p.csv"), &o2, &res, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "p.csv:1: expected a column \"customer\""));
	assert_non_null(strstr(err.msg, "--map customer=YOUR_COLUMN"));
	tn_store_close(s);
}

static void test_schema_versions(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_store *s = fresh_store();
	tn_store_close(s);
	sqlite3 *db;
	/* a file from a newer Tenure is refused, untouched */
	sqlite3_open(path_in("t.db"), &db);
	sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(tn_store_open(path_in("t.db"), 0, &s, &err), TN_ERR_VERSION);
	assert_non_null(strstr(err.msg, "newer Tenure"));
	assert_null(s);

	/* a version-1 file is upgraded to the latest schema */
	extern const char *const tn_store_migrations[];
	unlink(path_in("t.db"));
	sqlite3_open(path_in("t.db"), &db);
	assert_int_equal(sqlite3_exec(db, tn_store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 1; PRAGMA application_id = 1413828181;"
			 "INSERT INTO customers(ext_id) VALUES ('old')",
		     NULL, NULL, NULL);
	sqlite3_close(db);
	tn_error_clear(&err);
	assert_int_equal(tn_store_open(path_in("t.db"), 0, &s, &err), TN_OK);
	assert_int_equal(tn_store_opened_version(s), 1);
	tn_store_close(s);
	sqlite3_open(path_in("t.db"), &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	sqlite3_step(st);
	assert_int_equal(sqlite3_column_int(st, 0), tn_store_schema_latest());
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(count(NULL, "customers"), 1);

	/* another application's SQLite file is not taken for a store */
	unlink(path_in("t.db"));
	sqlite3_open(path_in("t.db"), &db);
	sqlite3_exec(db, "CREATE TABLE notes(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	tn_error_clear(&err);
	assert_int_equal(tn_store_open(path_in("t.db"), 0, &s, &err), TN_ERR_DB);
	assert_non_null(strstr(err.msg, "not a Tenure store"));
}

static void test_utf8_validator(void **state)
{
	(void)state;
	size_t bad = 0;
	assert_true(tn_utf8_valid("plain ascii text, long enough", 29, &bad));
	assert_true(tn_utf8_valid("\xD8\xA7\xDB\x8C \xF0\x9F\x98\x80", 9, &bad));
	assert_false(tn_utf8_valid("ab\xC0\xAF", 4, &bad)); /* overlong */
	assert_int_equal(bad, 2);
	assert_false(tn_utf8_valid("\xED\xA0\x80", 3, &bad)); /* surrogate */
	assert_false(tn_utf8_valid("\xF4\x90\x80\x80", 4, &bad)); /* > U+10FFFF */
	assert_false(tn_utf8_valid("abc\xE2\x82", 5, &bad)); /* truncated */
	assert_int_equal(bad, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_bad_rows_write_nothing),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_jsonl_and_map),
		cmocka_unit_test(test_schema_versions),
		cmocka_unit_test(test_utf8_validator),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
