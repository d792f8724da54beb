/*
 * value.c -- the customer's "value" in GET /v1/customers/{id}: the model of
 * `tenure value score` with its defaults (purchase events of the store,
 * weeks, calibration end on the last purchase day, BG/NBD and Gamma-Gamma,
 * 52 weeks ahead, discount 0.01 a week, margin 0.3), fitted for every
 * customer at once on a thread of its own and kept in memory.
 *
 * Fitting takes seconds on a large store, so a read never waits for it: it
 * uses the model last built (null before the first one is ready).  The model
 * is rebuilt when a commit has changed the data since it was built (the
 * server's generation), at most once every VALUE_REFRESH seconds, so that a
 * steady ingest does not keep a core busy refitting.  docs/api.md says when
 * the value is null.
 *
 * Memory (issue 12: the server's RSS flat under a steady ingest): a refit
 * reads the purchase events on a connection of its own, opened at the first
 * refit and kept until shutdown, with a 1 MiB page cache
 * (tn_store_reader_scan): on a pooled reader the scan filled that reader's
 * 8 MiB cache, which the next refit found stale and filled again, ~8 MB
 * coming and going every VALUE_REFRESH, and it evicted the customer pages
 * the HTTP threads read.  After each refit the freed fit arrays go back to
 * the kernel (server_trim) rather than waiting for the writer's next trim.
 */
#include "server/server_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "base/thread.h"
#include "store/db.h"
#include "tenure/json.h"
#include "tenure/value.h"
#include "tenure/warn.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VALUE_REFRESH 60.0
#define VALUE_HORIZON 52
#define VALUE_DISCOUNT 0.01
#define VALUE_MARGIN 0.3

struct value_model {
	tn_strmap *ids;     /* customer ext_id -> row */
	double *clv, *palive, *expected;
	tn_time cal_end;
	unsigned long gen;  /* the server's generation when the data were read */
	int refs;           /* under value_state.mu */
};

static void model_free(value_model *m)
{
	if (!m)
		return;
	tn_strmap_free(m->ids);
	free(m->clv);
	free(m->palive);
	free(m->expected);
	free(m);
}

/* Build a model from the store; *out NULL (and TN_OK) when the store cannot
 * give one (no purchases, a degenerate fit). */
static int model_build(tn_store *s, unsigned long gen, value_model **out, tn_error *err)
{
	*out = NULL;
	tn_value_txns *t = NULL;
	tn_value_summary *sum = NULL;
	tn_value_scores *sc = NULL;
	value_model *m = NULL;
	int rc = tn_value_txns_from_store(s, &t, err);
	if (rc || tn_value_txns_count(t) == 0)
		goto done;
	tn_time cal = tn_value_txns_last_day(t);
	if ((rc = tn_value_summarize(t, cal, 7, &sum, err)))
		goto done;
	/* the rows are summed up: free them (3.2 MB and their ids' map on the
	 * demo) before the fit, the scores and the new model are built */
	tn_value_txns_free(t);
	t = NULL;
	tn_value_summary_drop_unobserved(sum);
	tn_value_fit tf, gf;
	tn_error ferr = {0};
	if (tn_value_bgnbd_fit(sum->x, sum->t_x, sum->T, sum->n, &tf, &ferr))
		goto done; /* too few data: no model */
	int have_gg = tn_value_gg_fit(sum->x, sum->monetary, sum->n, &gf, &ferr) == TN_OK;
	tn_warnings w = {0};
	tn_value_fit_warnings(&tf, &w);
	if (have_gg)
		tn_value_fit_warnings(&gf, &w);
	int severe = w.severe;
	tn_warnings_free(&w);
	if (severe || !have_gg)
		goto done; /* the numbers would mean nothing */
	tn_value_score_opts so = {TN_VALUE_BGNBD, tf.params, gf.params, VALUE_HORIZON, VALUE_DISCOUNT, VALUE_MARGIN};
	if ((rc = tn_value_score(&so, sum->x, sum->t_x, sum->T, sum->monetary, sum->n, &sc, err)))
		goto done;
	m = tn_calloc(1, sizeof *m);
	if (!m || !(m->ids = tn_strmap_new()) || !(m->clv = tn_malloc(sum->n * sizeof *m->clv)) ||
	    !(m->palive = tn_malloc(sum->n * sizeof *m->palive)) ||
	    !(m->expected = tn_malloc(sum->n * sizeof *m->expected))) {
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < sum->n; i++) {
		size_t k;
		if (tn_strmap_add(m->ids, sum->id[i], &k) < 0) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			goto done;
		}
		tn_strmap_set(m->ids, k, (int64_t)i);
		m->clv[i] = isfinite(sc->spend[i]) ? sc->clv[i] : NAN;
		m->palive[i] = sc->palive[i];
		m->expected[i] = sc->expected[i];
	}
	m->cal_end = cal;
	m->gen = gen;
	*out = m;
	m = NULL;
done:
	model_free(m);
	tn_value_scores_free(sc);
	tn_value_summary_free(sum);
	tn_value_txns_free(t);
	return rc;
}

/* Shutdown (value_stop): the model being built fails at its next read of
 * the store ("cancelled", tn_db_cancel_set), so the server does not wait
 * for a fit of seconds or minutes; the last model stays. */
static int value_halted(void *ud)
{
	value_state *vs = ud;
	return __atomic_load_n(&vs->stopping, __ATOMIC_RELAXED);
}

static void *value_main(void *arg)
{
	tn_server *sv = arg;
	value_state *vs = &sv->value;
	tn_store *conn = NULL; /* the refit's own connection (see the top) */
	tn_thread_background("tn-value"); /* requests first (base/thread.h) */
	pthread_mutex_lock(&vs->mu);
	while (!vs->stopping) {
		unsigned long gen = atomic_load(&sv->value_generation);
		double now = server_now();
		double refresh = sv->o.value_refresh > 0 ? sv->o.value_refresh : VALUE_REFRESH;
		if (vs->built && (gen == vs->built_gen || now - vs->built_at < refresh)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&vs->wake, &vs->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&vs->mu);
		tn_error err = {0};
		if (!conn && tn_store_open(sv->db_path, TN_STORE_LIVE, &conn, &err) == TN_OK &&
		    tn_store_reader_scan(conn, &err) != TN_OK) {
			tn_store_close(conn);
			conn = NULL;
		}
		value_model *m = NULL;
		double t0 = server_now();
		if (conn) {
			tn_db_cancel_set(value_halted, vs);
			/* a failure leaves the last model (or null); the connection is
			 * opened afresh for the next refit, whatever state it was left in */
			if (model_build(conn, gen, &m, &err) != TN_OK) {
				tn_store_close(conn);
				conn = NULL;
			}
			tn_db_cancel_set(NULL, NULL);
		}
		metrics_value_refit(&sv->metrics, server_now() - t0);
		pthread_mutex_lock(&vs->mu);
		vs->built = 1;
		vs->built_gen = gen;
		vs->built_at = server_now();
		if (m) {
			value_model *old = vs->model;
			vs->model = m;
			m->refs = 1;
			/* the read cache's answers carry the old model's value */
			atomic_fetch_add(&sv->value_version, 1);
			if (old && --old->refs == 0)
				model_free(old);
		}
		/* the fit's arrays and the old model are freed: their pages back to
		 * the kernel now (not under the lock: the walk takes a few ms) */
		pthread_mutex_unlock(&vs->mu);
		server_trim();
		pthread_mutex_lock(&vs->mu);
	}
	pthread_mutex_unlock(&vs->mu);
	tn_store_close(conn);
	return NULL;
}

int value_start(tn_server *sv, tn_error *err)
{
	value_state *vs = &sv->value;
	pthread_mutex_init(&vs->mu, NULL);
	pthread_cond_init(&vs->wake, NULL);
	vs->inited = 1;
	if (pthread_create(&vs->thread, NULL, value_main, sv) != 0)
		return tn_error_set(err, TN_ERR_IO, "cannot start the value model's thread");
	vs->started = 1;
	return TN_OK;
}

void value_stop(tn_server *sv)
{
	value_state *vs = &sv->value;
	if (!vs->inited)
		return;
	if (vs->started) {
		pthread_mutex_lock(&vs->mu);
		__atomic_store_n(&vs->stopping, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&vs->wake);
		pthread_mutex_unlock(&vs->mu);
		pthread_join(vs->thread, NULL);
		vs->started = 0;
	}
	if (vs->model && --vs->model->refs == 0)
		model_free(vs->model);
	vs->model = NULL;
	pthread_cond_destroy(&vs->wake);
	pthread_mutex_destroy(&vs->mu);
	vs->inited = 0;
}

char *value_json(tn_server *sv, const char *ext_id)
{
	value_state *vs = &sv->value;
	if (!vs->inited)
		return NULL;
	pthread_mutex_lock(&vs->mu);
	value_model *m = vs->model;
	if (m)
		m->refs++;
	pthread_mutex_unlock(&vs->mu);
	if (!m)
		return NULL;
	char *out = NULL;
	size_t k = tn_strmap_find(m->ids, ext_id);
	if (k != TN_STRMAP_NONE) {
		size_t i = (size_t)tn_strmap_val(m->ids, k);
		cJSON *o = cJSON_CreateObject();
		if (o) {
			char day[32];
			tn_json_add_num(o, "clv", m->clv[i]);
			tn_json_add_num(o, "p_alive", m->palive[i]);
			tn_json_add_num(o, "expected_transactions", m->expected[i]);
			cJSON_AddStringToObject(o, "model", "bgnbd+gamma-gamma");
			tn_json_add_num(o, "horizon_weeks", VALUE_HORIZON);
			tn_json_add_num(o, "discount", VALUE_DISCOUNT);
			tn_json_add_num(o, "margin", VALUE_MARGIN);
			cJSON_AddStringToObject(o, "as_of", tn_time_format(m->cal_end, day, sizeof day));
			out = cJSON_PrintUnformatted(o);
			cJSON_Delete(o);
		}
	}
	pthread_mutex_lock(&vs->mu);
	if (--m->refs == 0)
		model_free(m);
	pthread_mutex_unlock(&vs->mu);
	return out;
}
