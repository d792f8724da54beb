/*
 * cmd_feedback_store.c -- the `tenure feedback` subcommands that read the
 * store: classify (without --csv), scores, impact, matrix, effort, fixed and
 * follow-up.  Each opens the store, calls libtenure, prints a table.
 */
#include "feedback_cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void fmt_time(double t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define END_OPTS {NULL, 0, NULL, 0, 0, NULL}

/* Parse "[--model FILE] [--rules FILE]", and "[--definition NAME]" when DEFN
 * is not NULL, for subcommand argv[0]; --help prints HELP (NULL: a short
 * usage).  Returns -1 to go on, else the exit status (cli_parse). */
static int model_opts(int argc, char **argv, const char *help, const char **model, const char **rules,
		      const char **defn)
{
	char cmd[64], usage[160];
	snprintf(cmd, sizeof cmd, "feedback %s", argv[0]);
	snprintf(usage, sizeof usage,
		 "usage: tenure feedback %s [--model FILE] [--rules FILE]\n"
		 "(see `tenure feedback --help` and docs/feedback.md)\n",
		 argv[0]);
	cli_option opts[] = {
		{"--model", CLI_STR, model, 0, 0, NULL},
		{"--rules", CLI_STR, rules, 0, 0, NULL},
		{"--definition", CLI_STR, defn, 0, 0, NULL},
		END_OPTS,
	};
	if (!defn)
		opts[2] = (cli_option)END_OPTS;
	return cli_parse(cmd, help ? help : usage, opts, argc, argv, NULL, 0, NULL);
}

/* Open the store and label new text answers with the model from the options. */
static int open_labelled(cli_ctx *ctx, const char *model, const char *rules, int relabel, tn_fb_model *given,
			 tn_store **s)
{
	tn_error err = {0};
	int status = 0;
	if (tn_store_open(ctx->db_path, 0, s, &err))
		return cli_fail(&err);
	tn_fb_model *m = given ? given : fbcli_model(model, rules, &status);
	if (!m) {
		tn_store_close(*s);
		return status;
	}
	size_t n = 0;
	if (tn_fb_label_store(*s, m, relabel, &n, &err))
		status = cli_fail(&err);
	else if (!ctx->quiet && n)
		fprintf(stderr, "labelled %zu feedback answers\n", n);
	if (!given)
		tn_fb_model_free(m);
	if (status)
		tn_store_close(*s);
	return status;
}

int fbcli_classify_store(cli_ctx *ctx, tn_fb_model *m, int relabel, int export)
{
	tn_store *s;
	int st = open_labelled(ctx, NULL, NULL, relabel, m, &s);
	if (st)
		return st;
	tn_error err = {0};
	tn_fb_row *rows;
	size_t n;
	if (tn_fb_labels_store(s, &rows, &n, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	if (export) { /* three columns: the answer as given, its theme and type */
		const char *xc[] = {"verbatim", "theme", "type"};
		tn_out *x = tn_out_new(3, xc);
		for (size_t i = 0; i < n; i++) {
			tn_out_str(x, rows[i].text);
			tn_out_str(x, rows[i].period);
			tn_out_str(x, rows[i].segment);
		}
		tn_out_print(x, ctx->format, stdout);
		tn_out_free(x);
		free(rows);
		tn_store_close(s);
		return 0;
	}
	const char *cols[] = {"customer", "given_at", "kind", "type", "theme", "language", "confidence", "answer"};
	tn_out *t = tn_out_new(8, cols);
	for (size_t i = 0; i < n; i++) {
		char when[32];
		fmt_time(rows[i].extra, when, sizeof when);
		tn_out_str(t, rows[i].metric);
		tn_out_str(t, when);
		tn_out_str(t, rows[i].kind);
		tn_out_str(t, rows[i].segment);
		tn_out_str(t, rows[i].period);
		tn_out_str(t, rows[i].language);
		tn_out_num(t, rows[i].value, 2);
		tn_out_str(t, rows[i].text);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(rows);
	tn_store_close(s);
	return 0;
}

int fbcli_scores(cli_ctx *ctx, int argc, char **argv)
{
	const char *by = NULL, *period = NULL;
	static const char help[] =
		"usage: tenure feedback scores [--by ATTR] [--period week|month|quarter|year]\n\n"
		"NPS (promoters 9-10 minus detractors 0-6, in points, 95% CI from the variance of\n"
		"the difference of the two shares), CSAT (% of 4-5 on 1-5, Wilson CI), CES (mean\n"
		"on 1-7, normal CI), response counts, and fixed-choice custom questions as\n"
		"QUESTION=ANSWER shares -- overall, per ATTR segment (country, channel, plan or a\n"
		"key of the customer attrs, e.g. device), per period, and churned vs stayed.\n";
	const cli_option opts[] = {{"--by", CLI_STR, &by, 0, 0, NULL}, {"--period", CLI_STR, &period, 0, 0, NULL},
				   END_OPTS};
	int st = cli_parse("feedback scores", help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_fb_row *rows;
	size_t n;
	if (tn_fb_scores_store(s, by, period, &rows, &n, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	const char *cols[] = {"segment", "period", "metric", "n", "value", "ci_low", "ci_high"};
	tn_out *t = tn_out_new(7, cols);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, rows[i].segment);
		tn_out_str(t, rows[i].period);
		tn_out_str(t, rows[i].metric);
		tn_out_int(t, (long long)rows[i].n);
		tn_out_num(t, rows[i].value, strcmp(rows[i].metric, "responses") == 0 ? 0 : 2);
		tn_out_num(t, rows[i].lo, 2);
		tn_out_num(t, rows[i].hi, 2);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(rows);
	tn_store_close(s);
	return 0;
}

int fbcli_impact(cli_ctx *ctx, int argc, char **argv)
{
	const char *model = NULL, *rules = NULL, *defn = NULL, *table = NULL;
	static const char help[] =
		"usage: tenure feedback impact [--definition NAME] [--table impact|exit-reasons]\n"
		"                              [--model FILE] [--rules FILE]\n\n"
		"Two tables.  \"Complaints and churn\": for each feedback type and theme raised\n"
		"outside exit surveys, customers affected, their churn rate against the rest, the\n"
		"lift, the hazard ratio (Cox, Efron ties, on the time to churn under churn definition\n"
		"NAME, default cancelled) with its 95% interval, and the revenue they brought.\n"
		"\"Why leavers say they left\": exit-survey reasons ranked, with Wilson intervals.\n"
		"A table shows both, titled; --format json gives {\"impact\": [...], \"exit_reasons\":\n"
		"[...]}; --format csv gives one table per run: --table impact (the default) or\n"
		"--table exit-reasons.  See docs/feedback.md.\n";
	const cli_option opts[] = {
		{"--model", CLI_STR, &model, 0, 0, NULL},
		{"--rules", CLI_STR, &rules, 0, 0, NULL},
		{"--definition", CLI_STR, &defn, 0, 0, NULL},
		{"--table", CLI_STR, &table, 0, 0, NULL},
		END_OPTS,
	};
	int status = cli_parse("feedback impact", help, opts, argc, argv, NULL, 0, NULL);
	if (status >= 0)
		return status;
	status = 0;
	if (table && strcmp(table, "impact") != 0 && strcmp(table, "exit-reasons") != 0)
		return cli_usage_error("feedback", "impact: --table: expected impact or exit-reasons, found \"%s\"",
				       table);
	tn_store *s;
	if ((status = open_labelled(ctx, model, rules, 0, NULL, &s)) != 0)
		return status;
	tn_error err = {0};
	tn_fb_row *rows = NULL, *ex = NULL;
	size_t n = 0, nx = 0;
	if (tn_fb_impact_store(s, &rows, &n, &err) || tn_fb_exit_reasons_store(s, &ex, &nx, &err)) {
		free(rows);
		tn_store_close(s);
		return cli_fail(&err);
	}
	double *hr = calloc(n ? 3 * n : 1, sizeof *hr);
	tn_churn_def def;
	if (!hr || tn_churn_def_load(s, defn, &def, &err) ||
	    tn_fb_impact_hazard(s, &def, rows, n, hr, hr + n, hr + 2 * n, &err)) {
		free(hr);
		free(rows);
		free(ex);
		tn_store_close(s);
		return err.code ? cli_fail(&err) : 1;
	}
	const char *cols[] = {"type", "theme", "customers", "churned", "churn_rate", "rest_churn_rate", "lift",
			      "hazard_ratio", "hr_low", "hr_high", "revenue"};
	tn_out *t = tn_out_new(11, cols);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, rows[i].segment);
		tn_out_str(t, rows[i].period);
		tn_out_int(t, (long long)rows[i].n);
		tn_out_int(t, (long long)rows[i].extra);
		tn_out_num(t, rows[i].value, 3);
		tn_out_num(t, rows[i].lo, 3);
		tn_out_num(t, rows[i].lo > 0 ? rows[i].value / rows[i].lo : NAN, 2);
		tn_out_num(t, hr[i], 2);
		tn_out_num(t, hr[n + i], 2);
		tn_out_num(t, hr[2 * n + i], 2);
		tn_out_num(t, rows[i].hi, 2);
	}
	free(hr);
	const char *xcols[] = {"rank", "exit_reason_type", "exit_reason_theme", "answers", "share", "ci_low", "ci_high"};
	tn_out *x = tn_out_new(7, xcols);
	for (size_t i = 0; i < nx; i++) {
		tn_out_int(x, (long long)i + 1);
		tn_out_str(x, ex[i].segment);
		tn_out_str(x, ex[i].period);
		tn_out_int(x, (long long)ex[i].n);
		tn_out_num(x, ex[i].value, 3);
		tn_out_num(x, ex[i].lo, 3);
		tn_out_num(x, ex[i].hi, 3);
	}
	int want_x = table && strcmp(table, "exit-reasons") == 0, want_t = table && !want_x;
	if (ctx->format == OUT_JSON && !table) {
		/* one JSON document: {"impact": [...], "exit_reasons": [...]} */
		cJSON *root = cJSON_CreateObject();
		cJSON_AddItemToObject(root, "impact", tn_out_json(t));
		cJSON_AddItemToObject(root, "exit_reasons", tn_out_json(x));
		cli_print_json(root);
		cJSON_Delete(root);
	} else if (ctx->format == OUT_TABLE && !table) {
		fputs("Complaints and churn: customers who raised each type and theme against the rest\n\n", stdout);
		tn_out_print(t, ctx->format, stdout);
		fputs("\nWhy leavers say they left: exit-survey reasons, ranked (share with a 95% Wilson interval)\n\n",
		      stdout);
		tn_out_print(x, ctx->format, stdout);
	} else {
		/* CSV (or an explicit --table): one table per stream */
		tn_out_print(want_x ? x : t, ctx->format, stdout);
		if (!want_x && !want_t && !ctx->quiet)
			fputs("tenure: the impact table; the exit reasons: feedback impact --table exit-reasons\n",
			      stderr);
	}
	tn_out_free(t);
	tn_out_free(x);
	free(rows);
	free(ex);
	tn_store_close(s);
	return 0;
}

int fbcli_matrix(cli_ctx *ctx, int argc, char **argv)
{
	const char *model = NULL, *rules = NULL;
	int status = model_opts(argc, argv, NULL, &model, &rules, NULL);
	if (status >= 0)
		return status;
	tn_store *s;
	if ((status = open_labelled(ctx, model, rules, 0, NULL, &s)) != 0)
		return status;
	tn_error err = {0};
	tn_fb_row *rows;
	size_t n;
	if (tn_fb_matrix_store(s, &rows, &n, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	const char *cols[] = {"theme", "type", "customers", "churned", "churn_rate", "revenue", "impact", "effort",
			      "quadrant"};
	tn_out *t = tn_out_new(9, cols);
	for (size_t i = 0; i < n; i++) {
		tn_out_str(t, rows[i].period);
		tn_out_str(t, rows[i].segment);
		tn_out_int(t, (long long)rows[i].n);
		tn_out_int(t, (long long)rows[i].extra);
		tn_out_num(t, rows[i].value, 3);
		tn_out_num(t, rows[i].hi, 2);
		tn_out_str(t, rows[i].lo > 0 ? "high" : "low");
		tn_out_str(t, rows[i].metric[0] ? rows[i].metric : NULL);
		tn_out_str(t, rows[i].text);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(rows);
	tn_store_close(s);
	return 0;
}

int fbcli_effort(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && cli_is_help(argv[1])) {
		printf("usage: tenure feedback effort THEME low|high\n\n"
		       "Record the team's estimate of the effort to fix THEME (used by `feedback matrix`).\n");
		return 0;
	}
	if (argc != 3)
		return cli_usage_error("feedback", "effort: expected THEME and low or high");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_fb_set_effort(s, argv[1], argv[2], &err);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

int fbcli_fixed(cli_ctx *ctx, int argc, char **argv)
{
	int undo = 0;
	const char *theme = NULL;
	const cli_option opts[] = {{"--undo", CLI_FLAG, &undo, 0, 0, NULL}, END_OPTS};
	int st = cli_parse("feedback fixed", "usage: tenure feedback fixed THEME [--undo]\n\n"
					     "Mark THEME fixed now (--undo clears the mark); `feedback follow-up` then lists\n"
					     "the customers who raised it before the fix.\n",
			   opts, argc, argv, &theme, 1, NULL);
	if (st >= 0)
		return st;
	if (!theme)
		return cli_usage_error("feedback", "fixed: expected a THEME");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	int rc = tn_fb_set_fixed(s, theme, undo ? TN_NO_TIME : tn_now(), &err);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

int fbcli_follow_up(cli_ctx *ctx, int argc, char **argv)
{
	const char *theme = NULL;
	const cli_option opts[] = {{"--theme", CLI_STR, &theme, 0, 0, NULL}, END_OPTS};
	int st = cli_parse("feedback follow-up", "usage: tenure feedback follow-up [--theme THEME]\n\n"
						 "Customers who raised a theme marked fixed (before the fix), to tell them.\n",
			   opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_fb_row *rows;
	size_t n;
	if (tn_fb_follow_up_store(s, theme, &rows, &n, &err)) {
		tn_store_close(s);
		return cli_fail(&err);
	}
	const char *cols[] = {"customer", "theme", "type", "given_at", "churned", "answer"};
	tn_out *t = tn_out_new(6, cols);
	for (size_t i = 0; i < n; i++) {
		char when[32];
		fmt_time(rows[i].extra, when, sizeof when);
		tn_out_str(t, rows[i].metric);
		tn_out_str(t, rows[i].period);
		tn_out_str(t, rows[i].segment);
		tn_out_str(t, when);
		tn_out_str(t, rows[i].value > 0 ? "yes" : "no");
		tn_out_str(t, rows[i].text);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	free(rows);
	tn_store_close(s);
	return 0;
}
