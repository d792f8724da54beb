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
	unsigned long long fast_rows; /* events that came through ingest_fast.c */
	unsigned long long commits;
	double commit_seconds;
	unsigned long long commit_hist[TN_LAT_BUCKETS + 1];
	unsigned long long folds, fold_failures; /* events journal folds (writer.c) */
	double fold_seconds;
	unsigned long long fold_steps; /* their transactions (tn_store_fold_step) */
	double fold_step_max;          /* the longest, seconds */
	double fold_cpu_seconds;       /* the writer thread's CPU time in fold steps */
	unsigned long long fold_rows;  /* the rows they moved into events */
	unsigned long long value_refits; /* the value model's builds (value.c), failed ones too */
	double value_refit_seconds;
} tn_metrics;

void metrics_init(tn_metrics *m);
void metrics_free(tn_metrics *m);
void metrics_request(tn_metrics *m, int route_class, const char *route, int status, double seconds);
void metrics_commit(tn_metrics *m, double seconds, unsigned long long rows, unsigned long long fast_rows);
/* The read cache's counters, for the text. */
typedef struct metrics_cache {
	unsigned long long hits, misses;
	size_t bytes;
} metrics_cache;
void metrics_fold(tn_metrics *m, double seconds, int ok);
void metrics_fold_step(tn_metrics *m, double seconds);
void metrics_value_refit(tn_metrics *m, double seconds);
void metrics_fold_cpu(tn_metrics *m, double cpu_seconds, long long moved);
/* Prometheus text exposition (malloc'ed). */
char *metrics_text(tn_metrics *m, long queue_depth, long in_flight, const metrics_cache *rc, size_t *len);

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
	double warned_at; /* the last "cannot read the API keys" on stderr */
} key_cache;

/* Check "Bearer KEY": 0 and *scope, *key_id when it is a valid key; -1
 * unknown; -2 the keys could not be read from the store (answer 503). */
int auth_check(tn_server *sv, const char *authorization, int *scope, int64_t *key_id);
/* Take one token of KEY_ID's bucket: 0 allowed, else the seconds to wait. */
int auth_rate(tn_server *sv, int64_t key_id);
void auth_free(key_cache *kc);
/* The scope of valid key KEY_ID now (SCOPE_NONE when revoked or unknown). */
int auth_key_scope(tn_server *sv, int64_t key_id);

/* ---- the writer ---- */
/* POST /v1/events parsed by ingest_fast.c: records whose strings point into
 * COPY, a private copy of the body. */
typedef struct fast_events {
	tn_event_rec *rec;
	size_t n, cap;
	char *copy;
} fast_events;

typedef struct write_job {
	tn_kind kind;
	struct cJSON *rows;     /* an array of objects (owned by the caller), or NULL when FAST */
	fast_events *fast;      /* events parsed by the fast path (owned by the caller), or NULL */
	const char *body;       /* FAST: the request body, for the general path when the writer */
	size_t body_len;        /*   finds a customer unknown to the store */
	size_t bytes;           /* the request body's size (http.c), for the writer's gathering cap */
	int ndjson;
	size_t nrows;
	int status;             /* 200, 422, 500, 503 */
	tn_import_result res;
	long long updated;
	struct cJSON *details;  /* 422: [{index, field, message}] (owned by the job) */
	/* run in the job's savepoint after its rows (ROWS may be NULL): the
	 * decisions, outcomes, invitations and survey rewards (decisions_route.c).
	 * TN_ERR_NOTFOUND answers 404, TN_ERR_INPUT 422, others 500. */
	int (*apply)(tn_store *s, void *ud, tn_error *err);
	void *apply_ud;
	/* answered before its commit (a decision): a failure to store it is the
	 * server's error (first_error), since no client hears of it */
	int answered;
	char message[TN_ERROR_MSG_MAX + 64];
	int done;
	/* asynchronous jobs (the HTTP layer): called by the writer thread once the
	 * job is answered; the job must not be touched by the writer after it */
	void (*on_done)(struct write_job *job);
	void *ud;
	const void *route;      /* routes.c: the route, for the answer's metrics */
	double t0;              /* when the request arrived */
	/* a job of its own kind (webhooks.c): its answer, and how to free it */
	void (*answer)(struct write_job *job, tn_http_response *rs);
	void (*release)(struct write_job *job);
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
	/* gathering a group (writer.c, group_wait): jobs and bytes queued and not
	 * taken yet, and the condition the gathering writer waits on (monotonic) */
	long queued;
	size_t qbytes;
	int gathering;
	pthread_cond_t gather;
	int idle;               /* waiting for work, its idle work done (tn_server_settle) */
	pthread_cond_t idled;
	tn_store *store;
	tn_error first_error;   /* the first commit failure */
	/* the WAL index header when the writer's transaction took the lock and
	 * after its commit (readcache_writer_commit); *_ok 0 when unknown */
	tn_store_mark txn_before, txn_after;
	int txn_before_ok, txn_after_ok;
} writer;

int writer_start(tn_server *sv, tn_error *err);
/* Queue JOB and wait until it is committed or refused. */
void writer_submit(tn_server *sv, write_job *job);
/* Queue JOB (job->on_done set) and return at once: the writer calls
 * on_done once the job's group is committed or failed (outside its lock;
 * the job is the callback's to free).  0 queued; -1 refused because the
 * server is stopping, -2 because the queue is full (job->status 503 and
 * job->message say so; on_done is not called, the caller still owns JOB). */
int writer_submit_async(tn_server *sv, write_job *job);
void writer_stop(tn_server *sv);

/* ---- the analysis routes' answers, kept until new data is committed ---- */
#define ACACHE_N 64
#define ACACHE_TTL 60.0 /* seconds: answers whose defaults depend on today's date age out */
typedef struct acache_entry {
	char *key;              /* route and query, or NULL */
	char *body;
	size_t len;
	unsigned long gen;      /* the store's generation it was computed at */
	double at;              /* monotonic seconds */
} acache_entry;

typedef struct acache {
	pthread_mutex_t mu;
	acache_entry e[ACACHE_N];
	size_t next;            /* the entry replaced next */
} acache;

/* ---- the value model for GET /v1/customers/{id} (value.c) ---- */
typedef struct value_model value_model;
typedef struct value_state {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	int inited, started, stopping;
	value_model *model;     /* the last one built, or NULL */
	int built;              /* a build was tried */
	unsigned long built_gen;
	double built_at;
} value_state;

int value_start(tn_server *sv, tn_error *err);
void value_stop(tn_server *sv);
/* The customer's value as a JSON object text (malloc'ed), or NULL: no model
 * yet, or the customer is not in it. */
char *value_json(tn_server *sv, const char *ext_id);

/* ---- GET /v1/customers/{id}'s answers (readcache.c) ---- */
typedef struct readcache readcache;
/* NULL when MAX_BYTES is 0 (off) or out of memory. */
readcache *readcache_new(size_t max_bytes);
void readcache_free(readcache *c);
/* The epoch to read at: CHANGED (the reader connection's data version moved,
 * or is unknown) starts a new one first.  Take it before the read's snapshot. */
unsigned long readcache_epoch(readcache *c, int changed);
/* The same from the WAL index's header now (NULL: unknown, a change).  A
 * header the server's writer published for its own commit
 * (readcache_writer_commit) is no change: that commit dropped the answers it
 * touched itself. */
unsigned long readcache_epoch_mark(readcache *c, const tn_store_mark *mark);
/* ID's version: moved by the writer's commits that touch ID (take it with
 * the epoch, before the read's snapshot). */
unsigned readcache_cver(readcache *c, const char *id);
/* The writer, after a commit that touched ID, before publishing it: ID's
 * answer is dropped. */
void readcache_touch(readcache *c, const char *id);
/* The same for an event of ID at AT of TYPE the commit added (or found
 * there): ID's answer is brought up to date (last_event_at, milestones). */
void readcache_event(readcache *c, const char *id, int64_t at, const char *type);
/* The writer's transaction took the write lock at header BEFORE (NULL:
 * unknown): until it publishes, a header one commit on is its own. */
void readcache_writer_begin(readcache *c, const tn_store_mark *before);
/* The writer's commit, between marks BEFORE (taken when its transaction
 * took the write lock) and AFTER (after COMMIT); either NULL when unknown.
 * GLOBAL: it may have changed any answer (also after a failed commit).  A
 * commit by anyone else since the writer's last one (BEFORE is not its last
 * AFTER) also drops every answer. */
void readcache_writer_commit(readcache *c, const tn_store_mark *before, const tn_store_mark *after, int global);
/* 1 with RS filled (200) when ID's answer at EPOCH is kept and NOW is before
 * its end; an answer of an older value model than VVER takes the value
 * VALUE_FN(UD, ID) gives (malloc'ed JSON or NULL) and is served. */
int readcache_get(readcache *c, const char *id, unsigned long epoch, unsigned long vver, int64_t now,
		  char *(*value_fn)(void *ud, const char *id), void *ud, tn_http_response *rs);
/* Keep ID's answer, read at EPOCH, CV, VVER, served until UNTIL: its parts P
 * and VALUE (both taken: freed or kept; the answer is rendered from them). */
void readcache_put(readcache *c, const char *id, unsigned long epoch, unsigned cv, unsigned long vver,
		   int64_t until, tn_customer_parts *p, char *value);
void readcache_stats(readcache *c, unsigned long long *hits, unsigned long long *misses, size_t *bytes);

/* What a reader connection last saw of PRAGMA data_version (readcache.c's
 * check); touched only by the thread holding the connection. */
typedef struct reader_seen {
	tn_store *s;  /* NULL: closed */
	int64_t dv;
	int known;
} reader_seen;
#define READERS_SEEN 256

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
	reader_seen seen[READERS_SEEN]; /* every reader opened (pool_mu), at most READERS_SEEN */
	size_t nseen;
	readcache *reads;        /* GET /v1/customers/{id}'s answers, or NULL (off) */
	_Atomic(tn_store_watch *) watch; /* the WAL index's header (store_change.c), once mapped */
	pthread_mutex_t watch_mu;
	double watch_tried;      /* monotonic seconds of the last try to map it */
	atomic_ulong value_version; /* bumped each time value.c installs a model */
	key_cache keys;
	writer w;
	tn_metrics metrics;
	struct decide_state *decide; /* decisions_route.c: the decider, loaded on first use */
	atomic_ulong generation; /* bumped by each commit that changed data */
	/* bumped by each commit that may have changed the value model's input
	 * (value.c): any change but events of other types than purchases */
	atomic_ulong value_generation;
	acache analyses;
	value_state value;
	struct webhooks *webhooks; /* webhooks.c: the loaded sources */
	struct tn_web *web; /* the dashboard (src/web/web.h) */
};

tn_store *reader_take(tn_server *sv, tn_error *err);
/* The store's WAL index, mapped on first use (NULL: none yet; tried at most
 * once a second). */
tn_store_watch *server_watch(tn_server *sv);
/* The same, and what the connection last saw of the data version (NULL
 * when not tracked: more than READERS_SEEN readers). */
tn_store *reader_take_seen(tn_server *sv, reader_seen **seen, tn_error *err);
void reader_give(tn_server *sv, tn_store *s);
double server_now(void);
/* malloc_trim(0) on glibc (nothing elsewhere): every arena's free pages back
 * to the kernel, so RSS follows the bytes in use (writer.c says why a heap
 * keeps them otherwise). */
void server_trim(void);

/* ---- ingest ---- */
/* The fast path for events (ingest_fast.c): 1 parsed into FE (free with
 * fast_events_free), 0 not a body for the fast path (FE empty), -1 out of
 * memory. */
int ingest_events_fast(const char *body, size_t n, int ndjson, size_t max_items, fast_events *fe);
void fast_events_free(fast_events *fe);
/* A body known to be well-formed (the fast path read it) as cJSON rows, or
 * NULL when out of memory. */
struct cJSON *ingest_parse_rows(const char *body, size_t n, int ndjson);
/* Parse a request body: a JSON array of objects, or JSON Lines when NDJSON.
 * On failure *rows is NULL and RS holds the 400/413 error. */
struct cJSON *ingest_parse(tn_server *sv, const tn_http_request *rq, int ndjson, tn_http_response *rs);

/* ---- decisions and surveys (decisions_route.c) ---- */
enum { DECIDE_POST, DECIDE_OUTCOME, DECIDE_SURVEY };
/* POST /v1/decisions, POST /v1/decisions/{id}/outcome, GET /v1/customers/{id}/survey;
 * REST is the path after the pattern's brace. */
void decisions_route(tn_server *sv, int which, const char *rest, const tn_http_request *rq, tn_http_response *rs);
/* The writer job's hook for POST /v1/feedback: survey answers credit their reward. */
int decisions_feedback_apply(tn_store *s, void *rows, tn_error *err);
void decisions_free(tn_server *sv);
/* ---- asynchronous writes (http.c) ---- */
/* Like tn_server_handle, but a write that passed its checks is not run:
 * returns 1 with *JOB (malloc'ed, its rows parsed) for the caller to queue
 * with writer_submit_async, then to answer with server_finish_write; 0 when
 * RS holds the answer already. */
int server_handle_begin(tn_server *sv, const tn_http_request *rq, tn_http_response *rs, write_job **job);
/* The answer to a job that went through the writer; frees the job. */
void server_finish_write(tn_server *sv, write_job *job, tn_http_response *rs);
void write_job_free(write_job *job);
/* ---- webhooks (webhooks.c): POST /v1/webhooks/{appstore,googleplay,stripe,revenuecat} ---- */
/* Verify the notification: 1 with *JOB for the writer (answered after its
 * group commit, like any write), 0 when RS holds the refusal. */
int webhook_prepare(tn_server *sv, int kind, const tn_http_request *rq, tn_http_response *rs, write_job **job);
void webhooks_free(tn_server *sv);

/* ---- responses ---- */
void respond_json(tn_http_response *rs, int status, struct cJSON *body); /* takes BODY */
void respond_error(tn_http_response *rs, int status, const char *code, const char *message,
		   struct cJSON *details); /* takes DETAILS */

/* ---- unsubscribe.c: GET/POST /v1/unsubscribe?c=CUSTOMER&ch=CHANNEL&t=TOKEN ---- */
void do_unsubscribe(tn_server *sv, const tn_http_request *rq, tn_http_response *rs);

#endif
