/*
 * currency.c -- the store's reporting currency and its exchange rates (see
 * include/tenure/store.h and docs/metrics.md, "Currency").
 *
 * Money in other currencies is converted where it is summed, inside SQL, by
 * the function tn_money(AMOUNT, CURRENCY, AT) registered on every store
 * connection: AMOUNT times the rate of CURRENCY in force at AT (the latest
 * rate on or before AT), in units of the reporting currency.  An amount in a
 * currency with no such rate stops the query with an error naming the
 * currency and the date, so nothing is summed across currencies silently.
 *
 * The rates (a small table) are held in memory, sorted by currency then
 * date, and reloaded when the database has changed since they were read.
 */
#include "store/db.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"
#include "tenure/store.h"
#include "tenure/time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rate {
	char cur[4];
	tn_time from;
	double rate;
} rate;

typedef struct money {
	sqlite3 *db;
	int loaded;
	sqlite3_int64 changes; /* sqlite3_total_changes64() when loaded */
	unsigned int version;  /* SQLITE_FCNTL_DATA_VERSION when loaded */
	char reporting[4];
	rate *r;
	size_t n;
} money;

static void money_free(void *p)
{
	money *m = p;
	if (m)
		free(m->r);
	free(m);
}

static unsigned int data_version(sqlite3 *db)
{
	unsigned int v = 0;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
	return v;
}

/* Reporting currency: the setting, else the currency of the first
 * subscription, else of the first payment, else USD. */
static const char *const reporting_sql =
	"SELECT value FROM meta WHERE key = 'reporting_currency' UNION ALL "
	"SELECT * FROM (SELECT currency FROM subscriptions ORDER BY id LIMIT 1) s UNION ALL "
	"SELECT * FROM (SELECT currency FROM payments ORDER BY id LIMIT 1) p UNION ALL SELECT 'USD' LIMIT 1";

static int money_load(money *m, char *errbuf, size_t n)
{
	sqlite3_int64 changes = sqlite3_total_changes64(m->db);
	unsigned int version = data_version(m->db);
	if (m->loaded && changes == m->changes && version == m->version)
		return 0;
	m->loaded = 0;
	m->n = 0;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(m->db, reporting_sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(m->reporting, sizeof m->reporting, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(m->db, "SELECT currency, valid_from, rate FROM currency_rates "
					       "ORDER BY currency, valid_from",
					-1, &st, NULL);
	size_t cap = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			rate *p = tn_realloc(m->r, nc * sizeof *p);
			if (!p) {
				rc = SQLITE_NOMEM;
				break;
			}
			m->r = p;
			cap = nc;
		}
		rate *x = &m->r[m->n++];
		snprintf(x->cur, sizeof x->cur, "%s", (const char *)sqlite3_column_text(st, 0));
		x->from = sqlite3_column_int64(st, 1);
		x->rate = sqlite3_column_double(st, 2);
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, n, "reading exchange rates: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(m->db));
		return -1;
	}
	m->changes = changes;
	m->version = version;
	m->loaded = 1;
	return 0;
}

/* The rate of CUR in force at AT, or 0 (*first: the earliest date there is
 * a rate for CUR, or TN_NO_TIME when there is none). */
static double rate_at(const money *m, const char *cur, tn_time at, tn_time *first)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) { /* first entry of CUR */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(m->r[mid].cur, cur) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo < m->n && strcmp(m->r[lo].cur, cur) == 0 ? m->r[lo].from : TN_NO_TIME;
	double r = 0;
	for (size_t i = lo; i < m->n && strcmp(m->r[i].cur, cur) == 0 && m->r[i].from <= at; i++)
		r = m->r[i].rate;
	return r;
}

static void money_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	money *m = sqlite3_user_data(ctx);
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	double amount = sqlite3_value_double(argv[0]);
	const char *cur = (const char *)sqlite3_value_text(argv[1]);
	char msg[300];
	if (money_load(m, msg, sizeof msg)) {
		sqlite3_result_error(ctx, msg, -1);
		return;
	}
	if (!cur || strcmp(cur, m->reporting) == 0) {
		sqlite3_result_double(ctx, amount);
		return;
	}
	tn_time at = sqlite3_value_int64(argv[2]), first;
	double r = rate_at(m, cur, at, &first);
	if (r > 0) {
		sqlite3_result_double(ctx, amount * r);
		return;
	}
	char day[16], from[16];
	tn_date_format(at, day, sizeof day);
	if (first == TN_NO_TIME)
		snprintf(msg, sizeof msg,
			 "an amount in %s (on %s) cannot be added to the reporting currency %s: there is no %s "
			 "exchange rate (import one with `tenure import rates FILE`)",
			 cur, day, m->reporting, cur);
	else
		snprintf(msg, sizeof msg,
			 "an amount in %s on %s cannot be added to the reporting currency %s: the first %s rate is "
			 "from %s (import an earlier one with `tenure import rates FILE`)",
			 cur, day, m->reporting, cur, tn_date_format(first, from, sizeof from));
	sqlite3_result_error(ctx, msg, -1);
}

int tn_store_money_register(tn_store *s)
{
	sqlite3 *db = tn_store_sqlite(s);
	money *m = tn_calloc(1, sizeof *m);
	if (!m)
		return SQLITE_NOMEM;
	m->db = db;
	return sqlite3_create_function_v2(db, "tn_money", 3, SQLITE_UTF8, m, money_fn, NULL, NULL, money_free);
}

int tn_store_reporting_currency(tn_store *s, char out[4], tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, reporting_sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the reporting currency", err);
	if (rc == TN_DB_ROW)
		snprintf(out, 4, "%s", tn_db_column_text(st, 0));
	tn_db_finalize(st);
	return rc == TN_DB_ROW ? TN_OK : tn_store_db_error(s, "reading the reporting currency", err);
}

int tn_store_set_reporting_currency(tn_store *s, const char *cur, tn_error *err)
{
	if (!tn_currency_code_ok(cur))
		return tn_error_set(err, TN_ERR_USAGE,
				    "reporting currency: expected a three-letter ISO 4217 code (USD, EUR, SAR), found \"%s\"",
				    cur);
	return tn_store_meta_set(s, "reporting_currency", cur, err);
}

int tn_currency_code_ok(const char *cur)
{
	return cur && strlen(cur) == 3 && cur[0] >= 'A' && cur[0] <= 'Z' && cur[1] >= 'A' && cur[1] <= 'Z' &&
	       cur[2] >= 'A' && cur[2] <= 'Z';
}

int tn_store_put_rate(tn_store *s, const char *cur, tn_time valid_from, double r, int *outcome, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "SELECT rate FROM currency_rates WHERE currency = ?1 AND valid_from = ?2",
					    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, cur);
	tn_db_bind_int64(st, 2, valid_from);
	int rc = tn_db_step(st, "reading exchange rates", err);
	int existed = rc == TN_DB_ROW;
	double old = existed ? tn_db_column_double0(st, 0) : 0;
	tn_db_finalize(st);
	if (rc != TN_DB_ROW && rc != TN_DB_DONE)
		return tn_store_db_error(s, "reading exchange rates", err);
	if (existed && old == r) {
		if (outcome)
			*outcome = TN_PUT_UNCHANGED;
		return TN_OK;
	}
	st = tn_db_prepare(s, "INSERT INTO currency_rates(currency, valid_from, rate) VALUES(?1, ?2, ?3) "
				 "ON CONFLICT(currency, valid_from) DO UPDATE SET rate = excluded.rate",
			      err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, cur);
	tn_db_bind_int64(st, 2, valid_from);
	tn_db_bind_double(st, 3, r);
	rc = tn_db_step(st, "writing an exchange rate", err);
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		return tn_store_db_error(s, "writing an exchange rate", err);
	if (outcome)
		*outcome = existed ? TN_PUT_UPDATED : TN_PUT_ADDED;
	return TN_OK;
}
