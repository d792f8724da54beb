/*
 * value_specfun.c -- the special functions the customer-base models need:
 * log-sum-exp, log-beta, digamma and the Gauss hypergeometric function 2F1.
 *
 * 2F1(a, b; c; z) for real parameters and -1 < z < 1:
 *   z <= 0.8       the defining power series (Abramowitz & Stegun 15.1.1);
 *   z > 0.8        the linear transformation to 1 - z (A&S 15.3.6) when
 *                  m = c - a - b is not an integer; for integer m >= 0 the
 *                  logarithmic case (A&S 15.3.10 / 15.3.11), and for m < 0
 *                  Euler's transformation (A&S 15.3.3) first.
 * lgamma_r gives log|Gamma| with its sign, so the prefactors never overflow.
 */
#include <math.h>
#include "analyses/value_internal.h"

#define SERIES_MAX 10000000L
#define EPS 1e-17

double tn_value_logaddexp(double a, double b)
{
	if (a == -INFINITY)
		return b;
	if (b == -INFINITY)
		return a;
	double m = a > b ? a : b;
	return m + log1p(exp(-fabs(a - b)));
}

double tn_value_logsubexp(double a, double b)
{
	if (b > a)
		return NAN;
	if (b == -INFINITY)
		return a;
	double d = b - a; /* <= 0 */
	/* log(1 - e^d): Maechler (2012), "Accurately computing log(1 - exp(-|a|))" */
	return a + (d > -M_LN2 ? log(-expm1(d)) : log1p(-exp(d)));
}

double tn_value_lbeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* log|Gamma(x)| and its sign; sign 0 when x is a pole (0, -1, -2, ...). */
static double lgam(double x, int *sign)
{
	if (x <= 0 && x == floor(x)) {
		*sign = 0;
		return INFINITY;
	}
	return lgamma_r(x, sign);
}

/* Digamma psi(x): recurrence up to x >= 6, then the asymptotic series
 * (A&S 6.3.18); reflection (A&S 6.3.7) for x < 0. */
double tn_value_digamma(double x)
{
	if (x <= 0 && x == floor(x))
		return NAN;
	if (x < 0)
		return tn_value_digamma(1 - x) - M_PI / tan(M_PI * x);
	double acc = 0;
	while (x < 6) {
		acc -= 1 / x;
		x += 1;
	}
	double f = 1 / (x * x);
	double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))));
	return acc + log(x) - 0.5 / x + t;
}

static int is_int(double v)
{
	return v == floor(v);
}

/* The power series; NaN when it has not converged after SERIES_MAX terms. */
static double series(double a, double b, double c, double z)
{
	double term = 1, sum = 1;
	for (long k = 0; k < SERIES_MAX; k++) {
		term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
		sum += term;
		if (term == 0 || (fabs(term) <= EPS * fabs(sum) && k > 2))
			return sum;
		if (!isfinite(sum))
			return NAN;
	}
	return NAN;
}

/* A&S 15.3.6: c - a - b = m not an integer. */
static double transform_1mz(double a, double b, double c, double z)
{
	double m = c - a - b, w = 1 - z;
	int s1, s2, s3, s4, s5, s6;
	double lc = lgam(c, &s1);
	double t1 = 0, t2 = 0;
	double l3 = lgam(c - a, &s3), l4 = lgam(c - b, &s4), lm = lgam(m, &s2);
	if (s3 != 0 && s4 != 0)
		t1 = s1 * s2 * s3 * s4 * exp(lc + lm - l3 - l4) * series(a, b, 1 - m, w);
	double l5 = lgam(a, &s5), l6 = lgam(b, &s6), lmm = lgam(-m, &s2);
	if (s5 != 0 && s6 != 0)
		t2 = s1 * s2 * s5 * s6 * exp(lc + lmm - l5 - l6 + m * log(w)) * series(c - a, c - b, m + 1, w);
	return t1 + t2;
}

/* A&S 15.3.10 (m = 0) and 15.3.11 (m = 1, 2, ...): c = a + b + m. */
static double transform_log(double a, double b, int m, double z)
{
	double w = 1 - z, lw = log(w);
	int sc, sa, sb, sam, sbm, sm;
	double lc = lgam(a + b + m, &sc);
	double sum1 = 0;
	if (m > 0) {
		double lpre = lgam(m, &sm) + lc - lgam(a + m, &sam) - lgam(b + m, &sbm);
		if (sam != 0 && sbm != 0) {
			double term = 1, s = 1;
			for (int n = 0; n < m - 1; n++) {
				term *= (a + n) * (b + n) / ((n + 1) * (1.0 - m + n)) * w;
				s += term;
			}
			sum1 = sm * sc * sam * sbm * exp(lpre) * s;
		}
	}
	double la = lgam(a, &sa), lb = lgam(b, &sb);
	if (sa == 0 || sb == 0)
		return sum1;
	/* coefficient (a+m)_n (b+m)_n / (n! (n+m)!) and the bracket with digammas */
	double lcoef = lc - la - lb - lgamma(m + 1.0);
	double coef = 1, s = 0;
	double pa = tn_value_digamma(a + m), pb = tn_value_digamma(b + m), p1 = tn_value_digamma(1),
	       pm = tn_value_digamma(m + 1.0);
	for (long n = 0; n < 100000; n++) {
		double br = lw - p1 - pm + pa + pb;
		double term = coef * br;
		s += term;
		if (n > 2 && fabs(term) <= EPS * fabs(s))
			break;
		coef *= (a + m + n) * (b + m + n) / ((n + 1.0) * (n + m + 1.0)) * w;
		pa += 1 / (a + m + n);
		pb += 1 / (b + m + n);
		p1 += 1 / (n + 1.0);
		pm += 1 / (n + m + 1.0);
	}
	double sign = (m % 2 == 0) ? 1 : -1; /* (z-1)^m = (-1)^m w^m */
	return sum1 - sign * sc * sa * sb * exp(lcoef + m * lw) * s;
}

double tn_value_hyp2f1(double a, double b, double c, double z)
{
	if (!(z > -1 && z < 1) || (c <= 0 && is_int(c)))
		return NAN;
	if (z == 0)
		return 1;
	/* a terminating series (a or b a non-positive integer) is a polynomial */
	if ((a <= 0 && is_int(a)) || (b <= 0 && is_int(b)) || z <= 0.8)
		return series(a, b, c, z);
	double m = c - a - b;
	if (!is_int(m) && fabs(m - nearbyint(m)) > 1e-6)
		return transform_1mz(a, b, c, z);
	int mi = (int)nearbyint(m);
	if (fabs(m - mi) > 0) {
		/* nearly an integer: the two 15.3.6 terms cancel; the series is exact */
		return series(a, b, c, z);
	}
	if (mi >= 0)
		return transform_log(a, b, mi, z);
	/* Euler: F(a,b;c;z) = (1-z)^m F(c-a, c-b; c; z), whose c-a-b is -m > 0 */
	return pow(1 - z, m) * tn_value_hyp2f1(c - a, c - b, c, z);
}
