/*
 * fuzz_http.c -- libFuzzer target for the server's request handler
 * (tn_server_handle: routing, headers, auth, JSON bodies, validation, the
 * writer's group commit) without a socket, on a temporary store.
 * Input: byte 0 picks the method, byte 1 the Authorization and Content-Type;
 * then the path (with an optional ?query) up to a newline; the rest is the body.
 */
#include "tenure.h"
#include "tenure/server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tn_server *server;
static char db[64], key[TN_KEY_LEN + 1], bearer[TN_KEY_LEN + 16];

static void cleanup(void)
{
	tn_server_free(server, NULL);
	char p[80];
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
}

static void setup(void)
{
	tn_error err = {0};
	tn_store *s;
	snprintf(db, sizeof db, "/tmp/tenure_fuzz_http_%d.db", (int)getpid());
	unlink(db);
	int64_t id;
	if (tn_store_open(db, TN_STORE_CREATE, &s, &err) || tn_key_create(s, "admin", "fuzz", key, &id, &err))
		__builtin_trap();
	tn_store_begin(s, &err);
	for (int i = 0; i < 4; i++) {
		char cid[8];
		snprintf(cid, sizeof cid, "c%d", i);
		tn_customer_rec c = {cid, 0, "SA", "organic", NULL};
		tn_store_put_customer(s, &c, NULL, &err);
	}
	if (tn_store_commit(s, &err))
		__builtin_trap();
	tn_store_close(s);
	snprintf(bearer, sizeof bearer, "Bearer %s", key);
	tn_server_opts o = {.db_path = db, .max_body = 1 << 16, .max_depth = 16};
	if (tn_server_new(&o, &server, &err))
		__builtin_trap();
	atexit(cleanup);
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
	char *path = malloc(plen + 1);
	if (!path)
		return 0;
	memcpy(path, text, plen);
	path[plen] = '\0';
	/* split the query into name/value pairs as the HTTP layer does */
	const char *q[32];
	size_t nq = 0;
	char *qs = strchr(path, '?');
	if (qs) {
		*qs++ = '\0';
		while (qs && *qs && nq < 16) {
			char *amp = strchr(qs, '&');
			if (amp)
				*amp++ = '\0';
			char *eq = strchr(qs, '=');
			if (eq)
				*eq++ = '\0';
			q[2 * nq] = qs;
			q[2 * nq + 1] = eq;
			nq++;
			qs = amp;
		}
	}
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
	if (rs.status < 200 || rs.status > 599 || (rs.len && !rs.body))
		__builtin_trap();
	tn_http_response_free(&rs);
	free(path);
	return 0;
}
