/*
 * db.h -- internal: the SQL interface under the store, the one way library
 * code talks to the database.
 *
 * Analyses, actions, the server and the sources prepare a statement, bind
 * values, step through rows and read columns -- without naming the engine.
 * The shape mirrors SQLite's own API one to one (prepare, bind, step,
 * column, reset, finalize) so that code reads as it always did; what it buys
 * is that the engine behind a tn_store can be SQLite or PostgreSQL (libpq),
 * with the differences between them kept here and in the backend, once.
 *
 * Portable SQL -- what every statement given to tn_db_prepare keeps to, so
 * that it runs on both engines:
 *   - placeholders are `?` (numbered in order) or `?N` (the PostgreSQL
 *     backend turns them into $1, $2, ...);
 *   - NULL-safe comparison as `a IS NOT DISTINCT FROM b` (not `a IS b`);
 *   - instants are INTEGER seconds (tn_time); compare and subtract them as
 *     numbers; no SQLite date functions (julianday, strftime, date) and no
 *     PostgreSQL ones: compute calendar things in C (include/tenure/time.h);
 *   - upserts as `INSERT ... ON CONFLICT (cols) DO UPDATE SET x = excluded.x`
 *     or `DO NOTHING`; never `INSERT OR IGNORE` / `OR REPLACE`;
 *   - a new row's id with `RETURNING id` (read it as a column), not
 *     last_insert_rowid;
 *   - COALESCE (not IFNULL), CASE, standard aggregates; integer division
 *     written as CAST(x AS REAL) / y where a fraction is meant;
 *   - JSON, text search and other engine-specific functions only through a
 *     helper in src/store/ that has one version per engine.
 *
 * Errors: tn_db_step returns TN_DB_ROW, TN_DB_DONE, or a tn_error code with
 * ERR set to "<store>: WHAT: <engine message>" (a busy, locked, corrupt or
 * full database is an error, never the end of the rows).  A read loop is
 *     while ((rc = tn_db_step(st, "reading payments", err)) == TN_DB_ROW) ...
 *     if (rc != TN_DB_DONE) goto fail;
 */
#ifndef TENURE_DB_H
#define TENURE_DB_H

#include <stdint.h>
#include "tenure/store.h"

typedef struct tn_stmt tn_stmt;

/* tn_db_step's two non-error results; distinct from every tn_error code. */
enum { TN_DB_ROW = 100, TN_DB_DONE = 101 };

/* Prepare portable SQL (one statement).  NULL on failure, with ERR set. */
tn_stmt *tn_db_prepare(tn_store *s, const char *sql, tn_error *err);

/* A statement prepared once per store and kept: SQL must be a string
 * constant (it is looked up by address).  The caller calls tn_db_reset after
 * use and never finalizes it; tn_store_close does. */
tn_stmt *tn_db_cached(tn_store *s, const char *sql, tn_error *err);

/* Finalize a statement from tn_db_prepare (NULL is fine; a cached one is
 * only reset). */
void tn_db_finalize(tn_stmt *st);

/* Make the statement ready to run again and clear its bindings. */
void tn_db_reset(tn_stmt *st);

/* Cancellation of long reads (the dashboard's warming thread at shutdown,
 * src/web/web_data.c).  tn_db_cancel_set installs the calling thread's check
 * (NULL removes it); while CHECK(UD) returns nonzero every statement this
 * thread steps fails (TN_ERR_DB, "cancelled"), so an analysis in progress
 * returns an error within milliseconds, through its ordinary error path.
 * tn_db_cancel_watch arms S's connection so that one long statement (an
 * aggregate over every event) stops mid-way too (SQLite: its progress
 * handler; PostgreSQL: between rows).  Threads without a check never see
 * it. */
void tn_db_cancel_set(int (*check)(void *ud), void *ud);
/* The calling thread's check and its UD (NULL: none), for a helper thread
 * working for it to install with tn_db_cancel_set. */
void tn_db_cancel_get(int (**check)(void *ud), void **ud);
void tn_db_cancel_watch(tn_store *s);
/* 1 when the calling thread's check says cancel (for long loops that do not
 * read the store). */
int tn_db_cancelled(void);

/* Bind parameter I (1-based).  Each returns TN_OK or TN_ERR_NOMEM/TN_ERR_DB;
 * a failed bind also makes the next tn_db_step fail, so a run of binds may be
 * checked once, at the step. */
int tn_db_bind_int64(tn_stmt *st, int i, int64_t v);
int tn_db_bind_double(tn_stmt *st, int i, double v); /* NaN binds NULL */
int tn_db_bind_text(tn_stmt *st, int i, const char *v); /* NULL binds NULL; copied */
int tn_db_bind_blob(tn_stmt *st, int i, const void *v, int len);
int tn_db_bind_time(tn_stmt *st, int i, tn_time t); /* TN_NO_TIME binds NULL */
int tn_db_bind_null(tn_stmt *st, int i);

/* Run one step: TN_DB_ROW (a row is current), TN_DB_DONE, or an error code
 * with ERR naming WHAT. */
int tn_db_step(tn_stmt *st, const char *what, tn_error *err);

/* Step a query that must return one row (an aggregate): TN_OK with the row
 * current, or an error -- also when it returned no row. */
int tn_db_step_row(tn_stmt *st, const char *what, tn_error *err);

/* How a read loop ended: TN_OK when STEP (the last tn_db_step result) is
 * TN_DB_DONE, else the error tn_db_step returned (ERR is already set; a loop
 * left on TN_DB_ROW is an error too). */
int tn_db_step_end(int step, tn_error *err);

/* Columns of the current row (0-based). */
int tn_db_column_count(tn_stmt *st);
const char *tn_db_column_name(tn_stmt *st, int i);
/* The number of parameters (the highest ?N). */
int tn_db_param_count(tn_stmt *st);
int tn_db_column_is_null(tn_stmt *st, int i);
int tn_db_column_is_number(tn_stmt *st, int i); /* an integer or floating-point value (not NULL) */
int64_t tn_db_column_int64(tn_stmt *st, int i);  /* 0 when NULL */
double tn_db_column_double(tn_stmt *st, int i);  /* NAN when NULL */
double tn_db_column_double0(tn_stmt *st, int i); /* 0 when NULL (as sqlite3_column_double) */
const char *tn_db_column_text(tn_stmt *st, int i); /* NULL when NULL; valid until the next step */
tn_time tn_db_column_time(tn_stmt *st, int i);   /* TN_NO_TIME when NULL */
const void *tn_db_column_blob(tn_stmt *st, int i);
int tn_db_column_bytes(tn_stmt *st, int i);

/* Rows changed by the last INSERT/UPDATE/DELETE on this store. */
long long tn_db_changes(tn_store *s);

/* A number that changes whenever another connection (of this process or
 * another) has committed to the store since the last call: SQLite's
 * PRAGMA data_version, exact and costing no scan.  -1 where the engine has
 * no such counter (PostgreSQL) or it cannot be read: poll then. */
long long tn_db_data_version(tn_store *s);

/* Which engine is behind the store: for the rare SQL that differs (keep such
 * branches in src/store/, never in an analysis). */
enum { TN_DB_SQLITE = 1, TN_DB_POSTGRES = 2 };
int tn_db_engine(const tn_store *s);

/* 1 when the last failed statement broke a constraint (UNIQUE, CHECK,
 * FOREIGN KEY, NOT NULL): the input's fault rather than the store's. */
int tn_db_constraint_failed(tn_store *s);

/* Free the statements tn_db_cached kept (tn_store_close calls it). */
void tn_db_cache_free(tn_store *s);

#endif
