/*
 * http.c -- the server's life and its libmicrohttpd glue.
 *
 * tn_server_new opens the store in WAL mode and starts the writer;
 * tn_server_listen starts libmicrohttpd with a thread pool polling with
 * poll(2) (not epoll: see the flags), the connection limits, the
 * per-address limit, the idle timeout and optionally TLS (GnuTLS inside
 * libmicrohttpd).  A request's body is
 * collected up to max_body (beyond it the rest is read and dropped, and the
 * answer is 413; a Content-Length above it is answered 413 at once), then
 * handed with the headers to tn_server_handle.  tn_server_quiesce stops
 * accepting, waits for the requests in flight and stops the daemon.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double server_now(void) { return tn_mono(); }

void server_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* ---- reader connections ----------------------------------------------------- */

tn_store *reader_take_seen(tn_server *sv, reader_seen **seen, tn_error *err)
{
	*seen = NULL;
	pthread_mutex_lock(&sv->pool_mu);
	tn_store *s = sv->npool ? sv->pool[--sv->npool] : NULL;
	for (size_t i = 0; s && i < sv->nseen && !*seen; i++)
		if (sv->seen[i].s == s)
			*seen = &sv->seen[i];
	pthread_mutex_unlock(&sv->pool_mu);
	if (s)
		return s;
	if (tn_store_open(sv->db_path, TN_STORE_LIVE, &s, err))
		return NULL;
	if (tn_store_reader(s, err)) {
		tn_store_close(s);
		return NULL;
	}
	pthread_mutex_lock(&sv->pool_mu);
	for (size_t i = 0; i < sv->nseen && !*seen; i++) /* a closed reader's place */
		if (!sv->seen[i].s)
			*seen = &sv->seen[i];
	if (!*seen && sv->nseen < READERS_SEEN)
		*seen = &sv->seen[sv->nseen++];
	if (*seen)
		**seen = (reader_seen){s, 0, 0}; /* a new connection: its data version is unknown */
	pthread_mutex_unlock(&sv->pool_mu);
	return s;
}

tn_store *reader_take(tn_server *sv, tn_error *err)
{
	reader_seen *seen;
	return reader_take_seen(sv, &seen, err);
}

tn_store_watch *server_watch(tn_server *sv)
{
	tn_store_watch *w = atomic_load(&sv->watch);
	if (w)
		return w;
	pthread_mutex_lock(&sv->watch_mu);
	double now = server_now();
	if (!(w = atomic_load(&sv->watch)) && now - sv->watch_tried >= 1.0) {
		sv->watch_tried = now;
		if (tn_store_watch_open(sv->db_path, &w, NULL) == TN_OK)
			atomic_store(&sv->watch, w);
	}
	pthread_mutex_unlock(&sv->watch_mu);
	return w;
}

/* Close reader S for good (pool_mu held): it is no longer tracked. */
static void reader_close(tn_server *sv, tn_store *s)
{
	for (size_t i = 0; i < sv->nseen; i++)
		if (sv->seen[i].s == s)
			sv->seen[i] = (reader_seen){NULL, 0, 0};
	tn_store_close(s);
}

void reader_give(tn_server *sv, tn_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&sv->pool_mu);
	if (sv->npool == sv->cappool) {
		size_t cap = sv->cappool ? sv->cappool * 2 : 16;
		tn_store **p = tn_realloc(sv->pool, cap * sizeof *p);
		if (!p) {
			reader_close(sv, s);
			pthread_mutex_unlock(&sv->pool_mu);
			return;
		}
		sv->pool = p;
		sv->cappool = cap;
	}
	sv->pool[sv->npool++] = s;
	pthread_mutex_unlock(&sv->pool_mu);
}

/* ---- life ---------------------------------------------------------------------- */

int tn_server_new(const tn_server_opts *o, tn_server **out, tn_error *err)
{
	*out = NULL;
	tn_server *sv = tn_calloc(1, sizeof *sv);
	if (!sv)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	sv->o = *o;
	sv->db_path = tn_strdup(o->db_path ? o->db_path : "tenure.db");
	sv->host = tn_strdup(o->host ? o->host : "127.0.0.1");
	pthread_mutex_init(&sv->pool_mu, NULL);
	pthread_mutex_init(&sv->keys.mu, NULL);
	pthread_mutex_init(&sv->analyses.mu, NULL);
	atomic_init(&sv->generation, 0);
	atomic_init(&sv->value_generation, 0);
	atomic_init(&sv->value_version, 0);
	atomic_init(&sv->watch, NULL);
	pthread_mutex_init(&sv->watch_mu, NULL);
	sv->watch_tried = -1e9;
	/* the read cache needs SQLite's data_version (routes.c do_customer) */
	if (!o->no_read_cache)
		sv->reads = readcache_new(o->read_cache ? o->read_cache : (size_t)128 << 20);
	metrics_init(&sv->metrics);
	atomic_init(&sv->in_flight, 0);
	*out = sv;
	if (!sv->db_path || !sv->host)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	/* opened without TN_STORE_LIVE: events left in the journal by a crash are
	 * folded first; then the writer appends to the journal */
	if (tn_store_open(sv->db_path, TN_STORE_CREATE, &sv->w.store, err) || tn_store_wal(sv->w.store, err) ||
	    tn_store_journal(sv->w.store, 1, err))
		return tn_error_code(err, TN_ERR_DB);
	if (web_new(sv, err))
		return tn_error_code(err, TN_ERR_NOMEM);
	if (writer_start(sv, err))
		return tn_error_code(err, TN_ERR_IO);
	return o->value_refresh < 0 ? TN_OK : value_start(sv, err);
}

int tn_server_free(tn_server *sv, tn_error *err)
{
	if (!sv)
		return TN_OK;
	tn_server_quiesce(sv);
	value_stop(sv);
	writer_stop(sv);
	decisions_free(sv);
	web_free(sv->web);
	int rc = TN_OK;
	if (sv->w.first_error.code)
		rc = tn_error_set(err, sv->w.first_error.code, "%s", sv->w.first_error.msg);
	tn_store_close(sv->w.store);
	for (size_t i = 0; i < sv->npool; i++)
		tn_store_close(sv->pool[i]);
	free(sv->pool);
	readcache_free(sv->reads);
	tn_store_watch_close(atomic_load(&sv->watch));
	pthread_mutex_destroy(&sv->watch_mu);
	auth_free(&sv->keys);
	webhooks_free(sv);
	metrics_free(&sv->metrics);
	pthread_mutex_destroy(&sv->pool_mu);
	pthread_mutex_destroy(&sv->keys.mu);
	for (size_t i = 0; i < ACACHE_N; i++) {
		free(sv->analyses.e[i].key);
		free(sv->analyses.e[i].body);
	}
	pthread_mutex_destroy(&sv->analyses.mu);
	free(sv->tls_cert_pem);
	free(sv->tls_key_pem);
	free(sv->db_path);
	free(sv->host);
	free(sv);
	return rc;
}

unsigned tn_server_port(const tn_server *sv) { return sv->port; }

/* ---- libmicrohttpd ---------------------------------------------------------- */

typedef struct conn_state {
	char *body;
	size_t len, cap;
	int too_large;
	const char **query;
	size_t nquery, capq;
	/* a write waiting for its group commit: the connection is suspended
	 * (no HTTP thread waits) until the writer resumes it */
	struct MHD_Connection *conn;
	write_job *job;
	atomic_int job_done;
} conn_state;

/* The writer thread, after the commit: wake the connection; libmicrohttpd
 * calls on_request again, which answers. */
static void write_done(write_job *job)
{
	conn_state *st = job->ud;
	atomic_store(&st->job_done, 1);
	MHD_resume_connection(st->conn);
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	conn_state *st = cls;
	if (st->nquery == st->capq) {
		size_t cap = st->capq ? st->capq * 2 : 8;
		if (cap > 256)
			return MHD_NO; /* enough parameters */
		const char **p = tn_realloc(st->query, 2 * cap * sizeof *p);
		if (!p)
			return MHD_NO;
		st->query = p;
		st->capq = cap;
	}
	st->query[2 * st->nquery] = key;
	st->query[2 * st->nquery + 1] = value;
	st->nquery++;
	return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *c, tn_http_response *rs)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(rs->len, rs->body ? rs->body : (char *)"", MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type ? rs->content_type : "application/json");
	if (rs->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rs->allow);
	if (rs->www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (rs->retry_after) {
		char buf[24];
		snprintf(buf, sizeof buf, "%d", rs->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
	}
	/* the dashboard's headers (src/web): one "Name: value" a line */
	for (char *h = rs->headers; h && *h;) {
		char *nl = strchr(h, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(h, ':');
		if (colon) {
			char *v = colon + 1;
			*colon = '\0';
			while (*v == ' ')
				v++;
			MHD_add_response_header(r, h, v);
		}
		h = nl ? nl + 1 : h + strlen(h);
	}
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Each connection's memory pool: the request line, headers and read buffer
 * (the body is handed over in pieces, so it is not bounded by this).
 * libmicrohttpd zeroes the used part of the pool between requests on a
 * kept-alive connection; 16 KiB instead of its default 32 KiB halves that and
 * measured 78-79 us of server CPU per Stripe webhook against 85-106
 * (bench_sources.sh, back to back, load 18).  Headers above it are refused
 * with 431, as nginx does beyond 8 KiB a header line. */
#define CONN_MEMORY ((size_t)16 << 10)

static size_t max_body(const tn_server *sv) { return sv->o.max_body ? sv->o.max_body : (size_t)16 << 20; }

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	tn_server *sv = cls;
	conn_state *st = *con_cls;
	if (!st) {
		st = tn_calloc(1, sizeof *st);
		if (!st)
			return MHD_NO;
		*con_cls = st;
		atomic_fetch_add(&sv->in_flight, 1);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || n > max_body(sv))
				st->too_large = 1;
			else if (n > 0 && n < 65536) {
				/* a small body's own size (a webhook's few hundred bytes): the
				 * 4 KiB first buffer below is a large-chunk malloc for glibc
				 * (~2,000 instructions of a Stripe webhook under callgrind).
				 * Larger bodies grow as they arrive (no buffer the size a
				 * client claims before it sends). */
				st->body = tn_malloc((size_t)n + 1);
				if (!st->body)
					return MHD_NO;
				st->body[0] = '\0';
				st->cap = (size_t)n + 1;
			}
		}
		if (!st->too_large)
			return MHD_YES;
		/* answer 413 before reading the body */
	} else if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (st->too_large)
			return MHD_YES;
		if (st->len + n > max_body(sv)) {
			st->too_large = 1;
			free(st->body);
			st->body = NULL;
			st->len = st->cap = 0;
			return MHD_YES;
		}
		if (st->len + n + 1 > st->cap) {
			size_t cap = st->cap ? st->cap : 4096;
			while (cap < st->len + n + 1)
				cap *= 2;
			char *p = tn_realloc(st->body, cap);
			if (!p)
				return MHD_NO;
			st->body = p;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload_data, n);
		st->len += n;
		st->body[st->len] = '\0';
		return MHD_YES;
	}
	tn_http_response rs;
	if (st->job) { /* resumed: the write is committed (or refused) */
		if (!atomic_load(&st->job_done))
			return MHD_YES; /* not ours to answer yet */
		write_job *job = st->job;
		st->job = NULL;
		server_finish_write(sv, job, &rs);
		enum MHD_Result ok = send_response(c, &rs);
		tn_http_response_free(&rs);
		return ok;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, st);
	tn_http_request rq = {
		.method = method,
		.path = url,
		.query = st->query,
		.nquery = st->nquery,
		.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = st->body,
		.body_len = st->len,
		.body_too_large = st->too_large,
		.signature = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Stripe-Signature"),
		.cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
	};
	write_job *job = NULL;
	if (server_handle_begin(sv, &rq, &rs, &job)) {
		/* suspend first: the writer may answer before this function returns */
		st->job = job;
		st->conn = c;
		job->on_done = write_done;
		job->ud = st;
		job->bytes = st->len;
		MHD_suspend_connection(c);
		if (writer_submit_async(sv, job) == 0)
			return MHD_YES;
		/* refused (shutting down): answer now */
		MHD_resume_connection(c);
		atomic_store(&st->job_done, 1);
		return MHD_YES;
	}
	enum MHD_Result ok = send_response(c, &rs);
	tn_http_response_free(&rs);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)c;
	(void)toe;
	tn_server *sv = cls;
	conn_state *st = *con_cls;
	if (!st)
		return;
	write_job_free(st->job); /* a connection closed before its answer */
	free(st->body);
	free(st->query);
	free(st);
	*con_cls = NULL;
	atomic_fetch_sub(&sv->in_flight, 1);
}

static char *read_file(const char *path, tn_error *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		tn_error_set(err, TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 20)) {
				fclose(fp);
				free(buf);
				tn_error_set(err, TN_ERR_INPUT, "%s: larger than 1 MiB: not a PEM file", path);
				return NULL;
			}
			char *p = tn_realloc(buf, cap);
			if (!p) {
				fclose(fp);
				free(buf);
				tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				return NULL;
			}
			buf = p;
		}
		size_t k = fread(buf + n, 1, 4096, fp);
		n += k;
		if (k < 4096)
			break;
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		free(buf);
		tn_error_set(err, TN_ERR_IO, "%s: read error", path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int tn_server_listen(tn_server *sv, tn_error *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	char port[16];
	snprintf(port, sizeof port, "%u", sv->o.port);
	int gai = getaddrinfo(sv->host, port, &hints, &ai);
	if (gai != 0 || !ai)
		return tn_error_set(err, TN_ERR_USAGE, "--listen %s: cannot resolve the address: %s", sv->host,
				    gai_strerror(gai));
#ifdef __GLIBC__
	/* a server's threads allocate and free request-sized blocks all day:
	 * glibc would give the top of each thread's heap back to the kernel after
	 * every burst and fault the pages in again on the next (measured: 12-15%
	 * of the CPU of a webhook, docs/sources.md); keep up to 64 MB a heap */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
#endif
	/* poll(2), not epoll: a webhook waits for its group commit suspended, and
	 * in epoll mode libmicrohttpd 0.9.75 takes a suspended connection out of
	 * the thread's epoll set and puts it back on resume (two epoll_ctl) and,
	 * edge-triggered, reads a kept-alive socket until EAGAIN; with poll a
	 * suspended connection is simply left out of the next poll.  Measured 4.0
	 * system calls a Stripe webhook on the HTTP threads against 6.6, and
	 * 0.89x the server's CPU (docs/performance.md, "Webhooks through the
	 * server").  The connection counts stay small (a pool of a few threads,
	 * CONNECTION_LIMIT 1024 spread over them), which poll handles well. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	int tls = sv->o.tls_cert || sv->o.tls_key;
	if (tls) {
		if (!sv->o.tls_cert || !sv->o.tls_key) {
			freeaddrinfo(ai);
			return tn_error_set(err, TN_ERR_USAGE, "--tls-cert and --tls-key go together");
		}
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			freeaddrinfo(ai);
			return tn_error_set(err, TN_ERR_USAGE, "this libmicrohttpd was built without TLS");
		}
		if (!(sv->tls_cert_pem = read_file(sv->o.tls_cert, err)) ||
		    !(sv->tls_key_pem = read_file(sv->o.tls_key, err))) {
			freeaddrinfo(ai);
			return tn_error_code(err, TN_ERR_IO);
		}
		flags |= MHD_USE_TLS;
	}
	/* writes wait for their commit without a thread (suspended), so the
	 * pool is sized for the CPU: two a core, for the reads and analyses */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = sv->o.threads ? sv->o.threads : ncpu > 0 && ncpu < 32 ? (unsigned)(2 * ncpu) : 4;
	struct sockaddr_storage addr;
	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	struct MHD_OptionItem tls_opts[] = {
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, sv->tls_cert_pem},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, sv->tls_key_pem},
		{MHD_OPTION_END, 0, NULL},
	};
	sv->daemon = MHD_start_daemon(
		flags, (uint16_t)sv->o.port, NULL, NULL, on_request, sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
		sv->o.max_conns ? sv->o.max_conns : 1024u, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		sv->o.per_ip ? sv->o.per_ip : 256u, MHD_OPTION_CONNECTION_TIMEOUT, sv->o.timeout ? sv->o.timeout : 30u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, sv, MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY,
		MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
	if (!sv->daemon)
		return tn_error_set(err, TN_ERR_IO, "cannot listen on %s:%u (address in use, or a bad TLS certificate/key?)",
				    sv->host, sv->o.port);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	sv->port = info ? info->port : sv->o.port;
	return TN_OK;
}

void tn_server_quiesce(tn_server *sv)
{
	web_stop(sv->web); /* no page will want the dashboard's values: its analysis in progress is cancelled */
	if (!sv->daemon)
		return;
	/* The listening socket is ours once quiesced, but libmicrohttpd's threads
	 * may still hold it: in poll(2) mode each worker learns of the quiesce
	 * only when it next wakes (its poll() may be running with the socket in
	 * its set, or be about to accept() on it).  Closed before
	 * MHD_stop_daemon, its number could be reused by the next file or socket
	 * opened while the workers still use it; libmicrohttpd's manual says to
	 * close it only after MHD_stop_daemon in every threaded mode. */
	MHD_socket fd = MHD_quiesce_daemon(sv->daemon);
	/* finish what is in flight (a write waits for its commit), at most a minute */
	for (int i = 0; i < 6000 && atomic_load(&sv->in_flight) > 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	MHD_stop_daemon(sv->daemon);
	sv->daemon = NULL;
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}
