/*
 * report.c -- the self-contained HTML retention report (see
 * include/tenure/report.h): inline CSS, inline SVG charts from svg.c, one
 * plain-language reading per section, and no external reference of any
 * kind (no scripts, fonts, images or links), so it opens offline and can be
 * mailed as one file.
 */
#include "tenure.h"
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
		return err ? err->code : TN_ERR_DB;
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
	"body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
	"h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}"
	".meta{color:#666}.reading{background:#f3f7fb;border-left:4px solid #0072B2;padding:.5em .8em}"
	".pending{background:#fff8e6;border-left:4px solid #E69F00;padding:.5em .8em}"
	"svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;text-align:right}th{border-bottom:1px solid #ccc}td:first-child,th:first-child{text-align:left}";

static void reading(tn_sbuf *b, const char *cls, const char *text)
{
	tn_sbuf_printf(b, "<p class=\"%s\">", cls);
	tn_sbuf_escape(b, text);
	tn_sbuf_printf(b, "</p>\n");
}

static void section_rates(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>1. Churn rate by month</h2>\n");
	size_t n = r->nrates;
	if (!n) {
		reading(b, "pending", "No customers in the store yet: import data or run `tenure demo`.");
		return;
	}
	double *x = malloc(n * sizeof *x), *cr = malloc(n * sizeof *cr), *rc = malloc(n * sizeof *rc);
	char(*lab)[16] = malloc(n * sizeof *lab);
	const char **labels = malloc(n * sizeof *labels);
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
	tn_svg_line_chart(b, &o, s, 2);
	/* the latest complete month */
	size_t k = n;
	while (k-- > 0)
		if (r->rates[k].period_end == tn_add_months(r->rates[k].period_start, 1) && !isnan(cr[k]))
			break;
	char text[512];
	if (k < n) {
		int w = snprintf(text, sizeof text,
				 "In %s, %.1f%% of the customers at the start of the month churned, taking %.1f%% of "
				 "MRR (net revenue retention %.1f%%).",
				 lab[k], 100 * cr[k], 100 * rc[k], 100 * r->rates[k].nrr);
		if (k >= 3 && !isnan(cr[k - 3]) && w > 0 && (size_t)w < sizeof text)
			snprintf(text + w, sizeof text - (size_t)w, " Three months earlier it was %.1f%%.",
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
	tn_sbuf_printf(b, "<h2>2. Retention by signup cohort</h2>\n");
	const tn_cohorts *c = r->cohorts;
	if (!c || !c->ncohorts) {
		reading(b, "pending", "No cohorts yet.");
		return;
	}
	size_t n = c->ncohorts, m = c->nages;
	char(*rl)[40] = malloc(n * sizeof *rl), (*cl)[24] = malloc(m * sizeof *cl);
	const char **rows = malloc(n * sizeof *rows), **cols = malloc(m * sizeof *cols);
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
	tn_svg_heatmap(b, "Share of each monthly cohort still a customer after N months (%)", n, m, c->value, rows,
		       cols, 0, 1);
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
	tn_sbuf_printf(b, "<h2>3. Survival by plan</h2>\n");
	if (!r->nsurvival) {
		reading(b, "pending", pending_text);
		return;
	}
	tn_svg_line_opts o = {.title = "Share still a customer (Kaplan-Meier, 95% band)", .xlabel = "days since start",
			      .ylabel = "still a customer", .ymin = 0, .ymax = 1, .y_percent = 1,
			      .shade_from = NAN, .shade_to = NAN};
	tn_svg_line_chart(b, &o, r->survival, r->nsurvival);
	if (r->survival_reading) {
		reading(b, "reading", r->survival_reading);
		return;
	}
	char text[512] = "Median lifetime:";
	size_t used = strlen(text);
	for (size_t k = 0; k < r->nsurvival; k++) {
		const tn_svg_series *s = &r->survival[k];
		double med = NAN;
		for (size_t i = 0; i < s->n; i++)
			if (s->y[i] <= 0.5) {
				med = s->x[i];
				break;
			}
		int w = isnan(med) ? snprintf(text + used, sizeof text - used, "%s %s not reached", k ? ";" : "",
					      s->name ? s->name : "")
				   : snprintf(text + used, sizeof text - used, "%s %s %.0f days", k ? ";" : "",
					      s->name ? s->name : "", med);
		if (w > 0 && (size_t)w < sizeof text - used)
			used += (size_t)w;
	}
	reading(b, "reading", text);
}

static void section_hazard(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>4. When customers leave: hazard by age</h2>\n");
	if (!r->nhazard) {
		reading(b, "pending", pending_text);
		return;
	}
	tn_svg_line_opts o = {.title = "Daily churn hazard by customer age", .xlabel = "days since start",
			      .ylabel = "hazard per day", .ymin = 0, .ymax = NAN, .shade_from = r->danger_from,
			      .shade_to = r->danger_to, .shade_label = "danger window"};
	tn_svg_line_chart(b, &o, r->hazard, r->nhazard);
	char text[256];
	if (r->hazard_reading)
		snprintf(text, sizeof text, "%s", r->hazard_reading);
	else if (!isnan(r->danger_from))
		snprintf(text, sizeof text, "Most customers who leave do so between day %.0f and day %.0f: act before "
					    "day %.0f.",
			 r->danger_from, r->danger_to, r->danger_from);
	else
		snprintf(text, sizeof text, "No danger window stands out.");
	reading(b, "reading", text);
}

static void section_drivers(tn_sbuf *b, const tn_report *r)
{
	tn_sbuf_printf(b, "<h2>5. What drives churn</h2>\n");
	if (!r->ndrivers) {
		reading(b, "pending", pending_text);
		return;
	}
	tn_svg_forest(b, "Hazard ratios (Cox model, 95% CI)", r->ndrivers, r->driver_names, r->hr, r->hr_lo,
		      r->hr_hi, 1);
	char text[256];
	size_t best = 0;
	for (size_t i = 1; i < r->ndrivers; i++)
		if (fabs(log(r->hr[i])) > fabs(log(r->hr[best])))
			best = i;
	if (r->drivers_reading)
		snprintf(text, sizeof text, "%s", r->drivers_reading);
	else if (r->hr[best] >= 1)
		snprintf(text, sizeof text, "The strongest driver is %s: those customers leave %.1f times as fast.",
			 r->driver_names[best], r->hr[best]);
	else
		snprintf(text, sizeof text, "The strongest driver is %s: those customers leave %.0f%% less often.",
			 r->driver_names[best], 100 * (1 - r->hr[best]));
	reading(b, "reading", text);
}

static void section_table(tn_sbuf *b, const tn_report_table *t, int number)
{
	tn_sbuf_printf(b, "<h2>%d. ", number);
	tn_sbuf_escape(b, t->title);
	tn_sbuf_printf(b, "</h2>\n");
	if (t->nrows) {
		tn_sbuf_printf(b, "<table>\n<tr>");
		for (size_t j = 0; j < t->ncols; j++) {
			tn_sbuf_printf(b, "<th>");
			tn_sbuf_escape(b, t->cols[j]);
			tn_sbuf_printf(b, "</th>");
		}
		tn_sbuf_printf(b, "</tr>\n");
		for (size_t i = 0; i < t->nrows; i++) {
			tn_sbuf_printf(b, "<tr>");
			for (size_t j = 0; j < t->ncols; j++) {
				tn_sbuf_printf(b, "<td>");
				tn_sbuf_escape(b, t->cells[i * t->ncols + j] ? t->cells[i * t->ncols + j] : "");
				tn_sbuf_printf(b, "</td>");
			}
			tn_sbuf_printf(b, "</tr>\n");
		}
		tn_sbuf_printf(b, "</table>\n");
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
		tn_sbuf_printf(b, "</h1>\n<p class=\"meta\">As of %s", tn_date_format(r->as_of, d, sizeof d));
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
	section_rates(b, r);
	section_cohorts(b, r);
	section_survival(b, r);
	section_hazard(b, r);
	section_drivers(b, r);
	for (size_t i = 0; i < r->ntables; i++)
		section_table(b, &r->tables[i], 6 + (int)i);
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
