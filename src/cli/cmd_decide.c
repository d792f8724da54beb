/*
 * cmd_decide.c -- the in-app decision commands: `tenure offers catalogue
 * add|list|remove`, `tenure offers scores`, `tenure offers holdout`, the
 * decisions part of `tenure offers report`, and `tenure surveys add|list`
 * (src/actions/decisions.c and surveys.c do the work; include/tenure/decide.h).
 */
#include "actions_cli.h"
#include "decide_cli.h"
#include "tenure/decide.h"
#include "base/alloc.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *CAT_HELP =
	"usage: tenure offers catalogue add NAME --kind discount|pause|downgrade|free_period\n"
	"                                   --terms TEXT --cost C [--uplift P] [--prior-weight W]\n"
	"                                   [--budget B] [--cap N/DAYS] [--moments LIST]\n"
	"                                   [--valid-days D]\n"
	"       tenure offers catalogue list\n"
	"       tenure offers catalogue remove NAME\n\n"
	"The offers POST /v1/decisions chooses from (docs/actions.md, \"In-app decisions\").\n"
	"  --kind           discount, pause, downgrade or free_period\n"
	"  --terms TEXT     what the customer is shown (\"50% off for 3 months\")\n"
	"  --cost C         what one accepted offer costs the business\n"
	"  --uplift P       expected uplift before any outcome (the prior), 0..1 (default 0.2)\n"
	"  --prior-weight W pseudo-decisions behind that prior (default 20)\n"
	"  --budget B       total spend allowed on it (default: no limit)\n"
	"  --cap N/DAYS     at most N offers of it per customer in DAYS days (default 1/90)\n"
	"  --moments LIST   cancel,auto_renew_off,session,renewal_due or all (default cancel)\n"
	"  --valid-days D   the offer expires D days after the decision (default 7)\n";

static int parse_cap(const char *s, long *n, double *days)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '/' || a < 1 || a > 1000000)
		return -1;
	const char *d = end + 1;
	double b = strtod(d, &end);
	if (end == d || *end || !(b >= 0) || !isfinite(b))
		return -1;
	*n = a;
	*days = b;
	return 0;
}

static int cat_add(cli_ctx *ctx, int argc, char **argv)
{
	const char *kind = NULL, *terms = NULL, *cap = NULL, *moments = "cancel";
	double cost = NAN, uplift = 0.2, weight = 20, budget = NAN, valid = 7;
	const char *name = NULL;
	const cli_option opts[] = {{"--kind", CLI_STR, &kind, 0, 0, "offer kind"},
				   {"--terms", CLI_STR, &terms, 0, 0, "terms"},
				   {"--cost", CLI_DOUBLE, &cost, 0, 0, "cost"},
				   {"--uplift", CLI_DOUBLE, &uplift, 0, 0, "uplift prior"},
				   {"--prior-weight", CLI_DOUBLE, &weight, 0, 0, "prior weight"},
				   {"--budget", CLI_DOUBLE, &budget, 0, 0, "budget"},
				   {"--cap", CLI_STR, &cap, 0, 0, "frequency cap N/DAYS"},
				   {"--moments", CLI_STR, &moments, 0, 0, "moments"},
				   {"--valid-days", CLI_DOUBLE, &valid, 0, 0, "days"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	size_t ngot = 0;
	int parsed = cli_parse("offers catalogue add", CAT_HELP, opts, argc, argv, &name, 1, &ngot);
	if (parsed >= 0)
		return parsed;
	if (!name)
		return cli_usage_error("offers catalogue add", "give the offer's NAME");
	if (isnan(cost))
		return cli_usage_error("offers catalogue add", "--cost C is required");
	tn_catalogue_offer o = {.name = (char *)name, .kind = (char *)kind, .terms = (char *)terms, .cost = cost,
				.uplift_prior = uplift, .prior_weight = weight, .budget = budget, .cap_count = 1,
				.cap_days = 90, .valid_days = valid};
	if (cap && parse_cap(cap, &o.cap_count, &o.cap_days))
		return cli_usage_error("offers catalogue add", "--cap: expected N/DAYS (say 1/90), found '%s'", cap);
	tn_error err = {0};
	if (tn_moments_parse(moments, &o.moments, &err))
		return cli_fail(&err);
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	int64_t id = 0;
	int rc = tn_catalogue_add(s, &o, tn_now(), &id, &err) ? cli_fail(&err) : 0;
	if (!rc && !ctx->quiet)
		fprintf(stderr, "added offer %s (id %lld)\n", name, (long long)id);
	tn_store_close(s);
	return rc;
}

static int cat_list(cli_ctx *ctx, int argc, char **argv)
{
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	tn_store *s;
	int parsed = act_parse_open(ctx, "offers catalogue list", CAT_HELP, opts, argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_catalogue_offer *o;
	size_t n;
	int rc = 0;
	if (tn_catalogue_list(s, &o, &n, &err)) {
		rc = cli_fail(&err);
	} else {
		const char *names[] = {"id",  "name",     "kind",     "terms",   "cost",       "uplift_prior",
				       "prior_weight", "budget", "cap_count", "cap_days", "moments", "valid_days"};
		tn_out *t = tn_out_new(12, names);
		for (size_t i = 0; i < n; i++) {
			char m[80] = "";
			for (int k = 0; k < TN_MOMENT_COUNT; k++)
				if (o[i].moments & (1u << k)) {
					size_t l = strlen(m);
					snprintf(m + l, sizeof m - l, "%s%s", l ? "," : "", tn_moment_name(k));
				}
			tn_out_int(t, o[i].id);
			tn_out_str(t, o[i].name);
			tn_out_str(t, o[i].kind);
			tn_out_str(t, o[i].terms);
			tn_out_num(t, o[i].cost, 2);
			tn_out_num(t, o[i].uplift_prior, 3);
			tn_out_num(t, o[i].prior_weight, 0);
			tn_out_num(t, o[i].budget, 2);
			tn_out_int(t, o[i].cap_count);
			tn_out_num(t, o[i].cap_days, 0);
			tn_out_str(t, m);
			tn_out_num(t, o[i].valid_days, 0);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		tn_catalogue_free(o, n);
	}
	tn_store_close(s);
	return rc;
}

static int cat_remove(cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL;
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	int parsed = cli_parse("offers catalogue remove", CAT_HELP, opts, argc, argv, &name, 1, NULL);
	if (parsed >= 0)
		return parsed;
	if (!name)
		return cli_usage_error("offers catalogue remove", "give the offer's NAME");
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	tn_error err = {0};
	int rc = tn_catalogue_remove(s, name, tn_now(), &err) ? cli_fail(&err) : 0;
	tn_store_close(s);
	return rc;
}

int offers_catalogue(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"add", cat_add, "add an offer"},
		{"list", cat_list, "the offers in use"},
		{"remove", cat_remove, "retire an offer (kept for the report)"},
	};
	return cli_dispatch(ctx, "offers catalogue", CAT_HELP, subs, sizeof subs / sizeof subs[0], argc, argv);
}

static const char *SCORES_HELP =
	"usage: tenure offers scores [--scores FILE | --risk FILE --value FILE] [--now DATE]\n\n"
	"Store P(churn) and value per customer for the server's decisions (it loads them\n"
	"instead of fitting anything).  Without files the built-in estimate is stored\n"
	"(docs/actions.md).  Replaces the scores stored before.\n";

int offers_scores(cli_ctx *ctx, int argc, char **argv)
{
	const char *file = NULL, *risk = NULL, *value = NULL, *now_s = NULL;
	const cli_option opts[] = {{"--scores", CLI_STR, &file, 0, 0, "file"},
				   {"--risk", CLI_STR, &risk, 0, 0, "file"},
				   {"--value", CLI_STR, &value, 0, 0, "file"},
				   {"--now", CLI_STR, &now_s, 0, 0, "date"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	tn_store *s;
	int parsed = act_parse_open(ctx, "offers scores", SCORES_HELP, opts, argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_time now;
	int rc = act_now(s, "offers scores", now_s, &now);
	tn_scores *sc = NULL;
	if (!rc && !(sc = act_scores(ctx, s, file, risk, value, now)))
		rc = 1;
	tn_error err = {0};
	if (!rc && tn_scores_store(s, sc, file ? "scores" : risk ? "risk+value" : "estimate", now, &err))
		rc = cli_fail(&err);
	if (!rc && !ctx->quiet)
		fprintf(stderr, "stored scores of %zu customers\n", sc->n);
	tn_scores_free(sc);
	tn_store_close(s);
	return rc;
}

static const char *HOLDOUT_HELP =
	"usage: tenure offers holdout [--share S] [--seed N]\n\n"
	"The decisions' holdout group: a customer is in it when a hash of their id and\n"
	"the seed falls below the share (default 0.10, seed 1), decided at their first\n"
	"decision and stored; a change applies only to customers not yet assigned.\n";

int offers_holdout(cli_ctx *ctx, int argc, char **argv)
{
	double share = NAN;
	long seed = -1;
	const cli_option opts[] = {{"--share", CLI_DOUBLE, &share, 0, 0, "share"},
				   {"--seed", CLI_INT, &seed, 0, LONG_MAX, "seed"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	tn_store *s;
	int parsed = act_parse_open(ctx, "offers holdout", HOLDOUT_HELP, opts, argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_decide_settings set;
	int rc = tn_decide_settings_get(s, &set, &err);
	if (!rc && (!isnan(share) || seed >= 0)) {
		if (!isnan(share))
			set.holdout_share = share;
		if (seed >= 0)
			set.seed = (uint64_t)seed;
		rc = tn_decide_settings_set(s, &set, &err);
	}
	if (rc) {
		rc = cli_fail(&err);
	} else {
		const char *names[] = {"holdout_share", "seed"};
		tn_out *t = tn_out_new(2, names);
		tn_out_num(t, set.holdout_share, 3);
		tn_out_int(t, (long long)set.seed);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	tn_store_close(s);
	return rc;
}

int offers_decisions_report(cli_ctx *ctx, tn_store *s)
{
	tn_error err = {0};
	tn_decision_report_row *r;
	size_t n;
	if (tn_decisions_report(s, &r, &n, &err))
		return cli_fail(&err);
	const char *names[] = {"offer",         "moment",         "treated",       "treated_kept", "holdout",
			       "holdout_kept",  "save_treated",   "save_holdout",  "save_uplift",  "ci95_low",
			       "ci95_high",     "accepted",       "declined",      "accept_rate_post", "accept_lo",
			       "accept_hi",     "customers_kept", "revenue_kept",  "cost",         "cost_per_kept"};
	tn_out *t = tn_out_new(20, names);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, r[i].offer);
		tn_out_str(t, r[i].moment);
		tn_out_int(t, r[i].treated);
		tn_out_int(t, r[i].treated_kept);
		tn_out_int(t, r[i].holdout);
		tn_out_int(t, r[i].holdout_kept);
		tn_out_num(t, r[i].save.p1, 3);
		tn_out_num(t, r[i].save.p2, 3);
		tn_out_num(t, r[i].save.diff, 3);
		tn_out_num(t, r[i].save.lo, 3);
		tn_out_num(t, r[i].save.hi, 3);
		tn_out_int(t, r[i].accepted);
		tn_out_int(t, r[i].declined);
		tn_out_num(t, r[i].accept_mean, 3);
		tn_out_num(t, r[i].accept_lo, 3);
		tn_out_num(t, r[i].accept_hi, 3);
		tn_out_num(t, r[i].customers_kept, 1);
		tn_out_num(t, r[i].revenue_kept, 2);
		tn_out_num(t, r[i].cost, 2);
		tn_out_num(t, r[i].cost_per_kept, 2);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(r);
	return 0;
}

/* ---- surveys ---------------------------------------------------------------------------- */

static const char *SURVEYS_HELP =
	"usage: tenure surveys add NAME --kind nps|csat|ces|exit|custom --trigger T\n"
	"                          [--template NAME | --questions FILE] [--milestone M]\n"
	"                          [--event TYPE] [--days D] [--cap-days 30] [--reward POINTS]\n"
	"       tenure surveys list\n\n"
	"Surveys the app shows when they are due (GET /v1/customers/{id}/survey, or in\n"
	"a decision's answer); text in English, Arabic and Persian (docs/actions.md).\n"
	"  --kind          nps, csat, ces, exit (the six feedback types + free text) or custom\n"
	"  --template NAME built-in questions: nps, csat, ces, exit, price_vs_expected,\n"
	"                  order_on_time, recommend_yes_no (default: the kind's own)\n"
	"  --questions F   a JSON array of questions instead ({\"id\", \"type\": scale|choice|\n"
	"                  text|reasons, \"text\": {\"en\", \"ar\", \"fa\"}, \"choices\", \"min\", \"max\"})\n"
	"  --trigger T     milestone (--milestone first_value ...), before_danger (--days D\n"
	"                  before the danger window of age), auto_renew_off, cancel,\n"
	"                  support_ticket (an --event TYPE event, default support_ticket,\n"
	"                  within --days, default 7), every (--days D)\n"
	"  --cap-days D    no survey to a customer within D days of another (default 30)\n"
	"  --reward P      loyalty points credited once when it is answered (default 0)\n"
	"Answers arrive on POST /v1/feedback with kind = the survey's name or kind.\n";

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = tn_malloc(65537);
	size_t n = buf ? fread(buf, 1, 65536, fp) : 0;
	fclose(fp);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int surveys_add(cli_ctx *ctx, int argc, char **argv)
{
	const char *name = NULL, *kind = NULL, *trigger = NULL, *tmpl = NULL, *qfile = NULL, *milestone = NULL,
		   *event = NULL;
	double days = NAN, cap = 30;
	long reward = 0;
	const cli_option opts[] = {{"--kind", CLI_STR, &kind, 0, 0, "kind"},
				   {"--trigger", CLI_STR, &trigger, 0, 0, "trigger"},
				   {"--template", CLI_STR, &tmpl, 0, 0, "template"},
				   {"--questions", CLI_STR, &qfile, 0, 0, "file"},
				   {"--milestone", CLI_STR, &milestone, 0, 0, "milestone"},
				   {"--event", CLI_STR, &event, 0, 0, "event type"},
				   {"--days", CLI_DOUBLE, &days, 0, 0, "days"},
				   {"--cap-days", CLI_DOUBLE, &cap, 0, 0, "days"},
				   {"--reward", CLI_INT, &reward, 0, 1000000000, "points"},
				   {NULL, 0, NULL, 0, 0, NULL}};
	int parsed = cli_parse("surveys add", SURVEYS_HELP, opts, argc, argv, &name, 1, NULL);
	if (parsed >= 0)
		return parsed;
	if (!name)
		return cli_usage_error("surveys add", "give the survey's NAME");
	if (!kind)
		return cli_usage_error("surveys add", "--kind is required");
	int trig = tn_trigger_parse(trigger);
	if (trig < 0)
		return cli_usage_error("surveys add", "--trigger: expected milestone, before_danger, auto_renew_off, "
				       "cancel, support_ticket or every");
	if (tmpl && qfile)
		return cli_usage_error("surveys add", "give --template or --questions, not both");
	char *questions = NULL;
	if (qfile) {
		if (!(questions = read_file(qfile))) {
			fprintf(stderr, "tenure: %s: cannot read the questions\n", qfile);
			return 1;
		}
	} else {
		const char *t = tn_survey_template(tmpl ? tmpl : kind);
		if (!t)
			return cli_usage_error("surveys add", "--template: no built-in question set '%s' (nps, csat, ces, "
					       "exit, price_vs_expected, order_on_time, recommend_yes_no)",
					       tmpl ? tmpl : kind);
		questions = tn_strdup(t);
	}
	tn_survey_def d = {.name = (char *)name, .kind = (char *)kind, .questions = questions, .trigger = trig,
			   .trigger_arg = (char *)(trig == TN_TRIG_MILESTONE ? milestone : event),
			   .trigger_days = days, .cap_days = cap, .reward_points = reward};
	tn_store *s;
	if (act_open(ctx, &s)) {
		free(questions);
		return 1;
	}
	tn_error err = {0};
	int64_t id = 0;
	int rc = tn_survey_add(s, &d, tn_now(), &id, &err) ? cli_fail(&err) : 0;
	if (!rc && !ctx->quiet)
		fprintf(stderr, "added survey %s (id %lld)\n", name, (long long)id);
	free(questions);
	tn_store_close(s);
	return rc;
}

static int surveys_list(cli_ctx *ctx, int argc, char **argv)
{
	const cli_option opts[] = {{NULL, 0, NULL, 0, 0, NULL}};
	tn_store *s;
	int parsed = act_parse_open(ctx, "surveys list", SURVEYS_HELP, opts, argc, argv, &s);
	if (parsed >= 0)
		return parsed;
	tn_error err = {0};
	tn_survey_def *d;
	size_t n;
	int rc = 0;
	if (tn_surveys_list(s, &d, &n, &err)) {
		rc = cli_fail(&err);
	} else {
		const char *names[] = {"id", "name", "kind", "trigger", "trigger_arg", "days", "cap_days", "reward_points",
				       "questions"};
		tn_out *t = tn_out_new(9, names);
		for (size_t i = 0; i < n; i++) {
			tn_out_int(t, d[i].id);
			tn_out_str(t, d[i].name);
			tn_out_str(t, d[i].kind);
			tn_out_str(t, tn_trigger_name(d[i].trigger));
			tn_out_str(t, d[i].trigger_arg);
			tn_out_num(t, d[i].trigger_days, 0);
			tn_out_num(t, d[i].cap_days, 0);
			tn_out_int(t, d[i].reward_points);
			tn_out_str(t, d[i].questions);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
		tn_surveys_free(d, n);
	}
	tn_store_close(s);
	return rc;
}

int cmd_surveys(cli_ctx *ctx, int argc, char **argv)
{
	static const cli_sub subs[] = {
		{"add", surveys_add, "define a survey: questions, trigger, cap, reward"},
		{"list", surveys_list, "the surveys defined"},
	};
	return cli_dispatch(ctx, "surveys", SURVEYS_HELP, subs, sizeof subs / sizeof subs[0], argc, argv);
}
