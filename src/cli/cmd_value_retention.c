/*
 * cmd_value_retention.c -- `tenure value retention`: the sBG retention model
 * per plan from the store's signup cohorts, and what each live subscriber is
 * worth (tn_value_retention).  --subscribers writes customer, p_churn, value:
 * the scores file `tenure offers plan --scores` takes.
 */
#include "cmd_value.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

static void help(void)
{
	printf("usage: tenure value retention [--definition NAME] [--as-of DATE] [--discount D] [--subscribers]\n\n"
	       "For a subscription business: fit the shifted-beta-geometric model (Fader & Hardie 2007) per\n"
	       "plan to the survivors of each signup-month cohort in the store, period by billing period, under\n"
	       "a churn definition (default cancelled).  Per plan: alpha, beta (with standard errors), the\n"
	       "share renewing at the next four decisions, and the expected lifetime value of a new subscriber\n"
	       "(price x E[payments], discounted).\n\n"
	       "  --definition NAME  churn definition (tenure churn list)\n"
	       "  --as-of DATE       as of the end of this day (default: the data's last day)\n"
	       "  --discount D       yearly discount rate (default 0.10), converted to each plan's period\n"
	       "  --subscribers      instead, one row per live subscriber: customer, plan, payments so far,\n"
	       "                     p_churn (not renewing at the next decision: 1 - r_n) and value (price x\n"
	       "                     discounted expected residual lifetime, Fader & Hardie 2010) -- with\n"
	       "                     --format csv, the --scores file of `tenure offers plan`\n"
	       "  --cohorts          instead, each signup-month cohort fitted alone: plan, cohort,\n"
	       "                     customers, whole periods observed, alpha, beta, loglik (empty when a\n"
	       "                     cohort alone cannot identify them)\n\n"
	       "--format json prints {\"warnings\": [...], \"plans\" (or \"subscribers\", \"cohorts\"): [...]}.\n"
	       "Warnings come first (on stderr with --format csv): a plan whose fit the data cannot identify\n"
	       "(fewer than 2 customers, every cohort observed for one period only, alpha or beta running off\n"
	       "to 0 or infinity, a standard error over 10 times its estimate) or that did not converge is\n"
	       "named; its numbers must not be used.  The exit status is 3 when no plan has a usable fit.\n");
}

int cmd_value_retention(cli_ctx *ctx, int argc, char **argv)
{
	const char *defn = NULL, *as_of_s = NULL, *disc_s = NULL;
	int subscribers = 0, cohorts = 0;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			help();
			return 0;
		}
		if (strcmp(argv[i], "--subscribers") == 0) {
			subscribers = 1;
			continue;
		}
		if (strcmp(argv[i], "--cohorts") == 0) {
			cohorts = 1;
			continue;
		}
		if ((r = cli_opt(argc, argv, &i, "--definition", &defn)) || (r = cli_opt(argc, argv, &i, "--as-of", &as_of_s)) ||
		    (r = cli_opt(argc, argv, &i, "--discount", &disc_s))) {
			if (r < 0)
				return 2;
			continue;
		}
		return cli_usage_error("value retention", "unexpected argument \"%s\"", argv[i]);
	}
	double disc = 0.10;
	if (disc_s && (cli_parse_double("value retention", "--discount", disc_s, &disc) || !(disc > 0)))
		return cli_usage_error("value retention", "--discount: expected a rate > 0, e.g. 0.10");
	tn_time as_of = TN_NO_TIME;
	if (as_of_s && tn_as_of_parse(as_of_s, strlen(as_of_s), &as_of))
		return cli_usage_error("value retention", "--as-of: expected a date, found \"%s\"", as_of_s);
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, &err))
		return cli_fail(&err);
	tn_churn_def def;
	tn_value_retention_result *r = NULL;
	int rc = tn_churn_def_load(s, defn, &def, &err);
	if (!rc)
		rc = tn_value_retention(s, &def, as_of, disc, &r, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	tn_warnings w = {0};
	tn_value_retention_warnings(r, &w);
	cli_warnings_print(ctx, &w);
	tn_out *t;
	const char *key;
	if (cohorts) {
		const char *cols[] = {"plan", "cohort", "customers", "periods", "alpha", "beta", "loglik"};
		key = "cohorts";
		t = tn_out_new(7, cols);
		for (size_t i = 0; i < r->ncohorts; i++) {
			const tn_value_cohort_fit *c = &r->cohorts[i];
			char m[16];
			snprintf(m, sizeof m, "%04d-%02d", c->year, c->month);
			tn_out_str(t, c->plan);
			tn_out_str(t, m);
			tn_out_int(t, (long long)c->customers);
			tn_out_int(t, c->periods);
			tn_out_num(t, c->alpha, 3);
			tn_out_num(t, c->beta, 3);
			tn_out_num(t, c->loglik, 1);
		}
	} else if (subscribers) {
		const char *cols[] = {"customer", "plan", "payments", "p_churn", "value"};
		key = "subscribers";
		t = tn_out_new(5, cols);
		for (size_t i = 0; i < r->nlive; i++) {
			const tn_value_live *l = &r->live[i];
			if (isnan(l->value))
				continue; /* a plan without a fit yet */
			tn_out_str(t, l->customer);
			tn_out_str(t, l->plan);
			tn_out_num(t, l->payments, 0);
			tn_out_num(t, l->p_churn, 4);
			tn_out_num(t, l->value, 2);
		}
	} else {
		const char *cols[] = {"plan",  "billing_period", "price", "customers", "cohorts", "alpha", "alpha_se",
				      "beta",  "beta_se", "renew_1", "renew_2", "renew_3", "renew_4", "lifetime_value",
				      "loglik"};
		key = "plans";
		t = tn_out_new(15, cols);
		for (size_t i = 0; i < r->nplans; i++) {
			const tn_value_plan_fit *f = &r->plans[i];
			tn_out_str(t, f->plan);
			tn_out_str(t, f->billing_period);
			tn_out_num(t, f->price, 2);
			tn_out_int(t, (long long)f->customers);
			tn_out_int(t, (long long)f->cohorts);
			tn_out_num(t, f->alpha, 3);
			tn_out_num(t, f->se[0], 3);
			tn_out_num(t, f->beta, 3);
			tn_out_num(t, f->se[1], 3);
			for (int k = 0; k < 4; k++)
				tn_out_num(t, isnan(f->alpha) ? NAN : f->retention[k], 3);
			tn_out_num(t, isnan(f->alpha) ? NAN : f->elv, 2);
			tn_out_num(t, f->loglik, 1);
		}
		if (ctx->format == OUT_TABLE) {
			char d[16];
			printf("Retention by plan (sBG on signup cohorts, as of %s; renew_k = share renewing at "
			       "decision k; lifetime_value = price x expected payments, discounted %g%%/year):\n",
			       tn_date_format(r->as_of, d, sizeof d), 100 * disc);
		}
	}
	if (ctx->format == OUT_JSON) { /* {"warnings": [...], "plans" | "subscribers" | "cohorts": [...]} */
		cJSON *root = cJSON_CreateObject();
		cli_warnings_json(root, &w);
		cJSON_AddItemToObject(root, key, tn_out_json(t));
		cli_print_json(root);
		cJSON_Delete(root);
	} else {
		tn_out_print(t, ctx->format, stdout);
	}
	tn_out_free(t);
	tn_value_retention_free(r);
	int status = cli_warnings_status(&w);
	tn_warnings_free(&w);
	return status;
}
