/*
 * survstore.c -- the store as a data source for `tenure survival` and
 * `tenure drivers`: one row per customer spell under a named churn
 * definition (tn_churn_frame), with columns time (days), event, plan,
 * channel, country, attr_*, reached_onboarding_complete, first_nps...
 */
#include "cli.h"
#include "survcli.h"

#include <stdio.h>
#include <string.h>

tn_frame *surv_store_frame(const cli_ctx *ctx, const char *definition, const char *as_of, int all_spells,
			   tn_error *err)
{
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME, .all_spells = all_spells};
	if (as_of && tn_as_of_parse(as_of, strlen(as_of), &fo.as_of)) {
		tn_error_set(err, TN_ERR_USAGE, "--as-of: expected a date, found \"%s\"", as_of);
		return NULL;
	}
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_READONLY, &s, err))
		return NULL;
	tn_churn_def def;
	tn_frame *f = NULL;
	if (tn_churn_def_load(s, definition, &def, err) == TN_OK)
		f = tn_churn_frame(s, &def, &fo, err);
	tn_store_close(s);
	return f;
}

const char *surv_p_text(double p, char *buf, size_t n)
{
	if (p < 1e-16)
		snprintf(buf, n, "p < 1e-16");
	else
		snprintf(buf, n, "p = %.3g", p);
	return buf;
}
