/*
 * jobs.c -- the scheduler's jobs (include/tenure/outbox.h, TN_JOBS): what
 * `tenure jobs run` runs from cron and `tenure serve --scheduler` runs in a
 * thread.
 *
 * Each job covers a window (watermark, end of as_of]: the watermark is where
 * its last successful run ended, kept in job_state.  A run is recorded in
 * job_runs ('running', then 'ok' or 'failed') with its duration and count.
 * Work is done in batches, each one transaction holding what it changes and
 * the messages it queues (unique keys derived from the cause), so a run
 * killed mid-way leaves whole batches behind; the next run covers the same
 * window again (the watermark moved only at the end) and queues only the
 * messages not queued yet: nothing twice, nothing skipped.
 */
#include "actions/outbox_internal.h"
#include "base/alloc.h"
#include "store/db.h"
#include "tenure/actions.h"
#include "tenure/predict.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

tn_jobs_opts tn_jobs_opts_default(void)
{
	tn_jobs_opts o = {.as_of = TN_NO_TIME,
			  .winback_days = 30,
			  .winback_control = 0.1,
			  .offer_lead = 7,
			  .ending_days = 30,
			  .batch = 1000,
			  .threads = 2};
	return o;
}

/* CPU time of the whole process (all threads), user + system */
static double cpu_now(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec * 1e-6;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct jctx {
	tn_store *s;
	const tn_jobs_opts *o;
	tn_time from, to;
	long items, queued;
	int batches, in_txn;
	char detail[200];
	struct jshare *sh; /* refresh's frame for the alerts of the same run */
	double plan_cost;  /* the approved plan's cost of one offer (its messages say it) */
} jctx;

/* Commit the batch so far and open the next one; the test hook kills the
 * process (SIGKILL, no clean-up) after kill_after committed batches. */
static int batch_next(jctx *j, tn_error *err)
{
	if (j->in_txn) {
		if (tn_store_commit(j->s, err)) {
			tn_store_rollback(j->s);
			j->in_txn = 0;
			return tn_error_code(err, TN_ERR_DB);
		}
		j->in_txn = 0;
		j->batches++;
		if (j->o->kill_after > 0 && j->batches >= j->o->kill_after)
			raise(SIGKILL);
	}
	if (tn_store_begin(j->s, err))
		return tn_error_code(err, TN_ERR_DB);
	j->in_txn = 1;
	return TN_OK;
}

static int batch_end(jctx *j, int rc, tn_error *err)
{
	if (!j->in_txn)
		return rc;
	j->in_txn = 0;
	if (!rc && tn_store_commit(j->s, err))
		rc = tn_error_code(err, TN_ERR_DB);
	if (rc)
		tn_store_rollback(j->s);
	return rc;
}

static char *json_of(cJSON *o, int *rc, tn_error *err)
{
	char *t = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!t)
		*rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory building a message");
	return t;
}

/* ---- refresh: features and risk for every live customer ---------------------------- */

/* What refresh hands to the alerts of the same run: the features at as-of,
 * their risks and store keys (so alerts neither read the store's history
 * again nor fit a model of their own). */
typedef struct jshare {
	tn_frame *f;
	double *risk;
	int64_t *keys;
	tn_time as_of;
} jshare;

static void jshare_free(jshare *sh)
{
	tn_frame_free(sh->f);
	free(sh->risk);
	free(sh->keys);
	memset(sh, 0, sizeof *sh);
}

/* The reasons of row I in plain words: the (up to) two sources that raise
 * the risk most, as a JSON array into BUF; "" when none raises it. */
static void reasons_json(const tn_pred_model *m, const tn_frame *f, size_t i, const double *contrib,
			 const char *currency, char *buf, size_t n)
{
	size_t nsrc = m->enc->nsrc, a, b;
	tn_pred_top2(contrib, nsrc, &a, &b);
	buf[0] = 0;
	if (a == nsrc)
		return;
	cJSON *arr = cJSON_CreateArray();
	char w[240];
	tn_pred_reason_words(m, f, i, a, currency, w, sizeof w);
	cJSON_AddItemToArray(arr, cJSON_CreateString(w));
	if (b < nsrc) {
		tn_pred_reason_words(m, f, i, b, currency, w, sizeof w);
		cJSON_AddItemToArray(arr, cJSON_CreateString(w));
	}
	if (!cJSON_PrintPreallocated(arr, buf, (int)n, 0))
		buf[0] = 0;
	cJSON_Delete(arr);
}

#define REFRESH_BLOCK 4096 /* rows explained at a time */

static int job_refresh(jctx *j, tn_error *err)
{
	tn_pred_features_opts fo = {.as_of = j->to, .horizon_days = 30, .threads = j->o->threads};
	tn_frame *f = NULL, *tr = NULL;
	int64_t *keys = NULL;
	tn_pred_model *m = NULL;
	int rc;
	if (j->o->model_path) {
		rc = tn_pred_load(j->o->model_path, &m, err);
		if (!rc)
			rc = tn_pred_features_many(j->s, &fo, &j->to, 1, &f, &keys, err);
	} else {
		/* fitted where the 30-day outcome is known: 30 days before the end
		 * of the data (or of as-of when that comes first).  When the data
		 * end by as-of, the training features and the scoring features come
		 * from one pass over the store (equal to two passes then: nothing
		 * lies after the training labels' window). */
		tn_time end = TN_NO_TIME;
		tn_error e2 = {0};
		if (tn_churn_data_end(j->s, &end, &e2) != TN_OK)
			end = TN_NO_TIME;
		tn_time last = end != TN_NO_TIME && end < j->to ? end : j->to;
		tn_time cuts[2] = {last - 30 * (int64_t)TN_DAY, j->to};
		tn_frame *fr[2] = {NULL, NULL};
		int64_t *ks[2] = {NULL, NULL};
		if (end != TN_NO_TIME && end <= j->to) {
			rc = tn_pred_features_many(j->s, &fo, cuts, 2, fr, ks, err);
			tr = fr[0];
			f = fr[1];
			keys = ks[1];
			free(ks[0]);
		} else {
			rc = tn_pred_features_many(j->s, &fo, &cuts[0], 1, &tr, NULL, err);
			if (!rc)
				rc = tn_pred_features_many(j->s, &fo, &cuts[1], 1, &f, &keys, err);
		}
		tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
		tn_pred_options opt = tn_pred_options_default();
		if (!rc)
			rc = tn_pred_train(tr, &spec, &opt, &m, err);
		tn_frame_free(tr);
	}
	double *risk = rc ? NULL : tn_calloc(f->nrows ? f->nrows : 1, sizeof *risk);
	if (!rc && !risk)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory scoring");
	if (!rc)
		rc = tn_pred_score(m, f, risk, err);
	char currency[16] = "";
	if (!rc)
		rc = tn_pred_store_currency(j->s, currency, sizeof currency, err);
	int mrr_col = rc ? -1 : tn_frame_find(f, "mrr");
	size_t nsrc = m ? m->enc->nsrc : 0;
	double *contrib = rc ? NULL : tn_malloc((nsrc ? nsrc : 1) * REFRESH_BLOCK * sizeof *contrib);
	size_t *rows = rc ? NULL : tn_malloc(REFRESH_BLOCK * sizeof *rows);
	if (!rc && (!contrib || !rows))
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory scoring");
	/* one upsert per live customer, by store key in key order, in large
	 * transactions (a rerun writes the same rows again: idempotent) */
	static const char SQL[] = "INSERT INTO customer_scores(customer_id, p_churn, value, source, scored_at, as_of,"
				  " reasons) VALUES (?1, ?2, ?3, 'refresh', ?4, ?5, ?6) ON CONFLICT (customer_id) DO UPDATE"
				  " SET p_churn = excluded.p_churn, value = excluded.value, source = excluded.source,"
				  " scored_at = excluded.scored_at, as_of = excluded.as_of, reasons = excluded.reasons";
	tn_time now = tn_now();
	size_t batch = (size_t)j->o->batch * 50;
	for (size_t i = 0; !rc && i < f->nrows; i++) {
		if (i % REFRESH_BLOCK == 0) {
			size_t nb = f->nrows - i < REFRESH_BLOCK ? f->nrows - i : REFRESH_BLOCK;
			for (size_t k = 0; k < nb; k++)
				rows[k] = i + k;
			if ((rc = tn_pred_explain(m, f, rows, nb, contrib, err)))
				break;
		}
		if (i % batch == 0 && (rc = batch_next(j, err)))
			break;
		tn_stmt *st = tn_db_cached(j->s, SQL, err);
		if (!st) {
			rc = tn_error_code(err, TN_ERR_DB);
			break;
		}
		double p = risk[i] < 0 ? 0 : risk[i] > 1 ? 1 : risk[i];
		/* the value kept: monthly revenue x expected lifetime in months, the
		 * 30-day risk taken as the monthly churn (lifetime capped at 36
		 * months), as tn_scores_estimate does */
		double mrr = mrr_col >= 0 ? f->cols[mrr_col].num[i] : NAN;
		double value = isfinite(mrr) && mrr > 0 ? mrr / (p > 1.0 / 36 ? p : 1.0 / 36) : 0;
		char why[600];
		reasons_json(m, f, i, contrib + (i % REFRESH_BLOCK) * nsrc, currency, why, sizeof why);
		tn_db_bind_int64(st, 1, keys[i]);
		tn_db_bind_double(st, 2, p);
		tn_db_bind_double(st, 3, value);
		tn_db_bind_time(st, 4, now);
		tn_db_bind_time(st, 5, j->to);
		if (why[0])
			tn_db_bind_text(st, 6, why);
		else
			tn_db_bind_null(st, 6);
		rc = ob_step_done(st, "writing a risk score", err);
		tn_db_reset(st);
		j->items++;
	}
	rc = batch_end(j, rc, err);
	snprintf(j->detail, sizeof j->detail, "%ld customers scored", j->items);
	free(contrib);
	free(rows);
	tn_pred_model_free(m);
	if (!rc && j->sh) { /* for the alerts of this run */
		jshare_free(j->sh);
		*j->sh = (jshare){.f = f, .risk = risk, .keys = keys, .as_of = j->to};
		return TN_OK;
	}
	free(risk);
	free(keys);
	tn_frame_free(f);
	return rc;
}

/* ---- messages read first, then queued in batches --------------------------------------- */

/* A message a job will queue.  The candidates are all read before the first
 * write (a cursor does not outlive a commit on every backend), then queued
 * in batches of o->batch, each one transaction with what it queues. */
typedef struct jmsg {
	int64_t cust;
	char *key, *json;
} jmsg;

typedef struct jmsgs {
	jmsg *v;
	size_t n, cap;
} jmsgs;

static void jmsgs_free(jmsgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].key);
		free(m->v[i].json);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* Add a message: KEY (formatted) and the JSON of O (consumed). */
static int jmsgs_add(jmsgs *m, int64_t cust, cJSON *o, tn_error *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int jmsgs_add(jmsgs *m, int64_t cust, cJSON *o, tn_error *err, const char *fmt, ...)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 256;
		jmsg *t = nc <= 50000000 ? tn_realloc(m->v, nc * sizeof *t) : NULL;
		if (!t) {
			cJSON_Delete(o);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading what to queue");
		}
		m->v = t;
		m->cap = nc;
	}
	int rc = TN_OK;
	char *json = json_of(o, &rc, err);
	if (rc)
		return rc;
	char key[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(key, sizeof key, fmt, ap);
	va_end(ap);
	char *k = tn_strdup(key);
	if (!k) {
		free(json);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory reading what to queue");
	}
	m->v[m->n++] = (jmsg){cust, k, json};
	return TN_OK;
}

/* Read the rows of ST (finalized here) into M through ROW. */
static int jmsgs_read(jctx *j, tn_stmt *st, const char *what, jmsgs *m,
		      int (*row)(jctx *, tn_stmt *, jmsgs *, tn_error *), tn_error *err)
{
	int rc = TN_OK, step;
	while ((step = tn_db_step(st, what, err)) == TN_DB_ROW)
		if ((rc = row(j, st, m, err)))
			break;
	tn_db_finalize(st);
	if (!rc && step != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	return rc;
}

/* Queue M's messages as EVENT, o->batch a transaction; frees M. */
static int jmsgs_queue(jctx *j, const char *event, jmsgs *m, int rc, tn_error *err)
{
	for (size_t i = 0; i < m->n && !rc; i++) {
		if (i % j->o->batch == 0 && (rc = batch_next(j, err)))
			break;
		rc = tn_outbox_enqueue(j->s, event, m->v[i].key, m->v[i].cust, m->v[i].json, j->to, &j->queued, err);
		j->items++;
	}
	rc = batch_end(j, rc, err);
	jmsgs_free(m);
	return rc;
}

/* What a listing job does with its query ST (prepared by the caller, which
 * binds any parameter past the first two): ?1, ?2 = the job's window,
 * every row read through ROW, then queued as EVENT. */
static int jmsgs_list(jctx *j, tn_stmt *st, const char *what, int (*row)(jctx *, tn_stmt *, jmsgs *, tn_error *),
		      const char *event, tn_error *err)
{
	tn_db_bind_time(st, 1, j->from);
	tn_db_bind_time(st, 2, j->to);
	jmsgs m = {0};
	int rc = jmsgs_read(j, st, what, &m, row, err);
	return jmsgs_queue(j, event, &m, rc, err);
}

/* ---- alerts: evaluate, then queue the ones raised in the window -------------------- */

static int alert_row(jctx *j, tn_stmt *st, jmsgs *m, tn_error *err)
{
	(void)j;
	char iso[40];
	cJSON *o = cJSON_CreateObject();
	int64_t id = tn_db_column_int64(st, 0);
	cJSON_AddNumberToObject(o, "alert_id", (double)id);
	cJSON_AddStringToObject(o, "kind", tn_db_column_text(st, 2));
	cJSON_AddStringToObject(o, "raised_at", tn_time_format(tn_db_column_time(st, 3), iso, sizeof iso));
	cJSON_AddStringToObject(o, "detail", tn_db_column_text(st, 4));
	tn_json_add_num(o, "risk", tn_db_column_double(st, 5));
	return jmsgs_add(m, tn_db_column_int64(st, 1), o, err, "alert:%lld", (long long)id);
}

static int job_alerts(jctx *j, tn_error *err)
{
	tn_pred_alert_opts ao = tn_pred_alert_opts_default();
	ao.as_of = j->to;
	ao.model_path = j->o->model_path;
	tn_pred_alert_run run;
	int rc;
	if (j->sh && j->sh->f && j->sh->as_of == j->to) /* refresh's features and risks */
		rc = tn_pred_alerts_apply(j->s, &ao, j->sh->f, j->sh->risk, j->sh->keys, &run, err);
	else
		rc = tn_pred_alerts_update(j->s, &ao, &run, err);
	if (j->sh)
		jshare_free(j->sh); /* the frame is not needed past here */
	if (rc)
		return rc;
	tn_stmt *st = tn_db_prepare(j->s,
				    "SELECT id, customer_id, kind, raised_at, detail, risk FROM alerts"
				    " WHERE raised_at > ? AND raised_at <= ? ORDER BY id",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	rc = jmsgs_list(j, st, "reading alerts", alert_row, "alert", err);
	snprintf(j->detail, sizeof j->detail, "%zu live customers, %zu raised, %zu resolved; %ld alerts in the window",
		 run.customers, run.raised, run.resolved, j->items);
	return rc;
}

/* ---- win-back: contact N days after churn ------------------------------------------- */

static int has_email(tn_store *s, int64_t key, int *yes, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, "SELECT attrs FROM customers WHERE id = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, key);
	int rc = tn_db_step(st, "reading a customer", err);
	*yes = 0;
	if (rc == TN_DB_ROW) {
		cJSON *a = cJSON_Parse(tn_db_column_text(st, 0));
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "email");
		*yes = cJSON_IsString(e) && e->valuestring[0];
		cJSON_Delete(a);
		rc = TN_OK;
	} else if (rc == TN_DB_DONE) {
		rc = TN_OK;
	}
	tn_db_reset(st);
	return rc;
}

static int job_winback(jctx *j, tn_error *err)
{
	tn_winback_due *due = NULL;
	size_t n = 0;
	double horizon = (double)(j->to - j->from) / TN_DAY;
	int rc = tn_winback_schedule(j->s, j->from, j->o->winback_days, horizon, j->o->winback_control, 42, &due, &n,
				     err);
	if (rc)
		return rc;
	char *smtp = NULL;
	rc = ob_meta_get(j->s, OB_SMTP_URL, &smtp, err);
	size_t controls = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (i % j->o->batch == 0 && (rc = batch_next(j, err)))
			break;
		tn_winback_due *d = &due[i];
		int64_t key;
		if ((rc = ob_customer_key(j->s, d->customer, &key, err)))
			break;
		int email = 0;
		if (smtp && !d->control && (rc = has_email(j->s, key, &email, err)))
			break;
		tn_winback_contact c = {.customer = d->customer,
					.campaign = "auto-winback",
					.channel = email ? "email" : "none",
					.at = d->contact_on,
					.control = d->control};
		if ((rc = tn_winback_record(j->s, &c, NULL, err)))
			break;
		j->items++;
		if (d->control) {
			controls++;
			continue;
		}
		char iso[40], iso2[40], k[200];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "plan", d->plan);
		cJSON_AddStringToObject(o, "lapsed_at", tn_time_format(d->lapsed_at, iso, sizeof iso));
		cJSON_AddStringToObject(o, "contact_on", tn_time_format(d->contact_on, iso2, sizeof iso2));
		tn_json_add_num(o, "price", d->price);
		cJSON_AddStringToObject(o, "campaign", "auto-winback");
		char *data = json_of(o, &rc, err);
		snprintf(k, sizeof k, "winback:%s:%lld", d->customer, (long long)d->lapsed_at);
		if (!rc)
			rc = tn_outbox_enqueue(j->s, "winback", k, key, data, j->to, &j->queued, err);
		free(data);
	}
	rc = batch_end(j, rc, err);
	free(smtp);
	tn_winback_due_free(due, n);
	snprintf(j->detail, sizeof j->detail, "%ld due (%zu held out as control)", j->items, controls);
	return rc;
}

/* ---- offers: N days before the period end or the danger window ---------------------- */

static int offer_row(jctx *j, tn_stmt *st, jmsgs *m, tn_error *err)
{
	(void)j;
	const char *ext = tn_db_column_text(st, 1), *why = tn_db_column_text(st, 5);
	int period = why && strcmp(why, "period_end") == 0;
	tn_time at = tn_db_column_time(st, 3);
	char iso[40];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", why);
	cJSON_AddStringToObject(o, "plan", tn_db_column_text(st, 2));
	cJSON_AddStringToObject(o, period ? "period_end" : "danger_starts", tn_date_format(at, iso, sizeof iso));
	tn_json_add_num(o, "price", tn_db_column_double(st, 4));
	cJSON_AddStringToObject(o, "moment", "renewal_due");
	/* one offer per period end, one per danger window */
	if (period)
		return jmsgs_add(m, tn_db_column_int64(st, 0), o, err, "offer:%s:period:%lld", ext, (long long)at);
	return jmsgs_add(m, tn_db_column_int64(st, 0), o, err, "offer:%s:danger", ext);
}

/* an offer of the approved plan in force: what the approval queued, under
 * the approval's key, so a message it queued is not queued twice */
static int plan_offer_row(jctx *j, tn_stmt *st, jmsgs *m, tn_error *err)
{
	char day[16];
	tn_date_format(tn_db_column_time(st, 5), day, sizeof day);
	cJSON *o = cJSON_CreateObject();
	tn_json_add_num(o, "plan_id", (double)tn_db_column_int64(st, 6));
	tn_json_add_num(o, "rank", (double)tn_db_column_int64(st, 2));
	tn_json_add_num(o, "p_churn", tn_db_column_double(st, 3));
	tn_json_add_num(o, "expected_profit", tn_db_column_double(st, 4));
	tn_json_add_num(o, "offer_cost", j->plan_cost);
	cJSON_AddStringToObject(o, "send_on", day);
	cJSON_AddStringToObject(o, "moment", "approved_plan");
	return jmsgs_add(m, tn_db_column_int64(st, 0), o, err, "offer:%s:approved:%s", tn_db_column_text(st, 1), day);
}

/* While a plan approved on the dashboard is in force, it replaces the
 * renewal rule: its offer arm's offers whose send day falls in the window,
 * nothing to its control arm or to anyone outside it. */
static int job_plan_offers(jctx *j, const tn_plan_force *pf, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(
		j->s,
		"SELECT c.id, c.ext_id, a.rank, a.p_churn, a.expected_profit, COALESCE(a.send_at, p.created_at), a.plan_id"
		" FROM offer_assignments a JOIN customers c ON c.id = a.customer_id JOIN offer_plans p ON p.id ="
		" a.plan_id WHERE a.plan_id = ?3 AND a.arm = 'offer' AND COALESCE(a.send_at, p.created_at) > ?1 AND"
		" COALESCE(a.send_at, p.created_at) <= ?2 ORDER BY 1",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 3, pf->plan_id);
	j->plan_cost = pf->offer_cost;
	int rc = jmsgs_list(j, st, "finding the approved plan's offers due", plan_offer_row, "offer", err);
	snprintf(j->detail, sizeof j->detail,
		 "approved plan %lld in force: %ld of its offers due (%ld newly queued); none to its %ld controls",
		 (long long)pf->plan_id, j->items, j->queued, pf->n_control);
	return rc;
}

static int job_offers(jctx *j, tn_error *err)
{
	tn_plan_force pf;
	int rc = tn_offer_plan_in_force(j->s, &pf, err);
	if (rc)
		return rc;
	if (pf.plan_id)
		return job_plan_offers(j, &pf, err);
	int64_t lead = (int64_t)llround(j->o->offer_lead * TN_DAY);
	double dfrom = NAN, dto, share;
	rc = tn_offers_danger_window(j->s, j->to, &dfrom, &dto, &share, err);
	if (rc)
		return rc;
	int64_t danger = isfinite(dfrom) ? (int64_t)llround(dfrom * TN_DAY) : -1;
	/* the period ends ahead by the lead, and (when there is a danger window)
	 * the customers whose age reaches its start by the lead, in the window */
	tn_stmt *st = tn_db_prepare(
		j->s,
		"SELECT c.id, c.ext_id, s.plan, s.current_period_end, s.price, 'period_end' FROM subscriptions s"
		" JOIN customers c ON c.id = s.customer_id WHERE s.status IN ('trialing','active','past_due')"
		" AND s.current_period_end > ?1 + ?3 AND s.current_period_end <= ?2 + ?3"
		" UNION ALL SELECT c.id, c.ext_id, s.plan, c.signed_up_at + ?4, s.price, 'danger_window'"
		" FROM customers c JOIN subscriptions s ON s.customer_id = c.id"
		" WHERE ?4 >= 0 AND s.status IN ('trialing','active','past_due') AND c.signed_up_at + ?4 > ?1 + ?3"
		" AND c.signed_up_at + ?4 <= ?2 + ?3 ORDER BY 1, 4",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 3, lead);
	tn_db_bind_int64(st, 4, danger);
	rc = jmsgs_list(j, st, "finding offers due", offer_row, "offer", err);
	snprintf(j->detail, sizeof j->detail, "%ld offers due (lead %g days; danger window from day %g)", j->items,
		 j->o->offer_lead, dfrom);
	return rc;
}

/* ---- contract ends within a month ----------------------------------------------------- */

static int ending_row(jctx *j, tn_stmt *st, jmsgs *m, tn_error *err)
{
	(void)j;
	char iso[40];
	tn_time_format(tn_db_column_time(st, 4), iso, sizeof iso);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "plan", tn_db_column_text(st, 3));
	cJSON_AddStringToObject(o, "ends_at", iso);
	tn_json_add_num(o, "price", tn_db_column_double(st, 5));
	cJSON_AddBoolToObject(o, "renews", tn_db_column_int64(st, 6) != 0);
	/* one message per subscription and period end */
	return jmsgs_add(m, tn_db_column_int64(st, 0), o, err, "ending:%lld:%s", (long long)tn_db_column_int64(st, 2),
			 iso);
}

static int job_ending(jctx *j, tn_error *err)
{
	int64_t ahead = (int64_t)llround(j->o->ending_days * TN_DAY);
	tn_stmt *st = tn_db_prepare(
		j->s,
		"SELECT c.id, c.ext_id, s.id, s.plan, s.current_period_end, s.price, s.cancelled_at IS NULL FROM"
		" subscriptions s JOIN customers c ON c.id = s.customer_id WHERE s.status IN ('trialing','active',"
		"'past_due') AND s.current_period_end > ?1 + ?3 AND s.current_period_end <= ?2 + ?3 ORDER BY 1, 3",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 3, ahead);
	int rc = jmsgs_list(j, st, "finding contracts ending", ending_row, "contract_ending", err);
	snprintf(j->detail, sizeof j->detail, "%ld contracts enter the last %g days", j->items, j->o->ending_days);
	return rc;
}

/* ---- points expiry -------------------------------------------------------------------- */

static int job_points(jctx *j, tn_error *err)
{
	long entries = 0;
	long long pts = 0;
	int rc = tn_points_expire(j->s, j->to, &entries, &pts, err);
	j->items = entries;
	snprintf(j->detail, sizeof j->detail, "%ld lots expired (%lld points)", entries, pts);
	return rc;
}

/* ---- the runner ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(jctx *, tn_error *);
	double first_days; /* the first run's window reaches this many days back */
} JOBS[] = {
	{"refresh", job_refresh, 1}, {"alerts", job_alerts, 1}, {"winback", job_winback, 1},
	{"offers", job_offers, 1},   {"ending", job_ending, 30}, {"points", job_points, 1},
};
#define NJOBS (sizeof JOBS / sizeof JOBS[0])

static int watermark(tn_store *s, const char *job, tn_time *w, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, "SELECT watermark FROM job_state WHERE job = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, job);
	int rc = tn_db_step(st, "reading a job's watermark", err);
	*w = rc == TN_DB_ROW ? tn_db_column_time(st, 0) : TN_NO_TIME;
	tn_db_reset(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

static int failed_recently(tn_store *s, const char *job, tn_time as_of, double wait, int *recent, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s,
				   "SELECT outcome, as_of, started_at FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1",
				   err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, job);
	int rc = tn_db_step(st, "reading job runs", err);
	*recent = rc == TN_DB_ROW && strcmp(tn_db_column_text(st, 0), "failed") == 0 &&
		  tn_db_column_time(st, 1) == as_of && (double)(tn_now() - tn_db_column_time(st, 2)) < wait;
	tn_db_reset(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

static int run_start(tn_store *s, const char *job, tn_time as_of, tn_time from, int64_t *run_id, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	/* a run still 'running' was killed: say so */
	tn_stmt *st = tn_db_prepare(s,
				    "UPDATE job_runs SET outcome = 'failed', detail = 'interrupted (the process stopped)'"
				    " WHERE job = ? AND outcome = 'running'",
				    err);
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		tn_db_bind_text(st, 1, job);
		rc = ob_step_done(st, "closing an interrupted run", err);
	}
	tn_db_finalize(st);
	if (!rc) {
		st = tn_db_prepare(s,
				   "INSERT INTO job_runs(job, as_of, window_from, started_at, outcome) VALUES (?, ?, ?, ?,"
				   " 'running') RETURNING id",
				   err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_text(st, 1, job);
			tn_db_bind_time(st, 2, as_of);
			tn_db_bind_time(st, 3, from);
			tn_db_bind_time(st, 4, tn_now());
			int r = tn_db_step(st, "starting a job run", err);
			if (r == TN_DB_ROW) {
				*run_id = tn_db_column_int64(st, 0);
				r = tn_db_step(st, "starting a job run", err);
			}
			rc = r == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
		}
		tn_db_finalize(st);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

static int run_finish(tn_store *s, const char *job, int64_t run_id, int ok, long items, const char *detail,
		      double seconds, tn_time to, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = tn_db_prepare(
		s, "UPDATE job_runs SET outcome = ?, finished_at = ?, items = ?, detail = ?, seconds = ? WHERE id = ?", err);
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		tn_db_bind_text(st, 1, ok ? "ok" : "failed");
		tn_db_bind_time(st, 2, tn_now());
		tn_db_bind_int64(st, 3, items);
		tn_db_bind_text(st, 4, detail);
		tn_db_bind_double(st, 5, seconds);
		tn_db_bind_int64(st, 6, run_id);
		rc = ob_step_done(st, "finishing a job run", err);
	}
	tn_db_finalize(st);
	if (!rc && ok) {
		st = tn_db_prepare(s,
				   "INSERT INTO job_state(job, watermark) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET"
				   " watermark = excluded.watermark",
				   err);
		rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB);
		if (!rc) {
			tn_db_bind_text(st, 1, job);
			tn_db_bind_time(st, 2, to);
			rc = ob_step_done(st, "moving a job's watermark", err);
		}
		tn_db_finalize(st);
	}
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

int tn_jobs_run(tn_store *s, const tn_jobs_opts *o, tn_job_result *res, size_t *nres, tn_error *err)
{
	*nres = 0;
	if (o->as_of == TN_NO_TIME)
		return tn_error_set(err, TN_ERR_USAGE, "jobs: an as-of instant is needed");
	if (o->batch < 1 || o->batch > 10000000 || !(o->winback_days >= 0) || !(o->offer_lead >= 0) ||
	    !(o->ending_days > 0) || !(o->winback_control >= 0 && o->winback_control < 1))
		return tn_error_set(err, TN_ERR_USAGE, "jobs: options out of range");
	int found = 0;
	for (size_t i = 0; i < NJOBS; i++)
		found |= !o->job || strcmp(o->job, JOBS[i].name) == 0;
	if (!found)
		return tn_error_set(err, TN_ERR_USAGE, "jobs: unknown job \"%s\" (known: %s)", o->job, TN_JOBS);
	int first = TN_OK, rc = TN_OK;
	jshare sh = {0};
	for (size_t i = 0; i < NJOBS && !rc; i++) {
		if (o->job && strcmp(o->job, JOBS[i].name) != 0)
			continue;
		if (o->stop && *o->stop)
			break;
		tn_job_result *r = &res[(*nres)++];
		memset(r, 0, sizeof *r);
		snprintf(r->job, sizeof r->job, "%s", JOBS[i].name);
		tn_time w;
		if ((rc = watermark(s, JOBS[i].name, &w, err)))
			break;
		tn_time from = w != TN_NO_TIME ? w : o->as_of - (tn_time)llround(JOBS[i].first_days * TN_DAY);
		if (from >= o->as_of) {
			r->skipped = 1;
			snprintf(r->detail, sizeof r->detail, "done up to as-of already");
			continue;
		}
		if (o->retry_wait > 0) {
			int recent = 0;
			if ((rc = failed_recently(s, JOBS[i].name, o->as_of, o->retry_wait, &recent, err)))
				break;
			if (recent) {
				r->skipped = 1;
				snprintf(r->detail, sizeof r->detail, "failed recently for this as-of; retried later");
				continue;
			}
		}
		int64_t run_id = 0;
		if ((rc = run_start(s, JOBS[i].name, o->as_of, from, &run_id, err)))
			break;
		jctx j = {.s = s,
			  .o = o,
			  .from = from,
			  .to = o->as_of,
			  .sh = &sh};
		double t0 = mono(), c0 = cpu_now();
		tn_error jerr = {0};
		int jrc = JOBS[i].fn(&j, &jerr);
		r->seconds = mono() - t0;
		r->cpu_seconds = cpu_now() - c0;
		r->items = j.items;
		r->queued = j.queued;
		snprintf(r->detail, sizeof r->detail, "%.199s", jrc ? jerr.msg : j.detail);
		r->failed = jrc != TN_OK;
		if ((rc = run_finish(s, JOBS[i].name, run_id, jrc == TN_OK, j.items, r->detail, r->seconds, o->as_of,
				     err)))
			break;
		if (jrc && !first)
			first = tn_error_set(err, jrc, "job %s: %s", JOBS[i].name, jerr.msg);
	}
	jshare_free(&sh);
	return rc ? rc : first;
}

int tn_jobs_list(tn_store *s, tn_job_info out[8], size_t *n, tn_error *err)
{
	*n = 0;
	for (size_t i = 0; i < NJOBS; i++) {
		tn_job_info *r = &out[(*n)++];
		memset(r, 0, sizeof *r);
		snprintf(r->job, sizeof r->job, "%s", JOBS[i].name);
		snprintf(r->outcome, sizeof r->outcome, "never");
		r->last_started = r->last_finished = r->as_of = TN_NO_TIME;
		int rc = watermark(s, JOBS[i].name, &r->watermark, err);
		if (rc)
			return rc;
		tn_stmt *st = tn_db_cached(s,
					   "SELECT started_at, finished_at, outcome, items, detail, as_of, seconds FROM job_runs"
					   " WHERE job = ? ORDER BY id DESC LIMIT 1",
					   err);
		if (!st)
			return tn_error_code(err, TN_ERR_DB);
		tn_db_bind_text(st, 1, JOBS[i].name);
		rc = tn_db_step(st, "reading job runs", err);
		if (rc == TN_DB_ROW) {
			r->last_started = tn_db_column_time(st, 0);
			r->last_finished = tn_db_column_time(st, 1);
			snprintf(r->outcome, sizeof r->outcome, "%s", tn_db_column_text(st, 2));
			r->items = (long)tn_db_column_int64(st, 3);
			const char *d = tn_db_column_text(st, 4);
			snprintf(r->detail, sizeof r->detail, "%.199s", d ? d : "");
			r->as_of = tn_db_column_time(st, 5);
			r->seconds = tn_db_column_double(st, 6); /* NaN while running */
		}
		tn_db_reset(st);
		if (rc != TN_DB_ROW && rc != TN_DB_DONE)
			return rc;
	}
	return TN_OK;
}
