/*
 * store_sqlite.h -- internal: the SQLite handle behind a tn_store, for the
 * library's loaders (churn, survival on the store, value, risk...) that read
 * with SQL.  Not part of the public API.
 */
#ifndef TENURE_STORE_SQLITE_H
#define TENURE_STORE_SQLITE_H

#include <sqlite3.h>
#include "tenure/store.h"

sqlite3 *tn_store_sqlite(tn_store *s);

/* A tn_stmt (db.h) that owns RAW, a statement made with SQLite's own API:
 * for code not yet on db.h that hands statements to code that is.  NULL
 * when out of memory (RAW is then still the caller's). */
struct tn_stmt;
struct tn_stmt *tn_db_wrap_sqlite(tn_store *s, sqlite3_stmt *raw);

/* Where db.c keeps its cached statements (src/store/db.h). */
void **tn_store_db_cache_slot(tn_store *s);

/* Prepare SQL, setting err ("database error: ...") on failure. */
sqlite3_stmt *tn_store_prepare(tn_store *s, const char *sql, tn_error *err);

/* A statement prepared once per connection and kept (SQL must be a string
 * constant: it is looked up by address).  The caller resets it after use and
 * never finalizes it; tn_store_close does. */
sqlite3_stmt *tn_store_cached(tn_store *s, const char *sql, tn_error *err);

/* The SQL of an ordered scan of the events: SELECT COLS FROM events WHERE
 * COND ORDER BY ORDER.  ORDER names result columns only (1, 2, 3 or their
 * names), a prefix of the events' key.  On a connection that reads events
 * through the journal view (a live one, e.g. the dashboard's), the view is
 * a UNION ALL that SQLite would sort whole in memory (temp_store = MEMORY:
 * ~48 bytes an event, GBs on a large store); written as a compound with the
 * ORDER BY on it, SQLite merges the tables' own orders instead (main.events
 * in its primary key's, no sort; only the journals' few rows are sorted).
 * The same rows in the same order.  Free the result with free(); NULL with
 * err set on failure. */
char *tn_store_events_scan_sql(tn_store *s, const char *cols, const char *cond, const char *order, tn_error *err);

/* The same rows in two parts, for a reader that can seek events by their
 * key (a correlated look-up per customer) rather than scan them all.  On
 * SQLite *TABLE is the events' own table to seek in ("main.events" on a
 * connection that reads through the journal view -- a look-up through the
 * view's UNION ALL would not be a seek -- "events" otherwise) and the
 * result is the SQL of an ordered scan of the journal's rows that the view
 * adds (few: those not yet folded), written as tn_store_events_scan_sql
 * writes it, or an empty string without a view.  On PostgreSQL *TABLE is
 * NULL (do not seek: a cluster's events are foreign tables, where a look-up
 * per customer is a remote query each) and the result is the whole scan,
 * tn_store_events_scan_sql's.  Either way the rows sought in *TABLE plus
 * the scan's are tn_store_events_scan_sql's.  Free the result with free();
 * NULL with err set on failure. */
char *tn_store_events_seek_sql(tn_store *s, const char **table, const char *cols, const char *cond, const char *order,
			       tn_error *err);

/* Set err from the handle's current message; returns TN_ERR_DB. */
int tn_store_db_error(tn_store *s, const char *what, tn_error *err);

/* How a read loop ended: STEP is the last sqlite3_step() result.  TN_OK for
 * SQLITE_DONE; anything else (SQLITE_BUSY, CORRUPT, NOMEM, IOERR...) is the
 * store's error naming WHAT, never the end of the data.  Call it before
 * sqlite3_finalize(), which would reset the message.  Every read loop ends
 *     while ((step = sqlite3_step(st)) == SQLITE_ROW) ...
 *     rc = tn_store_step_end(s, step, "reading x", err); */
int tn_store_step_end(tn_store *s, int step, const char *what, tn_error *err);

/* Step a query that returns one row (an aggregate): TN_OK with the row
 * current, or the store's error -- also when it returned no row. */
int tn_store_step_row(tn_store *s, sqlite3_stmt *st, const char *what, tn_error *err);

/* Read / write a text value in the meta table (key-value settings that belong
 * with the data: churn definitions, thresholds...).  get sets *value to NULL
 * when the key is absent (TN_OK), to a copy the caller frees when present, and
 * returns the store's error (never "absent") when the read fails. */
int tn_store_meta_get(tn_store *s, const char *key, char **value, tn_error *err);
int tn_store_meta_set(tn_store *s, const char *key, const char *value, tn_error *err);

/* Register the SQL function tn_money(AMOUNT, CURRENCY, AT) on S's connection
 * (currency.c): AMOUNT in the reporting currency.  Returns a SQLite code. */
int tn_store_money_register(tn_store *s);

#endif
