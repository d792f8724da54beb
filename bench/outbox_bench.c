/*
 * outbox_bench.c -- the outbox benchmark's two helpers (bench/bench_outbox.sh):
 *   outbox_bench receiver PORTFILE SECRET
 *       a local webhook receiver on libmicrohttpd (a thread pool, keep-alive)
 *       that verifies every Tenure-Signature (tn_webhook_verify) and counts
 *       the good and bad ones; SIGTERM prints "received=N bad=M" and exits;
 *   outbox_bench queue DB N URL SECRET
 *       add the receiver as a webhook and queue N alert messages in one
 *       transaction (tn_outbox_enqueue).
 */
#include "tenure.h"
#include "tenure/outbox.h"

#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_long good, bad;
static const char *secret;

typedef struct body {
	char *p;
	size_t n;
} body;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	body *b = *state;
	if (!b) {
		b = calloc(1, sizeof *b);
		*state = b;
		return b ? MHD_YES : MHD_NO;
	}
	if (*size) {
		char *t = realloc(b->p, b->n + *size + 1);
		if (!t)
			return MHD_NO;
		memcpy(t + b->n, data, *size);
		b->p = t;
		b->n += *size;
		*size = 0;
		return MHD_YES;
	}
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Tenure-Signature");
	int ok = sig && tn_webhook_verify(secret, sig, b->p ? b->p : "", b->n, (int64_t)time(NULL), 300, NULL) == TN_OK;
	atomic_fetch_add(ok ? &good : &bad, 1);
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, ok ? 200 : 400, r);
	MHD_destroy_response(r);
	return ret;
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	body *b = *state;
	if (b) {
		free(b->p);
		free(b);
	}
	*state = NULL;
}

static int receiver(const char *portfile, const char *sec)
{
	secret = sec;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, handle,
						NULL, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT,
						4096u, MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "receiver: cannot start\n");
		return 1;
	}
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "%u\n", (unsigned)i->port);
	fclose(f);
	rename(tmp, portfile);
	int sig;
	sigwait(&s, &sig);
	MHD_stop_daemon(d);
	printf("received=%ld bad=%ld\n", atomic_load(&good), atomic_load(&bad));
	return 0;
}

static int queue(const char *db, long n, const char *url, const char *sec)
{
	tn_store *s;
	tn_error err = {0};
	int64_t id;
	if (tn_store_open(db, TN_STORE_CREATE, &s, &err) || tn_webhook_add(s, url, "alert", sec, 0, &id, &err) ||
	    tn_store_begin(s, &err)) {
		fprintf(stderr, "queue: %s\n", err.msg);
		return 1;
	}
	char key[64], data[128];
	for (long k = 0; k < n; k++) {
		snprintf(key, sizeof key, "bench:%ld", k);
		snprintf(data, sizeof data, "{\"kind\":\"inactive\",\"detail\":\"no activity for 19 days\",\"n\":%ld}", k);
		if (tn_outbox_enqueue(s, "alert", key, 0, data, (tn_time)time(NULL), NULL, &err)) {
			fprintf(stderr, "queue: %s\n", err.msg);
			return 1;
		}
	}
	if (tn_store_commit(s, &err)) {
		fprintf(stderr, "queue: %s\n", err.msg);
		return 1;
	}
	tn_store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "receiver") == 0)
		return receiver(argv[2], argv[3]);
	if (argc == 6 && strcmp(argv[1], "queue") == 0)
		return queue(argv[2], strtol(argv[3], NULL, 10), argv[4], argv[5]);
	fprintf(stderr, "usage: outbox_bench receiver PORTFILE SECRET | queue DB N URL SECRET\n");
	return 2;
}
