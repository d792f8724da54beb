/*
 * sources_internal.h -- what the source modules share (not public).
 *   jose.c        base64, JWS/JWT parsing, ES256/RS256/HMAC with OpenSSL 3
 *   appstore.c    App Store Server Notifications V2: chain, OIDs, JWS, types
 *   googleplay.c  Pub/Sub push, RTDN types 1-22, voided purchases, OIDC token
 *   stripe.c      Stripe-Signature and events
 *   revenuecat.c  Authorization and events
 *   config.c      the sources table: add, list, remove, load
 *   state.c       the common state machine and everything written to the store
 */
#ifndef TENURE_SOURCES_INTERNAL_H
#define TENURE_SOURCES_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "tenure.h"
#include "tenure/sources.h"

struct cJSON;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_store_st X509_STORE;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

#define SRC_MAX_BODY ((size_t)1 << 20)  /* a notification body */
#define SRC_MAX_TOKEN ((size_t)64 << 10) /* one JWS / JWT */
#define SRC_CHAIN_CACHE 64               /* verified App Store chains kept */
#define SRC_CHAIN_TTL 900                /* seconds a verified chain is trusted without rechecking */

/* ---- jose.c ---- */
/* Decode base64 (URL=1: base64url, padding optional).  0, -1 bad input, -2 no memory.
 * *out is NUL-terminated (not counted in *outlen). */
int src_b64_decode(const char *in, size_t len, int url, unsigned char **out, size_t *outlen);

typedef struct src_jws {
	struct cJSON *header, *payload; /* header NULL when skipped */
	const char *header_b64;         /* the header as sent, inside the token */
	size_t header_len;
	const char *input;  /* header.payload, inside the token */
	size_t input_len;
	unsigned char *sig;
	size_t sig_len;
} src_jws;

/* Split and decode a compact JWS (header and payload must be JSON objects). */
int src_jws_parse(const char *token, size_t len, src_jws *j, tn_error *err);
/* The same; SKIP_HEADER leaves the header undecoded (j->header NULL): App
 * Store's header is the same text on every notification, and one whose exact
 * text has been verified is not decoded again (appstore.c). */
int src_jws_parse_opt(const char *token, size_t len, int skip_header, src_jws *j, tn_error *err);
void src_jws_free(src_jws *j);
/* 0 when SIG (64 bytes r||s) is PK's ES256 signature of INPUT. */
int src_es256_verify(EVP_PKEY *pk, const char *input, size_t len, const unsigned char *sig, size_t sig_len);
int src_rs256_verify(EVP_PKEY *pk, const char *input, size_t len, const unsigned char *sig, size_t sig_len);
/* An RSA public key from a JWK's n and e (base64url). */
EVP_PKEY *src_rsa_from_jwk(const char *n, const char *e);
void src_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32]);
/* An HMAC-SHA256 context holding KEY, made once per loaded source (NULL when
 * OpenSSL cannot make one): the one-shot HMAC() above fetches the digest
 * and sets the key up again on every call (OpenSSL 3), a sizeable part of a
 * Stripe webhook's cost.  *SERIAL: a number no other context made by it
 * has, which tells the per-thread copies apart.  src_hmac_sha256_2 MACs A
 * then B with the calling thread's copy of K (made from K, whose SERIAL it
 * is, on the thread's first use of it; the shared context itself is only
 * read, so HTTP threads use it at once); 0, or -1 when OpenSSL failed (OUT
 * zeroed). */
EVP_MAC_CTX *src_hmac_key(const void *key, size_t klen, unsigned long long *serial);
int src_hmac_sha256_2(const EVP_MAC_CTX *k, unsigned long long serial, const void *a, size_t alen, const void *b,
		      size_t blen, unsigned char out[32]);
void src_sha256(const void *msg, size_t len, unsigned char out[32]);
void src_hex(const unsigned char *b, size_t n, char *out); /* lower case, 2n+1 bytes */

/* cJSON helpers: a member's string (NULL if absent or not a string), number, ms instant. */
const char *src_str(const struct cJSON *o, const char *name);
int src_num(const struct cJSON *o, const char *name, double *v); /* 0 when present */
tn_time src_ms(const struct cJSON *o, const char *name);          /* TN_NO_TIME if absent */
char *src_dup(const char *s);                                     /* NULL stays NULL */
char *src_printf(const char *fmt, ...) TN_PRINTF(1, 2);
/* Guess a billing period from a product id ("...year...", "annual", "week", ...); month otherwise. */
const char *src_period_guess(const char *product);

/* ---- the loaded configuration ---- */
typedef struct src_chain {
	unsigned char key[32]; /* SHA-256 of the three x5c strings and the source id */
	EVP_PKEY *leaf;
	tn_time not_before, not_after; /* where the whole chain is valid */
	double verified_at;            /* monotonic seconds */
} src_chain;

typedef struct src_config {
	int64_t id;
	int kind;
	struct cJSON *cfg;   /* the stored JSON configuration */
	X509_STORE *store;   /* appstore: the configured root only */
	struct cJSON *jwks;  /* googleplay: the keys, or NULL */
	unsigned char auth_hash[32]; /* revenuecat */
	EVP_MAC_CTX *hmac;   /* stripe: the secret's HMAC context, or NULL */
	unsigned long long hmac_serial; /* src_hmac_key's number for it */
} src_config;

struct tn_sources {
	src_config *v;
	size_t n;
	int64_t generation;
	pthread_mutex_t mu;  /* the chain cache */
	src_chain cache[SRC_CHAIN_CACHE];
	size_t ncache, next;
};

/* ---- the decoders (verify: check the signature first; c and cfg may be NULL when not) ---- */
int src_appstore(tn_sources *c, const src_config *cfg, const tn_source_request *req, int verify,
		 tn_source_note *note, int *refusal, tn_error *err);
int src_googleplay(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *note,
		   int *refusal, tn_error *err);
int src_stripe(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *note,
	       int *refusal, tn_error *err);
int src_revenuecat(const src_config *cfg, const tn_source_request *req, int verify, tn_source_note *note,
		   int *refusal, tn_error *err);

/* Decode a kept body (no verification) as received at RECEIVED; DEDUPE tells a
 * Google Play state import ("state:...") from a notification. */
int src_decode_at(int kind, const char *dedupe, const char *body, size_t len, tn_time received, tn_source_note *n,
		  tn_error *err);

/* A 401 refusal because the chain does not lead to this source's root: the
 * least telling when several App Store sources are configured. */
#define SRC_FOREIGN_CHAIN 1401

/* Set *refusal and ERR; returns TN_ERR_INPUT. */
int src_refuse(int *refusal, int why, tn_error *err, const char *fmt, ...) TN_PRINTF(4, 5);

double src_monotonic(void);

#endif
