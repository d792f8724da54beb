/*
 * actions_report_bench.c -- timing driver for bench/bench_actions_report.sh:
 * the dashboard's /act computation (tn_report_actions, what the server's
 * warming thread runs for "actions") on a store opened as the server opens
 * it (TN_STORE_LIVE), one part at a time or whole.  Prints each part's CPU
 * seconds and the process's peak RSS so far, and (part "all") the tables, so
 * two builds' outputs can be compared.
 * usage: actions_report_bench STORE [all|offers|winback|check|risk|journey]
 */
#include "tenure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_mb(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_maxrss / 1024;
}

static int fail(const tn_error *e)
{
	fprintf(stderr, "actions_report_bench: %s\n", e->msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: actions_report_bench STORE [all|offers|winback|check|risk|journey]\n");
		return 2;
	}
	const char *what = argc > 2 ? argv[2] : "all";
	tn_store *s;
	tn_error e = {0};
	if (tn_store_open(argv[1], TN_STORE_LIVE, &s, &e))
		return fail(&e);
	double c0 = cpu_s();
	tn_time now;
	if (tn_actions_now(s, &now, &e))
		return fail(&e);
	double c1 = cpu_s();
	if (strcmp(what, "all") == 0) {
		tn_report_table *t;
		size_t n;
		if (tn_report_actions(s, now, &t, &n, &e))
			return fail(&e);
		for (size_t i = 0; i < n; i++) {
			printf("## %s\n%s\n", t[i].title, t[i].reading ? t[i].reading : "");
			for (size_t r = 0; r < t[i].nrows; r++) {
				for (size_t c = 0; c < t[i].ncols; c++)
					printf("%s|", t[i].cells[r * t[i].ncols + c]);
				printf("\n");
			}
		}
		tn_report_tables_free(t, n);
	} else if (strcmp(what, "offers") == 0) {
		tn_offer_effect x;
		int rc = tn_offers_measure(s, 0, &x, &e);
		if (rc && rc != TN_ERR_NOTFOUND)
			return fail(&e);
	} else if (strcmp(what, "winback") == 0) {
		tn_winback_stats *st;
		size_t n;
		if (tn_winback_report(s, NULL, 30, now, &st, &n, &e))
			return fail(&e);
		tn_winback_stats_free(st, n);
	} else if (strcmp(what, "check") == 0) {
		tn_points_check ck;
		if (tn_points_check_run(s, &ck, &e))
			return fail(&e);
		printf("points check: entries %lld customers %lld outstanding %lld mismatched balance %ld lots %ld "
		       "negative %ld fifo %ld\n",
		       ck.entries, ck.customers, ck.outstanding, ck.mismatched_balance, ck.mismatched_lots, ck.negative,
		       ck.mismatched_fifo);
	} else if (strcmp(what, "risk") == 0) {
		tn_rowset *r = NULL;
		if (tn_points_at_risk(s, now, 30, NULL, 1.1, &r, &e))
			return fail(&e);
		tn_rowset_free(r);
	} else if (strcmp(what, "journey") == 0) {
		tn_journey *j;
		if (tn_journey_load(s, now, &j, &e))
			return fail(&e);
		tn_journey_free(j);
	} else {
		fprintf(stderr, "actions_report_bench: unknown part %s\n", what);
		return 2;
	}
	fprintf(stderr, "%-8s CPU %6.2f s (the store's last instant: %.2f s more), peak RSS %ld MB\n", what,
		cpu_s() - c1, c1 - c0, peak_mb());
	tn_store_close(s);
	return 0;
}
