/*
 * cli.h -- what every `tenure` subcommand shares: the run context (database
 * path, output format), option parsing helpers, and table output.
 *
 * The CLI is a thin layer: a command parses its options, calls libtenure,
 * and prints the result with the tn_out_* table writer (table, csv or json).
 * Commands are listed once, in commands.def.
 */
#ifndef TENURE_CLI_H
#define TENURE_CLI_H

#include <stdio.h>
#include "tenure.h"

typedef enum { OUT_TABLE, OUT_CSV, OUT_JSON } out_format;

typedef struct cli_ctx {
	const char *db_path;   /* --db, $TENURE_DB, or "tenure.db" */
	int db_given;          /* 1 when --db was on the command line */
	out_format format;     /* --format table|csv|json (default table) */
	int quiet;             /* --quiet: no progress on stderr */
	const char *prog;      /* "tenure" */
} cli_ctx;

/* A command: returns the process exit status (0 ok, 1 failure, 2 usage). */
typedef int (*cli_fn)(cli_ctx *ctx, int argc, char **argv);

/* Every command's entry point, one per line of commands.def. */
#define CMD(name, fn, summary) int fn(cli_ctx *ctx, int argc, char **argv);
#include "commands.def"
#undef CMD

/* Print "tenure: MESSAGE" to stderr and return the exit status for CODE
 * (2 for usage errors, 1 otherwise). */
int cli_fail(const tn_error *err);
/* Print "tenure CMD: ..." usage error to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) TN_PRINTF(2, 3);

/* True when ARG is "--help" or "-h". */
int cli_is_help(const char *arg);

/* Option helpers for the simple "--name VALUE" / "--flag" style every command
 * uses.  cli_opt matches "--name VALUE" and "--name=VALUE"; on a match it
 * stores the value, advances *i past it and returns 1; returns -1 when the
 * value is missing (after printing a usage error). */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
/* Parse a whole argument as a number; prints a usage error naming OPT and
 * returns -1 if it is not one, or (cli_parse_range) not within LO..HI:
 * nothing is cut or wrapped (--months 4294967297 is an error, not 1). */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out);
int cli_parse_range(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double *out);
/* ---- options and subcommands from a table ------------------------------ */

/* The kind of value an option takes. */
typedef enum {
	CLI_FLAG,   /* no value: sets *(int *)dest to 1 */
	CLI_STR,    /* any text: *(const char **)dest points into argv */
	CLI_INT,    /* a whole number in [min, max]: *(long *)dest */
	CLI_DOUBLE, /* a finite number (C-locale syntax): *(double *)dest */
	CLI_TIME,   /* a date, date-time or Unix seconds: *(tn_time *)dest */
	CLI_AS_OF,  /* an as-of: a date means the end of that day (tn_as_of_parse): *(tn_time *)dest */
	CLI_LIST    /* "a,b,c", repeatable: the items are added to *(cli_list *)dest */
} cli_kind;

/* The items of a CLI_LIST option: NULL-terminated, the caller frees them with
 * cli_free_list(items) whatever cli_parse returns. */
typedef struct cli_list {
	char **items;
	size_t n;
} cli_list;

/* One option of a command: NAME is "--name"; it is given as "--name VALUE"
 * or "--name=VALUE" (a CLI_FLAG takes no value).  HELP names the value in
 * error messages ("months of history").  A table ends with {NULL}. */
typedef struct cli_option {
	const char *name;
	cli_kind kind;
	void *dest;
	long min, max; /* CLI_INT only: the accepted range */
	const char *help;
} cli_option;

/* Parse ARGV[1..ARGC) of command CMD ("churn rate") against OPTS.  Words that
 * do not start with '-' go to POS[0..NPOS) in order (*NGOT counts them when
 * NGOT is not NULL).  "--help" or "-h" prints HELP to stdout.  A value is
 * parsed strictly: the whole word, in range, or a usage error naming the
 * option.  Returns -1 to go on, or the exit status the command must return
 * (0 after the help, 2 after a usage error, which is printed). */
int cli_parse(const char *cmd, const char *help, const cli_option *opts, int argc, char **argv, const char **pos,
	      size_t npos, size_t *ngot);

/* A subcommand: FN gets argv with argv[0] = its name. */
typedef struct cli_sub {
	const char *name;
	cli_fn fn;
	const char *help; /* one line, listed after an unknown subcommand */
} cli_sub;

/* Run the subcommand of CMD named by ARGV[1] from SUBS (NSUBS entries).
 * No subcommand: HELP on stderr, 2.  "--help" or "-h" anywhere: HELP on
 * stdout, 0.  An unknown name is a usage error listing the known ones. */
int cli_dispatch(cli_ctx *ctx, const char *cmd, const char *help, const cli_sub *subs, size_t nsubs, int argc,
		 char **argv);

/* Split "a,b,c" into a NULL-terminated array of strings (caller frees with
 * cli_free_list).  Empty string gives an empty list. */
char **cli_split(const char *s, size_t *n);
void cli_free_list(char **list);

/* ---- table output ---------------------------------------------------- */

typedef struct tn_out tn_out;

/* A table with NCOLS named columns. */
tn_out *tn_out_new(size_t ncols, const char *const *names);
void tn_out_free(tn_out *t);
/* Append cells to the current row, left to right; the row ends by itself
 * after the last column.  NULL text is an empty cell (null in JSON). */
void tn_out_str(tn_out *t, const char *s);
void tn_out_int(tn_out *t, long long v);
/* A number printed with DIGITS decimals in tables and full precision (%.17g
 * trimmed) in csv/json; NaN prints as empty / null. */
void tn_out_num(tn_out *t, double v, int digits);
/* Print in FORMAT to FP: aligned columns (numbers right-aligned), RFC 4180
 * CSV with a header, or a JSON array of objects. */
void tn_out_print(const tn_out *t, out_format format, FILE *fp);
/* The table as a cJSON array of objects (what --format json prints), to
 * put inside a larger document; NULL when out of memory. */
struct cJSON *tn_out_json(const tn_out *t);
/* 1 when a table ran out of memory since the last call on this thread (the
 * command's output is incomplete: its status must be a failure), and
 * clears it.  Nothing in the commands exits the process. */
int cli_out_failed(void);

struct cJSON;
/* Print a cJSON value (as JSON, tenure/json.h) to stdout followed by a newline. */
void cli_print_json(const struct cJSON *v);

/* A result's warnings (warnings.c): shown first -- "warning: ..." lines
 * on stdout before a table, on stderr with --format csv, nothing in json
 * (the caller adds them with cli_warnings_json as the first key
 * "warnings": [...], empty when none).  cli_warnings_status is the exit
 * status: TN_EXIT_DEGENERATE (3) when a warning makes the numbers unusable
 * (not converged, unidentifiable, at a boundary), else 0. */
void cli_warnings_print(const cli_ctx *ctx, const tn_warnings *w);
void cli_warnings_json(struct cJSON *root, const tn_warnings *w);
int cli_warnings_status(const tn_warnings *w);

/* Before a command that reads the store (argv[0] = the command): when the
 * store does not exist or has no customers, print the one "no data yet"
 * message (nodata.c) and return CLI_NO_DATA (exit 0), or CLI_NO_DATA_GO_ON
 * when the command still has something to write (the report's page);
 * CLI_DATA otherwise. */
enum { CLI_DATA, CLI_NO_DATA, CLI_NO_DATA_GO_ON };
int cli_no_data(const cli_ctx *ctx, int argc, char **argv);

/* Seconds on a monotonic clock, for timings. */
double cli_now(void);

/* Progress on stderr, only when stderr is a terminal and not --quiet.
 * Call with done/total; prints at most a few times a second. */
void cli_progress(const cli_ctx *ctx, const char *what, double done, double total);
void cli_progress_done(const cli_ctx *ctx);

/* `tenure customers link` (cmd_customers.c), a subcommand of `customers` (cmd_outbox.c) */
int cmd_customers_link(cli_ctx *ctx, int argc, char **argv);

#endif
