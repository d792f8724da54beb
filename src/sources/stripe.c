/*
 * stripe.c -- Stripe webhooks: the Stripe-Signature header
 * ("t=TIMESTAMP,v1=HEX[,v1=HEX...]"; several v1 while a secret is rolled),
 * HMAC-SHA256 with the endpoint's signing secret over "TIMESTAMP.BODY",
 * compared in constant time, and a timestamp no older than 300 seconds (as
 * Stripe's own libraries check).  Events: customer.subscription.* (the
 * subscription object carries the whole state), invoice.paid /
 * invoice.payment_succeeded, invoice.payment_failed, charge.refunded,
 * charge.dispute.created; others are kept only.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 300

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* a hex digit's value (either case, as isxdigit and strtoul took it), else -1 */
static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int check_signature(const src_config *cfg, const tn_source_request *req, int *refusal, tn_error *err)
{
	const char *h = req->signature;
	const char *secret = src_str(cfg->cfg, "secret");
	if (!h || !*h)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the Stripe-Signature header is missing");
	if (strlen(h) > 4096)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "the Stripe-Signature header is too long");
	long long t = -1;
	int ntimes = 0, nv1 = 0, good = 0;
	unsigned char want[32];
	/* first pass: the timestamp */
	for (const char *p = h; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > 2 && p[0] == 't' && p[1] == '=') {
			char buf[24];
			if (len - 2 >= sizeof buf)
				return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "Stripe-Signature: t= is not a timestamp");
			memcpy(buf, p + 2, len - 2);
			buf[len - 2] = 0;
			char *end;
			t = strtoll(buf, &end, 10);
			if (*end || end == buf || t < 0)
				return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "Stripe-Signature: t= is not a timestamp");
			ntimes++;
		}
		p = e ? e + 1 : p + len;
	}
	if (ntimes != 1)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "Stripe-Signature: expected one t=, found %d", ntimes);
	char tbuf[24];
	int tl = snprintf(tbuf, sizeof tbuf, "%lld.", t);
	if (!cfg->hmac || src_hmac_sha256_2(cfg->hmac, cfg->hmac_serial, tbuf, (size_t)tl, req->body, req->len, want)) {
		size_t mlen = (size_t)tl + req->len;
		char *msg = tn_malloc(mlen + 1);
		if (!msg)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		memcpy(msg, tbuf, (size_t)tl);
		memcpy(msg + tl, req->body, req->len);
		src_hmac_sha256(secret, strlen(secret), msg, mlen, want);
		free(msg);
	}
	for (const char *p = h; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 3 + 64 && strncmp(p, "v1=", 3) == 0) {
			unsigned char got[32];
			int ok = 1;
			for (int i = 0; i < 32 && ok; i++) {
				int hi = hexval(p[3 + 2 * i]), lo = hexval(p[4 + 2 * i]);
				if (hi < 0 || lo < 0) {
					ok = 0;
					break;
				}
				got[i] = (unsigned char)(hi * 16 + lo);
			}
			nv1++;
			if (ok && CRYPTO_memcmp(got, want, 32) == 0)
				good = 1;
		} else if (len > 3 && strncmp(p, "v1=", 3) == 0)
			nv1++;
		p = e ? e + 1 : p + len;
	}
	if (!nv1)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err, "Stripe-Signature: no v1= signature");
	if (!good)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
				  "Stripe-Signature: no v1 signature matches the HMAC-SHA256 of the body with the configured secret");
	if ((long long)req->now - t > TOLERANCE)
		return src_refuse(refusal, TN_SRC_BAD_SIGNATURE, err,
				  "Stripe-Signature: the timestamp is %lld s old, more than the %d s tolerance",
				  (long long)req->now - t, TOLERANCE);
	return TN_OK;
}

/* Amounts in a currency's smallest unit -> units. */
static double units(double amount, const char *cur)
{
	static const char *const zero[] = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg",
					   "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf", NULL};
	for (const char *const *z = zero; *z; z++)
		if (cur && strcasecmp(cur, *z) == 0)
			return amount;
	return amount / 100.0;
}

static void set_cur(char out[4], const char *cur)
{
	out[0] = 0;
	if (!cur || strlen(cur) != 3)
		return;
	for (int i = 0; i < 3; i++)
		out[i] = (char)toupper((unsigned char)cur[i]);
	out[3] = 0;
}

static const char *id_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (cJSON_IsString(v))
		return v->valuestring;
	return cJSON_IsObject(v) ? src_str(v, "id") : NULL;
}

static tn_time secs(const cJSON *o, const char *name)
{
	double v;
	return src_num(o, name, &v) || v < 0 || v > 1e13 ? TN_NO_TIME : (tn_time)v;
}

static int subscription(const cJSON *o, const char *type, tn_source_note *n)
{
	const char *id = src_str(o, "id"), *cust = id_of(o, "customer"), *status = src_str(o, "status");
	if (!id || !cust || !status)
		return 1;
	n->subscription = src_printf("stripe:%s", id);
	n->customer = src_dup(cust);
	const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
						       cJSON_GetObjectItemCaseSensitive(o, "items"), "data"),
					       0);
	const cJSON *price = cJSON_GetObjectItemCaseSensitive(item, "price");
	const cJSON *plan = cJSON_GetObjectItemCaseSensitive(o, "plan");
	double amount;
	const char *cur = NULL, *interval = NULL, *product = NULL;
	double count = 1;
	if (cJSON_IsObject(price)) {
		cur = src_str(price, "currency");
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(price, "recurring");
		interval = src_str(rec, "interval");
		src_num(rec, "interval_count", &count);
		product = src_str(price, "lookup_key") ? src_str(price, "lookup_key") : src_str(price, "id");
		if (!src_num(price, "unit_amount", &amount) && cur)
			n->price = units(amount, cur);
	} else if (cJSON_IsObject(plan)) {
		cur = src_str(plan, "currency");
		interval = src_str(plan, "interval");
		src_num(plan, "interval_count", &count);
		product = src_str(plan, "id");
		if (!src_num(plan, "amount", &amount) && cur)
			n->price = units(amount, cur);
	}
	set_cur(n->currency, cur);
	if (!n->currency[0])
		n->price = NAN;
	n->product = src_dup(product ? product : "stripe");
	n->period = eq(interval, "year")				   ? "year"
		    : eq(interval, "month") && count == 3		   ? "quarter"
		    : eq(interval, "week")				   ? "week"
		    : eq(interval, "day")				   ? "day"
									   : "month";
	n->started_at = secs(o, "start_date");
	n->trial_ends_at = secs(o, "trial_end");
	n->expires_at = secs(o, "current_period_end");
	if (n->expires_at == TN_NO_TIME)
		n->expires_at = secs(item, "current_period_end");
	const cJSON *cape = cJSON_GetObjectItemCaseSensitive(o, "cancel_at_period_end");
	int ending = cJSON_IsTrue(cape) || secs(o, "cancel_at") != TN_NO_TIME;
	n->auto_renew = !ending;
	if (ending)
		n->pending_cause = "voluntary";
	const char *reason = src_str(cJSON_GetObjectItemCaseSensitive(o, "cancellation_details"), "reason");
	if (eq(status, "trialing"))
		n->state = ending ? "cancelling" : "trial";
	else if (eq(status, "active"))
		n->state = ending ? "cancelling" : "active";
	else if (eq(status, "past_due") || eq(status, "unpaid") || eq(status, "incomplete"))
		n->state = "billing_retry";
	else if (eq(status, "paused"))
		n->state = "paused";
	else if (eq(status, "incomplete_expired")) {
		n->state = "expired";
		n->cause = "billing";
	} else if (eq(status, "canceled")) {
		n->state = "expired";
		n->auto_renew = 0;
		n->cause = eq(reason, "cancellation_requested") ? "voluntary"
			 : eq(reason, "payment_failed")	  ? "billing"
			 : eq(reason, "payment_disputed")	  ? "refund"
							  : NULL;
		tn_time ended = secs(o, "ended_at");
		if (ended != TN_NO_TIME)
			n->expires_at = ended;
	}
	(void)type;
	return 0;
}

static int payment(const cJSON *o, const char *type, const char *event_id, tn_source_note *n)
{
	const char *id = src_str(o, "id"), *cust = id_of(o, "customer"), *cur = src_str(o, "currency");
	if (!id || !cust || !cur)
		return 1;
	n->customer = src_dup(cust);
	set_cur(n->pay_currency, cur);
	double amount = NAN;
	if (eq(type, "invoice.paid") || eq(type, "invoice.payment_succeeded")) {
		n->pay_status = "succeeded";
		src_num(o, "amount_paid", &amount);
		n->pay_id = src_printf("stripe:%s", id);
		n->paid_at = secs(cJSON_GetObjectItemCaseSensitive(o, "status_transitions"), "paid_at");
	} else if (eq(type, "invoice.payment_failed")) {
		n->pay_status = "failed";
		src_num(o, "amount_due", &amount);
		n->pay_id = src_printf("stripe:%s", event_id); /* each failed attempt once */
	} else if (eq(type, "charge.refunded")) {
		n->pay_status = "refunded";
		src_num(o, "amount_refunded", &amount);
		n->pay_id = src_printf("stripe:%s:refund", id);
	} else { /* charge.dispute.created: the money is held back */
		n->pay_status = "refunded";
		src_num(o, "amount", &amount);
		n->pay_id = src_printf("stripe:%s", id);
	}
	if (isnan(amount) || amount < 0 || !n->pay_currency[0]) {
		n->pay_status = NULL;
		return 0;
	}
	n->pay_amount = units(amount, cur);
	if (n->paid_at == TN_NO_TIME)
		n->paid_at = n->event_at;
	return 0;
}

int src_stripe(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *n, int *refusal,
	       tn_error *err)
{
	int rc;
	if (verify && (rc = check_signature(cfg, req, refusal, err)))
		return rc;
	cJSON *ev = cJSON_ParseWithLength(req->body, req->len);
	const char *id = src_str(ev, "id"), *type = src_str(ev, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "data"), "object");
	double created;
	if (!id || !type || !cJSON_IsObject(obj) || src_num(ev, "created", &created) || created < 0 || created > 1e13 ||
	    strlen(id) > 255 || strlen(type) > 255) {
		cJSON_Delete(ev);
		return src_refuse(refusal, TN_SRC_MALFORMED, err,
				  "not a Stripe event: id, type, created and data.object are required");
	}
	n->kind = TN_SRC_STRIPE;
	n->source_id = cfg ? cfg->id : 0;
	n->dedupe = src_dup(id);
	n->type = src_dup(type);
	n->event_at = (tn_time)created;
	rc = TN_OK;
	if (!n->dedupe || !n->type)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	else if (strncmp(type, "customer.subscription.", 22) == 0) {
		if (subscription(obj, type, n))
			rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "%s: the subscription's id, customer or status is missing", type);
	} else if (eq(type, "invoice.paid") || eq(type, "invoice.payment_succeeded") ||
		   eq(type, "invoice.payment_failed") || eq(type, "charge.refunded") ||
		   eq(type, "charge.dispute.created")) {
		if (payment(obj, type, id, n))
			rc = src_refuse(refusal, TN_SRC_MALFORMED, err, "%s: the object's id, customer or currency is missing", type);
	}
	if (!rc && ((n->subscription == NULL) != (n->customer == NULL) && n->subscription))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	cJSON_Delete(ev);
	return rc;
}
