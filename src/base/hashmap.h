/*
 * hashmap.h -- internal: the one string hash map of libtenure, and the hash
 * functions behind it.
 *
 * tn_strmap maps strings to dense indices 0, 1, 2, ... in the order the keys
 * were first added (an interning table), with one int64 value per key.  Keys
 * are copied into the map.  Open addressing with linear probing over a table
 * at most half full; the hash is FNV-1a (Fowler, Noll & Vo), compared before
 * the key.  No deletion: every use (customer ids, event types, category
 * levels, score files) only adds and looks up.
 *
 * tn_hash_rows finds repeated rows of doubles the same way (first-seen order).
 * Not part of the public API.
 */
#ifndef TN_HASHMAP_H
#define TN_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits, of the bytes of the string S up to its NUL. */
uint64_t tn_hash_str(const char *s);
/* The same from another starting value BASIS (FNV-1a's is 14695981039346656037). */
uint64_t tn_hash_fnv1a(const char *s, uint64_t basis);
/* A 64-bit finaliser (MurmurHash3's fmix64, Appleby): every input bit
 * affects every output bit. */
uint64_t tn_hash_mix64(uint64_t h);

#define TN_STRMAP_NONE SIZE_MAX
/* At most this many keys (indices fit 32 bits). */
#define TN_STRMAP_MAX ((size_t)UINT32_MAX - 1)

typedef struct tn_strmap tn_strmap;

/* An empty map, or NULL when out of memory.  Free with tn_strmap_free. */
tn_strmap *tn_strmap_new(void);
void tn_strmap_free(tn_strmap *m);
/* The number of keys. */
size_t tn_strmap_count(const tn_strmap *m);
/* The bytes of key text held (each key with its NUL). */
size_t tn_strmap_bytes(const tn_strmap *m);
/* The index of KEY, or TN_STRMAP_NONE. */
size_t tn_strmap_find(const tn_strmap *m, const char *key);
/* Add a copy of KEY (value 0) when absent, and set *IDX (may be NULL) to its
 * index.  Returns 1 when added, 0 when already present, -1 when out of memory
 * or full (the map is then unchanged). */
int tn_strmap_add(tn_strmap *m, const char *key, size_t *idx);
/* The key of index IDX (< count); valid until the next add or free. */
const char *tn_strmap_key(const tn_strmap *m, size_t idx);
/* The value of index IDX (< count), and setting it. */
int64_t tn_strmap_val(const tn_strmap *m, size_t idx);
void tn_strmap_set(tn_strmap *m, size_t idx, int64_t val);

/* Repeated rows of the N x NCOL table COLS[c][i] (NCOL <= 8, N <= TN_STRMAP_MAX):
 * FIRST[i] is the index of the first row equal to row i (all columns ==, so a
 * row with a NaN equals no other row).  Returns the number of distinct rows,
 * or SIZE_MAX when out of memory. */
size_t tn_hash_rows(const double *const *cols, size_t ncol, size_t n, uint32_t *first);

/* tn_u64set: a set of 64-bit fingerprints (hashes of longer keys), open
 * addressing with linear probing over a table at most half full, 8 bytes a
 * slot.  A filter, not a map: a fingerprint held says "maybe", one not held
 * says "certainly not" -- callers confirm a "maybe" against the real keys.
 * No deletion. */
typedef struct tn_u64set tn_u64set;
/* An empty set, or NULL when out of memory.  Free with tn_u64set_free. */
tn_u64set *tn_u64set_new(void);
/* An empty set whose table holds N values without growing (each growth
 * rehashes every value: a set that is refilled to about the same size, like
 * the server's journal keys after each fold, is best made at that size). */
tn_u64set *tn_u64set_new_for(size_t n);
void tn_u64set_free(tn_u64set *m);
size_t tn_u64set_count(const tn_u64set *m);
/* The bytes of its table. */
size_t tn_u64set_bytes(const tn_u64set *m);
/* 1 when H is in the set (M may be NULL: 0). */
int tn_u64set_has(const tn_u64set *m, uint64_t h);
/* Add H: 1 added, 0 present already, -1 out of memory (the set unchanged). */
int tn_u64set_add(tn_u64set *m, uint64_t h);

#endif
