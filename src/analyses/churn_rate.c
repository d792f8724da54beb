/*
 * churn_rate.c -- churn rates, MRR movements and retention cohorts from one
 * scan of the store (definitions in docs/metrics.md).
 *
 * Customer counts follow the churn definition's spells: a spell covers the
 * instants (start, end] (censored spells stay alive past the as-of).  For a
 * period [a, b): customers_start = alive at a, new = first spells starting
 * in [a, b), reactivated = later spells starting in [a, b), churned = spells
 * churning in [a, b), customers_end = alive at b; so end = start + new +
 * reactivated - churned exactly.  MRR follows the subscriptions (a
 * subscription counts price / months of its billing period from the trial's
 * end until it ends); a customer's MRR at a and at b is compared: 0 -> >0 is
 * new (or reactivation when the customer paid before a), >0 -> 0 churned,
 * up expansion, down contraction (the period-snapshot form of ChartMogul's
 * MRR movements; Baremetrics defines NRR and revenue churn the same way).
 */
#include "tenure/churn.h"
#include "base/alloc.h"
#include "tenure/frame.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 10000
#define MAX_PERIODS 2400

typedef struct agg {
	const tn_churn_rate_opts *o;
	tn_time first;       /* earliest spell start seen (periods start at its period) */
	tn_time as_of;
	size_t nperiods;
	tn_time *bounds;     /* nperiods + 1 instants */
	char **groups;       /* whole group names (malloc'ed) */
	size_t ngroups;
	tn_churn_rate_row *rows; /* ngroups x nperiods */
	int def_class;       /* the definition's cause_class: churned MRR of that class only */
} agg;

static tn_time period_floor(tn_time t, int months)
{
	tn_time m = tn_month_start(t);
	int y, mo, d;
	tn_civil_from_days(m / TN_DAY - (m % TN_DAY < 0), &y, &mo, &d);
	int back = (mo - 1) % months;
	return tn_add_months(m, -back);
}

/* The group value of a customer: plan of its first subscription, channel,
 * country, or an attrs key (text or number). */
static char *group_of(const tn_churn_customer *c, const char *by)
{
	const char *v = NULL;
	if (!by)
		return tn_strdup("");
	if (strcmp(by, "plan") == 0)
		v = c->nsubs ? c->subs[0].plan : NULL;
	else if (strcmp(by, "source") == 0) /* of the first subscription (the scan wants causes) */
		v = c->nsubs ? c->subs[0].source : NULL;
	else if (strcmp(by, "channel") == 0)
		v = c->channel;
	else if (strcmp(by, "country") == 0)
		v = c->country;
	else {
		cJSON *o = cJSON_Parse(c->attrs ? c->attrs : "{}");
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, by);
		char num[40];
		if (cJSON_IsString(x) && *x->valuestring)
			v = x->valuestring;
		else if (cJSON_IsNumber(x)) /* exact: %g merged 1234567 and 1234568 */
			v = tn_format_double(x->valuedouble, num, sizeof num);
		else if (cJSON_IsBool(x))
			v = cJSON_IsTrue(x) ? "true" : "false";
		char *out = tn_strdup(v ? v : "(none)");
		cJSON_Delete(o);
		return out;
	}
	return tn_strdup(v && *v ? v : "(none)");
}

static int group_index(agg *a, const char *g, tn_error *err)
{
	for (size_t i = 0; i < a->ngroups; i++)
		if (strcmp(a->groups[i], g) == 0)
			return (int)i;
	if (a->ngroups >= MAX_GROUPS)
		return tn_error_set(err, TN_ERR_NOMEM, "more than %d groups", MAX_GROUPS), -1;
	char **ng = tn_realloc(a->groups, (a->ngroups + 1) * sizeof *ng);
	tn_churn_rate_row *nr = ng ? tn_realloc(a->rows, (a->ngroups + 1) * a->nperiods * sizeof *nr) : NULL;
	if (ng)
		a->groups = ng;
	if (nr)
		a->rows = nr;
	char *copy = nr ? tn_strdup(g) : NULL;
	if (!copy)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory"), -1;
	a->groups[a->ngroups] = copy;
	tn_churn_rate_row *r = &a->rows[a->ngroups * a->nperiods];
	memset(r, 0, a->nperiods * sizeof *r);
	for (size_t p = 0; p < a->nperiods; p++) {
		r[p].group = copy;
		r[p].period_start = a->bounds[p];
		r[p].period_end = a->bounds[p + 1];
	}
	return (int)a->ngroups++;
}

/* A spell that ended: churned, or left for the cause a cause_class
 * definition does not count. */
static int spell_ended(const tn_churn_spell *s)
{
	return s->churned || s->reason == TN_CHURN_OTHER_CAUSE;
}

/* Alive at T: some spell with start < T <= end (censored: no end). */
static int alive_at(const tn_churn_customer *c, tn_time t)
{
	for (size_t i = 0; i < c->nspells; i++) {
		const tn_churn_spell *s = &c->spells[i];
		if (s->start < t && (!spell_ended(s) || t <= s->end))
			return 1;
	}
	return 0;
}

/* In a free trial just before T: a subscription started before T whose
 * paid time starts at or after T and that has not ended. */
static int trialing_at(const tn_churn_customer *c, tn_time t)
{
	for (size_t i = 0; i < c->nsubs; i++) {
		const tn_churn_sub *x = &c->subs[i];
		if (x->start < t && x->paid_from >= t && (x->end == TN_NO_TIME || t <= x->end))
			return 1;
	}
	return 0;
}

/* MRR just before T (left limit, like alive_at): paid_from < T <= end. */
static double mrr_before(const tn_churn_customer *c, tn_time t)
{
	double m = 0;
	for (size_t i = 0; i < c->nsubs; i++) {
		const tn_churn_sub *x = &c->subs[i];
		if (x->paid_from < t && (x->end == TN_NO_TIME || t <= x->end))
			m += x->mrr;
	}
	return m;
}

static int paid_before(const tn_churn_customer *c, tn_time t)
{
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i].paid_from < t && (c->subs[i].end == TN_NO_TIME || c->subs[i].end > c->subs[i].paid_from))
			return 1;
	return 0;
}

static int first_pass(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)err;
	agg *a = ud;
	if (c->nspells && c->spells[0].start < a->first)
		a->first = c->spells[0].start;
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i].start < a->first)
			a->first = c->subs[i].start;
	return TN_OK;
}

/* The class of the cause of the MRR lost in [LO, HI): that of the last
 * subscription ending in it. */
static int mrr_cause(const tn_churn_customer *c, tn_time lo, tn_time hi)
{
	const tn_churn_sub *last = NULL;
	for (size_t i = 0; i < c->nsubs; i++) {
		const tn_churn_sub *x = &c->subs[i];
		if (x->end != TN_NO_TIME && x->end >= lo && x->end < hi && (!last || x->end >= last->end))
			last = x;
	}
	return last ? tn_churn_cause_class(last->cause) : TN_CAUSE_NONE;
}

/* Add customer C to the rows R of one group; CLS: count only churn of that
 * cause class (0: all). */
static void add_customer(agg *a, const tn_churn_customer *c, tn_churn_rate_row *r, int cls)
{
	double m0 = mrr_before(c, a->bounds[0]);
	for (size_t p = 0; p < a->nperiods; p++) {
		tn_time lo = a->bounds[p], hi = a->bounds[p + 1];
		r[p].customers_start += alive_at(c, lo);
		int alive = alive_at(c, hi);
		r[p].customers_end += alive;
		for (size_t i = 0; i < c->nspells; i++) {
			const tn_churn_spell *s = &c->spells[i];
			if (s->start >= lo && s->start < hi) {
				if (i == 0)
					r[p].new_customers++;
				else
					r[p].reactivated++;
			}
			if (s->churned && s->end >= lo && s->end < hi && (!cls || s->cause_class == cls))
				r[p].churned++;
			if (s->reason == TN_CHURN_OTHER_CAUSE && s->end >= lo && s->end < hi)
				r[p].churned_other++;
		}
		double m1 = mrr_before(c, hi);
		if (alive && m1 > 0)
			r[p].paying_end++;
		else if (alive && trialing_at(c, hi))
			r[p].trialing_end++;
		r[p].mrr_start += m0;
		r[p].mrr_end += m1;
		if (m0 <= 0 && m1 > 0) {
			if (paid_before(c, lo))
				r[p].reactivation_mrr += m1;
			else
				r[p].new_mrr += m1;
		} else if (m0 > 0 && m1 <= 0) {
			if (!cls || mrr_cause(c, lo, hi) == cls)
				r[p].churned_mrr += m0;
		} else if (m1 > m0) {
			r[p].expansion_mrr += m1 - m0;
		} else if (m1 < m0) {
			r[p].contraction_mrr += m0 - m1;
		}
		m0 = m1;
	}
}

static int rate_pass(void *ud, const tn_churn_customer *c, tn_error *err)
{
	agg *a = ud;
	if (!c->nspells && !c->nsubs)
		return TN_OK;
	if (a->o->by && strcmp(a->o->by, "cause") == 0) {
		/* one row per cause class and period: the same customers, the churn split */
		for (int cls = TN_CAUSE_VOLUNTARY; cls <= TN_CAUSE_INVOLUNTARY; cls++) {
			int gi = group_index(a, tn_churn_cause_class_name(cls), err);
			if (gi < 0)
				return TN_ERR_NOMEM;
			add_customer(a, c, &a->rows[(size_t)gi * a->nperiods], cls);
		}
		return TN_OK;
	}
	char *g = group_of(c, a->o->by);
	int gi = g ? group_index(a, g, err) : (tn_error_set(err, TN_ERR_NOMEM, "out of memory"), -1);
	free(g);
	if (gi < 0)
		return TN_ERR_NOMEM;
	add_customer(a, c, &a->rows[(size_t)gi * a->nperiods], a->def_class);
	return TN_OK;
}

static int make_bounds(agg *a, int months, tn_error *err)
{
	tn_time t = period_floor(a->first, months);
	size_t n = 0;
	for (tn_time x = t; x <= a->as_of; x = tn_add_months(x, months))
		if (++n > MAX_PERIODS)
			return tn_error_set(err, TN_ERR_NOMEM, "more than %d periods in the data", MAX_PERIODS);
	a->bounds = tn_malloc((n + 1) * sizeof *a->bounds);
	if (!a->bounds)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i <= n; i++) {
		a->bounds[i] = i ? tn_add_months(a->bounds[i - 1], months) : t;
		if (a->bounds[i] > a->as_of + 1)
			a->bounds[i] = a->as_of + 1;
	}
	a->nperiods = n;
	return TN_OK;
}

/* the first pass (earliest start, resolved as-of) into A, or FIRST's when
 * it was made for this as-of; FIRST (when not NULL) keeps what was read */
static int first_scan(tn_store *s, const tn_churn_def *def, tn_churn_scan_opts *so, tn_churn_first *first, agg *a,
		      tn_error *err)
{
	if (first && first->known && first->as_of_in == so->as_of) { /* another computation's first scan */
		a->first = first->first;
		a->as_of = first->as_of;
		return TN_OK;
	}
	int rc = tn_churn_scan(s, def, so, first_pass, a, &a->as_of, err);
	if (!rc && first)
		*first = (tn_churn_first){1, so->as_of, a->first, a->as_of};
	return rc;
}

static int check_period(int m, tn_error *err)
{
	if (m != TN_PERIOD_MONTH && m != TN_PERIOD_QUARTER && m != TN_PERIOD_YEAR)
		return tn_error_set(err, TN_ERR_USAGE, "period: expected month, quarter or year");
	return TN_OK;
}

int tn_churn_rate(tn_store *s, const tn_churn_def *def, const tn_churn_rate_opts *o, tn_churn_rate_row **rows,
		  size_t *nrows, tn_error *err)
{
	*rows = NULL;
	*nrows = 0;
	if (check_period(o->period_months, err))
		return TN_ERR_USAGE;
	agg a = {.o = o, .first = INT64_MAX, .def_class = def->cause_class};
	tn_churn_scan_opts so = {.as_of = o->as_of, .on_progress = o->on_progress, .progress_ud = o->progress_ud};
	so.want_causes = o->by && (strcmp(o->by, "cause") == 0 || strcmp(o->by, "source") == 0);
	int rc = first_scan(s, def, &so, o->first, &a, err);
	if (rc)
		return rc;
	if (a.first == INT64_MAX)
		return TN_OK; /* no customers */
	so.as_of = a.as_of;
	if ((rc = make_bounds(&a, o->period_months, err)) == TN_OK && a.nperiods)
		rc = tn_churn_scan(s, def, &so, rate_pass, &a, NULL, err);
	if (rc == TN_OK) {
		size_t n = a.ngroups * a.nperiods;
		for (size_t i = 0; i < n; i++) {
			tn_churn_rate_row *r = &a.rows[i];
			r->churn_rate = r->customers_start ? (double)r->churned / (double)r->customers_start : NAN;
			r->gross_revenue_churn =
				r->mrr_start > 0 ? (r->churned_mrr + r->contraction_mrr) / r->mrr_start : NAN;
			r->nrr = r->mrr_start > 0
					 ? (r->mrr_start + r->expansion_mrr - r->contraction_mrr - r->churned_mrr) /
						   r->mrr_start
					 : NAN;
		}
		/* one allocation for the caller: the rows, then their group names */
		size_t pool = 0;
		for (size_t g = 0; g < a.ngroups; g++)
			pool += strlen(a.groups[g]) + 1;
		tn_churn_rate_row *out = n ? tn_malloc(n * sizeof *out + pool) : NULL;
		if (n && !out) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		} else if (n) {
			memcpy(out, a.rows, n * sizeof *out);
			char *names = (char *)(out + n);
			for (size_t g = 0; g < a.ngroups; g++) {
				size_t len = strlen(a.groups[g]) + 1;
				memcpy(names, a.groups[g], len);
				for (size_t p = 0; p < a.nperiods; p++)
					out[g * a.nperiods + p].group = names;
				names += len;
			}
		}
		if (rc == TN_OK) {
			*rows = out;
			*nrows = n;
		}
	}
	free(a.rows);
	for (size_t g = 0; g < a.ngroups; g++)
		free(a.groups[g]);
	free(a.groups);
	free(a.bounds);
	return rc;
}

/* ---- cohorts ------------------------------------------------------------ */

/* T plus K calendar months, keeping the day (clamped to the month's last
 * day) and the time of day: a customer's monthly anniversary. */
static tn_time anniversary(tn_time t, int k)
{
	int64_t days = t >= 0 ? t / TN_DAY : -((-t + TN_DAY - 1) / TN_DAY);
	int64_t tod = t - days * TN_DAY;
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	tn_time first = tn_add_months(t, k); /* first instant of the target month */
	tn_time next = tn_add_months(t, k + 1);
	int64_t mdays = (next - first) / TN_DAY;
	int64_t day = d <= mdays ? d : mdays;
	return first + (day - 1) * TN_DAY + tod;
}

typedef struct cagg {
	tn_cohorts *c;
	tn_time as_of;
	double *num, *den; /* ncohorts x nages */
} cagg;

static int cohort_pass(void *ud, const tn_churn_customer *cu, tn_error *err)
{
	(void)err;
	cagg *a = ud;
	tn_cohorts *c = a->c;
	if (!cu->nspells)
		return TN_OK;
	tn_time t0 = cu->spells[0].start;
	tn_time p0 = period_floor(t0, c->period_months);
	size_t k = 0;
	while (k < c->ncohorts && c->cohort_start[k] != p0)
		k++;
	if (k == c->ncohorts)
		return TN_OK;
	c->size[k]++;
	double base = c->revenue ? tn_churn_mrr_at(cu, t0, 1) : 1;
	c->base_mrr[k] += c->revenue ? base : 0;
	for (size_t j = 0; j < c->nages; j++) {
		tn_time t = anniversary(t0, (int)j * c->period_months);
		if (t > a->as_of)
			break;
		int alive = 0;
		for (size_t i = 0; i < cu->nspells; i++) {
			const tn_churn_spell *s = &cu->spells[i];
			if (s->start <= t && (!spell_ended(s) || t < s->end))
				alive = 1;
		}
		a->den[k * c->nages + j] += base;
		if (c->revenue)
			a->num[k * c->nages + j] += tn_churn_mrr_at(cu, t, 1);
		else
			a->num[k * c->nages + j] += alive;
	}
	return TN_OK;
}

void tn_cohorts_free(tn_cohorts *c)
{
	if (!c)
		return;
	free(c->cohort_start);
	free(c->size);
	free(c->base_mrr);
	free(c->value);
	free(c);
}

int tn_cohorts_compute(tn_store *s, const tn_churn_def *def, int period_months, int revenue, tn_time as_of,
		       tn_cohorts **out, tn_error *err)
{
	return tn_cohorts_compute_first(s, def, period_months, revenue, as_of, NULL, out, err);
}

int tn_cohorts_compute_first(tn_store *s, const tn_churn_def *def, int period_months, int revenue, tn_time as_of,
			     tn_churn_first *first, tn_cohorts **out, tn_error *err)
{
	*out = NULL;
	if (check_period(period_months, err))
		return TN_ERR_USAGE;
	agg a = {.first = INT64_MAX};
	tn_churn_scan_opts so = {.as_of = as_of};
	int rc = first_scan(s, def, &so, first, &a, err);
	if (rc)
		return rc;
	tn_cohorts *c = tn_calloc(1, sizeof *c);
	if (!c)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	c->revenue = revenue;
	c->period_months = period_months;
	*out = c;
	if (a.first == INT64_MAX)
		return TN_OK;
	if ((rc = make_bounds(&a, period_months, err)))
		goto fail;
	size_t n = a.nperiods;
	cagg ca = {.c = c, .as_of = a.as_of};
	c->ncohorts = c->nages = n;
	c->cohort_start = tn_malloc(n * sizeof *c->cohort_start);
	c->size = tn_calloc(n, sizeof *c->size);
	c->base_mrr = tn_calloc(n, sizeof *c->base_mrr);
	c->value = tn_malloc(n * n * sizeof *c->value);
	ca.num = tn_calloc(n * n, sizeof *ca.num);
	ca.den = tn_calloc(n * n, sizeof *ca.den);
	if (!c->cohort_start || !c->size || !c->base_mrr || !c->value || !ca.num || !ca.den) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	} else {
		memcpy(c->cohort_start, a.bounds, n * sizeof *c->cohort_start);
		so.as_of = a.as_of;
		rc = tn_churn_scan(s, def, &so, cohort_pass, &ca, NULL, err);
		for (size_t i = 0; i < n * n; i++)
			c->value[i] = ca.den[i] > 0 ? ca.num[i] / ca.den[i] : NAN;
	}
	free(ca.num);
	free(ca.den);
	free(a.bounds);
	if (rc == TN_OK)
		return TN_OK;
fail:
	tn_cohorts_free(c);
	*out = NULL;
	return rc;
}
