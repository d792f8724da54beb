/*
 * churn_cli.h -- `tenure churn` subcommands that live in their own file.
 */
#ifndef TENURE_CHURN_CLI_H
#define TENURE_CHURN_CLI_H

#include "cli.h"

/* tenure churn recovery (cmd_recovery.c) */
int cmd_churn_recovery(cli_ctx *ctx, int argc, char **argv);

#endif
