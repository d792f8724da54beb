/*
 * cmd_summary.c -- `tenure summary` and `tenure demo`: the first look at a
 * store, and the demo company that gives a new user something to look at.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void print_summary(cli_ctx *ctx, const tn_summary *m)
{
	char asof[16], month[16], cur[16];
	if (m->as_of == TN_NO_TIME) {
		if (ctx->format == OUT_TABLE) {
			printf("No data yet: import data (tenure import) or run tenure demo.\n");
			return;
		}
	} else if (ctx->format == OUT_TABLE) {
		tn_date_format(m->as_of, asof, sizeof asof);
		printf("As of the end of %s (docs/metrics.md)\n", asof);
	}
	snprintf(month, sizeof month, "%.7s", m->as_of == TN_NO_TIME ? "" : tn_date_format(m->month_start, cur, sizeof cur));
	snprintf(cur, sizeof cur, "%s", m->currency[0] ? m->currency : "money");
	char m_churned[96], m_rate[160], m_nrr[128];
	snprintf(m_churned, sizeof m_churned, "customers who left in %s%s", month, m->month_partial ? " (to date)" : "");
	snprintf(m_rate, sizeof m_rate, "churned_month / customers at the start of %s (the last period of churn rate)",
		 month);
	snprintf(m_nrr, sizeof m_nrr, "net revenue retention in %s%s", month, m->month_partial ? " (to date)" : "");
	const char *cols[] = {"measure", "value", "unit", "meaning"};
	tn_out *t = tn_out_new(4, cols);
	struct {
		const char *name;
		double v;
		int digits;
		const char *unit, *meaning;
	} rows[] = {
		{"customers", (double)m->customers, 0, "customers", "customers in the store"},
		{"active_customers", (double)m->active, 0, "customers", "customers with a live subscription (churn rate's customers_end)"},
		{"paying", (double)m->paying, 0, "customers", "active customers with MRR > 0"},
		{"trialing", (double)m->trialing, 0, "customers", "active customers in a free trial"},
		{"mrr", m->mrr, 2, cur, "monthly recurring revenue (churn rate's mrr_end)"},
		{"churned_month", (double)m->churned, 0, "customers", m_churned},
		{"churn_rate_month_pct", 100 * m->churn_rate, 2, "%", m_rate},
		{"churn_rate_prev_month_pct", 100 * m->churn_rate_prev, 2, "%", "the same, the month before"},
		{"nrr_month_pct", 100 * m->nrr, 2, "%", m_nrr},
		{"revenue_at_risk", m->revenue_at_risk, 2, cur,
		 "future value of live subscribers x P(not renewing next) (value profitability's value_at_risk)"},
		{"nps_90d", m->nps, 1, "points", "% promoters - % detractors, last 90 days"},
		{"nps_responses_90d", (double)m->nps_responses, 0, "answers", "NPS answers, last 90 days"},
		{"reactivated", (double)m->reactivated, 0, "customers", "customers who subscribed more than once"},
		{"exit_answers", (double)m->exit_answers, 0, "answers", "exit-survey answers"},
		{"events", (double)m->events, 0, "events", "app events (sessions, purchases, ...)"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tn_out_str(t, rows[i].name);
		tn_out_num(t, rows[i].v, rows[i].digits);
		tn_out_str(t, rows[i].unit);
		tn_out_str(t, rows[i].meaning);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

int cmd_summary(cli_ctx *ctx, int argc, char **argv)
{
	tn_time as_of = TN_NO_TIME;
	const char *v;
	for (int i = 1; i < argc; i++) {
		int rc;
		if (cli_is_help(argv[i])) {
			printf("usage: tenure summary [--as-of DATE]\n\n"
			       "The headline figures: customers, active (paying + trialing), MRR, this month's\n"
			       "churn rate and last month's, net revenue retention, revenue at risk, NPS of the\n"
			       "last 90 days, reactivations, exit answers and events.  Counts and MRR are the\n"
			       "last period of `tenure churn rate` for the same as-of; the report's headline\n"
			       "box shows the same figures.\n"
			       "--as-of DATE  as of the end of this day (default: the data's last day)\n"
			       "Definitions: docs/metrics.md.  For churn by period, plan or cohort: tenure churn rate.\n");
			return 0;
		}
		if ((rc = cli_opt(argc, argv, &i, "--as-of", &v)) != 0) {
			if (rc < 0)
				return 2;
			if (tn_as_of_parse(v, strlen(v), &as_of))
				return cli_usage_error("summary", "--as-of: expected a date, found \"%s\"", v);
		} else {
			return cli_usage_error("summary", "unexpected argument \"%s\"", argv[i]);
		}
	}
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_summary m;
	int rc = tn_summary_get(s, as_of, &m, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	print_summary(ctx, &m);
	return 0;
}

static void demo_progress(void *ud, double done, double total)
{
	cli_progress(ud, "demo", done, total);
}

int cmd_demo(cli_ctx *ctx, int argc, char **argv)
{
	tn_demo_opts o;
	tn_demo_defaults(&o);
	int force = 0;
	long store_customers = -1; /* default: 1% of --customers on each store */
	const char *v;
	for (int i = 1; i < argc; i++) {
		int rc;
		long n;
		if (cli_is_help(argv[i])) {
			printf("usage: tenure demo [--customers N] [--months M] [--seed S] [--end DATE] [--force]\n"
			       "                   [--store-customers N]\n\n"
			       "Generate the demo company -- Pulse, a fitness app sold by subscription -- into\n"
			       "demo.db (or --db FILE) and print a first summary.  The data are synthetic and\n"
			       "deterministic, with planted effects listed in docs/demo.md.\n\n"
			       "  --customers N  customers (default 50000)\n"
			       "  --months M     months of history (default 18)\n"
			       "  --seed S       random seed (default 42)\n"
			       "  --end DATE     the data's last day (default 2026-10-31)\n"
			       "  --force        replace an existing file\n"
			       "  --store-customers N  also N App Store, N Google Play and N Stripe subscribers whose\n"
			       "                 signed notifications go through the sources, with planted voluntary\n"
			       "                 and involuntary churn (docs/sources.md; default 1%% of --customers\n"
			       "                 each, 0 for none)\n");
			return 0;
		}
		if ((rc = cli_opt(argc, argv, &i, "--customers", &v)) != 0) {
			if (rc < 0 || cli_parse_range("demo", "--customers", v, 1, 100000000, &n))
				return 2;
			o.customers = n;
		} else if ((rc = cli_opt(argc, argv, &i, "--months", &v)) != 0) {
			if (rc < 0 || cli_parse_range("demo", "--months", v, 1, 240, &n))
				return 2;
			o.months = (int)n;
		} else if ((rc = cli_opt(argc, argv, &i, "--seed", &v)) != 0) {
			if (rc < 0 || cli_parse_long("demo", "--seed", v, &n))
				return 2;
			o.seed = (unsigned long long)n;
		} else if ((rc = cli_opt(argc, argv, &i, "--end", &v)) != 0) {
			if (rc < 0)
				return 2;
			if (tn_time_parse(v, strlen(v), &o.end))
				return cli_usage_error("demo", "--end: expected a date, found \"%s\"", v);
		} else if ((rc = cli_opt(argc, argv, &i, "--store-customers", &v)) != 0) {
			if (rc < 0 || cli_parse_range("demo", "--store-customers", v, 0, 100000, &store_customers))
				return 2;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = 1;
		} else {
			return cli_usage_error("demo", "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (store_customers < 0)
		store_customers = o.customers / 100 > 100000 ? 100000 : (long)(o.customers / 100);
	const char *path = ctx->db_given ? ctx->db_path : "demo.db";
	int is_url = strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0;
	if (!is_url && access(path, F_OK) == 0) {
		if (!force) {
			fprintf(stderr, "tenure: %s exists; give --force to replace it, or another --db\n", path);
			return 1;
		}
		if (remove(path) != 0) {
			fprintf(stderr, "tenure: %s: cannot remove it\n", path);
			return 1;
		}
		char j[4096];
		snprintf(j, sizeof j, "%s-journal", path);
		remove(j);
	}
	o.on_progress = demo_progress;
	o.ud = ctx;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(path, TN_STORE_CREATE, &s, &err))
		return cli_fail(&err);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tn_demo_result res;
	int rc = tn_demo_generate(s, &o, &res, &err);
	long long notes = 0;
	if (rc == TN_OK && store_customers > 0)
		rc = tn_demo_sources(s, store_customers, o.end, o.months, o.seed, &notes, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cli_progress_done(ctx);
	if (rc) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr,
		"demo company written to %s in %.1f s: %lld customers, %lld subscriptions, %lld events, "
		"%lld payments, %lld feedback answers\n",
		tn_store_path(s), secs, res.customers, res.subscriptions, res.events, res.payments, res.feedback);
	if (notes)
		fprintf(stderr, "store customers: %ld each on the App Store, Google Play and Stripe, %lld signed notifications\n",
			store_customers, notes);
	tn_summary m;
	rc = tn_summary_get(s, TN_NO_TIME, &m, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	print_summary(ctx, &m);
	if (ctx->format == OUT_TABLE)
		printf("\nNext: tenure --db %s summary | churn rate | survival | drivers  (tenure help)\n",
		       is_url ? "URL" : path);
	return 0;
}
