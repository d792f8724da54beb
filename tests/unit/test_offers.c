/* test_offers.c -- offers ranked by expected profit (not risk), the budget,
 * the seeded stratified control group, timing before the danger window,
 * the scores file, the built-in estimate, and a stored plan's effect. */
#include "actions_fixture.h"

/* Hand-computed: accept 0.5, cost 2.
 *   A p=0.9 v=10  -> 0.9*0.5*10  - 2 =  2.5
 *   B p=0.3 v=200 -> 0.3*0.5*200 - 2 = 28
 *   C p=0.5 v=50  -> 0.5*0.5*50  - 2 = 10.5
 *   D p=0.1 v=10  -> 0.1*0.5*10  - 2 = -1.5 (never offered)
 * A is the riskiest but ranks third. */
static void test_rank_by_profit_and_budget(void **state)
{
	(void)state;
	double p[] = {0.9, 0.3, 0.5, 0.1}, v[] = {10, 200, 50, 10};
	tn_offer_params par = {.offer_cost = 2, .accept_rate = 0.5, .budget = -1, .control_share = 0};
	tn_offer_plan *pl;
	tn_error err = {0};
	assert_int_equal(tn_offers_plan(p, v, 4, &par, &pl, &err), TN_OK);
	assert_int_equal(pl->order[0], 1);
	assert_int_equal(pl->order[1], 2);
	assert_int_equal(pl->order[2], 0);
	assert_int_equal(pl->order[3], 3);
	assert_near(pl->profit[0], 2.5, 1e-12);
	assert_near(pl->profit[1], 28, 1e-12);
	assert_int_equal(pl->n_candidates, 3);
	assert_int_equal(pl->n_offer, 3);
	assert_int_equal(pl->arm[3], TN_ARM_NONE);
	assert_near(pl->expected_gain, 41, 1e-12);
	tn_offer_plan_free(pl);
	par.budget = 4; /* two offers: B and C */
	assert_int_equal(tn_offers_plan(p, v, 4, &par, &pl, &err), TN_OK);
	assert_int_equal(pl->n_offer, 2);
	assert_int_equal(pl->arm[1], TN_ARM_OFFER);
	assert_int_equal(pl->arm[2], TN_ARM_OFFER);
	assert_int_equal(pl->arm[0], TN_ARM_NONE);
	assert_near(pl->spend, 4, 1e-12);
	assert_near(pl->expected_gain, 38.5, 1e-12);
	tn_offer_plan_free(pl);
	par.budget = 0; /* nothing offered: no control group either */
	par.control_share = 0.5;
	assert_int_equal(tn_offers_plan(p, v, 4, &par, &pl, &err), TN_OK);
	assert_int_equal(pl->n_offer, 0);
	assert_int_equal(pl->n_control, 0);
	tn_offer_plan_free(pl);
	par.control_share = 0;
	par.accept_rate = 1.5;
	assert_int_equal(tn_offers_plan(p, v, 4, &par, &pl, &err), TN_ERR_USAGE);
}

/* Ties in expected profit: the higher value first, then a random order drawn
 * from the seed -- never the index (ids) order. */
static void test_ties_not_by_index(void **state)
{
	(void)state;
	double p[] = {0.5, 0.25}, v[] = {100, 200}; /* both 0.5 x 0.5 x 100 - 0 = 0.25 x 0.5 x 200 = 25 */
	tn_offer_params par = {.offer_cost = 0, .accept_rate = 0.5, .budget = -1, .control_share = 0, .seed = 1};
	tn_offer_plan *pl;
	tn_error err = {0};
	assert_int_equal(tn_offers_plan(p, v, 2, &par, &pl, &err), TN_OK);
	assert_int_equal(pl->order[0], 1); /* value 200 before value 100 */
	tn_offer_plan_free(pl);
	enum { N = 50 };
	double pe[N], ve[N];
	for (int i = 0; i < N; i++)
		pe[i] = 0.5, ve[i] = 100;
	tn_offer_plan *a, *b, *c;
	assert_int_equal(tn_offers_plan(pe, ve, N, &par, &a, &err), TN_OK);
	assert_int_equal(tn_offers_plan(pe, ve, N, &par, &b, &err), TN_OK);
	par.seed = 2;
	assert_int_equal(tn_offers_plan(pe, ve, N, &par, &c, &err), TN_OK);
	int in_index_order = 1, same_ab = 1, same_ac = 1;
	for (int i = 0; i < N; i++) {
		in_index_order &= a->order[i] == (size_t)i;
		same_ab &= a->order[i] == b->order[i];
		same_ac &= a->order[i] == c->order[i];
	}
	assert_false(in_index_order);
	assert_true(same_ab);  /* reproducible from the seed */
	assert_false(same_ac); /* another seed, another order */
	tn_offer_plan_free(a);
	tn_offer_plan_free(b);
	tn_offer_plan_free(c);
}

static void test_control_group(void **state)
{
	(void)state;
	enum { N = 20000 };
	double *p = malloc(N * sizeof *p), *v = malloc(N * sizeof *v);
	uint64_t x = 99;
	for (int i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (double)(x >> 11) / 9007199254740992.0;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		v[i] = 500.0 * (double)(x >> 11) / 9007199254740992.0;
	}
	tn_offer_params par = {.offer_cost = 5, .accept_rate = 0.3, .budget = -1, .control_share = 0.1, .seed = 7};
	tn_offer_plan *a, *b, *c;
	tn_error err = {0};
	assert_int_equal(tn_offers_plan(p, v, N, &par, &a, &err), TN_OK);
	assert_int_equal(tn_offers_plan(p, v, N, &par, &b, &err), TN_OK);
	par.seed = 8;
	assert_int_equal(tn_offers_plan(p, v, N, &par, &c, &err), TN_OK);
	/* the share is exact: round(0.1 x targeted) */
	size_t targeted = a->n_offer + a->n_control;
	assert_int_equal(targeted, a->n_candidates);
	assert_int_equal(a->n_control, (size_t)floor(0.1 * (double)targeted + 0.5));
	/* one control in every full block of 10 adjacent-profit customers */
	size_t nblocks = targeted / 10;
	size_t *per = calloc(nblocks + 2, sizeof *per);
	for (int i = 0; i < N; i++)
		if (a->arm[i] == TN_ARM_CONTROL && a->stratum[i] <= nblocks)
			per[a->stratum[i]]++;
	for (size_t k = 1; k <= nblocks; k++)
		assert_int_equal(per[k], 1);
	/* comparable arms: mean expected profit within 2% */
	double so = 0, sc = 0;
	for (int i = 0; i < N; i++) {
		if (a->arm[i] == TN_ARM_OFFER)
			so += a->profit[i];
		if (a->arm[i] == TN_ARM_CONTROL)
			sc += a->profit[i];
	}
	double mo = so / (double)a->n_offer, mc = sc / (double)a->n_control;
	assert_true(fabs(mo - mc) / mo < 0.02);
	/* seeded: the same seed gives the same draw, another seed another */
	int same = 1, diff = 0;
	for (int i = 0; i < N; i++) {
		same &= a->arm[i] == b->arm[i];
		diff += a->arm[i] != c->arm[i];
	}
	assert_true(same);
	assert_true(diff > 0);
	free(per);
	tn_offer_plan_free(a);
	tn_offer_plan_free(b);
	tn_offer_plan_free(c);
	free(p);
	free(v);
}

static void test_send_time(void **state)
{
	(void)state;
	tn_time now = T0;
	/* danger day 30 of age, signed up 10 days ago: danger in 20 days; 7 days lead -> in 13 days */
	assert_int_equal(tn_offer_send_time(now, T0 - 10 * DAY, TN_NO_TIME, 30, 7), T0 + 13 * DAY);
	/* the period ends sooner (in 5 days): send now (5 - 7 < 0) */
	assert_int_equal(tn_offer_send_time(now, T0 - 10 * DAY, T0 + 5 * DAY, 30, 7), T0);
	/* period ends in 12 days -> send in 5 */
	assert_int_equal(tn_offer_send_time(now, T0 - 10 * DAY, T0 + 12 * DAY, 30, 7), T0 + 5 * DAY);
	/* past the danger day, no period end: no time */
	assert_int_equal(tn_offer_send_time(now, T0 - 40 * DAY, TN_NO_TIME, 30, 7), TN_NO_TIME);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_scores_file(void **state)
{
	(void)state;
	const char *path = "/tmp/tenure-scores-test.csv";
	tn_scores *sc;
	tn_error err = {0};
	write_file(path, "customer,value,p_churn,extra\na,100,0.5,x\nb,20,0.25,y\n");
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_OK);
	assert_int_equal(sc->n, 2);
	assert_string_equal(sc->customer[1], "b");
	assert_near(sc->p_churn[1], 0.25, 0);
	assert_near(sc->value[0], 100, 0);
	tn_scores_free(sc);
	write_file(path, "customer,p_churn,value\na,0.5,100\nb,1.5,3\n");
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "tenure-scores-test.csv:3:2: p_churn: expected a probability in [0, 1], found \"1.5\""));
	tn_error_clear(&err);
	write_file(path, "customer,p_churn,value\na,0.5,100\na,0.1,3\n");
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, ":3:1: customer: expected each customer once"));
	tn_error_clear(&err);
	/* two files as predict score and value score write them */
	const char *vpath = "/tmp/tenure-value-test.csv";
	write_file(path, "rank,id,risk\n1,a,0.75\n2,b,0.5\n3,c,0.25\n");
	write_file(vpath, "customer,clv\nb,40\nc,\na,12.5\nz,1\n");
	size_t nov;
	assert_int_equal(tn_scores_read_pair(path, vpath, &sc, &nov, &err), TN_OK);
	assert_int_equal(sc->n, 3);
	assert_int_equal(nov, 1);
	assert_near(sc->p_churn[0], 0.75, 0);
	assert_near(sc->value[0], 12.5, 0);
	assert_near(sc->value[1], 40, 0);
	assert_near(sc->value[2], 0, 0);
	tn_scores_free(sc);
	write_file(vpath, "customer,clv\nb,-4\n");
	assert_int_equal(tn_scores_read_pair(path, vpath, &sc, &nov, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "tenure-value-test.csv:2:2: value: expected a number >= 0, found \"-4\""));
	unlink(vpath);
	tn_error_clear(&err);
	write_file(path, "customer,value\na,1\n");
	assert_int_equal(tn_scores_read_csv(path, &sc, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "missing p_churn"));
	unlink(path);
}

/* A store: plan over the built-in estimate, save, and measure the effect;
 * the typical churn age; the ending list. */
static void test_store_plan(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	fx_begin(&f);
	char id[16];
	/* 40 live monthly customers signed up 20 days before now; 10 cancelled ones
	 * (ages at cancellation 10, 12, ..., 28 days: median 19) */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "a%d", i);
		fx_customer(&f, id, T0 - 20 * DAY);
		fx_sub(&f, id, "monthly", 10, T0 - 20 * DAY, T0 + (i < 5 ? 10 : 40) * DAY, TN_NO_TIME, "active");
		if (i % 2)
			fx_event(&f, id, T0 - DAY, "session", NAN);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "x%d", i);
		fx_customer(&f, id, T0 - 60 * DAY);
		fx_sub(&f, id, "monthly", 10, T0 - 60 * DAY, T0 - 60 * DAY + (10 + 2 * i) * DAY,
		       T0 - 60 * DAY + (10 + 2 * i) * DAY, "cancelled");
	}
	fx_commit(&f);
	tn_error err = {0};
	double days;
	long n;
	assert_int_equal(tn_offers_typical_churn_age(f.s, T0, &days, &n, &err), TN_OK);
	assert_int_equal(n, 10);
	assert_near(days, 19, 1e-9);
	tn_scores *sc;
	assert_int_equal(tn_scores_estimate(f.s, T0, &sc, &err), TN_OK);
	assert_int_equal(sc->n, 40);
	assert_true(sc->estimated);
	/* h = 10 cancels in 90 days / 50 exposed / 3 = 1/15; inactive customers twice that */
	for (size_t i = 0; i < sc->n; i++) {
		int active = (int)strtol(sc->customer[i] + 1, NULL, 10) % 2;
		assert_near(sc->p_churn[i], (active ? 1.0 : 2.0) / 15.0, 1e-12);
		assert_near(sc->value[i], 10 * 15.0, 1e-9);
	}
	tn_offer_params par = {.offer_cost = 1, .accept_rate = 0.5, .budget = -1, .control_share = 0.25, .seed = 3};
	tn_offer_plan *pl;
	assert_int_equal(tn_offers_plan(sc->p_churn, sc->value, sc->n, &par, &pl, &err), TN_OK);
	assert_int_equal(pl->n_offer + pl->n_control, 40);
	assert_int_equal(pl->n_control, 10);
	int64_t plan_id;
	assert_int_equal(tn_offers_save(f.s, sc, pl, NULL, "{}", T0, &plan_id, &err), TN_OK);
	assert_true(plan_id > 0);
	/* the identical plan again is not stored a second time; other parameters are */
	int64_t again = 0, other = 0;
	int existing = 0;
	assert_int_equal(tn_offers_save_once(f.s, sc, pl, NULL, "{}", T0, &again, &existing, &err), TN_OK);
	assert_int_equal(again, plan_id);
	assert_true(existing);
	tn_rowset *plans;
	assert_int_equal(tn_offers_plans(f.s, &plans, &err), TN_OK);
	assert_int_equal(plans->nrows, 1);
	tn_rowset_free(plans);
	assert_int_equal(tn_offers_save_once(f.s, sc, pl, NULL, "{\"seed\":4}", T0, &other, &existing, &err), TN_OK);
	assert_false(existing);
	assert_true(other > plan_id);
	/* later: 3 control customers and 1 offered customer cancel */
	int ctl = 0, off = 0;
	fx_begin(&f);
	for (size_t i = 0; i < sc->n; i++) {
		int cancel = (pl->arm[i] == TN_ARM_CONTROL && ctl < 3) || (pl->arm[i] == TN_ARM_OFFER && off < 1);
		if (!cancel)
			continue;
		ctl += pl->arm[i] == TN_ARM_CONTROL;
		off += pl->arm[i] == TN_ARM_OFFER;
		fx_sub(&f, sc->customer[i], "monthly", 10, T0 - 20 * DAY, T0 + 10 * DAY, T0 + 5 * DAY, "cancelled");
	}
	fx_commit(&f);
	tn_offer_effect e;
	assert_int_equal(tn_offers_measure(f.s, plan_id, &e, &err), TN_OK);
	assert_int_equal(e.plan_id, plan_id);
	assert_int_equal(e.n_control, 10);
	assert_int_equal(e.n_offer, 30);
	assert_int_equal(e.churned_control, 3);
	assert_int_equal(e.churned_offer, 1);
	assert_near(e.uplift.diff, 3.0 / 10 - 1.0 / 30, 1e-12);
	assert_int_equal(tn_offers_measure(f.s, 99, &e, &err), TN_ERR_NOTFOUND);
	tn_offer_plan_free(pl);
	tn_scores_free(sc);
	/* ending within 15 days: the 5 subscriptions ending on day 10, minus those cancelled above */
	tn_ending_row *rows;
	size_t nr;
	tn_error_clear(&err);
	assert_int_equal(tn_offers_ending(f.s, T0, 15, &rows, &nr, &err), TN_OK);
	assert_true(nr >= 5);
	for (size_t i = 0; i < nr; i++)
		assert_int_equal(rows[i].ends_at, T0 + 10 * DAY);
	tn_ending_rows_free(rows, nr);
	fx_close(&f);
}

/* 100 customers signed up 100 days ago; 40 cancel at age 5.5 days, 10 at
 * age 40.5: daily hazard 40/100 on day 5, 10/60 on day 40 (< half the peak),
 * so the window is day 5 alone with 40 of the 50 leavers. */
static void test_danger_window(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	fx_begin(&f);
	char id[16];
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof id, "d%d", i);
		tn_time su = T0 - 100 * DAY;
		fx_customer(&f, id, su);
		tn_time cancel = i < 40 ? su + 5 * DAY + DAY / 2 : i < 50 ? su + 40 * DAY + DAY / 2 : TN_NO_TIME;
		fx_sub(&f, id, "monthly", 10, su, cancel == TN_NO_TIME ? T0 + 10 * DAY : cancel, cancel,
		       cancel == TN_NO_TIME ? "active" : "cancelled");
	}
	fx_commit(&f);
	tn_error err = {0};
	double from, to, share;
	assert_int_equal(tn_offers_danger_window(f.s, T0, &from, &to, &share, &err), TN_OK);
	assert_near(from, 5, 0);
	assert_near(to, 6, 0);
	assert_near(share, 0.8, 1e-12);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank_by_profit_and_budget),
		cmocka_unit_test(test_ties_not_by_index),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_send_time),
		cmocka_unit_test(test_scores_file),
		cmocka_unit_test(test_store_plan),
		cmocka_unit_test(test_danger_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
