/* test_store_m23.c -- migration 23 (src/store/store_schema.c): the events
 * journal's tables are indexed by generation, (id >> 16, customer_id,
 * occurred_at), instead of (customer_id, occurred_at).  A store at the
 * version before, with rows in both journal tables (a server killed before
 * its fold), must come out with the new indexes, no old one, and every
 * journaled row seen once: through a live connection's view (per customer,
 * through the new index) and after the fold a writable open makes. */
#include "store_util.h"

/* A store as the version before migration 23 left it: customers 1-3, two
 * events in events, journal rows in two generations of events_journal
 * (ids 1-3 and 70,000-70,001) and in events_journal_b, one of them also in
 * events (kept once by the fold) */
static void make_old_store(const char *path)
{
	sqlite3 *db = old_store_open(path, migration_index("events_journal_gen"));
	exec_ok(db, "INSERT INTO customers(id, ext_id) VALUES (1,'a'),(2,'b'),(3,'c');"
		    "INSERT INTO event_types(id, name) VALUES (1,'session');"
		    "INSERT INTO events(customer_id, occurred_at, type_id, ext_id, amount) VALUES (1,10,1,'e1',NULL),"
		    "  (2,11,1,'e2',2.5);"
		    "INSERT INTO events_journal(id, customer_id, occurred_at, type_id, ext_id, amount) VALUES"
		    "  (1,1,20,1,'j1',NULL),(2,2,21,1,'j2',1.0),(3,3,22,1,'j3',NULL),"
		    "  (70000,1,23,1,'j4',NULL),(70001,2,11,1,'e2',2.5);"
		    "INSERT INTO events_journal_b(id, customer_id, occurred_at, type_id, ext_id, amount) VALUES"
		    "  (1,3,30,1,'k1',NULL),(2,1,31,1,'k2',4.0);");
	/* the old indexes are there (else this test would prove nothing) */
	assert_int_equal(sql_count(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('events_journal_customer',"
				       "'events_journal_b_customer')"),
			 2);
	sqlite3_close(db);
}

static const char NEW_INDEXES[] = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
				  "name IN ('events_journal_gen', 'events_journal_b_gen') AND sql LIKE '%id >> 16%'";
static const char OLD_INDEXES[] = "SELECT count(*) FROM sqlite_schema WHERE name IN "
				  "('events_journal_customer', 'events_journal_b_customer')";

static void test_live_then_fold(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof path, "/tmp/tenure_m23_%ld.db", (long)getpid());
	make_old_store(path);
	/* a live open migrates and reads through the view without folding */
	tn_error err = {0};
	tn_store *live = NULL;
	if (tn_store_open(path, TN_STORE_LIVE, &live, &err))
		fail_msg("open: %s", err.msg);
	assert_int_equal(store_count(live, "SELECT count(*) FROM main.events_journal"), 5);
	assert_int_equal(store_count(live, "SELECT count(*) FROM events"), 9); /* e2 twice until the fold */
	assert_int_equal(store_count(live, "SELECT count(*) FROM events WHERE customer_id = 1"), 4);
	assert_int_equal(store_count(live, "SELECT count(*) FROM events WHERE customer_id = 3"), 2);
	assert_int_equal(store_count(live, NEW_INDEXES), 2);
	assert_int_equal(store_count(live, OLD_INDEXES), 0);
	tn_store_close(live);
	/* a writable open folds: every row once */
	tn_store *s = NULL;
	if (tn_store_open(path, 0, &s, &err))
		fail_msg("open: %s", err.msg);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events_journal_b"), 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events"), 8);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events WHERE customer_id = 2 AND amount = 2.5"), 1);
	tn_store_close(s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sql_count(db, "PRAGMA user_version"), tn_store_schema_latest());
	assert_int_equal(sql_count(db, NEW_INDEXES), 2);
	sqlite3_close(db);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_then_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
