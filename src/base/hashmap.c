/*
 * hashmap.c -- the string hash map (tn_strmap) and the row finder
 * (tn_hash_rows); see hashmap.h.
 *
 * Layout of tn_strmap: ENT[0..n) holds each key's hash, value and the offset
 * of its text in POOL (NUL-terminated keys back to back); SLOT[0..cap) is the
 * open-addressing table: each slot holds an entry number in its low 32 bits
 * (UINT32_MAX when empty) and the high 32 bits of that entry's hash (a tag)
 * in its high 32 bits, so a probe that meets another key's slot usually
 * rejects it on the tag alone, without reading that entry or its text (two
 * dependent cache misses each; the slot's position already used the hash's
 * low bits).  An entry also holds its key's first 8 bytes (HEAD), so a key
 * shorter than 8 bytes (customer ids like "c12345") is confirmed without
 * reading POOL: a found key costs the slot and the entry, two cache misses
 * instead of three.  Growing rebuilds SLOT from the stored hashes; the keys
 * are not hashed again.
 */
#include "base/hashmap.h"
#include "base/alloc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX
#define SLOT_EMPTY UINT64_MAX /* entry number EMPTY */
#define SLOT_IDX(v) ((uint32_t)(v))
#define SLOT_OF(h, k) (((h) & 0xffffffff00000000ull) | (uint64_t)(k))

typedef struct entry {
	uint64_t hash;
	uint64_t head; /* the key's first 8 bytes, zero-padded (key_head) */
	int64_t val;
	size_t off; /* of the key in pool */
} entry;

struct tn_strmap {
	entry *ent;
	size_t n, ent_cap;
	char *pool;
	size_t pool_len, pool_cap;
	uint64_t *slot; /* tag << 32 | entry number, see above */
	size_t cap;     /* a power of two, 0 before the first add */
};

uint64_t tn_hash_fnv1a(const char *s, uint64_t basis)
{
	uint64_t h = basis;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull; /* the 64-bit FNV prime */
	return h;
}

uint64_t tn_hash_str(const char *s) { return tn_hash_fnv1a(s, 14695981039346656037ull); }

uint64_t tn_hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

tn_strmap *tn_strmap_new(void) { return tn_calloc(1, sizeof(tn_strmap)); }

void tn_strmap_free(tn_strmap *m)
{
	if (!m)
		return;
	free(m->ent);
	free(m->pool);
	free(m->slot);
	free(m);
}

size_t tn_strmap_count(const tn_strmap *m) { return m->n; }
size_t tn_strmap_bytes(const tn_strmap *m) { return m->pool_len; }

/* KEY's first 8 bytes, zero-padded, in memory order (little-endian or
 * not, the same for every key); *LONG: 1 when KEY has 8 bytes or more (its
 * head holds no NUL, so it never equals a shorter key's head). */
static uint64_t key_head(const char *key, int *longk)
{
	uint64_t v = 0;
	unsigned char b[8] = {0};
	size_t i = 0;
	for (; i < 8 && key[i]; i++)
		b[i] = (unsigned char)key[i];
	memcpy(&v, b, sizeof v);
	*longk = i == 8;
	return v;
}

/* The slot holding KEY (hash H), or the empty slot where it would go. */
static size_t probe(const tn_strmap *m, const char *key, uint64_t h)
{
	assert(m->cap && (m->cap & (m->cap - 1)) == 0 && m->n < m->cap);
	int longk;
	uint64_t head = key_head(key, &longk);
	size_t j = h & (m->cap - 1);
	uint64_t v;
	while (SLOT_IDX(v = m->slot[j]) != EMPTY) {
		if ((v >> 32) == (h >> 32)) {
			const entry *e = &m->ent[SLOT_IDX(v)];
			/* equal heads of short keys are equal keys; a long key's
			 * rest is compared in the pool */
			if (e->hash == h && e->head == head && (!longk || strcmp(m->pool + e->off + 8, key + 8) == 0))
				break;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return j;
}

size_t tn_strmap_find(const tn_strmap *m, const char *key)
{
	if (!m->n)
		return TN_STRMAP_NONE;
	uint32_t k = SLOT_IDX(m->slot[probe(m, key, tn_hash_str(key))]);
	return k == EMPTY ? TN_STRMAP_NONE : k;
}

static int rehash(tn_strmap *m, size_t cap)
{
	uint64_t *slot = tn_malloc(cap * sizeof *slot);
	if (!slot)
		return -1;
	memset(slot, 0xff, cap * sizeof *slot); /* SLOT_EMPTY */
	for (size_t k = 0; k < m->n; k++) {
		size_t j = m->ent[k].hash & (cap - 1);
		while (SLOT_IDX(slot[j]) != EMPTY)
			j = (j + 1) & (cap - 1);
		slot[j] = SLOT_OF(m->ent[k].hash, k);
	}
	free(m->slot);
	m->slot = slot;
	m->cap = cap;
	return 0;
}

/* Make room for NEED elements of size ELEM in *P (capacity *CAP). */
static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			return -1;
		c *= 2;
	}
	void *q = tn_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

int tn_strmap_add(tn_strmap *m, const char *key, size_t *idx)
{
	uint64_t h = tn_hash_str(key);
	size_t j = 0;
	if (m->n) {
		j = probe(m, key, h);
		if (SLOT_IDX(m->slot[j]) != EMPTY) {
			if (idx)
				*idx = SLOT_IDX(m->slot[j]);
			return 0;
		}
	}
	if (m->n >= TN_STRMAP_MAX)
		return -1;
	size_t len = strlen(key) + 1;
	if (len > SIZE_MAX - m->pool_len)
		return -1;
	/* everything that can fail comes before the map changes */
	if (reserve((void **)&m->ent, &m->ent_cap, m->n + 1, sizeof *m->ent) ||
	    reserve((void **)&m->pool, &m->pool_cap, m->pool_len + len, 1))
		return -1;
	if (2 * (m->n + 1) > m->cap) {
		if (rehash(m, m->cap ? 2 * m->cap : 16))
			return -1;
		j = probe(m, key, h);
	}
	assert(m->slot[j] == SLOT_EMPTY);
	memcpy(m->pool + m->pool_len, key, len);
	int longk;
	m->ent[m->n] = (entry){h, key_head(key, &longk), 0, m->pool_len};
	m->pool_len += len;
	m->slot[j] = SLOT_OF(h, m->n);
	if (idx)
		*idx = m->n;
	m->n++;
	return 1;
}

const char *tn_strmap_key(const tn_strmap *m, size_t idx)
{
	assert(idx < m->n);
	return m->pool + m->ent[idx].off;
}

int64_t tn_strmap_val(const tn_strmap *m, size_t idx)
{
	assert(idx < m->n);
	return m->ent[idx].val;
}

void tn_strmap_set(tn_strmap *m, size_t idx, int64_t val)
{
	assert(idx < m->n);
	m->ent[idx].val = val;
}

/* ---- repeated rows of numbers ------------------------------------------- */

static uint64_t bits(double v)
{
	uint64_t u;
	if (v == 0)
		v = 0; /* -0 == +0: the same bits for equal rows */
	memcpy(&u, &v, sizeof u);
	return u;
}

static int row_eq(const double *const *cols, size_t ncol, size_t a, size_t b)
{
	for (size_t c = 0; c < ncol; c++)
		if (!(cols[c][a] == cols[c][b]))
			return 0;
	return 1;
}

size_t tn_hash_rows(const double *const *cols, size_t ncol, size_t n, uint32_t *first)
{
	assert(ncol >= 1 && ncol <= 8 && n <= TN_STRMAP_MAX);
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	uint32_t *slot = tn_malloc(cap * sizeof *slot);
	if (!slot)
		return SIZE_MAX;
	memset(slot, 0xff, cap * sizeof *slot);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = 0;
		for (size_t c = ncol; c-- > 0;)
			h = tn_hash_mix64(bits(cols[c][i]) ^ h);
		size_t k = h & (cap - 1);
		for (;;) {
			uint32_t f = slot[k];
			if (f == EMPTY) {
				slot[k] = (uint32_t)i;
				first[i] = (uint32_t)i;
				distinct++;
				break;
			}
			if (row_eq(cols, ncol, f, i)) {
				first[i] = f;
				break;
			}
			k = (k + 1) & (cap - 1);
		}
	}
	free(slot);
	return distinct;
}

/* ---- tn_u64set ------------------------------------------------------------
 * Fingerprint 0 marks an empty slot, so a fingerprint 0 is stored as 1 (a
 * filter may say "maybe" more often than needed, never less). */
struct tn_u64set {
	uint64_t *slot;
	size_t n, cap; /* cap: a power of two, 0 before the first add */
};

tn_u64set *tn_u64set_new(void) { return tn_calloc(1, sizeof(tn_u64set)); }

tn_u64set *tn_u64set_new_for(size_t n)
{
	tn_u64set *m = tn_u64set_new();
	size_t cap = 1024;
	while (cap / 2 < n && cap < ((size_t)1 << 40))
		cap *= 2;
	if (m && !(m->slot = tn_calloc(cap, sizeof *m->slot))) {
		free(m);
		return NULL;
	}
	if (m)
		m->cap = cap;
	return m;
}

void tn_u64set_free(tn_u64set *m)
{
	if (!m)
		return;
	free(m->slot);
	free(m);
}

size_t tn_u64set_count(const tn_u64set *m) { return m ? m->n : 0; }
size_t tn_u64set_bytes(const tn_u64set *m) { return m ? m->cap * sizeof *m->slot : 0; }

int tn_u64set_has(const tn_u64set *m, uint64_t h)
{
	if (!m || !m->cap)
		return 0;
	h += h == 0;
	size_t mask = m->cap - 1;
	for (size_t j = tn_hash_mix64(h) & mask;; j = (j + 1) & mask) {
		if (m->slot[j] == h)
			return 1;
		if (m->slot[j] == 0)
			return 0;
	}
}

static void u64_put(uint64_t *slot, size_t cap, uint64_t h)
{
	size_t mask = cap - 1;
	size_t j = tn_hash_mix64(h) & mask;
	while (slot[j] != 0 && slot[j] != h)
		j = (j + 1) & mask;
	slot[j] = h;
}

int tn_u64set_add(tn_u64set *m, uint64_t h)
{
	h += h == 0;
	if (m->cap) { /* one probe finds it, or the empty slot it goes in */
		size_t mask = m->cap - 1;
		size_t j = tn_hash_mix64(h) & mask;
		while (m->slot[j] != 0) {
			if (m->slot[j] == h)
				return 0;
			j = (j + 1) & mask;
		}
		if (2 * (m->n + 1) <= m->cap) {
			m->slot[j] = h;
			m->n++;
			return 1;
		}
	}
	{
		size_t cap = m->cap ? 2 * m->cap : 1024;
		uint64_t *slot = tn_calloc(cap, sizeof *slot);
		if (!slot)
			return -1;
		for (size_t k = 0; k < m->cap; k++)
			if (m->slot[k])
				u64_put(slot, cap, m->slot[k]);
		free(m->slot);
		m->slot = slot;
		m->cap = cap;
	}
	u64_put(m->slot, m->cap, h);
	m->n++;
	return 1;
}
