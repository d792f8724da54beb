/*
 * store_util.h -- helpers for the unit tests that look into a store's
 * tables: a count read through the store's own connection (tn_db) or
 * through plain SQLite, a statement that must succeed, a fresh temporary
 * path, and a store as an older Tenure left it (the migration tests:
 * test_store_m21, test_store_m23, test_scores, test_import).  One copy here,
 * so that what "an old store" means cannot drift from one test to another.
 */
#ifndef TENURE_STORE_UTIL_H
#define TENURE_STORE_UTIL_H

#include "testutil.h"

#include <sqlite3.h>
#include <unistd.h>

#include "store/db.h"
#include "store/schema.h"
#include "tenure/store.h"

/* The first column of the first row of SQL, read on the store's connection
 * (a live or journaling one reads through the journal); a failed prepare or
 * no row fails the test. */
static inline long long store_count(tn_store *s, const char *sql)
{
	tn_error err = {0};
	tn_stmt *st = tn_db_prepare(s, sql, &err);
	if (!st)
		fail_msg("%s: %s", sql, err.msg);
	if (tn_db_step(st, "counting", &err) != TN_DB_ROW)
		fail_msg("%s: no row (%s)", sql, err.msg);
	long long n = tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	return n;
}

/* The same on a plain SQLite handle (a store no tn_store has opened yet). */
static inline long long sql_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* SQL (one or more statements) must succeed; SQLite's message is printed. */
static inline void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
}

/* A path /tmp/STEM_XXXXXX no file has (made unique by mkstemp, then removed). */
static inline void temp_path(char *p, size_t n, const char *stem)
{
	snprintf(p, n, "/tmp/%s_XXXXXX", stem);
	int fd = mkstemp(p);
	assert_true(fd >= 0);
	close(fd);
	unlink(p);
}

/* The position in tn_store_migrations of the last migration whose SQL holds
 * MARKER (a name it creates): found by its text, so that renumbering at a
 * merge does not move a test.  Never the first: a store before it exists. */
static inline int migration_index(const char *marker)
{
	int at = -1;
	for (int i = 0; i < tn_store_schema_latest(); i++)
		if (strstr(tn_store_migrations[i].sql, marker))
			at = i;
	if (at <= 0)
		fail_msg("no migration after the first holds \"%s\"", marker);
	return at;
}

/* A new store at PATH as a Tenure of schema version BEFORE left it: the first
 * BEFORE migrations replayed and the version and application id set as the
 * store's own migration sets them.  Returned open, for the caller's rows;
 * sqlite3_close it before opening the store. */
static inline sqlite3 *old_store_open(const char *path, int before)
{
	sqlite3 *db;
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (int i = 0; i < before; i++)
		exec_ok(db, tn_store_migrations[i].sql);
	char pragma[128];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d; PRAGMA application_id = %d", before,
		 TN_APPLICATION_ID);
	exec_ok(db, pragma);
	return db;
}

#endif
