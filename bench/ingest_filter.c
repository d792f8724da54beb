/*
 * ingest_filter.c -- the server writer's events path without HTTP: a
 * journaling store (as `tenure serve` opens it) takes NEVENTS new events for
 * random customers of the demo in batches of 500, 40 batches a group commit
 * (tn_store_put_event, tn_store_flush, commit: what writer.c does for
 * POST /v1/events, without the JSON and the read cache), with the filter of
 * events' keys (store.c, "events keys") loaded first (MODE on) or off (MODE
 * off: the probe of events' index for every event, as before it).  Prints
 * the writer thread's CPU per event (the fair figure on a shared machine),
 * the load's CPU, and the events added.  With FOLD_ROWS > 0 the journal is
 * folded as the server's writer folds it (a step of 50,000 rows after each
 * group commit once it holds FOLD_ROWS rows), the folds' CPU counted apart
 * and in the total; the RSS is printed every 500,000 events, and its peak.
 * Run by bench/ingest_filter.sh.
 * Usage: ingest_filter DB on|off NEVENTS CUSTOMERS [FOLD_ROWS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_clock.h"
#include "tenure.h"

/* This process's resident memory now, in MB (0 when unknown). */
static long rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb / 1024;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: ingest_filter DB on|off NEVENTS CUSTOMERS [FOLD_ROWS]\n");
		return 2;
	}
	int on = strcmp(argv[2], "on") == 0;
	long n = atol(argv[3]), customers = atol(argv[4]);
	long long fold_rows = argc == 6 ? atoll(argv[5]) : 0, folded = 0;
	double fold_cpu = 0;
	int folding = 0;
	tn_store *s = NULL;
	tn_error err = {0};
	if (tn_store_open(argv[1], 0, &s, &err) || tn_store_wal(s, &err) || tn_store_journal(s, 1, &err)) {
		fprintf(stderr, "ingest_filter: %s\n", err.msg);
		return 1;
	}
	double c0 = bench_cpu(), w0 = bench_now();
	if (on) {
		int more = 1;
		while (more)
			if (tn_store_events_filter_step(s, 250000, &more, &err)) {
				fprintf(stderr, "ingest_filter: %s\n", err.msg);
				return 1;
			}
	} else {
		tn_store_events_filter_max(s, 1); /* over the bound at once: never loaded */
		int more = 0;
		tn_store_events_filter_step(s, 1, &more, &err);
	}
	double load_cpu = bench_cpu() - c0, load_wall = bench_now() - w0;
	long long keys = tn_store_events_filter(s, NULL);
	srand(12345);
	char cust[16], id[48];
	long long added = 0;
	c0 = bench_cpu();
	w0 = bench_now();
	for (long done = 0; done < n;) {
		if (tn_store_begin(s, &err))
			break;
		for (int b = 0; b < 40 && done < n; b++) {
			for (int i = 0; i < 500 && done < n; i++, done++) {
				snprintf(cust, sizeof cust, "C%06ld", 1 + (long)rand() % customers);
				snprintf(id, sizeof id, "bench-%ld", done);
				tn_event_rec e = {.customer = cust,
						  .at = 1700000000 + (tn_time)(rand() % (86400 * 300)),
						  .type = "bench",
						  .amount = NAN,
						  .id = id};
				if (tn_store_put_event(s, &e, &err))
					goto fail;
			}
			long long a = 0;
			if (tn_store_flush(s, &a, &err))
				goto fail;
			added += a;
		}
		if (tn_store_commit(s, &err))
			goto fail;
		if (done % 500000 == 0) {
			printf("%s%ld", done == 500000 ? "RSS (MB) every 500,000 events: " : " ", rss_mb());
			fflush(stdout);
		}
		if (fold_rows > 0 && (folding || tn_store_journal_rows(s) >= fold_rows)) {
			int fdone = 0;
			long long moved = 0;
			double f0 = bench_cpu();
			if (tn_store_fold_step(s, 50000, &fdone, &moved, &err))
				goto fail;
			fold_cpu += bench_cpu() - f0;
			folded += moved;
			folding = !fdone;
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%speak RSS %ld MB\n", n >= 500000 ? "; " : "", ru.ru_maxrss / 1024);
	if (fold_rows > 0)
		printf("folds: %lld rows folded, %.2f CPU-s, %.2f us a row folded (in the writer CPU below)\n", folded,
		       fold_cpu, fold_cpu * 1e6 / (double)(folded ? folded : 1));
	double cpu = bench_cpu() - c0, wall = bench_now() - w0;
	printf("filter %s: %ld events, %lld added; writer CPU %.2f us an event (%.0f events per CPU-second), wall "
	       "%.0f events/s; the filter's load %.2f CPU-s (%.2f s wall) for %lld keys\n",
	       on ? "on " : "off", n, added, cpu * 1e6 / (double)n, (double)n / cpu, (double)n / wall, load_cpu,
	       load_wall, keys);
	tn_store_close(s);
	return 0;
fail:
	fprintf(stderr, "ingest_filter: %s\n", err.msg);
	tn_store_close(s);
	return 1;
}
