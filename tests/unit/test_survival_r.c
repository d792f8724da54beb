/* test_survival_r.c -- Kaplan-Meier, medians, log-rank and Cox against R.
 *
 * Runs survival_ref.R (R's survival package: survfit log-log, summary.survfit,
 * quantile.survfit, survdiff, coxph efron/breslow with and without strata) on
 * four data sets -- rossi (tests/data), R's own lung and veteran (exported by
 * the script), and generated data with heavy ties and three groups -- and
 * compares every number to 1e-6.  Fails (never skips) without Rscript or the
 * survival package: install r-cran-survival (scripts/deps.sh, test group). */
#include "testutil.h"
#include "tenure/survival.h"
#include "tenure/cox.h"
#include "tenure/design.h"
#include "tenure/frame.h"

#include <unistd.h>

#define TOL 1e-6

typedef struct ref {
	size_t n;
	char **key;
	double *val;
} ref;

static char g_dir[256];

static void ref_free(ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->key[i]);
	free(r->key);
	free(r->val);
}

static ref ref_load(const char *path)
{
	ref r = {0};
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("cannot open %s", path);
	char line[512];
	size_t cap = 0;
	if (!fgets(line, sizeof line, fp)) /* header */
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
		}
		size_t len = strlen(line);
		r.key[r.n] = malloc(len + 1);
		memcpy(r.key[r.n], line, len + 1);
		r.val[r.n] = strncmp(comma + 1, "NA", 2) == 0 ? NAN : strtod(comma + 1, NULL);
		r.n++;
	}
	fclose(fp);
	return r;
}

static double get(const ref *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return r->val[i];
	fail_msg("R reference has no key %s", key);
	return NAN;
}

/* Equal within TOL, or both NaN (R's NA). */
static void same(const char *what, double got, double want)
{
	if (isnan(want) && isnan(got))
		return;
	if (!(fabs(got - want) <= TOL * fmax(1.0, fabs(want) * 1e-3)))
		fail_msg("%s: got %.12g, R gives %.12g", what, got, want);
}

static int setup(void **state)
{
	(void)state;
	if (system("Rscript -e 'suppressMessages(library(survival))' >/dev/null 2>&1") != 0) {
		fprintf(stderr, "Rscript with the survival package is missing: install r-cran-survival "
				"(scripts/deps.sh install test)\n");
		return -1;
	}
	snprintf(g_dir, sizeof g_dir, "/tmp/tenure_survr_XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	char cmd[8192];
	snprintf(cmd, sizeof cmd, "Rscript survival_ref.R %s %s", g_dir, require_data("survival/rossi.csv"));
	if (system(cmd) != 0) {
		fprintf(stderr, "survival_ref.R failed: %s\n", cmd);
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

static void check_km(const ref *r, const char *g, const tn_km *km)
{
	char k[128];
	snprintf(k, sizeof k, "km_%s_count", g);
	size_t count = (size_t)get(r, k), e = 0;
	for (size_t i = 0; i < km->ntimes; i++) {
		if (!(km->n_event[i] > 0))
			continue;
		const char *f[] = {"time", "surv", "se", "lower", "upper", "cumhaz", "chaz_se"};
		double v[] = {km->time[i], km->surv[i], km->surv[i] > 0 ? km->se[i] : NAN, km->lower[i], km->upper[i],
			      km->cumhaz[i], km->se_cumhaz[i]};
		for (int j = 0; j < 7; j++) {
			snprintf(k, sizeof k, "km_%s_%zu_%s", g, e, f[j]);
			same(k, v[j], get(r, k));
		}
		e++;
	}
	assert_int_equal(e, count);
	for (int a = 0; a < 4; a++) { /* summary(fit, times = ...) */
		snprintf(k, sizeof k, "at_%s_%d_time", g, a);
		tn_km_value v = tn_km_at(km, get(r, k));
		const char *f[] = {"n_risk", "surv", "se", "lower", "upper"};
		double got[] = {v.n_risk, v.surv, v.se, v.lower, v.upper};
		for (int j = 0; j < 5; j++) {
			snprintf(k, sizeof k, "at_%s_%d_%s", g, a, f[j]);
			same(k, got[j], get(r, k));
		}
	}
	snprintf(k, sizeof k, "med_%s_q", g);
	same(k, km->median, get(r, k));
	snprintf(k, sizeof k, "med_%s_lower", g);
	same(k, km->median_lower, get(r, k));
	snprintf(k, sizeof k, "med_%s_upper", g);
	same(k, km->median_upper, get(r, k));
}

static void run_set(const char *name, const char *const *covs, size_t ncov)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s_ref.csv", g_dir, name);
	ref r = ref_load(path);
	snprintf(path, sizeof path, "%s/%s.csv", g_dir, name);
	tn_error err = {0};
	tn_frame *f = tn_frame_read_csv(path, NULL, 0, &err);
	if (!f)
		fail_msg("%s", err.msg);
	const char *req[] = {"time", "event", "group"};
	tn_design *d;
	if (tn_design_new(f, covs, ncov, req, 3, NULL, 0, &d, &err))
		fail_msg("%s", err.msg);
	double *t, *e;
	int *grp, ng;
	char **labels;
	assert_int_equal(tn_design_numeric(f, "time", d->rows, d->n, &t, &err), TN_OK);
	assert_int_equal(tn_design_numeric(f, "event", d->rows, d->n, &e, &err), TN_OK);
	assert_int_equal(tn_design_groups(f, "group", d->rows, d->n, &grp, &labels, &ng, &err), TN_OK);
	tn_km *km;
	assert_int_equal(tn_km_fit(t, e, NULL, 0, d->n, 0.95, &km, &err), TN_OK);
	check_km(&r, "all", km);
	tn_km_free(km);
	for (int g = 0; g < ng; g++) {
		char gs[16];
		snprintf(gs, sizeof gs, "%d", g);
		assert_int_equal(tn_km_fit(t, e, grp, g, d->n, 0.95, &km, &err), TN_OK);
		check_km(&r, gs, km);
		tn_km_free(km);
	}
	tn_logrank lr;
	assert_int_equal(tn_logrank_test(t, e, grp, d->n, ng, &lr, NULL, NULL, &err), TN_OK);
	same("lr_chisq", lr.chisq, get(&r, "lr_chisq"));
	same("lr_p", lr.p, get(&r, "lr_p"));
	const char *ties[] = {"efron", "breslow"};
	for (int tm = 0; tm < 2; tm++)
		for (int st = 0; st < 2; st++) {
			tn_cox_opts o = {tm, 0, 0, 0, NULL, 0, NULL};
			tn_cox *fit;
			if (tn_cox_fit(t, e, d->x, d->n, d->p, st ? grp : NULL, &o, &fit, &err))
				fail_msg("%s: %s", name, err.msg);
			char k[128];
			snprintf(k, sizeof k, "cox_%s_%d_p", ties[tm], st);
			assert_int_equal(d->p, (size_t)get(&r, k));
			for (size_t j = 0; j < d->p; j++) {
				snprintf(k, sizeof k, "cox_%s_%d_coef_%zu", ties[tm], st, j);
				same(k, fit->coef[j], get(&r, k));
				snprintf(k, sizeof k, "cox_%s_%d_se_%zu", ties[tm], st, j);
				same(k, fit->se[j], get(&r, k));
			}
			snprintf(k, sizeof k, "cox_%s_%d_loglik0", ties[tm], st);
			same(k, fit->loglik_null, get(&r, k));
			snprintf(k, sizeof k, "cox_%s_%d_loglik", ties[tm], st);
			same(k, fit->loglik, get(&r, k));
			snprintf(k, sizeof k, "cox_%s_%d_conc", ties[tm], st);
			same(k, fit->concordance, get(&r, k));
			tn_cox_free(fit);
		}
	free(t);
	free(e);
	tn_design_groups_free(grp, labels, ng);
	tn_design_free(d);
	tn_frame_free(f);
	ref_free(&r);
}

static void test_rossi(void **state)
{
	(void)state;
	const char *c[] = {"age", "race", "wexp", "mar", "paro", "prio"};
	run_set("rossi", c, 6);
}

static void test_lung(void **state)
{
	(void)state;
	const char *c[] = {"age", "ph_ecog"};
	run_set("lung", c, 2);
}

static void test_veteran(void **state)
{
	(void)state;
	const char *c[] = {"karno", "age", "prior", "celltype"};
	run_set("veteran", c, 4);
}

static void test_heavy_ties(void **state)
{
	(void)state;
	const char *c[] = {"x1", "x2"};
	run_set("ties", c, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rossi),
		cmocka_unit_test(test_lung),
		cmocka_unit_test(test_veteran),
		cmocka_unit_test(test_heavy_ties),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
