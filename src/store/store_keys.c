/*
 * store_keys.c -- the API keys of `tenure serve` in the store (api_keys
 * table, schema version 6).  Only a key's SHA-256 hash and its first few
 * characters are stored; creating and checking keys is src/server/auth.c.
 */
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_scope(const char *s)
{
	return strcmp(s, "ingest") == 0 || strcmp(s, "read") == 0 || strcmp(s, "admin") == 0;
}

int tn_store_key_add(tn_store *s, const tn_api_key *k, int64_t *id, tn_error *err)
{
	if (!valid_scope(k->scope))
		return tn_error_set(err, TN_ERR_INPUT, "scope: expected ingest, read or admin, found \"%s\"", k->scope);
	tn_stmt *st = tn_db_prepare(s,
					    "INSERT INTO api_keys(name, scope, prefix, hash, created_at) "
					    "VALUES(?1, ?2, ?3, ?4, ?5) RETURNING id",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, k->name);
	tn_db_bind_text(st, 2, k->scope);
	tn_db_bind_text(st, 3, k->prefix);
	tn_db_bind_blob(st, 4, k->hash, (int)( (int)sizeof k->hash));
	tn_db_bind_int64(st, 5, k->created_at);
	int rc = tn_db_step(st, "adding a key", err);
	if (rc == TN_DB_ROW)
		*id = tn_db_column_int64(st, 0);
	rc = rc == TN_DB_ROW && tn_db_step(st, "adding a key", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "adding a key", err);
	tn_db_finalize(st);
	return rc;
}

int tn_store_keys_list(tn_store *s, tn_api_key **keys, size_t *n, tn_error *err)
{
	*keys = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT id, name, scope, prefix, hash, created_at, revoked_at FROM api_keys "
					    "ORDER BY id",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	int rc;
	while ((rc = tn_db_step(st, "reading keys", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			tn_api_key *p = tn_realloc(*keys, nc * sizeof *p);
			if (!p) {
				tn_db_finalize(st);
				free(*keys);
				*keys = NULL;
				*n = 0;
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			}
			*keys = p;
			cap = nc;
		}
		tn_api_key *k = &(*keys)[(*n)++];
		memset(k, 0, sizeof *k);
		k->id = tn_db_column_int64(st, 0);
		snprintf(k->name, sizeof k->name, "%s", tn_db_column_text(st, 1));
		snprintf(k->scope, sizeof k->scope, "%s", tn_db_column_text(st, 2));
		snprintf(k->prefix, sizeof k->prefix, "%s", tn_db_column_text(st, 3));
		if (tn_db_column_bytes(st, 4) == (int)sizeof k->hash)
			memcpy(k->hash, tn_db_column_blob(st, 4), sizeof k->hash);
		k->created_at = tn_db_column_int64(st, 5);
		k->revoked_at = tn_db_column_is_null(st, 6) ? TN_NO_TIME : tn_db_column_int64(st, 6);
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		free(*keys);
		*keys = NULL;
		*n = 0;
		return tn_store_db_error(s, "reading keys", err);
	}
	return TN_OK;
}

int tn_store_key_revoke(tn_store *s, int64_t id, tn_time now, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, id);
	tn_db_bind_int64(st, 2, now);
	int rc = tn_db_step(st, "revoking a key", err);
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		return tn_store_db_error(s, "revoking a key", err);
	if (tn_db_changes(s) == 0)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no valid key with id %lld (see `tenure keys list`)",
				    (long long)id);
	return TN_OK;
}
