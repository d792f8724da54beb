/*
 * writer.c -- the one writer thread: group commit.
 *
 * HTTP threads queue parsed write requests and wait.  The writer takes every
 * request queued so far, opens one transaction, runs each request in its own
 * savepoint through import's row checks (tn_import_row_json, so the rules and
 * messages are import's), rolls a request back to its savepoint when a row is
 * bad (422 with every bad row) and commits the group once.  Only after COMMIT
 * has returned -- WAL with synchronous=FULL: the log is synced -- are the
 * requests answered, so an acknowledged write survives SIGKILL or power loss.
 * If the commit fails every request of the group gets 500 and nothing of it
 * is kept.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "tenure/value.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#define MAX_DETAILS 100
#define GROUP_ROWS 200000 /* rows in one group commit at most */
/* queued jobs beyond which an answered-before-commit write is refused (503):
 * backpressure instead of a queue that grows without bound */
#define ASYNC_DEPTH_MAX 20000
/* The events journal (docs/data-model.md, "The events journal"): fold it into events when it
 * holds this many rows (tn_server_opts.fold_rows overrides), or when no
 * write has come for FOLD_IDLE seconds, and at shutdown.  A fold rewrites
 * nearly every page of the clustered events table whatever its size (the
 * journal's rows are spread over all the customers), so that fixed cost
 * per fold is shared by FOLD_ROWS rows: 2,000,000 instead of 1,000,000 cut
 * the fold's CPU a row by ~17-22% (docs/performance.md, session 28).  The
 * journal's generation index (migration 23) keeps a group commit's cost
 * independent of the journal's size; what grows is a customer look-up,
 * which reads the customer's journaled rows (twice as many at the peak). */
#define FOLD_ROWS 2000000
#define FOLD_IDLE 1.0
/* A fold goes in steps of about this many rows, each its own short
 * transaction, and the writer runs a group between two steps: a fold never
 * holds the writer (and the requests waiting for it) for more than one
 * step (tn_store_fold_step). */
#define FOLD_CHUNK 50000
/* The filter of events' keys (store.c, "events keys") is loaded in steps
 * of about this many rows, between groups and while idle, like a fold: a
 * request that arrives during a step waits for it (~40 ms idle; 250,000-row
 * steps held the first writes after a start on a 300,000-event store for
 * seconds under ASan and load). */
#define EKEYS_STEP 50000
/* Gathering a group (docs/api.md, Durability; docs/performance.md): each commit costs
 * a WAL sync and the writing of every page it touched, whatever the group's
 * size, so small writes arriving together (webhooks, outcomes, small ingest
 * batches) cost that once per group rather than once per write.  When other
 * requests are in flight and the last group had company (more than one job),
 * the writer waits up to GROUP_WAIT_US (--group-wait) after the first job of
 * a group for more, and stops waiting as soon as every request in flight is
 * queued, or GATHER_JOBS jobs or GATHER_BYTES bytes are (a group that big
 * pays for its commit already).  A lone client never waits (no company); a
 * writer that is behind never waits either (the queue is past the caps). */
#define GROUP_WAIT_US 300
#define GATHER_JOBS 64
#define GATHER_BYTES ((size_t)1 << 20)

/* The WAL index header now (the read cache's marks), into *M; 0 unknown. */
static int writer_mark(tn_server *sv, tn_store_mark *m)
{
	tn_store_watch *wt = sv->reads ? server_watch(sv) : NULL;
	return wt && tn_store_watch_read(wt, m);
}

/* tn_store_txn_hook on the writer's connection: the header when its
 * transaction holds the write lock, and after its commit. */
static void writer_txn_hook(void *ud, int phase)
{
	tn_server *sv = ud;
	writer *w = &sv->w;
	if (phase == 0) {
		w->txn_before_ok = writer_mark(sv, &w->txn_before);
		if (sv->reads) /* until published, a header one commit on is ours */
			readcache_writer_begin(sv->reads, w->txn_before_ok ? &w->txn_before : NULL);
	} else
		w->txn_after_ok = writer_mark(sv, &w->txn_after);
}

/* After the writer's commit: its header is published to the read cache
 * (GLOBAL: it may have changed any customer's answer).  Anything the commit
 * touched has been readcache_touch'ed before. */
static void publish_commit(tn_server *sv, int global)
{
	writer *w = &sv->w;
	if (!sv->reads)
		return;
	readcache_writer_commit(sv->reads, w->txn_before_ok ? &w->txn_before : NULL,
				w->txn_after_ok ? &w->txn_after : NULL, global);
	w->txn_before_ok = w->txn_after_ok = 0;
}

/* 1 when a committed job may have changed what the value model reads (the
 * purchase events, value.c): any job but events of other types.  A steady
 * ingest of app activity then starts no refit: before, each minute's refit
 * of an unchanged model cost seconds of CPU and ~6-9 MB of arrays for its
 * duration (docs/performance.md, Session 31). */
static int job_touches_value(const write_job *j)
{
	if (j->kind != TN_KIND_EVENTS || j->apply || j->answer)
		return 1;
	if (j->fast) {
		for (size_t i = 0; i < j->fast->n; i++)
			if (!j->fast->rec[i].type || strcmp(j->fast->rec[i].type, TN_VALUE_PURCHASE_TYPE) == 0)
				return 1;
		return 0;
	}
	if (!cJSON_IsArray(j->rows))
		return 1;
	const cJSON *row;
	cJSON_ArrayForEach(row, j->rows) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(row, "type");
		if (!cJSON_IsString(t) || strcmp(t->valuestring, TN_VALUE_PURCHASE_TYPE) == 0)
			return 1;
	}
	return 0;
}

/* One step of the fold under way, or the first of a new one (between
 * groups, no transaction open).  *SECS adds up the fold's time.  Returns 1
 * while the fold goes on.  A failure leaves the events in the journal,
 * where readers still see them, and is the server's first error. */
static int fold_step(tn_server *sv, double *secs)
{
	writer *w = &sv->w;
	tn_error err = {0};
	double t0 = server_now();
	struct timespec c0, c1; /* the fold's own CPU, apart from the group commits' */
	int cpu_ok = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0) == 0;
	int done = 1;
	long long moved = 0;
	int rc = tn_store_fold_step(w->store, FOLD_CHUNK, &done, &moved, &err);
	double dt = server_now() - t0;
	*secs += dt;
	metrics_fold_step(&sv->metrics, dt);
	if (cpu_ok && clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1) == 0)
		metrics_fold_cpu(&sv->metrics,
				 (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9, moved);
	/* a fold changes no answer: readers see each event once throughout */
	publish_commit(sv, 0);
	if (rc || done) {
		metrics_fold(&sv->metrics, *secs, rc == TN_OK);
		*secs = 0;
	}
	if (rc) {
		pthread_mutex_lock(&w->mu);
		if (w->first_error.code == TN_OK)
			tn_error_set(&w->first_error, err.code, "folding the events journal: %s", err.msg);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	return !done;
}

/* A step of the events keys' filter's load, when one is due.  A failure
 * only leaves the writer on the probing path; it is the server's first
 * error as a fold's is.  Returns 1 while the load goes on. */
static int ekeys_step(tn_server *sv)
{
	writer *w = &sv->w;
	if (!tn_store_events_filter_due(w->store))
		return 0;
	tn_error err = {0};
	int more = 0;
	if (tn_store_events_filter_step(w->store, EKEYS_STEP, &more, &err)) {
		pthread_mutex_lock(&w->mu);
		if (w->first_error.code == TN_OK)
			tn_error_set(&w->first_error, err.code, "loading the events' keys: %s", err.msg);
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	return more;
}

/* One request inside the open transaction: sets j->status (200, 422, or 500
 * when the store failed). */
static void run_job(writer *w, write_job *j)
{
	tn_error err = {0};
	tn_import_rows *r = NULL;
	if (tn_store_savepoint(w->store, &err) || (j->rows && tn_import_rows_new(w->store, j->kind, &r, &err))) {
		j->status = 500;
		snprintf(j->message, sizeof j->message, "%s", err.msg);
		tn_import_rows_free(r);
		return;
	}
	int bad = 0, fatal = 0;
	int index = 0;
	for (cJSON *it = j->rows ? j->rows->child : NULL; it && !fatal; it = it->next, index++) {
		const char *field = NULL;
		tn_error rerr = {0};
		int rc = tn_import_row_json(r, it, &field, &rerr);
		if (rc == TN_ERR_INPUT || rc == TN_ERR_NOTFOUND) {
			if (bad++ < MAX_DETAILS) {
				cJSON *d = cJSON_CreateObject();
				cJSON_AddNumberToObject(d, "index", index);
				if (field)
					cJSON_AddStringToObject(d, "field", field);
				else
					cJSON_AddNullToObject(d, "field");
				cJSON_AddStringToObject(d, "message", rerr.msg);
				cJSON_AddItemToArray(j->details, d);
			}
		} else if (rc) {
			fatal = 1;
			snprintf(j->message, sizeof j->message, "%s", rerr.msg);
		}
	}
	if (!fatal && !bad) {
		int rc = r ? tn_import_rows_finish(r, &j->res, &err) : TN_OK;
		if (rc == TN_OK && j->apply) {
			rc = j->apply(w->store, j->apply_ud, &err);
			if (rc == TN_ERR_NOTFOUND || rc == TN_ERR_INPUT) {
				tn_import_rows_free(r);
				tn_store_rollback_savepoint(w->store);
				j->status = rc == TN_ERR_NOTFOUND ? 404 : 422;
				snprintf(j->message, sizeof j->message, "%s", err.msg);
				return;
			}
		}
		if (rc == TN_OK)
			rc = tn_store_release(w->store, &err);
		if (rc) {
			fatal = 1;
			snprintf(j->message, sizeof j->message, "%s", err.msg);
		}
	}
	tn_import_rows_free(r);
	if (fatal || bad) {
		tn_store_rollback_savepoint(w->store);
		j->status = fatal ? 500 : 422;
		if (bad)
			snprintf(j->message, sizeof j->message, "%d of %d %s failed validation; nothing was written", bad,
				 index, tn_kind_name(j->kind));
		return;
	}
	/* records already in the store with other values: updated (import's own count) */
	j->updated = j->res.updated;
	j->status = 200;
}

/* The group's events from the fast path (ingest_fast.c), before any other
 * request: each job's customers are looked up first, and a job naming one
 * unknown to the store goes down the general path (run_job, later) for
 * import's 422 listing every bad row.  The other jobs' events go into the
 * store's buffer together, each tagged with its job, and are written in one
 * sorted pass -- the B-tree's pages are visited in order once per group
 * rather than once per request -- and each job's "added" is what the store
 * newly took of its events.  Such a job cannot fail on its own (its rows are
 * valid, its customers exist): only a store error, which fails the group.
 * Returns the store's status. */
static int run_fast_group(writer *w, write_job *group, tn_error *err)
{
	size_t nfast = 0, nev = 0;
	for (write_job *j = group; j; j = j->next)
		nev += j->fast ? j->fast->n : 0;
	if (nev == 0)
		return TN_OK;
	/* each event's customer key, looked up once */
	int64_t *keys = tn_malloc(nev * sizeof *keys);
	if (!keys)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	size_t at = 0;
	for (write_job *j = group; j; j = j->next) {
		if (!j->fast)
			continue;
		int known = 1;
		for (size_t i = 0; i < j->fast->n && known; i++) {
			int rc = tn_store_customer_key(w->store, j->fast->rec[i].customer, &keys[at + i], err);
			if (rc == TN_ERR_NOTFOUND)
				known = 0;
			else if (rc) {
				free(keys);
				return rc;
			}
		}
		if (known) {
			nfast++;
			at += j->fast->n;
			continue;
		}
		/* the general path, on the body as it came (well-formed: the fast
		 * path read it all) */
		if (!(j->rows = ingest_parse_rows(j->body, j->body_len, j->ndjson))) {
			free(keys);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		fast_events_free(j->fast);
		free(j->fast);
		j->fast = NULL;
	}
	if (nfast == 0) {
		free(keys);
		return TN_OK;
	}
	long long *added = tn_calloc(nfast, sizeof *added);
	if (!added) {
		free(keys);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int rc = TN_OK;
	uint32_t tag = 0;
	at = 0;
	for (write_job *j = group; j && rc == TN_OK; j = j->next) {
		if (!j->fast)
			continue;
		for (size_t i = 0; i < j->fast->n && rc == TN_OK; i++)
			rc = tn_store_put_event_tag_key(w->store, keys[at + i], &j->fast->rec[i], tag, err);
		at += j->fast->n;
		tag++;
	}
	free(keys);
	tn_store_count_by_tag(w->store, added, nfast);
	if (rc == TN_OK)
		rc = tn_store_flush(w->store, NULL, err);
	tn_store_count_by_tag(w->store, NULL, 0);
	tag = 0;
	for (write_job *j = group; j && rc == TN_OK; j = j->next) {
		if (!j->fast)
			continue;
		memset(&j->res, 0, sizeof j->res);
		j->res.rows = (long long)j->fast->n;
		j->res.added = added[tag];
		j->res.unchanged = (long long)j->fast->n - added[tag];
		j->updated = 0;
		j->status = 200;
		tag++;
	}
	free(added);
	return rc;
}

/* Whether a queued job should wake the gathering writer now (w->mu held). */
static int gathered(tn_server *sv)
{
	writer *w = &sv->w;
	return w->stopping || w->queued >= GATHER_JOBS || w->qbytes >= GATHER_BYTES ||
	       w->queued >= (long)atomic_load(&sv->in_flight);
}

/* Wait (w->mu held) up to WAIT_US for more jobs before a group is taken, when
 * there is company to wait for: other requests in flight than those queued,
 * and the previous group held more than one job. */
static void gather(tn_server *sv, long wait_us, long last_group)
{
	writer *w = &sv->w;
	if (wait_us <= 0 || last_group < 2 || gathered(sv))
		return;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	long long ns = (long long)until.tv_nsec + (long long)wait_us * 1000;
	until.tv_sec += (time_t)(ns / 1000000000);
	until.tv_nsec = (long)(ns % 1000000000);
	w->gathering = 1;
	while (!gathered(sv))
		if (pthread_cond_timedwait(&w->gather, &w->mu, &until) == ETIMEDOUT)
			break;
	w->gathering = 0;
}

/* Queue J (w->mu held) and wake the writer: at once when it is idle, while
 * it gathers only once the group is complete (see gather). */
static void enqueue(tn_server *sv, write_job *j)
{
	writer *w = &sv->w;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->depth++;
	w->queued++;
	w->qbytes += j->bytes;
	if (!w->gathering)
		pthread_cond_signal(&w->work);
	else if (gathered(sv))
		pthread_cond_signal(&w->gather);
}

/* Give the allocator's free pages back to the kernel (malloc_trim) at most
 * once every TRIM_EVERY seconds while the writer works, and once when it
 * goes idle.  Why: glibc returns a heap's free memory only from its top,
 * and only past M_TRIM_THRESHOLD (64 MB a heap, http.c: kept on purpose
 * so request-sized blocks are not faulted in again after every burst);
 * chunks freed in the middle of a heap stay resident.  The writer's heap
 * is churned by the page cache's pages, the group commits' parsed rows
 * and the fold steps' temporaries: measured over a 150 s ingest, its
 * arena's bytes in use stayed flat (73 -> 70 MB) while the memory it held
 * rose 75 -> 80 MB and the server's RSS crept up 150 -> 165 MB and stayed
 * there (docs/performance.md, session 28).
 * malloc_trim(0) walks every arena's free chunks and madvises their whole
 * pages away: RSS follows the bytes in use.  Once a second bounds its own
 * cost (a walk of the free lists, and at most a second's worth of freed
 * pages faulted in again) whatever the request rate. */
#define TRIM_EVERY 1.0

static void trim_heaps(double *last)
{
	server_trim();
	*last = server_now();
}

static void *writer_main(void *arg)
{
	tn_server *sv = arg;
	writer *w = &sv->w;
	long long fold_rows = sv->o.fold_rows > 0 ? (long long)sv->o.fold_rows : FOLD_ROWS;
	double fold_idle = sv->o.fold_idle > 0 ? sv->o.fold_idle : FOLD_IDLE;
	int folding = 0;         /* a fold is under way: a step after each group */
	double fold_secs = 0;
	long wait_us = sv->o.group_wait_us ? sv->o.group_wait_us : GROUP_WAIT_US;
	long last_group = 0;
	int ekeys_loading = tn_store_events_filter_due(w->store);
	double last_trim = server_now();
	int untrimmed = 0; /* work done since the last trim_heaps */
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stopping) {
			if (untrimmed && !folding && !ekeys_loading) { /* going idle */
				pthread_mutex_unlock(&w->mu);
				trim_heaps(&last_trim);
				untrimmed = 0;
				pthread_mutex_lock(&w->mu);
				continue;
			}
			if (folding) { /* nothing queued: the fold's next step */
				pthread_mutex_unlock(&w->mu);
				folding = fold_step(sv, &fold_secs);
				untrimmed = 1;
				pthread_mutex_lock(&w->mu);
				continue;
			}
			if (ekeys_loading) { /* nothing queued: the filter's next step */
				pthread_mutex_unlock(&w->mu);
				ekeys_loading = ekeys_step(sv);
				pthread_mutex_lock(&w->mu);
				continue;
			}
			/* idle: its idle work is done (tn_server_settle) */
			w->idle = 1;
			pthread_cond_broadcast(&w->idled);
			if (tn_store_journal_rows(w->store) == 0 || sv->o.fold_idle < 0) {
				pthread_cond_wait(&w->work, &w->mu);
				w->idle = 0;
				continue;
			}
			/* idle with a journal: fold once no write came for FOLD_IDLE */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			double t = (double)until.tv_nsec * 1e-9 + fold_idle;
			until.tv_sec += (time_t)t;
			until.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
			int timedout = pthread_cond_timedwait(&w->work, &w->mu, &until) == ETIMEDOUT;
			w->idle = 0;
			if (timedout && !w->head && !w->stopping) {
				pthread_mutex_unlock(&w->mu);
				folding = fold_step(sv, &fold_secs);
				untrimmed = 1;
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->head && w->stopping)
			break;
		gather(sv, wait_us, last_group);
		/* take a group: everything queued, up to GROUP_ROWS rows */
		write_job *group = w->head, *last = w->head;
		size_t rows = last->nrows;
		last_group = 1;
		w->queued--;
		w->qbytes -= last->bytes;
		while (last->next && rows + last->next->nrows <= GROUP_ROWS) {
			last = last->next;
			rows += last->nrows;
			last_group++;
			w->queued--;
			w->qbytes -= last->bytes;
		}
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&w->mu);

		double t0 = server_now();
		tn_error err = {0};
		int rc = tn_store_begin(w->store, &err);
		unsigned long long written = 0;
		if (rc == TN_OK)
			rc = run_fast_group(w, group, &err);
		for (write_job *j = group; j; j = j->next) {
			if (rc) {
				j->status = 500;
				snprintf(j->message, sizeof j->message, "%s", err.msg);
				continue;
			}
			if (!j->fast)
				run_job(w, j);
		}
		if (rc == TN_OK)
			rc = tn_store_commit(w->store, &err);
		if (rc)
			tn_store_rollback(w->store); /* nothing of the group is kept */
		int changed = 0, value_changed = 0;
		unsigned long long fast = 0;
		for (write_job *j = group; j; j = j->next) {
			if (!rc && j->status == 200 && j->fast)
				fast += (unsigned long long)j->fast->n;
			if (!rc && j->status == 200 && (j->res.added > 0 || j->updated > 0)) {
				changed = 1;
				if (!value_changed)
					value_changed = job_touches_value(j);
			}
			if (rc && j->status == 200) {
				j->status = 500;
				snprintf(j->message, sizeof j->message, "the commit failed, nothing was written: %s",
					 err.msg);
			}
			if (j->status == 200)
				written += (unsigned long long)(j->res.added + j->updated + j->res.unchanged);
		}
		if (changed) /* the analysis routes' cached answers are stale now */
			atomic_fetch_add(&sv->generation, 1);
		if (value_changed)
			atomic_fetch_add(&sv->value_generation, 1);
		if (!rc && sv->reads) {
			/* the read cache: the fast path's customers are known; any
			 * other write may have touched anyone */
			int global = 0;
			for (write_job *j = group; j; j = j->next) {
				if (j->status != 200)
					continue;
				if (!j->fast)
					global = 1;
				else
					for (size_t i = 0; i < j->fast->n; i++) /* their answers brought up to date */
						readcache_event(sv->reads, j->fast->rec[i].customer, j->fast->rec[i].at,
								j->fast->rec[i].type);
			}
			publish_commit(sv, global);
		} else if (rc && sv->reads) {
			publish_commit(sv, 1); /* rolled back: the writer's transaction is over */
		}
		metrics_commit(&sv->metrics, server_now() - t0, written, fast);

		pthread_mutex_lock(&w->mu);
		if (rc && w->first_error.code == TN_OK)
			w->first_error = err;
		write_job *async = NULL;
		for (write_job *j = group; j;) {
			write_job *next = j->next;
			w->depth--;
			if (j->on_done) {
				/* answered already: a failure is the server's first error */
				if (j->answered && j->status != 200 && w->first_error.code == TN_OK)
					tn_error_set(&w->first_error, TN_ERR_DB, "a decision was not stored: %s", j->message);
				j->next = async;
				async = j;
			} else {
				j->done = 1;
			}
			j = next;
		}
		pthread_cond_broadcast(&w->done);
		pthread_mutex_unlock(&w->mu);
		/* the HTTP layer's jobs: resume their connections (a job may be
		 * freed as soon as its callback returns) */
		for (write_job *j = async; j;) {
			write_job *next = j->next;
			j->on_done(j);
			j = next;
		}
		if (folding || tn_store_journal_rows(w->store) >= fold_rows)
			folding = fold_step(sv, &fold_secs);
		else /* (a reload after another connection's write is due later) */
			ekeys_loading = ekeys_step(sv) || tn_store_events_filter_due(w->store);
		untrimmed = 1;
		if (server_now() - last_trim >= TRIM_EVERY) {
			trim_heaps(&last_trim);
			untrimmed = 0;
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	/* a clean stop leaves the journal empty: the rest at once */
	if (folding || tn_store_journal_rows(w->store) > 0) {
		tn_error err = {0};
		double t0 = server_now();
		int frc = tn_store_fold(w->store, NULL, &err);
		metrics_fold(&sv->metrics, fold_secs + server_now() - t0, frc == TN_OK);
		if (frc) {
			pthread_mutex_lock(&w->mu);
			if (w->first_error.code == TN_OK)
				tn_error_set(&w->first_error, err.code, "folding the events journal: %s", err.msg);
			pthread_mutex_unlock(&w->mu);
		}
	}
	return NULL;
}

int writer_start(tn_server *sv, tn_error *err)
{
	writer *w = &sv->w;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	pthread_cond_init(&w->idled, NULL);
	w->txn_before_ok = w->txn_after_ok = 0;
	tn_store_txn_hook(w->store, writer_txn_hook, sv);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->gather, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, writer_main, sv) != 0)
		return tn_error_set(err, TN_ERR_IO, "cannot start the writer thread");
	w->started = 1;
	return TN_OK;
}

void writer_submit(tn_server *sv, write_job *j)
{
	writer *w = &sv->w;
	j->done = 0;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		j->status = 503;
		snprintf(j->message, sizeof j->message, "the server is shutting down");
		return;
	}
	enqueue(sv, j);
	while (!j->done)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

int writer_submit_async(tn_server *sv, write_job *j)
{
	writer *w = &sv->w;
	j->done = 0;
	j->next = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->stopping || w->depth >= ASYNC_DEPTH_MAX) {
		int rc = w->stopping ? -1 : -2;
		pthread_mutex_unlock(&w->mu);
		j->status = 503;
		snprintf(j->message, sizeof j->message, "%s",
			 rc == -1 ? "the server is shutting down" : "overloaded: the writer is behind; retry");
		return rc;
	}
	enqueue(sv, j);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void writer_stop(tn_server *sv)
{
	writer *w = &sv->w;
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_cond_signal(&w->gather);
	pthread_cond_broadcast(&w->idled);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = 0;
	pthread_cond_destroy(&w->gather);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->idled);
	pthread_mutex_destroy(&w->mu);
}

/* Not instrumented for the fuzzer's coverage: whether the writer is idle
 * already when this is called, or waits once or twice, is the threads'
 * timing, not the input's (clang: no_sanitize("coverage")). */
#if defined(__clang__)
__attribute__((no_sanitize("coverage")))
#endif
void tn_server_settle(tn_server *sv)
{
	writer *w = &sv->w;
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	while (!w->stopping && (!w->idle || w->head))
		pthread_cond_wait(&w->idled, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
