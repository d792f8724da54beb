/*
 * cmd_winback.c -- `tenure winback schedule|record|import|report|reasons`:
 * win-back campaigns and what they cost per customer won back
 * (src/actions/winback.c does the work).
 */
#include "actions_cli.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *HELP =
	"usage: tenure winback schedule [--after-days 30] [--days 7] [--control SHARE] [--seed S] [--now DATE]\n"
	"       tenure winback record --customer ID --campaign NAME --channel email|call|sms\n"
	"                             --reached yes|no [--reason TEXT] [--offer TEXT] [--cost X]\n"
	"                             [--at DATE] [--control]\n"
	"       tenure winback import FILE\n"
	"       tenure winback report [--campaign NAME] [--window 30] [--now DATE]\n"
	"       tenure winback reasons [--campaign NAME]\n\n"
	"schedule  lapsed customers (no live subscription) to contact --after-days days\n"
	"          after they lapsed, for contact dates in the --days days from now;\n"
	"          skips anyone already contacted since lapsing; --control SHARE (default\n"
	"          0.1) marks a seeded random share as the control group to hold out\n"
	"          (arm control: record them with --control), --seed S (default 1)\n"
	"record    record one contact (or, with --control, a customer held out of the\n"
	"          campaign as its control group: not contacted, channel none)\n"
	"  --at DATE      when (default: now, the wall clock)\n"
	"  --cost X       what the contact cost (default 0)\n"
	"import    record contacts from a CSV with columns customer, campaign, channel,\n"
	"          reached, at and optional reason, offer, cost, control (yes/no);\n"
	"          all or nothing, errors name FILE:LINE:COLUMN\n"
	"report    per campaign, side by side: contacted, reached, won back (a\n"
	"          subscription started after the first contact, within --window days),\n"
	"          win rate, revenue regained (payments since the resubscription, or\n"
	"          its price for one period), total cost, cost per customer won back =\n"
	"          total cost / won back, and uplift = win rate - control win rate with a\n"
	"          95% Newcombe hybrid score interval (Newcombe 1998, method 10)\n"
	"reasons   the reasons given, most repeated first, with counts\n";

static int do_record(cli_ctx *ctx, int argc, char **argv)
{
	tn_winback_contact c = {0};
	const char *reached = NULL;
	c.at = tn_now();
	const cli_option opts[] = {
		{"--control", CLI_FLAG, &c.control, 0, 0, NULL},
		{"--customer", CLI_STR, &c.customer, 0, 0, NULL},
		{"--campaign", CLI_STR, &c.campaign, 0, 0, NULL},
		{"--channel", CLI_STR, &c.channel, 0, 0, NULL},
		{"--reached", CLI_STR, &reached, 0, 0, NULL},
		{"--reason", CLI_STR, &c.reason, 0, 0, NULL},
		{"--offer", CLI_STR, &c.offer, 0, 0, NULL},
		{"--cost", CLI_DOUBLE, &c.cost, 0, 0, "cost of the contact"},
		{"--at", CLI_TIME, &c.at, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int st = cli_parse("winback record", HELP, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	if (!c.customer || !c.campaign)
		return cli_usage_error("winback record", "--customer and --campaign are required");
	if (c.control) {
		c.channel = c.channel ? c.channel : "none";
	} else {
		if (!c.channel || !reached)
			return cli_usage_error("winback record", "--channel and --reached are required (or --control)");
		if (strcmp(reached, "yes") && strcmp(reached, "no"))
			return cli_usage_error("winback record", "--reached: expected yes or no, found \"%s\"", reached);
		c.reached = strcmp(reached, "yes") == 0;
	}
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	int added = 0, rc = 0;
	if (tn_winback_record(s, &c, &added, &err))
		rc = cli_fail(&err);
	else if (!ctx->quiet)
		fprintf(stderr, "tenure: %s\n", added ? "recorded" : "already recorded (unchanged)");
	tn_store_close(s);
	return rc;
}

static int do_import(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage_error("winback import", "expected one FILE");
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	long rows, added;
	int rc = 0;
	if (tn_winback_import_csv(s, argv[1], &rows, &added, &err))
		rc = cli_fail(&err);
	else if (!ctx->quiet)
		fprintf(stderr, "tenure: %s: %ld rows, %ld new contacts\n", argv[1], rows, added);
	tn_store_close(s);
	return rc;
}

static int do_report(cli_ctx *ctx, int argc, char **argv, int reasons)
{
	const char *campaign = NULL, *now_s = NULL;
	const char *cmd = reasons ? "winback reasons" : "winback report";
	double window = 30;
	const cli_option opts[] = {
		{"--campaign", CLI_STR, &campaign, 0, 0, NULL},
		{reasons ? NULL : "--now", CLI_STR, &now_s, 0, 0, NULL}, /* reasons: the table ends here */
		{"--window", CLI_DOUBLE, &window, 0, 0, "days"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int parsed = cli_parse(cmd, HELP, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	int rc = 0;
	if (reasons) {
		tn_reason_count *rows;
		size_t n;
		if (tn_winback_reasons(s, campaign, &rows, &n, &err)) {
			rc = cli_fail(&err);
		} else {
			const char *names[] = {"rank", "reason", "count"};
			tn_out *t = tn_out_new(3, names);
			for (size_t i = 0; i < n; i++) {
				tn_out_int(t, (long long)i + 1);
				tn_out_str(t, rows[i].reason);
				tn_out_int(t, rows[i].count);
			}
			tn_out_print(t, ctx->format, stdout);
			tn_out_free(t);
			tn_reason_counts_free(rows, n);
		}
		tn_store_close(s);
		return rc;
	}
	tn_time now;
	if ((rc = act_now(s, cmd, now_s, &now))) {
		tn_store_close(s);
		return rc;
	}
	tn_winback_stats *st;
	size_t n;
	if (tn_winback_report(s, campaign, window, now, &st, &n, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	const char *names[] = {"campaign", "contacted", "reached", "won_back", "win_rate", "revenue", "cost",
			       "cost_per_win", "control", "control_won", "control_rate", "uplift", "ci95_low",
			       "ci95_high"};
	tn_out *t = tn_out_new(14, names);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, st[i].campaign);
		tn_out_int(t, st[i].contacted);
		tn_out_int(t, st[i].reached);
		tn_out_int(t, st[i].won);
		tn_out_num(t, st[i].uplift.p1, 4);
		tn_out_num(t, st[i].revenue, 2);
		tn_out_num(t, st[i].cost, 2);
		tn_out_num(t, st[i].cost_per_win, 2);
		tn_out_int(t, st[i].controls);
		tn_out_int(t, st[i].control_won);
		tn_out_num(t, st[i].uplift.p2, 4);
		tn_out_num(t, st[i].uplift.diff, 4);
		tn_out_num(t, st[i].uplift.lo, 4);
		tn_out_num(t, st[i].uplift.hi, 4);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	tn_winback_stats_free(st, n);
	tn_store_close(s);
	return 0;
}

static int do_schedule(cli_ctx *ctx, int argc, char **argv)
{
	const char *now_s = NULL;
	double after = 30, days = 7, share = 0.1;
	long seed = 1;
	const cli_option opts[] = {
		{"--now", CLI_STR, &now_s, 0, 0, NULL},
		{"--after-days", CLI_DOUBLE, &after, 0, 0, "days after lapsing"},
		{"--days", CLI_DOUBLE, &days, 0, 0, "days of contact dates"},
		{"--control", CLI_DOUBLE, &share, 0, 0, "control share"},
		{"--seed", CLI_INT, &seed, LONG_MIN, LONG_MAX, "random seed"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int st = cli_parse("winback schedule", HELP, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	tn_time now;
	int rc = act_now(s, "winback schedule", now_s, &now);
	tn_winback_due *rows = NULL;
	size_t n = 0;
	if (!rc && tn_winback_schedule(s, now, after, days, share, (uint64_t)seed, &rows, &n, &err))
		rc = cli_fail(&err);
	if (!rc) {
		const char *names[] = {"contact_on", "customer", "arm", "lapsed_on", "last_plan", "last_price"};
		tn_out *t = tn_out_new(6, names);
		char d1[16], d2[16];
		for (size_t i = 0; i < n; i++) {
			tn_out_str(t, act_date(rows[i].contact_on, d1, sizeof d1));
			tn_out_str(t, rows[i].customer);
			tn_out_str(t, rows[i].control ? "control" : "contact");
			tn_out_str(t, act_date(rows[i].lapsed_at, d2, sizeof d2));
			tn_out_str(t, rows[i].plan);
			tn_out_num(t, rows[i].price, 2);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	tn_winback_due_free(rows, n);
	tn_store_close(s);
	return rc;
}

static int do_results(cli_ctx *ctx, int argc, char **argv) { return do_report(ctx, argc, argv, 0); }
static int do_reasons(cli_ctx *ctx, int argc, char **argv) { return do_report(ctx, argc, argv, 1); }

static const cli_sub SUBS[] = {
	{"schedule", do_schedule, "who is due a win-back contact, with a control group"},
	{"record", do_record, "record one contact or outcome"},
	{"import", do_import, "record contacts and outcomes from a CSV"},
	{"report", do_results, "cost per customer won back, against the control group"},
	{"reasons", do_reasons, "why lapsed customers left"},
};

int cmd_winback(cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "winback", HELP, SUBS, sizeof SUBS / sizeof SUBS[0], argc, argv);
}
