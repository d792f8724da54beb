/*
 * tenure/time.h -- instants as Unix seconds (UTC), parsed from what businesses
 * export: ISO-8601 date-times with or without a zone ("2024-03-01T09:30:00Z",
 * "2024-03-01 09:30:00+03:30", "2024-03-01T09:30"), plain dates
 * ("2024-03-01", also the compact "20240301"), or Unix seconds ("1709285400").
 * A time without a zone is taken as UTC.  Calendar arithmetic is proleptic
 * Gregorian and does not depend on the process's TZ.
 */
#ifndef TENURE_TIME_H
#define TENURE_TIME_H

#include <stdint.h>
#include <stddef.h>
#include "tenure/error.h"

typedef int64_t tn_time; /* seconds since 1970-01-01T00:00:00Z */

#define TN_DAY 86400

/* Parse S (LEN bytes; not necessarily NUL-terminated).  Returns 0 and stores
 * the instant in *out, or -1 when S is not a time (no message: the caller
 * knows the file, line and column). */
TN_API int tn_time_parse(const char *s, size_t len, tn_time *out);

/* Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithm). */
TN_API int64_t tn_days_from_civil(int y, int m, int d);
TN_API void tn_civil_from_days(int64_t z, int *y, int *m, int *d);

/* Format T as "YYYY-MM-DDTHH:MM:SSZ" (buf >= 21 bytes) or, with tn_date_format,
 * "YYYY-MM-DD" (buf >= 11 bytes).  Returns buf. */
TN_API char *tn_time_format(tn_time t, char *buf, size_t n);
TN_API char *tn_date_format(tn_time t, char *buf, size_t n);

/* "As of" (docs/metrics.md): every figure as of a date counts the data up to
 * that day's end, DATE 23:59:59 UTC included.  tn_day_end gives that last
 * second of T's UTC day; tn_as_of_parse parses an --as-of value: a plain date
 * ("2026-10-31", "20261031") means the end of that day, an instant (with a
 * time of day, or Unix seconds) means itself.  Returns 0, or -1 when S is not
 * a time. */
TN_API tn_time tn_day_end(tn_time t);
TN_API int tn_as_of_parse(const char *s, size_t len, tn_time *out);

/* The first instant of T's UTC month, and of the month K months later. */
TN_API tn_time tn_month_start(tn_time t);
TN_API tn_time tn_add_months(tn_time t, int k);

/* The wall clock's "now" in seconds since 1970: every product reading of the
 * current instant goes through it (sessions, caps, decision and outcome
 * times, dates on pages), so one hook moves them all.  It reads time(), so
 * libfaketime (tests/clock.sh) still moves it; `--now` / `--as-of` options
 * pass their instant instead of calling it. */
TN_API tn_time tn_now(void);
/* Seconds of the monotonic clock, for durations and the ages of caches
 * (the server's key cache, read cache, reloads; timings in metrics). */
TN_API double tn_mono(void);
/* Tests and fuzz targets only: pin tn_now() at T (INT64_MIN, the store's
 * TN_NO_TIME: the clock again), so that a run's dates and caps do not depend
 * on when it runs; and stop tn_mono() (STOP 1; 0: the clock again), so that
 * cache reloads and timings do not depend on how fast it runs (a wait with
 * a budget, such as a dashboard page's for its figures, then waits until
 * what it waits for comes). */
TN_API void tn_now_pin(tn_time t);
TN_API void tn_mono_pin(int stop);

#endif
