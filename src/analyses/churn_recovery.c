/*
 * churn_recovery.c -- what the causes of churn teach a business: billing
 * recovery (failed payments that come back), trial-to-paid conversion,
 * refunds, churn after price increases, the involuntary share of churned
 * MRR, and the save window -- the days between "auto-renew off" and expiry,
 * in which a save offer can still work (churn.h, docs/churn.md).
 *
 * One churn scan with causes (subscriptions, their source state, spells)
 * under the built-in "cancelled" definition; the payments are merged in by
 * customer key through the SQL interface (db.h), so memory is one
 * customer's history plus the lists of days for the quantiles.
 */
#include "tenure/churn.h"
#include "base/alloc.h"
#include "store/db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 100000000

typedef struct dlist {
	double *v;
	size_t n, cap;
} dlist;

static int dpush(dlist *l, double x, tn_error *err)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 256;
		if (nc > MAX_DAYS)
			return tn_error_set(err, TN_ERR_NOMEM, "more than %d intervals", MAX_DAYS);
		double *v = tn_realloc(l->v, nc * sizeof *v);
		if (!v)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		l->v = v;
		l->cap = nc;
	}
	l->v[l->n++] = x;
	return TN_OK;
}

typedef struct rec {
	tn_churn_recovery *r;
	tn_stmt *pay;   /* customer_id, paid_at, status, amount (reporting currency) */
	int pay_live;
	int rc;         /* sticky error of the payments cursor */
	dlist recover, window;
	double paid_amount, refunded_amount;
} rec;

static int pay_step(rec *a, tn_error *err)
{
	int rc = tn_db_step(a->pay, "reading payments", err);
	if (rc == TN_DB_ROW) {
		a->pay_live = 1;
		return TN_OK;
	}
	a->pay_live = 0;
	if (rc == TN_DB_DONE)
		return TN_OK;
	return a->rc = rc;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* R's quantile(type = 7) of the sorted V. */
static double quantile7(const double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	size_t hi = lo + 1 < n ? lo + 1 : lo;
	return v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
}

static int customer(void *ud, const tn_churn_customer *c, tn_error *err)
{
	rec *a = ud;
	tn_churn_recovery *r = a->r;
	int open_sub = 0;
	for (size_t i = 0; i < c->nsubs; i++) {
		const tn_churn_sub *x = &c->subs[i];
		if (x->end == TN_NO_TIME)
			open_sub = 1;
		if (x->paid_from > x->start && x->paid_from <= r->as_of) { /* a trial that ended */
			r->trials_ended++;
			r->trials_converted += x->end == TN_NO_TIME || x->end > x->paid_from;
		}
		if (x->state && x->end == TN_NO_TIME &&
		    (strcmp(x->state, "grace") == 0 || strcmp(x->state, "billing_retry") == 0)) {
			if (x->state[0] == 'g')
				r->in_grace++;
			else
				r->in_billing_retry++;
			r->mrr_in_billing_issue += x->mrr;
		}
		if (x->state && strcmp(x->state, "refunded") == 0)
			r->subscriptions_refunded++;
		if (x->auto_renew_off_at != TN_NO_TIME) {
			tn_time exp = x->expires_at != TN_NO_TIME ? x->expires_at : x->end;
			if (exp != TN_NO_TIME && exp <= r->as_of) {
				double days = (double)(exp - x->auto_renew_off_at) / TN_DAY;
				if (days < 0)
					days = 0;
				if (dpush(&a->window, days, err))
					return TN_ERR_NOMEM;
			} else if (exp == TN_NO_TIME || exp > r->as_of) {
				r->window_open++;
				r->window_open_mrr += x->mrr;
			}
		}
	}
	for (size_t i = 0; i < c->nspells; i++) {
		const tn_churn_spell *sp = &c->spells[i];
		if (!sp->churned)
			continue;
		double m = tn_churn_mrr_at(c, sp->end - 1, 0);
		r->churned++;
		r->churned_mrr += m;
		if (sp->cause_class == TN_CAUSE_INVOLUNTARY) {
			r->churned_involuntary++;
			r->churned_mrr_involuntary += m;
		} else {
			r->churned_voluntary++;
		}
		if (sp->cause && strcmp(sp->cause, "price_increase") == 0) {
			r->churned_price_increase++;
			r->churned_mrr_price_increase += m;
		}
	}
	/* the payments of this customer, in time order */
	while (a->pay_live && tn_db_column_int64(a->pay, 0) < c->key)
		if (pay_step(a, err))
			return a->rc;
	tn_time failed_at = TN_NO_TIME; /* an open episode's first failure */
	for (; a->pay_live && tn_db_column_int64(a->pay, 0) == c->key; pay_step(a, err)) {
		tn_time at = tn_db_column_time(a->pay, 1);
		if (at > r->as_of)
			continue;
		const char *st = tn_db_column_text(a->pay, 2);
		double amount = tn_db_column_double(a->pay, 3);
		if (!st)
			continue;
		if (strcmp(st, "failed") == 0) {
			if (failed_at == TN_NO_TIME) {
				failed_at = at;
				r->episodes++;
			}
		} else if (strcmp(st, "succeeded") == 0) {
			r->payments_paid++;
			a->paid_amount += isnan(amount) ? 0 : amount;
			if (failed_at != TN_NO_TIME) {
				r->recovered++;
				r->revenue_recovered += isnan(amount) ? 0 : amount;
				if (dpush(&a->recover, (double)(at - failed_at) / TN_DAY, err))
					return TN_ERR_NOMEM;
				failed_at = TN_NO_TIME;
			}
		} else if (strcmp(st, "refunded") == 0) {
			r->payments_refunded++;
			a->refunded_amount += isnan(amount) ? 0 : amount;
		}
	}
	if (a->rc)
		return a->rc;
	if (failed_at != TN_NO_TIME) {
		if (open_sub)
			r->open++;
		else
			r->lost++;
	}
	return TN_OK;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

int tn_churn_recovery_compute(tn_store *s, tn_time as_of, tn_churn_recovery *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	rec a = {.r = out};
	tn_churn_def def;
	tn_churn_def_default(&def);
	int rc;
	if (as_of == TN_NO_TIME) {
		if ((rc = tn_churn_data_end(s, &as_of, err)))
			return rc;
		if (as_of == TN_NO_TIME)
			as_of = 0;
	}
	out->as_of = as_of;
	/* amounts in the reporting currency (currency.c), as the churn scan's prices */
	a.pay = tn_db_prepare(s,
			      "SELECT customer_id, paid_at, status, tn_money(amount, currency, paid_at) FROM payments "
			      "ORDER BY customer_id, paid_at, status, ext_id",
			      err);
	if (!a.pay)
		return tn_error_code(err, TN_ERR_DB);
	if ((rc = pay_step(&a, err)))
		goto out;
	tn_churn_scan_opts so = {.as_of = as_of, .want_causes = 1};
	if ((rc = tn_churn_scan(s, &def, &so, customer, &a, NULL, err)))
		goto out;
	if (a.recover.n) /* qsort's array must not be NULL, even for none */
		qsort(a.recover.v, a.recover.n, sizeof *a.recover.v, cmp_double);
	if (a.window.n)
		qsort(a.window.v, a.window.n, sizeof *a.window.v, cmp_double);
	out->recovery_rate = ratio((double)out->recovered, (double)(out->recovered + out->lost));
	out->days_to_recover_median = quantile7(a.recover.v, a.recover.n, 0.5);
	out->days_to_recover_p90 = quantile7(a.recover.v, a.recover.n, 0.9);
	double sum = 0;
	for (size_t i = 0; i < a.recover.n; i++)
		sum += a.recover.v[i];
	out->days_to_recover_mean = ratio(sum, (double)a.recover.n);
	out->trial_conversion = ratio((double)out->trials_converted, (double)out->trials_ended);
	out->refund_rate = ratio((double)out->payments_refunded, (double)(out->payments_paid + out->payments_refunded));
	out->refund_amount_rate = ratio(a.refunded_amount, a.paid_amount + a.refunded_amount);
	out->involuntary_mrr_share = ratio(out->churned_mrr_involuntary, out->churned_mrr);
	out->price_increase_share = ratio((double)out->churned_price_increase, (double)out->churned);
	size_t n = a.window.n;
	out->window_n = (long long)n;
	out->window_min = n ? a.window.v[0] : NAN;
	out->window_max = n ? a.window.v[n - 1] : NAN;
	out->window_p25 = quantile7(a.window.v, n, 0.25);
	out->window_median = quantile7(a.window.v, n, 0.5);
	out->window_p75 = quantile7(a.window.v, n, 0.75);
	out->window_p90 = quantile7(a.window.v, n, 0.9);
	sum = 0;
	static const double edges[TN_WINDOW_BINS - 1] = {1, 3, 7, 14, 30};
	for (size_t i = 0; i < n; i++) {
		sum += a.window.v[i];
		int b = 0;
		while (b < TN_WINDOW_BINS - 1 && a.window.v[i] >= edges[b])
			b++;
		out->window_bins[b]++;
	}
	out->window_mean = ratio(sum, (double)n);
out:
	tn_db_finalize(a.pay);
	free(a.recover.v);
	free(a.window.v);
	return rc;
}
