/*
 * test_journal.c -- the events journal (migration 16, docs/data-model.md
 * "The events journal"): a journaling connection appends to events_journal
 * and skips events already in events or the journal; a live connection
 * (TN_STORE_LIVE) reads events through the journal; any other connection
 * folds the journal at open; a fold moves every row once, in one
 * transaction, keeping an event present in both places once; a store left
 * with journaled rows (a crash between commit and fold) is folded by the
 * next open; a read-only open reads through the journal without writing.
 */
#include "store_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include <sqlite3.h>
#include "tenure.h"

static char path[256];

static tn_store *open_flags(int flags)
{
	tn_store *s = NULL;
	tn_error err = {0};
	int rc = tn_store_open(path, flags, &s, &err);
	if (rc)
		fail_msg("open: %s", err.msg);
	return s;
}

/* a store with customers a and b, nothing else */
static void fresh(void)
{
	snprintf(path, sizeof path, "/tmp/tenure-test-journal-%ld.db", (long)getpid());
	unlink(path);
	tn_store *s = open_flags(TN_STORE_CREATE);
	tn_error err = {0};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	const char *ids[] = {"a", "b"};
	for (int i = 0; i < 2; i++) {
		tn_customer_rec c = {.id = ids[i], .signed_up_at = 1700000000};
		int outcome = 0;
		assert_int_equal(tn_store_put_customer(s, &c, &outcome, &err), TN_OK);
	}
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	tn_store_close(s);
}

/* write events (customer, at, id) on S in one transaction; returns added */
static long long put(tn_store *s, const char *customer, const tn_time *at, const char *const *id, int n)
{
	tn_error err = {0};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	for (int i = 0; i < n; i++) {
		tn_event_rec e = {.customer = customer, .at = at[i], .type = "session", .amount = NAN, .id = id[i]};
		if (tn_store_put_event(s, &e, &err))
			fail_msg("put: %s", err.msg);
	}
	long long added = -1;
	assert_int_equal(tn_store_flush(s, &added, &err), TN_OK);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	return added;
}

static tn_store *journaling(void)
{
	tn_store *w = open_flags(0);
	tn_error err = {0};
	assert_int_equal(tn_store_wal(w, &err), TN_OK);
	assert_int_equal(tn_store_journal(w, 1, &err), TN_OK);
	return w;
}

static void test_journal_then_fold_at_open(void **state)
{
	(void)state;
	fresh();
	tn_store *w = journaling();
	const tn_time at[] = {1700000100, 1700000200, 1700000300};
	const char *id[] = {"e1", "e2", "e3"};
	assert_int_equal(put(w, "a", at, id, 3), 3);
	assert_int_equal(tn_store_journal_rows(w), 3);
	/* appended to the journal, not to the clustered table */
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 3);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), 0);
	/* the journaling connection and a live one see all three */
	assert_int_equal(store_count(w, "SELECT count(*) FROM events"), 3);
	tn_store *live = open_flags(TN_STORE_LIVE);
	assert_int_equal(store_count(live, "SELECT count(*) FROM events"), 3);
	assert_int_equal(store_count(live, "SELECT count(*) FROM main.events_journal"), 3);
	tn_store_counts c;
	tn_error err = {0};
	assert_int_equal(tn_store_counts_get(live, &c, &err), TN_OK);
	assert_int_equal(c.events, 3);
	/* a plain open (a CLI command) folds first, then reads the table */
	tn_store *cli = open_flags(0);
	assert_int_equal(store_count(cli, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(store_count(cli, "SELECT count(*) FROM events"), 3);
	assert_int_equal(store_count(cli, "SELECT count(*) FROM main.events"), 3);
	/* the live connection still sees every event exactly once */
	assert_int_equal(store_count(live, "SELECT count(*) FROM events"), 3);
	tn_store_close(cli);
	tn_store_close(live);
	tn_store_close(w);
	unlink(path);
}

static void test_dedupe_across_journal_and_table(void **state)
{
	(void)state;
	fresh();
	/* e1 lands in the table through a plain connection (an import) */
	tn_store *imp = open_flags(0);
	const tn_time t1[] = {1700000100};
	const char *i1[] = {"e1"};
	assert_int_equal(put(imp, "a", t1, i1, 1), 1);
	tn_store *w = journaling();
	/* e1 again: in the table, so unchanged; e2 new; e2 twice in one batch */
	const tn_time t2[] = {1700000100, 1700000200, 1700000200};
	const char *i2[] = {"e1", "e2", "e2"};
	assert_int_equal(put(w, "a", t2, i2, 3), 1);
	/* e2 again: in the journal now, so unchanged */
	assert_int_equal(put(w, "a", t2 + 1, i2 + 1, 1), 0);
	/* the same id for another customer is another event */
	assert_int_equal(put(w, "b", t2 + 1, i2 + 1, 1), 1);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 2);
	/* an import of e2 while it is journaled does not write it twice */
	assert_int_equal(put(imp, "a", t2 + 1, i2 + 1, 1), 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM events"), 3);
	/* a row that reached both (written to the table behind the store's
	 * back) is kept once by the fold */
	tn_error err = {0};
	assert_int_equal(tn_store_exec(imp,
				       "INSERT INTO main.events(customer_id, occurred_at, type_id, ext_id) "
				       "SELECT customer_id, occurred_at, type_id, ext_id FROM main.events_journal "
				       "WHERE ext_id = 'e2' AND customer_id = (SELECT id FROM customers WHERE ext_id = 'b')",
				       &err),
			 TN_OK);
	long long moved = -1;
	assert_int_equal(tn_store_fold(w, &moved, &err), TN_OK);
	assert_int_equal(moved, 1); /* (a, e2); (b, e2) was there already */
	assert_int_equal(tn_store_journal_rows(w), 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), 3);
	assert_int_equal(store_count(w, "SELECT count(DISTINCT customer_id || '/' || ext_id) FROM main.events"), 3);
	/* folding an empty journal moves nothing */
	assert_int_equal(tn_store_fold(w, &moved, &err), TN_OK);
	assert_int_equal(moved, 0);
	tn_store_close(imp);
	tn_store_close(w);
	unlink(path);
}

/* The fold keeps every value (time, type, id, amount) and sorts nothing away. */
static void test_fold_keeps_values(void **state)
{
	(void)state;
	fresh();
	tn_store *w = journaling();
	tn_error err = {0};
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	for (int i = 0; i < 500; i++) {
		char id[16];
		snprintf(id, sizeof id, "x%03d", (i * 7919) % 500);
		tn_event_rec e = {.customer = i % 2 ? "a" : "b", .at = 1700000000 + (i * 104729) % 1000,
				  .type = i % 3 ? "session" : "purchase", .amount = i % 3 ? NAN : i * 0.25, .id = id};
		assert_int_equal(tn_store_put_event(w, &e, &err), TN_OK);
	}
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	const char *digest = "SELECT count(*), sum(occurred_at), sum(type_id * length(ext_id)), "
			     "sum(COALESCE(amount, -1)), sum(customer_id) FROM events";
	tn_stmt *q = tn_db_prepare(w, digest, &err);
	assert_int_equal(tn_db_step(q, "digest", &err), TN_DB_ROW);
	long long before[4] = {tn_db_column_int64(q, 0), tn_db_column_int64(q, 1), tn_db_column_int64(q, 2),
			       tn_db_column_int64(q, 4)};
	double amount = tn_db_column_double(q, 3);
	tn_db_finalize(q);
	assert_int_equal(before[0], 500);
	long long moved = 0;
	assert_int_equal(tn_store_fold(w, &moved, &err), TN_OK);
	assert_int_equal(moved, 500);
	q = tn_db_prepare(w, digest, &err);
	assert_int_equal(tn_db_step(q, "digest", &err), TN_DB_ROW);
	assert_int_equal(tn_db_column_int64(q, 0), before[0]);
	assert_int_equal(tn_db_column_int64(q, 1), before[1]);
	assert_int_equal(tn_db_column_int64(q, 2), before[2]);
	assert_int_equal(tn_db_column_int64(q, 4), before[3]);
	assert_near(tn_db_column_double(q, 3), amount, 1e-9);
	tn_db_finalize(q);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), 500);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 0);
	tn_store_close(w);
	unlink(path);
}

/* A writer that stops between its commit and the fold (a crash) leaves the
 * events in the journal; a read-only open sees them without writing, the
 * next writable open folds them. */
static void test_crash_between_commit_and_fold(void **state)
{
	(void)state;
	fresh();
	tn_store *w = journaling();
	const tn_time at[] = {1700000100, 1700000200};
	const char *id[] = {"k1", "k2"};
	assert_int_equal(put(w, "b", at, id, 2), 2);
	tn_store_close(w); /* no fold: what SIGKILL leaves behind */
	tn_store *ro = open_flags(TN_STORE_READONLY);
	assert_int_equal(store_count(ro, "SELECT count(*) FROM events"), 2);
	assert_int_equal(store_count(ro, "SELECT count(*) FROM main.events_journal"), 2);
	tn_store_close(ro);
	tn_store *s = open_flags(0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events WHERE ext_id IN ('k1', 'k2')"), 2);
	tn_store_close(s);
	unlink(path);
}

/* ten customers c0..c9 besides a and b */
static void more_customers(void)
{
	tn_store *s = open_flags(0);
	tn_error err = {0};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	for (int i = 0; i < 10; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		tn_customer_rec c = {.id = id, .signed_up_at = 1700000000};
		int outcome = 0;
		assert_int_equal(tn_store_put_customer(s, &c, &outcome, &err), TN_OK);
	}
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	tn_store_close(s);
}

/* N events for customer cI with ids PREFIX-0.. at times 1700000000 + k */
static long long put_n(tn_store *w, int ci, const char *prefix, int n)
{
	char cust[16];
	snprintf(cust, sizeof cust, "c%d", ci);
	tn_time at[32];
	char idbuf[32][24];
	const char *id[32];
	assert_true(n <= 32);
	for (int k = 0; k < n; k++) {
		at[k] = 1700000000 + k;
		snprintf(idbuf[k], sizeof idbuf[k], "%s-%d", prefix, k);
		id[k] = idbuf[k];
	}
	return put(w, cust, at, id, n);
}

static const char SEEN[] = "SELECT count(*) FROM events";
/* both tables of the journal (migration 20) */
static const char JOURNALED[] = "SELECT (SELECT count(*) FROM main.events_journal) + "
				"(SELECT count(*) FROM main.events_journal_b)";
/* the marks of a fold in steps, this one's and the single-table journal's */
static const char MARKS[] = "SELECT count(*) FROM main.meta WHERE key LIKE 'events_fold_%' OR key LIKE "
			    "'events_journal%_folded'";
static const char DISTINCT[] = "SELECT count(*) FROM (SELECT DISTINCT customer_id, occurred_at, type_id, ext_id FROM events)";

/* A fold in steps (tn_store_fold_step): between any two steps a live
 * reader and the writer see every event exactly once, new events and
 * re-sends keep their meaning (added / unchanged) whichever side of the
 * fold their customer is on, and a writer that stops between two steps (a
 * crash) leaves a store that a read-only open reads right and the next
 * writable open finishes. */
/* the summary's events count (tn_store_counts_get: each table's count(*)
 * on a live connection, not a count through the view) */
static long long counted(tn_store *s)
{
	tn_store_counts c;
	tn_error err = {0};
	if (tn_store_counts_get(s, &c, &err))
		fail_msg("counts: %s", err.msg);
	return c.events;
}

static void test_fold_in_steps(void **state)
{
	(void)state;
	fresh();
	more_customers();
	tn_store *w = journaling();
	for (int i = 0; i < 10; i++)
		assert_int_equal(put_n(w, i, "x", 10), 10);
	tn_store *live = open_flags(TN_STORE_LIVE);
	assert_int_equal(store_count(live, SEEN), 100);
	long long expect = 100, moved_all = 0;
	int steps = 0, done = 0;
	tn_error err = {0};
	while (!done) {
		long long moved = 0;
		assert_int_equal(tn_store_fold_step(w, 15, &done, &moved, &err), TN_OK);
		moved_all += moved;
		steps++;
		assert_true(steps < 50);
		assert_int_equal(store_count(live, SEEN), expect);
		assert_int_equal(store_count(live, DISTINCT), expect);
		assert_int_equal(store_count(w, SEEN), expect);
		assert_int_equal(counted(live), expect); /* mid-fold: both tables, a mark */
		/* a re-send of customer 0's (folded first) and of customer 9's
		 * (folded last) events: nothing new */
		assert_int_equal(put_n(w, 0, "x", 3), 0);
		assert_int_equal(put_n(w, 9, "x", 3), 0);
		/* new ones for both, during the fold */
		char prefix[16];
		snprintf(prefix, sizeof prefix, "s%d", steps);
		assert_int_equal(put_n(w, 0, prefix, 2), 2);
		assert_int_equal(put_n(w, 9, prefix, 2), 2);
		expect += 4;
		assert_int_equal(store_count(live, SEEN), expect);
		assert_int_equal(store_count(live, DISTINCT), expect);
	}
	assert_true(steps >= 4); /* 100 rows in steps of 15: several */
	assert_int_equal(moved_all, 100);
	/* what came during the fold waits in the journal, the rest is in events */
	assert_int_equal(store_count(w, JOURNALED), expect - 100);
	/* the writer turned to the second table, the folded one was emptied */
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), 100);
	assert_int_equal(store_count(w, MARKS), 0);

	/* a second fold, stopped once its steps have moved some rows but not
	 * all: a crash (a step takes a range of customer ids, and the first
	 * ones -- a, b -- have nothing journaled) */
	long long moved = 0;
	for (int k = 0; store_count(w, "SELECT count(*) FROM main.events") == 100; k++) {
		assert_true(k < 20);
		assert_int_equal(tn_store_fold_step(w, 3, &done, &moved, &err), TN_OK);
		assert_int_equal(done, 0);
	}
	assert_true(store_count(w, "SELECT count(*) FROM main.events") > 100);
	assert_true(store_count(w, JOURNALED) > 0);
	assert_int_equal(store_count(w, MARKS), 1); /* how far the steps got */
	assert_int_equal(store_count(live, SEEN), expect);
	assert_int_equal(counted(live), expect);
	tn_store_close(w);
	tn_store *ro = open_flags(TN_STORE_READONLY);
	assert_int_equal(store_count(ro, SEEN), expect);
	assert_int_equal(store_count(ro, DISTINCT), expect);
	tn_store_close(ro);
	tn_store *s = open_flags(0); /* folds the rest */
	assert_int_equal(store_count(s, JOURNALED), 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events"), expect);
	assert_int_equal(store_count(s, MARKS), 0);
	tn_store_close(s);
	assert_int_equal(store_count(live, SEEN), expect);
	tn_store_close(live);
	unlink(path);
}

/* Another connection's full fold (any open of the store) in the middle of
 * a fold in steps: the journal's ids start again from 1, and the steps that
 * are left must neither hide nor delete the rows journaled since. */
static void test_fold_in_steps_overtaken(void **state)
{
	(void)state;
	fresh();
	more_customers();
	tn_store *w = journaling();
	for (int i = 0; i < 10; i++)
		assert_int_equal(put_n(w, i, "x", 10), 10);
	tn_error err = {0};
	int done = 0;
	assert_int_equal(tn_store_fold_step(w, 15, &done, NULL, &err), TN_OK);
	assert_int_equal(done, 0);
	tn_store *cli = open_flags(0); /* folds everything */
	assert_int_equal(store_count(cli, JOURNALED), 0);
	tn_store_close(cli);
	for (int i = 0; i < 10; i++)
		assert_int_equal(put_n(w, i, "y", 5), 5);
	assert_int_equal(put_n(w, 3, "x", 10), 0); /* folded by the other: still known */
	assert_int_equal(store_count(w, SEEN), 150);
	for (int steps = 0; !done; steps++) {
		assert_true(steps < 50);
		assert_int_equal(tn_store_fold_step(w, 15, &done, NULL, &err), TN_OK);
		assert_int_equal(store_count(w, SEEN), 150);
		assert_int_equal(store_count(w, DISTINCT), 150);
	}
	tn_store_close(w);
	tn_store *s = open_flags(0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events"), 150);
	tn_store_close(s);
	unlink(path);
}

/* Folds in steps one after another: each turns the writer to the other
 * table of the journal and ends by emptying the one it folded; events
 * written during a fold are folded by the next, re-sends stay unchanged
 * across the turns, and every event is seen once throughout. */
static void test_folds_alternate_tables(void **state)
{
	(void)state;
	fresh();
	more_customers();
	tn_store *w = journaling();
	tn_store *live = open_flags(TN_STORE_LIVE);
	tn_error err = {0};
	long long expect = 0;
	for (int i = 0; i < 10; i++)
		expect += put_n(w, i, "a", 10);
	assert_int_equal(expect, 100);
	const char *tabs[2] = {"SELECT count(*) FROM main.events_journal",
			       "SELECT count(*) FROM main.events_journal_b"};
	/* the fold turns secure_delete off for its DELETE only: the
	 * connection's own setting is back after it (on, here, to see that) */
	assert_int_equal(store_count(w, "PRAGMA secure_delete = 1"), 1);
	for (int fold = 0; fold < 4; fold++) {
		int done = 0, steps = 0;
		long long moved_all = 0, before = store_count(w, "SELECT count(*) FROM main.events");
		long long journaled = store_count(w, JOURNALED);
		/* between folds the writer's table holds everything, the other none */
		assert_int_equal(store_count(w, tabs[fold % 2]), journaled);
		assert_int_equal(store_count(w, tabs[!(fold % 2)]), 0);
		while (!done) {
			long long moved = 0;
			assert_int_equal(tn_store_fold_step(w, 5, &done, &moved, &err), TN_OK);
			moved_all += moved;
			assert_true(++steps < 60);
			char prefix[24];
			snprintf(prefix, sizeof prefix, "f%d-%d", fold, steps);
			assert_int_equal(put_n(w, steps % 10, prefix, 6), 6);
			expect += 6;
			assert_int_equal(put_n(w, (steps + 5) % 10, "a", 10), 0); /* re-send: unchanged */
			assert_int_equal(store_count(live, SEEN), expect);
			assert_int_equal(store_count(live, DISTINCT), expect);
		}
		assert_true(steps >= 3);
		assert_int_equal(moved_all, journaled);
		assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), before + journaled);
		assert_int_equal(store_count(w, tabs[fold % 2]), 0); /* emptied whole */
		assert_int_equal(store_count(w, MARKS), 0);
		assert_int_equal(tn_store_journal_rows(w), store_count(w, JOURNALED));
		assert_int_equal(store_count(w, "PRAGMA secure_delete"), 1);
	}
	tn_store_close(w);
	tn_store *s = open_flags(0);
	assert_int_equal(store_count(s, JOURNALED), 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM main.events"), expect);
	tn_store_close(s);
	tn_store_close(live);
	unlink(path);
}

/* An event journaled by a transaction that is rolled back (all of it, or to
 * a savepoint) is new when it comes again. */
static void test_rolled_back_events_are_new_again(void **state)
{
	(void)state;
	fresh();
	tn_store *w = journaling();
	tn_error err = {0};
	tn_event_rec e = {.customer = "a", .at = 1700000500, .type = "session", .amount = NAN, .id = "r1"};
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	assert_int_equal(tn_store_put_event(w, &e, &err), TN_OK);
	long long added = -1;
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(added, 1);
	tn_store_rollback(w);
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	assert_int_equal(tn_store_savepoint(w, &err), TN_OK);
	assert_int_equal(tn_store_put_event(w, &e, &err), TN_OK);
	assert_int_equal(tn_store_release(w, &err), TN_OK);
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(added, 1); /* new again after the rollback */
	assert_int_equal(tn_store_savepoint(w, &err), TN_OK);
	tn_event_rec e2 = e;
	e2.id = "r2";
	assert_int_equal(tn_store_put_event(w, &e2, &err), TN_OK);
	assert_int_equal(tn_store_put_event(w, &e, &err), TN_OK);
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(added, 1); /* r2 */
	tn_store_rollback_savepoint(w); /* r2 back out; r1 stays from before */
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	const tn_time at[] = {1700000500, 1700000500};
	const char *id[] = {"r1", "r2"};
	assert_int_equal(put(w, "a", at, id, 2), 1); /* r1 known, r2 new */
	assert_int_equal(store_count(w, SEEN), 2);
	tn_store_close(w);
	unlink(path);
}

/* The journaling writer's multi-row INSERTs (128, 32, 8 and 1 rows): a
 * group of three requests (tags) of 300, 150 and 110 events, where 100 of
 * the first are in events already (an import), and 100 of the third repeat
 * the second's: each request's "added" counts exactly its new events, every
 * event is seen once; the same group again adds nothing (the filter says
 * "maybe" for all of them, the journal and events say which). */
static void put_tagged(tn_store *w, const char *customer, const char *prefix, int from, int to, uint32_t tag)
{
	tn_error err = {0};
	for (int i = from; i < to; i++) {
		char id[16];
		snprintf(id, sizeof id, "%s%d", prefix, i);
		tn_event_rec e = {.customer = customer, .at = 1700000000 + i, .type = "session",
				  .amount = i % 2 ? NAN : i, .id = id};
		if (tn_store_put_event_tag(w, &e, tag, &err))
			fail_msg("put: %s", err.msg);
	}
}

static void group_of_three(tn_store *w, long long *added)
{
	tn_error err = {0};
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	put_tagged(w, "a", "e", 0, 300, 0);
	put_tagged(w, "b", "f", 0, 150, 1);
	put_tagged(w, "b", "f", 0, 100, 2);
	put_tagged(w, "b", "g", 0, 10, 2);
	memset(added, 0, 3 * sizeof *added);
	tn_store_count_by_tag(w, added, 3);
	long long total = -1;
	assert_int_equal(tn_store_flush(w, &total, &err), TN_OK);
	tn_store_count_by_tag(w, NULL, 0);
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	assert_int_equal(total, added[0] + added[1] + added[2]);
}

static void test_many_rows_by_tag(void **state)
{
	(void)state;
	fresh();
	tn_store *imp = open_flags(0);
	const char *ids[100];
	tn_time at[100];
	char buf[100][16];
	for (int i = 0; i < 100; i++) {
		snprintf(buf[i], sizeof buf[i], "e%d", i);
		ids[i] = buf[i];
		at[i] = 1700000000 + i;
	}
	assert_int_equal(put(imp, "a", at, ids, 100), 100);
	tn_store_close(imp);
	tn_store *w = journaling();
	long long added[3];
	group_of_three(w, added);
	assert_int_equal(added[0], 200);
	assert_int_equal(added[1], 150);
	assert_int_equal(added[2], 10);
	assert_int_equal(tn_store_journal_rows(w), 360);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal"), 360);
	assert_int_equal(store_count(w, "SELECT count(*) FROM events"), 460);
	assert_int_equal(store_count(w, "SELECT count(*) FROM (SELECT DISTINCT customer_id, ext_id FROM events)"), 460);
	/* the values went in with the right rows (time and amount follow the id) */
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events_journal WHERE occurred_at - 1700000000 <> "
				  "CAST(substr(ext_id, 2) AS INTEGER) OR (amount IS NULL) <> "
				  "(CAST(substr(ext_id, 2) AS INTEGER) % 2 = 1)"),
			 0);
	group_of_three(w, added);
	assert_int_equal(added[0] + added[1] + added[2], 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM events"), 460);
	tn_error err = {0};
	long long moved = -1;
	assert_int_equal(tn_store_fold(w, &moved, &err), TN_OK);
	assert_int_equal(moved, 360);
	group_of_three(w, added); /* after the fold: events says it */
	assert_int_equal(added[0] + added[1] + added[2], 0);
	assert_int_equal(store_count(w, "SELECT count(*) FROM events"), 460);
	tn_store_close(w);
	unlink(path);
}

/* The journal's index by generation (migration 23: id >> 16 first): a
 * look-up by customer seeks once per generation, so rows in several
 * generations -- here ids 1-5 and 200,000-200,005, generations 0 and 3
 * with two empty ones between -- must all be seen by a live reader's per-customer
 * query, all count as journaled for a re-send (the writer's probe), and all
 * be moved by a fold in steps.  The per-customer query must use the index
 * (a scan of a million-row journal per read would still give the right
 * answer). */
static void test_generations(void **state)
{
	(void)state;
	fresh();
	more_customers();
	tn_store *w = journaling();
	assert_int_equal(put_n(w, 3, "g0", 5), 5); /* ids 1..5: generation 0 */
	tn_error err = {0};
	/* the next ids from 200,001 (the writer goes on from the largest) */
	assert_int_equal(tn_store_exec(w, "INSERT INTO main.events_journal(id, customer_id, occurred_at, type_id) "
				    "SELECT 200000, customer_id, 1, type_id FROM main.events_journal WHERE id = 1",
				    &err),
			 TN_OK);
	assert_int_equal(put_n(w, 3, "g3", 5), 5);
	assert_int_equal(store_count(w, "SELECT count(DISTINCT id >> 16) FROM main.events_journal"), 2);
	tn_store *live = open_flags(TN_STORE_LIVE);
	const char *by_customer = "SELECT count(*) FROM events WHERE customer_id = (SELECT id FROM customers WHERE "
				  "ext_id = 'c3')";
	assert_int_equal(store_count(live, by_customer), 11);
	char *plan = NULL;
	{
		tn_stmt *st = tn_db_prepare(live, "EXPLAIN QUERY PLAN SELECT max(occurred_at) FROM events WHERE "
						  "customer_id = 5", &err);
		assert_non_null(st);
		size_t len = 0;
		while (tn_db_step(st, "plan", &err) == TN_DB_ROW) {
			const char *d = tn_db_column_text(st, 3);
			size_t dl = strlen(d ? d : "");
			plan = realloc(plan, len + dl + 2);
			memcpy(plan + len, d ? d : "", dl);
			len += dl;
			plan[len++] = '\n';
			plan[len] = 0;
		}
		tn_db_finalize(st);
	}
	assert_non_null(plan);
	assert_non_null(strstr(plan, "USING INDEX events_journal_gen (<expr>=? AND customer_id=?)"));
	assert_non_null(strstr(plan, "USING INDEX events_journal_b_gen (<expr>=? AND customer_id=?)"));
	free(plan);
	/* re-sends of both generations' events: nothing new */
	assert_int_equal(put_n(w, 3, "g0", 5), 0);
	assert_int_equal(put_n(w, 3, "g3", 5), 0);
	/* a fold in steps moves all of them, once */
	int done = 0, steps = 0;
	long long moved_all = 0;
	while (!done) {
		long long moved = 0;
		assert_int_equal(tn_store_fold_step(w, 2, &done, &moved, &err), TN_OK);
		moved_all += moved;
		assert_int_equal(store_count(live, by_customer), 11);
		assert_true(++steps < 50);
	}
	assert_int_equal(moved_all, 11);
	assert_int_equal(store_count(w, JOURNALED), 0);
	assert_int_equal(put_n(w, 3, "g3", 5), 0);
	tn_store_close(live);
	tn_store_close(w);
	unlink(path);
}

/* Load the writer's filter of events' keys, in steps of ROWS rows;
 * returns the steps taken. */
static int load_filter(tn_store *w, long long rows)
{
	tn_error err = {0};
	int more = 1, steps = 0;
	while (more) {
		if (tn_store_events_filter_step(w, rows, &more, &err))
			fail_msg("filter: %s", err.msg);
		steps++;
	}
	return steps;
}

/* Wait (10 s at most) until a reload of the filter is due. */
static void wait_due(tn_store *w)
{
	for (int i = 0; i < 1000 && !tn_store_events_filter_due(w); i++)
		usleep(10000);
	assert_int_equal(tn_store_events_filter_due(w), 1);
}

/* The writer's filter of events' keys (store.c, "events keys"): an event
 * it says is new skips the probe of events, so each way an event can be
 * there already must still read as unchanged: an import before the writer
 * started, a duplicate in one batch, a re-send, a re-send after a fold,
 * after a restart, an import by another connection while the writer runs
 * (the filter is dropped and loaded again), one during its load, and a
 * store past the bound (the probing path for good). */
static void test_events_filter(void **state)
{
	(void)state;
	fresh();
	tn_store *imp = open_flags(0);
	const tn_time t[] = {1700000100, 1700000200, 1700000200, 1700000300, 1700000400, 1700000500,
			     1700000600, 1700000700, 1700000800};
	const char *id[] = {"e1", "e2", "e2", "e3", "e4", "e5", "e6", "e7", "e8"};
	assert_int_equal(put(imp, "a", t, id, 1), 1); /* e1 in the table before the writer */
	tn_store *w = journaling();
	long long loads = -1;
	assert_int_equal(tn_store_events_filter(w, &loads), -1); /* not loaded yet: the probing path */
	assert_int_equal(loads, 0);
	assert_int_equal(tn_store_events_filter_due(w), 1);
	load_filter(w, 1000);
	assert_int_equal(tn_store_events_filter_due(w), 0);
	assert_int_equal(tn_store_events_filter(w, &loads), 1); /* e1 */
	assert_int_equal(loads, 1);
	/* e1 (imported), e2 twice in one batch */
	assert_int_equal(put(w, "a", t, id, 3), 1);
	assert_int_equal(tn_store_events_filter(w, NULL), 2);
	/* re-sends, and e2 for another customer (another event) */
	assert_int_equal(put(w, "a", t + 1, id + 1, 2), 0);
	assert_int_equal(put(w, "a", t, id, 1), 0);
	assert_int_equal(put(w, "b", t + 1, id + 1, 1), 1);
	/* across a fold: e2 now in the table */
	tn_error err = {0};
	long long moved = -1;
	assert_int_equal(tn_store_fold(w, &moved, &err), TN_OK);
	assert_int_equal(moved, 2);
	assert_int_equal(put(w, "a", t + 1, id + 1, 3), 1); /* e2, e2, e3: e3 new */
	assert_int_equal(tn_store_events_filter(w, &loads), 4);
	assert_int_equal(loads, 1); /* its own writes and folds keep it true */
	/* while it is true the journal's keys are in it alone (no key sets) */
	assert_int_equal(tn_store_journal_keys(w), 0);
	/* another connection imports e4 (and e1 again) while the writer runs */
	const tn_time ti[] = {1700000100, 1700000400};
	const char *ii[] = {"e1", "e4"};
	assert_int_equal(put(imp, "a", ti, ii, 2), 1);
	/* the next flush sees the data version move: the probing path, e4 unchanged */
	assert_int_equal(put(w, "a", t + 4, id + 4, 2), 1); /* e4, e5: e5 new */
	assert_int_equal(tn_store_events_filter(w, NULL), -1);
	/* the journal's key sets are loaded again from the journal: e3, journaled
	 * while the filter was true, is found there */
	assert_true(tn_store_journal_keys(w) >= 2);
	assert_int_equal(put(w, "a", t + 3, id + 3, 1), 0);
	wait_due(w); /* past the reload's back-off (ten times the last load) */
	load_filter(w, 1000);
	assert_int_equal(tn_store_events_filter(w, &loads), 6); /* a: e1 e2 e3 e4 e5, b: e2 */
	assert_int_equal(loads, 2);
	assert_int_equal(put(w, "a", t + 3, id + 3, 4), 1); /* e3, e4, e5, e6: e6 new */
	assert_int_equal(tn_store_events_filter(w, NULL), 7);
	/* a restart with rows in the journal (e6) */
	tn_store_close(w);
	w = journaling();
	assert_int_equal(load_filter(w, 1), 2); /* a customer a step: a, then b */
	assert_int_equal(put(w, "a", t, id, 8), 1); /* e1..e7: e7 new */
	assert_int_equal(put(w, "a", t + 6, id + 6, 2), 0);
	assert_int_equal(tn_store_events_filter(w, NULL), 8);
	/* past the bound: the filter goes, the probing path stays right */
	tn_store_events_filter_max(w, 8);
	assert_int_equal(put(w, "a", t + 7, id + 7, 2), 1); /* e8 new: 9 keys, over the bound */
	assert_int_equal(tn_store_events_filter(w, NULL), -1);
	assert_int_equal(tn_store_events_filter_due(w), 0);
	assert_int_equal(put(w, "a", t, id, 9), 0);
	assert_int_equal(put(w, "b", t + 1, id + 1, 1), 0);
	tn_store_close(w);
	/* another connection writes during a load in steps: it is not used */
	w = journaling();
	int more = 0;
	assert_int_equal(tn_store_events_filter_step(w, 1, &more, &err), TN_OK);
	assert_int_equal(more, 1); /* customer a read, b not yet */
	assert_int_equal(put(w, "a", t + 8, id + 8, 1), 0); /* e8, journaled before: unchanged (probed) */
	const char *ib[] = {"e9"};
	assert_int_equal(put(imp, "b", t, ib, 1), 1); /* b's e9 by another connection */
	assert_int_equal(tn_store_events_filter_step(w, 1, &more, &err), TN_OK);
	assert_int_equal(more, 0);
	assert_int_equal(tn_store_events_filter(w, NULL), -1); /* dropped: reloaded later */
	assert_int_equal(put(w, "b", t, ib, 1), 0);
	wait_due(w);
	load_filter(w, 1000);
	assert_true(tn_store_events_filter(w, NULL) >= 10);
	assert_int_equal(put(w, "b", t, ib, 1), 0);
	tn_store_close(w);
	/* a store already past the bound at start never loads it */
	w = journaling();
	tn_store_events_filter_max(w, 5);
	load_filter(w, 1000);
	assert_int_equal(tn_store_events_filter(w, NULL), -1);
	assert_int_equal(tn_store_events_filter_due(w), 0);
	assert_int_equal(put(w, "a", t, id, 9), 0);
	assert_int_equal(put(w, "b", t, id, 2), 1); /* e1 new for b, on the probing path */
	/* every event once: a (e1..e8), b (e1, e2, e9) */
	assert_int_equal(store_count(w, SEEN), 11);
	assert_int_equal(store_count(w, DISTINCT), 11);
	tn_store_close(w);
	tn_store_close(imp);
	unlink(path);
}

/* A fold step holds no copy of the pages of events it changes (session 31):
 * its INSERT ... ON CONFLICT DO NOTHING used to open a statement journal --
 * in memory, temp_store = MEMORY -- holding every page of events the step
 * touched, which for a small journal spread over every customer is nearly
 * every leaf of events (+100 MB a step on a 20M-event store).  Here: 200,000
 * events over 2,000 customers, a journal of one event a customer folded in
 * steps of 1,000 rows, so the first step touches the leaves of half the
 * customers.  With events' pages already cached, what SQLite allocates
 * during the step is its sort and a few split pages: measured 0.09 MB,
 * against 2.1 MB with the statement journal.  (SQLite's memory statistics
 * are on in this program: main.) */
static void test_fold_step_holds_no_page_copies(void **state)
{
	(void)state;
	fresh();
	enum { NCUST = 2000, PER = 100 };
	tn_store *s = open_flags(0);
	tn_error err = {0};
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	for (int i = 0; i < NCUST; i++) {
		char id[16];
		snprintf(id, sizeof id, "m%d", i);
		tn_customer_rec c = {.id = id, .signed_up_at = 1700000000};
		int outcome = 0;
		assert_int_equal(tn_store_put_customer(s, &c, &outcome, &err), TN_OK);
	}
	for (int i = 0; i < NCUST; i++)
		for (int k = 0; k < PER; k++) {
			char cust[16], eid[24];
			snprintf(cust, sizeof cust, "m%d", i);
			snprintf(eid, sizeof eid, "e-%d", k);
			tn_event_rec e = {.customer = cust, .at = 1700000000 + 2 * k, .type = "session", .amount = NAN,
					  .id = eid};
			if (tn_store_put_event(s, &e, &err))
				fail_msg("put: %s", err.msg);
		}
	long long added = 0;
	assert_int_equal(tn_store_flush(s, &added, &err), TN_OK);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	assert_int_equal(added, NCUST * PER);
	tn_store_close(s);

	tn_store *w = journaling();
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	for (int i = 0; i < NCUST; i++) { /* one new event each, between two old ones */
		char cust[16];
		snprintf(cust, sizeof cust, "m%d", i);
		tn_event_rec e = {.customer = cust, .at = 1700000000 + 2 * (i % PER) + 1, .type = "session",
				  .amount = NAN, .id = "j"};
		if (tn_store_put_event(w, &e, &err))
			fail_msg("put: %s", err.msg);
	}
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	assert_int_equal(added, NCUST);
	/* every page of events in the writer's cache first */
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), NCUST * PER);
	sqlite3_int64 cur = 0, hi = 0;
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur, &hi, 1);
	assert_true(cur > 0); /* the statistics are on */
	int done = 0;
	long long moved = 0;
	assert_int_equal(tn_store_fold_step(w, 1000, &done, &moved, &err), TN_OK);
	assert_int_equal(done, 0);
	assert_true(moved > 500);
	sqlite3_int64 cur1 = 0, hi1 = 0;
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur1, &hi1, 0);
	if (hi1 - cur > 512 * 1024)
		fail_msg("a fold step of %lld rows took %.2f MB of SQLite's memory at its peak", moved,
			 (double)(hi1 - cur) / 1048576.0);
	while (!done)
		assert_int_equal(tn_store_fold_step(w, 1000, &done, &moved, &err), TN_OK);
	assert_int_equal(store_count(w, "SELECT count(*) FROM main.events"), NCUST * PER + NCUST);
	assert_int_equal(store_count(w, JOURNALED), 0);
	tn_store_close(w);
	unlink(path);
}

int main(void)
{
	/* SQLite's memory statistics on, before any store turns them off (they
	 * are off in the product for speed; test_fold_step_holds_no_page_copies
	 * reads them) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1);
	sqlite3_initialize();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_then_fold_at_open),
		cmocka_unit_test(test_dedupe_across_journal_and_table),
		cmocka_unit_test(test_fold_keeps_values),
		cmocka_unit_test(test_crash_between_commit_and_fold),
		cmocka_unit_test(test_fold_in_steps),
		cmocka_unit_test(test_fold_in_steps_overtaken),
		cmocka_unit_test(test_folds_alternate_tables),
		cmocka_unit_test(test_rolled_back_events_are_new_again),
		cmocka_unit_test(test_many_rows_by_tag),
		cmocka_unit_test(test_events_filter),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_fold_step_holds_no_page_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
