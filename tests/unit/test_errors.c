/*
 * test_errors.c -- errors never read as success.
 *
 *  - A store another connection holds locked (BEGIN EXCLUSIVE; this
 *    connection's busy timeout cut to 1 ms): every read loop fails with the
 *    store's message ("database is locked") instead of returning short or
 *    empty results with TN_OK.
 *  - A read interrupted in the middle of a churn scan (sqlite3_interrupt from
 *    the per-customer callback): the scan returns the error as its status,
 *    also when the caller passed err = NULL.
 *  - The tn_error contract of error.h: every function accepts err = NULL and
 *    still returns the failure's status; tn_error_code never yields TN_OK.
 */
#include "testutil.h"
#include "tenure.h"
#include "store/store_sqlite.h"

#include <unistd.h>

static char dir[64];
static char dbpath[128];

static void fill(tn_store *s)
{
	tn_error err = {0};
	static const char *ids[] = {"c1", "c2", "c3"};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	for (int i = 0; i < 3; i++) {
		tn_customer_rec c = {.id = ids[i], .signed_up_at = 1704067200 + i * 86400, .country = "SA",
				     .channel = "organic"};
		assert_int_equal(tn_store_put_customer(s, &c, NULL, &err), TN_OK);
		tn_subscription_rec r = {.customer = ids[i], .plan = "basic", .billing_period = "month", .price = 10,
					 .currency = "USD", .started_at = 1704067200 + i * 86400,
					 .trial_ends_at = TN_NO_TIME, .current_period_end = 1711929600,
					 .cancelled_at = i == 2 ? 1709251200 : TN_NO_TIME, .status = i == 2 ? "cancelled" : "active",
					 .cancel_reason = i == 2 ? "price" : NULL};
		assert_int_equal(tn_store_put_subscription(s, &r, NULL, &err), TN_OK);
		tn_event_rec e = {.customer = ids[i], .at = 1706745600 + i, .type = "session", .amount = NAN};
		assert_int_equal(tn_store_put_event(s, &e, &err), TN_OK);
	}
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	assert_int_equal(tn_store_exec(s, "INSERT INTO winback_contacts(customer_id, campaign, contacted_at, channel, "
					  "reached, control, reason, cost) VALUES(3, 'spring', 1709337600, 'email', 1, 0, "
					  "'too expensive', 1)",
				       &err),
			 TN_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tenure_err_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(dbpath, TN_STORE_CREATE, &s, &err), TN_OK);
	fill(s);
	tn_store_close(s);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(dbpath);
	rmdir(dir);
	return 0;
}

/* Open the store, then let another connection take an exclusive lock. */
static tn_store *open_locked(sqlite3 **other)
{
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(dbpath, 0, &s, &err), TN_OK);
	sqlite3_busy_timeout(tn_store_sqlite(s), 1);
	assert_int_equal(sqlite3_open(dbpath, other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(*other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	return s;
}

static void unlock(sqlite3 *other)
{
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
}

static void assert_locked(int rc, const tn_error *err, const char *what)
{
	if (rc != TN_ERR_DB || !strstr(err->msg, "locked"))
		fail_msg("%s on a locked store: status %d (%s), expected a database error saying it is locked", what,
			 rc, err->msg);
}

/* The unlocked store gives results: the locked runs below differ only by the lock. */
static void test_unlocked_reads_work(void **state)
{
	(void)state;
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(dbpath, 0, &s, &err), TN_OK);
	tn_ending_row *er;
	size_t n;
	assert_int_equal(tn_offers_ending(s, 1711000000, 60, &er, &n, &err), TN_OK);
	assert_int_equal(n, 3);
	tn_ending_rows_free(er, n);
	tn_reason_count *rc;
	assert_int_equal(tn_winback_reasons(s, NULL, &rc, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	tn_reason_counts_free(rc, n);
	tn_store_counts c;
	assert_int_equal(tn_store_counts_get(s, &c, &err), TN_OK);
	assert_int_equal(c.customers, 3);
	/* the last instant alone is the counts' (without counting) */
	tn_time last = 0;
	assert_int_equal(tn_store_data_last(s, &last, &err), TN_OK);
	assert_true(c.last != TN_NO_TIME);
	assert_int_equal(last, c.last);
	tn_store_close(s);
}

static void test_locked_store_read_loops_fail(void **state)
{
	(void)state;
	sqlite3 *other;
	tn_store *s = open_locked(&other);
	tn_error err;
	size_t n = 99;

	tn_ending_row *er = NULL;
	tn_error_clear(&err);
	assert_locked(tn_offers_ending(s, 1711000000, 60, &er, &n, &err), &err, "offers ending");
	assert_null(er);
	assert_int_equal(n, 0);

	tn_nearing_row *nr = NULL;
	tn_error_clear(&err);
	assert_locked(tn_offers_nearing(s, 1711000000, 90, 60, &nr, &n, &err), &err, "offers nearing");
	assert_null(nr);

	tn_reason_count *rc = NULL;
	tn_error_clear(&err);
	assert_locked(tn_winback_reasons(s, NULL, &rc, &n, &err), &err, "winback reasons");
	assert_null(rc);

	tn_winback_due *due = NULL;
	tn_error_clear(&err);
	assert_locked(tn_winback_schedule(s, 1711000000, 1, 60, 0.1, 1, &due, &n, &err), &err, "winback schedule");
	assert_null(due);

	char *types[TN_MS_COUNT];
	int mapped[TN_MS_COUNT];
	tn_error_clear(&err);
	assert_locked(tn_journey_types(s, types, mapped, &err), &err, "journey types");

	tn_journey *j = NULL;
	tn_error_clear(&err);
	assert_locked(tn_journey_load(s, 1711000000, &j, &err), &err, "journey");
	assert_null(j);

	tn_points_check pc = {0};
	tn_error_clear(&err);
	assert_locked(tn_points_check_run(s, &pc, &err), &err, "points check");

	tn_store_counts c;
	tn_error_clear(&err);
	assert_locked(tn_store_counts_get(s, &c, &err), &err, "counts");
	tn_time last;
	tn_error_clear(&err);
	assert_locked(tn_store_data_last(s, &last, &err), &err, "data's last instant");

	tn_summary sm;
	tn_error_clear(&err);
	assert_locked(tn_summary_get(s, 1711000000, &sm, &err), &err, "summary");

	unlock(other);
	tn_store_close(s);
}

/* A store whose customers table has a corrupt leaf page (its last one): a
 * scan returns the first rows and then SQLITE_CORRUPT, which must be the
 * result -- never the rows read so far with TN_OK. */
static void test_corrupt_store_fails_mid_scan(void **state)
{
	(void)state;
	char path[160];
	snprintf(path, sizeof path, "%s/corrupt.db", dir);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	for (int i = 0; i < 3000; i++) {
		char id[32];
		snprintf(id, sizeof id, "customer-%05d", i);
		tn_customer_rec c = {.id = id, .signed_up_at = 1704067200 + i * 600, .country = "SA", .channel = "organic"};
		assert_int_equal(tn_store_put_customer(s, &c, NULL, &err), TN_OK);
	}
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	tn_journey *j = NULL;
	assert_int_equal(tn_journey_load(s, 1800000000, &j, &err), TN_OK);
	assert_int_equal(j->n, 3000);
	tn_journey_free(j);
	tn_store_close(s);

	/* the last leaf page of the customers table, by the dbstat table */
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(pageno), (SELECT page_size FROM pragma_page_size) FROM "
						"dbstat WHERE name = 'customers' AND pagetype = 'leaf'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long page = (long)sqlite3_column_int64(st, 0), size = (long)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(page > 2);
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (page - 1) * size, SEEK_SET), 0);
	for (int k = 0; k < 64; k++)
		fputc(0xFF, fp);
	fclose(fp);

	assert_int_equal(tn_store_open(path, 0, &s, &err), TN_OK);
	j = NULL;
	tn_error_clear(&err);
	int rc = tn_journey_load(s, 1800000000, &j, &err);
	if (rc != TN_ERR_DB || !strstr(err.msg, "malformed"))
		fail_msg("journey on a corrupt store: status %d (%s), %zu customers read", rc, err.msg, j ? j->n : 0);
	assert_null(j);
	tn_nearing_row *nr = NULL;
	size_t n = 0;
	tn_error_clear(&err);
	rc = tn_offers_nearing(s, 1800000000, 4000, 4000, &nr, &n, &err);
	assert_int_equal(rc, TN_ERR_DB);
	assert_null(nr);
	tn_store_close(s);
	unlink(path);
}

/* The callback interrupts the connection: the next step of the customers
 * cursor fails, which must end the scan with an error, not as the end. */
typedef struct scan_ud {
	int calls;
	tn_store *s;
} scan_ud;

static int interrupt_after_first(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)c;
	(void)err;
	scan_ud *u = ud;
	if (u->calls++ == 0)
		sqlite3_interrupt(tn_store_sqlite(u->s));
	return TN_OK;
}

static int count_customers(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)c;
	(void)err;
	((scan_ud *)ud)->calls++;
	return TN_OK;
}

static void test_churn_scan_cursor_error_is_a_status(void **state)
{
	(void)state;
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(dbpath, 0, &s, &err), TN_OK);
	tn_churn_def def;
	tn_churn_def_default(&def);
	scan_ud ud = {0, s};
	/* with err = NULL: the status alone must carry the failure */
	int rc = tn_churn_scan(s, &def, NULL, interrupt_after_first, &ud, NULL, NULL);
	assert_int_equal(ud.calls, 1);
	assert_int_equal(rc, TN_ERR_DB);
	/* with an err: the message names the cause */
	ud.calls = 0;
	tn_error_clear(&err);
	rc = tn_churn_scan(s, &def, NULL, interrupt_after_first, &ud, NULL, &err);
	assert_int_equal(rc, TN_ERR_DB);
	assert_non_null(strstr(err.msg, "interrupt"));
	/* and without the interruption all three customers are seen */
	ud.calls = 0;
	assert_int_equal(tn_churn_scan(s, &def, NULL, count_customers, &ud, NULL, NULL), TN_OK);
	assert_int_equal(ud.calls, 3);
	tn_store_close(s);
}

/* Contract rule 1: err may be NULL anywhere; the status still says failure. */
static void test_null_err_is_allowed(void **state)
{
	(void)state;
	tn_store *s = NULL;
	char missing[160];
	snprintf(missing, sizeof missing, "%s/missing.db", dir);
	assert_int_equal(tn_store_open(missing, 0, &s, NULL), TN_ERR_IO);
	assert_null(s);

	sqlite3 *other;
	s = open_locked(&other);
	tn_summary sm;
	assert_int_equal(tn_summary_get(s, TN_NO_TIME, &sm, NULL), TN_ERR_DB);
	tn_import_opts o = {.kind = TN_KIND_CUSTOMERS};
	tn_import_result res;
	char csv[160];
	snprintf(csv, sizeof csv, "%s/c.csv", dir);
	FILE *fp = fopen(csv, "w");
	assert_non_null(fp);
	fputs("id,signed_up_at\nc9,2024-01-01\n", fp);
	fclose(fp);
	assert_int_not_equal(tn_import(s, csv, &o, &res, NULL), TN_OK);
	assert_int_equal(res.committed, 0);
	tn_churn_def def;
	tn_churn_def_default(&def);
	tn_churn_rate_row *rows = NULL;
	size_t nrows = 0;
	tn_churn_rate_opts ro = {.period_months = TN_PERIOD_MONTH, .as_of = TN_NO_TIME};
	assert_int_equal(tn_churn_rate(s, &def, &ro, &rows, &nrows, NULL), TN_ERR_DB);
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME};
	assert_null(tn_churn_frame(s, &def, &fo, NULL));
	tn_demo_opts dopts = {.customers = 5, .months = 3, .end = 1711000000, .seed = 1};
	tn_demo_result dres;
	assert_int_not_equal(tn_demo_generate(s, &dopts, &dres, NULL), TN_OK);
	unlock(other);
	tn_store_close(s);
	unlink(csv);
}

static void test_error_code_never_ok(void **state)
{
	(void)state;
	tn_error err = {0};
	assert_int_equal(tn_error_code(NULL, TN_ERR_NOMEM), TN_ERR_NOMEM);
	assert_int_equal(tn_error_code(&err, TN_ERR_INPUT), TN_ERR_INPUT);
	assert_int_equal(tn_error_code(&err, TN_OK), TN_ERR_DB);
	tn_error_set(&err, TN_ERR_IO, "x");
	assert_int_equal(tn_error_code(&err, TN_ERR_INPUT), TN_ERR_IO);
	/* first cause wins, and NULL is a no-op that still returns the code */
	assert_int_equal(tn_error_set(&err, TN_ERR_DB, "y"), TN_ERR_DB);
	assert_string_equal(err.msg, "x");
	assert_int_equal(tn_error_set(NULL, TN_ERR_USAGE, "z"), TN_ERR_USAGE);
	tn_error_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlocked_reads_work),
		cmocka_unit_test(test_locked_store_read_loops_fail),
		cmocka_unit_test(test_churn_scan_cursor_error_is_a_status),
		cmocka_unit_test(test_corrupt_store_fails_mid_scan),
		cmocka_unit_test(test_null_err_is_allowed),
		cmocka_unit_test(test_error_code_never_ok),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
