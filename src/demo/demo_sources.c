/*
 * demo_sources.c -- the demo company's store customers (docs/demo.md,
 * "Store customers"): App Store, Google Play and Stripe subscribers whose
 * notifications are generated, signed and then verified and applied exactly
 * as `tenure serve` does with real ones.
 *
 * A certificate chain is made on the spot with OpenSSL (P-256 root,
 * intermediate carrying OID 1.2.840.113635.100.6.2.1, leaf carrying
 * 1.2.840.113635.100.6.11.1) and configured as a --test-root App Store
 * source; Stripe events are signed with a demo secret; Google Play pushes need
 * no token (no JWKS configured).  Each notification goes through
 * tn_sources_verify and tn_sources_store, so the demo's state is what the
 * webhooks would have built.
 *
 * Planted effects (seeded, deterministic in the states and causes): every
 * month a subscriber turns auto-renew off with probability 6% (voluntary
 * churn at the period's end) and a renewal fails with probability 8% (billing
 * retry or grace); half of the failed renewals recover within days, the other
 * half end as involuntary churn (cause billing) -- so about 40% of the store
 * customers' churn is involuntary, which `churn rate --by cause` and the
 * billing-recovery figures recover.
 */
#include "base/alloc.h"
#include "base/rng.h"
#include "tenure.h"

#include <math.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400
#define BUNDLE "com.tenure.demo"
#define SECRET "whsec_tenure_demo_secret"

typedef struct dgen {
	tn_store *s;
	tn_sources *c;
	EVP_PKEY *leaf_key;
	char *x5c[3];
	tn_rng r;
	long long n;
	tn_error *err;
	char buf[16384];
} dgen;

/* ---- the test chain ---- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca, const char *oid,
		       long serial, tn_time nb, tn_time na)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	X509_NAME *name = X509_get_subject_name(x);
	int ok = X509_set_version(x, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
		 ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) &&
		 X509_set_pubkey(x, key) == 1 &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) == 1 &&
		 X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1;
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ok = ok && add_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
	     add_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
	     add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
	     (!issuer || add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"));
	if (ok && oid) {
		ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
		ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e = NULL;
		ok = o && v && ASN1_OCTET_STRING_set(v, (const unsigned char *)"\x05\x00", 2) == 1 &&
		     (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, v)) != NULL && X509_add_ext(x, e, -1) == 1;
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(v);
		ASN1_OBJECT_free(o);
	}
	if (!ok || X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static char *cert_b64(X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return NULL;
	char *out = tn_malloc((size_t)n / 3 * 4 + 8);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, der, n);
	OPENSSL_free(der);
	return out;
}

static char *cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out = NULL;
	if (b && PEM_write_bio_X509(b, x) == 1) {
		long n = BIO_get_mem_data(b, &p);
		if ((out = tn_malloc((size_t)n + 1))) {
			memcpy(out, p, (size_t)n);
			out[n] = 0;
		}
	}
	BIO_free(b);
	return out;
}

/* ---- signing ---- */

static size_t b64url(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0u) |
			     (i + 2 < n ? (unsigned)in[i + 2] : 0u);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = t[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = t[v & 63];
	}
	out[o] = 0;
	return o;
}

/* An ES256 JWS of PAYLOAD with the demo chain in x5c (malloc'ed). */
static char *jws(dgen *g, const char *payload)
{
	char hdr[4096];
	snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"x5c\":[\"%s\",\"%s\",\"%s\"]}", g->x5c[0], g->x5c[1], g->x5c[2]);
	size_t hl = strlen(hdr), pl = strlen(payload);
	char *out = tn_malloc((hl + pl) / 3 * 4 + 128);
	if (!out)
		return NULL;
	size_t n = b64url((const unsigned char *)hdr, hl, out);
	out[n++] = '.';
	n += b64url((const unsigned char *)payload, pl, out + n);
	unsigned char der[80], raw[64];
	size_t dl = sizeof der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, g->leaf_key) == 1 &&
		 EVP_DigestSign(md, der, &dl, (const unsigned char *)out, n) == 1;
	EVP_MD_CTX_free(md);
	const unsigned char *p = der;
	ECDSA_SIG *sig = ok ? d2i_ECDSA_SIG(NULL, &p, (long)dl) : NULL;
	if (!sig || BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) != 32) {
		ECDSA_SIG_free(sig);
		free(out);
		return NULL;
	}
	ECDSA_SIG_free(sig);
	out[n++] = '.';
	b64url(raw, 64, out + n);
	return out;
}

/* Verify and store one body as the webhook would. */
static int deliver(dgen *g, int kind, const char *body, const char *signature, tn_time at)
{
	tn_source_request rq = {.body = body, .len = strlen(body), .signature = signature, .now = at + 1};
	tn_source_note n;
	int why, oc;
	int rc = tn_sources_verify(g->c, kind, &rq, &n, &why, g->err);
	if (rc)
		return rc;
	rc = tn_sources_store(g->s, &n, at + 1, &oc, g->err);
	tn_source_note_free(&n);
	g->n++;
	return rc;
}

static int appstore(dgen *g, long i, const char *type, const char *sub, tn_time at, tn_time start, tn_time expires,
		    int auto_renew, int paid)
{
	char txn[1024], ren[512], pay[256];
	long long ms = (long long)at * 1000;
	snprintf(txn, sizeof txn,
		 "{\"originalTransactionId\":\"demo%05ld\",\"transactionId\":\"demo%05ld-%lld\",\"productId\":"
		 "\"com.tenure.demo.monthly\",\"bundleId\":\"" BUNDLE "\",\"environment\":\"Sandbox\",\"purchaseDate\":%lld,"
		 "\"originalPurchaseDate\":%lld,\"expiresDate\":%lld,\"type\":\"Auto-Renewable Subscription\","
		 "\"appAccountToken\":\"demo-as-%05ld\",\"signedDate\":%lld%s}",
		 i, i, ms, ms, (long long)start * 1000, (long long)expires * 1000, i, ms,
		 paid ? ",\"price\":9990,\"currency\":\"USD\"" : "");
	snprintf(ren, sizeof ren,
		 "{\"originalTransactionId\":\"demo%05ld\",\"autoRenewProductId\":\"com.tenure.demo.monthly\","
		 "\"autoRenewStatus\":%d,\"environment\":\"Sandbox\",\"signedDate\":%lld,\"renewalPrice\":9990,"
		 "\"currency\":\"USD\"}",
		 i, auto_renew, ms);
	char *st = jws(g, txn), *sr = jws(g, ren);
	snprintf(pay, sizeof pay, "%s%s%s", type, sub ? "\",\"subtype\":\"" : "", sub ? sub : "");
	char *payload = NULL, *outer = NULL;
	int rc = TN_ERR_NOMEM;
	if (st && sr) {
		size_t len = strlen(st) + strlen(sr) + 512;
		payload = tn_malloc(len);
		if (payload) {
			snprintf(payload, len,
				 "{\"notificationType\":\"%s\",\"notificationUUID\":\"demo-%05ld-%lld-%s\",\"version\":\"2.0\","
				 "\"signedDate\":%lld,\"data\":{\"bundleId\":\"" BUNDLE "\",\"environment\":\"Sandbox\","
				 "\"signedTransactionInfo\":\"%s\",\"signedRenewalInfo\":\"%s\",\"status\":1}}",
				 pay, i, ms, type, ms, st, sr);
			outer = jws(g, payload);
		}
	}
	if (outer) {
		size_t len = strlen(outer) + 32;
		char *body = tn_malloc(len);
		if (body) {
			snprintf(body, len, "{\"signedPayload\":\"%s\"}", outer);
			rc = deliver(g, TN_SRC_APPSTORE, body, NULL, at);
			free(body);
		}
	}
	if (rc == TN_ERR_NOMEM && g->err->code == TN_OK)
		tn_error_set(g->err, TN_ERR_NOMEM, "out of memory signing the demo's notifications");
	free(st);
	free(sr);
	free(payload);
	free(outer);
	return rc;
}

static int google(dgen *g, long i, int type, tn_time at)
{
	char dn[512], data[1024];
	snprintf(dn, sizeof dn,
		 "{\"version\":\"1.0\",\"packageName\":\"" BUNDLE "\",\"eventTimeMillis\":\"%lld\","
		 "\"subscriptionNotification\":{\"version\":\"1.0\",\"notificationType\":%d,\"purchaseToken\":"
		 "\"demo-gp-token-%05ld\",\"subscriptionId\":\"premium_monthly\"}}",
		 (long long)at * 1000, type, i);
	EVP_EncodeBlock((unsigned char *)data, (const unsigned char *)dn, (int)strlen(dn));
	snprintf(g->buf, sizeof g->buf,
		 "{\"message\":{\"data\":\"%s\",\"messageId\":\"demo-gp-%05ld-%lld-%d\"},\"subscription\":"
		 "\"projects/tenure-demo/subscriptions/rtdn\"}",
		 data, i, (long long)at, type);
	return deliver(g, TN_SRC_GOOGLEPLAY, g->buf, NULL, at);
}

/* Google Play's notifications carry no price: the full state
 * (purchases.subscriptionsv2, as `tenure import googleplay-state` loads it)
 * right after the purchase gives it. */
static int google_state(dgen *g, long i, tn_time at, tn_time expires)
{
	char ex[32], st[32];
	tn_time_format(expires, ex, sizeof ex);
	tn_time_format(at, st, sizeof st);
	snprintf(g->buf, sizeof g->buf,
		 "{\"kind\":\"androidpublisher#subscriptionPurchaseV2\",\"purchaseToken\":\"demo-gp-token-%05ld\","
		 "\"startTime\":\"%s\",\"subscriptionState\":\"SUBSCRIPTION_STATE_ACTIVE\",\"lineItems\":[{\"productId\":"
		 "\"premium_monthly\",\"expiryTime\":\"%s\",\"autoRenewingPlan\":{\"autoRenewEnabled\":true,"
		 "\"recurringPrice\":{\"currencyCode\":\"USD\",\"units\":\"7\",\"nanos\":990000000}}}]}",
		 i, st, ex);
	tn_source_note n;
	int oc;
	int rc = tn_sources_googleplay_state(g->buf, strlen(g->buf), at + 1, &n, g->err);
	if (rc)
		return rc;
	rc = tn_sources_store(g->s, &n, at + 1, &oc, g->err);
	tn_source_note_free(&n);
	g->n++;
	return rc;
}

static int stripe(dgen *g, long i, const char *type, tn_time at, const char *object)
{
	char body[2048], sig[128], hex[65];
	snprintf(body, sizeof body,
		 "{\"id\":\"evt_demo%05ld_%lld_%s\",\"object\":\"event\",\"type\":\"%s\",\"created\":%lld,\"data\":"
		 "{\"object\":%s}}",
		 i, (long long)at, type, type, (long long)at, object);
	char msg[2200];
	int ml = snprintf(msg, sizeof msg, "%lld.%s", (long long)at, body);
	unsigned char mac[32];
	unsigned int l = 32;
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)msg, (size_t)ml, mac, &l);
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", mac[k]);
	snprintf(sig, sizeof sig, "t=%lld,v1=%s", (long long)at, hex);
	return deliver(g, TN_SRC_STRIPE, body, sig, at);
}

static int stripe_sub(dgen *g, long i, const char *type, tn_time at, tn_time start, tn_time end, const char *status,
		      int cancel_at_end, const char *reason)
{
	char o[1024], extra[160] = "";
	if (reason)
		snprintf(extra, sizeof extra, ",\"cancellation_details\":{\"reason\":\"%s\"},\"ended_at\":%lld", reason,
			 (long long)at);
	snprintf(o, sizeof o,
		 "{\"id\":\"sub_demo%05ld\",\"object\":\"subscription\",\"customer\":\"cus_demo%05ld\",\"status\":\"%s\","
		 "\"cancel_at_period_end\":%s,\"start_date\":%lld,\"current_period_end\":%lld,\"items\":{\"data\":"
		 "[{\"price\":{\"id\":\"price_demo_pro\",\"lookup_key\":\"pro_monthly\",\"unit_amount\":1499,\"currency\":"
		 "\"usd\",\"recurring\":{\"interval\":\"month\",\"interval_count\":1}}}]}%s}",
		 i, i, status, cancel_at_end ? "true" : "false", (long long)start, (long long)end, extra);
	return stripe(g, i, type, at, o);
}

static int stripe_invoice(dgen *g, long i, const char *type, tn_time at, long n)
{
	char o[512];
	snprintf(o, sizeof o,
		 "{\"id\":\"in_demo%05ld_%ld\",\"customer\":\"cus_demo%05ld\",\"subscription\":\"sub_demo%05ld\","
		 "\"currency\":\"usd\",\"amount_paid\":%d,\"amount_due\":1499,\"status_transitions\":{\"paid_at\":%lld}}",
		 i, n, i, i, strcmp(type, "invoice.paid") == 0 ? 1499 : 0, (long long)at);
	return stripe(g, i, type, at, o);
}

/* One subscriber's life on SOURCE (0 App Store, 1 Google Play, 2 Stripe). */
static int life(dgen *g, int source, long i, tn_time first, tn_time end)
{
	tn_time start = first + (tn_time)(tn_rng_unif(&g->r) * (double)(end - first - 40 * DAY));
	tn_time period_end = start + 30 * DAY;
	int rc;
	if (source == 0)
		rc = appstore(g, i, "SUBSCRIBED", "INITIAL_BUY", start, start, period_end, 1, 1);
	else if (source == 1)
		rc = google(g, i, 4, start) || google_state(g, i, start, period_end);
	else
		rc = stripe_sub(g, i, "customer.subscription.created", start, start, period_end, "active", 0, NULL) ||
		     stripe_invoice(g, i, "invoice.paid", start, 0);
	for (long n = 1; rc == TN_OK && period_end < end; n++) {
		double u = tn_rng_unif(&g->r);
		if (u < 0.06) { /* voluntary: auto-renew off some days before the end */
			tn_time off = period_end - (tn_time)(1 + tn_rng_unif(&g->r) * 20) * DAY;
			if (source == 0)
				rc = appstore(g, i, "DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", off, start,
					      period_end, 0, 0) ||
				     appstore(g, i, "EXPIRED", "VOLUNTARY", period_end, start, period_end, 0, 0);
			else if (source == 1)
				rc = google(g, i, 3, off) || google(g, i, 13, period_end);
			else
				rc = stripe_sub(g, i, "customer.subscription.updated", off, start, period_end, "active", 1,
						NULL) ||
				     stripe_sub(g, i, "customer.subscription.deleted", period_end, start, period_end,
						"canceled", 1, "cancellation_requested");
			return rc;
		}
		if (u < 0.14) { /* a failed renewal: half recover within days, half churn (billing) */
			int recovers = tn_rng_unif(&g->r) < 0.5;
			tn_time back = period_end + (tn_time)(1 + tn_rng_unif(&g->r) * 5) * DAY;
			tn_time gone = period_end + 16 * DAY;
			if (source == 0) {
				rc = appstore(g, i, "DID_FAIL_TO_RENEW", "GRACE_PERIOD", period_end, start, period_end, 1, 0);
				if (!rc && recovers)
					rc = appstore(g, i, "DID_RENEW", "BILLING_RECOVERY", back, start, back + 30 * DAY, 1, 1);
				else if (!rc)
					rc = appstore(g, i, "GRACE_PERIOD_EXPIRED", NULL, period_end + 6 * DAY, start,
						      period_end, 1, 0) ||
					     (gone <= end ? appstore(g, i, "EXPIRED", "BILLING_RETRY", gone, start, period_end,
								     0, 0)
							  : 0);
			} else if (source == 1) {
				rc = google(g, i, 6, period_end);
				if (!rc && recovers)
					rc = google(g, i, 1, back);
				else if (!rc)
					rc = google(g, i, 5, period_end + 3 * DAY) ||
					     (gone <= end ? google(g, i, 13, gone) : 0);
			} else {
				rc = stripe_invoice(g, i, "invoice.payment_failed", period_end, n) ||
				     stripe_sub(g, i, "customer.subscription.updated", period_end, start, period_end + 30 * DAY,
						"past_due", 0, NULL);
				if (!rc && recovers)
					rc = stripe_invoice(g, i, "invoice.paid", back, n) ||
					     stripe_sub(g, i, "customer.subscription.updated", back, start, back + 30 * DAY,
							"active", 0, NULL);
				else if (!rc && gone <= end)
					rc = stripe_sub(g, i, "customer.subscription.deleted", gone, start, period_end,
							"canceled", 0, "payment_failed");
			}
			if (!recovers)
				return rc;
			period_end = back + 30 * DAY;
			continue;
		}
		if (source == 0)
			rc = appstore(g, i, "DID_RENEW", NULL, period_end, start, period_end + 30 * DAY, 1, 1);
		else if (source == 1)
			rc = google(g, i, 2, period_end);
		else
			rc = stripe_invoice(g, i, "invoice.paid", period_end, n) ||
			     stripe_sub(g, i, "customer.subscription.updated", period_end, start, period_end + 30 * DAY,
					"active", 0, NULL);
		period_end += 30 * DAY;
	}
	return rc;
}

int tn_demo_sources(tn_store *s, long per_source, tn_time end, int months, unsigned long long seed,
		    long long *notifications, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	if (per_source < 0 || per_source > 100000)
		return tn_error_set(err, TN_ERR_USAGE, "--store-customers: expected 0 to 100000, found %ld", per_source);
	if (notifications)
		*notifications = 0;
	if (per_source == 0)
		return TN_OK;
	dgen g = {.s = s, .err = err};
	tn_rng_seed(&g.r, seed, 0x50c7ce5);
	tn_time first = tn_add_months(end, -months);
	EVP_PKEY *rk = EVP_EC_gen("P-256"), *ik = EVP_EC_gen("P-256");
	g.leaf_key = EVP_EC_gen("P-256");
	X509 *root = rk ? make_cert(rk, "Tenure Demo Root CA", NULL, NULL, 1, NULL, 1, first - 365 * DAY, end + 365 * DAY)
			: NULL;
	X509 *inter = root && ik ? make_cert(ik, "Tenure Demo Intermediate", root, rk, 1, "1.2.840.113635.100.6.2.1", 2,
					     first - 365 * DAY, end + 365 * DAY)
				 : NULL;
	X509 *leaf = inter && g.leaf_key ? make_cert(g.leaf_key, "Tenure Demo Leaf", inter, ik, 0,
						     "1.2.840.113635.100.6.11.1", 3, first - 365 * DAY, end + 365 * DAY)
					 : NULL;
	char *pem = root ? cert_pem(root) : NULL;
	int rc = TN_OK;
	if (leaf) {
		g.x5c[0] = cert_b64(leaf);
		g.x5c[1] = cert_b64(inter);
		g.x5c[2] = cert_b64(root);
	}
	if (!leaf || !pem || !g.x5c[0] || !g.x5c[1] || !g.x5c[2])
		rc = tn_error_set(err, TN_ERR_NOMEM, "cannot make the demo's certificate chain");
	tn_source_spec as = {.kind = TN_SRC_APPSTORE,
			     .bundle_id = BUNDLE,
			     .environment = "Sandbox",
			     .root_pem = pem,
			     .root_len = pem ? strlen(pem) : 0,
			     .test_root = 1};
	tn_source_spec gp = {.kind = TN_SRC_GOOGLEPLAY, .package = BUNDLE};
	tn_source_spec st = {.kind = TN_SRC_STRIPE, .secret = SECRET};
	int began = !rc && tn_store_begin(s, err) == TN_OK;
	if (!rc && !began)
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc)
		rc = tn_sources_add(s, &as, end, NULL, err);
	if (!rc)
		rc = tn_sources_add(s, &gp, end, NULL, err);
	if (!rc)
		rc = tn_sources_add(s, &st, end, NULL, err);
	if (!rc)
		rc = tn_sources_load(s, &g.c, err);
	for (int src = 0; src < 3 && !rc; src++)
		for (long i = 0; i < per_source && !rc; i++)
			rc = life(&g, src, i, first, end);
	if (!rc && began)
		rc = tn_store_commit(s, err);
	if (rc) {
		rc = tn_error_code(err, TN_ERR_DB);
		if (began)
			tn_store_rollback(s);
	}
	if (notifications)
		*notifications = g.n;
	tn_sources_free(g.c);
	for (int k = 0; k < 3; k++)
		free(g.x5c[k]);
	free(pem);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(g.leaf_key);
	return rc;
}
