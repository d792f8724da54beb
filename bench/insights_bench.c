/*
 * insights_bench.c -- timing driver for bench/bench_insights.sh: the
 * dashboard's insights value ("insights|": make_insights in
 * src/web/web_pages.c) on a store opened as a warming connection opens it
 * (TN_STORE_LIVE, read only, mapped), in its three parts: the scoring (the
 * features at two cut-offs, the risk model, the scores and the live value:
 * on the server a helper thread's), the churn frame, and the tables
 * (tn_report_insights_shared given both: the survey scores, the complaints
 * with their 30 Cox fits, the matrix, the words, the profitability, the risk
 * table).  Prints each part's CPU seconds (the process's: the Cox fits may
 * use a second thread) to stderr and the tables to stdout, so two builds'
 * outputs can be compared.  The labels must be there already (the server
 * and `tenure report` write them on a first start).
 * usage: insights_bench STORE
 */
#include "tenure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const tn_error *e)
{
	fprintf(stderr, "insights_bench: %s\n", e->msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: insights_bench STORE\n");
		return 2;
	}
	tn_store *s;
	tn_error e = {0};
	if (tn_store_open(argv[1], TN_STORE_LIVE | TN_STORE_READONLY, &s, &e))
		return fail(&e);
	tn_store_scan_mmap(s);
	tn_churn_def d;
	tn_time as_of;
	char cur[4] = "";
	if (tn_churn_def_load(s, NULL, &d, &e) || tn_churn_data_end(s, &as_of, &e) ||
	    tn_store_reporting_currency(s, cur, &e))
		return fail(&e);
	double c0 = cpu_s();
	tn_report_scores sc = {0};
	tn_report_scores_compute(s, as_of, NULL, &sc);
	tn_report_scores_value(s, &d, as_of, &sc);
	double c1 = cpu_s();
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME};
	tn_frame *f = tn_churn_frame(s, &d, &fo, &e);
	if (!f)
		return fail(&e);
	double c2 = cpu_s();
	tn_report_table *t;
	size_t n;
	if (tn_report_insights_shared(s, &d, as_of, NULL, cur, &sc, f, &t, &n, &e))
		return fail(&e);
	double c3 = cpu_s();
	for (size_t i = 0; i < n; i++) {
		printf("## %s\n%s\n", t[i].title, t[i].reading ? t[i].reading : "");
		for (size_t r = 0; r < t[i].nrows; r++) {
			for (size_t c = 0; c < t[i].ncols; c++)
				printf("%s|", t[i].cells[r * t[i].ncols + c] ? t[i].cells[r * t[i].ncols + c] : "(null)");
			printf("\n");
		}
	}
	fprintf(stderr, "CPU scoring %.2f s, churn frame %.2f s, tables %.2f s, insights %.2f s\n", c1 - c0, c2 - c1,
		c3 - c2, c3 - c0);
	tn_report_tables_free(t, n);
	tn_report_scores_clear(&sc);
	tn_frame_free(f);
	tn_store_close(s);
	return 0;
}
