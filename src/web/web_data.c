/*
 * web_data.c -- the analyses behind the pages, run in-process with the
 * library on the server's store, and cached.
 *
 * A cached value is keyed by what it is (kind and argument) and stamped with
 * the store's data version (web_store_data_version: a hash of indexed maxima
 * of what the analyses read -- the newest customer, subscription, payment,
 * answer, alert, journaled event, the events' last instant, ...).  An ingest
 * through the server or an import by the CLI moves it; a write the figures
 * do not read (a session, the audit, the feedback labels the insights
 * write, an acknowledged alert) does not.  The version is read when the
 * database file or its log changed (their size and time, a stat) and at
 * least every few seconds (PostgreSQL has no file).
 *
 * Each computed value is also kept in the store (dashboard_cache, migration
 * 19), serialised (web_codecs, web_pages.c) with its version and when it was
 * computed: a restarted server loads them first and serves them at once
 * with their "as of" time, and recomputes only those whose version is not
 * the store's any more.
 *
 * Only the warming threads compute.  They are started by the first dashboard
 * request, compute the values pages asked for and the pages' usual values,
 * and whenever the stamp moves recompute every cached value; meanwhile pages
 * are served the previous values with their "as of" time, so a page's data
 * never waits for an analysis once it has been computed ("refreshed when data
 * arrive").  A value never computed yet (a new "by" attribute, the first view
 * after start) is registered as wanted: the page waits for it at most
 * TENURE_WEB_WAIT_MS (default 1,000 ms) with the cache's lock released, so
 * other pages go on being served, and then shows "being computed" (with a
 * Refresh header) for what is still missing.  On 1,000,000 customers a cold
 * analysis takes seconds: no page ever computes one under the lock.
 *
 * There are two warming threads (TENURE_WEB_THREADS=1 for one), each with
 * its own read connection: each value belongs to one of them (web_lane,
 * web_pages.c: those sharing a churn frame or a scoring on one), so no value
 * is computed twice and each thread goes through its part of the list in
 * the pages' order.  On a 2-core machine the cold round's wall time is about
 * the longer lane's CPU instead of the sum.  Only the first thread loads
 * the kept values; the other waits until they are loaded.
 *
 * One mutex is held while a page is built: pages read cached values without
 * copying them, and the warming thread swaps in a new value only under it.
 */
#include "web/web_internal.h"
#include "base/alloc.h"
#include "base/thread.h"
#include "store/db.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 64
#define MAX_LANES 2

int web_nlanes = 1;
_Thread_local int web_make_lane;

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
	/* the warming threads, one a lane */
	struct warmer {
		struct web_cache *wc;
		int lane, started, kicked;
		atomic_int busy; /* it has work, or has not looked yet (set by start under wmu) */
		pthread_t thread;
	} w[MAX_LANES];
	int nlanes, stopping;
	int round_work; /* something was computed since the last "round done" line (mu) */
	/* pages' own writes in progress, from web_data_write_begin to their
	 * rebase (mu): while one is, a warming thread computes nothing (see
	 * warm_main) */
	int own_writes;
	unsigned long own_write_gen; /* web_data_write_begin calls so far (mu) */
	atomic_int halt; /* shutdown: the computation in progress is cancelled (tn_db_cancel_set) */
	pthread_mutex_t wmu;
	pthread_cond_t wake;
	long long version; /* the data version the warming thread saw last (mu); -1: not read yet */
	int loaded;        /* the kept values were loaded (mu) */
	pthread_mutex_t vmu; /* STORE (the pages' connection, for the version around their own writes) */
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
	pthread_mutex_init(&wc->vmu, NULL);
	wc->version = -1;
	/* two unless TENURE_WEB_THREADS=1 (A/B, and the test that both give the
	 * same values); read once, before any thread starts */
	const char *t = getenv("TENURE_WEB_THREADS");
	wc->nlanes = t && strcmp(t, "1") == 0 ? 1 : MAX_LANES;
	web_nlanes = wc->nlanes;
	for (int i = 0; i < MAX_LANES; i++) {
		wc->w[i].wc = wc;
		wc->w[i].lane = i;
	}
	return wc;
}

void web_cache_free(web_cache *wc)
{
	if (!wc)
		return;
	web_cache_stop(wc);
	for (int i = 0; i < wc->nlanes; i++) {
		pthread_mutex_lock(&wc->wmu);
		int started = wc->w[i].started;
		pthread_mutex_unlock(&wc->wmu);
		if (started) /* the analysis it is in fails at its next read ("cancelled"), is not kept, and it stops */
			pthread_join(wc->w[i].thread, NULL);
	}
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].drop)
			wc->e[i].drop(wc->e[i].data);
	tn_store_close(wc->store);
	pthread_cond_destroy(&wc->wake);
	pthread_cond_destroy(&wc->ready);
	pthread_mutex_destroy(&wc->wmu);
	pthread_mutex_destroy(&wc->mu);
	pthread_mutex_destroy(&wc->vmu);
	free(wc->db_path);
	free(wc);
}

/* Shutdown: no computation starts any more, the one in progress is
 * cancelled (its reads of the store fail at once), and nothing it made is
 * kept.  A kept value being written is finished first: the check is armed
 * only around an analysis, never around keep()'s writes. */
void web_cache_stop(web_cache *wc)
{
	if (!wc)
		return;
	pthread_mutex_lock(&wc->wmu);
	wc->stopping = 1;
	atomic_store(&wc->halt, 1);
	pthread_cond_broadcast(&wc->wake);
	pthread_mutex_unlock(&wc->wmu);
}

static int halted(void *ud)
{
	web_cache *wc = ud;
	return atomic_load_explicit(&wc->halt, memory_order_relaxed);
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

/* The data version read on the pages' connection (-1 when it cannot be read). */
static long long web_data_stamp(web_ctx *c)
{
	web_cache *wc = web_cache_of(c->w);
	long long v = -1;
	pthread_mutex_lock(&wc->vmu);
	tn_error err = {0};
	if (!wc->store && tn_store_open(wc->db_path, TN_STORE_LIVE, &wc->store, &err))
		wc->store = NULL;
	if (wc->store && web_store_data_version(wc->store, &v, &err))
		v = -1;
	pthread_mutex_unlock(&wc->vmu);
	return v;
}

long long web_data_write_begin(web_ctx *c)
{
	web_cache *wc = web_cache_of(c->w);
	pthread_mutex_lock(&wc->mu);
	wc->own_writes++;
	wc->own_write_gen++;
	pthread_mutex_unlock(&wc->mu);
	return web_data_stamp(c);
}

void web_data_write_abandon(web_ctx *c)
{
	web_cache *wc = web_cache_of(c->w);
	pthread_mutex_lock(&wc->mu);
	wc->own_writes--;
	pthread_mutex_unlock(&wc->mu);
}

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
_Thread_local double web_make_helper_cpu;

double web_thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* when a value was computed, for its "as of" (whole seconds: the one
 * clock, base/time.c, which the fuzz targets pin) */
static double wall_now(void) { return (double)tn_now(); }

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

static const web_codec *codec_of(const char *kind)
{
	for (size_t i = 0; i < web_ncodecs; i++)
		if (strcmp(web_codecs[i].kind, kind) == 0)
			return &web_codecs[i];
	return NULL;
}


/* A kept row's key "kind|arg|format" ("format" + "t" for a tail row) split
 * into its parts; the codec of KIND when FORMAT is its layout, else NULL. */
static const web_codec *parse_key(const char *key, char *kind, size_t nk, char *arg, size_t na, int *tail)
{
	const char *bar = strchr(key, '|'), *bar2 = bar ? strrchr(key, '|') : NULL;
	if (!bar || bar2 == bar || (size_t)(bar - key) >= nk || (size_t)(bar2 - bar - 1) >= na)
		return NULL;
	snprintf(kind, nk, "%.*s", (int)(bar - key), key);
	snprintf(arg, na, "%.*s", (int)(bar2 - bar - 1), bar + 1);
	const web_codec *cd = codec_of(kind);
	if (!cd)
		return NULL;
	size_t fl = strlen(cd->format);
	if (strncmp(bar2 + 1, cd->format, fl) != 0)
		return NULL;
	*tail = bar2[1 + fl] == 't' && bar2[2 + fl] == '\0';
	if (bar2[1 + fl] != '\0' && !(*tail && cd->unpack_tail))
		return NULL;
	return cd;
}

/* Only the rows of this build's layouts are read (another build's, kept in
 * the same store, are left to it). */
static int want_key(void *ctx, const char *key)
{
	(void)ctx;
	char kind[32], arg[128];
	int tail;
	return parse_key(key, kind, sizeof kind, arg, sizeof arg, &tail) != NULL;
}

/* One kept value (KEY "kind|arg|format"): unpacked and put in the cache
 * with its version and time, unless a page's request made a newer one.  A
 * tail row is attached to its head when the head is of the same version. */
static int load_one(void *ctx, const char *key, long long version, double computed_at, double took,
		    const void *value, size_t len)
{
	web_cache *wc = ctx;
	char kind[32], arg[128];
	int tail = 0;
	const web_codec *cd = parse_key(key, kind, sizeof kind, arg, sizeof arg, &tail);
	if (!cd)
		return 0;
	web_make_fn make = cd->make;
	void (*drop)(void *) = cd->drop;
	web_unpack u = {value, len, 0, 0};
	/* unpacked outside the lock: pages go on being served */
	void *d = tail ? cd->unpack_tail(&u) : cd->unpack(&u);
	if (d && (u.bad || u.off != u.n)) {
		if (tail)
			cd->attach_tail(NULL, d);
		else
			drop(d);
		d = NULL;
	}
	if (!d) {
		fprintf(stderr, "tenure serve: dashboard %s|%s kept value%s unreadable; recomputing\n", kind, arg,
			tail ? "'s tail" : "");
		return 0;
	}
	/* the kinds whose argument is optional keep "" as no argument */
	int has_arg = arg[0] != '\0';
	pthread_mutex_lock(&wc->mu);
	char k[160];
	make_key(k, sizeof k, kind, has_arg ? arg : NULL);
	entry *e = find(wc, k);
	if (tail) {
		if (e && e->data && e->stamp == version && !cd->has_tail(e->data)) {
			cd->attach_tail(e->data, d);
			pthread_cond_broadcast(&wc->ready);
		} else
			cd->attach_tail(NULL, d);
		pthread_mutex_unlock(&wc->mu);
		return 0;
	}
	if (e && e->data) { /* computed meanwhile */
		pthread_mutex_unlock(&wc->mu);
		drop(d);
		return 0;
	}
	put(wc, kind, has_arg ? arg : NULL, make, drop, d, version, took);
	if ((e = find(wc, k)))
		e->computed_at = computed_at;
	pthread_mutex_unlock(&wc->mu);
	return 0;
}

/* After the load: a head whose tail was not kept (or not readable) is
 * served as it is and recomputed (mu held). */
static void tails_missing(web_cache *wc)
{
	for (size_t i = 0; i < wc->n; i++) {
		const web_codec *cd = codec_of(wc->e[i].kind);
		if (wc->e[i].data && cd && cd->has_tail && !cd->has_tail(wc->e[i].data)) {
			fprintf(stderr, "tenure serve: dashboard %s|%s kept without its tail; recomputing\n", wc->e[i].kind,
				wc->e[i].arg);
			wc->e[i].stamp = -2;
		}
	}
}

static void keep_row(tn_store *s, const char *key, const tn_sbuf *b, long long version, double computed_at,
		     double took)
{
	tn_error err = {0};
	if (b->oom)
		tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
	if (b->oom || web_store_cache_put(s, key, version, computed_at, took, b->p ? b->p : "", b->len, &err))
		fprintf(stderr, "tenure serve: dashboard %s not kept: %s\n", key, err.msg);
}

/* Keep D in the store (the warming thread's connection): the tail first,
 * so that a head is never kept with an older tail's version only. */
static void keep(tn_store *s, const char *kind, const char *arg, const void *d, long long version, double computed_at,
		 double took)
{
	const web_codec *cd = codec_of(kind);
	if (!cd)
		return;
	char key[200];
	tn_sbuf b = {0};
	if (cd->pack_tail) {
		cd->pack_tail(d, &b);
		snprintf(key, sizeof key, "%s|%s|%st", kind, arg ? arg : "", cd->format);
		keep_row(s, key, &b, version, computed_at, took);
		tn_sbuf_free(&b);
	}
	cd->pack(d, &b);
	snprintf(key, sizeof key, "%s|%s|%s", kind, arg ? arg : "", cd->format);
	keep_row(s, key, &b, version, computed_at, took);
	tn_sbuf_free(&b);
}

/* The process's peak resident set so far, MB (Linux; 0 when unknown): the
 * log line of each computation says which one raised it. */
static long peak_rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

static void *warm_main(void *p)
{
	struct warmer *me = p;
	web_cache *wc = me->wc;
	web_make_lane = me->lane;
	/* background work: the requests first (base/thread.h).  The warming
	 * waits for the pages' own writes (own_writes), so a slower warming
	 * cannot read a page's write before its rebase and redo what it keeps. */
	tn_thread_background(me->lane == 0 ? "tn-warm1" : "tn-warm2");
	tn_store *s = NULL;
	long long gate = 0, version = -1, seen = -1;
	double read_at = 0;
	for (;;) {
		pthread_mutex_lock(&wc->wmu);
		if (wc->stopping) {
			pthread_mutex_unlock(&wc->wmu);
			break;
		}
		pthread_mutex_unlock(&wc->wmu);
		if (!s) {
			tn_error err = {0};
			if (tn_store_open(wc->db_path, TN_STORE_LIVE, &s, &err) == TN_OK) {
				tn_db_cancel_watch(s);
				/* its scans read the whole store again and again (see there) */
				tn_store_scan_mmap(s);
			}
			else {
				fprintf(stderr, "tenure serve: dashboard: %s\n", err.msg);
				s = NULL;
				pthread_mutex_lock(&wc->mu);
				wc->loaded = 1; /* nothing to wait for */
				pthread_cond_broadcast(&wc->ready);
				pthread_mutex_unlock(&wc->mu);
			}
		}
		if (s && !wc->loaded && me->lane != 0) {
			/* the first thread loads the kept values: none is computed here meanwhile */
			pthread_mutex_lock(&wc->mu);
			if (!wc->loaded) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 100 * 1000 * 1000;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&wc->ready, &wc->mu, &ts);
			}
			pthread_mutex_unlock(&wc->mu);
			continue;
		}
		if (s && !wc->loaded) {
			/* the values kept by the last run, served at once */
			tn_error err = {0};
			double t0 = server_now(), c0 = web_thread_cpu();
			if (web_store_cache_each(s, want_key, load_one, wc, &err))
				fprintf(stderr, "tenure serve: dashboard: kept values not read: %s\n", err.msg);
			else
				fprintf(stderr, "tenure serve: dashboard kept values loaded in %.3f s (%.3f s CPU)\n",
					server_now() - t0, web_thread_cpu() - c0);
			pthread_mutex_lock(&wc->mu);
			tails_missing(wc);
			wc->loaded = 1;
			pthread_cond_broadcast(&wc->ready);
			pthread_mutex_unlock(&wc->mu);
		}
		/* tests only (tests/e2e/dashboard.sh): while the file TENURE_WEB_HOLD
		 * names exists, nothing is computed, so what a page does before its
		 * figures exist is checked whatever the machine's load (a 400-customer
		 * round can end before the test's first request) */
		const char *hold = getenv("TENURE_WEB_HOLD");
		if (s && hold && *hold && access(hold, F_OK) == 0) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		/* the data version, read again when another connection committed
		 * (SQLite's data_version counter: exact, where a file's time may
		 * not move between two writes) or the files moved; every 2 s only
		 * where the engine has no counter (PostgreSQL).  The version reads
		 * ~20 maxima, some by a scan: 0.2-0.3 s of CPU on 1,000,000
		 * customers, so polling it kept an idle server's warming threads
		 * 10-15% busy each. */
		pthread_mutex_lock(&wc->mu);
		unsigned long writes0 = wc->own_write_gen; /* see page_writing below */
		pthread_mutex_unlock(&wc->mu);
		long long g = stamp_of(wc->db_path);
		long long dv = s ? tn_db_data_version(s) : -1;
		if (s && (g != gate || dv != seen || version == -1 || (dv == -1 && server_now() - read_at >= 2.0))) {
			tn_error err = {0};
			long long v;
			if (web_store_data_version(s, &v, &err) != TN_OK) {
				/* the files' stamp then: recomputations after any write */
				if (version == -1)
					fprintf(stderr, "tenure serve: dashboard: data version not read: %s\n", err.msg);
				v = g;
			}
			version = v;
			gate = g;
			seen = dv;
			read_at = server_now();
		}
		long long stamp = version;
		pthread_mutex_lock(&wc->mu);
		/* a page's own write in progress, or one that began since the
		 * version was read: the version may count it while the values it
		 * leaves valid are not rebased yet (web_data_own_write), or be
		 * the one from before it while they are; computing now would
		 * redo them for nothing.  A write ends in milliseconds: look
		 * again then (its commit moved the connection's data_version, so
		 * the version is read again). */
		int page_writing = wc->own_writes > 0 || wc->own_write_gen != writes0;
		if (!page_writing)
			wc->version = version;
		pthread_mutex_unlock(&wc->mu);
		if (page_writing) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
			continue;
		}
		/* one missing or stale value at a time: those a page waits for
		 * first, then the usual ones, then the other stale ones */
		char kind[32] = "", arg[128] = "";
		int has_arg = 0;
		web_make_fn make = NULL;
		void (*drop)(void *) = NULL;
		pthread_mutex_lock(&wc->mu);
		for (size_t i = 0; i < wc->n && !make && stamp != -1; i++)
			if (!wc->e[i].data && wc->e[i].stamp != stamp && web_lane(wc->e[i].kind) == me->lane) {
				snprintf(kind, sizeof kind, "%s", wc->e[i].kind);
				snprintf(arg, sizeof arg, "%s", wc->e[i].arg);
				has_arg = wc->e[i].has_arg;
				make = wc->e[i].make;
				drop = wc->e[i].drop;
			}
		for (size_t i = 0; i < web_nwarm && !make && stamp != -1; i++) {
			char key[160];
			make_key(key, sizeof key, web_warm[i].kind, web_warm[i].arg);
			entry *e = find(wc, key);
			if ((!e || e->stamp != stamp) && web_lane(web_warm[i].kind) == me->lane) {
				snprintf(kind, sizeof kind, "%s", web_warm[i].kind);
				snprintf(arg, sizeof arg, "%s", web_warm[i].arg ? web_warm[i].arg : "");
				has_arg = web_warm[i].arg != NULL;
				make = web_warm[i].make;
				drop = web_warm[i].drop;
			}
		}
		for (size_t i = 0; i < wc->n && !make && stamp != -1; i++)
			if (wc->e[i].stamp != stamp && web_lane(wc->e[i].kind) == me->lane) {
				snprintf(kind, sizeof kind, "%s", wc->e[i].kind);
				snprintf(arg, sizeof arg, "%s", wc->e[i].arg);
				has_arg = wc->e[i].has_arg;
				make = wc->e[i].make;
				drop = wc->e[i].drop;
			}
		/* the round is done when every thread has found nothing to do:
		 * one line says so (bench/bench_dashboard_cold.sh, the tests) */
		me->busy = make && s;
		if (me->busy)
			wc->round_work = 1;
		else if (wc->round_work) {
			int any = 0;
			for (int i = 0; i < wc->nlanes; i++)
				any |= wc->w[i].busy;
			if (!any) {
				wc->round_work = 0;
				fprintf(stderr, "tenure serve: dashboard round done: every value is current (%d warming thread%s)\n",
					wc->nlanes, wc->nlanes > 1 ? "s" : "");
			}
		}
		pthread_mutex_unlock(&wc->mu);
		if (make && s) {
			tn_error err = {0};
			web_make_stamp = stamp;
			web_make_helper_cpu = 0;
			double t0 = server_now(), c0 = web_thread_cpu();
			tn_db_cancel_set(halted, wc);
			void *d = make(s, has_arg ? arg : NULL, &err);
			tn_db_cancel_set(NULL, NULL);
			double took = server_now() - t0;
			if (halted(wc)) {
				/* cancelled by the shutdown, or finished just then: a value
				 * made while its reads may have failed half-way is never
				 * kept nor put (the next start computes it again) */
				if (d)
					drop(d);
				fprintf(stderr, "tenure serve: dashboard %s|%s cancelled after %.3f s (shutdown)\n", kind, arg,
					took);
				break;
			}
			/* one line per computation: what the dashboard costs, in wall
			 * and CPU seconds (bench/bench_dashboard.sh reads it) */
			char who[24] = "";
			if (wc->nlanes > 1)
				snprintf(who, sizeof who, " [thread %d]", me->lane + 1);
			char helper[48] = "";
			if (web_make_helper_cpu > 0)
				snprintf(helper, sizeof helper, " (%.3f s of it on a helper thread)", web_make_helper_cpu);
			fprintf(stderr,
				"tenure serve: dashboard %s|%s computed in %.3f s (%.3f s CPU); peak RSS %ld MB%s%s%s%s\n",
				kind, arg, took, web_thread_cpu() - c0 + web_make_helper_cpu, peak_rss_mb(), who, helper,
				d ? "" : ", failed: ", d ? "" : err.msg);
			/* the version the value was computed on: read before (a write
			 * during the computation makes it stale, recomputed next) */
			if (d)
				keep(s, kind, has_arg ? arg : NULL, d, stamp, wall_now(), took);
			pthread_mutex_lock(&wc->mu);
			if (d) {
				put(wc, kind, has_arg ? arg : NULL, make, drop, d, stamp, took);
				/* the values best computed next (sharing what this one built) */
				char rel[16][128];
				size_t nr = web_related(kind, d, rel, 16);
				for (size_t k = 0; k < nr; k++) {
					char key[160];
					make_key(key, sizeof key, kind, rel[k]);
					if (!find(wc, key))
						slot(wc, kind, rel[k], make, drop);
				}
			} else { /* keep what pages have; try again when the data move */
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
		/* nothing to do: look at the version again in a second (or when a
		 * page wants a value) */
		pthread_mutex_lock(&wc->wmu);
		if (!wc->stopping && !me->kicked) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wc->wake, &wc->wmu, &ts);
		}
		me->kicked = 0;
		pthread_mutex_unlock(&wc->wmu);
	}
	web_pages_thread_end();
	tn_store_close(s);
	return NULL;
}

static void start(web_cache *wc)
{
	pthread_mutex_lock(&wc->wmu);
	for (int i = 0; i < wc->nlanes; i++) {
		struct warmer *w = &wc->w[i];
		if (!w->started && !wc->stopping) {
			w->busy = 1; /* until it has found nothing to do */
			if (pthread_create(&w->thread, NULL, warm_main, w) == 0)
				w->started = 1;
			else
				w->busy = 0;
		}
		w->kicked = 1;
	}
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
	if (e && e->failed && e->stamp == wc->version) {
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

int web_data_loaded(web_ctx *c) { return web_cache_of(c->w)->loaded; }

void web_data_forget(web_ctx *c, const char *kind)
{
	web_cache *wc = web_cache_of(c->w);
	/* the kept ones too: a restart must not show what the action changed */
	char like[64];
	snprintf(like, sizeof like, "%s|%%", kind);
	tn_error err = {0};
	pthread_mutex_lock(&wc->vmu);
	if (!wc->store && tn_store_open(wc->db_path, TN_STORE_LIVE, &wc->store, &err))
		wc->store = NULL;
	if (wc->store && web_store_cache_forget(wc->store, like, &err))
		fprintf(stderr, "tenure serve: dashboard: kept %s not forgotten: %s\n", kind, err.msg);
	pthread_mutex_unlock(&wc->vmu);
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
	if (before == -1 || after == -1 || after == before) {
		web_data_write_abandon(c);
		return;
	}
	pthread_mutex_lock(&wc->mu);
	for (size_t i = 0; i < wc->n; i++)
		if (wc->e[i].stamp == before)
			wc->e[i].stamp = after;
	if (wc->version == before)
		wc->version = after;
	wc->own_writes--; /* rebased: the warming may look again */
	pthread_mutex_unlock(&wc->mu);
	/* and the kept ones, so that a restart does not recompute them */
	tn_error err = {0};
	pthread_mutex_lock(&wc->vmu);
	if (wc->store && web_store_cache_rebase(wc->store, before, after, &err))
		fprintf(stderr, "tenure serve: dashboard: kept values not moved: %s\n", err.msg);
	pthread_mutex_unlock(&wc->vmu);
}

tn_store *web_store_open(web_ctx *c, tn_error *err)
{
	tn_store *s = NULL;
	if (tn_store_open(c->sv->db_path, TN_STORE_LIVE, &s, err))
		return NULL;
	return s;
}

/* ---- the values' serialised form --------------------------------------------------- */

static void grow(tn_sbuf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *q = tn_realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void wpk_u64(tn_sbuf *b, uint64_t v) { grow(b, &v, sizeof v); }
void wpk_f64(tn_sbuf *b, double v) { grow(b, &v, sizeof v); }
void wpk_raw(tn_sbuf *b, const void *p, size_t n)
{
	wpk_u64(b, n);
	grow(b, p, n);
}
void wpk_str(tn_sbuf *b, const char *s)
{
	if (!s) {
		wpk_u64(b, UINT64_MAX);
		return;
	}
	wpk_raw(b, s, strlen(s));
}
void wpk_f64s(tn_sbuf *b, const double *v, size_t n)
{
	if (v)
		grow(b, v, n * sizeof *v);
	else
		for (size_t i = 0; i < n; i++)
			wpk_f64(b, NAN);
}

static const void *take(web_unpack *u, size_t n)
{
	if (u->bad || n > u->n - u->off) {
		u->bad = 1;
		return NULL;
	}
	const void *p = u->p + u->off;
	u->off += n;
	return p;
}

uint64_t wun_u64(web_unpack *u)
{
	uint64_t v = 0;
	const void *p = take(u, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}
double wun_f64(web_unpack *u)
{
	double v = NAN;
	const void *p = take(u, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}
int wun_raw(web_unpack *u, void *dst, size_t n)
{
	uint64_t len = wun_u64(u);
	if (len != n) {
		u->bad = 1;
		return 0;
	}
	const void *p = take(u, n);
	if (!p)
		return 0;
	memcpy(dst, p, n);
	return 1;
}
char *wun_str(web_unpack *u)
{
	uint64_t len = wun_u64(u);
	if (u->bad || len == UINT64_MAX)
		return NULL;
	if (len > u->n - u->off) {
		u->bad = 1;
		return NULL;
	}
	const char *p = take(u, (size_t)len);
	char *s = p ? tn_malloc((size_t)len + 1) : NULL;
	if (!s) {
		u->bad = 1;
		return NULL;
	}
	memcpy(s, p, (size_t)len);
	s[len] = '\0';
	return s;
}
int wun_strcpy(web_unpack *u, char *dst, size_t cap)
{
	uint64_t len = wun_u64(u);
	const char *p = u->bad || len >= cap ? NULL : take(u, (size_t)len);
	if (!p) { /* also a NULL string (UINT64_MAX): a fixed buffer has no NULL */
		u->bad = 1;
		dst[0] = '\0';
		return 0;
	}
	memcpy(dst, p, (size_t)len);
	dst[len] = '\0';
	return 1;
}
size_t wun_count(web_unpack *u, size_t each)
{
	uint64_t n = wun_u64(u);
	if (u->bad || (each && n > (u->n - u->off) / each)) {
		u->bad = 1;
		return 0;
	}
	return (size_t)n;
}
double *wun_f64s(web_unpack *u, size_t n)
{
	if (u->bad || n > (u->n - u->off) / sizeof(double)) {
		u->bad = 1;
		return NULL;
	}
	double *v = tn_malloc((n ? n : 1) * sizeof *v);
	const void *p = take(u, n * sizeof *v);
	if (!v || !p) {
		free(v);
		u->bad = 1;
		return NULL;
	}
	memcpy(v, p, n * sizeof *v);
	return v;
}
