/*
 * jose.c -- the signatures the sources use, on OpenSSL 3's libcrypto:
 * base64/base64url, compact JWS (App Store) and JWT (Google's push token),
 * ES256 (P-256 ECDSA, the signature as JOSE's 64-byte r||s), RS256 from a
 * JWK, HMAC-SHA256 (Stripe).  Every comparison of secrets is CRYPTO_memcmp.
 */
#include "sources/sources_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The value of each byte in base64 ([0]) and base64url ([1]); -1 when it is
 * not a digit of that alphabet.  Filled once (decoding is on every webhook's
 * hot path: a table and four digits a step, not a branch per character). */
static signed char B64[2][256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	memset(B64, -1, sizeof B64);
	for (int i = 0; i < 62; i++)
		B64[0][(unsigned char)digits[i]] = B64[1][(unsigned char)digits[i]] = (signed char)i;
	B64[0]['+'] = 62;
	B64[0]['/'] = 63;
	B64[1]['-'] = 62;
	B64[1]['_'] = 63;
}

/* Trailing '=' are dropped; a digit outside the alphabet, a length of 4k+1
 * and non-zero trailing bits (a non-canonical encoding) are refused (-1). */
int src_b64_decode(const char *in, size_t len, int url, unsigned char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	pthread_once(&b64_once, b64_init);
	const signed char *t = B64[url ? 1 : 0];
	while (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -1;
	unsigned char *o = tn_malloc(len / 4 * 3 + 3);
	if (!o)
		return -2;
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0, full = len / 4 * 4, i = 0;
	for (; i < full; i += 4) {
		int a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], d = t[p[i + 3]];
		if ((a | b | c | d) < 0)
			goto bad;
		unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
		o[n++] = (unsigned char)(v >> 16);
		o[n++] = (unsigned char)(v >> 8);
		o[n++] = (unsigned char)v;
	}
	if (len - full >= 2) { /* 2 or 3 digits left: 1 or 2 bytes, and 4 or 2 bits that must be 0 */
		int a = t[p[i]], b = t[p[i + 1]], c = len - full == 3 ? t[p[i + 2]] : 0;
		if ((a | b | c) < 0)
			goto bad;
		unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6;
		o[n++] = (unsigned char)(v >> 16);
		if (len - full == 3) {
			o[n++] = (unsigned char)(v >> 8);
			if (v & 0xff)
				goto bad;
		} else if (v & 0xffff) {
			goto bad;
		}
	}
	o[n] = 0;
	*out = o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return -1;
}

static cJSON *b64_json(const char *in, size_t len, int *nomem)
{
	unsigned char *raw;
	size_t n;
	int rc = src_b64_decode(in, len, 1, &raw, &n);
	if (rc) {
		*nomem = rc == -2;
		return NULL;
	}
	cJSON *j = cJSON_ParseWithLength((const char *)raw, n);
	free(raw);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

int src_jws_parse(const char *token, size_t len, src_jws *j, tn_error *err)
{
	return src_jws_parse_opt(token, len, 0, j, err);
}

int src_jws_parse_opt(const char *token, size_t len, int skip_header, src_jws *j, tn_error *err)
{
	memset(j, 0, sizeof *j);
	if (len > SRC_MAX_TOKEN)
		return tn_error_set(err, TN_ERR_INPUT, "the JWS is longer than %zu bytes", SRC_MAX_TOKEN);
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return tn_error_set(err, TN_ERR_INPUT, "not a compact JWS (three base64url parts separated by dots)");
	int nomem = 0;
	j->header_b64 = token;
	j->header_len = (size_t)(d1 - token);
	if (!skip_header && !(j->header = b64_json(token, (size_t)(d1 - token), &nomem))) {
		src_jws_free(j);
		return nomem ? tn_error_set(err, TN_ERR_NOMEM, "out of memory")
			     : tn_error_set(err, TN_ERR_INPUT, "the JWS header is not base64url of a JSON object");
	}
	j->payload = b64_json(d1 + 1, (size_t)(d2 - d1 - 1), &nomem);
	if (!j->payload) {
		src_jws_free(j);
		return nomem ? tn_error_set(err, TN_ERR_NOMEM, "out of memory")
			     : tn_error_set(err, TN_ERR_INPUT, "the JWS payload is not base64url of a JSON object");
	}
	int rc = src_b64_decode(d2 + 1, len - (size_t)(d2 + 1 - token), 1, &j->sig, &j->sig_len);
	if (rc) {
		src_jws_free(j);
		return rc == -2 ? tn_error_set(err, TN_ERR_NOMEM, "out of memory")
				: tn_error_set(err, TN_ERR_INPUT, "the JWS signature is not base64url");
	}
	j->input = token;
	j->input_len = (size_t)(d2 - token);
	return TN_OK;
}

void src_jws_free(src_jws *j)
{
	cJSON_Delete(j->header);
	cJSON_Delete(j->payload);
	free(j->sig);
	memset(j, 0, sizeof *j);
}

static int verify_der(EVP_PKEY *pk, const char *input, size_t len, const unsigned char *der, size_t der_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
		 EVP_DigestVerify(md, der, der_len, (const unsigned char *)input, len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int src_es256_verify(EVP_PKEY *pk, const char *input, size_t len, const unsigned char *sig, size_t sig_len)
{
	if (sig_len != 64 || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 256)
		return -1;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(s);
		return -1;
	}
	unsigned char *der = NULL;
	int n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return -1;
	int rc = verify_der(pk, input, len, der, (size_t)n);
	OPENSSL_free(der);
	return rc;
}

int src_rs256_verify(EVP_PKEY *pk, const char *input, size_t len, const unsigned char *sig, size_t sig_len)
{
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048)
		return -1;
	return verify_der(pk, input, len, sig, sig_len);
}

EVP_PKEY *src_rsa_from_jwk(const char *n64, const char *e64)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nn, ne;
	EVP_PKEY *pk = NULL;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	if (!n64 || !e64 || src_b64_decode(n64, strlen(n64), 1, &n, &nn) ||
	    src_b64_decode(e64, strlen(e64), 1, &e, &ne) || nn == 0 || ne == 0 || nn > 1024 || ne > 8)
		goto done;
	bn = BN_bin2bn(n, (int)nn, NULL);
	be = BN_bin2bn(e, (int)ne, NULL);
	b = OSSL_PARAM_BLD_new();
	if (!bn || !be || !b || !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be))
		goto done;
	params = OSSL_PARAM_BLD_to_param(b);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return pk;
}

void src_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
	unsigned int n = 32;
	if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n))
		memset(out, 0, 32);
}

static atomic_ullong hmac_serials;

EVP_MAC_CTX *src_hmac_key(const void *key, size_t klen, unsigned long long *serial)
{
	*serial = atomic_fetch_add(&hmac_serials, 1) + 1;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context keeps its own reference */
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
	if (c && EVP_MAC_init(c, key, klen, params) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	return c;
}

/* Each thread keeps its own copy of the last keyed context it MACed with and
 * resets it to the key (EVP_MAC_init without a key) for the next message:
 * a copy made and freed per webhook (EVP_MAC_CTX_dup + _free) was ~4,400
 * of the ~110,000 instructions of a Stripe notification's verify + store
 * (callgrind, `tenure import stripe`).  The copy is known by the key's
 * serial, not its address: after `sources add/remove` a freed context's
 * address can come back holding another secret.  A thread's copy is freed
 * when the thread ends (the HTTP threads, at the server's stop). */
typedef struct hmac_slot {
	unsigned long long serial;
	EVP_MAC_CTX *c;
} hmac_slot;

static pthread_key_t hmac_key;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static int hmac_key_ok;

static void hmac_slot_free(void *p)
{
	hmac_slot *s = p;
	EVP_MAC_CTX_free(s->c);
	free(s);
}

static void hmac_key_init(void) { hmac_key_ok = pthread_key_create(&hmac_key, hmac_slot_free) == 0; }

/* The calling thread's slot (made on its first call), or NULL. */
static hmac_slot *hmac_thread_slot(void)
{
	pthread_once(&hmac_once, hmac_key_init);
	if (!hmac_key_ok)
		return NULL;
	hmac_slot *s = pthread_getspecific(hmac_key);
	if (!s && (s = tn_calloc(1, sizeof *s)) && pthread_setspecific(hmac_key, s) != 0) {
		free(s);
		s = NULL;
	}
	return s;
}

int src_hmac_sha256_2(const EVP_MAC_CTX *k, unsigned long long serial, const void *a, size_t alen, const void *b,
		      size_t blen, unsigned char out[32])
{
	hmac_slot *s = hmac_thread_slot();
	EVP_MAC_CTX *c;
	int ok = 1;
	if (s && s->c && s->serial == serial) {
		c = s->c;
		ok = EVP_MAC_init(c, NULL, 0, NULL) == 1; /* back to the key, nothing MACed */
	} else {
		/* EVP_MAC_CTX_dup only reads its argument; a fresh copy is keyed and ready */
		c = EVP_MAC_CTX_dup((EVP_MAC_CTX *)k);
		if (s && c) {
			EVP_MAC_CTX_free(s->c);
			s->c = c;
			s->serial = serial;
		}
	}
	size_t n = 0;
	ok = ok && c && EVP_MAC_update(c, a, alen) == 1 && EVP_MAC_update(c, b, blen) == 1 &&
	     EVP_MAC_final(c, out, &n, 32) == 1 && n == 32;
	if (!s || c != s->c)
		EVP_MAC_CTX_free(c); /* no slot: a copy for this call only */
	else if (!ok) { /* a copy in an unknown state: made again next time */
		EVP_MAC_CTX_free(s->c);
		s->c = NULL;
		s->serial = 0;
	}
	if (!ok)
		memset(out, 0, 32);
	return ok ? 0 : -1;
}

void src_sha256(const void *msg, size_t len, unsigned char out[32]) { SHA256(msg, len, out); }

void src_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

const char *src_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int src_num(const cJSON *o, const char *name, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return -1;
	*v = x->valuedouble;
	return 0;
}

tn_time src_ms(const cJSON *o, const char *name)
{
	double v;
	if (src_num(o, name, &v) || v < -1e15 || v > 1e15)
		return TN_NO_TIME;
	return (tn_time)floor(v / 1000.0);
}

char *src_dup(const char *s) { return s ? tn_strdup(s) : NULL; }

char *src_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = tn_malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static int contains_ci(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (; *s; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

const char *src_period_guess(const char *product)
{
	if (!product)
		return "month";
	if (contains_ci(product, "year") || contains_ci(product, "annual") || contains_ci(product, "12m"))
		return "year";
	if (contains_ci(product, "quarter") || contains_ci(product, "3m"))
		return "quarter";
	if (contains_ci(product, "week"))
		return "week";
	return "month";
}

int src_refuse(int *refusal, int why, tn_error *err, const char *fmt, ...)
{
	if (refusal)
		*refusal = why;
	char msg[TN_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tn_error_set(err, TN_ERR_INPUT, "%s", msg);
}

double src_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
