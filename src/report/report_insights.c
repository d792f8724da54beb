/*
 * report_insights.c -- the report's sections on customers
 * (include/tenure/report.h, tn_report_insights): what they say (survey
 * scores with intervals, complaints by type and theme with their effect on
 * churn, the impact/effort matrix), what they are worth (value and
 * profitability by plan and by channel) and who is about to leave (the
 * riskiest live customers with their value and the reasons of the risk
 * model).  Each is a small table and one reading, computed by the same
 * library calls as `tenure feedback`, `tenure value profitability` and
 * `tenure predict score`.
 */
#include "tenure/report.h"
#include "base/alloc.h"
#include "tenure/feedback.h"
#include "tenure/predict.h"
#include "tenure/value.h"
#include "report/report_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTABLES 7
#define WORDS_THEMES 6
#define TOP_RISK 12

char *tn_report_number(double v, int digits, char *buf, size_t n)
{
	if (isnan(v) || isinf(v)) {
		snprintf(buf, n, "n/a");
		return buf;
	}
	char d[64];
	snprintf(d, sizeof d, "%.*f", digits < 0 ? 0 : digits > 6 ? 6 : digits, fabs(v));
	size_t intlen = strcspn(d, ".");
	char out[96];
	size_t k = 0;
	if (v < 0 && strspn(d, "0.") != strlen(d))
		out[k++] = '-';
	for (size_t i = 0; d[i] && k + 2 < sizeof out; i++) {
		if (i > 0 && i < intlen && (intlen - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = d[i];
	}
	out[k] = '\0';
	snprintf(buf, n, "%s", out);
	return buf;
}

char *tn_report_money(double v, const char *currency, char *buf, size_t n)
{
	char num[96];
	tn_report_number(v, 2, num, sizeof num);
	if (currency && *currency && !isnan(v))
		snprintf(buf, n, "%s %s", num, currency);
	else
		snprintf(buf, n, "%s", num);
	return buf;
}

/* Money cells carry no currency: their column's heading names it (cur()). */
static char *money(double v, const char *cur)
{
	char b[96];
	(void)cur;
	return tn_strdup(tn_report_money(v, NULL, b, sizeof b));
}

/* "NAME (USD)" in BUF, or NAME when the currency is unknown. */
static const char *cur_col(char *buf, size_t n, const char *name, const char *cur)
{
	if (cur && *cur)
		snprintf(buf, n, "%s (%s)", name, cur);
	else
		snprintf(buf, n, "%s", name);
	return buf;
}

static char *pct(double p) { return isnan(p) ? tn_strdup("n/a") : tn_report_fmt("%.1f%%", 100 * p); }

/* ---- what customers say ---------------------------------------------------- */

static int scores_table(tn_store *s, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"survey", "score", "95% interval", "answers", "reads as", NULL};
	if (tn_report_table_init(t, "What customers say: survey scores", cols, 3))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_fb_score sc[3];
	tn_error e2 = {0};
	int have = tn_fb_scores_all(s, sc, &e2) == TN_OK;
	static const char *const label[] = {"NPS (0-10, promoters - detractors)", "CSAT (share of 4-5 of 5)",
					    "CES (1-7, mean effort)"};
	double nps = NAN;
	for (int m = 0; m < 3 && have; m++) {
		const tn_fb_score *r = &sc[m];
		if (r->n == 0)
			continue;
		char **c = t->cells + t->nrows * t->ncols;
		c[0] = tn_strdup(label[m]);
		if (m == 0) {
			nps = r->value;
			c[1] = tn_report_fmt("%+.1f", r->value);
			c[2] = tn_report_fmt("%+.1f to %+.1f", r->lo, r->hi);
			c[4] = tn_strdup(r->value > 30 ? "good" : r->value > 0 ? "more promoters than detractors"
									  : "more detractors than promoters");
		} else if (m == 1) {
			c[1] = tn_report_fmt("%.1f%%", r->value);
			c[2] = tn_report_fmt("%.1f%% to %.1f%%", r->lo, r->hi);
			c[4] = tn_strdup(r->value >= 80 ? "satisfied" : "room to improve");
		} else {
			c[1] = tn_report_fmt("%.2f", r->value);
			c[2] = tn_report_fmt("%.2f to %.2f", r->lo, r->hi);
			c[4] = tn_strdup("lower is easier");
		}
		c[3] = tn_report_fmt("%zu", r->n);
		t->nrows++;
	}
	t->reading = t->nrows == 0 ? tn_strdup("No survey answers yet: import feedback (kind nps, csat or ces) with "
					    "`tenure import feedback`.")
		     : !isnan(nps) ? tn_report_fmt("All-time NPS is %+.1f; intervals are 95%% (docs/feedback.md).", nps)
				   : tn_strdup("Intervals are 95% (docs/feedback.md).");
	return TN_OK;
}

static int labelled(tn_store *s, tn_fb_row **rows, size_t *n)
{
	tn_error e2 = {0};
	if (tn_fb_impact_store(s, rows, n, &e2) != TN_OK) {
		*rows = NULL;
		*n = 0;
	}
	return *n > 0;
}

static const char no_labels[] = "No classified answers yet: `tenure feedback classify` sorts the store's text "
				"answers into six types and themes; this section then shows them.";

static int types_table(tn_store *s, const tn_churn_def *def, const tn_frame *churn, const char *cur,
		       tn_report_table *t, tn_error *err)
{
	char h6[64];
	const char *const cols[] = {"type", "theme", "customers raising it", "their churn rate",
				    "churn rate of the rest", "hazard ratio (95% CI)",
				    cur_col(h6, sizeof h6, "their revenue", cur), NULL};
	tn_fb_row *rows = NULL;
	size_t n = 0;
	labelled(s, &rows, &n);
	size_t show = n > 40 ? 40 : n;
	if (tn_report_table_init(t, "What customers say: complaints by type and theme, and their effect on churn",
				 cols, show)) {
		free(rows);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	double *hr = n ? tn_malloc(3 * n * sizeof *hr) : NULL;
	tn_error e2 = {0};
	if (n && (!hr || (churn ? tn_fb_impact_hazard_frame(s, churn, rows, n, hr, hr + n, hr + 2 * n, &e2)
			       : tn_fb_impact_hazard(s, def, rows, n, hr, hr + n, hr + 2 * n, &e2)) != TN_OK)) {
		free(hr);
		hr = NULL;
	}
	size_t worst = n;
	for (size_t i = 0; i < show; i++) {
		const tn_fb_row *r = &rows[i];
		char **c = t->cells + i * t->ncols;
		int total = strcmp(r->period, "(all)") == 0;
		c[0] = tn_strdup(r->segment);
		c[1] = tn_strdup(total ? "(all themes)" : r->period);
		c[2] = tn_report_fmt("%zu", r->n);
		c[3] = pct(r->value);
		c[4] = pct(r->lo);
		c[5] = hr && !isnan(hr[i]) ? tn_report_fmt("%.2f (%.2f to %.2f)", hr[i], hr[n + i], hr[2 * n + i])
					   : tn_strdup("n/a");
		c[6] = money(r->hi, cur);
		if (!total && hr && !isnan(hr[i]) && hr[n + i] > 1 && (worst == n || hr[i] > hr[worst]))
			worst = i;
	}
	t->nrows = show;
	if (!n)
		t->reading = tn_strdup(no_labels);
	else if (worst < n)
		t->reading = tn_report_fmt("Customers who raised \"%s\" (%s) leave %.1f times as fast as those who did "
					   "not (95%% CI %.2f to %.2f): the theme that costs the most customers.",
					   rows[worst].period, rows[worst].segment, hr[worst], hr[n + worst],
					   hr[2 * n + worst]);
	else
		t->reading = tn_strdup("No theme is clearly linked to faster churn (every hazard-ratio interval "
				    "includes 1).");
	free(hr);
	free(rows);
	return TN_OK;
}

static int matrix_table(tn_store *s, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"theme", "customers affected", "churned customers affected (impact)",
					   "churn rate", "effort (cost)", "quadrant", NULL};
	tn_fb_row *rows = NULL;
	size_t n = 0;
	tn_error e2 = {0};
	if (tn_fb_matrix_store(s, &rows, &n, &e2) != TN_OK)
		n = 0;
	size_t show = n > 30 ? 30 : n;
	if (tn_report_table_init(t, "What customers say: impact against cost (effort) of each theme", cols, show)) {
		free(rows);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t donow = 0, noeffort = 0;
	for (size_t i = 0; i < show; i++) {
		const tn_fb_row *r = &rows[i];
		char **c = t->cells + i * t->ncols;
		c[0] = tn_strdup(r->period[0] ? r->period : r->segment);
		c[1] = tn_report_fmt("%zu", r->n);
		c[2] = tn_report_fmt("%.0f", r->extra);
		c[3] = pct(r->value);
		c[4] = tn_strdup(r->metric[0] ? r->metric : "not set");
		c[5] = tn_strdup(r->text);
		donow += strcmp(r->text, "do now") == 0;
		noeffort += strcmp(r->text, "effort not set") == 0;
	}
	t->nrows = show;
	if (!n)
		t->reading = tn_strdup(no_labels);
	else if (donow)
		t->reading = tn_report_fmt("%zu theme%s to fix now: high impact on churn for a low effort.", donow,
					   donow == 1 ? "" : "s");
	else if (noeffort)
		t->reading = tn_report_fmt("Set the effort of %zu theme%s (`tenure feedback effort THEME low|high`) "
					   "to place %s in the matrix.",
					   noeffort, noeffort == 1 ? "" : "s", noeffort == 1 ? "it" : "them");
	else
		t->reading = tn_strdup("No theme has both a high impact and a low effort.");
	free(rows);
	return TN_OK;
}

/* One answer per language for each of the most raised complaint themes, in
 * the customers' own words (shown dir="auto": Arabic and Persian read right
 * to left). */
static int words_table(tn_store *s, tn_report_table *t, tn_error *err)
{
	static const char *const cols[] = {"theme", "type", "language", "in their words", NULL};
	/* answers per theme (praise left out), in the order each theme is first
	 * raised; then the themes raised most often (the first of equals) */
	tn_fb_row *rows = NULL;
	size_t n = 0;
	tn_error e2 = {0};
	if (tn_fb_label_themes(s, &rows, &n, &e2) != TN_OK)
		n = 0;
	enum { MAXT = 256 };
	size_t allc[MAXT], na = n < MAXT ? n : MAXT;
	for (size_t k = 0; k < na; k++)
		allc[k] = rows[k].n;
	char theme[WORDS_THEMES][64];
	size_t count[WORDS_THEMES] = {0}, nt = 0;
	for (; nt < WORDS_THEMES && nt < na; nt++) {
		size_t best = 0;
		for (size_t k = 1; k < na; k++)
			if (allc[k] > allc[best])
				best = k;
		if (!allc[best])
			break;
		snprintf(theme[nt], sizeof theme[nt], "%s", rows[best].period);
		count[nt] = allc[best];
		allc[best] = 0;
	}
	free(rows);
	static const char *const langs[] = {"en", "ar", "fa"};
	if (tn_report_table_init(t, "What customers say: in their own words", cols, nt * 3))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	/* each the first answer of its theme and language (one look-up each, not
	 * every label read and sorted) */
	for (size_t k = 0; k < nt; k++)
		for (size_t l = 0; l < 3; l++) {
			tn_fb_row r;
			int found = 0;
			if (tn_fb_label_first(s, theme[k], langs[l], &r, &found, &e2) != TN_OK || !found || !r.text[0])
				continue;
			char **c = t->cells + t->nrows * t->ncols;
			c[0] = tn_report_fmt("%s (%zu answers)", theme[k], count[k]);
			c[1] = tn_strdup(r.segment);
			c[2] = tn_strdup(r.language);
			c[3] = tn_strdup(r.text);
			t->nrows++;
		}
	t->reading = t->nrows ? tn_report_fmt("One answer per language for the %zu themes raised most often; "
					      "`tenure feedback classify` lists them all.",
					      nt)
			      : tn_strdup(no_labels);
	return TN_OK;
}

/* ---- what customers are worth ------------------------------------------------ */

#define VALUE_MARGIN 0.7 /* the share of revenue kept (the tables' readings say 70%) */

/* ROWS, N: the profitability by BY (freed here; N = 0 when it failed) */
static int value_table(const char *by, const char *cur, tn_value_profit_row *rows, size_t n, tn_report_table *t,
		       tn_error *err)
{
	char h[5][64];
	const char *const cols[] = {"segment", "verdict", "customers", "live subscribers",
				    cur_col(h[0], sizeof h[0], "revenue to date", cur),
				    cur_col(h[1], sizeof h[1], "future value (CLV)", cur),
				    cur_col(h[2], sizeof h[2], "value at risk", cur), cur_col(h[3], sizeof h[3], "profit", cur),
				    cur_col(h[4], sizeof h[4], "profit per customer", cur), NULL};
	const double margin = VALUE_MARGIN;
	char title[96];
	snprintf(title, sizeof title, "What customers are worth: by %s", by);
	if (tn_report_table_init(t, title, cols, n)) {
		tn_value_profit_free(rows, n);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	size_t best = n, losing = n;
	for (size_t i = 0; i < n; i++) {
		const tn_value_profit_row *g = &rows[i];
		char **c = t->cells + i * t->ncols;
		double per = g->customers ? g->profit / (double)g->customers : NAN;
		double to_date = margin * g->revenue - g->acquisition;
		c[0] = tn_strdup(g->segment);
		c[2] = tn_report_fmt("%zu", g->customers);
		c[3] = tn_report_fmt("%zu", g->subscribers);
		c[4] = money(g->revenue, cur);
		c[5] = money(g->future, cur);
		c[6] = money(g->at_risk, cur);
		c[7] = money(g->profit, cur);
		c[8] = money(per, cur);
		/* the rule of `tenure value profitability` */
		c[1] = tn_strdup(to_date > 0 ? "profitable already"
			      : g->profit > 0 ? "pays back only if renewals go as projected"
					      : "costs more than it brings");
		if (!isnan(per) && (best == n || per > rows[best].profit / (double)rows[best].customers))
			best = i;
		if (to_date <= 0 && losing == n)
			losing = i;
	}
	t->nrows = n;
	char b1[96];
	if (!n)
		t->reading = tn_strdup("No subscriptions yet: import subscriptions and payments.");
	else if (losing < n)
		t->reading = tn_report_fmt("Most profitable per customer: %s (%s). %s has not paid back its acquisition "
					   "cost yet (margin 70%%, future value discounted 10%%/year).",
					   rows[best].segment,
					   tn_report_money(rows[best].profit / (double)rows[best].customers, cur, b1,
							   sizeof b1),
					   rows[losing].segment);
	else
		t->reading = tn_report_fmt("Most profitable per customer: %s (%s); every %s is profitable already "
					   "(margin 70%%, future value discounted 10%%/year).",
					   rows[best].segment,
					   tn_report_money(rows[best].profit / (double)rows[best].customers, cur, b1,
							   sizeof b1),
					   by);
	tn_value_profit_free(rows, n);
	return TN_OK;
}

/* ---- who is about to leave --------------------------------------------------- */

typedef struct live_value {
	const char *id;
	double value;
} live_value;

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const live_value *)a)->id, ((const live_value *)b)->id);
}

typedef struct ranked {
	size_t row;
	double loss;
} ranked;

static int cmp_loss(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	return x->loss < y->loss ? 1 : x->loss > y->loss ? -1 : (x->row > y->row) - (x->row < y->row);
}

static int risk_model(tn_store *s, tn_time as_of, const char *path, tn_pred_model **m, tn_error *err)
{
	if (path)
		return tn_pred_load(path, m, err);
	tn_pred_features_opts fo = {.as_of = as_of - 30 * (tn_time)TN_DAY, .horizon_days = 30};
	tn_frame *tr = NULL;
	int rc = tn_pred_features(s, &fo, &tr, err);
	tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
	tn_pred_options opt = tn_pred_options_default();
	if (!rc)
		rc = tn_pred_train(tr, &spec, &opt, m, err);
	tn_frame_free(tr);
	return rc;
}

void tn_report_scores_compute(tn_store *s, tn_time as_of, const char *model_path, tn_report_scores *o)
{
	memset(o, 0, sizeof *o);
	tn_pred_features_opts fo = {.as_of = as_of, .horizon_days = 30};
	/* A model trained on the spot reads the features at as-of - 30 days
	 * (risk_model).  When the data end by as-of (the dashboard's and the
	 * report's default: as-of is the data's end), nothing lies after the
	 * training labels' window, so both frames come from one pass over the
	 * store, equal to two passes (tn_pred_features_many; the alert job
	 * does the same): one churn scan of every customer, event, payment and
	 * answer instead of two. */
	tn_time end = TN_NO_TIME;
	tn_error e2 = {0};
	if (!model_path && as_of != TN_NO_TIME && tn_churn_data_end(s, &end, &e2) == TN_OK && end != TN_NO_TIME &&
	    end <= as_of) {
		tn_time cuts[2] = {as_of - 30 * (tn_time)TN_DAY, as_of};
		tn_frame *fr[2] = {NULL, NULL};
		o->ok = tn_pred_features_many(s, &fo, cuts, 2, fr, NULL, &o->err) == TN_OK;
		o->f = fr[1];
		if (o->ok && o->f->nrows > 0) {
			tn_pred_spec spec = {"churned", "1", "customer", NULL, 0};
			tn_pred_options opt = tn_pred_options_default();
			o->ok = tn_pred_train(fr[0], &spec, &opt, &o->m, &o->err) == TN_OK;
		} else
			o->ok = 0;
		tn_frame_free(fr[0]);
		o->ok = o->ok && (o->risk = tn_malloc(o->f->nrows * sizeof *o->risk)) &&
			tn_pred_score(o->m, o->f, o->risk, &o->err) == TN_OK;
		return;
	}
	o->ok = tn_pred_features(s, &fo, &o->f, &o->err) == TN_OK && o->f->nrows > 0 &&
		risk_model(s, as_of, model_path, &o->m, &o->err) == TN_OK &&
		(o->risk = tn_malloc(o->f->nrows * sizeof *o->risk)) && tn_pred_score(o->m, o->f, o->risk, &o->err) == TN_OK;
}

void tn_report_scores_value(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_report_scores *o)
{
	if (!o->ok || o->ret)
		return;
	o->own_ret = 1;
	o->ok = tn_value_retention(s, def, as_of, 0.10, &o->ret, &o->err) == TN_OK;
}

void tn_report_scores_clear(tn_report_scores *o)
{
	free(o->risk);
	if (o->own_ret)
		tn_value_retention_free(o->ret);
	tn_pred_model_free(o->m);
	tn_frame_free(o->f);
	memset(o, 0, sizeof *o);
}

static int risk_table(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path, const char *cur,
		      const tn_report_scores *given, tn_report_table *t, tn_error *err)
{
	char h[3][64];
	const char *const cols[] = {"customer", "plan", "risk of leaving in 30 days", cur_col(h[0], sizeof h[0], "MRR", cur),
				    cur_col(h[1], sizeof h[1], "future value", cur),
				    cur_col(h[2], sizeof h[2], "expected loss", cur), "why", NULL};
	if (tn_report_table_init(t, "Who is about to leave: the customers most worth a call", cols, TOP_RISK))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_report_scores own;
	if (!given) {
		tn_report_scores_compute(s, as_of, model_path, &own);
		tn_report_scores_value(s, def, as_of, &own);
	}
	const tn_report_scores *sc = given ? given : &own;
	tn_error e2 = sc->err;
	const tn_frame *f = sc->f;
	const tn_pred_model *m = sc->m;
	const tn_value_retention_result *ret = sc->ret;
	const double *risk = sc->risk;
	double *contrib = NULL;
	ranked *rk = NULL;
	live_value *lv = NULL;
	int ok = sc->ok && (rk = tn_malloc(f->nrows * sizeof *rk)) && (lv = tn_malloc((ret->nlive + 1) * sizeof *lv));
	int ci = f ? tn_frame_find(f, "customer") : -1, pi = f ? tn_frame_find(f, "plan") : -1,
	    mi = f ? tn_frame_find(f, "mrr") : -1;
	if (ok && (ci < 0 || f->cols[ci].is_numeric))
		ok = 0;
	size_t show = 0;
	double total_loss = 0;
	if (ok) {
		size_t nl = 0;
		for (size_t i = 0; i < ret->nlive; i++)
			if (!isnan(ret->live[i].value))
				lv[nl++] = (live_value){ret->live[i].customer, ret->live[i].value};
		qsort(lv, nl, sizeof *lv, cmp_id);
		for (size_t i = 0; i < f->nrows; i++) {
			live_value key = {f->cols[ci].text[i], 0};
			live_value *hit = bsearch(&key, lv, nl, sizeof *lv, cmp_id);
			double v = hit ? hit->value : NAN;
			rk[i] = (ranked){i, isnan(v) || isnan(risk[i]) ? -1 : risk[i] * v};
			if (rk[i].loss > 0)
				total_loss += rk[i].loss;
		}
		qsort(rk, f->nrows, sizeof *rk, cmp_loss);
		show = f->nrows < TOP_RISK ? f->nrows : TOP_RISK;
		size_t rows[TOP_RISK];
		for (size_t k = 0; k < show; k++)
			rows[k] = rk[k].row;
		size_t nsrc = m->enc->nsrc;
		if ((contrib = tn_malloc((show ? show : 1) * nsrc * sizeof *contrib)) &&
		    tn_pred_explain(m, f, rows, show, contrib, &e2) != TN_OK) {
			free(contrib);
			contrib = NULL;
		}
		for (size_t k = 0; k < show; k++) {
			size_t i = rows[k];
			char **c = t->cells + k * t->ncols;
			live_value key = {f->cols[ci].text[i], 0};
			live_value *hit = bsearch(&key, lv, nl, sizeof *lv, cmp_id);
			c[0] = tn_strdup(f->cols[ci].text[i]);
			c[1] = tn_strdup(pi >= 0 && !f->cols[pi].is_numeric ? f->cols[pi].text[i] : "");
			c[2] = tn_report_fmt("%.0f%%", 100 * risk[i]);
			c[3] = money(mi >= 0 && f->cols[mi].is_numeric ? f->cols[mi].num[i] : NAN, cur);
			c[4] = money(hit ? hit->value : NAN, cur);
			c[5] = money(rk[k].loss, cur);
			/* the two largest pushes towards leaving */
			char why[512] = "";
			if (contrib) {
				const double *cc = contrib + k * nsrc;
				size_t a = nsrc, b = nsrc;
				for (size_t j = 0; j < nsrc; j++) {
					if (!(cc[j] > 0))
						continue;
					if (a == nsrc || cc[j] > cc[a])
						b = a, a = j;
					else if (b == nsrc || cc[j] > cc[b])
						b = j;
				}
				char r1[200] = "", r2[200] = "";
				if (a < nsrc)
					tn_pred_reason(m, f, i, a, r1, sizeof r1);
				if (b < nsrc)
					tn_pred_reason(m, f, i, b, r2, sizeof r2);
				snprintf(why, sizeof why, "%s%s%s", r1, *r2 ? "; " : "", r2);
			}
			c[6] = tn_strdup(why);
		}
		t->nrows = show;
	}
	char b1[96];
	if (ok)
		t->reading = tn_report_fmt("%zu live customers scored by %s; together they are expected to take %s "
					   "of future value with them (risk x value). Call the top of this list first.",
					   f->nrows,
					   model_path ? "the saved risk model"
						      : "a risk model trained on the spot (logistic regression on the "
							"store's history to 30 days before, as tenure alerts does)",
					   tn_report_money(total_loss, cur, b1, sizeof b1));
	else
		t->reading = tn_report_fmt("No risk scores: %s. `tenure predict train --as-of DATE --save m.json` "
					   "trains a model.",
					   e2.msg[0] ? e2.msg : "no live customers");
	free(contrib);
	free(rk);
	free(lv);
	if (!given)
		tn_report_scores_clear(&own);
	return TN_OK;
}

int tn_report_insights(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
		       const char *currency, tn_report_table **out, size_t *n, tn_error *err)
{
	return tn_report_insights_scored(s, def, as_of, model_path, currency, NULL, out, n, err);
}

int tn_report_insights_scored(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
			      const char *currency, const tn_report_scores *sc, tn_report_table **out, size_t *n,
			      tn_error *err)
{
	return tn_report_insights_shared(s, def, as_of, model_path, currency, sc, NULL, out, n, err);
}

static const tn_report_scores *given_scores(void *ud) { return ud; }

int tn_report_insights_shared(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
			      const char *currency, const tn_report_scores *sc, const tn_frame *churn,
			      tn_report_table **out, size_t *n, tn_error *err)
{
	return tn_report_insights_wait(s, def, as_of, model_path, currency, given_scores, (void *)sc, churn, out, n,
				       err);
}

int tn_report_insights_wait(tn_store *s, const tn_churn_def *def, tn_time as_of, const char *model_path,
			    const char *currency, tn_report_scores_wait get_sc, void *ud, const tn_frame *churn,
			    tn_report_table **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_report_table *t = tn_calloc(NTABLES, sizeof *t);
	if (!t)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int rc = scores_table(s, &t[0], err);
	if (!rc)
		rc = types_table(s, def, churn, currency, &t[1], err);
	if (!rc)
		rc = matrix_table(s, &t[2], err);
	if (!rc)
		rc = words_table(s, &t[3], err);
	/* the tables above do not read the scores: asked for now (also after a
	 * failure, so a caller computing them elsewhere is always answered) */
	const tn_report_scores *sc = get_sc(ud);
	/* one live value (at the data's end: the scores' when given) serves both
	 * segmentations; a failure is each table's to report, as before */
	tn_value_retention_result *own = NULL;
	const tn_value_retention_result *ret = sc && sc->ok ? sc->ret : NULL;
	if (!rc && !ret) {
		tn_error e2 = {0};
		if (tn_value_retention(s, def, TN_NO_TIME, 0.10, &own, &e2) == TN_OK)
			ret = own;
	}
	/* by plan and by channel: one pass over the customers for both */
	static const char *const by[2] = {"plan", "channel"};
	tn_value_profit_row *pr[2] = {NULL, NULL};
	size_t np[2] = {0, 0};
	if (!rc) {
		tn_error e2 = {0};
		if (tn_value_profitability_many(s, def, by, 2, VALUE_MARGIN, 0.10, NULL, ret, pr, np, NULL, &e2) != TN_OK)
			np[0] = np[1] = 0;
	}
	if (!rc)
		rc = value_table(by[0], currency, pr[0], np[0], &t[4], err);
	else
		tn_value_profit_free(pr[0], np[0]);
	if (!rc)
		rc = value_table(by[1], currency, pr[1], np[1], &t[5], err);
	else
		tn_value_profit_free(pr[1], np[1]);
	tn_value_retention_free(own);
	if (!rc)
		rc = risk_table(s, def, as_of, model_path, currency, sc, &t[6], err);
	if (rc) {
		tn_report_tables_free(t, NTABLES);
		return rc;
	}
	*out = t;
	*n = NTABLES;
	return TN_OK;
}
