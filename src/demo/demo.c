/*
 * demo.c -- the demo company (see include/tenure/demo.h and docs/demo.md).
 *
 * "Pulse", a fitness app sold by subscription in the Gulf, Egypt, Iran, the
 * UK and the US.  Each customer is simulated on their own random stream
 * (seeded from the run's seed and their number), so the data depend only on
 * the options.  Churn happens at decision points -- the end of the 7-day trial
 * and each renewal -- with a probability that is a base rate times planted
 * multipliers (never finishing onboarding x2.0, premium price x1.3, paid-social
 * acquisition x1.4, detractor after the day-14 NPS survey x1.6).  App sessions
 * thin out in the three weeks before a customer leaves.  docs/demo.md lists
 * every planted effect so analyses can be tested by recovering them.
 */
#include "tenure/demo.h"
#include "tenure/actions.h"
#include "tenure/decide.h"
#include "demo/demo_text.h"
#include "base/rng.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- random numbers: xoshiro256** (rng.h) and the draws the demo needs -- */

typedef tn_rng rng;

static uint64_t next(rng *r) { return tn_rng_next(r); }
static double unif(rng *r) { return tn_rng_unif(r); }
static int bern(rng *r, double p) { return unif(r) < p; }
static int pick(rng *r, const double *w, int n)
{
	double u = unif(r), c = 0;
	for (int i = 0; i < n - 1; i++)
		if (u < (c += w[i]))
			return i;
	return n - 1;
}
static int poisson(rng *r, double lambda)
{
	double l = exp(-lambda), p = 1;
	int k = 0;
	do {
		k++;
		p *= unif(r);
	} while (p > l && k < 100);
	return k - 1;
}
/* Gamma(shape >= 1, scale 1): Marsaglia & Tsang (2000). */
static double gamma1(rng *r, double a)
{
	double d = a - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x, v;
		do {
			/* Box-Muller normal */
			x = sqrt(-2 * log(unif(r))) * cos(2 * M_PI * unif(r));
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		double u = unif(r);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

/* ---- the business -------------------------------------------------------- */

enum { PLAN_MONTHLY, PLAN_PREMIUM, PLAN_ANNUAL };
static const char *const plan_name[] = {"monthly", "premium_monthly", "annual"};
static const char *const plan_period[] = {"month", "month", "year"};
static const double plan_price[] = {9.99, 19.99, 79.99};
static const int plan_days[] = {30, 30, 365};
static const double plan_w[] = {0.55, 0.15, 0.30};

static const char *const countries[] = {"SA", "EG", "AE", "IR", "US", "GB"};
static const int country_lang[] = {1, 1, 1, 2, 0, 0}; /* 0 en, 1 ar, 2 fa */
static const double country_w[] = {0.25, 0.20, 0.10, 0.20, 0.15, 0.10};
static const char *const lang_code[] = {"en", "ar", "fa"};
static const char *const channels[] = {"organic", "paid_social", "search", "referral"};
static const double channel_w[] = {0.40, 0.30, 0.20, 0.10};
static const double channel_cac[] = {0, 30, 12, 5};
static const double channel_mult[] = {1.0, 1.4, 1.0, 0.7};
static const char *const age_bands[] = {"18-24", "25-34", "35-44", "45+"};
static const double age_w[] = {0.30, 0.35, 0.20, 0.15};

/* cancel_reason as a business's cancellation form records it */
static const char *const reason_label[DEMO_NREASONS] = {
	"feature not working", "missing feature", "too hard to use", "app crashes",
	"bad support", "too expensive"};

enum { EV_SESSION, EV_FEATURE, EV_PURCHASE, EV_TICKET, EV_ONBOARD, EV_INVITE, EV_N };
static const char *const event_name[EV_N] = {"session", "feature_use", "purchase", "support_ticket",
					     "onboarding_complete", "invite_sent"};

typedef struct gen {
	tn_store *s;
	tn_stmt *contact; /* INSERT INTO winback_contacts */
	const tn_demo_opts *o;
	tn_demo_result *res;
	tn_error *err;
	int64_t ev_type[EV_N];
	int64_t first_day, last_day; /* days since epoch */
} gen;

void tn_demo_defaults(tn_demo_opts *o)
{
	memset(o, 0, sizeof *o);
	o->customers = 50000;
	o->months = 18;
	o->seed = 42;
	o->end = tn_days_from_civil(2026, 10, 31) * TN_DAY;
}

static tn_time at_day(rng *r, int64_t day)
{
	return day * TN_DAY + (tn_time)(unif(r) * (TN_DAY - 1));
}

static int put_event(gen *g, rng *r, int64_t cid, int64_t day, int type, double amount)
{
	if (day > g->last_day)
		return TN_OK;
	g->res->events++;
	return tn_store_put_event_keys(g->s, cid, at_day(r, day), g->ev_type[type], amount, g->err);
}

static int put_feedback(gen *g, rng *r, const char *cust, int64_t day, const char *kind, double score,
			const char *answer, const char *lang)
{
	if (day > g->last_day)
		return TN_OK;
	tn_feedback_rec f = {cust, at_day(r, day), kind, score, answer, lang, NULL};
	g->res->feedback++;
	return tn_store_put_feedback(g->s, &f, NULL, g->err);
}

static int put_payment(gen *g, rng *r, const char *cust, int64_t day, double amount, const char *status)
{
	if (day > g->last_day)
		return TN_OK;
	tn_payment_rec p = {cust, at_day(r, day), amount, "USD", status, NULL};
	g->res->payments++;
	return tn_store_put_payment(g->s, &p, NULL, g->err);
}

/* Record a win-back contact (the actions module's table). */
static int demo_contact(gen *g, rng *r, int64_t cid, const char *campaign, int64_t day, const char *channel,
			int reached, int control, double cost, int reason)
{
	if (day > g->last_day)
		return TN_OK;
	tn_stmt *st = g->contact;
	tn_db_reset(st);
	tn_db_bind_int64(st, 1, cid);
	tn_db_bind_text(st, 2, campaign);
	tn_db_bind_int64(st, 3, at_day(r, day));
	tn_db_bind_text(st, 4, channel);
	tn_db_bind_int64(st, 5, reached);
	tn_db_bind_int64(st, 6, control);
	if (reached)
		tn_db_bind_text(st, 7, reason_label[reason]);
	else
		tn_db_bind_null(st, 7);
	tn_db_bind_double(st, 8, cost);
	int rc = tn_db_step(st, "writing a win-back contact", g->err);
	return rc == TN_DB_DONE ? TN_OK : rc;
	return TN_OK;
}

/* One customer: their attributes, subscription spells, payments, feedback and
 * app activity. */
static int gen_customer(gen *g, long i)
{
	rng r;
	tn_rng_seed(&r, g->o->seed, (uint64_t)i);
	char cust[32], sid[48];
	snprintf(cust, sizeof cust, "C%06ld", i + 1);

	int64_t span = g->last_day - g->first_day;
	/* signups grow over time: density ~ t^0.3 */
	int64_t signup = g->first_day + (int64_t)(span * pow(unif(&r), 1 / 1.3));
	int country = pick(&r, country_w, 6), lang = country_lang[country];
	int channel = pick(&r, channel_w, 4);
	int android = bern(&r, country == 4 || country == 5 ? 0.35 : 0.6);
	int age = pick(&r, age_w, 4);
	int plan = pick(&r, plan_w, 3);
	int onboarded = bern(&r, channel == 1 ? 0.50 : 0.70);
	double mult = (onboarded ? 1.0 : 2.0) * (plan == PLAN_PREMIUM ? 1.3 : 1.0) * channel_mult[channel];
	double activity = gamma1(&r, 2.0) * 0.35 * (onboarded ? 1.0 : 0.5);

	char attrs[160];
	snprintf(attrs, sizeof attrs, "{\"device\":\"%s\",\"age_band\":\"%s\",\"acquisition_cost\":%g}",
		 android ? "android" : "ios", age_bands[age], channel_cac[channel]);
	tn_customer_rec c = {cust, at_day(&r, signup), countries[country], channels[channel], attrs};
	if (tn_store_put_customer(g->s, &c, NULL, g->err))
		return g->err->code;
	g->res->customers++;
	int64_t cid;
	if (tn_store_customer_key(g->s, cust, &cid, g->err))
		return g->err->code;

	/* the reason this customer would leave, if they do */
	double rw[DEMO_NREASONS] = {0.14, 0.10, onboarded ? 0.10 : 0.30, android ? 0.26 : 0.14, 0.10,
				    plan == PLAN_PREMIUM ? 0.40 : 0.22};
	double rs = 0;
	for (int k = 0; k < DEMO_NREASONS; k++)
		rs += rw[k];
	for (int k = 0; k < DEMO_NREASONS; k++)
		rw[k] /= rs;
	int reason = pick(&r, rw, DEMO_NREASONS);

	/* NPS on day 14 (40% answer): detractors are more likely when the app
	 * disappoints; after answering 0-6 the churn multiplier rises x1.6 */
	int nps = -1;
	if (bern(&r, 0.40)) {
		double pd = onboarded ? 0.22 : 0.42, pp = onboarded ? 0.45 : 0.25;
		double u = unif(&r);
		nps = u < pd ? (int)(unif(&r) * 7) : u < pd + (1 - pd - pp) ? 7 + (int)(unif(&r) * 2)
									: 9 + (int)(unif(&r) * 2);
	}

	/* ---- subscription spells ---- */
	int64_t spell_start = signup;
	int64_t active_until[4] = {0}, spell_from[4] = {0};
	int nspells = 0, first_spell = 1;
	int reactivated_plan = plan;
	while (nspells < 4 && spell_start <= g->last_day) {
		int p = first_spell ? plan : reactivated_plan;
		int trial = first_spell;
		int64_t pay_day = spell_start + (trial ? 7 : 0);
		int64_t churn_day = -1, period_end = -1;
		int involuntary = 0, past_due = 0;
		int k = 0;
		for (;; k++) {
			int64_t cp = pay_day + (int64_t)k * plan_days[p]; /* decision point */
			if (cp > g->last_day) {
				period_end = cp;
				break;
			}
			double base = (trial && k == 0) ? 0.18
				      : p == PLAN_ANNUAL ? 0.30
				      : (k == (trial ? 1 : 0)) ? 0.16
							       : 0.06 * pow(0.97, k);
			double m = mult * (nps >= 0 && nps <= 6 && cp >= signup + 14 ? 1.6 : 1.0);
			if (!first_spell)
				m *= 1.2;
			double pc = base * m;
			if (pc > 0.9)
				pc = 0.9;
			if (bern(&r, pc)) {
				churn_day = cp - 1 - (int64_t)(unif(&r) * 4);
				if (churn_day < spell_start)
					churn_day = spell_start;
				period_end = cp;
				break;
			}
			/* the charge for the coming period */
			if (!(trial && k == 0 && cp == spell_start)) {
				double pf = android ? 0.07 : 0.04;
				if (bern(&r, pf)) {
					if (put_payment(g, &r, cust, cp, plan_price[p], "failed"))
						return g->err->code;
					if (bern(&r, 0.5)) {
						if (cp + 3 > g->last_day)
							past_due = 1;
						if (put_payment(g, &r, cust, cp + 3, plan_price[p], "succeeded"))
							return g->err->code;
					} else {
						if (cp + 7 > g->last_day) {
							past_due = 1;
							period_end = cp + plan_days[p];
							break;
						}
						involuntary = 1;
						churn_day = cp + 7;
						period_end = cp;
						break;
					}
				} else if (put_payment(g, &r, cust, cp, plan_price[p], "succeeded")) {
					return g->err->code;
				}
				if (bern(&r, channel == 1 ? 0.06 : 0.015) &&
				    put_payment(g, &r, cust, cp + 2, plan_price[p], "refunded"))
					return g->err->code;
			}
		}
		const char *status = churn_day >= 0 ? (involuntary ? "expired" : "cancelled")
				     : past_due	    ? "past_due"
				     : (trial && g->last_day < pay_day) ? "trialing"
									: "active";
		snprintf(sid, sizeof sid, "S%06ld-%d", i + 1, nspells + 1);
		tn_subscription_rec sub = {sid,
					   cust,
					   plan_name[p],
					   plan_period[p],
					   plan_price[p],
					   "USD",
					   at_day(&r, spell_start),
					   trial ? (spell_start + 7) * TN_DAY : TN_NO_TIME,
					   period_end * TN_DAY,
					   churn_day >= 0 && !involuntary ? at_day(&r, churn_day) : TN_NO_TIME,
					   churn_day >= 0 ? (involuntary ? "payment failed"
									 : (bern(&r, 0.7) ? reason_label[reason] : NULL))
							  : NULL,
					   status};
		if (tn_store_put_subscription(g->s, &sub, NULL, g->err))
			return g->err->code;
		g->res->subscriptions++;
		spell_from[nspells] = spell_start;
		active_until[nspells] = churn_day >= 0 ? churn_day : g->last_day + 1;
		nspells++;
		if (churn_day < 0)
			break;
		/* exit survey: half of those who cancel answer, in their language */
		if (!involuntary && bern(&r, 0.5) &&
		    put_feedback(g, &r, cust, churn_day, "exit", NAN, demo_text(reason, lang, (unsigned)next(&r)),
				 lang_code[lang]))
			return g->err->code;
		/* win-back, 30 days after leaving (first spell, voluntary): campaign
		 * "mail" emails; campaign "mail+call" also calls two days later;
		 * a tenth of each campaign is held out as its control group */
		double back = reason == DEMO_PRICING ? 0.14 : 0.07;
		int64_t contact_day = churn_day + 30;
		int contacted = 0;
		if (first_spell && !involuntary && contact_day + 2 <= g->last_day) {
			int call = bern(&r, 0.5), control = bern(&r, 0.1);
			const char *camp = call ? "mail+call" : "mail";
			int reached_mail = !control && bern(&r, 0.9);
			if (demo_contact(g, &r, cid, camp, contact_day, control ? "none" : "email", reached_mail, control,
					 control ? 0 : 1.60, reason))
				return g->err->code;
			if (call && !control) {
				int reached_call = bern(&r, 0.6);
				if (demo_contact(g, &r, cid, camp, contact_day + 2, "call", reached_call, 0, 8.25, reason))
					return g->err->code;
				back += reached_call ? 0.08 : 0;
			}
			back += reached_mail ? 0.01 : 0;
			contacted = !control;
		}
		/* some come back: more after a price complaint, more when called */
		if (!bern(&r, back))
			break;
		spell_start = churn_day + 20 + (int64_t)(unif(&r) * 100);
		if (contacted && spell_start <= contact_day + 2)
			spell_start = contact_day + 3 + (int64_t)(unif(&r) * 30);
		reactivated_plan = PLAN_MONTHLY;
		first_spell = 0;
	}

	/* ---- feedback while subscribed ---- */
	if (nps >= 0 && signup + 14 < active_until[0] &&
	    put_feedback(g, &r, cust, signup + 14, "nps", nps, NULL, lang_code[lang]))
		return g->err->code;
	if (bern(&r, 0.20) && signup + 10 < active_until[0]) {
		double w[3] = {0.2, 0.55, 0.25};
		if (plan == PLAN_PREMIUM)
			w[0] = 0.1, w[1] = 0.4, w[2] = 0.5;
		const char *choice[] = {"less", "same", "more"};
		if (put_feedback(g, &r, cust, signup + 10, "price_vs_expected", NAN, choice[pick(&r, w, 3)],
				 lang_code[lang]))
			return g->err->code;
	}
	if (bern(&r, 0.04)) {
		int64_t d = signup + 20 + (int64_t)(unif(&r) * 60);
		const char *txt = bern(&r, 0.5) ? demo_praise(lang, (unsigned)next(&r))
						: demo_text(DEMO_FEATURE_REQUEST, lang, (unsigned)next(&r));
		if (d < active_until[0] && put_feedback(g, &r, cust, d, "free", NAN, txt, lang_code[lang]))
			return g->err->code;
	}

	/* complaints while subscribed: 30% of those who will cancel say why in
	 * the weeks before (the same reason their exit answer gives); 4% of the
	 * others complain about something and stay */
	int leaves = active_until[0] <= g->last_day;
	if (leaves ? bern(&r, 0.30) : bern(&r, 0.04)) {
		int why = leaves ? reason : (int)(next(&r) % DEMO_NREASONS);
		int64_t d = leaves ? active_until[0] - 5 - (int64_t)(unif(&r) * 20)
				   : signup + 10 + (int64_t)(unif(&r) * (double)(g->last_day - signup));
		if (d > signup && put_feedback(g, &r, cust, d, "free", NAN, demo_text(why, lang, (unsigned)next(&r)),
					      lang_code[lang]))
			return g->err->code;
	}

	/* ---- app activity ---- */
	if (onboarded && put_event(g, &r, cid, signup + (int64_t)(unif(&r) * 3), EV_ONBOARD, NAN))
		return g->err->code;
	if (onboarded && bern(&r, 0.25)) {
		int64_t d = signup + 10 + (int64_t)(unif(&r) * 30);
		if (d < active_until[0] && put_event(g, &r, cid, d, EV_INVITE, NAN))
			return g->err->code;
	}
	int sp = 0;
	int troubled = reason == DEMO_RELIABILITY || reason == DEMO_CUSTOMER_SERVICE || reason == DEMO_FUNCTIONALITY;
	for (int64_t d = signup; d <= g->last_day; d++) {
		while (sp < nspells - 1 && d >= spell_from[sp + 1])
			sp++;
		int64_t left = active_until[sp] - d; /* days to this spell's end */
		double rate;
		if (d < spell_from[sp] || left <= 0)
			rate = activity * 0.03; /* the odd look after leaving */
		else if (left < 21 && active_until[sp] <= g->last_day)
			rate = activity * (0.2 + 0.8 * (double)left / 21);
		else
			rate = activity;
		int n = poisson(&r, rate);
		for (int k = 0; k < n; k++) {
			if (put_event(g, &r, cid, d, EV_SESSION, NAN))
				return g->err->code;
			if (bern(&r, 0.35) && put_event(g, &r, cid, d, EV_FEATURE, NAN))
				return g->err->code;
			if (bern(&r, 0.03)) {
				static const double prices[] = {1.99, 4.99, 9.99};
				if (put_event(g, &r, cid, d, EV_PURCHASE, prices[next(&r) % 3]))
					return g->err->code;
			}
		}
		if (left > 0 && d >= spell_from[sp]) {
			double pt = 0.004 * (troubled && left < 30 && active_until[sp] <= g->last_day ? 6 : 1);
			if (bern(&r, pt)) {
				if (put_event(g, &r, cid, d, EV_TICKET, NAN))
					return g->err->code;
				/* CSAT and CES after support */
				int bad = troubled && left < 30;
				if (bern(&r, 0.5) &&
				    put_feedback(g, &r, cust, d + 1, "csat", bad ? 1 + (int)(unif(&r) * 2.5)
										 : 3 + (int)(unif(&r) * 2.99),
						 NULL, lang_code[lang]))
					return g->err->code;
				if (bern(&r, 0.3) &&
				    put_feedback(g, &r, cust, d + 1, "ces", bad ? 4 + (int)(unif(&r) * 3.99)
										: 1 + (int)(unif(&r) * 3.99),
						 NULL, lang_code[lang]))
					return g->err->code;
			}
		}
	}
	return TN_OK;
}

/* The offer catalogue the in-app decisions choose from (docs/actions.md,
 * "In-app decisions"): a discount, a pause, a downgrade and a free month,
 * costed against the demo's 9.99 / 19.99 / 79.99 plans. */
static int seed_catalogue(tn_store *s, tn_time end, tn_error *err)
{
	const unsigned C = 1u << TN_MOMENT_CANCEL, A = 1u << TN_MOMENT_AUTO_RENEW_OFF, R = 1u << TN_MOMENT_RENEWAL_DUE;
	const tn_catalogue_offer offers[] = {
		{.name = "half_off_3m", .kind = "discount", .terms = "50% off your next 3 months", .cost = 15,
		 .uplift_prior = 0.25, .prior_weight = 20, .budget = NAN, .cap_count = 1, .cap_days = 90,
		 .moments = C | A | R, .valid_days = 7},
		{.name = "pause_1m", .kind = "pause", .terms = "Pause your subscription for a month", .cost = 2,
		 .uplift_prior = 0.12, .prior_weight = 20, .budget = NAN, .cap_count = 1, .cap_days = 90,
		 .moments = C | A, .valid_days = 7},
		{.name = "basic_plan", .kind = "downgrade", .terms = "Keep the monthly plan at 9.99 instead", .cost = 5,
		 .uplift_prior = 0.15, .prior_weight = 20, .budget = NAN, .cap_count = 1, .cap_days = 90, .moments = C,
		 .valid_days = 7},
		{.name = "free_month", .kind = "free_period", .terms = "Your next month free", .cost = 10,
		 .uplift_prior = 0.2, .prior_weight = 20, .budget = 20000, .cap_count = 1, .cap_days = 180,
		 .moments = C | A | R, .valid_days = 14},
	};
	for (size_t i = 0; i < sizeof offers / sizeof offers[0]; i++)
		if (tn_catalogue_add(s, &offers[i], end, NULL, err))
			return err->code;
	return TN_OK;
}

/* The business's setup for acting on churn: onboarding milestones mapped to
 * the demo's events, and a loyalty programme (10 points per dollar of in-app
 * purchases, 50 per invitation, points expire after 180 days) credited from
 * the events and expired as of the data's end. */
static int seed_actions(tn_store *s, tn_time end, tn_error *err)
{
	static const char *const milestone_event[TN_MS_COUNT] = {"session", "onboarding_complete", "feature_use",
								  "invite_sent"};
	for (int m = 0; m < TN_MS_COUNT; m++)
		if (tn_journey_map(s, m, milestone_event[m], err))
			return err->code;
	long applied;
	if (tn_points_set_rule(s, "purchase", 0, 10, err) || tn_points_set_rule(s, "invite_sent", 50, 0, err) ||
	    tn_points_set_expiry(s, 180, err) || tn_points_earn_from_events(s, 0, &applied, err))
		return err->code;
	long expired_entries;
	long long expired_points;
	if (tn_points_expire(s, end, &expired_entries, &expired_points, err))
		return err->code;
	return seed_catalogue(s, end, err);
}

int tn_demo_generate(tn_store *s, const tn_demo_opts *o, tn_demo_result *res, tn_error *err)
{
	TN_ERROR_ENSURE(err);
	memset(res, 0, sizeof *res);
	if (o->customers < 1 || o->customers > 100000000)
		return tn_error_set(err, TN_ERR_USAGE, "--customers: expected 1 to 100000000, found %ld", o->customers);
	if (o->months < 1 || o->months > 240)
		return tn_error_set(err, TN_ERR_USAGE, "--months: expected 1 to 240, found %d", o->months);
	gen g = {.s = s, .o = o, .res = res, .err = err};
	g.last_day = o->end / TN_DAY;
	g.first_day = tn_add_months(o->end, -o->months) / TN_DAY;
	tn_store_counts c;
	if (tn_store_counts_get(s, &c, err))
		return err->code;
	if (c.customers > 0)
		return tn_error_set(err, TN_ERR_USAGE,
				    "%s already holds %lld customers: the demo needs an empty store (give another --db)",
				    tn_store_path(s), c.customers);
	if (tn_store_begin(s, err))
		return err->code;
	int rc = TN_OK;
	for (int k = 0; k < EV_N && rc == TN_OK; k++)
		rc = tn_store_event_type(s, event_name[k], &g.ev_type[k], err);
	if (rc == TN_OK && !(g.contact = tn_db_prepare(s,
			     "INSERT INTO winback_contacts(customer_id, campaign, contacted_at, channel, "
			     "reached, control, reason, cost) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
			     "ON CONFLICT DO NOTHING", err)))
		rc = err->code;
	for (long i = 0; i < o->customers && rc == TN_OK; i++) {
		rc = gen_customer(&g, i);
		if (o->on_progress && (i & 1023) == 0)
			o->on_progress(o->ud, (double)i, (double)o->customers);
	}
	if (rc == TN_OK) {
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)o->end);
		rc = tn_store_meta_set(s, "data_end", buf, err);
	}
	tn_db_finalize(g.contact);
	if (rc == TN_OK)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		return rc;
	}
	if ((rc = seed_actions(s, o->end, err)))
		return rc;
	/* report what the store holds: events that coincide (same customer,
	 * type and second) are stored once */
	if (tn_store_counts_get(s, &c, err))
		return err->code;
	res->customers = c.customers;
	res->subscriptions = c.subscriptions;
	res->events = c.events;
	res->payments = c.payments;
	res->feedback = c.feedback;
	return TN_OK;
}
