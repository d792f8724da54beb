/*
 * predict_words.c -- the reasons behind a risk score, written as a person
 * would: one phrase template per feature of `tenure predict features`
 * (with its unit: days, money with the currency, counts), chosen by the
 * direction of the customer's value against the training mean.  Columns
 * of other tables (flat files) read "NAME is VALUE, below the average M".
 * See docs/predict.md, "Reasons".
 */
#include "tenure/predict.h"
#include "store/db.h"
#include "store/store_sqlite.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number as a person writes it: no exponent, at most two decimals,
 * trailing zeros dropped. */
static const char *num(double v, char *b, size_t n)
{
	double a = fabs(v);
	snprintf(b, n, "%.*f", a >= 100 || a == floor(a) ? 0 : a >= 10 ? 1 : 2, v);
	if (strchr(b, '.')) {
		char *e = b + strlen(b) - 1;
		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
	if (strcmp(b, "-0") == 0)
		snprintf(b, n, "0");
	return b;
}

/* A duration: "1 day", "12 days", "5 months", "2.1 years". */
static const char *days(double d, char *b, size_t n)
{
	double r = floor(d + 0.5);
	if (r < 1)
		snprintf(b, n, "less than a day");
	else if (r < 90)
		snprintf(b, n, "%.0f day%s", r, r == 1 ? "" : "s");
	else if (r < 730)
		snprintf(b, n, "%.0f months", floor(d / 30.4375 + 0.5));
	else
		snprintf(b, n, "%.1f years", d / 365.25);
	return b;
}

/* Money: "79.99 USD" (no currency known: "79.99"). */
static const char *money(double v, const char *cur, char *b, size_t n)
{
	if (cur && *cur)
		snprintf(b, n, "%.2f %s", v, cur);
	else
		snprintf(b, n, "%.2f", v);
	return b;
}

/* Column NAME of row ROW as a number (NAN when absent or blank). */
static double col(const tn_frame *f, const char *name, size_t row)
{
	int j = tn_frame_find(f, name);
	return j >= 0 && f->cols[j].is_numeric ? f->cols[j].num[row] : NAN;
}

static const char *plural(double v)
{
	return v == 1 ? "" : "s";
}

/* The usual gap between app events: the last 90 days (or the tenure, if
 * shorter) over the events in them; NAN when fewer than 2 events. */
static double usual_gap(const tn_frame *f, size_t row)
{
	double e = col(f, "events_90d", row), t = col(f, "tenure_days", row);
	double w = isnan(t) || t > 90 ? 90 : t;
	return e >= 2 && w > 0 ? w / e : NAN;
}

static void text_of(tn_reason_msg *r, int k, const char *v)
{
	snprintf(r->text[k], sizeof r->text[k], "%s", v ? v : "");
}

/* The message of a store feature; 0 when NAME is not one of them. */
static int store_msg(const char *name, double v, double mean, const tn_frame *f, size_t row, tn_reason_msg *r)
{
	int low = v < mean;
	r->v[0] = v;
	r->v[1] = mean;
	r->flag = low;
	if (strcmp(name, "tenure_days") == 0) {
		r->id = TN_RW_TENURE;
	} else if (strcmp(name, "days_to_period_end") == 0) {
		r->id = TN_RW_ENDS;
		r->flag = col(f, "in_trial", row) == 1;
		r->v[0] = ceil(v - 1e-9); /* as of the end of a day: 1 second left = ends tomorrow */
	} else if (strcmp(name, "recency_days") == 0) {
		r->id = low ? TN_RW_USED_AGO : TN_RW_IDLE;
		r->v[1] = low ? NAN : usual_gap(f, row);
	} else if (strcmp(name, "events_7d") == 0 || strcmp(name, "events_30d") == 0 ||
		   strcmp(name, "events_90d") == 0) {
		r->id = v == 0 ? TN_RW_NO_USE : TN_RW_USED;
		r->v[1] = atof(name + 7);
		r->v[2] = mean;
	} else if (strcmp(name, "trend_30_vs_60") == 0) {
		r->id = TN_RW_TREND;
	} else if (strcmp(name, "event_types_90d") == 0) {
		r->id = TN_RW_KINDS;
	} else if (strcmp(name, "milestones_reached") == 0) {
		r->id = TN_RW_MILESTONES;
	} else if (strcmp(name, "subscriptions") == 0) {
		r->id = TN_RW_SUBS;
	} else if (strcmp(name, "price") == 0) {
		int bp = tn_frame_find(f, "billing_period");
		r->id = TN_RW_PRICE;
		text_of(r, 0, bp >= 0 && !f->cols[bp].is_numeric ? f->cols[bp].text[row] : "");
	} else if (strcmp(name, "mrr") == 0) {
		r->id = TN_RW_MRR;
	} else if (strcmp(name, "in_trial") == 0) {
		r->id = TN_RW_TRIAL;
		r->v[0] = v == 1;
	} else if (strcmp(name, "failed_payments_90d") == 0) {
		r->id = TN_RW_FAILED;
	} else if (strcmp(name, "payment_failing") == 0) {
		r->id = TN_RW_FAILING;
		r->v[0] = v == 1;
	} else if (strcmp(name, "support_tickets_90d") == 0) {
		r->id = TN_RW_TICKETS;
	} else if (strcmp(name, "nps") == 0) {
		r->id = TN_RW_NPS;
	} else if (strcmp(name, "csat") == 0) {
		r->id = TN_RW_CSAT;
	} else if (strcmp(name, "ces") == 0) {
		r->id = TN_RW_CES;
	} else {
		return 0;
	}
	return 1;
}

/* A blank value of a store feature; 0 when NAME is not one of them. */
static const char *blank_words(const char *name)
{
	static const struct {
		const char *name, *words;
	} B[] = {
		{"recency_days", "has never used the app"},
		{"nps", "never answered the NPS survey"},
		{"csat", "never answered the satisfaction survey"},
		{"ces", "never answered the effort survey"},
		{"milestones_reached", "no onboarding milestones defined"},
	};
	for (size_t k = 0; k < sizeof B / sizeof *B; k++)
		if (strcmp(name, B[k].name) == 0)
			return B[k].words;
	return NULL;
}

static int is_store_level(const char *name)
{
	static const char *const L[] = {"plan", "billing_period", "channel", "country", "device", "age_band"};
	for (size_t k = 0; k < sizeof L / sizeof *L; k++)
		if (strcmp(name, L[k]) == 0)
			return 1;
	return 0;
}

void tn_pred_reason_msg(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s, const char *currency,
			tn_reason_msg *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->currency, sizeof r->currency, "%s", currency ? currency : "");
	const tn_pred_source *src = &m->enc->src[s];
	text_of(r, 0, src->name);
	int j = tn_frame_find(f, src->name);
	if (j < 0) {
		r->id = TN_RW_NAME;
		return;
	}
	const tn_column *c = &f->cols[j];
	if (src->is_numeric) {
		double v = c->num[row];
		if (isnan(v)) {
			r->id = blank_words(src->name) ? TN_RW_NEVER : TN_RW_BLANK;
		} else if (!store_msg(src->name, v, src->mean, f, row, r)) {
			r->id = TN_RW_NUMBER;
			r->v[0] = v;
			r->v[1] = src->mean;
			r->flag = v < src->mean;
		}
		if (r->id != TN_RW_PRICE)
			text_of(r, 0, src->name);
	} else if (c->is_numeric) { /* text in training, numbers in this file */
		r->id = TN_RW_IS;
		r->v[0] = c->num[row];
	} else {
		const char *v = c->text[row][0] ? c->text[row] : TN_PRED_BLANK_LEVEL;
		r->id = c->text[row][0] && is_store_level(src->name) ? TN_RW_LEVEL : TN_RW_IS;
		text_of(r, 1, v);
	}
}

void tn_pred_reason_format(const tn_reason_msg *r, char *buf, size_t n)
{
	if (n == 0)
		return;
	char a[48], b[48];
	const char *cur = r->currency;
	int low = r->flag;
	double v = r->v[0], mean = r->v[1];
	const char *only = low ? "only " : "";
	switch (r->id) {
	case TN_RW_TENURE:
		snprintf(buf, n, "a customer for %s%s", only, days(v, a, sizeof a));
		break;
	case TN_RW_ENDS: {
		const char *what = r->flag ? "free trial" : "paid period";
		if (v <= 0)
			snprintf(buf, n, "%s ends today", what);
		else if (v == 1)
			snprintf(buf, n, "%s ends tomorrow", what);
		else
			snprintf(buf, n, "%s ends in %s", what, days(v, a, sizeof a));
		break;
	}
	case TN_RW_IDLE:
		if (!isnan(mean) && mean < 1.5)
			snprintf(buf, n, "%s without using the app, usually daily", days(v, a, sizeof a));
		else if (!isnan(mean))
			snprintf(buf, n, "%s without using the app, usually every %s", days(v, a, sizeof a),
				 days(mean, b, sizeof b));
		else
			snprintf(buf, n, "%s without using the app", days(v, a, sizeof a));
		break;
	case TN_RW_USED_AGO:
		snprintf(buf, n, "used the app %s ago", days(v, a, sizeof a));
		break;
	case TN_RW_NO_USE:
		snprintf(buf, n, "did not use the app in the last %.0f days (average %s times)", mean,
			 num(r->v[2], b, sizeof b));
		break;
	case TN_RW_USED:
		snprintf(buf, n, "used the app %s%s time%s in the last %.0f days (average %s)", only, num(v, a, sizeof a),
			 plural(v), mean, num(r->v[2], b, sizeof b));
		break;
	case TN_RW_TREND:
		if (v < 1)
			snprintf(buf, n, "app use down %.0f%% on the two months before", 100 * (1 - v));
		else if (v < 2)
			snprintf(buf, n, "app use up %.0f%% on the two months before", 100 * (v - 1));
		else
			snprintf(buf, n, "app use %s times the pace of the two months before", num(v, a, sizeof a));
		break;
	case TN_RW_KINDS:
		snprintf(buf, n, "used %s%s kind%s of app feature in the last 90 days (average %s)", only,
			 num(v, a, sizeof a), plural(v), num(mean, b, sizeof b));
		break;
	case TN_RW_MILESTONES:
		if (v == 0)
			snprintf(buf, n, "reached no onboarding milestone in the first 30 days");
		else
			snprintf(buf, n, "reached %s%s onboarding milestone%s in the first 30 days (average %s)", only,
				 num(v, a, sizeof a), plural(v), num(mean, b, sizeof b));
		break;
	case TN_RW_SUBS:
		if (v <= 1)
			snprintf(buf, n, "on a first subscription");
		else
			snprintf(buf, n, "left and came back: %s subscriptions so far", num(v, a, sizeof a));
		break;
	case TN_RW_PRICE:
		snprintf(buf, n, "pays %s a %s, %s the average %s", money(v, cur, a, sizeof a),
			 r->text[0][0] ? r->text[0] : "billing period", low ? "below" : "above",
			 money(mean, cur, b, sizeof b));
		break;
	case TN_RW_MRR:
		snprintf(buf, n, "pays %s a month, %s the average %s", money(v, cur, a, sizeof a), low ? "below" : "above",
			 money(mean, cur, b, sizeof b));
		break;
	case TN_RW_TRIAL:
		snprintf(buf, n, "%s", v == 1 ? "still in the free trial" : "past the free trial");
		break;
	case TN_RW_FAILED:
		if (v == 0)
			snprintf(buf, n, "no failed payment in the last 90 days");
		else
			snprintf(buf, n, "%s failed payment%s in the last 90 days", num(v, a, sizeof a), plural(v));
		break;
	case TN_RW_FAILING:
		snprintf(buf, n, "%s", v == 1 ? "the latest payment failed" : "the latest payment went through");
		break;
	case TN_RW_TICKETS:
		if (v == 0)
			snprintf(buf, n, "no support ticket in the last 90 days");
		else
			snprintf(buf, n, "%s support ticket%s in the last 90 days", num(v, a, sizeof a), plural(v));
		break;
	case TN_RW_NPS:
		snprintf(buf, n, "NPS answer %s of 10 (%s)", num(v, a, sizeof a),
			 v <= 6 ? "a detractor" : v <= 8 ? "a passive" : "a promoter");
		break;
	case TN_RW_CSAT:
		snprintf(buf, n, "rated satisfaction %s of 5", num(v, a, sizeof a));
		break;
	case TN_RW_CES:
		snprintf(buf, n, "rated the effort it took %s of 7 (7 = hardest)", num(v, a, sizeof a));
		break;
	case TN_RW_NEVER: {
		const char *w = blank_words(r->text[0]);
		snprintf(buf, n, "%s", w ? w : r->text[0]);
		break;
	}
	case TN_RW_LEVEL: {
		const char *name = r->text[0], *lv = r->text[1];
		if (strcmp(name, "plan") == 0)
			snprintf(buf, n, "on the %s plan", lv);
		else if (strcmp(name, "billing_period") == 0)
			snprintf(buf, n, "billed %s", strcmp(lv, "month") == 0     ? "monthly"
						      : strcmp(lv, "year") == 0    ? "yearly"
						      : strcmp(lv, "quarter") == 0 ? "quarterly"
						      : strcmp(lv, "week") == 0    ? "weekly"
										   : lv);
		else if (strcmp(name, "channel") == 0)
			snprintf(buf, n, "came through %s", lv);
		else if (strcmp(name, "country") == 0)
			snprintf(buf, n, "lives in %s", lv);
		else if (strcmp(name, "device") == 0)
			snprintf(buf, n, "uses the app on %s", lv);
		else
			snprintf(buf, n, "aged %s", lv);
		break;
	}
	case TN_RW_NUMBER:
		snprintf(buf, n, "%s is %s, %s the average %s", r->text[0], num(v, a, sizeof a), low ? "below" : "above",
			 num(mean, b, sizeof b));
		break;
	case TN_RW_IS:
		if (r->text[1][0])
			snprintf(buf, n, "%s is %s", r->text[0], r->text[1]);
		else
			snprintf(buf, n, "%s is %s", r->text[0], num(v, a, sizeof a));
		break;
	case TN_RW_BLANK:
		snprintf(buf, n, "%s is blank", r->text[0]);
		break;
	default:
		snprintf(buf, n, "%s", r->text[0]);
		break;
	}
}

void tn_pred_reason_words(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s, const char *currency,
			  char *buf, size_t n)
{
	tn_reason_msg r;
	tn_pred_reason_msg(m, f, row, s, currency, &r);
	tn_pred_reason_format(&r, buf, n);
}

void tn_pred_reason(const tn_pred_model *m, const tn_frame *f, size_t row, size_t s, char *buf, size_t n)
{
	tn_pred_reason_words(m, f, row, s, NULL, buf, n);
}

int tn_pred_store_currency(struct tn_store *s, char *buf, size_t n, tn_error *err)
{
	if (n)
		buf[0] = '\0';
	tn_stmt *st = tn_db_prepare(
		s, "SELECT currency FROM subscriptions GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the currency", err);
	if (rc == TN_DB_ROW && n) {
		const unsigned char *t = (const unsigned char *)tn_db_column_text(st, 0);
		snprintf(buf, n, "%s", t ? (const char *)t : "");
	}
	tn_db_finalize(st);
	if (rc != TN_DB_ROW && rc != TN_DB_DONE)
		return tn_store_db_error(s, "reading the currency", err);
	return TN_OK;
}

void tn_pred_top2(const double *contrib, size_t nsrc, size_t *a, size_t *b)
{
	*a = *b = nsrc;
	for (size_t k = 0; k < nsrc; k++) {
		if (!(contrib[k] > 0))
			continue;
		if (*a == nsrc || contrib[k] > contrib[*a]) {
			*b = *a;
			*a = k;
		} else if (*b == nsrc || contrib[k] > contrib[*b])
			*b = k;
	}
}
