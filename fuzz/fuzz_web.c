/*
 * fuzz_web.c -- libFuzzer target for the dashboard's routes (src/web via
 * tn_server_handle, no socket) on a small demo store: sign-in forms, the
 * session cookie, language/digits/calendar choices, filters and sorts in the
 * query, CSV downloads, the CSRF check, the acknowledge form, and the
 * approve-an-offer-plan and start-a-campaign forms (/act/...).
 * Input: byte 0 picks the method; byte 1 the cookie (a valid session, none,
 * garbage from the input, a valid session with language cookies) and whether
 * the body starts with the session's valid CSRF token; then the path (with an
 * optional ?query) up to a newline; the rest is the form body.
 */
#include "tenure.h"
#include "tenure/demo.h"
#include "tenure/server.h"
#include "fuzz_server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char key[TN_KEY_LEN + 1], cookie[160], cookie_lang[220], csrf[80];

static void call(const char *method, const char *path, const char *const *q, size_t nq, const char *ck,
		 const char *body, size_t blen, tn_http_response *rs)
{
	tn_http_request rq = {.method = method, .path = path, .query = q, .nquery = nq, .cookie = ck, .body = body,
			      .body_len = blen, .content_type = "application/x-www-form-urlencoded"};
	tn_server_handle(server, &rq, rs);
	tn_server_settle(server);
}

/* sign in: the session cookie and its CSRF token */
static void login(void)
{
	char body[100];
	tn_http_response rs;
	snprintf(body, sizeof body, "key=%s", key);
	call("POST", "/login", NULL, 0, NULL, body, strlen(body), &rs);
	const char *p = rs.headers ? strstr(rs.headers, "tn_session=") : NULL;
	if (rs.status != 303 || !p)
		__builtin_trap();
	snprintf(cookie, sizeof cookie, "%.75s", p);
	cookie[strcspn(cookie, ";\n")] = '\0';
	snprintf(cookie_lang, sizeof cookie_lang, "tn_lang=fa; %s; tn_digits=native; tn_cal=solar", cookie);
	tn_http_response_free(&rs);
	call("GET", "/alerts", NULL, 0, cookie, NULL, 0, &rs);
	p = rs.body ? strstr(rs.body, "name=\"csrf\" value=\"") : NULL;
	if (rs.status != 200 || !p)
		__builtin_trap();
	snprintf(csrf, sizeof csrf, "csrf=%.64s&", p + strlen("name=\"csrf\" value=\""));
	tn_http_response_free(&rs);
}

static void setup(void)
{
	tn_error err = {0};
	tn_store *s;
	fuzz_pin(0);
	snprintf(db, sizeof db, "/tmp/tenure_fuzz_web_%d.db", (int)getpid());
	unlink(db);
	int64_t id;
	tn_demo_opts d;
	tn_demo_defaults(&d);
	d.customers = 120;
	d.months = 6;
	tn_demo_result res;
	if (tn_store_open(db, TN_STORE_CREATE, &s, &err) || tn_demo_generate(s, &d, &res, &err) ||
	    tn_key_create(s, "admin", "fuzz", key, &id, &err))
		__builtin_trap();
	tn_store_close(s);
	fuzz_server_start();
	login();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		setup();
	if (size < 2)
		return 0;
	static const char *const methods[] = {"GET", "POST", "HEAD", "PUT"};
	const char *text = (const char *)data + 2;
	size_t n = size - 2;
	const char *nl = memchr(text, '\n', n);
	size_t plen = nl ? (size_t)(nl - text) : n;
	const char *q[32];
	size_t nq;
	char *path = fuzz_path_query(text, n, q, &nq);
	if (!path)
		return 0;
	/* the cookie */
	char garbage[128];
	size_t gl = n < sizeof garbage - 1 ? n : sizeof garbage - 1;
	memcpy(garbage, text, gl);
	garbage[gl] = '\0';
	const char *cookies[] = {cookie, NULL, garbage, cookie_lang};
	const char *ck = cookies[data[1] % 4];
	/* the body, after the valid CSRF token when asked (not for sign-out) */
	const char *body = nl ? nl + 1 : NULL;
	size_t blen = nl ? n - plen - 1 : 0;
	char *full = NULL;
	if ((data[1] & 4) && strcmp(path, "/logout") != 0) {
		size_t cl = strlen(csrf);
		full = malloc(cl + blen + 1);
		if (!full) {
			free(path);
			return 0;
		}
		memcpy(full, csrf, cl);
		if (blen)
			memcpy(full + cl, body, blen);
		full[cl + blen] = '\0';
		body = full;
		blen += cl;
	}
	tn_http_response rs;
	call(methods[data[0] % 4], path, q, nq, ck, body, blen, &rs);
	if (rs.status < 200 || rs.status > 599 || (rs.len && !rs.body))
		__builtin_trap();
	/* a page is HTML with its language; a header line never spans lines */
	if (rs.status == 200 && rs.content_type && strncmp(rs.content_type, "text/html", 9) == 0 &&
	    (!rs.body || !strstr(rs.body, "<html lang=\"")))
		__builtin_trap();
	int signed_out = rs.headers && strstr(rs.headers, "tn_session=; ");
	tn_http_response_free(&rs);
	if (signed_out)
		login();
	free(full);
	free(path);
	return 0;
}
