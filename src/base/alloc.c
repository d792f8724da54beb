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
#include <sys/mman.h>
#include <stdint.h>

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

/* A large buffer (a frame's column, a design matrix, a sort's keys) asks
 * for transparent huge pages where the system offers them on request
 * (/sys/kernel/mm/transparent_hugepage/enabled = madvise): its first touch
 * then costs one fault per 2 MB instead of one per 4 KB, a fifth to a third
 * of the CPU of reading a file into columns on a virtual machine.  Only the
 * whole 2 MB pages inside the buffer are advised; failure changes nothing. */
#define TN_HUGE_MIN ((size_t)8 << 20)
#define TN_HUGE_PAGE ((uintptr_t)2 << 20)

static void *huge(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
	if (p && size >= TN_HUGE_MIN) {
		uintptr_t a = ((uintptr_t)p + TN_HUGE_PAGE - 1) & ~(TN_HUGE_PAGE - 1);
		uintptr_t b = ((uintptr_t)p + size) & ~(TN_HUGE_PAGE - 1);
		if (b > a)
			(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
	}
#else
	(void)size;
#endif
	return p;
}

void *tn_malloc(size_t size)
{
	return counted(inject() ? NULL : huge(malloc(size ? size : 1), size));
}

void *tn_calloc(size_t n, size_t size)
{
	return counted(inject() ? NULL
				: huge(calloc(n ? n : 1, size ? size : 1),
				       n && size && n <= SIZE_MAX / size ? n * size : 0));
}

void *tn_realloc(void *p, size_t size)
{
	return counted(inject() ? NULL : huge(realloc(p, size ? size : 1), size));
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
