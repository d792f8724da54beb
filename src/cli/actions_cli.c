/*
 * actions_cli.c -- helpers shared by the action commands (actions_cli.h).
 */
#include "actions_cli.h"

#include <math.h>
#include <string.h>

int act_open(cli_ctx *ctx, tn_store **s)
{
	tn_error err = {0};
	if (tn_store_open(ctx->db_path, 0, s, &err))
		return cli_fail(&err);
	return 0;
}

int act_parse_open(cli_ctx *ctx, const char *cmd, const char *help, const cli_option *opts, int argc, char **argv,
		   tn_store **s)
{
	int parsed = cli_parse(cmd, help, opts, argc, argv, NULL, 0, NULL);
	if (parsed >= 0)
		return parsed;
	return act_open(ctx, s) ? 1 : -1;
}

int act_time(const char *cmd, const char *opt, const char *text, tn_time *out)
{
	if (tn_time_parse(text, strlen(text), out))
		return cli_usage_error(cmd, "%s: expected a date (YYYY-MM-DD), a date-time or Unix seconds, found \"%s\"",
				       opt, text);
	return 0;
}

int act_now(tn_store *s, const char *cmd, const char *text, tn_time *now)
{
	if (text)
		return act_time(cmd, "--now", text, now);
	tn_error err = {0};
	if (tn_actions_now(s, now, &err))
		return cli_fail(&err);
	return 0;
}

tn_scores *act_scores(cli_ctx *ctx, tn_store *s, const char *file, const char *risk, const char *value,
		      tn_time now)
{
	tn_error err = {0};
	tn_scores *sc = NULL;
	if (file && (risk || value)) {
		tn_error_set(&err, TN_ERR_USAGE, "give --scores FILE, or --risk FILE with --value FILE, not both");
		cli_fail(&err);
		return NULL;
	}
	if (!risk != !value) {
		tn_error_set(&err, TN_ERR_USAGE, "--risk FILE and --value FILE go together");
		cli_fail(&err);
		return NULL;
	}
	if (risk) {
		size_t nov = 0;
		if (tn_scores_read_pair(risk, value, &sc, &nov, &err) || tn_scores_attach(s, sc, &err)) {
			tn_scores_free(sc);
			cli_fail(&err);
			return NULL;
		}
		if (!ctx->quiet)
			fprintf(stderr, "tenure: P(churn) from %s, value from %s (%zu customers; %zu without a value: 0)\n",
				risk, value, sc->n, nov);
		return sc;
	}
	if (file) {
		if (tn_scores_read_csv(file, &sc, &err) || tn_scores_attach(s, sc, &err)) {
			tn_scores_free(sc);
			cli_fail(&err);
			return NULL;
		}
		if (!ctx->quiet)
			fprintf(stderr, "tenure: P(churn) and value from %s (%zu customers)\n", file, sc->n);
		return sc;
	}
	if (tn_scores_estimate(s, now, &sc, &err)) {
		cli_fail(&err);
		return NULL;
	}
	if (!ctx->quiet)
		fprintf(stderr,
			"tenure: no --scores file: using the built-in estimate of P(churn) and value from the store "
			"(plan churn rate and recent activity; see docs/actions.md) for %zu live customers\n",
			sc->n);
	return sc;
}

void act_print_rowset(cli_ctx *ctx, const tn_rowset *r)
{
	tn_out *t = tn_out_new(r->ncols, (const char *const *)r->names);
	for (size_t i = 0; i < r->nrows; i++)
		for (size_t c = 0; c < r->ncols; c++) {
			size_t k = i * r->ncols + c;
			if (r->digits[c] < 0)
				tn_out_str(t, r->text[k]);
			else if (r->digits[c] == 0 && !isnan(r->num[k]))
				tn_out_int(t, (long long)llround(r->num[k]));
			else
				tn_out_num(t, r->num[k], r->digits[c]);
		}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

const char *act_date(tn_time t, char *buf, size_t n)
{
	if (t == TN_NO_TIME) {
		buf[0] = '\0';
		return buf;
	}
	return tn_date_format(t, buf, n);
}
