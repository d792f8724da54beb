/*
 * server_internal.h -- what the server's modules share (not public): the
 * server struct, the write queue, the key cache, metrics.
 *   http.c     libmicrohttpd glue: sockets, TLS, limits, bodies, shutdown
 *   routes.c   tn_server_handle: routing, auth, errors, the read routes
 *   ingest.c   request bodies (JSON array / JSON Lines) -> rows for the writer
 *   writer.c   the writer thread: group commit, one savepoint per request
 *   auth.c     keys: creation, SHA-256 hashes, constant-time check, rate limit
 *   metrics.c  counters and histograms, Prometheus text
 */
#ifndef TENURE_SERVER_INTERNAL_H
#define TENURE_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include "tenure.h"
#include "tenure/server.h"

struct cJSON;
struct MHD_Daemon;

/* ---- metrics ---- */
enum { R_HEALTHZ, R_METRICS, R_WRITE, R_CUSTOMER, R_ANALYSIS, R_OTHER, R_NROUTES };
#define TN_LAT_BUCKETS 12

typedef struct route_stat {
	const char *name; /* the route pattern */
	int status;
	unsigned long long count;
} route_stat;

typedef struct tn_metrics {
	pthread_mutex_t mu;
	route_stat *by_status; /* (route, status) counters */
	size_t nby, capby;
	unsigned long long lat[R_NROUTES][TN_LAT_BUCKETS + 1];
	double lat_sum[R_NROUTES];
	unsigned long long lat_count[R_NROUTES];
	unsigned long long rows_ingested;
	unsigned long long commits;
	double commit_seconds;
	unsigned long long commit_hist[TN_LAT_BUCKETS + 1];
} tn_metrics;

void metrics_init(tn_metrics *m);
void metrics_free(tn_metrics *m);
void metrics_request(tn_metrics *m, int route_class, const char *route, int status, double seconds);
void metrics_commit(tn_metrics *m, double seconds, unsigned long long rows);
/* Prometheus text exposition (malloc'ed). */
char *metrics_text(tn_metrics *m, long queue_depth, size_t *len);

/* ---- auth ---- */
typedef struct key_entry {
	int64_t id;
	int scope; /* SCOPE_* */
	unsigned char hash[32];
	double tokens, last; /* the rate limiter's bucket */
} key_entry;

enum { SCOPE_NONE = 0, SCOPE_INGEST = 1, SCOPE_READ = 2, SCOPE_ADMIN = 4 };

typedef struct key_cache {
	pthread_mutex_t mu;
	key_entry *keys;
	size_t n;
	double loaded_at; /* monotonic seconds; reloaded every second */
} key_cache;

/* Check "Bearer KEY": 0 and *scope, *key_id when it is a valid key; -1 unknown. */
int auth_check(tn_server *sv, const char *authorization, int *scope, int64_t *key_id);
/* Take one token of KEY_ID's bucket: 0 allowed, else the seconds to wait. */
int auth_rate(tn_server *sv, int64_t key_id);
void auth_free(key_cache *kc);
/* The scope of valid key KEY_ID now (SCOPE_NONE when revoked or unknown). */
int auth_key_scope(tn_server *sv, int64_t key_id);

/* ---- the writer ---- */
typedef struct write_job {
	tn_kind kind;
	struct cJSON *rows;     /* an array of objects (owned by the caller) */
	int status;             /* 200, 422, 500, 503 */
	tn_import_result res;
	long long updated;
	struct cJSON *details;  /* 422: [{index, field, message}] (owned by the job) */
	char message[TN_ERROR_MSG_MAX + 64];
	int done;
	struct write_job *next;
} write_job;

typedef struct writer {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	write_job *head, *tail;
	long depth;             /* jobs queued */
	int stopping;
	tn_store *store;
	tn_error first_error;   /* the first commit failure */
} writer;

int writer_start(tn_server *sv, tn_error *err);
/* Queue JOB and wait until it is committed or refused. */
void writer_submit(tn_server *sv, write_job *job);
void writer_stop(tn_server *sv);

/* ---- the server ---- */
struct tn_server {
	tn_server_opts o;
	char *db_path, *host;
	struct MHD_Daemon *daemon;
	unsigned port;
	char *tls_cert_pem, *tls_key_pem;
	atomic_long in_flight;
	/* reader connections, taken and given back by the HTTP threads */
	pthread_mutex_t pool_mu;
	tn_store **pool;
	size_t npool, cappool;
	key_cache keys;
	writer w;
	tn_metrics metrics;
	struct tn_web *web; /* the dashboard (src/web/web.h) */
};

tn_store *reader_take(tn_server *sv, tn_error *err);
void reader_give(tn_server *sv, tn_store *s);
double server_now(void);

/* ---- ingest ---- */
/* Parse a request body: a JSON array of objects, or JSON Lines when NDJSON.
 * On failure *rows is NULL and RS holds the 400/413 error. */
struct cJSON *ingest_parse(tn_server *sv, const tn_http_request *rq, int ndjson, tn_http_response *rs);

/* ---- responses ---- */
void respond_json(tn_http_response *rs, int status, struct cJSON *body); /* takes BODY */
void respond_error(tn_http_response *rs, int status, const char *code, const char *message,
		   struct cJSON *details); /* takes DETAILS */

#endif
