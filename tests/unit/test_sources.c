/*
 * test_sources.c -- the subscription sources (src/sources, docs/sources.md):
 * base64url, the Stripe-Signature and RevenueCat checks with every refusal,
 * Google's OIDC token (RSA key and JWKS made here), and the state machine
 * walked through every notification type of every source (App Store
 * payloads decoded as kept, the way `sources replay` reads them), then a
 * replay that must give exactly the same state.  tests/e2e/sources.sh does
 * the App Store chain with the openssl CLI and the real server.
 */
#include "store_util.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sources/sources_internal.h"
#include "store/db.h"
#include "tenure.h"

static tn_store *open_temp(const char *tag)
{
	char path[256];
	snprintf(path, sizeof path, "/tmp/tenure-test-sources-%s-%ld.db", tag, (long)getpid());
	unlink(path);
	tn_store *s = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	return s;
}

static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = t[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = t[v & 63];
	}
	out[o] = 0;
}

/* "header.payload.sig" with an unsigned placeholder: what replay decodes */
static char *fake_jws(const char *payload)
{
	static const char hdr[] = "{\"alg\":\"ES256\",\"x5c\":[\"a\",\"b\",\"c\"]}";
	size_t n = strlen(payload);
	char *out = malloc(4 * (n + sizeof hdr) / 3 + 64);
	assert_non_null(out);
	b64url((const unsigned char *)hdr, strlen(hdr), out);
	strcat(out, ".");
	b64url((const unsigned char *)payload, n, out + strlen(out));
	strcat(out, ".AAAA");
	return out;
}

static int feed(tn_store *s, int kind, const char *body, tn_time now, int *outcome)
{
	tn_source_note n;
	tn_error err = {0};
	int rc = src_decode_at(kind, NULL, body, strlen(body), now, &n, &err);
	if (rc)
		return rc;
	rc = tn_sources_store(s, &n, now, outcome, &err);
	if (rc)
		print_error("store: %s\n", err.msg);
	tn_source_note_free(&n);
	return rc;
}

/* "state|cause|auto_renew|coarse status" of subscription EXT */
static const char *state_of(tn_store *s, const char *ext)
{
	static char buf[256];
	tn_error err = {0};
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT st.state, COALESCE(st.cause, ''), COALESCE(st.auto_renew, -1), u.status"
				    " FROM subscription_state st JOIN subscriptions u ON u.id = st.subscription_id"
				    " WHERE u.ext_id = ?",
				    &err);
	assert_non_null(st);
	tn_db_bind_text(st, 1, ext);
	if (tn_db_step(st, "state", &err) == TN_DB_ROW)
		snprintf(buf, sizeof buf, "%s|%s|%lld|%s", tn_db_column_text(st, 0), tn_db_column_text(st, 1),
			 (long long)tn_db_column_int64(st, 2), tn_db_column_text(st, 3));
	else
		snprintf(buf, sizeof buf, "(none)");
	tn_db_finalize(st);
	return buf;
}

/* ---- base64 ---------------------------------------------------------------- */

static void test_base64(void **state)
{
	(void)state;
	unsigned char *out;
	size_t n;
	assert_int_equal(src_b64_decode("aGVsbG8", 7, 1, &out, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(src_b64_decode("aGVsbG8=", 8, 0, &out, &n), 0);
	free(out);
	assert_int_equal(src_b64_decode("-_8", 3, 1, &out, &n), 0); /* url alphabet */
	assert_int_equal(out[0], 0xfb);
	free(out);
	assert_int_equal(src_b64_decode("-_8", 3, 0, &out, &n), -1); /* not in the standard one */
	assert_int_equal(src_b64_decode("aGVsbG9", 7, 1, &out, &n), -1); /* non-canonical trailing bits */
	assert_int_equal(src_b64_decode("a", 1, 1, &out, &n), -1);
	assert_int_equal(src_b64_decode("a b=", 4, 0, &out, &n), -1);
	/* the decoder reads four digits a step: every length and remainder against
	 * OpenSSL's encoder, in both alphabets, and each byte value refused where
	 * it is not a digit */
	unsigned char raw[70], enc[100];
	unsigned seed = 12345;
	for (size_t len = 0; len <= 64; len++) {
		for (size_t i = 0; i < len; i++)
			raw[i] = (unsigned char)((seed = seed * 1103515245u + 12345u) >> 16);
		int el = EVP_EncodeBlock(enc, raw, (int)len);
		assert_int_equal(src_b64_decode((const char *)enc, (size_t)el, 0, &out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, raw, len);
		free(out);
		size_t ul = (size_t)el; /* base64url without padding */
		while (ul && enc[ul - 1] == '=')
			ul--;
		for (size_t i = 0; i < ul; i++)
			enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
		assert_int_equal(src_b64_decode((const char *)enc, ul, 1, &out, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, raw, len);
		free(out);
		if (ul % 4 >= 2) { /* a non-zero bit past the last byte: not canonical */
			char alt[100];
			memcpy(alt, enc, ul);
			static const char d[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
			alt[ul - 1] = d[(strchr(d, alt[ul - 1]) - d) | 1];
			assert_int_equal(src_b64_decode(alt, ul, 1, &out, &n), -1);
		}
	}
	for (int c = 0; c < 256; c++) {
		char four[4] = {'Q', 'U', 'E', (char)c}; /* "QUE=" is "AA" */
		int digit = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		int url = src_b64_decode(four, 4, 1, &out, &n);
		if (!url)
			free(out);
		int std = src_b64_decode(four, 4, 0, &out, &n);
		if (!std)
			free(out);
		assert_int_equal(url == 0, digit || c == '-' || c == '_' || c == '=');
		assert_int_equal(std == 0, digit || c == '+' || c == '/' || c == '=');
	}
}

/* ---- Stripe ------------------------------------------------------------------ */

static void stripe_header(const char *secret, long long t, const char *body, char *out, size_t n)
{
	char msg[4096];
	snprintf(msg, sizeof msg, "%lld.%s", t, body);
	unsigned char mac[32];
	unsigned int ml = 32;
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, strlen(msg), mac, &ml);
	char hex[65];
	src_hex(mac, 32, hex);
	snprintf(out, n, "t=%lld,v1=%s", t, hex);
}

static void test_stripe_signature(void **state)
{
	(void)state;
	tn_store *s = open_temp("stripe");
	tn_error err = {0};
	tn_source_spec sp = {.kind = TN_SRC_STRIPE, .secret = "whsec_unit"};
	int64_t id;
	assert_int_equal(tn_sources_add(s, &sp, 1000, &id, &err), TN_OK);
	tn_sources *c;
	assert_int_equal(tn_sources_load(s, &c, &err), TN_OK);
	const char *body = "{\"id\":\"evt_1\",\"type\":\"invoice.paid\",\"created\":1700000000,\"data\":{\"object\":"
			   "{\"id\":\"in_1\",\"customer\":\"cus_1\",\"currency\":\"jpy\",\"amount_paid\":500}}}";
	tn_time now = 1700000100;
	char h[256], other[256], both[512];
	stripe_header("whsec_unit", 1700000050, body, h, sizeof h);
	tn_source_request rq = {.body = body, .len = strlen(body), .signature = h, .now = now};
	tn_source_note n;
	int why;
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rq, &n, &why, &err), TN_OK);
	assert_string_equal(n.pay_status, "succeeded");
	assert_near(n.pay_amount, 500, 0); /* a zero-decimal currency */
	assert_string_equal(n.pay_currency, "JPY");
	tn_source_note_free(&n);
	/* secret rotation: several v1, one good */
	stripe_header("whsec_old", 1700000050, body, other, sizeof other);
	snprintf(both, sizeof both, "%s,%s", other, strstr(h, "v1="));
	rq.signature = both;
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rq, &n, &why, &err), TN_OK);
	tn_source_note_free(&n);
	/* the hex digits in either case (as before: isxdigit and strtoul) */
	char upper[256];
	snprintf(upper, sizeof upper, "%s", h);
	for (char *p = strstr(upper, "v1=") + 3; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	rq.signature = upper;
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rq, &n, &why, &err), TN_OK);
	tn_source_note_free(&n);
	/* the source's kept HMAC context signs each body anew: the good header
	 * on a body one byte off is refused, the next good pair accepted */
	char *tampered = strdup(body);
	assert_non_null(tampered);
	tampered[strlen(tampered) - 6] = '6'; /* amount_paid 500 -> 600 */
	tn_source_request rt = {.body = tampered, .len = strlen(tampered), .signature = h, .now = now};
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rt, &n, &why, &err), TN_ERR_INPUT);
	assert_int_equal(why, TN_SRC_BAD_SIGNATURE);
	tn_error_clear(&err);
	char ht[256];
	stripe_header("whsec_unit", 1700000060, tampered, ht, sizeof ht);
	rt.signature = ht;
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rt, &n, &why, &err), TN_OK);
	assert_near(n.pay_amount, 600, 0);
	tn_source_note_free(&n);
	free(tampered);
	/* the two-part HMAC equals the one-shot one (RFC 4231 test case 2) */
	unsigned char one[32], two[32], three[32];
	char hex[65];
	unsigned long long serial = 0, serial2 = 0;
	EVP_MAC_CTX *k = src_hmac_key("Jefe", 4, &serial);
	assert_non_null(k);
	assert_int_equal(src_hmac_sha256_2(k, serial, "what do ya ", 11, "want for nothing?", 17, two), 0);
	src_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, one);
	src_hex(two, 32, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_memory_equal(one, two, 32);
	/* again with the thread's kept copy: reset to the key, not MACing on */
	memset(two, 0, sizeof two);
	assert_int_equal(src_hmac_sha256_2(k, serial, "what do ya ", 11, "want for nothing?", 17, two), 0);
	assert_memory_equal(one, two, 32);
	/* another key (a reloaded source), even at the freed one's address: its own
	 * secret, not the kept copy's (RFC 4231 test case 1's key, case 2's data) */
	EVP_MAC_CTX_free(k);
	unsigned char key1[20];
	memset(key1, 0x0b, sizeof key1);
	k = src_hmac_key(key1, sizeof key1, &serial2);
	assert_non_null(k);
	assert_true(serial2 != serial);
	assert_int_equal(src_hmac_sha256_2(k, serial2, "what do ya ", 11, "want for nothing?", 17, two), 0);
	src_hmac_sha256(key1, sizeof key1, "what do ya want for nothing?", 28, one);
	assert_memory_equal(one, two, 32);
	src_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, three);
	assert_memory_not_equal(three, two, 32);
	EVP_MAC_CTX_free(k);
	rq.signature = h;
	/* refusals */
	struct {
		const char *sig;
		tn_time now;
		const char *msg;
	} bad[] = {{other, now, "no v1 signature matches"},
		   {h, 1700000050 + 301, "more than the 300 s tolerance"},
		   {NULL, now, "header is missing"},
		   {"v1=abc", now, "expected one t="},
		   {"t=1700000050", now, "no v1= signature"},
		   {"t=x,v1=00", now, "t= is not a timestamp"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tn_error e = {0};
		rq.signature = bad[i].sig;
		rq.now = bad[i].now;
		assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rq, &n, &why, &e), TN_ERR_INPUT);
		assert_int_equal(why, TN_SRC_BAD_SIGNATURE);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, bad[i].msg);
	}
	/* the body changed under a good signature */
	rq.signature = h;
	rq.now = now;
	rq.body = "{\"id\":\"evt_1\"}";
	rq.len = strlen(rq.body);
	assert_int_equal(tn_sources_verify(c, TN_SRC_STRIPE, &rq, &n, &why, &err), TN_ERR_INPUT);
	/* no source of a kind */
	tn_error e2 = {0};
	assert_int_equal(tn_sources_verify(c, TN_SRC_REVENUECAT, &rq, &n, &why, &e2), TN_ERR_INPUT);
	assert_int_equal(why, TN_SRC_NO_SOURCE);
	tn_sources_free(c);
	tn_store_close(s);
}

static void test_revenuecat_auth(void **state)
{
	(void)state;
	tn_store *s = open_temp("rc");
	tn_error err = {0};
	tn_source_spec sp = {.kind = TN_SRC_REVENUECAT, .authorization = "Bearer xyz"};
	assert_int_equal(tn_sources_add(s, &sp, 1000, NULL, &err), TN_OK);
	tn_sources *c;
	assert_int_equal(tn_sources_load(s, &c, &err), TN_OK);
	const char *body = "{\"event\":{\"id\":\"e1\",\"type\":\"TEST\",\"app_user_id\":\"u\"}}";
	tn_source_request rq = {.body = body, .len = strlen(body), .authorization = "Bearer xyz", .now = 5};
	tn_source_note n;
	int why;
	assert_int_equal(tn_sources_verify(c, TN_SRC_REVENUECAT, &rq, &n, &why, &err), TN_OK);
	assert_int_equal(n.test, 1);
	assert_int_equal(n.event_at, 5); /* no timestamp: when received */
	tn_source_note_free(&n);
	rq.authorization = "Bearer xyZ";
	assert_int_equal(tn_sources_verify(c, TN_SRC_REVENUECAT, &rq, &n, &why, &err), TN_ERR_INPUT);
	assert_int_equal(why, TN_SRC_BAD_SIGNATURE);
	rq.authorization = NULL;
	assert_int_equal(tn_sources_verify(c, TN_SRC_REVENUECAT, &rq, &n, &why, &err), TN_ERR_INPUT);
	/* the store keeps no Authorization value */
	assert_int_equal(store_count(s, "SELECT count(*) FROM sources WHERE instr(config, 'xyz') > 0"), 0);
	tn_sources_free(c);
	tn_store_close(s);
}

/* ---- Google's OIDC token ------------------------------------------------------ */

static char *rs256_token(EVP_PKEY *k, const char *payload)
{
	static const char hdr[] = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
	char *tok = malloc(8192);
	assert_non_null(tok);
	b64url((const unsigned char *)hdr, strlen(hdr), tok);
	strcat(tok, ".");
	b64url((const unsigned char *)payload, strlen(payload), tok + strlen(tok));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t sl = sizeof sig;
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sl, (const unsigned char *)tok, strlen(tok)), 1);
	EVP_MD_CTX_free(md);
	strcat(tok, ".");
	b64url(sig, sl, tok + strlen(tok));
	return tok;
}

static void test_google_token(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_RSA_gen(2048);
	assert_non_null(k);
	BIGNUM *bn = NULL, *be = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &bn), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k, "e", &be), 1);
	unsigned char nb[512], eb[8];
	int nl = BN_bn2bin(bn, nb), el = BN_bn2bin(be, eb);
	char n64[700], e64[16], jwks[1024];
	b64url(nb, (size_t)nl, n64);
	b64url(eb, (size_t)el, e64);
	BN_free(bn);
	BN_free(be);
	snprintf(jwks, sizeof jwks, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\"}]}", n64, e64);
	tn_store *s = open_temp("gp");
	tn_error err = {0};
	tn_source_spec sp = {.kind = TN_SRC_GOOGLEPLAY,
			     .package = "com.x",
			     .jwks = jwks,
			     .audience = "https://t/push",
			     .service_account = "sa@x.iam"};
	assert_int_equal(tn_sources_add(s, &sp, 1000, NULL, &err), TN_OK);
	tn_source_spec nojwks = {.kind = TN_SRC_GOOGLEPLAY, .package = "com.y", .audience = "https://t/push"};
	assert_int_equal(tn_sources_add(s, &nojwks, 1000, NULL, &err), TN_ERR_USAGE);
	tn_sources *c;
	assert_int_equal(tn_sources_load(s, &c, &err), TN_OK);
	/* {"version":"1.0","packageName":"com.x","eventTimeMillis":"1700000000000","subscriptionNotification":{...type 4...}} */
	const char *dn = "{\"version\":\"1.0\",\"packageName\":\"com.x\",\"eventTimeMillis\":\"1700000000000\","
			 "\"subscriptionNotification\":{\"version\":\"1.0\",\"notificationType\":4,\"purchaseToken\":\"pt\","
			 "\"subscriptionId\":\"gold_yearly\"}}";
	char data[1024], body[2048];
	unsigned char *std = NULL;
	int dl = EVP_EncodeBlock(std = malloc(2048), (const unsigned char *)dn, (int)strlen(dn));
	memcpy(data, std, (size_t)dl);
	data[dl] = 0;
	free(std);
	snprintf(body, sizeof body, "{\"message\":{\"data\":\"%s\",\"messageId\":\"m1\"},\"subscription\":\"s\"}", data);
	tn_time now = 1700000000;
	struct {
		const char *claims;
		int ok;
		const char *msg;
	} cases[] = {
		{"{\"iss\":\"https://accounts.google.com\",\"aud\":\"https://t/push\",\"email\":\"sa@x.iam\","
		 "\"email_verified\":true,\"exp\":1700003600,\"iat\":1699999000}",
		 1, NULL},
		{"{\"iss\":\"https://accounts.google.com\",\"aud\":\"https://evil/push\",\"email\":\"sa@x.iam\","
		 "\"email_verified\":true,\"exp\":1700003600}",
		 0, "audience https://evil/push"},
		{"{\"iss\":\"https://accounts.google.com\",\"aud\":\"https://t/push\",\"email\":\"other@x.iam\","
		 "\"email_verified\":true,\"exp\":1700003600}",
		 0, "not the configured service account"},
		{"{\"iss\":\"https://accounts.google.com\",\"aud\":\"https://t/push\",\"email\":\"sa@x.iam\","
		 "\"email_verified\":true,\"exp\":1699999999}",
		 0, "expired"},
		{"{\"iss\":\"https://evil.example\",\"aud\":\"https://t/push\",\"email\":\"sa@x.iam\","
		 "\"email_verified\":true,\"exp\":1700003600}",
		 0, "is not Google"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *tok = rs256_token(k, cases[i].claims);
		char auth[9000];
		snprintf(auth, sizeof auth, "Bearer %s", tok);
		free(tok);
		tn_source_request rq = {.body = body, .len = strlen(body), .authorization = auth, .now = now};
		tn_source_note n;
		int why = 0;
		tn_error e = {0};
		int rc = tn_sources_verify(c, TN_SRC_GOOGLEPLAY, &rq, &n, &why, &e);
		if (cases[i].ok) {
			assert_int_equal(rc, TN_OK);
			assert_string_equal(n.subscription, "googleplay:pt");
			assert_string_equal(n.state, "active");
			assert_string_equal(n.period, "year");
			assert_int_equal(n.event_at, now);
			tn_source_note_free(&n);
		} else {
			assert_int_equal(rc, TN_ERR_INPUT);
			assert_int_equal(why, TN_SRC_BAD_SIGNATURE);
			if (!strstr(e.msg, cases[i].msg))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].msg);
		}
	}
	/* a tampered token */
	char *tok = rs256_token(k, cases[0].claims);
	char auth[9000];
	snprintf(auth, sizeof auth, "Bearer %s", tok);
	free(tok);
	char *dot = strrchr(auth, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	tn_source_request rq = {.body = body, .len = strlen(body), .authorization = auth, .now = now};
	tn_source_note n;
	int why;
	assert_int_equal(tn_sources_verify(c, TN_SRC_GOOGLEPLAY, &rq, &n, &why, &err), TN_ERR_INPUT);
	EVP_PKEY_free(k);
	tn_sources_free(c);
	tn_store_close(s);
}

/* ---- the state machine, source by source -------------------------------------- */

typedef struct step {
	const char *type, *subtype;
	const char *extra_txn; /* more transaction fields */
	int auto_renew;        /* renewal info's autoRenewStatus, -1 none */
	const char *want;      /* state|cause|auto_renew|coarse */
} step;

static char *appstore_body(const step *st, long long ms, int i)
{
	char txn[1024], ren[512], pay[8192];
	snprintf(txn, sizeof txn,
		 "{\"originalTransactionId\":\"900\",\"transactionId\":\"t%d\",\"productId\":\"app.monthly\","
		 "\"bundleId\":\"b\",\"environment\":\"Sandbox\",\"purchaseDate\":%lld,\"originalPurchaseDate\":%lld,"
		 "\"expiresDate\":%lld,\"type\":\"Auto-Renewable Subscription\",\"signedDate\":%lld%s}",
		 i, ms, ms, ms + 2592000000LL, ms, st->extra_txn ? st->extra_txn : "");
	if (st->auto_renew >= 0)
		snprintf(ren, sizeof ren,
			 "{\"originalTransactionId\":\"900\",\"autoRenewStatus\":%d,\"environment\":\"Sandbox\","
			 "\"signedDate\":%lld,\"renewalPrice\":4990,\"currency\":\"USD\"}",
			 st->auto_renew, ms);
	char *jt = fake_jws(txn), *jr = st->auto_renew >= 0 ? fake_jws(ren) : NULL;
	char sub[64] = "";
	if (st->subtype)
		snprintf(sub, sizeof sub, ",\"subtype\":\"%s\"", st->subtype);
	snprintf(pay, sizeof pay,
		 "{\"notificationType\":\"%s\"%s,\"notificationUUID\":\"w-%d\",\"signedDate\":%lld,"
		 "\"data\":{\"bundleId\":\"b\",\"environment\":\"Sandbox\",\"signedTransactionInfo\":\"%s\"%s%s%s}}",
		 st->type, sub, i, ms, jt, jr ? ",\"signedRenewalInfo\":\"" : "", jr ? jr : "", jr ? "\"" : "");
	free(jt);
	free(jr);
	char *jp = fake_jws(pay);
	char *body = malloc(strlen(jp) + 32);
	assert_non_null(body);
	sprintf(body, "{\"signedPayload\":\"%s\"}", jp);
	free(jp);
	return body;
}

static const step APPSTORE[] = {
	{"SUBSCRIBED", "INITIAL_BUY", ",\"offerType\":1,\"offerDiscountType\":\"FREE_TRIAL\",\"price\":0,\"currency\":\"USD\"",
	 1, "trial||1|trialing"},
	{"DID_RENEW", NULL, ",\"price\":4990,\"currency\":\"USD\"", 1, "active||1|active"},
	{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", NULL, 0, "cancelling||0|active"},
	{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED", NULL, 1, "active||1|active"},
	{"DID_CHANGE_RENEWAL_PREF", "DOWNGRADE", NULL, 1, "active||1|active"},
	{"PRICE_INCREASE", "PENDING", NULL, 1, "active||1|active"},
	{"PRICE_INCREASE", "ACCEPTED", NULL, 1, "active||1|active"},
	{"CONSUMPTION_REQUEST", NULL, NULL, 1, "active||1|active"},
	{"REFUND_DECLINED", NULL, NULL, 1, "active||1|active"},
	{"RENEWAL_EXTENSION", "SUMMARY", NULL, 1, "active||1|active"},
	{"EXTERNAL_PURCHASE_TOKEN", "UNREPORTED", NULL, 1, "active||1|active"},
	{"ONE_TIME_CHARGE", NULL, NULL, 1, "active||1|active"},
	{"RESCIND_CONSENT", NULL, NULL, 1, "active||1|active"},
	{"METADATA_UPDATE", NULL, NULL, 1, "active||1|active"},
	{"MIGRATION", NULL, NULL, 1, "active||1|active"},
	{"PRICE_CHANGE", NULL, NULL, 1, "active||1|active"},
	{"TEST", NULL, NULL, -1, "active||1|active"},
	{"DID_FAIL_TO_RENEW", NULL, NULL, 1, "billing_retry||1|past_due"},
	{"DID_RENEW", "BILLING_RECOVERY", NULL, 1, "active||1|active"},
	{"DID_FAIL_TO_RENEW", "GRACE_PERIOD", NULL, 1, "grace||1|past_due"},
	{"GRACE_PERIOD_EXPIRED", NULL, NULL, 1, "billing_retry||1|past_due"},
	{"EXPIRED", "BILLING_RETRY", NULL, 0, "expired|billing|0|expired"},
	{"SUBSCRIBED", "RESUBSCRIBE", NULL, 1, "active||1|active"},
	{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", NULL, 0, "cancelling||0|active"},
	{"EXPIRED", NULL, NULL, 0, "expired|voluntary|0|cancelled"}, /* no subtype: from the state before */
	{"OFFER_REDEEMED", "RESUBSCRIBE", NULL, 1, "active||1|active"},
	{"EXPIRED", "PRICE_INCREASE", NULL, 0, "expired|price_increase|0|expired"},
	{"REFUND_REVERSED", NULL, NULL, 1, "active||1|active"},
	{"EXPIRED", "PRODUCT_NOT_FOR_SALE", NULL, 0, "expired|product_unavailable|0|expired"},
	{"RENEWAL_EXTENDED", NULL, NULL, 1, "active||1|active"},
	{"REFUND", NULL, ",\"price\":4990,\"currency\":\"USD\"", 1, "refunded|refund|1|expired"},
	{"SUBSCRIBED", "RESUBSCRIBE", NULL, 1, "active||1|active"},
	{"REVOKE", NULL, NULL, 1, "expired|revoked|1|expired"},
	{"SUBSCRIBED", "RESUBSCRIBE", NULL, 1, "active||1|active"},
	{"DID_CHANGE_RENEWAL_PREF", "UPGRADE", NULL, 1, "active||1|active"},
	{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", NULL, 0, "cancelling||0|active"},
	{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_ENABLED", NULL, 1, "active||1|active"},
	{"EXPIRED", "VOLUNTARY", NULL, 0, "expired|voluntary|0|cancelled"},
};

static void walk_appstore(tn_store *s)
{
	long long ms = 1700000000000LL;
	for (size_t i = 0; i < sizeof APPSTORE / sizeof APPSTORE[0]; i++) {
		char *b = appstore_body(&APPSTORE[i], ms + (long long)i * 1000, (int)i);
		int oc;
		assert_int_equal(feed(s, TN_SRC_APPSTORE, b, 1700000000 + (tn_time)i, &oc), TN_OK);
		free(b);
		const char *got = state_of(s, "appstore:900");
		if (strcmp(got, APPSTORE[i].want) != 0)
			fail_msg("App Store step %zu %s/%s: got %s, want %s", i, APPSTORE[i].type,
				 APPSTORE[i].subtype ? APPSTORE[i].subtype : "", got, APPSTORE[i].want);
	}
	assert_int_equal(store_count(s, "SELECT count(*) FROM payments WHERE status = 'refunded' AND amount = 4.99"), 1);
	assert_int_equal(store_count(s, "SELECT count(*) FROM payments WHERE status = 'failed'"), 2);
	/* the auto-renew-off instant of the last cancelling (step 35) was cleared by re-enabling */
	assert_int_equal(store_count(s, "SELECT count(*) FROM subscription_state WHERE auto_renew_off_at IS NOT NULL"), 1);
}

static void walk_googleplay(tn_store *s)
{
	static const struct {
		int type;
		const char *want;
	} G[] = {{4, "active||1|active"},	    {6, "grace||1|past_due"},	     {1, "active||1|active"},
		 {5, "billing_retry||1|past_due"}, {13, "expired|billing|0|expired"}, {7, "active||1|active"},
		 {3, "cancelling||0|active"},	    {7, "active||1|active"},	     {10, "paused||1|past_due"},
		 {2, "active||1|active"},	    {8, "active||1|active"},	     {9, "active||1|active"},
		 {11, "active||1|active"},	    {14, "active||1|active"},	     {15, "active||1|active"},
		 {16, "active||1|active"},	    {17, "active||1|active"},	     {19, "active||1|active"},
		 {21, "active||1|active"},	    {22, "active||1|active"},	     {18, "cancelling||0|active"},
		 {13, "expired|voluntary|0|cancelled"}, {4, "active||1|active"},	     {12, "expired|revoked|0|expired"},
		 {4, "active||1|active"},	    {20, "expired|other|0|expired"},  {4, "active||1|active"}};
	char dn[512], body[1024];
	for (size_t i = 0; i < sizeof G / sizeof G[0]; i++) {
		snprintf(dn, sizeof dn,
			 "{\"packageName\":\"com.x\",\"eventTimeMillis\":\"%lld\",\"subscriptionNotification\":"
			 "{\"notificationType\":%d,\"purchaseToken\":\"tok\",\"subscriptionId\":\"gold\"}}",
			 1700000000000LL + (long long)i * 1000, G[i].type);
		unsigned char b64[1024];
		int n = EVP_EncodeBlock(b64, (const unsigned char *)dn, (int)strlen(dn));
		snprintf(body, sizeof body, "{\"message\":{\"data\":\"%.*s\",\"messageId\":\"gm%zu\"}}", n, b64, i);
		int oc;
		assert_int_equal(feed(s, TN_SRC_GOOGLEPLAY, body, 1700000000, &oc), TN_OK);
		const char *got = state_of(s, "googleplay:tok");
		if (strcmp(got, G[i].want) != 0)
			fail_msg("Google Play step %zu type %d: got %s, want %s", i, G[i].type, got, G[i].want);
	}
	/* a voided purchase refunds it; a test notification is kept only; type 23 is refused */
	const char *extra[] = {
		"{\"packageName\":\"com.x\",\"eventTimeMillis\":\"1700000999000\",\"voidedPurchaseNotification\":"
		"{\"purchaseToken\":\"tok\",\"orderId\":\"o\",\"productType\":1,\"refundType\":1}}",
		"{\"packageName\":\"com.x\",\"eventTimeMillis\":\"1700000999000\",\"testNotification\":{\"version\":\"1.0\"}}",
		"{\"packageName\":\"com.x\",\"subscriptionNotification\":{\"notificationType\":23,\"purchaseToken\":\"t\"}}"};
	for (int i = 0; i < 3; i++) {
		unsigned char b64[1024];
		int n = EVP_EncodeBlock(b64, (const unsigned char *)extra[i], (int)strlen(extra[i]));
		snprintf(body, sizeof body, "{\"message\":{\"data\":\"%.*s\",\"messageId\":\"gx%d\"}}", n, b64, i);
		int oc = 0;
		int rc = feed(s, TN_SRC_GOOGLEPLAY, body, 1700000999, &oc);
		assert_int_equal(rc, i == 2 ? TN_ERR_INPUT : TN_OK);
		if (i == 1)
			assert_int_equal(oc, TN_SRC_STORED);
	}
	assert_string_equal(state_of(s, "googleplay:tok"), "refunded|refund|0|expired");
}

static void walk_stripe(tn_store *s)
{
	static const struct {
		const char *type, *fields, *want;
	} S[] = {
		{"customer.subscription.created", "\"status\":\"trialing\",\"trial_end\":1700100000", "trial||1|trialing"},
		{"customer.subscription.trial_will_end", "\"status\":\"trialing\",\"cancel_at_period_end\":true",
		 "cancelling||0|active"},
		{"customer.subscription.updated", "\"status\":\"active\"", "active||1|active"},
		{"customer.subscription.updated", "\"status\":\"past_due\"", "billing_retry||1|past_due"},
		{"customer.subscription.updated", "\"status\":\"active\"", "active||1|active"},
		{"customer.subscription.paused", "\"status\":\"paused\"", "paused||1|past_due"},
		{"customer.subscription.resumed", "\"status\":\"active\"", "active||1|active"},
		{"customer.subscription.updated", "\"status\":\"unpaid\"", "billing_retry||1|past_due"},
		{"customer.subscription.deleted",
		 "\"status\":\"canceled\",\"cancellation_details\":{\"reason\":\"payment_failed\"}",
		 "expired|billing|0|expired"},
		{"customer.subscription.updated", "\"status\":\"active\",\"cancel_at_period_end\":true",
		 "cancelling||0|active"},
		{"customer.subscription.deleted",
		 "\"status\":\"canceled\",\"cancellation_details\":{\"reason\":\"cancellation_requested\"}",
		 "expired|voluntary|0|cancelled"},
		{"customer.subscription.updated", "\"status\":\"active\"", "active||1|active"},
		{"customer.subscription.deleted",
		 "\"status\":\"canceled\",\"cancellation_details\":{\"reason\":\"payment_disputed\"}",
		 "expired|refund|0|expired"},
		{"customer.subscription.updated", "\"status\":\"incomplete_expired\"", "expired|billing|1|expired"},
	};
	char body[2048];
	for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
		snprintf(body, sizeof body,
			 "{\"id\":\"evt_w%zu\",\"type\":\"%s\",\"created\":%lld,\"data\":{\"object\":{\"id\":\"sub_w\","
			 "\"customer\":\"cus_w\",\"start_date\":1700000000,\"current_period_end\":1702592000,"
			 "\"plan\":{\"id\":\"pro\",\"amount\":1200,\"currency\":\"eur\",\"interval\":\"month\","
			 "\"interval_count\":3},%s}}}",
			 i, S[i].type, 1700000000LL + (long long)i, S[i].fields);
		int oc;
		assert_int_equal(feed(s, TN_SRC_STRIPE, body, 1700000000, &oc), TN_OK);
		const char *got = state_of(s, "stripe:sub_w");
		if (strcmp(got, S[i].want) != 0)
			fail_msg("Stripe step %zu %s: got %s, want %s", i, S[i].type, got, S[i].want);
	}
	assert_int_equal(store_count(s, "SELECT count(*) FROM subscriptions WHERE ext_id = 'stripe:sub_w' AND "
				  "billing_period = 'quarter' AND price = 12 AND currency = 'EUR'"),
			 1);
	const char *pays[] = {
		"{\"id\":\"evt_p1\",\"type\":\"invoice.paid\",\"created\":1700000100,\"data\":{\"object\":{\"id\":\"in_1\","
		"\"customer\":\"cus_w\",\"currency\":\"eur\",\"amount_paid\":1200}}}",
		"{\"id\":\"evt_p2\",\"type\":\"invoice.payment_failed\",\"created\":1700000200,\"data\":{\"object\":{\"id\":"
		"\"in_2\",\"customer\":\"cus_w\",\"currency\":\"eur\",\"amount_due\":1200}}}",
		"{\"id\":\"evt_p3\",\"type\":\"charge.refunded\",\"created\":1700000300,\"data\":{\"object\":{\"id\":\"ch_1\","
		"\"customer\":\"cus_w\",\"currency\":\"eur\",\"amount_refunded\":600}}}",
		"{\"id\":\"evt_p4\",\"type\":\"charge.dispute.created\",\"created\":1700000400,\"data\":{\"object\":{\"id\":"
		"\"dp_1\",\"customer\":\"cus_w\",\"currency\":\"eur\",\"amount\":1200}}}",
		"{\"id\":\"evt_p5\",\"type\":\"customer.created\",\"created\":1700000500,\"data\":{\"object\":{\"id\":\"cus_z\"}}}"};
	for (int i = 0; i < 5; i++) {
		int oc;
		assert_int_equal(feed(s, TN_SRC_STRIPE, pays[i], 1700000000, &oc), TN_OK);
		assert_int_equal(oc, i < 4 ? TN_SRC_APPLIED : TN_SRC_STORED);
	}
	assert_int_equal(store_count(s, "SELECT count(*) FROM payments p JOIN customers c ON c.id = p.customer_id WHERE "
				  "c.ext_id = 'cus_w'"),
			 4);
	assert_int_equal(store_count(s, "SELECT CAST(sum(amount) AS INTEGER) FROM payments WHERE ext_id LIKE 'stripe:%' AND "
				  "status = 'refunded'"),
			 18);
}

static void walk_revenuecat(tn_store *s)
{
	static const struct {
		const char *fields, *want;
	} R[] = {
		{"\"type\":\"INITIAL_PURCHASE\",\"period_type\":\"TRIAL\"", "trial||1|trialing"},
		{"\"type\":\"RENEWAL\",\"price\":9.99", "active||1|active"},
		{"\"type\":\"CANCELLATION\",\"cancel_reason\":\"UNSUBSCRIBE\"", "cancelling||0|active"},
		{"\"type\":\"UNCANCELLATION\"", "active||1|active"},
		{"\"type\":\"BILLING_ISSUE\"", "billing_retry||1|past_due"},
		{"\"type\":\"RENEWAL\"", "active||1|active"},
		{"\"type\":\"BILLING_ISSUE\",\"grace_period_expiration_at_ms\":1800000000000", "grace||1|past_due"},
		{"\"type\":\"EXPIRATION\",\"expiration_reason\":\"BILLING_ERROR\"", "expired|billing|0|expired"},
		{"\"type\":\"INITIAL_PURCHASE\"", "active||1|active"},
		{"\"type\":\"PRODUCT_CHANGE\",\"new_product_id\":\"pro_yearly\"", "active||1|active"},
		{"\"type\":\"SUBSCRIPTION_PAUSED\"", "active||1|active"},
		{"\"type\":\"EXPIRATION\",\"expiration_reason\":\"SUBSCRIPTION_PAUSED\"", "paused||1|past_due"},
		{"\"type\":\"SUBSCRIPTION_EXTENDED\"", "active||1|active"},
		{"\"type\":\"CANCELLATION\",\"cancel_reason\":\"PRICE_INCREASE\"", "cancelling||0|active"},
		{"\"type\":\"EXPIRATION\"", "expired|price_increase|0|expired"},
		{"\"type\":\"REFUND_REVERSED\"", "active||1|active"},
		{"\"type\":\"CANCELLATION\",\"cancel_reason\":\"CUSTOMER_SUPPORT\"", "refunded|refund|1|expired"},
		{"\"type\":\"RENEWAL\"", "active||1|active"},
		{"\"type\":\"CANCELLATION\",\"cancel_reason\":\"BILLING_ERROR\"", "billing_retry||1|past_due"},
		{"\"type\":\"EXPIRATION\",\"expiration_reason\":\"UNSUBSCRIBE\"", "expired|voluntary|0|cancelled"},
		{"\"type\":\"NON_RENEWING_PURCHASE\"", "expired|voluntary|0|cancelled"},
		{"\"type\":\"TRANSFER\",\"transferred_from\":[\"a\"],\"transferred_to\":[\"b\"]", "expired|voluntary|0|cancelled"},
		{"\"type\":\"TEMPORARY_ENTITLEMENT_GRANT\"", "expired|voluntary|0|cancelled"},
		{"\"type\":\"INVOICE_ISSUANCE\"", "expired|voluntary|0|cancelled"},
		{"\"type\":\"VIRTUAL_CURRENCY_TRANSACTION\"", "expired|voluntary|0|cancelled"},
		{"\"type\":\"TEST\"", "expired|voluntary|0|cancelled"},
	};
	char body[2048];
	for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
		snprintf(body, sizeof body,
			 "{\"api_version\":\"1.0\",\"event\":{\"id\":\"rc%zu\",\"app_user_id\":\"user-1\","
			 "\"product_id\":\"pro_monthly\",\"original_transaction_id\":\"ot-rc\",\"purchased_at_ms\":1700000000000,"
			 "\"expiration_at_ms\":1702592000000,\"event_timestamp_ms\":%lld,\"currency\":\"USD\",%s}}",
			 i, 1700000000000LL + (long long)i * 1000, R[i].fields);
		int oc;
		assert_int_equal(feed(s, TN_SRC_REVENUECAT, body, 1700000000, &oc), TN_OK);
		const char *got = state_of(s, "revenuecat:ot-rc");
		if (strcmp(got, R[i].want) != 0)
			fail_msg("RevenueCat step %zu {%s}: got %s, want %s", i, R[i].fields, got, R[i].want);
		if (i == 9) /* PRODUCT_CHANGE: the new product (later events name it as product_id) */
			assert_int_equal(store_count(s, "SELECT count(*) FROM subscriptions WHERE ext_id = 'revenuecat:ot-rc' "
						  "AND plan = 'pro_yearly' AND billing_period = 'year'"),
					 1);
	}
}

static char *dump(tn_store *s)
{
	tn_error err = {0};
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT u.ext_id || '|' || s.state || '|' || COALESCE(s.cause, '') || '|' || COALESCE(s.auto_renew, '') || '|'"
		" || COALESCE(s.expires_at, '') || '|' || COALESCE(s.auto_renew_off_at, '') || '|' || s.updated_at || '|' ||"
		" u.status || '|' || u.plan || '|' || u.price || '|' || COALESCE(u.cancelled_at, '')"
		" FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id ORDER BY u.ext_id",
		&err);
	assert_non_null(st);
	size_t cap = 1 << 16, n = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	while (tn_db_step(st, "dump", &err) == TN_DB_ROW)
		n += (size_t)snprintf(out + n, cap - n, "%s\n", tn_db_column_text(st, 0));
	tn_db_finalize(st);
	return out;
}

static void test_walk_and_replay(void **state)
{
	(void)state;
	tn_store *s = open_temp("walk");
	walk_appstore(s);
	walk_googleplay(s);
	walk_stripe(s);
	walk_revenuecat(s);
	/* a duplicate changes nothing; an older one is stale */
	int oc;
	const char *dup = "{\"id\":\"evt_p1\",\"type\":\"invoice.paid\",\"created\":1700000100,\"data\":{\"object\":"
			  "{\"id\":\"in_1\",\"customer\":\"cus_w\",\"currency\":\"eur\",\"amount_paid\":1200}}}";
	assert_int_equal(feed(s, TN_SRC_STRIPE, dup, 1700009999, &oc), TN_OK);
	assert_int_equal(oc, TN_SRC_DUPLICATE);
	const char *old = "{\"id\":\"evt_old\",\"type\":\"customer.subscription.updated\",\"created\":1600000000,"
			  "\"data\":{\"object\":{\"id\":\"sub_w\",\"customer\":\"cus_w\",\"status\":\"active\"}}}";
	assert_int_equal(feed(s, TN_SRC_STRIPE, old, 1700009999, &oc), TN_OK);
	assert_int_equal(oc, TN_SRC_STALE);
	assert_string_equal(state_of(s, "stripe:sub_w"), "expired|billing|1|expired");
	/* kept once each, the stale one with its outcome (written after it was kept) */
	assert_int_equal(store_count(s, "SELECT count(*) FROM source_notifications WHERE dedupe_key = 'evt_p1'"), 1);
	assert_int_equal(store_count(s, "SELECT count(*) FROM source_notifications WHERE dedupe_key = 'evt_old' AND outcome = 'stale'"), 1);
	assert_int_equal(store_count(s, "SELECT count(*) FROM source_notifications WHERE dedupe_key = 'evt_p1' AND outcome = 'applied'"), 1);
	char *before = dump(s);
	long long n = 0;
	tn_error err = {0};
	assert_int_equal(tn_sources_replay(s, &n, &err), TN_OK);
	assert_int_equal(n, store_count(s, "SELECT count(*) FROM source_notifications"));
	char *after = dump(s);
	assert_string_equal(before, after);
	free(before);
	free(after);
	tn_store_close(s);
}

/* purchases.subscriptionsv2's recurringPrice (Money) is the subscription's
 * price: RTDN notifications carry none. */
static void test_googleplay_state_price(void **state)
{
	(void)state;
	static const struct {
		const char *money;
		double price;
		const char *currency;
	} cases[] = {
		{",\"recurringPrice\":{\"currencyCode\":\"EUR\",\"units\":\"7\",\"nanos\":990000000}", 7.99, "EUR"},
		{",\"recurringPrice\":{\"currencyCode\":\"JPY\",\"units\":1200}", 1200, "JPY"},
		{",\"recurringPrice\":{\"currencyCode\":\"USD\",\"nanos\":500000000}", 0.5, "USD"},
		{"", NAN, ""},                                                                       /* none */
		{",\"recurringPrice\":{\"currencyCode\":\"US\",\"units\":\"7\"}", NAN, ""},     /* not a currency */
		{",\"recurringPrice\":{\"currencyCode\":\"USD\",\"units\":\"-3\"}", NAN, ""},   /* negative */
		{",\"recurringPrice\":{\"currencyCode\":\"USD\",\"units\":\"7x\"}", NAN, ""},   /* not a number */
		{",\"recurringPrice\":{\"currencyCode\":\"USD\",\"units\":\"7\",\"nanos\":2000000000}", NAN, ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char json[1024];
		snprintf(json, sizeof json,
			 "{\"purchaseToken\":\"tok-p%zu\",\"subscriptionState\":\"SUBSCRIPTION_STATE_ACTIVE\","
			 "\"lineItems\":[{\"productId\":\"premium_monthly\",\"expiryTime\":\"2026-12-01T00:00:00Z\","
			 "\"autoRenewingPlan\":{\"autoRenewEnabled\":true%s}}]}",
			 i, cases[i].money);
		tn_source_note n;
		tn_error err = {0};
		assert_int_equal(tn_sources_googleplay_state(json, strlen(json), 1767225600, &n, &err), TN_OK);
		if (isnan(cases[i].price))
			assert_true(isnan(n.price));
		else
			assert_true(fabs(n.price - cases[i].price) < 1e-9);
		assert_string_equal(n.currency, cases[i].currency);
		tn_source_note_free(&n);
	}
	/* stored: the subscription's price and currency */
	tn_store *s = open_temp("gprice");
	const char *json = "{\"purchaseToken\":\"tok-q\",\"subscriptionState\":\"SUBSCRIPTION_STATE_ACTIVE\","
			   "\"lineItems\":[{\"productId\":\"premium_monthly\",\"expiryTime\":\"2026-12-01T00:00:00Z\","
			   "\"autoRenewingPlan\":{\"autoRenewEnabled\":true,\"recurringPrice\":{\"currencyCode\":\"USD\","
			   "\"units\":\"4\",\"nanos\":490000000}}}]}";
	tn_source_note n;
	tn_error err = {0};
	int oc = 0;
	assert_int_equal(tn_sources_googleplay_state(json, strlen(json), 1767225600, &n, &err), TN_OK);
	assert_int_equal(tn_sources_store(s, &n, 1767225600, &oc, &err), TN_OK);
	assert_int_equal(oc, TN_SRC_APPLIED);
	tn_source_note_free(&n);
	tn_stmt *st = tn_db_prepare(s, "SELECT price, currency, status FROM subscriptions WHERE ext_id = 'googleplay:tok-q'", &err);
	assert_non_null(st);
	assert_int_equal(tn_db_step(st, "price", &err), TN_DB_ROW);
	assert_true(fabs(tn_db_column_double(st, 0) - 4.49) < 1e-9);
	assert_string_equal(tn_db_column_text(st, 1), "USD");
	assert_string_equal(tn_db_column_text(st, 2), "active");
	tn_db_finalize(st);
	tn_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),	      cmocka_unit_test(test_stripe_signature),
		cmocka_unit_test(test_revenuecat_auth), cmocka_unit_test(test_google_token),
		cmocka_unit_test(test_walk_and_replay), cmocka_unit_test(test_googleplay_state_price),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
