/*
 * test_outbox.c -- the outbox's parts without a network (include/tenure/outbox.h):
 * signatures (against an independent HMAC from OpenSSL's one-shot API and a
 * known vector), the backoff schedule, quiet hours across midnight and time
 * zones, templates (errors name line:column; HTML escaping; no header
 * injection), the MIME message, queueing (one row per destination, a key
 * queued once, consent and quiet hours), retry and dead letters, erasure.
 */
#include "store_util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include "store/db.h"
#include "tenure.h"
#include "tenure/outbox.h"

static tn_store *open_temp(char *path, size_t n)
{
	snprintf(path, n, "/tmp/tenure-test-outbox-%ld.db", (long)getpid());
	unlink(path);
	tn_store *s = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	return s;
}

static void test_signature(void **state)
{
	(void)state;
	const char *body = "{\"id\":\"alert:1\"}";
	char sig[TN_SIGNATURE_MAX];
	tn_error err = {0};
	assert_int_equal(tn_webhook_sign("whsec_0123456789abcdef", 1700000000, body, strlen(body), sig, &err), TN_OK);
	/* independent: HMAC over "t.body" */
	unsigned char mac[32];
	unsigned int ml = 0;
	const char *msg = "1700000000.{\"id\":\"alert:1\"}";
	HMAC(EVP_sha256(), "whsec_0123456789abcdef", 22, (const unsigned char *)msg, strlen(msg), mac, &ml);
	char want[100] = "t=1700000000,v1=";
	for (int i = 0; i < 32; i++)
		snprintf(want + 16 + 2 * i, 3, "%02x", mac[i]);
	assert_string_equal(sig, want);
	char s2[2 * TN_SIGNATURE_MAX];
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdef", sig, body, strlen(body), 1700000100, 300, &err), TN_OK);
	/* tampered body, wrong secret, old timestamp, garbage */
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdef", sig, "{}", 2, 1700000100, 300, NULL), TN_ERR_INPUT);
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdeF", sig, body, strlen(body), 1700000100, 300, NULL),
			 TN_ERR_INPUT);
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdef", sig, body, strlen(body), 1700001000, 300, NULL),
			 TN_ERR_INPUT);
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdef", "t=1,v1=zz", body, strlen(body), 1, 300, NULL),
			 TN_ERR_INPUT);
	/* a second v1 (secret rotation) is accepted when one matches */
	snprintf(s2, sizeof s2, "t=1700000000,v1=%064d,%s", 0, strstr(sig, "v1="));
	assert_int_equal(tn_webhook_verify("whsec_0123456789abcdef", s2, body, strlen(body), 1700000000, 300, &err), TN_OK);
}

static void test_backoff(void **state)
{
	(void)state;
	tn_outbox_opts o = tn_outbox_opts_default();
	assert_true(fabs(tn_outbox_backoff(&o, 1, 0.0) - 15) < 1e-9);  /* 30 x 1 x 0.5 */
	assert_true(fabs(tn_outbox_backoff(&o, 1, 0.999999) - 30) < 1e-3);
	assert_true(fabs(tn_outbox_backoff(&o, 4, 0.0) - 120) < 1e-9); /* 30 x 8 x 0.5 */
	assert_true(fabs(tn_outbox_backoff(&o, 30, 0.0) - 3 * 3600) < 1e-9); /* capped at 6 h, x 0.5 */
	for (int a = 1; a < 12; a++)
		assert_true(tn_outbox_backoff(&o, a + 1, 0.5) >= tn_outbox_backoff(&o, a, 0.5));
}

static void test_quiet_hours(void **state)
{
	(void)state;
	tn_time day = 1767225600; /* 2026-01-01T00:00:00Z */
	/* UTC, quiet 21-8: 22:00 -> 08:00 next day; 03:00 -> 08:00; 12:00 stays */
	assert_int_equal(tn_quiet_next(day + 22 * 3600, 0, 21, 8), day + 32 * 3600);
	assert_int_equal(tn_quiet_next(day + 3 * 3600, 0, 21, 8), day + 8 * 3600);
	assert_int_equal(tn_quiet_next(day + 12 * 3600, 0, 21, 8), day + 12 * 3600);
	/* Tehran (+03:30): 05:00 UTC is 08:30 local, not quiet; 04:00 UTC is 07:30 local -> 08:00 local = 04:30 UTC */
	assert_int_equal(tn_quiet_next(day + 5 * 3600, 210, 21, 8), day + 5 * 3600);
	assert_int_equal(tn_quiet_next(day + 4 * 3600, 210, 21, 8), day + 4 * 3600 + 1800);
	/* New York (-5): 02:00 UTC is 21:00 local -> 08:00 local = 13:00 UTC */
	assert_int_equal(tn_quiet_next(day + 2 * 3600, -300, 21, 8), day + 13 * 3600);
	/* a daytime window 12-14 and none at all */
	assert_int_equal(tn_quiet_next(day + 13 * 3600, 0, 12, 14), day + 14 * 3600);
	assert_int_equal(tn_quiet_next(day + 13 * 3600, 0, 5, 5), day + 13 * 3600);
	int m;
	assert_int_equal(tn_tz_offset("+03:30", &m), 0);
	assert_int_equal(m, 210);
	assert_int_equal(tn_tz_offset("UTC-5", &m), 0);
	assert_int_equal(m, -300);
	assert_int_equal(tn_tz_offset("Asia/Tehran", &m), 0);
	assert_int_equal(m, 210);
	assert_int_equal(tn_tz_offset("Mars/Olympus", &m), -1);
	assert_int_equal(tn_tz_offset("+25:00", &m), -1);
	assert_int_equal(tn_tz_offset("-1456", &m), -1); /* found by fuzz_outbox: 14 h 56 min is no zone */
	assert_int_equal(tn_tz_offset("+14:00", &m), 0);
	assert_int_equal(m, 14 * 60);
	assert_int_equal(tn_tz_offset("+3:7", &m), -1);
	assert_int_equal(tn_country_offset("ir", &m), 0);
	assert_int_equal(m, 210);
	assert_int_equal(tn_country_offset("XX", &m), -1);
}

static void test_template(void **state)
{
	(void)state;
	tn_email_template t;
	tn_error err = {0};
	const char *ok = "Subject: Hi {{name}}\n\nHello {{ name }},\n{{offer}}\n--- html ---\n<p>{{name}}</p>\n";
	assert_int_equal(tn_email_template_parse(ok, strlen(ok), &t, &err), TN_OK);
	assert_string_equal(t.subject, "Hi {{name}}");
	assert_string_equal(t.text, "Hello {{ name }},\n{{offer}}\n");
	assert_string_equal(t.html, "<p>{{name}}</p>\n");
	const char *vars[] = {"name", "<Ali & \"Sara\">\r\nBcc: x@y", "offer", "20% off"};
	char *out;
	assert_int_equal(tn_email_render(t.html, vars, 2, 1, &out, &err), TN_OK);
	assert_string_equal(out, "<p>&lt;Ali &amp; &quot;Sara&quot;&gt; \nBcc: x@y</p>\n");
	free(out);
	assert_int_equal(tn_email_render(t.subject, vars, 2, -1, &out, &err), TN_OK);
	assert_null(strchr(out, '\n')); /* no header injection */
	assert_null(strchr(out, '\r'));
	free(out);
	tn_email_template_free(&t);
	/* errors name the line and column */
	const char *bad = "Subject: x\n\nline three\nand {{nme}} here\n--- html ---\n<p></p>\n";
	memset(&err, 0, sizeof err);
	assert_int_equal(tn_email_template_parse(bad, strlen(bad), &t, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "template:4:5"));
	assert_non_null(strstr(err.msg, "nme"));
	const char *unclosed = "Subject: x\n\nok\n--- html ---\n<p>{{name</p>\n";
	memset(&err, 0, sizeof err);
	assert_int_equal(tn_email_template_parse(unclosed, strlen(unclosed), &t, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "template:5:4"));
	const char *nohtml = "Subject: x\n\nok\n";
	memset(&err, 0, sizeof err);
	assert_int_equal(tn_email_template_parse(nohtml, strlen(nohtml), &t, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "--- html ---"));
	assert_int_equal(tn_email_template_parse("Hello", 5, &t, NULL), TN_ERR_INPUT);
	/* found by fuzz_outbox: a CR inside the subject line would end the header */
	const char *cr = "Subject: Hi \r Bcc: x@y\n\nok\n--- html ---\n<p></p>\n";
	memset(&err, 0, sizeof err);
	assert_int_equal(tn_email_template_parse(cr, strlen(cr), &t, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "template:1:13"));
}

static void test_mime(void **state)
{
	(void)state;
	char *m = NULL;
	tn_error err = {0};
	assert_int_equal(tn_email_build("Pulse <hi@pulse.example>", "a@b.example", "fa", "سلام دوست عزیز، دلمان برایتان تنگ شده است",
					"متن", "<p>متن</p>", "http://x/v1/unsubscribe?c=1", "abc@tenure.invalid", 1767225600,
					&m, &err),
			 TN_OK);
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "?=\r\n =?UTF-8?B?")); /* folded into words under 76 characters */
	assert_non_null(strstr(m, "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"));
	assert_non_null(strstr(m, "List-Unsubscribe: <http://x/v1/unsubscribe?c=1>\r\n"));
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64"));
	assert_non_null(strstr(m, "Content-Language: fa"));
	/* the HTML part's first line, base64 of <!DOCTYPE html>\n<html lang="fa" dir="rtl"> */
	assert_non_null(strstr(m, "PCFET0NUWVBFIGh0bWw+CjxodG1sIGxhbmc9ImZhIiBkaXI9InJ0bCI+"));
	for (char *p = m, *e; (e = strstr(p, "\r\n")); p = e + 2) /* every line under 998 characters, CRLF */
		assert_true(e - p < 998);
	free(m);
	assert_int_equal(tn_email_build("Pulse <hi@pulse.example>", "a@b.example\r\nBcc: x@y", "en", "s", "t", "h",
					NULL, "id@x", 0, &m, NULL),
			 TN_ERR_INPUT);
	assert_int_equal(tn_email_build("Pu\"lse <hi@pulse.example>", "a@b.example", "en", "s", "t", "h", NULL, "id@x",
					0, &m, NULL),
			 TN_ERR_INPUT);
}

static void test_queue(void **state)
{
	(void)state;
	char path[256];
	tn_store *s = open_temp(path, sizeof path);
	tn_error err = {0};
	assert_int_equal(tn_store_exec(s,
				       "INSERT INTO customers(id, ext_id, country, attrs) VALUES"
				       " (1, 'c1', 'IR', '{\"email\":\"c1@example.com\",\"name\":\"Sara\"}'),"
				       " (2, 'c2', 'US', '{\"tz\":\"+00:00\"}')",
				       &err),
			 TN_OK);
	int64_t w1, w2;
	assert_int_equal(tn_webhook_add(s, "http://127.0.0.1:9/a", "alert,winback", "0123456789abcdef", 0, &w1, &err), TN_OK);
	assert_int_equal(tn_webhook_add(s, "http://127.0.0.1:9/b", "offer", "0123456789abcdef", 0, &w2, &err), TN_OK);
	assert_int_equal(tn_webhook_add(s, "ftp://x", "all", "0123456789abcdef", 0, &w2, NULL), TN_ERR_USAGE);
	assert_int_equal(tn_webhook_add(s, "http://x", "alerts", "0123456789abcdef", 0, &w2, NULL), TN_ERR_USAGE);
	assert_int_equal(tn_webhook_add(s, "http://x", "all", "short", 0, &w2, NULL), TN_ERR_USAGE);
	assert_int_equal(tn_email_config(s, "smtp://127.0.0.1:9", "Pulse <hi@pulse.example>", "http://127.0.0.1:8080",
					 &err),
			 TN_OK);
	tn_time noon = 1767268800; /* 2026-01-01T12:00:00Z: 15:30 in Tehran */
	long q = 0;
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	assert_int_equal(tn_outbox_enqueue(s, "winback", "winback:c1:1", 1, "{\"plan\":\"monthly\"}", noon, &q, &err),
			 TN_OK);
	assert_int_equal(q, 2); /* webhook a + e-mail; b does not take winback */
	assert_int_equal(tn_outbox_enqueue(s, "winback", "winback:c1:1", 1, "{}", noon, &q, &err), TN_OK);
	assert_int_equal(q, 2); /* the same key: nothing more */
	assert_int_equal(tn_outbox_enqueue(s, "alert", "alert:9", 2, "{}", noon, &q, &err), TN_OK);
	assert_int_equal(q, 3);
	assert_int_equal(tn_outbox_enqueue(s, "nope", "k", 2, "{}", noon, &q, NULL), TN_ERR_USAGE);
	assert_int_equal(tn_outbox_enqueue(s, "alert", "k", 2, "[1]", noon, &q, NULL), TN_ERR_INPUT);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	assert_int_equal(store_count(s, "SELECT count(*) FROM outbox WHERE channel = 'email'"
					" AND address = 'c1@example.com' AND payload LIKE '%\"language\":\"fa\"%'"),
			 1);
	/* quiet hours: c2 is at UTC; at 23:00 UTC the offer waits for 08:00 UTC */
	tn_time late = 1767225600 + 23 * 3600;
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	assert_int_equal(tn_outbox_enqueue(s, "offer", "offer:c2:1", 2, "{}", late, &q, &err), TN_OK);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	assert_int_equal(store_count(s, "SELECT next_attempt_at - 1767225600 FROM outbox WHERE idem_key LIKE 'offer:c2:1%'"),
			 32 * 3600);
	/* consent: refused e-mail gives a suppressed row */
	assert_int_equal(tn_consent_set(s, "c1", "email", 0, "test", noon, &err), TN_OK);
	assert_int_equal(tn_consent_set(s, "c1", "fax", 0, "test", noon, NULL), TN_ERR_USAGE);
	assert_int_equal(tn_consent_set(s, "c9", "email", 0, "test", noon, NULL), TN_ERR_NOTFOUND);
	assert_int_equal(tn_store_begin(s, &err), TN_OK);
	assert_int_equal(tn_outbox_enqueue(s, "winback", "winback:c1:2", 1, "{}", noon, &q, &err), TN_OK);
	assert_int_equal(tn_store_commit(s, &err), TN_OK);
	assert_int_equal(store_count(s, "SELECT count(*) FROM outbox WHERE idem_key = 'winback:c1:2/email'"
					" AND status = 'suppressed'"),
			 1);
	/* retry and dead letters */
	assert_int_equal(tn_store_exec(s, "UPDATE outbox SET status = 'dead', attempts = 8 WHERE id IN (1, 2)", &err),
			 TN_OK);
	long n = 0;
	assert_int_equal(tn_outbox_retry(s, 1, noon, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_count(s, "SELECT attempts FROM outbox WHERE id = 1"), 0);
	assert_int_equal(tn_outbox_retry(s, 0, noon, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tn_outbox_retry(s, 999, noon, &n, NULL), TN_ERR_NOTFOUND);
	assert_int_equal(tn_store_exec(s, "UPDATE outbox SET status = 'sent' WHERE id = 3", &err), TN_OK);
	assert_int_equal(tn_outbox_retry(s, 3, noon, &n, NULL), TN_ERR_USAGE);
	/* unsubscribe: a good token refuses the channel, a bad one does nothing */
	char tok[65];
	assert_int_equal(tn_unsubscribe_token(s, "c2", "email", tok, &err), TN_OK);
	char badtok[65];
	memcpy(badtok, tok, 65);
	badtok[0] = badtok[0] == 'a' ? 'b' : 'a';
	assert_int_equal(tn_unsubscribe(s, "c2", "email", badtok, noon, NULL), TN_ERR_INPUT);
	assert_int_equal(tn_unsubscribe(s, "c1", "email", tok, noon, NULL), TN_ERR_INPUT);
	assert_int_equal(store_count(s, "SELECT count(*) FROM consent WHERE customer_id = 2"), 0);
	assert_int_equal(tn_unsubscribe(s, "c2", "email", tok, noon, &err), TN_OK);
	assert_int_equal(store_count(s, "SELECT count(*) FROM consent WHERE customer_id = 2 AND channel = 'email'"
					" AND granted = 0"),
			 1);
	/* erasure */
	assert_int_equal(tn_store_exec(s,
				       "INSERT INTO feedback(customer_id, given_at, kind, score, answer) VALUES"
				       " (1, 5, 'nps', 3, 'too expensive, call me on 0912')",
				       &err),
			 TN_OK);
	tn_erase_result r;
	assert_int_equal(tn_customer_erase(s, "c1", noon, &r, &err), TN_OK);
	assert_string_equal(r.new_id, "erased-1");
	assert_int_equal(r.feedback, 1);
	assert_int_equal(store_count(s, "SELECT count(*) FROM customers WHERE ext_id = 'c1'"), 0);
	assert_int_equal(
		store_count(s, "SELECT count(*) FROM customers WHERE id = 1 AND attrs = '{}' AND country = 'IR'"), 1);
	assert_int_equal(
		store_count(s, "SELECT count(*) FROM feedback WHERE customer_id = 1 AND answer IS NULL AND score = 3"), 1);
	assert_int_equal(store_count(s, "SELECT count(*) FROM outbox WHERE customer_id = 1"
					" AND (payload <> '{}' OR address IS NOT NULL OR status = 'pending')"),
			 0);
	assert_int_equal(store_count(s, "SELECT count(*) FROM consent WHERE customer_id = 1 AND granted = 0"), 3);
	assert_int_equal(tn_customer_erase(s, "c1", noon, &r, NULL), TN_ERR_NOTFOUND);
	tn_store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature), cmocka_unit_test(test_backoff), cmocka_unit_test(test_quiet_hours),
		cmocka_unit_test(test_template),  cmocka_unit_test(test_mime),	  cmocka_unit_test(test_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
