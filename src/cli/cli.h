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
/* Parse a whole argument as a number; prints a usage error and returns -1 if not. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double *out);
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

/* Print a cJSON value (as JSON) to stdout followed by a newline. */
struct cJSON;
void cli_print_json(const struct cJSON *v);

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

#endif
