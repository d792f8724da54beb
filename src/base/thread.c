/*
 * thread.c -- a background thread's name and priority (base/thread.h).
 */
#include "base/thread.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_int warned;

static void warn_once(const char *name, const char *what, int e)
{
	if (atomic_exchange(&warned, 1) == 0)
		fprintf(stderr, "tenure serve: thread %s: %s: %s (it runs at the normal priority)\n", name, what,
			strerror(e));
}

void tn_thread_background(const char *name)
{
	/* the name only helps a person looking at the threads: no message */
	char comm[16];
	snprintf(comm, sizeof comm, "%s", name);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	/* PRIO_PROCESS with who 0 is the calling thread on Linux, not the
	 * whole process (setpriority(2), "BUGS": the nice value is a
	 * per-thread attribute); raising one's own nice value needs no
	 * privilege, so this fails only under a seccomp filter or the like */
	/* relative to the main thread's (tid = pid), so that a server started
	 * with `nice -n 5` keeps its background 10 below its requests, and a
	 * second call changes nothing */
	errno = 0;
	int base = getpriority(PRIO_PROCESS, (id_t)getpid());
	if (base == -1 && errno) {
		warn_once(name, "cannot read the server's CPU priority (getpriority)", errno);
		return;
	}
	int want = base + TN_BACKGROUND_NICE > 19 ? 19 : base + TN_BACKGROUND_NICE;
	if (setpriority(PRIO_PROCESS, 0, want) != 0)
		warn_once(name, "cannot lower its CPU priority (setpriority)", errno);
}
