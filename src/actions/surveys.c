/*
 * surveys.c -- surveys with text in English, Arabic and Persian, the
 * triggers that make one due for a customer, the frequency cap, and the
 * loyalty-points reward credited once on answering (decide.h).
 */
#include "tenure/decide.h"
#include "base/alloc.h"
#include "store/db.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TRIGGERS[TN_TRIG_COUNT] = {"milestone",      "before_danger",  "auto_renew_off",
						     "cancel",         "support_ticket", "every"};

const char *tn_trigger_name(int t) { return t >= 0 && t < TN_TRIG_COUNT ? TRIGGERS[t] : "?"; }

int tn_trigger_parse(const char *name)
{
	for (int i = 0; name && i < TN_TRIG_COUNT; i++)
		if (strcmp(name, TRIGGERS[i]) == 0)
			return i;
	return -1;
}

/* ---- built-in question sets ------------------------------------------------------ */

#define T3(en, ar, fa) "{\"en\":\"" en "\",\"ar\":\"" ar "\",\"fa\":\"" fa "\"}"
#define CHOICE(id, en, ar, fa) "{\"id\":\"" id "\",\"text\":" T3(en, ar, fa) "}"
#define YESNO "[" CHOICE("yes", "Yes", "نعم", "بله") "," CHOICE("no", "No", "لا", "خیر") "]"
#define COMMENT                                                                                                   \
	"{\"id\":\"comment\",\"type\":\"text\",\"optional\":true,\"text\":" T3(                                   \
		"Anything else you want to tell us?", "هل هناك أي شيء آخر تود إخبارنا به؟",                        \
		"چیز دیگری هست که بخواهید به ما بگویید؟") "}"

static const struct {
	const char *name, *json;
} TEMPLATES[] = {
	{"nps", "[{\"id\":\"score\",\"type\":\"scale\",\"min\":0,\"max\":10,\"text\":" T3(
			"How likely are you to recommend us to a friend or colleague?",
			"ما مدى احتمال أن توصي بنا لصديق أو زميل؟",
			"چقدر احتمال دارد ما را به یک دوست یا همکار پیشنهاد کنید؟") "}," COMMENT "]"},
	{"csat", "[{\"id\":\"score\",\"type\":\"scale\",\"min\":1,\"max\":5,\"text\":" T3(
			 "How satisfied are you with our service?", "ما مدى رضاك عن خدمتنا؟",
			 "چقدر از خدمات ما راضی هستید؟") "}," COMMENT "]"},
	{"ces", "[{\"id\":\"score\",\"type\":\"scale\",\"min\":1,\"max\":7,\"text\":" T3(
			"How easy was it to get what you needed?", "ما مدى سهولة الحصول على ما تحتاجه؟",
			"به دست آوردن آنچه نیاز داشتید چقدر آسان بود؟") "}," COMMENT "]"},
	{"exit", "[{\"id\":\"reason\",\"type\":\"reasons\",\"text\":" T3(
			 "What is the main reason you are leaving?", "ما السبب الرئيسي لمغادرتك؟",
			 "دلیل اصلی رفتن شما چیست؟") ",\"choices\":["
		 CHOICE("functionality", "Something does not work", "شيء لا يعمل", "چیزی کار نمی‌کند") ","
		 CHOICE("feature_request", "A feature I need is missing", "ميزة أحتاجها غير موجودة",
			"قابلیتی که نیاز دارم وجود ندارد") ","
		 CHOICE("usability", "It is hard to use", "صعب الاستخدام", "استفاده از آن سخت است") ","
		 CHOICE("reliability", "It is slow or unreliable", "بطيء أو غير موثوق", "کند یا غیرقابل اعتماد است") ","
		 CHOICE("customer_service", "Customer service let me down", "خدمة العملاء خذلتني",
			"خدمات مشتریان ناامیدم کرد") ","
		 CHOICE("pricing_billing", "The price or the billing", "السعر أو الفوترة", "قیمت یا صورتحساب")
		 "]}," COMMENT "]"},
	{"price_vs_expected", "[{\"id\":\"price\",\"type\":\"choice\",\"text\":" T3(
				      "The price you paid compared with what you expected",
				      "السعر الذي دفعته مقارنة بما توقعته", "قیمتی که پرداختید در مقایسه با انتظارتان")
			      ",\"choices\":[" CHOICE("less", "Less", "أقل", "کمتر") ","
			      CHOICE("same", "The same", "نفس الشيء", "همان") "," CHOICE("more", "More", "أكثر", "بیشتر")
			      "]}]"},
	{"order_on_time", "[{\"id\":\"on_time\",\"type\":\"choice\",\"text\":" T3(
				  "Was your order on time?", "هل وصل طلبك في الوقت المحدد؟", "آیا سفارش شما به موقع رسید؟")
			  ",\"choices\":" YESNO "}]"},
	{"recommend_yes_no", "[{\"id\":\"recommend\",\"type\":\"choice\",\"text\":" T3(
				     "Would you recommend us to a friend?", "هل توصي بنا لصديق؟",
				     "آیا ما را به یک دوست توصیه می‌کنید؟") ",\"choices\":" YESNO "}]"},
};

const char *tn_survey_template(const char *name)
{
	for (size_t i = 0; name && i < sizeof TEMPLATES / sizeof TEMPLATES[0]; i++)
		if (strcmp(TEMPLATES[i].name, name) == 0)
			return TEMPLATES[i].json;
	return NULL;
}

#define QUESTIONS_MAX 50
#define QUESTIONS_BYTES 65536

static int text3_ok(const cJSON *t)
{
	static const char *const langs[] = {"en", "ar", "fa"};
	if (!cJSON_IsObject(t))
		return 0;
	for (int i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, langs[i]);
		if (!cJSON_IsString(v) || !*v->valuestring || strlen(v->valuestring) > 1000)
			return 0;
	}
	return 1;
}

int tn_survey_questions_check(const char *json, tn_error *err)
{
	if (!json || strlen(json) > QUESTIONS_BYTES)
		return tn_error_set(err, TN_ERR_INPUT, "questions: expected a JSON array of at most %d bytes",
				    QUESTIONS_BYTES);
	cJSON *a = cJSON_Parse(json);
	int rc = TN_OK;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1 || cJSON_GetArraySize(a) > QUESTIONS_MAX)
		rc = tn_error_set(err, TN_ERR_INPUT, "questions: expected a JSON array of 1 to %d questions",
				  QUESTIONS_MAX);
	int i = 0;
	for (cJSON *q = a ? a->child : NULL; !rc && q; q = q->next, i++) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(q, "id");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(q, "type");
		if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > 64)
			rc = tn_error_set(err, TN_ERR_INPUT, "questions[%d].id: expected a name of 1 to 64 bytes", i);
		else if (!cJSON_IsString(type) ||
			 (strcmp(type->valuestring, "scale") && strcmp(type->valuestring, "choice") &&
			  strcmp(type->valuestring, "text") && strcmp(type->valuestring, "reasons")))
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "questions[%d].type: expected scale, choice, text or reasons", i);
		else if (!text3_ok(cJSON_GetObjectItemCaseSensitive(q, "text")))
			rc = tn_error_set(err, TN_ERR_INPUT,
					  "questions[%d].text: expected {\"en\", \"ar\", \"fa\"} texts (1 to 1000 bytes)", i);
		else if (strcmp(type->valuestring, "choice") == 0 || strcmp(type->valuestring, "reasons") == 0) {
			const cJSON *ch = cJSON_GetObjectItemCaseSensitive(q, "choices");
			if (!cJSON_IsArray(ch) || cJSON_GetArraySize(ch) < 2 || cJSON_GetArraySize(ch) > 20)
				rc = tn_error_set(err, TN_ERR_INPUT, "questions[%d].choices: expected 2 to 20 choices", i);
			int j = 0;
			for (const cJSON *c = ch ? ch->child : NULL; !rc && c; c = c->next, j++)
				if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "id")) ||
				    !text3_ok(cJSON_GetObjectItemCaseSensitive(c, "text")))
					rc = tn_error_set(err, TN_ERR_INPUT,
							  "questions[%d].choices[%d]: expected {\"id\", \"text\": {\"en\", "
							  "\"ar\", \"fa\"}}",
							  i, j);
		} else if (strcmp(type->valuestring, "scale") == 0) {
			const cJSON *lo = cJSON_GetObjectItemCaseSensitive(q, "min");
			const cJSON *hi = cJSON_GetObjectItemCaseSensitive(q, "max");
			if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi) || !(lo->valuedouble < hi->valuedouble))
				rc = tn_error_set(err, TN_ERR_INPUT, "questions[%d]: a scale needs numbers min < max", i);
		}
	}
	cJSON_Delete(a);
	return rc;
}

/* ---- definitions ------------------------------------------------------------------ */

int tn_survey_add(tn_store *s, const tn_survey_def *d, tn_time now, int64_t *id, tn_error *err)
{
	static const char *const kinds[] = {"nps", "csat", "ces", "exit", "custom", NULL};
	size_t nl = d->name ? strlen(d->name) : 0;
	if (nl < 1 || nl > 64 || strspn(d->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != nl)
		return tn_error_set(err, TN_ERR_USAGE, "survey name: expected 1 to 64 letters, digits, '_', '-' or '.'");
	int k = 0;
	while (kinds[k] && (!d->kind || strcmp(kinds[k], d->kind) != 0))
		k++;
	if (!kinds[k])
		return tn_error_set(err, TN_ERR_USAGE, "--kind: expected nps, csat, ces, exit or custom, found '%s'",
				    d->kind ? d->kind : "");
	if (d->trigger < 0 || d->trigger >= TN_TRIG_COUNT)
		return tn_error_set(err, TN_ERR_USAGE, "--trigger: expected milestone, before_danger, auto_renew_off, "
				    "cancel, support_ticket or every");
	if ((d->trigger == TN_TRIG_EVERY || d->trigger == TN_TRIG_BEFORE_DANGER) &&
	    !(d->trigger_days > 0 && isfinite(d->trigger_days)))
		return tn_error_set(err, TN_ERR_USAGE, "--days: the %s trigger needs a number of days > 0",
				    tn_trigger_name(d->trigger));
	if (d->trigger == TN_TRIG_MILESTONE && tn_milestone_parse(d->trigger_arg ? d->trigger_arg : "") < 0)
		return tn_error_set(err, TN_ERR_USAGE, "--milestone: expected first_impression, first_value, "
				    "intended_value or extended_value");
	if (!(d->cap_days >= 0) || !isfinite(d->cap_days))
		return tn_error_set(err, TN_ERR_USAGE, "--cap-days: expected a number >= 0");
	if (d->reward_points < 0 || d->reward_points > 1000000000)
		return tn_error_set(err, TN_ERR_USAGE, "--reward: expected 0 to 1000000000 points");
	if (tn_survey_questions_check(d->questions, err))
		return err ? err->code : TN_ERR_INPUT;
	tn_stmt *q = tn_db_prepare(s, "SELECT id FROM surveys WHERE name = ?", err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(q, 1, d->name);
	int rc = tn_db_step(q, "reading surveys", err);
	tn_db_finalize(q);
	if (rc == TN_DB_ROW)
		return tn_error_set(err, TN_ERR_USAGE, "survey '%s' exists already", d->name);
	if (rc != TN_DB_DONE)
		return rc;
	tn_stmt *ins = tn_db_prepare(s,
				     "INSERT INTO surveys(name, kind, questions, trigger_on, trigger_arg, trigger_days, cap_days,"
				     " reward_points, created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
				     err);
	if (!ins)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(ins, 1, d->name);
	tn_db_bind_text(ins, 2, d->kind);
	tn_db_bind_text(ins, 3, d->questions);
	tn_db_bind_text(ins, 4, tn_trigger_name(d->trigger));
	tn_db_bind_text(ins, 5, d->trigger_arg);
	tn_db_bind_double(ins, 6, d->trigger_days);
	tn_db_bind_double(ins, 7, d->cap_days);
	tn_db_bind_int64(ins, 8, d->reward_points);
	tn_db_bind_time(ins, 9, now);
	rc = tn_db_step(ins, "adding a survey", err);
	if (rc == TN_DB_ROW) {
		if (id)
			*id = tn_db_column_int64(ins, 0);
		rc = tn_db_step(ins, "adding a survey", err);
	}
	tn_db_finalize(ins);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

void tn_survey_clear(tn_survey_def *d);

void tn_surveys_free(tn_survey_def *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		tn_survey_clear(&d[i]);
	free(d);
}

static const char SQL_SURVEYS[] = "SELECT id, name, kind, questions, trigger_on, trigger_arg, trigger_days, cap_days,"
				  " reward_points FROM surveys WHERE removed_at IS NULL ORDER BY id";

static int read_def(tn_stmt *q, tn_survey_def *d)
{
	memset(d, 0, sizeof *d);
	d->id = tn_db_column_int64(q, 0);
	d->name = tn_strdup(tn_db_column_text(q, 1));
	d->kind = tn_strdup(tn_db_column_text(q, 2));
	d->questions = tn_strdup(tn_db_column_text(q, 3));
	d->trigger = tn_trigger_parse(tn_db_column_text(q, 4));
	const char *a = tn_db_column_text(q, 5);
	d->trigger_arg = a ? tn_strdup(a) : NULL;
	d->trigger_days = tn_db_column_double(q, 6);
	d->cap_days = tn_db_column_double(q, 7);
	d->reward_points = (long)tn_db_column_int64(q, 8);
	return d->name && d->kind && d->questions && (!a || d->trigger_arg) ? 0 : -1;
}

int tn_surveys_list(tn_store *s, tn_survey_def **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *q = tn_db_prepare(s, SQL_SURVEYS, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 0;
	tn_survey_def *v = NULL;
	int rc;
	while ((rc = tn_db_step(q, "reading surveys", err)) == TN_DB_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			tn_survey_def *g = tn_realloc(v, nc * sizeof *g);
			if (!g) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			v = g;
			cap = nc;
		}
		if (read_def(q, &v[(*n)++])) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	tn_db_finalize(q);
	if (rc != TN_DB_DONE) {
		tn_surveys_free(v, *n);
		*n = 0;
		return rc;
	}
	*out = v;
	return TN_OK;
}

/* ---- what is due ------------------------------------------------------------------- */

/* One integer (or time) from a query with up to 3 bound values; *null when NULL or no row. */
static int one_value(tn_store *s, const char *sql, const char *what, int64_t a, const char *b, int64_t c,
		     int nbind, int64_t *out, int *null, tn_error *err)
{
	tn_stmt *q = tn_db_cached(s, sql, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(q, 1, a);
	if (nbind >= 2)
		tn_db_bind_text(q, 2, b);
	if (nbind >= 3)
		tn_db_bind_int64(q, 3, c);
	int rc = tn_db_step(q, what, err);
	*null = 1;
	*out = 0;
	if (rc == TN_DB_ROW && !tn_db_column_is_null(q, 0)) {
		*out = tn_db_column_int64(q, 0);
		*null = 0;
	}
	tn_db_reset(q);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

static const char SQL_OPEN[] =
	"SELECT i.id, i.invited_at, i.survey_id FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id"
	" WHERE i.customer_id = ? AND i.answered_at IS NULL AND s.removed_at IS NULL ORDER BY i.invited_at DESC LIMIT 1";
static const char SQL_LAST_ANY[] = "SELECT MAX(invited_at) FROM survey_invitations WHERE customer_id = ?";
static const char SQL_LAST_ONE[] =
	"SELECT MAX(invited_at) FROM survey_invitations WHERE customer_id = ?1 AND survey_id = ?3";
static const char SQL_ONE_SURVEY[] = "SELECT id, name, kind, questions, trigger_on, trigger_arg, trigger_days,"
				     " cap_days, reward_points FROM surveys WHERE id = ?";
static const char SQL_MILESTONE[] =
	"SELECT MIN(e.occurred_at) FROM events e JOIN event_types t ON t.id = e.type_id JOIN journey_milestones j ON"
	" j.event_type = t.name WHERE e.customer_id = ?1 AND j.milestone = ?2";
static const char SQL_EVENT_LAST[] = "SELECT MAX(e.occurred_at) FROM events e JOIN event_types t ON t.id = e.type_id"
				     " WHERE e.customer_id = ?1 AND t.name = ?2";
static const char SQL_CANCELLED[] = "SELECT MAX(cancelled_at) FROM subscriptions WHERE customer_id = ?";
static const char SQL_RENEW_OFF[] =
	"SELECT MAX(st.auto_renew_off_at) FROM subscription_state st JOIN subscriptions s ON s.id = st.subscription_id"
	" WHERE s.customer_id = ? AND st.auto_renew = 0";
static const char SQL_SIGNUP[] = "SELECT signed_up_at FROM customers WHERE id = ?";

#define RECENT_DAYS 7 /* a cancellation or auto-renew-off this recent still triggers; an invitation stays open */

static int trigger_holds(tn_store *s, const tn_survey_def *d, int64_t key, int moment, tn_time now,
			 double danger_from, int *holds, tn_error *err)
{
	*holds = 0;
	int64_t last_this, t;
	int none_this, null;
	int rc = one_value(s, SQL_LAST_ONE, "reading invitations", key, NULL, d->id, 3, &last_this, &none_this, err);
	if (rc)
		return rc;
	switch (d->trigger) {
	case TN_TRIG_CANCEL:
	case TN_TRIG_AUTO_RENEW_OFF: {
		int m = d->trigger == TN_TRIG_CANCEL ? TN_MOMENT_CANCEL : TN_MOMENT_AUTO_RENEW_OFF;
		if (moment == m) {
			*holds = 1;
			return TN_OK;
		}
		rc = one_value(s, d->trigger == TN_TRIG_CANCEL ? SQL_CANCELLED : SQL_RENEW_OFF, "reading subscriptions",
			       key, NULL, 0, 1, &t, &null, err);
		if (!rc && !null && t <= now && now - t <= RECENT_DAYS * TN_DAY && (none_this || last_this < t))
			*holds = 1;
		return rc;
	}
	case TN_TRIG_MILESTONE:
		rc = one_value(s, SQL_MILESTONE, "reading events", key, d->trigger_arg, 0, 2, &t, &null, err);
		*holds = !rc && !null && t <= now && none_this;
		return rc;
	case TN_TRIG_SUPPORT_TICKET: {
		double days = isnan(d->trigger_days) ? 7 : d->trigger_days;
		rc = one_value(s, SQL_EVENT_LAST, "reading events", key, d->trigger_arg ? d->trigger_arg : "support_ticket",
			       0, 2, &t, &null, err);
		*holds = !rc && !null && t <= now && (double)(now - t) <= days * TN_DAY && (none_this || last_this < t);
		return rc;
	}
	case TN_TRIG_EVERY:
		*holds = none_this || (double)(now - last_this) >= d->trigger_days * TN_DAY;
		return TN_OK;
	case TN_TRIG_BEFORE_DANGER: {
		if (isnan(danger_from) || !none_this)
			return TN_OK;
		rc = one_value(s, SQL_SIGNUP, "reading a customer", key, NULL, 0, 1, &t, &null, err);
		if (!rc && !null) {
			double age = (double)(now - t) / TN_DAY;
			*holds = age >= danger_from - d->trigger_days && age < danger_from;
		}
		return rc;
	}
	}
	return TN_OK;
}

int tn_survey_due(tn_store *s, int64_t key, int moment, tn_time now, double danger_from, int *found,
		  tn_survey_def *survey, int64_t *invitation, tn_error *err)
{
	*found = 0;
	*invitation = 0;
	memset(survey, 0, sizeof *survey);
	/* an open invitation is given again */
	tn_stmt *q = tn_db_cached(s, SQL_OPEN, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(q, 1, key);
	int rc = tn_db_step(q, "reading invitations", err);
	int64_t inv = 0, sid = 0;
	if (rc == TN_DB_ROW && now - tn_db_column_time(q, 1) <= RECENT_DAYS * TN_DAY) {
		inv = tn_db_column_int64(q, 0);
		sid = tn_db_column_int64(q, 2);
	}
	tn_db_reset(q);
	if (rc != TN_DB_ROW && rc != TN_DB_DONE)
		return rc;
	if (inv) {
		q = tn_db_cached(s, SQL_ONE_SURVEY, err);
		if (!q)
			return tn_error_code(err, TN_ERR_DB);
		tn_db_bind_int64(q, 1, sid);
		rc = tn_db_step(q, "reading surveys", err);
		if (rc == TN_DB_ROW) {
			if (read_def(q, survey)) {
				tn_db_reset(q);
				tn_survey_clear(survey);
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			}
			*found = 1;
			*invitation = inv;
		}
		tn_db_reset(q);
		return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
	}
	int64_t last_any;
	int none_any;
	if ((rc = one_value(s, SQL_LAST_ANY, "reading invitations", key, NULL, 0, 1, &last_any, &none_any, err)))
		return rc;
	q = tn_db_cached(s, SQL_SURVEYS, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	/* read the definitions first: the trigger checks use other cached statements */
	tn_survey_def *defs = NULL;
	size_t n = 0, cap = 0;
	while ((rc = tn_db_step(q, "reading surveys", err)) == TN_DB_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			tn_survey_def *g = tn_realloc(defs, nc * sizeof *g);
			if (!g) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			defs = g;
			cap = nc;
		}
		if (read_def(q, &defs[n++])) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	tn_db_reset(q);
	if (rc != TN_DB_DONE) {
		tn_surveys_free(defs, n);
		return rc;
	}
	rc = TN_OK;
	size_t pick = n;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!none_any && (double)(now - last_any) < defs[i].cap_days * TN_DAY)
			continue; /* the frequency cap */
		int holds;
		rc = trigger_holds(s, &defs[i], key, moment, now, danger_from, &holds, err);
		if (!rc && holds) {
			pick = i;
			break;
		}
	}
	if (!rc && pick < n) {
		*survey = defs[pick];
		memset(&defs[pick], 0, sizeof defs[pick]);
		*found = 1;
	}
	tn_surveys_free(defs, n);
	return rc;
}

static const char SQL_INVITE[] =
	"INSERT INTO survey_invitations(survey_id, customer_id, invited_at, decision_id) VALUES (?,?,?,?) RETURNING id";

int tn_survey_invite(tn_store *s, int64_t survey_id, int64_t key, tn_time now, const char *decision_id,
		     int64_t *invitation, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, SQL_INVITE, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, survey_id);
	tn_db_bind_int64(st, 2, key);
	tn_db_bind_time(st, 3, now);
	tn_db_bind_text(st, 4, decision_id);
	int rc = tn_db_step(st, "storing an invitation", err);
	if (rc == TN_DB_ROW) {
		*invitation = tn_db_column_int64(st, 0);
		rc = tn_db_step(st, "storing an invitation", err);
	}
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

static const char SQL_ANSWER_FIND[] =
	"SELECT i.id, s.reward_points FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id"
	" JOIN customers c ON c.id = i.customer_id WHERE c.ext_id = ?1 AND i.answered_at IS NULL"
	" AND (s.name = ?2 OR s.kind = ?2) AND i.invited_at <= ?3 ORDER BY i.invited_at DESC LIMIT 1";
static const char SQL_ANSWER_SET[] = "UPDATE survey_invitations SET answered_at = ? WHERE id = ?";

int tn_survey_answered(tn_store *s, const char *customer, const char *kind, tn_time at, long *credited,
		       tn_error *err)
{
	*credited = 0;
	if (!customer || !kind)
		return TN_OK;
	tn_stmt *q = tn_db_cached(s, SQL_ANSWER_FIND, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(q, 1, customer);
	tn_db_bind_text(q, 2, kind);
	tn_db_bind_time(q, 3, at == TN_NO_TIME ? INT64_MAX : at);
	int rc = tn_db_step(q, "reading invitations", err);
	int64_t inv = 0, reward = 0;
	if (rc == TN_DB_ROW) {
		inv = tn_db_column_int64(q, 0);
		reward = tn_db_column_int64(q, 1);
	}
	tn_db_reset(q);
	if (rc != TN_DB_ROW)
		return rc == TN_DB_DONE ? TN_OK : rc;
	q = tn_db_cached(s, SQL_ANSWER_SET, err);
	if (!q)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_time(q, 1, at);
	tn_db_bind_int64(q, 2, inv);
	rc = tn_db_step(q, "marking an invitation answered", err);
	tn_db_reset(q);
	if (rc != TN_DB_DONE)
		return rc;
	if (reward <= 0)
		return TN_OK;
	char key[64];
	snprintf(key, sizeof key, "survey-invitation:%lld", (long long)inv);
	tn_points_op op = {.kind = TN_POINTS_GRANT, .customer = customer, .at = at, .points = reward, .key = key,
			   .note = "survey answered"};
	int status = 0;
	if ((rc = tn_points_apply_in(s, &op, 1, &status, err)))
		return rc;
	if (status == TN_POINTS_APPLIED)
		*credited = (long)reward;
	return TN_OK;
}

void tn_survey_clear(tn_survey_def *d)
{
	free(d->name);
	free(d->kind);
	free(d->questions);
	free(d->trigger_arg);
	memset(d, 0, sizeof *d);
}

cJSON *tn_survey_to_json(const tn_survey_def *d, int64_t invitation)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)d->id);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "kind", d->kind);
	if (invitation > 0)
		cJSON_AddNumberToObject(o, "invitation", (double)invitation);
	else
		cJSON_AddNullToObject(o, "invitation"); /* written with the decision, after the answer */
	cJSON_AddNumberToObject(o, "reward_points", (double)d->reward_points);
	cJSON *rtl = cJSON_AddArrayToObject(o, "rtl");
	cJSON_AddItemToArray(rtl, cJSON_CreateString("ar"));
	cJSON_AddItemToArray(rtl, cJSON_CreateString("fa"));
	cJSON *q = cJSON_Parse(d->questions);
	cJSON_AddItemToObject(o, "questions", q ? q : cJSON_CreateArray());
	return o;
}
