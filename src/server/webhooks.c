/*
 * webhooks.c -- POST /v1/webhooks/{appstore,googleplay,stripe,revenuecat}:
 * the stores' and billing systems' notifications (docs/sources.md).
 *
 * Authenticated by the source's own signature, not by an API key: the HTTP
 * thread verifies and decodes the body with the loaded sources (reloaded
 * when `tenure sources add/remove` changed them, checked at most once a
 * second), so the costly part -- ECDSA, RSA, HMAC -- runs on every HTTP
 * thread in parallel.  A verified notification goes to the writer thread and
 * is answered 200 only after the group commit that made it durable; a
 * duplicate (same notification id) is 200 too, and changes nothing.  A
 * refused one is 400 (not a notification), 401 (signature), 403 (another
 * app or environment) or 404 (no such source configured), logged on stderr
 * with the reason; a store failure is 500 and a shutdown 503, so the sender
 * retries.
 */
#include "server/server_internal.h"
#include "base/alloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct loaded {
	tn_sources *c;
	int refs;
} loaded;

struct webhooks {
	pthread_mutex_t mu;
	loaded *cur;
	double checked_at;
};

static void unref(struct webhooks *w, loaded *l)
{
	pthread_mutex_lock(&w->mu);
	int last = --l->refs == 0;
	pthread_mutex_unlock(&w->mu);
	if (last) {
		tn_sources_free(l->c);
		free(l);
	}
}

/* The current sources, one reference for the caller; NULL with ERR. */
static loaded *take(tn_server *sv, tn_error *err)
{
	static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&init_mu);
	if (!sv->webhooks) {
		sv->webhooks = tn_calloc(1, sizeof *sv->webhooks);
		if (sv->webhooks)
			pthread_mutex_init(&sv->webhooks->mu, NULL);
	}
	pthread_mutex_unlock(&init_mu);
	struct webhooks *w = sv->webhooks;
	if (!w) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	double now = server_now();
	pthread_mutex_lock(&w->mu);
	loaded *l = w->cur;
	int fresh = l && now - w->checked_at < 1.0;
	if (fresh)
		l->refs++;
	pthread_mutex_unlock(&w->mu);
	if (fresh)
		return l;
	/* check the generation; reload when it changed */
	tn_store *s = reader_take(sv, err);
	int64_t gen = 0;
	if (!s || tn_sources_generation(s, &gen, err)) {
		reader_give(sv, s);
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	l = w->cur;
	if (l && tn_sources_loaded_generation(l->c) == gen) {
		w->checked_at = now;
		l->refs++;
		pthread_mutex_unlock(&w->mu);
		reader_give(sv, s);
		return l;
	}
	pthread_mutex_unlock(&w->mu);
	loaded *nl = tn_calloc(1, sizeof *nl);
	if (!nl || tn_sources_load(s, &nl->c, err)) {
		if (!nl)
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		free(nl);
		reader_give(sv, s);
		return NULL;
	}
	reader_give(sv, s);
	nl->refs = 2; /* the server's and the caller's */
	pthread_mutex_lock(&w->mu);
	loaded *old = w->cur;
	w->cur = nl;
	w->checked_at = now;
	pthread_mutex_unlock(&w->mu);
	if (old)
		unref(w, old);
	return nl;
}

void webhooks_free(tn_server *sv)
{
	struct webhooks *w = sv->webhooks;
	if (!w)
		return;
	if (w->cur)
		unref(w, w->cur);
	pthread_mutex_destroy(&w->mu);
	free(w);
	sv->webhooks = NULL;
}

typedef struct job_ud {
	tn_source_note *note;
	tn_time now;
	int outcome;
} job_ud;

static int apply(tn_store *s, void *ud, tn_error *err)
{
	job_ud *j = ud;
	return tn_sources_store(s, j->note, j->now, &j->outcome, err);
}

void webhook_handle(tn_server *sv, int kind, const tn_http_request *rq, tn_http_response *rs)
{
	const char *name = tn_source_kind_name(kind);
	tn_error err = {0};
	loaded *l = take(sv, &err);
	if (!l) {
		respond_error(rs, 503, NULL, err.msg, NULL);
		return;
	}
	tn_source_request req = {.body = rq->body,
				 .len = rq->body ? rq->body_len : 0,
				 .authorization = rq->authorization,
				 .signature = rq->signature,
				 .now = (tn_time)time(NULL)};
	tn_source_note note;
	int refusal = 0;
	int rc = tn_sources_verify(l->c, kind, &req, &note, &refusal, &err);
	unref(sv->webhooks, l);
	if (rc) {
		int status = rc == TN_ERR_INPUT && refusal ? refusal : 500;
		/* the log line an operator looks for when a store's notifications stop */
		fprintf(stderr, "tenure serve: webhook %s refused (%d): %s\n", name, status, err.msg);
		respond_error(rs, status, status == 401 ? "bad_signature" : NULL, err.msg, NULL);
		return;
	}
	job_ud ud = {.note = &note, .now = req.now};
	write_job job = {.apply = apply, .apply_ud = &ud};
	writer_submit(sv, &job);
	if (job.status != 200) {
		fprintf(stderr, "tenure serve: webhook %s %s not stored (%d): %s\n", name, note.dedupe, job.status,
			job.message);
		respond_error(rs, job.status == 503 ? 503 : 500, NULL, job.message, NULL);
		tn_source_note_free(&note);
		return;
	}
	static const char *const OUT[] = {"stored", "applied", "duplicate", "stale", "stored"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", note.dedupe);
	cJSON_AddStringToObject(o, "type", note.type);
	cJSON_AddStringToObject(o, "outcome", OUT[ud.outcome >= 0 && ud.outcome <= 4 ? ud.outcome : 0]);
	if (note.subscription)
		cJSON_AddStringToObject(o, "subscription", note.subscription);
	respond_json(rs, 200, o);
	tn_source_note_free(&note);
}
