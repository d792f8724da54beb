/*
 * routes.c -- tn_server_handle: one request in, one response out, no socket.
 *
 * Order of checks: route (404), method (405), key (401) and scope (403),
 * rate limit (429), body size (413), then the route itself.  Every answer is
 * JSON; errors are {"error": {"code", "message", "details": [...]}}.
 * The analysis routes run the CLI command through the server's runner
 * (tn_server_opts.run) with the query parameters as its options, so their
 * JSON is the CLI's `--format json` output, byte for byte.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "web/web.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { H_HEALTH, H_METRICS, H_WRITE, H_CUSTOMER, H_ANALYSIS } handler;

typedef struct route {
	const char *path;    /* pattern; "/v1/customers/{id}" matches a prefix */
	const char *method;
	handler h;
	int scope;           /* SCOPE_* needed (SCOPE_NONE: no key) */
	int kind;            /* H_WRITE: tn_kind */
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
	{"/v1/summary", "GET", H_ANALYSIS, SCOPE_READ, 0, {"summary"}, "as-of", NULL},
	{"/v1/churn/rate", "GET", H_ANALYSIS, SCOPE_READ, 0, {"churn", "rate"},
	 "period,definition,as-of,by,revenue!,grace,inactive-days,event-types", NULL},
	{"/v1/cohorts", "GET", H_ANALYSIS, SCOPE_READ, 0, {"cohorts"}, "period,definition,as-of,revenue!", NULL},
	{"/v1/survival", "GET", H_ANALYSIS, SCOPE_READ, 0, {"survival"},
	 "as-of,at,bin,by,conf,definition,event,time,unit,all-spells!,timing!", NULL},
	{"/v1/drivers", "GET", H_ANALYSIS, SCOPE_READ, 0, {"drivers"},
	 "as-of,covariates,definition,event,reference,strata,ties,time,all-spells!,timing!", NULL},
	{"/v1/value/profitability", "GET", H_ANALYSIS, SCOPE_READ, 0, {"value", "profitability"},
	 "by,cost-attr,definition,discount,margin", NULL},
	{"/v1/alerts", "GET", H_ANALYSIS, SCOPE_READ, 0, {"alerts"}, "as-of,since,all!", "--no-update"},
	{"/v1/feedback/scores", "GET", H_ANALYSIS, SCOPE_READ, 0, {"feedback", "scores"}, "by,period", NULL},
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

static void do_write(tn_server *sv, const route *r, const tn_http_request *rq, tn_http_response *rs)
{
	int ndjson = rq->content_type && (strncmp(rq->content_type, "application/x-ndjson", 20) == 0 ||
					  strncmp(rq->content_type, "application/jsonl", 17) == 0);
	cJSON *rows = ingest_parse(sv, rq, ndjson, rs);
	if (!rows)
		return;
	write_job job = {.kind = (tn_kind)r->kind, .rows = rows, .details = cJSON_CreateArray()};
	writer_submit(sv, &job);
	cJSON_Delete(rows);
	if (job.status == 200) {
		cJSON_Delete(job.details);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "added", (double)job.res.added);
		cJSON_AddNumberToObject(o, "updated", (double)job.updated);
		cJSON_AddNumberToObject(o, "unchanged", (double)job.res.unchanged);
		respond_json(rs, 200, o);
		return;
	}
	respond_error(rs, job.status, NULL, job.message, job.details);
}

static void do_customer(tn_server *sv, const char *id, tn_http_response *rs)
{
	if (!*id || strchr(id, '/')) {
		respond_error(rs, 404, NULL, "no such route; a customer is GET /v1/customers/{id}", NULL);
		return;
	}
	tn_error err = {0};
	tn_store *s = reader_take(sv, &err);
	char *json = NULL;
	if (s && tn_store_customer_json(s, id, (tn_time)time(NULL), &json, &err) == TN_OK) {
		reader_give(sv, s);
		rs->status = 200;
		rs->content_type = "application/json";
		rs->body = json;
		rs->len = strlen(json);
		return;
	}
	reader_give(sv, s);
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

static void do_analysis(tn_server *sv, const route *r, const tn_http_request *rq, tn_http_response *rs)
{
	if (!sv->o.run) {
		respond_error(rs, 501, NULL, "this server runs without the analysis commands", NULL);
		return;
	}
	size_t max = 8 + 2 * rq->nquery;
	char **argv = tn_calloc(max, sizeof *argv);
	char **owned = tn_calloc(rq->nquery + 1, sizeof *owned);
	size_t n = 0, no = 0;
	if (!argv || !owned) {
		free(argv);
		free(owned);
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
		return;
	}
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
	if (strncmp(r->path, path, n) != 0 || !path[n])
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
		return R_WRITE;
	case H_CUSTOMER:
		return R_CUSTOMER;
	default:
		return R_ANALYSIS;
	}
}

static const route *dispatch(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
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
		/* /v1/customers/{id} must not swallow a longer path */
		if (rr && strchr(rr, '/'))
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
		if (auth_check(sv, rq->authorization, &scope, &key_id)) {
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
		rs->body = metrics_text(&sv->metrics, depth, &rs->len);
		rs->status = rs->body ? 200 : 500;
		rs->content_type = "text/plain; version=0.0.4";
		if (!rs->body)
			respond_error(rs, 500, NULL, "out of memory", NULL);
		break;
	}
	case H_WRITE:
		do_write(sv, r, rq, rs);
		break;
	case H_CUSTOMER:
		do_customer(sv, rest, rs);
		break;
	case H_ANALYSIS:
		do_analysis(sv, r, rq, rs);
		break;
	}
	return r;
}

void tn_server_handle(tn_server *sv, const tn_http_request *rq, tn_http_response *rs)
{
	memset(rs, 0, sizeof *rs);
	double t0 = server_now();
	const route *r = dispatch(sv, rq, rs);
	metrics_request(&sv->metrics, r ? route_class(r->h) : R_OTHER, r ? r->path : "unmatched", rs->status,
			server_now() - t0);
}
