/*
 * readcache.c -- GET /v1/customers/{id}'s answers, kept in memory.
 *
 * A customer's record costs about ten SQL statements and a JSON build
 * (~150 us); the answer is kept and served again while it is exactly what a
 * fresh read would return.  What is kept is the record in parts
 * (tn_customer_parts: the JSON with marks where the value, last_event_at and
 * the milestones' reached_at go, and those times), the value's JSON and the
 * rendered answer, so that the two things that change answers most often
 * bring a kept answer up to date instead of dropping it:
 *   - events the server's writer commits (POST /v1/events, the fast path):
 *     for each event the writer moves the customer's last event and the
 *     first time of a milestone of its type in the kept parts
 *     (readcache_event, under the entry's lock, after the commit and before
 *     the commit is published and acknowledged), and the answer is rendered
 *     again at its next read.  The max/min are idempotent, so an event the
 *     read had already seen changes nothing.  It also moves the customer's
 *     version (a counter per hash bucket of ids): a read that took its
 *     snapshot before the commit does not keep its (older) answer.
 *   - the value model (value.c), refitted in the background: its version is
 *     part of the entry; an entry of an older model takes the customer's
 *     value from the new model and is rendered again (a microsecond, no SQL).
 * Anything else drops answers:
 *   - other commits: a commit by the server's writer that may touch any
 *     customer (other writes, a commit by another connection since its last
 *     one) starts a new epoch; any other commit -- by its scheduler, by
 *     another process (`tenure alerts`, `tenure import`) -- too: before a
 *     read the WAL index's header is looked at (tn_store_watch_read: every
 *     commit rewrites it, no lock taken); when it differs from the one seen
 *     last, the cache's epoch is bumped, and only entries made at the current
 *     epoch are served.  While the writer holds the write lock (from its
 *     BEGIN IMMEDIATE to its publishing, readcache_writer_begin), a header
 *     one transaction on from the one it started at can only be its own
 *     commit, whose customers it brings up to date before acknowledging it:
 *     that is no new epoch (a torn header then is its commit under way).
 *     Without a WAL index to map, the reader connection's PRAGMA data_version
 *     (which moves when another connection has committed since this one last
 *     asked) answers the same question.  The epoch is taken after the check
 *     and before the read's snapshot, so an entry never holds data older than
 *     its epoch.
 *   - the clock: "days_as_customer" steps each 86,400 s after the customer's
 *     start; an entry is served only before that instant (*until).
 * The cache is bounded: a fixed table of 8-way sets (a set shares a lock;
 * the oldest entry makes way; with two-way slots ~2% of the demo's 50,000
 * customers fell on a slot pair already holding two others and missed on
 * every read) and a byte budget over what the entries hold (--read-cache,
 * default 128 MiB; 0 turns it off).  A PostgreSQL store has no
 * data_version: the cache is off there.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"

#include <stdlib.h>
#include <string.h>

#define RC_LOCKS 256
#define RC_WAYS 8
#define RC_CVERS ((size_t)1 << 18) /* customer version buckets (a power of two) */

typedef struct rc_entry {
	uint64_t h;          /* tn_hash_str(id) */
	char *id;            /* NULL: empty */
	tn_customer_parts p; /* the record's times (no template: BODY and SPANS are it) */
	char *value;         /* the value's JSON, or NULL (null) */
	char *body;          /* the answer */
	size_t len;
	tn_part_span *spans; /* where the value and the times are in BODY */
	int dirty;           /* P or VALUE moved since BODY was rendered */
	size_t bytes;        /* what the entry holds, as counted in c->bytes */
	unsigned long epoch; /* the cache's epoch when the read started */
	unsigned long vver;  /* the value model's version of VALUE */
	int64_t until;       /* served while now < until */
	unsigned long long seq; /* insertion order: the oldest of a set makes way */
} rc_entry;

struct readcache {
	pthread_mutex_t mu[RC_LOCKS];
	rc_entry *slot;
	size_t nsets;        /* a power of two; RC_WAYS slots each */
	size_t max_bytes;
	atomic_size_t bytes; /* what the entries hold */
	atomic_ulong epoch;
	atomic_ullong seq;
	atomic_ullong hits, misses;
	pthread_mutex_t mark_mu; /* the WAL index header last seen (store_change.c) */
	tn_store_mark mark;
	int mark_known;
	/* the same header for the common case (unchanged since the last read)
	 * without the mutex: a sequence lock (odd while it is rewritten) over a
	 * copy in atomic words */
	atomic_uint mseq;
	atomic_ullong mwords[sizeof(tn_store_mark) / 8];
	tn_store_mark wmark; /* the header of the writer's last commit (mark_mu) */
	int wmark_known;
	tn_store_mark pmark; /* the writer's transaction under way started at this header */
	int pending;         /* 1 while it holds the write lock, until it publishes */
	atomic_uint *cver;
	/* each slot's tag (tag_of its entry's H, 0 empty), under its set's
	 * lock: a set's eight in one cache line, so the writer's per-event
	 * look-up (readcache_event) -- usually of a customer with no entry --
	 * reads one line, not the eight entries' */
	uint64_t *tag;
};

static uint64_t tag_of(uint64_t h) { return h ? h : 1; }

readcache *readcache_new(size_t max_bytes)
{
	if (max_bytes == 0)
		return NULL;
	readcache *c = tn_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	/* about one slot per 512 bytes of budget (a record is 1-2 KiB) */
	size_t n = 128;
	while (n * RC_WAYS < max_bytes / 512 && n < ((size_t)1 << 21))
		n *= 2;
	if (!(c->slot = tn_calloc(n * RC_WAYS, sizeof *c->slot)) || !(c->cver = tn_calloc(RC_CVERS, sizeof *c->cver)) ||
	    !(c->tag = tn_calloc(n * RC_WAYS, sizeof *c->tag))) {
		free(c->slot);
		free(c->cver);
		free(c);
		return NULL;
	}
	c->nsets = n;
	c->max_bytes = max_bytes;
	for (size_t i = 0; i < RC_LOCKS; i++)
		pthread_mutex_init(&c->mu[i], NULL);
	pthread_mutex_init(&c->mark_mu, NULL);
	atomic_init(&c->mseq, 0);
	for (size_t i = 0; i < sizeof c->mwords / sizeof c->mwords[0]; i++)
		atomic_init(&c->mwords[i], 0);
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
	atomic_fetch_sub(&c->bytes, e->bytes);
	free(e->id);
	tn_customer_parts_free(&e->p);
	free(e->value);
	free(e->body);
	free(e->spans);
	memset(e, 0, sizeof *e);
	c->tag[e - c->slot] = 0;
}

void readcache_free(readcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsets * RC_WAYS; i++)
		entry_clear(c, &c->slot[i]);
	for (size_t i = 0; i < RC_LOCKS; i++)
		pthread_mutex_destroy(&c->mu[i]);
	pthread_mutex_destroy(&c->mark_mu);
	free(c->slot);
	free(c->cver);
	free(c->tag);
	free(c);
}

/* ID's set (its first slot) and the set's lock. */
static rc_entry *set_of(const readcache *c, uint64_t h) { return &c->slot[(h & (c->nsets - 1)) * RC_WAYS]; }
static pthread_mutex_t *lock_of(readcache *c, uint64_t h) { return &c->mu[(h & (c->nsets - 1)) % RC_LOCKS]; }
static rc_entry *find(const readcache *c, rc_entry *set, uint64_t h, const char *id)
{
	const uint64_t *tag = &c->tag[set - c->slot], t = tag_of(h);
	for (size_t k = 0; k < RC_WAYS; k++)
		if (tag[k] == t && set[k].h == h && strcmp(set[k].id, id) == 0)
			return &set[k];
	return NULL;
}

unsigned long readcache_epoch(readcache *c, int changed)
{
	if (changed)
		return atomic_fetch_add(&c->epoch, 1) + 1;
	return atomic_load(&c->epoch);
}

/* iChange, the WAL index header's transaction counter (store_change.c's
 * wal_hdr: the third 32-bit word). */
static uint32_t mark_change(const tn_store_mark *m)
{
	uint32_t v;
	memcpy(&v, m->b + 8, sizeof v);
	return v;
}

_Static_assert(sizeof(tn_store_mark) % 8 == 0, "a mark is whole 64-bit words");

/* The header readers saw last is MARK (mark_mu held): whoever compares
 * without the mutex sees the epoch moved first. */
static void keep_mark(readcache *c, const tn_store_mark *mark)
{
	c->mark_known = 1;
	c->mark = *mark;
	unsigned s = atomic_load_explicit(&c->mseq, memory_order_relaxed);
	atomic_store_explicit(&c->mseq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < sizeof c->mwords / sizeof c->mwords[0]; i++) {
		unsigned long long w;
		memcpy(&w, mark->b + 8 * i, sizeof w);
		atomic_store_explicit(&c->mwords[i], w, memory_order_relaxed);
	}
	atomic_store_explicit(&c->mseq, s + 2, memory_order_release);
}

/* 1 when MARK is the header readers saw last (a consistent copy, no mutex). */
static int same_mark(readcache *c, const tn_store_mark *mark)
{
	unsigned s = atomic_load_explicit(&c->mseq, memory_order_acquire);
	if (s == 0 || (s & 1))
		return 0; /* none yet, or being rewritten */
	int eq = 1;
	for (size_t i = 0; i < sizeof c->mwords / sizeof c->mwords[0]; i++) {
		unsigned long long w;
		memcpy(&w, mark->b + 8 * i, sizeof w);
		eq &= atomic_load_explicit(&c->mwords[i], memory_order_relaxed) == w;
	}
	atomic_thread_fence(memory_order_acquire);
	return eq && atomic_load_explicit(&c->mseq, memory_order_relaxed) == s;
}

unsigned long readcache_epoch_mark(readcache *c, const tn_store_mark *mark)
{
	/* the common case: no commit since the last look, no mutex */
	if (mark && same_mark(c, mark))
		return atomic_load(&c->epoch);
	pthread_mutex_lock(&c->mark_mu);
	if (!mark) {
		/* a commit under way: the writer's own while it holds the lock */
		if (!c->pending)
			atomic_fetch_add(&c->epoch, 1);
	} else if (!c->mark_known || memcmp(&c->mark, mark, sizeof *mark) != 0) {
		/* a header not seen before: some commit happened since the last
		 * look (headers never repeat: the counter and the salts only move
		 * on).  Before the mark is kept: whoever sees it sees the bump.
		 * None for the writer's own commit (published: its customers were
		 * brought up to date before; under way: not acknowledged yet, and
		 * they will be before it is) -- the same header, or one commit on
		 * from the one its transaction started at (the same counter: its
		 * restart of the log) */
		int own = (c->wmark_known && memcmp(&c->wmark, mark, sizeof *mark) == 0) ||
			  (c->pending && mark_change(mark) - mark_change(&c->pmark) <= 1);
		if (!own)
			atomic_fetch_add(&c->epoch, 1);
		keep_mark(c, mark);
	}
	unsigned long e = atomic_load(&c->epoch);
	pthread_mutex_unlock(&c->mark_mu);
	return e;
}

static size_t cver_of(uint64_t h) { return (size_t)tn_hash_mix64(h) & (RC_CVERS - 1); }

unsigned readcache_cver(readcache *c, const char *id) { return atomic_load(&c->cver[cver_of(tn_hash_str(id))]); }

void readcache_touch(readcache *c, const char *id)
{
	uint64_t h = tn_hash_str(id);
	pthread_mutex_t *mu = lock_of(c, h);
	pthread_mutex_lock(mu);
	atomic_fetch_add(&c->cver[cver_of(h)], 1);
	rc_entry *e = find(c, set_of(c, h), h, id);
	if (e)
		entry_clear(c, e);
	pthread_mutex_unlock(mu);
}

void readcache_event(readcache *c, const char *id, int64_t at, const char *type)
{
	uint64_t h = tn_hash_str(id);
	pthread_mutex_t *mu = lock_of(c, h);
	pthread_mutex_lock(mu);
	/* under the set's lock: a read keeping its answer (readcache_put) sees
	 * either the version moved or its entry brought up to date after */
	atomic_fetch_add(&c->cver[cver_of(h)], 1);
	rc_entry *e = find(c, set_of(c, h), h, id);
	if (e) {
		int moved = 0;
		if (e->p.last == TN_NO_TIME || at > e->p.last) {
			e->p.last = at;
			moved = 1;
		}
		for (size_t i = 0; i < e->p.nmiles; i++)
			if (e->p.mile_type[i] && strcmp(e->p.mile_type[i], type) == 0 &&
			    (e->p.mile_at[i] == TN_NO_TIME || at < e->p.mile_at[i])) {
				e->p.mile_at[i] = at;
				moved = 1;
			}
		if (moved) /* rendered again at its next read */
			e->dirty = 1;
	}
	pthread_mutex_unlock(mu);
}

void readcache_writer_begin(readcache *c, const tn_store_mark *before)
{
	pthread_mutex_lock(&c->mark_mu);
	c->pending = before != NULL;
	if (before)
		c->pmark = *before;
	pthread_mutex_unlock(&c->mark_mu);
}

void readcache_writer_commit(readcache *c, const tn_store_mark *before, const tn_store_mark *after, int global)
{
	pthread_mutex_lock(&c->mark_mu);
	/* its transaction began where its last commit left the store, or at a
	 * header the readers have seen (and bumped the epoch for when it was
	 * somebody else's): nothing but its own commit to account for */
	int known = before && ((c->wmark_known && memcmp(&c->wmark, before, sizeof *before) == 0) ||
			       (c->mark_known && memcmp(&c->mark, before, sizeof *before) == 0));
	if (global || !after || !known)
		atomic_fetch_add(&c->epoch, 1);
	c->wmark_known = after != NULL;
	if (after)
		c->wmark = *after;
	c->pending = 0;
	pthread_mutex_unlock(&c->mark_mu);
}

/* Render E's answer again from its body, spans and parts (lock held): the
 * body with its spans put back as marks is the template.  0 when out of
 * memory. */
static int render(readcache *c, rc_entry *e)
{
	size_t nsp = 2 + e->p.nmiles, tlen = e->len;
	for (size_t i = 0; i < nsp; i++)
		tlen = tlen - e->spans[i].len + 2;
	char *tmpl = tn_malloc(tlen + 1), *t = tmpl;
	if (!tmpl)
		return 0;
	size_t from = 0;
	for (size_t i = 0; i < nsp; i++) {
		memcpy(t, e->body + from, e->spans[i].off - from);
		t += e->spans[i].off - from;
		*t++ = TN_PART_MARK;
		*t++ = e->spans[i].mark;
		from = e->spans[i].off + e->spans[i].len;
	}
	memcpy(t, e->body + from, e->len - from);
	t[e->len - from] = '\0';
	e->p.tmpl = tmpl;
	size_t len;
	char *b = tn_customer_parts_render(&e->p, e->value, &len, e->spans);
	e->p.tmpl = NULL;
	free(tmpl);
	if (!b)
		return 0;
	atomic_fetch_sub(&c->bytes, e->len);
	atomic_fetch_add(&c->bytes, len);
	e->bytes = e->bytes - e->len + len;
	/* (the +1 of the terminator stays counted) */
	free(e->body);
	e->body = b;
	e->len = len;
	e->dirty = 0;
	return 1;
}

int readcache_get(readcache *c, const char *id, unsigned long epoch, unsigned long vver, int64_t now,
		  char *(*value_fn)(void *ud, const char *id), void *ud, tn_http_response *rs)
{
	uint64_t h = tn_hash_str(id);
	pthread_mutex_t *mu = lock_of(c, h);
	int hit = 0;
	pthread_mutex_lock(mu);
	rc_entry *e = find(c, set_of(c, h), h, id);
	if (e && (e->epoch != epoch || now >= e->until || e->vver > vver)) {
		if (e->epoch < epoch || now >= e->until)
			entry_clear(c, e); /* stale for good: epochs only grow */
		e = NULL;
	}
	if (e && e->vver < vver) { /* a newer value model: this customer's value from it */
		char *v = value_fn(ud, id);
		size_t old = e->value ? strlen(e->value) + 1 : 0, now_len = v ? strlen(v) + 1 : 0;
		free(e->value);
		e->value = v;
		e->vver = vver;
		atomic_fetch_sub(&c->bytes, old);
		atomic_fetch_add(&c->bytes, now_len);
		e->bytes = e->bytes - old + now_len;
		e->dirty = 1;
	}
	if (e && e->dirty && !render(c, e)) {
		entry_clear(c, e);
		e = NULL;
	}
	if (e && (rs->body = tn_malloc(e->len + 1))) {
		memcpy(rs->body, e->body, e->len + 1);
		rs->len = e->len;
		rs->status = 200;
		rs->content_type = "application/json";
		hit = 1;
	}
	pthread_mutex_unlock(mu);
	atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
	return hit;
}

void readcache_put(readcache *c, const char *id, unsigned long epoch, unsigned cv, unsigned long vver,
		   int64_t until, tn_customer_parts *p, char *value)
{
	uint64_t h = tn_hash_str(id);
	size_t nsp = 2 + p->nmiles;
	size_t need = strlen(id) + 1 + (value ? strlen(value) + 1 : 0) + nsp * sizeof(tn_part_span);
	for (size_t i = 0; i < p->nmiles; i++)
		need += sizeof(char *) + sizeof(tn_time) + (p->mile_type[i] ? strlen(p->mile_type[i]) + 1 : 0);
	if (atomic_load(&c->epoch) != epoch || need + strlen(p->tmpl) > c->max_bytes / 16)
		goto drop; /* already stale; one record does not take the cache */
	/* the answer and where its parts are, rendered outside the lock */
	tn_part_span *spans = tn_malloc(nsp * sizeof *spans);
	size_t len = 0;
	char *body = spans ? tn_customer_parts_render(p, value, &len, spans) : NULL;
	char *idc = body ? tn_strdup(id) : NULL;
	if (!idc) {
		free(spans);
		free(body);
		goto drop;
	}
	free(p->tmpl); /* BODY and SPANS are the template now */
	p->tmpl = NULL;
	need += len + 1;
	pthread_mutex_t *mu = lock_of(c, h);
	pthread_mutex_lock(mu);
	rc_entry *set = set_of(c, h), *e = NULL;
	if (atomic_load(&c->cver[cver_of(h)]) == cv) { /* else the writer touched it since the read began */
		e = find(c, set, h, id);
		for (size_t k = 0; k < RC_WAYS && !e; k++) /* the same customer's entry, else an empty slot */
			if (!set[k].id)
				e = &set[k];
		if (!e) { /* else the oldest makes way */
			e = &set[0];
			for (size_t k = 1; k < RC_WAYS; k++)
				if (set[k].seq < e->seq)
					e = &set[k];
		}
		entry_clear(c, e);
		if (atomic_load(&c->bytes) + need <= c->max_bytes) {
			*e = (rc_entry){.h = h, .id = idc, .p = *p, .value = value, .body = body, .len = len,
					.spans = spans, .bytes = need, .epoch = epoch, .vver = vver, .until = until,
					.seq = atomic_fetch_add(&c->seq, 1) + 1};
			c->tag[e - c->slot] = tag_of(h);
			memset(p, 0, sizeof *p); /* the entry's now */
			value = NULL;
			idc = body = NULL;
			spans = NULL;
			atomic_fetch_add(&c->bytes, need);
		}
	}
	pthread_mutex_unlock(mu);
	free(idc);
	free(body);
	free(spans);
drop:
	tn_customer_parts_free(p);
	free(value);
}

void readcache_stats(readcache *c, unsigned long long *hits, unsigned long long *misses, size_t *bytes)
{
	*hits = c ? atomic_load(&c->hits) : 0;
	*misses = c ? atomic_load(&c->misses) : 0;
	*bytes = c ? atomic_load(&c->bytes) : 0;
}
