/*
 * error.c -- the tn_error value every libtenure function reports through.
 * See include/tenure/error.h for the contract (first cause wins).
 */
#include "tenure/error.h"

#include <stdarg.h>
#include <stdio.h>

void tn_error_clear(tn_error *err)
{
	if (err) {
		err->code = TN_OK;
		err->msg[0] = '\0';
	}
}

int tn_error_set(tn_error *err, int code, const char *fmt, ...)
{
	if (!err || err->code != TN_OK)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

int tn_error_code(const tn_error *err, int fallback)
{
	if (err && err->code != TN_OK)
		return err->code;
	return fallback != TN_OK ? fallback : TN_ERR_DB;
}

const char *tn_status_name(int code)
{
	switch (code) {
	case TN_OK: return "ok";
	case TN_ERR_USAGE: return "usage error";
	case TN_ERR_INPUT: return "input error";
	case TN_ERR_IO: return "I/O error";
	case TN_ERR_DB: return "database error";
	case TN_ERR_VERSION: return "version error";
	case TN_ERR_NOMEM: return "out of memory";
	case TN_ERR_NUMERIC: return "numerical error";
	case TN_ERR_NOTFOUND: return "not found";
	default: return "error";
	}
}
