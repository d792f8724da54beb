/*
 * numlocale.c -- strtod and snprintf in the "C" locale, for numbers in files
 * and reports whatever locale the host program chose (see numlocale.h).
 * The "C" locale object is made once (newlocale) and switched to per call
 * with uselocale(), which affects the calling thread only.
 */
#include "base/numlocale.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Switch the thread to the "C" locale; returns the locale to restore, or
 * (locale_t)0 when newlocale failed (out of memory) and nothing changed. */
static locale_t enter_c(void)
{
	pthread_once(&c_locale_once, c_locale_init);
	return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c(locale_t old)
{
	if (old)
		uselocale(old);
}

double tn_strtod_c(const char *s, char **end)
{
	locale_t old = enter_c();
	double v = strtod(s, end);
	leave_c(old);
	return v;
}

int tn_vsnprintf_c(char *buf, size_t n, const char *fmt, va_list ap)
{
	locale_t old = enter_c();
	int r = vsnprintf(buf, n, fmt, ap);
	leave_c(old);
	return r;
}

int tn_snprintf_c(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = tn_vsnprintf_c(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
