/*
 * web_words.c -- the library's plain-word sentences in the page's language:
 * the reasons behind a risk score (tn_reason_msg: a message id and its
 * parameters, from tn_pred_reason_msg) and the alerts' details
 * (tn_pred_alert_detail_msg).  English is the library's own text
 * (tn_pred_reason_format, the stored detail), so the CLI and the dashboard
 * say the same; Arabic and Persian are written here, with every number in
 * the page's digits.  Names and values that come from the customer's data
 * (a plan, a country) stay as written.
 */
#include "web/web_internal.h"
#include "tenure/predict.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Write the Arabic or Persian template (by C's language) with string parameters. */
static void say(const web_ctx *c, char *buf, size_t n, const char *ar, const char *fa, ...)
{
	va_list ap;
	va_start(ap, fa);
	vsnprintf(buf, n, c->lang == L_FA ? fa : ar, ap);
	va_end(ap);
}

/* A number as the library writes it (at most two decimals, trailing zeros
 * dropped), in the page's digits. */
static const char *num(const web_ctx *c, double v, char *b, size_t n)
{
	char t[64];
	double a = fabs(v);
	snprintf(t, sizeof t, "%.*f", a >= 100 || a == floor(a) ? 0 : a >= 10 ? 1 : 2, v);
	if (strchr(t, '.')) {
		char *e = t + strlen(t) - 1;
		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
	if (strcmp(t, "-0") == 0)
		snprintf(t, sizeof t, "0");
	return web_digits(c, t, b, n);
}

/* A count over the last 90 days: the NONE formats (the 90) when V is 0, else
 * the SOME formats (V, then the 90). */
static void in_90_days(const web_ctx *c, char *buf, size_t n, double v, const char *none_ar, const char *none_fa,
		       const char *some_ar, const char *some_fa)
{
	char a[96], d[96];
	num(c, 90, d, sizeof d);
	if (v == 0)
		say(c, buf, n, none_ar, none_fa, d);
	else
		say(c, buf, n, some_ar, some_fa, num(c, v, a, sizeof a), d);
}

static const char *money(const web_ctx *c, double v, const char *cur, char *b, size_t n)
{
	char t[40], d[64];
	snprintf(t, sizeof t, "%.2f", v);
	web_digits(c, t, d, sizeof d);
	snprintf(b, n, "%.63s%s%.7s", d, cur && *cur ? " " : "", cur ? cur : "");
	return b;
}

/* A duration in days: less than a day, N days, N months, N years. */
static const char *span(const web_ctx *c, double d, char *b, size_t n)
{
	char x[48];
	double r = floor(d + 0.5);
	if (r < 1)
		say(c, b, n, "أقل من يوم", "کمتر از یک روز");
	else if (r < 90) {
		num(c, r, x, sizeof x);
		if (c->lang == L_FA)
			snprintf(b, n, "%s روز", x);
		else
			snprintf(b, n, r == 1 ? "يوم واحد" : r == 2 ? "يومان" : r <= 10 ? "%s أيام" : "%s يومًا", x);
	} else if (r < 730) {
		double m = floor(d / 30.4375 + 0.5);
		num(c, m, x, sizeof x);
		if (c->lang == L_FA)
			snprintf(b, n, "%s ماه", x);
		else
			snprintf(b, n, m <= 10 ? "%s أشهر" : "%s شهرًا", x);
	} else {
		char t[32];
		snprintf(t, sizeof t, "%.1f", d / 365.25);
		web_digits(c, t, x, sizeof x);
		say(c, b, n, "%s سنة", "%s سال", x);
	}
	return b;
}

static const char *period_word(const web_ctx *c, const char *p)
{
	static const char *const w[][3] = {{"month", "شهر", "ماه"},
					   {"year", "سنة", "سال"},
					   {"quarter", "ربع سنة", "فصل"},
					   {"week", "أسبوع", "هفته"},
					   {"", "فترة فوترة", "دورهٔ صورتحساب"}};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strcmp(p, w[i][0]) == 0)
			return w[i][c->lang == L_FA ? 2 : 1];
	return p;
}

void web_reason(const web_ctx *c, const tn_reason_msg *r, char *buf, size_t n)
{
	if (c->lang == L_EN) {
		tn_pred_reason_format(r, buf, n);
		return;
	}
	char a[96], b[96], d[96];
	double v = r->v[0], mean = r->v[1];
	int low = r->flag;
	const char *below = c->lang == L_FA ? (low ? "کمتر از" : "بیشتر از") : (low ? "أقل من" : "أعلى من");
	switch (r->id) {
	case TN_RW_TENURE:
		span(c, v, a, sizeof a);
		if (low)
			say(c, buf, n, "عميل منذ %s فقط", "فقط %s است که مشتری است", a);
		else
			say(c, buf, n, "عميل منذ %s", "%s است که مشتری است", a);
		break;
	case TN_RW_ENDS: {
		const char *what = c->lang == L_FA ? (r->flag ? "دورهٔ آزمایشی رایگان" : "دورهٔ پرداخت‌شده")
						   : (r->flag ? "الفترة التجريبية المجانية" : "الفترة المدفوعة");
		if (v <= 0)
			say(c, buf, n, "تنتهي %s اليوم", "%s امروز تمام می‌شود", what);
		else if (v == 1)
			say(c, buf, n, "تنتهي %s غدًا", "%s فردا تمام می‌شود", what);
		else
			say(c, buf, n, "تنتهي %s بعد %s", "%s تا %s دیگر تمام می‌شود", what, span(c, v, a, sizeof a));
		break;
	}
	case TN_RW_IDLE:
		span(c, v, a, sizeof a);
		if (!isnan(mean) && mean < 1.5)
			say(c, buf, n, "%s دون استخدام التطبيق، وعادةً يستخدمه كل يوم", "%s بدون استفاده از برنامه، معمولاً هر روز",
			    a);
		else if (!isnan(mean))
			say(c, buf, n, "%s دون استخدام التطبيق، وعادةً يستخدمه كل %s", "%s بدون استفاده از برنامه، معمولاً هر %s",
			    a, span(c, mean, b, sizeof b));
		else
			say(c, buf, n, "%s دون استخدام التطبيق", "%s بدون استفاده از برنامه", a);
		break;
	case TN_RW_USED_AGO:
		say(c, buf, n, "استخدم التطبيق قبل %s", "%s پیش از برنامه استفاده کرد", span(c, v, a, sizeof a));
		break;
	case TN_RW_NO_USE:
		say(c, buf, n, "لم يستخدم التطبيق في آخر %s يومًا (المتوسط %s مرة)",
		    "در %s روز گذشته از برنامه استفاده نکرد (میانگین %s بار)", num(c, mean, a, sizeof a),
		    num(c, r->v[2], b, sizeof b));
		break;
	case TN_RW_USED:
		num(c, v, a, sizeof a);
		num(c, mean, b, sizeof b);
		num(c, r->v[2], d, sizeof d);
		if (c->lang == L_FA)
			snprintf(buf, n, "در %s روز گذشته %s%s بار از برنامه استفاده کرد (میانگین %s)", b, low ? "فقط " : "",
				 a, d);
		else
			snprintf(buf, n, "استخدم التطبيق %s مرة%s في آخر %s يومًا (المتوسط %s)", a, low ? " فقط" : "", b, d);
		break;
	case TN_RW_TREND: {
		char t[48];
		if (v < 1 || v < 2) {
			snprintf(t, sizeof t, "%.0f%%", 100 * (v < 1 ? 1 - v : v - 1));
			web_digits(c, t, a, sizeof a);
			if (v < 1)
				say(c, buf, n, "تراجع استخدام التطبيق %s عن الشهرين السابقين", "استفاده از برنامه %s کمتر از دو ماه پیش", a);
			else
				say(c, buf, n, "ارتفع استخدام التطبيق %s عن الشهرين السابقين", "استفاده از برنامه %s بیشتر از دو ماه پیش", a);
		} else
			say(c, buf, n, "استخدام التطبيق %s أضعاف وتيرة الشهرين السابقين", "استفاده از برنامه %s برابر دو ماه پیش",
			    num(c, v, a, sizeof a));
		break;
	}
	case TN_RW_KINDS:
		num(c, v, a, sizeof a);
		num(c, mean, b, sizeof b);
		num(c, 90, d, sizeof d);
		if (c->lang == L_FA)
			snprintf(buf, n, "در %s روز گذشته %s%s نوع از امکانات برنامه را به کار برد (میانگین %s)", d,
				 low ? "فقط " : "", a, b);
		else
			snprintf(buf, n, "استخدم %s%s من أنواع ميزات التطبيق في آخر %s يومًا (المتوسط %s)", low ? "فقط " : "", a,
				 d, b);
		break;
	case TN_RW_MILESTONES:
		num(c, 30, d, sizeof d);
		if (v == 0) {
			say(c, buf, n, "لم يبلغ أي مرحلة من مراحل التهيئة في أول %s يومًا",
			    "در %s روز نخست به هیچ مرحلهٔ آشنایی نرسید", d);
			break;
		}
		num(c, v, a, sizeof a);
		num(c, mean, b, sizeof b);
		if (c->lang == L_FA)
			snprintf(buf, n, "در %s روز نخست به %s%s مرحلهٔ آشنایی رسید (میانگین %s)", d, low ? "فقط " : "", a, b);
		else
			snprintf(buf, n, "بلغ %s%s من مراحل التهيئة في أول %s يومًا (المتوسط %s)", low ? "فقط " : "", a, d, b);
		break;
	case TN_RW_SUBS:
		if (v <= 1)
			say(c, buf, n, "في اشتراكه الأول", "در نخستین اشتراک");
		else
			say(c, buf, n, "غادر ثم عاد: %s اشتراكات حتى الآن", "رفت و برگشت: تاکنون %s اشتراک", num(c, v, a, sizeof a));
		break;
	case TN_RW_PRICE:
		money(c, v, r->currency, a, sizeof a);
		money(c, mean, r->currency, b, sizeof b);
		say(c, buf, n, "يدفع %s كل %s، %s المتوسط %s", "هر %2$s %1$s می‌پردازد، %3$s میانگین %4$s", a,
		    period_word(c, r->text[0]), below, b);
		break;
	case TN_RW_MRR:
		money(c, v, r->currency, a, sizeof a);
		money(c, mean, r->currency, b, sizeof b);
		say(c, buf, n, "يدفع %s شهريًا، %s المتوسط %s", "ماهانه %s می‌پردازد، %s میانگین %s", a, below, b);
		break;
	case TN_RW_TRIAL:
		if (v == 1)
			say(c, buf, n, "ما زال في الفترة التجريبية المجانية", "هنوز در دورهٔ آزمایشی رایگان");
		else
			say(c, buf, n, "تجاوز الفترة التجريبية المجانية", "دورهٔ آزمایشی رایگان را پشت سر گذاشته");
		break;
	case TN_RW_FAILED:
		in_90_days(c, buf, n, v, "لا دفعة فاشلة في آخر %s يومًا", "در %s روز گذشته پرداخت ناموفقی نبود",
			   "%s من الدفعات الفاشلة في آخر %s يومًا", "%s پرداخت ناموفق در %s روز گذشته");
		break;
	case TN_RW_FAILING:
		if (v == 1)
			say(c, buf, n, "فشلت آخر دفعة", "آخرین پرداخت ناموفق بود");
		else
			say(c, buf, n, "نجحت آخر دفعة", "آخرین پرداخت انجام شد");
		break;
	case TN_RW_TICKETS:
		in_90_days(c, buf, n, v, "لا تذكرة دعم في آخر %s يومًا", "در %s روز گذشته تیکت پشتیبانی نداشت",
			   "%s من تذاكر الدعم في آخر %s يومًا", "%s تیکت پشتیبانی در %s روز گذشته");
		break;
	case TN_RW_NPS: {
		const char *cls = c->lang == L_FA ? (v <= 6 ? "منتقد" : v <= 8 ? "بی‌طرف" : "مروج")
						  : (v <= 6 ? "منتقِد" : v <= 8 ? "محايد" : "مروِّج");
		say(c, buf, n, "إجابة NPS: %s من %s (%s)", "پاسخ NPS: %s از %s (%s)", num(c, v, a, sizeof a),
		    num(c, 10, b, sizeof b), cls);
		break;
	}
	case TN_RW_CSAT:
		say(c, buf, n, "قيّم رضاه %s من %s", "رضایت را %s از %s داد", num(c, v, a, sizeof a), num(c, 5, b, sizeof b));
		break;
	case TN_RW_CES:
		num(c, 7, b, sizeof b);
		say(c, buf, n, "قيّم الجهد المبذول %s من %s (%s = الأصعب)", "سختی کار را %s از %s داد (%s = سخت‌ترین)",
		    num(c, v, a, sizeof a), b, b);
		break;
	case TN_RW_NEVER: {
		static const char *const w[][3] = {
			{"recency_days", "لم يستخدم التطبيق قط", "هرگز از برنامه استفاده نکرده"},
			{"nps", "لم يُجب قط عن استبيان NPS", "هرگز به نظرسنجی NPS پاسخ نداده"},
			{"csat", "لم يُجب قط عن استبيان الرضا", "هرگز به نظرسنجی رضایت پاسخ نداده"},
			{"ces", "لم يُجب قط عن استبيان الجهد", "هرگز به نظرسنجی سختی کار پاسخ نداده"},
			{"milestones_reached", "لا مراحل تهيئة معرّفة", "مرحلهٔ آشنایی تعریف نشده"},
		};
		const char *t = NULL;
		for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
			if (strcmp(r->text[0], w[i][0]) == 0)
				t = w[i][c->lang == L_FA ? 2 : 1];
		if (t)
			snprintf(buf, n, "%s", t);
		else
			tn_pred_reason_format(r, buf, n);
		break;
	}
	case TN_RW_LEVEL: {
		const char *name = r->text[0], *lv = r->text[1];
		if (strcmp(name, "plan") == 0)
			say(c, buf, n, "على خطة %s", "در طرح %s", lv);
		else if (strcmp(name, "billing_period") == 0) {
			static const char *const w[][3] = {{"month", "شهريًا", "ماهانه"},
							   {"year", "سنويًا", "سالانه"},
							   {"quarter", "كل ربع سنة", "فصلی"},
							   {"week", "أسبوعيًا", "هفتگی"}};
			const char *t = lv;
			for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
				if (strcmp(lv, w[i][0]) == 0)
					t = w[i][c->lang == L_FA ? 2 : 1];
			say(c, buf, n, "يُفوتَر %s", "صورتحساب %s", t);
		} else if (strcmp(name, "channel") == 0)
			say(c, buf, n, "جاء عبر %s", "از راه %s آمد", lv);
		else if (strcmp(name, "country") == 0)
			say(c, buf, n, "يقيم في %s", "ساکن %s", lv);
		else if (strcmp(name, "device") == 0)
			say(c, buf, n, "يستخدم التطبيق على %s", "از برنامه روی %s استفاده می‌کند", lv);
		else
			say(c, buf, n, "الفئة العمرية %s", "ردهٔ سنی %s", lv);
		break;
	}
	case TN_RW_NUMBER:
		say(c, buf, n, "%s = %s، %s المتوسط %s", "%s = %s، %s میانگین %s", TD(c, r->text[0]), num(c, v, a, sizeof a),
		    below, num(c, mean, b, sizeof b));
		break;
	case TN_RW_IS:
		say(c, buf, n, "%s = %s", "%s = %s", TD(c, r->text[0]),
		    r->text[1][0] ? r->text[1] : num(c, v, a, sizeof a));
		break;
	case TN_RW_BLANK:
		say(c, buf, n, "%s فارغ", "%s خالی است", TD(c, r->text[0]));
		break;
	default:
		snprintf(buf, n, "%s", r->text[0]);
		break;
	}
}

void web_alert_detail(const web_ctx *c, const char *detail, char *buf, size_t n)
{
	double v[2];
	int id = c->lang == L_EN ? 0 : tn_pred_alert_detail_msg(detail, v);
	char a[96], b[96];
	switch (id) {
	case TN_ALERT_MSG_DROP: {
		char d30[32], d60[32];
		num(c, 30, d30, sizeof d30);
		num(c, 60, d60, sizeof d60);
		say(c, buf, n, "%1$s حدثًا في آخر %3$s يومًا مقابل %2$s في الـ%4$s يومًا السابقة",
		    "%1$s رویداد در %3$s روز گذشته در برابر %2$s در %4$s روز پیش از آن", num(c, v[0], a, sizeof a),
		    num(c, v[1], b, sizeof b), d30, d60);
		break;
	}
	case TN_ALERT_MSG_NEW_INACTIVE:
		say(c, buf, n, "لا نشاط منذ التسجيل قبل %s", "از ثبت‌نام در %s پیش هیچ فعالیتی نبوده", span(c, v[0], a, sizeof a));
		break;
	case TN_ALERT_MSG_INACTIVE:
		say(c, buf, n, "لا نشاط منذ %s", "%s بدون فعالیت", span(c, v[0], a, sizeof a));
		break;
	case TN_ALERT_MSG_FAILED:
		say(c, buf, n, "فشلت آخر عملية دفع (%s فشلت في آخر %s يومًا)", "آخرین پرداخت ناموفق بود (%s ناموفق در %s روز گذشته)",
		    num(c, v[0], a, sizeof a), num(c, 90, b, sizeof b));
		break;
	case TN_ALERT_MSG_DETRACTOR:
		say(c, buf, n, "آخر إجابة NPS: %s", "آخرین پاسخ NPS: %s", num(c, v[0], a, sizeof a));
		break;
	case TN_ALERT_MSG_ENDING: {
		char when[128], t[32], r[96];
		if (v[0] <= 0)
			say(c, when, sizeof when, "اليوم", "امروز");
		else if (v[0] == 1)
			say(c, when, sizeof when, "غدًا", "فردا");
		else
			say(c, when, sizeof when, "بعد %s", "تا %s دیگر", span(c, v[0], a, sizeof a));
		snprintf(t, sizeof t, "%.2f", v[1]);
		web_digits(c, t, r, sizeof r);
		say(c, buf, n, "تنتهي الفترة المدفوعة %s؛ خطر المغادرة %s", "دورهٔ پرداخت‌شده %s تمام می‌شود؛ ریسک ریزش %s", when, r);
		break;
	}
	default: /* English, or a detail the library no longer writes: as stored */
		snprintf(buf, n, "%s", detail ? detail : "");
		break;
	}
}
