/*
 * predict_alerts.c -- who needs attention now: activity drop, inactivity, a
 * failing payment, a detractor score, a paid period ending soon with a high
 * churn risk (docs/predict.md, "Alerts").  Conditions are evaluated on the
 * features of the customers live at the as-of instant (predict_features.c)
 * and kept in the alerts table as episodes, so a condition that persists
 * from one run to the next is raised once.
 */
#include "tenure/predict.h"
#include "base/alloc.h"
#include "tenure/store.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALERTS_LIST_MAX 1000000

tn_pred_alert_opts tn_pred_alert_opts_default(void)
{
	tn_pred_alert_opts o = {.as_of = TN_NO_TIME,
				.drop_fraction = 0.5,
				.drop_min_events = 10,
				.inactive_days = 14,
				.detractor_max = 6,
				.ending_days = 30,
				.risk_min = 0.3,
				.model_path = NULL};
	return o;
}

enum { K_DROP, K_INACTIVE, K_FAILED, K_DETRACTOR, K_ENDING, NKINDS };
static const char *const KIND[NKINDS] = {"activity_drop", "inactive", "failed_payment", "detractor",
					 "ending_high_risk"};

/* Risk for every row of F: the given model, or logistic regression fitted on
 * the features at as_of - 30 days with the churn seen by as_of. */
static int risks(tn_store *s, const tn_pred_alert_opts *o, const tn_frame *f, double *risk, tn_error *err)
{
	tn_pred_model *m = NULL;
	int rc;
	if (o->model_path) {
		rc = tn_pred_load(o->model_path, &m, err);
	} else {
		tn_pred_features_opts fo = {.as_of = o->as_of - 30 * (int64_t)TN_DAY, .horizon_days = 30};
		tn_frame *tr = NULL;
		rc = tn_pred_features(s, &fo, &tr, err);
		tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
		tn_pred_options opt = tn_pred_options_default();
		if (!rc)
			rc = tn_pred_train(tr, &spec, &opt, &m, err);
		tn_frame_free(tr);
	}
	if (!rc)
		rc = tn_pred_score(m, f, risk, err);
	tn_pred_model_free(m);
	return rc;
}

/* The frame's columns the conditions read (-1: absent). */
typedef struct acols {
	int n30, n90, rec, ten, nps, end, failing, failed;
} acols;

static acols find_cols(const tn_frame *f)
{
	acols c = {tn_frame_find(f, "events_30d"),     tn_frame_find(f, "events_90d"),
		   tn_frame_find(f, "recency_days"),   tn_frame_find(f, "tenure_days"),
		   tn_frame_find(f, "nps"),            tn_frame_find(f, "days_to_period_end"),
		   tn_frame_find(f, "payment_failing"), tn_frame_find(f, "failed_payments_90d")};
	return c;
}

static double col(const tn_frame *f, int j, size_t i)
{
	return j >= 0 && f->cols[j].is_numeric ? f->cols[j].num[i] : NAN;
}

/* Which conditions hold for row I. */
static void conditions(const tn_pred_alert_opts *o, const tn_frame *f, const acols *c, size_t i, double risk,
		       int on[NKINDS])
{
	double n30 = col(f, c->n30, i), prev = col(f, c->n90, i) - n30;
	double rec = col(f, c->rec, i), ten = col(f, c->ten, i);
	double nps = col(f, c->nps, i), end = col(f, c->end, i);
	on[K_DROP] = prev >= o->drop_min_events && n30 / 30.0 < o->drop_fraction * prev / 60.0;
	on[K_INACTIVE] = isnan(rec) ? ten >= o->inactive_days : rec >= o->inactive_days;
	on[K_FAILED] = col(f, c->failing, i) > 0.5;
	on[K_DETRACTOR] = !isnan(nps) && nps <= o->detractor_max;
	on[K_ENDING] = !isnan(risk) && end <= o->ending_days && risk >= o->risk_min;
}

/* Why condition K holds for row I (written only when an alert is raised). */
static void detail_of(const tn_frame *f, const acols *c, size_t i, double risk, int k, char detail[160])
{
	double n30 = col(f, c->n30, i), prev = col(f, c->n90, i) - n30;
	double rec = col(f, c->rec, i), ten = col(f, c->ten, i);
	double nps = col(f, c->nps, i), end = col(f, c->end, i);
	switch (k) {
	case K_DROP:
		snprintf(detail, 160, "%.0f events in the last 30 days vs %.0f in the 60 before", n30, prev);
		break;
	case K_INACTIVE:
		if (isnan(rec))
			snprintf(detail, 160, "no activity since signing up %.0f day%s ago", ten,
				 floor(ten + 0.5) == 1 ? "" : "s");
		else
			snprintf(detail, 160, "no activity for %.0f day%s", rec, floor(rec + 0.5) == 1 ? "" : "s");
		break;
	case K_FAILED:
		snprintf(detail, 160, "the latest charge failed (%.0f failed in 90 days)", col(f, c->failed, i));
		break;
	case K_DETRACTOR:
		snprintf(detail, 160, "latest NPS %.0f", nps);
		break;
	default: {
		double d = ceil(end - 1e-9); /* as of the end of a day: 1 second left = ends tomorrow */
		char when[32];
		if (d <= 1)
			snprintf(when, sizeof when, "%s", d <= 0 ? "today" : "tomorrow");
		else
			snprintf(when, sizeof when, "in %.0f days", d);
		snprintf(detail, 160, "paid period ends %s; churn risk %.2f", when, risk);
	}
	}
}

/* The details above read back as a message id and their numbers (kept next
 * to the formats they read, so the two change together). */
int tn_pred_alert_detail_msg(const char *detail, double v[2])
{
	int k = 0;
	v[0] = v[1] = NAN;
	if (!detail)
		return 0;
	if (sscanf(detail, "%lf events in the last 30 days vs %lf in the 60 before%n", &v[0], &v[1], &k) == 2 && !detail[k])
		return TN_ALERT_MSG_DROP;
	if (sscanf(detail, "no activity since signing up %lf day%n", &v[0], &k) == 1 &&
	    (!strcmp(detail + k, " ago") || !strcmp(detail + k, "s ago")))
		return TN_ALERT_MSG_NEW_INACTIVE;
	if (sscanf(detail, "no activity for %lf day%n", &v[0], &k) == 1 && (!detail[k] || !strcmp(detail + k, "s")))
		return TN_ALERT_MSG_INACTIVE;
	if (sscanf(detail, "the latest charge failed (%lf failed in 90 days)%n", &v[0], &k) == 1 && !detail[k])
		return TN_ALERT_MSG_FAILED;
	if (sscanf(detail, "latest NPS %lf%n", &v[0], &k) == 1 && !detail[k])
		return TN_ALERT_MSG_DETRACTOR;
	if (sscanf(detail, "paid period ends today; churn risk %lf%n", &v[1], &k) == 1 && !detail[k]) {
		v[0] = 0;
		return TN_ALERT_MSG_ENDING;
	}
	if (sscanf(detail, "paid period ends tomorrow; churn risk %lf%n", &v[1], &k) == 1 && !detail[k]) {
		v[0] = 1;
		return TN_ALERT_MSG_ENDING;
	}
	if (sscanf(detail, "paid period ends in %lf days; churn risk %lf%n", &v[0], &v[1], &k) == 2 && !detail[k])
		return TN_ALERT_MSG_ENDING;
	v[0] = v[1] = NAN;
	return 0;
}

static int step_done(tn_store *s, tn_stmt *st, tn_error *err)
{
	int r = tn_db_step(st, "alerts", err);
	tn_db_reset(st);
	return r == TN_DB_DONE || r == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "alerts", err);
}

int tn_pred_alerts_update(tn_store *s, const tn_pred_alert_opts *o, tn_pred_alert_run *run, tn_error *err)
{
	memset(run, 0, sizeof *run);
	tn_pred_features_opts fo = {.as_of = o->as_of, .horizon_days = 30};
	tn_frame *f = NULL;
	int64_t *keys = NULL;
	double *risk = NULL;
	int rc = tn_pred_features_many(s, &fo, &fo.as_of, 1, &f, &keys, err);
	if (!rc && !(risk = tn_malloc((f->nrows ? f->nrows : 1) * sizeof *risk)))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	char risk_error[sizeof run->risk_error] = "";
	if (!rc && f->nrows) {
		/* no risk model (e.g. no churn yet to learn from) only disables the
		 * ending_high_risk alert */
		tn_error rerr = {0};
		int rrc = risks(s, o, f, risk, &rerr);
		if (rrc == TN_ERR_NOMEM || rrc == TN_ERR_DB || rrc == TN_ERR_IO) /* not "no model": a failure */
			rc = tn_error_set(err, rrc, "%s", rerr.msg);
		else if (rrc) {
			for (size_t i = 0; i < f->nrows; i++)
				risk[i] = NAN;
			snprintf(risk_error, sizeof risk_error, "%.200s", rerr.msg);
		}
	}
	if (!rc)
		rc = tn_pred_alerts_apply(s, o, f, risk, keys, run, err);
	if (!rc)
		memcpy(run->risk_error, risk_error, sizeof risk_error);
	free(risk);
	free(keys);
	tn_frame_free(f);
	return rc;
}

/* An open alert: its id and kind, by customer key. */
typedef struct open_alert {
	int64_t id, cust;
	int kind;
} open_alert;

int tn_pred_alerts_apply(tn_store *s, const tn_pred_alert_opts *o, const tn_frame *f, const double *risk,
			 const int64_t *keys, tn_pred_alert_run *run, tn_error *err)
{
	memset(run, 0, sizeof *run);
	tn_stmt *ins = NULL, *seen = NULL, *res = NULL, *q = NULL;
	open_alert *open = NULL;
	size_t nopen = 0, cap = 0;
	int rc = tn_store_begin(s, err);
	if (rc)
		return rc;
	/* the open episodes, in customer order like the frame's rows: merged
	 * with them rather than looked up one customer at a time */
	if (!(q = tn_db_prepare(s, "SELECT id, customer_id, kind FROM alerts WHERE resolved_at IS NULL "
				   "ORDER BY customer_id, id", err))) {
		rc = tn_error_code(err, TN_ERR_DB);
		goto rollback;
	}
	int step;
	while ((step = tn_db_step(q, "alerts: open episodes", err)) == TN_DB_ROW) {
		if (nopen == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			open_alert *p = nc <= 100000000 ? tn_realloc(open, nc * sizeof *p) : NULL;
			if (!p) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			open = p;
			cap = nc;
		}
		const char *kind = tn_db_column_text(q, 2);
		int k = 0;
		while (k < NKINDS && !(kind && strcmp(kind, KIND[k]) == 0))
			k++;
		open[nopen++] = (open_alert){tn_db_column_int64(q, 0), tn_db_column_int64(q, 1), k};
	}
	tn_db_finalize(q);
	if (!rc && step != TN_DB_DONE)
		rc = tn_store_db_error(s, "alerts: open episodes", err);
	if (rc)
		goto rollback;
	if (!(ins = tn_db_prepare(s,
				     "INSERT INTO alerts(customer_id, kind, raised_at, detail, risk, last_seen) "
				     "VALUES (?1, ?2, ?3, ?4, ?5, ?3)",
				     err)) ||
	    !(seen = tn_db_prepare(s, "UPDATE alerts SET last_seen = ?2 WHERE id = ?1", err)) ||
	    !(res = tn_db_prepare(s,
				     "UPDATE alerts SET resolved_at = ?1 WHERE resolved_at IS NULL AND last_seen < ?1",
				     err))) {
		rc = tn_error_code(err, TN_ERR_DB);
		goto rollback;
	}
	acols c = find_cols(f);
	run->customers = f->nrows;
	size_t p = 0;
	for (size_t i = 0; i < f->nrows && !rc; i++) {
		int on[NKINDS];
		conditions(o, f, &c, i, risk[i], on);
		int64_t key = keys[i], open_id[NKINDS] = {0};
		while (p < nopen && open[p].cust < key)
			p++;
		for (size_t r = p; r < nopen && open[r].cust == key; r++)
			if (open[r].kind < NKINDS)
				open_id[open[r].kind] = open[r].id;
		for (int k = 0; k < NKINDS && !rc; k++) {
			if (!on[k])
				continue; /* an open episode is resolved below: its last_seen stays old */
			if (open_id[k]) {
				tn_db_bind_int64(seen, 1, open_id[k]);
				tn_db_bind_int64(seen, 2, o->as_of);
				rc = step_done(s, seen, err);
				run->still_open++;
			} else {
				char detail[160];
				detail_of(f, &c, i, risk[i], k, detail);
				tn_db_bind_int64(ins, 1, key);
				tn_db_bind_text(ins, 2, KIND[k]);
				tn_db_bind_int64(ins, 3, o->as_of);
				tn_db_bind_text(ins, 4, detail);
				if (isnan(risk[i]))
					tn_db_bind_null(ins, 5);
				else
					tn_db_bind_double(ins, 5, risk[i]);
				rc = step_done(s, ins, err);
				run->raised++;
			}
		}
	}
	if (!rc) {
		tn_db_bind_int64(res, 1, o->as_of);
		rc = step_done(s, res, err);
		run->resolved = (size_t)tn_db_changes(s);
	}
rollback:
	free(open);
	tn_db_finalize(ins);
	tn_db_finalize(seen);
	tn_db_finalize(res);
	if (rc)
		tn_store_rollback(s);
	else
		rc = tn_store_commit(s, err);
	return rc;
}

int tn_pred_alerts_list(tn_store *s, int64_t since, int all, tn_pred_alert **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT * FROM (SELECT a.id, c.ext_id, a.kind, a.raised_at, a.resolved_at, a.acked_at, a.risk, a.detail, "
		"(SELECT s.price / CASE s.billing_period WHEN 'year' THEN 12.0 WHEN 'quarter' THEN 3.0 "
		"  WHEN 'week' THEN 7 / 30.4375 WHEN 'day' THEN 1 / 30.4375 ELSE 1.0 END "
		"  FROM subscriptions s WHERE s.customer_id = a.customer_id ORDER BY s.started_at DESC LIMIT 1) AS mrr "
		"FROM alerts a JOIN customers c ON c.id = a.customer_id WHERE a.raised_at >= ?1 "
		"AND (?2 <> 0 OR (a.resolved_at IS NULL AND a.acked_at IS NULL))) AS q "
		"ORDER BY coalesce(risk, 0) * coalesce(mrr, 0) DESC, mrr DESC, raised_at DESC, id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, since);
	tn_db_bind_int64(st, 2, all);
	size_t cap = 0;
	int rc = TN_OK, r;
	while ((r = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		if (*n == cap) {
			if (cap >= ALERTS_LIST_MAX) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "alerts: more than %d to list; use --since",
						  ALERTS_LIST_MAX);
				break;
			}
			size_t nc = cap ? 2 * cap : 64;
			tn_pred_alert *p = tn_realloc(*out, nc * sizeof *p);
			if (!p) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			*out = p;
			cap = nc;
		}
		tn_pred_alert *a = &(*out)[(*n)++];
		a->id = tn_db_column_int64(st, 0);
		snprintf(a->customer, sizeof a->customer, "%s", tn_db_column_text(st, 1));
		snprintf(a->kind, sizeof a->kind, "%s", tn_db_column_text(st, 2));
		a->raised_at = tn_db_column_int64(st, 3);
		a->resolved_at = tn_db_column_is_null(st, 4) ? TN_NO_TIME : tn_db_column_int64(st, 4);
		a->acked_at = tn_db_column_is_null(st, 5) ? TN_NO_TIME : tn_db_column_int64(st, 5);
		a->risk = tn_db_column_is_null(st, 6) ? NAN : tn_db_column_double0(st, 6);
		snprintf(a->detail, sizeof a->detail, "%s", tn_db_column_text(st, 7));
		a->mrr = tn_db_column_is_null(st, 8) ? NAN : tn_db_column_double0(st, 8);
	}
	if (!rc && r != TN_DB_DONE)
		rc = tn_store_db_error(s, "alerts", err);
	tn_db_finalize(st);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int tn_pred_alerts_ack(tn_store *s, int64_t id, int64_t at, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "UPDATE alerts SET acked_at = ?2 WHERE id = ?1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, id);
	tn_db_bind_int64(st, 2, at);
	int rc = tn_db_step(st, "alerts ack", err) == TN_DB_DONE ? TN_OK : tn_store_db_error(s, "alerts ack", err);
	tn_db_finalize(st);
	if (!rc && tn_db_changes(s) == 0)
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "alerts: no alert with id %lld (see tenure alerts --all)",
				  (long long)id);
	return rc;
}
