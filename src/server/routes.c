/*
 * routes.c -- tn_server_handle: one request in, one response out, no socket.
 *
 * Order of checks: route (404), method (405), key (401) and scope (403),
 * rate limit (429), body size (413), then the route itself.  Every answer is
 * JSON; errors are {"error": {"code", "message", "details": [...]}}.
 * The analysis routes run the CLI command through the server's runner
 * (tn_server_opts.run, in process) with the query parameters as its options,
 * so their JSON is the CLI's `--format json` output, byte for byte; an
 * answer is kept (route and query as the key) until a commit changes the
 * data, or for ACACHE_TTL seconds at most.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "web/web.h"

#include <cjson/cJSON.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { H_HEALTH, H_METRICS, H_WRITE, H_CUSTOMER, H_ANALYSIS, H_UNSUBSCRIBE, H_DECIDE, H_WEBHOOK } handler;

typedef struct route {
	const char *path;    /* pattern; "/v1/customers/{id}" matches a prefix, "{id}/survey" one segment and a suffix */
	const char *method;
	handler h;
	int scope;           /* SCOPE_* needed (SCOPE_NONE: no key) */
	int kind;            /* H_WRITE: tn_kind; H_DECIDE: DECIDE_* (decisions_route.c) */
	const char *argv[3]; /* H_ANALYSIS: the CLI command */
	const char *options; /* H_ANALYSIS: options allowed ("name" takes a value, "name!" is a flag) */
	const char *fixed;   /* H_ANALYSIS: an option always passed, or NULL */
} route;

static const route routes[] = {
	{"/healthz", "GET", H_HEALTH, SCOPE_NONE, 0, {0}, NULL, NULL},
	{"/metrics", "GET", H_METRICS, SCOPE_READ, 0, {0}, NULL, NULL},
	{"/v1/customers", "POST", H_WRITE, SCOPE_INGEST, TN_KIND_CUSTOMERS, {0}, NULL, NULL},
	{"/v1/subscriptions", "POST", H_WRITE, SCOPE_INGEST, TN_KIND_SUBSCRIPTIONS, {0}, NULL, NULL},
	{"/v1/events", "POST", H_WRITE, SCOPE_INGEST, TN_KIND_EVENTS, {0}, NULL, NULL},
	{"/v1/payments", "POST", H_WRITE, SCOPE_INGEST, TN_KIND_PAYMENTS, {0}, NULL, NULL},
	{"/v1/feedback", "POST", H_WRITE, SCOPE_INGEST, TN_KIND_FEEDBACK, {0}, NULL, NULL},
	{"/v1/customers/{id}", "GET", H_CUSTOMER, SCOPE_READ, 0, {0}, NULL, NULL},
	/* authenticated by the source's own signature (webhooks.c), not by a key */
	{"/v1/webhooks/appstore", "POST", H_WEBHOOK, SCOPE_NONE, TN_SRC_APPSTORE, {0}, NULL, NULL},
	{"/v1/webhooks/googleplay", "POST", H_WEBHOOK, SCOPE_NONE, TN_SRC_GOOGLEPLAY, {0}, NULL, NULL},
	{"/v1/webhooks/stripe", "POST", H_WEBHOOK, SCOPE_NONE, TN_SRC_STRIPE, {0}, NULL, NULL},
	{"/v1/webhooks/revenuecat", "POST", H_WEBHOOK, SCOPE_NONE, TN_SRC_REVENUECAT, {0}, NULL, NULL},
	{"/v1/summary", "GET", H_ANALYSIS, SCOPE_READ, 0, {"summary"}, "as-of", NULL},
	{"/v1/churn/rate", "GET", H_ANALYSIS, SCOPE_READ, 0, {"churn", "rate"},
	 "period,definition,as-of,by,revenue!,grace,inactive-days,event-types", NULL},
	{"/v1/cohorts", "GET", H_ANALYSIS, SCOPE_READ, 0, {"cohorts"}, "period,definition,as-of,revenue!", NULL},
	{"/v1/survival", "GET", H_ANALYSIS, SCOPE_READ, 0, {"survival"},
	 "as-of,at,bin,by,conf,definition,event,time,unit,all-spells!,timing!,causes!", NULL},
	{"/v1/drivers", "GET", H_ANALYSIS, SCOPE_READ, 0, {"drivers"},
	 "as-of,covariates,definition,event,reference,strata,ties,time,all-spells!,timing!,cause", NULL},
	{"/v1/churn/recovery", "GET", H_ANALYSIS, SCOPE_READ, 0, {"churn", "recovery"}, "as-of", NULL},
	{"/v1/value/profitability", "GET", H_ANALYSIS, SCOPE_READ, 0, {"value", "profitability"},
	 "by,cost-attr,definition,discount,margin", NULL},
	{"/v1/alerts", "GET", H_ANALYSIS, SCOPE_READ, 0, {"alerts"}, "as-of,since,all!", "--no-update"},
	{"/v1/feedback/scores", "GET", H_ANALYSIS, SCOPE_READ, 0, {"feedback", "scores"}, "by,period", NULL},
	/* the e-mail's unsubscribe link: the signed token is the credential */
	{"/v1/unsubscribe", "GET", H_UNSUBSCRIBE, SCOPE_NONE, 0, {0}, NULL, NULL},
	{"/v1/unsubscribe", "POST", H_UNSUBSCRIBE, SCOPE_NONE, 0, {0}, NULL, NULL},
	{"/v1/decisions", "POST", H_DECIDE, SCOPE_INGEST, DECIDE_POST, {0}, NULL, NULL},
	{"/v1/decisions/{id}/outcome", "POST", H_DECIDE, SCOPE_INGEST, DECIDE_OUTCOME, {0}, NULL, NULL},
	{"/v1/customers/{id}/survey", "GET", H_DECIDE, SCOPE_INGEST | SCOPE_READ, DECIDE_SURVEY, {0}, NULL, NULL},
	{"/v1/offers/report", "GET", H_ANALYSIS, SCOPE_READ, 0, {"offers", "report"}, "", "--decisions"},
};
#define NROUTES (sizeof routes / sizeof routes[0])

static const struct {
	int status;
	const char *code;
} status_codes[] = {{400, "bad_request"},        {401, "unauthorized"},     {403, "forbidden"},
		    {404, "not_found"},          {405, "method_not_allowed"}, {413, "payload_too_large"},
		    {422, "validation_failed"},  {429, "rate_limited"},     {500, "internal"},
		    {501, "not_implemented"},    {503, "unavailable"}};

void respond_json(tn_http_response *rs, int status, cJSON *body)
{
	rs->status = status;
	rs->content_type = "application/json";
	rs->body = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!rs->body) {
		static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"details\":[]}}";
		rs->status = 500;
		rs->body = tn_strdup(oom);
	}
	rs->len = rs->body ? strlen(rs->body) : 0;
}

void respond_error(tn_http_response *rs, int status, const char *code, const char *message, cJSON *details)
{
	if (!code) {
		code = "error";
		for (size_t i = 0; i < sizeof status_codes / sizeof status_codes[0]; i++)
			if (status_codes[i].status == status)
				code = status_codes[i].code;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToObject(e, "details", details ? details : cJSON_CreateArray());
	respond_json(rs, status, o);
}

void tn_http_response_free(tn_http_response *rs)
{
	free(rs->body);
	free(rs->headers);
	memset(rs, 0, sizeof *rs);
}

/* ---- the routes ------------------------------------------------------------ */

void write_job_free(write_job *j)
{
	if (!j)
		return;
	if (j->release) {
		j->release(j);
		return;
	}
	cJSON_Delete(j->rows);
	if (j->fast) {
		fast_events_free(j->fast);
		free(j->fast);
	}
	cJSON_Delete(j->details);
	free(j);
}

/* A write request's body into a job for the writer: 1 ready, 0 when RS
 * holds the error (400, 413, 500).  Events take the fast path when they can
 * (ingest_fast.c); everything else, and every error, the general one. */
static int write_prepare(tn_server *sv, const route *r, const tn_http_request *rq, tn_http_response *rs,
			 write_job **out)
{
	*out = NULL;
	int ndjson = rq->content_type && (strncmp(rq->content_type, "application/x-ndjson", 20) == 0 ||
					  strncmp(rq->content_type, "application/jsonl", 17) == 0);
	write_job *j = tn_calloc(1, sizeof *j);
	if (!j || !(j->details = cJSON_CreateArray())) {
		free(j);
		respond_error(rs, 500, NULL, "out of memory", NULL);
		return 0;
	}
	j->kind = (tn_kind)r->kind;
	j->ndjson = ndjson;
	j->body = rq->body;
	j->body_len = rq->body_len;
	if (r->kind == TN_KIND_EVENTS) {
		size_t max_items = sv->o.max_items ? sv->o.max_items : 100000;
		fast_events *fe = tn_calloc(1, sizeof *fe);
		int f = fe ? ingest_events_fast(rq->body, rq->body_len, ndjson, max_items, fe) : -1;
		if (f == 1) {
			j->fast = fe;
			j->nrows = fe->n;
		} else {
			free(fe);
			if (f < 0) {
				write_job_free(j);
				respond_error(rs, 500, NULL, "out of memory", NULL);
				return 0;
			}
		}
	}
	if (!j->fast) {
		if (!(j->rows = ingest_parse(sv, rq, ndjson, rs))) {
			write_job_free(j);
			return 0;
		}
		j->nrows = (size_t)cJSON_GetArraySize(j->rows);
		if (r->kind == TN_KIND_FEEDBACK) { /* survey answers credit their reward (decisions_route.c) */
			j->apply = decisions_feedback_apply;
			j->apply_ud = j->rows;
		}
	}
	*out = j;
	return 1;
}

/* The answer to a job the writer has run; frees the job. */
static void write_answer(write_job *job, tn_http_response *rs)
{
	if (job->answer)
		job->answer(job, rs);
	else if (job->status == 200) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "added", (double)job->res.added);
		cJSON_AddNumberToObject(o, "updated", (double)job->updated);
		cJSON_AddNumberToObject(o, "unchanged", (double)job->res.unchanged);
		respond_json(rs, 200, o);
	} else {
		respond_error(rs, job->status, NULL, job->message, job->details);
		job->details = NULL;
	}
	write_job_free(job);
}

static char *value_of(void *sv, const char *id) { return value_json(sv, id); }

static void do_customer(tn_server *sv, const char *id, tn_http_response *rs)
{
	if (!*id || strchr(id, '/')) {
		respond_error(rs, 404, NULL, "no such route; a customer is GET /v1/customers/{id}", NULL);
		return;
	}
	tn_error err = {0};
	tn_time now = tn_now();
	/* the read cache (readcache.c): has anything been committed since the
	 * last look?  Then no kept answer is served.  The epoch and the value
	 * model's version are taken before the read's own snapshot. */
	readcache *rc = sv->reads;
	unsigned long epoch = 0, vver = 0;
	unsigned cv = 0;
	tn_store_watch *w = rc ? server_watch(sv) : NULL;
	if (w) {
		tn_store_mark mark;
		/* a torn header is a commit writing it: look again a few times
		 * (two 48-byte copies; only a preempted writer keeps it torn) */
		int seen = 0;
		for (int i = 0; i < 4 && !(seen = tn_store_watch_read(w, &mark)); i++)
			sched_yield();
		epoch = readcache_epoch_mark(rc, seen ? &mark : NULL);
		cv = readcache_cver(rc, id);
		vver = atomic_load(&sv->value_version);
		if (readcache_get(rc, id, epoch, vver, now, value_of, sv, rs))
			return;
	}
	reader_seen *seen = NULL;
	tn_store *s = reader_take_seen(sv, &seen, &err);
	if (!s)
		rc = NULL;
	if (rc && !w) { /* no WAL index mapped: this connection's data version */
		int64_t dv;
		if (tn_store_data_version(s, &dv, NULL) != TN_OK) {
			rc = NULL; /* not SQLite, or an error the read itself will meet */
		} else {
			int changed = !seen || !seen->known || seen->dv != dv;
			if (seen) {
				seen->dv = dv;
				seen->known = 1;
			}
			epoch = readcache_epoch(rc, changed);
			cv = readcache_cver(rc, id);
			vver = atomic_load(&sv->value_version);
			if (readcache_get(rc, id, epoch, vver, now, value_of, sv, rs)) {
				reader_give(sv, s);
				return;
			}
		}
	}
	char *value = s ? value_json(sv, id) : NULL;
	tn_time until = now;
	tn_customer_parts p;
	int st = s ? tn_store_customer_parts(s, id, now, &p, &until, &err) : TN_ERR_DB;
	reader_give(sv, s);
	if (st == TN_OK) {
		size_t len = 0;
		char *json = tn_customer_parts_render(&p, value, &len, NULL);
		if (!json) {
			tn_customer_parts_free(&p);
			free(value);
			respond_error(rs, 500, NULL, "out of memory", NULL);
			return;
		}
		rs->status = 200;
		rs->content_type = "application/json";
		rs->body = json;
		rs->len = len;
		if (rc)
			readcache_put(rc, id, epoch, cv, vver, until, &p, value); /* takes p, value */
		else {
			tn_customer_parts_free(&p);
			free(value);
		}
		return;
	}
	free(value);
	respond_error(rs, err.code == TN_ERR_NOTFOUND ? 404 : 500, NULL, err.msg, NULL);
}

/* Is NAME one of the route's options?  1 takes a value, 2 is a flag, 0 no. */
static int option_kind(const char *options, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = options; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		int flag = len && p[len - 1] == '!';
		if (len - (size_t)flag == n && strncmp(p, name, n) == 0)
			return flag ? 2 : 1;
		p = c ? c + 1 : p + len;
	}
	return 0;
}

/* The cache key of an analysis request: the route and its query, as given. */
static char *acache_key(const route *r, const tn_http_request *rq)
{
	size_t n = strlen(r->path) + 2;
	for (size_t i = 0; i < rq->nquery; i++)
		n += strlen(rq->query[2 * i]) + (rq->query[2 * i + 1] ? strlen(rq->query[2 * i + 1]) : 0) + 3;
	char *k = tn_malloc(n);
	if (!k)
		return NULL;
	size_t at = (size_t)snprintf(k, n, "%s?", r->path);
	for (size_t i = 0; i < rq->nquery; i++)
		at += (size_t)snprintf(k + at, n - at, "%s%c%s&", rq->query[2 * i], rq->query[2 * i + 1] ? '=' : '!',
				       rq->query[2 * i + 1] ? rq->query[2 * i + 1] : "");
	return k;
}

/* A cached answer for KEY still valid at generation GEN: 1 with RS filled. */
static int acache_get(tn_server *sv, const char *key, unsigned long gen, tn_http_response *rs)
{
	acache *c = &sv->analyses;
	int hit = 0;
	double now = server_now();
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < ACACHE_N && !hit; i++) {
		acache_entry *e = &c->e[i];
		if (!e->key || e->gen != gen || now - e->at > ACACHE_TTL || strcmp(e->key, key) != 0)
			continue;
		if ((rs->body = tn_malloc(e->len + 1))) {
			memcpy(rs->body, e->body, e->len + 1);
			rs->len = e->len;
			rs->status = 200;
			rs->content_type = "application/json";
			hit = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* Keep a copy of BODY for KEY (takes KEY). */
static void acache_put(tn_server *sv, char *key, unsigned long gen, const char *body, size_t len)
{
	acache *c = &sv->analyses;
	char *copy = tn_malloc(len + 1);
	if (!copy) {
		free(key);
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	pthread_mutex_lock(&c->mu);
	acache_entry *e = NULL;
	for (size_t i = 0; i < ACACHE_N && !e; i++) /* the same request: replace it */
		if (c->e[i].key && strcmp(c->e[i].key, key) == 0)
			e = &c->e[i];
	if (!e) {
		e = &c->e[c->next];
		c->next = (c->next + 1) % ACACHE_N;
	}
	free(e->key);
	free(e->body);
	*e = (acache_entry){key, copy, len, gen, server_now()};
	pthread_mutex_unlock(&c->mu);
}

static void do_analysis(tn_server *sv, const route *r, const tn_http_request *rq, tn_http_response *rs)
{
	if (!sv->o.run) {
		respond_error(rs, 501, NULL, "this server runs without the analysis commands", NULL);
		return;
	}
	/* the data's generation before the run: a commit during it makes the
	 * answer stale at once */
	unsigned long gen = atomic_load(&sv->generation);
	char *key = acache_key(r, rq);
	if (key && acache_get(sv, key, gen, rs)) {
		free(key);
		return;
	}
	size_t max = 8 + 2 * rq->nquery;
	char **argv = tn_calloc(max, sizeof *argv);
	char **owned = tn_calloc(rq->nquery + 1, sizeof *owned);
	size_t n = 0, no = 0;
	if (!argv || !owned) {
		free(argv);
		free(owned);
		free(key);
		respond_error(rs, 500, NULL, "out of memory", NULL);
		return;
	}
	for (size_t i = 0; i < 3 && r->argv[i]; i++)
		argv[n++] = (char *)r->argv[i];
	if (r->fixed)
		argv[n++] = (char *)r->fixed;
	for (size_t i = 0; i < rq->nquery; i++) {
		const char *name = rq->query[2 * i], *value = rq->query[2 * i + 1];
		int k = option_kind(r->options, name);
		char msg[600];
		if (k == 0 || (k == 1 && (!value || !*value)) ||
		    (k == 2 && value && *value && strcmp(value, "1") != 0 && strcmp(value, "true") != 0)) {
			if (k == 0)
				snprintf(msg, sizeof msg, "unknown query parameter \"%.100s\"; %s takes: %s", name, r->path,
					 *r->options ? r->options : "none");
			else if (k == 1)
				snprintf(msg, sizeof msg, "query parameter \"%.100s\" needs a value", name);
			else
				snprintf(msg, sizeof msg, "query parameter \"%.100s\" is a flag: give it alone or =1", name);
			for (size_t j = 0; j < no; j++)
				free(owned[j]);
			free(owned);
			free(argv);
			free(key);
			respond_error(rs, 400, "bad_query", msg, NULL);
			return;
		}
		size_t len = strlen(name) + 3;
		char *opt = owned[no++] = tn_malloc(len);
		if (opt)
			snprintf(opt, len, "--%s", name);
		argv[n++] = opt;
		if (k == 1)
			argv[n++] = (char *)value;
	}
	argv[n] = NULL;
	char *out = NULL, *errtext = NULL;
	size_t outlen = 0;
	int st = sv->o.run(sv->o.run_ud, sv->db_path, argv, &out, &outlen, &errtext);
	for (size_t j = 0; j < no; j++)
		free(owned[j]);
	free(owned);
	free(argv);
	if (st == 0 && out) {
		rs->status = 200;
		rs->content_type = "application/json";
		rs->body = out;
		rs->len = outlen;
		free(errtext);
		if (key)
			acache_put(sv, key, gen, out, outlen);
		return;
	}
	free(key);
	/* the command's own message, without "tenure: " and the trailing newline */
	const char *m = errtext ? errtext : "the analysis failed";
	if (strncmp(m, "tenure: ", 8) == 0)
		m += 8;
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", m);
	msg[strcspn(msg, "\n")] = '\0';
	respond_error(rs, st == 2 ? 400 : st < 0 ? 503 : 422, st == 2 ? "bad_query" : "analysis_failed",
		      *msg ? msg : "the analysis failed", NULL);
	free(out);
	free(errtext);
}

/* ---- dispatch -------------------------------------------------------------- */

static int path_matches(const route *r, const char *path, const char **rest)
{
	const char *brace = strchr(r->path, '{');
	if (!brace)
		return strcmp(r->path, path) == 0;
	size_t n = (size_t)(brace - r->path);
	const char *suffix = strchr(brace, '}') + 1;
	size_t ns = strlen(suffix), np = strlen(path);
	if (strncmp(r->path, path, n) != 0 || np <= n + ns || strcmp(path + np - ns, suffix) != 0)
		return 0;
	/* {id} is one path segment: a longer path is not swallowed */
	if (memchr(path + n, '/', np - n - ns))
		return 0;
	*rest = path + n;
	return 1;
}

static int route_class(handler h)
{
	switch (h) {
	case H_HEALTH:
		return R_HEALTHZ;
	case H_METRICS:
		return R_METRICS;
	case H_WRITE:
	case H_WEBHOOK:
		return R_WRITE;
	case H_CUSTOMER:
		return R_CUSTOMER;
	default:
		return R_ANALYSIS;
	}
}

/* Route, check and answer RQ.  A write that passed its checks is left in
 * *DEFER, not run. */
static const route *dispatch(tn_server *sv, const tn_http_request *rq, tn_http_response *rs, write_job **defer)
{
	const char *path = rq->path ? rq->path : "/";
	const char *method = rq->method ? rq->method : "";
	const route *r = NULL, *any = NULL;
	const char *rest = NULL;
	char allow[64] = "";
	for (size_t i = 0; i < NROUTES; i++) {
		const char *rr = NULL;
		if (!path_matches(&routes[i], path, &rr))
			continue;
		any = &routes[i];
		size_t k = strlen(allow);
		if (!strstr(allow, routes[i].method))
			snprintf(allow + k, sizeof allow - k, "%s%s", k ? ", " : "", routes[i].method);
		if (strcmp(routes[i].method, method) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			r = &routes[i];
			rest = rr;
		}
	}
	if (!any && web_handle(sv, rq, rs)) /* the dashboard's pages (src/web) */
		return NULL;
	if (!any) {
		respond_error(rs, 404, NULL, "no such route (see docs/api.md)", NULL);
		return NULL;
	}
	if (!r) {
		char msg[160];
		snprintf(msg, sizeof msg, "%s is not allowed on %s; allowed: %s", method, any->path, allow);
		respond_error(rs, 405, NULL, msg, NULL);
		rs->allow = strstr(allow, ",") ? "GET, POST" : strcmp(allow, "GET") == 0 ? "GET" : "POST";
		return any;
	}
	if (r->scope != SCOPE_NONE) {
		int scope;
		int64_t key_id;
		int bad = auth_check(sv, rq->authorization, &scope, &key_id);
		if (bad == -2) { /* the store did not answer: not the key's fault */
			respond_error(rs, 503, NULL, "cannot read the API keys from the store; retry", NULL);
			rs->retry_after = 1;
			return r;
		}
		if (bad) {
			respond_error(rs, 401, NULL,
				      rq->authorization ? "unknown or revoked key" : "missing key: send Authorization: Bearer KEY",
				      NULL);
			rs->www_authenticate = 1;
			return r;
		}
		if (!(scope & r->scope)) {
			char msg[128];
			snprintf(msg, sizeof msg, "this key's scope does not allow %s %s (needs %s)", r->method, r->path,
				 r->scope == SCOPE_INGEST ? "ingest or admin" : "read or admin");
			respond_error(rs, 403, NULL, msg, NULL);
			return r;
		}
		int wait = auth_rate(sv, key_id);
		if (wait) {
			char msg[128];
			snprintf(msg, sizeof msg, "rate limit of %g requests a second for this key; retry in %d s",
				 sv->o.rate, wait);
			respond_error(rs, 429, NULL, msg, NULL);
			rs->retry_after = wait;
			return r;
		}
	}
	size_t max_body = sv->o.max_body ? sv->o.max_body : (size_t)16 << 20;
	if (rq->body_too_large || rq->body_len > max_body) {
		char msg[128];
		snprintf(msg, sizeof msg, "the body is larger than %zu bytes (--max-body)", max_body);
		respond_error(rs, 413, NULL, msg, NULL);
		return r;
	}
	switch (r->h) {
	case H_HEALTH: {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "status", "ok");
		cJSON_AddStringToObject(o, "version", tn_version());
		respond_json(rs, 200, o);
		break;
	}
	case H_METRICS: {
		pthread_mutex_lock(&sv->w.mu);
		long depth = sv->w.depth;
		pthread_mutex_unlock(&sv->w.mu);
		metrics_cache mc;
		readcache_stats(sv->reads, &mc.hits, &mc.misses, &mc.bytes);
		rs->body = metrics_text(&sv->metrics, depth, (long)atomic_load(&sv->in_flight), &mc, &rs->len);
		rs->status = rs->body ? 200 : 500;
		rs->content_type = "text/plain; version=0.0.4";
		if (!rs->body)
			respond_error(rs, 500, NULL, "out of memory", NULL);
		break;
	}
	case H_WRITE:
		write_prepare(sv, r, rq, rs, defer);
		break;
	case H_CUSTOMER:
		do_customer(sv, rest, rs);
		break;
	case H_ANALYSIS:
		do_analysis(sv, r, rq, rs);
		break;
	case H_UNSUBSCRIBE:
		do_unsubscribe(sv, rq, rs);
		break;
	case H_DECIDE:
		decisions_route(sv, r->kind, rest, rq, rs);
		break;
	case H_WEBHOOK:
		webhook_prepare(sv, r->kind, rq, rs, defer);
		break;
	}
	return r;
}

void tn_server_handle(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
{
	memset(rs, 0, sizeof *rs);
	double t0 = server_now();
	write_job *job = NULL;
	const route *r = dispatch(sv, rq, rs, &job);
	if (job) {
		writer_submit(sv, job);
		write_answer(job, rs);
	}
	metrics_request(&sv->metrics, r ? route_class(r->h) : R_OTHER, r ? r->path : "unmatched", rs->status,
			server_now() - t0);
}

int server_handle_begin(tn_server *sv, const tn_http_request *rq, tn_http_response *rs, write_job **job)
{
	memset(rs, 0, sizeof *rs);
	double t0 = server_now();
	*job = NULL;
	const route *r = dispatch(sv, rq, rs, job);
	if (*job) {
		(*job)->route = r;
		(*job)->t0 = t0;
		return 1;
	}
	metrics_request(&sv->metrics, r ? route_class(r->h) : R_OTHER, r ? r->path : "unmatched", rs->status,
			server_now() - t0);
	return 0;
}

void server_finish_write(tn_server *sv, write_job *job, tn_http_response *rs)
{
	memset(rs, 0, sizeof *rs);
	const route *r = job->route;
	double t0 = job->t0;
	write_answer(job, rs);
	metrics_request(&sv->metrics, R_WRITE, r ? r->path : "unmatched", rs->status, server_now() - t0);
}
