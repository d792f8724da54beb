/*
 * appstore.c -- App Store Server Notifications V2, verified as Apple's own
 * app-store-server-library does (signed_data_verifier / ChainVerifier):
 *   - the body is {"signedPayload": JWS}; the JWS header's alg is ES256 and
 *     its x5c holds exactly three certificates;
 *   - x5c[0] (leaf) and x5c[1] (intermediate) must chain to the CONFIGURED
 *     root (an X509_STORE holding that root only -- x5c[2] is never trusted),
 *     with X509_V_FLAG_X509_STRICT, validity judged at the payload's
 *     signedDate (X509_VERIFY_PARAM_set_time), the leaf carrying OID
 *     1.2.840.113635.100.6.11.1 and the intermediate 1.2.840.113635.100.6.2.1;
 *   - the ES256 signature made with the leaf's key;
 *   - bundleId, appAppleId (when configured) and environment match;
 *   - data.signedTransactionInfo and data.signedRenewalInfo verified the same
 *     way (their own signedDate), their bundleId/environment matching too.
 * A chain that verified is cached (key: SHA-256 of the three x5c strings and
 * the source id) for SRC_CHAIN_TTL seconds, and used only for a signedDate
 * inside the validity of all three certificates -- as the library caches
 * verified public keys, so a steady stream costs three signature checks per
 * notification and no X.509 path building.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OID_LEAF "1.2.840.113635.100.6.11.1"
#define OID_INTERMEDIATE "1.2.840.113635.100.6.2.1"

static int has_oid(X509 *x, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int r = o && X509_get_ext_by_OBJ(x, o, -1) >= 0;
	ASN1_OBJECT_free(o);
	return r;
}

static X509 *cert_b64(const char *b64)
{
	unsigned char *der;
	size_t n;
	if (!b64 || src_b64_decode(b64, strlen(b64), 0, &der, &n))
		return NULL;
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)n);
	if (x && p != der + n) { /* trailing bytes */
		X509_free(x);
		x = NULL;
	}
	free(der);
	return x;
}

static tn_time asn1_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return TN_NO_TIME;
	return (tn_time)timegm(&tm);
}

/* SHA-256 of a domain tag, the source id and N strings (each with its NUL). */
static int cache_key(const char *tag, const src_config *cfg, const char *const *s, const size_t *len, int n,
		     unsigned char key[32], tn_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int kl = 32;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, tag, strlen(tag) + 1) == 1 && EVP_DigestUpdate(md, &cfg->id, sizeof cfg->id) == 1;
	for (int i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(md, s[i], len[i]) == 1 && EVP_DigestUpdate(md, "", 1) == 1;
	ok = ok && EVP_DigestFinal_ex(md, key, &kl) == 1;
	EVP_MD_CTX_free(md);
	return ok ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

/* The cached verified key under KEY, good at AT (one reference for the
 * caller), or NULL; with AT == TN_NO_TIME only whether there is an entry
 * (then the entry is not returned: NULL or (EVP_PKEY *)1). */
static EVP_PKEY *cache_find(tn_sources *c, const unsigned char key[32], tn_time at, src_chain *found)
{
	double now = src_monotonic();
	EVP_PKEY *pk = NULL;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->ncache; i++) {
		src_chain *e = &c->cache[i];
		if (CRYPTO_memcmp(e->key, key, 32) != 0 || now - e->verified_at >= SRC_CHAIN_TTL)
			continue;
		if (at == TN_NO_TIME) {
			pk = (EVP_PKEY *)1;
			break;
		}
		if (at >= e->not_before && at <= e->not_after) {
			pk = e->leaf;
			EVP_PKEY_up_ref(pk);
			if (found)
				*found = *e;
		}
		break;
	}
	pthread_mutex_unlock(&c->mu);
	return pk;
}

static void cache_put(tn_sources *c, const unsigned char key[32], EVP_PKEY *pk, tn_time nb, tn_time na,
		      double verified_at)
{
	pthread_mutex_lock(&c->mu);
	src_chain *e = NULL;
	for (size_t i = 0; i < c->ncache && !e; i++)
		if (CRYPTO_memcmp(c->cache[i].key, key, 32) == 0)
			e = &c->cache[i];
	if (!e)
		e = c->ncache < SRC_CHAIN_CACHE ? &c->cache[c->ncache++] : &c->cache[c->next++ % SRC_CHAIN_CACHE];
	EVP_PKEY_free(e->leaf);
	memcpy(e->key, key, 32);
	e->leaf = pk;
	EVP_PKEY_up_ref(pk);
	e->not_before = nb;
	e->not_after = na;
	e->verified_at = verified_at;
	pthread_mutex_unlock(&c->mu);
}

/* The verified leaf key for X5C (three strings) at time AT: from the cache,
 * or by verifying the chain.  Returns the key (one reference for the caller).
 * HKEY (the key of the header's exact text) is cached as well, so the next
 * JWS with the same header is verified without decoding it. */
static EVP_PKEY *chain_key(tn_sources *c, const src_config *cfg, const cJSON *x5c, tn_time at,
			   const unsigned char hkey[32], int *refusal, tn_error *err)
{
	const char *s[3];
	size_t len[3];
	for (int i = 0; i < 3; i++) {
		const cJSON *it = cJSON_GetArrayItem(x5c, i);
		s[i] = cJSON_IsString(it) ? it->valuestring : NULL;
		if (!s[i]) {
			src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "x5c[%d] is not a string", i);
			return NULL;
		}
		len[i] = strlen(s[i]);
	}
	unsigned char key[32];
	if (cache_key("x5c", cfg, s, len, 3, key, err))
		return NULL;
	double now = src_monotonic();
	src_chain hit;
	EVP_PKEY *pk = cache_find(c, key, at, &hit);
	if (pk) {
		cache_put(c, hkey, pk, hit.not_before, hit.not_after, hit.verified_at);
		return pk;
	}

	X509 *leaf = cert_b64(s[0]), *inter = cert_b64(s[1]);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	tn_time nb = INT64_MIN, na = INT64_MAX;
	if (!leaf || !inter) {
		src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "x5c[%d] is not a base64 DER certificate", leaf ? 1 : 0);
		goto done;
	}
	if (!untrusted || !ctx || !sk_X509_push(untrusted, inter)) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory setting up the chain check");
		goto done;
	}
	inter = NULL; /* owned by the stack now */
	if (X509_STORE_CTX_init(ctx, cfg->store, leaf, untrusted) != 1) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory setting up the chain check");
		goto done;
	}
	X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_time(p, (time_t)at);
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);
		int foreign = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
			      e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || e == X509_V_ERR_CERT_SIGNATURE_FAILURE;
		src_refuse(refusal, foreign ? SRC_FOREIGN_CHAIN : TN_SRC_BAD_SIGNATURE, err,
			   "the x5c chain does not verify against the configured root at signedDate: %s",
			   X509_verify_cert_error_string(e));
		goto done;
	}
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	if (sk_X509_num(chain) != 3) {
		src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the chain is %d certificates long, not 3",
			   sk_X509_num(chain));
		goto done;
	}
	if (!has_oid(leaf, OID_LEAF)) {
		src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the leaf certificate lacks OID " OID_LEAF);
		goto done;
	}
	if (!has_oid(sk_X509_value(chain, 1), OID_INTERMEDIATE)) {
		src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the intermediate certificate lacks OID " OID_INTERMEDIATE);
		goto done;
	}
	for (int i = 0; i < 3; i++) {
		X509 *x = sk_X509_value(chain, i);
		tn_time b = asn1_time(X509_get0_notBefore(x)), a = asn1_time(X509_get0_notAfter(x));
		if (b == TN_NO_TIME || a == TN_NO_TIME) {
			src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "a certificate's validity cannot be read");
			goto done;
		}
		if (b > nb)
			nb = b;
		if (a < na)
			na = a;
	}
	pk = X509_get_pubkey(leaf);
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 256) {
		EVP_PKEY_free(pk);
		pk = NULL;
		src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the leaf key is not a P-256 EC key");
		goto done;
	}
	cache_put(c, key, pk, nb, na, now);
	cache_put(c, hkey, pk, nb, na, now);
done:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(inter);
	X509_free(leaf);
	return pk;
}

/* Open one JWS: when VERIFY, the full check above; the payload is handed
 * over in *payload.  WHAT names it in messages. */
static int jws_open(tn_sources *c, const src_config *cfg, const char *tok, int verify, const char *what,
		    cJSON **payload, tn_time *signed_at, int *refusal, tn_error *err)
{
	*payload = NULL;
	src_jws j;
	tn_error e = {0};
	size_t len = strlen(tok);
	/* a header whose exact text verified before is not decoded again */
	unsigned char hkey[32];
	const char *dot = memchr(tok, '.', len);
	int known = 0;
	if (verify && dot) {
		const char *h[1] = {tok};
		size_t hl[1] = {(size_t)(dot - tok)};
		if (cache_key("header", cfg, h, hl, 1, hkey, err))
			return TN_ERR_NOMEM;
		known = cache_find(c, hkey, TN_NO_TIME, NULL) != NULL;
	}
	int rc = src_jws_parse_opt(tok, len, !verify || known, &j, &e);
	if (rc == TN_ERR_NOMEM)
		return tn_error_set(err, rc, "%s", e.msg);
	if (rc)
		return src_refuse(refusal, TN_SRC_MALFORMED, err, "%s: %s", what, e.msg);
	*signed_at = src_ms(j.payload, "signedDate");
	if (verify && *signed_at == TN_NO_TIME)
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "%s: signedDate is missing", what);
	EVP_PKEY *pk = verify && !rc && known ? cache_find(c, hkey, *signed_at, NULL) : NULL;
	if (verify && !rc && !pk && known) {
		/* cached, but not for this signedDate: the full check says why */
		src_jws_free(&j);
		if ((rc = src_jws_parse_opt(tok, len, 0, &j, &e)))
			return rc == TN_ERR_NOMEM ? tn_error_set(err, rc, "%s", e.msg)
						  : src_refuse(refusal, TN_SRC_MALFORMED, err, "%s: %s", what, e.msg);
	}
	if (verify && !rc && !pk) {
		const char *alg = src_str(j.header, "alg");
		const cJSON *x5c = cJSON_GetObjectItemCaseSensitive(j.header, "x5c");
		if (!alg || strcmp(alg, "ES256") != 0)
			rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "%s: alg is %s, not ES256", what,
					alg ? alg : "missing");
		else if (!cJSON_IsArray(x5c) || cJSON_GetArraySize(x5c) != 3)
			rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
					"%s: x5c must hold exactly 3 certificates (found %d)", what,
					cJSON_IsArray(x5c) ? cJSON_GetArraySize(x5c) : 0);
		else if (!(pk = chain_key(c, cfg, x5c, *signed_at, hkey, refusal, &e)))
			rc = e.code == TN_ERR_NOMEM ? tn_error_set(err, TN_ERR_NOMEM, "%s", e.msg)
						    : tn_error_set(err, TN_ERR_INPUT, "%s: %s", what, e.msg);
	}
	if (pk) {
		if (!rc && src_es256_verify(pk, j.input, j.input_len, j.sig, j.sig_len))
			rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
					"%s: the ES256 signature does not verify with the leaf's key", what);
		EVP_PKEY_free(pk);
	}
	if (rc == TN_OK) {
		*payload = j.payload;
		j.payload = NULL;
	}
	src_jws_free(&j);
	return rc;
}

static const char *cause_of_intent(double intent)
{
	if (!(intent >= 0 && intent <= 100))
		return "other";
	switch ((int)intent) {
	case 1:
		return "voluntary";
	case 2:
		return "billing";
	case 3:
		return "price_increase";
	case 4:
		return "product_unavailable";
	default:
		return "other";
	}
}

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* The effect of a notification of TYPE/SUB with its decoded transaction and
 * renewal info on NOTE. */
static int decode(const char *type, const char *sub, const cJSON *txn, const cJSON *ren, tn_source_note *n)
{
	const char *otid = src_str(txn, "originalTransactionId");
	if (!txn || !otid)
		return TN_OK; /* nothing about a subscription */
	const char *ttype = src_str(txn, "type");
	if (ttype && strcmp(ttype, "Auto-Renewable Subscription") != 0)
		return TN_OK; /* consumables and one-time purchases: kept only */
	static const char *const STATEFUL[] = {"SUBSCRIBED", "DID_RENEW", "OFFER_REDEEMED", "REFUND_REVERSED",
					       "RENEWAL_EXTENDED", "DID_CHANGE_RENEWAL_STATUS",
					       "DID_CHANGE_RENEWAL_PREF", "DID_FAIL_TO_RENEW",
					       "GRACE_PERIOD_EXPIRED", "EXPIRED", "REFUND", "REVOKE", NULL};
	int stateful = 0;
	for (const char *const *p = STATEFUL; *p; p++)
		stateful |= eq(type, *p);
	if (!stateful)
		return TN_OK;
	const char *token = src_str(txn, "appAccountToken");
	n->subscription = src_printf("appstore:%s", otid);
	n->customer = token && *token ? src_dup(token) : src_printf("appstore:%s", otid);
	n->product = src_dup(src_str(txn, "productId"));
	if (!n->subscription || !n->customer || (src_str(txn, "productId") && !n->product))
		return TN_ERR_NOMEM;
	n->period = src_period_guess(n->product);
	double price;
	const char *cur = src_str(txn, "currency");
	if (!src_num(txn, "price", &price) && price >= 0 && cur && strlen(cur) == 3) {
		n->price = price / 1000.0;
		memcpy(n->currency, cur, 4);
	}
	n->started_at = src_ms(txn, "originalPurchaseDate");
	n->expires_at = src_ms(txn, "expiresDate");
	double ar;
	n->auto_renew = ren && !src_num(ren, "autoRenewStatus", &ar) ? ar != 0 : -1;
	const char *discount = src_str(txn, "offerDiscountType");
	double offer = 0;
	src_num(txn, "offerType", &offer);
	int trial = eq(discount, "FREE_TRIAL") || (offer == 1 && n->price == 0);
	if (trial)
		n->trial_ends_at = n->expires_at;
	const char *live = trial ? "trial" : "active";
	const char *tid = src_str(txn, "transactionId");
	if (eq(type, "SUBSCRIBED") || eq(type, "DID_RENEW") || eq(type, "OFFER_REDEEMED") ||
	    eq(type, "REFUND_REVERSED") || eq(type, "RENEWAL_EXTENDED")) {
		n->state = live;
		if ((eq(type, "SUBSCRIBED") || eq(type, "DID_RENEW")) && !isnan(n->price) && n->price > 0 && tid) {
			n->pay_status = "succeeded";
			n->pay_amount = n->price;
			memcpy(n->pay_currency, n->currency, 4);
			n->pay_id = src_printf("appstore:%s", tid);
			n->paid_at = src_ms(txn, "purchaseDate");
		}
	} else if (eq(type, "DID_CHANGE_RENEWAL_STATUS")) {
		n->auto_renew = eq(sub, "AUTO_RENEW_DISABLED") ? 0 : eq(sub, "AUTO_RENEW_ENABLED") ? 1 : n->auto_renew;
		if (n->auto_renew == 0)
			n->pending_cause = "voluntary";
	} else if (eq(type, "DID_CHANGE_RENEWAL_PREF")) {
		/* an upgrade is the new product at once; a downgrade at the next renewal (the
		 * transaction is still the current product) */
	} else if (eq(type, "DID_FAIL_TO_RENEW")) {
		n->state = eq(sub, "GRACE_PERIOD") ? "grace" : "billing_retry";
		if (eq(sub, "GRACE_PERIOD")) {
			tn_time g = src_ms(ren, "gracePeriodExpiresDate");
			if (g != TN_NO_TIME)
				n->expires_at = g;
		}
		double rp;
		const char *rc = src_str(ren, "currency");
		if (ren && !src_num(ren, "renewalPrice", &rp) && rp > 0 && rc && strlen(rc) == 3) {
			n->pay_status = "failed";
			n->pay_amount = rp / 1000.0;
			memcpy(n->pay_currency, rc, 4);
			n->pay_id = src_printf("appstore:%s:failed:%s", otid, n->dedupe);
			n->paid_at = n->event_at;
		}
	} else if (eq(type, "GRACE_PERIOD_EXPIRED")) {
		n->state = "billing_retry";
	} else if (eq(type, "EXPIRED")) {
		n->state = "expired";
		double intent;
		n->cause = eq(sub, "VOLUNTARY")              ? "voluntary"
			 : eq(sub, "BILLING_RETRY")          ? "billing"
			 : eq(sub, "PRICE_INCREASE")         ? "price_increase"
			 : eq(sub, "PRODUCT_NOT_FOR_SALE")   ? "product_unavailable"
			 : ren && !src_num(ren, "expirationIntent", &intent) ? cause_of_intent(intent)
									    : NULL; /* from the state before */
	} else if (eq(type, "REFUND")) {
		n->state = "refunded";
		n->cause = "refund";
		if (!isnan(n->price) && n->price > 0 && tid) {
			n->pay_status = "refunded";
			n->pay_amount = n->price;
			memcpy(n->pay_currency, n->currency, 4);
			n->pay_id = src_printf("appstore:%s", tid);
			n->paid_at = src_ms(txn, "revocationDate");
			if (n->paid_at == TN_NO_TIME)
				n->paid_at = n->event_at;
		}
	} else if (eq(type, "REVOKE")) {
		n->state = "expired";
		n->cause = "revoked";
	}
	if (n->pay_status && !n->pay_id)
		return TN_ERR_NOMEM;
	return TN_OK;
}

/* bundleId/appAppleId/environment of a decoded object against the source. */
static int match(const src_config *cfg, const cJSON *o, int check_bundle, int check_app, const char *what,
		 int *refusal, tn_error *err)
{
	const char *want_b = src_str(cfg->cfg, "bundle_id"), *want_e = src_str(cfg->cfg, "environment");
	double want_a = 0, got_a;
	src_num(cfg->cfg, "app_apple_id", &want_a);
	const char *b = src_str(o, "bundleId"), *e = src_str(o, "environment");
	if (check_bundle && !eq(b, want_b))
		return src_refuse(refusal, TN_SRC_MISMATCH, err, "%s: bundleId %s is not the configured %s", what,
				  b ? b : "(missing)", want_b);
	if (!eq(e, want_e))
		return src_refuse(refusal, TN_SRC_MISMATCH, err, "%s: environment %s is not the configured %s", what,
				  e ? e : "(missing)", want_e);
	if (check_app && want_a > 0 && (src_num(o, "appAppleId", &got_a) || got_a != want_a))
		return src_refuse(refusal, TN_SRC_MISMATCH, err, "%s: appAppleId is not the configured %.0f", what,
				  want_a);
	return TN_OK;
}

int src_appstore(tn_sources *c, const src_config *cfg, const tn_source_request *req, int verify,
		 tn_source_note *n, int *refusal, tn_error *err)
{
	cJSON *body = cJSON_ParseWithLength(req->body, req->len);
	cJSON *pay = NULL, *txn = NULL, *ren = NULL;
	int rc = TN_OK;
	tn_time at, tat, rat;
	const char *sp = src_str(body, "signedPayload");
	if (!sp) {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "the body is not {\"signedPayload\": JWS}");
		goto done;
	}
	if ((rc = jws_open(c, cfg, sp, verify, "signedPayload", &pay, &at, refusal, err)))
		goto done;
	const char *type = src_str(pay, "notificationType"), *sub = src_str(pay, "subtype");
	const char *uuid = src_str(pay, "notificationUUID");
	if (!type || !uuid || !*uuid || strlen(uuid) > 200) {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "signedPayload: notificationType or notificationUUID missing");
		goto done;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(pay, "data");
	const cJSON *summary = cJSON_GetObjectItemCaseSensitive(pay, "summary");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(pay, "externalPurchaseToken");
	if (verify) {
		if (cJSON_IsObject(data))
			rc = match(cfg, data, 1, 1, "signedPayload data", refusal, err);
		else if (cJSON_IsObject(summary))
			rc = match(cfg, summary, 1, 1, "signedPayload summary", refusal, err);
		else if (cJSON_IsObject(ext)) {
			const char *id = src_str(ext, "externalPurchaseId");
			cJSON *fake = cJSON_CreateObject();
			if (!fake ||
			    !cJSON_AddStringToObject(fake, "environment",
						     id && strncmp(id, "SANDBOX", 7) == 0 ? "Sandbox" : "Production") ||
			    !cJSON_AddItemReferenceToObject(fake, "bundleId",
							    cJSON_GetObjectItemCaseSensitive(ext, "bundleId")) ||
			    !cJSON_AddItemReferenceToObject(fake, "appAppleId",
							    cJSON_GetObjectItemCaseSensitive(ext, "appAppleId")))
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			else
				rc = match(cfg, fake, 1, 1, "externalPurchaseToken", refusal, err);
			cJSON_Delete(fake);
		} else
			rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "signedPayload has no data, summary or externalPurchaseToken");
		if (rc)
			goto done;
	}
	const char *st = src_str(data, "signedTransactionInfo"), *sr = src_str(data, "signedRenewalInfo");
	if (st && (rc = jws_open(c, cfg, st, verify, "signedTransactionInfo", &txn, &tat, refusal, err)))
		goto done;
	if (sr && (rc = jws_open(c, cfg, sr, verify, "signedRenewalInfo", &ren, &rat, refusal, err)))
		goto done;
	if (verify && txn && (rc = match(cfg, txn, 1, 0, "signedTransactionInfo", refusal, err)))
		goto done;
	if (verify && ren && (rc = match(cfg, ren, 0, 0, "signedRenewalInfo", refusal, err)))
		goto done;
	n->kind = TN_SRC_APPSTORE;
	n->source_id = cfg ? cfg->id : 0;
	n->dedupe = src_dup(uuid);
	n->type = sub ? src_printf("%s/%s", type, sub) : src_dup(type);
	n->event_at = at;
	n->test = strcmp(type, "TEST") == 0;
	if (!n->dedupe || !n->type) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (decode(type, sub, txn, ren, n)) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
done:
	cJSON_Delete(body);
	cJSON_Delete(pay);
	cJSON_Delete(txn);
	cJSON_Delete(ren);
	return rc;
}
