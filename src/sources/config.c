/*
 * config.c -- the configured sources (table sources, migration 9): add
 * (checked: an App Store root must be Apple Root CA - G3 by its SHA-256
 * fingerprint unless it is declared a test root), remove, list, and load
 * them for verification; then tn_sources_verify, which tries each live source
 * of the kind.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const KINDS[] = {NULL, "appstore", "googleplay", "stripe", "revenuecat"};

const char *tn_source_kind_name(int kind) { return kind >= 1 && kind <= 4 ? KINDS[kind] : NULL; }

int tn_source_kind_parse(const char *name)
{
	for (int k = 1; name && k <= 4; k++)
		if (strcmp(name, KINDS[k]) == 0)
			return k;
	return 0;
}

/* A certificate from PEM or DER bytes. */
static X509 *read_cert(const char *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x) {
		const unsigned char *p = (const unsigned char *)data;
		x = d2i_X509(NULL, &p, (long)len);
	}
	return x;
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *p;
	if (b && PEM_write_bio_X509(b, x) == 1) {
		long n = BIO_get_mem_data(b, &p);
		out = tn_malloc((size_t)n + 1);
		if (out) {
			memcpy(out, p, (size_t)n);
			out[n] = 0;
		}
	}
	BIO_free(b);
	return out;
}

static int add_appstore(const tn_source_spec *sp, cJSON *cfg, tn_error *err)
{
	if (!sp->bundle_id || !*sp->bundle_id)
		return tn_error_set(err, TN_ERR_USAGE, "appstore: --bundle-id is required");
	if (!sp->environment || (strcmp(sp->environment, "Production") != 0 && strcmp(sp->environment, "Sandbox") != 0))
		return tn_error_set(err, TN_ERR_USAGE, "appstore: --environment must be Production or Sandbox");
	if (strcmp(sp->environment, "Production") == 0 && sp->app_apple_id <= 0)
		return tn_error_set(err, TN_ERR_USAGE, "appstore: --app-apple-id is required for Production");
	if (!sp->root_pem || !sp->root_len)
		return tn_error_set(err, TN_ERR_USAGE, "appstore: --root-cert FILE is required (Apple Root CA - G3)");
	X509 *x = read_cert(sp->root_pem, sp->root_len);
	if (!x)
		return tn_error_set(err, TN_ERR_INPUT, "appstore: the root certificate is neither PEM nor DER");
	unsigned char md[32];
	unsigned int mdl = 32;
	char hex[65], want[65];
	X509_digest(x, EVP_sha256(), md, &mdl);
	src_hex(md, 32, hex);
	for (int i = 0; i < 65; i++)
		want[i] = (char)(TN_APPLE_ROOT_G3_SHA256[i] >= 'A' && TN_APPLE_ROOT_G3_SHA256[i] <= 'F'
					 ? TN_APPLE_ROOT_G3_SHA256[i] - 'A' + 'a'
					 : TN_APPLE_ROOT_G3_SHA256[i]);
	if (!sp->test_root && strcmp(hex, want) != 0) {
		X509_free(x);
		return tn_error_set(err, TN_ERR_INPUT,
				    "appstore: the root certificate's SHA-256 fingerprint is %s, not Apple Root CA - G3's "
				    "(%s); give --test-root for a test chain",
				    hex, want);
	}
	char *pem = cert_pem(x);
	X509_free(x);
	if (!pem)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int ok = cJSON_AddStringToObject(cfg, "bundle_id", sp->bundle_id) &&
		 cJSON_AddNumberToObject(cfg, "app_apple_id", (double)sp->app_apple_id) &&
		 cJSON_AddStringToObject(cfg, "environment", sp->environment) &&
		 cJSON_AddStringToObject(cfg, "root_pem", pem) && cJSON_AddStringToObject(cfg, "root_sha256", hex) &&
		 cJSON_AddBoolToObject(cfg, "test_root", sp->test_root != 0);
	free(pem);
	return ok ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

static int add_googleplay(const tn_source_spec *sp, cJSON *cfg, tn_error *err)
{
	if (!sp->package || !*sp->package)
		return tn_error_set(err, TN_ERR_USAGE, "googleplay: --package is required");
	if ((sp->audience || sp->service_account) && !sp->jwks)
		return tn_error_set(err, TN_ERR_USAGE, "googleplay: --audience and --service-account need --jwks FILE (Google's keys)");
	if (sp->jwks) {
		cJSON *j = cJSON_Parse(sp->jwks);
		int nrsa = 0;
		const cJSON *k;
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(j, "keys"))
		{
			EVP_PKEY *pk = src_rsa_from_jwk(src_str(k, "n"), src_str(k, "e"));
			nrsa += pk != NULL;
			EVP_PKEY_free(pk);
		}
		cJSON_Delete(j);
		if (!nrsa)
			return tn_error_set(err, TN_ERR_INPUT, "googleplay: the JWKS has no usable RSA key (\"keys\": [{kty, n, e}])");
	}
	int ok = cJSON_AddStringToObject(cfg, "package", sp->package) &&
		 (!sp->audience || cJSON_AddStringToObject(cfg, "audience", sp->audience)) &&
		 (!sp->service_account || cJSON_AddStringToObject(cfg, "service_account", sp->service_account)) &&
		 (!sp->jwks || cJSON_AddStringToObject(cfg, "jwks", sp->jwks));
	return ok ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

int tn_sources_add(tn_store *s, const tn_source_spec *sp, tn_time now, int64_t *id, tn_error *err)
{
	cJSON *cfg = cJSON_CreateObject();
	const char *name = NULL;
	int rc = cfg ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	char hex[65];
	if (rc)
		return rc;
	switch (sp->kind) {
	case TN_SRC_APPSTORE:
		rc = add_appstore(sp, cfg, err);
		name = sp->bundle_id;
		break;
	case TN_SRC_GOOGLEPLAY:
		rc = add_googleplay(sp, cfg, err);
		name = sp->package;
		break;
	case TN_SRC_STRIPE:
		if (!sp->secret || strlen(sp->secret) < 8)
			rc = tn_error_set(err, TN_ERR_USAGE, "stripe: --secret whsec_... (the endpoint's signing secret) is required");
		else if (!cJSON_AddStringToObject(cfg, "secret", sp->secret))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		name = "stripe";
		break;
	case TN_SRC_REVENUECAT:
		if (!sp->authorization || !*sp->authorization)
			rc = tn_error_set(err, TN_ERR_USAGE, "revenuecat: --authorization VALUE is required");
		else {
			unsigned char h[32];
			src_sha256(sp->authorization, strlen(sp->authorization), h);
			src_hex(h, 32, hex);
			if (!cJSON_AddStringToObject(cfg, "authorization_sha256", hex))
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		name = "revenuecat";
		break;
	default:
		rc = tn_error_set(err, TN_ERR_USAGE, "unknown source kind");
	}
	char *text = rc ? NULL : cJSON_PrintUnformatted(cfg);
	cJSON_Delete(cfg);
	if (rc)
		return rc;
	if (!text)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_stmt *st = tn_db_prepare(s,
				    "INSERT INTO sources(kind, name, config, created_at) VALUES (?, ?, ?, ?) RETURNING id",
				    err);
	if (!st) {
		free(text);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_db_bind_text(st, 1, tn_source_kind_name(sp->kind));
	tn_db_bind_text(st, 2, name);
	tn_db_bind_text(st, 3, text);
	tn_db_bind_time(st, 4, now);
	free(text);
	rc = tn_db_step_row(st, "adding a source", err);
	if (rc == TN_OK && id)
		*id = tn_db_column_int64(st, 0);
	if (rc == TN_OK && tn_db_step(st, "adding a source", err) != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(st);
	return rc;
}

int tn_sources_remove(tn_store *s, int64_t id, tn_time now, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "UPDATE sources SET removed_at = ? WHERE id = ? AND removed_at IS NULL", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_time(st, 1, now);
	tn_db_bind_int64(st, 2, id);
	int rc = tn_db_step(st, "removing a source", err);
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		return tn_error_code(err, TN_ERR_DB);
	if (tn_db_changes(s) == 0)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no live source %lld (see tenure sources list)", (long long)id);
	return TN_OK;
}

int tn_sources_list_json(tn_store *s, char **json, tn_error *err)
{
	*json = NULL;
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT id, kind, name, config, created_at, removed_at,"
				    " (SELECT count(*) FROM source_notifications n WHERE n.source_id = sources.id)"
				    " FROM sources ORDER BY id",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	cJSON *arr = cJSON_CreateArray();
	int rc;
	char buf[40];
	while (arr && (rc = tn_db_step(st, "listing sources", err)) == TN_DB_ROW) {
		cJSON *o = cJSON_CreateObject(), *cfg = cJSON_Parse(tn_db_column_text(st, 3));
		cJSON_AddItemToArray(arr, o);
		cJSON_AddNumberToObject(o, "id", (double)tn_db_column_int64(st, 0));
		cJSON_AddStringToObject(o, "kind", tn_db_column_text(st, 1));
		cJSON_AddStringToObject(o, "name", tn_db_column_text(st, 2));
		cJSON_AddStringToObject(o, "created_at", tn_time_format(tn_db_column_time(st, 4), buf, sizeof buf));
		if (tn_db_column_is_null(st, 5))
			cJSON_AddNullToObject(o, "removed_at");
		else
			cJSON_AddStringToObject(o, "removed_at", tn_time_format(tn_db_column_time(st, 5), buf, sizeof buf));
		cJSON_AddNumberToObject(o, "notifications", (double)tn_db_column_int64(st, 6));
		/* what is safe to show: no secret, no certificate text */
		cJSON *show = cJSON_AddObjectToObject(o, "config");
		const cJSON *it;
		cJSON_ArrayForEach(it, cfg)
		{
			if (strcmp(it->string, "root_pem") == 0 || strcmp(it->string, "jwks") == 0)
				continue;
			if (strcmp(it->string, "secret") == 0 && cJSON_IsString(it)) {
				char pre[16];
				snprintf(pre, sizeof pre, "%.10s...", it->valuestring);
				cJSON_AddStringToObject(show, "secret", pre);
				continue;
			}
			cJSON_AddItemToObject(show, it->string, cJSON_Duplicate(it, 1));
		}
		if (cJSON_GetObjectItemCaseSensitive(cfg, "jwks"))
			cJSON_AddBoolToObject(show, "jwks", 1);
		cJSON_Delete(cfg);
	}
	tn_db_finalize(st);
	if (!arr)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (rc != TN_DB_DONE) {
		cJSON_Delete(arr);
		return tn_error_code(err, TN_ERR_DB);
	}
	*json = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return *json ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

int tn_sources_generation(tn_store *s, int64_t *gen, tn_error *err)
{
	static const char sql[] = "SELECT COALESCE(max(id), 0), count(removed_at) FROM sources";
	tn_stmt *st = tn_db_cached(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step_row(st, "reading the sources", err);
	if (rc == TN_OK)
		*gen = tn_db_column_int64(st, 0) * 1000003 + tn_db_column_int64(st, 1);
	tn_db_reset(st);
	return rc;
}

int64_t tn_sources_loaded_generation(const tn_sources *c) { return c->generation; }

void tn_sources_free(tn_sources *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		cJSON_Delete(c->v[i].cfg);
		cJSON_Delete(c->v[i].jwks);
		X509_STORE_free(c->v[i].store);
		EVP_MAC_CTX_free(c->v[i].hmac);
	}
	for (size_t i = 0; i < c->ncache; i++)
		EVP_PKEY_free(c->cache[i].leaf);
	free(c->v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int load_one(src_config *sc, tn_error *err)
{
	if (sc->kind == TN_SRC_APPSTORE) {
		const char *pem = src_str(sc->cfg, "root_pem");
		X509 *x = pem ? read_cert(pem, strlen(pem)) : NULL;
		sc->store = X509_STORE_new();
		int ok = x && sc->store && X509_STORE_add_cert(sc->store, x) == 1;
		X509_free(x);
		if (!ok)
			return tn_error_set(err, TN_ERR_INPUT, "source %lld: its root certificate cannot be loaded",
					    (long long)sc->id);
	} else if (sc->kind == TN_SRC_GOOGLEPLAY) {
		const char *j = src_str(sc->cfg, "jwks");
		if (j && !(sc->jwks = cJSON_Parse(j)))
			return tn_error_set(err, TN_ERR_INPUT, "source %lld: its JWKS cannot be parsed", (long long)sc->id);
	} else if (sc->kind == TN_SRC_REVENUECAT) {
		const char *h = src_str(sc->cfg, "authorization_sha256");
		if (!h || strlen(h) != 64)
			return tn_error_set(err, TN_ERR_INPUT, "source %lld: no authorization hash", (long long)sc->id);
		for (int i = 0; i < 32; i++) {
			int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
			if (a < 0 || b < 0)
				return tn_error_set(err, TN_ERR_INPUT, "source %lld: a bad authorization hash", (long long)sc->id);
			sc->auth_hash[i] = (unsigned char)(a * 16 + b);
		}
	} else if (sc->kind == TN_SRC_STRIPE) {
		const char *secret = src_str(sc->cfg, "secret");
		if (!secret)
			return tn_error_set(err, TN_ERR_INPUT, "source %lld: no Stripe secret", (long long)sc->id);
		/* NULL: stripe.c falls back to the one-shot HMAC */
		sc->hmac = src_hmac_key(secret, strlen(secret), &sc->hmac_serial);
	}
	return TN_OK;
}

int tn_sources_load(tn_store *s, tn_sources **out, tn_error *err)
{
	*out = NULL;
	tn_sources *c = tn_calloc(1, sizeof *c);
	if (!c)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	int rc = tn_sources_generation(s, &c->generation, err);
	tn_stmt *st = rc ? NULL : tn_db_prepare(s, "SELECT id, kind, config FROM sources WHERE removed_at IS NULL ORDER BY id", err);
	if (!rc && !st)
		rc = tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	while (!rc && (rc = tn_db_step(st, "loading the sources", err)) == TN_DB_ROW) {
		rc = TN_OK;
		if (c->n == cap) {
			size_t nc = cap ? 2 * cap : 4;
			src_config *v = tn_realloc(c->v, nc * sizeof *v);
			if (!v) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			c->v = v;
			cap = nc;
		}
		src_config *sc = &c->v[c->n];
		memset(sc, 0, sizeof *sc);
		sc->id = tn_db_column_int64(st, 0);
		sc->kind = tn_source_kind_parse(tn_db_column_text(st, 1));
		sc->cfg = cJSON_Parse(tn_db_column_text(st, 2));
		c->n++;
		if (!sc->cfg || !sc->kind)
			rc = tn_error_set(err, TN_ERR_INPUT, "source %lld: its configuration cannot be read", (long long)sc->id);
		else
			rc = load_one(sc, err);
	}
	if (rc == TN_DB_DONE)
		rc = TN_OK;
	tn_db_finalize(st);
	if (rc) {
		tn_sources_free(c);
		return rc;
	}
	*out = c;
	return TN_OK;
}

void tn_source_note_free(tn_source_note *n)
{
	free(n->dedupe);
	free(n->type);
	free(n->customer);
	free(n->subscription);
	free(n->product);
	free(n->pay_id);
	free(n->body);
	memset(n, 0, sizeof *n);
}

static void note_init(tn_source_note *n)
{
	memset(n, 0, sizeof *n);
	n->price = NAN;
	n->auto_renew = -1;
	n->expires_at = n->started_at = n->trial_ends_at = n->paid_at = n->event_at = TN_NO_TIME;
}

static int decode_kind(tn_sources *c, const src_config *cfg, int kind, const tn_source_request *req, int verify,
		       tn_source_note *n, int *refusal, tn_error *err)
{
	note_init(n);
	int rc;
	switch (kind) {
	case TN_SRC_APPSTORE:
		rc = src_appstore(c, cfg, req, verify, n, refusal, err);
		break;
	case TN_SRC_GOOGLEPLAY:
		rc = src_googleplay(cfg, req, verify, n, refusal, err);
		break;
	case TN_SRC_STRIPE:
		rc = src_stripe(cfg, req, verify, n, refusal, err);
		break;
	case TN_SRC_REVENUECAT:
		rc = src_revenuecat(cfg, req, verify, n, refusal, err);
		break;
	default:
		rc = src_refuse(refusal, TN_SRC_NO_SOURCE, err, "unknown source kind");
	}
	if (rc == TN_OK && ((n->customer && strlen(n->customer) > 500) || (n->product && strlen(n->product) > 255) ||
			    (n->subscription && strlen(n->subscription) > 1100)))
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err,
				"a customer id over 500, a product over 255 or a subscription id over 1100 bytes");
	if (rc == TN_OK) {
		if (n->event_at == TN_NO_TIME)
			n->event_at = req->now;
		if (n->pay_status && n->paid_at == TN_NO_TIME)
			n->paid_at = n->event_at;
		n->body = tn_malloc(req->len + 1);
		if (!n->body)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		else {
			memcpy(n->body, req->body, req->len);
			n->body[req->len] = 0;
			n->body_len = req->len;
		}
	}
	if (rc)
		tn_source_note_free(n);
	return rc;
}

int tn_sources_verify(tn_sources *c, int kind, const tn_source_request *req, tn_source_note *note, int *refusal,
		      tn_error *err)
{
	int why = 0;
	if (refusal)
		*refusal = 0;
	note_init(note);
	if (!req->body || req->len > SRC_MAX_BODY)
		return src_refuse(refusal, TN_SRC_MALFORMED, err, "the body is empty or larger than %zu bytes", SRC_MAX_BODY);
	tn_error first = {0};
	int tried = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].kind != kind)
			continue;
		tn_error e = {0};
		int w = 0;
		int rc = decode_kind(c, &c->v[i], kind, req, 1, note, &w, &e);
		if (rc == TN_OK)
			return TN_OK;
		if (rc != TN_ERR_INPUT)
			return tn_error_set(err, rc, "%s", e.msg);
		/* keep the most telling refusal: a verified mismatch over a bad signature over a
		 * chain that leads to another source's root */
		int rank = w == TN_SRC_MISMATCH ? 3 : w == SRC_FOREIGN_CHAIN ? 1 : 2;
		int best = why == TN_SRC_MISMATCH ? 3 : why == SRC_FOREIGN_CHAIN ? 1 : 2;
		if (!tried++ || rank > best) {
			first = e;
			why = w;
		}
	}
	if (why == SRC_FOREIGN_CHAIN)
		why = TN_SRC_BAD_SIGNATURE;
	if (!tried)
		return src_refuse(refusal, TN_SRC_NO_SOURCE, err, "no %s source is configured (tenure sources add %s ...)",
				  tn_source_kind_name(kind) ? tn_source_kind_name(kind) : "such",
				  tn_source_kind_name(kind) ? tn_source_kind_name(kind) : "");
	if (refusal)
		*refusal = why;
	return tn_error_set(err, TN_ERR_INPUT, "%s", first.msg);
}

int src_decode_at(int kind, const char *dedupe, const char *body, size_t len, tn_time received, tn_source_note *n,
		  tn_error *err)
{
	if (kind == TN_SRC_GOOGLEPLAY && dedupe && strncmp(dedupe, "state:", 6) == 0)
		return tn_sources_googleplay_state(body, len, received, n, err);
	tn_source_request req = {.body = body, .len = len, .now = received};
	int why;
	return decode_kind(NULL, NULL, kind, &req, 0, n, &why, err);
}

int tn_sources_decode(int kind, const char *body, size_t len, tn_source_note *n, tn_error *err)
{
	return src_decode_at(kind, NULL, body, len, TN_NO_TIME, n, err);
}
