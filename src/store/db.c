/*
 * db.c -- the SQL interface (db.h) on SQLite.
 *
 * A tn_stmt wraps the engine's statement together with its store, so that
 * errors name the store and a second engine can sit behind the same calls.
 * Cached statements live in a small table owned by the store, keyed by the
 * address of their SQL text (a string constant), as tn_store_cached does.
 */
#include "store/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/db_pg.h"
#include "store/store_sqlite.h"

#define DB_CACHE_MAX 64

struct tn_stmt {
	tn_store *s;
	sqlite3_stmt *st;
	tn_pgstmt *pg; /* on a PostgreSQL store, instead of st */
	int cached;
};

typedef struct db_cache {
	size_t n;
	struct { const char *sql; tn_stmt *st; } e[DB_CACHE_MAX];
} db_cache;

static tn_stmt *wrap(tn_store *s, const char *sql, unsigned flags, tn_error *err)
{
	tn_pg *pg = tn_store_pg(s);
	if (pg) {
		/* a statement made once and kept is a lookup or a write run in a
		 * loop; one prepared for a run is a scan: a cursor */
		tn_pgstmt *p = tn_pg_prepare(pg, sql, !(flags & SQLITE_PREPARE_PERSISTENT), err);
		if (!p)
			return NULL;
		tn_stmt *st = tn_calloc(1, sizeof *st);
		if (!st) {
			tn_pg_finalize(p);
			tn_error_set(err, TN_ERR_NOMEM, "out of memory preparing a query");
			return NULL;
		}
		st->s = s;
		st->pg = p;
		return st;
	}
	sqlite3_stmt *raw = NULL;
	if (sqlite3_prepare_v3(tn_store_sqlite(s), sql, -1, flags, &raw, NULL) != SQLITE_OK) {
		tn_store_db_error(s, "preparing a query", err);
		return NULL;
	}
	tn_stmt *st = tn_malloc(sizeof *st);
	if (!st) {
		sqlite3_finalize(raw);
		tn_error_set(err, TN_ERR_NOMEM, "out of memory preparing a query");
		return NULL;
	}
	st->s = s;
	st->st = raw;
	st->pg = NULL;
	st->cached = 0;
	return st;
}

tn_stmt *tn_db_wrap_sqlite(tn_store *s, sqlite3_stmt *raw)
{
	tn_stmt *st = tn_calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->s = s;
	st->st = raw;
	return st;
}

tn_stmt *tn_db_prepare(tn_store *s, const char *sql, tn_error *err)
{
	return wrap(s, sql, 0, err);
}

tn_stmt *tn_db_cached(tn_store *s, const char *sql, tn_error *err)
{
	void **slot = tn_store_db_cache_slot(s);
	db_cache *c = *slot;
	if (!c) {
		c = tn_calloc(1, sizeof *c);
		if (!c) {
			tn_error_set(err, TN_ERR_NOMEM, "out of memory preparing a query");
			return NULL;
		}
		*slot = c;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].sql == sql)
			return c->e[i].st;
	if (c->n == DB_CACHE_MAX) {
		tn_error_set(err, TN_ERR_DB, "%s: more than %d cached statements", tn_store_path(s), DB_CACHE_MAX);
		return NULL;
	}
	tn_stmt *st = wrap(s, sql, SQLITE_PREPARE_PERSISTENT, err);
	if (!st)
		return NULL;
	st->cached = 1;
	c->e[c->n].sql = sql;
	c->e[c->n++].st = st;
	return st;
}

void tn_db_cache_free(tn_store *s)
{
	void **slot = tn_store_db_cache_slot(s);
	db_cache *c = *slot;
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		sqlite3_finalize(c->e[i].st->st);
		tn_pg_finalize(c->e[i].st->pg);
		free(c->e[i].st);
	}
	free(c);
	*slot = NULL;
}

void tn_db_finalize(tn_stmt *st)
{
	if (!st)
		return;
	if (st->cached) {
		tn_db_reset(st);
		return;
	}
	sqlite3_finalize(st->st);
	tn_pg_finalize(st->pg);
	free(st);
}

void tn_db_reset(tn_stmt *st)
{
	if (st->pg) {
		tn_pg_reset(st->pg);
		return;
	}
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
}

static int bound(int rc)
{
	if (rc == SQLITE_OK)
		return TN_OK;
	return rc == SQLITE_NOMEM ? TN_ERR_NOMEM : TN_ERR_DB;
}

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_FLOAT8 701

static int pg_int(tn_stmt *st, int i, int64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%lld", (long long)v);
	return tn_pg_bind(st->pg, i, OID_INT8, b, -1, 0);
}

int tn_db_bind_int64(tn_stmt *st, int i, int64_t v)
{
	if (st->pg)
		return pg_int(st, i, v);
	return bound(sqlite3_bind_int64(st->st, i, v));
}

int tn_db_bind_double(tn_stmt *st, int i, double v)
{
	if (st->pg) {
		char b[32];
		if (isnan(v))
			return tn_pg_bind(st->pg, i, 0, NULL, 0, 0);
		if (isinf(v))
			snprintf(b, sizeof b, "%s", v > 0 ? "Infinity" : "-Infinity");
		else
			snprintf(b, sizeof b, "%.17g", v);
		return tn_pg_bind(st->pg, i, OID_FLOAT8, b, -1, 0);
	}
	return bound(isnan(v) ? sqlite3_bind_null(st->st, i) : sqlite3_bind_double(st->st, i, v));
}

int tn_db_bind_text(tn_stmt *st, int i, const char *v)
{
	if (st->pg)
		return tn_pg_bind(st->pg, i, 0, v, -1, 0);
	return bound(v ? sqlite3_bind_text(st->st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st->st, i));
}

int tn_db_bind_blob(tn_stmt *st, int i, const void *v, int len)
{
	if (st->pg)
		return tn_pg_bind(st->pg, i, OID_BYTEA, v ? v : "", len, 1);
	return bound(sqlite3_bind_blob(st->st, i, v, len, SQLITE_TRANSIENT));
}

int tn_db_bind_time(tn_stmt *st, int i, tn_time t)
{
	if (st->pg)
		return t == TN_NO_TIME ? tn_pg_bind(st->pg, i, 0, NULL, 0, 0) : pg_int(st, i, t);
	return bound(t == TN_NO_TIME ? sqlite3_bind_null(st->st, i) : sqlite3_bind_int64(st->st, i, t));
}

int tn_db_bind_null(tn_stmt *st, int i)
{
	if (st->pg)
		return tn_pg_bind(st->pg, i, 0, NULL, 0, 0);
	return bound(sqlite3_bind_null(st->st, i));
}

static _Thread_local int (*cancel_check)(void *);
static _Thread_local void *cancel_ud;

void tn_db_cancel_set(int (*check)(void *ud), void *ud)
{
	cancel_check = check;
	cancel_ud = ud;
}

void tn_db_cancel_get(int (**check)(void *ud), void **ud)
{
	*check = cancel_check;
	*ud = cancel_ud;
}

int tn_db_cancelled(void) { return cancel_check && cancel_check(cancel_ud); }

/* SQLite's progress handler runs on the thread stepping the statement: a
 * nonzero answer interrupts it (SQLITE_INTERRUPT) */
static int on_progress(void *ud)
{
	(void)ud;
	return tn_db_cancelled();
}

void tn_db_cancel_watch(tn_store *s)
{
	if (!tn_store_pg(s))
		sqlite3_progress_handler(tn_store_sqlite(s), 10000, on_progress, NULL);
}

int tn_db_step(tn_stmt *st, const char *what, tn_error *err)
{
	if (cancel_check && cancel_check(cancel_ud))
		return tn_error_set(err, TN_ERR_DB, "%s: %s: cancelled", tn_store_path(st->s), what);
	if (st->pg)
		return tn_pg_step(st->pg, what, err);
	int rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return TN_DB_ROW;
	if (rc == SQLITE_DONE)
		return TN_DB_DONE;
	if (rc == SQLITE_NOMEM)
		return tn_error_set(err, TN_ERR_NOMEM, "%s: %s: out of memory", tn_store_path(st->s), what);
	return tn_store_db_error(st->s, what, err);
}

int tn_db_step_row(tn_stmt *st, const char *what, tn_error *err)
{
	int rc = tn_db_step(st, what, err);
	if (rc == TN_DB_ROW)
		return TN_OK;
	if (rc == TN_DB_DONE)
		return tn_error_set(err, TN_ERR_DB, "%s: %s: the query returned no row", tn_store_path(st->s), what);
	return rc;
}

int tn_db_column_count(tn_stmt *st) { return st->pg ? tn_pg_column_count(st->pg) : sqlite3_column_count(st->st); }

const char *tn_db_column_name(tn_stmt *st, int i)
{
	return st->pg ? tn_pg_column_name(st->pg, i) : sqlite3_column_name(st->st, i);
}

int tn_db_param_count(tn_stmt *st)
{
	return st->pg ? tn_pg_param_count(st->pg) : sqlite3_bind_parameter_count(st->st);
}

int tn_db_column_is_null(tn_stmt *st, int i)
{
	return st->pg ? tn_pg_column_is_null(st->pg, i) : sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

int64_t tn_db_column_int64(tn_stmt *st, int i)
{
	return st->pg ? tn_pg_column_int64(st->pg, i) : sqlite3_column_int64(st->st, i);
}

double tn_db_column_double(tn_stmt *st, int i)
{
	if (st->pg)
		return tn_pg_column_double(st->pg, i);
	return tn_db_column_is_null(st, i) ? NAN : sqlite3_column_double(st->st, i);
}

int tn_db_column_is_number(tn_stmt *st, int i)
{
	if (st->pg)
		return tn_pg_column_is_number(st->pg, i);
	int t = sqlite3_column_type(st->st, i);
	return t == SQLITE_INTEGER || t == SQLITE_FLOAT;
}

double tn_db_column_double0(tn_stmt *st, int i)
{
	if (st->pg)
		return tn_pg_column_is_null(st->pg, i) ? 0 : tn_pg_column_double(st->pg, i);
	return sqlite3_column_double(st->st, i);
}

int tn_db_step_end(int step, tn_error *err)
{
	if (step == TN_DB_DONE)
		return TN_OK;
	if (step == TN_DB_ROW)
		return tn_error_set(err, TN_ERR_DB, "internal: a read loop stopped before its last row");
	return step ? step : tn_error_code(err, TN_ERR_DB);
}

const char *tn_db_column_text(tn_stmt *st, int i)
{
	if (st->pg)
		return tn_pg_column_text(st->pg, i);
	return (const char *)sqlite3_column_text(st->st, i);
}

tn_time tn_db_column_time(tn_stmt *st, int i)
{
	return tn_db_column_is_null(st, i) ? TN_NO_TIME : tn_db_column_int64(st, i);
}

const void *tn_db_column_blob(tn_stmt *st, int i)
{
	return st->pg ? tn_pg_column_blob(st->pg, i) : sqlite3_column_blob(st->st, i);
}

int tn_db_column_bytes(tn_stmt *st, int i)
{
	return st->pg ? tn_pg_column_bytes(st->pg, i) : sqlite3_column_bytes(st->st, i);
}

long long tn_db_changes(tn_store *s)
{
	tn_pg *pg = tn_store_pg(s);
	return pg ? tn_pg_changes(pg) : sqlite3_changes64(tn_store_sqlite(s));
}

long long tn_db_data_version(tn_store *s)
{
	if (tn_store_pg(s))
		return -1;
	tn_error err = {0};
	tn_stmt *st = tn_db_cached(s, "PRAGMA data_version", &err);
	if (!st)
		return -1;
	long long v = tn_db_step_row(st, "reading the data version counter", &err) == TN_OK ? tn_db_column_int64(st, 0) : -1;
	tn_db_reset(st);
	return v;
}

int tn_db_engine(const tn_store *s)
{
	return tn_store_pg((tn_store *)s) ? TN_DB_POSTGRES : TN_DB_SQLITE;
}

int tn_db_constraint_failed(tn_store *s)
{
	tn_pg *pg = tn_store_pg(s);
	return pg ? tn_pg_constraint_failed(pg) : (sqlite3_errcode(tn_store_sqlite(s)) & 0xff) == SQLITE_CONSTRAINT;
}
