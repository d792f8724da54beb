/*
 * web_data.c -- the analyses behind the pages, run in-process with the
 * library on the server's store, and cached.
 *
 * A cached value is keyed by what it is (kind and argument) and stamped with
 * the store's data stamp: the size and modification time of the database
 * file and of its write-ahead log.  Any commit -- an ingest through the
 * server, an import by the CLI -- changes the stamp.  A warming thread
 * (started by the first dashboard request) computes the pages' usual values
 * in the background and, whenever the stamp moves, recomputes every cached
 * value; meanwhile pages are served the previous values, so a page's data
 * never waits for an analysis once it has been computed ("refreshed when
 * data arrive").  A value never computed yet (a new "by" attribute, the first
 * view after start) is computed on the spot.
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
	void *data;
	web_make_fn make;
	void (*drop)(void *);
	double used;
} entry;

struct web_cache {
	pthread_mutex_t mu;
	entry e[MAX_ENTRIES];
	size_t n;
	tn_store *store; /* the pages' connection, opened on first use */
	char *db_path;
	/* the warming thread */
	pthread_t thread;
	int started, stopping;
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

/* Put D under KEY (mu held), replacing an older value. */
static void put(web_cache *wc, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *), void *d,
		long long stamp)
{
	char key[160];
	make_key(key, sizeof key, kind, arg);
	entry *e = find(wc, key);
	if (e) {
		if (e->drop)
			e->drop(e->data);
	} else {
		if (wc->n == MAX_ENTRIES) { /* drop the least recently used */
			size_t lru = 0;
			for (size_t i = 1; i < wc->n; i++)
				if (wc->e[i].used < wc->e[lru].used)
					lru = i;
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
	}
	e->stamp = stamp;
	e->data = d;
	e->make = make;
	e->drop = drop;
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
		/* one stale or missing value at a time: the usual ones first */
		char kind[32] = "", arg[128] = "";
		int has_arg = 0;
		web_make_fn make = NULL;
		void (*drop)(void *) = NULL;
		pthread_mutex_lock(&wc->mu);
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
			void *d = make(s, has_arg ? arg : NULL, &err);
			pthread_mutex_lock(&wc->mu);
			if (d)
				put(wc, kind, has_arg ? arg : NULL, make, drop, d, stamp);
			else { /* keep what pages have; try again when the data move */
				char key[160];
				make_key(key, sizeof key, kind, has_arg ? arg : NULL);
				entry *e = find(wc, key);
				if (e)
					e->stamp = stamp;
			}
			pthread_mutex_unlock(&wc->mu);
			if (d)
				continue;
		}
		/* nothing to do: look at the stamp again in a second */
		pthread_mutex_lock(&wc->wmu);
		if (!wc->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wc->wake, &wc->wmu, &ts);
		}
		pthread_mutex_unlock(&wc->wmu);
	}
	tn_store_close(s);
	return NULL;
}

void web_data_warm(web_ctx *c)
{
	web_cache *wc = web_cache_of(c->w);
	pthread_mutex_lock(&wc->wmu);
	if (!wc->started && !wc->stopping && pthread_create(&wc->thread, NULL, warm_main, wc) == 0)
		wc->started = 1;
	pthread_mutex_unlock(&wc->wmu);
}

/* ---- the pages' side ----------------------------------------------------------- */

void *web_data(web_ctx *c, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *), tn_error *err)
{
	web_cache *wc = web_cache_of(c->w);
	char key[160];
	make_key(key, sizeof key, kind, arg);
	entry *e = find(wc, key);
	if (e) {
		/* stale values are served while the warming thread recomputes them */
		e->used = server_now();
		if (e->stamp == web_data_stamp(c) || wc->started)
			return e->data;
	}
	if (!wc->store && tn_store_open(c->sv->db_path, TN_STORE_LIVE, &wc->store, err))
		return NULL;
	long long stamp = web_data_stamp(c);
	void *d = make(wc->store, arg, err);
	if (!d)
		return NULL;
	put(wc, kind, arg, make, drop, d, stamp);
	return d;
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
