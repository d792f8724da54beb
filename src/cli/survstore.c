/*
 * survstore.c -- the store as a data source for `tenure survival` and
 * `tenure drivers`: one row per customer spell under a named churn
 * definition (tn_churn_frame), with columns time (days), event, plan,
 * channel, country, attr_*, reached_onboarding_complete, first_nps...
 */
#include "cli.h"
#include "survcli.h"

#include "base/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tn_frame *surv_store_frame(const cli_ctx *ctx, const char *definition, const char *as_of, int all_spells,
			   tn_error *err)
{
	return surv_store_frame_causes(ctx, definition, as_of, all_spells, 0, err);
}

const char *surv_cell_text(const tn_column *c, size_t r, char *buf, size_t n)
{
	if (!c->is_numeric)
		return c->text[r];
	if (isnan(c->num[r]))
		return "";
	snprintf(buf, n, "%.17g", c->num[r]);
	return buf;
}

int surv_is_censored_level(const char *v)
{
	return strcmp(v, "0") == 0 || strcmp(v, "censor") == 0 || strcmp(v, "censored") == 0;
}

int surv_add_cause_event(tn_frame *f, const char *status, const char *level, const char *name, tn_error *err)
{
	int j = tn_frame_find(f, status);
	if (j < 0)
		return tn_error_set(err, TN_ERR_INPUT, "%s: no column \"%s\" (the status)", f->path ? f->path : "",
				    status);
	tn_column *cols = tn_realloc(f->cols, (f->ncols + 1) * sizeof *cols);
	if (!cols)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	f->cols = cols;
	tn_column *c = &cols[f->ncols];
	memset(c, 0, sizeof *c);
	c->is_numeric = 1;
	c->name = tn_strdup(name);
	c->num = tn_malloc((f->nrows ? f->nrows : 1) * sizeof *c->num);
	if (!c->name || !c->num) {
		free(c->name);
		free(c->num);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	f->ncols++;
	/* a level given as a number matches a numeric column by value (2 and 2.0) */
	char *end;
	double lv = strtod(level, &end);
	int lnum = *level && !*end;
	for (size_t r = 0; r < f->nrows; r++) {
		const tn_column *s = &cols[j];
		char buf[40];
		const char *v = surv_cell_text(s, r, buf, sizeof buf);
		if (!*v) {
			c->num[r] = NAN;
			c->nblank++;
		} else if (s->is_numeric && lnum)
			c->num[r] = s->num[r] == lv;
		else
			c->num[r] = strcmp(v, level) == 0;
	}
	return TN_OK;
}

tn_frame *surv_store_frame_causes(const cli_ctx *ctx, const char *definition, const char *as_of, int all_spells,
				  int causes, tn_error *err)
{
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME, .all_spells = all_spells, .causes = causes};
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
