/*
 * alloc.c -- the library's allocator: the C library's malloc family behind
 * one door, with a fault-injection hook for the out-of-memory tests
 * (tests/unit/test_alloc.c walks every allocation of an import and of an
 * analysis and fails each in turn).  See alloc.h for the policy.
 */
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static long fail_countdown; /* > 0: allocations left before the one that fails */
static int fail_persist;    /* after the failure: keep failing */
static int failing;         /* the failure happened and persists */
static long failures;
static _Thread_local unsigned long nfailed; /* every NULL returned, real or injected */

/* Should this allocation fail?  Only a test arms the countdown. */
static int inject(void)
{
	if (failing) {
		failures++;
		return 1;
	}
	if (fail_countdown <= 0 || --fail_countdown > 0)
		return 0;
	failures++;
	failing = fail_persist;
	return 1;
}

static void *counted(void *p)
{
	if (!p)
		nfailed++;
	return p;
}

void *tn_malloc(size_t size)
{
	return counted(inject() ? NULL : malloc(size ? size : 1));
}

void *tn_calloc(size_t n, size_t size)
{
	return counted(inject() ? NULL : calloc(n ? n : 1, size ? size : 1));
}

void *tn_realloc(void *p, size_t size)
{
	return counted(inject() ? NULL : realloc(p, size ? size : 1));
}

unsigned long tn_alloc_failed_count(void)
{
	return nfailed;
}

char *tn_strdup(const char *s)
{
	if (!s) /* sqlite3_column_text() of a NOT NULL column: SQLite ran out of memory */
		return counted(NULL);
	size_t n = strlen(s) + 1;
	char *d = tn_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void *json_malloc(size_t size)
{
	return tn_malloc(size);
}

/* cJSON's hooks are process-wide: set them once, before main() where the
 * compiler allows (so no thread can be using cJSON while they change). */
#if defined(__GNUC__)
__attribute__((constructor))
#endif
static void hook_json(void)
{
	cJSON_Hooks h = {json_malloc, free};
	cJSON_InitHooks(&h);
}

void tn_alloc_hook_json(void)
{
#if !defined(__GNUC__)
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, hook_json);
#endif
}

void tn_alloc_fail_at(long nth, int persist)
{
	tn_alloc_hook_json();
	fail_countdown = nth > 0 ? nth : 0;
	fail_persist = persist;
	failing = 0;
	failures = 0;
}

long tn_alloc_failures(void)
{
	return failures;
}
