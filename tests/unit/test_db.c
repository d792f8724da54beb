/*
 * test_db.c -- the SQL interface under the store (src/store/db.h) and the
 * subscription state it writes (src/store/store_state.c): binds and columns
 * round-trip, NULLs are NULL, errors are errors (never the end of the rows),
 * cached statements are reused, a state is added / unchanged / updated, and
 * the data version counter moves on another connection's commit only, and a
 * memory-mapped scanning connection reads what others commit, through a
 * checkpoint and a VACUUM that shrinks the file.
 */
#include "testutil.h"

#include <pthread.h>
#include <unistd.h>

#include "store/db.h"
#include "tenure.h"

static tn_store *open_temp(char *path, size_t n)
{
	snprintf(path, n, "/tmp/tenure-test-db-%ld.db", (long)getpid());
	unlink(path);
	tn_store *s = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	return s;
}

static void test_roundtrip(void **state)
{
	(void)state;
	char path[256];
	tn_store *s = open_temp(path, sizeof path);
	tn_error err = {0};
	assert_int_equal(tn_store_exec(s, "CREATE TABLE t(i INTEGER, d REAL, x TEXT, b BLOB, w INTEGER)", &err),
			 TN_OK);
	tn_stmt *ins = tn_db_prepare(s, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", &err);
	assert_non_null(ins);
	assert_int_equal(tn_db_bind_int64(ins, 1, INT64_C(-9007199254740993)), TN_OK);
	assert_int_equal(tn_db_bind_double(ins, 2, 0.1), TN_OK);
	assert_int_equal(tn_db_bind_text(ins, 3, "مرحبا"), TN_OK);
	assert_int_equal(tn_db_bind_blob(ins, 4, "\0\1\2", 3), TN_OK);
	assert_int_equal(tn_db_bind_time(ins, 5, TN_NO_TIME), TN_OK);
	assert_int_equal(tn_db_step(ins, "inserting", &err), TN_DB_DONE);
	assert_int_equal(tn_db_changes(s), 1);
	tn_db_reset(ins);
	/* a reset clears the bindings: everything NULL, NaN binds NULL too */
	assert_int_equal(tn_db_bind_double(ins, 2, NAN), TN_OK);
	assert_int_equal(tn_db_step(ins, "inserting", &err), TN_DB_DONE);
	tn_db_finalize(ins);

	tn_stmt *q = tn_db_prepare(s, "SELECT i, d, x, b, w FROM t ORDER BY rowid", &err);
	assert_non_null(q);
	assert_int_equal(tn_db_column_count(q), 5);
	assert_int_equal(tn_db_step(q, "reading", &err), TN_DB_ROW);
	assert_true(tn_db_column_int64(q, 0) == INT64_C(-9007199254740993));
	assert_true(tn_db_column_double(q, 1) == 0.1);
	assert_string_equal(tn_db_column_text(q, 2), "مرحبا");
	assert_int_equal(tn_db_column_bytes(q, 3), 3);
	assert_memory_equal(tn_db_column_blob(q, 3), "\0\1\2", 3);
	assert_true(tn_db_column_is_null(q, 4));
	assert_true(tn_db_column_time(q, 4) == TN_NO_TIME);
	assert_int_equal(tn_db_step(q, "reading", &err), TN_DB_ROW);
	for (int i = 0; i < 5; i++)
		assert_true(tn_db_column_is_null(q, i));
	assert_true(isnan(tn_db_column_double(q, 1)));
	assert_null(tn_db_column_text(q, 2));
	assert_int_equal(tn_db_step(q, "reading", &err), TN_DB_DONE);
	tn_db_finalize(q);

	/* one row expected, none there: an error, not a silent zero */
	q = tn_db_prepare(s, "SELECT i FROM t WHERE i = 42", &err);
	assert_int_equal(tn_db_step_row(q, "reading the answer", &err), TN_ERR_DB);
	assert_non_null(strstr(err.msg, "reading the answer"));
	tn_db_finalize(q);

	/* bad SQL: NULL with the engine's words; a runtime failure is an error code */
	tn_error_clear(&err);
	assert_null(tn_db_prepare(s, "SELEC nonsense", &err));
	assert_int_equal(err.code, TN_ERR_DB);
	tn_stmt *fine = tn_db_prepare(s, "SELECT 1", NULL); /* err may be NULL */
	assert_non_null(fine);
	tn_db_finalize(fine);
	tn_error_clear(&err);
	assert_int_equal(tn_store_exec(s, "CREATE TABLE u(k INTEGER PRIMARY KEY)", &err), TN_OK);
	tn_stmt *dup = tn_db_prepare(s, "INSERT INTO u VALUES (1), (1)", &err);
	int rc = tn_db_step(dup, "inserting twice", &err);
	assert_int_equal(rc, TN_ERR_DB);
	assert_non_null(strstr(err.msg, "inserting twice"));
	tn_db_finalize(dup);

	/* cached: the same statement for the same SQL text, kept until close */
	static const char SQL[] = "SELECT count(*) FROM t";
	tn_stmt *c1 = tn_db_cached(s, SQL, NULL);
	tn_stmt *c2 = tn_db_cached(s, SQL, NULL);
	assert_non_null(c1);
	assert_ptr_equal(c1, c2);
	assert_int_equal(tn_db_step_row(c1, "counting", NULL), TN_OK);
	assert_int_equal(tn_db_column_int64(c1, 0), 2);
	tn_db_finalize(c1); /* only resets a cached statement */
	assert_int_equal(tn_db_step_row(c1, "counting", NULL), TN_OK);
	tn_db_reset(c1);
	assert_int_equal(tn_db_engine(s), TN_DB_SQLITE);
	tn_store_close(s);
	unlink(path);
}

static void test_subscription_state(void **state)
{
	(void)state;
	char path[256];
	tn_store *s = open_temp(path, sizeof path);
	tn_error err = {0};
	int out = -1;
	tn_customer_rec c = {.id = "c1", .signed_up_at = TN_NO_TIME};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	assert_int_equal(tn_store_put_customer(s, &c, &out, &err), TN_OK);
	tn_subscription_rec sub = {.id = "s1", .customer = "c1", .plan = "pro", .billing_period = "month",
				   .price = 9.99, .currency = "USD", .started_at = 1700000000,
				   .trial_ends_at = TN_NO_TIME, .current_period_end = TN_NO_TIME,
				   .cancelled_at = TN_NO_TIME, .status = "active"};
	assert_int_equal(tn_store_put_subscription(s, &sub, &out, &err), TN_OK);

	tn_subscription_state st = {.subscription = "s1", .source = "appstore", .state = "cancelling",
				    .auto_renew = 0, .expires_at = 1702592000, .auto_renew_off_at = 1701000000,
				    .updated_at = 1701000000};
	int prc = tn_store_put_subscription_state(s, &st, &out, &err);
	if (prc) fail_msg("%s", err.msg);
	assert_int_equal(out, TN_PUT_ADDED);
	st.updated_at = 1701000500; /* the same state said again */
	assert_int_equal(tn_store_put_subscription_state(s, &st, &out, &err), TN_OK);
	assert_int_equal(out, TN_PUT_UNCHANGED);
	st.state = "expired";
	st.cause = "voluntary";
	assert_int_equal(tn_store_put_subscription_state(s, &st, &out, &err), TN_OK);
	assert_int_equal(out, TN_PUT_UPDATED);

	tn_stmt *q = tn_db_prepare(s, "SELECT state, cause, auto_renew, updated_at FROM subscription_state", &err);
	assert_int_equal(tn_db_step(q, "reading", &err), TN_DB_ROW);
	assert_string_equal(tn_db_column_text(q, 0), "expired");
	assert_string_equal(tn_db_column_text(q, 1), "voluntary");
	assert_int_equal(tn_db_column_int64(q, 2), 0);
	assert_true(tn_db_column_time(q, 3) == 1701000500);
	assert_int_equal(tn_db_step(q, "reading", &err), TN_DB_DONE);
	tn_db_finalize(q);

	st.subscription = "nope";
	assert_int_equal(tn_store_put_subscription_state(s, &st, &out, NULL), TN_ERR_NOTFOUND);
	st.subscription = "s1";
	st.state = "gone";
	assert_int_equal(tn_store_put_subscription_state(s, &st, &out, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "gone"));
	st.state = "expired";
	st.cause = "boredom";
	assert_int_equal(tn_store_put_subscription_state(s, &st, &out, NULL), TN_ERR_INPUT);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	tn_store_close(s);
	unlink(path);
}

/* The dashboard's warming threads read the data version again only when
 * this counter moves (src/web/web_data.c): it must move on another
 * connection's commit, and only then. */
static void test_data_version(void **state)
{
	(void)state;
	char path[256];
	tn_store *a = open_temp(path, sizeof path);
	tn_store *b = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, 0, &b, &err), TN_OK);
	long long v0 = tn_db_data_version(a);
	assert_true(v0 != -1);
	assert_true(tn_db_data_version(a) == v0); /* nothing committed: the same */
	assert_int_equal(tn_store_exec(b, "CREATE TABLE dv(i INTEGER)", &err), TN_OK);
	long long v1 = tn_db_data_version(a);
	assert_true(v1 != v0); /* another connection committed */
	assert_int_equal(tn_store_exec(a, "INSERT INTO dv VALUES (1)", &err), TN_OK);
	assert_true(tn_db_data_version(a) == v1); /* its own commit: not another's */
	assert_int_equal(tn_store_exec(b, "INSERT INTO dv VALUES (2)", &err), TN_OK);
	assert_true(tn_db_data_version(a) != v1);
	tn_store_close(b);
	tn_store_close(a);
	unlink(path);
}

static long long one_int(tn_store *s, const char *sql)
{
	tn_error err = {0};
	tn_stmt *st = tn_db_prepare(s, sql, &err);
	assert_non_null(st);
	assert_int_equal(tn_db_step(st, "reading", &err), TN_DB_ROW);
	long long v = tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	return v;
}

/* The dashboard's warming connections read the file through a memory map
 * (tn_store_scan_mmap); the HTTP readers do not.  The mapped connection must
 * see every commit of another connection, also once checkpointed into the
 * file and after a VACUUM made the file shorter than the mapping. */
/* tn_db_cancel_get hands the calling thread's check to a helper thread (the
 * dashboard's scoring, web_pages.c): with it installed, the helper's
 * statements are cancelled when the check says so; without it, not. */
static int always(void *ud) { return *(int *)ud; }
typedef struct helper {
	int (*check)(void *);
	void *ud;
	int install, cancelled, stepped;
} helper;
static void *helper_run(void *arg)
{
	helper *h = arg;
	h->stepped = -1;
	char path[] = "/tmp/tenure_db_cancel_XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	remove(path);
	tn_store *s = NULL;
	tn_error err = {0};
	if (tn_store_open(path, TN_STORE_CREATE, &s, &err) == TN_OK) {
		if (h->install)
			tn_db_cancel_set(h->check, h->ud);
		h->cancelled = tn_db_cancelled();
		tn_stmt *st = tn_db_prepare(s, "SELECT 1", &err);
		h->stepped = st && tn_db_step(st, "one row", &err) == TN_DB_ROW;
		tn_db_finalize(st);
		tn_store_close(s);
	}
	remove(path);
	tn_db_cancel_set(NULL, NULL);
	return NULL;
}
static void test_cancel_get(void **state)
{
	(void)state;
	int on = 1;
	tn_db_cancel_set(always, &on);
	helper h = {0};
	tn_db_cancel_get(&h.check, &h.ud);
	assert_ptr_equal(h.check, always);
	assert_ptr_equal(h.ud, &on);
	tn_db_cancel_set(NULL, NULL);
	for (int install = 0; install < 2; install++) {
		h.install = install;
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, helper_run, &h), 0);
		pthread_join(th, NULL);
		assert_int_equal(h.cancelled, install);
		assert_int_equal(h.stepped, !install);
	}
	int (*none)(void *) = always;
	void *ud = &on;
	tn_db_cancel_get(&none, &ud); /* this thread's: none installed */
	assert_true(none == NULL);
	assert_null(ud);
}

static void test_scan_mmap(void **state)
{
	(void)state;
	char path[256];
	tn_store *w = open_temp(path, sizeof path);
	tn_store *m = NULL, *r = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_wal(w, &err), TN_OK);
	assert_int_equal(tn_store_exec(w, "CREATE TABLE big(i INTEGER PRIMARY KEY, pad TEXT)", &err), TN_OK);
	assert_int_equal(tn_store_open(path, 0, &m, &err), TN_OK);
	assert_int_equal(tn_store_open(path, 0, &r, &err), TN_OK);
	assert_int_equal(tn_store_reader(r, &err), TN_OK);
	tn_store_scan_mmap(m);
	assert_true(one_int(m, "PRAGMA mmap_size") > 0);
	assert_true(one_int(r, "PRAGMA mmap_size") == 0);
	assert_true(one_int(m, "SELECT count(*) FROM big") == 0);
	/* ~4 MB of rows, then into the file itself */
	assert_int_equal(tn_store_exec(w,
				       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
				       "INSERT INTO big SELECT i, printf('%0200d', i) FROM n",
				       &err),
			 TN_OK);
	assert_true(one_int(m, "SELECT count(*) FROM big") == 20000);
	assert_int_equal(tn_store_exec(w, "PRAGMA wal_checkpoint(TRUNCATE)", &err), TN_OK);
	assert_true(one_int(m, "SELECT sum(i) FROM big WHERE pad LIKE '%9'") == 20008000);
	assert_true(one_int(m, "SELECT sum(length(pad)) FROM big") == 4000000);
	/* the file shrinks under the mapping */
	assert_int_equal(tn_store_exec(w, "DELETE FROM big WHERE i > 10", &err), TN_OK);
	assert_int_equal(tn_store_exec(w, "VACUUM", &err), TN_OK);
	assert_true(one_int(m, "SELECT count(*) FROM big") == 10);
	assert_true(one_int(m, "SELECT sum(i) FROM big") == 55);
	tn_store_close(r);
	tn_store_close(m);
	tn_store_close(w);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_subscription_state),
		cmocka_unit_test(test_data_version),
		cmocka_unit_test(test_scan_mmap),
		cmocka_unit_test(test_cancel_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
