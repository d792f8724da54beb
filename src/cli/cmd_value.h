/*
 * cmd_value.h -- what the `tenure value` command files share.
 */
#ifndef TENURE_CMD_VALUE_H
#define TENURE_CMD_VALUE_H

#include <stdio.h>
#include "cli.h"

int value_summary(cli_ctx *ctx, int argc, char **argv);
int value_fit(cli_ctx *ctx, int argc, char **argv);
int value_score(cli_ctx *ctx, int argc, char **argv);
int value_atrisk(cli_ctx *ctx, int argc, char **argv);
int cmd_value_retention(cli_ctx *ctx, int argc, char **argv);
int cmd_value_profit(cli_ctx *ctx, int argc, char **argv);

/* Print a library error about the rows of SRC ("row N: ...") as
 * "SRC: data row N: ..."; other errors as cli_fail does.  Returns 1 or 2. */
int cmd_value_fail_data(const char *src, const tn_error *err);
/* Transactions from CSV (or whitespace) file, or from the store's purchase
 * events when CSV is NULL. */
int cmd_value_load_txns(cli_ctx *ctx, const char *csv, int ws, int nohdr, const char *cols, const char *cust,
			const char *date, const char *amount, tn_value_txns **out, tn_error *err);
/* The start of the UTC day of the last transaction. */
tn_time cmd_value_last_day(const tn_value_txns *t);
/* The named numeric columns of a summary CSV (all values present). */
tn_frame *cmd_value_read_summary(const char *csv, const char *const *cols, size_t ncols, tn_error *err);

#endif
