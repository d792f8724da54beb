/*
 * feedback_cli.h -- internal to the CLI: the pieces `tenure feedback`'s
 * subcommands share (cmd_feedback.c: text subcommands and dispatch;
 * cmd_feedback_store.c: store reports).
 */
#ifndef TENURE_FEEDBACK_CLI_H
#define TENURE_FEEDBACK_CLI_H

#include "cli.h"

/* The model for a command: --model FILE when given, else the default model
 * trained from data/feedback/train.csv; then --rules FILE when given.
 * Returns NULL after printing the error. */
tn_fb_model *fbcli_model(const char *model_path, const char *rules_path, int *status);

int fbcli_scores(cli_ctx *ctx, int argc, char **argv);
int fbcli_impact(cli_ctx *ctx, int argc, char **argv);
int fbcli_matrix(cli_ctx *ctx, int argc, char **argv);
int fbcli_effort(cli_ctx *ctx, int argc, char **argv);
int fbcli_fixed(cli_ctx *ctx, int argc, char **argv);
int fbcli_follow_up(cli_ctx *ctx, int argc, char **argv);
int fbcli_classify_store(cli_ctx *ctx, tn_fb_model *m, int relabel, int export);

#endif
