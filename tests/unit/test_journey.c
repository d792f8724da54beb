/* test_journey.c -- onboarding milestones on a hand-computed case: funnel
 * (conversion, median days, monthly cohorts), churn by furthest milestone,
 * stuck customers, and the milestone map. */
#include "actions_fixture.h"
#include "store_util.h"

static void build(fixture *f)
{
	fx_begin(f);
	const char *ids[] = {"j0", "j1", "j2", "j3", "j4", "j5"};
	for (int i = 0; i < 6; i++) {
		tn_time su = i == 5 ? T0 + 31 * DAY : T0;
		fx_customer(f, ids[i], su);
		int churned = i == 1 || i == 3;
		fx_sub(f, ids[i], "monthly", 9.99, su, su + 30 * DAY, churned ? su + 20 * DAY : TN_NO_TIME,
		       churned ? "cancelled" : "active");
	}
	fx_event(f, "j0", T0 + 3600, "session", NAN);
	fx_event(f, "j0", T0 + 2 * DAY, "feature_use", NAN);
	fx_event(f, "j0", T0 + 3 * DAY, "feature_use", NAN); /* not the first: ignored */
	fx_event(f, "j0", T0 + 5 * DAY, "onboarding_complete", NAN);
	fx_event(f, "j0", T0 + 10 * DAY, "invite_sent", NAN);
	fx_event(f, "j1", T0 + DAY, "session", NAN);
	fx_event(f, "j1", T0 + 4 * DAY, "feature_use", NAN);
	fx_event(f, "j2", T0 + 2 * DAY, "session", NAN);
	fx_event(f, "j4", T0 - DAY, "session", NAN); /* before signup: does not count */
	fx_event(f, "j5", T0 + 32 * DAY, "session", NAN);
	fx_event(f, "j5", T0 + 50 * DAY, "feature_use", NAN); /* after now */
	fx_commit(f);
}

static void test_funnel_churn_stuck(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_error err = {0};
	tn_journey *j;
	assert_int_equal(tn_journey_load(f.s, T0 + 40 * DAY, &j, &err), TN_OK);
	assert_int_equal(j->n, 6);
	tn_funnel_row *rows;
	size_t n;
	assert_int_equal(tn_journey_funnel(j, 0, &rows, &n, &err), TN_OK);
	assert_int_equal(n, 4);
	/* first impression: j0 (1/24 day), j1 (1), j2 (2), j5 (1 day) -> median 1 */
	assert_int_equal(rows[0].customers, 6);
	assert_int_equal(rows[0].reached, 4);
	assert_near(rows[0].conversion, 4.0 / 6, 1e-12);
	assert_near(rows[0].median_days, 1, 1e-12);
	/* first value: j0 (2), j1 (4) -> median 3 */
	assert_int_equal(rows[1].reached, 2);
	assert_near(rows[1].median_days, 3, 1e-12);
	assert_int_equal(rows[2].reached, 1);
	assert_near(rows[2].median_days, 5, 1e-12);
	assert_near(rows[3].median_days, 10, 1e-12);
	free(rows);
	assert_int_equal(tn_journey_funnel(j, 1, &rows, &n, &err), TN_OK);
	assert_int_equal(n, 8);
	assert_string_equal(rows[0].cohort, "2024-01");
	assert_int_equal(rows[0].customers, 5);
	assert_int_equal(rows[0].reached, 3);
	assert_string_equal(rows[4].cohort, "2024-02");
	assert_int_equal(rows[4].customers, 1);
	assert_int_equal(rows[5].reached, 0); /* j5's feature_use is after now */
	assert_true(isnan(rows[5].median_days));
	free(rows);
	tn_journey_churn_row ch[TN_MS_COUNT + 1];
	tn_journey_churn(j, ch);
	assert_int_equal(ch[0].furthest, -1); /* none: j3 (churned), j4 */
	assert_int_equal(ch[0].customers, 2);
	assert_near(ch[0].churn_rate, 0.5, 1e-12);
	assert_int_equal(ch[1].customers, 2); /* first impression: j2, j5 */
	assert_int_equal(ch[1].churned, 0);
	assert_int_equal(ch[2].customers, 1); /* first value: j1, churned */
	assert_near(ch[2].churn_rate, 1, 1e-12);
	assert_int_equal(ch[3].customers, 0);
	assert_true(isnan(ch[3].churn_rate));
	assert_int_equal(ch[4].customers, 1);
	size_t *idx;
	assert_int_equal(tn_journey_stuck(j, 14, &idx, &n, &err), TN_OK);
	assert_int_equal(n, 2);
	assert_string_equal(j->customer[idx[0]], "j2");
	assert_string_equal(j->customer[idx[1]], "j4");
	free(idx);
	tn_journey_free(j);
	fx_close(&f);
}

static void test_map(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_error err = {0};
	assert_int_equal(tn_milestone_parse("intended_value"), TN_MS_INTENDED_VALUE);
	assert_int_equal(tn_milestone_parse("nope"), -1);
	assert_int_equal(tn_journey_map(f.s, TN_MS_FIRST_VALUE, "onboarding_complete", &err), TN_OK);
	char *types[TN_MS_COUNT];
	int mapped[TN_MS_COUNT];
	assert_int_equal(tn_journey_types(f.s, types, mapped, &err), TN_OK);
	assert_string_equal(types[TN_MS_FIRST_VALUE], "onboarding_complete");
	assert_int_equal(mapped[TN_MS_FIRST_VALUE], 1);
	assert_string_equal(types[TN_MS_FIRST_IMPRESSION], "session");
	assert_int_equal(mapped[TN_MS_FIRST_IMPRESSION], 0);
	tn_journey_types_free(types);
	/* now only j0 reached first value (day 5) */
	tn_journey *j;
	assert_int_equal(tn_journey_load(f.s, T0 + 40 * DAY, &j, &err), TN_OK);
	tn_funnel_row *rows;
	size_t n;
	assert_int_equal(tn_journey_funnel(j, 0, &rows, &n, &err), TN_OK);
	assert_int_equal(rows[1].reached, 1);
	assert_near(rows[1].median_days, 5, 1e-12);
	free(rows);
	tn_journey_free(j);
	fx_close(&f);
}

/* Sparse customer keys: a key of 3,000,000,000 used to need an array of 3e9
 * slots (refused above 200,000,000, or gigabytes below it).  Keys are looked
 * up now, so the journey and the score attachment work on any keys. */
static void test_sparse_customer_keys(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_error err = {0};
	char sql[600];
	snprintf(sql, sizeof sql,
		 "INSERT INTO customers(id, ext_id, signed_up_at) VALUES(3000000000, 'jbig', %d);"
		 "INSERT INTO subscriptions(customer_id, plan, billing_period, price, currency, started_at, status) "
		 "VALUES(3000000000, 'monthly', 'month', 9.99, 'USD', %d, 'active');"
		 "INSERT INTO events(customer_id, occurred_at, type_id) "
		 "SELECT 3000000000, %d, id FROM event_types WHERE name = 'session'",
		 T0, T0, T0 + 7200);
	assert_int_equal(tn_store_exec(f.s, sql, &err), TN_OK);
	tn_store_close(f.s); /* a fresh handle: its customer map has jbig */
	assert_int_equal(tn_store_open(f.path, 0, &f.s, &err), TN_OK);
	tn_journey *j;
	if (tn_journey_load(f.s, T0 + 40 * DAY, &j, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(j->n, 7);
	assert_string_equal(j->customer[6], "jbig");
	assert_int_equal(j->reached[6 * TN_MS_COUNT], T0 + 7200);
	assert_int_equal(j->churned[6], 0);
	tn_journey_free(j);
	const char *path = "/tmp/tenure-journey-scores.csv";
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("customer,p_churn,value\njbig,0.5,10\nj0,0.1,5\n", fp);
	fclose(fp);
	tn_scores *sc;
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_OK);
	unlink(path);
	if (tn_scores_attach(f.s, sc, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(sc->signed_up_at[0], T0);
	assert_int_equal(sc->signed_up_at[1], T0);
	tn_scores_free(sc);
	fx_close(&f);
}

/* A live connection (the dashboard's) reads events through the journal: the
 * milestones are looked up per customer in the events' table and the rows
 * journaled but not yet folded are merged in (session 31).  The journaled
 * rows move milestones earlier (j0's session), add one (j1's
 * onboarding_complete), and change nothing when later (j2's second
 * session) or before signup (j4's); the live connection's journey equals
 * the one read after the fold. */
static void test_journal_not_yet_folded(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	build(&f);
	tn_store_close(f.s);
	tn_error err = {0};
	tn_store *w = NULL, *live = NULL;
	assert_int_equal(tn_store_open(f.path, 0, &w, &err), TN_OK);
	assert_int_equal(tn_store_wal(w, &err), TN_OK);
	assert_int_equal(tn_store_journal(w, 1, &err), TN_OK);
	assert_int_equal(tn_store_begin(w, &err), TN_OK);
	const struct {
		const char *cust, *type;
		tn_time at;
	} ev[] = {{"j0", "session", T0 + 1800},
		  {"j1", "onboarding_complete", T0 + 6 * DAY},
		  {"j2", "session", T0 + 3 * DAY},
		  {"j4", "feature_use", T0 - 2 * DAY}};
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		tn_event_rec e = {.customer = ev[i].cust, .at = ev[i].at, .type = ev[i].type, .amount = NAN};
		if (tn_store_put_event(w, &e, &err))
			fail_msg("put: %s", err.msg);
	}
	long long added = -1;
	assert_int_equal(tn_store_flush(w, &added, &err), TN_OK);
	assert_int_equal(tn_store_commit(w, &err), TN_OK);
	assert_int_equal(added, 4);
	assert_int_equal(tn_store_journal_rows(w), 4);
	assert_int_equal(tn_store_open(f.path, TN_STORE_LIVE, &live, &err), TN_OK);
	tn_journey *j = NULL, *k = NULL;
	if (tn_journey_load(live, T0 + 40 * DAY, &j, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(store_count(live, "SELECT count(*) FROM main.events_journal"), 4); /* still not folded */
	assert_int_equal(j->n, 6);
	assert_int_equal(j->reached[0 * TN_MS_COUNT + 0], T0 + 1800);	 /* j0: the journal's earlier session */
	assert_int_equal(j->reached[0 * TN_MS_COUNT + 1], T0 + 2 * DAY); /* j0: the table's feature_use */
	assert_int_equal(j->reached[1 * TN_MS_COUNT + 2], T0 + 6 * DAY); /* j1: reached in the journal only */
	assert_int_equal(j->furthest[1], 2);
	assert_int_equal(j->reached[2 * TN_MS_COUNT + 0], T0 + 2 * DAY); /* j2: the table's, earlier */
	assert_int_equal(j->reached[4 * TN_MS_COUNT + 1], TN_NO_TIME);	 /* j4: before signup */
	tn_store_close(live);
	tn_store_close(w);
	assert_int_equal(tn_store_open(f.path, 0, &f.s, &err), TN_OK); /* a plain open folds */
	assert_int_equal(store_count(f.s, "SELECT count(*) FROM main.events_journal"), 0);
	if (tn_journey_load(f.s, T0 + 40 * DAY, &k, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(k->n, j->n);
	for (size_t i = 0; i < j->n; i++) {
		assert_string_equal(k->customer[i], j->customer[i]);
		assert_int_equal(k->furthest[i], j->furthest[i]);
		for (int m = 0; m < TN_MS_COUNT; m++)
			assert_int_equal(k->reached[i * TN_MS_COUNT + (size_t)m], j->reached[i * TN_MS_COUNT + (size_t)m]);
	}
	tn_journey_free(j);
	tn_journey_free(k);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_funnel_churn_stuck),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_sparse_customer_keys),
		cmocka_unit_test(test_journal_not_yet_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
