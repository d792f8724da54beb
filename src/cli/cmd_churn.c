/*
 * cmd_churn.c -- `tenure churn define|list|drop|status|rate|export` and
 * `tenure cohorts`: churn definitions and measures on the store (churn.h,
 * docs/churn.md, docs/metrics.md).
 */
#include "cli.h"
#include "churn_cli.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char churn_help[] =
	"usage: tenure churn SUBCOMMAND [OPTIONS]\n\n"
	"Churn definitions and measures on the store (docs/churn.md, docs/metrics.md).\n\n"
	"  define NAME RULES...   store a named definition; rules (a customer churns at the\n"
	"                         earliest one that fires):\n"
	"      --cancelled              subscription cancelled or not renewed, and no new one\n"
	"                               within the grace period\n"
	"      --grace D                grace period in days (default 7)\n"
	"      --inactive-days N        no event for N days\n"
	"      --event-types a,b        only these event types count as activity\n"
	"      --defection-window W --defection-baseline B --defection-fraction F\n"
	"                               events in the last W days below F times the\n"
	"                               customer's own rate over the B days before\n"
	"      --failed-payment-days G  a failed payment not recovered within G days\n"
	"  list                   the definitions (\"cancelled\" is built in)\n"
	"  drop NAME              remove a definition\n"
	"  status [--definition NAME] [--as-of DATE]\n"
	"                         one row per customer spell: start, end (churn or censoring),\n"
	"                         status, reason; reactivated customers have several spells\n"
	"  rate [--period month|quarter|year] [--by plan|channel|country|cause|source|ATTR]\n"
	"       [--definition NAME] [--as-of DATE]\n"
	"                         customers at start, new, reactivated, churned, at end, churn\n"
	"                         rate; MRR movements, gross revenue churn and NRR per period;\n"
	"                         --by cause splits churned and churned MRR into voluntary and\n"
	"                         involuntary (the same customers in both rows)\n"
	"  export --csv OUT [--definition NAME] [--as-of DATE] [--all-spells]\n"
	"       [--milestones a,b] [--milestone-days D] [--causes]\n"
	"                         the survival table: time (days), event, covariates\n"
	"                         (--causes: cause, churn_cause, source)\n"
	"  recovery [--as-of DATE]  billing recovery, trial conversion, refunds, price-increase\n"
	"                         churn, the save window (auto-renew off to expiry)\n\n"
	"DATE is a date (as of the end of that day) or an ISO-8601 instant; the default is the\n"
	"end of the data's last day (docs/metrics.md).\n"
	"The default definition is \"cancelled\" (grace 7 days); \"voluntary\" and \"involuntary\"\n"
	"are built in too: the same rule counting only churn of that cause.\n";

typedef struct progress {
	const cli_ctx *ctx;
	const char *what;
} progress;

static void on_progress(void *ud, double done, double total)
{
	const progress *p = ud;
	cli_progress(p->ctx, p->what, done, total);
}

static int open_store(cli_ctx *ctx, int flags, tn_store **s)
{
	tn_error err = {0};
	if (tn_store_open(ctx->db_path, flags, s, &err))
		return cli_fail(&err);
	return 0;
}

static int churn_define(cli_ctx *ctx, int argc, char **argv)
{
	tn_churn_def d = {0};
	d.grace_days = 7;
	/* NaN: not given (a parsed number is never NaN) */
	double grace = NAN, inactive = NAN, failed_days = NAN;
	const char *types = NULL, *name = NULL;
	const cli_option opts[] = {
		{"--cancelled", CLI_FLAG, &d.cancelled, 0, 0, NULL},
		{"--grace", CLI_DOUBLE, &grace, 0, 0, "grace period in days"},
		{"--inactive-days", CLI_DOUBLE, &inactive, 0, 0, "days without an event"},
		{"--event-types", CLI_STR, &types, 0, 0, NULL},
		{"--defection-window", CLI_DOUBLE, &d.defection_window, 0, 0, "days"},
		{"--defection-baseline", CLI_DOUBLE, &d.defection_baseline, 0, 0, "days"},
		{"--defection-fraction", CLI_DOUBLE, &d.defection_fraction, 0, 0, "a fraction of the usual rate"},
		{"--failed-payment-days", CLI_DOUBLE, &failed_days, 0, 0, "days to recover a failed payment"},
		{NULL, 0, NULL, 0, 0, NULL},
	};
	int st = cli_parse("churn define", churn_help, opts, argc, argv, &name, 1, NULL);
	if (st >= 0)
		return st;
	if (!name)
		return cli_usage_error("churn define", "expected a NAME");
	if (strlen(name) >= sizeof d.name)
		return cli_usage_error("churn define", "NAME: at most %d characters", TN_CHURN_NAME_MAX - 1);
	snprintf(d.name, sizeof d.name, "%s", name);
	int grace_given = !isnan(grace);
	if (grace_given)
		d.grace_days = grace;
	if (!isnan(inactive)) {
		if (inactive <= 0)
			return cli_usage_error("churn define", "--inactive-days: expected a positive number");
		d.inactive_days = inactive;
	}
	if (!isnan(failed_days)) {
		d.failed_payment_days = failed_days;
		d.failed_payment = 1;
	}
	if (types) {
		size_t n;
		char **list = cli_split(types, &n);
		if (n > TN_CHURN_MAX_TYPES) {
			cli_free_list(list);
			return cli_usage_error("churn define", "--event-types: at most %d types", TN_CHURN_MAX_TYPES);
		}
		for (size_t k = 0; k < n; k++)
			snprintf(d.types[k], TN_CHURN_NAME_MAX, "%s", list[k]);
		d.ntypes = n;
		cli_free_list(list);
	}
	if (grace_given && !d.cancelled)
		return cli_usage_error("churn define", "--grace applies to --cancelled; add --cancelled");
	if (d.ntypes && d.inactive_days <= 0 && d.defection_window <= 0)
		return cli_usage_error("churn define", "--event-types applies to --inactive-days or --defection-window");
	if ((d.defection_baseline > 0 || d.defection_fraction > 0) && d.defection_window <= 0)
		return cli_usage_error("churn define", "--defection-baseline/--defection-fraction need --defection-window");
	tn_error err = {0};
	tn_store *s;
	if (tn_churn_def_check(&d, &err))
		return cli_fail(&err);
	if (open_store(ctx, TN_STORE_CREATE, &s))
		return 1;
	int rc = tn_churn_def_save(s, &d, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	return 0;
}

static void print_defs(cli_ctx *ctx, const tn_churn_def *defs, size_t n)
{
	const char *names[] = {"name", "rule"};
	tn_out *t = tn_out_new(2, names);
	for (size_t i = 0; i < n; i++) {
		char *json = tn_churn_def_to_json(&defs[i]);
		tn_out_str(t, defs[i].name);
		tn_out_str(t, json);
		free(json);
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
}

static int churn_list_drop(cli_ctx *ctx, int argc, char **argv, int drop)
{
	const char *name = NULL;
	const cli_option none[] = {{NULL, 0, NULL, 0, 0, NULL}};
	int st = cli_parse(drop ? "churn drop" : "churn list", churn_help, none, argc, argv, &name, drop ? 1 : 0, NULL);
	if (st >= 0)
		return st;
	if (drop && !name)
		return cli_usage_error("churn drop", "expected a NAME");
	tn_store *s;
	if (open_store(ctx, 0, &s))
		return 1;
	tn_error err = {0};
	int rc;
	if (drop) {
		rc = tn_churn_def_drop(s, name, &err);
	} else {
		tn_churn_def *defs;
		size_t n;
		if ((rc = tn_churn_def_list(s, &defs, &n, &err)) == TN_OK)
			print_defs(ctx, defs, n);
		free(defs);
	}
	tn_store_close(s);
	return rc ? cli_fail(&err) : 0;
}

/* Options shared by status, rate, export and cohorts. */
typedef struct common {
	const char *definition;
	tn_time as_of;
	const char *period;
	const char *by;
	const char *csv;
	const char *milestones;
	double milestone_days;
	int all_spells, revenue, causes;
} common;

/* The options of status, rate, export and cohorts (a cli_option table's first rows). */
#define COMMON_OPTS(co)                                          \
	{"--definition", CLI_STR, &(co).definition, 0, 0, NULL}, \
	{"--as-of", CLI_AS_OF, &(co).as_of, 0, 0, NULL}
#define END_OPTS {NULL, 0, NULL, 0, 0, NULL}

/* Status rows: a table is collected (column widths need every row); csv and
 * json are streamed, so memory stays flat whatever the number of customers. */
typedef struct status_ctx {
	tn_out *t;
	out_format fmt;
	long long rows;
	tn_json_stream js; /* json: the one JSON writer, an item at a time */
} status_ctx;

static const char *const status_cols[] = {"customer", "spell", "start", "end", "status", "reason", "days", "plan"};

static int status_row(void *ud, const tn_churn_customer *c, tn_error *err)
{
	(void)err;
	status_ctx *sc = ud;
	for (size_t i = 0; i < c->nspells; i++) {
		const tn_churn_spell *sp = &c->spells[i];
		char a[32], b[32];
		/* other_cause: censored here under a voluntary/involuntary definition */
		const char *reason = sp->churned || sp->reason == TN_CHURN_OTHER_CAUSE ? tn_churn_reason_name(sp->reason)
										       : NULL;
		const char *plan = sp->sub >= 0 ? c->subs[sp->sub].plan : NULL;
		double days = (double)(sp->end - sp->start) / TN_DAY;
		tn_time_format(sp->start, a, sizeof a);
		tn_time_format(sp->end, b, sizeof b);
		if (sc->fmt == OUT_TABLE) {
			tn_out_str(sc->t, c->id);
			tn_out_int(sc->t, (long long)i + 1);
			tn_out_str(sc->t, a);
			tn_out_str(sc->t, b);
			tn_out_str(sc->t, sp->churned ? "churned" : "censored");
			tn_out_str(sc->t, reason);
			tn_out_num(sc->t, days, 1);
			tn_out_str(sc->t, plan);
		} else if (sc->fmt == OUT_CSV) {
			tn_csv_write(stdout, c->id);
			printf(",%zu,%s,%s,%s,", i + 1, a, b, sp->churned ? "churned" : "censored");
			tn_csv_write(stdout, reason);
			putchar(',');
			tn_csv_write_num(stdout, days);
			putchar(',');
			tn_csv_write(stdout, plan);
			putchar('\n');
		} else {
			cJSON *o = cJSON_CreateObject();
			if (!o)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			cJSON_AddStringToObject(o, "customer", c->id);
			tn_json_add_num(o, "spell", (double)(i + 1));
			cJSON_AddStringToObject(o, "start", a);
			cJSON_AddStringToObject(o, "end", b);
			cJSON_AddStringToObject(o, "status", sp->churned ? "churned" : "censored");
			cJSON_AddItemToObject(o, "reason", reason ? cJSON_CreateString(reason) : cJSON_CreateNull());
			tn_json_add_num(o, "days", days);
			cJSON_AddItemToObject(o, "plan", plan ? cJSON_CreateString(plan) : cJSON_CreateNull());
			tn_json_stream_item(&sc->js, o);
			cJSON_Delete(o);
		}
		sc->rows++;
	}
	return TN_OK;
}

static int churn_status(cli_ctx *ctx, int argc, char **argv)
{
	common co = {.as_of = TN_NO_TIME};
	const cli_option opts[] = {COMMON_OPTS(co), END_OPTS};
	int st = cli_parse("churn status", churn_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	tn_store *s;
	if (open_store(ctx, 0, &s))
		return 1;
	tn_error err = {0};
	tn_churn_def d;
	status_ctx sc = {.fmt = ctx->format, .t = ctx->format == OUT_TABLE ? tn_out_new(8, status_cols) : NULL};
	if (sc.fmt == OUT_CSV)
		puts("customer,spell,start,end,status,reason,days,plan");
	else if (sc.fmt == OUT_JSON)
		tn_json_stream_begin(&sc.js, stdout);
	progress pg = {ctx, "churn status"};
	tn_churn_scan_opts so = {.as_of = co.as_of, .on_progress = on_progress, .progress_ud = &pg};
	int rc = tn_churn_def_load(s, co.definition, &d, &err);
	if (!rc)
		rc = tn_churn_scan(s, &d, &so, status_row, &sc, NULL, &err);
	cli_progress_done(ctx);
	tn_store_close(s);
	if (!rc && sc.fmt == OUT_TABLE)
		tn_out_print(sc.t, ctx->format, stdout);
	else if (sc.fmt == OUT_JSON)
		tn_json_stream_end(&sc.js);
	tn_out_free(sc.t);
	return rc ? cli_fail(&err) : 0;
}

static int parse_period(const char *cmd, const char *p, int *months)
{
	if (!p || strcmp(p, "month") == 0)
		*months = TN_PERIOD_MONTH;
	else if (strcmp(p, "quarter") == 0)
		*months = TN_PERIOD_QUARTER;
	else if (strcmp(p, "year") == 0)
		*months = TN_PERIOD_YEAR;
	else
		return cli_usage_error(cmd, "--period: expected month, quarter or year, found \"%s\"", p);
	return 0;
}

static int churn_rate(cli_ctx *ctx, int argc, char **argv)
{
	common co = {.as_of = TN_NO_TIME};
	const cli_option opts[] = {COMMON_OPTS(co), {"--period", CLI_STR, &co.period, 0, 0, NULL},
				   {"--by", CLI_STR, &co.by, 0, 0, NULL}, END_OPTS};
	int st = cli_parse("churn rate", churn_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	progress pg = {ctx, "churn rate"};
	tn_churn_rate_opts o = {.by = co.by, .as_of = co.as_of, .on_progress = on_progress, .progress_ud = &pg};
	if (parse_period("churn rate", co.period, &o.period_months))
		return 2;
	tn_store *s;
	if (open_store(ctx, 0, &s))
		return 1;
	tn_error err = {0};
	tn_churn_def d;
	tn_churn_rate_row *rows = NULL;
	size_t n = 0;
	int rc = tn_churn_def_load(s, co.definition, &d, &err);
	tn_time data_end = TN_NO_TIME;
	if (!rc)
		rc = tn_churn_data_end(s, &data_end, &err);
	if (!rc)
		rc = tn_churn_rate(s, &d, &o, &rows, &n, &err);
	cli_progress_done(ctx);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	/* --as-of past the data's end: the periods after it would be made up */
	if (co.as_of != TN_NO_TIME && data_end != TN_NO_TIME && co.as_of > data_end + TN_DAY && !ctx->quiet) {
		char a[24], b[24];
		fprintf(stderr,
			"tenure churn rate: warning: --as-of %s is after the data's end (%s): nothing is known after "
			"%s, so the periods after it show no movement, not a measurement\n",
			tn_date_format(co.as_of, a, sizeof a), tn_date_format(data_end, b, sizeof b), b);
	}
	const char *names[] = {"period", "group", "customers_start", "new", "reactivated", "churned",
			       "customers_end", "churn_rate", "mrr_start", "new_mrr", "reactivation_mrr",
			       "expansion_mrr", "contraction_mrr", "churned_mrr", "mrr_end",
			       "gross_revenue_churn", "nrr", "partial", "churned_other"};
	size_t skip = co.by ? 0 : 1, other = d.cause_class ? 1 : 0;
	const char *nm[19];
	for (size_t j = 0, k = 0; j < 18 + other; j++)
		if (!(skip && j == 1))
			nm[k++] = names[j];
	tn_out *t = tn_out_new(18 + other - skip, nm);
	double mrr_cause[3] = {0, 0, 0};
	const tn_churn_rate_row *partial = NULL, *over = NULL;
	for (size_t i = 0; i < n; i++) {
		const tn_churn_rate_row *r = &rows[i];
		char p[16];
		/* partial: the data (as-of) stop before the period's last day */
		int part = r->period_end <= tn_add_months(r->period_start, o.period_months) - TN_DAY;
		if (part && !partial)
			partial = r;
		if (r->churn_rate > 1 && (!over || r->churn_rate > over->churn_rate))
			over = r;
		tn_date_format(r->period_start, p, sizeof p);
		tn_out_str(t, p);
		if (!skip)
			tn_out_str(t, r->group);
		tn_out_int(t, r->customers_start);
		tn_out_int(t, r->new_customers);
		tn_out_int(t, r->reactivated);
		tn_out_int(t, r->churned);
		tn_out_int(t, r->customers_end);
		tn_out_num(t, r->churn_rate, 4);
		tn_out_num(t, r->mrr_start, 2);
		tn_out_num(t, r->new_mrr, 2);
		tn_out_num(t, r->reactivation_mrr, 2);
		tn_out_num(t, r->expansion_mrr, 2);
		tn_out_num(t, r->contraction_mrr, 2);
		tn_out_num(t, r->churned_mrr, 2);
		tn_out_num(t, r->mrr_end, 2);
		tn_out_num(t, r->gross_revenue_churn, 4);
		tn_out_num(t, r->nrr, 4);
		tn_out_str(t, part ? "yes" : "no");
		if (other)
			tn_out_int(t, r->churned_other);
		if (co.by && strcmp(co.by, "cause") == 0)
			mrr_cause[strcmp(r->group, "involuntary") == 0 ? 2 : 1] += r->churned_mrr;
	}
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	FILE *notes = ctx->format == OUT_TABLE ? stdout : ctx->quiet ? NULL : stderr;
	if (notes && co.by && strcmp(co.by, "cause") == 0) {
		double all = mrr_cause[1] + mrr_cause[2];
		fprintf(notes,
			"%snote: with --by cause both rows of a period count the same customers; churned and "
			"churned_mrr are split by the cause (docs/churn.md). Involuntary share of churned MRR over "
			"these periods: %.1f%% (%.2f of %.2f)\n",
			ctx->format == OUT_TABLE ? "\n" : "", all > 0 ? 100 * mrr_cause[2] / all : 0.0, mrr_cause[2],
			all);
	}
	if (notes && partial) {
		char a[16], b[24];
		fprintf(notes,
			"%snote: %s is a partial period (partial = yes): counted to %s only, fewer days than a whole "
			"period; compare it with care\n",
			ctx->format == OUT_TABLE ? "\n" : "", tn_date_format(partial->period_start, a, sizeof a),
			tn_date_format(partial->period_end - 1, b, sizeof b));
	}
	if (notes && over) {
		char a[16];
		fprintf(notes,
			"%snote: a churn rate above 100%% (%.0f%% in %s) means more customers left in the period than "
			"were there at its start: customers who joined and left within it (e.g. trial drop-offs) count "
			"as churned but not in customers_start (docs/metrics.md)\n",
			ctx->format == OUT_TABLE && !partial ? "\n" : "", 100 * over->churn_rate,
			tn_date_format(over->period_start, a, sizeof a));
	}
	free(rows);
	return 0;
}

static int churn_export(cli_ctx *ctx, int argc, char **argv)
{
	common co = {.as_of = TN_NO_TIME};
	const cli_option opts[] = {COMMON_OPTS(co),
				   {"--all-spells", CLI_FLAG, &co.all_spells, 0, 0, NULL},
				   {"--csv", CLI_STR, &co.csv, 0, 0, NULL},
				   {"--milestones", CLI_STR, &co.milestones, 0, 0, NULL},
				   {"--milestone-days", CLI_DOUBLE, &co.milestone_days, 0, 0, "days"},
				   {"--causes", CLI_FLAG, &co.causes, 0, 0, NULL},
				   END_OPTS};
	int st = cli_parse("churn export", churn_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	if (!co.csv)
		return cli_usage_error("churn export", "expected --csv OUT");
	size_t nm = 0;
	char **ms = co.milestones ? cli_split(co.milestones, &nm) : NULL;
	tn_churn_frame_opts fo = {.as_of = co.as_of,
				  .all_spells = co.all_spells,
				  .milestones = (const char *const *)ms,
				  .nmilestones = nm,
				  .milestone_days = co.milestone_days,
				  .causes = co.causes};
	progress pg = {ctx, "churn export"};
	fo.on_progress = on_progress;
	fo.progress_ud = &pg;
	tn_store *s;
	if (open_store(ctx, 0, &s)) {
		cli_free_list(ms);
		return 1;
	}
	tn_error err = {0};
	tn_churn_def d;
	int rc = tn_churn_def_load(s, co.definition, &d, &err);
	if (!rc)
		rc = tn_churn_export_csv(s, &d, &fo, co.csv, &err);
	cli_progress_done(ctx);
	tn_store_close(s);
	cli_free_list(ms);
	return rc ? cli_fail(&err) : 0;
}

static int churn_list(cli_ctx *ctx, int argc, char **argv) { return churn_list_drop(ctx, argc, argv, 0); }
static int churn_drop(cli_ctx *ctx, int argc, char **argv) { return churn_list_drop(ctx, argc, argv, 1); }

static const cli_sub churn_subs[] = {
	{"define", churn_define, "store a named definition"},
	{"list", churn_list, "the definitions"},
	{"drop", churn_drop, "remove a definition"},
	{"status", churn_status, "one row per customer spell"},
	{"rate", churn_rate, "churn rate and MRR movements per period"},
	{"export", churn_export, "the survival table as CSV"},
	{"recovery", cmd_churn_recovery, "billing recovery, trial conversion, refunds, the save window"},
};

int cmd_churn(cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "churn", churn_help, churn_subs, sizeof churn_subs / sizeof churn_subs[0], argc, argv);
}

static const char cohorts_help[] =
	"usage: tenure cohorts [--period month|quarter|year] [--revenue] [--definition NAME] [--as-of DATE]\n\n"
	"Retention table by cohort (the period of each customer's first spell start): the share\n"
	"of the cohort still a customer 0, 1, 2, ... periods after each member's own start, under\n"
	"the churn definition (default \"cancelled\").  --revenue: the cohort's committed MRR then\n"
	"over its committed MRR at its start (can exceed 1 with expansion).  A cell counts only\n"
	"members whose anniversary is not after the as-of; blank when none.  docs/metrics.md.\n";

int cmd_cohorts(cli_ctx *ctx, int argc, char **argv)
{
	common co = {.as_of = TN_NO_TIME};
	const cli_option opts[] = {COMMON_OPTS(co), {"--revenue", CLI_FLAG, &co.revenue, 0, 0, NULL},
				   {"--period", CLI_STR, &co.period, 0, 0, NULL}, END_OPTS};
	int st = cli_parse("cohorts", cohorts_help, opts, argc, argv, NULL, 0, NULL);
	if (st >= 0)
		return st;
	int months;
	if (parse_period("cohorts", co.period, &months))
		return 2;
	tn_store *s;
	if (open_store(ctx, 0, &s))
		return 1;
	tn_error err = {0};
	tn_churn_def d;
	tn_cohorts *c = NULL;
	int rc = tn_churn_def_load(s, co.definition, &d, &err);
	if (!rc)
		rc = tn_cohorts_compute(s, &d, months, co.revenue, co.as_of, &c, &err);
	tn_time as_of = co.as_of;
	if (!rc && as_of == TN_NO_TIME)
		rc = tn_churn_data_end(s, &as_of, &err);
	tn_store_close(s);
	if (rc)
		return cli_fail(&err);
	/* a cell is partial when the as-of falls inside its period: only the
	 * members whose anniversary had come are counted */
#define PARTIAL(i, k) \
	(as_of != TN_NO_TIME && tn_add_months(c->cohort_start[i], (int)((k) + 1) * months) > as_of + TN_DAY)
	size_t ncols = 3 + c->nages;
	char **names = calloc(ncols, sizeof *names);
	names[0] = strdup("cohort");
	names[1] = strdup(co.revenue ? "base_mrr" : "customers");
	for (size_t k = 0; k < c->nages; k++) {
		char b[32];
		snprintf(b, sizeof b, "%c%zu", months == 1 ? 'm' : months == 3 ? 'q' : 'y', k);
		names[2 + k] = strdup(b);
	}
	names[2 + c->nages] = strdup("partial_from");
	tn_out *t = tn_out_new(ncols - (ctx->format == OUT_TABLE), (const char *const *)names);
	int any = 0;
	for (size_t i = 0; i < c->ncohorts; i++) {
		char p[16];
		tn_out_str(t, tn_date_format(c->cohort_start[i], p, sizeof p));
		if (co.revenue)
			tn_out_num(t, c->base_mrr[i], 2);
		else
			tn_out_int(t, c->size[i]);
		size_t first = c->nages;
		for (size_t k = 0; k < c->nages; k++) {
			double v = c->value[i * c->nages + k];
			int part = !isnan(v) && PARTIAL(i, k);
			if (part && first == c->nages)
				first = k;
			if (part && ctx->format == OUT_TABLE) {
				char b[32];
				snprintf(b, sizeof b, "%.3f*", v);
				tn_out_str(t, b);
			} else {
				tn_out_num(t, v, 3);
			}
		}
		any |= first < c->nages;
		if (ctx->format != OUT_TABLE)
			tn_out_str(t, first < c->nages ? names[2 + first] : NULL);
	}
#undef PARTIAL
	tn_out_print(t, ctx->format, stdout);
	tn_out_free(t);
	if (any && ctx->format == OUT_TABLE) {
		char a[24];
		printf("\n* partial: the period was not over at the as-of (%s); only the members whose anniversary had "
		       "come are counted\n",
		       tn_date_format(as_of, a, sizeof a));
	}
	for (size_t k = 0; k < ncols; k++)
		free(names[k]);
	free(names);
	tn_cohorts_free(c);
	return 0;
}
