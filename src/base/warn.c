/*
 * warn.c -- a growing list of warning sentences (tenure/warn.h).
 */
#include "tenure/warn.h"
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tn_warn(tn_warnings *w, int severe, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (severe)
		w->severe = 1;
	char **grown = tn_realloc(w->msg, (w->n + 1) * sizeof *grown);
	if (!grown) {
		w->nomem = w->severe = 1;
		return TN_ERR_NOMEM;
	}
	w->msg = grown;
	size_t len = strlen(buf);
	char *s = tn_malloc(len + 1);
	if (!s) {
		w->nomem = w->severe = 1;
		return TN_ERR_NOMEM;
	}
	memcpy(s, buf, len + 1);
	w->msg[w->n++] = s;
	return TN_OK;
}

void tn_warnings_free(tn_warnings *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->msg[i]);
	free(w->msg);
	w->msg = NULL;
	w->n = 0;
	w->severe = w->nomem = 0;
}
