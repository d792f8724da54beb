/* test_scores.c -- one score table (migration 13): the rows of the old
 * customer_scores and risk_scores carried over; the nightly refresh writes
 * customer_scores (risk, value, reasons) and decisions, alerts and the
 * customer read (GET /v1/customers/{id}) use it. */
#include "store_util.h"
#include "tenure/decide.h"
#include "tenure/demo.h"
#include "tenure/outbox.h"
#include "tenure/store.h"
#include "tenure/time.h"

#include <cjson/cJSON.h>

static double one_num(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	double v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_migration_carries_rows(void **state)
{
	(void)state;
	char path[64];
	temp_path(path, sizeof path, "tenure_scores_mig");
	/* a store as the previous release left it: the migrations before the
	 * one that unifies the score tables */
	sqlite3 *db = old_store_open(path, migration_index("scores_unified"));
	exec_ok(db, "INSERT INTO customers(id, ext_id) VALUES (1,'both_newer_risk'),(2,'decide_only'),"
		    "(3,'risk_only'),(4,'both_older_risk');"
		    "INSERT INTO customer_scores VALUES (1, 0.2, 100, 'model', 1000),(2, 0.3, 200, 'file', 1000),"
		    "(4, 0.4, 400, 'model', 5000);"
		    "INSERT INTO risk_scores VALUES (1, 2000, 0.6),(3, 3000, 1.5),(4, 4000, 0.9);");
	sqlite3_close(db);
	tn_error err = {0};
	tn_store *s;
	assert_int_equal(tn_store_open(path, 0, &s, &err), TN_OK);
	tn_store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_near(one_num(db, "SELECT count(*) FROM customer_scores"), 4, 0);
	/* the newer risk wins, the value stays */
	assert_near(one_num(db, "SELECT p_churn FROM customer_scores WHERE customer_id = 1"), 0.6, 1e-12);
	assert_near(one_num(db, "SELECT value FROM customer_scores WHERE customer_id = 1"), 100, 0);
	assert_near(one_num(db, "SELECT as_of FROM customer_scores WHERE customer_id = 1"), 2000, 0);
	assert_near(one_num(db, "SELECT source = 'refresh' FROM customer_scores WHERE customer_id = 1"), 1, 0);
	assert_near(one_num(db, "SELECT p_churn FROM customer_scores WHERE customer_id = 2"), 0.3, 1e-12);
	assert_near(one_num(db, "SELECT as_of FROM customer_scores WHERE customer_id = 2"), 1000, 0);
	/* a risk alone: clamped to a probability, value unknown (0) */
	assert_near(one_num(db, "SELECT p_churn FROM customer_scores WHERE customer_id = 3"), 1, 0);
	assert_near(one_num(db, "SELECT value FROM customer_scores WHERE customer_id = 3"), 0, 0);
	/* an older risk does not replace a newer stored score */
	assert_near(one_num(db, "SELECT p_churn FROM customer_scores WHERE customer_id = 4"), 0.4, 1e-12);
	assert_near(one_num(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('risk_scores','scores_unified')"), 0,
		    0);
	assert_near(one_num(db, "SELECT count(*) FROM customer_scores WHERE reasons IS NOT NULL"), 0, 0);
	sqlite3_close(db);
	unlink(path);
}

static void test_refresh_writes_the_one_table(void **state)
{
	(void)state;
	char path[64];
	temp_path(path, sizeof path, "tenure_scores_jobs");
	tn_error err = {0};
	tn_store *s;
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	tn_demo_opts d;
	tn_demo_defaults(&d);
	d.customers = 1200;
	d.months = 8;
	d.end = tn_days_from_civil(2026, 9, 30) * TN_DAY;
	tn_demo_result dr;
	assert_int_equal(tn_demo_generate(s, &d, &dr, &err), TN_OK);
	tn_jobs_opts o = tn_jobs_opts_default();
	o.as_of = tn_days_from_civil(2026, 10, 1) * TN_DAY + TN_DAY - 1;
	o.job = "refresh";
	tn_job_result r[8];
	size_t n = 0;
	assert_int_equal(tn_jobs_run(s, &o, r, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_true(r[0].items > 200);
	assert_true(r[0].cpu_seconds >= 0);
	tn_store_close(s);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char q[160];
	snprintf(q, sizeof q, "SELECT count(*) FROM customer_scores WHERE source = 'refresh' AND as_of = %lld",
		 (long long)o.as_of);
	assert_near(one_num(db, q), (double)r[0].items, 0);
	assert_near(one_num(db, "SELECT min(p_churn) >= 0 AND max(p_churn) <= 1 FROM customer_scores"), 1, 0);
	assert_near(one_num(db, "SELECT min(value) >= 0 AND max(value) > 0 FROM customer_scores"), 1, 0);
	/* reasons: a JSON array of one or two phrases for most customers */
	assert_true(one_num(db, "SELECT avg(json_valid(reasons) AND json_array_length(reasons) BETWEEN 1 AND 2)"
				" FROM customer_scores") > 0.9);
	/* value = MRR x lifetime (1 / monthly risk, at most 36 months): a paying customer's
	 * value is at least its MRR */
	assert_near(one_num(db, "SELECT count(*) FROM customer_scores WHERE value > 0 AND value < 1e-9"), 0, 0);
	/* a customer with a score: its id, score and reasons */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT c.ext_id, cs.p_churn, cs.value, cs.reasons FROM customer_scores cs"
					    " JOIN customers c ON c.id = cs.customer_id WHERE cs.reasons IS NOT NULL"
					    " ORDER BY cs.p_churn DESC LIMIT 1",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char id[64], reasons[600];
	snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(st, 0));
	double p = sqlite3_column_double(st, 1), value = sqlite3_column_double(st, 2);
	snprintf(reasons, sizeof reasons, "%s", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);

	assert_int_equal(tn_store_open(path, 0, &s, &err), TN_OK);
	/* GET /v1/customers/{id}: the stored score with its reasons */
	char *json = NULL;
	assert_int_equal(tn_store_customer_json(s, id, o.as_of, &json, &err), TN_OK);
	cJSON *c = cJSON_Parse(json);
	const cJSON *risk = cJSON_GetObjectItemCaseSensitive(c, "risk");
	assert_true(cJSON_IsObject(risk));
	assert_near(cJSON_GetObjectItemCaseSensitive(risk, "score")->valuedouble, p, 1e-12);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(risk, "source")->valuestring, "refresh");
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(risk, "reasons");
	assert_true(cJSON_IsArray(why) && cJSON_GetArraySize(why) >= 1);
	cJSON *want = cJSON_Parse(reasons);
	assert_true(cJSON_Compare(why, want, 1));
	cJSON_Delete(want);
	cJSON_Delete(c);
	free(json);
	/* decisions read the same scores */
	tn_decider *dec = NULL;
	assert_int_equal(tn_decider_load(s, &dec, &err), TN_OK);
	tn_decision out;
	assert_int_equal(tn_decide(dec, id, TN_MOMENT_SESSION, o.as_of, &out, &err), TN_OK);
	assert_int_equal(out.score_fallback, 0);
	assert_near(out.p_churn, p, 1e-6);
	assert_near(out.value, value, 1e-3 * value + 1e-6);
	tn_decider_free(dec);
	/* the next night rewrites every live customer's row */
	o.as_of += TN_DAY;
	assert_int_equal(tn_jobs_run(s, &o, r, &n, &err), TN_OK);
	tn_store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(q, sizeof q, "SELECT count(*) FROM customer_scores WHERE as_of = %lld", (long long)o.as_of);
	assert_near(one_num(db, q), (double)r[0].items, 0);
	sqlite3_close(db);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migration_carries_rows),
		cmocka_unit_test(test_refresh_writes_the_one_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
