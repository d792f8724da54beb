/*
 * report_causes.c -- the report's section on why customers leave: churn
 * split into voluntary and involuntary (with the involuntary share of
 * churned MRR and churn after price increases), billing recovery, trial
 * conversion, refunds and the save window (tn_churn_recovery_compute,
 * docs/churn.md).  Two small tables with a reading each.
 */
#include "tenure/report.h"
#include "base/alloc.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *pct(double p) { return isnan(p) ? tn_strdup("") : tn_report_fmt("%.1f%%", 100 * p); }
static char *money(double v)
{
	char b[64];
	return isnan(v) ? tn_strdup("") : tn_strdup(tn_report_money(v, NULL, b, sizeof b));
}
static char *count(long long v) { return tn_report_fmt("%lld", v); }
static char *days(double d) { return isnan(d) ? tn_strdup("") : tn_report_fmt("%.1f", d); }

static int split_table(const tn_churn_recovery *r, tn_report_table *t)
{
	static const char *const cols[] = {"cause", "customers who left", "share", "churned MRR", "share of MRR",
					   NULL};
	if (tn_report_table_init(t, "Why customers leave: voluntary and involuntary churn", cols, 3))
		return -1;
	double vm = r->churned_mrr - r->churned_mrr_involuntary;
	char *cells[] = {
		tn_strdup("voluntary (cancelled, price increase, refund)"), count(r->churned_voluntary),
		pct(r->churned ? (double)r->churned_voluntary / (double)r->churned : NAN), money(vm),
		pct(r->churned_mrr > 0 ? vm / r->churned_mrr : NAN),
		tn_strdup("involuntary (payment failed, revoked, unavailable)"), count(r->churned_involuntary),
		pct(r->churned ? (double)r->churned_involuntary / (double)r->churned : NAN),
		money(r->churned_mrr_involuntary), pct(r->involuntary_mrr_share),
		tn_strdup("of which after a price increase"), count(r->churned_price_increase),
		pct(r->price_increase_share), money(r->churned_mrr_price_increase),
		pct(r->churned_mrr > 0 ? r->churned_mrr_price_increase / r->churned_mrr : NAN)};
	int bad = 0;
	for (size_t k = 0; k < sizeof cells / sizeof *cells; k++)
		bad |= !(t->cells[k] = cells[k]);
	t->nrows = 3;
	if (r->churned == 0)
		t->reading = tn_strdup("No churn yet under the built-in definition.");
	else
		t->reading = tn_report_fmt(
			"%.0f%% of the MRR lost left involuntarily -- customers who did not decide to go, mostly failed "
			"payments: dunning, card updates and grace periods win these back, not discounts. Competing "
			"risks by plan or source: `tenure survival --causes --by plan`.",
			100 * (isnan(r->involuntary_mrr_share) ? 0 : r->involuntary_mrr_share));
	return bad || !t->reading ? -1 : 0;
}

static int recovery_table(const tn_churn_recovery *r, tn_report_table *t)
{
	static const char *const cols[] = {"measure", "value", NULL};
	if (tn_report_table_init(t, "Billing recovery, trials, refunds and the save window", cols, 12))
		return -1;
	char *cells[] = {
		tn_strdup("failed-payment episodes (recovered / lost / open)"),
		tn_report_fmt("%lld (%lld / %lld / %lld)", r->episodes, r->recovered, r->lost, r->open),
		tn_strdup("recovery rate"), pct(r->recovery_rate),
		tn_strdup("days to recover (median)"), days(r->days_to_recover_median),
		tn_strdup("revenue recovered"), money(r->revenue_recovered),
		tn_strdup("in grace period or billing retry now (MRR)"),
		tn_report_fmt("%lld (%s)", r->in_grace + r->in_billing_retry, ""),
		tn_strdup("trial-to-paid conversion"), pct(r->trial_conversion),
		tn_strdup("refund rate (payments)"), pct(r->refund_rate),
		tn_strdup("save window: auto-renew off to expiry, median days"), days(r->window_median),
		tn_strdup("save window: quartiles (days)"),
		r->window_n ? tn_report_fmt("%.1f - %.1f", r->window_p25, r->window_p75) : tn_strdup(""),
		tn_strdup("save windows open now (MRR)"), tn_report_fmt("%lld", r->window_open),
	};
	/* the MRR figures with the currency formatting */
	size_t n = sizeof cells / sizeof *cells;
	int bad = 0;
	for (size_t k = 0; k < n; k++)
		bad |= !cells[k];
	if (!bad) {
		char b[64];
		free(cells[9]);
		cells[9] = tn_report_fmt("%lld (%s)", r->in_grace + r->in_billing_retry,
					 tn_report_money(r->mrr_in_billing_issue, NULL, b, sizeof b));
		free(cells[19]);
		cells[19] = tn_report_fmt("%lld (%s)", r->window_open,
					  tn_report_money(r->window_open_mrr, NULL, b, sizeof b));
	}
	for (size_t k = 0; k < n; k++)
		t->cells[k] = cells[k];
	t->nrows = n / 2;
	t->reading = r->window_n || r->window_open
			     ? tn_report_fmt("A customer who turns auto-renew off keeps the product until expiry: half "
					     "the windows last %.1f days or more -- the time a save offer still reaches "
					     "someone using the product (%lld open now).",
					     r->window_median, r->window_open)
			     : tn_strdup("No auto-renew-off dates yet: the store sources (App Store, Google Play, "
					 "Stripe, RevenueCat) or the import's cancelled_at before current_period_end "
					 "give them.");
	return bad || !t->reading || !t->cells[9] || !t->cells[19] ? -1 : 0;
}

int tn_report_causes(tn_store *s, tn_time as_of, tn_report_table **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_churn_recovery r;
	int rc = tn_churn_recovery_compute(s, as_of, &r, err);
	if (rc)
		return rc;
	tn_report_table *t = tn_calloc(2, sizeof *t);
	if (!t)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (split_table(&r, &t[0]) || recovery_table(&r, &t[1])) {
		tn_report_tables_free(t, 2);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	*out = t;
	*n = 2;
	return TN_OK;
}
