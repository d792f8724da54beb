/* test_store_m21.c -- migration 21 (src/store/store_schema.c): the tables a
 * source notification writes are rebuilt with their enumeration checks in
 * OR form (SQLite builds a temporary B-tree for an IN list on every row
 * written).  The rebuilt tables must refuse and accept exactly what they
 * did, and a store at the version before keeps its rows, columns, indexes
 * and foreign keys. */
#include "store_util.h"

static const char *const TABLES[] = {"subscriptions", "subscription_state", "source_subscriptions", "payments",
				     "source_notifications"};
#define NTABLES (sizeof TABLES / sizeof TABLES[0])

/* A store as the version before migration 21 left it, with rows in every
 * rebuilt table (and their parents) */
static void make_old_store(const char *path)
{
	sqlite3 *db = old_store_open(path, migration_index("subscriptions_m21"));
	exec_ok(db, "PRAGMA foreign_keys = ON;"
		    "INSERT INTO customers(id, ext_id) VALUES (1,'a'),(2,'b'),(3,'c');"
		    "INSERT INTO sources(id, kind, name, config, created_at) VALUES (1,'stripe','s','{}',10),"
		    "  (2,'appstore','a','{}',11);"
		    "INSERT INTO subscriptions(id, customer_id, ext_id, plan, billing_period, price, currency, started_at,"
		    "  trial_ends_at, current_period_end, cancelled_at, cancel_reason, status) VALUES"
		    "  (1,1,'sub_1','pro','month',9.5,'usd',100,NULL,200,NULL,NULL,'active'),"
		    "  (2,1,NULL,'basic','year',0,'eur',101,150,NULL,300,'too expensive','cancelled'),"
		    "  (3,2,'appstore:77','pro','week',1.25,'usd',102,NULL,NULL,NULL,NULL,'trialing'),"
		    "  (7,3,'sub_7','pro','quarter',30,'usd',103,NULL,NULL,NULL,NULL,'past_due'),"
		    "  (9,3,'sub_9','x','day',1,'usd',104,NULL,NULL,NULL,NULL,'expired');"
		    "INSERT INTO subscription_state VALUES (1,'stripe','active',NULL,1,200,NULL,150),"
		    "  (3,'appstore','cancelling',NULL,0,300,250,260),(9,'import','expired','billing',NULL,NULL,NULL,400);"
		    "INSERT INTO source_subscriptions VALUES (1,'stripe',150,NULL),(3,'appstore',260,'voluntary');"
		    "INSERT INTO payments(id, customer_id, paid_at, amount, currency, status, ext_id) VALUES"
		    "  (1,1,100,9.5,'usd','succeeded','in_1'),(2,1,130,9.5,'usd','failed','in_2'),"
		    "  (5,2,140,-9.5,'usd','refunded',''),(6,3,141,1e-3,'usd','succeeded','');"
		    "INSERT INTO source_notifications VALUES (1,1,'stripe','evt_1','invoice.paid',150,149,'cus_1','sub_1',"
		    "  'applied','{\"id\":\"evt_1\"}'),(2,2,'appstore','uuid-2','DID_RENEW',260,255,NULL,'appstore:77',"
		    "  'stale','{}'),(4,NULL,'googleplay','m-4','TEST',270,NULL,NULL,NULL,'stored','x');");
	sqlite3_close(db);
}

/* every row of TABLE in key order, each value with its storage class */
static char *dump_table(sqlite3 *db, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", table);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	out[0] = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *v = (const char *)sqlite3_column_text(st, c);
			size_t need = len + (v ? strlen(v) : 0) + 16;
			if (need > cap) {
				cap = need * 2;
				out = realloc(out, cap);
				assert_non_null(out);
			}
			len += (size_t)sprintf(out + len, "%d:%s%c", sqlite3_column_type(st, c), v ? v : "",
					       c + 1 < sqlite3_column_count(st) ? ',' : '\n');
		}
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	return out;
}

/* what one query gives, as text lines (table_info, index lists) */
static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	size_t cap = 8192, len = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const char *v = (const char *)sqlite3_column_text(st, c);
			size_t need = len + (v ? strlen(v) : 0) + 4;
			if (need > cap) {
				cap = need * 2;
				out = realloc(out, cap);
				assert_non_null(out);
			}
			len += (size_t)sprintf(out + len, "%s%c", v ? v : "NULL", c + 1 < sqlite3_column_count(st) ? '|' : '\n');
		}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	return out;
}

#define SCHEMA_INDEXES                                                                                               \
	"SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('subscriptions',"        \
	"'subscription_state','source_subscriptions','payments','source_notifications') ORDER BY name"

static void test_rows_and_indexes_carried(void **state)
{
	(void)state;
	char path[64];
	temp_path(path, sizeof path, "tenure_m21");
	make_old_store(path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *before[NTABLES], *cols[NTABLES], *fks[NTABLES];
	for (size_t i = 0; i < NTABLES; i++) {
		before[i] = dump_table(db, TABLES[i]);
		char q[128];
		snprintf(q, sizeof q, "PRAGMA table_info(%s)", TABLES[i]);
		cols[i] = query_text(db, q);
		snprintf(q, sizeof q, "PRAGMA foreign_key_list(%s)", TABLES[i]);
		fks[i] = query_text(db, q);
	}
	char *idx_before = query_text(db, SCHEMA_INDEXES);
	/* the old tables carry IN lists (else this test would prove nothing) */
	char *old_sql = query_text(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'payments'");
	assert_non_null(strstr(old_sql, " IN ("));
	free(old_sql);
	sqlite3_close(db);

	tn_error err = {0};
	tn_store *s;
	assert_int_equal(tn_store_open(path, 0, &s, &err), TN_OK);
	tn_store_close(s);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *v = query_text(db, "PRAGMA user_version");
	char want[32];
	snprintf(want, sizeof want, "%d\n", tn_store_schema_latest());
	assert_string_equal(v, want);
	free(v);
	for (size_t i = 0; i < NTABLES; i++) {
		char *after = dump_table(db, TABLES[i]);
		assert_true(strlen(before[i]) > 0);
		assert_string_equal(after, before[i]);
		free(after);
		char q[160];
		snprintf(q, sizeof q, "PRAGMA table_info(%s)", TABLES[i]);
		after = query_text(db, q);
		assert_string_equal(after, cols[i]);
		free(after);
		snprintf(q, sizeof q, "PRAGMA foreign_key_list(%s)", TABLES[i]);
		after = query_text(db, q);
		assert_string_equal(after, fks[i]);
		free(after);
		/* the checks are in OR form now: no IN list left in the table */
		snprintf(q, sizeof q, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = '%s'", TABLES[i]);
		after = query_text(db, q);
		assert_null(strstr(after, " IN ("));
		assert_non_null(strstr(after, " OR "));
		free(after);
		free(before[i]);
		free(cols[i]);
		free(fks[i]);
	}
	char *idx_after = query_text(db, SCHEMA_INDEXES);
	assert_string_equal(idx_after, idx_before);
	free(idx_after);
	free(idx_before);
	/* no helper table left behind; keys and the file sound */
	char *left = query_text(db, "SELECT name FROM sqlite_schema WHERE name LIKE '%m21%'");
	assert_string_equal(left, "");
	free(left);
	char *fk = query_text(db, "PRAGMA foreign_key_check");
	assert_string_equal(fk, "");
	free(fk);
	char *ic = query_text(db, "PRAGMA integrity_check");
	assert_string_equal(ic, "ok\n");
	free(ic);
	sqlite3_close(db);
	unlink(path);
}

/* One attempt per (statement, value): the statement with %s replaced by the
 * value's SQL literal, in a savepoint rolled back after. */
typedef struct attempt {
	const char *sql;           /* with one %s */
	const char *const *values; /* SQL literals, NULL-ended */
} attempt;

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})

static const attempt ATTEMPTS[] = {
	{"INSERT INTO subscriptions(customer_id, plan, billing_period, price, currency, started_at, status)"
	 " VALUES (1, 'n', %s, 1, 'usd', 900, 'active')",
	 V("'day'", "'week'", "'month'", "'quarter'", "'year'", "'Month'", "'months'", "''", "NULL", "1")},
	{"INSERT INTO subscriptions(customer_id, plan, billing_period, price, currency, started_at, status)"
	 " VALUES (1, 'n', 'month', 1, 'usd', 900, %s)",
	 V("'trialing'", "'active'", "'past_due'", "'cancelled'", "'expired'", "'canceled'", "'ACTIVE'", "NULL")},
	{"UPDATE subscriptions SET status = %s WHERE id = 1",
	 V("'trialing'", "'active'", "'past_due'", "'cancelled'", "'expired'", "'paused'", "NULL")},
	{"UPDATE subscriptions SET billing_period = %s WHERE id = 2", V("'week'", "'fortnight'", "NULL")},
	{"INSERT INTO subscription_state(subscription_id, source, state, cause, auto_renew, updated_at)"
	 " VALUES (2, %s, 'active', NULL, 1, 0)",
	 V("'import'", "'appstore'", "'googleplay'", "'stripe'", "'revenuecat'", "'paddle'", "NULL")},
	{"INSERT INTO subscription_state(subscription_id, source, state, cause, auto_renew, updated_at)"
	 " VALUES (2, 'stripe', %s, NULL, 1, 0)",
	 V("'trial'", "'active'", "'cancelling'", "'grace'", "'billing_retry'", "'paused'", "'expired'", "'refunded'",
	   "'trialing'", "' active'", "NULL")},
	{"INSERT INTO subscription_state(subscription_id, source, state, cause, auto_renew, updated_at)"
	 " VALUES (2, 'stripe', 'expired', %s, 0, 0)",
	 V("'voluntary'", "'billing'", "'price_increase'", "'refund'", "'revoked'", "'product_unavailable'", "'other'",
	   "'involuntary'", "NULL")},
	{"INSERT INTO subscription_state(subscription_id, source, state, cause, auto_renew, updated_at)"
	 " VALUES (2, 'stripe', 'active', NULL, %s, 0)",
	 V("0", "1", "2", "-1", "NULL", "'1'", "'0'", "1.0", "0.5", "'yes'", "x'01'")},
	{"UPDATE subscription_state SET state = %s WHERE subscription_id = 1", V("'grace'", "'gone'", "NULL")},
	{"INSERT INTO subscription_state(subscription_id, source, state, updated_at) VALUES (%s, 'stripe', 'active', 0)",
	 V("2", "99")}, /* the foreign key still holds */
	{"INSERT INTO source_subscriptions(subscription_id, kind, last_event_at, pending_cause) VALUES (2, %s, 5, NULL)",
	 V("'appstore'", "'googleplay'", "'stripe'", "'revenuecat'", "'import'", "NULL")},
	{"INSERT INTO source_subscriptions(subscription_id, kind, last_event_at, pending_cause)"
	 " VALUES (2, 'stripe', 5, %s)",
	 V("'voluntary'", "'billing'", "'price_increase'", "'refund'", "'revoked'", "'product_unavailable'", "'other'",
	   "'late'", "NULL")},
	{"INSERT INTO source_subscriptions(subscription_id, kind, last_event_at) VALUES (%s, 'stripe', 5)", V("7", "98")},
	{"INSERT INTO payments(customer_id, paid_at, amount, currency, status, ext_id) VALUES (2, 999, 1, 'usd', %s, 'p')",
	 V("'succeeded'", "'failed'", "'refunded'", "'pending'", "'Succeeded'", "NULL")},
	{"UPDATE payments SET status = %s WHERE id = 1", V("'refunded'", "'void'", "NULL")},
	{"INSERT INTO payments(customer_id, paid_at, amount, currency, status) VALUES (%s, 999, 1, 'usd', 'failed')",
	 V("3", "42")},
	{"INSERT INTO source_notifications(source_id, kind, dedupe_key, type, received_at, outcome, body)"
	 " VALUES (1, %s, 'k', 't', 1, 'applied', '{}')",
	 V("'appstore'", "'googleplay'", "'stripe'", "'revenuecat'", "'paddle'", "NULL")},
	{"INSERT INTO source_notifications(source_id, kind, dedupe_key, type, received_at, outcome, body)"
	 " VALUES (1, 'stripe', 'k', 't', 1, %s, '{}')",
	 V("'applied'", "'stale'", "'stored'", "'duplicate'", "NULL")},
	{"INSERT INTO source_notifications(source_id, kind, dedupe_key, type, received_at, outcome, body)"
	 " VALUES (%s, 'stripe', 'k', 't', 1, 'applied', '{}')",
	 V("NULL", "2", "77")},
	{"INSERT INTO source_notifications(source_id, kind, dedupe_key, type, received_at, outcome, body)"
	 " VALUES (1, 'stripe', %s, 't', 1, 'applied', '{}')",
	 V("'evt_1'", "'evt_2'")}, /* the unique key still holds */
	{"UPDATE source_notifications SET outcome = %s WHERE id = 2", V("'applied'", "'lost'", "NULL")},
};

/* the result code of each attempt, in order */
static int run_attempts(sqlite3 *db, int *codes, int max)
{
	exec_ok(db, "PRAGMA foreign_keys = ON");
	int n = 0;
	for (size_t a = 0; a < sizeof ATTEMPTS / sizeof ATTEMPTS[0]; a++)
		for (const char *const *v = ATTEMPTS[a].values; *v; v++) {
			char sql[512];
			snprintf(sql, sizeof sql, ATTEMPTS[a].sql, *v);
			exec_ok(db, "SAVEPOINT t");
			int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
			if (rc != SQLITE_OK)
				rc = sqlite3_extended_errcode(db);
			exec_ok(db, "ROLLBACK TO t; RELEASE t");
			assert_true(n < max);
			codes[n++] = rc;
		}
	return n;
}

static void test_same_accepted_and_refused(void **state)
{
	(void)state;
	char old[64], new[64];
	temp_path(old, sizeof old, "tenure_m21_old");
	temp_path(new, sizeof new, "tenure_m21_new");
	make_old_store(old);
	make_old_store(new);
	tn_error err = {0};
	tn_store *s;
	assert_int_equal(tn_store_open(new, 0, &s, &err), TN_OK);
	tn_store_close(s);

	enum { MAX = 256 };
	int a[MAX], b[MAX];
	sqlite3 *db;
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	int na = run_attempts(db, a, MAX);
	sqlite3_close(db);
	assert_int_equal(sqlite3_open(new, &db), SQLITE_OK);
	int nb = run_attempts(db, b, MAX);
	sqlite3_close(db);
	assert_int_equal(na, nb);
	int accepted = 0, refused_check = 0, refused_other = 0;
	for (int i = 0; i < na; i++) {
		if (a[i] != b[i])
			fprintf(stderr, "attempt %d: before %d, after %d\n", i, a[i], b[i]);
		assert_int_equal(a[i], b[i]);
		accepted += a[i] == SQLITE_OK;
		refused_check += a[i] == SQLITE_CONSTRAINT_CHECK;
		refused_other += a[i] != SQLITE_OK && a[i] != SQLITE_CONSTRAINT_CHECK;
	}
	/* both outcomes occur: every allowed value (and a NULL in a nullable
	 * column) passes, every wrong one fails its check; NOT NULL, the
	 * foreign keys and the unique key still refuse too */
	assert_true(accepted >= 60);
	assert_true(refused_check >= 25);
	assert_true(refused_other >= 8);
	unlink(old);
	unlink(new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_and_indexes_carried),
		cmocka_unit_test(test_same_accepted_and_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
