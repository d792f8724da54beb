/*
 * decisions.c -- the offer catalogue, stored scores, the in-memory decider
 * behind POST /v1/decisions, decisions and their outcomes in the store.
 * The formulas are in include/tenure/decide.h; the report is in
 * decisions_report.c.  Database access through the SQL interface (db.h).
 */
#include "tenure/decide.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "base/rng.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const MOMENTS[TN_MOMENT_COUNT] = {"cancel", "auto_renew_off", "session", "renewal_due"};
/* P(leave without an offer) is at least this at the moment (decide.h) */
static const double MOMENT_FLOOR[TN_MOMENT_COUNT] = {0.9, 0.7, 0, 0};
static const char *const KINDS[] = {"discount", "pause", "downgrade", "free_period", NULL};

int tn_moment_parse(const char *name)
{
	for (int i = 0; name && i < TN_MOMENT_COUNT; i++)
		if (strcmp(name, MOMENTS[i]) == 0)
			return i;
	return -1;
}

const char *tn_moment_name(int moment)
{
	return moment >= 0 && moment < TN_MOMENT_COUNT ? MOMENTS[moment] : "?";
}

int tn_moments_parse(const char *list, unsigned *mask, tn_error *err)
{
	*mask = 0;
	if (!list || !*list)
		return tn_error_set(err, TN_ERR_USAGE, "moments: expected a list of cancel, auto_renew_off, session, "
				    "renewal_due (or all), found nothing");
	if (strcmp(list, "all") == 0) {
		*mask = (1u << TN_MOMENT_COUNT) - 1;
		return TN_OK;
	}
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ",");
		char w[32];
		if (n >= sizeof w)
			n = sizeof w - 1;
		memcpy(w, p, n);
		w[n] = '\0';
		int m = tn_moment_parse(w);
		if (m < 0)
			return tn_error_set(err, TN_ERR_USAGE, "moments: unknown moment '%s' (cancel, auto_renew_off, "
					    "session, renewal_due, all)", w);
		*mask |= 1u << m;
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return TN_OK;
}

static int name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > TN_OFFER_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static char *moments_text(unsigned mask, char *buf, size_t cap)
{
	buf[0] = '\0';
	for (int m = 0; m < TN_MOMENT_COUNT; m++)
		if (mask & (1u << m)) {
			size_t k = strlen(buf);
			snprintf(buf + k, cap - k, "%s%s", k ? "," : "", MOMENTS[m]);
		}
	return buf;
}

/* ---- the catalogue ------------------------------------------------------- */

int tn_catalogue_add(tn_store *s, const tn_catalogue_offer *o, tn_time now, int64_t *id, tn_error *err)
{
	if (!name_ok(o->name))
		return tn_error_set(err, TN_ERR_USAGE, "offer name: expected 1 to %d letters, digits, '_', '-' or '.', "
				    "found '%s'", TN_OFFER_NAME_MAX, o->name ? o->name : "");
	int k = 0;
	while (KINDS[k] && (!o->kind || strcmp(KINDS[k], o->kind) != 0))
		k++;
	if (!KINDS[k])
		return tn_error_set(err, TN_ERR_USAGE, "--kind: expected discount, pause, downgrade or free_period, "
				    "found '%s'", o->kind ? o->kind : "");
	if (!o->terms || !*o->terms || strlen(o->terms) > TN_OFFER_TERMS_MAX)
		return tn_error_set(err, TN_ERR_USAGE, "--terms: expected the terms shown to the customer (1 to %d "
				    "bytes)", TN_OFFER_TERMS_MAX);
	if (!(o->cost >= 0) || !isfinite(o->cost))
		return tn_error_set(err, TN_ERR_USAGE, "--cost: expected a number >= 0, found %g", o->cost);
	if (!(o->uplift_prior >= 0 && o->uplift_prior <= 1))
		return tn_error_set(err, TN_ERR_USAGE, "--uplift: expected a probability in [0, 1], found %g",
				    o->uplift_prior);
	if (!(o->prior_weight > 0) || !isfinite(o->prior_weight))
		return tn_error_set(err, TN_ERR_USAGE, "--prior-weight: expected a number > 0, found %g",
				    o->prior_weight);
	if (!isnan(o->budget) && !(o->budget >= 0 && isfinite(o->budget)))
		return tn_error_set(err, TN_ERR_USAGE, "--budget: expected a number >= 0, found %g", o->budget);
	if (o->cap_count < 1 || !(o->cap_days >= 0) || !isfinite(o->cap_days))
		return tn_error_set(err, TN_ERR_USAGE, "--cap: expected N/DAYS with N >= 1 and DAYS >= 0");
	if (!(o->valid_days > 0) || !isfinite(o->valid_days))
		return tn_error_set(err, TN_ERR_USAGE, "--valid-days: expected a number > 0, found %g", o->valid_days);
	if (!o->moments || o->moments >= (1u << TN_MOMENT_COUNT))
		return tn_error_set(err, TN_ERR_USAGE, "--moments: expected at least one moment");
	tn_stmt *q = tn_db_prepare(s, "SELECT id FROM offer_catalogue WHERE name = ?", err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(q, 1, o->name);
	int rc = tn_db_step(q, "reading the offer catalogue", err);
	tn_db_finalize(q);
	if (rc == TN_DB_ROW)
		return tn_error_set(err, TN_ERR_USAGE, "offer '%s' is already in the catalogue (remove it first, or "
				    "give another name)", o->name);
	if (rc != TN_DB_DONE)
		return rc;
	char mbuf[64];
	tn_stmt *ins = tn_db_prepare(s,
				     "INSERT INTO offer_catalogue(name, kind, terms, cost, uplift_prior, prior_weight, budget,"
				     " cap_count, cap_days, moments, valid_days, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
				     " RETURNING id",
				     err);
	if (!ins)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(ins, 1, o->name);
	tn_db_bind_text(ins, 2, o->kind);
	tn_db_bind_text(ins, 3, o->terms);
	tn_db_bind_double(ins, 4, o->cost);
	tn_db_bind_double(ins, 5, o->uplift_prior);
	tn_db_bind_double(ins, 6, o->prior_weight);
	tn_db_bind_double(ins, 7, o->budget);
	tn_db_bind_int64(ins, 8, o->cap_count);
	tn_db_bind_double(ins, 9, o->cap_days);
	tn_db_bind_text(ins, 10, moments_text(o->moments, mbuf, sizeof mbuf));
	tn_db_bind_double(ins, 11, o->valid_days);
	tn_db_bind_time(ins, 12, now);
	rc = tn_db_step(ins, "adding an offer", err);
	if (rc == TN_DB_ROW) {
		if (id)
			*id = tn_db_column_int64(ins, 0);
		rc = tn_db_step(ins, "adding an offer", err);
	}
	tn_db_finalize(ins);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

int tn_catalogue_remove(tn_store *s, const char *name, tn_time now, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "UPDATE offer_catalogue SET removed_at = ? WHERE name = ? AND removed_at IS NULL",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_time(st, 1, now);
	tn_db_bind_text(st, 2, name);
	int rc = tn_db_step(st, "removing an offer", err);
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		return rc;
	if (tn_db_changes(s) == 0)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no offer '%s' in the catalogue", name ? name : "");
	return TN_OK;
}

void tn_catalogue_free(tn_catalogue_offer *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++) {
		free(o[i].name);
		free(o[i].kind);
		free(o[i].terms);
	}
	free(o);
}

int tn_catalogue_list(tn_store *s, tn_catalogue_offer **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *q = tn_db_prepare(s,
				   "SELECT id, name, kind, terms, cost, uplift_prior, prior_weight, budget, cap_count, cap_days,"
				   " moments, valid_days, created_at FROM offer_catalogue WHERE removed_at IS NULL ORDER BY id",
				   err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	tn_catalogue_offer *v = NULL;
	int rc;
	while ((rc = tn_db_step(q, "reading the offer catalogue", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			tn_catalogue_offer *g = tn_realloc(v, nc * sizeof *g);
			if (!g) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			v = g;
			cap = nc;
		}
		tn_catalogue_offer *o = &v[(*n)++];
		memset(o, 0, sizeof *o);
		o->id = tn_db_column_int64(q, 0);
		o->name = tn_strdup(tn_db_column_text(q, 1));
		o->kind = tn_strdup(tn_db_column_text(q, 2));
		o->terms = tn_strdup(tn_db_column_text(q, 3));
		o->cost = tn_db_column_double(q, 4);
		o->uplift_prior = tn_db_column_double(q, 5);
		o->prior_weight = tn_db_column_double(q, 6);
		o->budget = tn_db_column_double(q, 7);
		o->cap_count = (long)tn_db_column_int64(q, 8);
		o->cap_days = tn_db_column_double(q, 9);
		tn_moments_parse(tn_db_column_text(q, 10), &o->moments, NULL);
		o->valid_days = tn_db_column_double(q, 11);
		o->created_at = tn_db_column_time(q, 12);
		if (!o->name || !o->kind || !o->terms) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	tn_db_finalize(q);
	if (rc != TN_DB_DONE) {
		tn_catalogue_free(v, *n);
		*n = 0;
		return rc;
	}
	*out = v;
	return TN_OK;
}

/* ---- stored scores and settings -------------------------------------------- */

int tn_scores_store(tn_store *s, const tn_scores *sc, const char *source, tn_time now, tn_error *err)
{
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	tn_stmt *del = tn_db_prepare(s, "DELETE FROM customer_scores", err);
	if (!del || tn_db_step(del, "clearing stored scores", err) != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	tn_db_finalize(del);
	tn_stmt *ins = rc ? NULL
			  : tn_db_prepare(s, "INSERT INTO customer_scores(customer_id, p_churn, value, source, scored_at,"
					     " as_of) VALUES (?1,?2,?3,?4,?5,?5) ON CONFLICT (customer_id) DO UPDATE SET"
					     " p_churn = excluded.p_churn, value = excluded.value",
					  err);
	if (!rc && !ins)
		rc = tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; !rc && i < sc->n; i++) {
		if (!sc->key || sc->key[i] <= 0) {
			rc = tn_error_set(err, TN_ERR_INPUT, "scores: customer '%s' is not attached to the store",
					  sc->customer[i]);
			break;
		}
		tn_db_reset(ins);
		tn_db_bind_int64(ins, 1, sc->key[i]);
		tn_db_bind_double(ins, 2, sc->p_churn[i]);
		tn_db_bind_double(ins, 3, sc->value[i] >= 0 ? sc->value[i] : 0);
		tn_db_bind_text(ins, 4, source);
		tn_db_bind_time(ins, 5, now);
		int r = tn_db_step(ins, "storing scores", err);
		if (r != TN_DB_DONE)
			rc = r;
	}
	tn_db_finalize(ins);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc)
		tn_store_rollback(s);
	return rc;
}

int tn_decide_settings_get(tn_store *s, tn_decide_settings *o, tn_error *err)
{
	o->holdout_share = 0.10;
	o->seed = 1;
	char *v = NULL;
	if (tn_store_meta_get(s, "decide_holdout_share", &v, err))
		return tn_error_code(err, TN_ERR_DB);
	if (v)
		o->holdout_share = strtod(v, NULL);
	free(v);
	v = NULL;
	if (tn_store_meta_get(s, "decide_seed", &v, err))
		return tn_error_code(err, TN_ERR_DB);
	if (v)
		o->seed = strtoull(v, NULL, 10);
	free(v);
	return TN_OK;
}

int tn_decide_settings_set(tn_store *s, const tn_decide_settings *o, tn_error *err)
{
	if (!(o->holdout_share >= 0 && o->holdout_share <= 0.5))
		return tn_error_set(err, TN_ERR_USAGE, "--share: expected a share in [0, 0.5], found %g", o->holdout_share);
	char a[64], b[32];
	snprintf(a, sizeof a, "%.17g", o->holdout_share);
	snprintf(b, sizeof b, "%llu", (unsigned long long)o->seed);
	if (tn_store_meta_set(s, "decide_holdout_share", a, err) || tn_store_meta_set(s, "decide_seed", b, err))
		return tn_error_code(err, TN_ERR_DB);
	return TN_OK;
}

int tn_holdout_draw(const char *customer, double share, uint64_t seed)
{
	uint64_t h = tn_hash_mix64(seed ^ tn_hash_str(customer));
	return tn_rng_u01(h) < share;
}

/* ---- the decider ------------------------------------------------------------ */

typedef struct doffer {
	int64_t id;
	char name[TN_OFFER_NAME_MAX + 1], kind[16], terms[TN_OFFER_TERMS_MAX + 1];
	double cost, prior, weight, budget, cap_days, valid_days;
	long cap_count;
	unsigned moments;
	int active;
	double spent;
	long accepted[TN_MOMENT_COUNT], declined[TN_MOMENT_COUNT];
} doffer;

typedef struct dcust {
	int64_t key;
	float p, v;
	signed char holdout; /* -1: not assigned yet */
	unsigned char scored;
	uint32_t recent;     /* head of this customer's offers made (index into d->hist), UINT32_MAX none */
} dcust;

typedef struct dhist {
	int64_t offer_id;
	tn_time at;
	uint32_t next;
} dhist;

struct tn_decider {
	pthread_mutex_t mu;
	tn_strmap *ids; /* customer ext id -> index into cust */
	dcust *cust;
	size_t ncust, capcust;
	doffer *offers;
	size_t noffers;
	dhist *hist;
	size_t nhist, caphist;
	double p_mean, v_mean;
	size_t nsorted;               /* customers loaded at start, sorted by key */
	int64_t scores_n, scores_stamp; /* the stored scores applied: count and latest scored_at */
	tn_decide_settings set;
	tn_rng rng;
	/* the approved offer plan in force (tn_offer_plan_in_force), 0: none */
	int64_t plan_id;
	tn_time plan_at;
	double plan_budget, plan_spent; /* budget < 0: none; spent: offers made under it, not declined */
	int64_t *plan_keys;             /* its customers by store key, with their arm */
	unsigned char *plan_arms;
	size_t plan_n;
};

#define NO_HIST UINT32_MAX

void tn_decider_free(tn_decider *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->mu);
	tn_strmap_free(d->ids);
	free(d->cust);
	free(d->offers);
	free(d->hist);
	free(d->plan_keys);
	free(d->plan_arms);
	free(d);
}

static int add_cust(tn_decider *d, const char *ext, int64_t key, size_t *idx)
{
	if (d->ncust == d->capcust) {
		size_t nc = d->capcust ? d->capcust * 2 : 1024;
		dcust *c = tn_realloc(d->cust, nc * sizeof *c);
		if (!c)
			return -1;
		d->cust = c;
		d->capcust = nc;
	}
	size_t i;
	if (tn_strmap_add(d->ids, ext, &i) < 0)
		return -1;
	if (i < d->ncust) { /* already known */
		*idx = i;
		return 0;
	}
	dcust *c = &d->cust[d->ncust++];
	c->key = key;
	c->p = (float)d->p_mean;
	c->v = (float)d->v_mean;
	c->holdout = -1;
	c->scored = 0;
	c->recent = NO_HIST;
	*idx = i;
	return 0;
}

static int hist_add(tn_decider *d, size_t ci, int64_t offer_id, tn_time at)
{
	if (d->nhist == d->caphist) {
		size_t nc = d->caphist ? d->caphist * 2 : 4096;
		if (nc >= NO_HIST)
			return -1;
		dhist *h = tn_realloc(d->hist, nc * sizeof *h);
		if (!h)
			return -1;
		d->hist = h;
		d->caphist = nc;
	}
	dhist *h = &d->hist[d->nhist];
	h->offer_id = offer_id;
	h->at = at;
	h->next = d->cust[ci].recent;
	d->cust[ci].recent = (uint32_t)d->nhist++;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = ((const dcust *)b)->key;
	return (x > y) - (x < y);
}

int tn_decider_reload_catalogue(tn_decider *d, tn_store *s, tn_error *err)
{
	tn_catalogue_offer *c;
	size_t n;
	if (tn_catalogue_list(s, &c, &n, err))
		return err ? err->code : TN_ERR_DB;
	doffer *v = tn_calloc(n ? n : 1, sizeof *v);
	if (!v) {
		tn_catalogue_free(c, n);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_lock(&d->mu);
	for (size_t i = 0; i < n; i++) {
		doffer *o = &v[i];
		o->id = c[i].id;
		snprintf(o->name, sizeof o->name, "%s", c[i].name);
		snprintf(o->kind, sizeof o->kind, "%s", c[i].kind);
		snprintf(o->terms, sizeof o->terms, "%s", c[i].terms);
		o->cost = c[i].cost;
		o->prior = c[i].uplift_prior;
		o->weight = c[i].prior_weight;
		o->budget = c[i].budget;
		o->cap_days = c[i].cap_days;
		o->cap_count = c[i].cap_count;
		o->valid_days = c[i].valid_days;
		o->moments = c[i].moments;
		o->active = 1;
		for (size_t j = 0; j < d->noffers; j++)
			if (d->offers[j].id == o->id) { /* keep what was counted */
				o->spent = d->offers[j].spent;
				memcpy(o->accepted, d->offers[j].accepted, sizeof o->accepted);
				memcpy(o->declined, d->offers[j].declined, sizeof o->declined);
			}
	}
	free(d->offers);
	d->offers = v;
	d->noffers = n;
	pthread_mutex_unlock(&d->mu);
	tn_catalogue_free(c, n);
	return TN_OK;
}

static int load_counts(tn_decider *d, tn_store *s, tn_error *err)
{
	tn_stmt *q = tn_db_prepare(s,
				   "SELECT offer_id, moment,"
				   " SUM(CASE WHEN outcome = 'accepted' THEN 1 ELSE 0 END),"
				   " SUM(CASE WHEN outcome = 'declined' THEN 1 ELSE 0 END),"
				   " SUM(CASE WHEN outcome = 'declined' THEN 0 ELSE cost END)"
				   " FROM decisions WHERE offer_id IS NOT NULL GROUP BY offer_id, moment",
				   err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	while ((rc = tn_db_step(q, "reading decisions", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(q, 0);
		int m = tn_moment_parse(tn_db_column_text(q, 1));
		for (size_t j = 0; m >= 0 && j < d->noffers; j++)
			if (d->offers[j].id == id) {
				d->offers[j].accepted[m] += (long)tn_db_column_int64(q, 2);
				d->offers[j].declined[m] += (long)tn_db_column_int64(q, 3);
				d->offers[j].spent += tn_db_column_double(q, 4);
			}
	}
	tn_db_finalize(q);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

int tn_decider_load(tn_store *s, tn_decider **out, tn_error *err)
{
	*out = NULL;
	tn_decider *d = tn_calloc(1, sizeof *d);
	if (!d || !(d->ids = tn_strmap_new())) {
		free(d);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&d->mu, NULL);
	/* the sampler's seed from the one random source (base/rng.h), which a
	 * fuzz target pins; the clock and pid would differ from run to run */
	uint64_t seed;
	if (tn_random_bytes(&seed, sizeof seed)) {
		pthread_mutex_destroy(&d->mu);
		tn_strmap_free(d->ids);
		free(d);
		return tn_error_set(err, TN_ERR_IO, "cannot get random bytes for the decider's sampler");
	}
	tn_rng_seed(&d->rng, seed, 0);
	tn_stmt *q = NULL;
	tn_scores *est = NULL;
	int rc = tn_decide_settings_get(s, &d->set, err);
	if (rc == TN_OK)
		rc = tn_decider_reload_catalogue(d, s, err);
	if (rc == TN_OK)
		rc = load_counts(d, s, err);
	if (rc == TN_OK)
		rc = tn_decider_reload_plan(d, s, err);
	long nscored = 0;
	if (rc == TN_OK) {
		q = tn_db_prepare(s, "SELECT COUNT(*), COALESCE(MAX(scored_at), 0) FROM customer_scores", err);
		if (!q || tn_db_step_row(q, "counting stored scores", err))
			rc = tn_error_code(err, TN_ERR_DB);
		else {
			nscored = (long)tn_db_column_int64(q, 0);
			d->scores_n = nscored;
			d->scores_stamp = tn_db_column_int64(q, 1);
		}
		tn_db_finalize(q);
		q = NULL;
	}
	if (rc == TN_OK && nscored == 0) {
		/* the documented fallback: the built-in estimate as of the data's end */
		tn_time now;
		tn_error e2 = {0};
		if (tn_actions_now(s, &now, &e2) == TN_OK)
			rc = tn_scores_estimate(s, now, &est, err);
	}
	if (rc == TN_OK &&
	    !(q = tn_db_prepare(s,
				"SELECT c.id, c.ext_id, cs.p_churn, cs.value, h.holdout FROM customers c"
				" LEFT JOIN customer_scores cs ON cs.customer_id = c.id"
				" LEFT JOIN decision_holdout h ON h.customer_id = c.id ORDER BY c.id",
				err)))
		rc = tn_error_code(err, TN_ERR_DB);
	while (rc == TN_OK) {
		int r = tn_db_step(q, "reading customers", err);
		if (r == TN_DB_DONE)
			break;
		if (r != TN_DB_ROW) {
			rc = r;
			break;
		}
		size_t i;
		if (add_cust(d, tn_db_column_text(q, 1), tn_db_column_int64(q, 0), &i)) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		dcust *c = &d->cust[i];
		if (!tn_db_column_is_null(q, 2)) {
			c->p = (float)tn_db_column_double(q, 2);
			c->v = (float)tn_db_column_double(q, 3);
			c->scored = 1;
		}
		if (!tn_db_column_is_null(q, 4))
			c->holdout = (signed char)(tn_db_column_int64(q, 4) != 0);
	}
	tn_db_finalize(q);
	q = NULL;
	d->nsorted = d->ncust;
	if (rc == TN_OK && est) {
		for (size_t k = 0; k < est->n; k++) {
			dcust *c = bsearch(&est->key[k], d->cust, d->ncust, sizeof *d->cust, cmp_key);
			if (c) {
				c->p = (float)est->p_churn[k];
				c->v = (float)est->value[k];
				c->scored = 1;
			}
		}
	}
	/* the population means for customers without a score */
	double sp = 0, sv = 0;
	size_t ns = 0;
	for (size_t i = 0; i < d->ncust; i++)
		if (d->cust[i].scored) {
			sp += d->cust[i].p;
			sv += d->cust[i].v;
			ns++;
		}
	d->p_mean = ns ? sp / (double)ns : 0.5;
	d->v_mean = ns ? sv / (double)ns : 0;
	for (size_t i = 0; i < d->ncust; i++)
		if (!d->cust[i].scored) {
			d->cust[i].p = (float)d->p_mean;
			d->cust[i].v = (float)d->v_mean;
		}
	/* the frequency-cap history: offers made within the longest cap */
	double maxcap = 0;
	for (size_t j = 0; j < d->noffers; j++)
		if (d->offers[j].cap_days > maxcap)
			maxcap = d->offers[j].cap_days;
	if (rc == TN_OK &&
	    !(q = tn_db_prepare(s, "SELECT customer_id, offer_id, decided_at FROM decisions WHERE offer_id IS NOT NULL"
				   " AND decided_at >= ? ORDER BY decided_at",
				err)))
		rc = tn_error_code(err, TN_ERR_DB);
	if (rc == TN_OK)
		tn_db_bind_time(q, 1, tn_now() - (tn_time)(maxcap * 86400) - 86400);
	while (rc == TN_OK) {
		int r = tn_db_step(q, "reading decisions", err);
		if (r == TN_DB_DONE)
			break;
		if (r != TN_DB_ROW) {
			rc = r;
			break;
		}
		int64_t key = tn_db_column_int64(q, 0);
		dcust *c = bsearch(&key, d->cust, d->ncust, sizeof *d->cust, cmp_key);
		if (c && hist_add(d, (size_t)(c - d->cust), tn_db_column_int64(q, 1), tn_db_column_time(q, 2))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	tn_db_finalize(q);
	tn_scores_free(est);
	if (rc) {
		tn_decider_free(d);
		return rc;
	}
	*out = d;
	return TN_OK;
}

int tn_decider_reload_scores(tn_decider *d, tn_store *s, tn_error *err)
{
	tn_stmt *q = tn_db_prepare(s, "SELECT COUNT(*), COALESCE(MAX(scored_at), 0) FROM customer_scores", err);
	if (!q || tn_db_step_row(q, "reading stored scores", err)) {
		tn_db_finalize(q);
		return tn_error_code(err, TN_ERR_DB);
	}
	int64_t n = tn_db_column_int64(q, 0), stamp = tn_db_column_int64(q, 1);
	tn_db_finalize(q);
	if (n == 0 || (n == d->scores_n && stamp == d->scores_stamp))
		return TN_OK;
	/* read first, then apply under the lock: decisions wait only for the copy */
	int64_t *key = tn_malloc((size_t)n * sizeof *key);
	float *p = tn_malloc((size_t)n * sizeof *p), *v = tn_malloc((size_t)n * sizeof *v);
	size_t k = 0;
	int rc = TN_OK;
	if (!key || !p || !v)
		rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	else if (!(q = tn_db_prepare(s, "SELECT customer_id, p_churn, value FROM customer_scores", err)))
		rc = tn_error_code(err, TN_ERR_DB);
	while (rc == TN_OK) {
		int r = tn_db_step(q, "reading stored scores", err);
		if (r == TN_DB_DONE)
			break;
		if (r != TN_DB_ROW) {
			rc = r;
			break;
		}
		if (k == (size_t)n)
			break; /* written meanwhile: the next reload takes the rest */
		key[k] = tn_db_column_int64(q, 0);
		p[k] = (float)tn_db_column_double(q, 1);
		v[k++] = (float)tn_db_column_double(q, 2);
	}
	tn_db_finalize(q);
	if (rc == TN_OK) {
		pthread_mutex_lock(&d->mu);
		for (size_t i = 0; i < k; i++) {
			/* customers loaded at start are sorted by key; later ones are looked up one by one */
			dcust *c = bsearch(&key[i], d->cust, d->nsorted, sizeof *d->cust, cmp_key);
			for (size_t j = d->nsorted; !c && j < d->ncust; j++)
				if (d->cust[j].key == key[i])
					c = &d->cust[j];
			if (c) {
				c->p = p[i];
				c->v = v[i];
				c->scored = 1;
			}
		}
		d->scores_n = n;
		d->scores_stamp = stamp;
		pthread_mutex_unlock(&d->mu);
	}
	free(key);
	free(p);
	free(v);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The customer's arm in the plan in force (under the lock). */
static int plan_arm(const tn_decider *d, int64_t key)
{
	const int64_t *k = d->plan_n ? bsearch(&key, d->plan_keys, d->plan_n, sizeof *k, cmp_i64) : NULL;
	return k ? d->plan_arms[k - d->plan_keys] : TN_ARM_NONE;
}

int tn_decider_reload_plan(tn_decider *d, tn_store *s, tn_error *err)
{
	tn_plan_force pf;
	int rc = tn_offer_plan_in_force(s, &pf, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&d->mu);
	int same = pf.plan_id == d->plan_id && (!pf.plan_id || pf.approved_at == d->plan_at);
	pthread_mutex_unlock(&d->mu);
	if (same)
		return TN_OK;
	int64_t *keys = NULL;
	unsigned char *arms = NULL;
	size_t n = 0;
	double spent = 0;
	if (pf.plan_id && (rc = tn_offer_plan_arms(s, pf.plan_id, &keys, &arms, &n, err)))
		return rc;
	if (pf.plan_id) {
		/* what the offers made under it since its approval cost (declined: nothing) */
		tn_stmt *q = tn_db_prepare(s,
					   "SELECT COALESCE(SUM(d.cost), 0) FROM decisions d JOIN offer_assignments a ON"
					   " a.customer_id = d.customer_id AND a.plan_id = ?1 AND a.arm = 'offer' WHERE"
					   " d.offer_id IS NOT NULL AND d.decided_at >= ?2 AND (d.outcome IS NULL OR"
					   " d.outcome <> 'declined')",
					   err);
		if (!q)
			rc = tn_error_code(err, TN_ERR_DB);
		else {
			tn_db_bind_int64(q, 1, pf.plan_id);
			tn_db_bind_time(q, 2, pf.approved_at);
			if (tn_db_step_row(q, "reading the approved plan's spend", err))
				rc = tn_error_code(err, TN_ERR_DB);
			else
				spent = tn_db_column_double0(q, 0);
		}
		tn_db_finalize(q);
		if (rc) {
			free(keys);
			free(arms);
			return rc;
		}
	}
	pthread_mutex_lock(&d->mu);
	free(d->plan_keys);
	free(d->plan_arms);
	d->plan_keys = keys;
	d->plan_arms = arms;
	d->plan_n = n;
	d->plan_id = pf.plan_id;
	d->plan_at = pf.approved_at;
	d->plan_budget = pf.budget;
	d->plan_spent = spent;
	pthread_mutex_unlock(&d->mu);
	return TN_OK;
}

int tn_decider_add_customer(tn_decider *d, const char *customer, int64_t key, tn_error *err)
{
	pthread_mutex_lock(&d->mu);
	size_t i;
	int r = add_cust(d, customer, key, &i);
	pthread_mutex_unlock(&d->mu);
	return r ? tn_error_set(err, TN_ERR_NOMEM, "out of memory") : TN_OK;
}

static int capped(const tn_decider *d, const dcust *c, const doffer *o, tn_time now)
{
	long n = 0;
	for (uint32_t h = c->recent; h != NO_HIST; h = d->hist[h].next)
		if (d->hist[h].offer_id == o->id && (double)(now - d->hist[h].at) < o->cap_days * 86400.0)
			n++;
	return n >= o->cap_count;
}

static double uplift_of(const doffer *o, int m)
{
	double a = o->prior * o->weight + (double)o->accepted[m];
	double b = (1 - o->prior) * o->weight + (double)o->declined[m];
	return a / (a + b);
}

int tn_decide(tn_decider *d, const char *customer, int moment, tn_time now, tn_decision *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	if (moment < 0 || moment >= TN_MOMENT_COUNT)
		return tn_error_set(err, TN_ERR_INPUT, "moment: expected cancel, auto_renew_off, session or renewal_due");
	pthread_mutex_lock(&d->mu);
	size_t i = tn_strmap_find(d->ids, customer);
	if (i == TN_STRMAP_NONE) {
		pthread_mutex_unlock(&d->mu);
		return tn_error_set(err, TN_ERR_NOTFOUND, "no customer '%s'", customer);
	}
	dcust *c = &d->cust[i];
	snprintf(out->id, sizeof out->id, "dec_%016llx", (unsigned long long)tn_rng_next(&d->rng));
	out->customer_key = c->key;
	out->moment = moment;
	out->at = now;
	out->holdout_share = d->set.holdout_share;
	out->seed = d->set.seed;
	if (c->holdout < 0) {
		c->holdout = (signed char)tn_holdout_draw(customer, d->set.holdout_share, d->set.seed);
		out->holdout_new = 1;
	}
	out->holdout = c->holdout;
	out->p_churn = c->p;
	out->value = c->v;
	out->score_fallback = !c->scored;
	out->expires_at = TN_NO_TIME;
	snprintf(out->kind, sizeof out->kind, "none");
	double pleave = c->p > MOMENT_FLOOR[moment] ? c->p : MOMENT_FLOOR[moment];
	int best = -1;
	double best_e = 0, best_u = 0;
	/* an approved plan in force: only its offer arm, within its budget */
	out->plan_id = d->plan_id;
	out->plan_arm = d->plan_id ? plan_arm(d, c->key) : TN_ARM_NONE;
	int allowed = !out->holdout && (!d->plan_id || out->plan_arm == TN_ARM_OFFER);
	for (size_t j = 0; allowed && j < d->noffers; j++) {
		doffer *o = &d->offers[j];
		if (!o->active || !(o->moments & (1u << moment)))
			continue;
		if (!isnan(o->budget) && o->spent + o->cost > o->budget + 1e-9)
			continue;
		if (d->plan_id && d->plan_budget >= 0 && d->plan_spent + o->cost > d->plan_budget + 1e-9)
			continue;
		if (capped(d, c, o, now))
			continue;
		double u = uplift_of(o, moment);
		double e = pleave * u * c->v - o->cost;
		if (e > best_e || (best >= 0 && e == best_e && o->cost < d->offers[best].cost)) {
			best = (int)j;
			best_e = e;
			best_u = u;
		}
	}
	if (best >= 0) {
		doffer *o = &d->offers[best];
		if (hist_add(d, i, o->id, now)) {
			pthread_mutex_unlock(&d->mu);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		o->spent += o->cost;
		if (d->plan_id)
			d->plan_spent += o->cost;
		out->offer_id = o->id;
		snprintf(out->offer, sizeof out->offer, "%s", o->name);
		snprintf(out->kind, sizeof out->kind, "%s", o->kind);
		snprintf(out->terms, sizeof out->terms, "%s", o->terms);
		out->cost = o->cost;
		out->uplift = best_u;
		out->profit = best_e;
		out->expires_at = now + (tn_time)(o->valid_days * 86400.0);
	}
	pthread_mutex_unlock(&d->mu);
	return TN_OK;
}

void tn_decide_undo(tn_decider *d, const char *customer, const tn_decision *dec)
{
	pthread_mutex_lock(&d->mu);
	size_t i = tn_strmap_find(d->ids, customer);
	if (i != TN_STRMAP_NONE) {
		dcust *c = &d->cust[i];
		if (dec->holdout_new)
			c->holdout = -1;
		if (dec->offer_id && c->recent != NO_HIST && d->hist[c->recent].offer_id == dec->offer_id)
			c->recent = d->hist[c->recent].next;
	}
	for (size_t j = 0; dec->offer_id && j < d->noffers; j++)
		if (d->offers[j].id == dec->offer_id)
			d->offers[j].spent -= dec->cost;
	if (dec->offer_id && dec->plan_id && dec->plan_id == d->plan_id)
		d->plan_spent -= dec->cost;
	pthread_mutex_unlock(&d->mu);
}

static const char SQL_DEC[] =
	"INSERT INTO decisions(id, customer_id, moment, decided_at, holdout, offer_id, cost, p_churn, value, uplift,"
	" expected_profit, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_HOLD[] =
	"INSERT INTO decision_holdout(customer_id, holdout, share, seed, assigned_at) VALUES (?,?,?,?,?)"
	" ON CONFLICT (customer_id) DO NOTHING";

int tn_decision_save(tn_store *s, const tn_decision *dec, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, SQL_DEC, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, dec->id);
	tn_db_bind_int64(st, 2, dec->customer_key);
	tn_db_bind_text(st, 3, tn_moment_name(dec->moment));
	tn_db_bind_time(st, 4, dec->at);
	tn_db_bind_int64(st, 5, dec->holdout);
	if (dec->offer_id)
		tn_db_bind_int64(st, 6, dec->offer_id);
	else
		tn_db_bind_null(st, 6);
	tn_db_bind_double(st, 7, dec->cost);
	tn_db_bind_double(st, 8, dec->p_churn);
	tn_db_bind_double(st, 9, dec->value);
	tn_db_bind_double(st, 10, dec->offer_id ? dec->uplift : NAN);
	tn_db_bind_double(st, 11, dec->offer_id ? dec->profit : NAN);
	tn_db_bind_time(st, 12, dec->expires_at);
	int rc = tn_db_step(st, "storing a decision", err);
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return rc;
	if (!dec->holdout_new)
		return TN_OK;
	st = tn_db_cached(s, SQL_HOLD, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, dec->customer_key);
	tn_db_bind_int64(st, 2, dec->holdout);
	tn_db_bind_double(st, 3, dec->holdout_share);
	tn_db_bind_int64(st, 4, (int64_t)dec->seed);
	tn_db_bind_time(st, 5, dec->at);
	rc = tn_db_step(st, "storing a holdout assignment", err);
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

/* ---- outcomes ------------------------------------------------------------------ */

static const char SQL_FIND_DEC[] =
	"SELECT d.offer_id, d.moment, d.cost, d.outcome, c.ext_id FROM decisions d JOIN customers c ON c.id ="
	" d.customer_id WHERE d.id = ?";
static const char SQL_OUT[] = "INSERT INTO decision_outcomes(decision_id, outcome, at) VALUES (?,?,?)"
			      " ON CONFLICT (decision_id, outcome) DO NOTHING";
static const char SQL_OUT_SET[] = "UPDATE decisions SET outcome = ?, outcome_at = ? WHERE id = ?";

int tn_decision_outcome(tn_store *s, const char *id, const char *outcome, tn_time at, tn_outcome_result *res,
			tn_error *err)
{
	memset(res, 0, sizeof *res);
	static const char *const OUTCOMES[] = {"shown", "accepted", "declined", "survey_answered", NULL};
	int k = 0;
	while (OUTCOMES[k] && (!outcome || strcmp(OUTCOMES[k], outcome) != 0))
		k++;
	if (!OUTCOMES[k])
		return tn_error_set(err, TN_ERR_INPUT, "outcome: expected shown, accepted, declined or survey_answered, "
				    "found '%.60s'", outcome ? outcome : "");
	tn_stmt *f = tn_db_cached(s, SQL_FIND_DEC, err);
	if (!f)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(f, 1, id);
	int rc = tn_db_step(f, "reading a decision", err);
	char prev[16] = "";
	if (rc == TN_DB_ROW) {
		res->offer_id = tn_db_column_int64(f, 0);
		res->moment = tn_moment_parse(tn_db_column_text(f, 1));
		res->cost = tn_db_column_double(f, 2);
		const char *p = tn_db_column_text(f, 3);
		snprintf(prev, sizeof prev, "%s", p ? p : "");
		const char *c = tn_db_column_text(f, 4);
		snprintf(res->customer, sizeof res->customer, "%s", c ? c : "");
	}
	tn_db_reset(f);
	if (rc == TN_DB_DONE)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no decision '%.60s'", id);
	if (rc != TN_DB_ROW)
		return rc;
	int offer_outcome = k <= 2;
	if (offer_outcome && !res->offer_id)
		return tn_error_set(err, TN_ERR_INPUT, "outcome: decision '%.60s' made no offer, so it cannot be %s", id,
				    outcome);
	if ((k == 1 && strcmp(prev, "declined") == 0) || (k == 2 && strcmp(prev, "accepted") == 0)) {
		res->conflict = 1;
		return TN_OK;
	}
	tn_stmt *st = tn_db_cached(s, SQL_OUT, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, id);
	tn_db_bind_text(st, 2, outcome);
	tn_db_bind_time(st, 3, at);
	rc = tn_db_step(st, "storing an outcome", err);
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return rc;
	res->added = tn_db_changes(s) > 0;
	/* the decision's outcome: accepted / declined are final, shown only first */
	if (res->added && offer_outcome && (k > 0 || !*prev)) {
		st = tn_db_cached(s, SQL_OUT_SET, err);
		if (!st)
			return tn_error_code(err, TN_ERR_DB);
		tn_db_bind_text(st, 1, outcome);
		tn_db_bind_time(st, 2, at);
		tn_db_bind_text(st, 3, id);
		rc = tn_db_step(st, "storing an outcome", err);
		tn_db_reset(st);
		if (rc != TN_DB_DONE)
			return rc;
	}
	return TN_OK;
}

void tn_decider_note_outcome(tn_decider *d, const char *outcome, const tn_outcome_result *res)
{
	if (!res->added || !res->offer_id || res->moment < 0 || res->moment >= TN_MOMENT_COUNT)
		return;
	int acc = strcmp(outcome, "accepted") == 0, dec = strcmp(outcome, "declined") == 0;
	if (!acc && !dec)
		return;
	pthread_mutex_lock(&d->mu);
	for (size_t j = 0; j < d->noffers; j++)
		if (d->offers[j].id == res->offer_id) {
			if (acc)
				d->offers[j].accepted[res->moment]++;
			else {
				d->offers[j].declined[res->moment]++;
				d->offers[j].spent -= res->cost; /* a declined offer costs nothing */
			}
		}
	if (dec && d->plan_id) { /* nor under the plan: refunded when its customer is in the offer arm */
		size_t i = tn_strmap_find(d->ids, res->customer);
		if (i != TN_STRMAP_NONE && plan_arm(d, d->cust[i].key) == TN_ARM_OFFER && d->plan_spent >= res->cost)
			d->plan_spent -= res->cost;
	}
	pthread_mutex_unlock(&d->mu);
}

int tn_decider_uplift(tn_decider *d, int64_t offer_id, int moment, double *mean, double *spent, tn_error *err)
{
	if (moment < 0 || moment >= TN_MOMENT_COUNT)
		return tn_error_set(err, TN_ERR_USAGE, "unknown moment");
	pthread_mutex_lock(&d->mu);
	int found = 0;
	for (size_t j = 0; j < d->noffers; j++)
		if (d->offers[j].id == offer_id) {
			found = 1;
			if (mean)
				*mean = uplift_of(&d->offers[j], moment);
			if (spent)
				*spent = d->offers[j].spent;
		}
	pthread_mutex_unlock(&d->mu);
	return found ? TN_OK : tn_error_set(err, TN_ERR_NOTFOUND, "no offer %lld", (long long)offer_id);
}
