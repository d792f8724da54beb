/*
 * fuzz_http.c -- libFuzzer target for the server's request handler
 * (tn_server_handle: routing, headers, auth, JSON bodies, validation, the
 * writer's group commit) without a socket, on a temporary store.
 * Input: byte 0 picks the method, byte 1 the Authorization and Content-Type;
 * then the path (with an optional ?query) up to a newline; the rest is the body.
 */
#include "tenure.h"
#include "tenure/server.h"
#include "fuzz_server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char key[TN_KEY_LEN + 1], bearer[TN_KEY_LEN + 16];

static void setup(void)
{
	tn_error err = {0};
	tn_store *s = fuzz_store_new("http");
	int64_t id;
	if (tn_key_create(s, "admin", "fuzz", key, &id, &err))
		__builtin_trap();
	tn_store_close(s);
	snprintf(bearer, sizeof bearer, "Bearer %s", key);
	fuzz_server_start();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		setup();
	if (size < 2)
		return 0;
	static const char *const methods[] = {"GET", "POST", "HEAD", "DELETE", "PUT", ""};
	static const char *const types[] = {"application/json", "application/x-ndjson", NULL, "text/plain"};
	const char *auth[] = {bearer, NULL, "Bearer tn_0000", "Basic x"};
	const char *text = (const char *)data + 2;
	size_t n = size - 2;
	const char *nl = memchr(text, '\n', n);
	size_t plen = nl ? (size_t)(nl - text) : n;
	const char *q[32];
	size_t nq;
	char *path = fuzz_path_query(text, n, q, &nq);
	if (!path)
		return 0;
	tn_http_request rq = {
		.method = methods[data[0] % 6],
		.path = path,
		.query = q,
		.nquery = nq,
		.authorization = auth[data[1] % 4],
		.content_type = types[(data[1] / 4) % 4],
		.body = nl ? nl + 1 : NULL,
		.body_len = nl ? n - plen - 1 : 0,
	};
	tn_http_response rs;
	tn_server_handle(server, &rq, &rs);
	tn_server_settle(server);
	if (rs.status < 200 || rs.status > 599 || (rs.len && !rs.body))
		__builtin_trap();
	tn_http_response_free(&rs);
	free(path);
	return 0;
}
