/*
 * web_store.c -- what the dashboard keeps in the store (migration 14), in
 * portable SQL through db.h: its sessions (the SHA-256 of the cookie's token,
 * never the token, with the key and the expiry) and the audit of its
 * state-changing actions.
 */
#include "web/web_internal.h"
#include "store/db.h"
#include "base/alloc.h"

#include <stdlib.h>

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
	tn_db_bind_int64(st, 1, (int64_t)tn_now());
	tn_db_bind_int64(st, 2, key_id);
	tn_db_bind_text(st, 3, action);
	tn_db_bind_text(st, 4, target ? target : "");
	tn_db_bind_text(st, 5, outcome);
	tn_db_bind_text(st, 6, detail);
	int rc = tn_db_step(st, "writing the dashboard's audit", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

/* ---- the data version and the persisted figures (migration 19) ---- */

/* What the dashboard's analyses read, as indexed maxima (no scan): the
 * newest row of each table they read (a new customer, subscription,
 * payment, answer, alert, journaled event -- the highest id the journal has
 * given, which a fold leaves as it is: the same events, moved --, plan,
 * campaign, contact or points entry), the events' first and last instants the writers keep in
 * meta, the data's end, the latest cancellation and period end (a
 * cancellation or a renewal updates a subscription in place), the
 * reporting currency and the events journal's fold mark, the alerts'
 * latest resolution and acknowledgement, the offer plans' latest approval
 * and withdrawal.  A write the figures do not read (sessions, the audit,
 * feedback labels, the outbox, jobs) leaves it as it is; the dashboard's
 * own writes (an acknowledgement, an approval) move it, and the values
 * they do not touch are carried over (web_data_own_write). */
static const char version_sql[] =
	"SELECT (SELECT max(id) FROM customers), (SELECT max(id) FROM subscriptions), "
	"(SELECT max(id) FROM payments), (SELECT max(id) FROM feedback), (SELECT max(id) FROM alerts), "
	"(" TN_STORE_JOURNAL_HIGH_SQL "), (SELECT max(id) FROM offer_plans), (SELECT max(id) FROM campaigns), "
	"(SELECT max(id) FROM winback_contacts), (SELECT max(id) FROM points_ledger), "
	"(SELECT max(cancelled_at) FROM subscriptions), (SELECT max(current_period_end) FROM subscriptions), "
	"(SELECT max(value) FROM meta WHERE key = 'events_last'), (SELECT max(value) FROM meta WHERE key = 'events_first'), "
	"(SELECT max(value) FROM meta WHERE key = 'data_end'), (SELECT max(value) FROM meta WHERE key = 'events_fold_upto'), "
	"(SELECT max(value) FROM meta WHERE key = 'reporting_currency'), (SELECT count(*) FROM churn_definitions), "
	"(SELECT max(resolved_at) FROM alerts), (SELECT max(acked_at) FROM alerts), "
	"(SELECT max(approved_at) FROM offer_plan_approvals), (SELECT max(withdrawn_at) FROM offer_plan_approvals)";

int web_store_data_version(tn_store *s, long long *version, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, version_sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step_row(st, "reading the data version", err);
	if (rc == TN_OK) {
		/* FNV-1a over the columns' text (NULL as a mark of its own) */
		unsigned long long h = 1469598103934665603ULL;
		int n = tn_db_column_count(st);
		for (int i = 0; i < n; i++) {
			const char *v = tn_db_column_text(st, i);
			for (const char *p = v ? v : "\x01"; *p; p++)
				h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			h = (h ^ 0xff) * 1099511628211ULL;
		}
		*version = (long long)(h >> 1);
	}
	tn_db_reset(st);
	return rc;
}

int web_store_cache_put(tn_store *s, const char *key, long long version, double computed_at, double took,
			const void *value, size_t len, tn_error *err)
{
	if (len > 1000000000)
		return tn_error_set(err, TN_ERR_INPUT, "dashboard value %s too large to keep (%zu bytes)", key, len);
	tn_stmt *st = tn_db_prepare(s,
				    "INSERT INTO dashboard_cache(key, version, computed_at, took, value) "
				    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO UPDATE SET version = excluded.version, "
				    "computed_at = excluded.computed_at, took = excluded.took, value = excluded.value",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	tn_db_bind_int64(st, 2, version);
	tn_db_bind_double(st, 3, computed_at);
	tn_db_bind_double(st, 4, took);
	tn_db_bind_blob(st, 5, value, (int)len);
	int rc = tn_db_step(st, "keeping a dashboard value", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int web_store_cache_each(tn_store *s, int (*want)(void *ctx, const char *key),
			 int (*fn)(void *ctx, const char *key, long long version, double computed_at, double took,
				   const void *value, size_t len),
			 void *ctx, tn_error *err)
{
	/* the keys, smallest value first (length() reads no blob), the tails
	 * of the large values last, then each value: a page waiting for a small
	 * one is not held up by the largest (every live customer's /who
	 * scores); a tail comes after its head */
	tn_stmt *st = tn_db_prepare(
		s, "SELECT key FROM dashboard_cache ORDER BY CASE WHEN key LIKE '%t' THEN 1 ELSE 0 END, length(value), key",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	char **keys = NULL;
	size_t n = 0, cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "reading the kept dashboard values", err)) == TN_DB_ROW && n < 1000) {
		const char *k = tn_db_column_text(st, 0);
		if (want && !want(ctx, k ? k : ""))
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 32;
			char **t = tn_realloc(keys, nc * sizeof *t);
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			keys = t;
			cap = nc;
		}
		if (!(keys[n] = tn_strdup(k ? k : ""))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		n++;
	}
	if (!rc && step != TN_DB_DONE && step != TN_DB_ROW)
		rc = tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	st = rc ? NULL
		: tn_db_prepare(s, "SELECT version, computed_at, took, value FROM dashboard_cache WHERE key = ?1", err);
	if (!rc && !st)
		rc = tn_error_code(err, TN_ERR_DB);
	int stop = 0;
	for (size_t i = 0; !rc && !stop && i < n; i++) {
		tn_db_bind_text(st, 1, keys[i]);
		step = tn_db_step(st, "reading a kept dashboard value", err);
		if (step == TN_DB_ROW) {
			const void *v = tn_db_column_blob(st, 3);
			int len = tn_db_column_bytes(st, 3);
			if (len >= 0)
				stop = fn(ctx, keys[i], tn_db_column_int64(st, 0), tn_db_column_double0(st, 1),
					  tn_db_column_double0(st, 2), v ? v : "", (size_t)len);
		} else if (step != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		tn_db_reset(st);
	}
	tn_db_finalize(st);
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

int web_store_cache_forget(tn_store *s, const char *like, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "DELETE FROM dashboard_cache WHERE key LIKE ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, like);
	int rc = tn_db_step(st, "forgetting kept dashboard values", err) == TN_DB_DONE ? TN_OK
											 : tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int web_store_cache_rebase(tn_store *s, long long before, long long after, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "UPDATE dashboard_cache SET version = ?2 WHERE version = ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, before);
	tn_db_bind_int64(st, 2, after);
	int rc = tn_db_step(st, "moving the kept dashboard values", err) == TN_DB_DONE ? TN_OK
											: tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}
