/*
 * feedback_scores_bench.c -- bench program for bench/bench_feedback.sh:
 * NPS, CSAT and CES over N answers held in memory (tn_fb_nps, tn_fb_csat,
 * tn_fb_ces over plain arrays).  Prints seconds per metric and the total.
 * Usage: feedback_scores_bench N
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tenure/feedback.h"
#include "base/rng.h" /* the library's one RNG (src/base/rng.h) */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000;
	if (n <= 0)
		return 2;
	double *nps = malloc((size_t)n * sizeof *nps), *csat = malloc((size_t)n * sizeof *csat),
	       *ces = malloc((size_t)n * sizeof *ces);
	if (!nps || !csat || !ces)
		return 1;
	tn_rng r;
	tn_rng_seed(&r, 1, 0);
	for (long i = 0; i < n; i++) {
		uint64_t x = tn_rng_next(&r);
		nps[i] = (double)(x % 11);
		csat[i] = (double)(1 + (x >> 8) % 5);
		ces[i] = (double)(1 + (x >> 16) % 7);
	}
	tn_fb_score a, b, c;
	double t0 = now();
	tn_fb_nps(nps, (size_t)n, &a);
	double t1 = now();
	tn_fb_csat(csat, (size_t)n, &b);
	double t2 = now();
	tn_fb_ces(ces, (size_t)n, &c);
	double t3 = now();
	printf("answers %ld: nps %.2f [%.2f, %.2f] in %.3fs; csat %.2f%% in %.3fs; ces %.3f in %.3fs; total %.3fs\n", n,
	       a.value, a.lo, a.hi, t1 - t0, b.value, t2 - t1, c.value, t3 - t2, t3 - t0);
	free(nps);
	free(csat);
	free(ces);
	return 0;
}
