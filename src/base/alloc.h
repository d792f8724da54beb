/*
 * alloc.h -- internal: the one allocator every libtenure allocation goes
 * through (SQLite's sqlite3_malloc, Lua's lua_Alloc in miniature).
 *
 * The functions behave as the C library's (the memory is the C library's:
 * release it with free()), and fail exactly when those fail -- or when a test
 * has asked for a failure with tn_alloc_fail_at().  Policy: every caller
 * checks the result and turns NULL into TN_ERR_NOMEM with a message, leaving
 * nothing half-written (a store write rolls back).  SQLite, cJSON (hooked
 * by tn_alloc_hook_json), utf8proc, NLopt and xgboost allocate for
 * themselves; their failures reach us as their own error codes.
 */
#ifndef TENURE_ALLOC_H
#define TENURE_ALLOC_H

#include <stddef.h>

void *tn_malloc(size_t size);
void *tn_calloc(size_t n, size_t size);
void *tn_realloc(void *p, size_t size);
/* tn_strdup(NULL) is NULL, a failure: what sqlite3_column_text() returns for
 * a NOT NULL column when SQLite is out of memory. */
char *tn_strdup(const char *s);

/* Allocations that returned NULL in this thread so far (real or injected):
 * a caller of a library that cannot tell "out of memory" from "bad input"
 * (cJSON_Parse returns NULL for both) compares it before and after. */
unsigned long tn_alloc_failed_count(void);

/* Route cJSON's allocations through tn_malloc (once per process, before
 * main() with GCC and Clang; the memory stays free()-compatible). */
void tn_alloc_hook_json(void);

/* Test hook: make the NTH allocation from now fail (1 = the next one), and
 * with PERSIST every one after it too; NTH <= 0 disarms.  Counting starts
 * at the call, so a test can walk N = 1, 2, ... until an operation succeeds
 * with no failure injected.  Not thread-safe: for single-threaded tests. */
void tn_alloc_fail_at(long nth, int persist);
/* Allocations failed on purpose since the last tn_alloc_fail_at(). */
long tn_alloc_failures(void);

#endif
