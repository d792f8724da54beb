/*
 * web_i18n.c -- the dashboard's languages: the interface strings
 * (web_strings.def), a dictionary for the labels the library's tables carry
 * in English, numbers in the language's own digits on request (Arabic-Indic
 * for Arabic, Persian for Persian, with the Arabic decimal and thousands
 * separators) and dates in the Solar Hijri calendar on request.
 */
#include "web/web_internal.h"
#include "tenure/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const strings[S_N][L_N] = {
#define S(id, en, ar, fa) [id] = {en, ar, fa},
#include "web/web_strings.def"
#undef S
};

const char *T(const web_ctx *c, int id)
{
	if (id < 0 || id >= S_N)
		return "";
	const char *s = strings[id][c ? c->lang : L_EN];
	return s ? s : strings[id][L_EN];
}

const char *web_lang_code(int lang) { return lang == L_AR ? "ar" : lang == L_FA ? "fa" : "en"; }

/* English labels of the library's tables (report_insights.c,
 * report_actions.c), attributes and alert kinds: en, ar, fa. */
static const char *const dict[][3] = {
	{"plan", "الخطة", "طرح"},
	{"channel", "قناة الاكتساب", "کانال جذب"},
	{"country", "البلد", "کشور"},
	{"attr_device", "الجهاز", "دستگاه"},
	{"device", "الجهاز", "دستگاه"},
	{"billing_period", "دورة الفوترة", "دورهٔ صورتحساب"},
	{"age_band", "الفئة العمرية", "گروه سنی"},
	{"source", "المصدر", "منبع"},
	{"Retention offers", "عروض الاحتفاظ", "پیشنهادهای نگه‌داشت"},
	{"Win-back campaigns", "حملات الاستعادة", "کارزارهای بازگرداندن"},
	{"Loyalty points", "نقاط الولاء", "امتیازهای وفاداری"},
	{"Onboarding journey: churn by furthest milestone", "رحلة التهيئة: المغادرة حسب أبعد مرحلة",
	 "مسیر آشنایی: ریزش بر حسب دورترین مرحله"},
	{"What customers say: survey scores", "ما يقوله العملاء: درجات الاستبيانات", "گفتهٔ مشتریان: امتیاز نظرسنجی‌ها"},
	{"What customers say: complaints by type and theme, and their effect on churn",
	 "ما يقوله العملاء: الشكاوى حسب النوع والموضوع وأثرها في المغادرة",
	 "گفتهٔ مشتریان: شکایت‌ها بر حسب نوع و موضوع و اثرشان بر ریزش"},
	{"What customers say: impact against cost (effort) of each theme",
	 "ما يقوله العملاء: الأثر مقابل التكلفة (الجهد) لكل موضوع", "گفتهٔ مشتریان: اثر در برابر هزینه (تلاش) هر موضوع"},
	{"What customers say: in their own words", "ما يقوله العملاء: بكلماتهم", "گفتهٔ مشتریان: به زبان خودشان"},
	{"offered", "عُرض عليهم", "پیشنهادگیرنده"},
	{"control", "مجموعة المقارنة", "گروه کنترل"},
	{"churned (offered)", "غادروا (مع العرض)", "رفته (با پیشنهاد)"},
	{"churned (control)", "غادروا (المقارنة)", "رفته (کنترل)"},
	{"kept by the offer", "احتُفظ بهم بفضل العرض", "نگه‌داشته با پیشنهاد"},
	{"95% interval", "فترة الثقة 95٪", "بازهٔ ۹۵٪"},
	{"campaign", "الحملة", "کارزار"},
	{"contacted", "تم التواصل", "تماس‌گرفته"},
	{"reached", "تم الوصول إليهم", "در دسترس"},
	{"won back", "استُعيدوا", "بازگشته"},
	{"revenue regained", "الإيراد المستعاد", "درآمد بازگشته"},
	{"cost", "التكلفة", "هزینه"},
	{"cost per customer won back", "التكلفة لكل عميل مستعاد", "هزینه به ازای هر مشتری بازگشته"},
	{"uplift vs control", "الزيادة مقابل المقارنة", "افزایش نسبت به کنترل"},
	{"cost per extra customer won", "التكلفة لكل عميل إضافي مستعاد", "هزینه به ازای هر مشتری اضافی"},
	{"ledger entries", "قيود السجل", "ردیف‌های دفتر"},
	{"customers", "العملاء", "مشتریان"},
	{"points outstanding", "النقاط القائمة", "امتیاز باقی‌مانده"},
	{"ledger check", "فحص السجل", "بررسی دفتر"},
	{"customers with points expiring in 30 days", "عملاء تنتهي نقاطهم خلال 30 يومًا", "مشتریانی که امتیازشان تا ۳۰ روز منقضی می‌شود"},
	{"points expiring", "النقاط المنتهية", "امتیاز در حال انقضا"},
	{"furthest milestone", "أبعد مرحلة", "دورترین مرحله"},
	{"churned", "غادروا", "رفته"},
	{"churn rate", "معدل المغادرة", "نرخ ریزش"},
	{"survey", "الاستبيان", "نظرسنجی"},
	{"score", "الدرجة", "امتیاز"},
	{"answers", "الإجابات", "پاسخ‌ها"},
	{"reads as", "التفسير", "تفسیر"},
	{"type", "النوع", "نوع"},
	{"theme", "الموضوع", "موضوع"},
	{"customers raising it", "العملاء الذين أثاروه", "مشتریانی که مطرح کردند"},
	{"their churn rate", "معدل مغادرتهم", "نرخ ریزش آنان"},
	{"churn rate of the rest", "معدل مغادرة البقية", "نرخ ریزش بقیه"},
	{"hazard ratio (95% CI)", "نسبة الخطر (فترة ثقة 95٪)", "نسبت خطر (بازهٔ ۹۵٪)"},
	{"customers affected", "العملاء المتأثرون", "مشتریان متأثر"},
	{"churned customers affected (impact)", "المغادرون المتأثرون (الأثر)", "رفتگان متأثر (اثر)"},
	{"effort (cost)", "الجهد (التكلفة)", "تلاش (هزینه)"},
	{"quadrant", "الربع", "ربع"},
	{"language", "اللغة", "زبان"},
	{"in their words", "بكلماتهم", "به زبان خودشان"},
	{"activity_drop", "تراجع النشاط", "افت فعالیت"},
	{"inactive", "غير نشط", "غیرفعال"},
	{"detractor", "منتقد", "منتقد"},
	{"failed_payment", "فشل الدفع", "پرداخت ناموفق"},
	{"ending_high_risk", "نهاية الفترة مع خطر مرتفع", "پایان دوره با خطر بالا"},
};

const char *TD(const web_ctx *c, const char *english)
{
	if (!english || !c || c->lang == L_EN)
		return english ? english : "";
	for (size_t i = 0; i < sizeof dict / sizeof dict[0]; i++)
		if (strcmp(dict[i][0], english) == 0)
			return dict[i][c->lang];
	return english;
}

/* ---- digits -------------------------------------------------------------------- */

char *web_native_digits(const char *lang, const char *in, int separators, char *out, size_t n)
{
	/* U+0660.. Arabic-Indic; U+06F0.. Extended Arabic-Indic (Persian);
	 * U+066B Arabic decimal separator, U+066C thousands separator */
	int fa = lang && strcmp(lang, "fa") == 0;
	size_t o = 0;
	if (!n)
		return out;
	for (const char *p = in ? in : ""; *p; p++) {
		const char *rep = NULL;
		char tmp[4];
		if (*p >= '0' && *p <= '9') {
			unsigned cp = (fa ? 0x6F0u : 0x660u) + (unsigned)(*p - '0');
			tmp[0] = (char)(0xC0 | (cp >> 6));
			tmp[1] = (char)(0x80 | (cp & 0x3F));
			tmp[2] = '\0';
			rep = tmp;
		} else if (separators && *p == '.')
			rep = "\xD9\xAB";
		else if (separators && *p == ',')
			rep = "\xD9\xAC";
		else if (*p == '%' && separators)
			rep = "\xD9\xAA"; /* U+066A Arabic percent sign */
		size_t len = rep ? strlen(rep) : 1;
		if (o + len + 1 > n)
			break;
		if (rep)
			memcpy(out + o, rep, len);
		else
			out[o] = *p;
		o += len;
	}
	out[o] = '\0';
	return out;
}

char *web_digits(const web_ctx *c, const char *in, char *buf, size_t n)
{
	if (c->native && c->lang != L_EN)
		return web_native_digits(web_lang_code(c->lang), in, 1, buf, n);
	snprintf(buf, n, "%s", in ? in : "");
	return buf;
}

char *web_num(const web_ctx *c, double v, int digits, char *buf, size_t n)
{
	char tmp[96];
	if (isnan(v)) {
		snprintf(buf, n, "%s", "–");
		return buf;
	}
	tn_report_number(v, digits, tmp, sizeof tmp);
	return web_digits(c, tmp, buf, n);
}

char *web_pct(const web_ctx *c, double fraction, int digits, char *buf, size_t n)
{
	char tmp[96], t2[100];
	if (isnan(fraction)) {
		snprintf(buf, n, "%s", "–");
		return buf;
	}
	tn_report_number(100 * fraction, digits, tmp, sizeof tmp);
	snprintf(t2, sizeof t2, "%s%%", tmp);
	return web_digits(c, t2, buf, n);
}

/* ---- calendars ------------------------------------------------------------------ */

/* Gregorian to Solar Hijri: the arithmetic of the 2820-year-free 33-year
 * rule used by Iran's calendar tables for 1178-1633 SH (e.g. jdf.scr.ir),
 * exact for every date a subscription business meets. */
void web_jalali(int gy, int gm, int gd, int *jy, int *jm, int *jd)
{
	static const int g_d_m[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	long gy2 = gm > 2 ? gy + 1 : gy;
	long days = 355666 + 365L * gy + (gy2 + 3) / 4 - (gy2 + 99) / 100 + (gy2 + 399) / 400 + gd + g_d_m[(gm - 1) % 12];
	long y = -1595 + 33 * (days / 12053);
	days %= 12053;
	y += 4 * (days / 1461);
	days %= 1461;
	if (days > 365) {
		y += (days - 1) / 365;
		days = (days - 1) % 365;
	}
	*jy = (int)y;
	if (days < 186) {
		*jm = 1 + (int)(days / 31);
		*jd = 1 + (int)(days % 31);
	} else {
		*jm = 7 + (int)((days - 186) / 30);
		*jd = 1 + (int)((days - 186) % 30);
	}
}

static void ymd(tn_time t, int *y, int *m, int *d)
{
	char s[16];
	tn_date_format(t, s, sizeof s);
	*y = *m = *d = 0;
	if (sscanf(s, "%d-%d-%d", y, m, d) != 3)
		*y = *m = *d = 0;
}

char *web_date(const web_ctx *c, tn_time t, char *buf, size_t n)
{
	char tmp[32];
	if (t == TN_NO_TIME) {
		snprintf(buf, n, "%s", "–");
		return buf;
	}
	if (c->solar) {
		int y, m, d, jy, jm, jd;
		ymd(t, &y, &m, &d);
		web_jalali(y, m, d, &jy, &jm, &jd);
		snprintf(tmp, sizeof tmp, "%04d/%02d/%02d", jy, jm, jd);
	} else
		tn_date_format(t, tmp, sizeof tmp);
	return web_digits(c, tmp, buf, n);
}

char *web_month(const web_ctx *c, tn_time t, char *buf, size_t n)
{
	char tmp[32];
	if (c->solar) /* a Gregorian period shown by the Solar Hijri date it starts on */
		return web_date(c, t, buf, n);
	snprintf(tmp, sizeof tmp, "%.7s", tn_date_format(t, buf, n));
	return web_digits(c, tmp, buf, n);
}
