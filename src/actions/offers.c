/*
 * offers.c -- retention offers ranked by expected profit, selected under a
 * budget, timed before the customer's danger window, with a seeded,
 * stratified control group that is stored so the effect can be measured.
 * Also the lists a retention team works from: subscriptions ending soon,
 * customers nearing the typical churn age, high-value customers at risk.
 *
 * Expected profit of an offer: p_churn x accept_rate x value - offer_cost
 * (Neslin, Gupta, Kamakura, Lu & Mason 2006, J. Marketing Research 43:204).
 * Control group: blocked randomisation over strata of adjacent expected
 * profit (Fisher's randomised blocks), so both arms have the same profit mix.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ranking: sort by expected profit; ties go to the higher value, then to
 * a seeded random order (never to the id or file order). */
typedef struct rank_pair {
	double profit, value;
	uint64_t draw;
	size_t idx;
} rank_pair;

static int pair_desc(const void *a, const void *b)
{
	const rank_pair *x = a, *y = b;
	if (x->profit != y->profit)
		return x->profit > y->profit ? -1 : 1;
	if (x->value != y->value && !isnan(x->value) && !isnan(y->value))
		return x->value > y->value ? -1 : 1;
	if (x->draw != y->draw)
		return x->draw < y->draw ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

void tn_offer_plan_free(tn_offer_plan *plan)
{
	if (!plan)
		return;
	free(plan->order);
	free(plan->profit);
	free(plan->arm);
	free(plan->stratum);
	free(plan);
}

int tn_offers_plan(const double *p_churn, const double *value, size_t n, const tn_offer_params *p,
		   tn_offer_plan **out, tn_error *err)
{
	*out = NULL;
	if (!(p->accept_rate >= 0 && p->accept_rate <= 1))
		return tn_error_set(err, TN_ERR_USAGE, "accept rate: expected a probability in [0, 1], found %g",
				    p->accept_rate);
	if (!(p->control_share >= 0 && p->control_share <= 0.9))
		return tn_error_set(err, TN_ERR_USAGE, "control share: expected a number in [0, 0.9], found %g",
				    p->control_share);
	if (!(p->offer_cost >= 0))
		return tn_error_set(err, TN_ERR_USAGE, "offer cost: expected a number >= 0, found %g", p->offer_cost);
	tn_offer_plan *pl = tn_calloc(1, sizeof *pl);
	size_t m = n ? n : 1;
	rank_pair *pairs = NULL;
	if (!pl || !(pl->order = tn_malloc(m * sizeof *pl->order)) || !(pl->profit = tn_malloc(m * sizeof *pl->profit)) ||
	    !(pl->arm = tn_calloc(m, 1)) || !(pl->stratum = tn_calloc(m, sizeof *pl->stratum)))
		goto nomem;
	pl->n = n;
	size_t ncand = 0;
	for (size_t i = 0; i < n; i++) {
		double e = p_churn[i] * p->accept_rate * value[i] - p->offer_cost;
		pl->profit[i] = isfinite(e) ? e : -INFINITY;
		ncand += pl->profit[i] > 0;
	}
	pl->n_candidates = ncand;
	if (!(pairs = tn_malloc(m * sizeof *pairs)))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = p->seed ^ (0xD6E8FEB86659FD93ull * (uint64_t)(i + 1));
		pairs[i].profit = pl->profit[i];
		pairs[i].value = value[i];
		pairs[i].draw = tn_rng_splitmix64(&h);
		pairs[i].idx = i;
	}
	qsort(pairs, n, sizeof *pairs, pair_desc);
	for (size_t i = 0; i < n; i++)
		pl->order[i] = pairs[i].idx;
	free(pairs);
	pairs = NULL;

	size_t block = p->block ? p->block : 10;
	if (block > 64)
		block = 64;
	uint64_t rng = p->seed;
	double budget = p->budget;
	size_t controls = 0, seen = 0, stratum = 0;
	int stop = 0;
	for (size_t b0 = 0; b0 < ncand && !stop; b0 += block) {
		size_t bn = ncand - b0 < block ? ncand - b0 : block;
		size_t *idx = pl->order + b0;
		stratum++;
		/* controls due by the end of this block: round(share x cumulative) */
		size_t due = (size_t)floor(p->control_share * (double)(seen + bn) + 0.5);
		size_t k = due > controls ? due - controls : 0;
		if (k > bn)
			k = bn;
		/* choose k of the block's bn at random: partial Fisher-Yates on a copy */
		size_t pick[64], loc[64];
		size_t bcap = bn < 64 ? bn : 64;
		for (size_t j = 0; j < bcap; j++)
			loc[j] = j;
		for (size_t j = 0; j < k && j < bcap; j++) {
			size_t r = j + (size_t)(tn_rng_splitmix64(&rng) % (uint64_t)(bcap - j));
			size_t t = loc[j];
			loc[j] = loc[r];
			loc[r] = t;
			pick[j] = loc[j];
		}
		unsigned char is_ctl[64] = {0};
		for (size_t j = 0; j < k && j < bcap; j++)
			is_ctl[pick[j]] = 1;
		for (size_t j = 0; j < bn; j++) {
			size_t i = idx[j];
			if (j < 64 && is_ctl[j]) {
				pl->arm[i] = TN_ARM_CONTROL;
				pl->n_control++;
				controls++;
			} else if (budget < 0 || pl->spend + p->offer_cost <= budget + 1e-9) {
				pl->arm[i] = TN_ARM_OFFER;
				pl->n_offer++;
				pl->spend += p->offer_cost;
				pl->expected_gain += pl->profit[i];
			} else {
				stop = 1; /* budget spent: later strata are neither offered nor controls */
				/* undo this block's controls after the stop point to keep arms comparable */
				for (size_t q = j + 1; q < bn; q++)
					if (pl->arm[idx[q]] == TN_ARM_CONTROL) {
						pl->arm[idx[q]] = TN_ARM_NONE;
						pl->n_control--;
					}
				break;
			}
			pl->stratum[i] = stratum;
		}
		seen += bn;
	}
	if (pl->n_offer == 0 && pl->n_control > 0) { /* nothing offered: nothing to compare */
		for (size_t i = 0; i < n; i++)
			if (pl->arm[i] == TN_ARM_CONTROL) {
				pl->arm[i] = TN_ARM_NONE;
				pl->stratum[i] = 0;
			}
		pl->n_control = 0;
	}
	*out = pl;
	return TN_OK;
nomem:
	free(pairs);
	tn_offer_plan_free(pl);
	return tn_error_set(err, TN_ERR_NOMEM, "out of memory planning offers for %zu customers", n);
}

tn_time tn_offer_send_time(tn_time now, tn_time signed_up_at, tn_time period_end, double danger_day,
			   double lead_days)
{
	tn_time target = TN_NO_TIME;
	if (signed_up_at != TN_NO_TIME && danger_day >= 0) {
		tn_time d = signed_up_at + (tn_time)llround(danger_day * TN_DAY);
		if (d >= now)
			target = d;
	}
	if (period_end != TN_NO_TIME && period_end >= now && (target == TN_NO_TIME || period_end < target))
		target = period_end;
	if (target == TN_NO_TIME)
		return TN_NO_TIME;
	tn_time send = target - (tn_time)llround(lead_days * TN_DAY);
	return send < now ? now : send;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int tn_offers_typical_churn_age(tn_store *s, tn_time now, double *days, long *n, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT (s.cancelled_at - c.signed_up_at) / 86400.0 FROM subscriptions s "
					    "JOIN customers c ON c.id = s.customer_id WHERE s.cancelled_at IS NOT NULL "
					    "AND s.cancelled_at <= ? AND c.signed_up_at IS NOT NULL "
					    "AND s.cancelled_at >= c.signed_up_at",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	double *v = NULL;
	size_t len = 0, cap = 0;
	int step;
	while ((step = tn_db_step(st, "reading cancellations", err)) == TN_DB_ROW) {
		if (len == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			double *t = nc <= 100000000 ? tn_realloc(v, nc * sizeof *t) : NULL;
			if (!t) {
				free(v);
				tn_db_finalize(st);
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			}
			v = t;
			cap = nc;
		}
		v[len++] = tn_db_column_double0(st, 0);
	}
	if (tn_db_step_end( step, err)) {
		free(v);
		tn_db_finalize(st);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	*n = (long)len;
	if (!len) {
		*days = 30;
	} else {
		qsort(v, len, sizeof *v, cmp_double);
		*days = len % 2 ? v[len / 2] : (v[len / 2 - 1] + v[len / 2]) / 2;
	}
	free(v);
	return TN_OK;
}

int tn_offers_danger_window(tn_store *s, tn_time now, double *from_day, double *to_day, double *share,
			    tn_error *err)
{
	*from_day = *to_day = *share = NAN;
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT (coalesce(x.t, ?1) - c.signed_up_at) / 86400.0, x.t IS NOT NULL FROM customers c LEFT JOIN "
		"(SELECT s.customer_id, min(s.cancelled_at) AS t FROM subscriptions s JOIN customers k ON k.id = "
		"s.customer_id WHERE s.cancelled_at <= ?1 AND s.cancelled_at >= k.signed_up_at GROUP BY s.customer_id) x "
		"ON x.customer_id = c.id WHERE c.signed_up_at IS NOT NULL AND c.signed_up_at <= ?1",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	double *t = NULL, *e = NULL;
	size_t n = 0, cap = 0;
	int rc = TN_OK, step;
	while ((step = tn_db_step(st, "reading tenures", err)) == TN_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			double *a = nc <= 200000000 ? tn_realloc(t, nc * sizeof *a) : NULL;
			double *b = a ? tn_realloc(e, nc * sizeof *b) : NULL;
			if (a)
				t = a;
			if (!a || !b) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			e = b;
			cap = nc;
		}
		t[n] = tn_db_column_double0(st, 0);
		e[n++] = (int)tn_db_column_int64(st, 1);
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	tn_danger *d = NULL;
	if (!rc && n && !(rc = tn_danger_new(t, e, NULL, 0, n, 1.0, 30, &d, err)) && d->from >= 0) {
		*from_day = (double)d->from * d->width;
		*to_day = (double)(d->to + 1) * d->width;
		*share = d->window_share;
	}
	tn_danger_free(d);
	free(t);
	free(e);
	return rc;
}

/* 1 when stored plan ID has exactly PLAN's assignments (same customers,
 * arms, ranks, figures and send times), 0 when not, < 0 on a database error. */
static int same_plan(tn_store *s, int64_t id, const tn_scores *sc, const tn_offer_plan *plan,
		     const tn_time *send_at, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT customer_id, arm, rank, p_churn, value, expected_profit, send_at "
					    "FROM offer_assignments WHERE plan_id = ? ORDER BY rank",
					    err);
	if (!st)
		return -1;
	tn_db_bind_int64(st, 1, id);
	size_t r = 0;
	int same = 1, rc;
	while (same && (rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		while (r < plan->n && plan->arm[plan->order[r]] == TN_ARM_NONE)
			r++;
		if (r >= plan->n) {
			same = 0;
			break;
		}
		size_t i = plan->order[r];
		const char *arm = tn_db_column_text(st, 1);
		tn_time send = send_at ? send_at[i] : TN_NO_TIME;
		same = tn_db_column_int64(st, 0) == sc->key[i] &&
		       strcmp(arm ? arm : "", plan->arm[i] == TN_ARM_OFFER ? "offer" : "control") == 0 &&
		       tn_db_column_int64(st, 2) == (int64_t)r + 1 && tn_db_column_double0(st, 3) == sc->p_churn[i] &&
		       tn_db_column_double0(st, 4) == sc->value[i] &&
		       tn_db_column_double0(st, 5) == plan->profit[i] &&
		       (tn_db_column_is_null(st, 6) ? send == TN_NO_TIME
								  : send == tn_db_column_int64(st, 6));
		r++;
	}
	if (same && rc != TN_DB_DONE && rc != TN_DB_ROW) {
		tn_db_finalize(st);
		tn_store_db_error(s, "reading a stored offer plan", err);
		return -1;
	}
	tn_db_finalize(st);
	while (same && r < plan->n && plan->arm[plan->order[r]] == TN_ARM_NONE)
		r++;
	return same && r == plan->n;
}

int tn_offers_save(tn_store *s, const tn_scores *sc, const tn_offer_plan *plan, const tn_time *send_at,
		   const char *params_json, tn_time now, int64_t *plan_id, tn_error *err)
{
	return tn_offers_save_once(s, sc, plan, send_at, params_json, now, plan_id, NULL, err);
}

int tn_offers_save_once(tn_store *s, const tn_scores *sc, const tn_offer_plan *plan, const tn_time *send_at,
			const char *params_json, tn_time now, int64_t *plan_id, int *existing, tn_error *err)
{
	if (existing)
		*existing = 0;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	/* an identical plan already stored (same as-of, source, parameters and
	 * assignments) is not stored again */
	tn_stmt *q = tn_db_prepare(
		s, "SELECT id FROM offer_plans WHERE created_at = ? AND source = ? AND params = ? ORDER BY id", err);
	if (!q)
		goto fail;
	tn_db_bind_int64(q, 1, now);
	tn_db_bind_text(q, 2, sc->estimated ? "estimate" : "scores");
	tn_db_bind_text(q, 3, params_json ? params_json : "{}");
	int qrc;
	while ((qrc = tn_db_step(q, "looking for an identical offer plan", err)) == TN_DB_ROW) {
		int64_t id = tn_db_column_int64(q, 0);
		int same = same_plan(s, id, sc, plan, send_at, err);
		if (same < 0) {
			tn_db_finalize(q);
			goto fail;
		}
		if (same) {
			tn_db_finalize(q);
			*plan_id = id;
			if (existing)
				*existing = 1;
			return tn_store_commit(s, err);
		}
	}
	tn_db_finalize(q);
	if (qrc != TN_DB_DONE) {
		tn_store_db_error(s, "looking for an identical offer plan", err);
		goto fail;
	}
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO offer_plans(created_at, source, params) VALUES(?,?,?) RETURNING id",
					    err);
	if (!st)
		goto fail;
	tn_db_bind_int64(st, 1, now);
	tn_db_bind_text(st, 2, sc->estimated ? "estimate" : "scores");
	tn_db_bind_text(st, 3, params_json ? params_json : "{}");
	if (tn_db_step(st, "saving the offer plan", err) != TN_DB_ROW) {
		tn_db_finalize(st);
		tn_store_db_error(s, "saving the offer plan", err);
		goto fail;
	}
	*plan_id = tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	st = tn_db_prepare(s,
			      "INSERT INTO offer_assignments(plan_id, customer_id, arm, rank, stratum, p_churn, value, "
			      "expected_profit, send_at) VALUES(?,?,?,?,?,?,?,?,?)",
			      err);
	if (!st)
		goto fail;
	for (size_t r = 0; r < plan->n; r++) {
		size_t i = plan->order[r];
		if (plan->arm[i] == TN_ARM_NONE)
			continue;
		tn_db_reset(st);
		tn_db_bind_int64(st, 1, *plan_id);
		tn_db_bind_int64(st, 2, sc->key[i]);
		tn_db_bind_text(st, 3, plan->arm[i] == TN_ARM_OFFER ? "offer" : "control");
		tn_db_bind_int64(st, 4, (int64_t)r + 1);
		tn_db_bind_int64(st, 5, (int64_t)plan->stratum[i]);
		tn_db_bind_double(st, 6, sc->p_churn[i]);
		tn_db_bind_double(st, 7, sc->value[i]);
		tn_db_bind_double(st, 8, plan->profit[i]);
		if (send_at && send_at[i] != TN_NO_TIME)
			tn_db_bind_int64(st, 9, send_at[i]);
		else
			tn_db_bind_null(st, 9);
		if (tn_db_step(st, "saving offer assignments", err) != TN_DB_DONE) {
			tn_db_finalize(st);
			tn_store_db_error(s, "saving offer assignments", err);
			goto fail;
		}
	}
	tn_db_finalize(st);
	return tn_store_commit(s, err);
fail:
	tn_store_rollback(s);
	return tn_error_code(err, TN_ERR_DB);
}

int tn_offers_measure(tn_store *s, int64_t plan_id, tn_offer_effect *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	tn_stmt *st = tn_db_prepare(s,
					    plan_id > 0 ? "SELECT id, created_at FROM offer_plans WHERE id = ?"
							: "SELECT id, created_at FROM offer_plans ORDER BY id DESC LIMIT 1",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (plan_id > 0)
		tn_db_bind_int64(st, 1, plan_id);
	int step = tn_db_step(st, "reading offer plans", err);
	if (step != TN_DB_ROW) {
		int rc = tn_db_step_end( step, err);
		tn_db_finalize(st);
		if (rc)
			return rc;
		if (plan_id > 0)
			return tn_error_set(err, TN_ERR_NOTFOUND, "no offer plan %lld (see `tenure offers plans`)",
					    (long long)plan_id);
		return tn_error_set(err, TN_ERR_NOTFOUND, "no offer plan yet (run `tenure offers plan` first)");
	}
	out->plan_id = tn_db_column_int64(st, 0);
	out->created_at = tn_db_column_int64(st, 1);
	tn_db_finalize(st);
	st = tn_db_prepare(s,
			      "SELECT a.arm, count(*), sum(NOT EXISTS (SELECT 1 FROM subscriptions x WHERE "
			      "x.customer_id = a.customer_id AND x.status IN ('trialing','active','past_due'))) "
			      "FROM offer_assignments a WHERE a.plan_id = ? GROUP BY a.arm",
			      err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, out->plan_id);
	while ((step = tn_db_step(st, "reading an offer plan's arms", err)) == TN_DB_ROW) {
		const char *arm = tn_db_column_text(st, 0);
		long cnt = (long)tn_db_column_int64(st, 1), ch = (long)tn_db_column_int64(st, 2);
		if (strcmp(arm, "offer") == 0) {
			out->n_offer = cnt;
			out->churned_offer = ch;
		} else {
			out->n_control = cnt;
			out->churned_control = ch;
		}
	}
	if (tn_db_step_end( step, err)) {
		tn_db_finalize(st);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	tn_prop_diff_newcombe(out->churned_control, out->n_control, out->churned_offer, out->n_offer, 1.959963984540054,
			      &out->uplift);
	return TN_OK;
}

int tn_offers_plans(tn_store *s, tn_rowset **out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT p.id AS plan, strftime('%Y-%m-%d', p.created_at, 'unixepoch') AS as_of, p.source, "
		"(SELECT count(*) FROM offer_assignments a WHERE a.plan_id = p.id AND a.arm = 'offer') AS offered, "
		"(SELECT count(*) FROM offer_assignments a WHERE a.plan_id = p.id AND a.arm = 'control') AS control, "
		"p.params FROM offer_plans p ORDER BY p.id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	static const int digits[] = {0, -1, -1, 0, 0, -1};
	return tn_rowset_from_db(s, st, digits, out, err);
}

/* ---- lists ------------------------------------------------------------------ */

static char *dup_col(tn_stmt *st, int i)
{
	const unsigned char *t = (const unsigned char *)tn_db_column_text(st, i);
	return tn_strdup(t ? (const char *)t : "");
}

void tn_ending_rows_free(tn_ending_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].customer);
		free(rows[i].plan);
		free(rows[i].status);
	}
	free(rows);
}

#define TN_LIST_MAX 10000000 /* rows in one list */

int tn_offers_ending(tn_store *s, tn_time now, double days, tn_ending_row **rows, size_t *n, tn_error *err)
{
	*rows = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT c.ext_id, s.plan, s.status, e, s.cancelled_at IS NULL, tn_money(s.price, s.currency, s.started_at) FROM ("
		"  SELECT *, CASE WHEN status = 'trialing' THEN coalesce(trial_ends_at, current_period_end)"
		"  ELSE current_period_end END AS e FROM subscriptions"
		"  WHERE status IN ('trialing','active','past_due') OR (cancelled_at IS NOT NULL AND current_period_end > ?1)"
		") s JOIN customers c ON c.id = s.customer_id WHERE e > ?1 AND e <= ?2 ORDER BY e, c.ext_id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	tn_db_bind_int64(st, 2, now + (tn_time)llround(days * TN_DAY));
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "listing subscriptions", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			tn_ending_row *t = nc <= TN_LIST_MAX ? tn_realloc(*rows, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing subscriptions");
				break;
			}
			*rows = t;
			cap = nc;
		}
		tn_ending_row *r = &(*rows)[(*n)++];
		r->customer = dup_col(st, 0);
		r->plan = dup_col(st, 1);
		r->status = dup_col(st, 2);
		if (!r->customer || !r->plan || !r->status) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing subscriptions");
			break;
		}
		r->ends_at = tn_db_column_int64(st, 3);
		r->renews = (int)tn_db_column_int64(st, 4);
		r->price = tn_db_column_double0(st, 5);
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	if (rc) {
		tn_ending_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

void tn_nearing_rows_free(tn_nearing_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].customer);
		free(rows[i].plan);
	}
	free(rows);
}

int tn_offers_nearing(tn_store *s, tn_time now, double danger_day, double window, tn_nearing_row **rows,
		      size_t *n, tn_error *err)
{
	*rows = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"SELECT c.ext_id, (SELECT plan FROM subscriptions WHERE customer_id = c.id AND status IN "
		"('trialing','active','past_due') ORDER BY started_at DESC LIMIT 1) AS plan, (?1 - c.signed_up_at) / 86400.0 AS age "
		"FROM customers c WHERE c.signed_up_at IS NOT NULL AND age >= ?2 - ?3 AND age <= ?2 AND plan IS NOT NULL "
		"ORDER BY age DESC, c.ext_id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	tn_db_bind_double(st, 2, danger_day);
	tn_db_bind_double(st, 3, window);
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "listing customers", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			tn_nearing_row *t = nc <= TN_LIST_MAX ? tn_realloc(*rows, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing customers");
				break;
			}
			*rows = t;
			cap = nc;
		}
		tn_nearing_row *r = &(*rows)[(*n)++];
		r->customer = dup_col(st, 0);
		r->plan = dup_col(st, 1);
		if (!r->customer || !r->plan) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory listing customers");
			break;
		}
		r->age_days = tn_db_column_double0(st, 2);
		r->days_to_danger = danger_day - r->age_days;
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	if (rc) {
		tn_nearing_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

int tn_offers_call_list(const tn_scores *sc, double min_p, double min_value, size_t top, size_t **idx, size_t *n,
			tn_error *err)
{
	*idx = NULL;
	*n = 0;
	rank_pair *pairs = tn_malloc((sc->n ? sc->n : 1) * sizeof *pairs);
	if (!pairs)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < sc->n; i++)
		if (sc->p_churn[i] >= min_p && sc->value[i] >= min_value) {
			pairs[k].profit = sc->p_churn[i] * sc->value[i];
			pairs[k].value = sc->value[i];
			pairs[k].draw = 0; /* ties: higher value, then the lower index */
			pairs[k++].idx = i;
		}
	qsort(pairs, k, sizeof *pairs, pair_desc);
	if (top && k > top)
		k = top;
	size_t *out = tn_malloc((k ? k : 1) * sizeof *out);
	if (!out) {
		free(pairs);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < k; i++)
		out[i] = pairs[i].idx;
	free(pairs);
	*idx = out;
	*n = k;
	return TN_OK;
}
