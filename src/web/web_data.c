/*
 * web_data.c -- the analyses behind the pages, run in-process with the
 * library on the server's store, and cached.
 *
 * A cached value is keyed by what it is (kind and argument) and stamped with
 * the store's data stamp: the size and modification time of the database
 * file and of its write-ahead log.  Any commit -- an ingest through the
 * server, an import by the CLI -- changes the stamp.
 *
 * Only the warming thread computes.  It is started by the first dashboard
 * request, computes the values pages asked for and the pages' usual values,
 * and whenever the stamp moves recomputes every cached value; meanwhile pages
 * are served the previous values with their "as of" time, so a page's data
 * never waits for an analysis once it has been computed ("refreshed when data
 * arrive").  A value never computed yet (a new "by" attribute, the first view
 * after start) is registered as wanted: the page waits for it at most
 * TENURE_WEB_WAIT_MS (default 1,000 ms) with the cache's lock released, so
 * other pages go on being served, and then shows "being computed" (with a
 * Refresh header) for what is still missing.  On 1,000,000 customers a cold
 * analysis takes seconds: no page ever computes one under the lock.
 *
 * One mutex is held while a page is built: pages read cached values without
 * copying them, and the warming thread swaps in a new value only under it.
 */
#include "web/web_internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_ENTRIES 64

typedef struct entry {
	char key[160];
	char kind[32], arg[128];
	int has_arg;
	long long stamp;
	double computed_at; /* the wall clock (s since 1970) when DATA was computed */
	double took;        /* seconds its computation took */
	void *data;         /* NULL: wanted by a page, not computed yet */
	web_make_fn make;
	void (*drop)(void *);
	double used;
	int failed;    /* its last computation failed (MSG) on STAMP's data */
	char msg[TN_ERROR_MSG_MAX];
} entry;

struct web_cache {
	pthread_mutex_t mu;
	pthread_cond_t ready; /* signalled (under mu) when a value is put */
	entry e[MAX_ENTRIES];
	size_t n;
	tn_store *store; /* the pages' connection, opened on first use */
	char *db_path;
	/* the warming thread */
	pthread_t thread;
	int started, stopping, kicked;
	pthread_mutex_t wmu;
	pthread_cond_t wake;
};

web_cache *web_cache_new(const char *db_path)
{
	web_cache *wc = tn_calloc(1, sizeof *wc);
	if (!wc)
		return NULL;
	if (!(wc->db_path = tn_strdup(db_path))) {
		free(wc);
		return NULL;
	}
	pthread_mutex_init(&wc->mu, NULL);
	pthread_cond_init(&wc->ready, NULL);
	pthread_mutex_init(&wc->wmu, NULL);
	pthread_cond_init(&wc->wake, NULL);
	return wc;
}

void web_cache_free(web_cache *wc)
{
	if (!wc)
		return;
	pthread_mutex_lock(&wc->wmu);
	wc->stopping = 1;
	pthread_cond_broadcast(&wc->wake);
	int started = wc->started;
	pthread_mutex_unlock(&wc->wmu);
	if (started) /* it finishes the analysis it is in, then stops */
		pthread_join(wc->thread, NULL);
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].drop)
			wc->e[i].drop(wc->e[i].data);
	tn_store_close(wc->store);
	pthread_cond_destroy(&wc->wake);
	pthread_cond_destroy(&wc->ready);
	pthread_mutex_destroy(&wc->wmu);
	pthread_mutex_destroy(&wc->mu);
	free(wc->db_path);
	free(wc);
}

static unsigned long long file_stamp(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (unsigned long long)st.st_size * 1000003ULL + (unsigned long long)st.st_mtim.tv_sec * 1000000007ULL +
	       (unsigned long long)st.st_mtim.tv_nsec;
}

/* the database's and the WAL's size and time, mixed (wrapping) into one number */
static long long stamp_of(const char *db_path)
{
	char wal[1100];
	snprintf(wal, sizeof wal, "%s-wal", db_path);
	unsigned long long v = file_stamp(db_path) ^ (file_stamp(wal) * 31ULL);
	return (long long)(v >> 1);
}

long long web_data_stamp(web_ctx *c) { return stamp_of(c->sv->db_path); }

void web_data_begin(web_ctx *c) { pthread_mutex_lock(&web_cache_of(c->w)->mu); }
void web_data_end(web_ctx *c) { pthread_mutex_unlock(&web_cache_of(c->w)->mu); }

static void make_key(char *key, size_t n, const char *kind, const char *arg)
{
	snprintf(key, n, "%s|%s", kind, arg ? arg : "");
}

static entry *find(web_cache *wc, const char *key)
{
	for (size_t i = 0; i < wc->n; i++)
		if (strcmp(wc->e[i].key, key) == 0)
			return &wc->e[i];
	return NULL;
}

_Thread_local long long web_make_stamp;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The entry for KIND/ARG (mu held), added empty when absent: evicts the
 * least recently used value when the table is full.  NULL when full of
 * values pages wanted and that are not computed yet. */
static entry *slot(web_cache *wc, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *))
{
	char key[160];
	make_key(key, sizeof key, kind, arg);
	entry *e = find(wc, key);
	if (e)
		return e;
	if (wc->n == MAX_ENTRIES) { /* drop the least recently used */
		size_t lru = MAX_ENTRIES;
		for (size_t i = 0; i < wc->n; i++)
			if (wc->e[i].data && (lru == MAX_ENTRIES || wc->e[i].used < wc->e[lru].used))
				lru = i;
		if (lru == MAX_ENTRIES)
			return NULL;
		if (wc->e[lru].drop)
			wc->e[lru].drop(wc->e[lru].data);
		wc->e[lru] = wc->e[--wc->n];
	}
	e = &wc->e[wc->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->key, sizeof e->key, "%s", key);
	snprintf(e->kind, sizeof e->kind, "%s", kind);
	e->has_arg = arg != NULL;
	snprintf(e->arg, sizeof e->arg, "%s", arg ? arg : "");
	e->used = server_now();
	e->stamp = -1;
	e->make = make;
	e->drop = drop;
	return e;
}

/* Put D under KEY (mu held), replacing an older value; wakes the pages
 * waiting for it. */
static void put(web_cache *wc, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *), void *d,
		long long stamp, double took)
{
	entry *e = slot(wc, kind, arg, make, drop);
	if (!e) { /* cannot happen: the thread computes only what has a slot */
		if (drop)
			drop(d);
		return;
	}
	if (e->data && e->drop)
		e->drop(e->data);
	e->stamp = stamp;
	e->data = d;
	e->make = make;
	e->drop = drop;
	e->computed_at = wall_now();
	e->took = took;
	e->failed = 0;
	pthread_cond_broadcast(&wc->ready);
}

/* ---- the warming thread ---------------------------------------------------- */

static void *warm_main(void *p)
{
	web_cache *wc = p;
	tn_store *s = NULL;
	for (;;) {
		pthread_mutex_lock(&wc->wmu);
		if (wc->stopping) {
			pthread_mutex_unlock(&wc->wmu);
			break;
		}
		pthread_mutex_unlock(&wc->wmu);
		if (!s) {
			tn_error err = {0};
			if (tn_store_open(wc->db_path, TN_STORE_LIVE, &s, &err))
				s = NULL;
		}
		long long stamp = stamp_of(wc->db_path);
		/* one missing or stale value at a time: those a page waits for
		 * first, then the usual ones, then the other stale ones */
		char kind[32] = "", arg[128] = "";
		int has_arg = 0;
		web_make_fn make = NULL;
		void (*drop)(void *) = NULL;
		pthread_mutex_lock(&wc->mu);
		for (size_t i = 0; i < wc->n && !make; i++)
			if (!wc->e[i].data && wc->e[i].stamp != stamp) {
				snprintf(kind, sizeof kind, "%s", wc->e[i].kind);
				snprintf(arg, sizeof arg, "%s", wc->e[i].arg);
				has_arg = wc->e[i].has_arg;
				make = wc->e[i].make;
				drop = wc->e[i].drop;
			}
		for (size_t i = 0; i < web_nwarm && !make; i++) {
			char key[160];
			make_key(key, sizeof key, web_warm[i].kind, web_warm[i].arg);
			entry *e = find(wc, key);
			if (!e || e->stamp != stamp) {
				snprintf(kind, sizeof kind, "%s", web_warm[i].kind);
				snprintf(arg, sizeof arg, "%s", web_warm[i].arg ? web_warm[i].arg : "");
				has_arg = web_warm[i].arg != NULL;
				make = web_warm[i].make;
				drop = web_warm[i].drop;
			}
		}
		for (size_t i = 0; i < wc->n && !make; i++)
			if (wc->e[i].stamp != stamp) {
				snprintf(kind, sizeof kind, "%s", wc->e[i].kind);
				snprintf(arg, sizeof arg, "%s", wc->e[i].arg);
				has_arg = wc->e[i].has_arg;
				make = wc->e[i].make;
				drop = wc->e[i].drop;
			}
		pthread_mutex_unlock(&wc->mu);
		if (make && s) {
			tn_error err = {0};
			web_make_stamp = stamp;
			double t0 = server_now(), c0 = thread_cpu();
			void *d = make(s, has_arg ? arg : NULL, &err);
			double took = server_now() - t0;
			/* one line per computation: what the dashboard costs, in wall
			 * and CPU seconds (bench/bench_dashboard.sh reads it) */
			fprintf(stderr, "tenure serve: dashboard %s|%s computed in %.3f s (%.3f s CPU)%s%s\n", kind, arg,
				took, thread_cpu() - c0, d ? "" : ", failed: ", d ? "" : err.msg);
			pthread_mutex_lock(&wc->mu);
			if (d)
				put(wc, kind, has_arg ? arg : NULL, make, drop, d, stamp, took);
			else { /* keep what pages have; try again when the data move */
				entry *e = slot(wc, kind, has_arg ? arg : NULL, make, drop);
				if (e) {
					e->stamp = stamp;
					e->failed = 1;
					snprintf(e->msg, sizeof e->msg, "%s", err.msg);
				}
				pthread_cond_broadcast(&wc->ready);
			}
			pthread_mutex_unlock(&wc->mu);
			continue;
		}
		/* nothing to do: look at the stamp again in a second (or when a
		 * page wants a value) */
		pthread_mutex_lock(&wc->wmu);
		if (!wc->stopping && !wc->kicked) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wc->wake, &wc->wmu, &ts);
		}
		wc->kicked = 0;
		pthread_mutex_unlock(&wc->wmu);
	}
	web_pages_thread_end();
	tn_store_close(s);
	return NULL;
}

static void start(web_cache *wc)
{
	pthread_mutex_lock(&wc->wmu);
	if (!wc->started && !wc->stopping && pthread_create(&wc->thread, NULL, warm_main, wc) == 0)
		wc->started = 1;
	wc->kicked = 1;
	pthread_cond_broadcast(&wc->wake);
	pthread_mutex_unlock(&wc->wmu);
}

void web_data_warm(web_ctx *c) { start(web_cache_of(c->w)); }

/* ---- the pages' side ----------------------------------------------------------- */

void *web_data(web_ctx *c, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *), tn_error *err)
{
	web_cache *wc = web_cache_of(c->w);
	entry *e = slot(wc, kind, arg, make, drop);
	if (e && e->data) {
		/* stale values are served while the warming thread recomputes them */
		e->used = server_now();
		if (c->as_of == 0 || e->computed_at < c->as_of)
			c->as_of = e->computed_at;
		return e->data;
	}
	if (e && e->failed && e->stamp == web_data_stamp(c)) {
		tn_error_set(err, TN_ERR_INPUT, "%s", e->msg[0] ? e->msg : "?");
		return NULL;
	}
	/* wanted: the warming thread computes it; the page says so */
	c->computing++;
	start(wc);
	tn_error_set(err, TN_ERR_INPUT, "%s", T(c, S_COMPUTING));
	return NULL;
}

int web_data_wait(web_ctx *c, double until)
{
	web_cache *wc = web_cache_of(c->w);
	double now = server_now();
	if (now >= until)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double left = until - now;
	long long ns = (long long)ts.tv_nsec + (long long)((left - (double)(long long)left) * 1e9);
	ts.tv_sec += (time_t)left + (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	/* mu is held (web_data_begin): the wait releases it, so other pages
	 * are served and the warming thread can put its value */
	pthread_cond_timedwait(&wc->ready, &wc->mu, &ts);
	return 1;
}

void web_data_forget(web_ctx *c, const char *kind)
{
	web_cache *wc = web_cache_of(c->w);
	pthread_mutex_lock(&wc->mu);
	for (size_t i = 0; i < wc->n;)
		if (strcmp(wc->e[i].kind, kind) == 0) {
			if (wc->e[i].drop)
				wc->e[i].drop(wc->e[i].data);
			wc->e[i] = wc->e[--wc->n];
		} else
			i++;
	pthread_mutex_unlock(&wc->mu);
}

void web_data_own_write(web_ctx *c, long long before)
{
	web_cache *wc = web_cache_of(c->w);
	long long after = web_data_stamp(c);
	pthread_mutex_lock(&wc->mu);
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].stamp == before)
			wc->e[i].stamp = after;
	pthread_mutex_unlock(&wc->mu);
}

tn_store *web_store_open(web_ctx *c, tn_error *err)
{
	tn_store *s = NULL;
	if (tn_store_open(c->sv->db_path, TN_STORE_LIVE, &s, err))
		return NULL;
	return s;
}
