/*
 * value_retention.c -- what a subscriber is worth, from the store: the
 * shifted-beta-geometric (sBG) model fitted per plan to the survivors of
 * each signup cohort, and per live subscriber the chance of not renewing at
 * the next decision and the discounted value of the renewals still to come.
 *
 * Each customer's first subscription spell (under a churn definition) is cut
 * into billing periods of its plan.  Customers are grouped into cohorts by
 * plan and signup month; a cohort's survivors at the start of periods
 * 0..K are counted over the periods every member has been observed for, and
 * the plan's alpha, beta maximise the sum of the cohorts' sBG
 * log-likelihoods (Fader & Hardie 2007, "How to project customer
 * retention", J. Interactive Marketing 21(1), eq. 5-7), a right-censored
 * version of the single-cohort fit.  Values: DERL (Fader & Hardie 2010,
 * Marketing Science 29(1), eq. 6) times the price per period.
 */
#include "tenure/value.h"
#include "base/alloc.h"
#include "tenure/churn.h"
#include "analyses/value_internal.h"
#include "tenure/warn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PERIODS 240

typedef struct cohort {
	int plan;         /* index into plans */
	int month;        /* signup month key: year * 12 + month */
	double alive[MAX_PERIODS + 1];
	int observed;     /* periods every member was observed for (min) */
	size_t n;
} cohort;

typedef struct live_row {
	char *customer;
	int plan;
	double payments;  /* renewal decisions made so far (periods started) */
} live_row;

typedef struct acc {
	tn_time as_of;
	tn_value_plan_fit *plans;
	size_t nplans;
	cohort *cohorts;
	size_t ncohorts, cap;
	live_row *live;
	size_t nlive, live_cap;
	int oom;
} acc;

static double period_days(const char *billing_period)
{
	return 365.25 / 12 * tn_period_months(billing_period);
}

static int plan_index(acc *a, const tn_churn_sub *sub)
{
	for (size_t i = 0; i < a->nplans; i++)
		if (strcmp(a->plans[i].plan, sub->plan) == 0)
			return (int)i;
	tn_value_plan_fit *p = tn_realloc(a->plans, (a->nplans + 1) * sizeof *p);
	if (!p)
		return -1;
	a->plans = p;
	memset(&p[a->nplans], 0, sizeof *p);
	p[a->nplans].plan = tn_strdup(sub->plan);
	p[a->nplans].billing_period = tn_strdup(sub->billing_period);
	if (!p[a->nplans].plan || !p[a->nplans].billing_period) {
		free(p[a->nplans].plan);
		free(p[a->nplans].billing_period);
		return -1;
	}
	p[a->nplans].price = sub->price;
	p[a->nplans].period_days = period_days(sub->billing_period);
	p[a->nplans].alpha = p[a->nplans].beta = p[a->nplans].loglik = NAN;
	return (int)a->nplans++;
}

static cohort *cohort_of(acc *a, int plan, int month)
{
	for (size_t i = 0; i < a->ncohorts; i++)
		if (a->cohorts[i].plan == plan && a->cohorts[i].month == month)
			return &a->cohorts[i];
	if (a->ncohorts == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		cohort *c = tn_realloc(a->cohorts, cap * sizeof *c);
		if (!c)
			return NULL;
		a->cohorts = c;
		a->cap = cap;
	}
	cohort *c = &a->cohorts[a->ncohorts++];
	memset(c, 0, sizeof *c);
	c->plan = plan;
	c->month = month;
	c->observed = MAX_PERIODS;
	return c;
}

static int on_customer(void *ud, const tn_churn_customer *c, tn_error *err)
{
	acc *a = ud;
	if (c->nspells == 0 || c->spells[0].sub < 0)
		return TN_OK;
	const tn_churn_spell *sp = &c->spells[0];
	const tn_churn_sub *sub = &c->subs[sp->sub];
	double pd = period_days(sub->billing_period);
	if (!(pd > 0))
		return TN_OK;
	int plan = plan_index(a, sub);
	int y, m, d;
	tn_civil_from_days(sp->start / TN_DAY, &y, &m, &d);
	cohort *co = plan < 0 ? NULL : cohort_of(a, plan, y * 12 + m - 1);
	if (!co)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	/* alive at the start of periods 0..k: k = the period the spell ended in
	 * (churned) or was last seen in (censored); observed for as long as the
	 * data run past the start */
	double t = (double)(sp->end - sp->start) / TN_DAY / pd;
	int k = (int)floor(t);
	int obs = (int)floor((double)(a->as_of - sp->start) / TN_DAY / pd);
	if (k > MAX_PERIODS)
		k = MAX_PERIODS;
	if (obs > MAX_PERIODS)
		obs = MAX_PERIODS;
	for (int j = 0; j <= k; j++)
		co->alive[j]++;
	if (obs < co->observed)
		co->observed = obs;
	co->n++;
	a->plans[plan].customers++;

	/* the live subscriber: the latest spell, when it is still open */
	const tn_churn_spell *last = &c->spells[c->nspells - 1];
	if (!last->churned && last->sub >= 0) {
		const tn_churn_sub *ls = &c->subs[last->sub];
		int lp = plan_index(a, ls);
		if (lp < 0)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		if (a->nlive == a->live_cap) {
			size_t cap = a->live_cap ? a->live_cap * 2 : 1024;
			live_row *r = tn_realloc(a->live, cap * sizeof *r);
			if (!r)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			a->live = r;
			a->live_cap = cap;
		}
		double lpd = period_days(ls->billing_period);
		double done = lpd > 0 ? floor((double)(a->as_of - last->start) / TN_DAY / lpd) + 1 : 1;
		char *id = tn_strdup(c->id);
		if (!id)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		a->live[a->nlive++] = (live_row){id, lp, done};
	}
	return TN_OK;
}

static int cmp_cohort(const void *a, const void *b)
{
	const tn_value_cohort_fit *x = a, *y = b;
	if (x->plan != y->plan) /* both point into one array: plan order */
		return x->plan < y->plan ? -1 : 1;
	int mx = x->year * 12 + x->month, my = y->year * 12 + y->month;
	return (mx > my) - (mx < my);
}

typedef struct pooled {
	const acc *a;
	int plan;
} pooled;

/* Minus the sum of the plan's cohort log-likelihoods, over log alpha, log beta. */
static double neg_ll(unsigned n, const double *theta, double *grad, void *data)
{
	(void)n;
	(void)grad;
	const pooled *p = data;
	double al = exp(theta[0]), be = exp(theta[1]), ll = 0;
	for (size_t i = 0; i < p->a->ncohorts; i++) {
		const cohort *c = &p->a->cohorts[i];
		if (c->plan != p->plan || c->observed < 1)
			continue;
		ll += tn_value_sbg_loglik(al, be, c->alive, (size_t)c->observed + 1);
	}
	return -ll;
}

static double pooled_ll(const double *par, void *data)
{
	double theta[2] = {log(par[0]), log(par[1])};
	return -neg_ll(2, theta, NULL, data);
}

void tn_value_retention_free(tn_value_retention_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nplans; i++) {
		free(r->plans[i].plan);
		free(r->plans[i].billing_period);
	}
	free(r->plans);
	free(r->cohorts);
	for (size_t i = 0; i < r->nlive; i++)
		free(r->live[i].customer);
	free(r->live);
	free(r);
}

int tn_value_retention_warnings(const tn_value_retention_result *r, tn_warnings *w)
{
	static const char *const names[2] = {"alpha", "beta"};
	static const int pair[3] = {0, 1, 1}; /* Beta(alpha, beta) */
	int rc = TN_OK;
	size_t fitted = 0, bad = 0;
	for (size_t i = 0; i < r->nplans; i++) {
		const tn_value_plan_fit *f = &r->plans[i];
		if (isnan(f->alpha))
			continue; /* not fitted: no cohort has lived a whole period yet */
		fitted++;
		int longest = 0; /* whole periods observed in the plan's longest cohort */
		for (size_t k = 0; k < r->ncohorts; k++)
			if (r->cohorts[k].plan == f->plan && r->cohorts[k].periods > longest)
				longest = r->cohorts[k].periods;
		char what[160];
		snprintf(what, sizeof what, "plan \"%s\" (%s)", f->plan, f->billing_period);
		double p[2] = {f->alpha, f->beta};
		tn_warnings one = {0};
		if (longest >= 2)
			rc |= tn_vo_warnings(&one, what, 2, names, p, f->se, pair, 1, f->converged, (double)f->customers,
					     2, "customer(s)");
		else /* the cause of the flat likelihood, rather than its symptoms */
			rc |= tn_warn(&one, 1,
				      "%s: every cohort was observed for %d whole period(s): only the first renewal rate "
				      "is identified, not alpha and beta, the later rates or the lifetime value",
				      what, longest);
		if (!isfinite(f->elv))
			rc |= tn_warn(&one, 1, "%s: the lifetime value cannot be computed at alpha = %.4g, beta = %.4g",
				      what, f->alpha, f->beta);
		/* one degenerate plan does not void the others: severe only when all are */
		bad += one.severe;
		for (size_t k = 0; k < one.n; k++)
			rc |= tn_warn(w, 0, "%s", one.msg[k]);
		tn_warnings_free(&one);
	}
	if (fitted && bad == fitted)
		w->severe = 1;
	return rc ? TN_ERR_NOMEM : TN_OK;
}

int tn_value_retention(tn_store *s, const tn_churn_def *def, tn_time as_of, double annual_discount,
		       tn_value_retention_result **out, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	*out = NULL;
	if (!(annual_discount > 0))
		return tn_error_set(err, TN_ERR_USAGE, "the discount rate must be > 0, found %g", annual_discount);
	acc a = {0};
	if (as_of == TN_NO_TIME && tn_churn_data_end(s, &as_of, err))
		return err->code;
	if (as_of == TN_NO_TIME)
		return tn_error_set(err, TN_ERR_INPUT, "the store holds no subscriptions yet");
	a.as_of = as_of;
	tn_churn_scan_opts so = {.as_of = as_of};
	int rc = tn_churn_scan(s, def, &so, on_customer, &a, NULL, err);
	tn_value_retention_result *r = tn_calloc(1, sizeof *r);
	if (!r && rc == TN_OK)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (r) {
		r->plans = a.plans;
		r->nplans = a.nplans;
		r->as_of = a.as_of;
	}
	for (size_t p = 0; rc == TN_OK && p < a.nplans; p++) {
		tn_value_plan_fit *f = &a.plans[p];
		for (size_t i = 0; i < a.ncohorts; i++)
			if (a.cohorts[i].plan == (int)p && a.cohorts[i].observed >= 1)
				f->cohorts++;
		if (f->cohorts == 0)
			continue; /* no cohort has lived a whole period yet */
		pooled pd = {&a, (int)p};
		double theta[2] = {0, 0};
		int evals, conv = 0;
		if (tn_vo_minimize(neg_ll, &pd, 2, theta, 0, &evals, &conv) != 0)
			continue;
		f->alpha = exp(theta[0]);
		f->beta = exp(theta[1]);
		f->loglik = -neg_ll(2, theta, NULL, &pd);
		f->converged = conv;
		double par[2] = {f->alpha, f->beta};
		tn_vo_se(pooled_ll, &pd, 2, par, f->se);
		double d = pow(1 + annual_discount, tn_period_months(f->billing_period) / 12) - 1;
		for (int k = 0; k < 4; k++)
			f->retention[k] = tn_value_sbg_retention(f->alpha, f->beta, k + 1);
		f->elv = f->price * tn_value_sbg_elv(f->alpha, f->beta, d);
	}
	/* each cohort alone, as Fader & Hardie fit one cohort's survivors */
	if (r && rc == TN_OK) {
		r->cohorts = tn_calloc(a.ncohorts ? a.ncohorts : 1, sizeof *r->cohorts);
		if (!r->cohorts)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		for (size_t p = 0; rc == TN_OK && p < a.nplans; p++)
			for (size_t i = 0; i < a.ncohorts; i++) {
				const cohort *c = &a.cohorts[i];
				if (c->plan != (int)p)
					continue;
				tn_value_cohort_fit *cf = &r->cohorts[r->ncohorts++];
				cf->plan = a.plans[p].plan;
				cf->year = c->month / 12;
				cf->month = c->month % 12 + 1;
				cf->customers = c->n;
				cf->periods = c->observed;
				cf->alpha = cf->beta = cf->loglik = NAN;
				tn_value_fit vf;
				tn_error ce = {0};
				if (c->observed >= 1 && tn_value_sbg_fit(c->alive, (size_t)c->observed + 1, &vf, &ce) == TN_OK) {
					cf->alpha = vf.params[0];
					cf->beta = vf.params[1];
					cf->loglik = vf.loglik;
				}
			}
	}
	if (r && rc == TN_OK)
		qsort(r->cohorts, r->ncohorts, sizeof *r->cohorts, cmp_cohort);
	if (r && rc == TN_OK) {
		r->live = tn_calloc(a.nlive ? a.nlive : 1, sizeof *r->live);
		if (!r->live)
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		for (size_t i = 0; rc == TN_OK && i < a.nlive; i++) {
			const tn_value_plan_fit *f = &a.plans[a.live[i].plan];
			tn_value_live *l = &r->live[r->nlive++];
			l->customer = a.live[i].customer;
			a.live[i].customer = NULL;
			l->plan = f->plan;
			l->payments = a.live[i].payments;
			double d = pow(1 + annual_discount, tn_period_months(f->billing_period) / 12) - 1;
			l->p_churn = isnan(f->alpha) ? NAN : 1 - tn_value_sbg_retention(f->alpha, f->beta, l->payments);
			l->value = isnan(f->alpha) ? NAN : f->price * tn_value_sbg_derl(f->alpha, f->beta, l->payments, d);
		}
	}
	for (size_t i = 0; i < a.nlive; i++)
		free(a.live[i].customer);
	free(a.live);
	free(a.cohorts);
	if (rc) {
		if (r)
			tn_value_retention_free(r);
		else {
			for (size_t i = 0; i < a.nplans; i++) {
				free(a.plans[i].plan);
				free(a.plans[i].billing_period);
			}
			free(a.plans);
		}
		return rc;
	}
	*out = r;
	return TN_OK;
}
