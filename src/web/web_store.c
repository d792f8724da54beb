/*
 * web_store.c -- what the dashboard keeps in the store (migration 14), in
 * portable SQL through db.h: its sessions (the SHA-256 of the cookie's token,
 * never the token, with the key and the expiry) and the audit of its
 * state-changing actions.
 */
#include "web/web_internal.h"
#include "store/db.h"

#include <time.h>

int web_session_save(tn_store *s, const char *hash, int64_t key_id, int64_t now, int64_t expires, tn_error *err)
{
	/* the expired rows go first, so the table holds live sessions only */
	tn_stmt *st = tn_db_prepare(s, "DELETE FROM web_sessions WHERE expires_at < ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	int rc = tn_db_step(st, "forgetting expired sessions", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	if (rc)
		return rc;
	st = tn_db_prepare(s,
			   "INSERT INTO web_sessions(token_hash, key_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)"
			   " ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at",
			   err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, hash);
	tn_db_bind_int64(st, 2, key_id);
	tn_db_bind_int64(st, 3, now);
	tn_db_bind_int64(st, 4, expires);
	rc = tn_db_step(st, "saving a session", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int web_session_load(tn_store *s, const char *hash, int64_t now, int64_t *key_id, int64_t *expires, int *found,
		     tn_error *err)
{
	*found = 0;
	tn_stmt *st = tn_db_prepare(s, "SELECT key_id, expires_at FROM web_sessions WHERE token_hash = ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, hash);
	int step = tn_db_step(st, "reading a session", err);
	int expired = 0;
	if (step == TN_DB_ROW) {
		*key_id = tn_db_column_int64(st, 0);
		*expires = tn_db_column_int64(st, 1);
		expired = *expires < now;
		*found = !expired;
		step = TN_DB_DONE;
	}
	tn_db_finalize(st);
	if (step != TN_DB_DONE)
		return tn_error_code(err, TN_ERR_DB);
	return expired ? web_session_delete(s, hash, err) : TN_OK;
}

int web_session_delete(tn_store *s, const char *hash, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "DELETE FROM web_sessions WHERE token_hash = ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, hash);
	int rc = tn_db_step(st, "ending a session", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int web_audit(tn_store *s, int64_t key_id, const char *action, const char *target, const char *outcome,
	      const char *detail, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s,
				    "INSERT INTO web_audit(at, key_id, action, target, outcome, detail)"
				    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, (int64_t)time(NULL));
	tn_db_bind_int64(st, 2, key_id);
	tn_db_bind_text(st, 3, action);
	tn_db_bind_text(st, 4, target ? target : "");
	tn_db_bind_text(st, 5, outcome);
	tn_db_bind_text(st, 6, detail);
	int rc = tn_db_step(st, "writing the dashboard's audit", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}
