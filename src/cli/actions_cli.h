/*
 * actions_cli.h -- helpers shared by the action commands (offers, winback,
 * points, journey): opening the store, "now", scores, printing row sets.
 */
#ifndef TENURE_ACTIONS_CLI_H
#define TENURE_ACTIONS_CLI_H

#include "cli.h"

/* Open the store for CMD; prints the error and returns non-zero on failure. */
int act_open(cli_ctx *ctx, tn_store **s);
/* cli_parse of a command without positional words, then act_open: -1 to go
 * on with *S open, else the exit status to return (the usage is checked
 * before the store is opened). */
int act_parse_open(cli_ctx *ctx, const char *cmd, const char *help, const cli_option *opts, int argc, char **argv,
		   tn_store **s);
/* NOW from --now TEXT, or the latest instant in the data. Returns 0 or an exit status. */
int act_now(tn_store *s, const char *cmd, const char *text, tn_time *now);
/* Parse a time option; 0 ok, else prints a usage error and returns 2. */
int act_time(const char *cmd, const char *opt, const char *text, tn_time *out);
/* Scores from FILE (customer, p_churn, value), or from RISK (p_churn or
 * risk) joined with VALUE (value or clv), attached to the store; else the
 * built-in estimate as of NOW.  Says on stderr which is used (unless quiet).
 * NULL on failure (printed). */
tn_scores *act_scores(cli_ctx *ctx, tn_store *s, const char *file, const char *risk, const char *value,
		      tn_time now);
/* Print a row set in the context's format. */
void act_print_rowset(cli_ctx *ctx, const tn_rowset *r);
/* Format a date (YYYY-MM-DD) into buf, "" for TN_NO_TIME. */
const char *act_date(tn_time t, char *buf, size_t n);

#endif
