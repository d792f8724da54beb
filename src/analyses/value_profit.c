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
	*out = NULL;
	*nout = 0;
	if (!valid_key(by))
		return tn_error_set(err, TN_ERR_USAGE, "--by: expected channel, country, plan or an attribute key, found \"%s\"",
				    by ? by : "");
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

	char seg[256], sql[1024];
	if (strcmp(by, "channel") == 0 || strcmp(by, "country") == 0)
		snprintf(seg, sizeof seg, "c.%s", by);
	else if (strcmp(by, "plan") == 0)
		snprintf(seg, sizeof seg, "(SELECT plan FROM subscriptions s WHERE s.customer_id = c.id "
					  "ORDER BY started_at DESC LIMIT 1)");
	else
		snprintf(seg, sizeof seg, "json_extract(c.attrs, '$.%s')", by);
	snprintf(sql, sizeof sql,
		 "SELECT c.ext_id, coalesce(CAST(%s AS TEXT), '(none)'), "
		 "coalesce((SELECT total(CASE p.status WHEN 'succeeded' THEN tn_money(p.amount, p.currency, p.paid_at) "
		 "WHEN 'refunded' THEN -tn_money(p.amount, p.currency, p.paid_at) "
		 "ELSE 0 END) FROM payments p WHERE p.customer_id = c.id), 0), "
		 "coalesce(CAST(json_extract(c.attrs, '$.%s') AS REAL), 0) FROM customers c ORDER BY c.id",
		 seg, cost_key ? cost_key : "acquisition_cost");
	/* ORDER BY: segments are listed in the order they first appear, the
	 * same on every engine (a cluster returns its shards' rows in turn) */
	tn_stmt *st = tn_db_prepare(s, sql, err);
	tn_value_profit_row *rows = NULL;
	size_t n = 0, cap = 0;
	int r = TN_DB_DONE;
	while (st && rc == TN_OK && (r = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		const char *label = tn_db_column_text(st, 1);
		size_t k;
		for (k = 0; k < n && strcmp(rows[k].segment, label) != 0; k++)
			;
		if (k == n) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				tn_value_profit_row *g = nc > 100000 ? NULL : tn_realloc(rows, nc * sizeof *g);
				if (!g) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "more than 100000 segments, or out of memory");
					break;
				}
				rows = g;
				cap = nc;
			}
			memset(&rows[n], 0, sizeof rows[n]);
			if (!(rows[n].segment = tn_strdup(label))) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			n++;
		}
		tn_value_profit_row *g = &rows[k];
		g->customers++;
		g->revenue += tn_db_column_double0(st, 2);
		g->acquisition += tn_db_column_double0(st, 3);
		live_ref key = {tn_db_column_text(st, 0), 0, 0};
		live_ref *hit = bsearch(&key, live, nlive, sizeof *live, cmp_live);
		if (hit) {
			g->subscribers++;
			g->future += hit->value;
			g->at_risk += hit->p_churn * hit->value;
		}
	}
	if (!st)
		rc = tn_error_code(err, TN_ERR_DB);
	else if (rc == TN_OK && r != TN_DB_DONE)
		rc = tn_store_db_error(s, "reading customers", err);
	tn_db_finalize(st);
	free(live);
	tn_value_retention_free(own);
	if (rc) {
		tn_value_profit_free(rows, n);
		return rc;
	}
	for (size_t k = 0; k < n; k++)
		rows[k].profit = margin * (rows[k].revenue + rows[k].future) - rows[k].acquisition;
	*out = rows;
	*nout = n;
	return TN_OK;
}
