/*
 * bench_clock.h -- the two clocks the C benchmarks report: the process's
 * CPU seconds (user + system, the fair figure on a shared machine) and
 * monotonic wall seconds.  Header-only: each benchmark is one file built by
 * its script.
 */
#ifndef TENURE_BENCH_CLOCK_H
#define TENURE_BENCH_CLOCK_H

#include <sys/resource.h>
#include <time.h>

static inline double bench_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
