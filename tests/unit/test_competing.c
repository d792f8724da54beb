/* test_competing.c -- competing risks (Aalen-Johansen cumulative incidence
 * with R's standard errors and limits; cause-specific Cox) against R.
 *
 * 1. A ten-subject example computed by hand and by R 4.2.2 / survival 3.5.3:
 *      d <- data.frame(time = c(1,2,2,3,4,4,5,6,7,8),
 *                      st = factor(c(1,2,0,1,1,0,2,0,1,2), 0:2))
 *      f <- survfit(Surv(time, st) ~ 1, data = d); f$pstate; f$std.err; f$lower
 *    (the numbers are written below).
 * 2. R's mgus2 (competing_ref.R exports it and the references at test time:
 *    survfit with a factor status, overall and by sex, summary at times,
 *    coxph(Surv(time, status == k) ~ age + sex + hgb) per cause), every
 *    number to 1e-6.  Fails (never skips) without Rscript and the survival
 *    package (scripts/deps.sh, test group). */
#include "testutil.h"
#include "tenure/survival.h"
#include "tenure/cox.h"
#include "tenure/design.h"
#include "tenure/frame.h"

#include <unistd.h>

#define TOL 1e-6

static void same(const char *what, double got, double want)
{
	if (isnan(want) && isnan(got))
		return;
	if (!(fabs(got - want) <= TOL * fmax(1.0, fabs(want) * 1e-3)))
		fail_msg("%s: got %.12g, R gives %.12g", what, got, want);
}

static void test_small_by_hand(void **state)
{
	(void)state;
	const double t[] = {1, 2, 2, 3, 4, 4, 5, 6, 7, 8};
	const int c[] = {1, 2, 0, 1, 1, 0, 2, 0, 1, 2};
	tn_cif *f;
	tn_error err = {0};
	assert_int_equal(tn_cif_fit(t, c, NULL, 0, 10, 2, 0.95, &f, &err), TN_OK);
	assert_int_equal(f->ntimes, 8);
	/* R: f$pstate, f$std.err, f$lower, f$upper (rows = times 1..8; columns (s0), 1, 2) */
	const double p[8][3] = {{0.9, 0.1, 0}, {0.8, 0.1, 0.1}, {0.6857143, 0.2142857, 0.1},
				{0.5714286, 0.3285714, 0.1}, {0.4285714, 0.3285714, 0.2428571},
				{0.4285714, 0.3285714, 0.2428571}, {0.2142857, 0.5428571, 0.2428571},
				{0, 0.5428571, 0.4571429}};
	const double se[8][3] = {{0.09486833, 0.09486833, 0}, {0.12649111, 0.09486833, 0.09486833},
				 {0.15149402, 0.13504130, 0.09486833}, {0.16377472, 0.15618446, 0.09486833},
				 {0.17433756, 0.15618446, 0.15207026}, {0.17433756, 0.15618446, 0.15207026},
				 {0.17480727, 0.19778843, 0.15207026}, {0, 0.19778843, 0.19778843}};
	const double lo[8][3] = {{0.73201164, 0.01557684, NAN}, {0.58681770, 0.01557684, 0.01557684},
				 {0.44472166, 0.06231207, 0.01557684}, {0.32583872, 0.12942442, 0.01557684},
				 {0.19309229, 0.12942442, 0.07117912}, {0.19309229, 0.12942442, 0.07117912},
				 {0.04331226, 0.26579863, 0.07117912}, {NAN, 0.26579863, 0.19578040}};
	const double up[8][3] = {{1, 0.6419788, NAN}, {1, 0.6419788, 0.6419788}, {1, 0.7369096, 0.6419788},
				 {1, 0.8341485, 0.6419788}, {0.9512211, 0.8341485, 0.8286081},
				 {0.9512211, 0.8341485, 0.8286081}, {1, 1, 0.8286081}, {NAN, 1, 1}};
	const double nrisk[8] = {10, 9, 7, 6, 4, 3, 2, 1};
	for (size_t j = 0; j < 8; j++) {
		assert_true(f->time[j] == (double)(j + 1));
		assert_true(f->n_risk[j] == nrisk[j]);
		for (size_t s = 0; s < 3; s++) {
			char k[64];
			snprintf(k, sizeof k, "small %zu/%zu", j, s);
			if (!(fabs(f->pstate[j * 3 + s] - p[j][s]) < 1e-7 && fabs(f->std_err[j * 3 + s] - se[j][s]) < 1e-7))
				fail_msg("%s: p %.9g se %.9g", k, f->pstate[j * 3 + s], f->std_err[j * 3 + s]);
			if (isnan(lo[j][s]) != isnan(f->lower[j * 3 + s]) ||
			    (!isnan(lo[j][s]) && fabs(f->lower[j * 3 + s] - lo[j][s]) > 1e-7) ||
			    (!isnan(up[j][s]) && fabs(f->upper[j * 3 + s] - up[j][s]) > 1e-7))
				fail_msg("%s: limits %.9g %.9g", k, f->lower[j * 3 + s], f->upper[j * 3 + s]);
		}
		/* every subject is somewhere */
		assert_true(fabs(f->pstate[j * 3] + f->pstate[j * 3 + 1] + f->pstate[j * 3 + 2] - 1) < 1e-12);
	}
	double nr, ps[3], sev[3];
	tn_cif_at(f, 0.5, &nr, ps, sev, NULL, NULL);
	assert_true(ps[0] == 1 && ps[1] == 0 && sev[0] == 0 && nr == 10);
	tn_cif_at(f, 4.5, &nr, ps, sev, NULL, NULL);
	assert_true(fabs(ps[2] - 0.1) < 1e-7 && fabs(ps[1] - 0.3285714) < 1e-7 && nr == 4); /* R: summary(f, times = 4.5)$n.risk */
	tn_cif_free(f);
	/* one group of two, and bad input named by row */
	const int grp[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
	assert_int_equal(tn_cif_fit(t, c, grp, 1, 10, 2, 0.95, &f, &err), TN_OK);
	assert_int_equal(f->n, 5);
	assert_true(f->time[0] == 4);
	tn_cif_free(f);
	const int bad[] = {1, 2, 0, 1, 3, 0, 2, 0, 1, 2};
	assert_int_equal(tn_cif_fit(t, bad, NULL, 0, 10, 2, 0.95, &f, &err), TN_ERR_INPUT);
	assert_non_null(strstr(err.msg, "row 5"));
	assert_null(f);
}

/* ---- against R on mgus2 ----------------------------------------------- */

typedef struct ref {
	size_t n;
	char **key;
	double *val;
} ref;

static char g_dir[256];

static ref ref_load(const char *path)
{
	ref r = {0};
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s", path);
	char line[512];
	size_t cap = 0;
	if (!fgets(line, sizeof line, fp))
		fail_msg("%s is empty", path);
	while (fgets(line, sizeof line, fp)) {
		char *comma = strchr(line, ',');
		if (!comma)
			continue;
		*comma = '\0';
		if (r.n == cap) {
			cap = cap ? 2 * cap : 1024;
			r.key = realloc(r.key, cap * sizeof *r.key);
			r.val = realloc(r.val, cap * sizeof *r.val);
			assert_non_null(r.key);
			assert_non_null(r.val);
		}
		r.key[r.n] = strdup(line);
		r.val[r.n] = strncmp(comma + 1, "NA", 2) == 0 ? NAN : strtod(comma + 1, NULL);
		r.n++;
	}
	fclose(fp);
	return r;
}

static void ref_free(ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->key[i]);
	free(r->key);
	free(r->val);
}

static double get(const ref *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	fail_msg("R reference has no key %s", key);
	return NAN;
}

static int setup(void **state)
{
	(void)state;
	if (system("Rscript -e 'suppressMessages(library(survival))' >/dev/null 2>&1") != 0) {
		fprintf(stderr, "Rscript with the survival package is missing: install r-cran-survival "
				"(scripts/deps.sh install test)\n");
		return -1;
	}
	snprintf(g_dir, sizeof g_dir, "/tmp/tenure_compr_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "Rscript competing_ref.R %s", g_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "competing_ref.R failed: %s\n", cmd);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void check_aj(const ref *r, const char *g, const tn_cif *f)
{
	char k[128];
	snprintf(k, sizeof k, "aj_%s_ntimes", g);
	assert_int_equal(f->ntimes, (size_t)get(r, k));
	for (size_t j = 0; j < f->ntimes; j++) {
		snprintf(k, sizeof k, "aj_%s_%zu_time", g, j);
		same(k, f->time[j], get(r, k));
		snprintf(k, sizeof k, "aj_%s_%zu_nrisk", g, j);
		same(k, f->n_risk[j], get(r, k));
		for (size_t s = 0; s < 3; s++) {
			const char *nm[] = {"p", "se", "lo", "up"};
			double v[] = {f->pstate[j * 3 + s], f->std_err[j * 3 + s], f->lower[j * 3 + s],
				      f->upper[j * 3 + s]};
			for (int x = 0; x < 4; x++) {
				snprintf(k, sizeof k, "aj_%s_%zu_%zu_%s", g, j, s, nm[x]);
				same(k, v[x], get(r, k));
			}
		}
	}
	const double ats[] = {12, 60, 120, 240, 360};
	for (size_t a = 0; a < 5; a++) {
		double p[3], se[3];
		tn_cif_at(f, ats[a], NULL, p, se, NULL, NULL);
		for (size_t s = 0; s < 3; s++) {
			snprintf(k, sizeof k, "at_%s_%zu_%zu_p", g, a, s);
			same(k, p[s], get(r, k));
			snprintf(k, sizeof k, "at_%s_%zu_%zu_se", g, a, s);
			same(k, se[s], get(r, k));
		}
	}
}

static void test_mgus2_against_r(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/mgus_ref.csv", g_dir);
	ref r = ref_load(path);
	snprintf(path, sizeof path, "%s/mgus.csv", g_dir);
	tn_error err = {0};
	tn_frame *fr = tn_frame_read_csv(path, NULL, 0, &err);
	if (!fr)
		fail_msg("%s", err.msg);
	const char *covs[] = {"age", "sex", "hgb"};
	const char *req[] = {"time", "status", "sex"};
	tn_design *d;
	if (tn_design_new(fr, covs, 3, req, 3, NULL, 0, &d, &err))
		fail_msg("%s", err.msg);
	double *t, *st;
	int *grp, ng;
	char **labels;
	assert_int_equal(tn_design_numeric(fr, "time", d->rows, d->n, &t, &err), TN_OK);
	assert_int_equal(tn_design_numeric(fr, "status", d->rows, d->n, &st, &err), TN_OK);
	assert_int_equal(tn_design_groups(fr, "sex", d->rows, d->n, &grp, &labels, &ng, &err), TN_OK);
	assert_int_equal(ng, 2);
	int *cause = malloc(d->n * sizeof *cause);
	double *ev = malloc(d->n * sizeof *ev);
	assert_non_null(cause);
	assert_non_null(ev);
	for (size_t i = 0; i < d->n; i++)
		cause[i] = (int)st[i];
	tn_cif *f;
	assert_int_equal(tn_cif_fit(t, cause, NULL, 0, d->n, 2, 0.95, &f, &err), TN_OK);
	check_aj(&r, "all", f);
	tn_cif_free(f);
	for (int g = 0; g < ng; g++) {
		assert_int_equal(tn_cif_fit(t, cause, grp, g, d->n, 2, 0.95, &f, &err), TN_OK);
		check_aj(&r, labels[g], f);
		tn_cif_free(f);
	}
	/* cause-specific Cox: the other cause is censoring */
	for (int k = 1; k <= 2; k++) {
		for (size_t i = 0; i < d->n; i++)
			ev[i] = cause[i] == k;
		tn_cox *fit;
		if (tn_cox_fit(t, ev, d->x, d->n, d->p, NULL, NULL, &fit, &err))
			fail_msg("cause %d: %s", k, err.msg);
		char key[64];
		assert_int_equal(d->p, 3);
		for (size_t j = 0; j < d->p; j++) {
			snprintf(key, sizeof key, "cox_%d_coef_%zu", k, j);
			same(key, fit->coef[j], get(&r, key));
			snprintf(key, sizeof key, "cox_%d_se_%zu", k, j);
			same(key, fit->se[j], get(&r, key));
		}
		snprintf(key, sizeof key, "cox_%d_loglik", k);
		same(key, fit->loglik, get(&r, key));
		snprintf(key, sizeof key, "cox_%d_conc", k);
		same(key, fit->concordance, get(&r, key));
		snprintf(key, sizeof key, "cox_%d_events", k);
		same(key, fit->events, get(&r, key));
		tn_cox_free(fit);
	}
	free(cause);
	free(ev);
	free(t);
	free(st);
	tn_design_groups_free(grp, labels, ng);
	tn_design_free(d);
	tn_frame_free(fr);
	ref_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_by_hand),
		cmocka_unit_test(test_mgus2_against_r),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
