/*
 * decide_cli.h -- the in-app decision subcommands of `tenure offers`
 * (cmd_decide.c), called from cmd_offers.c.
 */
#ifndef TENURE_DECIDE_CLI_H
#define TENURE_DECIDE_CLI_H

#include "cli.h"

int offers_catalogue(cli_ctx *ctx, int argc, char **argv);
int offers_scores(cli_ctx *ctx, int argc, char **argv);
int offers_holdout(cli_ctx *ctx, int argc, char **argv);
/* The decisions report (save rate against the holdout) on an open store. */
int offers_decisions_report(cli_ctx *ctx, tn_store *s);

#endif
