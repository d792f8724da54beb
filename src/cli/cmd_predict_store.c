/*
 * cmd_predict_store.c -- `tenure predict features|backtest`: risk models fed
 * from the store (--db).  Not built yet: say so clearly.
 */
#include "cli.h"

int cmd_predict_features(cli_ctx *ctx, int argc, char **argv);
int cmd_predict_backtest(cli_ctx *ctx, int argc, char **argv);

int cmd_predict_features(cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	tn_error err = {0};
	tn_error_set(&err, TN_ERR_USAGE, "predict features: not available yet");
	return cli_fail(&err);
}

int cmd_predict_backtest(cli_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	tn_error err = {0};
	tn_error_set(&err, TN_ERR_USAGE, "predict backtest: not available yet");
	return cli_fail(&err);
}
