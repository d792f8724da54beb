/*
 * cmd_import.c -- `tenure import KIND FILE`: validated, all-or-nothing import
 * of customers, subscriptions, events, payments, feedback or exchange rates.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
	"usage: tenure import KIND FILE [--map TARGET=SOURCE]... [--skip-bad REJECTS]\n"
	"                    [--input csv|jsonl] [--delimiter C] [--max-errors N]\n"
	"                    [--reporting-currency CUR]\n\n"
	"Import a CSV (RFC 4180) or JSON Lines file into the store (--db, created if missing).\n"
	"KIND is customers, subscriptions, events, payments, feedback or rates; import customers first.\n"
	"KIND appstore, googleplay, stripe, revenuecat or googleplay-state: notification bodies, one\n"
	"per line, verified like the webhooks (docs/sources.md, \"Backfill\").\n"
	"rates: columns date, currency, rate = units of the reporting currency that 1 unit of\n"
	"currency buys from that date on (docs/metrics.md, \"Currency\").\n"
	"Columns are matched by header name (docs/import.md lists them and their aliases).\n"
	"Times: ISO-8601 with or without zone (stored as UTC), dates, or Unix seconds.\n\n"
	"The whole file is one transaction: if any row is bad, every bad row is reported as\n"
	"FILE:LINE:COLUMN: what was expected, what was found -- and nothing is written.\n"
	"Importing the same file again changes nothing; a record given twice in one file is an error.\n\n"
	"Options:\n"
	"  --map TARGET=SOURCE  take field TARGET from column SOURCE (repeatable)\n"
	"  --skip-bad REJECTS   import the good rows; write the bad ones, with the reason, to REJECTS\n"
	"  --input csv|jsonl    input format (default: from the extension; .jsonl/.ndjson = JSON Lines)\n"
	"  --delimiter C        CSV field delimiter (default ,); \\t for tab\n"
	"  --max-errors N       errors listed before summarising the rest (default 20)\n"
	"  --reporting-currency CUR  after a good import, make CUR the store's reporting currency\n"
	"                       (default: the first subscription's currency, else the first payment's, else USD)\n"
	"Prints one row: kind, file, rows, added, updated, unchanged, rejected, seconds, rows_per_s;\n"
	"with --quiet, nothing on success (errors, and how many rows --skip-bad left out, go to stderr).\n";

static void on_error(void *ud, const char *msg)
{
	(void)ud;
	fprintf(stderr, "%s\n", msg);
}

static void on_progress(void *ud, long long done, long long total)
{
	cli_progress(ud, "import", (double)done, (double)total);
}

/* cmd_sources.c: `tenure import appstore|googleplay|stripe|revenuecat|googleplay-state FILE` */
int cmd_import_source(cli_ctx *ctx, const char *kind, const char *file);

int cmd_import(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && (tn_source_kind_parse(argv[1]) || strcmp(argv[1], "googleplay-state") == 0)) {
		if (argc != 3 || cli_is_help(argv[2]))
			return cli_usage_error("import", "%s takes one FILE: one notification body per line (docs/sources.md)",
					       argv[1]);
		return cmd_import_source(ctx, argv[1], argv[2]);
	}
	const char *kind = NULL, *file = NULL, *v, *reporting = NULL;
	const char **map = calloc((size_t)argc, sizeof *map);
	tn_import_opts o = {.on_error = on_error, .on_progress = on_progress, .ud = ctx};
	int rc;
	if (!map)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (cli_is_help(argv[i])) {
			fputs(help, stdout);
			free(map);
			return 0;
		}
		if ((rc = cli_opt(argc, argv, &i, "--map", &v)) != 0) {
			if (rc < 0)
				goto usage;
			map[o.nmap++] = v;
		} else if ((rc = cli_opt(argc, argv, &i, "--skip-bad", &v)) != 0) {
			if (rc < 0)
				goto usage;
			o.rejects_path = v;
		} else if ((rc = cli_opt(argc, argv, &i, "--input", &v)) != 0) {
			if (rc < 0)
				goto usage;
			if (strcmp(v, "csv") == 0)
				o.format = TN_INPUT_CSV;
			else if (strcmp(v, "jsonl") == 0 || strcmp(v, "json") == 0)
				o.format = TN_INPUT_JSONL;
			else {
				cli_usage_error("import", "--input: expected csv or jsonl, found \"%s\"", v);
				goto usage;
			}
		} else if ((rc = cli_opt(argc, argv, &i, "--delimiter", &v)) != 0) {
			if (rc < 0)
				goto usage;
			o.delimiter = strcmp(v, "\\t") == 0 ? '\t' : v[0];
			if (strlen(v) != 1 && strcmp(v, "\\t") != 0) {
				cli_usage_error("import", "--delimiter: expected one character, found \"%s\"", v);
				goto usage;
			}
		} else if ((rc = cli_opt(argc, argv, &i, "--max-errors", &v)) != 0) {
			long n;
			if (rc < 0 || cli_parse_long("import", "--max-errors", v, &n) || n < 1)
				goto usage;
			o.max_errors = (size_t)n;
		} else if ((rc = cli_opt(argc, argv, &i, "--reporting-currency", &v)) != 0) {
			if (rc < 0)
				goto usage;
			if (!tn_currency_code_ok(v)) {
				cli_usage_error("import", "--reporting-currency: expected a three-letter ISO 4217 code "
							  "(USD, EUR, SAR), found \"%s\"", v);
				goto usage;
			}
			reporting = v;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			cli_usage_error("import", "unknown option \"%s\"", argv[i]);
			goto usage;
		} else if (!kind) {
			kind = argv[i];
		} else if (!file) {
			file = argv[i];
		} else {
			cli_usage_error("import", "unexpected argument \"%s\"", argv[i]);
			goto usage;
		}
	}
	o.map = map;
	if (!kind || !file) {
		cli_usage_error("import", "expected KIND and FILE");
		goto usage;
	}
	int k = tn_kind_parse(kind);
	if (k < 0) {
		cli_usage_error("import", "KIND: expected customers, subscriptions, events, payments, feedback or rates, "
					  "found \"%s\"", kind);
		goto usage;
	}
	o.kind = (tn_kind)k;

	tn_error err = {0};
	tn_store *s;
	if (tn_store_open(ctx->db_path, TN_STORE_CREATE, &s, &err)) {
		free(map);
		return cli_fail(&err);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tn_import_result res;
	rc = tn_import(s, file, &o, &res, &err);
	if (rc == TN_OK && reporting)
		rc = tn_store_set_reporting_currency(s, reporting, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cli_progress_done(ctx);
	tn_store_close(s);
	free(map);
	if (rc) {
		if (rc == TN_ERR_INPUT && res.rejected > 0)
			fprintf(stderr, "tenure: %s: %lld bad row%s; nothing was imported (use --skip-bad REJECTS.csv "
					"to import the good rows)\n",
				file, res.rejected, res.rejected == 1 ? "" : "s");
		else
			cli_fail(&err);
		return rc == TN_ERR_USAGE ? 2 : 1;
	}
	if (!ctx->quiet) { /* --quiet: nothing on stdout on success */
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		const char *cols[] = {"kind", "file", "rows", "added", "updated", "unchanged", "rejected", "seconds",
				      "rows_per_s"};
		tn_out *t = tn_out_new(9, cols);
		tn_out_str(t, tn_kind_name(o.kind));
		tn_out_str(t, file);
		tn_out_int(t, res.rows);
		tn_out_int(t, res.added);
		tn_out_int(t, res.updated);
		tn_out_int(t, res.unchanged);
		tn_out_int(t, res.rejected);
		tn_out_num(t, secs, 2);
		tn_out_num(t, secs > 0 ? res.rows / secs : 0, 0);
		tn_out_print(t, ctx->format, stdout);
		tn_out_free(t);
	}
	if (res.rejected) /* rows left out are said, even with --quiet */
		fprintf(stderr, "tenure: %lld bad row%s written to %s\n", res.rejected, res.rejected == 1 ? "" : "s",
			o.rejects_path);
	return 0;
usage:
	free(map);
	return 2;
}
