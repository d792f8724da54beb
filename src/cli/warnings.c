/*
 * warnings.c -- how a command shows a result's warnings (tenure/warn.h):
 * first, before the table, as "warning: ..." lines on stdout; on stderr
 * with --format csv (the CSV stays one table); and as the top-level
 * "warnings": [...] array of a JSON document (empty when there are none).
 */
#include "cli.h"

#include <cjson/cJSON.h>

void cli_warnings_print(const cli_ctx *ctx, const tn_warnings *w)
{
	if (ctx->format == OUT_JSON)
		return;
	FILE *fp = ctx->format == OUT_TABLE ? stdout : stderr;
	for (size_t i = 0; i < w->n; i++)
		fprintf(fp, "%swarning: %s\n", ctx->format == OUT_TABLE ? "" : "tenure: ", w->msg[i]);
	if (w->nomem)
		fprintf(fp, "%swarning: out of memory while recording warnings\n",
			ctx->format == OUT_TABLE ? "" : "tenure: ");
	if (ctx->format == OUT_TABLE && (w->n || w->nomem))
		fputc('\n', fp);
}

void cli_warnings_json(struct cJSON *root, const tn_warnings *w)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < w->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(w->msg[i]));
	if (a && w->nomem)
		cJSON_AddItemToArray(a, cJSON_CreateString("out of memory while recording warnings"));
	if (!a)
		return;
	/* named "warnings" and put first among the keys, where a reader looks */
	cJSON *tmp = cJSON_CreateObject();
	if (!tmp || !cJSON_AddItemToObject(tmp, "warnings", a)) {
		cJSON_Delete(tmp);
		cJSON_Delete(a);
		return;
	}
	cJSON_DetachItemViaPointer(tmp, a);
	cJSON_Delete(tmp);
	if (!cJSON_InsertItemInArray(root, 0, a))
		cJSON_Delete(a);
}

int cli_warnings_status(const tn_warnings *w)
{
	return w->severe ? TN_EXIT_DEGENERATE : 0;
}
