/* test_value.c -- the customer-base models against their published fits
 * (tests/data/README.md) and the special functions in hard regions. */
#include "testutil.h"
#include "tenure/frame.h"
#include "tenure/value.h"
#include "tenure/store.h"
#include <unistd.h>

/* ---- special functions ---------------------------------------------------- */

static void test_logaddexp(void **state)
{
	(void)state;
	assert_near(tn_value_logaddexp(1000, 1000), 1000 + log(2), 1e-12);
	assert_near(tn_value_logaddexp(-1000, -1000), -1000 + log(2), 1e-12);
	assert_near(tn_value_logaddexp(0, -800), 0, 1e-300);
	assert_near(tn_value_logaddexp(-INFINITY, -5), -5, 0);
	assert_near(tn_value_logaddexp(log(3), log(5)), log(8), 1e-15);
	/* 2^-20 is exact next to 1000: log(1 - e^-x) = log x + log(1 - x/2 + x^2/6 - ...) */
	double x = ldexp(1, -20);
	assert_near(tn_value_logsubexp(1000, 1000 - x), 1000 + log(x) + log1p(-x / 2 + x * x / 6), 1e-12);
	assert_near(tn_value_logsubexp(1000, 999.5), 1000 + log(1 - exp(-0.5)), 1e-12);
	assert_near(tn_value_logsubexp(log(8), log(5)), log(3), 1e-15);
	assert_true(tn_value_logsubexp(1, 1) == -INFINITY);
	assert_near(tn_value_logsubexp(-745, -800), -745, 1e-12);
}

static void test_hyp2f1(void **state)
{
	(void)state;
	/* closed forms (Abramowitz & Stegun 15.1.3-15.1.11) */
	double z = 0.3;
	assert_near(tn_value_hyp2f1(1, 1, 2, z), -log(1 - z) / z, 1e-14);
	/* z -> 1, logarithmic case c = a + b (A&S 15.3.10): -ln(1-z)/z */
	z = 1 - 1e-10;
	assert_near(tn_value_hyp2f1(1, 1, 2, z) / (-log1p(-z) / z), 1, 1e-10);
	z = 0.999;
	assert_near(tn_value_hyp2f1(1, 1, 2, z) / (-log1p(-z) / z), 1, 1e-12);
	/* 2F1(a, b; b; z) = (1-z)^-a, c-a-b = -a non-integer, near 1 */
	assert_near(tn_value_hyp2f1(0.5, 1.7, 1.7, 0.999999) / pow(1e-6, -0.5), 1, 1e-10);
	/* 2F1(1/2, 1; 3/2; z^2) = atanh(z)/z (A&S 15.1.5), c-a-b = 0 */
	double y = 0.9999;
	assert_near(tn_value_hyp2f1(0.5, 1, 1.5, y * y) / (atanh(y) / y), 1, 1e-12);
	/* 2F1(1, 1; 3; z) = 2 (z + (1 - z) ln(1 - z)) / z^2, c-a-b = 1 (A&S 15.3.11) */
	z = 0.99;
	assert_near(tn_value_hyp2f1(1, 1, 3, z), 2 * (z + (1 - z) * log(1 - z)) / (z * z), 1e-12);
	/* c-a-b = -2 (Euler's transformation first): 2F1(2, 2; 2; z) = (1-z)^-2 */
	assert_near(tn_value_hyp2f1(2, 2, 2, 0.95) * 0.05 * 0.05, 1, 1e-12);
	/* large parameters: 2F1(a, b; b; z) = (1-z)^-a with a = 150 */
	assert_near(tn_value_hyp2f1(150, 3.5, 3.5, 0.5) / pow(0.5, -150), 1, 1e-11);
	/* terminating: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1)) */
	assert_near(tn_value_hyp2f1(-2, 3, 4, 0.9), 1 - 2 * 3 * 0.9 / 4 + 3 * 4 * 0.81 / 20, 1e-14);
	/* negative z: 2F1(1, 1; 2; -0.5) = ln(1.5)/0.5 */
	assert_near(tn_value_hyp2f1(1, 1, 2, -0.5), log(1.5) / 0.5, 1e-14);
	assert_true(isnan(tn_value_hyp2f1(1, 1, 2, 1)));
	/* general values from mpmath 1.2.1 hyp2f1 at 40 digits, in the regions the models use:
	 * Pareto/NBD's 2F1(r+s+x, s+1; r+s+x+1; z) with z -> 1 (c-a-b = -s), the sBG
	 * 2F1(1, beta+n; alpha+beta+n; 1/(1+d)), and c-a-b within 1e-7 of an integer */
	static const double ref[][5] = {
		{3.159, 1.606, 4.159, 0.999, 325.19783245173199678},
		{8.159, 1.606, 9.159, 0.9999999, 234950.9723537209266},
		{3.159, 2.553, 4.159, 0.95, 194.32053247750222774},
		{2.5, 1.5, 3.7, 0.85, 5.2028821779107572872},
		{0.3, 0.7, 1.0000001, 0.9, 1.5295041222010007873},
		{12.2, 3.1, 4.4, 0.5, 728.7733911930272756},
		{1, 12.8, 13.5, 1 / 1.01, 33.950163454333789186},
		{1, 1.7, 2.4, 1 / 1.001, 27.86790157311053171},
	};
	for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++)
		assert_near(tn_value_hyp2f1(ref[i][0], ref[i][1], ref[i][2], ref[i][3]) / ref[i][4], 1, 1e-13);
}

/* ---- sBG ------------------------------------------------------------------ */

/* Fader & Hardie (2007), Table 1 / tests/data/README.md: years 0..7 */
static const double regular[] = {1000, 631, 468, 382, 326, 289, 262, 241};
static const double highend[] = {1000, 869, 743, 653, 593, 551, 517, 491};

static void test_sbg(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_value_fit f;
	assert_int_equal(tn_value_sbg_fit(regular, 8, &f, &err), TN_OK);
	assert_true(f.converged);
	/* published alpha = 0.704, beta = 1.182 */
	assert_near(f.params[0], 0.704, 0.0005);
	assert_near(f.params[1], 1.182, 0.0005);
	assert_int_equal(tn_value_sbg_fit(highend, 8, &f, &err), TN_OK);
	/* published alpha = 0.668, beta = 3.806, LL = -1611.2 */
	assert_near(f.params[0], 0.668, 0.0005);
	assert_near(f.params[1], 3.806, 0.0005);
	assert_near(f.loglik, -1611.2, 0.05);
	assert_true(f.se[0] > 0 && f.se[0] < 1);
	/* survival and retention agree with each other: S(t) = prod r_k */
	double s = 1;
	for (int t = 1; t <= 12; t++)
		s *= tn_value_sbg_retention(f.params[0], f.params[1], t);
	assert_near(tn_value_sbg_survival(f.params[0], f.params[1], 12), s, 1e-12);
	/* DERL and E[CLV] (2F1 forms) equal the direct discounted sums of S(t) */
	double a = f.params[0], b = f.params[1], d = 0.1, sum = 0, sum5 = 0;
	for (int t = 0; t < 20000; t++) {
		sum += tn_value_sbg_survival(a, b, t) / pow(1 + d, t);
		if (t >= 5)
			sum5 += tn_value_sbg_survival(a, b, t) / tn_value_sbg_survival(a, b, 4) / pow(1 + d, t - 5);
	}
	assert_near(tn_value_sbg_elv(a, b, d), sum, 1e-9);
	assert_near(tn_value_sbg_derl(a, b, 5, d), sum5, 1e-9);
	/* bad input */
	const double grow[] = {1000, 900, 950};
	assert_int_not_equal(tn_value_sbg_fit(grow, 3, &f, &err), TN_OK);
	assert_non_null(strstr(err.msg, "survivors cannot grow"));
	tn_error_clear(&err);
	const double flat[] = {100, 100, 100};
	assert_int_equal(tn_value_sbg_fit(flat, 3, &f, &err), TN_ERR_NUMERIC);
}

/* ---- BG/NBD, Pareto/NBD, Gamma-Gamma on CDNOW ------------------------------ */

static tn_frame *cdnow(const char *rel, int *ix, int *it, int *iT)
{
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(require_data(rel), NULL, 0, &err);
	if (!f)
		fail_msg("%s", err.msg);
	int first = tn_frame_find(f, "frequency") >= 0;
	*ix = tn_frame_require(f, first ? "frequency" : "x", 1, &err);
	*it = tn_frame_require(f, first ? "recency" : "t_x", 1, &err);
	*iT = tn_frame_require(f, "T", 1, &err);
	assert_true(*ix >= 0 && *it >= 0 && *iT >= 0);
	return f;
}

static void test_bgnbd(void **state)
{
	(void)state;
	int ix, it, iT;
	tn_frame *f = cdnow("cdnow/cdnow_customers_summary.csv", &ix, &it, &iT);
	tn_error err = {0};
	tn_value_fit fit;
	assert_int_equal(tn_value_bgnbd_fit(f->cols[ix].num, f->cols[it].num, f->cols[iT].num, f->nrows, &fit, &err),
			 TN_OK);
	/* Fader, Hardie & Lee (2005a): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4 */
	assert_true(fit.converged);
	assert_int_equal(fit.n, 2357);
	assert_true(fit.ndistinct < fit.n);
	assert_near(fit.params[0], 0.243, 0.0005);
	assert_near(fit.params[1], 4.414, 0.0005);
	assert_near(fit.params[2], 0.793, 0.0005);
	assert_near(fit.params[3], 2.426, 0.0005);
	assert_near(fit.loglik, -9582.4, 0.05);
	for (int k = 0; k < 4; k++)
		assert_true(fit.se[k] > 0 && fit.se[k] < fit.params[k]);
	/* FHL (2005a) p. 280: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226 */
	assert_near(tn_value_bgnbd_expected(fit.params, 2, 30.43, 38.86, 39), 1.226, 0.0005);
	/* E[Y(t)] of someone who never came back stays below a new customer's E[X(t)] */
	assert_true(tn_value_bgnbd_expected(fit.params, 0, 0, 38.86, 39) < tn_value_bgnbd_unconditional(fit.params, 39));
	/* the vectorised path equals eq. 10 term by term, and the CLV is its discounted increments */
	double E[105];
	const double cases[][3] = {{2, 30.43, 38.86}, {0, 0, 2.5}, {0, 0, 38.86}, {40, 38, 38.86}, {1, 0.5, 0.5}};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		tn_value_bgnbd_expected_path(fit.params, cases[c][0], cases[c][1], cases[c][2], 104, E);
		for (int t = 1; t <= 104; t++) {
			double want = tn_value_bgnbd_expected(fit.params, cases[c][0], cases[c][1], cases[c][2], t);
			assert_near(E[t], want, 1e-12 * (1 + want));
		}
		double clv = 0, df = 1;
		for (int t = 1; t <= 104; t++) {
			df /= 1.01;
			clv += (E[t] - E[t - 1]) * df;
		}
		double etx;
		assert_near(tn_value_clv(TN_VALUE_BGNBD, fit.params, cases[c][0], cases[c][1], cases[c][2], 20, 104, 0.01,
					 0.3, &etx),
			    clv * 20 * 0.3, 1e-9);
		assert_near(etx, E[104], 1e-12);
	}
	/* a = 1 (where eq. 10 is 0/0) lies between a = 1 -+ 0.001 */
	double q1[4] = {0.25, 4.4, 1, 2.4}, q0[4] = {0.25, 4.4, 0.999, 2.4}, q2[4] = {0.25, 4.4, 1.001, 2.4};
	double y1 = tn_value_bgnbd_expected(q1, 2, 30, 38, 39), y0 = tn_value_bgnbd_expected(q0, 2, 30, 38, 39);
	double y2 = tn_value_bgnbd_expected(q2, 2, 30, 38, 39);
	assert_true(isfinite(y1) && (y1 - y0) * (y2 - y1) > 0);
	assert_near(y1, 0.5 * (y0 + y2), 1e-6);
	tn_value_bgnbd_expected_path(q1, 2, 30, 38, 39, E);
	assert_near(E[39], y1, 1e-9); /* both lose ~1e-11 to the cancellation near a = 1 */
	assert_true(isfinite(tn_value_bgnbd_unconditional(q1, 39)));
	double pa = tn_value_bgnbd_palive(fit.params, 2, 30.43, 38.86);
	assert_true(pa > 0.5 && pa < 1);
	/* P(alive) = exp(A1 + A2 + A3 - LL) (FHL 2005a eq. 6 and 13) */
	const double *q = fit.params;
	double a123 = lgamma(q[0] + 2) - lgamma(q[0]) + q[0] * log(q[1]) + lgamma(q[2] + q[3]) + lgamma(q[3] + 2) -
		      lgamma(q[3]) - lgamma(q[2] + q[3] + 2) - (q[0] + 2) * log(q[1] + 38.86);
	assert_near(pa, exp(a123 - tn_value_bgnbd_ll1(q, 2, 30.43, 38.86)), 1e-12);
	assert_near(tn_value_bgnbd_palive(fit.params, 0, 0, 38.86), 1, 0);
	/* no repeat buyers: refused */
	double zx[3] = {0, 0, 0}, zt[3] = {0, 0, 0}, zT[3] = {10, 20, 30};
	tn_error_clear(&err);
	assert_int_equal(tn_value_bgnbd_fit(zx, zt, zT, 3, &fit, &err), TN_ERR_NUMERIC);
	assert_non_null(strstr(err.msg, "no customer made a repeat purchase"));
	tn_error_clear(&err);
	zx[1] = 1; /* t_x = 0 with x = 1 is fine; t_x > T is not */
	zt[1] = 25;
	assert_int_equal(tn_value_bgnbd_fit(zx, zt, zT, 3, &fit, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "row 2"));
	tn_frame_free(f);
}

static void test_pnbd(void **state)
{
	(void)state;
	int ix, it, iT;
	tn_frame *f = cdnow("cdnow/cdnow_customers_summary.csv", &ix, &it, &iT);
	tn_error err = {0};
	tn_value_fit fit;
	assert_int_equal(tn_value_pnbd_fit(f->cols[ix].num, f->cols[it].num, f->cols[iT].num, f->nrows, &fit, &err),
			 TN_OK);
	/* Fader, Hardie & Lee (2005a), Pareto/NBD: r = 0.553, alpha = 10.578, s = 0.606,
	 * beta = 11.669, LL = -9595.0; the likelihood is flat along s/beta */
	assert_near(fit.params[0], 0.553, 0.0005);
	assert_near(fit.params[1], 10.578, 0.005);
	assert_near(fit.params[2], 0.606, 0.005);
	assert_near(fit.params[3], 11.669, 0.2);
	assert_near(fit.loglik, -9595.0, 0.05);
	/* the alpha < beta branch equals the alpha >= beta branch at alpha == beta
	 * (continuity of note 008 eq. 22 across the two cases) */
	double p1[4] = {0.55, 10.0, 0.6, 10.0}, p2[4] = {0.55, 10.0, 0.6, 10.0 + 1e-9};
	assert_near(tn_value_pnbd_ll1(p1, 3, 20, 38), tn_value_pnbd_ll1(p2, 3, 20, 38), 1e-8);
	double pa = tn_value_pnbd_palive(fit.params, 2, 30.43, 38.86);
	assert_true(pa > 0 && pa < 1);
	/* heavy buyers in both branches: the series would overflow without Euler's transformation */
	double h1[4] = {0.55, 10.6, 0.6, 11.7}, h2[4] = {0.55, 40, 0.6, 2};
	assert_true(isfinite(tn_value_pnbd_ll1(h1, 900, 30, 38.86)));
	assert_true(isfinite(tn_value_pnbd_ll1(h2, 900, 30, 38.86)));
	assert_true(tn_value_pnbd_palive(h2, 900, 38.85, 38.86) > 0.5); /* ~11 purchases a week, none for 0.01 week */
	assert_true(tn_value_pnbd_palive(h2, 900, 38, 38.86) < 0.1); /* ... none for 0.86 week */
	/* P(alive) is the share of the likelihood from "still alive at T" (note 008 eq. 18 vs 22) */
	const double *q = fit.params;
	double alive = lgamma(q[0] + 2) - lgamma(q[0]) + q[0] * log(q[1]) + q[2] * log(q[3]) -
		       (q[0] + 2) * log(q[1] + 38.86) - q[2] * log(q[3] + 38.86);
	assert_near(pa, exp(alive - tn_value_pnbd_ll1(q, 2, 30.43, 38.86)), 1e-12);
	assert_true(tn_value_pnbd_expected(fit.params, 2, 30.43, 38.86, 39) > 0);
	double E[53];
	tn_value_pnbd_expected_path(fit.params, 2, 30.43, 38.86, 52, E);
	for (int t = 1; t <= 52; t++) {
		assert_near(E[t], tn_value_pnbd_expected(fit.params, 2, 30.43, 38.86, t), 1e-14);
		assert_true(E[t] > E[t - 1]);
	}
	tn_frame_free(f);
}

static void test_gg(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(require_data("cdnow/cdnow_customers_summary_with_transactions.csv"), NULL, 0,
				       &err);
	assert_non_null(f);
	int ix = tn_frame_require(f, "x", 1, &err), im = tn_frame_require(f, "zbar", 1, &err);
	tn_value_fit fit;
	assert_int_equal(tn_value_gg_fit(f->cols[ix].num, f->cols[im].num, f->nrows, &fit, &err), TN_OK);
	/* Fader & Hardie note 025 on the 946 repeat buyers: p = 6.25, q = 3.74, gamma = 15.44 */
	assert_int_equal(fit.n, 946);
	assert_near(fit.params[0], 6.25, 0.005);
	assert_near(fit.params[1], 3.74, 0.005);
	assert_near(fit.params[2], 15.44, 0.01);
	/* E[M] moves from the population mean p gamma/(q-1) towards the customer's mean */
	double pop = tn_value_gg_mean(fit.params, 0, 0), m = 100;
	double e1 = tn_value_gg_mean(fit.params, 1, m), e10 = tn_value_gg_mean(fit.params, 10, m);
	assert_true(pop < e1 && e1 < e10 && e10 < m);
	tn_frame_free(f);
}

/* ---- summary: the order of the rows ----------------------------------------- */

/* tn_value_summarize orders the rows by customer and day (a radix
 * permutation): days before 1970 (negative) sort first, and a customer's
 * purchases on one day count as one, whatever order the rows come in. */
static void test_summary_order(void **state)
{
	(void)state;
	tn_error err = {0};
	tn_value_txns *t = tn_value_txns_new();
	assert_non_null(t);
	/* b: days 14, -7, 14 (two rows on day 14); a: days 3, 1 */
	assert_int_equal(tn_value_txns_add(t, "b", 14 * TN_DAY + 5, 2.0, &err), TN_OK);
	assert_int_equal(tn_value_txns_add(t, "a", 3 * TN_DAY, 10.0, &err), TN_OK);
	assert_int_equal(tn_value_txns_add(t, "b", -7 * TN_DAY, 1.0, &err), TN_OK);
	assert_int_equal(tn_value_txns_add(t, "a", 1 * TN_DAY, 20.0, &err), TN_OK);
	assert_int_equal(tn_value_txns_add(t, "b", 14 * TN_DAY, 4.0, &err), TN_OK);
	tn_value_summary *s;
	assert_int_equal(tn_value_summarize(t, 21 * TN_DAY, 7, &s, &err), TN_OK);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->id[0], "a");
	assert_near(s->x[0], 1, 0);
	assert_near(s->t_x[0], 2.0 / 7, 1e-12);
	assert_near(s->T[0], 20.0 / 7, 1e-12);
	assert_near(s->monetary[0], 10.0, 0);
	assert_near(s->revenue[0], 30.0, 0);
	assert_string_equal(s->id[1], "b");
	assert_near(s->x[1], 1, 0);
	assert_near(s->t_x[1], 3, 1e-12);
	assert_near(s->T[1], 4, 1e-12);
	assert_near(s->monetary[1], 6.0, 0);
	assert_near(s->first[1], -7.0 * TN_DAY, 0);
	tn_value_summary_free(s);
	tn_value_txns_free(t);
}

/* ---- summary from the CDNOW log -------------------------------------------- */

static void test_summary(void **state)
{
	(void)state;
	tn_error err = {0};
	const char *cols[] = {"master", "id", "date", "cds", "amount"};
	tn_value_read_opts o = {.whitespace = 1, .no_header = 1, .columns = cols, .ncolumns = 5,
				.customer = "id", .date = "date", .amount = "amount"};
	tn_value_txns *t;
	assert_int_equal(tn_value_txns_read(require_data("cdnow/CDNOW_sample.txt"), &o, &t, &err), TN_OK);
	assert_int_equal(tn_value_txns_count(t), 6919);
	tn_time end;
	assert_int_equal(tn_time_parse("1997-09-30", 10, &end), 0);
	tn_value_summary *s;
	assert_int_equal(tn_value_summarize(t, end, 7, &s, &err), TN_OK);
	tn_frame *f = tn_frame_read_csv(require_data("cdnow/cdnow_customers_summary_with_transactions.csv"), NULL, 0,
				       &err);
	assert_non_null(f);
	assert_int_equal(s->n, f->nrows);
	int iid = tn_frame_require(f, "ID", 1, &err), ix = tn_frame_require(f, "x", 1, &err);
	int it = tn_frame_require(f, "t_x", 1, &err), iT = tn_frame_require(f, "T", 1, &err);
	int iz = tn_frame_require(f, "zbar", 1, &err);
	for (size_t i = 0; i < s->n; i++) {
		/* the published summary is rounded to 2 decimals */
		assert_near(strtod(s->id[i], NULL), f->cols[iid].num[i], 0);
		assert_near(s->x[i], f->cols[ix].num[i], 0);
		assert_near(s->t_x[i], f->cols[it].num[i], 0.005 + 1e-9);
		assert_near(s->T[i], f->cols[iT].num[i], 0.005 + 1e-9);
		assert_near(s->monetary[i], f->cols[iz].num[i], 0.005 + 1e-9);
	}
	tn_frame_free(f);
	tn_value_summary_free(s);
	tn_value_txns_free(t);
	/* a bad date names file, line and column */
	tn_error_clear(&err);
	FILE *fp = fopen("value_bad.csv", "w");
	assert_non_null(fp);
	fputs("cust,when,amt\na,2024-01-01,3\nb,yesterday,4\n", fp);
	fclose(fp);
	tn_value_read_opts o2 = {.customer = "cust", .date = "when", .amount = "amt"};
	assert_int_equal(tn_value_txns_read("value_bad.csv", &o2, &t, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "value_bad.csv:3:2:"));
	assert_non_null(strstr(err.msg, "yesterday"));
	remove("value_bad.csv");
}

/* the store's purchase events summarised like a file: sessions are ignored,
 * two purchases on one day are one purchase with the amounts summed */
static void test_store(void **state)
{
	(void)state;
	tn_error err = {0};
	char path[] = "/tmp/tenure_value_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	remove(path);
	tn_store *st;
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &st, &err), TN_OK);
	const char *ids[] = {"c1", "c2", "c3"};
	for (int i = 0; i < 3; i++) {
		tn_customer_rec c = {.id = ids[i], .signed_up_at = TN_NO_TIME};
		assert_int_equal(tn_store_put_customer(st, &c, NULL, &err), TN_OK);
	}
	tn_time d0 = 1704067200; /* 2024-01-01 */
	struct { const char *c; int day; const char *type; double amt; } ev[] = {
		{"c1", 0, "purchase", 10}, {"c1", 7, "purchase", 20}, {"c1", 14, "purchase", 30},
		{"c1", 14, "session", NAN}, {"c2", 3, "purchase", 5}, {"c2", 3, "session", NAN},
		{"c3", 10, "purchase", 8}, {"c3", 24, "purchase", 4}, {"c3", 24, "purchase", 6}, {"c3", 40, "purchase", 99}};
	for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) {
		char eid[16];
		snprintf(eid, sizeof eid, "e%zu", i);
		tn_event_rec e = {ev[i].c, d0 + ev[i].day * TN_DAY + 3600 * (tn_time)i, ev[i].type, ev[i].amt, eid};
		assert_int_equal(tn_store_put_event(st, &e, &err), TN_OK);
	}
	assert_int_equal(tn_store_flush(st, NULL, &err), TN_OK);
	tn_value_txns *t;
	assert_int_equal(tn_value_txns_from_store(st, &t, &err), TN_OK);
	assert_int_equal(tn_value_txns_count(t), 8);
	assert_int_equal(tn_value_txns_last_day(t), d0 + 40 * TN_DAY);
	tn_value_summary *s;
	assert_int_equal(tn_value_summarize(t, d0 + 28 * TN_DAY, 7, &s, &err), TN_OK);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->id[0], "c1");
	assert_near(s->x[0], 2, 0);
	assert_near(s->t_x[0], 2, 1e-15);
	assert_near(s->T[0], 4, 1e-15);
	assert_near(s->monetary[0], 25, 1e-12);
	assert_near(s->x[1], 0, 0);
	assert_near(s->monetary[1], 0, 0);
	assert_near(s->x[2], 1, 0); /* day 40 is after the calibration end */
	assert_near(s->t_x[2], 2, 1e-15);
	assert_near(s->T[2], 18.0 / 7, 1e-15);
	assert_near(s->monetary[2], 10, 1e-12);
	tn_value_summary_free(s);
	tn_value_txns_free(t);
	tn_store_close(st);
	remove(path);
}

/* at-risk pipeline on a simulated store: 300 customers in 3 channels, the
 * "search" ones buying often and staying; segments must add up to the total */
static void test_segments(void **state)
{
	(void)state;
	tn_error err = {0};
	char path[] = "/tmp/tenure_value_seg_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	remove(path);
	tn_store *st;
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &st, &err), TN_OK);
	const char *ch[] = {"organic", "paid_social", "search"};
	tn_time d0 = 1704067200; /* 2024-01-01 */
	unsigned seed = 7;
	for (int i = 0; i < 300; i++) {
		char id[16], eid[32];
		snprintf(id, sizeof id, "u%03d", i);
		tn_customer_rec c = {.id = id, .signed_up_at = TN_NO_TIME, .channel = ch[i % 3]};
		assert_int_equal(tn_store_put_customer(st, &c, NULL, &err), TN_OK);
		int gap = i % 3 == 2 ? 9 : 30, life = i % 3 == 2 ? 300 : 60 + 3 * (i % 40);
		for (int day = i % 20, k = 0; day < life && day < 360; day += gap + (int)((seed = seed * 1103515245u + 12345u) >> 28), k++) {
			snprintf(eid, sizeof eid, "%s-%d", id, k);
			tn_event_rec e = {id, d0 + (tn_time)day * TN_DAY, "purchase", 10.0 + (i % 7) + k % 3, eid};
			assert_int_equal(tn_store_put_event(st, &e, &err), TN_OK);
		}
	}
	assert_int_equal(tn_store_flush(st, NULL, &err), TN_OK);
	tn_value_txns *t;
	tn_value_summary *s;
	assert_int_equal(tn_value_txns_from_store(st, &t, &err), TN_OK);
	assert_int_equal(tn_value_summarize(t, tn_value_txns_last_day(t), 7, &s, &err), TN_OK);
	assert_int_equal(s->n, 300);
	tn_value_fit tf, gf;
	assert_int_equal(tn_value_bgnbd_fit(s->x, s->t_x, s->T, s->n, &tf, &err), TN_OK);
	assert_int_equal(tn_value_gg_fit(s->x, s->monetary, s->n, &gf, &err), TN_OK);
	tn_value_score_opts so = {TN_VALUE_BGNBD, tf.params, gf.params, 52, 0.01, 0.3};
	tn_value_scores *sc;
	assert_int_equal(tn_value_score(&so, s->x, s->t_x, s->T, s->monetary, s->n, &sc, &err), TN_OK);
	char **lab;
	assert_int_equal(tn_value_segments_from_store(st, "channel", s->id, s->n, &lab, &err), TN_OK);
	assert_string_equal(lab[0], "organic");
	assert_string_equal(lab[2], "search");
	tn_value_segment *g;
	size_t ng;
	assert_int_equal(tn_value_segment_table(lab, s->n, sc->palive, sc->clv, s->revenue, 0.3, &g, &ng, &err), TN_OK);
	assert_int_equal(ng, 4);
	assert_string_equal(g[0].label, "search"); /* frequent, loyal buyers are worth most */
	assert_string_equal(g[3].label, "(all)");
	double cust = 0, fut = 0, risk = 0, rev = 0, rev2 = 0, clv = 0;
	for (size_t i = 0; i < 3; i++) {
		cust += (double)g[i].customers;
		fut += g[i].future;
		risk += g[i].at_risk;
		rev += g[i].revenue;
		assert_true(g[i].at_risk >= 0 && g[i].p_alive > 0 && g[i].p_alive <= 1);
		assert_near(g[i].profit, 0.3 * g[i].revenue, 1e-9);
	}
	for (size_t i = 0; i < s->n; i++) {
		rev2 += s->revenue[i];
		clv += sc->clv[i];
	}
	assert_near(cust, 300, 0);
	assert_near(g[3].future, fut, 1e-9 * fut);
	assert_near(g[3].future, clv, 1e-9 * clv);
	assert_near(g[3].at_risk, risk, 1e-9 * risk);
	assert_near(g[3].revenue, rev, 1e-9);
	assert_near(rev, rev2, 1e-9);
	char **bad;
	assert_int_equal(tn_value_segments_from_store(st, "shoe_size", s->id, s->n, &bad, &err), TN_ERR_USAGE);
	assert_null(bad);
	tn_value_segments_free(g, ng);
	tn_value_labels_free(lab, s->n);
	tn_value_scores_free(sc);
	tn_value_summary_free(s);
	tn_value_txns_free(t);
	tn_store_close(st);
	remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logaddexp), cmocka_unit_test(test_hyp2f1), cmocka_unit_test(test_sbg),
		cmocka_unit_test(test_bgnbd),     cmocka_unit_test(test_pnbd),   cmocka_unit_test(test_gg),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_order),   cmocka_unit_test(test_store),  cmocka_unit_test(test_segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
