/*
 * db_pg.h -- internal: the PostgreSQL engine behind db.h (libpq).
 *
 * store.c opens a tn_pg when --db is a postgresql:// (or postgres://) URL and
 * db.c hands every tn_db_* call on a PostgreSQL store to the functions here.
 * Nothing outside src/store/ includes this header.
 */
#ifndef TENURE_DB_PG_H
#define TENURE_DB_PG_H

#include <stdint.h>
#include "tenure/store.h"

typedef struct tn_pg tn_pg;
typedef struct tn_pgstmt tn_pgstmt;

/* 1 when NAME is a PostgreSQL URL (postgresql:// or postgres://). */
int tn_pg_is_url(const char *name);

/* The URL without its password (user:password@ and password=...), for every
 * message that names the store.  The caller frees it; NULL when out of memory. */
char *tn_pg_redact(const char *url);

/* Connect to URL.  NAME is the redacted URL used in messages.  Errors never
 * print the password. */
int tn_pg_open(const char *url, const char *name, tn_pg **out, tn_error *err);
void tn_pg_close(tn_pg *pg);

/* Run SQL (one or several statements, no parameters). */
int tn_pg_exec(tn_pg *pg, const char *sql, const char *what, tn_error *err);

/* 1 while a transaction (BEGIN ... COMMIT/ROLLBACK) is open on the connection. */
int tn_pg_in_txn(tn_pg *pg);

/* Portable SQL to PostgreSQL's: `?`/`?N` to $N, REAL to FLOAT8 (SQLite's
 * REAL is a double), outside string literals and quoted names.  Returns a
 * string the caller frees (NULL when out of memory); *NPARAMS the highest
 * parameter number. */
char *tn_pg_translate(const char *sql, int *nparams);

/* Statements: STREAM asks for a cursor when the statement returns rows, so
 * that a scan of a large table is fetched in batches, never whole. */
tn_pgstmt *tn_pg_prepare(tn_pg *pg, const char *sql, int stream, tn_error *err);
void tn_pg_finalize(tn_pgstmt *st);
void tn_pg_reset(tn_pgstmt *st);
/* Bind parameter I to VAL (LEN bytes; copied) of type OID (0: the server
 * infers it); VAL NULL binds NULL; BINARY for bytea. */
int tn_pg_bind(tn_pgstmt *st, int i, unsigned oid, const char *val, int len, int binary);
int tn_pg_step(tn_pgstmt *st, const char *what, tn_error *err);
int tn_pg_column_count(tn_pgstmt *st);
const char *tn_pg_column_name(tn_pgstmt *st, int i);
int tn_pg_param_count(tn_pgstmt *st);
int tn_pg_column_is_null(tn_pgstmt *st, int i);
int tn_pg_column_is_number(tn_pgstmt *st, int i);
int64_t tn_pg_column_int64(tn_pgstmt *st, int i);
double tn_pg_column_double(tn_pgstmt *st, int i);
const char *tn_pg_column_text(tn_pgstmt *st, int i);
const void *tn_pg_column_blob(tn_pgstmt *st, int i);
int tn_pg_column_bytes(tn_pgstmt *st, int i);
long long tn_pg_changes(tn_pg *pg);
/* 1 when the last failed statement broke a constraint (SQLSTATE class 23). */
int tn_pg_constraint_failed(tn_pg *pg);

/* COPY ... FROM STDIN: begin with the COPY statement, put text-format rows,
 * end (which reports the server's verdict and the rows copied in *ROWS). */
int tn_pg_copy_begin(tn_pg *pg, const char *sql, tn_error *err);
int tn_pg_copy_put(tn_pg *pg, const char *buf, size_t len, tn_error *err);
int tn_pg_copy_end(tn_pg *pg, long long *rows, tn_error *err);
/* A streaming COPY (the bulk load's): rows are queued without waiting for
 * the server and sent while the caller reads on (tn_pg_copy_poll), so that
 * tenure and the server work at the same time.  tn_pg_copy_queue with WAIT
 * first waits until what was queued before has gone (memory stays bounded to
 * one batch).  It stays open across the caller's calls: tn_pg_copy_end ends
 * it, and so does any other statement on the connection (which then reports
 * the COPY's failure, if any). */
int tn_pg_copy_stream(tn_pg *pg, const char *sql, tn_error *err);
int tn_pg_copy_is_open(tn_pg *pg);
int tn_pg_copy_queue(tn_pg *pg, const char *buf, size_t len, int wait, tn_error *err);
void tn_pg_copy_poll(tn_pg *pg);

/* Migrations on PostgreSQL: the SQL run before migration 1 (SQLite's JSON
 * functions for CHECK constraints), and a migration's SQLite DDL turned into
 * PostgreSQL's (INTEGER -> BIGINT, INTEGER PRIMARY KEY -> identity, REAL ->
 * DOUBLE PRECISION, BLOB -> BYTEA, WITHOUT ROWID dropped).  The caller frees. */
extern const char tn_pg_prelude[];
char *tn_pg_ddl(const char *sql);

/* The connection behind a PostgreSQL store (NULL on SQLite; store.c). */
tn_pg *tn_store_pg(tn_store *s);

#endif
