/*
 * text_themes.c -- the built-in theme list: a short theme per feedback type
 * with keywords in English, Arabic and Persian (as customers write them:
 * informal spellings, Gulf/Egyptian/Levantine Arabic, colloquial Persian).
 *
 * Keywords are matched as substrings of the normalised text (text_norm.c),
 * so they are written here in ordinary spelling and normalised at model
 * creation; Arabic prefixes (al-, wa-, bi-) need no extra entries.  The
 * training data's theme column uses exactly these names.
 */
#include "feedback/text_internal.h"

#include <stddef.h>

const tn_fb_theme_def tn_fb_themes[] = {
	/* functionality */
	{TN_FB_FUNCTIONALITY, "feature not working",
	 "doesnt work|doesn't work|does not work|not working|dont work|broken|stopped working|"
	 "ما يشتغل|مايشتغل|مش شغال|لا يعمل|لا تعمل|ما تشتغل|معطل|خربان|"
	 "کار نمیکنه|کار نمی کنه|کار نمیکند|خرابه|خراب شده|کار نمیده"},
	{TN_FB_FUNCTIONALITY, "sync not working",
	 "sync|syncing|between devices|other device|"
	 "مزامنة|المزامنة|بين الاجهزة|الجهاز الثاني|"
	 "همگام|سینک|دستگاه دیگه|گوشی دیگه"},
	{TN_FB_FUNCTIONALITY, "notifications not working",
	 "notification|notifs|reminder|alerts|"
	 "اشعار|إشعار|الاشعارات|تنبيه|التنبيهات|"
	 "نوتیف|اعلان|یادآور|یاداور"},
	{TN_FB_FUNCTIONALITY, "login problems",
	 "login|log in|sign in|signin|password|verification code|otp|"
	 "تسجيل الدخول|ادخل|أدخل|كلمة السر|كلمة المرور|الباسورد|رمز التحقق|"
	 "لاگین|وارد بشم|ورود|رمز عبور|پسورد|کد تایید"},
	{TN_FB_FUNCTIONALITY, "data lost",
	 "lost my|lost all|disappeared|deleted my|gone|missing data|history is gone|"
	 "ضاعت|ضاع|اختفت|انحذفت|راحت كل|مسحت|"
	 "پاک شد|پاک شده|از بین رفت|غیب شد|حذف شد"},
	/* feature_request */
	{TN_FB_FEATURE_REQUEST, "dark mode",
	 "dark mode|darkmode|night mode|dark theme|"
	 "الوضع الليلي|الوضع الداكن|دارك مود|الثيم الاسود|"
	 "حالت شب|دارک مود|تم تیره|حالت تاریک"},
	{TN_FB_FEATURE_REQUEST, "language support",
	 "arabic|persian|farsi|language|translation|rtl|"
	 "اللغة|العربية|عربي|الفارسية|ترجمة|"
	 "فارسی|زبان|ترجمه|راست به چپ"},
	{TN_FB_FEATURE_REQUEST, "offline mode",
	 "offline|without internet|no internet|without wifi|"
	 "بدون انترنت|بدون نت|اوفلاين|بدون اتصال|"
	 "آفلاین|افلاین|بدون اینترنت|بدون نت"},
	{TN_FB_FEATURE_REQUEST, "export and integrations",
	 "export|integration|integrate|google|calendar|csv|pdf|excel|apple watch|widget|"
	 "تصدير|ربط|تقويم|قوقل|جوجل|ويدجت|"
	 "خروجی|اکسل|تقویم|گوگل|ویجت|اتصال به"},
	{TN_FB_FEATURE_REQUEST, "missing feature",
	 "please add|pls add|plz add|would be nice|wish|would love|should have|need a|needs a|feature request|add option|"
	 "ياريت|يا ريت|اتمنى|أتمنى|ضيفوا|اضيفوا|أضيفوا|نبي|نتمنى|لو تضيفون|ميزة|"
	 "کاش|لطفا اضافه|اضافه کنید|اضافه کنین|بذارید|بزارید|قابلیت|امکان"},
	/* usability */
	{TN_FB_USABILITY, "confusing interface",
	 "confusing|confused|complicated|hard to use|not intuitive|cluttered|messy|"
	 "مربك|معقد|صعب الاستخدام|مو واضح|مش واضح|ملخبط|لخبطة|"
	 "گیج|پیچیده|سخته|شلوغ|گنگ|واضح نیست"},
	{TN_FB_USABILITY, "hard to find things",
	 "can't find|cant find|cannot find|where is|hidden|too many steps|too many taps|menu|"
	 "مش لاقي|ما لقيت|مالقيت|وين|فين|الاعدادات|القائمة|خطوات كثير|"
	 "پیدا نمیکنم|پیدا نکردم|کجاست|منو|تنظیمات|مراحل زیاد"},
	{TN_FB_USABILITY, "small text and design",
	 "font|text is too small|tiny|design|ugly|colors|colours|layout|buttons|"
	 "الخط|صغير|التصميم|الالوان|الأزرار|شكل التطبيق|"
	 "فونت|ریز|طراحی|رنگ|دکمه|ظاهر"},
	{TN_FB_USABILITY, "too many popups",
	 "popup|pop-up|pop up|ads everywhere|too many ads|annoying messages|"
	 "اعلانات كثير|نوافذ|رسائل مزعجة|"
	 "پاپ|تبلیغ زیاد|پیام های مزاحم"},
	{TN_FB_USABILITY, "unclear onboarding",
	 "onboarding|tutorial|how to use|first time|instructions|"
	 "شرح|كيف استخدم|كيف أستخدم|تعليمات|"
	 "آموزش|اموزش|راهنما|چطوری استفاده"},
	/* reliability */
	{TN_FB_RELIABILITY, "app crashes",
	 "crash|crashes|crashing|closes by itself|shuts down|force close|kicks me out|"
	 "كراش|يقفل|يطلعني|يسكر|يتوقف|بيقفل|يطفي|"
	 "کرش|بسته میشه|میپره بیرون|می پره بیرون|خودش بسته"},
	{TN_FB_RELIABILITY, "slow and freezing",
	 "slow|lag|laggy|freez|frozen|loading|takes forever|stuck|hangs|"
	 "بطيء|بطئ|بطيئ|ثقيل|يعلق|معلق|تحميل|يهنق|"
	 "کند|هنگ|لود|گیر میکنه|کنده|سنگین"},
	{TN_FB_RELIABILITY, "bugs after update",
	 "update|updated|new version|since the update|"
	 "التحديث|تحديث|النسخة الجديدة|"
	 "آپدیت|اپدیت|بروزرسانی|نسخه جدید"},
	{TN_FB_RELIABILITY, "battery drain",
	 "battery|drains|overheat|hot|"
	 "البطارية|بطارية|يسخن|حرارة|"
	 "باتری|داغ|شارژ گوشی"},
	{TN_FB_RELIABILITY, "server errors",
	 "error|server|something went wrong|went down|outage|connection|"
	 "خطأ|خطا|السيرفر|سيرفر|مشكلة في الاتصال|"
	 "ارور|خطا|سرور|قطع|اتصال"},
	/* customer_service */
	{TN_FB_CUSTOMER_SERVICE, "slow support response",
	 "no reply|no response|never replied|never answered|waiting|still waiting|days|weeks|ignored|"
	 "ما ردوا|ماحد رد|ما حد رد|لا يوجد رد|ما في رد|محدش رد|بستنى|انتظر|"
	 "جواب ندادن|جواب نمیدن|جواب نداد|منتظر|هفته|روزه"},
	{TN_FB_CUSTOMER_SERVICE, "rude support",
	 "rude|unhelpful|unprofessional|attitude|disrespect|"
	 "وقح|قليل الادب|اسلوب|أسلوب|سيء التعامل|ما يحترم|"
	 "بی ادب|بی‌ادب|بد رفتار|برخورد|بی احترامی"},
	{TN_FB_CUSTOMER_SERVICE, "no way to contact",
	 "contact|phone number|live chat|email|reach|"
	 "التواصل|اتواصل|رقم|تواصل|ايميل|شات|"
	 "تماس|ایمیل|شماره|چت|راه ارتباطی"},
	{TN_FB_CUSTOMER_SERVICE, "issue not resolved",
	 "not resolved|didnt fix|didn't fix|didn't help|didnt help|copy paste|same answer|bot|"
	 "ما حلوا|ما حلو|لم تحل|ما ساعدوني|نفس الرد|ردود جاهزة|"
	 "حل نشد|حل نکردن|کمکی نکردن|جواب تکراری|ربات"},
	/* pricing_billing */
	{TN_FB_PRICING_BILLING, "too expensive",
	 "expensive|pricey|overpriced|too much|price|cost|afford|cheaper|"
	 "غالي|غالية|مكلف|السعر|الاسعار|سعر|ارخص|أرخص|"
	 "گرون|گران|قیمت|هزینه|ارزون"},
	{TN_FB_PRICING_BILLING, "charged unexpectedly",
	 "charged|charge|billed twice|double charged|after trial|free trial|auto renew|renewed|"
	 "خصم|خصموا|سحبوا|انسحب|الفترة التجريبية|التجربة المجانية|تجديد تلقائي|"
	 "کسر شد|کم شد|کسر کردن|دوره آزمایشی|دوره رایگان|تمدید خودکار"},
	{TN_FB_PRICING_BILLING, "refund request",
	 "refund|money back|my money|reimburse|"
	 "استرجاع|استرداد|ارجاع|فلوسي|رجعوا|"
	 "برگشت پول|پولم|بازگشت وجه|پس بدید|استرداد"},
	{TN_FB_PRICING_BILLING, "payment failed",
	 "payment failed|card declined|declined|can't pay|cant pay|payment method|paypal|"
	 "الدفع|البطاقة|الفيزا|ما قدرت ادفع|طريقة الدفع|"
	 "پرداخت|کارت|درگاه|نتونستم پرداخت"},
	{TN_FB_PRICING_BILLING, "not worth the price",
	 "not worth|worth it|waste of money|value for money|"
	 "ما يستاهل|ما يسوى|لا يستحق|مايستاهل|خسارة فلوس|"
	 "ارزش نداره|نمی ارزه|نمیارزه|حیف پول"},
	/* praise: not a complaint */
	{TN_FB_PRAISE, "praise", /* unambiguous phrases only: "would be great if..." is a request */
	 "love it|love this app|love the app|awesome app|amazing app|thank you|helpful app|best app|well done|"
	 "رائع|شكرا لكم|شكرا على|احسن تطبيق|يعطيكم العافية|تسلم ايدكم|"
	 "ممنون|دوستش دارم|بهترین برنامه|دمتون گرم|عالیه"},
};

const size_t tn_fb_ntheme_defs = sizeof tn_fb_themes / sizeof tn_fb_themes[0];

size_t tn_fb_theme_count(void) { return tn_fb_ntheme_defs; }
const char *tn_fb_theme_name(size_t i) { return i < tn_fb_ntheme_defs ? tn_fb_themes[i].name : NULL; }
int tn_fb_theme_type(size_t i) { return i < tn_fb_ntheme_defs ? tn_fb_themes[i].type : -1; }
