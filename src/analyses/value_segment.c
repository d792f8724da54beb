/*
 * value_segment.c -- segment labels for the value-at-risk table: each
 * customer's acquisition channel, country, device or age band (customers'
 * attrs JSON), or the plan of the latest subscription, read from the store.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tenure/value.h"
#include "base/alloc.h"
#include "store/db.h"
#include "store/store_sqlite.h"

typedef struct pair {
	char *id, *label;
} pair;

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const pair *)a)->id, ((const pair *)b)->id);
}

void tn_value_labels_free(char **labels, size_t n)
{
	if (!labels)
		return;
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
}

int tn_value_segments_from_store(struct tn_store *s, const char *by, char *const *ids, size_t n, char ***labels,
				 tn_error *err)
{
	*labels = NULL;
	const char *expr;
	if (strcmp(by, "channel") == 0)
		expr = "c.channel";
	else if (strcmp(by, "country") == 0)
		expr = "c.country";
	else if (strcmp(by, "device") == 0)
		expr = "json_extract(c.attrs, '$.device')";
	else if (strcmp(by, "age_band") == 0)
		expr = "json_extract(c.attrs, '$.age_band')";
	else if (strcmp(by, "plan") == 0)
		expr = "(SELECT plan FROM subscriptions s WHERE s.customer_id = c.id ORDER BY started_at DESC LIMIT 1)";
	else
		return tn_error_set(err, TN_ERR_USAGE,
				    "segment \"%s\": expected channel, country, device, age_band or plan", by);
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT c.ext_id, %s FROM customers c", expr);
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	pair *p = NULL;
	size_t np = 0, cap = 0;
	int rc = TN_OK, step;
	while ((step = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		if (np == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			pair *q = nc <= (SIZE_MAX / sizeof *p) / 2 ? tn_realloc(p, nc * sizeof *p) : NULL;
			if (!q) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory reading customers");
				break;
			}
			p = q;
			cap = nc;
		}
		const char *id = tn_db_column_text(st, 0);
		const char *lb = tn_db_column_text(st, 1);
		p[np].id = tn_strdup(id ? id : "");
		p[np].label = tn_strdup(lb && *lb ? lb : "(none)");
		np++;
		if (!p[np - 1].id || !p[np - 1].label) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory reading customers");
			break;
		}
	}
	if (rc == TN_OK && step != TN_DB_DONE)
		rc = tn_store_db_error(s, "reading customer segments", err);
	tn_db_finalize(st);
	char **out = rc == TN_OK ? tn_calloc(n ? n : 1, sizeof *out) : NULL;
	if (rc == TN_OK && !out)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (rc == TN_OK) {
		qsort(p, np, sizeof *p, cmp_pair);
		for (size_t i = 0; i < n && rc == TN_OK; i++) {
			pair key = {ids[i], NULL};
			pair *f = np ? bsearch(&key, p, np, sizeof *p, cmp_pair) : NULL;
			out[i] = tn_strdup(f ? f->label : "(none)");
			if (!out[i])
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < np; i++) {
		free(p[i].id);
		free(p[i].label);
	}
	free(p);
	if (rc) {
		tn_value_labels_free(out, n);
		return rc;
	}
	*labels = out;
	return TN_OK;
}

typedef struct lab_ref {
	const char *label;
	size_t i;
} lab_ref;

static int cmp_lab(const void *a, const void *b)
{
	const lab_ref *x = a, *y = b;
	int c = strcmp(x->label, y->label);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int cmp_future(const void *a, const void *b)
{
	const tn_value_segment *x = a, *y = b;
	if (x->future != y->future)
		return x->future > y->future ? -1 : 1;
	return strcmp(x->label, y->label);
}

void tn_value_segments_free(tn_value_segment *s, size_t nseg)
{
	if (!s)
		return;
	for (size_t i = 0; i < nseg; i++)
		free(s[i].label);
	free(s);
}

static void add(tn_value_segment *g, double p, double c, double rev, double margin)
{
	g->customers++;
	g->p_alive += p;
	g->revenue += rev;
	g->profit += rev * margin;
	g->future += c;
	if (p > 0)
		g->at_risk += (1 - p) * c / p;
}

int tn_value_segment_table(char *const *labels, size_t n, const double *palive, const double *clv,
			   const double *revenue, double margin, tn_value_segment **out, size_t *nseg, tn_error *err)
{
	*out = NULL;
	*nseg = 0;
	lab_ref *r = tn_malloc((n ? n : 1) * sizeof *r);
	if (!r)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		r[i] = (lab_ref){labels[i], i};
	qsort(r, n, sizeof *r, cmp_lab);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(r[i].label, r[i - 1].label) != 0)
			ng++;
	tn_value_segment *g = tn_calloc(ng + 1, sizeof *g);
	if (!g) {
		free(r);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(r[i].label, r[i - 1].label) != 0)
			k++;
		if (!g[k].label && !(g[k].label = tn_strdup(r[i].label))) {
			free(r);
			tn_value_segments_free(g, ng + 1);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		size_t j = r[i].i;
		double rev = revenue && !isnan(revenue[j]) ? revenue[j] : 0;
		double c = isnan(clv[j]) ? 0 : clv[j];
		add(&g[k], palive[j], c, rev, margin);
		add(&g[ng], palive[j], c, rev, margin);
	}
	free(r);
	g[ng].label = tn_strdup("(all)");
	if (!g[ng].label) {
		tn_value_segments_free(g, ng + 1);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i <= ng; i++)
		if (g[i].customers)
			g[i].p_alive /= (double)g[i].customers;
	qsort(g, ng, sizeof *g, cmp_future);
	*out = g;
	*nseg = ng + 1;
	return TN_OK;
}
