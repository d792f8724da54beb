/*
 * fuzz_decisions.c -- libFuzzer target for the in-app routes' bodies and
 * paths (src/server/decisions_route.c): POST /v1/decisions, POST
 * /v1/decisions/{id}/outcome, GET /v1/customers/{id}/survey and the survey
 * reward hook of POST /v1/feedback, through tn_server_handle on a temporary
 * store with customers, scores, an offer catalogue and a survey.
 * Input: byte 0 picks the route; for the id routes the id runs to the first
 * newline; the rest is the body.
 */
#include "tenure.h"
#include "tenure/server.h"
#include "fuzz_server.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char key[TN_KEY_LEN + 1], bearer[TN_KEY_LEN + 16];

static void setup(void)
{
	tn_error err = {0};
	tn_store *s = fuzz_store_new("decisions");
	int64_t id;
	if (tn_key_create(s, "ingest", "fuzz", key, &id, &err))
		__builtin_trap();
	tn_catalogue_offer o = {.name = "pause", .kind = "pause", .terms = "a month off", .cost = 1, .uplift_prior = 0.3,
				.prior_weight = 20, .budget = 50, .cap_count = 3, .cap_days = 30,
				.moments = (1u << TN_MOMENT_COUNT) - 1, .valid_days = 7};
	tn_survey_def sv = {.name = "exit", .kind = "exit", .questions = (char *)tn_survey_template("exit"),
			    .trigger = TN_TRIG_CANCEL, .trigger_days = NAN, .cap_days = 0, .reward_points = 5};
	if (tn_catalogue_add(s, &o, 0, NULL, &err) || tn_survey_add(s, &sv, 0, NULL, &err))
		__builtin_trap();
	tn_store_close(s);
	snprintf(bearer, sizeof bearer, "Bearer %s", key);
	fuzz_server_start();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		setup();
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t n = size - 1;
	char path[256];
	const char *body = text;
	size_t blen = n;
	const char *method = "POST";
	int route = data[0] % 4;
	if (route == 0) {
		snprintf(path, sizeof path, "/v1/decisions");
	} else {
		const char *nl = memchr(text, '\n', n);
		size_t idlen = nl ? (size_t)(nl - text) : n;
		if (idlen > 100)
			idlen = 100;
		if (route == 1)
			snprintf(path, sizeof path, "/v1/decisions/%.*s/outcome", (int)idlen, text);
		else if (route == 2)
			snprintf(path, sizeof path, "/v1/customers/%.*s/survey", (int)idlen, text), method = "GET";
		else
			snprintf(path, sizeof path, "/v1/feedback");
		if (route != 3 && nl) {
			body = nl + 1;
			blen = n - (size_t)(body - text);
		}
	}
	tn_http_request rq = {.method = method, .path = path, .authorization = bearer,
			      .content_type = "application/json", .body = body, .body_len = blen};
	tn_http_response rs;
	tn_server_handle(server, &rq, &rs);
	tn_server_settle(server);
	if (rs.status < 200 || rs.status > 599 || (rs.len && !rs.body))
		__builtin_trap();
	tn_http_response_free(&rs);
	return 0;
}
