/*
 * value_profit.c -- segment profitability for a subscription business
 * (tn_value_profitability): per segment of customers, the revenue they have
 * brought (succeeded minus refunded payments), the discounted value of the
 * renewals still to come (sBG per plan, value_retention.c), the part of it at
 * risk (P(not renewing at the next decision) x value), what they cost to
 * acquire (a customer attribute, e.g. acquisition_cost), and the profit:
 * margin x (revenue + future value) - acquisition cost.  Which customer
 * profiles are worth attracting and keeping, and which cost more than they
 * bring.
 */
#include "tenure/value.h"
#include "base/alloc.h"
#include "tenure/warn.h"
#include "tenure/churn.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct live_ref {
	const char *id;
	double value, p_churn;
} live_ref;

static int cmp_live(const void *a, const void *b)
{
	return strcmp(((const live_ref *)a)->id, ((const live_ref *)b)->id);
}

static int valid_key(const char *k)
{
	if (!k || !*k || strlen(k) > 64)
		return 0;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

void tn_value_profit_free(tn_value_profit_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		free(rows[i].segment);
	free(rows);
}

int tn_value_profitability(tn_store *s, const tn_churn_def *def, const char *by, double margin,
			   double annual_discount, const char *cost_key, tn_value_profit_row **out, size_t *nout,
			   tn_warnings *warn, tn_error *err)
{
	return tn_value_profitability_ret(s, def, by, margin, annual_discount, cost_key, NULL, out, nout, warn, err);
}

int tn_value_profitability_ret(tn_store *s, const tn_churn_def *def, const char *by, double margin,
			       double annual_discount, const char *cost_key, const tn_value_retention_result *given,
			       tn_value_profit_row **out, size_t *nout, tn_warnings *warn, tn_error *err)
{
	return tn_value_profitability_many(s, def, &by, 1, margin, annual_discount, cost_key, given, out, nout, warn,
					   err);
}

/* One segmentation's rows: segments in the order they first appear. */
typedef struct segs {
	tn_value_profit_row *rows;
	size_t n, cap;
} segs;

int tn_value_profitability_many(tn_store *s, const tn_churn_def *def, const char *const *by, size_t nby,
				double margin, double annual_discount, const char *cost_key,
				const tn_value_retention_result *given, tn_value_profit_row **out, size_t *nout,
				tn_warnings *warn, tn_error *err)
{
	for (size_t b = 0; b < nby && b < TN_VALUE_PROFIT_MAX_BY; b++) {
		out[b] = NULL;
		nout[b] = 0;
	}
	if (nby < 1 || nby > TN_VALUE_PROFIT_MAX_BY)
		return tn_error_set(err, TN_ERR_USAGE, "profitability: 1 to %d segmentations in one pass",
				    TN_VALUE_PROFIT_MAX_BY);
	for (size_t b = 0; b < nby; b++)
		if (!valid_key(by[b]))
			return tn_error_set(err, TN_ERR_USAGE,
					    "--by: expected channel, country, plan or an attribute key, found \"%s\"",
					    by[b] ? by[b] : "");
	if (cost_key && !valid_key(cost_key))
		return tn_error_set(err, TN_ERR_USAGE, "--cost-attr: expected an attribute key, found \"%s\"", cost_key);
	if (!(margin > 0 && margin <= 1))
		return tn_error_set(err, TN_ERR_USAGE, "--margin: expected a share in (0, 1], found %g", margin);
	tn_value_retention_result *own = NULL;
	int rc = TN_OK;
	if (!given && (rc = tn_value_retention(s, def, TN_NO_TIME, annual_discount, &own, err)))
		return rc;
	const tn_value_retention_result *ret = given ? given : own;
	if (warn && tn_value_retention_warnings(ret, warn)) {
		tn_value_retention_free(own);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	live_ref *live = tn_malloc((ret->nlive ? ret->nlive : 1) * sizeof *live);
	if (!live) {
		tn_value_retention_free(own);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t nlive = 0;
	for (size_t i = 0; i < ret->nlive; i++)
		if (!isnan(ret->live[i].value))
			live[nlive++] = (live_ref){ret->live[i].customer, ret->live[i].value, ret->live[i].p_churn};
	qsort(live, nlive, sizeof *live, cmp_live);

	/* every segmentation's label in the same row: one pass over the
	 * customers (and their payments) for all of them */
	char sql[4096], segcols[TN_VALUE_PROFIT_MAX_BY * 300] = "";
	size_t used = 0;
	for (size_t b = 0; b < nby; b++) {
		char seg[256];
		if (strcmp(by[b], "channel") == 0 || strcmp(by[b], "country") == 0)
			snprintf(seg, sizeof seg, "c.%s", by[b]);
		else if (strcmp(by[b], "plan") == 0)
			snprintf(seg, sizeof seg, "(SELECT plan FROM subscriptions s WHERE s.customer_id = c.id "
						  "ORDER BY started_at DESC LIMIT 1)");
		else
			snprintf(seg, sizeof seg, "json_extract(c.attrs, '$.%s')", by[b]);
		used += (size_t)snprintf(segcols + used, sizeof segcols - used, "coalesce(CAST(%s AS TEXT), '(none)'), ",
					 seg);
	}
	snprintf(sql, sizeof sql,
		 "SELECT c.ext_id, %s"
		 "coalesce((SELECT total(CASE p.status WHEN 'succeeded' THEN tn_money(p.amount, p.currency, p.paid_at) "
		 "WHEN 'refunded' THEN -tn_money(p.amount, p.currency, p.paid_at) "
		 "ELSE 0 END) FROM payments p WHERE p.customer_id = c.id), 0), "
		 "coalesce(CAST(json_extract(c.attrs, '$.%s') AS REAL), 0) FROM customers c ORDER BY c.id",
		 segcols, cost_key ? cost_key : "acquisition_cost");
	/* ORDER BY: segments are listed in the order they first appear, the
	 * same on every engine (a cluster returns its shards' rows in turn) */
	tn_stmt *st = tn_db_prepare(s, sql, err);
	segs g[TN_VALUE_PROFIT_MAX_BY] = {{0}};
	const int rev = 1 + (int)nby, cost = 2 + (int)nby;
	int r = TN_DB_DONE;
	while (st && rc == TN_OK && (r = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		double revenue = tn_db_column_double0(st, rev), acquisition = tn_db_column_double0(st, cost);
		live_ref key = {tn_db_column_text(st, 0), 0, 0};
		live_ref *hit = bsearch(&key, live, nlive, sizeof *live, cmp_live);
		for (size_t b = 0; b < nby && rc == TN_OK; b++) {
			segs *v = &g[b];
			const char *label = tn_db_column_text(st, 1 + (int)b);
			size_t k;
			for (k = 0; k < v->n && strcmp(v->rows[k].segment, label) != 0; k++)
				;
			if (k == v->n) {
				if (v->n == v->cap) {
					size_t nc = v->cap ? v->cap * 2 : 16;
					tn_value_profit_row *x = nc > 100000 ? NULL : tn_realloc(v->rows, nc * sizeof *x);
					if (!x) {
						rc = tn_error_set(err, TN_ERR_NOMEM, "more than 100000 segments, or out of memory");
						break;
					}
					v->rows = x;
					v->cap = nc;
				}
				memset(&v->rows[v->n], 0, sizeof v->rows[v->n]);
				if (!(v->rows[v->n].segment = tn_strdup(label))) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
					break;
				}
				v->n++;
			}
			tn_value_profit_row *row = &v->rows[k];
			row->customers++;
			row->revenue += revenue;
			row->acquisition += acquisition;
			if (hit) {
				row->subscribers++;
				row->future += hit->value;
				row->at_risk += hit->p_churn * hit->value;
			}
		}
	}
	if (!st)
		rc = tn_error_code(err, TN_ERR_DB);
	else if (rc == TN_OK && r != TN_DB_DONE)
		rc = tn_store_db_error(s, "reading customers", err);
	tn_db_finalize(st);
	free(live);
	tn_value_retention_free(own);
	for (size_t b = 0; b < nby; b++) {
		if (rc) {
			tn_value_profit_free(g[b].rows, g[b].n);
			continue;
		}
		for (size_t k = 0; k < g[b].n; k++)
			g[b].rows[k].profit = margin * (g[b].rows[k].revenue + g[b].rows[k].future) - g[b].rows[k].acquisition;
		out[b] = g[b].rows;
		nout[b] = g[b].n;
	}
	return rc;
}
