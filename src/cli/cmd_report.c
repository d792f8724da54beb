/*
 * cmd_report.c -- `tenure report --html FILE`: the one-page retention report
 * (report.h).  Sections 1-2 (churn trend, cohorts) come from the store; the
 * survival sections 3-5 (Kaplan-Meier by plan, danger window, Cox drivers)
 * are fitted here on the churn frame (tn_churn_frame) with the survival
 * library; a section that cannot be fitted keeps its placeholder.
 */
#include "cli.h"
#include "feedback_cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- survival sections (3-5) from the survival library (survival.h) ---- */

typedef struct surv_parts {
	tn_frame *f;
	double *time, *event, *hx, *hr, *t2, *e2;
	size_t *rows;
	int *idx, nlev;
	char **labels;
	tn_svg_series *series;
	tn_km_steps **steps;
	tn_danger *danger;
	tn_design *design;
	tn_cox *cox;
	tn_svg_series hz;
	double *median;
	char **factor, **ref; /* per driver: its column and that column's reference level */
	size_t nref;
	char sentence[256];
} surv_parts;

/* Kaplan-Meier by plan, the danger window (1-day bins) and a Cox model on
 * plan, channel, device and onboarding, all on the churn frame; a section
 * that cannot be fitted keeps its placeholder. */
static void add_survival(tn_store *s, const tn_churn_def *d, tn_time as_of, tn_report *r, surv_parts *p)
{
	tn_error err = {0};
	tn_churn_frame_opts fo = {.as_of = as_of};
	if (!(p->f = tn_churn_frame(s, d, &fo, &err)) || p->f->nrows == 0)
		return;
	tn_frame *f = p->f;
	size_t n = f->nrows;
	int ti = tn_frame_find(f, "time"), ei = tn_frame_find(f, "event");
	p->rows = malloc(n * sizeof *p->rows);
	if (!p->rows || ti < 0 || ei < 0)
		return;
	for (size_t i = 0; i < n; i++)
		p->rows[i] = i;
	p->time = f->cols[ti].num;
	p->event = f->cols[ei].num;
	if (tn_design_groups(f, "plan", p->rows, n, &p->idx, &p->labels, &p->nlev, &err) == TN_OK && p->nlev > 0 &&
	    (p->series = calloc((size_t)p->nlev, sizeof *p->series)) &&
	    (p->steps = calloc((size_t)p->nlev, sizeof *p->steps)) &&
	    (p->median = calloc((size_t)p->nlev, sizeof *p->median))) {
		int g;
		for (g = 0; g < p->nlev; g++) {
			tn_km *km = NULL;
			tn_km_steps *st = NULL;
			int rc = tn_km_fit(p->time, p->event, p->idx, g, n, 0.95, &km, &err);
			if (!rc)
				rc = tn_km_steps_new(km, 300, &st, &err);
			if (!rc) /* the fitted median, as `tenure survival` prints it */
				p->median[g] = km->median;
			tn_km_free(km);
			if (rc)
				break;
			p->steps[g] = st;
			p->series[g] = (tn_svg_series){.name = p->labels[g], .n = st->n, .x = st->time, .y = st->surv,
						       .lo = st->lower, .hi = st->upper, .step = 1};
		}
		if (g == p->nlev) {
			r->survival = p->series;
			r->nsurvival = (size_t)p->nlev;
			r->survival_median = p->median;
		}
	}
	tn_error_clear(&err);
	tn_danger *dg = NULL;
	if (tn_danger_new(p->time, p->event, NULL, 0, n, 1.0, 30, &dg, &err) == TN_OK) {
		p->danger = dg;
		size_t nb = dg->nbins < 400 ? dg->nbins : 400;
		if ((p->hx = malloc(nb * sizeof *p->hx))) {
			for (size_t k = 0; k < nb; k++)
				p->hx[k] = (double)k * dg->width;
			p->hz = (tn_svg_series){.name = "all customers", .n = nb, .x = p->hx, .y = dg->hazard};
			r->hazard = &p->hz;
			r->nhazard = 1;
			if (dg->from >= 0) {
				r->danger_from = (double)dg->from * dg->width;
				r->danger_to = (double)(dg->to + 1) * dg->width;
			}
			tn_danger_sentence(dg, "day", p->sentence, sizeof p->sentence);
			r->hazard_reading = p->sentence;
		}
	}
	tn_error_clear(&err);
	const char *want[] = {"plan", "channel", "country", "attr_device", "reached_onboarding_complete"};
	const char *cols[5], *req[] = {"time", "event"};
	size_t nc = 0;
	for (size_t k = 0; k < 5; k++)
		if (tn_frame_find(f, want[k]) >= 0)
			cols[nc++] = want[k];
	tn_design *des = NULL;
	tn_cox *cox = NULL;
	if (tn_design_new(f, cols, nc, req, 2, NULL, 0, &des, &err) || des->n == 0 || des->p == 0 ||
	    tn_design_numeric(f, "time", des->rows, des->n, &p->t2, &err) ||
	    tn_design_numeric(f, "event", des->rows, des->n, &p->e2, &err) ||
	    tn_cox_fit(p->t2, p->e2, des->x, des->n, des->p, NULL, NULL, &cox, &err) ||
	    !(p->hr = malloc(des->p * sizeof *p->hr))) {
		p->design = des;
		p->cox = cox;
		return;
	}
	p->design = des;
	p->cox = cox;
	if (!cox->converged || cox->ninfinite)
		return; /* a degenerate fit (tn_cox_warnings): no drivers figure rather than a wrong one */
	for (size_t j = 0; j < des->p; j++)
		p->hr[j] = exp(cox->coef[j]);
	r->ndrivers = des->p;
	r->driver_names = (const char *const *)des->names;
	r->hr = p->hr;
	r->hr_lo = cox->lower;
	r->hr_hi = cox->upper;
	/* each driver's factor and reference level, for the colour key and the
	 * reading */
	if (!(p->factor = calloc(des->p, sizeof *p->factor)) || !(p->ref = calloc(des->p, sizeof *p->ref)))
		return;
	p->nref = des->p;
	for (size_t j = 0; j < des->p; j++) {
		const char *eq = strchr(des->names[j], '=');
		p->factor[j] = eq ? strndup(des->names[j], (size_t)(eq - des->names[j])) : strdup(des->names[j]);
		char ref[256];
		if (*tn_design_reference(des, f, j, ref, sizeof ref))
			p->ref[j] = strdup(ref);
	}
	r->driver_factor = (const char *const *)p->factor;
	r->driver_ref = (const char *const *)p->ref;
}

static void free_survival(surv_parts *p)
{
	for (int g = 0; p->steps && g < p->nlev; g++)
		tn_km_steps_free(p->steps[g]);
	if (p->idx)
		tn_design_groups_free(p->idx, p->labels, p->nlev);
	tn_danger_free(p->danger);
	tn_design_free(p->design);
	tn_cox_free(p->cox);
	for (size_t j = 0; j < p->nref; j++) {
		free(p->factor ? p->factor[j] : NULL);
		free(p->ref ? p->ref[j] : NULL);
	}
	free(p->factor);
	free(p->ref);
	free(p->median);
	free(p->steps);
	free(p->series);
	free(p->hx);
	free(p->hr);
	free(p->t2);
	free(p->e2);
	free(p->rows);
	tn_frame_free(p->f);
}

static void label_feedback(const cli_ctx *ctx, tn_store *s)
{
	tn_fb_row *rows = NULL;
	size_t n = 0;
	tn_error err = {0};
	int have = tn_fb_labels_store(s, &rows, &n, &err) == TN_OK && n > 0;
	free(rows);
	if (have)
		return;
	int status = 0;
	tn_fb_model *m = fbcli_model(NULL, NULL, &status);
	size_t done = 0;
	if (m && tn_fb_label_store(s, m, 0, &done, &err) == TN_OK && done && !ctx->quiet)
		fprintf(stderr, "report: classified %zu text answers (as tenure feedback classify does)\n", done);
	else if (err.code && !ctx->quiet)
		fprintf(stderr, "report: the text answers could not be classified: %s\n", err.msg);
	tn_fb_model_free(m);
}

static const char report_help[] =
	"usage: tenure report --html FILE [--definition NAME] [--as-of DATE] [--model FILE]\n\n"
	"Write one self-contained HTML page (inline SVG; no scripts, fonts or network\n"
	"references): the headline figures of `tenure summary`, the monthly churn-rate\n"
	"trend, cohort retention, survival by plan, hazard by customer age with the danger\n"
	"window and every peak, churn drivers against their reference levels, what\n"
	"customers say (NPS, CSAT, CES, complaint types and themes, impact against effort),\n"
	"what they are worth (value and profitability by plan and channel), who is about\n"
	"to leave (the riskiest customers with value and reasons), then the actions\n"
	"(offers, win-back, loyalty, onboarding); each with a one-line reading.\n"
	"Definitions: docs/metrics.md; the sections: docs/churn.md.\n\n"
	"  --html FILE        where to write the page\n"
	"  --definition NAME  churn definition (default \"cancelled\")\n"
	"  --as-of DATE       as of the end of this day (default: the data's last day)\n"
	"  --model FILE       risk model for who is about to leave (tenure predict train\n"
	"                     --save); default: one trained on the spot on the store\n";

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
	const char *html = NULL, *defname = NULL, *model = NULL, *v;
	tn_time as_of = TN_NO_TIME;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			fputs(report_help, stdout);
			return 0;
		} else if ((r = cli_opt(argc, argv, &i, "--html", &html)) ||
			   (r = cli_opt(argc, argv, &i, "--definition", &defname)) ||
			   (r = cli_opt(argc, argv, &i, "--model", &model))) {
			if (r < 0)
				return 2;
		} else if ((r = cli_opt(argc, argv, &i, "--as-of", &v))) {
			if (r < 0)
				return 2;
			if (tn_as_of_parse(v, strlen(v), &as_of))
				return cli_usage_error("report", "--as-of: expected a date (YYYY-MM-DD), found \"%s\"", v);
		} else {
			return cli_usage_error("report", "unexpected argument \"%s\"", argv[i]);
		}
	}
	if (!html)
		return cli_usage_error("report", "expected --html FILE");
	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, 0, &s, &err))
		return cli_fail(&err);
	tn_churn_def d;
	tn_report r = {.danger_from = NAN, .danger_to = NAN};
	int rc = tn_churn_def_load(s, defname, &d, &err);
	if (!rc)
		rc = tn_report_from_store(s, &d, as_of, &r, &err);
	/* the headline box: the same function and as-of as `tenure summary` */
	tn_summary head;
	if (!rc && r.as_of != TN_NO_TIME && !(rc = tn_summary_get_def(s, &d, r.as_of, &head, &err)))
		r.headline = &head;
	/* sections 3-5: Kaplan-Meier, danger window and Cox on the churn frame */
	surv_parts sp = {0};
	if (!rc)
		add_survival(s, &d, r.as_of, &r, &sp);
	/* sections 6-9: offers, win-back, loyalty, onboarding */
	tn_report_table *tables = NULL;
	size_t ntables = 0;
	tn_time now = r.as_of;
	if (!rc && as_of == TN_NO_TIME)
		tn_actions_now(s, &now, NULL);
	if (!rc)
		rc = tn_report_actions(s, now, &tables, &ntables, &err);
	r.tables = tables;
	r.ntables = ntables;
	/* what customers say needs the text answers classified: do it now when
	 * nothing is labelled yet, as `tenure feedback classify` would */
	if (!rc && r.as_of != TN_NO_TIME)
		label_feedback(ctx, s);
	/* what customers say, what they are worth, who is about to leave */
	tn_report_table *ins = NULL;
	size_t nins = 0;
	if (!rc && r.as_of != TN_NO_TIME)
		rc = tn_report_insights(s, &d, r.as_of, model, r.headline ? head.currency : NULL, &ins, &nins, &err);
	/* why they leave: voluntary / involuntary, billing recovery, the save window */
	tn_report_table *cz = NULL;
	size_t ncz = 0;
	if (!rc && r.as_of != TN_NO_TIME)
		rc = tn_report_causes(s, r.as_of, &cz, &ncz, &err);
	if (!rc && ncz) {
		tn_report_table *all = realloc(ins, (nins + ncz) * sizeof *all);
		if (!all) {
			rc = tn_error_set(&err, TN_ERR_NOMEM, "out of memory");
		} else {
			memcpy(all + nins, cz, ncz * sizeof *cz);
			ins = all;
			nins += ncz;
			free(cz); /* the tables now belong to ins */
			cz = NULL;
			ncz = 0;
		}
	}
	tn_report_tables_free(cz, ncz);
	r.insights = ins;
	r.ninsights = nins;
	if (!rc)
		rc = tn_report_write_html(&r, html, &err);
	tn_report_tables_free(tables, ntables);
	tn_report_tables_free(ins, nins);
	free_survival(&sp);
	tn_report_free_store(&r);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}
