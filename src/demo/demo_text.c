/*
 * demo_text.c -- the demo company's free-text answers: short exit-survey and
 * feedback texts in English, Arabic and Persian, written the way customers
 * write, for each of the six feedback types.  The demo picks one by the
 * customer's language and the reason they leave (demo.c).
 */
#include "demo/demo_text.h"

#include <stddef.h>

/* Index: [type][language][variant]; types in tn_demo_reason order. */
static const char *const texts[DEMO_NREASONS][3][4] = {
	[DEMO_FUNCTIONALITY] = {
		{"the workout tracker doesnt save my progress", "sync between phone and watch doesnt work",
		 "reminders never go off", "export to pdf is broken"},
		{"التطبيق لا يحفظ التقدم في التمارين", "المزامنة مع الساعة لا تعمل",
		 "التذكيرات لا تظهر ابدا", "خاصية التصدير لا تعمل"},
		{"برنامه پیشرفت تمرین رو ذخیره نمیکنه", "همگام سازی با ساعت کار نمیکنه",
		 "یادآورها اصلا کار نمیکنن", "خروجی گرفتن کار نمیکنه"}},
	[DEMO_FEATURE_REQUEST] = {
		{"pls add dark mode", "would love an offline mode", "need a family plan option",
		 "add arabic workouts plz"},
		{"نتمنى إضافة الوضع الليلي", "اتمنى يكون فيه وضع بدون انترنت", "ياريت تضيفوا باقة عائلية",
		 "نريد تمارين باللغة العربية"},
		{"لطفا حالت شب اضافه کنید", "کاش حالت آفلاین داشت", "یه پلن خانوادگی اضافه کنید",
		 "تمرینای فارسی هم بذارید"}},
	[DEMO_USABILITY] = {
		{"too confusing, cant find anything", "the menus are a mess", "hard to use, too many steps",
		 "i never understood how to start a plan"},
		{"التطبيق معقد وصعب الاستخدام", "القوائم مربكة جدا", "خطوات كثيرة لأي شيء",
		 "ما فهمت كيف ابدأ الخطة"},
		{"خیلی گیج کننده ست", "منوها شلوغ و نامفهومن", "کار باهاش سخته، مراحل زیاده",
		 "نفهمیدم چطوری برنامه رو شروع کنم"}},
	[DEMO_RELIABILITY] = {
		{"app crashes every time i log in", "keeps freezing on android", "super slow and buggy",
		 "lost all my data after the update"},
		{"التطبيق يقفل كل ما أسجل دخول", "يعلق كثير على الاندرويد", "بطيء جدا وفيه مشاكل",
		 "ضاعت كل بياناتي بعد التحديث"},
		{"برنامه موقع ورود کرش میکنه", "مدام هنگ میکنه", "خیلی کند و پر از باگه",
		 "بعد از آپدیت همه اطلاعاتم پاک شد"}},
	[DEMO_CUSTOMER_SERVICE] = {
		{"support never answered my emails", "rude customer service", "waited 2 weeks for a reply",
		 "nobody helped me with my problem"},
		{"الدعم الفني ما رد على رسائلي", "خدمة العملاء سيئة جدا", "انتظرت أسبوعين بدون رد",
		 "ما أحد ساعدني في مشكلتي"},
		{"پشتیبانی به ایمیلام جواب نداد", "برخورد پشتیبانی بد بود", "دو هفته منتظر جواب موندم",
		 "هیچکس مشکلمو حل نکرد"}},
	[DEMO_PRICING] = {
		{"too expensive for what it does", "i was charged twice this month", "cheaper apps do the same",
		 "price went up, not worth it"},
		{"الاشتراك غالي جدا", "تم خصم المبلغ مرتين", "في تطبيقات أرخص بنفس المميزات",
		 "السعر زاد وما يستاهل"},
		{"اشتراکش خیلی گرونه", "دوبار ازم پول کم شد", "برنامه های ارزونتر همینو دارن",
		 "قیمت رفت بالا، نمی ارزه"}},
};

static const char *const praise[3][3] = {
	{"love the app, use it every day", "great workouts, thanks!", "really helpful for my routine"},
	{"تطبيق رائع أستخدمه يوميا", "تمارين ممتازة شكرا لكم", "مفيد جدا لروتيني"},
	{"برنامه عالیه هر روز استفاده میکنم", "تمرینا خیلی خوبن ممنون", "برای روتینم خیلی مفیده"},
};

const char *demo_text(int reason, int lang, unsigned variant)
{
	if (reason < 0 || reason >= DEMO_NREASONS || lang < 0 || lang > 2)
		return NULL;
	return texts[reason][lang][variant % 4];
}

const char *demo_praise(int lang, unsigned variant)
{
	return praise[lang < 0 || lang > 2 ? 0 : lang][variant % 3];
}
