/*
 * outbox.c -- the outbox: signed webhooks and e-mail queued in the same
 * transaction as what caused them, delivered at least once over libcurl's
 * multi interface, retried with exponential backoff and jitter, parked as
 * dead letters after N failures, replayable (include/tenure/outbox.h).
 */
#include "actions/outbox_internal.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small SQL helpers (shared with email.c, consent.c, jobs.c) ------------ */

int ob_meta_get(tn_store *s, const char *key, char **value, tn_error *err)
{
	*value = NULL;
	tn_stmt *st = tn_db_cached(s, "SELECT value FROM meta WHERE key = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	int rc = tn_db_step(st, "reading a setting", err);
	if (rc == TN_DB_ROW) {
		const char *v = tn_db_column_text(st, 0);
		*value = tn_strdup(v ? v : "");
		rc = *value ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory reading a setting");
	} else if (rc == TN_DB_DONE) {
		rc = TN_OK;
	}
	tn_db_reset(st);
	return rc;
}

int ob_step_done(tn_stmt *st, const char *what, tn_error *err)
{
	int rc = tn_db_step(st, what, err);
	if (rc == TN_DB_DONE)
		return TN_OK;
	if (rc == TN_DB_ROW)
		return tn_error_set(err, TN_ERR_DB, "%s: unexpected rows", what);
	return rc;
}

int ob_meta_set(tn_store *s, const char *key, const char *value, tn_error *err)
{
	tn_stmt *st = tn_db_cached(
		s, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	tn_db_bind_text(st, 2, value);
	int rc = ob_step_done(st, "writing a setting", err);
	tn_db_reset(st);
	return rc;
}

int ob_exec(tn_store *s, const char *sql, const char *what, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = ob_step_done(st, what, err);
	tn_db_finalize(st);
	return rc;
}

int ob_customer_key(tn_store *s, const char *ext_id, int64_t *key, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, "SELECT id FROM customers WHERE ext_id = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, ext_id);
	int rc = tn_db_step(st, "finding a customer", err);
	if (rc == TN_DB_ROW) {
		*key = tn_db_column_int64(st, 0);
		rc = TN_OK;
	} else if (rc == TN_DB_DONE) {
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "no customer \"%s\"", ext_id);
	}
	tn_db_reset(st);
	return rc;
}

int ob_hmac_hex(const char *key, size_t keylen, const void *msg, size_t len, char out[65], tn_error *err)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, len, mac, &mlen) || mlen != 32)
		return tn_error_set(err, TN_ERR_IO, "HMAC-SHA256 failed (OpenSSL)");
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hx[mac[i] >> 4];
		out[2 * i + 1] = hx[mac[i] & 15];
	}
	out[64] = '\0';
	return TN_OK;
}

/* ---- webhooks ----------------------------------------------------------------- */

static int event_known(const char *e, size_t len)
{
	static const char *const ev[] = {"alert", "winback", "offer", "survey", "contract_ending", "test", NULL};
	for (size_t i = 0; ev[i]; i++)
		if (strlen(ev[i]) == len && memcmp(ev[i], e, len) == 0)
			return 1;
	return 0;
}

/* Does the comma list LIST name EVENT (or "all")? */
static int list_has(const char *list, const char *event)
{
	size_t el = strlen(event);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if ((l == 3 && memcmp(p, "all", 3) == 0) || (l == el && memcmp(p, event, l) == 0))
			return 1;
		p += l + (c != NULL);
	}
	return 0;
}

int tn_webhook_add(tn_store *s, const char *url, const char *events, const char *secret, tn_time now, int64_t *id,
		   tn_error *err)
{
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || strlen(url) > 2000 ||
	    strpbrk(url, " \t\r\n"))
		return tn_error_set(err, TN_ERR_USAGE, "webhook URL: expected http://... or https://..., found \"%s\"",
				    url ? url : "");
	if (!secret || strlen(secret) < 16 || strlen(secret) > 256)
		return tn_error_set(err, TN_ERR_USAGE, "webhook secret: expected 16 to 256 characters, found %zu",
				    secret ? strlen(secret) : 0);
	if (!events || !*events)
		return tn_error_set(err, TN_ERR_USAGE, "webhook events: expected a list from %s, or all",
				    TN_OUTBOX_EVENTS);
	for (const char *p = events; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (!(l == 3 && memcmp(p, "all", 3) == 0) && !event_known(p, l))
			return tn_error_set(err, TN_ERR_USAGE, "webhook events: unknown event \"%.*s\" (known: %s, all)",
					    (int)l, p, TN_OUTBOX_EVENTS);
		p += l + (c != NULL);
	}
	tn_stmt *st = tn_db_prepare(
		s, "INSERT INTO webhooks(url, events, secret, created_at) VALUES (?, ?, ?, ?) RETURNING id", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, url);
	tn_db_bind_text(st, 2, events);
	tn_db_bind_text(st, 3, secret);
	tn_db_bind_time(st, 4, now);
	int rc = tn_db_step(st, "adding a webhook", err);
	if (rc == TN_DB_ROW) {
		*id = tn_db_column_int64(st, 0);
		rc = tn_db_step(st, "adding a webhook", err) == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
	} else if (rc == TN_DB_DONE) {
		rc = tn_error_set(err, TN_ERR_DB, "adding a webhook: no id returned");
	}
	tn_db_finalize(st);
	return rc;
}

void tn_webhook_list_free(tn_webhook *w, size_t n)
{
	for (size_t i = 0; w && i < n; i++) {
		free(w[i].url);
		free(w[i].events);
		free(w[i].secret);
	}
	free(w);
}

int tn_webhook_list(tn_store *s, tn_webhook **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s, "SELECT id, url, events, secret, created_at FROM webhooks WHERE removed_at IS NULL ORDER BY id", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	int rc;
	while ((rc = tn_db_step(st, "listing webhooks", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 8;
			tn_webhook *t = nc <= 100000 ? tn_realloc(*out, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing webhooks");
				break;
			}
			*out = t;
			cap = nc;
		}
		tn_webhook *w = &(*out)[(*n)++];
		w->id = tn_db_column_int64(st, 0);
		w->url = tn_strdup(tn_db_column_text(st, 1));
		w->events = tn_strdup(tn_db_column_text(st, 2));
		w->secret = tn_strdup(tn_db_column_text(st, 3));
		w->created_at = tn_db_column_time(st, 4);
		if (!w->url || !w->events || !w->secret) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing webhooks");
			break;
		}
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		tn_webhook_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

int tn_webhook_remove(tn_store *s, int64_t id, tn_time now, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = tn_db_prepare(s, "UPDATE webhooks SET removed_at = ? WHERE id = ? AND removed_at IS NULL", err);
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		tn_db_bind_time(st, 1, now);
		tn_db_bind_int64(st, 2, id);
		rc = ob_step_done(st, "removing a webhook", err);
		if (!rc && tn_db_changes(s) == 0)
			rc = tn_error_set(err, TN_ERR_NOTFOUND, "no webhook %lld (see `tenure webhooks list`)",
					  (long long)id);
	}
	tn_db_finalize(st);
	if (!rc) {
		st = tn_db_prepare(s,
				   "UPDATE outbox SET status = 'dead', last_error = 'webhook removed' WHERE webhook_id = ? "
				   "AND status = 'pending'",
				   err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_int64(st, 1, id);
			rc = ob_step_done(st, "parking a removed webhook's messages", err);
		}
		tn_db_finalize(st);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

int tn_webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char *out, tn_error *err)
{
	char ts[24];
	int tl = snprintf(ts, sizeof ts, "%lld.", (long long)t);
	size_t n = (size_t)tl + len;
	char *msg = tn_malloc(n ? n : 1);
	if (!msg)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory signing a message");
	memcpy(msg, ts, (size_t)tl);
	if (len)
		memcpy(msg + tl, body, len);
	char hex[65];
	int rc = ob_hmac_hex(secret, strlen(secret), msg, n, hex, err);
	free(msg);
	if (!rc)
		snprintf(out, TN_SIGNATURE_MAX, "t=%lld,v1=%s", (long long)t, hex);
	return rc;
}

int tn_webhook_verify(const char *secret, const char *header, const char *body, size_t len, int64_t now,
		      int64_t tolerance, tn_error *err)
{
	if (!header || strlen(header) > 1024)
		return tn_error_set(err, TN_ERR_INPUT, "signature: missing or too long");
	long long t = 0;
	int have_t = 0;
	const char *v1[8];
	size_t nv = 0;
	for (const char *p = header; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l > 2 && p[0] == 't' && p[1] == '=') {
			char *end;
			t = strtoll(p + 2, &end, 10);
			have_t = end == p + l;
		} else if (l == 67 && memcmp(p, "v1=", 3) == 0 && nv < 8) {
			v1[nv++] = p + 3;
		}
		p += l + (c != NULL);
	}
	if (!have_t || nv == 0)
		return tn_error_set(err, TN_ERR_INPUT, "signature: expected t=SECONDS,v1=HEX");
	if (llabs(now - t) > tolerance)
		return tn_error_set(err, TN_ERR_INPUT, "signature: timestamp outside the tolerance of %lld s",
				    (long long)tolerance);
	char want[TN_SIGNATURE_MAX];
	if (tn_webhook_sign(secret, t, body, len, want, err))
		return tn_error_code(err, TN_ERR_IO);
	const char *w = strstr(want, "v1=") + 3;
	int match = 0;
	for (size_t i = 0; i < nv; i++)
		match |= CRYPTO_memcmp(w, v1[i], 64) == 0;
	return match ? TN_OK : tn_error_set(err, TN_ERR_INPUT, "signature: no v1 signature matches");
}

/* ---- queueing ------------------------------------------------------------------ */

static int customer_facing(const char *event)
{
	return strcmp(event, "alert") != 0 && strcmp(event, "test") != 0;
}

typedef struct cust_info {
	char *ext_id, *country;
	cJSON *attrs;
} cust_info;

static void cust_free(cust_info *c)
{
	free(c->ext_id);
	free(c->country);
	cJSON_Delete(c->attrs);
	memset(c, 0, sizeof *c);
}

static int cust_load(tn_store *s, int64_t id, cust_info *c, tn_error *err)
{
	memset(c, 0, sizeof *c);
	tn_stmt *st = tn_db_cached(s, "SELECT ext_id, country, attrs FROM customers WHERE id = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, id);
	int rc = tn_db_step(st, "reading a customer", err);
	if (rc == TN_DB_ROW) {
		const char *country = tn_db_column_text(st, 1), *attrs = tn_db_column_text(st, 2);
		c->ext_id = tn_strdup(tn_db_column_text(st, 0));
		c->country = country ? tn_strdup(country) : NULL;
		c->attrs = cJSON_Parse(attrs ? attrs : "{}");
		rc = c->ext_id && (!country || c->country) && c->attrs
			     ? TN_OK
			     : tn_error_set(err, TN_ERR_NOMEM, "out of memory reading a customer");
	} else if (rc == TN_DB_DONE) {
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "no customer with key %lld", (long long)id);
	}
	tn_db_reset(st);
	if (rc)
		cust_free(c);
	return rc;
}

static const char *attr_str(const cJSON *attrs, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* The customer's UTC offset: attr tz, else the country's, else 0. */
static int cust_offset(const cust_info *c)
{
	int m;
	const char *tz = attr_str(c->attrs, "tz");
	if (tz && tn_tz_offset(tz, &m) == 0)
		return m;
	if (c->country && tn_country_offset(c->country, &m) == 0)
		return m;
	return 0;
}

static const char SQL_INSERT[] =
	"INSERT INTO outbox(idem_key, event, channel, webhook_id, address, customer_id, payload, status,"
	" next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING";

static int insert_row(tn_store *s, const char *key, const char *event, const char *channel, int64_t webhook_id,
		      const char *address, int64_t customer_id, const char *payload, int allowed, tn_time due,
		      tn_time now, long *queued, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, SQL_INSERT, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	tn_db_bind_text(st, 2, event);
	tn_db_bind_text(st, 3, channel);
	if (webhook_id)
		tn_db_bind_int64(st, 4, webhook_id);
	else
		tn_db_bind_null(st, 4);
	tn_db_bind_text(st, 5, address);
	if (customer_id)
		tn_db_bind_int64(st, 6, customer_id);
	else
		tn_db_bind_null(st, 6);
	tn_db_bind_text(st, 7, payload);
	tn_db_bind_text(st, 8, allowed ? "pending" : "suppressed");
	tn_db_bind_time(st, 9, due);
	tn_db_bind_time(st, 10, now);
	int rc = ob_step_done(st, "queueing a message", err);
	tn_db_reset(st);
	if (!rc && queued)
		*queued += (long)tn_db_changes(s);
	return rc;
}

int tn_outbox_enqueue(tn_store *s, const char *event, const char *key, int64_t customer_id, const char *data_json,
		      tn_time now, long *queued, tn_error *err)
{
	if (!event || !event_known(event, strlen(event)))
		return tn_error_set(err, TN_ERR_USAGE, "outbox: unknown event \"%s\"", event ? event : "");
	if (!key || !*key || strlen(key) > 400)
		return tn_error_set(err, TN_ERR_USAGE, "outbox: a message needs a key of 1 to 400 characters");
	cJSON *data = cJSON_Parse(data_json ? data_json : "{}");
	if (!cJSON_IsObject(data)) {
		cJSON_Delete(data);
		return tn_error_set(err, TN_ERR_INPUT, "outbox: the data of \"%s\" is not a JSON object", key);
	}
	cust_info c = {0};
	int rc = customer_id ? cust_load(s, customer_id, &c, err) : TN_OK;
	if (rc) {
		cJSON_Delete(data);
		return rc;
	}
	int facing = customer_facing(event) && customer_id;
	tn_time due = now;
	if (facing) {
		int qf, qt;
		rc = ob_quiet_hours(s, &qf, &qt, err);
		if (!rc)
			due = tn_quiet_next(now, cust_offset(&c), qf, qt);
	}
	char iso[40];
	cJSON *p = cJSON_CreateObject();
	if (!rc && (!p || !cJSON_AddStringToObject(p, "id", key) || !cJSON_AddStringToObject(p, "event", event) ||
		    !cJSON_AddStringToObject(p, "created_at", tn_time_format(now, iso, sizeof iso)) ||
		    !(c.ext_id ? cJSON_AddStringToObject(p, "customer", c.ext_id) : cJSON_AddNullToObject(p, "customer"))))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory queueing a message");
	if (!rc) {
		cJSON_AddItemToObject(p, "data", data);
		data = NULL;
	}
	char *payload = rc ? NULL : cJSON_PrintUnformatted(p);
	if (!rc && !payload)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory queueing a message");

	/* one row per subscribed webhook */
	int webhook_ok = 1;
	if (!rc && facing)
		rc = tn_consent_get(s, customer_id, "webhook", &webhook_ok, err);
	tn_stmt *st = rc ? NULL : tn_db_cached(s, "SELECT id, events FROM webhooks WHERE removed_at IS NULL ORDER BY id", err);
	if (!rc && !st)
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		int64_t ids[64];
		size_t nid = 0;
		int step;
		while ((step = tn_db_step(st, "reading webhooks", err)) == TN_DB_ROW)
			if (nid < 64 && list_has(tn_db_column_text(st, 1), event))
				ids[nid++] = tn_db_column_int64(st, 0);
		tn_db_reset(st);
		if (step != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		for (size_t i = 0; i < nid && !rc; i++) {
			char k[480];
			snprintf(k, sizeof k, "%s/webhook:%lld", key, (long long)ids[i]);
			rc = insert_row(s, k, event, "webhook", ids[i], NULL, customer_id, payload, webhook_ok, due, now,
					queued, err);
		}
	}
	/* and an e-mail for win-back and offers when SMTP is set and the address known */
	const char *addr = c.attrs ? attr_str(c.attrs, "email") : NULL;
	if (!rc && facing && addr && (strcmp(event, "winback") == 0 || strcmp(event, "offer") == 0)) {
		char *smtp = NULL;
		rc = ob_meta_get(s, OB_SMTP_URL, &smtp, err);
		if (!rc && smtp) {
			int email_ok = 1;
			rc = tn_consent_get(s, customer_id, "email", &email_ok, err);
			cJSON *rcpt = cJSON_CreateObject();
			cJSON_AddStringToObject(rcpt, "email", addr);
			const char *nm = attr_str(c.attrs, "name");
			if (nm)
				cJSON_AddStringToObject(rcpt, "name", nm);
			cJSON_AddStringToObject(rcpt, "language",
						ob_language(attr_str(c.attrs, "language"), c.country));
			cJSON_AddItemToObject(p, "recipient", rcpt);
			char *ep = cJSON_PrintUnformatted(p);
			if (!rc && !ep)
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory queueing an e-mail");
			char k[480];
			snprintf(k, sizeof k, "%s/email", key);
			if (!rc)
				rc = insert_row(s, k, event, "email", 0, addr, customer_id, ep, email_ok, due, now, queued,
						err);
			free(ep);
		}
		free(smtp);
	}
	free(payload);
	cJSON_Delete(p);
	cJSON_Delete(data);
	cust_free(&c);
	return rc;
}

/* ---- options -------------------------------------------------------------------- */

tn_outbox_opts tn_outbox_opts_default(void)
{
	tn_outbox_opts o = {.max_attempts = 8,
			    .backoff = 30,
			    .backoff_max = 6 * 3600,
			    .concurrency = 32,
			    .timeout = 10,
			    .lease = 60,
			    .batch = 512,
			    .now = TN_NO_TIME};
	return o;
}

int tn_outbox_opts_load(tn_store *s, tn_outbox_opts *o, tn_error *err)
{
	char *v = NULL;
	int rc = ob_meta_get(s, OB_MAX_ATTEMPTS, &v, err);
	if (!rc && v)
		o->max_attempts = (int)strtol(v, NULL, 10);
	free(v);
	v = NULL;
	if (!rc)
		rc = ob_meta_get(s, OB_BACKOFF, &v, err);
	if (!rc && v)
		o->backoff = strtod(v, NULL);
	free(v);
	return rc;
}

int tn_outbox_config(tn_store *s, int max_attempts, double backoff, tn_error *err)
{
	char buf[64];
	int rc = TN_OK;
	if (max_attempts > 0) {
		if (max_attempts > 100)
			return tn_error_set(err, TN_ERR_USAGE, "--max-attempts: expected 1 to 100, found %d", max_attempts);
		snprintf(buf, sizeof buf, "%d", max_attempts);
		rc = ob_meta_set(s, OB_MAX_ATTEMPTS, buf, err);
	}
	if (!rc && backoff >= 0) {
		if (!(backoff <= 86400))
			return tn_error_set(err, TN_ERR_USAGE, "--backoff: expected 0 to 86400 seconds, found %g", backoff);
		snprintf(buf, sizeof buf, "%.17g", backoff);
		rc = ob_meta_set(s, OB_BACKOFF, buf, err);
	}
	return rc;
}

double tn_outbox_backoff(const tn_outbox_opts *o, int attempts, double u)
{
	double d = o->backoff * ldexp(1.0, attempts > 1 ? (attempts - 1 > 40 ? 40 : attempts - 1) : 0);
	if (d > o->backoff_max)
		d = o->backoff_max;
	return d * (0.5 + 0.5 * u);
}

/* ---- delivery --------------------------------------------------------------------- */

typedef struct msg {
	int64_t id;
	int attempts, email;
	char *key, *event, *payload, *url, *secret, *address;
	/* the transfer */
	CURL *h;
	struct curl_slist *hdrs;
	char *mime;     /* e-mail: the message */
	size_t mime_len, mime_off;
	int ok;
	char error[200];
} msg;

static void msg_free(msg *m)
{
	free(m->key);
	free(m->event);
	free(m->payload);
	free(m->url);
	free(m->secret);
	free(m->address);
	free(m->mime);
	curl_slist_free_all(m->hdrs);
	if (m->h)
		curl_easy_cleanup(m->h);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;
static void curl_init_once(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static size_t read_mime(char *buf, size_t sz, size_t n, void *ud)
{
	msg *m = ud;
	size_t left = m->mime_len - m->mime_off, want = sz * n;
	if (want > left)
		want = left;
	memcpy(buf, m->mime + m->mime_off, want);
	m->mime_off += want;
	return want;
}

static const char SQL_DUE[] =
	"SELECT o.id, o.channel, o.idem_key, o.event, o.payload, o.attempts, o.address, w.url, w.secret"
	" FROM outbox o LEFT JOIN webhooks w ON w.id = o.webhook_id"
	" WHERE o.status = 'pending' AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?";

/* Claim up to O->batch due messages: hide them for the lease. */
static int claim(tn_store *s, const tn_outbox_opts *o, tn_time now, msg **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	msg *v = tn_calloc(o->batch, sizeof *v);
	tn_stmt *st = v ? tn_db_cached(s, SQL_DUE, err) : NULL;
	int rc = v ? (st ? TN_OK : tn_error_code(err, TN_ERR_DB)) : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!rc) {
		tn_db_bind_time(st, 1, now);
		tn_db_bind_int64(st, 2, (int64_t)o->batch);
		int step;
		while ((step = tn_db_step(st, "reading due messages", err)) == TN_DB_ROW) {
			msg *m = &v[(*n)++];
			const char *ch = tn_db_column_text(st, 1), *url = tn_db_column_text(st, 7),
				   *sec = tn_db_column_text(st, 8), *addr = tn_db_column_text(st, 6);
			m->id = tn_db_column_int64(st, 0);
			m->email = ch && strcmp(ch, "email") == 0;
			m->key = tn_strdup(tn_db_column_text(st, 2));
			m->event = tn_strdup(tn_db_column_text(st, 3));
			m->payload = tn_strdup(tn_db_column_text(st, 4));
			m->attempts = (int)tn_db_column_int64(st, 5);
			m->address = addr ? tn_strdup(addr) : NULL;
			m->url = url ? tn_strdup(url) : NULL;
			m->secret = sec ? tn_strdup(sec) : NULL;
			if (!m->key || !m->event || !m->payload || (addr && !m->address) || (url && !m->url) ||
			    (sec && !m->secret)) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory reading due messages");
				break;
			}
		}
		tn_db_reset(st);
		if (!rc && step != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
	}
	tn_stmt *up = rc ? NULL : tn_db_cached(s, "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", err);
	if (!rc && !up)
		rc = tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < *n && !rc; i++) {
		tn_db_bind_time(up, 1, now + (tn_time)ceil(o->lease));
		tn_db_bind_int64(up, 2, v[i].id);
		rc = ob_step_done(up, "claiming a message", err);
		tn_db_reset(up);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		for (size_t i = 0; v && i < *n; i++)
			msg_free(&v[i]);
		free(v);
		*n = 0;
		return rc;
	}
	*out = v;
	return TN_OK;
}

/* email.c: build the MIME message of an e-mail row. */
int ob_email_message(tn_store *s, const char *event, const char *key, const char *payload, const char *to,
		     char **from_addr, char **mime, tn_error *err);

static int setup_transfer(tn_store *s, const tn_outbox_opts *o, const char *smtp_url, msg *m, tn_error *err)
{
	m->h = curl_easy_init();
	if (!m->h)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory starting a transfer");
	curl_easy_setopt(m->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(m->h, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(m->h, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(m->h, CURLOPT_PRIVATE, m);
	if (!m->email) {
		if (!m->url) {
			snprintf(m->error, sizeof m->error, "the webhook is gone");
			return TN_OK;
		}
		char sig[TN_SIGNATURE_MAX], line[TN_SIGNATURE_MAX + 32];
		size_t len = strlen(m->payload);
		if (tn_webhook_sign(m->secret ? m->secret : "", (int64_t)tn_now(), m->payload, len, sig, err))
			return tn_error_code(err, TN_ERR_IO);
		struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
		snprintf(line, sizeof line, "Tenure-Signature: %s", sig);
		h = h ? curl_slist_append(h, line) : NULL;
		size_t il = strlen(m->key) + 40;
		char *idem = tn_malloc(il), ev[64];
		if (idem) {
			snprintf(idem, il, "Idempotency-Key: %s", m->key);
			h = h ? curl_slist_append(h, idem) : NULL;
			free(idem);
		} else {
			curl_slist_free_all(h);
			h = NULL;
		}
		snprintf(ev, sizeof ev, "Tenure-Event: %s", m->event);
		h = h ? curl_slist_append(h, ev) : NULL;
		h = h ? curl_slist_append(h, "User-Agent: tenure-outbox/1") : NULL;
		if (!h)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory building headers");
		m->hdrs = h;
		curl_easy_setopt(m->h, CURLOPT_URL, m->url);
		curl_easy_setopt(m->h, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(m->h, CURLOPT_POSTFIELDS, m->payload);
		curl_easy_setopt(m->h, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(m->h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(m->h, CURLOPT_PROTOCOLS_STR, "http,https");
		return TN_OK;
	}
	if (!smtp_url) {
		snprintf(m->error, sizeof m->error, "SMTP is not configured (tenure email config --smtp URL)");
		return TN_OK;
	}
	char *from = NULL;
	tn_error e2 = {0};
	if (ob_email_message(s, m->event, m->key, m->payload, m->address, &from, &m->mime, &e2)) {
		free(from);
		if (e2.code == TN_ERR_NOMEM)
			return tn_error_set(err, TN_ERR_NOMEM, "%s", e2.msg);
		snprintf(m->error, sizeof m->error, "%.199s", e2.msg);
		return TN_OK;
	}
	m->mime_len = strlen(m->mime);
	char rcpt[600];
	snprintf(rcpt, sizeof rcpt, "<%s>", m->address);
	m->hdrs = curl_slist_append(NULL, rcpt);
	if (!m->hdrs) {
		free(from);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory building an e-mail");
	}
	char fromb[600];
	snprintf(fromb, sizeof fromb, "<%s>", from);
	free(from);
	curl_easy_setopt(m->h, CURLOPT_URL, smtp_url);
	curl_easy_setopt(m->h, CURLOPT_MAIL_FROM, fromb);
	curl_easy_setopt(m->h, CURLOPT_MAIL_RCPT, m->hdrs);
	curl_easy_setopt(m->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(m->h, CURLOPT_READFUNCTION, read_mime);
	curl_easy_setopt(m->h, CURLOPT_READDATA, m);
	curl_easy_setopt(m->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->mime_len);
	curl_easy_setopt(m->h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	return TN_OK;
}

static void transfer_done(msg *m, CURLcode res)
{
	long code = 0;
	curl_easy_getinfo(m->h, CURLINFO_RESPONSE_CODE, &code);
	if (res != CURLE_OK) {
		snprintf(m->error, sizeof m->error, "%.199s", curl_easy_strerror(res));
		return;
	}
	if (m->email ? (code >= 200 && code < 400) : (code >= 200 && code < 300)) {
		m->ok = 1;
		return;
	}
	snprintf(m->error, sizeof m->error, "%s %ld", m->email ? "SMTP" : "HTTP", code);
}

static int record(tn_store *s, const tn_outbox_opts *o, msg *v, size_t n, tn_time now, tn_rng *rng,
		  tn_outbox_run *run, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *ok = tn_db_cached(
		s, "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?",
		err);
	tn_stmt *bad = tn_db_cached(s,
				    "UPDATE outbox SET status = ?, attempts = attempts + 1, next_attempt_at = ?,"
				    " last_error = ? WHERE id = ?",
				    err);
	int rc = ok && bad ? TN_OK : tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < n && !rc; i++) {
		msg *m = &v[i];
		run->attempted++;
		if (m->ok) {
			run->sent++;
			tn_db_bind_time(ok, 1, now);
			tn_db_bind_int64(ok, 2, m->id);
			rc = ob_step_done(ok, "marking a message sent", err);
			tn_db_reset(ok);
			continue;
		}
		int attempts = m->attempts + 1, dead = attempts >= o->max_attempts;
		run->failed++;
		run->dead += dead;
		double wait = tn_outbox_backoff(o, attempts, tn_rng_unif(rng));
		tn_db_bind_text(bad, 1, dead ? "dead" : "pending");
		tn_db_bind_time(bad, 2, now + (tn_time)ceil(wait));
		tn_db_bind_text(bad, 3, m->error[0] ? m->error : "failed");
		tn_db_bind_int64(bad, 4, m->id);
		rc = ob_step_done(bad, "recording a failed delivery", err);
		tn_db_reset(bad);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int tn_outbox_deliver(tn_store *s, const tn_outbox_opts *o, tn_outbox_run *run, tn_error *err)
{
	memset(run, 0, sizeof *run);
	if (o->batch < 1 || o->batch > 100000 || o->concurrency < 1 || o->concurrency > 1024 || o->max_attempts < 1)
		return tn_error_set(err, TN_ERR_USAGE, "outbox: batch 1..100000, concurrency 1..1024, max attempts >= 1");
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ready)
		return tn_error_set(err, TN_ERR_IO, "libcurl could not be initialised");
	double t0 = mono();
	char *smtp = NULL;
	int rc = ob_meta_get(s, OB_SMTP_URL, &smtp, err);
	if (rc)
		return rc;
	CURLM *multi = curl_multi_init();
	if (!multi) {
		free(smtp);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory starting libcurl");
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency);
	tn_rng rng;
	uint64_t seed = 0;
	if (tn_random_bytes(&seed, sizeof seed))
		seed = (uint64_t)tn_now();
	tn_rng_seed(&rng, seed, 7);
	while (!rc && !(o->stop && *o->stop)) {
		tn_time now = o->now != TN_NO_TIME ? o->now : tn_now();
		msg *v;
		size_t n;
		rc = claim(s, o, now, &v, &n, err);
		if (rc || n == 0) {
			free(v);
			break;
		}
		size_t added = 0;
		for (size_t i = 0; i < n && !rc; i++) {
			rc = setup_transfer(s, o, smtp, &v[i], err);
			if (!rc && !v[i].error[0]) {
				if (curl_multi_add_handle(multi, v[i].h) != CURLM_OK)
					rc = tn_error_set(err, TN_ERR_NOMEM, "libcurl: cannot add a transfer");
				else
					added++;
			}
		}
		int running = 1;
		while (!rc && added && running) {
			if (curl_multi_perform(multi, &running) != CURLM_OK) {
				rc = tn_error_set(err, TN_ERR_IO, "libcurl: the transfers failed");
				break;
			}
			int left;
			CURLMsg *cm;
			while ((cm = curl_multi_info_read(multi, &left))) {
				if (cm->msg != CURLMSG_DONE)
					continue;
				msg *m = NULL;
				curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&m);
				transfer_done(m, cm->data.result);
			}
			if (running)
				curl_multi_poll(multi, NULL, 0, 200, NULL);
		}
		for (size_t i = 0; i < n; i++)
			if (v[i].h)
				curl_multi_remove_handle(multi, v[i].h);
		/* the outcome is recorded with the clock after the transfers, so that a
		 * retry's wait counts from the failure */
		tn_time after = o->now != TN_NO_TIME ? o->now : tn_now();
		if (!rc)
			rc = record(s, o, v, n, after, &rng, run, err);
		for (size_t i = 0; i < n; i++)
			msg_free(&v[i]);
		free(v);
		if (o->once)
			break;
	}
	curl_multi_cleanup(multi);
	free(smtp);
	run->seconds = mono() - t0;
	return rc;
}

/* ---- listing and replay -------------------------------------------------------------- */

void tn_outbox_rows_free(tn_outbox_row *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].key);
		free(r[i].event);
		free(r[i].channel);
		free(r[i].destination);
		free(r[i].status);
		free(r[i].customer);
		free(r[i].last_error);
		free(r[i].payload);
	}
	free(r);
}

static char *dup_or_null(const char *v, int *bad)
{
	if (!v)
		return NULL;
	char *d = tn_strdup(v);
	if (!d)
		*bad = 1;
	return d;
}

int tn_outbox_list(tn_store *s, const char *status, long limit, tn_outbox_row **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	if (limit < 1 || limit > 1000000)
		return tn_error_set(err, TN_ERR_USAGE, "outbox list: --limit 1 to 1000000");
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT o.id, o.idem_key, o.event, o.channel, COALESCE(w.url, o.address), o.status, c.ext_id,"
		" o.last_error, o.payload, o.attempts, o.created_at, o.next_attempt_at, o.sent_at"
		" FROM outbox o LEFT JOIN webhooks w ON w.id = o.webhook_id LEFT JOIN customers c ON c.id = o.customer_id"
		" WHERE (?1 IS NULL OR o.status = ?1) ORDER BY o.id DESC LIMIT ?2",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, status);
	tn_db_bind_int64(st, 2, limit);
	size_t cap = 0;
	int rc;
	while ((rc = tn_db_step(st, "listing the outbox", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			tn_outbox_row *t = tn_realloc(*out, nc * sizeof *t);
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing the outbox");
				break;
			}
			*out = t;
			cap = nc;
		}
		tn_outbox_row *r = &(*out)[(*n)++];
		int bad = 0;
		r->id = tn_db_column_int64(st, 0);
		r->key = dup_or_null(tn_db_column_text(st, 1), &bad);
		r->event = dup_or_null(tn_db_column_text(st, 2), &bad);
		r->channel = dup_or_null(tn_db_column_text(st, 3), &bad);
		r->destination = dup_or_null(tn_db_column_text(st, 4), &bad);
		r->status = dup_or_null(tn_db_column_text(st, 5), &bad);
		r->customer = dup_or_null(tn_db_column_text(st, 6), &bad);
		r->last_error = dup_or_null(tn_db_column_text(st, 7), &bad);
		r->payload = dup_or_null(tn_db_column_text(st, 8), &bad);
		r->attempts = (int)tn_db_column_int64(st, 9);
		r->created_at = tn_db_column_time(st, 10);
		r->next_attempt_at = tn_db_column_time(st, 11);
		r->sent_at = tn_db_column_time(st, 12);
		if (bad) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing the outbox");
			break;
		}
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		tn_outbox_rows_free(*out, *n);
		*out = NULL;
		*n = 0;
		return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

int tn_outbox_counts(tn_store *s, long counts[4], tn_error *err)
{
	static const char *const names[] = {"pending", "sent", "dead", "suppressed"};
	tn_stmt *st = tn_db_prepare(s, "SELECT status, count(*) FROM outbox GROUP BY status", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	memset(counts, 0, 4 * sizeof *counts);
	int rc;
	while ((rc = tn_db_step(st, "counting the outbox", err)) == TN_DB_ROW)
		for (int i = 0; i < 4; i++)
			if (strcmp(tn_db_column_text(st, 0), names[i]) == 0)
				counts[i] = (long)tn_db_column_int64(st, 1);
	tn_db_finalize(st);
	return rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

int tn_outbox_retry(tn_store *s, int64_t id, tn_time now, long *n, tn_error *err)
{
	*n = 0;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = tn_db_prepare(s,
				    id ? "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1,"
					 " last_error = NULL WHERE id = ?2 AND status IN ('dead','pending')"
				       : "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?1,"
					 " last_error = NULL WHERE status = 'dead' AND ?2 = 0",
				    err);
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		tn_db_bind_time(st, 1, now);
		tn_db_bind_int64(st, 2, id);
		rc = ob_step_done(st, "putting messages back", err);
		*n = rc ? 0 : (long)tn_db_changes(s);
	}
	tn_db_finalize(st);
	if (!rc && id && *n == 0) {
		/* a sent or suppressed message is not sent again by retry: say why */
		tn_stmt *q = tn_db_prepare(s, "SELECT status FROM outbox WHERE id = ?", err);
		rc = q ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_int64(q, 1, id);
			int r2 = tn_db_step(q, "reading a message", err);
			if (r2 == TN_DB_ROW)
				rc = tn_error_set(err, TN_ERR_USAGE, "message %lld is %s: only dead or pending messages are retried",
						  (long long)id, tn_db_column_text(q, 0));
			else if (r2 == TN_DB_DONE)
				rc = tn_error_set(err, TN_ERR_NOTFOUND, "no message %lld (see `tenure outbox list`)",
						  (long long)id);
			else
				rc = r2;
		}
		tn_db_finalize(q);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}
