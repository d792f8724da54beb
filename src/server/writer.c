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

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DETAILS 100
#define GROUP_ROWS 200000 /* rows in one group commit at most */

/* One request inside the open transaction: sets j->status (200, 422, or 500
 * when the store failed). */
static void run_job(writer *w, write_job *j)
{
	tn_error err = {0};
	tn_import_rows *r = NULL;
	if (j->apply) {
		int rc = tn_store_savepoint(w->store, &err);
		if (rc == TN_OK) {
			rc = j->apply(w->store, j->apply_ud, &err);
			if (rc == TN_OK)
				rc = tn_store_release(w->store, &err);
			if (rc)
				tn_store_rollback_savepoint(w->store);
		}
		j->status = rc ? 500 : 200;
		if (rc)
			snprintf(j->message, sizeof j->message, "%s", err.msg);
		return;
	}
	if (tn_store_savepoint(w->store, &err) || tn_import_rows_new(w->store, j->kind, &r, &err)) {
		j->status = 500;
		snprintf(j->message, sizeof j->message, "%s", err.msg);
		tn_import_rows_free(r);
		return;
	}
	int bad = 0, fatal = 0;
	int index = 0;
	for (cJSON *it = j->rows->child; it && !fatal; it = it->next, index++) {
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
		int rc = tn_import_rows_finish(r, &j->res, &err);
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

static void *writer_main(void *arg)
{
	tn_server *sv = arg;
	writer *w = &sv->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->head && w->stopping)
			break;
		/* take a group: everything queued, up to GROUP_ROWS rows */
		write_job *group = w->head, *last = w->head;
		size_t rows = (size_t)cJSON_GetArraySize(last->rows);
		while (last->next && rows + (size_t)cJSON_GetArraySize(last->next->rows) <= GROUP_ROWS) {
			last = last->next;
			rows += (size_t)cJSON_GetArraySize(last->rows);
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
		for (write_job *j = group; j; j = j->next) {
			if (rc) {
				j->status = 500;
				snprintf(j->message, sizeof j->message, "%s", err.msg);
				continue;
			}
			run_job(w, j);
		}
		if (rc == TN_OK) {
			rc = tn_store_commit(w->store, &err);
			if (rc)
				tn_store_rollback(w->store);
		}
		for (write_job *j = group; j; j = j->next) {
			if (rc && j->status == 200) {
				j->status = 500;
				snprintf(j->message, sizeof j->message, "the commit failed, nothing was written: %s",
					 err.msg);
			}
			if (j->status == 200)
				written += (unsigned long long)(j->res.added + j->updated + j->res.unchanged);
		}
		metrics_commit(&sv->metrics, server_now() - t0, written);

		pthread_mutex_lock(&w->mu);
		if (rc && w->first_error.code == TN_OK)
			w->first_error = err;
		for (write_job *j = group; j;) {
			write_job *next = j->next;
			w->depth--;
			j->done = 1;
			j = next;
		}
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int writer_start(tn_server *sv, tn_error *err)
{
	writer *w = &sv->w;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
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
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->depth++;
	pthread_cond_signal(&w->work);
	while (!j->done)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void writer_stop(tn_server *sv)
{
	writer *w = &sv->w;
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = 0;
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
}
