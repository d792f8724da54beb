/*
 * web_data.c -- the analyses behind the pages, run in-process with the
 * library on one connection to the server's store, and cached.
 *
 * A cached value is keyed by what it is (kind and argument) and stamped with
 * the store's data stamp: the size and modification time of the database
 * file and of its write-ahead log.  Any commit -- an ingest through the
 * server, an import by the CLI -- changes the stamp, so the next page view
 * computes afresh ("refreshed when data arrive"); until then every view is
 * served from memory.  One mutex is held while a page is built: pages read
 * cached values without copying them, and two views never compute the same
 * analysis twice.
 */
#include "web/web_internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ENTRIES 64

typedef struct entry {
	char key[160];
	long long stamp;
	void *data;
	void (*drop)(void *);
	double used;
} entry;

struct web_cache {
	pthread_mutex_t mu;
	entry e[MAX_ENTRIES];
	size_t n;
	tn_store *store; /* the dashboard's connection, opened on first use */
};

web_cache *web_cache_new(void)
{
	web_cache *wc = tn_calloc(1, sizeof *wc);
	if (wc)
		pthread_mutex_init(&wc->mu, NULL);
	return wc;
}

void web_cache_free(web_cache *wc)
{
	if (!wc)
		return;
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].drop)
			wc->e[i].drop(wc->e[i].data);
	tn_store_close(wc->store);
	pthread_mutex_destroy(&wc->mu);
	free(wc);
}

/* the web struct's cache: web.c owns the struct; this accessor keeps it opaque */
web_cache *web_cache_of(struct tn_web *w);

static long long file_stamp(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	return (long long)st.st_size * 1000003LL + (long long)st.st_mtim.tv_sec * 1000000007LL + st.st_mtim.tv_nsec;
}

long long web_data_stamp(web_ctx *c)
{
	char wal[1100];
	snprintf(wal, sizeof wal, "%s-wal", c->sv->db_path);
	return file_stamp(c->sv->db_path) ^ (file_stamp(wal) * 31);
}

void web_data_begin(web_ctx *c) { pthread_mutex_lock(&web_cache_of(c->w)->mu); }
void web_data_end(web_ctx *c) { pthread_mutex_unlock(&web_cache_of(c->w)->mu); }

void *web_data(web_ctx *c, const char *kind, const char *arg, web_make_fn make, void (*drop)(void *), tn_error *err)
{
	web_cache *wc = web_cache_of(c->w);
	char key[160];
	snprintf(key, sizeof key, "%s|%s", kind, arg ? arg : "");
	long long stamp = web_data_stamp(c);
	double now = server_now();
	for (size_t i = 0; i < wc->n; i++)
		if (strcmp(wc->e[i].key, key) == 0) {
			if (wc->e[i].stamp == stamp) {
				wc->e[i].used = now;
				return wc->e[i].data;
			}
			if (wc->e[i].drop)
				wc->e[i].drop(wc->e[i].data);
			wc->e[i] = wc->e[--wc->n];
			break;
		}
	if (!wc->store) {
		if (tn_store_open(c->sv->db_path, 0, &wc->store, err))
			return NULL;
	}
	void *d = make(wc->store, arg, err);
	if (!d)
		return NULL;
	/* the new stamp: computing may have written (labels), keep what it saw */
	if (wc->n == MAX_ENTRIES) { /* drop the least recently used */
		size_t lru = 0;
		for (size_t i = 1; i < wc->n; i++)
			if (wc->e[i].used < wc->e[lru].used)
				lru = i;
		if (wc->e[lru].drop)
			wc->e[lru].drop(wc->e[lru].data);
		wc->e[lru] = wc->e[--wc->n];
	}
	entry *e = &wc->e[wc->n++];
	snprintf(e->key, sizeof e->key, "%s", key);
	e->stamp = web_data_stamp(c);
	e->data = d;
	e->drop = drop;
	e->used = now;
	return d;
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
	if (tn_store_open(c->sv->db_path, 0, &s, err))
		return NULL;
	return s;
}
