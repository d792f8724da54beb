/*
 * tenure/actions.h -- acting to keep customers: profit-ranked retention
 * offers with a stored control group, win-back campaigns with cost per
 * customer won back, a loyalty-points ledger, and onboarding milestones.
 * docs/actions.md has the commands, definitions and formulas.
 *
 * Inputs from other analyses plug in through tn_scores: one row per customer
 * with P(churn) and value, read from a scored CSV (columns customer, p_churn,
 * value -- what `tenure risk`/`tenure value` write) or, when none is given,
 * estimated crudely from the store (tn_scores_estimate, documented there).
 *
 * Everything "as of now" takes an explicit NOW (Unix seconds); the CLI uses
 * the latest instant in the data unless --now is given, so that analyses of
 * a historical export are reproducible.
 */
#ifndef TENURE_ACTIONS_H
#define TENURE_ACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/error.h"
#include "tenure/store.h"
#include "tenure/time.h"

/* ======================================================================
 * Shared: scores, "now", and the difference of two proportions
 * ====================================================================== */

typedef struct tn_scores {
	size_t n;
	char **customer;        /* the business's customer ids */
	double *p_churn;        /* P(churn), in [0, 1] */
	double *value;          /* customer value (currency units), >= 0 */
	int64_t *key;           /* internal customer key; 0 until attached */
	tn_time *signed_up_at;  /* TN_NO_TIME when unknown */
	tn_time *period_end;    /* end of the live subscription's period; TN_NO_TIME if none */
	int estimated;          /* 1: built-in estimate from the store; 0: from a file */
} tn_scores;

#define TN_SCORES_MAX 50000000 /* rows in a scores file (a cap, not a target) */

/* Read a scored CSV with columns customer, p_churn, value (others ignored).
 * Errors name FILE:LINE:COLUMN, what was expected and what was found
 * (p_churn outside [0,1], negative value, a blank, a duplicate customer).
 * Free with tn_scores_free(). */
TN_API int tn_scores_read_csv(const char *path, tn_scores **out, tn_error *err);

/* The same from two files joined by customer, as the other analyses write
 * them: P(churn) from RISK_PATH (column p_churn, or risk as `tenure predict
 * score` writes it) and value from VALUE_PATH (column value, or clv as
 * `tenure value score` writes it).  Column aliases also hold for
 * tn_scores_read_csv: customer may be id or customer_id.  A customer of the
 * risk file with no (or a blank) value gets value 0; *no_value counts them. */
TN_API int tn_scores_read_pair(const char *risk_path, const char *value_path, tn_scores **out,
			       size_t *no_value, tn_error *err);

/* Built-in estimate for every customer with a live subscription (trialing,
 * active or past_due) as of NOW:
 *   h    = the plan's monthly churn rate: cancellations in the 90 days before
 *          NOW / subscriptions exposed in that window / 3;
 *   p    = min(0.95, h x (2 if no event in the 14 days before NOW else 1));
 *   value= monthly price x min(36, 1 / max(h, 1/36)) (geometric lifetime).
 * A crude stand-in until churn/risk/value models are plugged in; the
 * result has estimated = 1 and keys, signup and period end attached. */
TN_API int tn_scores_estimate(tn_store *s, tn_time now, tn_scores **out, tn_error *err);

/* Look up each customer in the store: fills key, signed_up_at and the live
 * subscription's period_end.  A customer missing from the store is an error
 * naming it (TN_ERR_NOTFOUND). */
TN_API int tn_scores_attach(tn_store *s, tn_scores *sc, tn_error *err);

TN_API void tn_scores_free(tn_scores *sc);

/* The latest instant in the store's data (signups, subscriptions, payments,
 * feedback, events); TN_ERR_NOTFOUND when the store is empty. */
TN_API int tn_actions_now(tn_store *s, tn_time *now, tn_error *err);

/* Difference of two proportions p1 - p2 = x1/n1 - x2/n2 with the Newcombe
 * hybrid score interval (Newcombe 1998, Statistics in Medicine 17:873,
 * method 10: built from the two Wilson score intervals).  Z is the normal
 * quantile (1.959964 for 95%).  With n1 or n2 zero the bounds are NaN. */
typedef struct tn_prop_diff {
	double p1, p2, diff, lo, hi;
} tn_prop_diff;

TN_API void tn_wilson_interval(long x, long n, double z, double *lo, double *hi);
TN_API void tn_prop_diff_newcombe(long x1, long n1, long x2, long n2, double z, tn_prop_diff *out);

/* A small result table for listings (balances, history, tiers...): text
 * columns and numeric columns, row-major.  Free with tn_rowset_free(). */
typedef struct tn_rowset {
	size_t ncols, nrows;
	char **names;  /* ncols column names */
	int *digits;   /* per column: -1 for text, else decimals to show */
	double *num;   /* nrows x ncols; NaN = null (numeric columns) */
	char **text;   /* nrows x ncols; NULL = null (text columns) */
} tn_rowset;
TN_API void tn_rowset_free(tn_rowset *r);

/* ======================================================================
 * Offers: expected profit, budget, timing, control group
 * ====================================================================== */

typedef struct tn_offer_params {
	double offer_cost;    /* C: cost of one offer (discount, gift...) */
	double accept_rate;   /* P(offer keeps them), in [0, 1] */
	double budget;        /* total offer spend allowed; < 0 = unlimited */
	double control_share; /* share of the targeted kept as a control, in [0, 0.9] */
	uint64_t seed;        /* the control draw's seed */
	size_t block;         /* stratum size for the control draw; 0 = 10 */
} tn_offer_params;

enum { TN_ARM_NONE = 0, TN_ARM_OFFER = 1, TN_ARM_CONTROL = 2 };

typedef struct tn_offer_plan {
	size_t n;              /* customers given */
	size_t *order;         /* indices by expected profit, highest first (n) */
	double *profit;        /* expected profit of an offer, per customer (n) */
	unsigned char *arm;    /* TN_ARM_* per customer (n) */
	size_t *stratum;       /* control-draw block per customer (n); 0 when not targeted */
	size_t n_candidates;   /* customers with expected profit > 0 */
	size_t n_offer, n_control;
	double spend;          /* n_offer x offer_cost */
	double expected_gain;  /* sum of expected profit over the offer arm */
} tn_offer_plan;

/* Plan offers over N customers given as arrays.  Expected profit of an
 * offer to customer i is
 *     E[profit_i] = p_churn_i x accept_rate x value_i - offer_cost
 * (the per-customer form of the retention-campaign profit equation of
 * Neslin et al. 2006, "Defection detection", J. Marketing Research 43:204,
 * the incentive paid whether or not the customer stays, no contact cost).
 * Customers are ranked by it (ties: the higher value first, then a random
 * order drawn from the seed, never the index); only E > 0 are candidates.
 * Walking down the ranking in blocks of `block` customers (adjacent in
 * expected profit, so strata are comparable), a seeded shuffle puts
 * round(share x cumulative size) - controls-so-far of each block in the
 * control arm, the rest in the offer arm while the budget allows one more
 * offer.  Randomisation stops with the budget, so the control arm is drawn
 * from exactly the targeted strata.  Free with tn_offer_plan_free(). */
TN_API int tn_offers_plan(const double *p_churn, const double *value, size_t n, const tn_offer_params *p,
			  tn_offer_plan **out, tn_error *err);
TN_API void tn_offer_plan_free(tn_offer_plan *plan);

/* When to send an offer: LEAD_DAYS before the next of (signup + DANGER_DAY
 * days, PERIOD_END) still ahead of NOW; NOW itself when that moment has
 * passed; TN_NO_TIME when neither is known or ahead. */
TN_API tn_time tn_offer_send_time(tn_time now, tn_time signed_up_at, tn_time period_end, double danger_day,
				  double lead_days);

/* The typical churn age: median days from signup to cancellation over the
 * cancelled subscriptions with cancelled_at <= NOW.  *n = how many; with
 * none, *days = 30 and *n = 0. */
TN_API int tn_offers_typical_churn_age(tn_store *s, tn_time now, double *days, long *n, tn_error *err);

/* The danger window of age (survival.h, tn_danger_new: daily discrete hazard
 * of the first cancellation after signup, customers censored at NOW; the run
 * of days around the peak with at least half the peak's hazard): days
 * [*from_day, *to_day) and the share of leavers in it.  NaN when there is no
 * window (too few customers at risk). */
TN_API int tn_offers_danger_window(tn_store *s, tn_time now, double *from_day, double *to_day, double *share,
				   tn_error *err);

/* Store a plan (both arms, with expected profit and send time) as one new
 * offer_plans row; SC must be attached.  SEND_AT may be NULL. *plan_id gets
 * the new id. */
TN_API int tn_offers_save(tn_store *s, const tn_scores *sc, const tn_offer_plan *plan, const tn_time *send_at,
			  const char *params_json, tn_time now, int64_t *plan_id, tn_error *err);
/* The same, except that a plan identical to one already stored (same as-of,
 * source, parameters and assignments) is not stored again: *plan_id gets
 * that plan's id and *existing (if not NULL) 1. */
TN_API int tn_offers_save_once(tn_store *s, const tn_scores *sc, const tn_offer_plan *plan, const tn_time *send_at,
			       const char *params_json, tn_time now, int64_t *plan_id, int *existing, tn_error *err);

/* The approved plan in force (docs/actions.md, "The approved offer plan").
 * A plan approved on the dashboard (/act, offer_plan_approvals) is the
 * retention team's decision: the latest approval is in force until it is
 * withdrawn (tn_offer_plan_withdraw, `tenure offers withdraw`) or another
 * plan is approved.  While one is in force, the scheduler's offers job
 * queues the plan's offers on their send days instead of its own renewal
 * rule, and POST /v1/decisions offers only to the plan's offer arm, within
 * the plan's budget; its control arm gets no offer anywhere.  No plan in
 * force: both behave as without plans. */
typedef struct tn_plan_force {
	int64_t plan_id;      /* 0: no plan in force */
	tn_time approved_at;  /* when it was approved (wall clock) */
	tn_time created_at;   /* the plan's as-of (its send days are on or after it) */
	double offer_cost;    /* the plan's cost of one offer */
	double budget;        /* the plan's budget; < 0: none */
	long n_offer, n_control;
} tn_plan_force;
TN_API int tn_offer_plan_in_force(tn_store *s, tn_plan_force *out, tn_error *err);
/* The customers of plan PLAN_ID with their arm (TN_ARM_OFFER or
 * TN_ARM_CONTROL), by store key ascending; free both with free(). */
TN_API int tn_offer_plan_arms(tn_store *s, int64_t plan_id, int64_t **keys, unsigned char **arms, size_t *n,
			      tn_error *err);
/* Withdraw the plan in force (PLAN_ID 0, or its id to make sure which one):
 * the approval keeps its row with withdrawn_at = NOW and KEY_ID (0: the
 * command line), and the plan's offers still pending in the outbox are
 * suppressed (not sent).  One transaction.  TN_ERR_NOTFOUND when no plan
 * is in force or PLAN_ID is not the one in force. */
TN_API int tn_offer_plan_withdraw(tn_store *s, int64_t plan_id, int64_t key_id, tn_time now, int64_t *withdrawn,
				  long *suppressed, tn_error *err);

/* Measure a stored plan: churned = no live subscription (trialing, active,
 * past_due) now.  Uplift = control churn rate - offer churn rate, Newcombe
 * interval.  PLAN_ID 0 = the latest plan. */
typedef struct tn_offer_effect {
	int64_t plan_id;
	tn_time created_at;
	long n_offer, n_control, churned_offer, churned_control;
	tn_prop_diff uplift; /* p1 = control churn, p2 = offer churn */
} tn_offer_effect;
TN_API int tn_offers_measure(tn_store *s, int64_t plan_id, tn_offer_effect *out, tn_error *err);

/* The stored plans: plan, as_of, source (scores or estimate), offered,
 * control, params (JSON). */
TN_API int tn_offers_plans(tn_store *s, tn_rowset **out, tn_error *err);

/* Subscriptions whose period (or trial) ends within DAYS after NOW. */
typedef struct tn_ending_row {
	char *customer, *plan, *status;
	tn_time ends_at;
	int renews;   /* 0 when already cancelled (ends for good) */
	double price; /* per billing period */
} tn_ending_row;
TN_API int tn_offers_ending(tn_store *s, tn_time now, double days, tn_ending_row **rows, size_t *n, tn_error *err);
TN_API void tn_ending_rows_free(tn_ending_row *rows, size_t n);

/* Live customers whose age will reach DANGER_DAY within WINDOW days after
 * NOW (age in [danger_day - window, danger_day]). */
typedef struct tn_nearing_row {
	char *customer, *plan;
	double age_days, days_to_danger;
} tn_nearing_row;
TN_API int tn_offers_nearing(tn_store *s, tn_time now, double danger_day, double window, tn_nearing_row **rows,
			     size_t *n, tn_error *err);
TN_API void tn_nearing_rows_free(tn_nearing_row *rows, size_t n);

/* High-value customers at risk, for a personal call: indices of customers
 * with p_churn >= MIN_P and value >= MIN_VALUE, by value at risk
 * (p_churn x value) highest first, at most TOP.  *idx is malloc'ed. */
TN_API int tn_offers_call_list(const tn_scores *sc, double min_p, double min_value, size_t top, size_t **idx,
			       size_t *n, tn_error *err);

/* ======================================================================
 * Win-back campaigns
 * ====================================================================== */

typedef struct tn_winback_contact {
	const char *customer; /* ext id */
	const char *campaign;
	const char *channel;  /* email|call|sms; "none" for a control (not contacted) */
	tn_time at;
	int reached;          /* 1 yes, 0 no */
	int control;          /* 1: held out as the campaign's control group */
	const char *reason;   /* why they left, as told; NULL if none */
	const char *offer;    /* NULL if none */
	double cost;          /* cost of this contact, >= 0 */
} tn_winback_contact;

/* Record one contact (idempotent on customer, campaign, time, channel). */
TN_API int tn_winback_record(tn_store *s, const tn_winback_contact *c, int *added, tn_error *err);

/* Import a CSV of contacts with columns customer, campaign, channel,
 * reached (yes/no/1/0), at, and optional reason, offer, cost, control.
 * All or nothing; errors name FILE:LINE:COLUMN. */
TN_API int tn_winback_import_csv(tn_store *s, const char *path, long *rows, long *added, tn_error *err);

/* Per campaign.  A contacted customer is won back when one of their
 * subscriptions started after their first contact of the campaign and within
 * WINDOW days of it.  Revenue regained = succeeded minus refunded payments
 * from the resubscription's start to NOW (the new subscription's price for
 * one period when there are none).  Cost per customer won back = total cost /
 * won back.  Uplift = win rate of the contacted - win rate of the control
 * group (Newcombe interval). */
typedef struct tn_winback_stats {
	char *campaign;
	long contacted, reached, won;       /* distinct customers (not controls) */
	long controls, control_won;
	double revenue, cost, cost_per_win; /* NaN cost_per_win when none won */
	tn_prop_diff uplift;                /* p1 = contacted, p2 = control */
} tn_winback_stats;
TN_API int tn_winback_report(tn_store *s, const char *campaign, double window_days, tn_time now,
			     tn_winback_stats **out, size_t *n, tn_error *err);
TN_API void tn_winback_stats_free(tn_winback_stats *st, size_t n);

/* Lapsed customers (no live subscription; lapse = their latest cancellation
 * or expired period end) to contact AFTER_DAYS after lapsing, for contact
 * dates in [NOW, NOW + HORIZON days), skipping anyone contacted by a
 * win-back since lapsing; sorted by contact date.  A share CONTROL_SHARE of
 * them is marked as the control group to hold out: customer i is a control
 * when splitmix64(SEED ^ FNV-1a(customer id)) / 2^64 < share, so the draw is
 * seeded, independent of the day the schedule is run, and stable. */
typedef struct tn_winback_due {
	char *customer, *plan;
	tn_time lapsed_at, contact_on;
	double price;
	int control;   /* 1: hold out (record with --control), 0: contact */
} tn_winback_due;
TN_API int tn_winback_schedule(tn_store *s, tn_time now, double after_days, double horizon_days,
			       double control_share, uint64_t seed, tn_winback_due **rows, size_t *n,
			       tn_error *err);
TN_API void tn_winback_due_free(tn_winback_due *rows, size_t n);

/* Reasons given in win-back contacts (trimmed, case-folded), most repeated
 * first; CAMPAIGN NULL = all. */
typedef struct tn_reason_count {
	char *reason;
	long count;
} tn_reason_count;
TN_API int tn_winback_reasons(tn_store *s, const char *campaign, tn_reason_count **rows, size_t *n,
			      tn_error *err);
TN_API void tn_reason_counts_free(tn_reason_count *rows, size_t n);

/* ======================================================================
 * Loyalty points: an append-only ledger with FIFO lots
 * ====================================================================== */

enum { TN_POINTS_EARN = 1, TN_POINTS_GRANT, TN_POINTS_REDEEM };
enum { TN_POINTS_APPLIED = 0, TN_POINTS_DUPLICATE = 1, TN_POINTS_INSUFFICIENT = 2, TN_POINTS_NOTHING = 3 };

typedef struct tn_points_op {
	int kind;                /* TN_POINTS_EARN, _GRANT or _REDEEM */
	const char *customer;    /* ext id */
	tn_time at;
	long long points;        /* grant/redeem: > 0; earn: > 0, or 0 to use the event type's rule */
	const char *event_type;  /* earn by rule: the event type */
	double amount;           /* earn by rule: the purchase amount (NaN if none) */
	const char *key;         /* idempotency key, unique per entry; required */
	const char *note;        /* or NULL */
} tn_points_op;

/* Apply N operations in one BEGIN IMMEDIATE transaction (waits for another
 * writer up to the store's busy timeout) and commit once.  Each op's status
 * (TN_POINTS_APPLIED / _DUPLICATE: the key was already applied with the same
 * customer, kind and points / _INSUFFICIENT: a redeem above the balance,
 * nothing written / _NOTHING: the rule gives 0 points) goes to STATUS[i]
 * (may be NULL).  Before a redeem the
 * customer's lots expired by its time are expired.  A refused redeem's key
 * is remembered: retrying it gives the same refusal (use a new key to try
 * again).  Redeems consume the
 * oldest lots first.  A key reused for a different entry, an unknown
 * customer or an earn with no points and no rule fails the whole batch. */
TN_API int tn_points_apply(tn_store *s, const tn_points_op *ops, size_t n, int *status, tn_error *err);
/* The same inside the caller's open transaction (or savepoint): no BEGIN,
 * no COMMIT; the caller rolls back on failure (the server's writer, which
 * credits survey rewards in its group commit). */
TN_API int tn_points_apply_in(tn_store *s, const tn_points_op *ops, size_t n, int *status, tn_error *err);

/* Earn rule for an event type: points = per_action + floor(per_amount x amount). */
TN_API int tn_points_set_rule(tn_store *s, const char *event_type, long long per_action, double per_amount,
			      tn_error *err);
/* Points expire DAYS after they are earned (0 = never; applies to new entries). */
TN_API int tn_points_set_expiry(tn_store *s, double days, tn_error *err);
/* The expiry in days (0 = never); NAN when the store cannot be read. */
TN_API double tn_points_expiry_days(tn_store *s);

/* Expire every lot with expires_at <= NOW (one 'expire' entry per lot, key
 * "expire:LOT").  Counts in *entries and *points (may be NULL). */
TN_API int tn_points_expire(tn_store *s, tn_time now, long *entries, long long *points, tn_error *err);

/* Apply the earn rules to stored events after SINCE (idempotent: the key
 * is derived from the event). *applied = new entries. */
TN_API int tn_points_earn_from_events(tn_store *s, tn_time since, long *applied, tn_error *err);

/* Invariants: for every customer the stored balance equals the sum of the
 * ledger and the sum of open lots, no balance is negative, and replaying the
 * ledger (earn/grant open lots, expire empties its lot, redeem takes oldest
 * first) gives the stored lots exactly (mismatched_fifo counts lots or
 * entries that do not agree). */
typedef struct tn_points_check {
	long long entries, customers, outstanding;
	long mismatched_balance, mismatched_lots, negative, mismatched_fifo;
} tn_points_check;
TN_API int tn_points_check_run(tn_store *s, tn_points_check *out, tn_error *err);

/* Tiers: a customer is in the highest-level tier whose threshold they meet
 * (basis "points": lifetime points earned and granted; "spend": succeeded
 * minus refunded payments). */
TN_API int tn_points_set_tier(tn_store *s, const char *name, int level, const char *basis, double threshold,
			      const char *benefits, tn_error *err);
/* The tier name of a customer (malloc'ed; NULL when none). */
TN_API int tn_points_tier_of(tn_store *s, const char *customer, char **tier, tn_error *err);

/* Listings.  Balances: customer, balance, earned, spend, tier (CUSTOMER NULL
 * = everyone with a balance row).  History: a customer's ledger in order.
 * Tiers: each tier with its members.  Rules: the earn rules. */
TN_API int tn_points_balances(tn_store *s, const char *customer, tn_rowset **out, tn_error *err);
TN_API int tn_points_history(tn_store *s, const char *customer, tn_rowset **out, tn_error *err);
TN_API int tn_points_tiers(tn_store *s, tn_rowset **out, tn_error *err);
TN_API int tn_points_rules(tn_store *s, tn_rowset **out, tn_error *err);

/* Points at risk as of NOW: points expiring within DAYS, and the unused
 * balance of customers whose P(churn) >= MIN_P in SC (SC may be NULL;
 * attached).  Columns customer, balance, expiring, first_expiry, p_churn,
 * at_risk (points), why.  Most points at risk first. */
TN_API int tn_points_at_risk(tn_store *s, tn_time now, double days, const tn_scores *sc, double min_p,
			     tn_rowset **out, tn_error *err);

/* ======================================================================
 * Onboarding journey: four milestones mapped to event types
 * ====================================================================== */

enum { TN_MS_FIRST_IMPRESSION, TN_MS_FIRST_VALUE, TN_MS_INTENDED_VALUE, TN_MS_EXTENDED_VALUE, TN_MS_COUNT };

/* "first_impression" ... and back; -1 when unknown. */
TN_API const char *tn_milestone_name(int m);
TN_API int tn_milestone_parse(const char *name);

/* Map milestone M to an event type (stored).  Unmapped milestones use the
 * defaults session, feature_use, onboarding_complete, invite_sent. */
TN_API int tn_journey_map(tn_store *s, int m, const char *event_type, tn_error *err);
/* The event type of each milestone; *mapped[m] = 1 when set by the user.
 * Strings are malloc'ed, free with tn_journey_types_free. */
TN_API int tn_journey_types(tn_store *s, char *types[TN_MS_COUNT], int mapped[TN_MS_COUNT], tn_error *err);
TN_API void tn_journey_types_free(char *types[TN_MS_COUNT]);

typedef struct tn_journey {
	size_t n;
	char **customer;
	tn_time *signed_up_at;
	tn_time *reached;   /* n x TN_MS_COUNT: first event at/after signup, TN_NO_TIME if never (by now) */
	int *furthest;      /* highest milestone reached, -1 none */
	int *churned;       /* 1: has subscriptions started by now, none live at now */
	int *has_subs;      /* 1: a subscription started by now */
	tn_time now;
} tn_journey;

/* Load every customer with a signup time as of NOW. */
TN_API int tn_journey_load(tn_store *s, tn_time now, tn_journey **out, tn_error *err);
TN_API void tn_journey_free(tn_journey *j);

typedef struct tn_funnel_row {
	char cohort[16];     /* "YYYY-MM" or "all" */
	int milestone;
	long customers, reached;
	double conversion;   /* reached / customers */
	double median_days;  /* among those who reached it; NaN if none */
} tn_funnel_row;
/* Rows per (cohort, milestone); BY_MONTH 0 puts everyone in "all". */
TN_API int tn_journey_funnel(const tn_journey *j, int by_month, tn_funnel_row **rows, size_t *n, tn_error *err);

typedef struct tn_journey_churn_row {
	int furthest;        /* -1 = none reached */
	long customers, churned;
	double churn_rate;
} tn_journey_churn_row;
/* Churn by furthest milestone, over customers who have subscriptions; 5 rows (-1..3). */
TN_API void tn_journey_churn(const tn_journey *j, tn_journey_churn_row rows[TN_MS_COUNT + 1]);

/* Customers not churned, signed up at least DAYS before now, without first
 * value by now: indices into j (malloc'ed), oldest signup first. */
TN_API int tn_journey_stuck(const tn_journey *j, double days, size_t **idx, size_t *n, tn_error *err);

#endif
