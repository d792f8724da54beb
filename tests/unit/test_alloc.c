/*
 * test_alloc.c -- out of memory, the way SQLite tests its allocator: every
 * allocation of an operation is failed in turn (N = 1, 2, ... until the
 * operation runs through without reaching an N-th allocation), once failing
 * only the N-th ("transient") and once the N-th and all after ("persistent").
 * Each failure must give TN_ERR_NOMEM with a message, no crash, no leak
 * (LeakSanitizer checks the whole process at exit) and nothing half-written
 * (an import's row counts are those before it).  The operations: CSV imports
 * of customers and subscriptions and a JSON Lines import of events into a
 * fresh store, and one analysis on it: the churn frame, a Kaplan-Meier fit on
 * it, the monthly churn rate and the retention value (sBG) by plan.
 */
#include "testutil.h"
#include "tenure.h"
#include "base/alloc.h"
#include "store/store_sqlite.h"

#include <sqlite3.h>
#include <unistd.h>

static char dir[64];

static char dbfile[128]; /* the store: path_in's buffers rotate */

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

/* Rows in the store's tables, through a connection of our own. */
static long long rows_in(const char *db, const char *table)
{
	sqlite3 *h;
	char sql[128];
	long long n = -1;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static const char *const tables[] = {"customers", "subscriptions", "events", "event_types", "meta"};
#define NTABLES (sizeof tables / sizeof *tables)

/* Rows in each of the tables above, through one connection. */
static void rows_all(const char *db, long long n[NTABLES])
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t t = 0; t < NTABLES; t++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[t]);
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		n[t] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
}

static int setup(void **state)
{
	(void)state;
	/* a memory file system when there is one: the walks open and commit
	 * hundreds of stores, and fsync on a disk would dominate the test */
	snprintf(dir, sizeof dir, "%s/tenure_oom_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(dbfile, sizeof dbfile, "%s/t.db", dir);
	write_file("customers.csv", "id,signed_up_at,country,channel,device\n"
				    "c1,2024-01-05,SA,organic,ios\n"
				    "c2,2024-01-06T10:00:00+03:30,IR,paid_social,android\n"
				    "c3,2024-02-01,EG,search,\n"
				    "c4,2024-02-11,SA,organic,ios\n");
	write_file("subscriptions.csv",
		   "id,customer_id,plan,billing_period,price,currency,started_at,current_period_end,cancelled_at,status\n"
		   "s1,c1,basic,month,10,USD,2024-01-05,2024-06-05,,active\n"
		   "s2,c2,pro,month,25,USD,2024-01-06,2024-03-06,2024-03-01,cancelled\n"
		   "s3,c3,basic,year,100,USD,2024-02-01,2025-02-01,,active\n"
		   "s4,c4,basic,month,10,USD,2024-02-11,2024-04-11,2024-04-01,cancelled\n");
	write_file("events.jsonl", "{\"customer_id\":\"c1\",\"occurred_at\":\"2024-01-07\",\"type\":\"session\"}\n"
				   "{\"customer_id\":\"c2\",\"occurred_at\":\"2024-01-08\",\"type\":\"purchase\",\"amount\":3.5}\n"
				   "{\"customer_id\":\"c3\",\"occurred_at\":\"2024-02-02\",\"type\":\"session\"}\n"
				   "{\"customer_id\":\"c4\",\"occurred_at\":\"2024-02-12\",\"type\":\"session\"}\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *files[] = {"customers.csv", "subscriptions.csv", "events.jsonl"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		unlink(path_in(files[i]));
	unlink(dbfile);
	rmdir(dir);
	return 0;
}

/* Import FILE of KIND into the store at DB with the N-th allocation failing;
 * returns the number of failure points walked. */
static long walk_import(const char *db, tn_kind kind, const char *file, int persist)
{
	long n;
	for (n = 1;; n++) {
		long long before[NTABLES], after[NTABLES];
		rows_all(db, before);
		tn_store *s;
		tn_error err = {0};
		assert_int_equal(tn_store_open(db, 0, &s, &err), TN_OK);
		tn_import_opts o = {.kind = kind};
		tn_import_result res;
		tn_alloc_fail_at(n, persist);
		int rc = tn_import(s, path_in(file), &o, &res, &err);
		long failed = tn_alloc_failures();
		tn_alloc_fail_at(0, 0);
		tn_store_close(s);
		if (!failed) { /* ran through: the operation has fewer than n allocations */
			if (rc != TN_OK)
				fail_msg("import %s without an injected failure: %s", file, err.msg);
			assert_int_equal(res.committed, 1);
			break;
		}
		if (rc != TN_ERR_NOMEM)
			fail_msg("import %s, allocation %ld failed (%s): status %d (%s), expected out of memory", file, n,
				 persist ? "persistent" : "transient", rc, err.msg);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(res.committed, 0);
		rows_all(db, after);
		for (size_t t = 0; t < NTABLES; t++)
			if (after[t] != before[t])
				fail_msg("import %s, allocation %ld failed: %s has %lld rows, %lld before", file, n,
					 tables[t], after[t], before[t]);
	}
	return n - 1;
}

static long import_points[2], analysis_points[2];

static void import_all(int persist)
{
	const char *db = dbfile;
	unlink(db);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(db, TN_STORE_CREATE, &s, &err), TN_OK);
	tn_store_close(s);
	long k = walk_import(db, TN_KIND_CUSTOMERS, "customers.csv", persist);
	k += walk_import(db, TN_KIND_SUBSCRIPTIONS, "subscriptions.csv", persist);
	k += walk_import(db, TN_KIND_EVENTS, "events.jsonl", persist);
	import_points[persist] = k;
	assert_int_equal(rows_in(db, "customers"), 4);
	assert_int_equal(rows_in(db, "subscriptions"), 4);
	assert_int_equal(rows_in(db, "events"), 4);
}

static void test_import_transient(void **state)
{
	(void)state;
	import_all(0);
	print_message("import: %ld allocation failure points walked (transient)\n", import_points[0]);
	assert_true(import_points[0] > 20);
}

static void test_import_persistent(void **state)
{
	(void)state;
	import_all(1);
	print_message("import: %ld allocation failure points walked (persistent)\n", import_points[1]);
	assert_true(import_points[1] > 20);
}

/* The analysis: churn frame -> Kaplan-Meier, and the monthly churn rate;
 * then the sBG retention value per plan. */
static int analysis(tn_store *s, double *median, size_t *nrates, tn_error *err)
{
	tn_churn_def def;
	tn_churn_def_default(&def);
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME};
	tn_frame *f = tn_churn_frame(s, &def, &fo, err);
	if (!f)
		return tn_error_code(err, TN_ERR_DB);
	int tc = tn_frame_find(f, "time"), ec = tn_frame_find(f, "event");
	assert_true(tc >= 0 && ec >= 0);
	tn_km *km = NULL;
	int rc = tn_km_fit(f->cols[tc].num, f->cols[ec].num, NULL, 0, f->nrows, 0.95, &km, err);
	if (!rc)
		*median = isnan(km->median) ? -1 : km->median; /* not reached: -1, so that the sum below compares */
	tn_km_free(km);
	tn_frame_free(f);
	if (rc)
		return rc;
	tn_churn_rate_row *rows = NULL;
	tn_churn_rate_opts ro = {.period_months = TN_PERIOD_MONTH, .as_of = TN_NO_TIME};
	rc = tn_churn_rate(s, &def, &ro, &rows, nrates, err);
	free(rows);
	if (rc)
		return rc;
	tn_value_retention_result *vr = NULL;
	rc = tn_value_retention(s, &def, TN_NO_TIME, 0.1, &vr, err);
	if (!rc) { /* part of the answer compared below: every fitted number */
		*nrates += 1000 * vr->nplans + 100000 * vr->nlive;
		for (size_t p = 0; p < vr->nplans; p++)
			*median += (isnan(vr->plans[p].alpha) ? 0 : vr->plans[p].alpha) +
				   (isnan(vr->plans[p].elv) ? 0 : vr->plans[p].elv);
		for (size_t c = 0; c < vr->ncohorts; c++)
			*median += isnan(vr->cohorts[c].alpha) ? 0.5 : vr->cohorts[c].alpha;
	}
	tn_value_retention_free(vr);
	return rc;
}

static void walk_analysis(int persist)
{
	const char *db = dbfile;
	tn_store *s;
	tn_error err = {0};
	if (rows_in(db, "customers") != 4)
		import_all(persist);
	assert_int_equal(tn_store_open(db, TN_STORE_READONLY, &s, &err), TN_OK);
	double want_median = NAN;
	size_t want_rates = 0;
	assert_int_equal(analysis(s, &want_median, &want_rates, &err), TN_OK);
	assert_true(want_rates > 1000); /* rates and at least one plan valued */
	long n;
	for (n = 1;; n++) {
		double median = NAN;
		size_t nrates = 0;
		tn_error_clear(&err);
		tn_alloc_fail_at(n, persist);
		int rc = analysis(s, &median, &nrates, &err);
		long failed = tn_alloc_failures();
		tn_alloc_fail_at(0, 0);
		if (!failed) {
			assert_int_equal(rc, TN_OK);
			/* the same answer as without any injection */
			/* relative 1e-9: the tiny store's sBG fits sit at a boundary (alpha ~ 1e15), where
			 * the optimiser's last bits are not reproducible */
			if (!(fabs(median - want_median) <= 1e-9 * fabs(want_median)))
				fail_msg("the answer after the walk: %.17g, expected %.17g", median, want_median);
			assert_int_equal(nrates, want_rates);
			break;
		}
		if (rc != TN_ERR_NOMEM)
			fail_msg("analysis, allocation %ld failed (%s): status %d (%s), expected out of memory", n,
				 persist ? "persistent" : "transient", rc, err.msg);
		assert_true(err.msg[0] != '\0');
	}
	tn_store_close(s);
	analysis_points[persist] = n - 1;
}

static void test_analysis_transient(void **state)
{
	(void)state;
	walk_analysis(0);
	print_message("analysis: %ld allocation failure points walked (transient)\n", analysis_points[0]);
	assert_true(analysis_points[0] > 10);
}

static void test_analysis_persistent(void **state)
{
	(void)state;
	walk_analysis(1);
	print_message("analysis: %ld allocation failure points walked (persistent)\n", analysis_points[1]);
	assert_true(analysis_points[1] > 10);
}

/* SQLite's own allocations stay SQLite's, but their failure must surface:
 * with a hard heap limit just above what SQLite holds now, raised step by
 * step, the analysis fails with a store error until it has room -- never a
 * short answer with TN_OK. */
static void test_sqlite_out_of_memory_surfaces(void **state)
{
	(void)state;
	const char *db = dbfile;
	if (rows_in(db, "customers") != 4)
		import_all(0);
	tn_store *s;
	tn_error err = {0};
	assert_int_equal(tn_store_open(db, TN_STORE_READONLY, &s, &err), TN_OK);
	double want_median = NAN;
	size_t want_rates = 0;
	assert_int_equal(analysis(s, &want_median, &want_rates, &err), TN_OK);
	long failures = 0;
	for (sqlite3_int64 extra = 0;; extra += 4096) {
		sqlite3_db_release_memory(tn_store_sqlite(s));
		sqlite3_hard_heap_limit64(sqlite3_memory_used() + extra);
		double median = NAN;
		size_t nrates = 0;
		tn_error_clear(&err);
		int rc = analysis(s, &median, &nrates, &err);
		sqlite3_hard_heap_limit64(0);
		if (rc == TN_OK) {
			/* relative 1e-9: the tiny store's sBG fits sit at a boundary (alpha ~ 1e15), where
			 * the optimiser's last bits are not reproducible */
			if (!(fabs(median - want_median) <= 1e-9 * fabs(want_median)))
				fail_msg("the answer after the walk: %.17g, expected %.17g", median, want_median);
			assert_int_equal(nrates, want_rates);
			break;
		}
		failures++;
		if (rc != TN_ERR_DB && rc != TN_ERR_NOMEM)
			fail_msg("analysis with SQLite's heap limited to %lld more bytes: status %d (%s)", (long long)extra,
				 rc, err.msg);
		assert_true(err.msg[0] != '\0');
		assert_true(extra < 64 << 20);
	}
	print_message("SQLite out of memory: %ld heap limits failed cleanly before the analysis ran\n", failures);
	assert_true(failures > 0);
	tn_store_close(s);
}

/* The demo generator: a small company written in one transaction, then the
 * milestones and loyalty points it seeds (their own transactions, after the
 * company's commit).  Each failure gives out-of-memory; the company is in
 * the store whole or not at all. */
static long demo_points[2];

static void walk_demo(int persist)
{
	char db[160];
	snprintf(db, sizeof db, "%s/demo.db", dir);
	/* the company's rows when written in full */
	long long full[5];
	{
		unlink(db);
		tn_store *s;
		tn_error err = {0};
		assert_int_equal(tn_store_open(db, TN_STORE_CREATE, &s, &err), TN_OK);
		tn_demo_opts o = {.customers = 3, .months = 2, .seed = 7, .end = 1719705600};
		tn_demo_result res;
		assert_int_equal(tn_demo_generate(s, &o, &res, &err), TN_OK);
		tn_store_close(s);
		static const char *const t5[] = {"customers", "subscriptions", "events", "payments", "feedback"};
		for (int t = 0; t < 5; t++)
			full[t] = rows_in(db, t5[t]);
	}
	long n;
	for (n = 1;; n++) {
		unlink(db);
		tn_store *s;
		tn_error err = {0};
		assert_int_equal(tn_store_open(db, TN_STORE_CREATE, &s, &err), TN_OK);
		tn_demo_opts o = {.customers = 3, .months = 2, .seed = 7, .end = 1719705600};
		tn_demo_result res;
		tn_alloc_fail_at(n, persist);
		int rc = tn_demo_generate(s, &o, &res, &err);
		long failed = tn_alloc_failures();
		tn_alloc_fail_at(0, 0);
		tn_store_close(s);
		if (!failed) {
			if (rc != TN_OK)
				fail_msg("demo without an injected failure: %s", err.msg);
			assert_int_equal(rows_in(db, "customers"), 3);
			break;
		}
		if (rc != TN_ERR_NOMEM)
			fail_msg("demo, allocation %ld failed (%s): status %d (%s), expected out of memory", n,
				 persist ? "persistent" : "transient", rc, err.msg);
		assert_true(err.msg[0] != '\0');
		static const char *const demo_tables[] = {"customers", "subscriptions", "events", "payments",
							  "feedback"};
		long long nc = rows_in(db, "customers");
		if (nc != 0 && nc != 3)
			fail_msg("demo, allocation %ld failed: %lld of 3 customers written", n, nc);
		for (size_t t = 0; t < sizeof demo_tables / sizeof *demo_tables; t++)
			if (nc == 0 ? rows_in(db, demo_tables[t]) != 0 : rows_in(db, demo_tables[t]) != full[t])
				fail_msg("demo, allocation %ld failed: %s has %lld rows", n, demo_tables[t],
					 rows_in(db, demo_tables[t]));
	}
	unlink(db);
	demo_points[persist] = n - 1;
}

static void test_demo_transient(void **state)
{
	(void)state;
	walk_demo(0);
	print_message("demo: %ld allocation failure points walked (transient)\n", demo_points[0]);
	assert_true(demo_points[0] > 20);
}

static void test_demo_persistent(void **state)
{
	(void)state;
	walk_demo(1);
	print_message("demo: %ld allocation failure points walked (persistent)\n", demo_points[1]);
	assert_true(demo_points[1] > 20);
}

/* The hook itself: the N-th allocation fails, the ones before do not. */
static void test_hook(void **state)
{
	(void)state;
	tn_alloc_fail_at(3, 0);
	void *a = tn_malloc(8), *b = tn_strdup("x"), *c = tn_calloc(2, 4), *d = tn_realloc(NULL, 4);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(c);
	assert_non_null(d);
	assert_int_equal(tn_alloc_failures(), 1);
	tn_alloc_fail_at(1, 1);
	assert_null(tn_malloc(1));
	assert_null(tn_strdup("y"));
	assert_int_equal(tn_alloc_failures(), 2);
	tn_alloc_fail_at(0, 0);
	void *e = tn_malloc(1);
	assert_non_null(e);
	free(a);
	free(b);
	free(d);
	free(e);
}

int main(void)
{
	/* SQLite's heap limit (test_sqlite_out_of_memory_surfaces) counts with its
	 * memory statistics, which tn_store_open turns off for speed unless SQLite
	 * is already initialised: turn them on first, as an embedding program may. */
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1) != SQLITE_OK || sqlite3_initialize() != SQLITE_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook),
		cmocka_unit_test(test_import_transient),
		cmocka_unit_test(test_import_persistent),
		cmocka_unit_test(test_analysis_transient),
		cmocka_unit_test(test_analysis_persistent),
		cmocka_unit_test(test_sqlite_out_of_memory_surfaces),
		cmocka_unit_test(test_demo_transient),
		cmocka_unit_test(test_demo_persistent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
