/*
 * web_pages.c -- the dashboard's pages, each built from analyses run
 * in-process with the library (cached by web_data.c) and drawn with the
 * report's SVG renderer (src/report/svg.c), server-side: the page works
 * without scripts, weighs little, and shows the same numbers as the CLI.
 *   /           the churn rate headline and trend, MRR and its movements, NRR, causes, NPS
 *   /when       survival by a chosen attribute, the danger window and hazard peaks, cohorts
 *   /why        drivers (Cox hazard ratios), what customers say, exit reasons
 *   /who        customers at risk, sortable, with reasons and a suggested action
 *   /customers/ one customer's timeline
 *   /act        offers against holdout, win-back, points, onboarding
 *   /alerts     the alert inbox with acknowledge
 */
#include "web/web_internal.h"
#include "base/alloc.h"
#include "base/hashmap.h"
#include "store/db.h"
#include "tenure/actions.h"
#include "tenure/design.h"
#include "tenure/feedback.h"
#include "tenure/predict.h"
#include "tenure/report.h"
#include "tenure/value.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ---------------------------------------------------------- */

static char *fmt(const char *f, ...) TN_PRINTF(1, 2);
static char *fmt(const char *f, ...)
{
	tn_sbuf b = {0};
	va_list ap;
	va_start(ap, f);
	char tmp[1024];
	vsnprintf(tmp, sizeof tmp, f, ap);
	va_end(ap);
	tn_sbuf_printf(&b, "%s", tmp);
	return b.p;
}

/* cells of a table under construction */
typedef struct cells {
	char **v;
	size_t n, cap;
} cells;

static void cell(cells *t, char *s) /* takes S */
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **p = tn_realloc(t->v, cap * sizeof *p);
		if (!p) {
			free(s);
			return;
		}
		t->v = p;
		t->cap = cap;
	}
	t->v[t->n++] = s ? s : tn_strdup("");
}
static void cells_free(cells *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof *t);
}
static void show(web_ctx *c, const char *title, const char *reading, size_t ncols, const char *const *cols,
		 const int *kind, cells *t)
{
	web_table(c, title, reading, ncols, cols, kind, t->n / ncols, (const char *const *)t->v);
	cells_free(t);
}

static char *num(double v, int digits) { return isnan(v) ? tn_strdup("") : fmt("%.*f", digits, v); }

static void trouble(web_ctx *c, const tn_error *err)
{
	char msg[TN_ERROR_MSG_MAX + 64];
	if (c->computing && strcmp(err->msg, T(c, S_COMPUTING)) == 0) {
		tn_sbuf_printf(&c->html, "<p class=\"computing\" role=\"status\" data-state=\"computing\">");
		web_esc(c, err->msg);
		tn_sbuf_printf(&c->html, "</p>\n");
		return;
	}
	snprintf(msg, sizeof msg, "%s: %s", T(c, S_NOT_AVAILABLE), err->msg[0] ? err->msg : "?");
	web_p(c, "empty", msg);
}

/* ---- what several values share (the warming thread's, per data version) -------- */

/* The live subscribers' value (tn_value_retention at the data's end) and the
 * risk scoring of the live customers (features, model, scores) are read by
 * the summary (revenue at risk), the insights (who is about to leave) and
 * /who: each was a full scan of the store (the scoring three, with the
 * training features) computed again by each.  They are computed once per
 * data version here and freed when every reader has had them (or the data
 * move, or the thread ends). */
enum { SH_SUMMARY = 1, SH_INSIGHTS = 2, SH_WHO = 4 };
static _Thread_local long long sh_stamp = -2;
static _Thread_local tn_time sh_as_of;
static _Thread_local int sh_as_of_set, sh_sc_set, sh_used;
static _Thread_local tn_value_retention_result *sh_ret;
static _Thread_local tn_report_scores sh_sc;
static _Thread_local tn_churn_first sh_first; /* the rates' first scan (tn_churn_rate_opts) */

static void scoring_join(void);

static void shared_free(void)
{
	scoring_join();
	memset(&sh_first, 0, sizeof sh_first);
	tn_report_scores_clear(&sh_sc);
	tn_value_retention_free(sh_ret);
	sh_ret = NULL;
	sh_sc_set = sh_as_of_set = sh_used = 0;
}

/* the values of another data version are of no use */
static void shared_check(void)
{
	if (sh_stamp != web_make_stamp) {
		shared_free();
		sh_stamp = web_make_stamp;
	}
}

/* The readers computed on this thread (web_lane): with two warming
 * threads the summary is on the other one, and this thread's copy of the
 * live value is freed when the insights and /who have had it. */
static int lane_readers(void)
{
	int r = 0;
	if (web_lane("summary") == web_make_lane)
		r |= SH_SUMMARY;
	if (web_lane("insights") == web_make_lane)
		r |= SH_INSIGHTS;
	if (web_lane("who") == web_make_lane)
		r |= SH_WHO;
	return r;
}

/* READER has had what it needs: free what no reader still wants */
static void shared_done(int reader)
{
	sh_used |= reader;
	int want = lane_readers();
	if ((sh_used & (SH_INSIGHTS | SH_WHO)) == (want & (SH_INSIGHTS | SH_WHO))) {
		sh_sc.ret = NULL; /* sh_ret's, freed below */
		tn_report_scores_clear(&sh_sc);
		sh_sc_set = 0;
	}
	if ((sh_used & want) == want) {
		tn_value_retention_free(sh_ret);
		sh_ret = NULL;
	}
}

/* the data's end (tn_churn_data_end), once per data version */
static int shared_as_of(tn_store *s, tn_time *as_of, tn_error *err)
{
	shared_check();
	if (!sh_as_of_set) {
		if (tn_churn_data_end(s, &sh_as_of, err))
			return err ? err->code : TN_ERR_IO;
		sh_as_of_set = 1;
	}
	*as_of = sh_as_of;
	return TN_OK;
}

/* the first scan of the rates and cohorts (tn_churn_first): one for all */
static tn_churn_first *shared_first(void)
{
	shared_check();
	return &sh_first;
}

/* The scoring (the features at two cut-offs in one pass, the model, the
 * scores) and the live value: on 1,000,000 customers ~37 s of the insights'
 * ~92 s of CPU, and the insights are the longer warming lane.  The
 * insights start it on a helper thread with its own connection while they
 * label the answers, build the churn frame and compute the tables that do
 * not read the scores (~50 s), and wait for it before the tables that do
 * (tn_report_insights_wait): the same results (the same functions, on the
 * same store: the scoring reads no labels), in less wall time, using the
 * core the other lane leaves idle once it is done.  The helper obeys the
 * warming thread's cancellation (shutdown). */
typedef struct scoring {
	pthread_t th;
	int running;
	char *path;
	tn_churn_def d;
	tn_time as_of;
	tn_value_retention_result *ret; /* the lane's live value when computed (sh_ret), else NULL */
	int (*check)(void *);
	void *check_ud;
	int opened; /* 0: no connection; the scoring is then done on the lane's own */
	double cpu; /* the helper's CPU seconds (web_make_helper_cpu) */
	tn_report_scores sc;
} scoring;
static _Thread_local scoring *sh_job;

static void scores_value(tn_store *s, const tn_churn_def *d, tn_time as_of, tn_report_scores *sc,
			 tn_value_retention_result *ret)
{
	if (sc->ok && !sc->ret) {
		sc->ret = ret;
		tn_report_scores_value(s, d, as_of, sc);
	}
}

static void *scoring_run(void *arg)
{
	scoring *j = arg;
	double c0 = web_thread_cpu();
	tn_db_cancel_set(j->check, j->check_ud);
	tn_store *s = NULL;
	tn_error e = {0};
	if (tn_store_open(j->path, TN_STORE_LIVE, &s, &e) == TN_OK) {
		tn_db_cancel_watch(s);
		tn_store_scan_mmap(s); /* as the warming connections (web_data.c) */
		j->opened = 1;
		tn_report_scores_compute(s, j->as_of, NULL, &j->sc);
		scores_value(s, &j->d, j->as_of, &j->sc, j->ret);
		tn_store_close(s);
	}
	tn_db_cancel_set(NULL, NULL);
	j->cpu = web_thread_cpu() - c0;
	return NULL;
}

/* start the scoring on a helper thread unless done already (or a thread
 * cannot be had: then it is computed when asked for, as before) */
static void shared_scores_start(tn_store *s, const tn_churn_def *d, tn_time as_of)
{
	shared_check();
	if (sh_sc_set || sh_job)
		return;
	scoring *j = tn_calloc(1, sizeof *j);
	if (!j || !(j->path = tn_strdup(tn_store_path(s)))) {
		free(j);
		return;
	}
	j->d = *d;
	j->as_of = as_of;
	j->ret = sh_ret;
	tn_db_cancel_get(&j->check, &j->check_ud);
	if (pthread_create(&j->th, NULL, scoring_run, j) != 0) {
		free(j->path);
		free(j);
		return;
	}
	j->running = 1;
	sh_job = j;
}

/* wait for the helper (if any) and keep its result as this thread's */
static void scoring_join(void)
{
	scoring *j = sh_job;
	if (!j)
		return;
	sh_job = NULL;
	pthread_join(j->th, NULL);
	web_make_helper_cpu += j->cpu;
	if (j->opened) {
		tn_report_scores_clear(&sh_sc);
		sh_sc = j->sc;
		sh_sc_set = 1;
	}
	free(j->path);
	free(j);
}

/* the risk scoring and the value at AS_OF (the data's end), computed once
 * (or waited for, when shared_scores_start started it) */
static const tn_report_scores *shared_scores(tn_store *s, const tn_churn_def *d, tn_time as_of)
{
	shared_check();
	scoring_join();
	if (!sh_sc_set) {
		tn_report_scores_compute(s, as_of, NULL, &sh_sc);
		sh_sc_set = 1;
	}
	scores_value(s, d, as_of, &sh_sc, sh_ret);
	if (sh_sc.own_ret) { /* computed here: kept for the summary too */
		sh_ret = sh_sc.ret;
		sh_sc.own_ret = 0;
	}
	return &sh_sc;
}

/* ---- the summary --------------------------------------------------------------- */

static void *make_summary(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	tn_summary *m = tn_malloc(sizeof *m);
	if (!m) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	tn_churn_def d;
	tn_time as_of = TN_NO_TIME;
	/* the data's end and the live value as the insights and /who read them
	 * (tn_summary_get computes the same when given none) */
	if (tn_churn_def_load(s, NULL, &d, err) || shared_as_of(s, &as_of, err) ||
	    tn_summary_get_shared(s, &d, as_of, &sh_ret, m, err)) {
		free(m);
		return NULL;
	}
	shared_done(SH_SUMMARY);
	return m;
}

static const tn_summary *summary(web_ctx *c, tn_error *err)
{
	return web_data(c, "summary", NULL, make_summary, free, err);
}

/* ---- churn rates ---------------------------------------------------------------- */

typedef struct rates {
	tn_churn_rate_row *rows;
	size_t n;
} rates;

static void drop_rates(void *p)
{
	rates *r = p;
	if (r)
		free(r->rows);
	free(r);
}

/* ARG: "MONTHS|BY" (BY empty: no grouping) */
static void *make_rates(tn_store *s, const char *arg, tn_error *err)
{
	char *end;
	long months = strtol(arg, &end, 10);
	const char *by = *end == '|' ? end + 1 : "";
	tn_churn_def d;
	rates *r = tn_calloc(1, sizeof *r);
	if (!r) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	tn_churn_rate_opts o = {.period_months = (int)months, .by = *by ? by : NULL, .as_of = TN_NO_TIME,
				.first = shared_first()};
	if (tn_churn_def_load(s, NULL, &d, err) || tn_churn_rate(s, &d, &o, &r->rows, &r->n, err)) {
		free(r);
		return NULL;
	}
	return r;
}

static const rates *get_rates(web_ctx *c, int months, const char *by, tn_error *err)
{
	char arg[64];
	snprintf(arg, sizeof arg, "%d|%s", months, by ? by : "");
	return web_data(c, "rates", arg, make_rates, drop_rates, err);
}

static int period_months(web_ctx *c)
{
	const char *p = web_q(c, "period");
	return p && strcmp(p, "quarter") == 0 ? TN_PERIOD_QUARTER : p && strcmp(p, "year") == 0 ? TN_PERIOD_YEAR
												  : TN_PERIOD_MONTH;
}

/* A headline number: <span data-metric="NAME" data-value="V">, shown with
 * DIGITS decimals as `tenure summary` and GET /v1/summary give it. */
static void metric(web_ctx *c, const char *name, double v, int digits)
{
	char buf[96];
	tn_sbuf_printf(&c->html, "<span data-metric=\"%s\" data-value=\"%.17g\">%s</span>", name, v,
		       web_num(c, v, digits, buf, sizeof buf));
}

static void tile_open(web_ctx *c, int label)
{
	tn_sbuf_printf(&c->html, "<div class=\"tile\"><div class=\"k\">");
	web_esc(c, T(c, label));
	tn_sbuf_printf(&c->html, "</div><div class=\"v\">");
}

/* the datalists behind the plan and source filters */
static void datalist(web_ctx *c, const char *id, const rates *r)
{
	tn_sbuf_printf(&c->html, "<datalist id=\"%s\">", id);
	for (size_t i = 0; r && i < r->n; i++)
		if (i == 0 || strcmp(r->rows[i].group, r->rows[i - 1].group) != 0) {
			tn_sbuf_printf(&c->html, "<option value=\"");
			web_esc(c, r->rows[i].group);
			tn_sbuf_printf(&c->html, "\">");
		}
	tn_sbuf_printf(&c->html, "</datalist>\n");
}

static void causes(web_ctx *c)
{
	tn_error err = {0};
	tn_store *s = web_store_open(c, &err);
	tn_stmt *st = s ? tn_db_prepare(s,
					"SELECT CASE WHEN cause IN ('billing','refund','revoked','product_unavailable') "
					"THEN 'involuntary' ELSE 'voluntary' END AS k, count(*) FROM subscription_state "
					"WHERE cause IS NOT NULL AND state IN ('expired','refunded','cancelling') GROUP BY k "
					"ORDER BY k",
					&err)
			: NULL;
	cells t = {0};
	int rc;
	while (st && (rc = tn_db_step(st, "reading churn causes", &err)) == TN_DB_ROW) {
		const char *k = tn_db_column_text(st, 0);
		cell(&t, tn_strdup(T(c, k && strcmp(k, "involuntary") == 0 ? S_INVOLUNTARY : S_VOLUNTARY)));
		cell(&t, fmt("%lld", (long long)tn_db_column_int64(st, 1)));
	}
	tn_db_finalize(st);
	tn_store_close(s);
	const char *cols[] = {T(c, S_CAUSE), T(c, S_SUBSCRIPTIONS)};
	static const int kind[] = {COL_TEXT, COL_NUM};
	show(c, T(c, S_VOL_INVOL), t.n ? T(c, S_VOL_INVOL_READ) : T(c, S_VOL_INVOL_NONE), 2, cols, kind, &t);
}

void page_overview(web_ctx *c)
{
	tn_error err = {0};
	const tn_summary *h = summary(c, &err);
	if (!h) {
		trouble(c, &err);
		return;
	}
	if (h->as_of == TN_NO_TIME) {
		web_p(c, "empty", T(c, S_NO_DATA));
		return;
	}
	char d1[64], buf[256];
	const char *cur = h->currency[0] ? h->currency : "";
	snprintf(buf, sizeof buf, T(c, S_AS_OF), web_date(c, h->as_of - 1, d1, sizeof d1));
	web_p(c, "asof", buf);
	tn_sbuf_printf(&c->html, "<div class=\"headline\">\n");
	/* the churn rate first: the headline */
	tile_open(c, S_CHURN_MONTH);
	metric(c, "churn_rate_month_pct", 100 * h->churn_rate, 2);
	tn_sbuf_printf(&c->html, "%%</div><div class=\"d\">");
	metric(c, "churned_month", (double)h->churned, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_LEFT_PREV));
	tn_sbuf_printf(&c->html, " ");
	metric(c, "churn_rate_prev_month_pct", 100 * h->churn_rate_prev, 2);
	tn_sbuf_printf(&c->html, "%%</div></div>\n");
	tile_open(c, S_MRR);
	metric(c, "mrr", h->mrr, 2);
	tn_sbuf_printf(&c->html, " <small>");
	web_esc(c, cur);
	tn_sbuf_printf(&c->html, "</small></div><div class=\"d\">");
	web_esc(c, T(c, S_MRR_D));
	tn_sbuf_printf(&c->html, "</div></div>\n");
	tile_open(c, S_NRR);
	metric(c, "nrr_month_pct", 100 * h->nrr, 2);
	tn_sbuf_printf(&c->html, "%%</div><div class=\"d\">");
	web_esc(c, T(c, S_NRR_D));
	tn_sbuf_printf(&c->html, "</div></div>\n");
	tile_open(c, S_ACTIVE);
	metric(c, "active_customers", (double)h->active, 0);
	tn_sbuf_printf(&c->html, "</div><div class=\"d\">");
	metric(c, "paying", (double)h->paying, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_PAYING));
	tn_sbuf_printf(&c->html, ", ");
	metric(c, "trialing", (double)h->trialing, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_TRIALING));
	tn_sbuf_printf(&c->html, "; ");
	metric(c, "customers", (double)h->customers, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_EVER));
	tn_sbuf_printf(&c->html, "</div></div>\n");
	tile_open(c, S_NPS);
	metric(c, "nps_90d", h->nps, 1);
	tn_sbuf_printf(&c->html, "</div><div class=\"d\">");
	metric(c, "nps_responses_90d", (double)h->nps_responses, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_ANSWERS));
	tn_sbuf_printf(&c->html, "</div></div>\n");
	tile_open(c, S_AT_RISK);
	metric(c, "revenue_at_risk", h->revenue_at_risk, 2);
	tn_sbuf_printf(&c->html, " <small>");
	web_esc(c, cur);
	tn_sbuf_printf(&c->html, "</small></div><div class=\"d\">");
	metric(c, "reactivated", (double)h->reactivated, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_REACTIVATED));
	tn_sbuf_printf(&c->html, "; ");
	metric(c, "exit_answers", (double)h->exit_answers, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_EXIT_ANSWERS));
	tn_sbuf_printf(&c->html, "; ");
	metric(c, "events", (double)h->events, 0);
	tn_sbuf_printf(&c->html, " ");
	web_esc(c, T(c, S_EVENTS));
	tn_sbuf_printf(&c->html, "</div></div>\n</div>\n");
	/* the headline figures as CSV */
	{
		cells t = {0};
		struct {
			const char *n;
			double v;
		} m[] = {{"churn_rate_month_pct", 100 * h->churn_rate}, {"churned_month", (double)h->churned},
			 {"churn_rate_prev_month_pct", 100 * h->churn_rate_prev}, {"mrr", h->mrr},
			 {"nrr_month_pct", 100 * h->nrr}, {"active_customers", (double)h->active},
			 {"paying", (double)h->paying}, {"trialing", (double)h->trialing},
			 {"customers", (double)h->customers}, {"nps_90d", h->nps},
			 {"nps_responses_90d", (double)h->nps_responses}, {"revenue_at_risk", h->revenue_at_risk},
			 {"reactivated", (double)h->reactivated}, {"exit_answers", (double)h->exit_answers},
			 {"events", (double)h->events}};
		tn_sbuf_printf(&c->csv, "headline\nmeasure,value\n");
		for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
			if (isnan(m[i].v))
				tn_sbuf_printf(&c->csv, "%s,\n", m[i].n);
			else
				tn_sbuf_printf(&c->csv, "%s,%.10g\n", m[i].n, m[i].v);
		(void)t;
	}
	/* the trend, filtered by plan or source */
	int months = period_months(c);
	const char *plan = web_q(c, "plan"), *source = web_q(c, "source");
	if (plan && !*plan)
		plan = NULL;
	if (source && !*source)
		source = NULL;
	const char *by = plan ? "plan" : source ? "channel" : NULL, *want = plan ? plan : source;
	const rates *plans = get_rates(c, TN_PERIOD_MONTH, "plan", &err);
	const rates *sources = get_rates(c, TN_PERIOD_MONTH, "channel", &err);
	datalist(c, "plans", plans);
	datalist(c, "sources", sources);
	tn_error_clear(&err);
	const rates *r = get_rates(c, months, by, &err);
	if (!r) {
		trouble(c, &err);
		return;
	}
	if (plan && source)
		web_p(c, "note", T(c, S_PLAN_WINS));
	size_t sel[512], ns = 0;
	for (size_t i = 0; i < r->n && ns < 512; i++)
		if (!want || strcmp(r->rows[i].group, want) == 0)
			sel[ns++] = i;
	size_t first = ns > 12 ? ns - 12 : 0, k = ns - first;
	if (!k) {
		web_p(c, "empty", T(c, S_NO_MATCH));
		return;
	}
	double x[12], cr[12], grc[12], nw[12], ex[12], co[12], ch[12], mrr_end[12];
	char lab[12][40];
	const char *labels[12];
	cells t = {0};
	for (size_t i = 0; i < k; i++) {
		const tn_churn_rate_row *w = &r->rows[sel[first + i]];
		x[i] = (double)i;
		cr[i] = w->churn_rate;
		grc[i] = w->gross_revenue_churn;
		nw[i] = w->new_mrr + w->reactivation_mrr;
		ex[i] = w->expansion_mrr;
		co[i] = w->contraction_mrr;
		ch[i] = w->churned_mrr;
		mrr_end[i] = w->mrr_end;
		labels[i] = web_month(c, w->period_start, lab[i], sizeof lab[i]);
		char ds[16];
		cell(&t, tn_strdup(tn_date_format(w->period_start, ds, sizeof ds)));
		cell(&t, fmt("%lld", w->customers_start));
		cell(&t, fmt("%lld", w->new_customers));
		cell(&t, fmt("%lld", w->churned));
		cell(&t, num(100 * w->churn_rate, 2));
		cell(&t, num(w->mrr_start, 2));
		cell(&t, num(w->new_mrr + w->reactivation_mrr, 2));
		cell(&t, num(w->expansion_mrr, 2));
		cell(&t, num(w->contraction_mrr, 2));
		cell(&t, num(w->churned_mrr, 2));
		cell(&t, num(w->mrr_end, 2));
		cell(&t, num(100 * w->nrr, 2));
		cell(&t, fmt("%lld", w->paying_end));
		cell(&t, fmt("%lld", w->trialing_end));
	}
	char title[256];
	snprintf(title, sizeof title, "%s%s%s", T(c, S_TREND), want ? " · " : "", want ? want : "");
	tn_svg_series s1[2] = {{.name = T(c, S_CUSTOMER_CHURN), .n = k, .x = x, .y = cr},
			       {.name = T(c, S_REVENUE_CHURN), .n = k, .x = x, .y = grc}};
	tn_svg_line_opts o = {.title = title, .xlabel = T(c, months == 1 ? S_MONTH : months == 3 ? S_QUARTER : S_YEAR),
			      .ylabel = T(c, S_PCT_LEFT), .ymin = 0, .ymax = NAN, .y_percent = 1,
			      .shade_from = NAN, .shade_to = NAN, .xtick_labels = labels, .nxtick_labels = k, .xtick_every = k > 6 ? 2 : 1, .hover = 1};
	tn_sbuf svg = {0};
	tn_svg_line_chart(&svg, &o, s1, 2);
	web_chart(c, title, T(c, S_TREND_READ), &svg);
	tn_sbuf_free(&svg);
	char ylab[96];
	snprintf(ylab, sizeof ylab, "%s%s%s%s", T(c, S_MRR), *cur ? " (" : "", cur, *cur ? ")" : "");
	tn_svg_series s2[4] = {{.name = T(c, S_NEW_MRR), .n = k, .x = x, .y = nw},
			       {.name = T(c, S_EXPANSION), .n = k, .x = x, .y = ex},
			       {.name = T(c, S_CONTRACTION), .n = k, .x = x, .y = co},
			       {.name = T(c, S_CHURNED_MRR), .n = k, .x = x, .y = ch}};
	o.title = T(c, S_MOVEMENTS);
	o.ylabel = ylab;
	o.y_percent = 0;
	tn_svg_line_chart(&svg, &o, s2, 4);
	web_chart(c, T(c, S_MOVEMENTS), T(c, S_MOVEMENTS_READ), &svg);
	tn_sbuf_free(&svg);
	tn_svg_series s3[1] = {{.name = T(c, S_MRR), .n = k, .x = x, .y = mrr_end}};
	o.title = T(c, S_MRR_TREND);
	tn_svg_line_chart(&svg, &o, s3, 1);
	web_chart(c, T(c, S_MRR_TREND), NULL, &svg);
	tn_sbuf_free(&svg);
	const char *cols[] = {T(c, S_PERIOD_START), T(c, S_CUST_START), T(c, S_NEW_CUST), T(c, S_CHURNED),
			      T(c, S_CHURN_PCT), T(c, S_MRR_START), T(c, S_NEW_MRR), T(c, S_EXPANSION),
			      T(c, S_CONTRACTION), T(c, S_CHURNED_MRR), T(c, S_MRR_END), T(c, S_NRR_PCT),
			      T(c, S_PAYING), T(c, S_TRIALING)};
	static const int kind[] = {COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM,
				   COL_NUM,  COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM};
	show(c, T(c, S_BY_PERIOD), NULL, 14, cols, kind, &t);
	causes(c);
}

/* ---- when ------------------------------------------------------------------------- */

#define MAX_GROUPS 8
#define CURVE_POINTS 120

typedef struct surv {
	int ngroups;
	char *label[MAX_GROUPS];
	double median[MAX_GROUPS];
	long long n[MAX_GROUPS];
	size_t np[MAX_GROUPS];
	double *t[MAX_GROUPS], *s[MAX_GROUPS], *lo[MAX_GROUPS], *hi[MAX_GROUPS];
	size_t nbins;
	double *hx, *hz, *atrisk;
	double from, to, share;
	long peak;
	char sentence[320];
	int attrs; /* the frame's text columns offered as "by" */
	char attr[16][40];
} surv;

static void drop_surv(void *p)
{
	surv *v = p;
	if (!v)
		return;
	for (int g = 0; g < v->ngroups; g++) {
		free(v->label[g]);
		free(v->t[g]);
		free(v->s[g]);
		free(v->lo[g]);
		free(v->hi[g]);
	}
	free(v->hx);
	free(v->hz);
	free(v->atrisk);
	free(v);
}

/* The churn frame (default definition, as of the data's end) that survival
 * (every "by") and the drivers read: one scan of the store per data stamp
 * instead of one per value (each is a pass over every event: minutes of CPU
 * on 1,000,000 customers).  Makers run only on the warming thread: the
 * frame is that thread's, freed when the stamp moves and when it ends. */
static _Thread_local tn_frame *frame_f;
static _Thread_local long long frame_stamp;

static tn_frame *churn_frame(tn_store *s, tn_error *err)
{
	if (frame_f && frame_stamp == web_make_stamp)
		return frame_f;
	tn_frame_free(frame_f);
	frame_f = NULL;
	tn_churn_def d;
	if (tn_churn_def_load(s, NULL, &d, err))
		return NULL;
	tn_churn_frame_opts fo = {.as_of = TN_NO_TIME};
	frame_f = tn_churn_frame(s, &d, &fo, err);
	frame_stamp = web_make_stamp;
	return frame_f;
}

void web_pages_thread_end(void)
{
	shared_free();
	tn_frame_free(frame_f);
	frame_f = NULL;
}

static void *make_surv(tn_store *s, const char *by, tn_error *err)
{
	tn_frame *f = churn_frame(s, err);
	if (!f)
		return NULL;
	surv *v = tn_calloc(1, sizeof *v);
	int ti = tn_frame_find(f, "time"), ei = tn_frame_find(f, "event");
	size_t n = f->nrows, *rows = tn_malloc((n ? n : 1) * sizeof *rows);
	if (!v || !rows || ti < 0 || ei < 0) {
		free(rows);
		drop_surv(v);
		tn_error_set(err, v && rows ? TN_ERR_INPUT : TN_ERR_NOMEM, v && rows ? "no churn frame" : "out of memory");
		return NULL;
	}
	v->from = v->to = NAN;
	for (size_t j = 0; j < f->ncols && v->attrs < 16; j++)
		if (!f->cols[j].is_numeric && strcmp(f->cols[j].name, "customer") != 0 &&
		    strcmp(f->cols[j].name, "id") != 0)
			snprintf(v->attr[v->attrs++], sizeof v->attr[0], "%s", f->cols[j].name);
	for (size_t i = 0; i < n; i++)
		rows[i] = i;
	const double *time = f->cols[ti].num, *event = f->cols[ei].num;
	int *idx = NULL, nlev = 0;
	char **labels = NULL;
	if (n && tn_frame_find(f, by) >= 0 && tn_design_groups(f, by, rows, n, &idx, &labels, &nlev, err) == TN_OK) {
		for (int g = 0; g < nlev && v->ngroups < MAX_GROUPS; g++) {
			tn_km *km = NULL;
			tn_km_steps *st = NULL;
			if (tn_km_fit(time, event, idx, g, n, 0.95, &km, err) || tn_km_steps_new(km, CURVE_POINTS, &st, err)) {
				tn_km_free(km);
				tn_error_clear(err);
				continue;
			}
			int k = v->ngroups++;
			v->label[k] = tn_strdup(labels[g]);
			v->median[k] = km->median;
			long long cnt = 0;
			for (size_t i = 0; i < n; i++)
				cnt += idx[i] == g;
			v->n[k] = cnt;
			v->np[k] = st->n;
			size_t bytes = (st->n ? st->n : 1) * sizeof(double);
			if ((v->t[k] = tn_malloc(bytes)) && (v->s[k] = tn_malloc(bytes)) && (v->lo[k] = tn_malloc(bytes)) &&
			    (v->hi[k] = tn_malloc(bytes))) {
				memcpy(v->t[k], st->time, st->n * sizeof(double));
				memcpy(v->s[k], st->surv, st->n * sizeof(double));
				memcpy(v->lo[k], st->lower, st->n * sizeof(double));
				memcpy(v->hi[k], st->upper, st->n * sizeof(double));
			} else
				v->np[k] = 0;
			tn_km_free(km);
			tn_km_steps_free(st);
		}
		tn_design_groups_free(idx, labels, nlev);
	}
	tn_error_clear(err);
	tn_danger *dg = NULL;
	if (n && tn_danger_new(time, event, NULL, 0, n, 1.0, 30, &dg, err) == TN_OK) {
		size_t nb = dg->nbins < 400 ? dg->nbins : 400;
		v->nbins = nb;
		v->peak = dg->peak;
		if ((v->hx = tn_malloc((nb ? nb : 1) * sizeof *v->hx)) && (v->hz = tn_malloc((nb ? nb : 1) * sizeof *v->hz)) &&
		    (v->atrisk = tn_malloc((nb ? nb : 1) * sizeof *v->atrisk))) {
			for (size_t k = 0; k < nb; k++) {
				v->hx[k] = (double)k * dg->width;
				v->hz[k] = dg->hazard[k];
				v->atrisk[k] = dg->at_risk[k];
			}
		} else
			v->nbins = 0;
		if (dg->from >= 0) {
			v->from = (double)dg->from * dg->width;
			v->to = (double)(dg->to + 1) * dg->width;
			v->share = dg->window_share;
		}
		tn_danger_sentence(dg, "day", v->sentence, sizeof v->sentence);
		tn_danger_free(dg);
	}
	tn_error_clear(err);
	free(rows);
	return v;
}

size_t web_related(const char *kind, const void *d, char (*out)[128], size_t max)
{
	if (strcmp(kind, "survival") != 0)
		return 0;
	/* a "by" the page offers costs milliseconds while the frame is built
	 * (a new frame is minutes of CPU on a million customers): every one is
	 * computed and kept, so a filter is served at once, after a restart too */
	const surv *v = d;
	size_t n = 0;
	for (int i = 0; i < v->attrs && n < max; i++)
		snprintf(out[n++], 128, "%s", v->attr[i]);
	return n;
}

static void drop_cohorts(void *p) { tn_cohorts_free(p); }
static void *make_cohorts(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	tn_churn_def d;
	tn_cohorts *co = NULL;
	if (tn_churn_def_load(s, NULL, &d, err) ||
	    tn_cohorts_compute_first(s, &d, TN_PERIOD_MONTH, 0, TN_NO_TIME, shared_first(), &co, err))
		return NULL;
	return co;
}

/* Local peaks of the daily hazard, smoothed over a week, where at least 30
 * customers are at risk: the highest first, at most 4. */
static size_t peaks(const surv *v, size_t *out, size_t max)
{
	size_t nb = v->nbins, n = 0;
	if (nb < 8)
		return 0;
	double *sm = tn_malloc(nb * sizeof *sm);
	if (!sm)
		return 0;
	for (size_t k = 0; k < nb; k++) {
		double sum = 0;
		int m = 0;
		for (size_t j = k >= 3 ? k - 3 : 0; j <= k + 3 && j < nb; j++)
			if (!isnan(v->hz[j]) && v->atrisk[j] >= 30)
				sum += v->hz[j], m++;
		sm[k] = m ? sum / m : NAN;
	}
	double top = 0;
	for (size_t k = 0; k < nb; k++)
		if (!isnan(sm[k]) && sm[k] > top)
			top = sm[k];
	for (size_t k = 1; k + 1 < nb; k++) {
		if (isnan(sm[k]) || !(sm[k] >= 0.5 * top) || !(top > 0))
			continue;
		int is_max = 1;
		for (size_t j = k >= 7 ? k - 7 : 0; j <= k + 7 && j < nb; j++)
			if (j != k && !isnan(sm[j]) && (sm[j] > sm[k] || (sm[j] == sm[k] && j < k)))
				is_max = 0;
		if (is_max && n < max)
			out[n++] = k;
	}
	/* highest first */
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (sm[out[b]] > sm[out[a]]) {
				size_t t = out[a];
				out[a] = out[b];
				out[b] = t;
			}
	free(sm);
	return n;
}

void page_when(web_ctx *c)
{
	tn_error err = {0};
	const char *by = web_q(c, "by");
	if (!by || !*by || strlen(by) > 40)
		by = "plan";
	surv *v = web_data(c, "survival", by, make_surv, drop_surv, &err);
	if (!v) {
		trouble(c, &err);
		return;
	}
	/* the attribute chooser: a GET form, so the view is a URL */
	tn_sbuf_printf(&c->html, "<form method=\"get\" action=\"/when\" class=\"filters\"><label>");
	web_esc(c, T(c, S_SURV_BY));
	tn_sbuf_printf(&c->html, " <select name=\"by\">");
	for (int i = 0; i < v->attrs; i++) {
		tn_sbuf_printf(&c->html, "<option value=\"");
		web_esc(c, v->attr[i]);
		tn_sbuf_printf(&c->html, "\"%s>", strcmp(v->attr[i], by) == 0 ? " selected" : "");
		web_esc(c, TD(c, v->attr[i]));
		tn_sbuf_printf(&c->html, "</option>");
	}
	tn_sbuf_printf(&c->html, "</select></label> <button type=\"submit\">");
	web_esc(c, T(c, S_APPLY));
	tn_sbuf_printf(&c->html, "</button></form>\n");
	char title[200];
	snprintf(title, sizeof title, "%s: %s", T(c, S_SURVIVAL), TD(c, by));
	if (v->ngroups) {
		tn_svg_series s[MAX_GROUPS];
		for (int g = 0; g < v->ngroups; g++)
			s[g] = (tn_svg_series){.name = v->label[g], .n = v->np[g], .x = v->t[g], .y = v->s[g],
					       .lo = v->lo[g], .hi = v->hi[g], .step = 1};
		tn_svg_line_opts o = {.title = title, .xlabel = T(c, S_DAYS_SINCE_START), .ylabel = T(c, S_STILL_SUBSCRIBED),
				      .ymin = 0, .ymax = 1, .y_percent = 1, .shade_from = NAN, .shade_to = NAN, .hover = 1};
		tn_sbuf svg = {0};
		tn_svg_line_chart(&svg, &o, s, (size_t)v->ngroups);
		web_chart(c, title, T(c, S_SURVIVAL_READ), &svg);
		tn_sbuf_free(&svg);
	} else
		web_p(c, "empty", T(c, S_NO_GROUPS));
	cells t = {0};
	for (int g = 0; g < v->ngroups; g++) {
		cell(&t, tn_strdup(v->label[g]));
		cell(&t, fmt("%lld", v->n[g]));
		cell(&t, num(v->median[g], 0));
		/* survival at 30, 90, 180 and 365 days from the steps */
		static const double at[] = {30, 90, 180, 365};
		for (int a = 0; a < 4; a++) {
			double sv = NAN;
			for (size_t i = 0; i < v->np[g]; i++)
				if (v->t[g][i] <= at[a])
					sv = v->s[g][i];
			cell(&t, num(100 * sv, 1));
		}
	}
	const char *cols[] = {TD(c, by), T(c, S_CUSTOMERS), T(c, S_MEDIAN_DAYS), T(c, S_AT_30), T(c, S_AT_90),
			      T(c, S_AT_180), T(c, S_AT_365)};
	static const int kind[] = {COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_NUM};
	show(c, title, NULL, 7, cols, kind, &t);
	/* the danger window and every peak, each in a sentence */
	web_h2(c, T(c, S_DANGER));
	if (v->nbins) {
		char sh[64], buf[512], a[32], b2[32], pc[32];
		snprintf(sh, sizeof sh, "%s", T(c, S_DANGER_WINDOW));
		tn_svg_series s = {.name = T(c, S_ALL_CUSTOMERS), .n = v->nbins, .x = v->hx, .y = v->hz};
		size_t pk[4];
		size_t np = peaks(v, pk, 4);
		double marks[4];
		for (size_t i = 0; i < np; i++)
			marks[i] = v->hx[pk[i]];
		tn_svg_line_opts o = {.title = T(c, S_HAZARD), .xlabel = T(c, S_DAYS_SINCE_START), .ylabel = T(c, S_HAZARD_Y),
				      .ymin = 0, .ymax = NAN, .y_percent = 1, .shade_from = v->from, .shade_to = v->to,
				      .shade_label = sh, .marks = marks, .nmarks = np, .hover = 1};
		tn_sbuf svg = {0};
		tn_svg_line_chart(&svg, &o, &s, 1);
		web_chart(c, T(c, S_HAZARD), NULL, &svg);
		tn_sbuf_free(&svg);
		if (!isnan(v->from)) {
			snprintf(buf, sizeof buf, T(c, S_DANGER_SENTENCE), web_num(c, v->from, 0, a, sizeof a),
				 web_num(c, v->to, 0, b2, sizeof b2), web_pct(c, v->share, 0, pc, sizeof pc));
			web_p(c, "reading", buf);
		}
		if (c->lang == L_EN && v->sentence[0])
			web_p(c, "reading", v->sentence);
		tn_sbuf_printf(&c->html, "<ul class=\"peaks\">");
		for (size_t i = 0; i < np; i++) {
			char d[32], h[32], r[32];
			size_t k = pk[i];
			snprintf(buf, sizeof buf, T(c, S_PEAK_SENTENCE), web_num(c, v->hx[k], 0, d, sizeof d),
				 web_pct(c, v->hz[k], 2, h, sizeof h), web_num(c, v->atrisk[k], 0, r, sizeof r));
			tn_sbuf_printf(&c->html, "<li>");
			web_esc(c, buf);
			tn_sbuf_printf(&c->html, "</li>");
		}
		tn_sbuf_printf(&c->html, "</ul>\n");
		/* the hazard as CSV */
		tn_sbuf_printf(&c->csv, "\nhazard by day\nday,at_risk,hazard\n");
		for (size_t k = 0; k < v->nbins; k++)
			tn_sbuf_printf(&c->csv, "%.0f,%.0f,%.6g\n", v->hx[k], v->atrisk[k], v->hz[k]);
	} else
		web_p(c, "empty", T(c, S_NO_ROWS));
	/* cohorts */
	const tn_cohorts *co = web_data(c, "cohorts", NULL, make_cohorts, drop_cohorts, &err);
	if (!co) {
		trouble(c, &err);
		return;
	}
	size_t nr = co->ncohorts < 12 ? co->ncohorts : 12, first = co->ncohorts - nr, na = co->nages < 13 ? co->nages : 13;
	if (nr && na) {
		double vals[12 * 13];
		char rl[12][40], cl[13][16];
		const char *rlab[12], *clab[13];
		for (size_t i = 0; i < nr; i++) {
			rlab[i] = web_month(c, co->cohort_start[first + i], rl[i], sizeof rl[i]);
			for (size_t a = 0; a < na; a++)
				vals[i * na + a] = co->value[(first + i) * co->nages + a];
		}
		for (size_t a = 0; a < na; a++) {
			snprintf(cl[a], sizeof cl[a], "%zu", a);
			clab[a] = cl[a];
		}
		tn_sbuf svg = {0};
		tn_svg_heatmap(&svg, T(c, S_COHORTS), nr, na, vals, rlab, clab, 0, 1);
		web_chart(c, T(c, S_COHORTS), T(c, S_COHORTS_READ), &svg);
		tn_sbuf_free(&svg);
		tn_sbuf_printf(&c->csv, "\ncohort retention\ncohort,size");
		for (size_t a = 0; a < na; a++)
			tn_sbuf_printf(&c->csv, ",month_%zu", a);
		tn_sbuf_printf(&c->csv, "\n");
		for (size_t i = 0; i < nr; i++) {
			char ds[16];
			tn_sbuf_printf(&c->csv, "%s,%lld", tn_date_format(co->cohort_start[first + i], ds, sizeof ds),
				       co->size[first + i]);
			for (size_t a = 0; a < na; a++) {
				double x = vals[i * na + a];
				if (isnan(x))
					tn_sbuf_printf(&c->csv, ",");
				else
					tn_sbuf_printf(&c->csv, ",%.4f", x);
			}
			tn_sbuf_printf(&c->csv, "\n");
		}
	}
}

/* ---- why -------------------------------------------------------------------------- */

typedef struct drivers {
	size_t p;
	char **name, **ref;
	double *hr, *lo, *hi, *pv;
	char note[TN_ERROR_MSG_MAX];
} drivers;

static void drop_drivers(void *x)
{
	drivers *d = x;
	if (!d)
		return;
	for (size_t j = 0; j < d->p; j++) {
		free(d->name ? d->name[j] : NULL);
		free(d->ref ? d->ref[j] : NULL);
	}
	free(d->name);
	free(d->ref);
	free(d->hr);
	free(d->lo);
	free(d->hi);
	free(d->pv);
	free(d);
}

/* A Cox model of the time to churn on plan, channel, country, device and
 * onboarding, as the report fits it (src/cli/cmd_report.c). */
static void *make_drivers(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	drivers *dv = tn_calloc(1, sizeof *dv);
	if (!dv) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	tn_frame *f = churn_frame(s, err);
	if (!f) {
		free(dv);
		return NULL;
	}
	const char *want[] = {"plan", "channel", "country", "attr_device", "reached_onboarding_complete"};
	const char *cols[5], *req[] = {"time", "event"};
	size_t nc = 0;
	for (size_t k = 0; k < 5; k++)
		if (tn_frame_find(f, want[k]) >= 0)
			cols[nc++] = want[k];
	tn_design *des = NULL;
	tn_cox *cox = NULL;
	double *t2 = NULL, *e2 = NULL;
	tn_error e = {0};
	if (f->nrows == 0 || tn_design_new(f, cols, nc, req, 2, NULL, 0, &des, &e) || des->n == 0 || des->p == 0 ||
	    tn_design_numeric(f, "time", des->rows, des->n, &t2, &e) ||
	    tn_design_numeric(f, "event", des->rows, des->n, &e2, &e) ||
	    tn_cox_fit(t2, e2, des->x, des->n, des->p, NULL, NULL, &cox, &e)) {
		snprintf(dv->note, sizeof dv->note, "%s", e.msg[0] ? e.msg : "no customers");
	} else if (!cox->converged || cox->ninfinite) {
		snprintf(dv->note, sizeof dv->note, "the model did not converge");
	} else {
		size_t p = des->p;
		dv->name = tn_calloc(p, sizeof *dv->name);
		dv->ref = tn_calloc(p, sizeof *dv->ref);
		dv->hr = tn_calloc(p, sizeof *dv->hr);
		dv->lo = tn_calloc(p, sizeof *dv->lo);
		dv->hi = tn_calloc(p, sizeof *dv->hi);
		dv->pv = tn_calloc(p, sizeof *dv->pv);
		if (dv->name && dv->ref && dv->hr && dv->lo && dv->hi && dv->pv) {
			dv->p = p;
			for (size_t j = 0; j < p; j++) {
				dv->name[j] = tn_strdup(des->names[j]);
				char ref[256];
				dv->ref[j] = tn_strdup(*tn_design_reference(des, f, j, ref, sizeof ref) ? ref : "");
				dv->hr[j] = exp(cox->coef[j]);
				dv->lo[j] = cox->lower[j];
				dv->hi[j] = cox->upper[j];
				dv->pv[j] = cox->pvalue ? cox->pvalue[j] : NAN;
			}
		}
	}
	free(t2);
	free(e2);
	tn_cox_free(cox);
	tn_design_free(des);
	return dv;
}

typedef struct tables {
	tn_report_table *t;
	size_t n;
} tables;
static void drop_tables(void *x)
{
	tables *t = x;
	if (t)
		tn_report_tables_free(t->t, t->n);
	free(t);
}
/* What customers say needs the text answers classified: when nothing is
 * labelled yet, label them with the built-in model, as `tenure report` and
 * `tenure feedback classify` do (a write; the caches refresh once). */
static void label_feedback(tn_store *s)
{
	size_t done = 0;
	tn_error err = {0};
	/* any label (as tn_fb_labels_store would list one): the first row only,
	 * not every label sorted (the insights' words table reads them later) */
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT 1 FROM feedback_labels l JOIN feedback f ON f.id = l.feedback_id "
				    "JOIN customers c ON c.id = f.customer_id LIMIT 1",
				    &err);
	int have = st && tn_db_step(st, "reading the feedback labels", &err) == TN_DB_ROW;
	tn_db_finalize(st);
	if (have)
		return;
	char exe[1024];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
	if (slash)
		*slash = '\0';
	tn_fb_model *m = tn_fb_model_default(slash ? exe : NULL, &err);
	if (m)
		tn_fb_label_store(s, m, 0, &done, &err);
	tn_fb_model_free(m);
}

/* the churn frame survival and the drivers read (churn_frame): the
 * complaints' hazard ratios need the same times to churn, so the insights
 * build it (or find it built) once for all of them; NULL when it fails (the
 * insights then build their own) */
static const tn_frame *insights_frame(tn_store *s)
{
	tn_error e2 = {0};
	return churn_frame(s, &e2);
}

typedef struct insights_wait {
	tn_store *s;
	const tn_churn_def *d;
	tn_time as_of;
} insights_wait;
static const tn_report_scores *insights_scores(void *ud)
{
	insights_wait *w = ud;
	return shared_scores(w->s, w->d, w->as_of);
}

static void *make_insights(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	tables *t = tn_calloc(1, sizeof *t);
	tn_churn_def d;
	/* the summary's as-of and currency, without computing the summary
	 * (its counts and revenue at risk: seconds on 1,000,000 customers) */
	tn_time as_of = TN_NO_TIME;
	char currency[4] = "";
	int rc = !t || tn_churn_def_load(s, NULL, &d, err) || shared_as_of(s, &as_of, err);
	/* the scoring on a helper thread meanwhile (shared_scores_start); the
	 * labels, the churn frame and the first tables here */
	if (!rc && as_of != TN_NO_TIME)
		shared_scores_start(s, &d, as_of);
	label_feedback(s);
	insights_wait w = {s, &d, as_of};
	if (rc || (as_of != TN_NO_TIME && tn_store_reporting_currency(s, currency, err)) ||
	    (as_of != TN_NO_TIME && tn_report_insights_wait(s, &d, as_of, NULL, currency, insights_scores, &w,
							    insights_frame(s), &t->t, &t->n, err))) {
		if (!t)
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		scoring_join(); /* the helper (if started) joined, its result kept; nothing computed on failure */
		free(t);
		return NULL;
	}
	shared_done(SH_INSIGHTS);
	return t;
}

typedef struct fbrows {
	tn_fb_row *r;
	size_t n;
} fbrows;
static void drop_fb(void *x)
{
	fbrows *f = x;
	if (f)
		free(f->r);
	free(f);
}
static void *make_exit(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	fbrows *f = tn_calloc(1, sizeof *f);
	if (!f || tn_fb_exit_reasons_store(s, &f->r, &f->n, err)) {
		free(f);
		return NULL;
	}
	return f;
}
static void *make_scores(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	fbrows *f = tn_calloc(1, sizeof *f);
	if (!f || tn_fb_scores_store(s, NULL, "month", &f->r, &f->n, err)) {
		free(f);
		return NULL;
	}
	return f;
}

/* one of the library's tables, its labels translated where known */
static void report_table(web_ctx *c, const tn_report_table *rt, const int *kinds)
{
	const char *cols[16];
	int kind[16];
	size_t nc = rt->ncols < 16 ? rt->ncols : 16;
	for (size_t j = 0; j < nc; j++) {
		cols[j] = TD(c, rt->cols[j]);
		kind[j] = kinds ? kinds[j] : COL_TEXT;
	}
	if (!kinds) /* numbers where every cell reads as one */
		for (size_t j = 0; j < nc; j++) {
			int all = rt->nrows > 0;
			for (size_t i = 0; i < rt->nrows && all; i++) {
				const char *v = rt->cells[i * rt->ncols + j];
				char *end;
				if (!v || !*v)
					continue;
				strtod(v, &end);
				if (end == v)
					all = 0;
			}
			kind[j] = all ? COL_NUM : COL_TEXT;
		}
	/* cells with more columns than 16 are cut to the first 16 */
	const char **cl = tn_calloc(rt->nrows * nc + 1, sizeof *cl);
	if (!cl)
		return;
	/* the cells in words and the reading in the page's language (a
	 * sentence without a template is left out rather than shown in English) */
	char **own = c->lang == L_EN ? NULL : tn_calloc(rt->nrows * nc + 1, sizeof *own);
	for (size_t i = 0; i < rt->nrows; i++)
		for (size_t j = 0; j < nc; j++) {
			const char *v = rt->cells[i * rt->ncols + j];
			char tr[1024];
			if (own && kind[j] == COL_TEXT && v && *v && web_reading(c, v, tr, sizeof tr))
				own[i * nc + j] = tn_strdup(tr);
			cl[i * nc + j] = own && own[i * nc + j] ? own[i * nc + j] : v;
		}
	char reading[2048];
	const char *rd = c->lang == L_EN ? rt->reading
		       : web_reading(c, rt->reading, reading, sizeof reading) ? reading
									: NULL;
	web_table(c, TD(c, rt->title), rd, nc, cols, kind, rt->nrows, cl);
	for (size_t i = 0; own && i < rt->nrows * nc; i++)
		free(own[i]);
	free(own);
	free(cl);
}

void page_why(web_ctx *c)
{
	tn_error err = {0};
	drivers *dv = web_data(c, "drivers", NULL, make_drivers, drop_drivers, &err);
	if (!dv)
		trouble(c, &err);
	else if (!dv->p) {
		web_h2(c, T(c, S_DRIVERS));
		web_p(c, "empty", dv->note);
	} else {
		const char **labels = tn_calloc(dv->p, sizeof *labels), **key = tn_calloc(dv->p, sizeof *key);
		char (*kb)[64] = tn_calloc(dv->p, sizeof *kb);
		if (labels && key && kb) {
			for (size_t j = 0; j < dv->p; j++) {
				labels[j] = dv->name[j];
				const char *eq = strchr(dv->name[j], '=');
				snprintf(kb[j], sizeof kb[j], "%.*s", eq ? (int)(eq - dv->name[j]) : 63, dv->name[j]);
				key[j] = kb[j];
			}
			tn_sbuf svg = {0};
			tn_svg_forest_keyed(&svg, T(c, S_DRIVERS), dv->p, labels, dv->hr, dv->lo, dv->hi, 1.0, key,
					    (const char *const *)dv->ref);
			web_chart(c, T(c, S_DRIVERS), T(c, S_DRIVERS_READ), &svg);
			tn_sbuf_free(&svg);
		}
		free(labels);
		free(key);
		free(kb);
		cells t = {0};
		for (size_t j = 0; j < dv->p; j++) {
			cell(&t, tn_strdup(dv->name[j]));
			cell(&t, tn_strdup(dv->ref[j]));
			cell(&t, num(dv->hr[j], 3));
			cell(&t, num(dv->lo[j], 3));
			cell(&t, num(dv->hi[j], 3));
			cell(&t, num(dv->pv[j], 4));
		}
		const char *cols[] = {T(c, S_DRIVER), T(c, S_REFERENCE), T(c, S_HR), T(c, S_CI_LO), T(c, S_CI_HI), "p"};
		static const int kind[] = {COL_TEXT, COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM};
		show(c, T(c, S_DRIVERS), NULL, 6, cols, kind, &t);
	}
	/* NPS, CSAT and CES by month */
	fbrows *sc = web_data(c, "scores", NULL, make_scores, drop_fb, &err);
	if (sc) {
		static const char *const mname[] = {"nps", "csat", "ces"};
		static const int mlab[] = {S_NPS_TREND, S_CSAT_TREND, S_CES_TREND};
		for (int m = 0; m < 3; m++) {
			double x[24], y[24], lo[24], hi[24];
			char lab[24][16];
			const char *labels[24];
			size_t all = 0, k = 0;
			for (size_t i = 0; i < sc->n; i++)
				if (strcmp(sc->r[i].metric, mname[m]) == 0 && strcmp(sc->r[i].segment, "all") == 0 &&
				    strcmp(sc->r[i].period, "all") != 0)
					all++;
			/* the last 24 months */
			for (size_t i = 0, seen = 0; i < sc->n; i++)
				if (strcmp(sc->r[i].metric, mname[m]) == 0 && strcmp(sc->r[i].segment, "all") == 0 &&
				    strcmp(sc->r[i].period, "all") != 0 && seen++ + 24 >= all && k < 24) {
					x[k] = (double)k;
					y[k] = sc->r[i].value;
					lo[k] = sc->r[i].lo;
					hi[k] = sc->r[i].hi;
					snprintf(lab[k], sizeof lab[k], "%.7s", sc->r[i].period);
					labels[k] = lab[k];
					k++;
				}
			if (!k)
				continue;
			tn_svg_series s = {.name = T(c, mlab[m]), .n = k, .x = x, .y = y, .lo = lo, .hi = hi};
			tn_svg_line_opts o = {.title = T(c, mlab[m]), .xlabel = T(c, S_MONTH), .ylabel = T(c, S_SCORE),
					      .ymin = NAN, .ymax = NAN, .shade_from = NAN, .shade_to = NAN,
					      .xtick_labels = labels, .nxtick_labels = k, .xtick_every = k > 6 ? 2 : 1, .hover = 1};
			tn_sbuf svg = {0};
			tn_svg_line_chart(&svg, &o, &s, 1);
			web_chart(c, T(c, mlab[m]), m == 0 ? T(c, S_SCORES_READ) : NULL, &svg);
			tn_sbuf_free(&svg);
			tn_sbuf_printf(&c->csv, "\n%s\nmonth,score,lo,hi\n", mname[m]);
			for (size_t i = 0; i < k; i++)
				tn_sbuf_printf(&c->csv, "%s,%.4g,%.4g,%.4g\n", lab[i], y[i], lo[i], hi[i]);
		}
	} else
		tn_error_clear(&err);
	/* what they say: scores, types and themes, the matrix, their words */
	tables *in = web_data(c, "insights", NULL, make_insights, drop_tables, &err);
	if (!in)
		trouble(c, &err);
	else
		for (size_t i = 0; i < in->n && i < 4; i++) {
			if (i == 3) { /* customers' own words: in their own direction */
				static const int said[] = {COL_TEXT, COL_TEXT, COL_TEXT, COL_SAID};
				report_table(c, &in->t[i], in->t[i].ncols == 4 ? said : NULL);
			} else
				report_table(c, &in->t[i], NULL);
		}
	/* exit reasons */
	fbrows *ex = web_data(c, "exit", NULL, make_exit, drop_fb, &err);
	if (!ex)
		trouble(c, &err);
	else {
		cells t = {0};
		for (size_t i = 0; i < ex->n; i++) {
			cell(&t, tn_strdup(ex->r[i].segment));
			cell(&t, tn_strdup(ex->r[i].period));
			cell(&t, fmt("%zu", ex->r[i].n));
			cell(&t, num(100 * ex->r[i].value, 1));
			cell(&t, num(100 * ex->r[i].lo, 1));
			cell(&t, num(100 * ex->r[i].hi, 1));
		}
		const char *cols[] = {T(c, S_TYPE), T(c, S_THEME), T(c, S_ANSWERS), T(c, S_SHARE_PCT), T(c, S_CI_LO),
				      T(c, S_CI_HI)};
		static const int kind[] = {COL_TEXT, COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM};
		show(c, T(c, S_EXIT_REASONS), NULL, 6, cols, kind, &t);
	}
}

/* ---- who -------------------------------------------------------------------------- */

typedef struct risk_row {
	char *id, *plan;
	tn_reason_msg *why; /* the two strongest reasons (id 0: none), for the rows shown; NULL for the others */
	double risk, mrr, value, loss, days;
	int action; /* S_ACT_* */
} risk_row;

/* Every scored live customer, compactly (the offer plan's input, in the
 * rows' value-at-risk order): the tail of the kept value. */
typedef struct who_all {
	size_t n;
	char *ids;      /* the ids, each ended by '\0' */
	size_t nids;    /* bytes of IDS */
	double *risk, *value;
} who_all;

#define WHO_SHOWN 60

typedef struct who {
	risk_row *r;  /* the rows a page can show: the top WHO_SHOWN under each sort, in value-at-risk order */
	size_t n;
	size_t *top[3]; /* each sort's (risk, value at risk, days to the period's end) rows of R, in order */
	size_t ntop[3];
	size_t total; /* the live customers scored */
	who_all *all; /* every one of them (NULL while a kept tail is being loaded) */
	int plan_ready; /* the default offer plan's figures (/act), computed with the value */
	web_plan_figures plan;
	char plan_msg[TN_ERROR_MSG_MAX]; /* why there are none */
	char currency[8];
	char note[TN_ERROR_MSG_MAX];
} who;

static void drop_who_all(void *x)
{
	who_all *a = x;
	if (!a)
		return;
	free(a->ids);
	free(a->risk);
	free(a->value);
	free(a);
}

static void drop_rows(risk_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].id);
		free(r[i].plan);
		free(r[i].why);
	}
	free(r);
}

static void drop_who(void *x)
{
	who *w = x;
	if (!w)
		return;
	drop_rows(w->r, w->n);
	for (int k = 0; k < 3; k++)
		free(w->top[k]);
	drop_who_all(w->all);
	free(w);
}

static double fnum(const tn_frame *f, const char *col, size_t i)
{
	int j = tn_frame_find(f, col);
	return j >= 0 && f->cols[j].is_numeric ? f->cols[j].num[i] : NAN;
}

/* a suggested action from what the features say, most urgent first */
static int suggest(const tn_frame *f, size_t i)
{
	if (fnum(f, "payment_failing", i) > 0 || fnum(f, "failed_payments_90d", i) > 0)
		return S_ACT_PAYMENT;
	if (fnum(f, "in_trial", i) > 0)
		return S_ACT_ONBOARD;
	double nps = fnum(f, "nps", i);
	if (!isnan(nps) && nps <= 6)
		return S_ACT_LISTEN;
	if (fnum(f, "days_to_period_end", i) <= 7)
		return S_ACT_OFFER;
	if (fnum(f, "recency_days", i) >= 14)
		return S_ACT_REENGAGE;
	return S_ACT_CHECKIN;
}

static int cmp_loss(const void *a, const void *b)
{
	const risk_row *x = a, *y = b;
	return (x->loss < y->loss) - (x->loss > y->loss);
}

#define WHO_REASONS 60

/* The default offer plan's figures over W's scores, computed with the value
 * on the warming thread: the plan sorts every live customer (a million on
 * the large store), which no page does under the cache's lock. */
static void who_plan_figures(who *w)
{
	size_t m = w->n ? w->n : 1, k = 0;
	double *p = tn_malloc(m * sizeof *p), *v = tn_malloc(m * sizeof *v);
	tn_offer_plan *plan = NULL;
	tn_offer_params prm = {.offer_cost = WEB_PLAN_COST, .accept_rate = WEB_PLAN_ACCEPT, .budget = -1,
			       .control_share = WEB_PLAN_CONTROL, .seed = 1};
	tn_error err = {0};
	int rc = p && v ? TN_OK : tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < w->n; i++) {
		const risk_row *r = &w->r[i];
		if (isnan(r->risk))
			continue;
		p[k] = r->risk < 0 ? 0 : r->risk > 1 ? 1 : r->risk;
		v[k++] = isnan(r->value) || r->value < 0 ? 0 : r->value;
	}
	/* (W holds every row here: make_who calls it before keeping only the shown ones) */
	if (!rc)
		rc = tn_offers_plan(p, v, k, &prm, &plan, &err);
	free(p);
	free(v);
	if (rc) {
		snprintf(w->plan_msg, sizeof w->plan_msg, "%s", err.msg);
		return;
	}
	w->plan = (web_plan_figures){plan->n_candidates, plan->n_offer, plan->n_control, plan->spend,
				     plan->expected_gain};
	w->plan_ready = 1;
	tn_offer_plan_free(plan);
}

/* the sort of a /who view: 0 risk, 1 value at risk, 2 days to the period's end */
static _Thread_local const risk_row *who_rows;
static _Thread_local int who_order;
static double who_key(const risk_row *r)
{
	double k = who_order == 0 ? r->risk : who_order == 1 ? r->loss : -r->days;
	return isnan(k) ? -INFINITY : k;
}
static int cmp_who(const void *a, const void *b)
{
	double kx = who_key(&who_rows[*(const size_t *)a]), ky = who_key(&who_rows[*(const size_t *)b]);
	return (kx < ky) - (kx > ky);
}

/* The top WHO_SHOWN rows of W under ORDER into TOP (returns how many), as
 * the page picked them from every row: no page sorts a million rows. */
static size_t who_top(const who *w, int order, size_t *top)
{
	size_t nt = 0;
	who_rows = w->r;
	who_order = order;
	for (size_t k = 0; k < w->n; k++) {
		if (nt < WHO_SHOWN) {
			top[nt++] = k;
			if (nt == WHO_SHOWN)
				qsort(top, nt, sizeof *top, cmp_who);
			continue;
		}
		if (cmp_who(&k, &top[nt - 1]) < 0) {
			top[nt - 1] = k;
			for (size_t q = nt - 1; q > 0 && cmp_who(&top[q], &top[q - 1]) < 0; q--) {
				size_t t = top[q];
				top[q] = top[q - 1];
				top[q - 1] = t;
			}
		}
	}
	if (nt < WHO_SHOWN)
		qsort(top, nt, sizeof *top, cmp_who);
	return nt;
}

/* After the figures over every row: keep every customer's id, risk and
 * value compactly (ALL) and only the rows a page can show with their
 * words (R).  1 on success. */
static int who_shrink(who *w)
{
	who_all *a = tn_calloc(1, sizeof *a);
	size_t m = w->n ? w->n : 1, nb = 0;
	for (size_t i = 0; i < w->n; i++)
		nb += strlen(w->r[i].id) + 1;
	if (!a || !(a->ids = tn_malloc(nb ? nb : 1)) || !(a->risk = tn_malloc(m * sizeof *a->risk)) ||
	    !(a->value = tn_malloc(m * sizeof *a->value))) {
		drop_who_all(a);
		return 0;
	}
	for (size_t i = 0; i < w->n; i++) {
		size_t l = strlen(w->r[i].id) + 1;
		memcpy(a->ids + a->nids, w->r[i].id, l);
		a->nids += l;
		a->risk[i] = w->r[i].risk;
		a->value[i] = w->r[i].value;
	}
	a->n = w->n;
	unsigned char *shown = tn_calloc(m, 1);
	size_t *map = tn_malloc(m * sizeof *map);
	int ok = shown && map;
	for (int k = 0; k < 3 && ok; k++) {
		if (!(w->top[k] = tn_malloc(WHO_SHOWN * sizeof *w->top[k]))) {
			ok = 0;
			break;
		}
		w->ntop[k] = who_top(w, k, w->top[k]);
		for (size_t q = 0; q < w->ntop[k]; q++)
			shown[w->top[k][q]] = 1;
	}
	size_t ns = 0;
	risk_row *r = NULL;
	if (ok) {
		for (size_t i = 0; i < w->n; i++)
			ns += shown[i];
		ok = (r = tn_calloc(ns ? ns : 1, sizeof *r)) != NULL;
	}
	if (!ok) {
		free(shown);
		free(map);
		drop_who_all(a);
		for (int k = 0; k < 3; k++) {
			free(w->top[k]);
			w->top[k] = NULL;
			w->ntop[k] = 0;
		}
		return 0;
	}
	size_t j = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (shown[i]) {
			map[i] = j;
			r[j++] = w->r[i];
		} else {
			free(w->r[i].id);
			free(w->r[i].plan);
			free(w->r[i].why);
		}
	}
	for (int k = 0; k < 3; k++)
		for (size_t q = 0; q < w->ntop[k]; q++)
			w->top[k][q] = map[w->top[k][q]];
	free(w->r);
	free(shown);
	free(map);
	w->r = r;
	w->total = w->n;
	w->n = ns;
	w->all = a;
	return 1;
}

static void *make_who(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	who *w = tn_calloc(1, sizeof *w);
	if (!w) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	tn_churn_def d;
	tn_time as_of = TN_NO_TIME;
	/* the summary's as-of and currency, without the summary */
	if (tn_churn_def_load(s, NULL, &d, err) || shared_as_of(s, &as_of, err) ||
	    (as_of != TN_NO_TIME && tn_store_reporting_currency(s, w->currency, err))) {
		free(w);
		return NULL;
	}
	if (as_of == TN_NO_TIME)
		return w;
	/* the scores the insights read too (one feature build, fit and scoring) */
	const tn_report_scores *sc = shared_scores(s, &d, as_of);
	tn_error e = sc->err;
	const tn_frame *f = sc->f;
	const tn_pred_model *model = sc->m;
	const tn_value_retention_result *ret = sc->ret;
	const double *risk = sc->risk;
	int ok = sc->ok && (w->r = tn_calloc(f->nrows, sizeof *w->r));
	int ci = f ? tn_frame_find(f, "customer") : -1, pi = f ? tn_frame_find(f, "plan") : -1;
	if (ok && (ci < 0 || f->cols[ci].is_numeric))
		ok = 0;
	if (ok) {
		size_t nl = ret->nlive;
		for (size_t i = 0; i < f->nrows; i++) {
			risk_row *r = &w->r[w->n++];
			r->id = tn_strdup(f->cols[ci].text[i]);
			r->plan = tn_strdup(pi >= 0 && !f->cols[pi].is_numeric ? f->cols[pi].text[i] : "");
			r->risk = risk[i];
			r->mrr = fnum(f, "mrr", i);
			r->days = fnum(f, "days_to_period_end", i);
			r->value = NAN;
			r->action = suggest(f, i);
			r->why = NULL;
			/* keep the frame row in `loss` until values are known */
			r->loss = (double)i;
		}
		/* join the values (both sides sorted by id would be faster; the
		 * frame and the live list are small enough for a map) */
		tn_strmap *map = tn_strmap_new();
		for (size_t i = 0; map && i < nl; i++) {
			size_t ix;
			if (tn_strmap_add(map, ret->live[i].customer, &ix) >= 0)
				tn_strmap_set(map, ix, (int64_t)i);
		}
		size_t *row_of = tn_malloc((w->n ? w->n : 1) * sizeof *row_of);
		for (size_t k = 0; k < w->n && row_of; k++) {
			risk_row *r = &w->r[k];
			row_of[k] = (size_t)r->loss;
			size_t ix = map ? tn_strmap_find(map, r->id) : TN_STRMAP_NONE;
			if (ix != TN_STRMAP_NONE)
				r->value = ret->live[tn_strmap_val(map, ix)].value;
			r->loss = isnan(r->value) || isnan(r->risk) ? 0 : r->risk * r->value;
		}
		tn_strmap_free(map);
		/* reasons in plain words for the rows most worth a call under each
		 * sort (risk, value at risk, days to the period's end) */
		if (row_of) {
			size_t nsrc = model->enc->nsrc;
			double *contrib = tn_malloc(nsrc * sizeof *contrib);
			for (int order = 0; order < 3 && contrib; order++) {
				/* pick the top rows by a partial selection */
				size_t top[WHO_REASONS], nt = 0;
				for (size_t k = 0; k < w->n; k++) {
					double key = order == 0 ? w->r[k].risk : order == 1 ? w->r[k].loss : -w->r[k].days;
					if (isnan(key))
						continue;
					size_t pos = nt;
					while (pos > 0) {
						const risk_row *q = &w->r[top[pos - 1]];
						double qk = order == 0 ? q->risk : order == 1 ? q->loss : -q->days;
						if (qk >= key)
							break;
						pos--;
					}
					if (pos >= WHO_REASONS)
						continue;
					if (nt < WHO_REASONS)
						nt++;
					memmove(top + pos + 1, top + pos, (nt - 1 - pos) * sizeof *top);
					top[pos] = k;
				}
				for (size_t q = 0; q < nt; q++) {
					risk_row *r = &w->r[top[q]];
					if (r->why)
						continue;
					size_t fr = row_of[top[q]];
					r->why = tn_calloc(2, sizeof *r->why);
					if (r->why && tn_pred_explain(model, f, &fr, 1, contrib, &e) == TN_OK) {
						size_t a = nsrc, b = nsrc;
						for (size_t j = 0; j < nsrc; j++) {
							if (!(contrib[j] > 0))
								continue;
							if (a == nsrc || contrib[j] > contrib[a])
								b = a, a = j;
							else if (b == nsrc || contrib[j] > contrib[b])
								b = j;
						}
						/* message ids and parameters: each page writes them in its language */
						if (a < nsrc)
							tn_pred_reason_msg(model, f, fr, a, w->currency, &r->why[0]);
						if (b < nsrc)
							tn_pred_reason_msg(model, f, fr, b, w->currency, &r->why[1]);
					}
				}
			}
			free(contrib);
		}
		free(row_of);
		qsort(w->r, w->n, sizeof *w->r, cmp_loss);
		who_plan_figures(w);
		if (!who_shrink(w)) {
			drop_who(w);
			w = NULL;
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
	} else
		snprintf(w->note, sizeof w->note, "%s", e.msg[0] ? e.msg : "no live customers");
	shared_done(SH_WHO);
	return w;
}

/* The /who model's P(churn) and value of every live customer as tn_scores
 * (the offer plan's input; src/web/web_act.c).  web_data_begin held. */
int web_who_scores(web_ctx *c, tn_scores **out, tn_error *err)
{
	*out = NULL;
	who *w = web_data(c, "who", NULL, make_who, drop_who, err);
	if (!w)
		return tn_error_code(err, TN_ERR_DB);
	const who_all *a = w->all;
	if (!a && w->total) { /* its tail is being loaded after a restart */
		c->computing++;
		return tn_error_set(err, TN_ERR_INPUT, "%s", T(c, S_COMPUTING));
	}
	size_t n = a ? a->n : 0;
	tn_scores *sc = tn_calloc(1, sizeof *sc);
	size_t m = n ? n : 1;
	if (!sc || !(sc->customer = tn_calloc(m, sizeof *sc->customer)) ||
	    !(sc->p_churn = tn_malloc(m * sizeof *sc->p_churn)) || !(sc->value = tn_malloc(m * sizeof *sc->value)) ||
	    !(sc->key = tn_calloc(m, sizeof *sc->key)) || !(sc->signed_up_at = tn_malloc(m * sizeof(tn_time))) ||
	    !(sc->period_end = tn_malloc(m * sizeof(tn_time)))) {
		tn_scores_free(sc);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	const char *id = a ? a->ids : "";
	for (size_t k = 0; k < n; k++, id += strlen(id) + 1) {
		if (isnan(a->risk[k]))
			continue;
		size_t i = sc->n;
		if (!(sc->customer[i] = tn_strdup(id))) {
			tn_scores_free(sc);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		sc->n++;
		sc->p_churn[i] = a->risk[k] < 0 ? 0 : a->risk[k] > 1 ? 1 : a->risk[k];
		sc->value[i] = isnan(a->value[k]) || a->value[k] < 0 ? 0 : a->value[k];
		sc->signed_up_at[i] = sc->period_end[i] = TN_NO_TIME;
	}
	*out = sc;
	return TN_OK;
}

int web_who_plan(web_ctx *c, web_plan_figures *out, tn_error *err)
{
	who *w = web_data(c, "who", NULL, make_who, drop_who, err);
	if (!w)
		return tn_error_code(err, TN_ERR_DB);
	if (!w->plan_ready)
		return tn_error_set(err, TN_ERR_INPUT, "%s", w->plan_msg[0] ? w->plan_msg : "no offer plan");
	*out = w->plan;
	return TN_OK;
}

void page_who(web_ctx *c)
{
	tn_error err = {0};
	who *w = web_data(c, "who", NULL, make_who, drop_who, &err);
	if (!w) {
		trouble(c, &err);
		return;
	}
	if (!w->n) {
		web_p(c, "empty", w->note[0] ? w->note : T(c, S_NO_ROWS));
		return;
	}
	const char *sort = web_q(c, "sort");
	int order = sort && strcmp(sort, "risk") == 0 ? 0 : sort && strcmp(sort, "days") == 0 ? 2 : 1;
	/* the sort is in the URL (a view to share); the page shows the top */
	tn_sbuf_printf(&c->html, "<p class=\"sorts\">");
	web_esc(c, T(c, S_SORT_BY));
	static const char *const sv[] = {"risk", "value", "days"};
	static const int sl[] = {S_RISK, S_VALUE_AT_RISK, S_DAYS_TO_END};
	for (int i = 0; i < 3; i++) {
		tn_sbuf_printf(&c->html, " <a href=\"");
		web_href(c, &c->html, "/who", "sort", sv[i]);
		tn_sbuf_printf(&c->html, "\"%s>", i == order ? " aria-current=\"true\"" : "");
		web_esc(c, T(c, sl[i]));
		tn_sbuf_printf(&c->html, "</a>");
	}
	tn_sbuf_printf(&c->html, "</p>\n");
	/* the top rows under that order, picked when the value was computed */
	size_t nt = w->ntop[order];
	cells t = {0};
	for (size_t i = 0; i < nt; i++) {
		const risk_row *top = &w->r[w->top[order][i]];
		cell(&t, tn_strdup(top->id));
		cell(&t, tn_strdup(top->plan));
		cell(&t, num(100 * top->risk, 1));
		cell(&t, num(top->mrr, 2));
		cell(&t, num(top->loss, 2));
		cell(&t, num(top->days, 0));
		char why[700] = "", r1[340] = "", r2[340] = "";
		if (top->why && top->why[0].id)
			web_reason(c, &top->why[0], r1, sizeof r1);
		if (top->why && top->why[1].id)
			web_reason(c, &top->why[1], r2, sizeof r2);
		snprintf(why, sizeof why, "%s%s%s", r1, *r2 ? T(c, S_REASON_SEP) : "", r2);
		cell(&t, tn_strdup(why));
		cell(&t, tn_strdup(T(c, top->action)));
	}
	char reading[256];
	snprintf(reading, sizeof reading, T(c, S_WHO_READ), w->total);
	char h1[64], h2[64];
	snprintf(h1, sizeof h1, "%s%s%s", T(c, S_MRR), w->currency[0] ? " " : "", w->currency);
	snprintf(h2, sizeof h2, "%s%s%s", T(c, S_VALUE_AT_RISK), w->currency[0] ? " " : "", w->currency);
	const char *cols[] = {T(c, S_CUSTOMER), T(c, S_PLAN), T(c, S_RISK_PCT), h1, h2, T(c, S_DAYS_TO_END),
			      T(c, S_WHY_WORDS), T(c, S_SUGGESTED)};
	static const int kind[] = {COL_CUSTOMER, COL_TEXT, COL_NUM, COL_NUM, COL_NUM, COL_NUM, COL_TEXT, COL_TEXT};
	show(c, T(c, S_AT_RISK_LIST), reading, 8, cols, kind, &t);
}

/* ---- one customer ------------------------------------------------------------------- */

typedef struct tl {
	tn_time at;
	int what; /* S_TL_* */
	char *detail;
	int said; /* the customer's own words */
} tl;

static int cmp_tl(const void *a, const void *b)
{
	const tl *x = a, *y = b;
	return (x->at < y->at) - (x->at > y->at);
}

static void tl_add(tl **v, size_t *n, size_t *cap, tn_time at, int what, char *detail, int said)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		tl *p = tn_realloc(*v, nc * sizeof *p);
		if (!p) {
			free(detail);
			return;
		}
		*v = p;
		*cap = nc;
	}
	(*v)[(*n)++] = (tl){at, what, detail, said};
}

/* up to LIMIT rows of SQL (bound to the customer's id) as timeline items */
static int tl_query(tn_store *s, int64_t cid, const char *sql, int what, int said, tl **v, size_t *n, size_t *cap,
		    tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_int64(st, 1, cid);
	int rc;
	while ((rc = tn_db_step(st, "reading the customer's timeline", err)) == TN_DB_ROW) {
		tn_time at = tn_db_column_time(st, 0);
		const char *a = tn_db_column_text(st, 1), *b = tn_db_column_text(st, 2), *cc = tn_db_column_text(st, 3);
		tl_add(v, n, cap, at, what, fmt("%s%s%s%s%s", a ? a : "", b && *b ? " · " : "", b ? b : "",
						  cc && *cc ? " · " : "", cc ? cc : ""),
		       said);
	}
	tn_db_finalize(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

void page_customer(web_ctx *c, const char *id)
{
	tn_error err = {0};
	/* the store's "now" from the cached summary (waiting for it at most the
	 * wait budget); the customer's rows are read without the cache's lock */
	double until = server_now() + web_wait_budget();
	web_data_begin(c);
	const tn_summary *h = summary(c, &err);
	while (!h && c->computing && web_data_wait(c, until)) {
		c->computing = 0;
		tn_error_clear(&err);
		h = summary(c, &err);
	}
	tn_time now = h && h->as_of != TN_NO_TIME ? h->as_of : (tn_time)0;
	web_data_end(c);
	tn_error_clear(&err);
	tn_store *s = web_store_open(c, &err);
	char *json = NULL;
	if (!s || tn_store_customer_json(s, id, now, &json, &err)) {
		web_p(c, "empty", err.code == TN_ERR_NOTFOUND ? T(c, S_NOT_FOUND) : err.msg);
		tn_store_close(s);
		return;
	}
	cJSON *o = cJSON_Parse(json);
	free(json);
	/* the customer's facts */
	cells t = {0};
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		if (cJSON_IsString(it))
			cell(&t, tn_strdup(it->string)), cell(&t, tn_strdup(it->valuestring));
		else if (cJSON_IsNumber(it))
			cell(&t, tn_strdup(it->string)), cell(&t, fmt("%.10g", it->valuedouble));
		else if (cJSON_IsObject(it)) {
			const cJSON *a;
			cJSON_ArrayForEach(a, it) if (cJSON_IsString(a) || cJSON_IsNumber(a))
			{
				cell(&t, fmt("%s.%s", it->string, a->string));
				cell(&t, cJSON_IsString(a) ? tn_strdup(a->valuestring) : fmt("%.10g", a->valuedouble));
			}
		}
	}
	const char *fc[] = {T(c, S_FIELD), T(c, S_VALUE)};
	static const int fk[] = {COL_TEXT, COL_SAID};
	show(c, T(c, S_FACTS), NULL, 2, fc, fk, &t);
	cJSON_Delete(o);
	/* the timeline: subscriptions, payments, activity, feedback, offers, points, alerts */
	int64_t cid = -1;
	tn_stmt *st = tn_db_prepare(s, "SELECT id FROM customers WHERE ext_id = ?", &err);
	if (st && (tn_db_bind_text(st, 1, id), tn_db_step(st, "finding the customer", &err)) == TN_DB_ROW)
		cid = tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	tl *v = NULL;
	size_t n = 0, cap = 0;
	int rc = cid < 0 ? TN_ERR_NOTFOUND : TN_OK;
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT started_at, plan, status, COALESCE(cancel_reason, '') FROM subscriptions "
			      "WHERE customer_id = ? ORDER BY started_at DESC LIMIT 50",
			      S_TL_SUB, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT cancelled_at, plan, 'cancelled', COALESCE(cancel_reason, '') FROM subscriptions "
			      "WHERE customer_id = ? AND cancelled_at IS NOT NULL ORDER BY cancelled_at DESC LIMIT 50",
			      S_TL_CANCEL, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT paid_at, CAST(amount AS TEXT), currency, status FROM payments WHERE customer_id = ? "
			      "ORDER BY paid_at DESC LIMIT 100",
			      S_TL_PAYMENT, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT e.occurred_at, t.name, '', '' FROM events e JOIN event_types t ON t.id = e.type_id "
			      "WHERE e.customer_id = ? ORDER BY e.occurred_at DESC LIMIT 100",
			      S_TL_EVENT, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT given_at, kind, COALESCE(CAST(score AS TEXT), ''), COALESCE(answer, '') FROM feedback "
			      "WHERE customer_id = ? ORDER BY given_at DESC LIMIT 100",
			      S_TL_FEEDBACK, 1, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT p.created_at, a.arm, CAST(a.p_churn AS TEXT), '' FROM offer_assignments a "
			      "JOIN offer_plans p ON p.id = a.plan_id WHERE a.customer_id = ? LIMIT 50",
			      S_TL_OFFER, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT at, kind, CAST(points AS TEXT), '' FROM points_ledger WHERE customer_id = ? "
			      "ORDER BY at DESC LIMIT 100",
			      S_TL_POINTS, 0, &v, &n, &cap, &err);
	if (!rc)
		rc = tl_query(s, cid,
			      "SELECT raised_at, kind, COALESCE(detail, ''), CASE WHEN acked_at IS NULL THEN '' ELSE "
			      "'acknowledged' END FROM alerts WHERE customer_id = ? ORDER BY raised_at DESC LIMIT 50",
			      S_TL_ALERT, 0, &v, &n, &cap, &err);
	tn_store_close(s);
	if (rc)
		trouble(c, &err);
	qsort(v, n, sizeof *v, cmp_tl);
	for (size_t i = 0; i < n; i++) {
		char ds[32];
		cell(&t, tn_strdup(v[i].at == TN_NO_TIME ? "" : web_date(c, v[i].at, ds, sizeof ds)));
		cell(&t, tn_strdup(T(c, v[i].what)));
		if (v[i].what == S_TL_ALERT) { /* the library's words, in the page's language */
			char words[512];
			web_alert_detail(c, v[i].detail, words, sizeof words);
			free(v[i].detail);
			v[i].detail = tn_strdup(words);
		}
		cell(&t, v[i].detail);
	}
	free(v);
	const char *cols[] = {T(c, S_DATE), T(c, S_WHAT), T(c, S_DETAIL)};
	static const int kind[] = {COL_TEXT, COL_TEXT, COL_SAID};
	show(c, T(c, S_TIMELINE), NULL, 3, cols, kind, &t);
}

/* ---- act ---------------------------------------------------------------------------- */

static void *make_actions(tn_store *s, const char *arg, tn_error *err)
{
	(void)arg;
	tables *t = tn_calloc(1, sizeof *t);
	tn_time now;
	if (!t || tn_actions_now(s, &now, err) || tn_report_actions(s, now, &t->t, &t->n, err)) {
		if (!t)
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		free(t);
		return NULL;
	}
	return t;
}

void page_act(web_ctx *c)
{
	tn_error err = {0};
	tables *a = web_data(c, "actions", NULL, make_actions, drop_tables, &err);
	if (!a) {
		trouble(c, &err);
		return;
	}
	web_p(c, "reading", T(c, S_ACT_READ));
	act_controls(c);
	for (size_t i = 0; i < a->n; i++)
		report_table(c, &a->t[i], NULL);
}

/* ---- alerts ------------------------------------------------------------------------- */

#define ALERTS_SHOWN 200

typedef struct alerts {
	tn_pred_alert *al; /* the first N alerts (every one when computed here; the shown ones when kept) */
	size_t n;
	size_t total;        /* in the inbox */
	struct alerts *rest; /* the others, from the kept tail (NULL until loaded) */
} alerts;
static void drop_alerts(void *x)
{
	alerts *a = x;
	if (a) {
		free(a->al);
		drop_alerts(a->rest);
	}
	free(a);
}
/* the alert I of the inbox (I < a->total, the tail loaded) */
static const tn_pred_alert *alert_at(const alerts *a, size_t i)
{
	return i < a->n ? &a->al[i] : &a->rest->al[i - a->n];
}
/* ARG: "1" every alert, "0" the open ones */
static void *make_alerts(tn_store *s, const char *arg, tn_error *err)
{
	alerts *a = tn_calloc(1, sizeof *a);
	if (!a || tn_pred_alerts_list(s, INT64_MIN, arg && strcmp(arg, "1") == 0, &a->al, &a->n, err)) {
		if (!a)
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		free(a);
		return NULL;
	}
	a->total = a->n;
	return a;
}

void page_alerts(web_ctx *c)
{
	tn_error err = {0};
	const char *all = web_q(c, "all");
	int show_all = all && strcmp(all, "1") == 0;
	alerts *list = web_data(c, "alerts", show_all ? "1" : "0", make_alerts, drop_alerts, &err);
	if (!list) {
		trouble(c, &err);
		return;
	}
	const tn_pred_alert *al = list->al;
	size_t n = list->total;
	char buf[256];
	snprintf(buf, sizeof buf, T(c, S_ALERTS_READ), n);
	web_p(c, "reading", buf);
	tn_sbuf_printf(&c->html, "<p><a href=\"");
	web_href(c, &c->html, "/alerts", "all", show_all ? NULL : "1");
	tn_sbuf_printf(&c->html, "\">");
	web_esc(c, T(c, show_all ? S_ALERTS_OPEN_ONLY : S_ALERTS_ALL));
	tn_sbuf_printf(&c->html, "</a></p>\n");
	int admin = (c->scope & SCOPE_ADMIN) != 0;
	if (!admin)
		web_p(c, "note", T(c, S_NEED_ADMIN));
	tn_sbuf_printf(&c->csv, "alerts\nid,customer,kind,raised_at,risk,mrr,detail,status\n");
	int id = ++c->nfig;
	tn_sbuf *b = &c->html;
	tn_sbuf_printf(b, "<section class=\"tbl\" aria-labelledby=\"f%d\"><h2 id=\"f%d\">", id, id);
	web_esc(c, T(c, S_INBOX));
	tn_sbuf_printf(b, "</h2>");
	if (!n) {
		web_p(c, "empty", T(c, S_NO_ROWS));
		tn_sbuf_printf(b, "</section>\n");
		return;
	}
	tn_sbuf_printf(b, "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"f%d\">"
			  "<table class=\"sortable\" data-page=\"25\"><thead><tr>", id);
	const int cols[] = {S_CUSTOMER, S_KIND, S_RAISED, S_RISK_PCT, S_MRR, S_DETAIL, S_STATUS};
	static const int isnum[] = {0, 0, 0, 1, 1, 0, 0};
	for (size_t j = 0; j < 7; j++) {
		tn_sbuf_printf(b, "<th scope=\"col\"%s><button type=\"button\" class=\"sort\">", isnum[j] ? " class=\"n\"" : "");
		web_esc(c, T(c, cols[j]));
		tn_sbuf_printf(b, "</button></th>");
	}
	tn_sbuf_printf(b, "</tr></thead><tbody>\n");
	for (size_t i = 0; i < n && i < ALERTS_SHOWN; i++) {
		const tn_pred_alert *a = &al[i];
		char ds[32], r[32], m[32];
		int acked = a->acked_at != INT64_MIN, resolved = a->resolved_at != INT64_MIN;
		tn_sbuf_printf(b, "<tr data-alert=\"%lld\"><td><a href=\"/customers/", (long long)a->id);
		web_url_enc(b, a->customer);
		tn_sbuf_printf(b, "\"><bdi>");
		web_esc(c, a->customer);
		tn_sbuf_printf(b, "</bdi></a></td><td>");
		web_esc(c, TD(c, a->kind));
		tn_sbuf_printf(b, "</td><td>");
		web_esc(c, web_date(c, a->raised_at, ds, sizeof ds));
		tn_sbuf_printf(b, "</td><td class=\"n\" data-v=\"%.6g\">", isnan(a->risk) ? -1 : a->risk);
		web_esc(c, isnan(a->risk) ? "" : web_num(c, 100 * a->risk, 1, r, sizeof r));
		tn_sbuf_printf(b, "</td><td class=\"n\" data-v=\"%.6g\">", isnan(a->mrr) ? -1 : a->mrr);
		web_esc(c, isnan(a->mrr) ? "" : web_num(c, a->mrr, 2, m, sizeof m));
		tn_sbuf_printf(b, "</td><td class=\"t\">");
		char words[512];
		web_alert_detail(c, a->detail, words, sizeof words);
		web_esc(c, words);
		tn_sbuf_printf(b, "</td><td class=\"t\">");
		if (acked)
			web_esc(c, T(c, S_ACKED));
		else if (resolved)
			web_esc(c, T(c, S_RESOLVED));
		else if (admin) {
			tn_sbuf_printf(b, "<form method=\"post\" action=\"/alerts/%lld/ack\" class=\"inline\">"
					  "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button type=\"submit\" "
					  "class=\"ack\">",
				       (long long)a->id, c->csrf);
			web_esc(c, T(c, S_ACK));
			tn_sbuf_printf(b, "</button></form>");
		} else
			web_esc(c, T(c, S_OPEN));
		tn_sbuf_printf(b, "</td></tr>\n");
	}
	tn_sbuf_printf(b, "</tbody></table></div></section>\n");
	const char *fmt = web_q(c, "format");
	int want_csv = fmt && strcmp(fmt, "csv") == 0; /* every alert: only when it is asked for */
	if (want_csv && list->n < n && !list->rest) { /* the kept tail is being loaded after a restart */
		c->computing++;
		want_csv = 0;
	}
	for (size_t i = 0; want_csv && i < n; i++) { /* the CSV has every alert */
		const tn_pred_alert *a = alert_at(list, i);
		char iso[16];
		int acked = a->acked_at != INT64_MIN, resolved = a->resolved_at != INT64_MIN;
		tn_sbuf_printf(&c->csv, "%lld,", (long long)a->id);
		web_csv_cell(&c->csv, a->customer);
		tn_sbuf_printf(&c->csv, ",%s,%s,", a->kind, tn_date_format(a->raised_at, iso, sizeof iso));
		if (!isnan(a->risk))
			tn_sbuf_printf(&c->csv, "%.4f", a->risk);
		tn_sbuf_printf(&c->csv, ",");
		if (!isnan(a->mrr))
			tn_sbuf_printf(&c->csv, "%.2f", a->mrr);
		tn_sbuf_printf(&c->csv, ",");
		char words[512];
		web_alert_detail(c, a->detail, words, sizeof words);
		web_csv_cell(&c->csv, words);
		tn_sbuf_printf(&c->csv, ",%s\n", acked ? "acknowledged" : resolved ? "resolved" : "open");
	}
	if (n > ALERTS_SHOWN) {
		char more[160];
		snprintf(more, sizeof more, T(c, S_ALERTS_MORE), (size_t)ALERTS_SHOWN);
		web_p(c, "note", more);
	}
}

int action_ack(web_ctx *c, const char *id, tn_error *err)
{
	char *end;
	long long v = strtoll(id, &end, 10);
	if (!*id || *end || v <= 0)
		return tn_error_set(err, TN_ERR_USAGE, "not an alert id");
	long long before = web_data_write_begin(c);
	tn_store *s = web_store_open(c, err);
	if (!s) {
		web_data_write_abandon(c);
		return tn_error_code(err, TN_ERR_DB);
	}
	tn_time now = tn_now();
	int rc = tn_pred_alerts_ack(s, (int64_t)v, now, err);
	char target[40];
	snprintf(target, sizeof target, "alert:%lld", v);
	tn_error e2 = {0};
	if (web_audit(s, c->key_id, "ack_alert", target, rc ? "failed" : "done", rc && err ? err->msg : NULL, &e2))
		fprintf(stderr, "tenure: dashboard audit: %s\n", e2.msg);
	tn_store_close(s);
	if (!rc) { /* the analyses did not read the alert: keep them; the inbox did */
		web_data_own_write(c, before);
		web_data_forget(c, "alerts");
	} else
		web_data_write_abandon(c);
	return rc;
}

/* what the warming thread keeps ready (after the values a page waits for):
 * the overview's headline first (the summary, this month's rates: seconds),
 * then the insights and /who, which share the risk scoring (shared_scores:
 * freed once both have it).  The insights label the text answers first; the
 * labels are not in the data version (web_store_data_version), and only
 * the insights read them, so no value computed before is made stale. */
const web_warm_item web_warm[] = {
	{"summary", NULL, make_summary, free},          {"rates", "1|", make_rates, drop_rates},
	{"rates", "1|plan", make_rates, drop_rates},    {"rates", "1|channel", make_rates, drop_rates},
	{"insights", NULL, make_insights, drop_tables}, {"who", NULL, make_who, drop_who},
	{"survival", "plan", make_surv, drop_surv},     {"cohorts", NULL, make_cohorts, drop_cohorts},
	{"drivers", NULL, make_drivers, drop_drivers},  {"scores", NULL, make_scores, drop_fb},
	{"exit", NULL, make_exit, drop_fb},             {"actions", NULL, make_actions, drop_tables},
	{"alerts", "0", make_alerts, drop_alerts},
	/* the overview's other periods, whole and by plan or source: each is
	 * seconds of CPU on a million customers, more than a page may wait, so
	 * a period filter is kept ready too (last: the pages' own values first) */
	{"rates", "3|", make_rates, drop_rates},        {"rates", "3|plan", make_rates, drop_rates},
	{"rates", "3|channel", make_rates, drop_rates}, {"rates", "12|", make_rates, drop_rates},
	{"rates", "12|plan", make_rates, drop_rates},   {"rates", "12|channel", make_rates, drop_rates},
};
const size_t web_nwarm = sizeof web_warm / sizeof web_warm[0];

/* Which warming thread computes KIND when there are two (web_data.c): the
 * values that share what one computation built stay on one thread (its
 * thread-local shared values above): the insights, /who, survival and the
 * drivers share the churn frame and the risk scoring (lane 1, ~98 s of CPU
 * on 1,000,000 customers); the exit reasons read the text answers' labels
 * that the insights write on a first start, so they follow the insights on
 * their thread; the summary, the rates and cohorts (their first scan), the
 * feedback scores, actions and alerts are lane 0 (~75 s).  The only work
 * done on both is the data's end and the live subscribers' value (summary
 * and insights each compute it). */
int web_lane(const char *kind)
{
	static const char *const one[] = {"insights", "who", "survival", "drivers", "exit"};
	if (web_nlanes < 2)
		return 0;
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		if (strcmp(kind, one[i]) == 0)
			return 1;
	return 0;
}

/* ---- the values' serialised forms (kept in the store by web_data.c) -------------- */

/* Values are kept field by field (wpk_*): never a struct's raw bytes, whose
 * padding and bytes after a string's end are not the value's (they differ
 * from run to run, and would write uninitialised memory to the store). */
static void pack_summary(const void *d, tn_sbuf *b)
{
	const tn_summary *m = d;
	wpk_u64(b, (uint64_t)m->as_of);
	wpk_u64(b, (uint64_t)m->month_start);
	wpk_u64(b, (uint64_t)m->month_partial);
	wpk_str(b, m->currency);
	wpk_u64(b, (uint64_t)m->customers);
	wpk_u64(b, (uint64_t)m->active);
	wpk_u64(b, (uint64_t)m->paying);
	wpk_u64(b, (uint64_t)m->trialing);
	wpk_f64(b, m->mrr);
	wpk_u64(b, (uint64_t)m->churned);
	wpk_u64(b, (uint64_t)m->churn_base);
	wpk_f64(b, m->churn_rate);
	wpk_f64(b, m->churn_rate_prev);
	wpk_f64(b, m->nrr);
	wpk_u64(b, (uint64_t)m->reactivated);
	wpk_u64(b, (uint64_t)m->events);
	wpk_u64(b, (uint64_t)m->nps_responses);
	wpk_f64(b, m->nps);
	wpk_f64(b, m->revenue_at_risk);
	wpk_u64(b, (uint64_t)m->exit_answers);
}
static void *unpack_summary(web_unpack *u)
{
	tn_summary *m = tn_calloc(1, sizeof *m);
	if (!m) {
		u->bad = 1;
		return NULL;
	}
	m->as_of = (tn_time)wun_u64(u);
	m->month_start = (tn_time)wun_u64(u);
	m->month_partial = (int)wun_u64(u);
	wun_strcpy(u, m->currency, sizeof m->currency);
	m->customers = (long long)wun_u64(u);
	m->active = (long long)wun_u64(u);
	m->paying = (long long)wun_u64(u);
	m->trialing = (long long)wun_u64(u);
	m->mrr = wun_f64(u);
	m->churned = (long long)wun_u64(u);
	m->churn_base = (long long)wun_u64(u);
	m->churn_rate = wun_f64(u);
	m->churn_rate_prev = wun_f64(u);
	m->nrr = wun_f64(u);
	m->reactivated = (long long)wun_u64(u);
	m->events = (long long)wun_u64(u);
	m->nps_responses = (long long)wun_u64(u);
	m->nps = wun_f64(u);
	m->revenue_at_risk = wun_f64(u);
	m->exit_answers = (long long)wun_u64(u);
	if (u->bad) {
		free(m);
		return NULL;
	}
	return m;
}

static void pack_rates(const void *d, tn_sbuf *b)
{
	const rates *r = d;
	wpk_u64(b, r->n);
	for (size_t i = 0; i < r->n; i++) {
		tn_churn_rate_row row = r->rows[i];
		row.group = NULL;
		wpk_raw(b, &row, sizeof row);
		wpk_str(b, r->rows[i].group);
	}
}
static void *unpack_rates(web_unpack *u)
{
	/* the group names live in the rows' allocation (as tn_churn_rate
	 * gives them): a first pass sizes it */
	web_unpack u0 = *u;
	size_t n = wun_count(&u0, sizeof(tn_churn_rate_row)), pool = 0;
	for (size_t i = 0; i < n && !u0.bad; i++) {
		tn_churn_rate_row row;
		wun_raw(&u0, &row, sizeof row);
		uint64_t len = wun_u64(&u0);
		if (len == UINT64_MAX || len > u0.n - u0.off) {
			u0.bad = 1;
			break;
		}
		u0.off += (size_t)len;
		pool += (size_t)len + 1;
	}
	if (u0.bad) {
		u->bad = 1;
		return NULL;
	}
	rates *r = tn_calloc(1, sizeof *r);
	wun_count(u, sizeof(tn_churn_rate_row));
	if (!r || !(r->rows = tn_malloc(n * sizeof *r->rows + pool + 1))) {
		free(r);
		u->bad = 1;
		return NULL;
	}
	char *names = (char *)(r->rows + n);
	for (size_t i = 0; i < n; i++) {
		wun_raw(u, &r->rows[i], sizeof r->rows[i]);
		char *g = wun_str(u);
		size_t len = g ? strlen(g) : 0;
		memcpy(names, g ? g : "", len + 1);
		free(g);
		r->rows[i].group = names;
		names += len + 1;
	}
	r->n = n;
	return r;
}

static void pack_surv(const void *d, tn_sbuf *b)
{
	const surv *v = d;
	wpk_u64(b, (uint64_t)v->ngroups);
	for (int g = 0; g < v->ngroups; g++) {
		wpk_str(b, v->label[g]);
		wpk_f64(b, v->median[g]);
		wpk_u64(b, (uint64_t)v->n[g]);
		wpk_u64(b, v->np[g]);
		wpk_f64s(b, v->t[g], v->np[g]);
		wpk_f64s(b, v->s[g], v->np[g]);
		wpk_f64s(b, v->lo[g], v->np[g]);
		wpk_f64s(b, v->hi[g], v->np[g]);
	}
	wpk_u64(b, v->nbins);
	wpk_f64s(b, v->hx, v->nbins);
	wpk_f64s(b, v->hz, v->nbins);
	wpk_f64s(b, v->atrisk, v->nbins);
	wpk_f64(b, v->from);
	wpk_f64(b, v->to);
	wpk_f64(b, v->share);
	wpk_u64(b, (uint64_t)v->peak);
	wpk_str(b, v->sentence);
	wpk_u64(b, (uint64_t)v->attrs);
	for (int a = 0; a < v->attrs; a++)
		wpk_str(b, v->attr[a]);
}
static void *unpack_surv(web_unpack *u)
{
	surv *v = tn_calloc(1, sizeof *v);
	if (!v) {
		u->bad = 1;
		return NULL;
	}
	uint64_t ng = wun_u64(u);
	if (ng > MAX_GROUPS)
		u->bad = 1;
	for (int g = 0; g < (int)ng && !u->bad; g++) {
		v->ngroups = g + 1;
		v->label[g] = wun_str(u);
		v->median[g] = wun_f64(u);
		v->n[g] = (long long)wun_u64(u);
		v->np[g] = wun_count(u, 4 * sizeof(double));
		v->t[g] = wun_f64s(u, v->np[g]);
		v->s[g] = wun_f64s(u, v->np[g]);
		v->lo[g] = wun_f64s(u, v->np[g]);
		v->hi[g] = wun_f64s(u, v->np[g]);
	}
	v->nbins = wun_count(u, 3 * sizeof(double));
	v->hx = wun_f64s(u, v->nbins);
	v->hz = wun_f64s(u, v->nbins);
	v->atrisk = wun_f64s(u, v->nbins);
	v->from = wun_f64(u);
	v->to = wun_f64(u);
	v->share = wun_f64(u);
	v->peak = (long)wun_u64(u);
	wun_strcpy(u, v->sentence, sizeof v->sentence);
	uint64_t na = wun_u64(u);
	if (na > 16)
		u->bad = 1;
	for (int a = 0; a < (int)na && !u->bad; a++) {
		v->attrs = a + 1;
		wun_strcpy(u, v->attr[a], sizeof v->attr[a]);
	}
	if (u->bad) {
		drop_surv(v);
		return NULL;
	}
	return v;
}

static void pack_cohorts(const void *d, tn_sbuf *b)
{
	const tn_cohorts *co = d;
	wpk_u64(b, co->ncohorts);
	wpk_u64(b, co->nages);
	wpk_u64(b, (uint64_t)co->revenue);
	wpk_u64(b, (uint64_t)co->period_months);
	wpk_u64(b, co->base_mrr != NULL);
	for (size_t i = 0; i < co->ncohorts; i++) {
		wpk_u64(b, (uint64_t)co->cohort_start[i]);
		wpk_u64(b, (uint64_t)co->size[i]);
	}
	if (co->base_mrr)
		wpk_f64s(b, co->base_mrr, co->ncohorts);
	wpk_f64s(b, co->value, co->ncohorts * co->nages);
}
static void *unpack_cohorts(web_unpack *u)
{
	tn_cohorts *co = tn_calloc(1, sizeof *co);
	if (!co)
		return NULL;
	size_t nc = wun_count(u, 16), na = wun_count(u, 0);
	co->revenue = (int)wun_u64(u);
	co->period_months = (int)wun_u64(u);
	int has_base = wun_u64(u) != 0;
	if (u->bad || (na && nc > SIZE_MAX / 8 / na) || nc * na > (u->n - u->off) / 8) {
		u->bad = 1;
		free(co);
		return NULL;
	}
	co->cohort_start = tn_malloc((nc ? nc : 1) * sizeof *co->cohort_start);
	co->size = tn_malloc((nc ? nc : 1) * sizeof *co->size);
	if (!co->cohort_start || !co->size) {
		u->bad = 1;
		tn_cohorts_free(co);
		return NULL;
	}
	co->ncohorts = nc;
	co->nages = na;
	for (size_t i = 0; i < nc; i++) {
		co->cohort_start[i] = (tn_time)wun_u64(u);
		co->size[i] = (long long)wun_u64(u);
	}
	if (has_base)
		co->base_mrr = wun_f64s(u, nc);
	co->value = wun_f64s(u, nc * na);
	if (u->bad) {
		tn_cohorts_free(co);
		return NULL;
	}
	return co;
}

static void pack_drivers(const void *d, tn_sbuf *b)
{
	const drivers *dv = d;
	wpk_u64(b, dv->p);
	for (size_t j = 0; j < dv->p; j++) {
		wpk_str(b, dv->name[j]);
		wpk_str(b, dv->ref[j]);
	}
	wpk_f64s(b, dv->hr, dv->p);
	wpk_f64s(b, dv->lo, dv->p);
	wpk_f64s(b, dv->hi, dv->p);
	wpk_f64s(b, dv->pv, dv->p);
	wpk_str(b, dv->note);
}
static void *unpack_drivers(web_unpack *u)
{
	drivers *dv = tn_calloc(1, sizeof *dv);
	if (!dv)
		return NULL;
	size_t p = wun_count(u, 16);
	if (p) {
		dv->name = tn_calloc(p, sizeof *dv->name);
		dv->ref = tn_calloc(p, sizeof *dv->ref);
		if (!dv->name || !dv->ref)
			u->bad = 1;
		else
			dv->p = p;
	}
	for (size_t j = 0; j < dv->p && !u->bad; j++) {
		dv->name[j] = wun_str(u);
		dv->ref[j] = wun_str(u);
	}
	if (p && !u->bad) {
		dv->hr = wun_f64s(u, p);
		dv->lo = wun_f64s(u, p);
		dv->hi = wun_f64s(u, p);
		dv->pv = wun_f64s(u, p);
	}
	char *note = wun_str(u);
	snprintf(dv->note, sizeof dv->note, "%s", note ? note : "");
	free(note);
	if (u->bad) {
		drop_drivers(dv);
		return NULL;
	}
	return dv;
}

static void pack_tables(const void *d, tn_sbuf *b)
{
	const tables *t = d;
	wpk_u64(b, t->n);
	for (size_t i = 0; i < t->n; i++) {
		const tn_report_table *rt = &t->t[i];
		wpk_str(b, rt->title);
		wpk_str(b, rt->reading);
		wpk_u64(b, rt->ncols);
		wpk_u64(b, rt->nrows);
		for (size_t j = 0; j < rt->ncols; j++)
			wpk_str(b, rt->cols ? rt->cols[j] : NULL);
		for (size_t k = 0; k < rt->ncols * rt->nrows; k++)
			wpk_str(b, rt->cells ? rt->cells[k] : NULL);
	}
}
static void *unpack_tables(web_unpack *u)
{
	tables *t = tn_calloc(1, sizeof *t);
	size_t n = wun_count(u, 32);
	if (!t || (n && !(t->t = tn_calloc(n, sizeof *t->t)))) {
		free(t);
		u->bad = 1;
		return NULL;
	}
	for (size_t i = 0; i < n && !u->bad; i++) {
		tn_report_table *rt = &t->t[i];
		t->n = i + 1;
		rt->title = wun_str(u);
		rt->reading = wun_str(u);
		size_t nc = wun_count(u, 8), nr = wun_count(u, 0);
		if (u->bad || (nc && nr > (u->n - u->off) / 8 / nc)) {
			u->bad = 1;
			break;
		}
		if ((nc && !(rt->cols = tn_calloc(nc, sizeof *rt->cols))) ||
		    (nc * nr > 0 && !(rt->cells = tn_calloc(nc * nr, sizeof *rt->cells)))) {
			u->bad = 1;
			break;
		}
		rt->ncols = nc;
		rt->nrows = nr;
		for (size_t j = 0; j < nc; j++)
			rt->cols[j] = wun_str(u);
		for (size_t k = 0; k < nc * nr; k++)
			rt->cells[k] = wun_str(u);
	}
	if (u->bad) {
		drop_tables(t);
		return NULL;
	}
	return t;
}

static void pack_fb(const void *d, tn_sbuf *b)
{
	const fbrows *f = d;
	wpk_u64(b, f->n);
	for (size_t i = 0; i < f->n; i++) {
		const tn_fb_row *r = &f->r[i];
		wpk_str(b, r->segment);
		wpk_str(b, r->period);
		wpk_str(b, r->metric);
		wpk_u64(b, r->n);
		wpk_f64(b, r->value);
		wpk_f64(b, r->lo);
		wpk_f64(b, r->hi);
		wpk_f64(b, r->extra);
		wpk_str(b, r->text);
		wpk_str(b, r->kind);
		wpk_str(b, r->language);
	}
}
static void *unpack_fb(web_unpack *u)
{
	fbrows *f = tn_calloc(1, sizeof *f);
	size_t n = wun_count(u, 11 * 8); /* a row's fewest bytes: five numbers, six string lengths */
	if (!f || !(f->r = tn_calloc(n ? n : 1, sizeof *f->r))) {
		free(f);
		u->bad = 1;
		return NULL;
	}
	for (size_t i = 0; i < n && !u->bad; i++) {
		tn_fb_row *r = &f->r[i];
		f->n = i + 1;
		wun_strcpy(u, r->segment, sizeof r->segment);
		wun_strcpy(u, r->period, sizeof r->period);
		wun_strcpy(u, r->metric, sizeof r->metric);
		r->n = (size_t)wun_u64(u);
		r->value = wun_f64(u);
		r->lo = wun_f64(u);
		r->hi = wun_f64(u);
		r->extra = wun_f64(u);
		wun_strcpy(u, r->text, sizeof r->text);
		wun_strcpy(u, r->kind, sizeof r->kind);
		wun_strcpy(u, r->language, sizeof r->language);
	}
	if (u->bad) {
		drop_fb(f);
		return NULL;
	}
	return f;
}

static void pack_who(const void *d, tn_sbuf *b)
{
	const who *w = d;
	wpk_str(b, w->currency);
	wpk_str(b, w->note);
	wpk_u64(b, (uint64_t)w->plan_ready);
	wpk_raw(b, &w->plan, sizeof w->plan);
	wpk_str(b, w->plan_msg);
	wpk_u64(b, w->total);
	wpk_u64(b, w->n);
	for (size_t i = 0; i < w->n; i++) {
		const risk_row *r = &w->r[i];
		wpk_str(b, r->id);
		wpk_str(b, r->plan);
		wpk_f64(b, r->risk);
		wpk_f64(b, r->mrr);
		wpk_f64(b, r->value);
		wpk_f64(b, r->loss);
		wpk_f64(b, r->days);
		wpk_u64(b, (uint64_t)r->action);
		wpk_u64(b, r->why ? 2 : 0); /* the two reasons, field by field, or none */
		for (int k = 0; r->why && k < 2; k++) {
			const tn_reason_msg *m = &r->why[k];
			wpk_u64(b, (uint64_t)(int64_t)m->id);
			wpk_u64(b, (uint64_t)(int64_t)m->flag);
			for (int q = 0; q < 3; q++)
				wpk_f64(b, m->v[q]);
			wpk_str(b, m->text[0]);
			wpk_str(b, m->text[1]);
			wpk_str(b, m->currency);
		}
	}
	for (int k = 0; k < 3; k++) {
		wpk_u64(b, w->ntop[k]);
		for (size_t q = 0; q < w->ntop[k]; q++)
			wpk_u64(b, w->top[k][q]);
	}
}
static void *unpack_who(web_unpack *u)
{
	who *w = tn_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	char *cur = wun_str(u), *note = wun_str(u);
	snprintf(w->currency, sizeof w->currency, "%s", cur ? cur : "");
	snprintf(w->note, sizeof w->note, "%s", note ? note : "");
	free(cur);
	free(note);
	w->plan_ready = wun_u64(u) == 1;
	wun_raw(u, &w->plan, sizeof w->plan);
	char *pm = wun_str(u);
	snprintf(w->plan_msg, sizeof w->plan_msg, "%s", pm ? pm : "");
	free(pm);
	w->total = (size_t)wun_u64(u);
	size_t n = wun_count(u, 64);
	if (!u->bad && !(w->r = tn_calloc(n ? n : 1, sizeof *w->r)))
		u->bad = 1;
	for (size_t i = 0; i < n && !u->bad; i++) {
		risk_row *r = &w->r[i];
		w->n = i + 1;
		r->id = wun_str(u);
		r->plan = wun_str(u);
		r->risk = wun_f64(u);
		r->mrr = wun_f64(u);
		r->value = wun_f64(u);
		r->loss = wun_f64(u);
		r->days = wun_f64(u);
		r->action = (int)wun_u64(u);
		if (r->action < 0 || r->action >= S_N || !r->id || !r->plan)
			u->bad = 1;
		/* the reasons: two messages, or none */
		uint64_t nwhy = wun_u64(u);
		if (nwhy == 2 && !u->bad && (r->why = tn_calloc(2, sizeof *r->why))) {
			for (int k = 0; k < 2; k++) {
				tn_reason_msg *m = &r->why[k];
				m->id = (int)(int64_t)wun_u64(u);
				m->flag = (int)(int64_t)wun_u64(u);
				for (int q = 0; q < 3; q++)
					m->v[q] = wun_f64(u);
				wun_strcpy(u, m->text[0], sizeof m->text[0]);
				wun_strcpy(u, m->text[1], sizeof m->text[1]);
				wun_strcpy(u, m->currency, sizeof m->currency);
			}
		} else if (nwhy != 0)
			u->bad = 1;
	}
	for (int k = 0; k < 3 && !u->bad; k++) {
		size_t nt = wun_count(u, 8);
		if (u->bad || nt > WHO_SHOWN || nt > w->n || !(w->top[k] = tn_malloc(WHO_SHOWN * sizeof *w->top[k]))) {
			u->bad = 1;
			break;
		}
		w->ntop[k] = nt;
		for (size_t q = 0; q < nt; q++)
			if ((w->top[k][q] = (size_t)wun_u64(u)) >= w->n)
				u->bad = 1;
	}
	if (!u->bad && w->n > w->total)
		u->bad = 1;
	if (u->bad) {
		drop_who(w);
		return NULL;
	}
	return w;
}

/* the tail: every scored customer's id, risk and value */
static void pack_who_tail(const void *d, tn_sbuf *b)
{
	const who_all *a = ((const who *)d)->all;
	wpk_u64(b, a ? a->n : 0);
	wpk_raw(b, a ? a->ids : "", a ? a->nids : 0);
	if (a) {
		wpk_f64s(b, a->risk, a->n);
		wpk_f64s(b, a->value, a->n);
	}
}
static void *unpack_who_tail(web_unpack *u)
{
	who_all *a = tn_calloc(1, sizeof *a);
	size_t n = wun_count(u, 1);
	size_t nb = wun_count(u, 1);
	if (!a || u->bad || !(a->ids = tn_malloc(nb ? nb : 1))) {
		u->bad = 1;
		drop_who_all(a);
		return NULL;
	}
	const unsigned char *p = u->p + u->off;
	if (nb)
		memcpy(a->ids, p, nb);
	u->off += nb;
	/* exactly N ids, each ended by '\0' */
	size_t ends = 0;
	for (size_t i = 0; i < nb; i++)
		ends += a->ids[i] == '\0';
	if (ends != n || (nb && a->ids[nb - 1] != '\0'))
		u->bad = 1;
	a->n = n;
	a->nids = nb;
	if (!u->bad) {
		a->risk = wun_f64s(u, n);
		a->value = wun_f64s(u, n);
	}
	if (u->bad || !a->risk || !a->value) {
		u->bad = 1;
		drop_who_all(a);
		return NULL;
	}
	return a;
}
static void attach_who_tail(void *d, void *tail)
{
	who *w = d;
	if (!tail)
		return;
	if (w && !w->all && ((who_all *)tail)->n == w->total)
		w->all = tail;
	else
		drop_who_all(tail);
}
static int who_has_tail(const void *d)
{
	const who *w = d;
	return w->all != NULL || w->total == 0;
}

/* the head: how many, and the shown ones; the tail: the others */
#define ALERT_PACKED_MIN (9 * 8) /* an alert's fewest bytes kept: six numbers, three string lengths */
static void pack_alerts_from(const alerts *a, size_t from, size_t to, tn_sbuf *b)
{
	wpk_u64(b, to - from);
	for (size_t i = from; i < to; i++) { /* field by field: no padding, nothing after a string's end */
		const tn_pred_alert *al = alert_at(a, i);
		wpk_u64(b, (uint64_t)al->id);
		wpk_str(b, al->customer);
		wpk_str(b, al->kind);
		wpk_u64(b, (uint64_t)al->raised_at);
		wpk_u64(b, (uint64_t)al->resolved_at);
		wpk_u64(b, (uint64_t)al->acked_at);
		wpk_f64(b, al->risk);
		wpk_str(b, al->detail);
		wpk_f64(b, al->mrr);
	}
}
static void pack_alerts(const void *d, tn_sbuf *b)
{
	const alerts *a = d;
	wpk_u64(b, a->total);
	pack_alerts_from(a, 0, a->total < ALERTS_SHOWN ? a->total : ALERTS_SHOWN, b);
}
static void pack_alerts_tail(const void *d, tn_sbuf *b)
{
	const alerts *a = d;
	pack_alerts_from(a, a->total < ALERTS_SHOWN ? a->total : ALERTS_SHOWN, a->total, b);
}
static void *unpack_alerts_list(web_unpack *u)
{
	alerts *a = tn_calloc(1, sizeof *a);
	size_t n = wun_count(u, ALERT_PACKED_MIN);
	if (!a || !(a->al = tn_calloc(n ? n : 1, sizeof *a->al))) {
		free(a);
		u->bad = 1;
		return NULL;
	}
	for (size_t i = 0; i < n && !u->bad; i++) {
		tn_pred_alert *al = &a->al[i];
		al->id = (int64_t)wun_u64(u);
		wun_strcpy(u, al->customer, sizeof al->customer);
		wun_strcpy(u, al->kind, sizeof al->kind);
		al->raised_at = (int64_t)wun_u64(u);
		al->resolved_at = (int64_t)wun_u64(u);
		al->acked_at = (int64_t)wun_u64(u);
		al->risk = wun_f64(u);
		wun_strcpy(u, al->detail, sizeof al->detail);
		al->mrr = wun_f64(u);
		a->n = i + 1;
	}
	if (u->bad) {
		drop_alerts(a);
		return NULL;
	}
	a->total = a->n;
	return a;
}
static void *unpack_alerts(web_unpack *u)
{
	size_t total = (size_t)wun_u64(u);
	alerts *a = u->bad ? NULL : unpack_alerts_list(u);
	if (a && (total < a->n || (total > a->n && a->n < ALERTS_SHOWN))) {
		u->bad = 1;
		drop_alerts(a);
		return NULL;
	}
	if (a)
		a->total = total;
	return a;
}
static void attach_alerts_tail(void *d, void *tail)
{
	alerts *a = d, *t = tail;
	if (!t)
		return;
	if (a && !a->rest && a->n + t->n == a->total)
		a->rest = t;
	else
		drop_alerts(t);
}
static int alerts_has_tail(const void *d)
{
	const alerts *a = d;
	return a->n == a->total || a->rest != NULL;
}

/* A kind's format changes with its layout: rows of another layout are
 * left unread (and recomputed). */
const web_codec web_codecs[] = {
	{"summary", "3", make_summary, free, pack_summary, unpack_summary, NULL, NULL, NULL, NULL},
	{"rates", "2", make_rates, drop_rates, pack_rates, unpack_rates, NULL, NULL, NULL, NULL},
	{"survival", "3", make_surv, drop_surv, pack_surv, unpack_surv, NULL, NULL, NULL, NULL},
	{"cohorts", "2", make_cohorts, drop_cohorts, pack_cohorts, unpack_cohorts, NULL, NULL, NULL, NULL},
	{"drivers", "2", make_drivers, drop_drivers, pack_drivers, unpack_drivers, NULL, NULL, NULL, NULL},
	{"insights", "2", make_insights, drop_tables, pack_tables, unpack_tables, NULL, NULL, NULL, NULL},
	{"actions", "2", make_actions, drop_tables, pack_tables, unpack_tables, NULL, NULL, NULL, NULL},
	{"scores", "3", make_scores, drop_fb, pack_fb, unpack_fb, NULL, NULL, NULL, NULL},
	{"exit", "3", make_exit, drop_fb, pack_fb, unpack_fb, NULL, NULL, NULL, NULL},
	{"who", "4", make_who, drop_who, pack_who, unpack_who, pack_who_tail, unpack_who_tail, attach_who_tail,
	 who_has_tail},
	{"alerts", "4", make_alerts, drop_alerts, pack_alerts, unpack_alerts, pack_alerts_tail, unpack_alerts_list,
	 attach_alerts_tail, alerts_has_tail},
	{"dashacts", "2", web_make_done, web_drop_done, web_pack_done, web_unpack_done, NULL, NULL, NULL, NULL},
};
const size_t web_ncodecs = sizeof web_codecs / sizeof web_codecs[0];
