/*
 * test_import.c -- import into a real SQLite store: idempotence, all-or-nothing
 * on bad rows with FILE:LINE:COLUMN messages, rejects files, UTF-8 (Arabic and
 * Persian kept byte for byte, invalid bytes refused), JSON Lines, --map, and
 * the schema's version rules.
 */
#include "store_util.h"
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
	db = old_store_open(path_in("t.db"), 1);
	exec_ok(db, "INSERT INTO customers(ext_id) VALUES ('old')");
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

/* ---- issue 10, section 3: bad input that used to be accepted -------------- */

static void expect_refused(tn_store *s, tn_kind kind, const char *file, const char *msg, const char *table,
			   long long rows_before)
{
	tn_error err;
	tn_import_result res;
	assert_int_equal(run_import(s, kind, file, NULL, &res, &err), TN_ERR_INPUT);
	assert_true(nerrors >= 1);
	if (!strstr(errors[0], msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, errors[0]);
	assert_int_equal(res.committed, 0);
	assert_int_equal(count(s, table), rows_before);
}

static void test_compact_date_is_a_date_or_an_error(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	/* 20240230 used to fall through to Unix seconds: 1970-08-23 */
	write_file("c_date.csv", "id,signed_up_at\nx1,20240301\nx2,20240230\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_date.csv", "c_date.csv:3:2: signed_up_at:", "customers", 0);
	tn_store_close(s);
}

static void test_attrs_must_be_an_object(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	/* a number, a string holding an array: both used to be stored as {} */
	write_file("c_attrs.jsonl", "{\"id\":\"x1\",\"attrs\":5}\n{\"id\":\"x2\",\"attrs\":\"[1,2]\"}\n"
				    "{\"id\":\"x3\",\"attrs\":{\"plan\":\"pro\"}}\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_attrs.jsonl", "c_attrs.jsonl:1:12: attrs: expected a JSON object",
		       "customers", 0);
	assert_int_equal(nerrors, 2);
	assert_non_null(strstr(errors[1], "c_attrs.jsonl:2:12: attrs: expected a JSON object, found \"[1,2]\""));
	write_file("c_attrs.csv", "id,attrs\nx1,\"[1]\"\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_attrs.csv", "c_attrs.csv:2:2: attrs: expected a JSON object",
		       "customers", 0);
	tn_store_close(s);
}

static void test_nul_bytes_refused(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	FILE *fp = fopen(path_in("c_nul.csv"), "wb");
	assert_non_null(fp);
	fwrite("id,country\nab\0cd,SA\n", 1, 21, fp);
	fclose(fp);
	/* the id used to be cut to "ab" */
	expect_refused(s, TN_KIND_CUSTOMERS, "c_nul.csv", "c_nul.csv:2:1: id: expected text without NUL bytes",
		       "customers", 0);
	/* longer values: check_row tests plain ASCII eight bytes a step, and a
	 * NUL (or a byte >= 0x80) inside a step must still be found, at the right
	 * byte */
	static const char nul8[] = "id,country\nabcdefghij\0klmnopq,SA\nxyz\0wvutsrq,SA\n";
	fp = fopen(path_in("c_nul8.csv"), "wb");
	assert_non_null(fp);
	fwrite(nul8, 1, sizeof nul8 - 1, fp);
	fclose(fp);
	expect_refused(s, TN_KIND_CUSTOMERS, "c_nul8.csv",
		       "c_nul8.csv:2:1: id: expected text without NUL bytes, found a NUL byte at byte 11 of the value",
		       "customers", 0);
	if (nerrors < 2 || !strstr(errors[1], "c_nul8.csv:3:1: id: expected text without NUL bytes, found a NUL byte "
					       "at byte 4 of the value"))
		fail_msg("expected the second row's NUL at byte 4, found \"%s\"", nerrors >= 2 ? errors[1] : "");
	write_file("c_hi8.csv", "id,country\nabcdefghijk\xE9lmnop,SA\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_hi8.csv",
		       "c_hi8.csv:2:1: id: expected UTF-8 text, found the invalid byte 0xE9 at byte 12 of the value",
		       "customers", 0);
	write_file("c_nul.jsonl", "{\"id\":\"ab\\u0000cd\"}\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_nul.jsonl", "c_nul.jsonl:1:10: expected text without NUL",
		       "customers", 0);
	tn_store_close(s);
}

static void test_duplicates_in_a_file(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	/* the last row used to win silently, with "added 2" */
	write_file("c_dup.csv", "id,country\nx1,SA\nx2,IR\nx1,EG\n");
	expect_refused(s, TN_KIND_CUSTOMERS, "c_dup.csv",
		       "c_dup.csv:4:1: id: expected each customer id once in a file, found \"x1\" again "
		       "(first on line 2, again on line 4)",
		       "customers", 0);
	assert_int_equal(nerrors, 1);
	write_file("c_ok.csv", "id,country\nx1,SA\nx2,IR\n");
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "c_ok.csv", NULL, &res, &err), TN_OK);
	/* duplicate payment ids used to be stored twice */
	write_file("p_dup.csv", "customer,paid_at,amount,currency,status,id\n"
				"x1,2024-03-01,10,USD,paid,p1\nx2,2024-03-02,10,USD,paid,p1\n");
	expect_refused(s, TN_KIND_PAYMENTS, "p_dup.csv", "p_dup.csv:3:6: id: expected each record id once in a file, "
				"found \"p1\" again (first on line 2, again on line 3)", "payments", 0);
	/* a duplicate subscription id used to report SQLite's wording at the customer column */
	write_file("s_dup.csv", "customer,plan,period,price,currency,started_at,id\n"
				"x1,pro,month,10,USD,2024-03-01,s1\nx2,pro,month,10,USD,2024-03-01,s1\n");
	expect_refused(s, TN_KIND_SUBSCRIPTIONS, "s_dup.csv", "s_dup.csv:3:7: id: expected each record id once",
		       "subscriptions", 0);
	/* without ids, the matching key: (customer, started_at, plan) */
	write_file("s_dup2.csv", "customer,plan,period,price,currency,started_at\n"
				 "x1,pro,month,10,USD,2024-03-01\nx1,pro,month,12,USD,2024-03-01\n");
	expect_refused(s, TN_KIND_SUBSCRIPTIONS, "s_dup2.csv",
		       "s_dup2.csv:3:1: (customer, started_at, plan): expected each record once in a file, found "
		       "customer \"x1\" again (first on line 2, again on line 3)",
		       "subscriptions", 0);
	/* with a rejects file the later row is rejected and the first kept */
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "c_dup.csv", "rej.csv", &res, &err), TN_OK);
	assert_int_equal(res.rejected, 1);
	assert_int_equal(count(s, "customers WHERE ext_id = 'x1' AND country = 'SA'"), 1);
	tn_store_close(s);
}

static void test_added_updated_unchanged(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	write_file("c1.csv", "id,country\nx1,SA\nx2,IR\n");
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "c1.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 2);
	write_file("c2.csv", "id,country\nx1,SA\nx2,EG\nx3,IR\n");
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "c2.csv", NULL, &res, &err), TN_OK);
	/* a changed row used to count as added */
	assert_int_equal(res.added, 1);
	assert_int_equal(res.updated, 1);
	assert_int_equal(res.unchanged, 1);
	write_file("s1.csv", "customer,plan,period,price,currency,started_at,id\n"
			     "x1,pro,month,10,USD,2024-03-01,s1\nx2,pro,month,10,USD,2024-03-01,\n");
	assert_int_equal(run_import(s, TN_KIND_SUBSCRIPTIONS, "s1.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 2);
	/* s1's start corrected (matched on its id), x2 cancelled (matched on customer, start, plan) */
	write_file("s2.csv", "customer,plan,period,price,currency,started_at,id,cancelled_at\n"
			     "x1,pro,month,10,USD,2024-03-02,s1,\nx2,pro,month,10,USD,2024-03-01,,2024-05-01\n"
			     "x3,pro,month,10,USD,2024-03-01,s3,\n");
	assert_int_equal(run_import(s, TN_KIND_SUBSCRIPTIONS, "s2.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.updated, 2);
	assert_int_equal(count(s, "subscriptions"), 3);
	write_file("p1.csv", "customer,paid_at,amount,currency,status,id\nx1,2024-03-01,10,USD,paid,p1\n"
			     "x2,2024-03-01,10,USD,paid,\n");
	assert_int_equal(run_import(s, TN_KIND_PAYMENTS, "p1.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 2);
	/* p1 refunded and moved: one payment, updated (it used to be stored twice) */
	write_file("p2.csv", "customer,paid_at,amount,currency,status,id\nx1,2024-03-04,10,USD,refunded,p1\n"
			     "x2,2024-03-01,12,USD,paid,\n");
	assert_int_equal(run_import(s, TN_KIND_PAYMENTS, "p2.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.updated, 2);
	assert_int_equal(res.added, 0);
	assert_int_equal(count(s, "payments"), 2);
	assert_int_equal(run_import(s, TN_KIND_PAYMENTS, "p2.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.unchanged, 2);
	write_file("f1.csv", "customer,given_at,kind,score,id\nx1,2024-03-01,nps,9,r1\n");
	assert_int_equal(run_import(s, TN_KIND_FEEDBACK, "f1.csv", NULL, &res, &err), TN_OK);
	write_file("f2.csv", "customer,given_at,kind,score,id\nx1,2024-03-01,nps,3,r1\n");
	assert_int_equal(run_import(s, TN_KIND_FEEDBACK, "f2.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.updated, 1);
	assert_int_equal(count(s, "feedback WHERE score = 3"), 1);
	tn_store_close(s);
}

static void test_jsonl_line_cap_while_reading(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	FILE *fp = fopen(path_in("big.jsonl"), "wb");
	assert_non_null(fp);
	fputs("{\"id\":\"x1\"}\n{\"id\":\"", fp);
	static char chunk[1 << 16];
	memset(chunk, 'a', sizeof chunk);
	for (int i = 0; i < 260; i++) /* 17 MiB without a newline */
		fwrite(chunk, 1, sizeof chunk, fp);
	fclose(fp);
	char want[64];
	snprintf(want, sizeof want, "big.jsonl:2:%u: expected a line of at most", (16u << 20) + 1);
	expect_refused(s, TN_KIND_CUSTOMERS, "big.jsonl", want, "customers", 0);
	tn_store_close(s);
}

/* Subscriptions in USD, EUR and SAR used to be summed as one number (10 + 10 +
 * 100 = 120).  Now MRR is in the reporting currency (the first
 * subscription's: USD): without rates the summary is an error naming the
 * currency; with rates it is 10 + 10 x 1.1 (EUR rate in force on Feb 5) +
 * 100 x 0.25 = 46; the rate after a date does not apply before it. */
static void test_currencies_converted(void **state)
{
	(void)state;
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	write_file("m_c.csv", "id,signed_up_at\na,2024-01-01\nb,2024-01-01\nc,2024-01-01\n");
	write_file("m_s.csv", "customer,plan,period,price,currency,started_at\na,pro,month,10,USD,2024-01-05\n"
			      "b,pro,month,10,EUR,2024-02-05\nc,pro,month,100,SAR,2024-03-05\n");
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "m_c.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(run_import(s, TN_KIND_SUBSCRIPTIONS, "m_s.csv", NULL, &res, &err), TN_OK);
	char cur[4];
	assert_int_equal(tn_store_reporting_currency(s, cur, &err), TN_OK);
	assert_string_equal(cur, "USD");
	tn_summary sm;
	tn_error_clear(&err);
	assert_int_not_equal(tn_summary_get(s, TN_NO_TIME, &sm, &err), TN_OK);
	if (!strstr(err.msg, "an amount in EUR (on 2024-02-05) cannot be added to the reporting currency USD"))
		fail_msg("%s", err.msg);
	/* rates: bad ones refused with positions, nothing written */
	write_file("r_bad.csv", "date,currency,rate\n2024-01-01,eur,1.1\n2024-01-01,SAR,0\n2024-01-01,SAR,0.25\n"
				"2024-01-01,SAR,0.26\n");
	expect_refused(s, TN_KIND_RATES, "r_bad.csv", "r_bad.csv:2:2: currency: expected a three-letter ISO 4217 code",
		       "currency_rates", 0);
	assert_int_equal(nerrors, 3);
	assert_non_null(strstr(errors[1], "r_bad.csv:3:3: rate: expected more than 0"));
	assert_non_null(strstr(errors[2], "r_bad.csv:5:2: (currency, date): expected each record once in a file, "
					  "found currency \"SAR\" again (first on line 4, again on line 5)"));
	write_file("r.csv", "date,currency,rate\n2024-03-01,EUR,1.2\n2024-01-01,EUR,1.1\n2024-01-01,SAR,0.25\n");
	assert_int_equal(run_import(s, TN_KIND_RATES, "r.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 3);
	assert_int_equal(tn_summary_get(s, TN_NO_TIME, &sm, &err), TN_OK);
	assert_near(sm.mrr, 10 + 10 * 1.1 + 100 * 0.25, 1e-9);
	/* a corrected rate is an update, and is used */
	write_file("r2.csv", "date,currency,rate\n2024-01-01,EUR,1.0\n");
	assert_int_equal(run_import(s, TN_KIND_RATES, "r2.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.updated, 1);
	assert_int_equal(tn_summary_get(s, TN_NO_TIME, &sm, &err), TN_OK);
	assert_near(sm.mrr, 10 + 10 * 1.0 + 100 * 0.25, 1e-9);
	/* an amount dated before the first rate of its currency is an error */
	write_file("m_s2.csv", "customer,plan,period,price,currency,started_at\na,pro,month,5,SAR,2023-12-01\n");
	assert_int_equal(run_import(s, TN_KIND_SUBSCRIPTIONS, "m_s2.csv", NULL, &res, &err), TN_OK);
	tn_error_clear(&err);
	assert_int_not_equal(tn_summary_get(s, TN_NO_TIME, &sm, &err), TN_OK);
	if (!strstr(err.msg, "an amount in SAR on 2023-12-01 cannot be added to the reporting currency USD: the first "
			     "SAR rate is from 2024-01-01"))
		fail_msg("%s", err.msg);
	/* payments' currency is checked as subscriptions' is */
	write_file("p_cur.csv", "customer,paid_at,amount,currency,status\na,2024-03-01,10,usd,paid\n");
	expect_refused(s, TN_KIND_PAYMENTS, "p_cur.csv", "p_cur.csv:2:4: currency: expected a three-letter", "payments",
		       0);
	/* the reporting currency is a store setting */
	assert_int_equal(tn_store_set_reporting_currency(s, "EUR", &err), TN_OK);
	assert_int_equal(tn_store_reporting_currency(s, cur, &err), TN_OK);
	assert_string_equal(cur, "EUR");
	assert_int_not_equal(tn_store_set_reporting_currency(s, "euro", &err), TN_OK);
	tn_store_close(s);
}

/* Events are checked on this thread and written on a second one (import.c,
 * "the writer thread"): the database must be what writing them in file
 * order gives -- for each key (customer, time, type, id) the first row's
 * amount -- across several of the writer's batches and more than one store
 * buffer, with rows that carry an id (the writer drained first) and more
 * types than import.c remembers, a new type late in the file; a second
 * import adds nothing; a bad row late in the file leaves nothing written.
 * RISING: the times rise in file order, four rows a second (the store's
 * sort then orders by customer alone, store.c's sort_events, and relies on
 * its stability for the time order and for which of two equal rows comes
 * first); else they are random. */
static void events_second_thread(int rising)
{
	tn_store *s = fresh_store();
	tn_error err;
	tn_import_result res;
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	sqlite3 *ref;
	assert_int_equal(sqlite3_open(":memory:", &ref), SQLITE_OK);
	assert_int_equal(sqlite3_exec(ref, "CREATE TABLE raw(seq INTEGER PRIMARY KEY, customer TEXT, at INTEGER, type TEXT, "
					   "id TEXT, amount REAL)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_exec(ref, "BEGIN", NULL, NULL, NULL);
	sqlite3_stmt *ins;
	assert_int_equal(sqlite3_prepare_v2(ref, "INSERT INTO raw VALUES(?,?,?,?,?,?)", -1, &ins, NULL), SQLITE_OK);
	FILE *fp = fopen(path_in("many.csv"), "wb");
	assert_non_null(fp);
	fputs("customer,occurred_at,type,amount,id\n", fp);
	const long n = 300000;
	uint64_t x = 12345;
	for (long i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		unsigned r = (unsigned)(x >> 33);
		char cust[8], type[16], id[32] = "";
		snprintf(cust, sizeof cust, "c%u", 1 + r % 3);
		long long at = 1704067200 + (rising ? i / 4 : (long long)((r >> 2) % 400000));
		unsigned t = (r >> 20) % 10;
		if (t < 7)
			snprintf(type, sizeof type, "%s", t < 5 ? "session" : "purchase");
		else
			snprintf(type, sizeof type, "t%u", (r >> 8) % 40); /* 40 more types */
		if (i == n - 1000)
			snprintf(type, sizeof type, "late_type");
		if ((r >> 12) % 50 == 0)
			snprintf(id, sizeof id, "e%ld", i); /* an id is once per file */
		double amount = (r >> 6) % 4 == 0 ? (double)((r >> 9) % 1000) / 4 : NAN;
		if (isnan(amount))
			fprintf(fp, "%s,%lld,%s,,%s\n", cust, at, type, id);
		else
			fprintf(fp, "%s,%lld,%s,%.2f,%s\n", cust, at, type, amount, id);
		sqlite3_bind_int64(ins, 1, i);
		sqlite3_bind_text(ins, 2, cust, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 3, at);
		sqlite3_bind_text(ins, 4, type, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 5, id, -1, SQLITE_TRANSIENT);
		if (isnan(amount))
			sqlite3_bind_null(ins, 6);
		else
			sqlite3_bind_double(ins, 6, amount);
		assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
		sqlite3_reset(ins);
	}
	fclose(fp);
	sqlite3_finalize(ins);
	sqlite3_exec(ref, "COMMIT", NULL, NULL, NULL);
	assert_int_equal(sqlite3_exec(ref, "CREATE INDEX raw_key ON raw(customer, at, type, id, seq)", NULL, NULL, NULL),
			 SQLITE_OK);

	if (run_import(s, TN_KIND_EVENTS, "many.csv", NULL, &res, &err) != TN_OK)
		fail_msg("%s (%s)", err.msg, nerrors ? errors[0] : "");
	assert_int_equal(res.rows, n);
	char attach[300];
	snprintf(attach, sizeof attach, "ATTACH '%s' AS st", path_in("t.db"));
	assert_int_equal(sqlite3_exec(ref, attach, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_stmt *a, *b;
	assert_int_equal(sqlite3_prepare_v2(ref,
		"SELECT r.customer, r.at, r.type, r.id, r.amount FROM raw r JOIN (SELECT customer, at, type, id, "
		"min(seq) AS seq FROM raw GROUP BY 1, 2, 3, 4) f ON f.seq = r.seq ORDER BY 1, 2, 3, 4", -1, &a, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(ref,
		"SELECT c.ext_id, e.occurred_at, t.name, e.ext_id, e.amount FROM st.events e "
		"JOIN st.customers c ON c.id = e.customer_id JOIN st.event_types t ON t.id = e.type_id "
		"ORDER BY 1, 2, 3, 4", -1, &b, NULL), SQLITE_OK);
	long long rows = 0;
	for (;;) {
		int ra = sqlite3_step(a), rb = sqlite3_step(b);
		assert_int_equal(ra, rb);
		if (ra != SQLITE_ROW)
			break;
		for (int c = 0; c < 5; c++) {
			const char *va = (const char *)sqlite3_column_text(a, c), *vb = (const char *)sqlite3_column_text(b, c);
			if ((va == NULL) != (vb == NULL) || (va && strcmp(va, vb) != 0))
				fail_msg("row %lld column %d: expected %s, found %s", rows, c, va ? va : "NULL",
					 vb ? vb : "NULL");
		}
		rows++;
	}
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_exec(ref, "DETACH st", NULL, NULL, NULL);
	sqlite3_close(ref);
	assert_true(rows > n / 2);
	assert_int_equal(res.added, rows);
	assert_int_equal(count(s, "events"), rows);

	/* again: nothing new */
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "many.csv", NULL, &res, &err), TN_OK);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.unchanged, n);
	assert_int_equal(count(s, "events"), rows);
	tn_store_close(s);

	/* a bad row after several batches: nothing written, the row named */
	s = fresh_store();
	assert_int_equal(run_import(s, TN_KIND_CUSTOMERS, "customers.csv", NULL, &res, &err), TN_OK);
	fp = fopen(path_in("many.csv"), "ab");
	assert_non_null(fp);
	fputs("c9,1704067200,session,,\n", fp);
	fclose(fp);
	assert_int_equal(run_import(s, TN_KIND_EVENTS, "many.csv", NULL, &res, &err), TN_ERR_INPUT);
	assert_int_equal(count(s, "events"), 0);
	char want[64];
	snprintf(want, sizeof want, "many.csv:%ld:1", n + 2);
	assert_non_null(strstr(errors[0], want));
	tn_store_close(s);
}

static void test_events_written_on_a_second_thread(void **state)
{
	(void)state;
	events_second_thread(0);
}

static void test_events_in_time_order(void **state)
{
	(void)state;
	events_second_thread(1);
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
		cmocka_unit_test(test_compact_date_is_a_date_or_an_error),
		cmocka_unit_test(test_attrs_must_be_an_object),
		cmocka_unit_test(test_nul_bytes_refused),
		cmocka_unit_test(test_duplicates_in_a_file),
		cmocka_unit_test(test_added_updated_unchanged),
		cmocka_unit_test(test_jsonl_line_cap_while_reading),
		cmocka_unit_test(test_currencies_converted),
		cmocka_unit_test(test_events_written_on_a_second_thread),
		cmocka_unit_test(test_events_in_time_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
