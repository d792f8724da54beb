/*
 * summary.c -- the headline figures (include/tenure/summary.h), computed
 * once for `tenure summary`, the report's headline box and the server.
 * Counts and MRR are the last monthly period of tn_churn_rate for the same
 * as-of and churn definition; revenue at risk is tn_value_retention's live
 * subscribers (as `tenure value profitability` totals it); NPS and exit
 * answers are read from the feedback up to the as-of.
 */
#include "tenure/summary.h"
#include "tenure/churn.h"
#include "tenure/value.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int one_row(tn_store *s, const char *sql, tn_time as_of, double *vals, int n, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	for (int i = 1; i <= tn_db_param_count(st); i++)
		tn_db_bind_int64(st, i, as_of);
	int rc = tn_db_step(st, "computing the summary", err);
	if (rc == TN_DB_ROW)
		for (int i = 0; i < n; i++)
			vals[i] = tn_db_column_is_null(st, i) ? NAN : tn_db_column_double0(st, i);
	tn_db_finalize(st);
	return rc == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "computing the summary", err);
}

/* The store's reporting currency: every amount is converted to it
 * (docs/metrics.md, "Currency"). */
static int currency(tn_store *s, char *out, size_t n, tn_error *err)
{
	char code[4];
	int rc = tn_store_reporting_currency(s, code, err);
	if (!rc)
		snprintf(out, n, "%s", code);
	return rc;
}

static int rates(tn_store *s, const tn_churn_def *def, tn_summary *o, tn_error *err)
{
	tn_churn_rate_row *rows = NULL;
	size_t n = 0;
	tn_churn_rate_opts ro = {.period_months = TN_PERIOD_MONTH, .as_of = o->as_of};
	int rc = tn_churn_rate(s, def, &ro, &rows, &n, err);
	if (rc)
		return rc;
	o->churn_rate = o->churn_rate_prev = o->nrr = NAN;
	if (n) {
		const tn_churn_rate_row *r = &rows[n - 1];
		o->month_start = r->period_start;
		o->month_partial = r->period_end != tn_add_months(r->period_start, 1);
		o->active = r->customers_end;
		o->paying = r->paying_end;
		o->trialing = r->trialing_end;
		o->mrr = r->mrr_end;
		o->churned = r->churned;
		o->churn_base = r->customers_start;
		o->churn_rate = r->churn_rate;
		o->nrr = r->nrr;
		if (n > 1)
			o->churn_rate_prev = rows[n - 2].churn_rate;
	}
	free(rows);
	return TN_OK;
}

static int at_risk(tn_store *s, const tn_churn_def *def, tn_value_retention_result **shared, tn_summary *o,
		   tn_error *err)
{
	o->revenue_at_risk = 0;
	if (o->active == 0)
		return TN_OK;
	tn_value_retention_result *r = shared ? *shared : NULL;
	/* the same call and discount as `tenure value profitability` */
	if (!r) {
		int rc = tn_value_retention(s, def, o->as_of, 0.10, &r, err);
		if (rc)
			return rc;
		if (shared)
			*shared = r;
	}
	for (size_t i = 0; i < r->nlive; i++)
		if (!isnan(r->live[i].value) && !isnan(r->live[i].p_churn))
			o->revenue_at_risk += r->live[i].p_churn * r->live[i].value;
	if (!shared)
		tn_value_retention_free(r);
	return TN_OK;
}

int tn_summary_get_def(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_summary *o, tn_error *err)
{
	return tn_summary_get_shared(s, def, as_of, NULL, o, err);
}

int tn_summary_get_shared(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_value_retention_result **ret,
			  tn_summary *o, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	memset(o, 0, sizeof *o);
	o->nps = o->churn_rate = o->churn_rate_prev = o->nrr = NAN;
	tn_store_counts c;
	if (tn_store_counts_get(s, &c, err))
		return err->code;
	if (as_of == TN_NO_TIME && tn_churn_data_end(s, &as_of, err))
		return err->code;
	o->as_of = as_of;
	o->customers = c.customers;
	o->events = c.events;
	if (as_of == TN_NO_TIME)
		return TN_OK; /* an empty store */
	o->month_start = tn_month_start(as_of);
	double v[2];
	if (currency(s, o->currency, sizeof o->currency, err) || rates(s, def, o, err) || at_risk(s, def, ret, o, err))
		return err->code;
	if (one_row(s, "SELECT count(*) FROM (SELECT customer_id FROM subscriptions WHERE started_at <= ?1"
		       " GROUP BY customer_id HAVING count(*) > 1)",
		    as_of, v, 1, err))
		return err->code;
	o->reactivated = (long long)v[0];
	if (one_row(s,
		    "SELECT count(*), 100.0 * (total(score >= 9) - total(score <= 6)) / NULLIF(count(*), 0) FROM feedback"
		    " WHERE kind = 'nps' AND score IS NOT NULL AND given_at > ?1 - 90*86400 AND given_at <= ?1",
		    as_of, v, 2, err))
		return err->code;
	o->nps_responses = (long long)v[0];
	o->nps = o->nps_responses ? v[1] : NAN;
	if (one_row(s, "SELECT count(*) FROM feedback WHERE kind = 'exit' AND given_at <= ?1", as_of, v, 1, err))
		return err->code;
	o->exit_answers = (long long)v[0];
	return TN_OK;
}

int tn_summary_get(tn_store *s, tn_time as_of, tn_summary *o, tn_error *err)
{
	tn_churn_def d;
	if (tn_churn_def_load(s, NULL, &d, err))
		return err->code;
	return tn_summary_get_def(s, &d, as_of, o, err);
}
