/*
 * fuzz_server.h -- what the server fuzz targets (fuzz_http, fuzz_decisions,
 * fuzz_web) share: a throwaway store file named for the target and process,
 * removed with its WAL at exit, and the path/query split the HTTP layer does
 * (so the request handler sees what libmicrohttpd would hand it).
 */
#ifndef TENURE_FUZZ_SERVER_H
#define TENURE_FUZZ_SERVER_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tenure.h"
#include "tenure/server.h"
#include "base/rng.h"

static tn_server *server;
static char db[64];

static void fuzz_cleanup(void)
{
	tn_server_free(server, NULL);
	char p[80];
	unlink(db);
	snprintf(p, sizeof p, "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", db);
	unlink(p);
}

/* What the server reads besides the input, pinned (before anything is
 * stored), so that an input covers the same in every run: the clock at
 * 2026-07-01T12:00:00Z (a day after the demo data's end), the monotonic clock
 * stopped when STOP_MONO (not for fuzz_web: its pages would wait for every
 * figure, 16 instead of ~200 inputs a second), and the random bytes
 * of keys, session and CSRF tokens and the decider's sampler from a fixed
 * seed.  Only here: the product's keys stay from the OS (base/rng.h). */
static inline void fuzz_pin(int stop_mono)
{
	tn_now_pin(1782907200);
	tn_mono_pin(stop_mono);
	tn_random_pin(0x7e4e5eed);
	/* SQLite's own generator (the WAL's salts, which it compares with
	 * memcmp: libFuzzer keeps compared bytes to put into inputs), seeded from
	 * /dev/urandom otherwise */
	sqlite3_test_control(SQLITE_TESTCTRL_PRNG_SEED, 0x7e4e, NULL);
}

/* A new store at /tmp/tenure_fuzz_NAME_PID.db with customers c0..c3. */
static inline tn_store *fuzz_store_new(const char *name)
{
	tn_error err = {0};
	tn_store *s;
	fuzz_pin(1);
	snprintf(db, sizeof db, "/tmp/tenure_fuzz_%s_%d.db", name, (int)getpid());
	unlink(db);
	if (tn_store_open(db, TN_STORE_CREATE, &s, &err) || tn_store_begin(s, &err))
		__builtin_trap();
	for (int i = 0; i < 4; i++) {
		char cid[8];
		snprintf(cid, sizeof cid, "c%d", i);
		tn_customer_rec c = {cid, 0, "SA", "organic", NULL};
		tn_store_put_customer(s, &c, NULL, &err);
	}
	if (tn_store_commit(s, &err))
		__builtin_trap();
	return s;
}

/* The server on DB (small limits, so the fuzzer reaches them), removed at exit.
 * The writer's timed work is off (no fold of the journal after a second
 * without writes, no wait for company before a commit) and so is the value
 * model's thread (its rebuilds come when they will: the value is null), so
 * what an input covers does not depend on how long the fuzzer took to send
 * the next one (scripts/fuzz.sh replays a run by its number of executions);
 * the targets call tn_server_settle after each input, so the writer's idle
 * work for it is done before the next. */
static inline void fuzz_server_start(void)
{
	tn_error err = {0};
	tn_server_opts o = {.db_path = db, .max_body = 1 << 16, .max_depth = 16, .fold_idle = -1, .group_wait_us = -1,
			    .value_refresh = -1};
	if (tn_server_new(&o, &server, &err))
		__builtin_trap();
	tn_server_settle(server); /* the writer's first load of the event-key filter, before the first input */
	atexit(fuzz_cleanup);
}

/* The first line of TEXT (N bytes) as a malloc'ed path, its ?query split in
 * place into at most 16 name/value pairs in Q (value NULL without '=');
 * NULL when out of memory. */
static inline char *fuzz_path_query(const char *text, size_t n, const char *q[32], size_t *nq)
{
	const char *nl = memchr(text, '\n', n);
	size_t plen = nl ? (size_t)(nl - text) : n;
	char *path = malloc(plen + 1);
	*nq = 0;
	if (!path)
		return NULL;
	memcpy(path, text, plen);
	path[plen] = '\0';
	char *qs = strchr(path, '?');
	if (qs) {
		*qs++ = '\0';
		while (qs && *qs && *nq < 16) {
			char *amp = strchr(qs, '&');
			if (amp)
				*amp++ = '\0';
			char *eq = strchr(qs, '=');
			if (eq)
				*eq++ = '\0';
			q[2 * *nq] = qs;
			q[2 * *nq + 1] = eq;
			(*nq)++;
			qs = amp;
		}
	}
	return path;
}

#endif
