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
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/store_sqlite.h"

#define DB_CACHE_MAX 64

struct tn_stmt {
	tn_store *s;
	sqlite3_stmt *st;
	int cached;
};

typedef struct db_cache {
	size_t n;
	struct { const char *sql; tn_stmt *st; } e[DB_CACHE_MAX];
} db_cache;

static tn_stmt *wrap(tn_store *s, const char *sql, unsigned flags, tn_error *err)
{
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
	st->cached = 0;
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
	free(st);
}

void tn_db_reset(tn_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
}

static int bound(int rc)
{
	if (rc == SQLITE_OK)
		return TN_OK;
	return rc == SQLITE_NOMEM ? TN_ERR_NOMEM : TN_ERR_DB;
}

int tn_db_bind_int64(tn_stmt *st, int i, int64_t v)
{
	return bound(sqlite3_bind_int64(st->st, i, v));
}

int tn_db_bind_double(tn_stmt *st, int i, double v)
{
	return bound(isnan(v) ? sqlite3_bind_null(st->st, i) : sqlite3_bind_double(st->st, i, v));
}

int tn_db_bind_text(tn_stmt *st, int i, const char *v)
{
	return bound(v ? sqlite3_bind_text(st->st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st->st, i));
}

int tn_db_bind_blob(tn_stmt *st, int i, const void *v, int len)
{
	return bound(sqlite3_bind_blob(st->st, i, v, len, SQLITE_TRANSIENT));
}

int tn_db_bind_time(tn_stmt *st, int i, tn_time t)
{
	return bound(t == TN_NO_TIME ? sqlite3_bind_null(st->st, i) : sqlite3_bind_int64(st->st, i, t));
}

int tn_db_bind_null(tn_stmt *st, int i)
{
	return bound(sqlite3_bind_null(st->st, i));
}

int tn_db_step(tn_stmt *st, const char *what, tn_error *err)
{
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

int tn_db_column_count(tn_stmt *st) { return sqlite3_column_count(st->st); }
int tn_db_column_is_null(tn_stmt *st, int i) { return sqlite3_column_type(st->st, i) == SQLITE_NULL; }
int64_t tn_db_column_int64(tn_stmt *st, int i) { return sqlite3_column_int64(st->st, i); }

double tn_db_column_double(tn_stmt *st, int i)
{
	return tn_db_column_is_null(st, i) ? NAN : sqlite3_column_double(st->st, i);
}

const char *tn_db_column_text(tn_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->st, i);
}

tn_time tn_db_column_time(tn_stmt *st, int i)
{
	return tn_db_column_is_null(st, i) ? TN_NO_TIME : sqlite3_column_int64(st->st, i);
}

const void *tn_db_column_blob(tn_stmt *st, int i) { return sqlite3_column_blob(st->st, i); }
int tn_db_column_bytes(tn_stmt *st, int i) { return sqlite3_column_bytes(st->st, i); }

long long tn_db_changes(tn_store *s) { return sqlite3_changes64(tn_store_sqlite(s)); }

int tn_db_engine(const tn_store *s)
{
	(void)s;
	return TN_DB_SQLITE;
}
