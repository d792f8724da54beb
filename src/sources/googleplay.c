/*
 * googleplay.c -- Google Play real-time developer notifications, pushed by
 * Pub/Sub: {"message": {"data": base64 JSON, "messageId", "publishTime",
 * "attributes"}, "subscription"}.  The data is a DeveloperNotification:
 * packageName (must be the configured one), eventTimeMillis, and one of
 * subscriptionNotification (types 1-22), voidedPurchaseNotification,
 * oneTimeProductNotification, testNotification.  When a JWKS is configured,
 * the push's Authorization: Bearer token (Google's OIDC ID token, RS256) is
 * verified against it, with the audience and service-account email when
 * configured.  Dedupe on messageId.  The notification says only what
 * happened; `tenure import googleplay-state` loads a purchases.subscriptionsv2
 * resource for the full state.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int check_token(const src_config *cfg, const tn_source_request *req, int *refusal, tn_error *err)
{
	const char *a = req->authorization;
	if (!a || strncmp(a, "Bearer ", 7) != 0)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the push's Authorization: Bearer token is missing");
	src_jws j;
	tn_error e = {0};
	int rc = src_jws_parse(a + 7, strlen(a + 7), &j, &e);
	if (rc == TN_ERR_NOMEM)
		return tn_error_set(err, rc, "%s", e.msg);
	if (rc)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token: %s", e.msg);
	const char *alg = src_str(j.header, "alg"), *kid = src_str(j.header, "kid");
	EVP_PKEY *pk = NULL;
	if (!eq(alg, "RS256")) {
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token's alg is %s, not RS256",
				alg ? alg : "missing");
		goto done;
	}
	const cJSON *k;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(cfg->jwks, "keys"))
	{
		if (eq(src_str(k, "kty"), "RSA") && (!kid || eq(src_str(k, "kid"), kid))) {
			pk = src_rsa_from_jwk(src_str(k, "n"), src_str(k, "e"));
			if (pk)
				break;
		}
	}
	if (!pk) {
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token's key %s is not in the configured JWKS",
				kid ? kid : "(no kid)");
		goto done;
	}
	if (src_rs256_verify(pk, j.input, j.input_len, j.sig, j.sig_len)) {
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token's RS256 signature does not verify");
		goto done;
	}
	const char *iss = src_str(j.payload, "iss"), *aud = src_str(j.payload, "aud"),
		   *email = src_str(j.payload, "email");
	const char *want_aud = src_str(cfg->cfg, "audience"), *want_email = src_str(cfg->cfg, "service_account");
	double exp, iat;
	if (!eq(iss, "https://accounts.google.com") && !eq(iss, "accounts.google.com"))
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token's issuer %s is not Google",
				iss ? iss : "(missing)");
	else if (src_num(j.payload, "exp", &exp) || exp < (double)req->now)
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token has expired");
	else if (!src_num(j.payload, "iat", &iat) && iat > (double)req->now + 300)
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token was issued in the future");
	else if (want_aud && !eq(aud, want_aud))
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the bearer token's audience %s is not the configured %s",
				aud ? aud : "(missing)", want_aud);
	else if (want_email && (!eq(email, want_email) ||
				!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j.payload, "email_verified"))))
		rc = src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
				"the bearer token's email %s is not the configured service account (verified)",
				email ? email : "(missing)");
done:
	EVP_PKEY_free(pk);
	src_jws_free(&j);
	return rc;
}

/* State of subscriptionNotification TYPE. */
static void rtdn(int type, tn_source_note *n)
{
	switch (type) {
	case 1: /* RECOVERED */
	case 2: /* RENEWED */
	case 4: /* PURCHASED */
		n->state = "active";
		n->auto_renew = 1;
		break;
	case 7: /* RESTARTED */
		n->state = "active";
		n->auto_renew = 1;
		break;
	case 3: /* CANCELED: auto-renew off (by the user, or by the system after a failed hold) */
		n->auto_renew = 0;
		break;
	case 5: /* ON_HOLD */
		n->state = "billing_retry";
		break;
	case 6: /* IN_GRACE_PERIOD */
		n->state = "grace";
		break;
	case 10: /* PAUSED */
		n->state = "paused";
		break;
	case 12: /* REVOKED */
		n->state = "expired";
		n->cause = "revoked";
		n->auto_renew = 0;
		break;
	case 13: /* EXPIRED: the cause from the state before (common machine) */
		n->state = "expired";
		n->auto_renew = 0;
		break;
	case 18: /* CANCELLATION_SCHEDULED (installment plans) */
		n->auto_renew = 0;
		n->pending_cause = "voluntary";
		break;
	case 20: /* PENDING_PURCHASE_CANCELED: never started */
		n->state = "expired";
		n->cause = "other";
		n->auto_renew = 0;
		break;
	default: /* 8 PRICE_CHANGE_CONFIRMED, 9 DEFERRED, 11 PAUSE_SCHEDULE_CHANGED, 17 ITEMS_CHANGED,
		  * 19 PRICE_CHANGE_UPDATED, 22 PRICE_STEP_UP_CONSENT_UPDATED: the state is unchanged */
		break;
	}
}

static const char *const TYPE_NAMES[23] = {
	NULL, "RECOVERED", "RENEWED", "CANCELED", "PURCHASED", "ON_HOLD", "IN_GRACE_PERIOD", "RESTARTED",
	"PRICE_CHANGE_CONFIRMED", "DEFERRED", "PAUSED", "PAUSE_SCHEDULE_CHANGED", "REVOKED", "EXPIRED",
	"TYPE_14", "TYPE_15", "TYPE_16", "ITEMS_CHANGED", "CANCELLATION_SCHEDULED", "PRICE_CHANGE_UPDATED",
	"PENDING_PURCHASE_CANCELED", "TYPE_21", "PRICE_STEP_UP_CONSENT_UPDATED"};

int src_googleplay(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *n,
		   int *refusal, tn_error *err)
{
	int rc;
	if (verify && cfg->jwks && (rc = check_token(cfg, req, refusal, err)))
		return rc;
	cJSON *push = cJSON_ParseWithLength(req->body, req->len), *dn = NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(push, "message");
	const char *data = src_str(msg, "data"), *mid = src_str(msg, "messageId");
	if (!mid)
		mid = src_str(msg, "message_id");
	rc = TN_OK;
	if (!data || !mid || !*mid || strlen(mid) > 255) {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "not a Pub/Sub push: message.data and message.messageId are required");
		goto done;
	}
	unsigned char *raw;
	size_t rawlen;
	int b = src_b64_decode(data, strlen(data), 0, &raw, &rawlen);
	if (b == -2) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	if (b) {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "message.data is not base64");
		goto done;
	}
	dn = cJSON_ParseWithLength((const char *)raw, rawlen);
	free(raw);
	const char *pkg = src_str(dn, "packageName");
	if (!cJSON_IsObject(dn) || !pkg) {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "message.data is not a developer notification (packageName missing)");
		goto done;
	}
	if (verify && !eq(pkg, src_str(cfg->cfg, "package"))) {
		rc = src_refuse(refusal, TN_SRC_MISMATCH, err, "packageName %s is not the configured %s", pkg,
				src_str(cfg->cfg, "package"));
		goto done;
	}
	n->kind = TN_SRC_GOOGLEPLAY;
	n->source_id = cfg ? cfg->id : 0;
	n->dedupe = src_dup(mid);
	n->event_at = TN_NO_TIME;
	{
		const cJSON *et = cJSON_GetObjectItemCaseSensitive(dn, "eventTimeMillis");
		if (cJSON_IsString(et)) {
			char *end;
			double v = strtod(et->valuestring, &end);
			if (!*end && v > 0 && v < 1e15)
				n->event_at = (tn_time)(v / 1000);
		} else
			n->event_at = src_ms(dn, "eventTimeMillis");
	}
	const cJSON *sn = cJSON_GetObjectItemCaseSensitive(dn, "subscriptionNotification");
	const cJSON *vn = cJSON_GetObjectItemCaseSensitive(dn, "voidedPurchaseNotification");
	if (cJSON_IsObject(sn)) {
		double t;
		const char *token = src_str(sn, "purchaseToken");
		if (src_num(sn, "notificationType", &t) || t != floor(t) || t < 1 || t > 22 || !token || !*token ||
		    strlen(token) > 1024) {
			rc = src_refuse(refusal, TN_SRC_MALFORMED, err,
					"subscriptionNotification: notificationType 1-22 and purchaseToken are required");
			goto done;
		}
		int type = (int)t;
		n->type = src_printf("SUBSCRIPTION_%s", TYPE_NAMES[type]);
		n->subscription = src_printf("googleplay:%s", token);
		n->customer = src_printf("googleplay:%s", token);
		const char *sid = src_str(sn, "subscriptionId");
		n->product = src_dup(sid ? sid : "googleplay");
		if (!n->subscription || !n->customer || !n->product) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			goto done;
		}
		n->period = src_period_guess(n->product);
		rtdn(type, n);
	} else if (cJSON_IsObject(vn)) {
		double pt = 0;
		src_num(vn, "productType", &pt);
		const char *token = src_str(vn, "purchaseToken");
		n->type = src_dup("VOIDED_PURCHASE");
		if (pt == 1 && token && *token && strlen(token) <= 1024) { /* a subscription */
			n->subscription = src_printf("googleplay:%s", token);
			n->customer = src_printf("googleplay:%s", token);
			n->product = src_dup("googleplay");
			if (!n->subscription || !n->customer || !n->product) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				goto done;
			}
			n->period = "month";
			n->state = "refunded";
			n->cause = "refund";
			n->auto_renew = 0;
		}
	} else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(dn, "testNotification"))) {
		n->type = src_dup("TEST");
		n->test = 1;
	} else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(dn, "oneTimeProductNotification"))) {
		n->type = src_dup("ONE_TIME_PRODUCT");
	} else {
		rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "the developer notification has no known notification in it");
		goto done;
	}
	if (!n->dedupe || !n->type)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
done:
	cJSON_Delete(dn);
	cJSON_Delete(push);
	return rc;
}

/* A purchases.subscriptionsv2 resource with "purchaseToken" added. */
int tn_sources_googleplay_state(const char *json, size_t len, tn_time now, tn_source_note *n, tn_error *err)
{
	memset(n, 0, sizeof *n);
	n->price = NAN;
	n->auto_renew = -1;
	n->expires_at = n->started_at = n->trial_ends_at = n->paid_at = n->event_at = TN_NO_TIME;
	cJSON *o = cJSON_ParseWithLength(json, len);
	const char *token = src_str(o, "purchaseToken"), *st = src_str(o, "subscriptionState");
	int rc = TN_OK;
	if (!token || !*token || strlen(token) > 1024 || !st) {
		rc = tn_error_set(err, TN_ERR_INPUT,
				  "not a subscriptionsv2 resource with purchaseToken: purchaseToken and subscriptionState are required");
		goto done;
	}
	const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "lineItems"), 0);
	const char *product = src_str(item, "productId");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(item, "autoRenewingPlan");
	const char *acct = src_str(cJSON_GetObjectItemCaseSensitive(o, "externalAccountIdentifiers"),
				   "obfuscatedExternalAccountId");
	if ((acct && strlen(acct) > 500) || (product && strlen(product) > 255)) {
		rc = tn_error_set(err, TN_ERR_INPUT, "obfuscatedExternalAccountId over 500 or productId over 255 bytes");
		goto done;
	}
	unsigned char h[32];
	char hex[65];
	src_sha256(json, len, h);
	src_hex(h, 32, hex);
	n->kind = TN_SRC_GOOGLEPLAY;
	n->dedupe = src_printf("state:%s", hex);
	n->type = src_printf("STATE_%s", st);
	n->subscription = src_printf("googleplay:%s", token);
	n->customer = acct && *acct ? src_dup(acct) : src_printf("googleplay:%s", token);
	n->product = src_dup(product ? product : "googleplay");
	n->body = tn_malloc(len + 1);
	if (!n->dedupe || !n->type || !n->subscription || !n->customer || !n->product || !n->body) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	memcpy(n->body, json, len);
	n->body[len] = 0;
	n->body_len = len;
	n->period = src_period_guess(n->product);
	n->event_at = now;
	tn_time t;
	const char *ex = src_str(item, "expiryTime"), *start = src_str(o, "startTime");
	if (ex && tn_time_parse(ex, strlen(ex), &t) == TN_OK)
		n->expires_at = t;
	if (start && tn_time_parse(start, strlen(start), &t) == TN_OK)
		n->started_at = t;
	/* the plan's price (Money: currencyCode, units as a decimal string, nanos):
	 * RTDN notifications carry none, so this import is where a Google Play
	 * subscription's MRR comes from */
	const cJSON *money = cJSON_GetObjectItemCaseSensitive(plan, "recurringPrice");
	const char *cur = src_str(money, "currencyCode");
	const cJSON *units = cJSON_GetObjectItemCaseSensitive(money, "units");
	double u = units ? NAN : 0, nanos = 0; /* Money's units may be left out (zero) */
	if (cJSON_IsString(units) && units->valuestring[0] && strlen(units->valuestring) < 16) {
		char *end;
		double v = strtod(units->valuestring, &end);
		if (!*end)
			u = v;
	} else if (cJSON_IsNumber(units))
		u = units->valuedouble;
	src_num(money, "nanos", &nanos);
	if (cur && strlen(cur) == 3 && u >= 0 && u < 1e12 && nanos >= 0 && nanos < 1e9) {
		n->price = u + nanos / 1e9;
		memcpy(n->currency, cur, 4);
	}
	const cJSON *are = cJSON_GetObjectItemCaseSensitive(plan, "autoRenewEnabled");
	if (cJSON_IsBool(are))
		n->auto_renew = cJSON_IsTrue(are);
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(o, "canceledStateContext");
	const char *cause = cJSON_GetObjectItemCaseSensitive(ctx, "userInitiatedCancellation")	? "voluntary"
			    : cJSON_GetObjectItemCaseSensitive(ctx, "systemInitiatedCancellation") ? "billing"
			    : cJSON_GetObjectItemCaseSensitive(ctx, "developerInitiatedCancellation") ? "revoked"
			    : cJSON_GetObjectItemCaseSensitive(ctx, "replacementCancellation")	? "other"
												: NULL;
	if (eq(st, "SUBSCRIPTION_STATE_ACTIVE"))
		n->state = n->auto_renew == 0 ? "cancelling" : "active";
	else if (eq(st, "SUBSCRIPTION_STATE_CANCELED")) {
		n->state = "cancelling";
		n->auto_renew = 0;
		n->pending_cause = cause ? cause : "voluntary";
	} else if (eq(st, "SUBSCRIPTION_STATE_IN_GRACE_PERIOD"))
		n->state = "grace";
	else if (eq(st, "SUBSCRIPTION_STATE_ON_HOLD"))
		n->state = "billing_retry";
	else if (eq(st, "SUBSCRIPTION_STATE_PAUSED"))
		n->state = "paused";
	else if (eq(st, "SUBSCRIPTION_STATE_EXPIRED")) {
		n->state = "expired";
		n->cause = cause;
		n->auto_renew = 0;
	} else if (eq(st, "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED")) {
		n->state = "expired";
		n->cause = "other";
	} else if (!eq(st, "SUBSCRIPTION_STATE_PENDING")) {
		rc = tn_error_set(err, TN_ERR_INPUT, "subscriptionState %s is not one of Google's", st);
		goto done;
	}
done:
	cJSON_Delete(o);
	if (rc)
		tn_source_note_free(n);
	return rc;
}
