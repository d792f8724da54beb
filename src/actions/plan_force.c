/*
 * plan_force.c -- the approved offer plan in force (include/tenure/actions.h,
 * tn_plan_force; docs/actions.md, "The approved offer plan").
 *
 * The dashboard approves a plan (src/web/web_act.c): offer_plan_approvals
 * gets a row and the plan's offer arm is queued in the outbox on each
 * customer's send day.  The latest approval is the plan in force unless it
 * was withdrawn (migration 18: withdrawn_at, withdrawn_key); withdrawing
 * does not bring an older approval back: the engine returns to its default
 * rules until the next approval.  The decider (decisions.c) and the offers
 * job (jobs.c) read the plan through these functions.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"
#include "store/db.h"
#include "tenure/actions.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double param_num(const cJSON *o, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : dflt;
}

int tn_offer_plan_in_force(tn_store *s, tn_plan_force *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	out->budget = -1;
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT a.plan_id, a.approved_at, CASE WHEN a.withdrawn_at IS NULL THEN 0 ELSE 1 END, p.created_at, p.params,"
				    " (SELECT count(*) FROM offer_assignments o WHERE o.plan_id = a.plan_id AND o.arm = 'offer'),"
				    " (SELECT count(*) FROM offer_assignments o WHERE o.plan_id = a.plan_id AND o.arm = 'control')"
				    " FROM offer_plan_approvals a JOIN offer_plans p ON p.id = a.plan_id"
				    " ORDER BY a.approved_at DESC, a.plan_id DESC LIMIT 1",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int step = tn_db_step(st, "reading the approved offer plan", err);
	if (step == TN_DB_ROW && !tn_db_column_int64(st, 2)) {
		out->plan_id = tn_db_column_int64(st, 0);
		out->approved_at = tn_db_column_time(st, 1);
		out->created_at = tn_db_column_time(st, 3);
		cJSON *p = cJSON_Parse(tn_db_column_text(st, 4));
		out->offer_cost = param_num(p, "offer_cost", 0);
		double b = param_num(p, "budget", -1);
		out->budget = b >= 0 ? b : -1;
		cJSON_Delete(p);
		out->n_offer = (long)tn_db_column_int64(st, 5);
		out->n_control = (long)tn_db_column_int64(st, 6);
	}
	tn_db_finalize(st);
	return step == TN_DB_ROW || step == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

int tn_offer_plan_arms(tn_store *s, int64_t plan_id, int64_t **keys, unsigned char **arms, size_t *n, tn_error *err)
{
	*keys = NULL;
	*arms = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT customer_id, CASE WHEN arm = 'offer' THEN 1 ELSE 0 END FROM offer_assignments WHERE plan_id = ?"
				    " ORDER BY customer_id",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, plan_id);
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "reading the approved offer plan", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			int64_t *k = nc <= 100000000 ? tn_realloc(*keys, nc * sizeof *k) : NULL;
			if (k)
				*keys = k;
			unsigned char *a = k ? tn_realloc(*arms, nc) : NULL;
			if (!a) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory reading the approved offer plan");
				break;
			}
			*arms = a;
			cap = nc;
		}
		(*keys)[*n] = tn_db_column_int64(st, 0);
		(*arms)[(*n)++] = tn_db_column_int64(st, 1) ? TN_ARM_OFFER : TN_ARM_CONTROL;
	}
	tn_db_finalize(st);
	if (!rc && step != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	if (rc) {
		free(*keys);
		free(*arms);
		*keys = NULL;
		*arms = NULL;
		*n = 0;
	}
	return rc;
}

int tn_offer_plan_withdraw(tn_store *s, int64_t plan_id, int64_t key_id, tn_time now, int64_t *withdrawn,
			   long *suppressed, tn_error *err)
{
	*withdrawn = 0;
	*suppressed = 0;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_plan_force pf;
	int rc = tn_offer_plan_in_force(s, &pf, err);
	if (!rc && !pf.plan_id)
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "no approved offer plan is in force");
	else if (!rc && plan_id && plan_id != pf.plan_id)
		rc = tn_error_set(err, TN_ERR_NOTFOUND, "offer plan %lld is not in force (plan %lld is)",
				  (long long)plan_id, (long long)pf.plan_id);
	tn_stmt *st = NULL;
	if (!rc && !(st = tn_db_prepare(s,
					"UPDATE offer_plan_approvals SET withdrawn_at = ?2, withdrawn_key = ?3"
					" WHERE plan_id = ?1 AND withdrawn_at IS NULL",
					err)))
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		tn_db_bind_int64(st, 1, pf.plan_id);
		tn_db_bind_time(st, 2, now);
		tn_db_bind_int64(st, 3, key_id);
		if (tn_db_step(st, "withdrawing the offer plan", err) != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	st = NULL;
	/* the plan's offers not sent yet: the approval queued them under
	 * "offer:CUSTOMER:approved:DAY" (and the offers job under the same keys) */
	if (!rc && !(st = tn_db_prepare(s,
					"UPDATE outbox SET status = 'suppressed', last_error = ?2 WHERE status = 'pending'"
					" AND event = 'offer' AND idem_key LIKE 'offer:%:approved:%' AND customer_id IN"
					" (SELECT customer_id FROM offer_assignments WHERE plan_id = ?1 AND arm = 'offer')",
					err)))
		rc = tn_error_code(err, TN_ERR_DB);
	if (!rc) {
		char why[80];
		snprintf(why, sizeof why, "offer plan %lld withdrawn", (long long)pf.plan_id);
		tn_db_bind_int64(st, 1, pf.plan_id);
		tn_db_bind_text(st, 2, why);
		if (tn_db_step(st, "suppressing the plan's offers", err) != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		else
			*suppressed = (long)tn_db_changes(s);
	}
	tn_db_finalize(st);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		*suppressed = 0;
		return rc;
	}
	*withdrawn = pf.plan_id;
	return TN_OK;
}
