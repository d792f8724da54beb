/* test_thread.c -- tn_thread_background: a background thread's name and nice
 * value (base/thread.h), and that the threads it starts inherit the value. */
#include "testutil.h"
#include "base/thread.h"

#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

typedef struct {
	int nice, again, child, main_after;
	char name[16];
} seen;

static int my_nice(void)
{
	errno = 0;
	int n = getpriority(PRIO_PROCESS, 0); /* the calling thread (Linux) */
	return n == -1 && errno ? -100 : n;
}

static void *child(void *p)
{
	*(int *)p = my_nice();
	return NULL;
}

static void *background(void *p)
{
	seen *s = p;
	tn_thread_background("tn-test-a-long-name");
	s->nice = my_nice();
	prctl(PR_GET_NAME, s->name, 0, 0, 0);
	pthread_t th;
	s->child = -100;
	if (pthread_create(&th, NULL, child, &s->child) == 0)
		pthread_join(th, NULL);
	tn_thread_background("tn-test"); /* twice: relative to the main thread, not to itself */
	s->again = my_nice();
	return NULL;
}

static void test_background(void **state)
{
	(void)state;
	int before = my_nice();
	assert_true(before > -100);
	int want = before + TN_BACKGROUND_NICE > 19 ? 19 : before + TN_BACKGROUND_NICE;
	seen s = {0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, background, &s), 0);
	pthread_join(th, NULL);
	assert_int_equal(s.nice, want);
	assert_int_equal(s.again, want);
	assert_int_equal(s.child, want); /* an analysis's worker thread runs at its thread's priority */
	assert_string_equal(s.name, "tn-test-a-long-"); /* 15 characters kept */
	assert_int_equal(my_nice(), before); /* the rest of the process is untouched */
	/* a thread started afterwards by the main thread: normal priority */
	int other = -100;
	assert_int_equal(pthread_create(&th, NULL, child, &other), 0);
	pthread_join(th, NULL);
	assert_int_equal(other, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_background)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
