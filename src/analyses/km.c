/*
 * km.c -- Kaplan-Meier, Nelson-Aalen, quantiles (median) and chart steps.
 *
 * Sources: Kaplan & Meier (1958); Greenwood's variance and the log-log
 * interval as in Kalbfleisch & Prentice (2002), "The Statistical Analysis of
 * Failure Time Data", 2nd ed., sec. 1.4 and 4.3; the exact conventions
 * (which rows are NaN, the median rule) are those of R survival 3.x
 * (Therneau): survfit.km, survfit_confint and quantile.survfit.
 *
 * Sorting: the n times and the event times are sorted separately with a
 * radix sort (radix.c) and merged, so a fit is a few linear passes.
 */
#include "tenure/survival.h"
#include "base/alloc.h"
#include "base/radix.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* z quantile for a two-sided CONF level: Acklam's rational approximation
 * refined by one Halley step on erfc (Acklam 2003; accurate to ~1e-15). */
static double qnorm_upper(double conf)
{
	double p = 1.0 - (1.0 - conf) / 2.0; /* lower-tail probability */
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
				   1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
				   6.680131188771972e+01, -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
				   -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
				   3.754408661907416e+00};
	double x;
	if (p < 0.02425) {
		double q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	} else if (p <= 1 - 0.02425) {
		double q = p - 0.5, r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	} else {
		double q = sqrt(-2 * log(1 - p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	for (int it = 0; it < 2; it++) {
		double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
		double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
		x = x - u / (1 + x * u / 2);
	}
	return x;
}

double tn_normal_z(double conf_level)
{
	return qnorm_upper(conf_level);
}

double tn_normal_two_sided(double z)
{
	return erfc(fabs(z) / sqrt(2.0));
}

/* Upper tail of chi-square with integer df, closed forms (Abramowitz &
 * Stegun 26.4.4 and 26.4.5). */
double tn_chisq_upper(double x, int df)
{
	if (!(x > 0) || df < 1)
		return 1.0;
	double h = x / 2;
	if (df % 2 == 0) {
		double term = 1, sum = 1;
		for (int k = 1; k < df / 2; k++) {
			term *= h / k;
			sum += term;
		}
		return exp(-h) * sum;
	}
	double q = erfc(sqrt(h));
	double term = sqrt(h) / (sqrt(M_PI) / 2), sum = 0;
	for (int k = 1; k <= (df - 1) / 2; k++) {
		sum += term;
		term *= h / (k + 0.5);
	}
	return q + exp(-h) * sum;
}

static int check_rows(const double *time, const double *event, size_t n, tn_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!(time[i] >= 0) || !isfinite(time[i]))
			return tn_error_set(err, TN_ERR_INPUT,
					    "row %zu: expected a finite time >= 0, found %g", i + 1, time[i]);
		if (event[i] != 0 && event[i] != 1)
			return tn_error_set(err, TN_ERR_INPUT,
					    "row %zu: expected an event of 0 or 1, found %g", i + 1, event[i]);
	}
	return TN_OK;
}

void tn_km_free(tn_km *km)
{
	if (!km)
		return;
	free(km->time); /* one block holds every array */
	free(km);
}

static double key_time(uint64_t k)
{
	union { double d; uint64_t u; } v;
	v.u = (k >> 63) ? (k & 0x7FFFFFFFFFFFFFFFull) : ~k;
	return v.d;
}

/* Sorted keys of all times and of the event times in rows of group g. */
static int sorted_keys(const double *time, const double *event, const int *group, int g, size_t n,
		       uint64_t **all, size_t *nall, uint64_t **ev, size_t *nev)
{
	size_t na = 0, ne = 0;
	for (size_t i = 0; i < n; i++)
		if (!group || group[i] == g) {
			na++;
			ne += event[i] == 1;
		}
	*all = tn_malloc((na ? na : 1) * sizeof **all);
	*ev = tn_malloc((ne ? ne : 1) * sizeof **ev);
	if (!*all || !*ev)
		return -1;
	size_t a = 0, e = 0;
	for (size_t i = 0; i < n; i++)
		if (!group || group[i] == g) {
			uint64_t k = tn_radix_dkey(time[i]);
			(*all)[a++] = k;
			if (event[i] == 1)
				(*ev)[e++] = k;
		}
	*nall = na;
	*nev = ne;
	if (tn_radix_sort_u64(*all, na) || tn_radix_sort_u64(*ev, ne))
		return -1;
	return 0;
}

static void confint(tn_km *km, double z)
{
	for (size_t i = 0; i < km->ntimes; i++) {
		double p = km->surv[i];
		if (p == 0 || p == 1) {
			km->lower[i] = km->upper[i] = NAN;
			continue;
		}
		double se2 = z * km->se_log[i] / log(p);
		km->lower[i] = exp(-exp(log(-log(p)) - se2));
		km->upper[i] = exp(-exp(log(-log(p)) + se2));
	}
}

int tn_km_fit(const double *time, const double *event, const int *group, int g, size_t n,
	      double conf_level, tn_km **out, tn_error *err)
{
	*out = NULL;
	if (!(conf_level > 0 && conf_level < 1))
		return tn_error_set(err, TN_ERR_USAGE, "confidence level must be in (0, 1), found %g", conf_level);
	if (check_rows(time, event, n, err))
		return tn_error_code(err, TN_ERR_INPUT);
	uint64_t *all = NULL, *ev = NULL;
	size_t na, ne;
	tn_km *km = tn_calloc(1, sizeof *km);
	if (!km || sorted_keys(time, event, group, g, n, &all, &na, &ev, &ne)) {
		free(all);
		free(ev);
		free(km);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory sorting %zu times", n);
	}
	size_t nt = 0;
	for (size_t i = 0; i < na; i++)
		nt += i == 0 || all[i] != all[i - 1];
	double *block = tn_malloc((nt ? nt : 1) * 11 * sizeof(double));
	if (!block) {
		free(all);
		free(ev);
		free(km);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for %zu times", nt);
	}
	double **arrays[] = {&km->time, &km->n_risk, &km->n_event, &km->n_censor, &km->surv, &km->se,
			     &km->se_log, &km->lower, &km->upper, &km->cumhaz, &km->se_cumhaz};
	for (size_t k = 0; k < 11; k++)
		*arrays[k] = block + k * (nt ? nt : 1);
	km->n = na;
	km->events = (double)ne;
	km->conf_level = conf_level;
	km->ntimes = nt;
	/* Product limit S = prod (1 - d/n); Greenwood var(log S) = sum d/(n(n-d));
	 * Nelson-Aalen H = sum d/n, var H = sum d/n^2 (as survfit's std.chaz). */
	double s = 1, gw = 0, h = 0, vh = 0;
	size_t i = 0, e = 0, t = 0;
	while (i < na) {
		uint64_t k = all[i];
		size_t j = i;
		while (j < na && all[j] == k)
			j++;
		double nr = (double)(na - i), d = 0;
		while (e < ne && ev[e] == k) {
			d++;
			e++;
		}
		if (d > 0) {
			s *= 1 - d / nr;
			gw += nr > d ? d / (nr * (nr - d)) : INFINITY;
			h += d / nr;
			vh += d / (nr * nr);
		}
		km->time[t] = key_time(k);
		km->n_risk[t] = nr;
		km->n_event[t] = d;
		km->n_censor[t] = (double)(j - i) - d;
		km->surv[t] = s;
		km->se_log[t] = sqrt(gw);
		km->se[t] = s * sqrt(gw);
		km->cumhaz[t] = h;
		km->se_cumhaz[t] = sqrt(vh);
		t++;
		i = j;
	}
	free(all);
	free(ev);
	confint(km, qnorm_upper(conf_level));
	tn_km_quantile(km, 0.5, &km->median, &km->median_lower, &km->median_upper);
	*out = km;
	return TN_OK;
}

tn_km_value tn_km_at(const tn_km *km, double t)
{
	tn_km_value v = {t, NAN, NAN, NAN, NAN, NAN, NAN};
	if (km->ntimes == 0 || t > km->time[km->ntimes - 1])
		return v;
	/* binary search: last index with time <= t */
	size_t lo = 0, hi = km->ntimes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (km->time[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0) {
		v.n_risk = km->n_risk[0];
		v.surv = 1;
		v.se = 0;
		v.lower = v.upper = 1;
		v.cumhaz = 0;
		return v;
	}
	size_t i = lo - 1;
	v.n_risk = km->time[i] == t ? km->n_risk[i] : (i + 1 < km->ntimes ? km->n_risk[i + 1] : 0);
	v.surv = km->surv[i];
	v.se = km->surv[i] == 0 ? NAN : km->se[i];
	v.lower = km->lower[i];
	v.upper = km->upper[i];
	v.cumhaz = km->cumhaz[i];
	return v;
}

/* R's findq (survival:::findq): points x = (0, times), y = (0, 1 - curve);
 * duplicated y dropped (the first kept, one NaN kept), then approx(...,
 * method = "constant", f = 1) drops the NaN ones.  indx1 = first point with
 * y + tol >= p, indx2 = first with y - tol >= p; the answer is the mean of
 * their x, or (x[indx1] + last time) / 2 when p is the last y. */
static double findq(const double *time, const double *curve, size_t nt, double p)
{
	const double tol = sqrt(DBL_EPSILON);
	double xmax = nt ? time[nt - 1] : 0;
	double ymax = 0, prev_y = 0, last_y = 0, x1 = NAN, x2 = NAN;
	int seen_nan = 0, have1 = tol >= p, have2 = -tol >= p;
	if (have1)
		x1 = 0;
	if (have2)
		x2 = 0;
	for (size_t i = 0; i < nt; i++) {
		if (isnan(curve[i])) {
			if (!seen_nan)
				last_y = NAN;
			seen_nan = 1;
			continue;
		}
		double y = 1 - curve[i];
		if (y == prev_y)
			continue;
		prev_y = y;
		last_y = y;
		if (y > ymax)
			ymax = y;
		if (!have1 && y + tol >= p) {
			have1 = 1;
			x1 = time[i];
		}
		if (!have2 && y - tol >= p) {
			have2 = 1;
			x2 = time[i];
		}
	}
	if (ymax < p)
		return NAN;
	if (p == 0)
		return 0;
	if (!isnan(last_y) && have1 && fabs(p - last_y) < tol)
		return (x1 + xmax) / 2;
	if (!have1 || !have2)
		return NAN;
	return (x1 + x2) / 2;
}

void tn_km_quantile(const tn_km *km, double p, double *q, double *lower, double *upper)
{
	*q = findq(km->time, km->surv, km->ntimes, p);
	if (lower)
		*lower = findq(km->time, km->lower, km->ntimes, p);
	if (upper)
		*upper = findq(km->time, km->upper, km->ntimes, p);
}

void tn_km_steps_free(tn_km_steps *s)
{
	if (!s)
		return;
	free(s->time);
	free(s);
}

int tn_km_steps_new(const tn_km *km, size_t max_points, tn_km_steps **out, tn_error *err)
{
	*out = NULL;
	if (max_points < 4)
		max_points = 4;
	tn_km_steps *s = tn_calloc(1, sizeof *s);
	double *block = tn_malloc(4 * max_points * sizeof(double));
	if (!s || !block) {
		free(s);
		free(block);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory for %zu chart points", max_points);
	}
	s->time = block;
	s->surv = block + max_points;
	s->lower = block + 2 * max_points;
	s->upper = block + 3 * max_points;
	size_t n = 0;
	s->time[n] = 0;
	s->surv[n] = s->lower[n] = s->upper[n] = 1;
	n++;
	/* Pick event times evenly spread in time, then always the last time
	 * (so the chart reaches the end of follow-up). */
	double tmax = km->ntimes ? km->time[km->ntimes - 1] : 0;
	double step = tmax / (double)(max_points - 2);
	double next = 0;
	for (size_t i = 0; i < km->ntimes; i++) {
		int last = i + 1 == km->ntimes;
		if (!last && (n >= max_points - 1 || !(km->n_event[i] > 0) || km->time[i] < next))
			continue;
		next = km->time[i] + step;
		s->time[n] = km->time[i];
		s->surv[n] = km->surv[i];
		s->lower[n] = km->surv[i] == 1 ? 1 : km->lower[i];
		s->upper[n] = km->surv[i] == 1 ? 1 : km->upper[i];
		n++;
	}
	s->n = n;
	*out = s;
	return TN_OK;
}
