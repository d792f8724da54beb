/*
 * decisions_route.c -- the in-app routes: POST /v1/decisions, POST
 * /v1/decisions/{id}/outcome, GET /v1/customers/{id}/survey, and the hook
 * that credits a survey's reward when its answer arrives on POST
 * /v1/feedback.
 *
 * The decider (include/tenure/decide.h) is loaded on the first decision from
 * the store's stored scores -- no model is fitted here -- and its catalogue,
 * the surveys' count, changed stored scores and the approved offer plan in
 * force are reread every RELOAD_SECONDS, so `tenure offers catalogue add`, a
 * re-scoring and an approval on the dashboard reach a running server.  A decision is made in memory
 * and answered at once; it, a new holdout assignment and a survey
 * invitation are written by the writer in its next group commit (in order:
 * an outcome posted after the answer always finds its decision).  A crash
 * can lose the decisions of the last group commit (milliseconds): they were
 * answered but are not in the store, and their outcomes answer 404.
 */
#include "server/server_internal.h"
#include "tenure/decide.h"
#include "tenure/json.h"
#include "base/alloc.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELOAD_SECONDS 5.0
#define DECIDE_BODY_MAX 4096
#define CUSTOMER_MAX 128

typedef struct decide_state {
	pthread_mutex_t mu;
	tn_decider *d;
	double loaded_at;
	long nsurveys;     /* surveys defined (a decision asks for a due survey only when > 0) */
	double danger_from; /* the danger window's first day of age; NaN unknown */
	int danger_done;
	int reloading;     /* a request is rereading the catalogue and scores */
} decide_state;

void decisions_free(tn_server *sv)
{
	decide_state *st = sv->decide;
	if (!st)
		return;
	tn_decider_free(st->d);
	pthread_mutex_destroy(&st->mu);
	free(st);
	sv->decide = NULL;
}

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;

static int count_surveys(tn_store *s, long *n, double *danger_from, int *danger_done, tn_error *err)
{
	tn_survey_def *defs;
	size_t k;
	if (tn_surveys_list(s, &defs, &k, err))
		return err->code;
	*n = (long)k;
	int want_danger = 0;
	for (size_t i = 0; i < k; i++)
		want_danger |= defs[i].trigger == TN_TRIG_BEFORE_DANGER;
	tn_surveys_free(defs, k);
	if (want_danger && !*danger_done) {
		double from = NAN, to, share;
		tn_error e2 = {0};
		if (tn_offers_danger_window(s, tn_now(), &from, &to, &share, &e2) == TN_OK)
			*danger_from = from;
		*danger_done = 1;
	}
	return TN_OK;
}

/* The server's decider, loaded on first use (on its own connection, which
 * may write temporary tables) and its catalogue reread when stale. */
static decide_state *state(tn_server *sv, tn_error *err)
{
	pthread_mutex_lock(&init_mu);
	if (!sv->decide) {
		decide_state *st = tn_calloc(1, sizeof *st);
		tn_store *s = NULL;
		if (!st) {
			pthread_mutex_unlock(&init_mu);
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			return NULL;
		}
		st->danger_from = NAN;
		if (tn_store_open(sv->db_path, TN_STORE_LIVE, &s, err) || tn_decider_load(s, &st->d, err) ||
		    count_surveys(s, &st->nsurveys, &st->danger_from, &st->danger_done, err)) {
			tn_store_close(s);
			tn_decider_free(st->d);
			free(st);
			pthread_mutex_unlock(&init_mu);
			return NULL;
		}
		tn_store_close(s);
		pthread_mutex_init(&st->mu, NULL);
		st->loaded_at = server_now();
		sv->decide = st;
	}
	decide_state *st = sv->decide;
	pthread_mutex_unlock(&init_mu);
	/* one request rereads, without holding up the others; a failed reread
	 * keeps what was loaded (tried again RELOAD_SECONDS later) */
	pthread_mutex_lock(&st->mu);
	int mine = !st->reloading && server_now() - st->loaded_at > RELOAD_SECONDS;
	if (mine) {
		st->reloading = 1;
		st->loaded_at = server_now();
	}
	long n = st->nsurveys;
	double from = st->danger_from;
	int done = st->danger_done;
	pthread_mutex_unlock(&st->mu);
	if (mine) {
		tn_error e2 = {0};
		tn_store *s = reader_take(sv, &e2);
		if (s && tn_decider_reload_catalogue(st->d, s, &e2) == TN_OK &&
		    tn_decider_reload_scores(st->d, s, &e2) == TN_OK)
			tn_decider_reload_plan(st->d, s, &e2); /* an approval or withdrawal on the dashboard */
		if (s)
			count_surveys(s, &n, &from, &done, &e2);
		reader_give(sv, s);
		pthread_mutex_lock(&st->mu);
		st->nsurveys = n;
		st->danger_from = from;
		st->danger_done = done;
		st->reloading = 0;
		pthread_mutex_unlock(&st->mu);
	}
	return st;
}

/* The surveys' count and the danger window, read under the lock. */
static void snapshot(decide_state *st, long *nsurveys, double *danger_from)
{
	pthread_mutex_lock(&st->mu);
	*nsurveys = st->nsurveys;
	*danger_from = st->danger_from;
	pthread_mutex_unlock(&st->mu);
}

/* ---- request bodies ---------------------------------------------------------------- */

/* Parse a small JSON object body whose members are all strings from ALLOWED;
 * NULL with RS set (400 / 413 / 422) otherwise. */
static cJSON *parse_object(const tn_http_request *rq, const char *const *allowed, tn_http_response *rs)
{
	if (rq->body_len > DECIDE_BODY_MAX) {
		respond_error(rs, 413, NULL, "the body is larger than 4096 bytes", NULL);
		return NULL;
	}
	const char *end = NULL;
	cJSON *o = rq->body && rq->body_len ? cJSON_ParseWithLengthOpts(rq->body, rq->body_len, &end, 0) : NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		respond_error(rs, 400, "bad_json", "the body must be one JSON object", NULL);
		return NULL;
	}
	for (cJSON *it = o->child; it; it = it->next) {
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			ok |= it->string && strcmp(it->string, allowed[i]) == 0;
		char msg[200];
		if (!ok) {
			snprintf(msg, sizeof msg, "unknown field \"%.60s\"", it->string ? it->string : "");
		} else if (!cJSON_IsString(it) || strlen(it->valuestring) > CUSTOMER_MAX || !*it->valuestring) {
			snprintf(msg, sizeof msg, "%s: expected a string of 1 to %d bytes", it->string, CUSTOMER_MAX);
			ok = 0;
		}
		if (!ok) {
			cJSON *det = cJSON_CreateArray();
			cJSON *d = cJSON_CreateObject();
			cJSON_AddStringToObject(d, "field", it->string ? it->string : "");
			cJSON_AddStringToObject(d, "message", msg);
			cJSON_AddItemToArray(det, d);
			respond_error(rs, 422, NULL, msg, det);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

static const char *str_field(cJSON *o, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void respond_err(tn_http_response *rs, const tn_error *err)
{
	int status = err->code == TN_ERR_NOTFOUND ? 404 : err->code == TN_ERR_INPUT ? 422 : 500;
	respond_error(rs, status, NULL, err->msg[0] ? err->msg : "the store failed", NULL);
}

static void time_field(cJSON *o, const char *name, tn_time t)
{
	if (t == TN_NO_TIME) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	char buf[40];
	cJSON_AddStringToObject(o, name, tn_time_format(t, buf, sizeof buf));
}

/* The customer's key, read now (a reader's own customer map may predate it). */
static int customer_key(tn_store *s, const char *customer, int64_t *key, tn_error *err)
{
	static const char sql[] = "SELECT id FROM customers WHERE ext_id = ?";
	tn_stmt *q = tn_db_cached(s, sql, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(q, 1, customer);
	int rc = tn_db_step(q, "reading a customer", err);
	*key = rc == TN_DB_ROW ? tn_db_column_int64(q, 0) : 0;
	tn_db_reset(q);
	if (rc == TN_DB_DONE)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no customer '%.128s'", customer);
	return rc == TN_DB_ROW ? TN_OK : rc;
}

/* ---- POST /v1/decisions -------------------------------------------------------------- */

typedef struct decide_job {
	const tn_decision *dec;
	int64_t survey_id; /* a new invitation to store, or 0 */
	int64_t invitation;
} decide_job;

static int decide_apply(tn_store *s, void *ud, tn_error *err)
{
	decide_job *j = ud;
	int rc = tn_decision_save(s, j->dec, err);
	if (rc == TN_OK && j->survey_id)
		rc = tn_survey_invite(s, j->survey_id, j->dec->customer_key, j->dec->at, j->dec->id, &j->invitation, err);
	return rc;
}

typedef struct decide_write {
	write_job w; /* first: the writer's release gets it */
	tn_decision dec;
	decide_job job;
} decide_write;

static void decide_release(write_job *j)
{
	cJSON_Delete(j->details);
	free(j);
}

static void do_decide(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
{
	static const char *const allowed[] = {"customer", "moment", NULL};
	cJSON *body = parse_object(rq, allowed, rs);
	if (!body)
		return;
	const char *customer = str_field(body, "customer"), *mname = str_field(body, "moment");
	int moment = tn_moment_parse(mname);
	if (!customer || moment < 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s", !customer ? "customer: required" :
				 "moment: expected cancel, auto_renew_off, session or renewal_due");
		cJSON *det = cJSON_CreateArray();
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "field", !customer ? "customer" : "moment");
		cJSON_AddStringToObject(d, "message", msg);
		cJSON_AddItemToArray(det, d);
		respond_error(rs, 422, NULL, msg, det);
		cJSON_Delete(body);
		return;
	}
	tn_error err = {0};
	decide_state *st = state(sv, &err);
	if (!st) {
		respond_error(rs, 503, NULL, err.msg[0] ? err.msg : "the decider could not be loaded", NULL);
		cJSON_Delete(body);
		return;
	}
	tn_time now = tn_now();
	tn_decision dec;
	int rc = tn_decide(st->d, customer, moment, now, &dec, &err);
	if (rc == TN_ERR_NOTFOUND) { /* added to the store after the load? */
		tn_error e2 = {0};
		tn_store *s = reader_take(sv, &e2);
		int64_t key = 0;
		int krc = s ? customer_key(s, customer, &key, &e2) : e2.code;
		reader_give(sv, s);
		if (krc == TN_OK && key > 0 && tn_decider_add_customer(st->d, customer, key, &e2) == TN_OK) {
			memset(&err, 0, sizeof err);
			rc = tn_decide(st->d, customer, moment, now, &dec, &err);
		} else if (krc != TN_OK && krc != TN_ERR_NOTFOUND) {
			err = e2;
			rc = krc;
		}
	}
	if (rc) {
		respond_err(rs, &err);
		cJSON_Delete(body);
		return;
	}
	/* a survey due now (read on a reader; invitation written with the decision) */
	decide_job job = {.dec = &dec};
	tn_survey_def survey;
	int found = 0;
	int64_t invitation = 0;
	long nsurveys;
	double danger_from;
	snapshot(st, &nsurveys, &danger_from);
	if (nsurveys > 0) {
		tn_store *s = reader_take(sv, &err);
		rc = s ? tn_survey_due(s, dec.customer_key, moment, now, danger_from, &found, &survey, &invitation,
				       &err)
		       : err.code;
		reader_give(sv, s);
		if (rc) {
			tn_decide_undo(st->d, customer, &dec);
			respond_err(rs, &err);
			cJSON_Delete(body);
			return;
		}
		if (found && !invitation)
			job.survey_id = survey.id;
	}
	/* written by the writer after the answer: the hot path never waits for a commit */
	decide_write *dw = tn_calloc(1, sizeof *dw);
	if (!dw) {
		tn_decide_undo(st->d, customer, &dec);
		if (found)
			tn_survey_clear(&survey);
		respond_error(rs, 500, NULL, "out of memory", NULL);
		cJSON_Delete(body);
		return;
	}
	dw->dec = dec;
	dw->job = job;
	dw->job.dec = &dw->dec;
	dw->w = (write_job){.kind = TN_KIND_CUSTOMERS, .apply = decide_apply, .apply_ud = &dw->job,
			    .on_done = decide_release, .answered = 1};
	int q = writer_submit_async(sv, &dw->w);
	if (q) {
		free(dw); /* refused: still ours */
		tn_decide_undo(st->d, customer, &dec);
		if (found)
			tn_survey_clear(&survey);
		respond_error(rs, 503, NULL, q == -1 ? "the server is shutting down" : "overloaded: the writer is behind; retry",
			      NULL);
		cJSON_Delete(body);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "decision_id", dec.id);
	cJSON_AddStringToObject(o, "customer", customer);
	cJSON_AddStringToObject(o, "moment", tn_moment_name(moment));
	cJSON *off = cJSON_AddObjectToObject(o, "offer");
	if (dec.offer_id) {
		cJSON_AddStringToObject(off, "id", dec.offer);
		cJSON_AddStringToObject(off, "kind", dec.kind);
		cJSON_AddStringToObject(off, "terms", dec.terms);
	} else {
		cJSON_AddNullToObject(off, "id");
		cJSON_AddStringToObject(off, "kind", "none");
		cJSON_AddNullToObject(off, "terms");
	}
	time_field(off, "expires_at", dec.expires_at);
	if (found) {
		cJSON_AddItemToObject(o, "survey", tn_survey_to_json(&survey, invitation));
		tn_survey_clear(&survey);
	} else {
		cJSON_AddNullToObject(o, "survey");
	}
	cJSON_AddBoolToObject(o, "holdout", dec.holdout);
	if (dec.plan_id) { /* the approved offer plan in force and the customer's arm in it */
		cJSON *pl = cJSON_AddObjectToObject(o, "plan");
		tn_json_add_num(pl, "id", (double)dec.plan_id);
		cJSON_AddStringToObject(pl, "arm", dec.plan_arm == TN_ARM_OFFER	  ? "offer"
						   : dec.plan_arm == TN_ARM_CONTROL ? "control"
										    : "outside");
	} else {
		cJSON_AddNullToObject(o, "plan");
	}
	cJSON_Delete(body);
	respond_json(rs, 200, o);
}

/* ---- POST /v1/decisions/{id}/outcome ---------------------------------------------------- */

typedef struct outcome_job {
	const char *id, *outcome;
	tn_time at;
	tn_outcome_result res;
} outcome_job;

static int outcome_apply(tn_store *s, void *ud, tn_error *err)
{
	outcome_job *j = ud;
	return tn_decision_outcome(s, j->id, j->outcome, j->at, &j->res, err);
}

static void do_outcome(tn_server *sv, const char *rest, const tn_http_request *rq, tn_http_response *rs)
{
	char id[64];
	size_t n = strcspn(rest, "/");
	if (n == 0 || n >= sizeof id) {
		respond_error(rs, 404, NULL, "no such decision", NULL);
		return;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	static const char *const allowed[] = {"outcome", NULL};
	cJSON *body = parse_object(rq, allowed, rs);
	if (!body)
		return;
	outcome_job job = {.id = id, .outcome = str_field(body, "outcome"), .at = tn_now()};
	if (!job.outcome) {
		respond_error(rs, 422, NULL, "outcome: required (shown, accepted, declined or survey_answered)", NULL);
		cJSON_Delete(body);
		return;
	}
	write_job w = {.kind = TN_KIND_CUSTOMERS, .details = cJSON_CreateArray(), .apply = outcome_apply,
		       .apply_ud = &job};
	writer_submit(sv, &w);
	cJSON_Delete(w.details);
	if (w.status != 200) {
		respond_error(rs, w.status, NULL, w.message, NULL);
		cJSON_Delete(body);
		return;
	}
	if (job.res.conflict) {
		char msg[160];
		snprintf(msg, sizeof msg, "decision %s was already %s", id,
			 strcmp(job.outcome, "accepted") == 0 ? "declined" : "accepted");
		respond_error(rs, 409, "conflict", msg, NULL);
		cJSON_Delete(body);
		return;
	}
	pthread_mutex_lock(&init_mu);
	decide_state *st = sv->decide;
	pthread_mutex_unlock(&init_mu);
	if (st) /* the decider learns: acceptance counts, a declined offer's cost refunded */
		tn_decider_note_outcome(st->d, job.outcome, &job.res);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "decision_id", id);
	cJSON_AddStringToObject(o, "outcome", job.outcome);
	cJSON_AddBoolToObject(o, "recorded", job.res.added);
	cJSON_Delete(body);
	respond_json(rs, 200, o);
}

/* ---- GET /v1/customers/{id}/survey -------------------------------------------------------- */

typedef struct invite_job {
	int64_t survey_id, key, invitation;
	tn_time now;
} invite_job;

static int invite_apply(tn_store *s, void *ud, tn_error *err)
{
	invite_job *j = ud;
	return tn_survey_invite(s, j->survey_id, j->key, j->now, NULL, &j->invitation, err);
}

static void do_survey(tn_server *sv, const char *rest, tn_http_response *rs)
{
	char customer[CUSTOMER_MAX + 1];
	size_t n = strcspn(rest, "/");
	if (n == 0 || n > CUSTOMER_MAX) {
		respond_error(rs, 404, NULL, "no such customer", NULL);
		return;
	}
	memcpy(customer, rest, n);
	customer[n] = '\0';
	tn_error err = {0};
	decide_state *st = state(sv, &err);
	if (!st) {
		respond_error(rs, 503, NULL, err.msg[0] ? err.msg : "the surveys could not be loaded", NULL);
		return;
	}
	tn_store *s = reader_take(sv, &err);
	int64_t key = 0;
	tn_survey_def survey;
	int found = 0;
	int64_t invitation = 0;
	tn_time now = tn_now();
	int rc = s ? customer_key(s, customer, &key, &err) : err.code;
	if (rc == TN_OK && key <= 0)
		rc = tn_error_set(&err, TN_ERR_NOTFOUND, "no customer '%s'", customer);
	long nsurveys;
	double danger_from;
	snapshot(st, &nsurveys, &danger_from);
	if (rc == TN_OK)
		rc = tn_survey_due(s, key, -1, now, danger_from, &found, &survey, &invitation, &err);
	reader_give(sv, s);
	if (rc) {
		respond_err(rs, &err);
		return;
	}
	if (found && !invitation) {
		invite_job job = {.survey_id = survey.id, .key = key, .now = now};
		write_job w = {.kind = TN_KIND_CUSTOMERS, .details = cJSON_CreateArray(), .apply = invite_apply,
			       .apply_ud = &job};
		writer_submit(sv, &w);
		cJSON_Delete(w.details);
		if (w.status != 200) {
			tn_survey_clear(&survey);
			respond_error(rs, w.status, NULL, w.message, NULL);
			return;
		}
		invitation = job.invitation;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "customer", customer);
	if (found) {
		cJSON_AddItemToObject(o, "survey", tn_survey_to_json(&survey, invitation));
		tn_survey_clear(&survey);
	} else {
		cJSON_AddNullToObject(o, "survey");
	}
	respond_json(rs, 200, o);
}

/* ---- POST /v1/feedback: survey rewards ---------------------------------------------------------- */

int decisions_feedback_apply(tn_store *s, void *rows, tn_error *err)
{
	cJSON *a = rows;
	for (cJSON *it = a ? a->child : NULL; it; it = it->next) {
		const char *customer = str_field(it, "customer"), *kind = str_field(it, "kind");
		if (!customer || !kind)
			continue;
		tn_time at = tn_now();
		cJSON *g = cJSON_GetObjectItemCaseSensitive(it, "given_at");
		tn_time t;
		if (cJSON_IsString(g) && tn_time_parse(g->valuestring, strlen(g->valuestring), &t) == TN_OK)
			at = t;
		else if (cJSON_IsNumber(g) && isfinite(g->valuedouble))
			at = (tn_time)g->valuedouble;
		long credited;
		int rc = tn_survey_answered(s, customer, kind, at, &credited, err);
		if (rc)
			return rc == TN_ERR_NOTFOUND || rc == TN_ERR_INPUT ? TN_ERR_DB : rc;
	}
	return TN_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

void decisions_route(tn_server *sv, int which, const char *rest, const tn_http_request *rq, tn_http_response *rs)
{
	switch (which) {
	case DECIDE_POST:
		do_decide(sv, rq, rs);
		break;
	case DECIDE_OUTCOME:
		do_outcome(sv, rest ? rest : "", rq, rs);
		break;
	case DECIDE_SURVEY:
		do_survey(sv, rest ? rest : "", rs);
		break;
	default:
		respond_error(rs, 404, NULL, "no such route", NULL);
	}
}
