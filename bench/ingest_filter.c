/*
 * ingest_filter.c -- the server writer's events path without HTTP: a
 * journaling store (as `tenure serve` opens it) takes NEVENTS new events for
 * random customers of the demo in batches of 500, 40 batches a group commit
 * (tn_store_put_event, tn_store_flush, commit: what writer.c does for
 * POST /v1/events, without the JSON and the read cache), with the filter of
 * events' keys (store.c, "events keys") loaded first (MODE on) or off (MODE
 * off: the probe of events' index for every event, as before it).  Prints
 * the writer thread's CPU per event (the fair figure on a shared machine),
 * the load's CPU, and the events added.  Run by bench/ingest_filter.sh.
 * Usage: ingest_filter DB on|off NEVENTS CUSTOMERS
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "tenure.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ingest_filter DB on|off NEVENTS CUSTOMERS\n");
		return 2;
	}
	int on = strcmp(argv[2], "on") == 0;
	long n = atol(argv[3]), customers = atol(argv[4]);
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
	}
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
