/*
 * cmd_journey.c -- `tenure journey map|funnel|churn|stuck`: onboarding
 * milestones (src/actions/journey.c does the work).
 */
#include "actions_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
	"usage: tenure journey map [MILESTONE EVENT_TYPE]\n"
	"       tenure journey funnel [--cohort month] [--now DATE]\n"
	"       tenure journey churn [--now DATE]\n"
	"       tenure journey stuck --days N [--now DATE]\n\n"
	"Four onboarding milestones, in order: first_impression, first_value,\n"
	"intended_value, extended_value.  Each is an event type; a customer reaches it\n"
	"with their first event of that type at or after signup.  Defaults: session,\n"
	"feature_use, onboarding_complete, invite_sent.\n\n"
	"map     show the mapping, or map MILESTONE to EVENT_TYPE (stored)\n"
	"funnel  per milestone: customers, reached, conversion and median days from signup\n"
	"        (among those who reached it); --cohort month splits by signup month\n"
	"churn   churn rate by the furthest milestone reached (customers with a\n"
	"        subscription; churned = none live)\n"
	"stuck   live customers who signed up at least N days ago and have not reached\n"
	"        first value\n"
	"  --now DATE  as-of date (default: the latest instant in the data)\n";

static int do_map(cli_ctx *ctx, tn_store *s, int argc, char **argv)
{
	tn_error err = {0};
	if (argc == 3) {
		int m = tn_milestone_parse(argv[1]);
		if (m < 0)
			return cli_usage_error("journey map", "MILESTONE: expected first_impression, first_value, "
							      "intended_value or extended_value, found \"%s\"", argv[1]);
		if (tn_journey_map(s, m, argv[2], &err))
			return cli_fail(&err);
	} else if (argc != 1) {
		return cli_usage_error("journey map", "expected MILESTONE EVENT_TYPE, or nothing to show the map");
	}
	char *types[TN_MS_COUNT];
	int mapped[TN_MS_COUNT];
	if (tn_journey_types(s, types, mapped, &err))
		return cli_fail(&err);
	const char *names[] = {"order", "milestone", "event_type", "source"};
	tn_out *t = tn_out_new(4, names);
	for (int m = 0; m < TN_MS_COUNT; m++) {
		tn_out_int(t, m + 1);
		tn_out_str(t, tn_milestone_name(m));
		tn_out_str(t, types[m]);
		tn_out_str(t, mapped[m] ? "mapped" : "default");
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	tn_journey_types_free(types);
	return 0;
}

static int do_analysis(cli_ctx *ctx, tn_store *s, const char *sub, int argc, char **argv)
{
	const char *now_s = NULL, *cohort = NULL;
	double days = NAN; /* NaN: not given */
	char cmd[32];
	snprintf(cmd, sizeof cmd, "journey %s", sub);
	int stuck = !strcmp(sub, "stuck"), funnel = !strcmp(sub, "funnel");
	const cli_option churn_opts[] = {{"--now", CLI_STR, &now_s, 0, 0, NULL}, {NULL, 0, NULL, 0, 0, NULL}};
	const cli_option funnel_opts[] = {{"--now", CLI_STR, &now_s, 0, 0, NULL},
					  {"--cohort", CLI_STR, &cohort, 0, 0, NULL},
					  {NULL, 0, NULL, 0, 0, NULL}};
	const cli_option stuck_opts[] = {{"--now", CLI_STR, &now_s, 0, 0, NULL},
					 {"--days", CLI_DOUBLE, &days, 0, 0, "days since signup"},
					 {NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse(cmd, HELP, funnel ? funnel_opts : stuck ? stuck_opts : churn_opts, argc, argv, NULL, 0,
			   NULL);
	if (st >= 0)
		return st;
	if (cohort && strcmp(cohort, "month"))
		return cli_usage_error(cmd, "--cohort: expected month, found \"%s\"", cohort);
	if (stuck && isnan(days))
		return cli_usage_error(cmd, "--days N is required");
	if (!stuck)
		days = 0;
	tn_time now;
	int rc = act_now(s, cmd, now_s, &now);
	if (rc)
		return rc;
	tn_error err = {0};
	tn_journey *j;
	if (tn_journey_load(s, now, &j, &err))
		return cli_fail(&err);
	if (!strcmp(sub, "funnel")) {
		tn_funnel_row *rows;
		size_t n;
		if (tn_journey_funnel(j, cohort != NULL, &rows, &n, &err)) {
			rc = cli_fail(&err);
		} else {
			const char *names[] = {"cohort", "milestone", "customers", "reached", "conversion", "median_days"};
			tn_out *t = tn_out_new(6, names);
			for (size_t i = 0; i < n; i++) {
				tn_out_str(t, rows[i].cohort);
				tn_out_str(t, tn_milestone_name(rows[i].milestone));
				tn_out_int(t, rows[i].customers);
				tn_out_int(t, rows[i].reached);
				tn_out_num(t, rows[i].conversion, 4);
				tn_out_num(t, rows[i].median_days, 2);
			}
			tn_out_print(t, ctx->format, stdout);
			tn_out_free(t);
			free(rows);
		}
	} else if (!strcmp(sub, "churn")) {
		tn_journey_churn_row rows[TN_MS_COUNT + 1];
		tn_journey_churn(j, rows);
		const char *names[] = {"furthest_milestone", "customers", "churned", "churn_rate"};
		tn_out *t = tn_out_new(4, names);
		for (int i = 0; i <= TN_MS_COUNT; i++) {
			tn_out_str(t, tn_milestone_name(rows[i].furthest));
			tn_out_int(t, rows[i].customers);
			tn_out_int(t, rows[i].churned);
			tn_out_num(t, rows[i].churn_rate, 4);
		}
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	} else {
		size_t *idx, n;
		if (tn_journey_stuck(j, days, &idx, &n, &err)) {
			rc = cli_fail(&err);
		} else {
			const char *names[] = {"customer", "signed_up", "age_days", "furthest_milestone"};
			tn_out *t = tn_out_new(4, names);
			char d[16];
			for (size_t k = 0; k < n; k++) {
				size_t i = idx[k];
				tn_out_str(t, j->customer[i]);
				tn_out_str(t, act_date(j->signed_up_at[i], d, sizeof d));
				tn_out_num(t, (double)(now - j->signed_up_at[i]) / TN_DAY, 1);
				tn_out_str(t, tn_milestone_name(j->furthest[i]));
			}
			tn_out_print(t, ctx->format, stdout);
			tn_out_free(t);
			free(idx);
		}
	}
	tn_journey_free(j);
	return rc;
}

/* Open the store and run subcommand argv[0] on it. */
static int with_store(cli_ctx *ctx, int argc, char **argv)
{
	tn_store *s;
	if (act_open(ctx, &s))
		return 1;
	int rc = !strcmp(argv[0], "map") ? do_map(ctx, s, argc, argv) : do_analysis(ctx, s, argv[0], argc, argv);
	tn_store_close(s);
	return rc;
}

static const cli_sub SUBS[] = {
	{"map", with_store, "show the milestone events, or map one"},
	{"funnel", with_store, "share reaching each milestone, by signup cohort"},
	{"churn", with_store, "churn by milestone reached"},
	{"stuck", with_store, "live customers who have not reached first value"},
};

int cmd_journey(cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "journey", HELP, SUBS, sizeof SUBS / sizeof SUBS[0], argc, argv);
}
