/* cmd_feedback_store.c -- stub */
#include "feedback_cli.h"
int fbcli_scores(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_impact(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_matrix(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_effort(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_fixed(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_follow_up(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return 2; }
int fbcli_classify_store(cli_ctx *ctx, tn_fb_model *m, int relabel) { (void)ctx; (void)m; (void)relabel; return 2; }
