/*
 * metrics.c -- the server's counters for GET /metrics, in the Prometheus
 * text exposition format (version 0.0.4): requests by route and status,
 * request latency histograms by route class, rows ingested, the write
 * queue's depth and the time commits take.
 */
#include "server/server_internal.h"
#include "base/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bucket upper bounds in seconds (the same for latency and commit time). */
static const double bounds[TN_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					      0.05,   0.1,   0.25,   0.5,   1,    5};
static const char *const class_names[R_NROUTES] = {"healthz", "metrics", "write", "customer", "analysis", "other"};

void metrics_init(tn_metrics *m)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
}

void metrics_free(tn_metrics *m)
{
	free(m->by_status);
	pthread_mutex_destroy(&m->mu);
}

static int bucket(double s)
{
	int b = 0;
	while (b < TN_LAT_BUCKETS && s > bounds[b])
		b++;
	return b;
}

void metrics_request(tn_metrics *m, int cls, const char *route, int status, double seconds)
{
	pthread_mutex_lock(&m->mu);
	size_t i = 0;
	while (i < m->nby && (m->by_status[i].status != status || strcmp(m->by_status[i].name, route) != 0))
		i++;
	if (i == m->nby && m->nby == m->capby) {
		size_t cap = m->capby ? m->capby * 2 : 32;
		route_stat *p = tn_realloc(m->by_status, cap * sizeof *p);
		if (p) {
			m->by_status = p;
			m->capby = cap;
		}
	}
	if (i < m->capby) {
		if (i == m->nby)
			m->by_status[m->nby++] = (route_stat){route, status, 0};
		m->by_status[i].count++;
	}
	m->lat[cls][bucket(seconds)]++;
	m->lat_sum[cls] += seconds;
	m->lat_count[cls]++;
	pthread_mutex_unlock(&m->mu);
}

void metrics_commit(tn_metrics *m, double seconds, unsigned long long rows, unsigned long long fast_rows)
{
	pthread_mutex_lock(&m->mu);
	m->fast_rows += fast_rows;
	m->commits++;
	m->commit_seconds += seconds;
	m->commit_hist[bucket(seconds)]++;
	m->rows_ingested += rows;
	pthread_mutex_unlock(&m->mu);
}

void metrics_fold(tn_metrics *m, double seconds, int ok)
{
	pthread_mutex_lock(&m->mu);
	m->folds++;
	m->fold_failures += !ok;
	m->fold_seconds += seconds;
	pthread_mutex_unlock(&m->mu);
}

void metrics_fold_cpu(tn_metrics *m, double cpu_seconds, long long moved)
{
	pthread_mutex_lock(&m->mu);
	m->fold_cpu_seconds += cpu_seconds;
	m->fold_rows += moved > 0 ? (unsigned long long)moved : 0;
	pthread_mutex_unlock(&m->mu);
}

void metrics_value_refit(tn_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	m->value_refits++;
	m->value_refit_seconds += seconds;
	pthread_mutex_unlock(&m->mu);
}

void metrics_fold_step(tn_metrics *m, double seconds)
{
	pthread_mutex_lock(&m->mu);
	m->fold_steps++;
	if (seconds > m->fold_step_max)
		m->fold_step_max = seconds;
	pthread_mutex_unlock(&m->mu);
}

static void histogram(FILE *fp, const char *name, const char *label, const unsigned long long *h, double sum,
		      unsigned long long count)
{
	unsigned long long cum = 0;
	const char *sep = *label ? "," : "";
	for (int b = 0; b < TN_LAT_BUCKETS; b++) {
		cum += h[b];
		fprintf(fp, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, label, sep, bounds[b], cum);
	}
	fprintf(fp, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, label, sep, count);
	if (*label) {
		fprintf(fp, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", name, label, sum, name, label, count);
	} else {
		fprintf(fp, "%s_sum %.9g\n%s_count %llu\n", name, sum, name, count);
	}
}

char *metrics_text(tn_metrics *m, long queue_depth, long in_flight, const metrics_cache *rc, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	if (!fp)
		return NULL;
	pthread_mutex_lock(&m->mu);
	fputs("# HELP tenure_http_requests_total HTTP requests answered, by route and status.\n"
	      "# TYPE tenure_http_requests_total counter\n", fp);
	for (size_t i = 0; i < m->nby; i++)
		fprintf(fp, "tenure_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", m->by_status[i].name,
			m->by_status[i].status, m->by_status[i].count);
	fputs("# HELP tenure_http_request_duration_seconds Time to answer a request, by kind of route.\n"
	      "# TYPE tenure_http_request_duration_seconds histogram\n", fp);
	for (int c = 0; c < R_NROUTES; c++) {
		char label[48];
		snprintf(label, sizeof label, "class=\"%s\"", class_names[c]);
		histogram(fp, "tenure_http_request_duration_seconds", label, m->lat[c], m->lat_sum[c],
			  m->lat_count[c]);
	}
	fprintf(fp, "# HELP tenure_rows_ingested_total Rows committed by the write routes.\n"
		    "# TYPE tenure_rows_ingested_total counter\ntenure_rows_ingested_total %llu\n",
		m->rows_ingested);
	fprintf(fp, "# HELP tenure_events_fast_path_total Events committed that were read by the events fast path.\n"
		    "# TYPE tenure_events_fast_path_total counter\ntenure_events_fast_path_total %llu\n",
		m->fast_rows);
	fprintf(fp, "# HELP tenure_write_queue_depth Write requests waiting for the writer.\n"
		    "# TYPE tenure_write_queue_depth gauge\ntenure_write_queue_depth %ld\n",
		queue_depth);
	/* what a graceful shutdown waits for (tn_server_quiesce); the e2e test of
	 * SIGTERM waits for its slow request to show here before it signals */
	fprintf(fp, "# HELP tenure_http_requests_in_flight Requests whose headers are in and whose answer is not sent.\n"
		    "# TYPE tenure_http_requests_in_flight gauge\ntenure_http_requests_in_flight %ld\n",
		in_flight);
	fputs("# HELP tenure_commit_duration_seconds Time of each group commit (write and sync).\n"
	      "# TYPE tenure_commit_duration_seconds histogram\n", fp);
	histogram(fp, "tenure_commit_duration_seconds", "", m->commit_hist, m->commit_seconds, m->commits);
	fprintf(fp, "# HELP tenure_journal_folds_total Folds of the events journal into events (failed ones too).\n"
		    "# TYPE tenure_journal_folds_total counter\ntenure_journal_folds_total %llu\n"
		    "# HELP tenure_journal_fold_failures_total Folds of the events journal that failed.\n"
		    "# TYPE tenure_journal_fold_failures_total counter\ntenure_journal_fold_failures_total %llu\n"
		    "# HELP tenure_journal_fold_seconds_total Time spent folding the events journal.\n"
		    "# TYPE tenure_journal_fold_seconds_total counter\ntenure_journal_fold_seconds_total %.9g\n"
		    "# HELP tenure_journal_fold_steps_total Transactions of the folds (each holds the writer).\n"
		    "# TYPE tenure_journal_fold_steps_total counter\ntenure_journal_fold_steps_total %llu\n"
		    "# HELP tenure_journal_fold_step_max_seconds The longest fold transaction.\n"
		    "# TYPE tenure_journal_fold_step_max_seconds gauge\ntenure_journal_fold_step_max_seconds %.9g\n",
		m->folds, m->fold_failures, m->fold_seconds, m->fold_steps, m->fold_step_max);
	fprintf(fp, "# HELP tenure_journal_fold_cpu_seconds_total The writer thread's CPU time in fold steps.\n"
		    "# TYPE tenure_journal_fold_cpu_seconds_total counter\ntenure_journal_fold_cpu_seconds_total %.9g\n"
		    "# HELP tenure_journal_fold_rows_total Events the fold steps moved into the events table.\n"
		    "# TYPE tenure_journal_fold_rows_total counter\ntenure_journal_fold_rows_total %llu\n",
		m->fold_cpu_seconds, m->fold_rows);
	fprintf(fp, "# HELP tenure_value_refits_total Builds of the customers' value model (after purchases arrive).\n"
		    "# TYPE tenure_value_refits_total counter\ntenure_value_refits_total %llu\n"
		    "# HELP tenure_value_refit_seconds_total Time spent building the value model.\n"
		    "# TYPE tenure_value_refit_seconds_total counter\ntenure_value_refit_seconds_total %.9g\n",
		m->value_refits, m->value_refit_seconds);
	pthread_mutex_unlock(&m->mu);
	fprintf(fp, "# HELP tenure_read_cache_hits_total GET /v1/customers/{id} answered from the read cache.\n"
		    "# TYPE tenure_read_cache_hits_total counter\ntenure_read_cache_hits_total %llu\n"
		    "# HELP tenure_read_cache_misses_total GET /v1/customers/{id} read from the store (cache on).\n"
		    "# TYPE tenure_read_cache_misses_total counter\ntenure_read_cache_misses_total %llu\n"
		    "# HELP tenure_read_cache_bytes Bytes held by the read cache.\n"
		    "# TYPE tenure_read_cache_bytes gauge\ntenure_read_cache_bytes %zu\n",
		rc->hits, rc->misses, rc->bytes);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
