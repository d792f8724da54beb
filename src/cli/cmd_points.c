/*
 * cmd_points.c -- `tenure points ...`: the loyalty-points ledger (rules,
 * earn, redeem, grant, import, expire, balance, history, tiers, check,
 * at-risk).  src/actions/points.c does the work; every write is one BEGIN IMMEDIATE
 * transaction, and each entry has an idempotency key.
 */
#include "actions_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *HELP =
	"usage: tenure points rule [EVENT_TYPE --per-action N --per-amount X] [--expiry-days D]\n"
	"       tenure points earn --customer ID (--points N | --event-type T [--amount X]) --key K\n"
	"                          [--at DATE] [--note TEXT]\n"
	"       tenure points earn --from-events [--since DATE]\n"
	"       tenure points redeem --customer ID --points N --key K [--at DATE] [--note TEXT]\n"
	"       tenure points grant --customer ID --points N [--key K] [--at DATE] [--note TEXT]\n"
	"       tenure points import FILE [--batch 1000]\n"
	"       tenure points expire [--at DATE]\n"
	"       tenure points balance [--customer ID]\n"
	"       tenure points history --customer ID\n"
	"       tenure points tiers [set NAME --level N (--points X | --spend X) [--benefits TEXT]]\n"
	"       tenure points check\n"
	"       tenure points at-risk [--days 30] [--scores FILE | --risk FILE --value FILE]\n"
	"                             [--min-p 0.5] [--now DATE]\n\n"
	"An append-only ledger: every entry (earn, grant, redeem, expire) has a unique\n"
	"idempotency key, so a retried earn or redeem with the same --key is applied once.\n"
	"Redemptions never take a balance below zero; they use the oldest points first\n"
	"(FIFO lots).  Writes wait for another writer (BEGIN IMMEDIATE, 30 s timeout).\n\n"
	"rule      without arguments, list the earn rules; with EVENT_TYPE, set its rule:\n"
	"          points = per-action + floor(per-amount x amount); --expiry-days D makes\n"
	"          new points expire D days after they are earned (0 = never)\n"
	"earn      add points: a number, or by the event type's rule; --from-events applies\n"
	"          the rules to stored events after --since (keys derived from the events)\n"
	"redeem    spend points (refused, exit 1, when the balance is too low)\n"
	"grant     add points by hand (a key is made up when not given)\n"
	"import    apply a CSV with columns kind (earn|grant|redeem), customer, points, key\n"
	"          and optional event_type, amount, at, note; --batch entries per commit\n"
	"expire    expire every lot past its expiry (at --at, default now)\n"
	"balance   balances with lifetime points earned, spend and tier\n"
	"history   a customer's ledger with the running balance\n"
	"tiers     list tiers with their members; `tiers set` adds or changes one: a\n"
	"          customer is in the highest level whose threshold they meet (lifetime\n"
	"          points, or spend = succeeded minus refunded payments)\n"
	"check     prove every balance equals the sum of its ledger and of its open lots,\n"
	"          and that replaying the ledger oldest-first gives the stored lots\n"
	"          (exit 1 when not)\n"
	"at-risk   points expiring within --days, and the unused balance of customers with\n"
	"          P(churn) >= --min-p (from --scores FILE or --risk/--value files as for\n"
	"          `tenure offers plan`, else the built-in estimate)\n"
	"Times default to the wall clock (--at) or, for at-risk, the latest data (--now).\n";

typedef struct popt {
	const char *customer, *points, *event_type, *amount, *key, *at, *note, *since, *days, *scores, *min_p,
		*now, *batch, *risk, *value, *level, *spend, *benefits, *per_action, *per_amount, *expiry;
	int from_events;
} popt;

/* Every subcommand's options (each checks the ones it needs); the values are
 * parsed where they are used. */
static int parse(const char *cmd, int argc, char **argv, popt *o, const char **pos, size_t npos)
{
	const cli_option opts[] = {
		{"--from-events", CLI_FLAG, &o->from_events, 0, 0, NULL},
		{"--customer", CLI_STR, &o->customer, 0, 0, NULL},
		{"--points", CLI_STR, &o->points, 0, 0, NULL},
		{"--event-type", CLI_STR, &o->event_type, 0, 0, NULL},
		{"--amount", CLI_STR, &o->amount, 0, 0, NULL},
		{"--key", CLI_STR, &o->key, 0, 0, NULL},
		{"--at", CLI_STR, &o->at, 0, 0, NULL},
		{"--note", CLI_STR, &o->note, 0, 0, NULL},
		{"--since", CLI_STR, &o->since, 0, 0, NULL},
		{"--days", CLI_STR, &o->days, 0, 0, NULL},
		{"--scores", CLI_STR, &o->scores, 0, 0, NULL},
		{"--min-p", CLI_STR, &o->min_p, 0, 0, NULL},
		{"--now", CLI_STR, &o->now, 0, 0, NULL},
		{"--batch", CLI_STR, &o->batch, 0, 0, NULL},
		{"--level", CLI_STR, &o->level, 0, 0, NULL},
		{"--spend", CLI_STR, &o->spend, 0, 0, NULL},
		{"--benefits", CLI_STR, &o->benefits, 0, 0, NULL},
		{"--per-action", CLI_STR, &o->per_action, 0, 0, NULL},
		{"--per-amount", CLI_STR, &o->per_amount, 0, 0, NULL},
		{"--expiry-days", CLI_STR, &o->expiry, 0, 0, NULL},
		{"--risk", CLI_STR, &o->risk, 0, 0, NULL},
		{"--value", CLI_STR, &o->value, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int st = cli_parse(cmd, HELP, opts, argc, argv, pos, npos, NULL);
	return st < 0 ? 0 : st;
}

static int get_at(const char *cmd, const char *s, tn_time *at)
{
	*at = tn_now();
	return s ? act_time(cmd, "--at", s, at) : 0;
}

static int apply_ops(cli_ctx *ctx, tn_store *s, const tn_points_op *ops, size_t n, long *applied, long *dup,
		     long *refused)
{
	int *st = calloc(n ? n : 1, sizeof *st);
	tn_error err = {0};
	if (!st) {
		tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		return cli_fail(&err);
	}
	if (tn_points_apply(s, ops, n, st, &err)) {
		free(st);
		return cli_fail(&err);
	}
	for (size_t i = 0; i < n; i++) {
		*applied += st[i] == TN_POINTS_APPLIED;
		*dup += st[i] == TN_POINTS_DUPLICATE;
		*refused += st[i] == TN_POINTS_INSUFFICIENT;
		if (st[i] == TN_POINTS_INSUFFICIENT && !ctx->quiet)
			fprintf(stderr, "tenure: redeem %s for %s refused: balance too low\n", ops[i].key,
				ops[i].customer);
	}
	free(st);
	return 0;
}

static int do_single(cli_ctx *ctx, tn_store *s, int kind, const popt *o)
{
	static const char *cmds[] = {"", "points earn", "points grant", "points redeem"};
	const char *cmd = cmds[kind];
	tn_points_op op = {.kind = kind, .customer = o->customer, .event_type = o->event_type, .amount = NAN,
			   .key = o->key, .note = o->note};
	if (!o->customer)
		return cli_usage_error(cmd, "--customer is required");
	long pts = 0;
	if (o->points && cli_parse_long(cmd, "--points", o->points, &pts))
		return 2;
	if (o->points && pts <= 0)
		return cli_usage_error(cmd, "--points: expected a whole number > 0, found \"%s\"", o->points);
	op.points = pts;
	if (kind != TN_POINTS_EARN && !o->points)
		return cli_usage_error(cmd, "--points is required");
	if (kind == TN_POINTS_EARN && !o->points && !o->event_type)
		return cli_usage_error(cmd, "give --points N or --event-type T (with a rule)");
	if (o->amount && cli_parse_double(cmd, "--amount", o->amount, &op.amount))
		return 2;
	if (get_at(cmd, o->at, &op.at))
		return 2;
	char autokey[96];
	if (!o->key) {
		if (kind != TN_POINTS_GRANT)
			return cli_usage_error(cmd, "--key is required (an idempotency key: a retry with the same key "
						    "is applied once)");
		snprintf(autokey, sizeof autokey, "grant:%lld:%ld:%lld", (long long)op.at, (long)getpid(),
			 (long long)clock());
		op.key = autokey;
	}
	long applied = 0, dup = 0, refused = 0;
	int rc = apply_ops(ctx, s, &op, 1, &applied, &dup, &refused);
	if (rc)
		return rc;
	if (!ctx->quiet)
		fprintf(stderr, "tenure: %s\n", applied ? "applied" : dup ? "already applied (same key): unchanged"
							: refused ? "refused" : "the rule gives 0 points: nothing to add");
	return refused ? 1 : 0;
}

static int do_import(cli_ctx *ctx, tn_store *s, const char *path, const popt *o)
{
	long batch = 1000;
	if (o->batch && (cli_parse_long("points import", "--batch", o->batch, &batch) || batch <= 0 || batch > 1000000))
		return cli_usage_error("points import", "--batch: expected 1..1000000");
	tn_error err = {0};
	tn_csv *r = tn_csv_open(path, ',', &err);
	if (!r)
		return cli_fail(&err);
	static const char *names[] = {"kind", "customer", "points", "key", "event_type", "amount", "at", "note"};
	int col[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	int rc = tn_csv_next(r, &err);
	if (rc <= 0) {
		tn_csv_close(r);
		if (!rc)
			tn_error_set(&err, TN_ERR_INPUT, "%s:1: expected a header, found an empty file", path);
		return cli_fail(&err);
	}
	for (size_t f = 0; f < tn_csv_nfields(r); f++)
		for (int k = 0; k < 8; k++)
			if (!strcmp(tn_csv_field(r, f, NULL), names[k]))
				col[k] = (int)f;
	for (int k = 0; k < 4; k++)
		if (col[k] < 0) {
			tn_csv_close(r);
			tn_error_set(&err, TN_ERR_INPUT, "%s:1: expected columns kind, customer, points, key (optional "
							 "event_type, amount, at, note); missing %s", path, names[k]);
			return cli_fail(&err);
		}
	tn_points_op *ops = calloc((size_t)batch, sizeof *ops);
	char **strs = calloc((size_t)batch * 4, sizeof *strs);
	long applied = 0, dup = 0, refused = 0, rows = 0;
	size_t k = 0;
	tn_time wall = tn_now();
	rc = ops && strs ? 0 : 1;
	while (!rc) {
		int more = tn_csv_next(r, &err);
		if (more < 0) {
			rc = cli_fail(&err);
			break;
		}
		if (more) {
			long line = tn_csv_line(r);
			const char *v[8];
			for (int c = 0; c < 8; c++)
				v[c] = col[c] >= 0 && (size_t)col[c] < tn_csv_nfields(r) ? tn_csv_field(r, (size_t)col[c], NULL) : "";
			tn_points_op *op = &ops[k];
			memset(op, 0, sizeof *op);
			op->amount = NAN;
			op->at = wall;
			op->kind = !strcmp(v[0], "earn") ? TN_POINTS_EARN : !strcmp(v[0], "grant") ? TN_POINTS_GRANT
				   : !strcmp(v[0], "redeem") ? TN_POINTS_REDEEM : 0;
			double d;
			const char *bad = NULL, *want = NULL;
			int bc = 0, bn = 0;
			if (!op->kind)
				bad = v[0], want = "earn, grant or redeem", bc = col[0], bn = 0;
			else if (*v[2] && (tn_parse_double(v[2], strlen(v[2]), &d) || d < 0 || d != floor(d)))
				bad = v[2], want = "a whole number of points >= 0", bc = col[2], bn = 2;
			else if (!*v[3])
				bad = v[3], want = "an idempotency key", bc = col[3], bn = 3;
			else if (*v[5] && tn_parse_double(v[5], strlen(v[5]), &op->amount))
				bad = v[5], want = "a number", bc = col[5], bn = 5;
			else if (*v[6] && tn_time_parse(v[6], strlen(v[6]), &op->at))
				bad = v[6], want = "a date or time", bc = col[6], bn = 6;
			if (bad) {
				tn_error_set(&err, TN_ERR_INPUT, "%s:%ld:%d: %s: expected %s, found \"%s\"", path, line,
					     bc + 1, names[bn], want, bad);
				rc = cli_fail(&err);
				break;
			}
			op->points = *v[2] ? (long long)d : 0;
			strs[4 * k] = strdup(v[1]);
			strs[4 * k + 1] = strdup(v[3]);
			strs[4 * k + 2] = *v[4] ? strdup(v[4]) : NULL;
			strs[4 * k + 3] = *v[7] ? strdup(v[7]) : NULL;
			op->customer = strs[4 * k];
			op->key = strs[4 * k + 1];
			op->event_type = strs[4 * k + 2];
			op->note = strs[4 * k + 3];
			k++;
			rows++;
		}
		if (k && (k == (size_t)batch || !more)) {
			rc = apply_ops(ctx, s, ops, k, &applied, &dup, &refused);
			for (size_t q = 0; q < 4 * k; q++) {
				free(strs[q]);
				strs[q] = NULL;
			}
			k = 0;
		}
		if (!more)
			break;
	}
	for (size_t q = 0; strs && q < 4 * k; q++)
		free(strs[q]);
	free(ops);
	free(strs);
	tn_csv_close(r);
	if (!rc && !ctx->quiet)
		fprintf(stderr, "tenure: %s: %ld entries: %ld applied, %ld already applied, %ld refused\n", path, rows,
			applied, dup, refused);
	return rc;
}

static int do_tiers(cli_ctx *ctx, tn_store *s, const char **pos, const popt *o)
{
	tn_error err = {0};
	if (pos[0]) {
		if (strcmp(pos[0], "set") || !pos[1])
			return cli_usage_error("points tiers", "expected `tiers set NAME --level N (--points X | --spend X)`");
		long level;
		double th;
		if (!o->level || cli_parse_long("points tiers", "--level", o->level, &level))
			return o->level ? 2 : cli_usage_error("points tiers", "--level is required");
		if (!!o->points == !!o->spend)
			return cli_usage_error("points tiers", "give one of --points X or --spend X");
		if (cli_parse_double("points tiers", o->points ? "--points" : "--spend", o->points ? o->points : o->spend,
				     &th))
			return 2;
		if (tn_points_set_tier(s, pos[1], (int)level, o->points ? "points" : "spend", th, o->benefits, &err))
			return cli_fail(&err);
	}
	tn_rowset *r;
	if (tn_points_tiers(s, &r, &err))
		return cli_fail(&err);
	act_print_rowset(ctx, r);
	tn_rowset_free(r);
	return 0;
}

static int run(cli_ctx *ctx, tn_store *s, const char *sub, const char **pos, const popt *o)
{
	tn_error err = {0};
	tn_rowset *r = NULL;
	if (!strcmp(sub, "earn") && o->from_events) {
		tn_time since = INT64_MIN + 1;
		if (o->since && act_time("points earn", "--since", o->since, &since))
			return 2;
		long applied;
		if (tn_points_earn_from_events(s, since, &applied, &err))
			return cli_fail(&err);
		if (!ctx->quiet)
			fprintf(stderr, "tenure: %ld new earn entries from events\n", applied);
		return 0;
	}
	if (!strcmp(sub, "earn"))
		return do_single(ctx, s, TN_POINTS_EARN, o);
	if (!strcmp(sub, "grant"))
		return do_single(ctx, s, TN_POINTS_GRANT, o);
	if (!strcmp(sub, "redeem"))
		return do_single(ctx, s, TN_POINTS_REDEEM, o);
	if (!strcmp(sub, "import")) {
		if (!pos[0])
			return cli_usage_error("points import", "expected FILE");
		return do_import(ctx, s, pos[0], o);
	}
	if (!strcmp(sub, "rule")) {
		if (o->expiry) {
			double d;
			if (cli_parse_double("points rule", "--expiry-days", o->expiry, &d))
				return 2;
			if (tn_points_set_expiry(s, d, &err))
				return cli_fail(&err);
		}
		if (pos[0]) {
			long pa = 0;
			double pm = 0;
			if ((o->per_action && cli_parse_long("points rule", "--per-action", o->per_action, &pa)) ||
			    (o->per_amount && cli_parse_double("points rule", "--per-amount", o->per_amount, &pm)))
				return 2;
			if (!o->per_action && !o->per_amount)
				return cli_usage_error("points rule", "give --per-action N and/or --per-amount X");
			if (tn_points_set_rule(s, pos[0], pa, pm, &err))
				return cli_fail(&err);
		}
		if (!ctx->quiet)
			fprintf(stderr, "tenure: points expire %g days after they are earned%s\n", tn_points_expiry_days(s),
				tn_points_expiry_days(s) > 0 ? "" : " (0: never)");
		if (tn_points_rules(s, &r, &err))
			return cli_fail(&err);
	} else if (!strcmp(sub, "expire")) {
		tn_time at;
		if (get_at("points expire", o->at, &at))
			return 2;
		long n;
		long long pts;
		if (tn_points_expire(s, at, &n, &pts, &err))
			return cli_fail(&err);
		if (!ctx->quiet)
			fprintf(stderr, "tenure: expired %lld points in %ld lots\n", pts, n);
		return 0;
	} else if (!strcmp(sub, "balance")) {
		if (tn_points_balances(s, o->customer, &r, &err))
			return cli_fail(&err);
	} else if (!strcmp(sub, "history")) {
		if (!o->customer)
			return cli_usage_error("points history", "--customer is required");
		if (tn_points_history(s, o->customer, &r, &err))
			return cli_fail(&err);
	} else if (!strcmp(sub, "tiers")) {
		return do_tiers(ctx, s, pos, o);
	} else if (!strcmp(sub, "check")) {
		tn_points_check c;
		if (tn_points_check_run(s, &c, &err))
			return cli_fail(&err);
		const char *names[] = {"check", "value"};
		tn_out *t = tn_out_new(2, names);
		const char *labels[] = {"ledger_entries",	  "customers",	       "points_outstanding",
					"balance_not_ledger_sum", "balance_not_open_lots", "negative_balances",
					"lots_not_fifo_replay"};
		long long vals[] = {c.entries, c.customers, c.outstanding, c.mismatched_balance, c.mismatched_lots,
				    c.negative, c.mismatched_fifo};
		for (int i = 0; i < 7; i++) {
			tn_out_str(t, labels[i]);
			tn_out_int(t, vals[i]);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		int bad = c.mismatched_balance || c.mismatched_lots || c.negative || c.mismatched_fifo;
		fprintf(stderr, "tenure: points check %s\n", bad ? "FAILED: balances differ from the ledger" : "ok");
		return bad ? 1 : 0;
	} else if (!strcmp(sub, "at-risk")) {
		double days = 30, min_p = 0.5;
		if ((o->days && cli_parse_double("points at-risk", "--days", o->days, &days)) ||
		    (o->min_p && cli_parse_double("points at-risk", "--min-p", o->min_p, &min_p)))
			return 2;
		tn_time now;
		int rc = act_now(s, "points at-risk", o->now, &now);
		if (rc)
			return rc;
		tn_scores *sc = act_scores(ctx, s, o->scores, o->risk, o->value, now);
		if (!sc)
			return 1;
		rc = tn_points_at_risk(s, now, days, sc, min_p, &r, &err);
		tn_scores_free(sc);
		if (rc)
			return cli_fail(&err);
	} else {
		return cli_usage_error("points", "unknown subcommand \"%s\"", sub);
	}
	act_print_rowset(ctx, r);
	tn_rowset_free(r);
	return 0;
}

/* One subcommand: argv[0] is its name. */
static int points_sub(cli_ctx *ctx, int argc, char **argv)
{
	popt o = {0};
	const char *pos[2] = {0};
	char cmd[48];
	snprintf(cmd, sizeof cmd, "points %s", argv[0]);
	int rc = parse(cmd, argc, argv, &o, pos, 2);
	if (rc)
		return rc;
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	rc = run(ctx, s, argv[0], pos, &o);
	tn_store_close(s);
	return rc;
}

static const cli_sub SUBS[] = {
	{"rule", points_sub, "list or set the earn rules"},
	{"earn", points_sub, "add points"},
	{"redeem", points_sub, "spend points"},
	{"grant", points_sub, "add points by hand"},
	{"import", points_sub, "apply a CSV of ledger entries"},
	{"expire", points_sub, "expire lots past their expiry"},
	{"balance", points_sub, "balances and tiers"},
	{"history", points_sub, "a customer's ledger"},
	{"tiers", points_sub, "list or set tiers"},
	{"check", points_sub, "prove the ledger consistent"},
	{"at-risk", points_sub, "points expiring and balances of likely churners"},
};

int cmd_points(cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "points", HELP, SUBS, sizeof SUBS / sizeof SUBS[0], argc, argv);
}
