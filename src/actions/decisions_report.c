/*
 * decisions_report.c -- what the in-app decisions did: save rate of the
 * customers offered against the holdout group with the Newcombe interval,
 * customers and revenue kept, cost per customer kept, by offer and moment;
 * and the Beta posterior of each offer's acceptance (decide.h).
 */
#include "tenure/decide.h"
#include "base/alloc.h"
#include "store/db.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the regularised incomplete beta function and its inverse ----------------- */

/* Continued fraction for I_x(a, b) (Lentz's method; Press et al., Numerical
 * Recipes, 3rd ed., section 6.4). */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 300; m++) {
		int m2 = 2 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return h;
}

static double ibeta(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1) / (a + b + 2))
		return exp(lbt) * betacf(a, b, x) / a;
	return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

/* The P-quantile of Beta(a, b) by bisection (monotone, 60 halvings: 1e-18). */
static double qbeta(double p, double a, double b)
{
	double lo = 0, hi = 1;
	for (int i = 0; i < 60; i++) {
		double mid = 0.5 * (lo + hi);
		if (ibeta(a, b, mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

void tn_beta_posterior(double a, double b, double level, double *mean, double *lo, double *hi)
{
	*mean = a / (a + b);
	*lo = qbeta((1 - level) / 2, a, b);
	*hi = qbeta(1 - (1 - level) / 2, a, b);
}

/* ---- the report ------------------------------------------------------------------ */

int tn_decisions_count(tn_store *s, long *n, tn_error *err)
{
	*n = 0;
	tn_stmt *q = tn_db_prepare(s, "SELECT COUNT(*) FROM decisions", err);
	if (!q || tn_db_step_row(q, "counting decisions", err)) {
		tn_db_finalize(q);
		return tn_error_code(err, TN_ERR_DB);
	}
	*n = (long)tn_db_column_int64(q, 0);
	tn_db_finalize(q);
	return TN_OK;
}

#define KEPT                                                                                                      \
	"(CASE WHEN NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = d.customer_id"                    \
	" AND s.cancelled_at >= d.decided_at) AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id ="        \
	" d.customer_id AND s.status IN ('trialing','active','past_due')) THEN 1 ELSE 0 END)"

static const char SQL_TREATED[] =
	"SELECT o.name, d.moment, COUNT(*), SUM(" KEPT "),"
	" SUM(CASE WHEN d.outcome = 'accepted' THEN 1 ELSE 0 END),"
	" SUM(CASE WHEN d.outcome = 'declined' THEN 1 ELSE 0 END),"
	" SUM(CASE WHEN d.outcome = 'accepted' THEN d.cost ELSE 0 END), SUM(COALESCE(d.value, 0)),"
	" o.uplift_prior, o.prior_weight"
	" FROM decisions d JOIN offer_catalogue o ON o.id = d.offer_id WHERE d.holdout = 0"
	" GROUP BY o.id, o.name, d.moment, o.uplift_prior, o.prior_weight ORDER BY d.moment, o.name";
static const char SQL_HOLDOUT[] =
	"SELECT d.moment, COUNT(*), SUM(" KEPT ") FROM decisions d WHERE d.holdout = 1 GROUP BY d.moment";

typedef struct acc {
	long n, kept, acc, dec;
	double cost, value;
} acc;

static void finish_row(tn_decision_report_row *r, const acc *t, long hn, long hk, double value_sum)
{
	r->treated = t->n;
	r->treated_kept = t->kept;
	r->accepted = t->acc;
	r->declined = t->dec;
	r->holdout = hn;
	r->holdout_kept = hk;
	r->cost = t->cost;
	tn_prop_diff_newcombe(t->kept, t->n, hk, hn, 1.959963984540054, &r->save);
	double mean_value = t->n ? value_sum / (double)t->n : NAN;
	r->customers_kept = isnan(r->save.diff) ? NAN : r->save.diff * (double)t->n;
	r->revenue_kept = r->customers_kept * mean_value;
	r->cost_per_kept = r->customers_kept > 0 ? t->cost / r->customers_kept : NAN;
}

int tn_decisions_report(tn_store *s, tn_decision_report_row **rows, size_t *n, tn_error *err)
{
	*rows = NULL;
	*n = 0;
	long hn[TN_MOMENT_COUNT] = {0}, hk[TN_MOMENT_COUNT] = {0};
	tn_stmt *q = tn_db_prepare(s, SQL_HOLDOUT, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	while ((rc = tn_db_step(q, "reading decisions", err)) == TN_DB_ROW) {
		int m = tn_moment_parse(tn_db_column_text(q, 0));
		if (m >= 0) {
			hn[m] = (long)tn_db_column_int64(q, 1);
			hk[m] = (long)tn_db_column_int64(q, 2);
		}
	}
	tn_db_finalize(q);
	if (rc != TN_DB_DONE)
		return rc;
	if (!(q = tn_db_prepare(s, SQL_TREATED, err)))
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	tn_decision_report_row *v = NULL;
	acc tot[TN_MOMENT_COUNT];
	double totv[TN_MOMENT_COUNT] = {0};
	memset(tot, 0, sizeof tot);
	while ((rc = tn_db_step(q, "reading decisions", err)) == TN_DB_ROW) {
		int m = tn_moment_parse(tn_db_column_text(q, 1));
		if (m < 0)
			continue;
		if (*n + TN_MOMENT_COUNT + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 32;
			tn_decision_report_row *g = tn_realloc(v, nc * sizeof *g);
			if (!g) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			v = g;
			cap = nc;
		}
		tn_decision_report_row *r = &v[(*n)++];
		memset(r, 0, sizeof *r);
		const char *name = tn_db_column_text(q, 0);
		snprintf(r->offer, sizeof r->offer, "%s", name ? name : "");
		snprintf(r->moment, sizeof r->moment, "%s", tn_moment_name(m));
		acc a = {(long)tn_db_column_int64(q, 2), (long)tn_db_column_int64(q, 3), (long)tn_db_column_int64(q, 4),
			 (long)tn_db_column_int64(q, 5), tn_db_column_double(q, 6), 0};
		double vs = tn_db_column_double(q, 7);
		finish_row(r, &a, hn[m], hk[m], vs);
		double prior = tn_db_column_double(q, 8), w = tn_db_column_double(q, 9);
		tn_beta_posterior(prior * w + (double)a.acc, (1 - prior) * w + (double)a.dec, 0.95, &r->accept_mean,
				  &r->accept_lo, &r->accept_hi);
		tot[m].n += a.n;
		tot[m].kept += a.kept;
		tot[m].acc += a.acc;
		tot[m].dec += a.dec;
		tot[m].cost += a.cost;
		totv[m] += vs;
	}
	tn_db_finalize(q);
	if (rc != TN_DB_DONE) {
		free(v);
		*n = 0;
		return rc;
	}
	/* a total per moment with decisions */
	for (int m = 0; m < TN_MOMENT_COUNT; m++) {
		if (!tot[m].n && !hn[m])
			continue;
		if (*n >= cap) {
			size_t nc = cap ? cap * 2 : 8;
			tn_decision_report_row *g = tn_realloc(v, nc * sizeof *g);
			if (!g) {
				free(v);
				*n = 0;
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			}
			v = g;
			cap = nc;
		}
		tn_decision_report_row *r = &v[(*n)++];
		memset(r, 0, sizeof *r);
		snprintf(r->offer, sizeof r->offer, "all");
		snprintf(r->moment, sizeof r->moment, "%s", tn_moment_name(m));
		finish_row(r, &tot[m], hn[m], hk[m], totv[m]);
		/* the offers' posteriors have their own priors, which do not pool:
		 * the moment's acceptance is the share accepted of the outcomes
		 * recorded, with the Wilson score interval -- the interval the save
		 * columns' Newcombe difference is built from (decide.h) */
		long nd = tot[m].acc + tot[m].dec;
		r->accept_mean = nd ? (double)tot[m].acc / (double)nd : NAN;
		tn_wilson_interval(tot[m].acc, nd, 1.959963984540054, &r->accept_lo, &r->accept_hi);
	}
	*rows = v;
	return TN_OK;
}
