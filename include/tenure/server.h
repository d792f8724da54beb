/*
 * tenure/server.h -- `tenure serve`: the HTTP/JSON API over a store
 * (docs/api.md has every route, field and status).
 *
 * A server owns one writer connection, run by one writer thread that puts the
 * writes of many requests into one transaction (group commit; each request in
 * its own savepoint, so one bad request does not undo the others), and a pool
 * of reader connections used by the HTTP threads.  The store is in WAL mode
 * with synchronous=FULL: a write is acknowledged only after its transaction
 * is committed, hence durable.  HTTP is GNU libmicrohttpd (thread pool with
 * epoll, optional TLS); the request handler itself (tn_server_handle) needs no
 * socket, which is how fuzz/fuzz_http.c drives it.
 */
#ifndef TENURE_SERVER_H
#define TENURE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/store.h"

typedef struct tn_server tn_server;

/* Runs one CLI analysis for the read routes that return "the same JSON as
 * `tenure --format json CMD`": ARGV is NULL-terminated (argv[0] the command).
 * Returns the exit status (0 ok, 2 usage error, else failure) with *out the
 * JSON printed and *errtext what was printed on stderr (both malloc'ed, may
 * be NULL); or -1 when it could not run at all. */
typedef int (*tn_server_run_fn)(void *ud, const char *db_path, char *const *argv, char **out, size_t *outlen,
				char **errtext);

typedef struct tn_server_opts {
	const char *db_path;
	const char *host;        /* address to listen on; NULL = 127.0.0.1 */
	unsigned port;           /* 0 = a free port (see tn_server_port) */
	const char *tls_cert;    /* PEM files: serve HTTPS when both are given */
	const char *tls_key;
	unsigned threads;        /* HTTP threads; 0 = two per core (4 when unknown) */
	unsigned max_conns;      /* open connections; 0 = 1024 */
	unsigned per_ip;         /* connections per client address; 0 = 256 */
	unsigned timeout;        /* seconds a connection may idle; 0 = 30 */
	size_t max_body;         /* bytes; 0 = 16 MiB (413 above) */
	int max_depth;           /* JSON nesting; 0 = 32 (400 above) */
	double rate;             /* requests per second per key; 0 = no limit */
	double burst;            /* bucket size; 0 = max(rate, 1) */
	size_t max_items;        /* items in one write request; 0 = 100000 */
	size_t read_cache;       /* bytes of GET /v1/customers/{id} answers kept; 0 = 128 MiB */
	int no_read_cache;       /* 1: keep none (--read-cache 0) */
	size_t fold_rows;        /* fold the events journal at this many rows; 0 = 1000000 */
	double fold_idle;        /* ... and after this many seconds without writes; 0 = 1, < 0 = never */
	long group_wait_us;      /* microseconds the writer waits for more writes before a commit when other requests are
				  * in flight and the last group had company; 0 = 300, < 0 = never (writer.c) */
	double value_refresh;    /* seconds between rebuilds of the value model (value.c); 0 = 60, < 0 = no model
				  * (the value is null): no thread of its own */
	tn_server_run_fn run;    /* NULL: the analysis routes answer 501 */
	void *run_ud;
} tn_server_opts;

/* Open the store (switching it to WAL), the reader pool and the writer
 * thread; no socket yet.  Free with tn_server_free. */
TN_API int tn_server_new(const tn_server_opts *o, tn_server **out, tn_error *err);
/* Start accepting HTTP connections on o->host:o->port. */
TN_API int tn_server_listen(tn_server *sv, tn_error *err);
/* The port listened on (useful with port 0), and the address. */
TN_API unsigned tn_server_port(const tn_server *sv);
/* Graceful stop: stop accepting, finish the requests in flight, stop HTTP. */
TN_API void tn_server_quiesce(tn_server *sv);
/* Wait until the writer has nothing queued and has done its idle work (the
 * event-key filter's steps, returning freed memory): what the requests
 * answered so far left it to do.  With fold_idle < 0 nothing else wakes it,
 * so what the next request meets does not depend on when it comes (the
 * fuzz targets call it after each input). */
TN_API void tn_server_settle(tn_server *sv);
/* Stop the writer after it has committed every queued write, close
 * everything.  Returns the first commit error the writer met, if any. */
TN_API int tn_server_free(tn_server *sv, tn_error *err);

/* ---- the request handler, without a socket ------------------------------ */

typedef struct tn_http_request {
	const char *method;         /* "GET", "POST", ... */
	const char *path;           /* "/v1/customers/c42" (no query) */
	const char *const *query;   /* name, value, name, value, ... (values may be NULL) */
	size_t nquery;              /* pairs */
	const char *authorization;  /* the Authorization header or NULL */
	const char *content_type;   /* or NULL */
	const char *body;
	size_t body_len;
	int body_too_large;         /* the HTTP layer stopped reading at max_body */
	const char *signature;      /* the Stripe-Signature header or NULL (POST /v1/webhooks/stripe) */
	const char *cookie;         /* the Cookie header or NULL (the dashboard's session) */
} tn_http_request;

typedef struct tn_http_response {
	int status;
	char *body;                 /* malloc'ed */
	size_t len;
	const char *content_type;   /* static */
	const char *allow;          /* 405: the Allow header; else NULL */
	int retry_after;            /* 429: seconds; else 0 */
	int www_authenticate;       /* 401: send WWW-Authenticate: Bearer */
	char *headers;              /* malloc'ed "Name: value\n" lines to add (Set-Cookie, Location, ...), or NULL */
} tn_http_response;

/* Answer RQ into RS (which the caller frees with tn_http_response_free).
 * Thread-safe: the HTTP threads call it concurrently. */
TN_API void tn_server_handle(tn_server *sv, const tn_http_request *rq, tn_http_response *rs);
TN_API void tn_http_response_free(tn_http_response *rs);

/* ---- keys ------------------------------------------------------------------ */

#define TN_KEY_LEN 67 /* "tn_" + 64 hex digits (256 random bits) */

/* Make a new random key of SCOPE (ingest|read|admin) named NAME (or NULL),
 * store its SHA-256 hash, and give the key in KEY (TN_KEY_LEN + 1 bytes) --
 * the only time it is seen -- and its id. */
TN_API int tn_key_create(tn_store *s, const char *scope, const char *name, char *key, int64_t *id,
			 tn_error *err);

#endif
