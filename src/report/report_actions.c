/*
 * report_actions.c -- the report's sections on acting to keep customers
 * (include/tenure/report.h, tn_report_actions): the latest retention-offer
 * plan against its control group, win-back campaigns with the cost per
 * customer won back, the loyalty ledger and points at risk, and churn by the
 * furthest onboarding milestone.  Each is a small table and one reading; a
 * section without data says which command fills it.
 */
#include "tenure/report.h"
#include "base/alloc.h"
#include "tenure/actions.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *tn_report_fmt(const char *f, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return tn_strdup(buf);
}

int tn_report_table_init(tn_report_table *t, const char *title, const char *const *cols, size_t nrows_max)
{
	memset(t, 0, sizeof *t);
	t->title = tn_strdup(title);
	while (cols[t->ncols])
		t->ncols++;
	t->cols = tn_calloc(t->ncols, sizeof *t->cols);
	t->cells = tn_calloc((nrows_max ? nrows_max : 1) * t->ncols, sizeof *t->cells);
	if (!t->title || !t->cols || !t->cells)
		return -1;
	for (size_t j = 0; j < t->ncols; j++)
		if (!(t->cols[j] = tn_strdup(cols[j])))
			return -1;
	return 0;
}

static char *pct(double p) { return isnan(p) ? tn_strdup("") : tn_report_fmt("%.1f%%", 100 * p); }
static char *money(double v)
{
	char b[64];
	return isnan(v) ? tn_strdup("") : tn_strdup(tn_report_money(v, NULL, b, sizeof b));
}

void tn_report_tables_free(tn_report_table *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].title);
		free(t[i].reading);
		for (size_t j = 0; j < t[i].ncols; j++)
			free(t[i].cols ? t[i].cols[j] : NULL);
		free(t[i].cols);
		for (size_t k = 0; t[i].cells && k < t[i].nrows * t[i].ncols; k++)
			free(t[i].cells[k]);
		free(t[i].cells);
	}
	free(t);
}

static int offers_table(tn_store *s, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"plan", "offered", "control", "churned (offered)", "churned (control)",
					   "kept by the offer", "95% interval", NULL};
	if (tn_report_table_init(t, "Retention offers", cols, 1))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_offer_effect e;
	tn_error e2 = {0};
	int rc = tn_offers_measure(s, 0, &e, &e2);
	if (rc && rc != TN_ERR_NOTFOUND) /* a failed read is not "no plan" */
		return tn_error_set(err, rc, "%s", e2.msg);
	if (rc || e.n_offer + e.n_control == 0) {
		t->reading = tn_strdup("No offer plan yet: `tenure offers plan` ranks customers by expected profit and "
				    "keeps a random control group, so the effect can be measured here.");
		return TN_OK;
	}
	char **c = t->cells;
	c[0] = tn_report_fmt("%lld", (long long)e.plan_id);
	c[1] = tn_report_fmt("%ld", e.n_offer);
	c[2] = tn_report_fmt("%ld", e.n_control);
	c[3] = pct(e.uplift.p2);
	c[4] = pct(e.uplift.p1);
	c[5] = tn_report_fmt("%+.1f points", 100 * e.uplift.diff);
	c[6] = tn_report_fmt("%+.1f to %+.1f", 100 * e.uplift.lo, 100 * e.uplift.hi);
	t->nrows = 1;
	t->reading = e.uplift.lo > 0
			     ? tn_report_fmt("Offers work: %.1f%% of offered customers left against %.1f%% of the control group.",
				   100 * e.uplift.p2, 100 * e.uplift.p1)
		     : e.uplift.hi < 0
			     ? tn_report_fmt("Offered customers left more often than the control group (%.1f%% vs %.1f%%): "
				   "rethink the offer.",
				   100 * e.uplift.p2, 100 * e.uplift.p1)
			     : tn_report_fmt("No measurable effect yet: %.1f%% of offered customers left against %.1f%% of the "
				   "control group (the interval includes zero).",
				   100 * e.uplift.p2, 100 * e.uplift.p1);
	return TN_OK;
}

static int winback_table(tn_store *s, tn_time now, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"campaign", "contacted", "reached", "won back", "revenue regained",
					   "cost", "cost per customer won back", "uplift vs control",
					   "cost per extra customer won", NULL};
	tn_winback_stats *st = NULL;
	size_t n = 0;
	int rc = tn_winback_report(s, NULL, 30, now, &st, &n, err);
	if (rc)
		return rc;
	if (tn_report_table_init(t, "Win-back campaigns", cols, n)) {
		tn_winback_stats_free(st, n);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t best = n, best_extra = n;
	double best_extra_cost = NAN;
	for (size_t i = 0; i < n; i++) {
		char **c = t->cells + i * t->ncols;
		c[0] = tn_strdup(st[i].campaign);
		c[1] = tn_report_fmt("%ld", st[i].contacted);
		c[2] = tn_report_fmt("%ld", st[i].reached);
		c[3] = tn_report_fmt("%ld", st[i].won);
		c[4] = money(st[i].revenue);
		c[5] = money(st[i].cost);
		c[6] = money(st[i].cost_per_win);
		c[7] = st[i].controls ? tn_report_fmt("%+.1f points (%+.1f to %+.1f)", 100 * st[i].uplift.diff,
					    100 * st[i].uplift.lo, 100 * st[i].uplift.hi)
				      : tn_strdup("no control group");
		/* what each customer won back *because of* the campaign cost: the
		 * uplift over the control group, when it is clearly above zero */
		c[8] = st[i].controls && st[i].uplift.lo > 0
			       ? money(st[i].cost / (st[i].uplift.diff * (double)st[i].contacted))
			       : tn_strdup("not measurable");
		if (!isnan(st[i].cost_per_win) && (best == n || st[i].cost_per_win < st[best].cost_per_win))
			best = i;
		double extra = st[i].controls && st[i].uplift.lo > 0
				       ? st[i].cost / (st[i].uplift.diff * (double)st[i].contacted)
				       : NAN;
		if (!isnan(extra) && (best_extra == n || extra < best_extra_cost))
			best_extra = i, best_extra_cost = extra;
	}
	t->nrows = n;
	if (n == 0)
		t->reading = tn_strdup("No win-back contacts yet: `tenure winback schedule` lists who to contact about 30 "
				    "days after they leave; `tenure winback record` or `import` logs each contact.");
	else if (best == n)
		t->reading = tn_strdup("No customer won back yet.");
	else if (best_extra < n)
		t->reading = tn_report_fmt("Campaign \"%s\" wins customers back beyond what its control group shows (%+.1f "
				 "points): %.2f per extra customer won back, %.2f per customer won back in all.",
				 st[best_extra].campaign, 100 * st[best_extra].uplift.diff, best_extra_cost,
				 st[best_extra].cost_per_win);
	else
		t->reading = tn_report_fmt("The cheapest way back is campaign \"%s\": %.2f per customer won back (%ld won of %ld "
				 "contacted).",
				 st[best].campaign, st[best].cost_per_win, st[best].won, st[best].contacted);
	tn_winback_stats_free(st, n);
	return TN_OK;
}

static int points_table(tn_store *s, tn_time now, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"ledger entries", "customers", "points outstanding", "ledger check",
					   "customers with points expiring in 30 days", "points expiring", NULL};
	if (tn_report_table_init(t, "Loyalty points", cols, 1))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_points_check ck;
	int rc = tn_points_check_run(s, &ck, err);
	if (rc)
		return rc;
	if (ck.entries == 0) {
		t->reading = tn_strdup("No loyalty points yet: `tenure points rule` sets how actions earn points, "
				    "`tenure points earn --from-events` credits them.");
		return TN_OK;
	}
	tn_rowset *risk = NULL;
	long n_risk = 0;
	double pts = 0;
	if ((rc = tn_points_at_risk(s, now, 30, NULL, 1.1, &risk, err)))
		return rc;
	if (risk) {
		size_t col = risk->ncols;
		for (size_t j = 0; j < risk->ncols; j++)
			if (strcmp(risk->names[j], "expiring") == 0)
				col = j;
		for (size_t i = 0; col < risk->ncols && i < risk->nrows; i++)
			if (risk->num[i * risk->ncols + col] > 0) {
				n_risk++;
				pts += risk->num[i * risk->ncols + col];
			}
	}
	tn_rowset_free(risk);
	int clean = !ck.mismatched_balance && !ck.mismatched_lots && !ck.negative && !ck.mismatched_fifo;
	char **c = t->cells;
	c[0] = tn_report_fmt("%lld", ck.entries);
	c[1] = tn_report_fmt("%lld", ck.customers);
	c[2] = tn_report_fmt("%lld", ck.outstanding);
	c[3] = tn_strdup(clean ? "balances = ledger" : "MISMATCH: run tenure points check");
	c[4] = tn_report_fmt("%ld", n_risk);
	c[5] = tn_report_fmt("%.0f", pts);
	t->nrows = 1;
	t->reading = n_risk ? tn_report_fmt("%ld customers will lose %.0f points in the next 30 days unless they use them: "
				  "remind them (`tenure points at-risk`).",
				  n_risk, pts)
			    : tn_report_fmt("%lld points outstanding across %lld customers; none expire in the next 30 days.",
				  ck.outstanding, ck.customers);
	return TN_OK;
}

static int journey_table(tn_store *s, tn_time now, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"furthest milestone", "customers", "churned", "churn rate", NULL};
	if (tn_report_table_init(t, "Onboarding journey: churn by furthest milestone", cols, TN_MS_COUNT + 1))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	char *types[TN_MS_COUNT] = {0};
	int mapped[TN_MS_COUNT] = {0}, any = 0;
	int rc = tn_journey_types(s, types, mapped, err);
	if (rc)
		return rc;
	for (int m = 0; m < TN_MS_COUNT; m++)
		any |= mapped[m];
	tn_journey_types_free(types);
	tn_journey *j = NULL;
	if (any && (rc = tn_journey_load(s, now, &j, err)))
		return rc;
	if (!any || j->n == 0) {
		tn_journey_free(j);
		t->reading = tn_strdup("No onboarding milestones mapped: `tenure journey map first_value EVENT_TYPE` "
				    "(and first_impression, intended_value, extended_value).");
		return TN_OK;
	}
	tn_journey_churn_row rows[TN_MS_COUNT + 1];
	tn_journey_churn(j, rows);
	tn_journey_free(j);
	for (int k = 0; k <= TN_MS_COUNT; k++) {
		char **c = t->cells + (size_t)k * t->ncols;
		c[0] = tn_strdup(rows[k].furthest < 0 ? "none" : tn_milestone_name(rows[k].furthest));
		c[1] = tn_report_fmt("%ld", rows[k].customers);
		c[2] = tn_report_fmt("%ld", rows[k].churned);
		c[3] = pct(rows[k].churn_rate);
	}
	t->nrows = TN_MS_COUNT + 1;
	const tn_journey_churn_row *lo = &rows[0], *hi = &rows[TN_MS_COUNT];
	t->reading = tn_report_fmt("Customers who reached no milestone churned at %.0f%%; those who reached %s, at %.0f%%: "
			 "help new customers to their first value.",
			 100 * lo->churn_rate, tn_milestone_name(hi->furthest), 100 * hi->churn_rate);
	return TN_OK;
}

int tn_report_actions(tn_store *s, tn_time now, tn_report_table **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_report_table *t = tn_calloc(4, sizeof *t);
	if (!t)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int rc = offers_table(s, &t[0], err);
	if (!rc)
		rc = winback_table(s, now, &t[1], err);
	if (!rc)
		rc = points_table(s, now, &t[2], err);
	if (!rc)
		rc = journey_table(s, now, &t[3], err);
	/* every cell is a string (fmt/tn_strdup): a NULL one is an allocation that failed */
	for (size_t i = 0; !rc && i < 4; i++)
		for (size_t k = 0; !rc && k < t[i].nrows * t[i].ncols; k++)
			if (!t[i].cells[k])
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (rc) {
		tn_report_tables_free(t, 4);
		return rc;
	}
	*out = t;
	*n = 4;
	return TN_OK;
}
