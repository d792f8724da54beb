/*
 * readcache.c -- GET /v1/customers/{id}'s answers, kept in memory.
 *
 * A customer's record costs about ten SQL statements and a JSON build;
 * the answer is kept and served again while it is exactly what a fresh read
 * would return.  Three things can change it:
 *   - data: the server's writer knows which customers its commit touched
 *     (the events of the fast path): it moves their versions (a counter per
 *     hash bucket of ids, part of each entry) and then publishes the WAL
 *     index header its commit left; a commit that may touch any customer
 *     (other writes, a commit by another connection since its last one)
 *     starts a new epoch instead.  Any other commit -- by its scheduler, by
 *     another process (`tenure alerts`, `tenure import`) -- drops every
 *     answer: before a read the
 *     WAL index's header is looked at (tn_store_watch_read: every commit
 *     rewrites it, no lock taken); when it differs from the one seen last,
 *     the cache's epoch is bumped, and only entries made at the current
 *     epoch are served.  Without a WAL index to map, the reader connection's
 *     PRAGMA data_version (which moves when another connection has
 *     committed since this one last asked) answers the same question.  The
 *     epoch is taken after the check and before the read's snapshot, so an
 *     entry never holds data older than its epoch: a commit that completed
 *     before a request arrived has been seen, and the epoch bumped, by the
 *     time the request takes its epoch.
 *   - the value model (value.c), refitted in the background: its version is
 *     part of the entry (sv->value_version, bumped at each swap).
 *   - the clock: "days_as_customer" steps each 86,400 s after the customer's
 *     start; an entry is served only before that instant
 *     (tn_store_customer_json_until).
 * The cache is bounded: a fixed table of two-way slots (a key's two slots
 * share a lock; the older entry makes way) and a byte budget over the
 * bodies (--read-cache, default 64 MiB; 0 turns it off).  A PostgreSQL store
 * has no data_version: the cache is off there.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"

#include <stdlib.h>
#include <string.h>

#define RC_LOCKS 64
#define RC_CVERS 65536 /* customer version buckets (a power of two) */

typedef struct rc_entry {
	char *id;            /* NULL: empty */
	char *body;
	size_t len;
	unsigned long epoch; /* the cache's epoch when the read started */
	unsigned long vver;  /* the value model's version used */
	int64_t until;       /* served while now < until */
	unsigned long long seq; /* insertion order: the older of two makes way */
	unsigned cv;         /* the customer's version (readcache_cver) */
} rc_entry;

struct readcache {
	pthread_mutex_t mu[RC_LOCKS];
	rc_entry *slot;
	size_t nslots;       /* a power of two */
	size_t max_bytes;
	atomic_size_t bytes; /* ids and bodies held */
	atomic_ulong epoch;
	atomic_ullong seq;
	atomic_ullong hits, misses;
	pthread_mutex_t mark_mu; /* the WAL index header last seen (store_change.c) */
	tn_store_mark mark;
	int mark_known;
	tn_store_mark wmark; /* the header of the writer's last commit (mark_mu) */
	int wmark_known;
	atomic_uint cver[RC_CVERS];
};

readcache *readcache_new(size_t max_bytes)
{
	if (max_bytes == 0)
		return NULL;
	readcache *c = tn_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	/* about one slot per 512 bytes of budget (a record is 1-2 KiB) */
	size_t n = 1024;
	while (n < max_bytes / 512 && n < ((size_t)1 << 24))
		n *= 2;
	if (!(c->slot = tn_calloc(n, sizeof *c->slot))) {
		free(c);
		return NULL;
	}
	c->nslots = n;
	c->max_bytes = max_bytes;
	for (size_t i = 0; i < RC_LOCKS; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	pthread_mutex_init(&c->mark_mu, NULL);
	atomic_init(&c->bytes, 0);
	atomic_init(&c->epoch, 1);
	atomic_init(&c->seq, 0);
	atomic_init(&c->hits, 0);
	atomic_init(&c->misses, 0);
	for (size_t i = 0; i < RC_CVERS; i++)
		atomic_init(&c->cver[i], 0);
	return c;
}

static void entry_clear(readcache *c, rc_entry *e)
{
	if (!e->id)
		return;
	atomic_fetch_sub(&c->bytes, strlen(e->id) + 1 + e->len);
	free(e->id);
	free(e->body);
	memset(e, 0, sizeof *e);
}

void readcache_free(readcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		entry_clear(c, &c->slot[i]);
	for (size_t i = 0; i < RC_LOCKS; i++)
		pthread_mutex_destroy(&c->mu[i]);
	pthread_mutex_destroy(&c->mark_mu);
	free(c->slot);
	free(c);
}

/* The first of ID's two slots (even), and its lock. */
static size_t home(const readcache *c, const char *id) { return (size_t)tn_hash_str(id) & (c->nslots - 1) & ~(size_t)1; }
static pthread_mutex_t *lock_of(readcache *c, size_t h) { return &c->mu[(h >> 1) % RC_LOCKS]; }

unsigned long readcache_epoch(readcache *c, int changed)
{
	if (changed)
		return atomic_fetch_add(&c->epoch, 1) + 1;
	return atomic_load(&c->epoch);
}

unsigned long readcache_epoch_mark(readcache *c, const tn_store_mark *mark)
{
	pthread_mutex_lock(&c->mark_mu);
	/* a header not seen before: some commit happened since the last look
	 * (headers never repeat: the counter and the salts only move on) */
	if (!mark || !c->mark_known || memcmp(&c->mark, mark, sizeof *mark) != 0) {
		/* before the mark is kept: whoever sees it sees the bump; none
		 * for the writer's own commit, whose customers' versions moved
		 * before it published its header */
		if (!mark || !c->wmark_known || memcmp(&c->wmark, mark, sizeof *mark) != 0)
			atomic_fetch_add(&c->epoch, 1);
		c->mark_known = mark != NULL;
		if (mark)
			c->mark = *mark;
	}
	unsigned long e = atomic_load(&c->epoch);
	pthread_mutex_unlock(&c->mark_mu);
	return e;
}

static size_t cver_of(const char *id) { return (size_t)tn_hash_mix64(tn_hash_str(id)) & (RC_CVERS - 1); }

unsigned readcache_cver(readcache *c, const char *id) { return atomic_load(&c->cver[cver_of(id)]); }

void readcache_touch(readcache *c, const char *id) { atomic_fetch_add(&c->cver[cver_of(id)], 1); }

void readcache_writer_commit(readcache *c, const tn_store_mark *before, const tn_store_mark *after, int global)
{
	pthread_mutex_lock(&c->mark_mu);
	if (global || !before || !after || !c->wmark_known || memcmp(&c->wmark, before, sizeof *before) != 0)
		atomic_fetch_add(&c->epoch, 1);
	c->wmark_known = after != NULL;
	if (after)
		c->wmark = *after;
	pthread_mutex_unlock(&c->mark_mu);
}

int readcache_get(readcache *c, const char *id, unsigned long epoch, unsigned cv, unsigned long vver,
		  int64_t now, tn_http_response *rs)
{
	size_t h = home(c, id);
	pthread_mutex_t *mu = lock_of(c, h);
	int hit = 0;
	pthread_mutex_lock(mu);
	for (size_t k = h; k < h + 2 && !hit; k++) {
		rc_entry *e = &c->slot[k];
		if (!e->id || strcmp(e->id, id) != 0)
			continue;
		if (e->epoch != epoch || e->cv != cv || e->vver != vver || now >= e->until) {
			if (e->epoch < epoch || e->cv != cv || e->vver < vver || now >= e->until)
				entry_clear(c, e); /* stale for good: epochs and versions only grow */
			break;
		}
		if ((rs->body = tn_malloc(e->len + 1))) {
			memcpy(rs->body, e->body, e->len + 1);
			rs->len = e->len;
			rs->status = 200;
			rs->content_type = "application/json";
			hit = 1;
		}
	}
	pthread_mutex_unlock(mu);
	atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
	return hit;
}

void readcache_put(readcache *c, const char *id, unsigned long epoch, unsigned cv, unsigned long vver,
		   int64_t until, const char *body, size_t len)
{
	if (atomic_load(&c->epoch) != epoch || readcache_cver(c, id) != cv)
		return; /* already stale */
	size_t need = strlen(id) + 1 + len;
	if (need > c->max_bytes / 16)
		return; /* one record does not take the cache */
	size_t h = home(c, id);
	pthread_mutex_t *mu = lock_of(c, h);
	pthread_mutex_lock(mu);
	rc_entry *e = NULL;
	for (size_t k = h; k < h + 2 && !e; k++) /* the same customer's entry, else an empty slot */
		if (c->slot[k].id && strcmp(c->slot[k].id, id) == 0)
			e = &c->slot[k];
	for (size_t k = h; k < h + 2 && !e; k++)
		if (!c->slot[k].id)
			e = &c->slot[k];
	if (!e) /* the older makes way */
		e = c->slot[h].seq <= c->slot[h + 1].seq ? &c->slot[h] : &c->slot[h + 1];
	entry_clear(c, e);
	if (atomic_load(&c->bytes) + need <= c->max_bytes) {
		char *idc = tn_strdup(id), *bc = tn_malloc(len + 1);
		if (idc && bc) {
			memcpy(bc, body, len);
			bc[len] = '\0';
			*e = (rc_entry){idc, bc, len, epoch, vver, until, atomic_fetch_add(&c->seq, 1) + 1, cv};
			atomic_fetch_add(&c->bytes, need);
		} else {
			free(idc);
			free(bc);
		}
	}
	pthread_mutex_unlock(mu);
}

void readcache_stats(readcache *c, unsigned long long *hits, unsigned long long *misses, size_t *bytes)
{
	*hits = c ? atomic_load(&c->hits) : 0;
	*misses = c ? atomic_load(&c->misses) : 0;
	*bytes = c ? atomic_load(&c->bytes) : 0;
}
