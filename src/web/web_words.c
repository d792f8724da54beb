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

/* ---- the library's one-line readings and table words ----------------------------------
 * The report's tables (the insights on /why, the actions on /act) come with
 * a reading under each -- one English sentence built from a template and a
 * few values -- and some cells in words.  Each template is matched here
 * with its values as wildcards ("%s": any non-empty run) and written in
 * Arabic or Persian with the same values ({1}, {2}, ...), numbers in the
 * page's digits.  A sentence no template matches is not shown on ar/fa
 * pages (rather than English). */
typedef struct reading_tr {
	const char *en, *ar, *fa;
} reading_tr;

static const reading_tr readings[] = {
	/* report_actions.c */
	{"No offer plan yet: `tenure offers plan` ranks customers by expected profit and keeps a random control "
	 "group, so the effect can be measured here.",
	 "لا توجد خطة عروض بعد: يرتّب `tenure offers plan` العملاء حسب الربح المتوقع ويستبقي مجموعة مقارنة عشوائية، "
	 "ليُقاس الأثر هنا.",
	 "هنوز برنامهٔ پیشنهادی نیست: `tenure offers plan` مشتریان را به ترتیب سود مورد انتظار مرتب می‌کند و یک گروه "
	 "کنترل تصادفی نگه می‌دارد تا اثر اینجا سنجیده شود."},
	{"Offers work: %s% of offered customers left against %s% of the control group.",
	 "العروض تنجح: غادر {1}٪ من العملاء الذين تلقوا عرضاً مقابل {2}٪ من مجموعة المقارنة.",
	 "پیشنهادها اثر دارند: {1}٪ از مشتریانِ دارای پیشنهاد رفتند در برابر {2}٪ از گروه کنترل."},
	{"Offered customers left more often than the control group (%s% vs %s%): rethink the offer.",
	 "غادر من تلقوا عرضاً أكثر من مجموعة المقارنة ({1}٪ مقابل {2}٪): أعد النظر في العرض.",
	 "مشتریانِ دارای پیشنهاد بیش از گروه کنترل رفتند ({1}٪ در برابر {2}٪): در پیشنهاد بازنگری کنید."},
	{"No measurable effect yet: %s% of offered customers left against %s% of the control group (the interval "
	 "includes zero).",
	 "لا أثر قابلاً للقياس بعد: غادر {1}٪ ممن تلقوا عرضاً مقابل {2}٪ من مجموعة المقارنة (الفاصل يشمل الصفر).",
	 "هنوز اثری سنجیدنی نیست: {1}٪ از مشتریانِ دارای پیشنهاد رفتند در برابر {2}٪ از گروه کنترل (بازه صفر را "
	 "در بر دارد)."},
	{"No win-back contacts yet: `tenure winback schedule` lists who to contact about 30 days after they leave; "
	 "`tenure winback record` or `import` logs each contact.",
	 "لا اتصالات استعادة بعد: يسرد `tenure winback schedule` من يُتصل بهم بعد نحو 30 يوماً من مغادرتهم؛ ويسجّل "
	 "`tenure winback record` أو `import` كل اتصال.",
	 "هنوز تماس بازگرداندنی نیست: `tenure winback schedule` فهرست کسانی را می‌دهد که حدود ۳۰ روز پس از رفتن باید "
	 "با آنها تماس گرفت؛ `tenure winback record` یا `import` هر تماس را ثبت می‌کند."},
	{"No customer won back yet.", "لم يُستعد أي عميل بعد.", "هنوز هیچ مشتری‌ای بازنگشته است."},
	{"Campaign \"%s\" wins customers back beyond what its control group shows (%s points): %s per extra customer "
	 "won back, %s per customer won back in all.",
	 "الحملة «{1}» تستعيد عملاء أكثر مما تُظهره مجموعة المقارنة ({2} نقطة): {3} لكل عميل إضافي مُستعاد، و{4} "
	 "لكل عميل مُستعاد إجمالاً.",
	 "کارزار «{1}» بیش از آنچه گروه کنترلش نشان می‌دهد مشتری بازمی‌گرداند ({2} واحد درصد): {3} برای هر مشتری "
	 "اضافیِ بازگشته، {4} برای هر مشتری بازگشته در کل."},
	{"The cheapest way back is campaign \"%s\": %s per customer won back (%s won of %s contacted).",
	 "أرخص طريق للاستعادة هو الحملة «{1}»: {2} لكل عميل مُستعاد ({3} مُستعاد من {4} تم الاتصال بهم).",
	 "ارزان‌ترین راه بازگرداندن کارزار «{1}» است: {2} برای هر مشتری بازگشته ({3} بازگشته از {4} تماس)."},
	{"No loyalty points yet: `tenure points rule` sets how actions earn points, `tenure points earn "
	 "--from-events` credits them.",
	 "لا نقاط ولاء بعد: يحدّد `tenure points rule` كيف تكسب الأفعال نقاطاً، ويضيفها `tenure points earn "
	 "--from-events`.",
	 "هنوز امتیاز وفاداری نیست: `tenure points rule` تعیین می‌کند کارها چگونه امتیاز می‌گیرند و `tenure points "
	 "earn --from-events` آنها را ثبت می‌کند."},
	{"%s customers will lose %s points in the next 30 days unless they use them: remind them (`tenure points "
	 "at-risk`).",
	 "سيخسر {1} عميلاً {2} نقطة خلال الثلاثين يوماً القادمة ما لم يستخدموها: ذكّرهم (`tenure points at-risk`).",
	 "{1} مشتری {2} امتیاز را در ۳۰ روز آینده از دست می‌دهند مگر آنکه خرجشان کنند: یادآوری کنید (`tenure points "
	 "at-risk`)."},
	{"%s points outstanding across %s customers; none expire in the next 30 days.",
	 "{1} نقطة قائمة لدى {2} عميلاً؛ لا ينتهي أي منها خلال الثلاثين يوماً القادمة.",
	 "{1} امتیاز نزد {2} مشتری مانده است؛ هیچ‌کدام در ۳۰ روز آینده منقضی نمی‌شود."},
	{"No onboarding milestones mapped: `tenure journey map first_value EVENT_TYPE` (and first_impression, "
	 "intended_value, extended_value).",
	 "لم تُربط مراحل التهيئة: `tenure journey map first_value EVENT_TYPE` (وكذلك first_impression و"
	 "intended_value و extended_value).",
	 "مراحل آشنایی نگاشته نشده‌اند: `tenure journey map first_value EVENT_TYPE` (و first_impression، "
	 "intended_value و extended_value)."},
	{"Customers who reached no milestone churned at %s%; those who reached %s, at %s%: help new customers to "
	 "their first value.",
	 "غادر {1}٪ من العملاء الذين لم يبلغوا أي مرحلة، و{3}٪ ممن بلغوا {2}: ساعد العملاء الجدد على بلوغ أول قيمة.",
	 "از مشتریانی که به هیچ مرحله‌ای نرسیدند {1}٪ رفتند و از آنها که به {2} رسیدند {3}٪: به مشتریان تازه کمک "
	 "کنید به نخستین ارزش برسند."},
	/* report_insights.c */
	{"No survey answers yet: import feedback (kind nps, csat or ces) with `tenure import feedback`.",
	 "لا إجابات استبيان بعد: استورد الملاحظات (من نوع nps أو csat أو ces) بـ `tenure import feedback`.",
	 "هنوز پاسخ نظرسنجی نیست: بازخورد (از نوع nps، csat یا ces) را با `tenure import feedback` وارد کنید."},
	{"All-time NPS is %s; intervals are 95% (docs/feedback.md).",
	 "مؤشر NPS على مدى كل الفترة {1}؛ الفواصل بمستوى 95٪ (docs/feedback.md).",
	 "NPS در کل دوره {1} است؛ بازه‌ها ۹۵٪ هستند (docs/feedback.md)."},
	{"Intervals are 95% (docs/feedback.md).", "الفواصل بمستوى 95٪ (docs/feedback.md).",
	 "بازه‌ها ۹۵٪ هستند (docs/feedback.md)."},
	{"No classified answers yet: `tenure feedback classify` sorts the store's text answers into six types and "
	 "themes; this section then shows them.",
	 "لا إجابات مصنّفة بعد: يصنّف `tenure feedback classify` الإجابات النصية في ستة أنواع وموضوعات؛ ثم يعرضها "
	 "هذا القسم.",
	 "هنوز پاسخ دسته‌بندی‌شده‌ای نیست: `tenure feedback classify` پاسخ‌های متنی را در شش نوع و چند موضوع دسته‌بندی "
	 "می‌کند؛ سپس این بخش آنها را نشان می‌دهد."},
	{"Customers who raised \"%s\" (%s) leave %s times as fast as those who did not (95% CI %s to %s): the theme "
	 "that costs the most customers.",
	 "العملاء الذين أثاروا «{1}» ({2}) يغادرون أسرع بـ {3} مرة ممن لم يثيروه (فاصل ثقة 95٪ من {4} إلى {5}): "
	 "الموضوع الذي يكلّف أكثر العملاء.",
	 "مشتریانی که «{1}» ({2}) را مطرح کردند {3} برابر سریع‌تر از دیگران می‌روند (بازهٔ اطمینان ۹۵٪ از {4} تا "
	 "{5}): موضوعی که بیشترین مشتری را از دست می‌دهد."},
	{"No theme is clearly linked to faster churn (every hazard-ratio interval includes 1).",
	 "لا يرتبط أي موضوع بوضوح بمغادرة أسرع (كل فواصل نسب الخطر تشمل 1).",
	 "هیچ موضوعی آشکارا با رفتن سریع‌تر پیوند ندارد (همهٔ بازه‌های نسبت خطر ۱ را در بر دارند)."},
	{"%s theme to fix now: high impact on churn for a low effort.",
	 "{1} موضوع للإصلاح الآن: أثر كبير على المغادرة بجهد قليل.",
	 "{1} موضوع برای رفع همین حالا: اثر زیاد بر رفتن با تلاش کم."},
	{"%s themes to fix now: high impact on churn for a low effort.",
	 "{1} موضوعات للإصلاح الآن: أثر كبير على المغادرة بجهد قليل.",
	 "{1} موضوع برای رفع همین حالا: اثر زیاد بر رفتن با تلاش کم."},
	{"Set the effort of %s theme (`tenure feedback effort THEME low|high`) to place it in the matrix.",
	 "حدّد جهد {1} موضوع (`tenure feedback effort THEME low|high`) لوضعه في المصفوفة.",
	 "تلاشِ {1} موضوع را تعیین کنید (`tenure feedback effort THEME low|high`) تا در ماتریس جا بگیرد."},
	{"Set the effort of %s themes (`tenure feedback effort THEME low|high`) to place them in the matrix.",
	 "حدّد جهد {1} موضوعاً (`tenure feedback effort THEME low|high`) لوضعها في المصفوفة.",
	 "تلاشِ {1} موضوع را تعیین کنید (`tenure feedback effort THEME low|high`) تا در ماتریس جا بگیرند."},
	{"No theme has both a high impact and a low effort.", "لا يوجد موضوع ذو أثر كبير وجهد قليل معاً.",
	 "هیچ موضوعی هم اثر زیاد و هم تلاش کم ندارد."},
	{"One answer per language for the %s themes raised most often; `tenure feedback classify` lists them all.",
	 "إجابة واحدة لكل لغة عن الموضوعات الـ{1} الأكثر تكراراً؛ يسردها `tenure feedback classify` كلها.",
	 "یک پاسخ برای هر زبان دربارهٔ {1} موضوعِ پرتکرارتر؛ `tenure feedback classify` همه را فهرست می‌کند."},
	{"No subscriptions yet: import subscriptions and payments.", "لا اشتراكات بعد: استورد الاشتراكات والمدفوعات.",
	 "هنوز اشتراکی نیست: اشتراک‌ها و پرداخت‌ها را وارد کنید."},
	{"Most profitable per customer: %s (%s). %s has not paid back its acquisition cost yet (margin 70%, future "
	 "value discounted 10%/year).",
	 "الأربح لكل عميل: {1} ({2}). لم يسترد {3} تكلفة اكتسابه بعد (هامش 70٪، والقيمة المستقبلية مخصومة 10٪ "
	 "سنوياً).",
	 "سودآورترین به ازای هر مشتری: {1} ({2}). {3} هنوز هزینهٔ جذبش را برنگردانده است (حاشیهٔ ۷۰٪، ارزش آینده با "
	 "تنزیل ۱۰٪ در سال)."},
	{"Most profitable per customer: %s (%s); every %s is profitable already (margin 70%, future value discounted "
	 "10%/year).",
	 "الأربح لكل عميل: {1} ({2})؛ وكل {3} مربح بالفعل (هامش 70٪، والقيمة المستقبلية مخصومة 10٪ سنوياً).",
	 "سودآورترین به ازای هر مشتری: {1} ({2})؛ هر {3} هم‌اکنون سودآور است (حاشیهٔ ۷۰٪، ارزش آینده با تنزیل ۱۰٪ "
	 "در سال)."},
	{"%s live customers scored by the saved risk model; together they are expected to take %s of future value "
	 "with them (risk x value). Call the top of this list first.",
	 "{1} عميلاً نشطاً قيّمهم نموذج الخطر المحفوظ؛ يُتوقع أن يأخذوا معاً {2} من القيمة المستقبلية (الخطر × "
	 "القيمة). اتصل بأعلى القائمة أولاً.",
	 "{1} مشتری فعال با مدل خطرِ ذخیره‌شده امتیاز گرفتند؛ انتظار می‌رود روی هم {2} از ارزش آینده را با خود ببرند "
	 "(خطر × ارزش). نخست با بالای این فهرست تماس بگیرید."},
	{"%s live customers scored by a risk model trained on the spot (logistic regression on the store's history "
	 "to 30 days before, as tenure alerts does); together they are expected to take %s of future value with "
	 "them (risk x value). Call the top of this list first.",
	 "{1} عميلاً نشطاً قيّمهم نموذج خطر دُرّب في الحال (انحدار لوجستي على تاريخ المخزن حتى 30 يوماً قبل، كما "
	 "يفعل tenure alerts)؛ يُتوقع أن يأخذوا معاً {2} من القيمة المستقبلية (الخطر × القيمة). اتصل بأعلى "
	 "القائمة أولاً.",
	 "{1} مشتری فعال با مدل خطری که همین حالا آموزش دید امتیاز گرفتند (رگرسیون لجستیک روی تاریخچهٔ انباره تا ۳۰ "
	 "روز پیش، مانند tenure alerts)؛ انتظار می‌رود روی هم {2} از ارزش آینده را با خود ببرند (خطر × ارزش). نخست با "
	 "بالای این فهرست تماس بگیرید."},
	{"No risk scores: %s. `tenure predict train --as-of DATE --save m.json` trains a model.",
	 "لا درجات خطر: {1}. يدرّب `tenure predict train --as-of DATE --save m.json` نموذجاً.",
	 "امتیاز خطری نیست: {1}. `tenure predict train --as-of DATE --save m.json` مدلی آموزش می‌دهد."},
	/* cells in words */
	{"not measurable", "غير قابل للقياس", "سنجیدنی نیست"},
	{"none", "لا شيء", "هیچ"},
	{"effort not set", "الجهد غير محدد", "تلاش تعیین نشده"},
	/* the six feedback types (src/feedback) */
	{"praise", "إشادة", "تعریف"},
	{"feature_request", "طلب ميزة", "درخواست قابلیت"},
	{"usability", "سهولة الاستخدام", "کاربردپذیری"},
	{"pricing_billing", "التسعير والفوترة", "قیمت و صورت‌حساب"},
	{"reliability", "الموثوقية", "پایداری"},
	{"functionality", "الوظائف", "کارکرد"},
	{"(all themes)", "(كل الموضوعات)", "(همهٔ موضوع‌ها)"},
	{"%s (%s answers)", "{1} ({2} إجابة)", "{1} ({2} پاسخ)"},
	{"%s points (%s to %s)", "{1} نقطة ({2} إلى {3})", "{1} واحد درصد ({2} تا {3})"},
	{"%s points", "{1} نقطة", "{1} واحد درصد"},
	{"%s to %s", "{1} إلى {2}", "{1} تا {2}"},
};

#define MAX_CAPS 6

/* Match TEXT against PAT ("%s": a non-empty run); the runs in CAP (start,
 * length).  Backtracks: the templates are short and few. */
static int match(const char *pat, const char *text, const char **cs, size_t *cl, int k)
{
	while (*pat && !(pat[0] == '%' && pat[1] == 's')) {
		if (*pat != *text)
			return 0;
		pat++, text++;
	}
	if (!*pat)
		return *text == '\0';
	if (k >= MAX_CAPS)
		return 0;
	for (size_t n = 1; text[n - 1]; n++) {
		cs[k] = text;
		cl[k] = n;
		if (match(pat + 2, text + n, cs, cl, k + 1))
			return 1;
	}
	return 0;
}

int web_reading(const web_ctx *c, const char *en, char *buf, size_t n)
{
	if (!en || c->lang == L_EN || n == 0)
		return 0;
	for (size_t i = 0; i < sizeof readings / sizeof readings[0]; i++) {
		const char *cs[MAX_CAPS];
		size_t cl[MAX_CAPS];
		if (!match(readings[i].en, en, cs, cl, 0))
			continue;
		const char *t = c->lang == L_FA ? readings[i].fa : readings[i].ar;
		size_t o = 0;
		for (; *t && o + 1 < n; t++) {
			if (t[0] == '{' && t[1] >= '1' && t[1] <= '0' + MAX_CAPS && t[2] == '}') {
				int k = t[1] - '1';
				char raw[256], loc[512];
				snprintf(raw, sizeof raw, "%.*s", (int)(cl[k] < sizeof raw ? cl[k] : sizeof raw - 1), cs[k]);
				web_digits(c, raw, loc, sizeof loc);
				for (const char *q = loc; *q && o + 1 < n; q++)
					buf[o++] = *q;
				t += 2;
			} else
				buf[o++] = *t;
		}
		buf[o] = '\0';
		return 1;
	}
	return 0;
}
