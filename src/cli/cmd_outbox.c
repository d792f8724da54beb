/*
 * cmd_outbox.c -- `tenure webhooks|outbox|email|customers|jobs`: the
 * business's receivers, the outbox of messages, e-mail settings, consent and
 * erasure, and the scheduler's jobs (docs/actions.md, "Messages and the
 * scheduler").  The work is in libtenure (include/tenure/outbox.h).
 */
#include "actions_cli.h"
#include "cli.h"
#include "base/thread.h"
#include "cli/scheduler.h"
#include "tenure/outbox.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tn_time now_clock(void) { return tn_now(); }

static char *time_text(tn_time t, char *buf, size_t n)
{
	return t == TN_NO_TIME ? NULL : tn_time_format(t, buf, n);
}

/* ---- webhooks ------------------------------------------------------------------ */

static const char webhooks_help[] =
	"usage: tenure webhooks add URL --events LIST --secret SECRET\n"
	"       tenure webhooks list\n"
	"       tenure webhooks remove ID\n\n"
	"The business's receivers of outbound messages.  Each message is a POST of JSON\n"
	"with the headers Tenure-Event, Idempotency-Key (unique per message: drop a\n"
	"repeat) and Tenure-Signature: t=UNIX_SECONDS,v1=HEX, where HEX is\n"
	"HMAC-SHA256(SECRET, \"UNIX_SECONDS.\" + body) (docs/actions.md, \"Webhooks\").\n"
	"Events: alert, winback, offer, survey, contract_ending, test (or all).\n"
	"SECRET: 16 to 256 characters, kept in the store to sign.\n";

static int webhooks_add(cli_ctx *ctx, int argc, char **argv)
{
	const char *events = NULL, *secret = NULL, *url = NULL;
	const cli_option opts[] = {{"--events", CLI_STR, &events, 0, 0, NULL},
				   {"--secret", CLI_STR, &secret, 0, 0, NULL},
				   {NULL, 0, NULL, 0, 0, NULL}};
	size_t got = 0;
	int st = cli_parse("webhooks add", webhooks_help, opts, argc, argv, &url, 1, &got);
	if (st >= 0)
		return st;
	if (got != 1 || !events || !secret)
		return cli_usage_error("webhooks", "add needs URL, --events LIST and --secret SECRET");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err))
		return cli_fail(&err);
	int64_t id = 0;
	int rc = tn_webhook_add(s, url, events, secret, now_clock(), &id, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (ctx->format == OUT_TABLE)
		printf("%lld\n", (long long)id);
	else {
		const char *cols[] = {"id", "url", "events"};
		tn_out *t = tn_out_new(3, cols);
		tn_out_int(t, id);
		tn_out_str(t, url);
		tn_out_str(t, events);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	return 0;
}

static int webhooks_list(cli_ctx *ctx, int argc, char **argv)
{
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	tn_error err = {0};
	tn_store *s;
	int st = act_parse_open(ctx, "webhooks list", webhooks_help, opts, argc, argv, &s);
	if (st >= 0)
		return st;
	tn_webhook *w;
	size_t n;
	int rc = tn_webhook_list(s, &w, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"id", "url", "events", "created_at"};
	tn_out *t = tn_out_new(4, cols);
	for (size_t i = 0; i < n; i++) {
		char b[40];
		tn_out_int(t, w[i].id);
		tn_out_str(t, w[i].url);
		tn_out_str(t, w[i].events);
		tn_out_str(t, time_text(w[i].created_at, b, sizeof b));
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	tn_webhook_list_free(w, n);
	return 0;
}

static int webhooks_remove(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("webhooks", "remove needs one ID (see `tenure webhooks list`)");
	long id;
	if (cli_parse_long("webhooks", "remove", argv[1], &id))
		return 2;
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	int rc = tn_webhook_remove(s, id, now_clock(), &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (!ctx->quiet)
		fprintf(stderr, "webhook %ld removed; its pending messages are dead letters now\n", id);
	return 0;
}

int cmd_webhooks(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {{"add", webhooks_add, "add a receiver"},
				       {"list", webhooks_list, "the active receivers"},
				       {"remove", webhooks_remove, "remove a receiver"}};
	return cli_dispatch(ctx, "webhooks", webhooks_help, subs, 3, argc, argv);
}

/* ---- outbox --------------------------------------------------------------------- */

static const char outbox_help[] =
	"usage: tenure outbox list [--status pending|sent|dead|suppressed] [--limit N]\n"
	"       tenure outbox deliver [--once] [--now DATE] [--concurrency N] [--timeout SECONDS]\n"
	"       tenure outbox retry ID | --dead\n"
	"       tenure outbox config [--max-attempts N] [--backoff SECONDS]\n"
	"       tenure outbox stats\n\n"
	"The outbox holds every outbound message (webhooks, e-mail) from the moment its\n"
	"cause is stored until the receiver acknowledges it: at least once, never lost.\n"
	"deliver: send what is due now (or at --now) until nothing is due; a failure is\n"
	"retried after backoff x 2^(attempts-1) seconds (capped at 6 h) times a random\n"
	"factor in [0.5, 1]; after --max-attempts failures (default 8) the message is\n"
	"dead.  retry ID puts one message back (dead or pending), retry --dead all dead\n"
	"ones.  config keeps max-attempts and backoff (default 30 s) in the store.\n";

static int outbox_list(cli_ctx *ctx, int argc, char **argv)
{
	const char *status = NULL;
	long limit = 100;
	const cli_option opts[] = {{"--status", CLI_STR, &status, 0, 0, NULL},
				   {"--limit", CLI_INT, &limit, 1, 1000000, "rows"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse("outbox list", outbox_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	if (status && strcmp(status, "pending") && strcmp(status, "sent") && strcmp(status, "dead") &&
	    strcmp(status, "suppressed"))
		return cli_usage_error("outbox", "--status: pending, sent, dead or suppressed, found \"%s\"", status);
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_outbox_row *r;
	size_t n;
	int rc = tn_outbox_list(s, status, limit, &r, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"id", "event", "channel", "destination", "customer", "status", "attempts",
			      "next_attempt_at", "sent_at", "last_error", "key"};
	tn_out *t = tn_out_new(11, cols);
	for (size_t i = 0; i < n; i++) {
		char a[40], b[40];
		tn_out_int(t, r[i].id);
		tn_out_str(t, r[i].event);
		tn_out_str(t, r[i].channel);
		tn_out_str(t, r[i].destination);
		tn_out_str(t, r[i].customer);
		tn_out_str(t, r[i].status);
		tn_out_int(t, r[i].attempts);
		tn_out_str(t, strcmp(r[i].status, "pending") == 0 ? time_text(r[i].next_attempt_at, a, sizeof a) : NULL);
		tn_out_str(t, time_text(r[i].sent_at, b, sizeof b));
		tn_out_str(t, r[i].last_error);
		tn_out_str(t, r[i].key);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	tn_outbox_rows_free(r, n);
	return 0;
}

static int outbox_deliver(cli_ctx *ctx, int argc, char **argv)
{
	tn_outbox_opts o = tn_outbox_opts_default();
	int once = 0;
	long conc = 0, maxa = 0;
	double timeout = -1, backoff = -1;
	tn_time now = TN_NO_TIME;
	const cli_option opts[] = {{"--once", CLI_FLAG, &once, 0, 0, NULL},
				   {"--now", CLI_TIME, &now, 0, 0, NULL},
				   {"--concurrency", CLI_INT, &conc, 1, 1024, "transfers in flight"},
				   {"--max-attempts", CLI_INT, &maxa, 1, 100, "attempts"},
				   {"--backoff", CLI_DOUBLE, &backoff, 0, 0, "seconds"},
				   {"--timeout", CLI_DOUBLE, &timeout, 0, 0, "seconds"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	tn_error err = {0};
	tn_store *s;
	int st = act_parse_open(ctx, "outbox deliver", outbox_help, opts, argc, argv, &s);
	if (st >= 0)
		return st;
	int rc = tn_outbox_opts_load(s, &o, &err);
	o.once = once;
	o.now = now;
	if (conc)
		o.concurrency = (int)conc;
	if (maxa)
		o.max_attempts = (int)maxa;
	if (backoff >= 0)
		o.backoff = backoff;
	if (timeout > 0)
		o.timeout = timeout;
	tn_outbox_run run = {0};
	if (!rc)
		rc = tn_outbox_deliver(s, &o, &run, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"attempted", "sent", "failed", "dead", "seconds", "per_second"};
	tn_out *t = tn_out_new(6, cols);
	tn_out_int(t, run.attempted);
	tn_out_int(t, run.sent);
	tn_out_int(t, run.failed);
	tn_out_int(t, run.dead);
	tn_out_num(t, run.seconds, 3);
	tn_out_num(t, run.seconds > 0 ? run.attempted / run.seconds : 0, 0);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}

static int outbox_retry(cli_ctx *ctx, int argc, char **argv)
{
	int dead = 0;
	const char *idtxt = NULL;
	const cli_option opts[] = {{"--dead", CLI_FLAG, &dead, 0, 0, NULL}, {NULL, 0, NULL, 0, 0, NULL}};
	size_t got = 0;
	int st = cli_parse("outbox retry", outbox_help, opts, argc, argv, &idtxt, 1, &got);
	if (st >= 0)
		return st;
	if ((got == 1) == (dead == 1))
		return cli_usage_error("outbox", "retry needs one message ID or --dead");
	long id = 0;
	if (idtxt && cli_parse_long("outbox", "retry", idtxt, &id))
		return 2;
	if (idtxt && id < 1)
		return cli_usage_error("outbox", "retry: expected a message ID >= 1, found %ld", id);
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	long n = 0;
	int rc = tn_outbox_retry(s, id, now_clock(), &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	if (ctx->format == OUT_TABLE)
		printf("%ld\n", n);
	else {
		const char *cols[] = {"requeued"};
		tn_out *t = tn_out_new(1, cols);
		tn_out_int(t, n);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	return 0;
}

static int outbox_config(cli_ctx *ctx, int argc, char **argv)
{
	long maxa = 0;
	double backoff = -1;
	const cli_option opts[] = {{"--max-attempts", CLI_INT, &maxa, 1, 100, "attempts"},
				   {"--backoff", CLI_DOUBLE, &backoff, 0, 0, "seconds"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse("outbox config", outbox_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err))
		return cli_fail(&err);
	int rc = tn_outbox_config(s, (int)maxa, backoff, &err);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

static int outbox_stats(cli_ctx *ctx, int argc, char **argv)
{
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	tn_error err = {0};
	tn_store *s;
	int st = act_parse_open(ctx, "outbox stats", outbox_help, opts, argc, argv, &s);
	if (st >= 0)
		return st;
	long c[4];
	int rc = tn_outbox_counts(s, c, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"pending", "sent", "dead", "suppressed"};
	tn_out *t = tn_out_new(4, cols);
	for (int i = 0; i < 4; i++)
		tn_out_int(t, c[i]);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}

int cmd_outbox(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {{"list", outbox_list, "the messages, newest first"},
				       {"deliver", outbox_deliver, "send what is due"},
				       {"retry", outbox_retry, "put a message (or every dead one) back"},
				       {"config", outbox_config, "attempts before the dead letters, backoff"},
				       {"stats", outbox_stats, "messages by status"}};
	return cli_dispatch(ctx, "outbox", outbox_help, subs, 5, argc, argv);
}

/* ---- email ----------------------------------------------------------------------- */

static const char email_help[] =
	"usage: tenure email config [--smtp URL] [--from ADDRESS] [--public-url URL]\n"
	"       tenure email template winback|offer en|ar|fa FILE\n\n"
	"E-mail through the business's SMTP server (smtp://HOST:PORT, smtps://...), for\n"
	"win-back and offers to customers with an `email` attribute, in their language\n"
	"(attribute language, else their country's: ar, fa, else en; right-to-left HTML\n"
	"for ar and fa).  --public-url is where `tenure serve` answers, for the\n"
	"unsubscribe link (GET /v1/unsubscribe).  A template FILE is\n"
	"  Subject: ...\\n\\nplain text\\n--- html ---\\nHTML\n"
	"with placeholders {{name}}, {{offer}}, {{plan}}, {{period_end}},\n"
	"{{unsubscribe_url}}, {{business}} (docs/actions.md, \"E-mail\").\n";

static int email_config(cli_ctx *ctx, int argc, char **argv)
{
	const char *smtp = NULL, *from = NULL, *pub = NULL;
	const cli_option opts[] = {{"--smtp", CLI_STR, &smtp, 0, 0, NULL},
				   {"--from", CLI_STR, &from, 0, 0, NULL},
				   {"--public-url", CLI_STR, &pub, 0, 0, NULL},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse("email config", email_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	if (!smtp && !from && !pub)
		return cli_usage_error("email", "config needs --smtp, --from or --public-url");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err))
		return cli_fail(&err);
	int rc = tn_email_config(s, smtp, from, pub, &err);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

static int email_template(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 4)
		return cli_usage_error("email", "template needs KIND LANG FILE");
	FILE *fp = fopen(argv[3], "rb");
	if (!fp) {
		tn_error e = {0};
		tn_error_set(&e, TN_ERR_IO, "%s: %s", argv[3], strerror(errno));
		return cli_fail(&e);
	}
	char *buf = malloc(65 * 1024 + 1);
	size_t n = buf ? fread(buf, 1, 65 * 1024, fp) : 0;
	int rerr = ferror(fp);
	fclose(fp);
	tn_error err = {0};
	if (!buf || rerr || n > 64 * 1024) {
		free(buf);
		tn_error_set(&err, TN_ERR_INPUT, "%s: unreadable or larger than 64 KiB", argv[3]);
		return cli_fail(&err);
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		tn_error_set(&err, TN_ERR_INPUT, "%s: contains a NUL byte", argv[3]);
		return cli_fail(&err);
	}
	tn_store *s;
	int rc = tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err);
	if (!rc) {
		rc = tn_email_template_set(s, argv[1], argv[2], buf, &err);
		tn_store_close(s);
	}
	free(buf);
	if (rc) {
		tn_error e2 = {0};
		tn_error_set(&e2, err.code, "%s: %s", argv[3], err.msg);
		return cli_fail(&e2);
	}
	return 0;
}

int cmd_email(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {{"config", email_config, "SMTP server, sender, public URL"},
				       {"template", email_template, "a template for win-back or offers in a language"}};
	return cli_dispatch(ctx, "email", email_help, subs, 2, argc, argv);
}

/* ---- customers ---------------------------------------------------------------------- */

static const char customers_help[] =
	"usage: tenure customers consent ID [--email yes|no] [--webhook yes|no] [--sms yes|no]\n"
	"       tenure customers consent --default yes|no\n"
	"       tenure customers quiet-hours FROM-TO        (e.g. 21-8, local hours)\n"
	"       tenure customers erase ID\n"
	"       tenure customers link KEEP ALIAS\n\n"
	"consent: a customer's answer per channel; without one, the default (yes unless\n"
	"set to no).  A refused channel gets no message (the outbox keeps a 'suppressed'\n"
	"row).  quiet-hours: no customer-facing message is sent between FROM and TO in\n"
	"the customer's time zone (attribute tz, else the country's; default 21-8;\n"
	"equal hours, e.g. 0-0: none).\n"
	"erase: removes the person's personal fields and texts in one transaction and\n"
	"keeps the anonymous aggregates (docs/actions.md, \"Erasure\").\n"
	"link: customer ALIAS is customer KEEP (App Store, Google Play, Stripe, RevenueCat ids;\n"
	"docs/sources.md, \"Customer ids\").\n";

static int yes_no(const char *v, int *out)
{
	if (!v)
		return 0;
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		return -1;
	return 1;
}

static int customers_consent(cli_ctx *ctx, int argc, char **argv)
{
	const char *email = NULL, *webhook = NULL, *sms = NULL, *def = NULL, *id = NULL;
	const cli_option opts[] = {{"--email", CLI_STR, &email, 0, 0, NULL},
				   {"--webhook", CLI_STR, &webhook, 0, 0, NULL},
				   {"--sms", CLI_STR, &sms, 0, 0, NULL},
				   {"--default", CLI_STR, &def, 0, 0, NULL},
				   {NULL, 0, NULL, 0, 0, NULL}};
	size_t got = 0;
	int st = cli_parse("customers consent", customers_help, opts, argc, argv, &id, 1, &got);
	if (st >= 0)
		return st;
	const char *vals[3] = {email, webhook, sms}, *names[3] = {"email", "webhook", "sms"};
	int g[3] = {-1, -1, -1}, any = 0, d = 0;
	for (int i = 0; i < 3; i++) {
		int r = yes_no(vals[i], &g[i]);
		if (r < 0)
			return cli_usage_error("customers", "--%s: yes or no, found \"%s\"", names[i], vals[i]);
		any |= r;
	}
	int dr = yes_no(def, &d);
	if (dr < 0)
		return cli_usage_error("customers", "--default: yes or no, found \"%s\"", def);
	if (dr ? (got || any) : (!got || !any))
		return cli_usage_error("customers", "consent needs ID with --email/--webhook/--sms yes|no, or --default yes|no");
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	int rc = tn_store_begin(s, &err);
	if (!rc && dr)
		rc = tn_consent_default(s, d, &err);
	for (int i = 0; i < 3 && !rc && !dr; i++)
		if (g[i] >= 0)
			rc = tn_consent_set(s, id, names[i], g[i], "cli", now_clock(), &err);
	if (!rc)
		rc = tn_store_commit(s, &err);
	if (rc)
		tn_store_rollback(s);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

static int customers_quiet(cli_ctx *ctx, int argc, char **argv)
{
	int a, b;
	char extra;
	if (argc != 2 || sscanf(argv[1], "%d-%d%c", &a, &b, &extra) != 2)
		return cli_usage_error("customers", "quiet-hours needs FROM-TO, e.g. 21-8");
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	int rc = tn_quiet_hours_set(s, a, b, &err);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

static int customers_erase(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("customers", "erase needs one customer ID");
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_erase_result r;
	int rc = tn_customer_erase(s, argv[1], now_clock(), &r, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"erased_as", "feedback_texts", "messages", "winback_contacts"};
	tn_out *t = tn_out_new(4, cols);
	tn_out_str(t, r.new_id);
	tn_out_int(t, r.feedback);
	tn_out_int(t, r.messages);
	tn_out_int(t, r.contacts);
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}

int cmd_customers(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {{"consent", customers_consent, "consent per channel, or the default"},
				       {"quiet-hours", customers_quiet, "no messages between these local hours"},
				       {"erase", customers_erase, "remove a person's data, keep aggregates"},
				       {"link", cmd_customers_link, "one customer known by two ids (store sources)"}};
	return cli_dispatch(ctx, "customers", customers_help, subs, 4, argc, argv);
}

/* ---- jobs ------------------------------------------------------------------------------ */

static const char jobs_help[] =
	"usage: tenure jobs run [--job NAME] [--as-of DATE] [--deliver] [--winback-days N]\n"
	"                       [--winback-control SHARE] [--offer-lead DAYS] [--ending-days DAYS]\n"
	"                       [--model FILE] [--batch N] [--threads 1|2]\n"
	"       tenure jobs list\n\n"
	"The scheduled jobs, for cron (the same run inside `tenure serve --scheduler`):\n"
	"  refresh  features, churn risk, value and reasons of every live customer\n"
	"           (table customer_scores; --threads 2, the default, reads in two threads)\n"
	"  alerts   evaluate the alerts; queue the ones raised as `alert` messages\n"
	"  winback  contact customers --winback-days (30) after they churned\n"
	"  offers   queue an offer --offer-lead (7) days before a period ends or before the\n"
	"           danger window starts\n"
	"  ending   queue contract_ending when a contract enters its last --ending-days (30)\n"
	"  points   expire loyalty points\n"
	"Each job covers the time since its last successful run up to the end of --as-of\n"
	"(default: the end of yesterday, UTC); its first run covers one day (ending: the\n"
	"month ahead).  Every message has a unique key, so a job run twice, or killed and\n"
	"run again, sends nothing twice and skips nothing.  --deliver sends the outbox\n"
	"afterwards.  list: each job's last run, duration, outcome and watermark.\n";

static tn_time yesterday_end(void)
{
	return tn_day_end(tn_now() - 86400);
}

static int jobs_run(cli_ctx *ctx, int argc, char **argv)
{
	tn_jobs_opts o = tn_jobs_opts_default();
	const char *job = NULL, *model = NULL;
	int deliver = 0;
	long batch = 0, kill_after = 0, threads = 2;
	tn_time as_of = TN_NO_TIME;
	const cli_option opts[] = {{"--job", CLI_STR, &job, 0, 0, NULL},
				   {"--as-of", CLI_AS_OF, &as_of, 0, 0, NULL},
				   {"--deliver", CLI_FLAG, &deliver, 0, 0, NULL},
				   {"--winback-days", CLI_DOUBLE, &o.winback_days, 0, 0, "days"},
				   {"--winback-control", CLI_DOUBLE, &o.winback_control, 0, 0, "share"},
				   {"--offer-lead", CLI_DOUBLE, &o.offer_lead, 0, 0, "days"},
				   {"--ending-days", CLI_DOUBLE, &o.ending_days, 0, 0, "days"},
				   {"--model", CLI_STR, &model, 0, 0, NULL},
				   {"--batch", CLI_INT, &batch, 1, 10000000, "customers per batch"},
				   {"--threads", CLI_INT, &threads, 1, 2, "threads"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse("jobs run", jobs_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	o.as_of = as_of != TN_NO_TIME ? as_of : yesterday_end();
	o.job = job;
	o.model_path = model;
	o.threads = (int)threads;
	if (batch)
		o.batch = (size_t)batch;
	/* tests: die (SIGKILL) after N committed batches, to prove a rerun resumes */
	const char *k = getenv("TENURE_JOBS_KILL_AFTER");
	if (k && (kill_after = strtol(k, NULL, 10)) > 0)
		o.kill_after = (int)kill_after;
	tn_error err = {0};
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_job_result r[8];
	size_t n = 0;
	int rc = tn_jobs_run(s, &o, r, &n, &err);
	tn_outbox_run run = {0};
	tn_error err2 = {0};
	if (deliver) { /* what the jobs queued goes out, even when one of them failed */
		tn_outbox_opts oo = tn_outbox_opts_default();
		int rc2 = tn_outbox_opts_load(s, &oo, &err2);
		if (!rc2)
			rc2 = tn_outbox_deliver(s, &oo, &run, &err2);
		if (rc2 && !rc) {
			rc = rc2;
			err = err2;
		}
	}
	tn_store_close(s);
	const char *cols[] = {"job", "outcome", "items", "queued", "seconds", "cpu_seconds", "detail"};
	tn_out *t = tn_out_new(7, cols);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, r[i].job);
		tn_out_str(t, r[i].skipped ? "skipped" : r[i].failed ? "failed" : "ok");
		tn_out_int(t, r[i].items);
		tn_out_int(t, r[i].queued);
		tn_out_num(t, r[i].seconds, 3);
		tn_out_num(t, r[i].cpu_seconds, 3);
		tn_out_str(t, r[i].detail);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	if (deliver && !rc && !ctx->quiet)
		fprintf(stderr, "outbox: %ld sent, %ld failed, %ld dead\n", run.sent, run.failed, run.dead);
	return rc ? cli_fail(&err) : 0;
}

static int jobs_list(cli_ctx *ctx, int argc, char **argv)
{
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	tn_error err = {0};
	tn_store *s;
	int st = act_parse_open(ctx, "jobs list", jobs_help, opts, argc, argv, &s);
	if (st >= 0)
		return st;
	tn_job_info r[8];
	size_t n = 0;
	int rc = tn_jobs_list(s, r, &n, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	const char *cols[] = {"job", "last_run", "seconds", "outcome", "items", "as_of", "watermark", "detail"};
	tn_out *t = tn_out_new(8, cols);
	for (size_t i = 0; i < n; i++) {
		char a[40], b[40], c[40];
		tn_out_str(t, r[i].job);
		tn_out_str(t, time_text(r[i].last_started, a, sizeof a));
		tn_out_num(t, r[i].last_started == TN_NO_TIME ? NAN : r[i].seconds, 3);
		tn_out_str(t, r[i].outcome);
		if (r[i].last_started == TN_NO_TIME)
			tn_out_str(t, NULL);
		else
			tn_out_int(t, r[i].items);
		tn_out_str(t, time_text(r[i].as_of, b, sizeof b));
		tn_out_str(t, time_text(r[i].watermark, c, sizeof c));
		tn_out_str(t, r[i].detail[0] ? r[i].detail : NULL);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	return 0;
}

int cmd_jobs(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {{"run", jobs_run, "run the jobs due (for cron)"},
				       {"list", jobs_list, "each job's last run"}};
	return cli_dispatch(ctx, "jobs", jobs_help, subs, 2, argc, argv);
}

/* ---- the scheduler inside `tenure serve` ------------------------------------------------- */

typedef struct sched {
	pthread_t thread;
	char *db_path;
	double interval;
	volatile int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} sched;

static void *sched_main(void *ud)
{
	sched *sc = ud;
	/* the nightly jobs are batch work: requests first (base/thread.h) */
	tn_thread_background("tn-scheduler");
	for (;;) {
		tn_error err = {0};
		tn_store *s;
		if (tn_store_open(sc->db_path, 0, &s, &err) == TN_OK) {
			tn_jobs_opts o = tn_jobs_opts_default();
			o.as_of = yesterday_end();
			o.stop = &sc->stop;
			o.retry_wait = 600;
			tn_job_result r[8];
			size_t n;
			if (tn_jobs_run(s, &o, r, &n, &err))
				fprintf(stderr, "tenure serve: scheduler: %s\n", err.msg);
			for (size_t i = 0; i < n; i++)
				if (!r[i].skipped)
					fprintf(stderr, "tenure serve: job %s: %ld items, %ld queued, %.3f s\n", r[i].job,
						r[i].items, r[i].queued, r[i].seconds);
			tn_outbox_opts oo = tn_outbox_opts_default();
			oo.stop = &sc->stop;
			tn_outbox_run run;
			tn_error e2 = {0};
			if (tn_outbox_opts_load(s, &oo, &e2) || tn_outbox_deliver(s, &oo, &run, &e2))
				fprintf(stderr, "tenure serve: outbox: %s\n", e2.msg);
			tn_store_close(s);
		} else {
			fprintf(stderr, "tenure serve: scheduler: %s\n", err.msg);
		}
		pthread_mutex_lock(&sc->mu);
		if (!sc->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double w = sc->interval;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - floor(w)) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&sc->cv, &sc->mu, &ts);
		}
		int stop = sc->stop;
		pthread_mutex_unlock(&sc->mu);
		if (stop)
			break;
	}
	return NULL;
}

scheduler *scheduler_start(const char *db_path, double interval)
{
	sched *sc = calloc(1, sizeof *sc);
	if (!sc)
		return NULL;
	sc->db_path = strdup(db_path);
	sc->interval = interval;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_cond_init(&sc->cv, NULL);
	if (!sc->db_path || pthread_create(&sc->thread, NULL, sched_main, sc) != 0) {
		free(sc->db_path);
		free(sc);
		return NULL;
	}
	return (scheduler *)sc;
}

void scheduler_stop(scheduler *p)
{
	sched *sc = (sched *)p;
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stop = 1;
	pthread_cond_signal(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	pthread_join(sc->thread, NULL);
	pthread_mutex_destroy(&sc->mu);
	pthread_cond_destroy(&sc->cv);
	free(sc->db_path);
	free(sc);
}
