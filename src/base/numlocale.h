/*
 * numlocale.h -- internal: numbers read and written in the "C" locale (a '.'
 * decimal point, no grouping) whatever locale the host program set with
 * setlocale().  A program embedding libtenure may run in de_DE, where plain
 * strtod reads "1.5" as 1 and printf writes "1,5"; the library's readers
 * (tn_parse_double) and its text writers (tn_sbuf_printf: the report and its
 * SVG) go through these.  Each call switches the calling thread's locale with
 * uselocale() for its duration only.  Not part of the public API.
 */
#ifndef TN_NUMLOCALE_H
#define TN_NUMLOCALE_H

#include <stdarg.h>
#include <stddef.h>

/* strtod in the "C" locale. */
double tn_strtod_c(const char *s, char **end);

/* vsnprintf / snprintf in the "C" locale. */
int tn_vsnprintf_c(char *buf, size_t n, const char *fmt, va_list ap);
int tn_snprintf_c(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
