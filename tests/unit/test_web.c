/*
 * test_web.c -- the dashboard (src/web) without a socket: the Solar Hijri
 * calendar, native digits, cookie and form parsing, and through
 * tn_server_handle: signed-out redirects, sign-in with a key (cookie flags),
 * pages in three languages with <html lang dir>, the CSRF check on a form,
 * sign-out, embedded assets.
 */
#include "testutil.h"
#include "tenure.h"
#include "tenure/server.h"
#include "web/web.h"
#include "web/web_internal.h"
#include "store/db.h"
#include "tenure/predict.h"

#include <openssl/sha.h>

#include <unistd.h>

static void test_jalali(void **state)
{
	(void)state;
	static const int cases[][6] = {
		{2024, 3, 20, 1403, 1, 1},  {2025, 3, 21, 1404, 1, 1},   {2026, 3, 21, 1405, 1, 1},
		{2026, 3, 20, 1404, 12, 29}, {2026, 10, 31, 1405, 8, 9}, {2000, 1, 1, 1378, 10, 11},
		{2026, 9, 22, 1405, 6, 31}, {2026, 9, 23, 1405, 7, 1},   {2026, 12, 1, 1405, 9, 10},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int y, m, d;
		web_jalali(cases[i][0], cases[i][1], cases[i][2], &y, &m, &d);
		assert_int_equal(y, cases[i][3]);
		assert_int_equal(m, cases[i][4]);
		assert_int_equal(d, cases[i][5]);
	}
}

static void test_digits(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(web_native_digits("ar", "1,234.5", 1, out, sizeof out), "١٬٢٣٤٫٥");
	assert_string_equal(web_native_digits("fa", "1,234.5", 1, out, sizeof out), "۱٬۲۳۴٫۵");
	assert_string_equal(web_native_digits("fa", "2026-10", 0, out, sizeof out), "۲۰۲۶-۱۰");
	assert_string_equal(web_native_digits("ar", "a.b", 0, out, sizeof out), "a.b");
	/* a short buffer cuts whole characters, never half of one */
	assert_string_equal(web_native_digits("ar", "12345", 1, out, 6), "١٢");
}

/* The library's plain words in Arabic and Persian, digits as chosen; English as the library writes it. */
static void test_words(void **state)
{
	(void)state;
	char b[512];
	web_ctx en = {.lang = L_EN}, ar = {.lang = L_AR, .native = 1}, fa = {.lang = L_FA}, fan = {.lang = L_FA, .native = 1};
	tn_reason_msg r = {.id = TN_RW_ENDS, .flag = 1, .v = {3}};
	web_reason(&en, &r, b, sizeof b);
	assert_string_equal(b, "free trial ends in 3 days");
	web_reason(&ar, &r, b, sizeof b);
	assert_string_equal(b, "تنتهي الفترة التجريبية المجانية بعد ٣ أيام");
	web_reason(&fa, &r, b, sizeof b);
	assert_string_equal(b, "دورهٔ آزمایشی رایگان تا 3 روز دیگر تمام می‌شود");
	tn_reason_msg p = {.id = TN_RW_PRICE, .flag = 0, .v = {79.99, 32.49}, .text = {"year"}, .currency = "USD"};
	web_reason(&fan, &p, b, sizeof b);
	assert_string_equal(b, "هر سال ۷۹٫۹۹ USD می‌پردازد، بیشتر از میانگین ۳۲٫۴۹ USD");
	const char *d = "paid period ends in 23 days; churn risk 0.43";
	web_alert_detail(&en, d, b, sizeof b);
	assert_string_equal(b, d);
	web_alert_detail(&ar, d, b, sizeof b);
	assert_string_equal(b, "تنتهي الفترة المدفوعة بعد ٢٣ يومًا؛ خطر المغادرة ٠٫٤٣");
	web_alert_detail(&fan, "latest NPS 2", b, sizeof b);
	assert_string_equal(b, "آخرین پاسخ NPS: ۲");
	web_alert_detail(&fa, "not a detail the library writes", b, sizeof b);
	assert_string_equal(b, "not a detail the library writes");
}

static void test_parsing(void **state)
{
	(void)state;
	char v[16];
	assert_int_equal(web_cookie("a=1; tn_session=abc; b=2", "tn_session", v, sizeof v), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(web_cookie("xtn_session=abc", "tn_session", v, sizeof v), -1);
	assert_int_equal(web_cookie("tn_session=0123456789abcdefXYZ", "tn_session", v, sizeof v), -1);
	assert_int_equal(web_cookie(NULL, "tn_session", v, sizeof v), -1);
	const char *body = "key=tn_ab%2Bc&csrf=x+y&bad=%zz&cut=%4";
	assert_int_equal(web_form(body, strlen(body), "key", v, sizeof v), 0);
	assert_string_equal(v, "tn_ab+c");
	assert_int_equal(web_form(body, strlen(body), "csrf", v, sizeof v), 0);
	assert_string_equal(v, "x y");
	assert_int_equal(web_form(body, strlen(body), "bad", v, sizeof v), 0);
	assert_string_equal(v, "%zz");
	assert_int_equal(web_form(body, strlen(body), "cut", v, sizeof v), 0);
	assert_string_equal(v, "%4");
	assert_int_equal(web_form(body, strlen(body), "nope", v, sizeof v), -1);
	assert_int_equal(web_form(body, 3, "key", v, sizeof v), -1); /* the length bounds the body */
}

/* ---- through the request handler ---- */

static char dir[64], db[96], admin[TN_KEY_LEN + 1], reader[TN_KEY_LEN + 1];

static void req(tn_server *sv, const char *method, const char *path, const char *cookie, const char *body,
		tn_http_response *rs)
{
	char p[256];
	snprintf(p, sizeof p, "%s", path);
	const char *q[4];
	size_t nq = 0;
	char *qs = strchr(p, '?');
	if (qs) { /* one name=value is enough here */
		*qs++ = '\0';
		char *eq = strchr(qs, '=');
		if (eq)
			*eq++ = '\0';
		q[0] = qs;
		q[1] = eq;
		nq = 1;
	}
	tn_http_request rq = {.method = method, .path = p, .query = q, .nquery = nq, .cookie = cookie, .body = body,
			      .body_len = body ? strlen(body) : 0,
			      .content_type = body ? "application/x-www-form-urlencoded" : NULL};
	tn_server_handle(sv, &rq, rs);
}

/* the value after NAME in TEXT up to the next QUOTE-like stop into OUT */
static int grab(const char *text, const char *name, const char *stop, char *out, size_t n)
{
	const char *p = text ? strstr(text, name) : NULL;
	if (!p)
		return -1;
	p += strlen(name);
	size_t len = strcspn(p, stop);
	if (len >= n)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* An integer the SQL gives on the test's store (-1 on error). */
static long long sql_int(const char *path, const char *sql, const char *arg)
{
	tn_store *s;
	if (tn_store_open(path, 0, &s, NULL))
		return -1;
	long long v = -1;
	tn_stmt *st = tn_db_prepare(s, sql, NULL);
	if (st) {
		if (arg)
			tn_db_bind_text(st, 1, arg);
		int step = tn_db_step(st, "test", NULL);
		if (step == TN_DB_ROW)
			v = tn_db_column_int64(st, 0);
		else if (step == TN_DB_DONE)
			v = 0;
		tn_db_finalize(st);
	}
	tn_store_close(s);
	return v;
}

/* Rows of web_sessions holding the SHA-256 of token SID; -2 when a row holds
 * the token itself. */
static long long session_rows(const char *path, const char *sid)
{
	unsigned char h[32];
	char hx[65];
	SHA256((const unsigned char *)sid, strlen(sid), h);
	for (int i = 0; i < 32; i++)
		snprintf(hx + 2 * i, 3, "%02x", h[i]);
	if (sql_int(path, "SELECT count(*) FROM web_sessions WHERE token_hash = ?1", sid) != 0)
		return -2;
	return sql_int(path, "SELECT count(*) FROM web_sessions WHERE token_hash = ?1", hx);
}

static void test_sessions(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tenure_test_web_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/t.db", dir);
	tn_store *s;
	tn_error err = {0};
	int64_t id;
	assert_int_equal(tn_store_open(db, TN_STORE_CREATE, &s, &err), 0);
	assert_int_equal(tn_key_create(s, "admin", "a", admin, &id, &err), 0);
	assert_int_equal(tn_key_create(s, "read", NULL, reader, &id, &err), 0);
	tn_store_close(s);
	tn_server *sv = NULL;
	tn_server_opts o = {.db_path = db};
	assert_int_equal(tn_server_new(&o, &sv, &err), 0);
	tn_http_response rs;

	req(sv, "GET", "/", NULL, NULL, &rs);
	assert_int_equal(rs.status, 303);
	assert_non_null(strstr(rs.headers, "Location: /login"));
	tn_http_response_free(&rs);
	req(sv, "GET", "/login", NULL, NULL, &rs);
	assert_int_equal(rs.status, 200);
	assert_non_null(strstr(rs.body, "name=\"key\""));
	tn_http_response_free(&rs);

	char body[200], cookie[128], sid[80], csrf[80];
	snprintf(body, sizeof body, "key=%s", "tn_0000");
	req(sv, "POST", "/login", NULL, body, &rs);
	assert_int_equal(rs.status, 401);
	assert_null(rs.headers ? strstr(rs.headers, "tn_session=") : NULL);
	tn_http_response_free(&rs);
	snprintf(body, sizeof body, "key=%s", admin);
	req(sv, "POST", "/login", NULL, body, &rs);
	assert_int_equal(rs.status, 303);
	assert_non_null(strstr(rs.headers, "HttpOnly"));
	assert_non_null(strstr(rs.headers, "SameSite=Strict"));
	assert_non_null(strstr(rs.headers, "Max-Age=28800"));
	assert_int_equal(grab(rs.headers, "tn_session=", ";", sid, sizeof sid), 0);
	assert_int_equal(strlen(sid), 64);
	tn_http_response_free(&rs);
	snprintf(cookie, sizeof cookie, "tn_session=%s", sid);

	static const char *const langs[][3] = {{"/?lang=en", "en", "ltr"}, {"/?lang=ar", "ar", "rtl"},
					       {"/alerts?lang=fa", "fa", "rtl"}, {"/who?lang=ar", "ar", "rtl"}};
	for (size_t i = 0; i < 4; i++) {
		char want[64];
		req(sv, "GET", langs[i][0], cookie, NULL, &rs);
		assert_int_equal(rs.status, 200);
		snprintf(want, sizeof want, "<html lang=\"%s\" dir=\"%s\">", langs[i][1], langs[i][2]);
		assert_non_null(strstr(rs.body, want));
		assert_non_null(strstr(rs.headers, "tn_lang="));
		assert_non_null(strstr(rs.headers, "Content-Security-Policy"));
		tn_http_response_free(&rs);
	}
	req(sv, "GET", "/", cookie, NULL, &rs);
	assert_int_equal(rs.status, 200);
	assert_int_equal(grab(rs.body, "name=\"csrf\" value=\"", "\"", csrf, sizeof csrf), 0);
	assert_int_equal(strlen(csrf), 64);
	tn_http_response_free(&rs);

	/* the store keeps the token's SHA-256, never the token; a restarted
	 * server knows the session and gives the same CSRF token */
	assert_int_equal(session_rows(db, sid), 1);
	assert_int_equal(tn_server_free(sv, &err), 0);
	assert_int_equal(tn_server_new(&o, &sv, &err), 0);
	req(sv, "GET", "/", cookie, NULL, &rs);
	assert_int_equal(rs.status, 200);
	char csrf2[80];
	assert_int_equal(grab(rs.body, "name=\"csrf\" value=\"", "\"", csrf2, sizeof csrf2), 0);
	assert_string_equal(csrf2, csrf);
	tn_http_response_free(&rs);

	/* a form without its token, or with another, is refused */
	req(sv, "POST", "/logout", cookie, "x=1", &rs);
	assert_int_equal(rs.status, 403);
	tn_http_response_free(&rs);
	char wrong[100];
	snprintf(wrong, sizeof wrong, "csrf=%.63s%c", csrf, csrf[63] == '0' ? '1' : '0');
	req(sv, "POST", "/logout", cookie, wrong, &rs);
	assert_int_equal(rs.status, 403);
	tn_http_response_free(&rs);
	/* acknowledging needs an admin key: a read key's session is refused */
	snprintf(body, sizeof body, "key=%s", reader);
	req(sv, "POST", "/login", NULL, body, &rs);
	char rsid[80], rcookie[128], rcsrf[80];
	assert_int_equal(grab(rs.headers, "tn_session=", ";", rsid, sizeof rsid), 0);
	tn_http_response_free(&rs);
	snprintf(rcookie, sizeof rcookie, "a=b; tn_session=%s", rsid);
	req(sv, "GET", "/alerts", rcookie, NULL, &rs);
	assert_int_equal(grab(rs.body, "name=\"csrf\" value=\"", "\"", rcsrf, sizeof rcsrf), 0);
	assert_string_not_equal(rcsrf, csrf);
	tn_http_response_free(&rs);
	snprintf(body, sizeof body, "csrf=%s", rcsrf);
	req(sv, "POST", "/alerts/1/ack", rcookie, body, &rs);
	assert_int_equal(rs.status, 403);
	tn_http_response_free(&rs);
	/* so are approving a plan and starting a campaign; each refusal is audited */
	req(sv, "POST", "/act/plan/approve", rcookie, body, &rs);
	assert_int_equal(rs.status, 403);
	tn_http_response_free(&rs);
	req(sv, "POST", "/act/campaign/start", rcookie, body, &rs);
	assert_int_equal(rs.status, 403);
	tn_http_response_free(&rs);
	req(sv, "POST", "/act/campaign/start", cookie, "name=x&days=9&control=0&channel=email", &rs);
	assert_int_equal(rs.status, 403); /* admin, no token */
	tn_http_response_free(&rs);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM web_audit WHERE outcome = 'refused'", NULL), 4);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM web_audit WHERE action = 'start_campaign'", NULL), 2);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM campaigns", NULL), 0);
	/* an admin with the token and a bad form: 400, nothing started */
	snprintf(body, sizeof body, "csrf=%s&name=a%%20b&days=9&control=0&channel=email", csrf);
	req(sv, "POST", "/act/campaign/start", cookie, body, &rs);
	assert_int_equal(rs.status, 400);
	tn_http_response_free(&rs);
	/* with a good one on an empty store: started, nobody to contact; a
	 * second time with the same name is a repeat, started once */
	for (int k = 0; k < 2; k++) {
		snprintf(body, sizeof body, "csrf=%s&name=wb-1&days=30&control=0.1&channel=sms", csrf);
		req(sv, "POST", "/act/campaign/start", cookie, body, &rs);
		assert_int_equal(rs.status, 303);
		assert_non_null(strstr(rs.headers, k ? "Location: /act?done=campaign-again" : "Location: /act?done=campaign"));
		tn_http_response_free(&rs);
	}
	assert_int_equal(sql_int(db, "SELECT count(*) FROM campaigns WHERE name = 'wb-1'", NULL), 1);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM web_audit WHERE action = 'start_campaign' AND outcome = 'repeat'", NULL), 1);
	/* the reader's session expires: a restarted server refuses it and deletes its row */
	assert_int_equal(session_rows(db, rsid), 1);
	assert_int_equal(sql_int(db, "UPDATE web_sessions SET expires_at = 1 WHERE key_id = (SELECT id FROM api_keys WHERE scope = 'read')", NULL), 0);
	assert_int_equal(tn_server_free(sv, &err), 0);
	assert_int_equal(tn_server_new(&o, &sv, &err), 0);
	req(sv, "GET", "/", rcookie, NULL, &rs);
	assert_int_equal(rs.status, 303);
	tn_http_response_free(&rs);
	assert_int_equal(session_rows(db, rsid), 0);
	snprintf(body, sizeof body, "csrf=%s", csrf);
	snprintf(body, sizeof body, "csrf=%s", csrf);
	req(sv, "POST", "/alerts/1/ack", cookie, body, &rs);
	assert_int_equal(rs.status, 404); /* admin, right token, no such alert */
	tn_http_response_free(&rs);

	/* sign out: the session is gone */
	req(sv, "POST", "/logout", cookie, body, &rs);
	assert_int_equal(rs.status, 303);
	assert_non_null(strstr(rs.headers, "tn_session=; Path=/; Max-Age=0"));
	tn_http_response_free(&rs);
	req(sv, "GET", "/", cookie, NULL, &rs);
	assert_int_equal(rs.status, 303);
	tn_http_response_free(&rs);
	assert_int_equal(session_rows(db, sid), 0);

	req(sv, "GET", "/assets/app.css", NULL, NULL, &rs);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.content_type, "text/css; charset=utf-8");
	assert_true(rs.len > 100);
	tn_http_response_free(&rs);
	req(sv, "GET", "/v1/nothing", cookie, NULL, &rs); /* the API's paths stay the API's */
	assert_int_equal(rs.status, 404);
	assert_string_equal(rs.content_type, "application/json");
	tn_http_response_free(&rs);

	assert_int_equal(tn_server_free(sv, &err), 0);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jalali),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_parsing),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
