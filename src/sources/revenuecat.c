/*
 * revenuecat.c -- RevenueCat webhooks: the Authorization header set in
 * RevenueCat's dashboard, compared (as SHA-256 hashes, in constant time) with
 * the configured one; events INITIAL_PURCHASE, RENEWAL, CANCELLATION,
 * UNCANCELLATION, NON_RENEWING_PURCHASE, SUBSCRIPTION_PAUSED, EXPIRATION,
 * BILLING_ISSUE, PRODUCT_CHANGE, TRANSFER, SUBSCRIPTION_EXTENDED,
 * REFUND_REVERSED, TEMPORARY_ENTITLEMENT_GRANT, INVOICE_ISSUANCE,
 * VIRTUAL_CURRENCY_TRANSACTION and TEST.  Dedupe on event.id.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const char *reason_cause(const char *r)
{
	return eq(r, "UNSUBSCRIBE")	   ? "voluntary"
	       : eq(r, "BILLING_ERROR")	   ? "billing"
	       : eq(r, "PRICE_INCREASE")	   ? "price_increase"
	       : eq(r, "CUSTOMER_SUPPORT")  ? "refund"
	       : eq(r, "DEVELOPER_INITIATED") ? "revoked"
					    : "other";
}

int src_revenuecat(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *n,
		   int *refusal, tn_error *err)
{
	if (verify) {
		if (!req->authorization)
			return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the Authorization header is missing");
		unsigned char h[32];
		src_sha256(req->authorization, strlen(req->authorization), h);
		if (CRYPTO_memcmp(h, cfg->auth_hash, 32) != 0)
			return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
					  "the Authorization header is not the configured one");
	}
	cJSON *body = cJSON_ParseWithLength(req->body, req->len);
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(body, "event");
	const char *id = src_str(ev, "id"), *type = src_str(ev, "type");
	if (!id || !type || !*id || strlen(id) > 255) {
		cJSON_Delete(body);
		return src_refuse(refusal, TN_SRC_MALFORMED, err, "not a RevenueCat event: event.id and event.type are required");
	}
	int rc = TN_OK;
	n->kind = TN_SRC_REVENUECAT;
	n->source_id = cfg ? cfg->id : 0;
	n->dedupe = src_dup(id);
	n->type = src_dup(type);
	n->event_at = src_ms(ev, "event_timestamp_ms");
	n->test = eq(type, "TEST");
	if (!n->dedupe || !n->type) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	static const char *const STATEFUL[] = {"INITIAL_PURCHASE", "RENEWAL", "CANCELLATION", "UNCANCELLATION",
					       "SUBSCRIPTION_PAUSED", "EXPIRATION", "BILLING_ISSUE",
					       "PRODUCT_CHANGE", "SUBSCRIPTION_EXTENDED", "REFUND_REVERSED", NULL};
	int stateful = 0;
	for (const char *const *p = STATEFUL; *p; p++)
		stateful |= eq(type, *p);
	const char *user = src_str(ev, "app_user_id") ? src_str(ev, "app_user_id") : src_str(ev, "original_app_user_id");
	const char *product = src_str(ev, "product_id"), *otid = src_str(ev, "original_transaction_id");
	if (!stateful || !user || !product)
		goto done; /* kept only: TRANSFER, TEST, NON_RENEWING_PURCHASE, ... */
	n->customer = src_dup(user);
	n->subscription = otid ? src_printf("revenuecat:%s", otid) : src_printf("revenuecat:%s:%s", user, product);
	n->product = src_dup(eq(type, "PRODUCT_CHANGE") && src_str(ev, "new_product_id") ? src_str(ev, "new_product_id")
											: product);
	if (!n->customer || !n->subscription || !n->product) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	n->period = src_period_guess(n->product);
	double price;
	const char *cur = src_str(ev, "currency");
	if (!src_num(ev, "price_in_purchased_currency", &price) && cur && strlen(cur) == 3)
		memcpy(n->currency, cur, 4);
	else if (!src_num(ev, "price", &price))
		memcpy(n->currency, "USD", 4);
	else
		price = NAN;
	if (!isnan(price) && price >= 0)
		n->price = price;
	n->started_at = src_ms(ev, "purchased_at_ms");
	n->expires_at = src_ms(ev, "expiration_at_ms");
	const char *period = src_str(ev, "period_type");
	int trial = eq(period, "TRIAL");
	if (trial)
		n->trial_ends_at = n->expires_at;
	if (eq(type, "INITIAL_PURCHASE") || eq(type, "RENEWAL") || eq(type, "UNCANCELLATION") ||
	    eq(type, "SUBSCRIPTION_EXTENDED") || eq(type, "REFUND_REVERSED")) {
		n->state = trial ? "trial" : "active";
		n->auto_renew = 1;
		if ((eq(type, "INITIAL_PURCHASE") || eq(type, "RENEWAL")) && !isnan(n->price) && n->price > 0) {
			const char *tid = src_str(ev, "transaction_id");
			n->pay_status = "succeeded";
			n->pay_amount = n->price;
			memcpy(n->pay_currency, n->currency, 4);
			n->pay_id = src_printf("revenuecat:%s", tid ? tid : id);
			n->paid_at = n->started_at != TN_NO_TIME ? n->started_at : n->event_at;
			if (!n->pay_id)
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
	} else if (eq(type, "CANCELLATION")) {
		const char *r = src_str(ev, "cancel_reason");
		if (eq(r, "BILLING_ERROR"))
			n->state = "billing_retry";
		else if (eq(r, "CUSTOMER_SUPPORT")) {
			n->state = "refunded";
			n->cause = "refund";
		} else {
			n->auto_renew = 0;
			n->pending_cause = reason_cause(r);
		}
	} else if (eq(type, "EXPIRATION")) {
		const char *r = src_str(ev, "expiration_reason");
		if (eq(r, "SUBSCRIPTION_PAUSED"))
			n->state = "paused";
		else {
			n->state = "expired";
			n->cause = r ? reason_cause(r) : NULL;
			n->auto_renew = 0;
		}
	} else if (eq(type, "BILLING_ISSUE")) {
		tn_time g = src_ms(ev, "grace_period_expiration_at_ms");
		n->state = g != TN_NO_TIME && g > n->event_at ? "grace" : "billing_retry";
		if (g != TN_NO_TIME)
			n->expires_at = g;
	} else if (eq(type, "SUBSCRIPTION_PAUSED")) {
		n->auto_renew = 1; /* pauses at the period's end */
	}
	/* PRODUCT_CHANGE: the new product, state kept */
done:
	cJSON_Delete(body);
	return rc;
}
