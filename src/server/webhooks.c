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

/* A verified notification on its way through the writer: the job first, so
 * the writer's job is this struct (webhook_release frees it all). */
typedef struct webhook_job {
	write_job w;
	tn_source_note note;
	tn_time now;
	int outcome;
} webhook_job;

/* run by the writer thread in the job's savepoint */
static int apply(tn_store *s, void *ud, tn_error *err)
{
	webhook_job *j = ud;
	int rc = tn_sources_store(s, &j->note, j->now, &j->outcome, err);
	/* a stored notification changes data: the cached analyses are stale */
	if (rc == TN_OK && j->outcome != TN_SRC_DUPLICATE)
		j->w.res.added = 1;
	return rc;
}

static void webhook_release(write_job *w)
{
	webhook_job *j = (webhook_job *)w;
	tn_source_note_free(&j->note);
	free(j);
}

/* The answer once the group commit is done (or failed). */
static void webhook_answer(write_job *w, tn_http_response *rs)
{
	webhook_job *j = (webhook_job *)w;
	const char *name = tn_source_kind_name(j->note.kind);
	if (w->status != 200) {
		fprintf(stderr, "tenure serve: webhook %s %s not stored (%d): %s\n", name ? name : "?", j->note.dedupe,
			w->status, w->message);
		respond_error(rs, w->status == 503 ? 503 : 500, NULL, w->message, NULL);
		return;
	}
	static const char *const OUT[] = {"stored", "applied", "duplicate", "stale", "stored"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", j->note.dedupe);
	cJSON_AddStringToObject(o, "type", j->note.type);
	cJSON_AddStringToObject(o, "outcome", OUT[j->outcome >= 0 && j->outcome <= 4 ? j->outcome : 0]);
	if (j->note.subscription)
		cJSON_AddStringToObject(o, "subscription", j->note.subscription);
	respond_json(rs, 200, o);
}

int webhook_prepare(tn_server *sv, int kind, const tn_http_request *rq, tn_http_response *rs, write_job **out)
{
	*out = NULL;
	const char *name = tn_source_kind_name(kind);
	tn_error err = {0};
	loaded *l = take(sv, &err);
	if (!l) {
		respond_error(rs, 503, NULL, err.msg, NULL);
		return 0;
	}
	webhook_job *j = tn_calloc(1, sizeof *j);
	if (!j) {
		unref(sv->webhooks, l);
		respond_error(rs, 503, NULL, "out of memory", NULL);
		return 0;
	}
	tn_source_request req = {.body = rq->body,
				 .len = rq->body ? rq->body_len : 0,
				 .authorization = rq->authorization,
				 .signature = rq->signature,
				 .now = tn_now()};
	int refusal = 0;
	int rc = tn_sources_verify(l->c, kind, &req, &j->note, &refusal, &err);
	unref(sv->webhooks, l);
	if (rc) {
		free(j);
		int status = rc == TN_ERR_INPUT && refusal ? refusal : 500;
		/* the log line an operator looks for when a store's notifications stop */
		fprintf(stderr, "tenure serve: webhook %s refused (%d): %s\n", name, status, err.msg);
		respond_error(rs, status, status == 401 ? "bad_signature" : NULL, err.msg, NULL);
		return 0;
	}
	j->now = req.now;
	j->w.kind = TN_KIND_CUSTOMERS;
	j->w.nrows = 1;
	j->w.apply = apply;
	j->w.apply_ud = j;
	j->w.answer = webhook_answer;
	j->w.release = webhook_release;
	*out = &j->w;
	return 1;
}
