/*
 * cmd_serve.c -- `tenure serve`: run the HTTP/JSON API (libtenure's
 * tenure/server.h) until SIGTERM or SIGINT, then stop gracefully: stop
 * accepting, finish the requests in flight, commit, exit 0.
 *
 * The analysis routes (/v1/summary, /v1/survival, ...) answer with exactly
 * what `tenure --format json CMD` prints: the runner below calls the very
 * command function in this process with stdout and stderr pointed at memory
 * streams (one analysis at a time, under a mutex: the streams are the
 * process's).  The server caches each answer until new data is committed
 * (routes.c), so a dashboard polling /v1/summary costs one run per commit.
 */
#include "cli.h"

#include <stdio.h>
#include "tenure/server.h"
#include "cli/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>



static const char serve_help[] =
	"usage: tenure serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
	"                    [--threads N] [--max-conns N] [--per-ip N] [--timeout SECONDS]\n"
	"                    [--max-body BYTES] [--max-depth N] [--rate N] [--burst N]\n"
	"                    [--read-cache BYTES] [--fold-rows N] [--fold-idle SECONDS]\n"
	"                    [--group-wait MICROSECONDS]\n"
	"                    [--scheduler [--scheduler-interval SECONDS]]\n\n"
	"The HTTP/JSON API over the store (--db): ingest customers, subscriptions,\n"
	"events, payments and feedback; read a customer, the summary and the analyses.\n"
	"Routes, fields and statuses: docs/api.md.  Keys: `tenure keys create`.\n"
	"  --listen HOST:PORT  address (default 127.0.0.1:8080; port 0 = any free port)\n"
	"  --tls-cert/--tls-key  PEM certificate and key: serve HTTPS\n"
	"  --threads N         HTTP threads (default two per core)\n"
	"  --max-conns N       open connections (default 1024); --per-ip N per client (256)\n"
	"  --timeout SECONDS   idle connection timeout (default 30)\n"
	"  --max-body BYTES    largest request body, e.g. 16M (default 16M; 413 above)\n"
	"  --max-depth N       deepest JSON nesting (default 32; 400 above)\n"
	"  --rate N            requests per second per key (default 0: no limit; 429 above)\n"
	"  --burst N           requests a key may send at once (default: the rate)\n"
	"  --read-cache BYTES  GET /v1/customers/{id} answers kept in memory until a\n"
	"                      commit or the next day as a customer (default 128M; 0: off)\n"
	"  --fold-rows N       fold the events journal into events at N rows (default\n"
	"                      2000000; also at shutdown)\n"
	"  --fold-idle SECONDS ... and after SECONDS without writes (default 1; 0 never)\n"
	"  --group-wait MICROSECONDS  when writes come together, wait up to this long\n"
	"                      for more before a group commit (default 300; 0 never)\n"
	"  --scheduler         run the scheduled jobs (tenure jobs run) and deliver the\n"
	"                      outbox in a thread, every --scheduler-interval (default 10 s)\n"
	"Prints `listening on http://HOST:PORT` on stderr when ready.  SIGTERM or\n"
	"SIGINT: stop accepting, finish the requests in flight, commit, exit 0.\n";

/* The analysis commands the read routes run (routes.c names them). */
static const struct {
	const char *name;
	cli_fn fn;
} analyses[] = {
	{"summary", cmd_summary}, {"churn", cmd_churn},     {"cohorts", cmd_cohorts}, {"survival", cmd_survival},
	{"drivers", cmd_drivers}, {"value", cmd_value},     {"alerts", cmd_alerts},   {"feedback", cmd_feedback},
	{"offers", cmd_offers},
};

/* One analysis at a time: stdout and stderr are the process's. */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

static int run_cli(void *ud, const char *db_path, char *const *argv, char **out, size_t *outlen, char **errtext)
{
	(void)ud;
	*out = *errtext = NULL;
	*outlen = 0;
	cli_fn fn = NULL;
	for (size_t i = 0; i < sizeof analyses / sizeof analyses[0] && argv[0]; i++)
		if (strcmp(analyses[i].name, argv[0]) == 0)
			fn = analyses[i].fn;
	if (!fn)
		return -1;
	int argc = 0;
	while (argv[argc])
		argc++;
	/* a private argv: commands may reorder theirs */
	char **av = calloc((size_t)argc + 1, sizeof *av);
	if (!av)
		return -1;
	memcpy(av, argv, (size_t)argc * sizeof *av);
	cli_ctx ctx = {.db_path = db_path, .db_given = 1, .format = OUT_JSON, .quiet = 1, .prog = "tenure"};
	char *ebuf = NULL;
	size_t elen = 0;
	pthread_mutex_lock(&run_mu);
	FILE *mo = open_memstream(out, outlen), *me = open_memstream(&ebuf, &elen);
	if (!mo || !me) {
		pthread_mutex_unlock(&run_mu);
		if (mo)
			fclose(mo);
		if (me)
			fclose(me);
		free(*out);
		free(ebuf);
		*out = NULL;
		free(av);
		return -1;
	}
	/* what the command prints is what `tenure --format json CMD` prints */
	FILE *so = stdout, *se = stderr;
	fflush(so);
	fflush(se);
	stdout = mo;
	stderr = me;
	cli_out_failed();
	int st = cli_no_data(&ctx, argc, av) == CLI_NO_DATA ? 0 : fn(&ctx, argc, av);
	/* out of memory building the output: incomplete, not an answer (no
	 * command calls exit(), scripts/checksrc.sh keeps it so) */
	int bad = fflush(mo) != 0 || ferror(mo) || cli_out_failed();
	fflush(me);
	stdout = so;
	stderr = se;
	pthread_mutex_unlock(&run_mu);
	fclose(mo);
	fclose(me);
	free(av);
	*errtext = ebuf;
	if (bad) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		return -1;
	}
	return st;
}

/* "16M", "64k", "1048576" -> bytes. */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned long long mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1ull << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1ull << 30, end++;
	if (*end || v == 0 || v > (1ull << 40) / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

static int parse_listen(const char *s, char *host, size_t n, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return -1;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (hl == 0 || hl >= n)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || p < 0 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
	tn_server_opts o = {.db_path = ctx->db_path, .port = 8080, .run = run_cli};
	char host[256] = "127.0.0.1";
	int with_scheduler = 0;
	double sched_interval = 10;
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int r;
		if (cli_is_help(argv[i])) {
			fputs(serve_help, stdout);
			return 0;
		}
		if ((r = cli_opt(argc, argv, &i, "--listen", &v))) {
			if (r < 0)
				return 2;
			if (parse_listen(v, host, sizeof host, &o.port))
				return cli_usage_error("serve", "--listen: expected HOST:PORT, found \"%s\"", v);
		} else if ((r = cli_opt(argc, argv, &i, "--tls-cert", &o.tls_cert)) ||
			   (r = cli_opt(argc, argv, &i, "--tls-key", &o.tls_key))) {
			if (r < 0)
				return 2;
		} else if ((r = cli_opt(argc, argv, &i, "--max-body", &v))) {
			if (r < 0)
				return 2;
			if (parse_size(v, &o.max_body))
				return cli_usage_error("serve", "--max-body: expected a size such as 16M, found \"%s\"", v);
		} else if ((r = cli_opt(argc, argv, &i, "--read-cache", &v))) {
			if (r < 0)
				return 2;
			if (strcmp(v, "0") == 0)
				o.no_read_cache = 1;
			else if (parse_size(v, &o.read_cache))
				return cli_usage_error("serve", "--read-cache: expected a size such as 64M, or 0, found \"%s\"", v);
		} else if ((r = cli_opt(argc, argv, &i, "--rate", &v))) {
			if (r < 0 || cli_parse_double("serve", "--rate", v, &o.rate))
				return 2;
			if (o.rate < 0)
				return cli_usage_error("serve", "--rate: expected zero or more, found %s", v);
		} else if ((r = cli_opt(argc, argv, &i, "--fold-rows", &v))) {
			long x;
			if (r < 0 || cli_parse_long("serve", "--fold-rows", v, &x))
				return 2;
			if (x < 1 || x > 100000000)
				return cli_usage_error("serve", "--fold-rows: expected 1 to 100000000, found %ld", x);
			o.fold_rows = (size_t)x;
		} else if ((r = cli_opt(argc, argv, &i, "--fold-idle", &v))) {
			if (r < 0 || cli_parse_double("serve", "--fold-idle", v, &o.fold_idle))
				return 2;
			if (!(o.fold_idle == 0 || (o.fold_idle >= 0.01 && o.fold_idle <= 86400)))
				return cli_usage_error("serve", "--fold-idle: expected 0 (never) or 0.01 to 86400 seconds, found %s", v);
			if (o.fold_idle == 0)
				o.fold_idle = -1;
		} else if ((r = cli_opt(argc, argv, &i, "--group-wait", &v))) {
			long x;
			if (r < 0 || cli_parse_long("serve", "--group-wait", v, &x))
				return 2;
			if (x < 0 || x > 100000)
				return cli_usage_error("serve", "--group-wait: expected 0 (never) to 100000 microseconds, found %ld", x);
			o.group_wait_us = x ? x : -1;
		} else if (strcmp(argv[i], "--scheduler") == 0) {
			with_scheduler = 1;
		} else if ((r = cli_opt(argc, argv, &i, "--scheduler-interval", &v))) {
			if (r < 0 || cli_parse_double("serve", "--scheduler-interval", v, &sched_interval))
				return 2;
			if (!(sched_interval >= 0.1 && sched_interval <= 86400))
				return cli_usage_error("serve", "--scheduler-interval: expected 0.1 to 86400 seconds, found %s", v);
		} else if ((r = cli_opt(argc, argv, &i, "--burst", &v))) {
			if (r < 0 || cli_parse_double("serve", "--burst", v, &o.burst))
				return 2;
			if (o.burst < 0)
				return cli_usage_error("serve", "--burst: expected zero or more, found %s", v);
		} else {
			static const char *const names[] = {"--threads", "--max-conns", "--per-ip", "--timeout", "--max-depth"};
			int matched = 0;
			for (size_t k = 0; k < 5 && !matched; k++) {
				if (!(r = cli_opt(argc, argv, &i, names[k], &v)))
					continue;
				if (r < 0)
					return 2;
				long x;
				if (cli_parse_long("serve", names[k], v, &x))
					return 2;
				if (x < 1 || x > 1000000)
					return cli_usage_error("serve", "%s: expected 1 to 1000000, found %ld", names[k], x);
				unsigned *dst[] = {&o.threads, &o.max_conns, &o.per_ip, &o.timeout, NULL};
				if (k < 4)
					*dst[k] = (unsigned)x;
				else
					o.max_depth = (int)x;
				matched = 1;
			}
			if (!matched)
				return cli_usage_error("serve", "unexpected argument \"%s\" (see tenure serve --help)", argv[i]);
		}
	}
	o.host = host;
	/* SIGTERM and SIGINT are taken by sigwait below: block them before any
	 * thread starts so that every thread inherits the mask */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	tn_error err = {0};
	tn_server *sv = NULL;
	if (tn_server_new(&o, &sv, &err) || tn_server_listen(sv, &err)) {
		tn_server_free(sv, NULL);
		return cli_fail(&err);
	}
	int v6 = strchr(host, ':') != NULL;
	fprintf(stderr, "listening on %s://%s%s%s:%u\n", o.tls_cert ? "https" : "http", v6 ? "[" : "", host,
		v6 ? "]" : "", tn_server_port(sv));
	fflush(stderr);
	scheduler *sched = NULL;
	if (with_scheduler && !(sched = scheduler_start(ctx->db_path, sched_interval))) {
		tn_server_quiesce(sv);
		tn_server_free(sv, NULL);
		tn_error_set(&err, TN_ERR_NOMEM, "cannot start the scheduler thread");
		return cli_fail(&err);
	}
	int sig = 0;
	while (sigwait(&sigs, &sig) != 0)
		;
	if (!ctx->quiet)
		fprintf(stderr, "tenure serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	scheduler_stop(sched);
	tn_server_quiesce(sv);
	if (tn_server_free(sv, &err))
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "tenure serve: stopped\n");
	return 0;
}
