/*
 * time.c -- parsing and formatting of instants (see include/tenure/time.h).
 * Civil-date conversion: H. Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms" (days_from_civil / civil_from_days).
 */
#include "tenure/time.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

/* INT64_MIN: not pinned (tn_now_pin).  Atomic: the server's threads read it
 * while a fuzz target may set it. */
static _Atomic int64_t now_pinned = INT64_MIN;

tn_time tn_now(void)
{
	int64_t p = atomic_load_explicit(&now_pinned, memory_order_relaxed);
	return p != INT64_MIN ? p : (tn_time)time(NULL);
}

void tn_now_pin(tn_time t) { atomic_store_explicit(&now_pinned, t, memory_order_relaxed); }

/* tn_mono_pin(1): tn_mono stands still */
static _Atomic int mono_stopped;

void tn_mono_pin(int stop) { atomic_store_explicit(&mono_stopped, stop != 0, memory_order_relaxed); }

double tn_mono(void)
{
	/* pinned: stands still (a value no real uptime has, far from 0 so
	 * that "now - 0 >= a limit" still holds once) */
	if (atomic_load_explicit(&mono_stopped, memory_order_relaxed))
		return 1e6;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int64_t tn_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void tn_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* Days since the epoch of instant T, rounded down (no overflow at the ends
 * of the range, so TN_NO_TIME formats as a far date rather than trapping). */
static int64_t floor_days(tn_time t)
{
	int64_t d = t / TN_DAY;
	return t % TN_DAY < 0 ? d - 1 : d;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Read exactly N digits at *p; advance. */
static int digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (*p >= end || **p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int tn_time_parse(const char *s, size_t len, tn_time *out)
{
	const char *p = s, *end = s + len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return -1;

	/* All digits (optionally signed): Unix seconds, except that exactly 8
	 * unsigned digits are always a compact date YYYYMMDD (a bad one such as
	 * 20240230 is an error, never the Unix second 20240230 of 1970). */
	const char *q = p + (*p == '-' || *p == '+');
	const char *r = q;
	/* the value accumulated in the same pass (one loop a digit, not two:
	 * a time a row on every import); unsigned, so that a long run of
	 * digits wraps harmlessly before it is refused below */
	uint64_t uv = 0;
	while (r < end && *r >= '0' && *r <= '9')
		uv = uv * 10 + (uint64_t)(*r++ - '0');
	if (r == end && r > q) {
		if (r - q == 8 && q == p) {
			int y = 0, m = 0, d = 0;
			const char *t = p;
			digits(&t, end, 4, &y);
			digits(&t, end, 2, &m);
			digits(&t, end, 2, &d);
			if (y >= 1900 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
				*out = tn_days_from_civil(y, m, d) * TN_DAY;
				return 0;
			}
			return -1;
		}
		if (r - q > 12) /* beyond year 33658: not a plausible time */
			return -1;
		int64_t v = (int64_t)uv; /* at most 12 digits: no overflow */
		*out = *p == '-' ? -v : v;
		return 0;
	}

	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (digits(&p, end, 4, &y) || p >= end || *p++ != '-' || digits(&p, end, 2, &mo) || p >= end ||
	    *p++ != '-' || digits(&p, end, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	int64_t offset = 0;
	if (p < end) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (digits(&p, end, 2, &h) || p >= end || *p++ != ':' || digits(&p, end, 2, &mi))
			return -1;
		if (p < end && *p == ':') {
			p++;
			if (digits(&p, end, 2, &sec))
				return -1;
			if (p < end && (*p == '.' || *p == ',')) { /* fractions are dropped */
				p++;
				if (p >= end || *p < '0' || *p > '9')
					return -1;
				while (p < end && *p >= '0' && *p <= '9')
					p++;
			}
		}
		if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec)))
			return -1;
		if (p < end) {
			if (*p == 'Z' || *p == 'z') {
				p++;
			} else if (*p == '+' || *p == '-') {
				int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
				if (digits(&p, end, 2, &oh))
					return -1;
				if (p < end && *p == ':')
					p++;
				if (p < end && digits(&p, end, 2, &om))
					return -1;
				if (oh > 23 || om > 59)
					return -1;
				offset = sign * (oh * 3600 + om * 60);
			} else {
				return -1;
			}
		}
		if (p != end)
			return -1;
	}
	*out = tn_days_from_civil(y, mo, d) * TN_DAY + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) - offset;
	return 0;
}

char *tn_time_format(tn_time t, char *buf, size_t n)
{
	int64_t days = floor_days(t);
	int64_t rem = t - days * TN_DAY;
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
		 (int)(rem % 60));
	return buf;
}

char *tn_date_format(tn_time t, char *buf, size_t n)
{
	int64_t days = floor_days(t);
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%04d-%02d-%02d", y, m, d);
	return buf;
}

tn_time tn_month_start(tn_time t)
{
	int64_t days = floor_days(t);
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	return tn_days_from_civil(y, m, 1) * TN_DAY;
}

tn_time tn_add_months(tn_time t, int k)
{
	int64_t days = floor_days(t);
	int y, m, d;
	tn_civil_from_days(days, &y, &m, &d);
	int mm = y * 12 + (m - 1) + k;
	y = mm >= 0 ? mm / 12 : -((-mm + 11) / 12);
	m = mm - y * 12 + 1;
	return tn_days_from_civil(y, m, 1) * TN_DAY;
}

tn_time tn_day_end(tn_time t)
{
	return floor_days(t) * TN_DAY + TN_DAY - 1;
}

int tn_as_of_parse(const char *s, size_t len, tn_time *out)
{
	if (tn_time_parse(s, len, out))
		return -1;
	int date_only = (len == 10 && s[4] == '-' && s[7] == '-') || len == 8;
	for (size_t i = 0; len == 8 && i < len; i++)
		date_only &= s[i] >= '0' && s[i] <= '9';
	if (date_only)
		*out = tn_day_end(*out);
	return 0;
}
