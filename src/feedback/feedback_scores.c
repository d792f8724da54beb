/*
 * feedback_scores.c -- survey scores over plain arrays: NPS, CSAT, CES and
 * the Wilson interval.  One pass each, no allocation, so 10 million answers
 * take well under a second (bench/bench_feedback.sh).
 *
 * NPS (Reichheld, "The one number you need to grow", HBR 2003): promoters
 * answer 9-10, passives 7-8, detractors 0-6 on the 0-10 scale; NPS = 100 (p - d).
 * Its variance is that of the difference of two multinomial shares,
 * Var(p - d) = (p + d - (p - d)^2) / n, so the 95% interval is
 * NPS +- 1.96 * 100 * sqrt(Var) (normal approximation; see e.g. Rocks,
 * "Confidence intervals for the Net Promoter Score", 2016).
 * CSAT: the share of 4 and 5 on the 1-5 scale, Wilson interval (Wilson,
 * "Probable inference...", JASA 1927).  CES: the mean on the 1-7 scale with
 * the normal interval mean +- 1.96 s / sqrt(n).
 */
#include "tenure/feedback.h"

#include <math.h>
#include <string.h>

#define Z95 1.959963984540054

void tn_fb_wilson(size_t k, size_t n, double *lo, double *hi)
{
	if (n == 0) {
		*lo = *hi = NAN;
		return;
	}
	double p = (double)k / (double)n, z2 = Z95 * Z95, nn = (double)n;
	double c = (p + z2 / (2 * nn)) / (1 + z2 / nn);
	double h = Z95 * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
	*lo = c - h < 0 ? 0 : c - h;
	*hi = c + h > 1 ? 1 : c + h;
}

void tn_fb_nps(const double *x, size_t n, tn_fb_score *out)
{
	size_t pro = 0, pas = 0, det = 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		if (!(v >= 0 && v <= 10)) /* NaN and out of range are skipped */
			continue;
		if (v >= 9)
			pro++;
		else if (v >= 7)
			pas++;
		else
			det++;
	}
	memset(out, 0, sizeof *out);
	out->n = pro + pas + det;
	out->promoters = pro;
	out->passives = pas;
	out->detractors = det;
	if (out->n == 0) {
		out->value = out->lo = out->hi = NAN;
		return;
	}
	double nn = (double)out->n, p = (double)pro / nn, d = (double)det / nn;
	double var = (p + d - (p - d) * (p - d)) / nn;
	out->value = 100 * (p - d);
	out->lo = out->value - Z95 * 100 * sqrt(var);
	out->hi = out->value + Z95 * 100 * sqrt(var);
	if (out->lo < -100)
		out->lo = -100;
	if (out->hi > 100)
		out->hi = 100;
}

void tn_fb_csat(const double *x, size_t n, tn_fb_score *out)
{
	size_t k = 0, m = 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		if (!(v >= 1 && v <= 5))
			continue;
		m++;
		k += v >= 4;
	}
	memset(out, 0, sizeof *out);
	out->n = m;
	if (m == 0) {
		out->value = out->lo = out->hi = NAN;
		return;
	}
	out->value = 100.0 * (double)k / (double)m;
	tn_fb_wilson(k, m, &out->lo, &out->hi);
	out->lo *= 100;
	out->hi *= 100;
}

void tn_fb_ces(const double *x, size_t n, tn_fb_score *out)
{
	/* Welford's running mean and variance (Knuth TAOCP vol. 2, 4.2.2) */
	size_t m = 0;
	double mean = 0, m2 = 0;
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		if (!(v >= 1 && v <= 7))
			continue;
		m++;
		double d = v - mean;
		mean += d / (double)m;
		m2 += d * (v - mean);
	}
	memset(out, 0, sizeof *out);
	out->n = m;
	if (m == 0) {
		out->value = out->lo = out->hi = NAN;
		return;
	}
	out->value = mean;
	double se = m > 1 ? sqrt(m2 / (double)(m - 1) / (double)m) : NAN;
	out->lo = mean - Z95 * se;
	out->hi = mean + Z95 * se;
}
