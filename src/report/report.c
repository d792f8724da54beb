/*
 * report.c -- the self-contained HTML retention report (see
 * include/tenure/report.h): inline CSS, inline SVG charts from svg.c, one
 * plain-language reading per section, and no external reference of any
 * kind (no scripts, fonts, images or links), so it opens offline and can be
 * mailed as one file.
 */
#include "tenure.h"
#include "base/alloc.h"
#include "tenure/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tn_report_from_store(tn_store *s, const tn_churn_def *def, tn_time as_of, tn_report *r, tn_error *err)
{
	tn_churn_rate_row *rows = NULL;
	size_t n = 0;
	tn_churn_rate_opts o = {.period_months = TN_PERIOD_MONTH, .as_of = as_of};
	int rc = tn_churn_rate(s, def, &o, &rows, &n, err);
	if (rc)
		return rc;
	tn_cohorts *c = NULL;
	if ((rc = tn_cohorts_compute(s, def, TN_PERIOD_MONTH, 0, as_of, &c, err))) {
		free(rows);
		return rc;
	}
	r->rates = rows;
	r->nrates = n;
	r->cohorts = c;
	r->definition = def->name;
	r->store_path = tn_store_path(s);
	if (as_of == TN_NO_TIME && tn_churn_data_end(s, &as_of, err))
		return tn_error_code(err, TN_ERR_DB);
	r->as_of = as_of;
	return TN_OK;
}

void tn_report_free_store(tn_report *r)
{
	free((void *)r->rates);
	tn_cohorts_free((tn_cohorts *)r->cohorts);
	r->rates = NULL;
	r->cohorts = NULL;
	r->nrates = 0;
}

static const char css[] =
	"*{box-sizing:border-box}"
	"body{font-family:sans-serif;max-width:1320px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45;"
	"overflow-wrap:break-word}"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}"
	"h3{font-size:1.05em;margin:1.4em 0 .3em}"
	".meta{color:#666}.reading{background:#f3f7fb;border-left:4px solid #0072B2;padding:.5em .8em}"
	".pending{background:#fff8e6;border-left:4px solid #E69F00;padding:.5em .8em}"
	".headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:.6em;margin:1em 0}"
	".tile{border:1px solid #d5dde6;border-radius:6px;padding:.6em .8em;background:#fafcfe}"
	".tile .k{font-size:.85em;color:#555}.tile .v{font-size:1.5em;font-weight:bold;white-space:nowrap}"
	".tile .d{font-size:.85em;color:#555}"
	".chart{overflow-x:auto;max-width:100%}.chart svg{display:block;width:100%;height:auto}"
	".scroll{overflow-x:auto;max-width:100%;border:1px solid #eee}"
	"table{border-collapse:collapse;margin:0}td,th{padding:3px 8px;text-align:right;vertical-align:top;white-space:nowrap}"
	"th{border-bottom:1px solid #ccc;white-space:nowrap}td:first-child,th:first-child{text-align:left}"
	"td.t{text-align:start;white-space:normal;min-width:10em}th.t{text-align:start}"
	"@media (max-width:640px){body{padding:0 .5em;font-size:15px}.chart svg{min-width:640px}"
	".tile .v{font-size:1.3em}}";

static void reading(tn_sbuf *b, const char *cls, const char *text)
{
	tn_sbuf_printf(b, "<p class=\"%s\">", cls);
	tn_sbuf_escape(b, text);
	tn_sbuf_printf(b, "</p>\n");
}

/* A headline number in <span data-metric="NAME">, shown with DIGITS
 * decimals as `tenure summary` prints it. */
static void metric(tn_sbuf *b, const char *name, double v, int digits)
{
	char num[96];
	tn_sbuf_printf(b, "<span data-metric=\"%s\">%s</span>", name, tn_report_number(v, digits, num, sizeof num));
}

static void section_headline(tn_sbuf *b, const tn_report *r)
{
	const tn_summary *h = r->headline;
	if (!h)
		return;
	char month[16], prev[16], d[16];
	const char *cur = h->currency[0] ? h->currency : "";
	snprintf(month, sizeof month, "%.7s", tn_date_format(h->month_start, d, sizeof d));
	snprintf(prev, sizeof prev, "%.7s", tn_date_format(tn_add_months(h->month_start, -1), d, sizeof d));
	tn_sbuf_printf(b, "<h2>Headline</h2>\n<div class=\"headline\">\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">Active customers</div><div class=\"v\">");
	metric(b, "active_customers", (double)h->active, 0);
	tn_sbuf_printf(b, "</div><div class=\"d\">");
	metric(b, "paying", (double)h->paying, 0);
	tn_sbuf_printf(b, " paying, ");
	metric(b, "trialing", (double)h->trialing, 0);
	tn_sbuf_printf(b, " in a free trial; ");
	metric(b, "customers", (double)h->customers, 0);
	tn_sbuf_printf(b, " customers ever</div></div>\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">Monthly recurring revenue</div><div class=\"v\">");
	metric(b, "mrr", h->mrr, 2);
	tn_sbuf_printf(b, " <small>");
	tn_sbuf_escape(b, cur);
	tn_sbuf_printf(b, "</small></div><div class=\"d\">paying subscriptions, per month</div></div>\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">Churn in %s%s</div><div class=\"v\">", month,
		       h->month_partial ? " (to date)" : "");
	metric(b, "churn_rate_month_pct", 100 * h->churn_rate, 2);
	tn_sbuf_printf(b, "%%</div><div class=\"d\">");
	metric(b, "churned_month", (double)h->churned, 0);
	tn_sbuf_printf(b, " customers left; %s: ", prev);
	metric(b, "churn_rate_prev_month_pct", 100 * h->churn_rate_prev, 2);
	double delta = 100 * (h->churn_rate - h->churn_rate_prev);
	if (!isnan(delta))
		tn_sbuf_printf(b, "%% (%s %.2f points)", delta < 0 ? "down" : delta > 0 ? "up" : "unchanged", fabs(delta));
	else
		tn_sbuf_printf(b, "%%");
	tn_sbuf_printf(b, "</div></div>\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">Net revenue retention, %s</div><div class=\"v\">",
		       month);
	metric(b, "nrr_month_pct", 100 * h->nrr, 2);
	tn_sbuf_printf(b, "%%</div><div class=\"d\">MRR kept from customers at the month's start, "
			  "expansion included</div></div>\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">NPS, last 90 days</div><div class=\"v\">");
	metric(b, "nps_90d", h->nps, 1);
	tn_sbuf_printf(b, "</div><div class=\"d\">from ");
	metric(b, "nps_responses_90d", (double)h->nps_responses, 0);
	tn_sbuf_printf(b, " answers (-100 to 100)</div></div>\n");
	tn_sbuf_printf(b, "<div class=\"tile\"><div class=\"k\">Revenue at risk</div><div class=\"v\">");
	metric(b, "revenue_at_risk", h->revenue_at_risk, 2);
	tn_sbuf_printf(b, " <small>");
	tn_sbuf_escape(b, cur);
	tn_sbuf_printf(b, "</small></div><div class=\"d\">future value of live subscribers likely not to renew "
			  "at their next renewal</div></div>\n</div>\n");
	char text[512];
	if (!isnan(delta))
		snprintf(text, sizeof text,
			 "The same figures as `tenure summary` for the same as-of (docs/metrics.md): churn %s from "
			 "%.2f%% in %s to %.2f%% in %s%s.",
			 delta < 0 ? "fell" : delta > 0 ? "rose" : "held", 100 * h->churn_rate_prev, prev,
			 100 * h->churn_rate, month, h->month_partial ? " (month to date)" : "");
	else
		snprintf(text, sizeof text, "The same figures as `tenure summary` for the same as-of (docs/metrics.md).");
	reading(b, "reading", text);
}

static void section_rates(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>Churn rate by month</h2>\n");
	size_t n = r->nrates;
	if (!n) {
		reading(b, "pending", "No customers in the store yet: import data or run `tenure demo`.");
		return;
	}
	double *x = tn_malloc(n * sizeof *x), *cr = tn_malloc(n * sizeof *cr), *rc = tn_malloc(n * sizeof *rc);
	char(*lab)[16] = tn_malloc(n * sizeof *lab);
	const char **labels = tn_malloc(n * sizeof *labels);
	if (!x || !cr || !rc || !lab || !labels) {
		b->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		x[i] = (double)i;
		cr[i] = r->rates[i].churn_rate;
		rc[i] = r->rates[i].gross_revenue_churn;
		char d[16];
		tn_date_format(r->rates[i].period_start, d, sizeof d);
		snprintf(lab[i], sizeof lab[i], "%.7s", d);
		labels[i] = lab[i];
	}
	tn_svg_series s[2] = {{.name = "customer churn", .n = n, .x = x, .y = cr},
			      {.name = "gross revenue churn", .n = n, .x = x, .y = rc}};
	tn_svg_line_opts o = {.title = "Monthly churn", .xlabel = "month", .ylabel = "churned / at start of month",
			      .ymin = 0, .ymax = NAN, .y_percent = 1, .shade_from = NAN, .shade_to = NAN,
			      .xtick_labels = labels, .nxtick_labels = n};
	tn_sbuf_printf(b, "<div class=\"chart\">");
	tn_svg_line_chart(b, &o, s, 2);
	tn_sbuf_printf(b, "</div>\n");
	/* the latest complete month */
	size_t k = n;
	while (k-- > 0)
		if (r->rates[k].period_end == tn_add_months(r->rates[k].period_start, 1) && !isnan(cr[k]))
			break;
	char text[512];
	if (k < n) {
		int w = snprintf(text, sizeof text,
				 "In %s, %.2f%% of the customers at the start of the month churned, taking %.2f%% of "
				 "MRR (net revenue retention %.2f%%).",
				 lab[k], 100 * cr[k], 100 * rc[k], 100 * r->rates[k].nrr);
		if (k >= 3 && !isnan(cr[k - 3]) && w > 0 && (size_t)w < sizeof text)
			snprintf(text + w, sizeof text - (size_t)w, " Three months earlier it was %.2f%%.",
				 100 * cr[k - 3]);
	} else {
		snprintf(text, sizeof text, "No complete month with customers yet.");
	}
	reading(b, "reading", text);
out:
	free(x);
	free(cr);
	free(rc);
	free(lab);
	free(labels);
}

static void section_cohorts(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>Retention by signup cohort</h2>\n");
	const tn_cohorts *c = r->cohorts;
	if (!c || !c->ncohorts) {
		reading(b, "pending", "No cohorts yet.");
		return;
	}
	size_t n = c->ncohorts, m = c->nages;
	char(*rl)[40] = tn_malloc(n * sizeof *rl), (*cl)[24] = tn_malloc(m * sizeof *cl);
	const char **rows = tn_malloc(n * sizeof *rows), **cols = tn_malloc(m * sizeof *cols);
	if (!rl || !cl || !rows || !cols) {
		b->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char d[16];
		tn_date_format(c->cohort_start[i], d, sizeof d);
		snprintf(rl[i], sizeof rl[i], "%.7s (%lld)", d, c->size[i] > 99999 ? 99999 : c->size[i]);
		rows[i] = rl[i];
	}
	for (size_t j = 0; j < m; j++) {
		snprintf(cl[j], sizeof cl[j], "%zu", j);
		cols[j] = cl[j];
	}
	tn_sbuf_printf(b, "<div class=\"chart\">");
	tn_svg_heatmap(b, "Share of each monthly cohort still a customer after N months (%)", n, m, c->value, rows,
		       cols, 0, 1);
	tn_sbuf_printf(b, "</div>\n");
	/* size-weighted mean retention at 1 and 6 months */
	double num[2] = {0, 0}, den[2] = {0, 0};
	size_t ages[2] = {1, 6};
	for (int a = 0; a < 2; a++)
		for (size_t i = 0; i < n; i++)
			if (ages[a] < m && !isnan(c->value[i * m + ages[a]])) {
				num[a] += c->value[i * m + ages[a]] * (double)c->size[i];
				den[a] += (double)c->size[i];
			}
	char text[256];
	if (den[0] > 0 && den[1] > 0)
		snprintf(text, sizeof text,
			 "On average %.0f%% of a cohort is still a customer one month after starting, and %.0f%% "
			 "after six months.",
			 100 * num[0] / den[0], 100 * num[1] / den[1]);
	else if (den[0] > 0)
		snprintf(text, sizeof text, "On average %.0f%% of a cohort is still a customer one month after starting.",
			 100 * num[0] / den[0]);
	else
		snprintf(text, sizeof text, "Cohorts are too young to read retention yet.");
	reading(b, "reading", text);
out:
	free(rl);
	free(cl);
	free(rows);
	free(cols);
}

static const char pending_text[] =
	"Not computed in this report. The survival analysis (Kaplan-Meier, hazard and Cox) fills this section: "
	"run `tenure survival --definition NAME` / `tenure drivers --definition NAME`, or export the table with "
	"`tenure churn export --csv FILE`.";

static void section_survival(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>Survival by plan</h2>\n");
	if (!r->nsurvival) {
		reading(b, "pending", pending_text);
		return;
	}
	tn_svg_line_opts o = {.title = "Share still a customer (Kaplan-Meier, 95% band)", .xlabel = "days since start",
			      .ylabel = "still a customer", .ymin = 0, .ymax = 1, .y_percent = 1,
			      .shade_from = NAN, .shade_to = NAN};
	tn_sbuf_printf(b, "<div class=\"chart\">");
	tn_svg_line_chart(b, &o, r->survival, r->nsurvival);
	tn_sbuf_printf(b, "</div>\n");
	if (r->survival_reading) {
		reading(b, "reading", r->survival_reading);
		return;
	}
	char text[1024] = "Median lifetime (Kaplan-Meier, as `tenure survival` prints it):";
	size_t used = strlen(text);
	for (size_t k = 0; k < r->nsurvival; k++) {
		const tn_svg_series *s = &r->survival[k];
		double med = NAN;
		if (r->survival_median)
			med = r->survival_median[k];
		else /* no fitted median given: the first step at or below one half */
			for (size_t i = 0; i < s->n; i++)
				if (s->y[i] <= 0.5) {
					med = s->x[i];
					break;
				}
		int w = isnan(med) ? snprintf(text + used, sizeof text - used, "%s %s not reached", k ? ";" : "",
					      s->name ? s->name : "")
				   : snprintf(text + used, sizeof text - used, "%s %s %.1f days", k ? ";" : "",
					      s->name ? s->name : "", med);
		if (w > 0 && (size_t)w < sizeof text - used)
			used += (size_t)w;
	}
	reading(b, "reading", text);
}

/* Peaks of a daily hazard: local maxima of its 7-day centred moving
 * average at least 40% as high as the highest, at least 21 days apart (the
 * higher one kept), in day order; each placed at, and valued by, the highest
 * daily hazard within 3 days.  Returns how many (<= MAX_PEAKS). */
#define MAX_PEAKS 6
static size_t hazard_peaks(const tn_svg_series *h, double *px, double *py)
{
	size_t n = h->n, np = 0;
	double *sm = tn_malloc((n ? n : 1) * sizeof *sm), top = 0;
	if (!sm)
		return 0;
	for (size_t i = 0; i < n; i++) {
		double sum = 0;
		int k = 0;
		for (size_t j = i >= 3 ? i - 3 : 0; j <= i + 3 && j < n; j++)
			if (!isnan(h->y[j]))
				sum += h->y[j], k++;
		sm[i] = k ? sum / k : NAN;
		if (sm[i] > top)
			top = sm[i];
	}
	for (size_t i = 1; i + 1 < n; i++) {
		if (!(sm[i] >= 0.4 * top) || !(sm[i] >= sm[i - 1]) || !(sm[i] > sm[i + 1]))
			continue;
		size_t at = i;
		for (size_t j = i >= 3 ? i - 3 : 0; j <= i + 3 && j < n; j++)
			if (h->y[j] > h->y[at] || isnan(h->y[at]))
				at = j;
		if (np && h->x[at] - px[np - 1] < 21) {
			if (h->y[at] > py[np - 1])
				px[np - 1] = h->x[at], py[np - 1] = h->y[at];
			continue;
		}
		if (np == MAX_PEAKS)
			break;
		px[np] = h->x[at], py[np] = h->y[at], np++;
	}
	free(sm);
	return np;
}

static const char *pct_text(double p, char *buf, size_t n)
{
	snprintf(buf, n, p < 0.001 ? "%.3f%%" : p < 0.01 ? "%.2f%%" : "%.1f%%", 100 * p);
	return buf;
}

/* What a peak at DAY days of age probably is, for subscriptions renewed
 * monthly or yearly. */
static const char *peak_note(double day)
{
	if (day >= 350 && day <= 385)
		return ", around the first annual renewal";
	if (day >= 25 && day <= 38)
		return ", around the first monthly renewal or the end of a trial";
	if (day <= 16)
		return ", around the end of a free trial";
	return "";
}

static void section_hazard(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>When customers leave: hazard by age</h2>\n");
	if (!r->nhazard) {
		reading(b, "pending", pending_text);
		return;
	}
	double px[MAX_PEAKS], py[MAX_PEAKS];
	size_t np = hazard_peaks(&r->hazard[0], px, py);
	char band[64], pb[32];
	if (!isnan(r->danger_from))
		snprintf(band, sizeof band, "danger window, days %.0f-%.0f", r->danger_from, r->danger_to);
	tn_svg_line_opts o = {.title = "Daily churn hazard by customer age", .xlabel = "days since start",
			      .ylabel = "share leaving that day", .ymin = 0, .ymax = NAN, .y_percent = 1,
			      .shade_from = r->danger_from, .shade_to = r->danger_to,
			      .shade_label = isnan(r->danger_from) ? NULL : band, .marks = px, .nmarks = np};
	tn_sbuf_printf(b, "<div class=\"chart\">");
	tn_svg_line_chart(b, &o, r->hazard, r->nhazard);
	tn_sbuf_printf(b, "</div>\n");
	char text[1024];
	size_t used = 0;
	if (r->hazard_reading)
		used = (size_t)snprintf(text, sizeof text, "%s", r->hazard_reading);
	else if (!isnan(r->danger_from))
		used = (size_t)snprintf(text, sizeof text,
					"Most customers who leave do so between day %.0f and day %.0f: act before day %.0f.",
					r->danger_from, r->danger_to, r->danger_from);
	else
		used = (size_t)snprintf(text, sizeof text, "No danger window stands out.");
	for (size_t k = 0; k < np && used < sizeof text; k++) {
		int w = snprintf(text + used, sizeof text - used, "%s day %.0f (%s of those still there leave that day%s)%s",
				 k == 0 ? " The hazard peaks at" : k + 1 == np ? " and at" : ", at",
				 px[k], pct_text(py[k], pb, sizeof pb), peak_note(px[k]), k + 1 == np ? "." : "");
		if (w < 0)
			break;
		used += (size_t)w;
	}
	reading(b, "reading", text);
}

static void section_drivers(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>What drives churn</h2>\n");
	if (!r->ndrivers) {
		reading(b, "pending", pending_text);
		return;
	}
	tn_sbuf_printf(b, "<div class=\"chart\">");
	tn_svg_forest_keyed(b, "Hazard ratios (Cox model, 95% CI), each against its reference level", r->ndrivers,
			    r->driver_names, r->hr, r->hr_lo, r->hr_hi, 1, r->driver_factor, r->driver_ref);
	tn_sbuf_printf(b, "</div>\n");
	char text[768], who[256], ref[256];
	size_t best = 0;
	for (size_t i = 1; i < r->ndrivers; i++)
		if (fabs(log(r->hr[i])) > fabs(log(r->hr[best])))
			best = i;
	/* "premium_monthly customers" against "monthly customers" */
	const char *name = r->driver_names[best], *eq = strchr(name, '=');
	const char *rl = r->driver_ref ? r->driver_ref[best] : NULL;
	if (eq) {
		snprintf(who, sizeof who, "%s customers (%.*s)", eq + 1, (int)(eq - name), name);
		if (rl)
			snprintf(ref, sizeof ref, "as %s customers, the reference level", rl);
		else
			snprintf(ref, sizeof ref, "as the reference level");
	} else {
		snprintf(who, sizeof who, "customers with %s one unit higher", name);
		snprintf(ref, sizeof ref, "as those one unit lower");
	}
	if (r->drivers_reading)
		snprintf(text, sizeof text, "%s", r->drivers_reading);
	else if (r->hr[best] >= 1)
		snprintf(text, sizeof text, "The strongest driver: %s leave %.1f times as fast %s (95%% CI %.2f to %.2f).",
			 who, r->hr[best], ref, r->hr_lo[best], r->hr_hi[best]);
	else
		snprintf(text, sizeof text, "The strongest driver: %s leave %.0f%% less often than %s (95%% CI %.2f to %.2f).",
			 who, 100 * (1 - r->hr[best]), ref + 3 /* without "as " */,
			 r->hr_lo[best], r->hr_hi[best]);
	reading(b, "reading", text);
}

/* A cell that reads as a number (or money, a share, an interval) is
 * right-aligned; other cells are text in their own direction (dir="auto":
 * Arabic and Persian right to left). */
static int numeric_cell(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

static void section_table(tn_sbuf *b, const tn_report_table *t)
{
	tn_sbuf_printf(b, "<h2>");
	tn_sbuf_escape(b, t->title);
	tn_sbuf_printf(b, "</h2>\n");
	if (t->nrows) {
		tn_sbuf_printf(b, "<div class=\"scroll\"><table>\n<tr>");
		for (size_t j = 0; j < t->ncols; j++) { /* headings aligned as the first row's cells */
			const char *c0 = t->cells[j] ? t->cells[j] : "";
			tn_sbuf_printf(b, numeric_cell(c0) ? "<th>" : "<th class=\"t\">");
			tn_sbuf_escape(b, t->cols[j]);
			tn_sbuf_printf(b, "</th>");
		}
		tn_sbuf_printf(b, "</tr>\n");
		for (size_t i = 0; i < t->nrows; i++) {
			tn_sbuf_printf(b, "<tr>");
			for (size_t j = 0; j < t->ncols; j++) {
				const char *c = t->cells[i * t->ncols + j] ? t->cells[i * t->ncols + j] : "";
				tn_sbuf_printf(b, numeric_cell(c) ? "<td>" : "<td class=\"t\" dir=\"auto\">");
				tn_sbuf_escape(b, c);
				tn_sbuf_printf(b, "</td>");
			}
			tn_sbuf_printf(b, "</tr>\n");
		}
		tn_sbuf_printf(b, "</table></div>\n");
	}
	reading(b, t->nrows ? "reading" : "pending", t->reading ? t->reading : "");
}

int tn_report_render(const tn_report *r, tn_sbuf *b, tn_error *err)
{
	const char *t = r->title ? r->title : "Retention report";
	tn_sbuf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	tn_sbuf_escape(b, t);
	tn_sbuf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
	tn_sbuf_escape(b, t);
	char d[32];
	if (r->as_of == TN_NO_TIME)
		tn_sbuf_printf(b, "</h1>\n<p class=\"meta\">No data yet");
	else
		tn_sbuf_printf(b, "</h1>\n<p class=\"meta\">As of the end of %s", tn_date_format(r->as_of, d, sizeof d));
	if (r->definition) {
		tn_sbuf_printf(b, " &middot; churn definition <b>");
		tn_sbuf_escape(b, r->definition);
		tn_sbuf_printf(b, "</b>");
	}
	if (r->store_path) {
		tn_sbuf_printf(b, " &middot; store ");
		tn_sbuf_escape(b, r->store_path);
	}
	tn_sbuf_printf(b, " &middot; definitions in docs/metrics.md</p>\n");
	section_headline(b, r);
	section_rates(b, r);
	section_cohorts(b, r);
	section_survival(b, r);
	section_hazard(b, r);
	section_drivers(b, r);
	for (size_t i = 0; i < r->ninsights; i++)
		section_table(b, &r->insights[i]);
	for (size_t i = 0; i < r->ntables; i++)
		section_table(b, &r->tables[i]);
	tn_sbuf_printf(b, "<p class=\"meta\">Made by Tenure %s.</p>\n</body>\n</html>\n", tn_version());
	if (b->oom)
		return tn_error_set(err, TN_ERR_NOMEM, "the report is larger than %zu bytes or out of memory",
				    (size_t)TN_SBUF_MAX);
	return TN_OK;
}

int tn_report_write_html(const tn_report *r, const char *path, tn_error *err)
{
	tn_sbuf b = {0};
	int rc = tn_report_render(r, &b, err);
	if (rc == TN_OK) {
		FILE *fp = fopen(path, "wb");
		if (!fp)
			rc = tn_error_set(err, TN_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		else {
			int bad = fwrite(b.p, 1, b.len, fp) != b.len;
			bad |= fclose(fp) != 0;
			if (bad)
				rc = tn_error_set(err, TN_ERR_IO, "%s: write failed", path);
		}
	}
	tn_sbuf_free(&b);
	return rc;
}
