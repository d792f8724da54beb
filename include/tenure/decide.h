/*
 * tenure/decide.h -- acting in the moment: an offer catalogue, in-app save
 * decisions with a stored holdout group, their outcomes and report, and
 * triggered surveys with a loyalty-points reward (docs/actions.md,
 * "In-app decisions" and "Triggered surveys").
 *
 * The server answers POST /v1/decisions from a tn_decider: everything a
 * decision needs (catalogue, per-customer P(churn) and value, holdout
 * assignments, budgets spent, frequency-cap history, what outcomes taught)
 * is loaded once into memory, so a decision is a hash look-up and a loop
 * over the catalogue -- no model is fitted and no query is run on the hot
 * path.  The decision is then written (tn_decision_save) by the server's
 * writer, inside its group commit.
 *
 * Expected profit of offer o for customer c at moment m:
 *     E = P(leave without offer) x uplift(o, m) x value(c) - cost(o)
 * with P(leave) = max(p_churn(c), floor(m)) -- a customer pressing cancel is
 * leaving whatever the model said a week ago: floor(cancel) = 0.9,
 * floor(auto_renew_off) = 0.7, 0 otherwise -- and uplift(o, m) the posterior
 * mean of a Beta-Binomial model of the offer's acceptance at that moment:
 *     Beta(prior x w + accepted, (1 - prior) x w + declined)
 * (prior: the catalogue's expected uplift, w: its prior weight in
 * pseudo-decisions, default 20).  The best offer with E > 0 that is within
 * its budget (sum of the cost of offers made and not declined) and its
 * frequency cap (at most cap_count offers of it per customer in cap_days)
 * is made; otherwise "none".
 *
 * Holdout: a customer is in the holdout group when
 *     u01(mix64(seed XOR fnv1a(customer id))) < share
 * (default share 0.10, seed 1; `tenure offers holdout`), decided at their
 * first decision and stored (decision_holdout), so a later change of share
 * or seed never moves a customer already assigned.  The holdout group gets
 * no offer at any moment.
 *
 * The approved offer plan (tn_offer_plan_in_force, include/tenure/actions.h):
 * while one is in force, only its offer arm is offered (the best catalogue
 * offer as above), and only while the cost of the offers made under it
 * since its approval (declined ones refunded) stays within its budget; its
 * control arm and the customers outside it get "none".
 */
#ifndef TENURE_DECIDE_H
#define TENURE_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include "tenure/actions.h"
#include "tenure/error.h"
#include "tenure/store.h"
#include "tenure/time.h"

enum { TN_MOMENT_CANCEL, TN_MOMENT_AUTO_RENEW_OFF, TN_MOMENT_SESSION, TN_MOMENT_RENEWAL_DUE, TN_MOMENT_COUNT };
/* "cancel" ... -> TN_MOMENT_*, or -1. */
TN_API int tn_moment_parse(const char *name);
TN_API const char *tn_moment_name(int moment);
/* "cancel,session" (or "all") -> a bit per moment; TN_ERR_USAGE naming the
 * unknown word. */
TN_API int tn_moments_parse(const char *list, unsigned *mask, tn_error *err);

/* ---- the offer catalogue ---------------------------------------------- */

#define TN_OFFER_NAME_MAX 64
#define TN_OFFER_TERMS_MAX 500

typedef struct tn_catalogue_offer {
	int64_t id;
	char *name;          /* unique, 1..64 bytes of [A-Za-z0-9_.-] */
	char *kind;          /* discount | pause | downgrade | free_period */
	char *terms;         /* shown to the customer ("50% off for 3 months"), <= 500 bytes */
	double cost;         /* what one accepted offer costs the business (currency units), >= 0 */
	double uplift_prior; /* expected uplift before any outcome, in [0, 1] */
	double prior_weight; /* pseudo-decisions behind the prior, > 0 (default 20) */
	double budget;       /* total spend allowed; NaN = unlimited */
	long cap_count;      /* at most this many offers of it per customer ... */
	double cap_days;     /* ... within this many days (default 1 in 90) */
	unsigned moments;    /* bit (1 << TN_MOMENT_*) per moment it applies to */
	double valid_days;   /* the offer expires this many days after the decision (default 7) */
	tn_time created_at;
} tn_catalogue_offer;

/* Add an offer (validated; a name in use is TN_ERR_USAGE). */
TN_API int tn_catalogue_add(tn_store *s, const tn_catalogue_offer *o, tn_time now, int64_t *id, tn_error *err);
/* Retire an offer by name (kept for the report); TN_ERR_NOTFOUND if none. */
TN_API int tn_catalogue_remove(tn_store *s, const char *name, tn_time now, tn_error *err);
/* The offers in use, by id. */
TN_API int tn_catalogue_list(tn_store *s, tn_catalogue_offer **out, size_t *n, tn_error *err);
TN_API void tn_catalogue_free(tn_catalogue_offer *o, size_t n);

/* Store per-customer scores (SC attached to the store) for the server to
 * load: replaces all stored scores, one transaction.  SOURCE says where they
 * came from ("scores", "risk+value", "estimate"). */
TN_API int tn_scores_store(tn_store *s, const tn_scores *sc, const char *source, tn_time now, tn_error *err);

/* Holdout settings (meta keys decide_holdout_share, decide_seed). */
typedef struct tn_decide_settings {
	double holdout_share; /* in [0, 0.5]; default 0.10 */
	uint64_t seed;        /* default 1 */
} tn_decide_settings;
TN_API int tn_decide_settings_get(tn_store *s, tn_decide_settings *o, tn_error *err);
TN_API int tn_decide_settings_set(tn_store *s, const tn_decide_settings *o, tn_error *err);
/* The holdout draw for CUSTOMER (1 = holdout), before anything is stored. */
TN_API int tn_holdout_draw(const char *customer, double share, uint64_t seed);

/* ---- decisions ---------------------------------------------------------- */

typedef struct tn_decider tn_decider;

typedef struct tn_decision {
	char id[24];            /* "dec_" + 16 hex digits */
	int64_t customer_key;
	int moment;
	tn_time at;
	int holdout;            /* 1: holdout group, no offer */
	int holdout_new;        /* 1: assigned now (tn_decision_save stores it) */
	int64_t offer_id;       /* 0: no offer */
	char offer[TN_OFFER_NAME_MAX + 1];
	char kind[16];          /* "none" when no offer */
	char terms[TN_OFFER_TERMS_MAX + 1];
	double cost, p_churn, value, uplift, profit;
	int score_fallback;     /* 1: no stored score for the customer: the population mean was used */
	tn_time expires_at;     /* TN_NO_TIME when no offer */
	double holdout_share;
	uint64_t seed;
	int64_t plan_id;        /* the approved offer plan in force, 0: none */
	int plan_arm;           /* the customer's arm in it: TN_ARM_OFFER, TN_ARM_CONTROL, TN_ARM_NONE (outside) */
} tn_decision;

/* Load everything a decision needs from S (see above).  Scores come from
 * customer_scores; when that table is empty, from the built-in estimate
 * (tn_scores_estimate as of the data's latest instant), computed once here.
 * A customer without a score gets the mean P(churn) and value of those with
 * one (tn_decision.score_fallback). */
TN_API int tn_decider_load(tn_store *s, tn_decider **out, tn_error *err);
TN_API void tn_decider_free(tn_decider *d);
/* Reread the catalogue (definitions; counters of known offers stay). */
TN_API int tn_decider_reload_catalogue(tn_decider *d, tn_store *s, tn_error *err);
/* Apply the stored scores again when they changed (count or latest
 * scored_at differ from what was applied): `tenure offers scores` or a
 * nightly re-scoring reaches a running server without a restart. */
TN_API int tn_decider_reload_scores(tn_decider *d, tn_store *s, tn_error *err);
/* Read the approved offer plan in force again when it changed (another
 * approval, a withdrawal): a running server follows the dashboard. */
TN_API int tn_decider_reload_plan(tn_decider *d, tn_store *s, tn_error *err);
/* Make a customer the decider has not seen (added to the store after the
 * load) known, with KEY, the population-mean scores and no holdout yet. */
TN_API int tn_decider_add_customer(tn_decider *d, const char *customer, int64_t key, tn_error *err);
/* Decide for CUSTOMER at MOMENT, NOW (thread-safe).  TN_ERR_NOTFOUND when
 * the customer is unknown to the decider (add it, or answer 404).  Counts the
 * offer against its budget and cap at once. */
TN_API int tn_decide(tn_decider *d, const char *customer, int moment, tn_time now, tn_decision *out,
		     tn_error *err);
/* Undo tn_decide's counting when the decision could not be stored. */
TN_API void tn_decide_undo(tn_decider *d, const char *customer, const tn_decision *dec);
/* Write a decision (and a new holdout assignment) inside the caller's
 * transaction. */
TN_API int tn_decision_save(tn_store *s, const tn_decision *dec, tn_error *err);

/* Outcomes: "shown", "accepted", "declined", "survey_answered". */
typedef struct tn_outcome_result {
	int added;       /* 0: this outcome was already recorded (idempotent) */
	int conflict;    /* 1: accepted after declined or the reverse: refused */
	int64_t offer_id;
	int moment;
	double cost;
	char customer[128];
} tn_outcome_result;
/* Record an outcome of decision ID inside the caller's transaction;
 * TN_ERR_NOTFOUND for an unknown decision, TN_ERR_INPUT for an unknown
 * outcome or an offer outcome of a decision without an offer. */
TN_API int tn_decision_outcome(tn_store *s, const char *id, const char *outcome, tn_time at, tn_outcome_result *res,
			       tn_error *err);
/* Tell the decider (budget refund on declined, learning counts). */
TN_API void tn_decider_note_outcome(tn_decider *d, const char *outcome, const tn_outcome_result *res);
/* The decider's current acceptance posterior for an offer at a moment:
 * mean and central 95% interval (for tests and the report). */
TN_API int tn_decider_uplift(tn_decider *d, int64_t offer_id, int moment, double *mean, double *spent,
			     tn_error *err);

/* The Beta posterior of a rate: mean and central interval at LEVEL. */
TN_API void tn_beta_posterior(double a, double b, double level, double *mean, double *lo, double *hi);

/* ---- the report ------------------------------------------------------------ */

/* One row per offer x moment (offer "all" for the moment's total), treated
 * decisions (offer made) against the moment's holdout decisions.  A
 * decision's customer is kept when no subscription of theirs was cancelled
 * at or after the decision and they hold a live one (trialing, active,
 * past_due) now.  save = kept share treated - kept share holdout with the
 * Newcombe hybrid score interval (tn_prop_diff_newcombe, 95%);
 * customers kept = save x treated; revenue kept = customers kept x the
 * treated customers' mean value; cost = sum of the cost of accepted offers;
 * cost per customer kept = cost / customers kept (NaN unless > 0). */
typedef struct tn_decision_report_row {
	char offer[TN_OFFER_NAME_MAX + 1];
	char moment[16];
	long treated, treated_kept, accepted, declined, holdout, holdout_kept;
	tn_prop_diff save;    /* p1 = treated kept share, p2 = holdout kept share */
	double customers_kept, revenue_kept, cost, cost_per_kept;
	/* an offer's row: its acceptance posterior (prior from the catalogue),
	 * mean and central 95%; the "all" row: the share accepted of the
	 * outcomes recorded with the 95% Wilson score interval (NaN when none) */
	double accept_mean, accept_lo, accept_hi;
} tn_decision_report_row;
TN_API int tn_decisions_report(tn_store *s, tn_decision_report_row **rows, size_t *n, tn_error *err);
/* Decisions stored (0 when none): lets `tenure offers report` choose. */
TN_API int tn_decisions_count(tn_store *s, long *n, tn_error *err);

/* ---- surveys ---------------------------------------------------------------- */

/* Triggers: */
enum {
	TN_TRIG_MILESTONE,      /* after a journey milestone (arg: first_value ...) is reached */
	TN_TRIG_BEFORE_DANGER,  /* DAYS days before the danger window of age opens */
	TN_TRIG_AUTO_RENEW_OFF, /* at an auto_renew_off decision, or auto-renew turned off */
	TN_TRIG_CANCEL,         /* at a cancel decision, or a cancelled subscription */
	TN_TRIG_SUPPORT_TICKET, /* within DAYS (default 7) after an event of type arg (default support_ticket) */
	TN_TRIG_EVERY,          /* every DAYS days */
	TN_TRIG_COUNT
};
TN_API const char *tn_trigger_name(int t);
TN_API int tn_trigger_parse(const char *name);

typedef struct tn_survey_def {
	int64_t id;
	char *name;          /* unique, [A-Za-z0-9_.-], <= 64 */
	char *kind;          /* nps | csat | ces | exit | custom */
	char *questions;     /* JSON array of questions with text in en, ar, fa */
	int trigger;         /* TN_TRIG_* */
	char *trigger_arg;   /* milestone name or event type, or NULL */
	double trigger_days; /* NaN when the trigger takes none */
	double cap_days;     /* no survey to the customer within this many days of another (default 30) */
	long reward_points;  /* credited once on answering; 0 none */
} tn_survey_def;

/* The built-in question sets: "nps", "csat", "ces", "exit" (the six
 * feedback types plus free text), "price_vs_expected" (less / the same /
 * more), "order_on_time" (yes / no), "recommend_yes_no" (yes / no) -- text
 * in English, Arabic and Persian.  NULL for an unknown name. */
TN_API const char *tn_survey_template(const char *name);
/* Validate a question set (JSON array; each {"id", "type": scale|choice|text|
 * reasons, "text": {"en", "ar", "fa"}, ...}); TN_ERR_INPUT naming the item
 * and field. */
TN_API int tn_survey_questions_check(const char *json, tn_error *err);
TN_API int tn_survey_add(tn_store *s, const tn_survey_def *d, tn_time now, int64_t *id, tn_error *err);
TN_API int tn_surveys_list(tn_store *s, tn_survey_def **out, size_t *n, tn_error *err);
TN_API void tn_surveys_free(tn_survey_def *d, size_t n);

/* The survey due for customer KEY now: an open invitation (unanswered,
 * invited within its cap) is given again; otherwise the first survey (by
 * id) whose trigger holds, unless the customer was invited to any survey
 * within that survey's cap.  MOMENT (TN_MOMENT_* or -1) is the decision
 * moment, for the cancel and auto_renew_off triggers.  DANGER_FROM is the
 * danger window's first day of age (NaN: unknown, that trigger is off).
 * *found 0 when none; else *survey (freed by the caller with
 * tn_survey_clear) and *invitation (0: to be created with
 * tn_survey_invite). */
TN_API int tn_survey_due(tn_store *s, int64_t key, int moment, tn_time now, double danger_from, int *found,
			 tn_survey_def *survey, int64_t *invitation, tn_error *err);
/* Record an invitation (inside the caller's transaction). */
TN_API int tn_survey_invite(tn_store *s, int64_t survey_id, int64_t key, tn_time now, const char *decision_id,
			    int64_t *invitation, tn_error *err);
/* A survey answer arrived (a feedback row of CUSTOMER with KIND, at AT):
 * the customer's latest open invitation of a survey with that name or kind
 * is marked answered and its reward credited to the points ledger with the
 * idempotency key "survey-invitation:ID" -- once, however often the answer
 * is sent.  Inside the caller's transaction.  *credited gets the points. */
TN_API int tn_survey_answered(tn_store *s, const char *customer, const char *kind, tn_time at, long *credited,
			      tn_error *err);

/* The survey as the API shows it: {"id", "name", "kind", "invitation",
 * "reward_points", "rtl": ["ar", "fa"], "questions": [...]}. */
struct cJSON;
TN_API struct cJSON *tn_survey_to_json(const tn_survey_def *d, int64_t invitation);
/* Free the fields of one definition (not the struct). */
TN_API void tn_survey_clear(tn_survey_def *d);

#endif
