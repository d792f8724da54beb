/* test_feedback_scores.c -- NPS, CSAT, CES and Wilson on hand-computed data,
 * and the store reports (scores by segment/period, churned vs stayed, the
 * overall scores alone, labels, impact, exit reasons, matrix, effort, fixed,
 * follow-up). */
#include "testutil.h"
#include "tenure/feedback.h"

#include <unistd.h>

static void test_nps(void **state)
{
	(void)state;
	/* promoters 10,9,9,10 (4), passives 8,7 (2), detractors 6,3,0,5 (4):
	 * NPS = 100 (0.4 - 0.4) = 0; Var = (0.4 + 0.4 - 0) / 10 = 0.08;
	 * half-width = 1.959964 * 100 * sqrt(0.08) = 55.4355 (by hand) */
	double x[] = {10, 9, 9, 8, 7, 6, 3, 0, 10, 5, NAN, 11, -1};
	tn_fb_score s;
	tn_fb_nps(x, 13, &s);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.promoters, 4);
	assert_int_equal(s.passives, 2);
	assert_int_equal(s.detractors, 4);
	assert_near(s.value, 0, 1e-12);
	assert_near(s.hi, 55.4355, 1e-3);
	assert_near(s.lo, -55.4355, 1e-3);
	/* p = 0.6, d = 0.2: NPS 40; Var = (0.8 - 0.16) / 5 = 0.128; hw = 70.1213 */
	double y[] = {10, 10, 9, 7, 2};
	tn_fb_nps(y, 5, &s);
	assert_near(s.value, 40, 1e-12);
	assert_near(s.value - s.lo, 70.1213, 1e-3); /* the upper end is clamped at 100 */
	tn_fb_nps(y, 0, &s);
	assert_int_equal(s.n, 0);
	assert_true(isnan(s.value));
}

static void test_csat_ces_wilson(void **state)
{
	(void)state;
	/* CSAT: 4 and 5 are satisfied: 3 of 5 = 60%; Wilson 95% for 3/5 is
	 * (0.2307, 0.8824) (Wilson 1927 formula, computed by hand) */
	double c[] = {5, 4, 3, 2, 5, 0, 6};
	tn_fb_score s;
	tn_fb_csat(c, 7, &s);
	assert_int_equal(s.n, 5);
	assert_near(s.value, 60, 1e-12);
	assert_near(s.lo, 23.07, 0.01);
	assert_near(s.hi, 88.24, 0.01);
	/* CES: mean of 1..5 = 3, s = sqrt(2.5), CI 3 +- 1.959964 * sqrt(2.5 / 5) = 3 +- 1.3859 */
	double e[] = {1, 2, 3, 4, 5, 8};
	tn_fb_ces(e, 6, &s);
	assert_int_equal(s.n, 5);
	assert_near(s.value, 3, 1e-12);
	assert_near(s.hi, 4.3859, 1e-3);
	double lo, hi;
	tn_fb_wilson(0, 10, &lo, &hi);
	assert_near(lo, 0, 1e-12);
	assert_near(hi, 0.2775, 1e-3); /* Wilson 0/10 upper bound */
}

/* ---- the store ------------------------------------------------------- */

static char db_path[64];

static tn_store *make_store(void)
{
	snprintf(db_path, sizeof db_path, "/tmp/tenure-fbstore-%d.db", (int)getpid());
	unlink(db_path);
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(db_path, TN_STORE_CREATE, &s, &err))
		fail_msg("open: %s", err.msg);
	const char *ids[] = {"c1", "c2", "c3", "c4"};
	const char *country[] = {"SA", "SA", "IR", "US"};
	const char *attrs[] = {"{\"device\":\"ios\"}", "{\"device\":\"android\"}", "{\"device\":\"ios\"}",
			       "{\"device\":\"android\"}"};
	const char *status[] = {"cancelled", "active", "expired", "active"};
	tn_time t0 = 1735689600; /* 2025-01-01 */
	for (int i = 0; i < 4; i++) {
		tn_customer_rec c = {ids[i], t0, country[i], "organic", attrs[i]};
		assert_int_equal(tn_store_put_customer(s, &c, NULL, &err), TN_OK);
		tn_subscription_rec sub = {NULL, ids[i], "monthly", "month", 9.99, "USD", t0, TN_NO_TIME, TN_NO_TIME,
					   i % 2 == 0 ? t0 + 86400 * 60 : TN_NO_TIME, NULL, status[i]};
		assert_int_equal(tn_store_put_subscription(s, &sub, NULL, &err), TN_OK);
		tn_payment_rec p = {ids[i], t0 + 86400, 10.0 * (i + 1), "USD", "succeeded", NULL};
		assert_int_equal(tn_store_put_payment(s, &p, NULL, &err), TN_OK);
	}
	/* NPS: January c1 10, c2 9, c3 3; February c4 6 */
	struct {
		const char *cust, *kind;
		double score;
		const char *answer;
		tn_time at;
	} fb[] = {
		{"c1", "nps", 10, NULL, t0 + 86400 * 5},   {"c2", "nps", 9, NULL, t0 + 86400 * 6},
		{"c3", "nps", 3, NULL, t0 + 86400 * 7},    {"c4", "nps", 6, NULL, t0 + 86400 * 40},
		{"c1", "csat", 5, NULL, t0 + 86400 * 8},   {"c3", "csat", 2, NULL, t0 + 86400 * 8},
		{"c2", "ces", 2, NULL, t0 + 86400 * 9},    {"c4", "ces", 6, NULL, t0 + 86400 * 9},
		{"c1", "price_vs_expected", NAN, "more", t0 + 86400 * 10},
		{"c2", "price_vs_expected", NAN, "more", t0 + 86400 * 10},
		{"c3", "price_vs_expected", NAN, "same", t0 + 86400 * 10},
		{"c1", "exit", NAN, "the app crashes every time i open it", t0 + 86400 * 59},
		{"c3", "exit", NAN, "غالي مرة وما يستاهل", t0 + 86400 * 59},
		{"c2", "free", NAN, "please add dark mode", t0 + 86400 * 20},
	};
	for (size_t i = 0; i < sizeof fb / sizeof fb[0]; i++) {
		tn_feedback_rec r = {fb[i].cust, fb[i].at, fb[i].kind, fb[i].score, fb[i].answer, NULL, NULL};
		if (tn_store_put_feedback(s, &r, NULL, &err))
			fail_msg("put feedback %zu: %s", i, err.msg);
	}
	return s;
}

static const tn_fb_row *find(const tn_fb_row *r, size_t n, const char *seg, const char *per, const char *metric)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].segment, seg) == 0 && strcmp(r[i].period, per) == 0 && strcmp(r[i].metric, metric) == 0)
			return &r[i];
	fail_msg("no row %s / %s / %s", seg, per, metric);
	return NULL;
}

static void test_store_scores(void **state)
{
	(void)state;
	tn_store *s = make_store();
	tn_error err = {0};
	tn_fb_row *r;
	size_t n;
	if (tn_fb_scores_store(s, "device", "month", &r, &n, &err))
		fail_msg("scores: %s", err.msg);
	/* overall NPS: promoters 2 of 4, detractors 2 of 4: 0 */
	const tn_fb_row *x = find(r, n, "all", "all", "nps");
	assert_int_equal(x->n, 4);
	assert_near(x->value, 0, 1e-12);
	/* January: 10, 9, 3 -> (2 - 1) / 3 = 33.33; February: 6 -> -100 */
	assert_near(find(r, n, "all", "2025-01", "nps")->value, 100.0 / 3, 1e-9);
	assert_near(find(r, n, "all", "2025-02", "nps")->value, -100, 1e-9);
	/* by device: ios = c1 (10), c3 (3) -> 0; android = c2 (9), c4 (6) -> 0 */
	assert_int_equal(find(r, n, "ios", "all", "nps")->n, 2);
	/* CSAT 1 of 2; CES mean (2 + 6) / 2 */
	assert_near(find(r, n, "all", "all", "csat")->value, 50, 1e-12);
	assert_near(find(r, n, "all", "all", "ces")->value, 4, 1e-12);
	/* custom question: more 2 of 3 */
	x = find(r, n, "all", "all", "price_vs_expected=more");
	assert_int_equal(x->n, 3);
	assert_near(x->value, 200.0 / 3, 1e-9);
	/* churned (c1 cancelled, c3 expired) vs stayed: NPS 10, 3 -> 0; 9, 6 -> 0 */
	assert_int_equal(find(r, n, "churned", "all", "nps")->n, 2);
	assert_near(find(r, n, "churned", "all", "csat")->value, 50, 1e-12);
	assert_int_equal(find(r, n, "stayed", "all", "responses")->n, 6);
	free(r);
	tn_error_clear(&err);
	assert_int_equal(tn_fb_scores_store(s, "bad key'", NULL, &r, &n, &err), TN_ERR_USAGE);
	tn_error_clear(&err);
	assert_int_equal(tn_fb_scores_store(s, NULL, "fortnight", &r, &n, &err), TN_ERR_USAGE);
	tn_store_close(s);
	unlink(db_path);
}

/* tn_fb_scores_all gives the bits of tn_fb_scores_store's overall rows: the
 * CES is a running mean, so the answers must come in the same order, ties of
 * given_at (answers of several customers in one second) included */
static void test_store_scores_all(void **state)
{
	(void)state;
	tn_store *s = make_store();
	tn_error err = {0};
	const char *ids[] = {"c1", "c2", "c3", "c4"};
	tn_time t0 = 1735689600 + 86400 * 100;
	for (int i = 0; i < 600; i++) {
		char ext[16];
		snprintf(ext, sizeof ext, "t%d", i);
		/* three answers a second, from customers in a changing order, and
		 * scores that differ within a second (a few absent) */
		const char *kind = i % 5 == 0 ? "nps" : i % 5 == 1 ? "csat" : "ces";
		double score = i % 37 == 0 ? NAN : i % 5 == 0 ? (double)(i * 7 % 11) : i % 5 == 1 ? (double)(1 + i * 3 % 5)
											  : 1 + (i * 13 % 7) + 0.1 * (i % 3);
		tn_feedback_rec r = {ids[(i * 7 + i / 3) % 4], t0 + i / 3, kind, score, NULL, NULL, ext};
		if (tn_store_put_feedback(s, &r, NULL, &err))
			fail_msg("put feedback %d: %s", i, err.msg);
	}
	tn_fb_row *r;
	size_t n;
	if (tn_fb_scores_store(s, NULL, NULL, &r, &n, &err))
		fail_msg("scores: %s", err.msg);
	tn_fb_score sc[3];
	if (tn_fb_scores_all(s, sc, &err))
		fail_msg("scores all: %s", err.msg);
	static const char *const metric[3] = {"nps", "csat", "ces"};
	for (int m = 0; m < 3; m++) {
		const tn_fb_row *x = find(r, n, "all", "all", metric[m]);
		assert_int_equal(sc[m].n, x->n);
		if (memcmp(&sc[m].value, &x->value, sizeof x->value) || memcmp(&sc[m].lo, &x->lo, sizeof x->lo) ||
		    memcmp(&sc[m].hi, &x->hi, sizeof x->hi))
			fail_msg("%s: %.17g (%.17g to %.17g) alone, %.17g (%.17g to %.17g) in the report", metric[m],
				 sc[m].value, sc[m].lo, sc[m].hi, x->value, x->lo, x->hi);
	}
	free(r);
	tn_store_close(s);
	unlink(db_path);
}

static void test_store_impact(void **state)
{
	(void)state;
	tn_store *s = make_store();
	tn_error err = {0};
	tn_fb_model *m = tn_fb_model_new(&err);
	if (tn_fb_model_train_csv(m, "../../data/feedback/train.csv", "text", "type", "theme", NULL, &err))
		fail_msg("train: %s", err.msg);
	size_t nl;
	if (tn_fb_label_store(s, m, 0, &nl, &err))
		fail_msg("label: %s", err.msg);
	assert_int_equal(nl, 3); /* two exit answers and one free; not the fixed-choice question */
	if (tn_fb_label_store(s, m, 0, &nl, &err))
		fail_msg("label again: %s", err.msg);
	assert_int_equal(nl, 0); /* already labelled */
	assert_int_equal(tn_fb_label_store(s, m, 1, &nl, &err), TN_OK);
	assert_int_equal(nl, 3); /* relabel: all again */
	tn_fb_row *r;
	size_t n;
	if (tn_fb_impact_store(s, &r, &n, &err))
		fail_msg("impact: %s", err.msg);
	/* c1's "app crashes" was an exit answer: exit answers say why customers
	 * left, not who is about to, so they are not in the impact table */
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].period, "app crashes") == 0)
			fail_msg("an exit answer is counted in the impact table");
	const tn_fb_row *x = find(r, n, "feature_request", "(all)", "");
	assert_int_equal(x->n, 1);
	assert_near(x->value, 0, 0);        /* the customer who asked for a feature stayed */
	assert_near(x->lo, 2.0 / 3, 1e-12); /* of the other 3 customers, c1 and c3 churned */
	assert_near(x->hi, 20, 0);          /* c2's payment; no one else's */
	assert_near(x->extra, 0, 0);
	free(r);
	/* the words table's reads give what the labels list gives: the
	 * complaint themes (praise left out) counted in first-listed order, and
	 * each theme's first answer in a language */
	tn_fb_row *lab, *th, one;
	size_t nlab, nth;
	int found;
	assert_int_equal(tn_fb_labels_store(s, &lab, &nlab, &err), TN_OK);
	assert_int_equal(tn_fb_label_themes(s, &th, &nth, &err), TN_OK);
	size_t want = 0;
	for (size_t i = 0; i < nlab; i++) {
		if (!lab[i].period[0] || strcmp(lab[i].segment, "praise") == 0)
			continue;
		size_t k;
		for (k = 0; k < i && (!lab[k].period[0] || strcmp(lab[k].segment, "praise") == 0 ||
				      strcmp(lab[k].period, lab[i].period) != 0);
		     k++)
			;
		if (k < i)
			continue; /* counted at its first row */
		size_t cnt = 0;
		for (size_t j = i; j < nlab; j++)
			cnt += strcmp(lab[j].period, lab[i].period) == 0 && strcmp(lab[j].segment, "praise") != 0;
		assert_true(want < nth);
		assert_string_equal(th[want].period, lab[i].period);
		assert_int_equal(th[want].n, cnt);
		want++;
		assert_int_equal(tn_fb_label_first(s, lab[i].period, lab[i].language, &one, &found, &err), TN_OK);
		assert_true(found);
		assert_int_equal(memcmp(&one, &lab[i], sizeof one), 0);
	}
	assert_int_equal(nth, want);
	assert_true(want >= 2);
	assert_int_equal(tn_fb_label_first(s, th[0].period, "xx", &one, &found, &err), TN_OK);
	assert_false(found);
	free(th);
	free(lab);
	assert_int_equal(tn_fb_exit_reasons_store(s, &r, &n, &err), TN_OK);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].n, 1);
	assert_near(r[0].value, 0.5, 1e-12);
	free(r);
	assert_int_equal(tn_fb_set_effort(s, "app crashes", "low", &err), TN_OK);
	assert_int_equal(tn_fb_set_effort(s, "too expensive", "high", &err), TN_OK);
	assert_int_equal(tn_fb_set_effort(s, "x", "medium", &err), TN_ERR_USAGE);
	tn_error_clear(&err);
	assert_int_equal(tn_fb_matrix_store(s, &r, &n, &err), TN_OK);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(r[i].period, "app crashes") == 0)
			assert_string_equal(r[i].text, "do now");
		if (strcmp(r[i].period, "dark mode") == 0)
			assert_string_equal(r[i].text, "effort not set");
	}
	free(r);
	assert_int_equal(tn_fb_follow_up_store(s, NULL, &r, &n, &err), TN_OK);
	assert_int_equal(n, 0);
	free(r);
	assert_int_equal(tn_fb_set_fixed(s, "app crashes", 1735689600 + 86400 * 100, &err), TN_OK);
	assert_int_equal(tn_fb_follow_up_store(s, "app crashes", &r, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].metric, "c1");
	free(r);
	tn_fb_model_free(m);
	tn_store_close(s);
	unlink(db_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nps),
		cmocka_unit_test(test_csat_ces_wilson),
		cmocka_unit_test(test_store_scores),
		cmocka_unit_test(test_store_scores_all),
		cmocka_unit_test(test_store_impact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
