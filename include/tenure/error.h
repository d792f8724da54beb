/*
 * tenure/error.h -- how libtenure reports failure.
 *
 * Every fallible function returns an int status (TN_OK on success) and, when
 * given a tn_error, fills it with a human-readable message.  The message is
 * the first cause: functions never overwrite an error already set deeper down
 * (tn_error_set is a no-op once code != TN_OK), so the caller prints exactly
 * what went wrong first, e.g. "events.csv:1042:2: occurred_at: expected ...".
 *
 * The contract, kept by every libtenure function that takes `tn_error *err`:
 *  1. ERR may be NULL.  The function then fails in the same cases, with a
 *     status != TN_OK (the callee's own status wherever it is passed on;
 *     tn_error_code's fallback where only a NULL pointer told of the
 *     failure); only the message is dropped.
 *  2. The returned status is the truth; ERR only carries the message.  A
 *     function that fails returns a code != TN_OK (or NULL for a function
 *     that returns a pointer) and sets ERR when it is not NULL.
 *  3. Library code never reads `err->code` or `err->msg` of an ERR that may
 *     be NULL: it passes on the status its callee returned.  Where a callee
 *     reports failure only by a NULL pointer, it asks tn_error_code(err,
 *     fallback), which is safe on NULL and never turns a failure into TN_OK;
 *     a function that reads ERR back often starts with TN_ERROR_ENSURE(err).
 *  4. The first cause wins: tn_error_set does nothing once an error is set,
 *     so clear ERR (tn_error_clear) before reusing it for an unrelated call.
 * The CLI and tests, which own their tn_error, read its fields directly.
 */
#ifndef TENURE_ERROR_H
#define TENURE_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define TN_API __attribute__((visibility("default")))
#define TN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TN_API
#define TN_PRINTF(a, b)
#endif

enum {
	TN_OK = 0,
	TN_ERR_USAGE,   /* bad arguments or options */
	TN_ERR_INPUT,   /* bad input data (a row, a value, a file format) */
	TN_ERR_IO,      /* cannot open/read/write a file */
	TN_ERR_DB,      /* SQLite or PostgreSQL failure */
	TN_ERR_VERSION, /* database written by a newer Tenure */
	TN_ERR_NOMEM,   /* allocation failed or a size cap was exceeded */
	TN_ERR_NUMERIC, /* a model cannot be fitted / identified / did not converge */
	TN_ERR_NOTFOUND /* a named thing (customer, definition, model) is missing */
};

#define TN_ERROR_MSG_MAX 1024

typedef struct tn_error {
	int code;                   /* TN_OK when no error is set */
	char msg[TN_ERROR_MSG_MAX]; /* the first cause, one line, no trailing newline */
} tn_error;

/* Clear an error to TN_OK.  Safe on NULL. */
TN_API void tn_error_clear(tn_error *err);

/* Set an error unless one is already set; returns code so callers can write
 * `return tn_error_set(err, TN_ERR_INPUT, "...")`.  Safe on NULL err. */
TN_API int tn_error_set(tn_error *err, int code, const char *fmt, ...) TN_PRINTF(3, 4);

/* The status held by ERR, or FALLBACK when ERR is NULL or holds no error --
 * for a caller whose callee failed (returned NULL) and that must pass the
 * failure on: the result is never TN_OK. */
TN_API int tn_error_code(const tn_error *err, int fallback);

/* For a function that reads back the code its callees set in ERR (rule 3's
 * exception): when the caller passed NULL, ERR points at a local tn_error for
 * the rest of the function.  Write it first in the body. */
#define TN_ERROR_ENSURE(err)                  \
	tn_error err##_local_ = {TN_OK, {0}}; \
	if (!(err))                           \
	(err) = &err##_local_

/* A short name for a status code ("input error", "database error", ...). */
TN_API const char *tn_status_name(int code);

#endif
