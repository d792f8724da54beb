/*
 * cmd_report.c -- `tenure report --html FILE`: the one-page retention report
 * (report.h).  Sections 1-2 (churn trend, cohorts) come from the store; the
 * survival sections 3-5 are filled where marked HOOK below once the survival
 * library (Kaplan-Meier, hazard, Cox) is merged.
 */
#include "cli.h"

#include <math.h>
#include <string.h>

static const char report_help[] =
	"usage: tenure report --html FILE [--definition NAME] [--as-of DATE]\n\n"
	"Write one self-contained HTML page (inline SVG; no scripts, fonts or network\n"
	"references): monthly churn-rate trend, cohort retention heatmap, survival by plan,\n"
	"hazard by customer age with the danger window and churn drivers, each with a\n"
	"one-line reading.  Definitions: docs/metrics.md; the sections: docs/churn.md.\n\n"
	"  --html FILE        where to write the page\n"
	"  --definition NAME  churn definition (default \"cancelled\")\n"
	"  --as-of DATE       measure as of this date (default: the data's end)\n";

int cmd_report(cli_ctx *ctx, int argc, char **argv)
{
	const char *html = NULL, *defname = NULL, *v;
	tn_time as_of = TN_NO_TIME;
	for (int i = 1; i < argc; i++) {
		int r;
		if (cli_is_help(argv[i])) {
			fputs(report_help, stdout);
			return 0;
		} else if ((r = cli_opt(argc, argv, &i, "--html", &html)) ||
			   (r = cli_opt(argc, argv, &i, "--definition", &defname))) {
			if (r < 0)
				return 2;
		} else if ((r = cli_opt(argc, argv, &i, "--as-of", &v))) {
			if (r < 0)
				return 2;
			if (tn_time_parse(v, strlen(v), &as_of))
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
	/* HOOK(survival): fill r.survival (Kaplan-Meier by plan with CI, step = 1),
	 * r.hazard with r.danger_from/to, and r.driver_names/hr/hr_lo/hr_hi from
	 * a Cox fit, all on tn_churn_frame(s, &d, ...). */
	if (!rc)
		rc = tn_report_write_html(&r, html, &err);
	tn_report_free_store(&r);
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}
