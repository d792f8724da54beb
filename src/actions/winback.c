/*
 * winback.c -- win-back campaigns: who to contact after they lapse, what was
 * done (contacts with channel, reach, reason, offer, cost, and a held-out
 * control group), and what it bought: customers won back (a subscription
 * started after the first contact, within a window), revenue regained, cost
 * per customer won back, and the uplift over the control group with the
 * Newcombe (1998, method 10) interval for a difference of proportions.
 */
#include "actions/actions_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WINBACK_MAX_ROWS 10000000 /* rows in one listing or import */

static int channel_ok(const char *c)
{
	return c && (strcmp(c, "email") == 0 || strcmp(c, "call") == 0 || strcmp(c, "sms") == 0 ||
		     strcmp(c, "none") == 0);
}

static int record(tn_store *s, tn_stmt *st, const tn_winback_contact *c, int *added, const char *where,
		  tn_error *err)
{
	if (!c->campaign || !*c->campaign)
		return tn_error_set(err, TN_ERR_INPUT, "%scampaign: expected a name, found a blank", where);
	if (!channel_ok(c->channel))
		return tn_error_set(err, TN_ERR_INPUT, "%schannel: expected email, call, sms (or none for a control), "
						       "found \"%s\"", where, c->channel ? c->channel : "");
	if (!(c->cost >= 0) || !isfinite(c->cost))
		return tn_error_set(err, TN_ERR_INPUT, "%scost: expected a number >= 0, found %g", where, c->cost);
	int64_t key;
	if (tn_store_customer_key(s, c->customer, &key, err))
		return tn_error_code(err, TN_ERR_NOTFOUND);
	tn_db_reset(st);
	tn_db_bind_int64(st, 1, key);
	tn_db_bind_text(st, 2, c->campaign);
	tn_db_bind_int64(st, 3, c->at);
	tn_db_bind_text(st, 4, c->control ? "none" : c->channel);
	tn_db_bind_int64(st, 5, c->control ? 0 : c->reached != 0);
	tn_db_bind_int64(st, 6, c->control != 0);
	if (c->reason && *c->reason)
		tn_db_bind_text(st, 7, c->reason);
	else
		tn_db_bind_null(st, 7);
	if (c->offer && *c->offer)
		tn_db_bind_text(st, 8, c->offer);
	else
		tn_db_bind_null(st, 8);
	tn_db_bind_double(st, 9, c->cost);
	if (tn_db_step(st, "recording a win-back contact", err) != TN_DB_DONE)
		return tn_store_db_error(s, "recording a win-back contact", err);
	if (added)
		*added = tn_db_changes(s) > 0;
	return TN_OK;
}

static const char *INSERT_CONTACT =
	"INSERT INTO winback_contacts(customer_id, campaign, contacted_at, channel, reached, control, reason, "
	"offer, cost) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING";

int tn_winback_record(tn_store *s, const tn_winback_contact *c, int *added, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, INSERT_CONTACT, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = record(s, st, c, added, "", err);
	tn_db_finalize(st);
	return rc;
}

static int parse_yes_no(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "y")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "n") || !*v) {
		*out = 0;
		return 0;
	}
	return -1;
}

int tn_winback_import_csv(tn_store *s, const char *path, long *rows, long *added, tn_error *err)
{
	*rows = *added = 0;
	tn_csv *r = tn_csv_open(path, ',', err);
	if (!r)
		return tn_error_code(err, TN_ERR_IO);
	static const char *names[] = {"customer", "campaign", "channel", "reached", "at",
				      "reason",   "offer",    "cost",    "control"};
	int col[9];
	for (int i = 0; i < 9; i++)
		col[i] = -1;
	int rc = tn_csv_next(r, err);
	if (rc <= 0) {
		tn_csv_close(r);
		return rc < 0 ? TN_ERR_INPUT : tn_error_set(err, TN_ERR_INPUT, "%s:1: expected a header, found an empty file", path);
	}
	for (size_t f = 0; f < tn_csv_nfields(r); f++)
		for (int i = 0; i < 9; i++)
			if (strcmp(tn_csv_field(r, f, NULL), names[i]) == 0)
				col[i] = (int)f;
	for (int i = 0; i < 5; i++)
		if (col[i] < 0) {
			tn_csv_close(r);
			return tn_error_set(err, TN_ERR_INPUT,
					    "%s:1: expected columns customer, campaign, channel, reached, at "
					    "(optional reason, offer, cost, control); missing %s",
					    path, names[i]);
		}
	tn_stmt *st = NULL;
	if (tn_store_begin(s, err) || !(st = tn_db_prepare(s, INSERT_CONTACT, err)))
		goto fail;
	while ((rc = tn_csv_next(r, err)) == 1) {
		long line = tn_csv_line(r);
		const char *v[9] = {0};
		for (int i = 0; i < 9; i++)
			v[i] = col[i] >= 0 && (size_t)col[i] < tn_csv_nfields(r) ? tn_csv_field(r, (size_t)col[i], NULL) : "";
		if (++*rows > WINBACK_MAX_ROWS) {
			tn_error_set(err, TN_ERR_NOMEM, "%s:%ld: more than %d rows", path, line, WINBACK_MAX_ROWS);
			goto fail;
		}
		tn_winback_contact c = {.customer = v[0], .campaign = v[1], .channel = v[2], .reason = v[5], .offer = v[6]};
		if (parse_yes_no(v[3], &c.reached)) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: reached: expected yes or no, found \"%s\"", path, line,
				     col[3] + 1, v[3]);
			goto fail;
		}
		if (tn_time_parse(v[4], strlen(v[4]), &c.at)) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: at: expected a date or time, found \"%s\"", path,
				     line, col[4] + 1, v[4]);
			goto fail;
		}
		if (*v[7] && tn_parse_double(v[7], strlen(v[7]), &c.cost)) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: cost: expected a number, found \"%s\"", path, line,
				     col[7] + 1, v[7]);
			goto fail;
		}
		if (parse_yes_no(v[8], &c.control)) {
			tn_error_set(err, TN_ERR_INPUT, "%s:%ld:%d: control: expected yes or no, found \"%s\"", path,
				     line, col[8] + 1, v[8]);
			goto fail;
		}
		if (c.control && !*c.channel)
			c.channel = "none";
		char where[256];
		snprintf(where, sizeof where, "%s:%ld: ", path, line);
		int a = 0;
		int64_t key;
		tn_error e2 = {0};
		int krc = tn_store_customer_key(s, c.customer, &key, &e2);
		if (krc && krc != TN_ERR_NOTFOUND) { /* the store failed, not the row */
			tn_error_set(err, krc, "%s:%ld: %s", path, line, e2.msg);
			goto fail;
		}
		if (krc) {
			tn_error_set(err, e2.code, "%s:%ld:%d: customer: expected a customer in the store, found \"%.200s\"",
				     path, line, col[0] + 1, c.customer);
			goto fail;
		}
		if (record(s, st, &c, &a, where, err))
			goto fail;
		*added += a;
	}
	if (rc < 0)
		goto fail;
	tn_db_finalize(st);
	tn_csv_close(r);
	return tn_store_commit(s, err);
fail:
	tn_db_finalize(st);
	tn_store_rollback(s);
	tn_csv_close(r);
	*added = 0;
	return tn_error_code(err, TN_ERR_INPUT);
}

void tn_winback_stats_free(tn_winback_stats *st, size_t n)
{
	for (size_t i = 0; st && i < n; i++)
		free(st[i].campaign);
	free(st);
}

int tn_winback_report(tn_store *s, const char *campaign, double window_days, tn_time now, tn_winback_stats **out,
		      size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"WITH f AS (SELECT campaign, customer_id, min(contacted_at) AS t0, max(control) AS ctl, "
		"  max(reached) AS reached, sum(cost) AS cost FROM winback_contacts WHERE ?1 IS NULL OR campaign = ?1 "
		"  GROUP BY campaign, customer_id), "
		"w AS (SELECT f.*, (SELECT s.id FROM subscriptions s WHERE s.customer_id = f.customer_id AND "
		"  s.started_at > f.t0 AND s.started_at <= f.t0 + ?2 ORDER BY s.started_at LIMIT 1) AS sub FROM f), "
		"v AS (SELECT w.*, CASE WHEN sub IS NULL THEN 0 ELSE (SELECT CASE WHEN count(p.id) > 0 THEN "
		"  sum(CASE p.status WHEN 'succeeded' THEN tn_money(p.amount, p.currency, p.paid_at) "
		"  WHEN 'refunded' THEN -tn_money(p.amount, p.currency, p.paid_at) ELSE 0 END) "
		"  ELSE (SELECT tn_money(price, currency, started_at) FROM subscriptions WHERE id = w.sub) END "
		"  FROM payments p "
		"  WHERE p.customer_id = w.customer_id AND p.paid_at >= (SELECT started_at FROM subscriptions "
		"  WHERE id = w.sub) AND p.paid_at <= ?3) END AS revenue FROM w) "
		"SELECT campaign, ctl, count(*), sum(reached), sum(sub IS NOT NULL), sum(cost), sum(revenue) "
		"FROM v GROUP BY campaign, ctl ORDER BY min(t0), campaign, ctl",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (campaign)
		tn_db_bind_text(st, 1, campaign);
	tn_db_bind_int64(st, 2, (int64_t)llround(window_days * TN_DAY));
	tn_db_bind_int64(st, 3, now);
	tn_winback_stats *v = NULL;
	size_t len = 0, cap = 0;
	int rc;
	while ((rc = tn_db_step(st, "reading the store", err)) == TN_DB_ROW) {
		const char *name = tn_db_column_text(st, 0);
		tn_winback_stats *cur = NULL;
		for (size_t i = 0; i < len; i++)
			if (strcmp(v[i].campaign, name) == 0)
				cur = &v[i];
		if (!cur) {
			if (len == cap) {
				size_t nc = cap ? cap * 2 : 8;
				tn_winback_stats *t = nc <= WINBACK_MAX_ROWS ? tn_realloc(v, nc * sizeof *t) : NULL;
				if (!t)
					goto nomem;
				v = t;
				cap = nc;
			}
			cur = &v[len];
			memset(cur, 0, sizeof *cur);
			if (!(cur->campaign = tn_strdup(name)))
				goto nomem;
			len++;
		}
		long cnt = (long)tn_db_column_int64(st, 2), won = (long)tn_db_column_int64(st, 4);
		if ((int)tn_db_column_int64(st, 1)) {
			cur->controls = cnt;
			cur->control_won = won;
		} else {
			cur->contacted = cnt;
			cur->reached = (long)tn_db_column_int64(st, 3);
			cur->won = won;
			cur->cost = tn_db_column_double0(st, 5);
			cur->revenue = tn_db_column_double0(st, 6);
		}
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		tn_winback_stats_free(v, len);
		return tn_store_db_error(s, "reporting win-back campaigns", err);
	}
	for (size_t i = 0; i < len; i++) {
		v[i].cost_per_win = v[i].won > 0 ? v[i].cost / (double)v[i].won : NAN;
		tn_prop_diff_newcombe(v[i].won, v[i].contacted, v[i].control_won, v[i].controls, 1.959963984540054,
				      &v[i].uplift);
	}
	if (campaign && len == 0)
		return tn_error_set(err, TN_ERR_NOTFOUND, "no win-back campaign \"%s\" (see `tenure winback report`)",
				    campaign);
	*out = v;
	*n = len;
	return TN_OK;
nomem:
	tn_db_finalize(st);
	tn_winback_stats_free(v, len);
	return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
}

void tn_winback_due_free(tn_winback_due *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].customer);
		free(rows[i].plan);
	}
	free(rows);
}

/* SplitMix64 of the seed mixed with the id's FNV-1a hash: a draw in [0, 1)
 * that depends on the seed and the id only.  The hash starts from the value
 * the first schedules were drawn with (FNV's offset basis short of its last
 * digit), so that a seed keeps choosing the same control group. */
static double holdout_draw(uint64_t seed, const char *id)
{
	uint64_t x = seed ^ tn_hash_fnv1a(id, 1469598103934665603ull);
	return tn_rng_u01(tn_rng_splitmix64(&x));
}

int tn_winback_schedule(tn_store *s, tn_time now, double after_days, double horizon_days, double control_share,
			uint64_t seed, tn_winback_due **rows, size_t *n, tn_error *err)
{
	if (!(control_share >= 0 && control_share < 1))
		return tn_error_set(err, TN_ERR_USAGE, "control share: expected a number in [0, 1), found %g",
				    control_share);
	*rows = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(
		s,
		"WITH lapse AS (SELECT customer_id, max(coalesce(cancelled_at, current_period_end)) AS lapsed_at "
		"  FROM subscriptions WHERE status IN ('cancelled','expired') GROUP BY customer_id), "
		"due AS (SELECT l.*, l.lapsed_at + ?2 AS contact_on FROM lapse l WHERE l.lapsed_at IS NOT NULL AND "
		"  NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.customer_id = l.customer_id AND "
		"  x.status IN ('trialing','active','past_due'))) "
		"SELECT c.ext_id, d.lapsed_at, d.contact_on, (SELECT plan FROM subscriptions WHERE customer_id = "
		"  d.customer_id ORDER BY started_at DESC LIMIT 1), (SELECT tn_money(price, currency, started_at) FROM subscriptions WHERE customer_id = "
		"  d.customer_id ORDER BY started_at DESC LIMIT 1) "
		"FROM due d JOIN customers c ON c.id = d.customer_id WHERE d.contact_on >= ?1 AND d.contact_on < ?1 + ?3 "
		"AND NOT EXISTS (SELECT 1 FROM winback_contacts w WHERE w.customer_id = d.customer_id AND "
		"  w.contacted_at >= d.lapsed_at AND w.contacted_at <= ?1) ORDER BY d.contact_on, c.ext_id",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, now);
	tn_db_bind_int64(st, 2, (int64_t)llround(after_days * TN_DAY));
	tn_db_bind_int64(st, 3, (int64_t)llround(horizon_days * TN_DAY));
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "scheduling win-backs", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			tn_winback_due *t = nc <= WINBACK_MAX_ROWS ? tn_realloc(*rows, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory scheduling win-backs");
				break;
			}
			*rows = t;
			cap = nc;
		}
		tn_winback_due *r = &(*rows)[(*n)++];
		const unsigned char *plan = (const unsigned char *)tn_db_column_text(st, 3);
		r->customer = tn_strdup(tn_db_column_text(st, 0));
		r->plan = tn_strdup(plan ? (const char *)plan : "");
		if (!r->customer || !r->plan) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory scheduling win-backs");
			break;
		}
		r->lapsed_at = tn_db_column_int64(st, 1);
		r->contact_on = tn_db_column_int64(st, 2);
		r->price = tn_db_column_double0(st, 4);
		r->control = holdout_draw(seed, r->customer) < control_share;
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	if (rc) {
		tn_winback_due_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

void tn_reason_counts_free(tn_reason_count *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		free(rows[i].reason);
	free(rows);
}

int tn_winback_reasons(tn_store *s, const char *campaign, tn_reason_count **rows, size_t *n, tn_error *err)
{
	*rows = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s,
					    "SELECT lower(trim(reason)) AS r, count(*) FROM winback_contacts WHERE "
					    "reason IS NOT NULL AND trim(reason) != '' AND (?1 IS NULL OR campaign = ?1) "
					    "GROUP BY r ORDER BY count(*) DESC, r",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (campaign)
		tn_db_bind_text(st, 1, campaign);
	size_t cap = 0;
	int step, rc = TN_OK;
	while ((step = tn_db_step(st, "counting win-back reasons", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			tn_reason_count *t = nc <= WINBACK_MAX_ROWS ? tn_realloc(*rows, nc * sizeof *t) : NULL;
			if (!t) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			*rows = t;
			cap = nc;
		}
		if (!((*rows)[*n].reason = tn_strdup(tn_db_column_text(st, 0)))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
		(*rows)[(*n)++].count = (long)tn_db_column_int64(st, 1);
	}
	if (!rc)
		rc = tn_db_step_end( step, err);
	tn_db_finalize(st);
	if (rc) {
		tn_reason_counts_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}
