/*
 * test_decide.c -- in-app decisions (include/tenure/decide.h): the choice by
 * expected profit, holdout assignment (share within binomial bounds, stable
 * across loads, never moved by a later change of share), frequency caps and
 * budgets, outcomes teaching the acceptance posterior, the Newcombe interval
 * and the Beta quantiles against R, the report, surveys (due, cap, reward
 * credited once) and the routes through tn_server_handle.
 */
#include "actions_fixture.h"
#include "store_util.h"
#include "tenure/decide.h"
#include "tenure/server.h"
#include "tenure/outbox.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <time.h>

static void add_offer(fixture *f, const char *name, const char *kind, double cost, double prior, double budget,
		      long cap_n, double cap_days, unsigned moments)
{
	tn_catalogue_offer o = {.name = (char *)name, .kind = (char *)kind, .terms = "terms", .cost = cost,
				.uplift_prior = prior, .prior_weight = 20, .budget = budget, .cap_count = cap_n,
				.cap_days = cap_days, .moments = moments, .valid_days = 7};
	tn_error err = {0};
	if (tn_catalogue_add(f->s, &o, T0, NULL, &err))
		fail_msg("add offer: %s", err.msg);
}

/* N customers c0..c(N-1), each live, with stored scores p and value v */
static void customers(fixture *f, int n, double p, double v)
{
	fx_begin(f);
	char id[32];
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "c%d", i);
		fx_customer(f, id, T0);
		fx_sub(f, id, "m", 10, T0, T0 + 30 * DAY, TN_NO_TIME, "active");
	}
	fx_commit(f);
	tn_scores *sc = NULL;
	tn_error err = {0};
	tn_time now;
	assert_int_equal(tn_actions_now(f->s, &now, &err), TN_OK);
	assert_int_equal(tn_scores_estimate(f->s, now, &sc, &err), TN_OK);
	for (size_t i = 0; i < sc->n; i++) {
		sc->p_churn[i] = p;
		sc->value[i] = v;
	}
	assert_int_equal(tn_scores_store(f->s, sc, "test", now, &err), TN_OK);
	tn_scores_free(sc);
}

static tn_decider *load(fixture *f)
{
	tn_decider *d = NULL;
	tn_error err = {0};
	if (tn_decider_load(f->s, &d, &err))
		fail_msg("load: %s", err.msg);
	return d;
}

static void no_holdout(fixture *f)
{
	tn_decide_settings set = {.holdout_share = 0, .seed = 1};
	tn_error err = {0};
	assert_int_equal(tn_decide_settings_set(f->s, &set, &err), TN_OK);
}

#define ALL ((1u << TN_MOMENT_COUNT) - 1)

static void test_choice(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 3, 0.5, 200);
	no_holdout(&f);
	/* E = max(0.5, 0.9) x u x 200 - cost at cancel: cheap 0.9*0.1*200-1 = 17, big 0.9*0.3*200-40 = 14 */
	add_offer(&f, "cheap", "pause", 1, 0.1, NAN, 5, 90, ALL);
	add_offer(&f, "big", "discount", 40, 0.3, NAN, 5, 90, ALL);
	add_offer(&f, "session_only", "downgrade", 0, 0.9, NAN, 5, 90, 1u << TN_MOMENT_SESSION);
	tn_decider *d = load(&f);
	tn_decision dec;
	tn_error err = {0};
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0 + DAY, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "cheap");
	assert_near(dec.profit, 0.9 * 0.1 * 200 - 1, 1e-4);
	assert_near(dec.p_churn, 0.5, 1e-6);
	assert_true(dec.expires_at == T0 + DAY + 7 * DAY);
	assert_int_equal(dec.holdout, 0);
	/* at a session there is no floor: 0.5 x 0.9 x 200 - 0 = 90 beats the rest */
	assert_int_equal(tn_decide(d, "c1", TN_MOMENT_SESSION, T0 + DAY, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "session_only");
	assert_string_equal(dec.kind, "downgrade");
	/* new stored scores reach the decider without a reload of everything */
	tn_error e3 = {0};
	assert_int_equal(tn_decider_reload_scores(d, f.s, &e3), TN_OK); /* unchanged: nothing to do */
	tn_scores *sc = NULL;
	assert_int_equal(tn_scores_estimate(f.s, T0 + DAY, &sc, &e3), TN_OK);
	for (size_t i = 0; i < sc->n; i++) {
		sc->p_churn[i] = 0.95;
		sc->value[i] = 0;
	}
	assert_int_equal(tn_scores_store(f.s, sc, "test", T0 + 2 * DAY, &e3), TN_OK);
	tn_scores_free(sc);
	assert_int_equal(tn_decider_reload_scores(d, f.s, &e3), TN_OK);
	assert_int_equal(tn_decide(d, "c2", TN_MOMENT_CANCEL, T0 + DAY, &dec, &err), TN_OK);
	assert_near(dec.p_churn, 0.95, 1e-6);
	assert_string_equal(dec.kind, "none"); /* value 0 now: no offer pays */
	/* an unknown customer is not found */
	assert_int_equal(tn_decide(d, "nobody", TN_MOMENT_CANCEL, T0, &dec, &err), TN_ERR_NOTFOUND);
	/* no offer pays: value 0 */
	tn_decider_free(d);
	fx_close(&f);

	fx_open(&f);
	customers(&f, 1, 0.5, 0);
	no_holdout(&f);
	add_offer(&f, "cheap", "pause", 1, 0.1, NAN, 5, 90, ALL);
	d = load(&f);
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0, &dec, &err), TN_OK);
	assert_int_equal(dec.offer_id, 0);
	assert_string_equal(dec.kind, "none");
	tn_decider_free(d);
	fx_close(&f);
}

static void test_holdout(void **state)
{
	(void)state;
	/* the draw: share within the 99.9% binomial bounds of R's qbinom(c(.0005,.9995), 20000, .1) = 1862, 2141 */
	char id[32];
	int n = 0;
	for (int i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "cust-%d", i);
		n += tn_holdout_draw(id, 0.1, 7);
	}
	assert_in_range(n, 1862, 2141);
	/* deterministic given the seed, and the seed matters */
	int same = 0, moved = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "cust-%d", i);
		same += tn_holdout_draw(id, 0.1, 7) == tn_holdout_draw(id, 0.1, 7);
		moved += tn_holdout_draw(id, 0.1, 7) != tn_holdout_draw(id, 0.1, 8);
	}
	assert_int_equal(same, 2000);
	assert_true(moved > 50);

	/* stored at the first decision; a new share does not move anyone assigned */
	fixture f;
	fx_open(&f);
	customers(&f, 400, 0.5, 100);
	tn_decide_settings set = {.holdout_share = 0.5, .seed = 3};
	tn_error err = {0};
	assert_int_equal(tn_decide_settings_set(f.s, &set, &err), TN_OK);
	tn_decider *d = load(&f);
	int first[400];
	assert_int_equal(tn_store_begin(f.s, &err), TN_OK);
	for (int i = 0; i < 400; i++) {
		snprintf(id, sizeof id, "c%d", i);
		tn_decision dec;
		assert_int_equal(tn_decide(d, id, TN_MOMENT_SESSION, T0, &dec, &err), TN_OK);
		assert_int_equal(dec.holdout_new, 1);
		assert_int_equal(dec.holdout, tn_holdout_draw(id, 0.5, 3));
		first[i] = dec.holdout;
		assert_int_equal(tn_decision_save(f.s, &dec, &err), TN_OK);
		/* a second decision keeps the assignment and stores nothing new */
		assert_int_equal(tn_decide(d, id, TN_MOMENT_SESSION, T0, &dec, &err), TN_OK);
		assert_int_equal(dec.holdout_new, 0);
		assert_int_equal(dec.holdout, first[i]);
	}
	assert_int_equal(tn_store_commit(f.s, &err), TN_OK);
	tn_decider_free(d);
	set.holdout_share = 0;
	assert_int_equal(tn_decide_settings_set(f.s, &set, &err), TN_OK);
	d = load(&f);
	int held = 0;
	for (int i = 0; i < 400; i++) {
		snprintf(id, sizeof id, "c%d", i);
		tn_decision dec;
		assert_int_equal(tn_decide(d, id, TN_MOMENT_SESSION, T0, &dec, &err), TN_OK);
		assert_int_equal(dec.holdout, first[i]);
		held += dec.holdout;
	}
	/* 400 at share 0.5: within qbinom(c(.0005,.9995), 400, .5) = 167, 233 */
	assert_in_range(held, 167, 233);
	tn_decider_free(d);
	fx_close(&f);
}

static void test_caps_budget(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 10, 0.5, 200);
	no_holdout(&f);
	/* at most 2 per customer in 30 days; a budget of 3 offers */
	add_offer(&f, "capped", "discount", 10, 0.5, 30, 2, 30, ALL);
	tn_decider *d = load(&f);
	tn_error err = {0};
	tn_decision dec;
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "capped");
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0 + DAY, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "capped");
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0 + 2 * DAY, &dec, &err), TN_OK);
	assert_string_equal(dec.kind, "none"); /* the cap */
	/* 31 days after the first, one slot is free again -- and the budget has one offer left */
	assert_int_equal(tn_decide(d, "c0", TN_MOMENT_CANCEL, T0 + 31 * DAY, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "capped");
	double spent;
	assert_int_equal(tn_decider_uplift(d, dec.offer_id, TN_MOMENT_CANCEL, NULL, &spent, &err), TN_OK);
	assert_near(spent, 30, 1e-9);
	assert_int_equal(tn_decide(d, "c1", TN_MOMENT_CANCEL, T0, &dec, &err), TN_OK);
	assert_string_equal(dec.kind, "none"); /* the budget */
	/* undo gives the budget back */
	tn_decision last;
	assert_int_equal(tn_decide(d, "c2", TN_MOMENT_CANCEL, T0, &last, &err), TN_OK);
	assert_string_equal(last.kind, "none");
	tn_decider_free(d);

	/* a declined offer refunds its cost; outcomes teach the posterior */
	d = load(&f);
	assert_int_equal(tn_store_begin(f.s, &err), TN_OK);
	assert_int_equal(tn_decide(d, "c3", TN_MOMENT_CANCEL, T0, &dec, &err), TN_OK);
	assert_string_equal(dec.offer, "capped");
	assert_int_equal(tn_decision_save(f.s, &dec, &err), TN_OK);
	tn_outcome_result res;
	assert_int_equal(tn_decision_outcome(f.s, dec.id, "declined", T0 + 60, &res, &err), TN_OK);
	assert_int_equal(res.added, 1);
	tn_decider_note_outcome(d, "declined", &res);
	assert_int_equal(tn_decision_outcome(f.s, dec.id, "declined", T0 + 61, &res, &err), TN_OK);
	assert_int_equal(res.added, 0); /* idempotent */
	tn_decider_note_outcome(d, "declined", &res);
	assert_int_equal(tn_decision_outcome(f.s, dec.id, "accepted", T0 + 62, &res, &err), TN_OK);
	assert_int_equal(res.conflict, 1);
	assert_int_equal(tn_decision_outcome(f.s, "dec_none", "accepted", T0, &res, &err), TN_ERR_NOTFOUND);
	tn_error e2 = {0};
	assert_int_equal(tn_decision_outcome(f.s, dec.id, "maybe", T0, &res, &e2), TN_ERR_INPUT);
	assert_int_equal(tn_store_commit(f.s, &err), TN_OK);
	double mean;
	assert_int_equal(tn_decider_uplift(d, dec.offer_id, TN_MOMENT_CANCEL, &mean, &spent, &err), TN_OK);
	assert_near(spent, 0, 1e-9);
	assert_near(mean, 10.0 / 21.0, 1e-12); /* Beta(0.5 x 20 + 0, 0.5 x 20 + 1) */
	tn_decider_free(d);
	/* a reload counts the stored decline too */
	d = load(&f);
	assert_int_equal(tn_decider_uplift(d, dec.offer_id, TN_MOMENT_CANCEL, &mean, &spent, &err), TN_OK);
	assert_near(mean, 10.0 / 21.0, 1e-12);
	assert_near(spent, 0, 1e-9);
	tn_decider_free(d);
	fx_close(&f);
}

static void test_reference(void **state)
{
	(void)state;
	/* R: w <- function(x,n) prop.test(x,n,correct=FALSE)$conf.int; Newcombe method 10 by hand */
	tn_prop_diff pd;
	tn_prop_diff_newcombe(56, 70, 48, 80, 1.959963984540054, &pd);
	assert_near(pd.diff, 0.2, 1e-12);
	assert_near(pd.lo, 0.0524314724, 1e-8);
	assert_near(pd.hi, 0.3338726540, 1e-8);
	tn_prop_diff_newcombe(420, 600, 31, 60, 1.959963984540054, &pd);
	assert_near(pd.lo, 0.0559965841, 1e-8);
	assert_near(pd.hi, 0.3118645059, 1e-8);
	/* R: qbeta(c(.025, .975), 8, 24); qbeta(.025, .5, .5); qbeta(.975, 120.5, 30.25) */
	double m, lo, hi;
	tn_beta_posterior(8, 24, 0.95, &m, &lo, &hi);
	assert_near(m, 0.25, 1e-12);
	assert_near(lo, 0.1185639958, 1e-8);
	assert_near(hi, 0.4109638661, 1e-8);
	tn_beta_posterior(0.5, 0.5, 0.95, &m, &lo, &hi);
	assert_near(lo, 0.0015413331, 1e-8);
	tn_beta_posterior(120.5, 30.25, 0.95, &m, &lo, &hi);
	assert_near(hi, 0.8591272338, 1e-8);
}

static void test_report(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 40, 0.5, 100);
	tn_decide_settings set = {.holdout_share = 0.3, .seed = 11};
	tn_error err = {0};
	assert_int_equal(tn_decide_settings_set(f.s, &set, &err), TN_OK);
	add_offer(&f, "pause", "pause", 2, 0.3, NAN, 5, 90, ALL);
	tn_decider *d = load(&f);
	assert_int_equal(tn_store_begin(f.s, &err), TN_OK);
	long nt = 0, nh = 0, kt = 0, kh = 0;
	char id[32];
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "c%d", i);
		tn_decision dec;
		assert_int_equal(tn_decide(d, id, TN_MOMENT_CANCEL, T0 + DAY, &dec, &err), TN_OK);
		assert_int_equal(tn_decision_save(f.s, &dec, &err), TN_OK);
		/* every third customer leaves after the decision */
		int leaves = i % 3 == 0;
		if (leaves)
			fx_sub(&f, id, "m", 10, T0, T0 + 30 * DAY, T0 + 2 * DAY, "cancelled");
		if (dec.holdout) {
			nh++;
			kh += !leaves;
		} else {
			nt++;
			kt += !leaves;
			tn_outcome_result res;
			assert_int_equal(tn_decision_outcome(f.s, dec.id, i % 2 ? "accepted" : "declined", T0 + DAY, &res,
							     &err), TN_OK);
		}
	}
	assert_int_equal(tn_store_commit(f.s, &err), TN_OK);
	tn_decider_free(d);
	assert_true(nh > 0 && nt > 0);
	tn_decision_report_row *r;
	size_t n;
	assert_int_equal(tn_decisions_report(f.s, &r, &n, &err), TN_OK);
	assert_int_equal(n, 2); /* pause x cancel, all x cancel */
	assert_string_equal(r[0].offer, "pause");
	assert_int_equal(r[0].treated, nt);
	assert_int_equal(r[0].holdout, nh);
	assert_int_equal(r[0].treated_kept, kt);
	assert_int_equal(r[0].holdout_kept, kh);
	tn_prop_diff pd;
	tn_prop_diff_newcombe(kt, nt, kh, nh, 1.959963984540054, &pd);
	assert_near(r[0].save.lo, pd.lo, 1e-12);
	assert_near(r[0].customers_kept, pd.diff * (double)nt, 1e-9);
	assert_near(r[0].cost, 2.0 * (double)r[0].accepted, 1e-9);
	assert_near(r[0].revenue_kept, pd.diff * (double)nt * 100, 1e-6);
	assert_string_equal(r[1].offer, "all");
	free(r);
	long cnt;
	assert_int_equal(tn_decisions_count(f.s, &cnt, &err), TN_OK);
	assert_int_equal(cnt, 40);
	fx_close(&f);
}

static void test_surveys(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 2, 0.5, 100);
	tn_error err = {0};
	/* every template is a valid question set with three languages */
	const char *names[] = {"nps", "csat", "ces", "exit", "price_vs_expected", "order_on_time", "recommend_yes_no"};
	for (size_t i = 0; i < 7; i++) {
		const char *t = tn_survey_template(names[i]);
		assert_non_null(t);
		assert_int_equal(tn_survey_questions_check(t, &err), TN_OK);
	}
	assert_non_null(strstr(tn_survey_template("price_vs_expected"), "کمتر"));
	assert_non_null(strstr(tn_survey_template("exit"), "pricing_billing"));
	tn_error e2 = {0};
	assert_int_equal(tn_survey_questions_check("[{\"id\":\"q\",\"type\":\"text\",\"text\":{\"en\":\"x\"}}]", &e2),
			 TN_ERR_INPUT);
	assert_non_null(strstr(e2.msg, "questions[0].text"));

	tn_survey_def exit_s = {.name = "exit_reasons", .kind = "exit", .questions = (char *)tn_survey_template("exit"),
				.trigger = TN_TRIG_CANCEL, .trigger_days = NAN, .cap_days = 30, .reward_points = 25};
	tn_survey_def tick = {.name = "after_ticket", .kind = "csat", .questions = (char *)tn_survey_template("csat"),
			      .trigger = TN_TRIG_SUPPORT_TICKET, .trigger_days = 7, .cap_days = 30};
	assert_int_equal(tn_survey_add(f.s, &exit_s, T0, NULL, &err), TN_OK);
	assert_int_equal(tn_survey_add(f.s, &tick, T0, NULL, &err), TN_OK);
	e2 = (tn_error){0};
	assert_int_equal(tn_survey_add(f.s, &tick, T0, NULL, &e2), TN_ERR_USAGE); /* the name is taken */

	int64_t key;
	assert_int_equal(tn_store_customer_key(f.s, "c0", &key, &err), TN_OK);
	int found;
	int64_t inv;
	tn_survey_def sd;
	tn_time now = T0 + 40 * DAY;
	/* nothing due at a session with no ticket */
	assert_int_equal(tn_survey_due(f.s, key, TN_MOMENT_SESSION, now, NAN, &found, &sd, &inv, &err), TN_OK);
	assert_int_equal(found, 0);
	/* a support ticket two days ago: the csat survey */
	fx_begin(&f);
	fx_event(&f, "c0", now - 2 * DAY, "support_ticket", NAN);
	fx_commit(&f);
	assert_int_equal(tn_survey_due(f.s, key, -1, now, NAN, &found, &sd, &inv, &err), TN_OK);
	assert_int_equal(found, 1);
	assert_string_equal(sd.name, "after_ticket");
	assert_int_equal(inv, 0);
	tn_survey_clear(&sd);
	/* at cancel the exit survey comes first (by id); invited, it is given again while open */
	assert_int_equal(tn_survey_due(f.s, key, TN_MOMENT_CANCEL, now, NAN, &found, &sd, &inv, &err), TN_OK);
	assert_string_equal(sd.name, "exit_reasons");
	int64_t sid = sd.id;
	tn_survey_clear(&sd);
	assert_int_equal(tn_store_begin(f.s, &err), TN_OK);
	assert_int_equal(tn_survey_invite(f.s, sid, key, now, NULL, &inv, &err), TN_OK);
	assert_int_equal(tn_store_commit(f.s, &err), TN_OK);
	int64_t inv2;
	assert_int_equal(tn_survey_due(f.s, key, -1, now + 60, NAN, &found, &sd, &inv2, &err), TN_OK);
	assert_int_equal(found, 1);
	assert_true(inv2 == inv);
	tn_survey_clear(&sd);
	/* answered: the reward once, however often the answer is sent */
	long credited;
	assert_int_equal(tn_store_begin(f.s, &err), TN_OK);
	assert_int_equal(tn_survey_answered(f.s, "c0", "exit", now + 120, &credited, &err), TN_OK);
	assert_int_equal(credited, 25);
	assert_int_equal(tn_survey_answered(f.s, "c0", "exit", now + 180, &credited, &err), TN_OK);
	assert_int_equal(credited, 0);
	assert_int_equal(tn_store_commit(f.s, &err), TN_OK);
	tn_rowset *bal;
	assert_int_equal(tn_points_balances(f.s, "c0", &bal, &err), TN_OK);
	assert_int_equal(bal->nrows, 1);
	int found_25 = 0;
	for (size_t c = 0; c < bal->ncols; c++)
		found_25 |= bal->digits[c] >= 0 && bal->num[c] == 25;
	assert_true(found_25);
	tn_rowset_free(bal);
	/* the frequency cap: nothing else within 30 days of the invitation, even at cancel */
	assert_int_equal(tn_survey_due(f.s, key, TN_MOMENT_CANCEL, now + DAY, NAN, &found, &sd, &inv, &err), TN_OK);
	assert_int_equal(found, 0);
	/* after the cap the cancel trigger holds again */
	assert_int_equal(tn_survey_due(f.s, key, TN_MOMENT_CANCEL, now + 31 * DAY, NAN, &found, &sd, &inv, &err),
			 TN_OK);
	assert_int_equal(found, 1);
	tn_survey_clear(&sd);
	fx_close(&f);
}

/* ---- the routes, without a socket ---------------------------------------------------------- */

/* The "all" row's acceptance: the pooled share with the Wilson score
 * interval.  Reference numbers from R 4.x:
 *   prop.test(1, 1, correct = FALSE)$conf.int -> 0.206549314377238 1
 *   prop.test(3, 8, correct = FALSE)$conf.int -> 0.136844285823597 0.694257605397373
 * (the Wilson interval written out, z = qnorm(0.975):
 *   (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), same digits) */
static void made(fixture *f, const char *cust, int64_t offer, int i, const char *outcome)
{
	tn_error err = {0};
	tn_decision dec = {.moment = TN_MOMENT_CANCEL, .at = T0 + DAY, .offer_id = offer, .cost = 1,
			   .expires_at = TN_NO_TIME};
	snprintf(dec.id, sizeof dec.id, "dec_%016d", i);
	assert_int_equal(tn_store_customer_key(f->s, cust, &dec.customer_key, &err), TN_OK);
	assert_int_equal(tn_decision_save(f->s, &dec, &err), TN_OK);
	tn_outcome_result res;
	assert_int_equal(tn_decision_outcome(f->s, dec.id, outcome, T0 + DAY, &res, &err), TN_OK);
}

static const tn_decision_report_row *all_row(const tn_decision_report_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].offer, "all") == 0)
			return &r[i];
	fail_msg("no all row");
	return NULL;
}

static void test_report_all(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 8, 0.5, 100);
	add_offer(&f, "a", "pause", 1, 0.3, NAN, 5, 90, ALL);
	add_offer(&f, "b", "discount", 1, 0.3, NAN, 5, 90, ALL);
	tn_catalogue_offer *cat;
	size_t nc;
	tn_error err = {0};
	assert_int_equal(tn_catalogue_list(f.s, &cat, &nc, &err), TN_OK);
	assert_int_equal(nc, 2);
	int64_t a = cat[0].id, b = cat[1].id;
	tn_catalogue_free(cat, nc);
	/* one acceptance: the observed 1.000 now has an interval */
	made(&f, "c0", a, 0, "accepted");
	tn_decision_report_row *r;
	size_t n;
	assert_int_equal(tn_decisions_report(f.s, &r, &n, &err), TN_OK);
	const tn_decision_report_row *all = all_row(r, n);
	assert_near(all->accept_mean, 1.0, 1e-12);
	assert_near(all->accept_lo, 0.206549314377238, 1e-12);
	assert_near(all->accept_hi, 1.0, 1e-12);
	free(r);
	/* b: 2 accepted, 5 declined; pooled with a: 3 of 8 */
	static const char *const out[] = {"accepted", "accepted", "declined", "declined", "declined", "declined",
					  "declined"};
	char id[16];
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof id, "c%d", i + 1);
		made(&f, id, b, i + 1, out[i]);
	}
	assert_int_equal(tn_decisions_report(f.s, &r, &n, &err), TN_OK);
	all = all_row(r, n);
	assert_int_equal(all->accepted, 3);
	assert_int_equal(all->declined, 5);
	assert_near(all->accept_mean, 0.375, 1e-12);
	assert_near(all->accept_lo, 0.136844285823597, 1e-12);
	assert_near(all->accept_hi, 0.694257605397373, 1e-12);
	/* an offer's own row keeps its posterior: b's Beta(0.3 x 20 + 2, 0.7 x 20 + 5) has mean 8/27 */
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].offer, "b") == 0)
			assert_near(r[i].accept_mean, 8.0 / 27.0, 1e-12);
	free(r);
	fx_close(&f);
}

/* The approved offer plan (tn_offer_plan_in_force): decisions and the
 * offers job follow it while it is in force -- offers only to its offer
 * arm within its budget, none to its control arm or to customers outside
 * it; its offers on their send days under the approval's keys -- and
 * return to the default rules when it is withdrawn. */
static void plan_sql(fixture *f, const char *sql)
{
	tn_error err = {0};
	if (tn_store_exec(f->s, sql, &err))
		fail_msg("%s: %s", sql, err.msg);
}

static void decide_ok(tn_decider *d, const char *c, tn_decision *dec)
{
	tn_error err = {0};
	if (tn_decide(d, c, TN_MOMENT_CANCEL, T0 + 23 * DAY, dec, &err))
		fail_msg("decide %s: %s", c, err.msg);
}

static void test_plan(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 8, 0.5, 200);
	no_holdout(&f);
	add_offer(&f, "cheap", "pause", 1, 0.1, NAN, 5, 90, ALL);
	tn_error err = {0};
	int64_t hook = 0;
	assert_int_equal(tn_webhook_add(f.s, "http://127.0.0.1:9/hook", "all", "0123456789abcdef", T0, &hook, &err), TN_OK);
	/* a plan: c0 c1 c2 offered (budget 2 at cost 1 each in the app), c3 c4 held out; c5.. outside */
	plan_sql(&f, "INSERT INTO offer_plans(id, created_at, source, params) VALUES (7, 1704067200, 'scores',"
		     " '{\"offer_cost\":5,\"budget\":2}')");
	plan_sql(&f, "INSERT INTO offer_assignments(plan_id, customer_id, arm, rank, stratum, p_churn, value,"
		     " expected_profit, send_at) SELECT 7, id, CASE WHEN ext_id IN ('c3','c4') THEN 'control' ELSE 'offer' END,"
		     " id, 1, 0.5, 200, 25, CASE ext_id WHEN 'c0' THEN 1704067200 + 23 * 86400 WHEN 'c2' THEN"
		     " 1704067200 + 40 * 86400 END FROM customers WHERE ext_id IN ('c0','c1','c2','c3','c4')");
	tn_decider *d = load(&f);
	tn_decision dec;
	decide_ok(d, "c3", &dec);
	assert_int_equal(dec.plan_id, 0); /* approved by nobody yet: the default rules */
	assert_string_equal(dec.offer, "cheap");
	tn_decide_undo(d, "c3", &dec);

	plan_sql(&f, "INSERT INTO offer_plan_approvals(plan_id, approved_at, key_id, queued) VALUES (7, 100, 1, 0)");
	tn_plan_force pf;
	assert_int_equal(tn_offer_plan_in_force(f.s, &pf, &err), TN_OK);
	assert_int_equal(pf.plan_id, 7);
	assert_int_equal(pf.n_offer, 3);
	assert_int_equal(pf.n_control, 2);
	assert_true(pf.budget == 2 && pf.offer_cost == 5);
	assert_int_equal(tn_decider_reload_plan(d, f.s, &err), TN_OK);
	decide_ok(d, "c3", &dec); /* control arm */
	assert_int_equal(dec.plan_id, 7);
	assert_int_equal(dec.plan_arm, TN_ARM_CONTROL);
	assert_int_equal(dec.offer_id, 0);
	assert_string_equal(dec.kind, "none");
	decide_ok(d, "c6", &dec); /* outside the plan */
	assert_int_equal(dec.plan_arm, TN_ARM_NONE);
	assert_int_equal(dec.offer_id, 0);
	decide_ok(d, "c0", &dec); /* offer arm: 1 of the budget's 2 */
	assert_int_equal(dec.plan_arm, TN_ARM_OFFER);
	assert_string_equal(dec.offer, "cheap");
	tn_decision d1;
	decide_ok(d, "c1", &d1); /* 2 of 2 */
	assert_string_equal(d1.offer, "cheap");
	decide_ok(d, "c2", &dec); /* the plan's budget is spent */
	assert_int_equal(dec.plan_arm, TN_ARM_OFFER);
	assert_int_equal(dec.offer_id, 0);
	tn_decide_undo(d, "c1", &d1); /* not stored: its cost comes back */
	decide_ok(d, "c2", &dec);
	assert_string_equal(dec.offer, "cheap");

	/* the offers job: the plan's offers whose send day is in the window
	 * (c0 on day 23; c1's send day is the plan's as-of, c2's day 40),
	 * none of the renewal rule (every period ends on day 30, inside the
	 * window's 7-day lead) */
	tn_jobs_opts o = tn_jobs_opts_default();
	o.job = "offers";
	o.as_of = T0 + 23 * DAY + DAY / 2;
	tn_job_result res[8];
	size_t nres = 0;
	assert_int_equal(tn_jobs_run(f.s, &o, res, &nres, &err), TN_OK);
	assert_int_equal(nres, 1);
	assert_int_equal(res[0].items, 1);
	assert_int_equal(res[0].queued, 1);
	assert_int_equal(store_count(f.s, "SELECT count(*) FROM outbox WHERE event = 'offer'"), 1);
	assert_int_equal(
		store_count(f.s, "SELECT count(*) FROM outbox WHERE idem_key LIKE 'offer:c0:approved:2024-01-24%'"), 1);

	/* withdrawn: the pending offer suppressed, decisions by the default rules */
	int64_t w = 0;
	long sup = 0;
	assert_int_equal(tn_offer_plan_withdraw(f.s, 8, 0, T0, &w, &sup, &err), TN_ERR_NOTFOUND);
	assert_int_equal(tn_offer_plan_withdraw(f.s, 7, 0, T0, &w, &sup, &err), TN_OK);
	assert_int_equal(w, 7);
	assert_int_equal(sup, 1);
	assert_int_equal(store_count(f.s, "SELECT count(*) FROM outbox WHERE status = 'suppressed'"), 1);
	assert_int_equal(tn_offer_plan_withdraw(f.s, 0, 0, T0, &w, &sup, &err), TN_ERR_NOTFOUND);
	assert_int_equal(tn_offer_plan_in_force(f.s, &pf, &err), TN_OK);
	assert_int_equal(pf.plan_id, 0);
	assert_int_equal(tn_decider_reload_plan(d, f.s, &err), TN_OK);
	decide_ok(d, "c3", &dec);
	assert_int_equal(dec.plan_id, 0);
	assert_string_equal(dec.offer, "cheap");
	tn_decider_free(d);

	/* the same job with no plan in force: the renewal rule, one offer per customer */
	fixture g;
	fx_open(&g);
	customers(&g, 8, 0.5, 200);
	assert_int_equal(tn_webhook_add(g.s, "http://127.0.0.1:9/hook", "all", "0123456789abcdef", T0, &hook, &err), TN_OK);
	assert_int_equal(tn_jobs_run(g.s, &o, res, &nres, &err), TN_OK);
	assert_int_equal(res[0].queued, 8);
	fx_close(&g);
	fx_close(&f);
}

static int call(tn_server *sv, const char *method, const char *path, const char *key, const char *b, char *out,
		size_t cap)
{
	char auth[TN_KEY_LEN + 16];
	snprintf(auth, sizeof auth, "Bearer %s", key);
	tn_http_request rq = {.method = method, .path = path, .authorization = auth, .content_type = "application/json",
			      .body = b, .body_len = b ? strlen(b) : 0};
	tn_http_response rs;
	tn_server_handle(sv, &rq, &rs);
	snprintf(out, cap, "%.*s", (int)rs.len, rs.body ? rs.body : "");
	int st = rs.status;
	tn_http_response_free(&rs);
	return st;
}

static void test_routes(void **state)
{
	(void)state;
	fixture f;
	fx_open(&f);
	customers(&f, 5, 0.6, 300);
	no_holdout(&f);
	add_offer(&f, "pause", "pause", 2, 0.3, NAN, 5, 90, ALL);
	tn_survey_def exit_s = {.name = "exit_reasons", .kind = "exit", .questions = (char *)tn_survey_template("exit"),
				.trigger = TN_TRIG_CANCEL, .trigger_days = NAN, .cap_days = 30, .reward_points = 10};
	tn_error err = {0};
	assert_int_equal(tn_survey_add(f.s, &exit_s, T0, NULL, &err), TN_OK);
	char key[TN_KEY_LEN + 1];
	int64_t kid;
	assert_int_equal(tn_key_create(f.s, "ingest", NULL, key, &kid, &err), TN_OK);
	tn_store_close(f.s);
	f.s = NULL;
	tn_server_opts o = {.db_path = f.path};
	tn_server *sv;
	assert_int_equal(tn_server_new(&o, &sv, &err), TN_OK);
	char out[16384];
	assert_int_equal(call(sv, "POST", "/v1/decisions", key, "{\"customer\":\"c1\",\"moment\":\"cancel\"}", out,
			      sizeof out), 200);
	cJSON *j = cJSON_Parse(out);
	assert_non_null(j);
	cJSON *offer = cJSON_GetObjectItem(j, "offer");
	assert_string_equal(cJSON_GetObjectItem(offer, "id")->valuestring, "pause");
	assert_string_equal(cJSON_GetObjectItem(offer, "kind")->valuestring, "pause");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "holdout")));
	cJSON *sv_json = cJSON_GetObjectItem(j, "survey");
	assert_string_equal(cJSON_GetObjectItem(sv_json, "name")->valuestring, "exit_reasons");
	char path[128];
	snprintf(path, sizeof path, "/v1/decisions/%s/outcome", cJSON_GetObjectItem(j, "decision_id")->valuestring);
	cJSON_Delete(j);
	assert_int_equal(call(sv, "POST", path, key, "{\"outcome\":\"shown\"}", out, sizeof out), 200);
	assert_int_equal(call(sv, "POST", path, key, "{\"outcome\":\"accepted\"}", out, sizeof out), 200);
	assert_non_null(strstr(out, "\"recorded\":true"));
	assert_int_equal(call(sv, "POST", path, key, "{\"outcome\":\"declined\"}", out, sizeof out), 409);
	assert_int_equal(call(sv, "POST", path, key, "{\"outcome\":\"later\"}", out, sizeof out), 422);
	assert_int_equal(call(sv, "POST", "/v1/decisions/dec_0/outcome", key, "{\"outcome\":\"shown\"}", out, sizeof out),
			 404);
	/* bad bodies */
	assert_int_equal(call(sv, "POST", "/v1/decisions", key, "{\"customer\":\"c1\"}", out, sizeof out), 422);
	assert_int_equal(call(sv, "POST", "/v1/decisions", key, "{\"customer\":\"c1\",\"moment\":\"cancel\",\"x\":\"1\"}",
			      out, sizeof out), 422);
	assert_int_equal(call(sv, "POST", "/v1/decisions", key, "[1]", out, sizeof out), 400);
	assert_int_equal(call(sv, "POST", "/v1/decisions", key, "{\"customer\":\"zz\",\"moment\":\"cancel\"}", out,
			      sizeof out), 404);
	/* the survey route: the open invitation of c1; none for c2 */
	assert_int_equal(call(sv, "GET", "/v1/customers/c1/survey", key, NULL, out, sizeof out), 200);
	assert_non_null(strstr(out, "exit_reasons"));
	assert_int_equal(call(sv, "GET", "/v1/customers/c2/survey", key, NULL, out, sizeof out), 200);
	assert_non_null(strstr(out, "\"survey\":null"));
	assert_int_equal(call(sv, "GET", "/v1/customers/nobody/survey", key, NULL, out, sizeof out), 404);
	/* the answer through POST /v1/feedback credits the reward */
	assert_int_equal(call(sv, "POST", "/v1/feedback", key,
			      "[{\"customer\":\"c1\",\"given_at\":\"2030-01-01\",\"kind\":\"exit\",\"answer\":\"price\"}]",
			      out, sizeof out), 200);
	assert_int_equal(tn_server_free(sv, &err), TN_OK);
	assert_int_equal(tn_store_open(f.path, 0, &f.s, &err), TN_OK);
	tn_rowset *bal;
	assert_int_equal(tn_points_balances(f.s, "c1", &bal, &err), TN_OK);
	assert_int_equal(bal->nrows, 1);
	tn_rowset_free(bal);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choice),       cmocka_unit_test(test_holdout), cmocka_unit_test(test_caps_budget),
		cmocka_unit_test(test_reference),    cmocka_unit_test(test_report),  cmocka_unit_test(test_surveys),
		cmocka_unit_test(test_routes),       cmocka_unit_test(test_plan),
		cmocka_unit_test(test_report_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
