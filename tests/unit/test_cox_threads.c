/*
 * test_cox_threads.c -- a Cox fit whose per-iteration sums run on two threads
 * (cox.c: each thread owns some rows of the gradient and the information)
 * gives the same bits as on one thread: coefficients, variance, both
 * log-likelihoods, iterations, concordance -- for Efron and Breslow, with
 * tied times, strata, and several numbers of covariates (the split of the
 * triangle's rows differs with p).  And the merge-sort concordance gives
 * the tree's counts.
 */
#include "testutil.h"
#include "tenure/cox.h"
#include "analyses/cox_internal.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <math.h>

static void same(const char *what, const double *a, const double *b, size_t n, size_t p, int ties)
{
	if (memcmp(a, b, n * sizeof *a) != 0)
		for (size_t i = 0; i < n; i++)
			if (memcmp(&a[i], &b[i], sizeof *a) != 0)
				fail_msg("p=%zu ties=%d: %s[%zu]: one thread %.17g, two threads %.17g", p, ties, what, i,
					 a[i], b[i]);
}

static void test_two_threads_same_bits(void **state)
{
	(void)state;
	static const size_t ps[] = {2, 3, 10, 17};
	tn_rng r;
	tn_rng_seed(&r, 42, 7);
	const size_t n = 6000;
	for (size_t pi = 0; pi < sizeof ps / sizeof *ps; pi++) {
		size_t p = ps[pi];
		double *t = tn_malloc(n * sizeof *t), *e = tn_malloc(n * sizeof *e), *x = tn_malloc(n * p * sizeof *x);
		int *strata = tn_malloc(n * sizeof *strata);
		assert_true(t && e && x && strata);
		for (size_t i = 0; i < n; i++) {
			double lp = 0;
			for (size_t j = 0; j < p; j++) {
				x[i * p + j] = (j % 2) ? (double)(tn_rng_next(&r) % 100) / 50 - 1
						       : (double)(tn_rng_u01(tn_rng_next(&r)) < 0.3);
				lp += x[i * p + j] * ((double)j - (double)p / 2) / (double)p;
			}
			double u = tn_rng_u01(tn_rng_next(&r));
			t[i] = floor(-log(1 - u) / exp(lp) * 40) + 1; /* integer times: many ties */
			e[i] = t[i] > 100 ? 0 : (tn_rng_u01(tn_rng_next(&r)) < 0.8);
			if (t[i] > 100)
				t[i] = 100;
			strata[i] = (int)(tn_rng_next(&r) % 3);
		}
		for (int ties = TN_COX_EFRON; ties <= TN_COX_BRESLOW; ties++)
			for (int st = 0; st < 2; st++) {
				tn_cox_opts o = {0};
				o.ties = ties;
				tn_cox *f1 = NULL, *f2 = NULL;
				tn_error err = {0};
				tn_cox_set_threads(1);
				if (tn_cox_fit(t, e, x, n, p, st ? strata : NULL, &o, &f1, &err))
					fail_msg("one thread: %s", err.msg);
				tn_cox_set_threads(2);
				if (tn_cox_fit(t, e, x, n, p, st ? strata : NULL, &o, &f2, &err))
					fail_msg("two threads: %s", err.msg);
				/* the same fit from columns (tn_cox_fit_cols, the drivers
				 * command's path): all rows, or the odd rows of a frame
				 * twice as long (the even ones NaN, never read); taken */
				for (int th = 1; th <= 2; th++)
					for (int sub = 0; sub < 2; sub++) {
						size_t m = sub ? 2 * n : n, *rows = sub ? tn_malloc(n * sizeof *rows) : NULL;
						double **cols = tn_malloc(p * sizeof *cols);
						assert_true(cols && (rows || !sub));
						for (size_t i = 0; sub && i < n; i++)
							rows[i] = 2 * i + 1;
						for (size_t j = 0; j < p; j++) {
							assert_non_null(cols[j] = tn_malloc(m * sizeof **cols));
							for (size_t i = 0; i < m; i++)
								cols[j][i] = !sub ? x[i * p + j] : (i % 2) ? x[(i / 2) * p + j] : NAN;
						}
						tn_cox *f3 = NULL;
						tn_cox_set_threads(th);
						if (tn_cox_fit_cols(t, e, cols, rows, n, p, st ? strata : NULL, &o, 1, &f3, &err))
							fail_msg("columns: %s", err.msg);
						for (size_t j = 0; j < p; j++)
							assert_null(cols[j]); /* taken: freed */
						assert_int_equal(f1->iterations, f3->iterations);
						same("coef (columns)", f1->coef, f3->coef, p, p, ties);
						same("var (columns)", f1->var, f3->var, p * p, p, ties);
						same("means (columns)", f1->means, f3->means, p, p, ties);
						same("loglik (columns)", &f1->loglik, &f3->loglik, 1, p, ties);
						same("concordance (columns)", &f1->concordance, &f3->concordance, 1, p, ties);
						tn_cox_free(f3);
						free(cols);
						free(rows);
					}
				tn_cox_set_threads(0);
				assert_int_equal(f1->iterations, f2->iterations);
				assert_true(f1->iterations >= 2); /* the passes after beta = 0 mean something */
				same("coef", f1->coef, f2->coef, p, p, ties);
				same("var", f1->var, f2->var, p * p, p, ties);
				same("loglik", &f1->loglik, &f2->loglik, 1, p, ties);
				same("loglik_null", &f1->loglik_null, &f2->loglik_null, 1, p, ties);
				same("concordance", &f1->concordance, &f2->concordance, 1, p, ties);
				tn_cox_free(f1);
				tn_cox_free(f2);
			}
		free(t);
		free(e);
		free(x);
		free(strata);
	}
}

/* tn_cox_fit_cols on bad input: the same message as tn_cox_fit (the first
 * bad row in row order), and the taken columns are freed all the same (ASan
 * would report them) */
static void test_cols_error_frees(void **state)
{
	(void)state;
	const size_t n = 50, p = 3;
	double t[50], e[50], x[150];
	for (size_t i = 0; i < n; i++) {
		t[i] = (double)(i % 7) + 1;
		e[i] = i % 3 != 0;
		for (size_t j = 0; j < p; j++)
			x[i * p + j] = (double)((i * 31 + j * 17) % 11) / 5;
	}
	x[20 * p + 2] = INFINITY;
	x[30 * p + 1] = NAN;
	double **cols = tn_malloc(p * sizeof *cols);
	assert_non_null(cols);
	for (size_t j = 0; j < p; j++) {
		assert_non_null(cols[j] = tn_malloc(n * sizeof **cols));
		for (size_t i = 0; i < n; i++)
			cols[j][i] = x[i * p + j];
	}
	tn_cox *f = NULL;
	tn_error e1 = {0}, e2 = {0};
	assert_int_not_equal(tn_cox_fit(t, e, x, n, p, NULL, NULL, &f, &e1), TN_OK);
	assert_int_not_equal(tn_cox_fit_cols(t, e, cols, NULL, n, p, NULL, NULL, 1, &f, &e2), TN_OK);
	assert_null(f);
	assert_string_equal(e1.msg, e2.msg);
	assert_non_null(strstr(e2.msg, "row 21: covariate 3"));
	for (size_t j = 0; j < p; j++)
		assert_null(cols[j]);
	free(cols);
}

/* The merge-sort concordance gives the tree's counts exactly: random data
 * with tied times, tied scores, censoring, strata, rows sorted or not, and
 * groups made only of events (the within-group correction). */
static void test_concordance_same_as_tree(void **state)
{
	(void)state;
	tn_rng r;
	tn_rng_seed(&r, 9, 3);
	static const size_t ns[] = {0, 1, 2, 3, 7, 64, 1000, 5000};
	for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
		for (int var = 0; var < 12; var++) {
			size_t n = ns[ni];
			double *t = tn_malloc((n + 1) * sizeof *t), *e = tn_malloc((n + 1) * sizeof *e),
			       *lp = tn_malloc((n + 1) * sizeof *lp);
			int *st = tn_malloc((n + 1) * sizeof *st);
			assert_true(t && e && lp && st);
			unsigned tl = var % 3 == 0 ? 3 : var % 3 == 1 ? 50 : 1000000; /* distinct times */
			unsigned ll = var % 4 == 0 ? 4 : 100000;                       /* distinct scores */
			double pe = var % 5 == 0 ? 1 : var % 5 == 1 ? 0 : 0.7;          /* share of events */
			for (size_t i = 0; i < n; i++) {
				t[i] = (double)(tn_rng_next(&r) % tl);
				e[i] = tn_rng_u01(tn_rng_next(&r)) < pe;
				lp[i] = (double)(tn_rng_next(&r) % ll) / 7 - 3;
				st[i] = (int)(tn_rng_next(&r) % 3);
			}
			if (var >= 6) { /* sorted by (stratum, time), as the fit passes them */
				for (size_t i = 1; i < n; i++)
					for (size_t k = i; k > 0 && (st[k - 1] > st[k] || (st[k - 1] == st[k] &&
											   t[k - 1] > t[k]));
					     k--) {
						double a = t[k];
						t[k] = t[k - 1];
						t[k - 1] = a;
						int b = st[k];
						st[k] = st[k - 1];
						st[k - 1] = b;
					}
			}
			for (int strat = 0; strat < 2; strat++) {
				double c1, c2, k1[4], k2[4];
				tn_error err = {0};
				assert_int_equal(tn_cox_concordance_tree(t, e, lp, strat ? st : NULL, n, &c1, k1, &err), 0);
				assert_int_equal(tn_cox_concordance(t, e, lp, strat ? st : NULL, n, &c2, k2, &err), 0);
				for (int q = 0; q < 4; q++)
					if (k1[q] != k2[q])
						fail_msg("n=%zu var=%d strata=%d: count %d: tree %.17g, merge %.17g", n, var,
							 strat, q, k1[q], k2[q]);
				assert_true(memcmp(&c1, &c2, sizeof c1) == 0 || (isnan(c1) && isnan(c2)));
			}
			free(t);
			free(e);
			free(lp);
			free(st);
		}
}

/* A shared sort (tn_cox_order_new) and no concordance give the same bits
 * as a fit that sorts for itself, for many one-covariate fits on the same
 * times (the feedback hazards' shortcut), with strata and ties; an order
 * made for other times or strata is refused, never used. */
static void test_shared_order_same_bits(void **state)
{
	(void)state;
	tn_rng r;
	tn_rng_seed(&r, 5, 11);
	const size_t n = 4000;
	double *t = tn_malloc(n * sizeof *t), *e = tn_malloc(n * sizeof *e), *x = tn_malloc(n * sizeof *x);
	int *strata = tn_malloc(n * sizeof *strata);
	assert_true(t && e && x && strata);
	for (size_t i = 0; i < n; i++) {
		t[i] = (double)(tn_rng_next(&r) % 60) + 1; /* many ties */
		e[i] = tn_rng_u01(tn_rng_next(&r)) < 0.6;
		strata[i] = (int)(tn_rng_next(&r) % 3);
	}
	for (int st = 0; st < 2; st++) {
		tn_cox_order *ord = NULL;
		tn_error err = {0};
		assert_int_equal(tn_cox_order_new(t, st ? strata : NULL, n, &ord, &err), TN_OK);
		for (int k = 0; k < 6; k++) {
			for (size_t i = 0; i < n; i++) /* a binary covariate tied to time, as a raised theme */
				x[i] = tn_rng_u01(tn_rng_next(&r)) < (k + 1) * 0.1 + (t[i] < 20 ? 0.2 : 0);
			tn_cox_opts o = {0}, os = {0};
			os.no_concordance = 1;
			os.order = ord;
			tn_cox *f1 = NULL, *f2 = NULL;
			if (tn_cox_fit(t, e, x, n, 1, st ? strata : NULL, &o, &f1, &err))
				fail_msg("own sort: %s", err.msg);
			if (tn_cox_fit(t, e, x, n, 1, st ? strata : NULL, &os, &f2, &err))
				fail_msg("shared sort: %s", err.msg);
			assert_int_equal(f1->iterations, f2->iterations);
			assert_int_equal(f1->converged, f2->converged);
			assert_int_equal(f1->ninfinite, f2->ninfinite);
			same("coef (shared)", f1->coef, f2->coef, 1, 1, 0);
			same("var (shared)", f1->var, f2->var, 1, 1, 0);
			same("lower (shared)", f1->lower, f2->lower, 1, 1, 0);
			same("upper (shared)", f1->upper, f2->upper, 1, 1, 0);
			same("pvalue (shared)", f1->pvalue, f2->pvalue, 1, 1, 0);
			same("loglik (shared)", &f1->loglik, &f2->loglik, 1, 1, 0);
			same("loglik_null (shared)", &f1->loglik_null, &f2->loglik_null, 1, 1, 0);
			assert_true(f1->concordance > 0 && f1->concordance < 1);
			assert_true(isnan(f2->concordance)); /* not computed, and says so */
			tn_cox_free(f1);
			tn_cox_free(f2);
		}
		/* the order refused: other strata, other times, other n */
		tn_cox_opts os = {0};
		os.order = ord;
		tn_cox *f = NULL;
		assert_int_equal(tn_cox_fit(t, e, x, n, 1, st ? NULL : strata, &os, &f, &err), TN_ERR_USAGE);
		assert_null(f);
		assert_non_null(strstr(err.msg, "shared order"));
		double keep = t[7];
		t[7] = 1000;
		assert_int_equal(tn_cox_fit(t, e, x, n, 1, st ? strata : NULL, &os, &f, &err), TN_ERR_USAGE);
		t[7] = keep;
		assert_int_equal(tn_cox_fit(t, e, x, n - 1, 1, st ? strata : NULL, &os, &f, &err), TN_ERR_USAGE);
		assert_null(f);
		tn_cox_order_free(ord);
	}
	tn_cox_order *o2 = NULL;
	tn_error err = {0};
	t[3] = NAN;
	assert_int_equal(tn_cox_order_new(t, NULL, n, &o2, &err), TN_ERR_INPUT);
	assert_null(o2);
	free(t);
	free(e);
	free(x);
	free(strata);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_threads_same_bits),
		cmocka_unit_test(test_cols_error_frees),
		cmocka_unit_test(test_concordance_same_as_tree),
		cmocka_unit_test(test_shared_order_same_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
