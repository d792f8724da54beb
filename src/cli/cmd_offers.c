/*
 * cmd_offers.c -- `tenure offers plan|report|ending|nearing|call`: retention
 * offers ranked by expected profit with a stored control group, and the
 * lists a retention team works from (src/actions/offers.c does the work).
 */
#include "actions_cli.h"
#include "decide_cli.h"
#include "tenure/decide.h"

#include <limits.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *HELP =
	"usage: tenure offers plan [--scores FILE | --risk FILE --value FILE] [--budget B]\n"
	"                          [--offer-cost C] [--accept-rate P]\n"
	"                          [--control SHARE] [--seed S] [--lead-days D] [--danger-day D|window]\n"
	"                          [--now DATE] [--top N] [--dry-run]\n"
	"       tenure offers report [--plan ID | --decisions]\n"
	"       tenure offers catalogue add|list|remove ...   (in-app decisions)\n"
	"       tenure offers scores [--scores FILE | --risk FILE --value FILE]\n"
	"       tenure offers holdout [--share S] [--seed N]\n"
	"       tenure offers plans\n"
	"       tenure offers in-force\n"
	"       tenure offers withdraw [--plan ID]\n"
	"       tenure offers ending [--days 30] [--now DATE]\n"
	"       tenure offers nearing [--danger-day D|window] [--window 7] [--now DATE]\n"
	"       tenure offers call [--scores FILE | --risk FILE --value FILE] [--min-p 0.5]\n"
	"                          [--min-value 0] [--top 20] [--now DATE]\n\n"
	"plan     rank customers by expected profit of an offer\n"
	"           E = P(churn) x accept-rate x value - offer-cost\n"
	"         (not by risk alone), offer to those with E > 0 in that order until the\n"
	"         budget is spent, and keep a random control group (seeded, stratified by\n"
	"         expected profit in blocks of 10) that gets no offer.  The plan and both\n"
	"         arms are stored (unless --dry-run) so `offers report` can measure it.\n"
	"         Each offer is timed --lead-days before the next of: the customer's\n"
	"         danger day of age, or their period end.\n"
	"         Ties in expected profit: the higher value first, then a random order\n"
	"         drawn from --seed (never the customer id).  An identical plan (same as-of,\n"
	"         parameters and assignments) is stored once.  Per-customer risk and value:\n"
	"           tenure --format csv predict score --model M --as-of DATE > risk.csv\n"
	"           tenure --format csv value retention --subscribers > value.csv\n"
	"           tenure offers plan --risk risk.csv --value value.csv\n"
	"  --scores FILE    CSV with columns customer, p_churn, value (from churn/risk and\n"
	"                   value models); without it a built-in estimate from the store is\n"
	"                   used and said so (docs/actions.md); columns id and risk, clv\n"
	"                   are accepted too\n"
	"  --risk FILE      P(churn) per customer (columns customer or id, p_churn or risk:\n"
	"                   what `tenure predict score --format csv` writes), with\n"
	"  --value FILE     value per customer (columns customer, value or clv: what\n"
	"                   `tenure value score --format csv` writes); joined by customer,\n"
	"                   a customer without a value counts 0\n"
	"  --budget B       total offer spend allowed (default: no limit)\n"
	"  --offer-cost C   cost of one offer (default 5)\n"
	"  --accept-rate P  P(offer keeps a churner), 0..1 (default 0.3)\n"
	"  --control SHARE  share of the targeted held out as control, 0..0.9 (default 0.1)\n"
	"  --seed S         seed of the control draw (default 1)\n"
	"  --lead-days D    send offers D days before the danger day or period end (default 7)\n"
	"  --danger-day D   the danger day of age: a number of days, or `window` for the\n"
	"                   first day of the survival danger window (docs/survival.md);\n"
	"                   default: the store's typical churn age, the median age at\n"
	"                   cancellation\n"
	"  --now DATE       as-of date (default: the latest instant in the data)\n"
	"  --top N          rows to print (default 20; 0 = all)\n"
	"  --dry-run        do not store the plan\n"
	"report   churn rate of the offer arm vs the control arm of a stored plan (latest\n"
	"         by default; --plan ID), uplift = control - offer with a 95% Newcombe\n"
	"         (hybrid score) interval.  When the store holds in-app decisions (POST\n"
	"         /v1/decisions) and no --plan is given, or with --decisions: their save\n"
	"         rate against the holdout by offer and moment, with the Newcombe interval,\n"
	"         customers and revenue kept, cost per customer kept (docs/actions.md)\n"
	"catalogue the offers the server's decisions choose from (`offers catalogue --help`)\n"
	"scores   store P(churn) and value per customer for the server's decisions\n"
	"holdout  the decisions' holdout share and seed\n"
	"plans    the stored plans, one column per parameter\n"
	"in-force the plan approved on the dashboard (/act) that is in force: while one\n"
	"         is, the offers job queues its offers on their send days instead of the\n"
	"         renewal rule, and POST /v1/decisions offers only to its offer arm within\n"
	"         its budget (never to its control arm); nothing printed when none is\n"
	"withdraw end the plan in force (--plan ID: only if it is that one): its offers\n"
	"         not sent yet are suppressed; the offers job and the decisions return\n"
	"         to their default rules until another plan is approved\n"
	"ending   subscriptions whose period or trial ends within --days days\n"
	"nearing  live customers within --window days before the danger day of age\n"
	"call     high-value customers at risk for a personal call: P(churn) >= --min-p\n"
	"         and value >= --min-value, by value at risk P(churn) x value\n";

typedef struct plan_opts {
	const char *scores, *risk, *value, *now, *danger_s;
	double budget, cost, accept, control, lead, danger;
	long seed, top;
	int dry;
} plan_opts;

/* -1 to go on, else the exit status (cli_parse). */
static int parse_plan(int argc, char **argv, plan_opts *o)
{
	const cli_option opts[] = {
		{"--dry-run", CLI_FLAG, &o->dry, 0, 0, NULL},
		{"--budget", CLI_DOUBLE, &o->budget, 0, 0, "total offer spend"},
		{"--offer-cost", CLI_DOUBLE, &o->cost, 0, 0, "cost of one offer"},
		{"--accept-rate", CLI_DOUBLE, &o->accept, 0, 0, "P(offer keeps a churner)"},
		{"--control", CLI_DOUBLE, &o->control, 0, 0, "control share"},
		{"--lead-days", CLI_DOUBLE, &o->lead, 0, 0, "days before the danger day"},
		{"--seed", CLI_INT, &o->seed, LONG_MIN, LONG_MAX, "random seed"},
		{"--top", CLI_INT, &o->top, 0, LONG_MAX, "rows to print"},
		{"--danger-day", CLI_STR, &o->danger_s, 0, 0, NULL},
		{"--scores", CLI_STR, &o->scores, 0, 0, NULL},
		{"--risk", CLI_STR, &o->risk, 0, 0, NULL},
		{"--value", CLI_STR, &o->value, 0, 0, NULL},
		{"--now", CLI_STR, &o->now, 0, 0, NULL},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	return cli_parse("offers plan", HELP, opts, argc, argv, NULL, 0, NULL);
}

/* The danger day: a number, "window" (the survival danger window's first
 * day) or, by default, the typical churn age.  HOW says which. */
static int danger_day(cli_ctx *ctx, tn_store *s, const char *cmd, const char *opt, tn_time now, double *day,
		      char *how, size_t hn)
{
	tn_error err = {0};
	(void)ctx;
	if (opt && strcmp(opt, "window") == 0) {
		double from, to, share;
		if (tn_offers_danger_window(s, now, &from, &to, &share, &err))
			return cli_fail(&err);
		if (isnan(from)) {
			tn_error_set(&err, TN_ERR_NUMERIC, "no danger window: too few customers at risk; give "
							   "--danger-day DAYS");
			return cli_fail(&err);
		}
		*day = from;
		snprintf(how, hn, "the danger window, days %.0f to %.0f of age, %.0f%% of leavers", from, to - 1,
			 100 * share);
		return 0;
	}
	if (opt) {
		snprintf(how, hn, "--danger-day");
		return cli_parse_double(cmd, "--danger-day", opt, day) ? 2 : 0;
	}
	long n;
	if (tn_offers_typical_churn_age(s, now, day, &n, &err))
		return cli_fail(&err);
	snprintf(how, hn, "%s", n ? "typical churn age: median age at cancellation" : "no cancellations yet: 30");
	return 0;
}

static int do_plan(cli_ctx *ctx, int argc, char **argv)
{
	plan_opts o = {.budget = -1, .cost = 5, .accept = 0.3, .control = 0.1, .lead = 7, .danger = NAN,
		       .seed = 1, .top = 20};
	int rc = parse_plan(argc, argv, &o);
	if (rc >= 0)
		return rc;
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	tn_time now;
	tn_scores *sc = NULL;
	tn_offer_plan *plan = NULL;
	tn_time *send = NULL;
	if ((rc = act_now(s, "offers plan", o.now, &now)))
		goto out;
	char how[160];
	if ((rc = danger_day(ctx, s, "offers plan", o.danger_s, now, &o.danger, how, sizeof how)))
		goto out;
	if (!(sc = act_scores(ctx, s, o.scores, o.risk, o.value, now))) {
		rc = 1;
		goto out;
	}
	tn_offer_params p = {.offer_cost = o.cost, .accept_rate = o.accept, .budget = o.budget,
			     .control_share = o.control, .seed = (uint64_t)o.seed};
	if (tn_offers_plan(sc->p_churn, sc->value, sc->n, &p, &plan, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	send = malloc((sc->n ? sc->n : 1) * sizeof *send);
	if (!send) {
		tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		rc = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < sc->n; i++)
		send[i] = tn_offer_send_time(now, sc->signed_up_at[i], sc->period_end[i], o.danger, o.lead);
	int64_t id = 0;
	int existing = 0;
	if (!o.dry) {
		cJSON *pj = cJSON_CreateObject();
		tn_json_add_num(pj, "offer_cost", o.cost);
		tn_json_add_num(pj, "accept_rate", o.accept);
		tn_json_add_num(pj, "budget", o.budget);
		tn_json_add_num(pj, "control", o.control);
		tn_json_add_num(pj, "seed", (double)o.seed);
		tn_json_add_num(pj, "lead_days", o.lead);
		tn_json_add_num(pj, "danger_day", o.danger);
		char *params = pj ? tn_json_print(pj) : NULL;
		cJSON_Delete(pj);
		if (!params) {
			tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
			rc = cli_fail(&err);
			goto out;
		}
		int bad = tn_offers_save_once(s, sc, plan, send, params, now, &id, &existing, &err);
		free(params);
		if (bad) {
			rc = cli_fail(&err);
			goto out;
		}
	}
	if (!ctx->quiet) {
		char d[16];
		fprintf(stderr,
			"tenure: offer plan %s%lld as of %s: %zu customers, %zu with expected profit > 0; %zu offers "
			"(spend %.2f, expected gain %.2f), %zu in the control group; danger day %.1f (%s); ties in "
			"expected profit: higher value first, then a random order from --seed%s\n",
			o.dry ? "(dry run) " : "", (long long)id, act_date(now, d, sizeof d), plan->n,
			plan->n_candidates, plan->n_offer, plan->spend, plan->expected_gain, plan->n_control, o.danger,
			how, existing ? "; identical to the stored plan, not stored again" : "");
	}
	const char *names[] = {"rank", "customer", "arm", "p_churn", "value", "expected_profit", "send_on"};
	tn_out *t = tn_out_new(7, names);
	long shown = 0;
	for (size_t r = 0; r < plan->n; r++) {
		size_t i = plan->order[r];
		if (plan->arm[i] == TN_ARM_NONE)
			continue;
		if (o.top > 0 && shown >= o.top)
			break;
		char d[16];
		tn_out_int(t, (long long)r + 1);
		tn_out_str(t, sc->customer[i]);
		tn_out_str(t, plan->arm[i] == TN_ARM_OFFER ? "offer" : "control");
		tn_out_num(t, sc->p_churn[i], 3);
		tn_out_num(t, sc->value[i], 2);
		tn_out_num(t, plan->profit[i], 2);
		tn_out_str(t, plan->arm[i] == TN_ARM_OFFER ? act_date(send[i], d, sizeof d) : NULL);
		shown++;
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
out:
	free(send);
	tn_offer_plan_free(plan);
	tn_scores_free(sc);
	tn_store_close(s);
	return rc;
}

static int do_report(cli_ctx *ctx, int argc, char **argv)
{
	long plan = 0;
	int decisions = 0;
	const cli_option opts[] = {{"--plan", CLI_INT, &plan, 0, LONG_MAX, "plan id"},
				   {"--decisions", CLI_FLAG, &decisions, 0, 0, NULL},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int parsed = cli_parse("offers report", HELP, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	if (plan && decisions)
		return cli_usage_error("offers report", "give --plan ID or --decisions, not both");
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	long ndec = 0;
	if (!plan && (decisions || (tn_decisions_count(s, &ndec, &err) == TN_OK && ndec > 0))) {
		int r = offers_decisions_report(ctx, s);
		tn_store_close(s);
		return r;
	}
	tn_offer_effect e;
	int rc = 0;
	if (tn_offers_measure(s, plan, &e, &err)) {
		rc = cli_fail(&err);
	} else {
		const char *names[] = {"plan", "created", "offered", "offer_churned", "control", "control_churned",
				       "offer_churn", "control_churn", "uplift", "ci95_low", "ci95_high"};
		tn_out *t = tn_out_new(11, names);
		char d[16];
		tn_out_int(t, e.plan_id);
		tn_out_str(t, act_date(e.created_at, d, sizeof d));
		tn_out_int(t, e.n_offer);
		tn_out_int(t, e.churned_offer);
		tn_out_int(t, e.n_control);
		tn_out_int(t, e.churned_control);
		tn_out_num(t, e.uplift.p2, 4);
		tn_out_num(t, e.uplift.p1, 4);
		tn_out_num(t, e.uplift.diff, 4);
		tn_out_num(t, e.uplift.lo, 4);
		tn_out_num(t, e.uplift.hi, 4);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	tn_store_close(s);
	return rc;
}

/* ending / nearing / call share option parsing */
static int do_list(cli_ctx *ctx, const char *which, int argc, char **argv)
{
	double days = 30, danger = NAN, window = 7, min_p = 0.5, min_value = 0;
	const char *danger_s = NULL;
	long top = 20;
	const char *now_s = NULL, *scores = NULL, *risk = NULL, *value = NULL;
	char cmd[32];
	snprintf(cmd, sizeof cmd, "offers %s", which);
	const cli_option opts[] = {
		{"--now", CLI_STR, &now_s, 0, 0, NULL},
		{"--scores", CLI_STR, &scores, 0, 0, NULL},
		{"--danger-day", CLI_STR, &danger_s, 0, 0, NULL},
		{"--risk", CLI_STR, &risk, 0, 0, NULL},
		{"--value", CLI_STR, &value, 0, 0, NULL},
		{"--days", CLI_DOUBLE, &days, 0, 0, "days ahead"},
		{"--window", CLI_DOUBLE, &window, 0, 0, "days before the danger day"},
		{"--min-p", CLI_DOUBLE, &min_p, 0, 0, "least P(churn)"},
		{"--min-value", CLI_DOUBLE, &min_value, 0, 0, "least value"},
		{"--top", CLI_INT, &top, 0, LONG_MAX, "rows to print"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	tn_store *s;
	int parsed = act_parse_open(ctx, cmd, HELP, opts, argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_time now;
	int rc = act_now(s, cmd, now_s, &now);
	if (rc)
		goto out;
	char d[16];
	if (strcmp(which, "ending") == 0) {
		tn_ending_row *rows;
		size_t n;
		if (tn_offers_ending(s, now, days, &rows, &n, &err)) {
			rc = cli_fail(&err);
			goto out;
		}
		const char *names[] = {"customer", "plan", "status", "ends_on", "renews", "price"};
		tn_out *t = tn_out_new(6, names);
		for (size_t i = 0; i < n; i++) {
			tn_out_str(t, rows[i].customer);
			tn_out_str(t, rows[i].plan);
			tn_out_str(t, rows[i].status);
			tn_out_str(t, act_date(rows[i].ends_at, d, sizeof d));
			tn_out_str(t, rows[i].renews ? "yes" : "no");
			tn_out_num(t, rows[i].price, 2);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		tn_ending_rows_free(rows, n);
	} else if (strcmp(which, "nearing") == 0) {
		char how[160];
		if ((rc = danger_day(ctx, s, cmd, danger_s, now, &danger, how, sizeof how)))
			goto out;
		if (!ctx->quiet)
			fprintf(stderr, "tenure: danger day %.1f (%s)\n", danger, how);
		tn_nearing_row *rows;
		size_t n;
		if (tn_offers_nearing(s, now, danger, window, &rows, &n, &err)) {
			rc = cli_fail(&err);
			goto out;
		}
		const char *names[] = {"customer", "plan", "age_days", "days_to_danger"};
		tn_out *t = tn_out_new(4, names);
		for (size_t i = 0; i < n; i++) {
			tn_out_str(t, rows[i].customer);
			tn_out_str(t, rows[i].plan);
			tn_out_num(t, rows[i].age_days, 1);
			tn_out_num(t, rows[i].days_to_danger, 1);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		tn_nearing_rows_free(rows, n);
	} else {
		tn_scores *sc = act_scores(ctx, s, scores, risk, value, now);
		size_t *idx, n;
		if (!sc) {
			rc = 1;
			goto out;
		}
		if (tn_offers_call_list(sc, min_p, min_value, top > 0 ? (size_t)top : 0, &idx, &n, &err)) {
			tn_scores_free(sc);
			rc = cli_fail(&err);
			goto out;
		}
		const char *names[] = {"customer", "p_churn", "value", "value_at_risk"};
		tn_out *t = tn_out_new(4, names);
		for (size_t k = 0; k < n; k++) {
			size_t i = idx[k];
			tn_out_str(t, sc->customer[i]);
			tn_out_num(t, sc->p_churn[i], 3);
			tn_out_num(t, sc->value[i], 2);
			tn_out_num(t, sc->p_churn[i] * sc->value[i], 2);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		free(idx);
		tn_scores_free(sc);
	}
out:
	tn_store_close(s);
	return rc;
}

/* `offers plans`: one column per parameter (the stored JSON read back),
 * numbers as numbers, no float noise. */
static void print_plans(cli_ctx *ctx, const tn_rowset *r)
{
	static const char *const keys[] = {"offer_cost", "accept_rate", "budget", "control", "seed", "lead_days",
					   "danger_day"};
	static const int digits[] = {2, 3, 2, 3, 0, 1, 1};
	const char *names[] = {"plan",	      "as_of",	     "source", "offered",   "control",
			       "offer_cost", "accept_rate", "budget", "control_share", "seed", "lead_days",
			       "danger_day"};
	tn_out *t = tn_out_new(12, names);
	for (size_t i = 0; i < r->nrows; i++) {
		const size_t k = i * r->ncols;
		for (size_t c = 0; c < 5 && c < r->ncols; c++) {
			if (r->digits[c] < 0)
				tn_out_str(t, r->text[k + c]);
			else
				tn_out_int(t, (long long)llround(r->num[k + c]));
		}
		cJSON *pj = r->ncols > 5 && r->text[k + 5] ? cJSON_Parse(r->text[k + 5]) : NULL;
		for (size_t q = 0; q < sizeof keys / sizeof *keys; q++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(pj, keys[q]);
			if (!cJSON_IsNumber(v) || (strcmp(keys[q], "budget") == 0 && v->valuedouble < 0))
				tn_out_str(t, strcmp(keys[q], "budget") == 0 && cJSON_IsNumber(v) ? "no limit" : NULL);
			else if (digits[q] == 0)
				tn_out_int(t, (long long)llround(v->valuedouble));
			else
				tn_out_num(t, round(v->valuedouble * 1e6) / 1e6, digits[q]);
		}
		cJSON_Delete(pj);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

static int do_plans(cli_ctx *ctx, int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("offers plans", "unexpected argument \"%s\"", argv[1]);
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	tn_rowset *r;
	int rc = 0;
	if (tn_offers_plans(s, &r, &err)) {
		rc = cli_fail(&err);
	} else {
		print_plans(ctx, r);
		tn_rowset_free(r);
	}
	tn_store_close(s);
	return rc;
}

static int do_list_sub(cli_ctx *ctx, int argc, char **argv) { return do_list(ctx, argv[0], argc, argv); }

/* `offers in-force` and `offers withdraw`: the plan approved on the
 * dashboard that the offers job and the decisions follow, and its end */
static void print_force(cli_ctx *ctx, const tn_plan_force *pf, long suppressed)
{
	const char *names[] = {"plan", "approved", "offered", "control", "offer_cost", "budget", "suppressed"};
	tn_out *t = tn_out_new(suppressed >= 0 ? 7 : 6, names);
	char iso[40];
	if (pf->plan_id) {
		tn_out_int(t, pf->plan_id);
		tn_out_str(t, tn_time_format(pf->approved_at, iso, sizeof iso));
		tn_out_int(t, pf->n_offer);
		tn_out_int(t, pf->n_control);
		tn_out_num(t, pf->offer_cost, 2);
		tn_out_num(t, pf->budget >= 0 ? pf->budget : NAN, 2);
		if (suppressed >= 0)
			tn_out_int(t, suppressed);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

static int do_force(cli_ctx *ctx, int argc, char **argv)
{
	int withdraw = strcmp(argv[0], "withdraw") == 0;
	long plan = 0;
	const cli_option opts[] = {{"--plan", CLI_INT, &plan, 1, LONG_MAX, "plan id"}, {NULL, 0, NULL, 0, 0, NULL}};
	tn_store *s;
	int parsed = act_parse_open(ctx, withdraw ? "offers withdraw" : "offers in-force", HELP, withdraw ? opts : opts + 1,
				    argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_plan_force pf;
	int rc = tn_offer_plan_in_force(s, &pf, &err);
	long suppressed = -1;
	if (!rc && withdraw) {
		int64_t done = 0;
		rc = tn_offer_plan_withdraw(s, plan, 0, tn_now(), &done, &suppressed, &err);
	}
	if (rc)
		rc = cli_fail(&err);
	else
		print_force(ctx, &pf, suppressed);
	tn_store_close(s);
	return rc;
}

static const cli_sub SUBS[] = {
	{"plan", do_plan, "rank customers by expected profit of an offer, with a control group"},
	{"report", do_report, "churn of the offer arm against the control arm of a plan; in-app decisions' save rate"},
	{"catalogue", offers_catalogue, "the offer catalogue of the in-app decisions: add, list, remove"},
	{"scores", offers_scores, "store P(churn) and value per customer for the server's decisions"},
	{"holdout", offers_holdout, "the in-app decisions' holdout share and seed"},
	{"plans", do_plans, "the stored plans"},
	{"in-force", do_force, "the plan approved on the dashboard that offers and decisions follow"},
	{"withdraw", do_force, "withdraw the approved plan in force: back to the default rules"},
	{"ending", do_list_sub, "subscriptions whose period or trial ends soon"},
	{"nearing", do_list_sub, "live customers just before the danger day of age"},
	{"call", do_list_sub, "high-value customers at risk, for a personal call"},
};

int cmd_offers(cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "offers", HELP, SUBS, sizeof SUBS / sizeof SUBS[0], argc, argv);
}
