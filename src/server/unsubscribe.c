/*
 * unsubscribe.c -- the route behind an e-mail's unsubscribe link:
 * GET /v1/unsubscribe?c=CUSTOMER&ch=email&t=TOKEN (a person's click: a short
 * HTML page) and POST (RFC 8058 one-click from the mail client: JSON).  The
 * token is HMAC-SHA256 over the customer and the channel with the store's
 * secret (tn_unsubscribe_token), checked in constant time; no key needed.
 * The refusal is written on a connection of its own (rare, small writes),
 * not through the import writer.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "tenure/outbox.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <time.h>

static const char *query(const tn_http_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->nquery; i++)
		if (strcmp(rq->query[2 * i], name) == 0)
			return rq->query[2 * i + 1];
	return NULL;
}

void do_unsubscribe(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
{
	const char *c = query(rq, "c"), *ch = query(rq, "ch"), *t = query(rq, "t");
	tn_error err = {0};
	tn_store *s = NULL;
	int rc = TN_OK;
	if (!c || !ch || !t || (strcmp(ch, "email") != 0 && strcmp(ch, "sms") != 0 && strcmp(ch, "webhook") != 0))
		rc = tn_error_set(&err, TN_ERR_INPUT, "the link is incomplete: c, ch (email, sms or webhook) and t are needed");
	if (!rc)
		rc = tn_store_open(sv->db_path, 0, &s, &err);
	if (!rc)
		rc = tn_unsubscribe(s, c, ch, t, tn_now(), &err);
	if (s)
		tn_store_close(s);
	int status = !rc ? 200 : err.code == TN_ERR_INPUT || err.code == TN_ERR_NOTFOUND ? 400 : 500;
	if (strcmp(rq->method, "POST") == 0 || status == 500) {
		if (rc) {
			respond_error(rs, status, NULL, status == 400 ? "the unsubscribe link is not valid" : err.msg, NULL);
			return;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "unsubscribed", 1);
		cJSON_AddStringToObject(o, "channel", ch);
		respond_json(rs, 200, o);
		return;
	}
	static const char ok[] = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>"
				 "<body><p>You are unsubscribed: no more messages on this channel.</p></body></html>\n";
	static const char bad[] = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Invalid link</title></head>"
				  "<body><p>This unsubscribe link is not valid.</p></body></html>\n";
	rs->status = status;
	rs->content_type = "text/html; charset=utf-8";
	rs->body = tn_strdup(rc ? bad : ok);
	rs->len = rs->body ? strlen(rs->body) : 0;
	if (!rs->body)
		respond_error(rs, 500, NULL, "out of memory", NULL);
}
