/*
 * tenure/import.h -- validated, all-or-nothing import into the store.
 *
 * tn_import reads a CSV (RFC 4180) or JSON Lines file of one KIND of record,
 * matches columns by header name (renamed with a column map), validates every
 * row, and writes them in one transaction: with any bad row nothing is written
 * (unless a rejects file is given, which takes the bad rows with the reason
 * and lets the good ones in).  Re-importing the same file changes nothing.
 * Errors read "FILE:LINE:COLUMN: FIELD: expected ..., found ...".
 * docs/import.md lists every kind's columns.
 */
#ifndef TENURE_IMPORT_H
#define TENURE_IMPORT_H

#include <stdio.h>
#include "tenure/error.h"
#include "tenure/store.h"

typedef enum {
	TN_KIND_CUSTOMERS,
	TN_KIND_SUBSCRIPTIONS,
	TN_KIND_EVENTS,
	TN_KIND_PAYMENTS,
	TN_KIND_FEEDBACK,
	TN_KIND_RATES, /* exchange rates into the reporting currency: date, currency, rate */
	TN_KIND_COUNT
} tn_kind;

/* "customers" -> TN_KIND_CUSTOMERS, ...; -1 when unknown. */
TN_API int tn_kind_parse(const char *name);
TN_API const char *tn_kind_name(tn_kind kind);

typedef enum { TN_INPUT_AUTO, TN_INPUT_CSV, TN_INPUT_JSONL } tn_input_format;

typedef struct tn_import_opts {
	tn_kind kind;
	tn_input_format format;  /* AUTO: .jsonl/.ndjson/.json -> JSON Lines, else CSV */
	const char *const *map;  /* "target=source" pairs renaming columns, or NULL */
	size_t nmap;
	const char *rejects_path; /* non-NULL: write bad rows here and import the rest */
	size_t max_errors;        /* errors listed before giving up listing (0: 20) */
	char delimiter;           /* CSV delimiter (0: ',') */
	/* Called with each error message (one line, no newline) as found. */
	void (*on_error)(void *ud, const char *msg);
	/* Called now and then with bytes read and the file size (0 if unknown). */
	void (*on_progress)(void *ud, long long done, long long total);
	void *ud;
} tn_import_opts;

typedef struct tn_import_result {
	long long rows;     /* data rows read */
	long long added;    /* rows new to the store */
	long long updated;  /* rows whose record was in the store with other values (now replaced) */
	long long unchanged;/* rows already in the store as given */
	long long rejected; /* bad rows (written to the rejects file, or causing the rollback) */
	int committed;      /* 1 when the transaction was committed */
} tn_import_result;

/* Import PATH into S.  Returns TN_OK when committed; TN_ERR_INPUT when a row
 * was bad and nothing was written (err holds the first error; on_error saw
 * them all), or another error. */
TN_API int tn_import(tn_store *s, const char *path, const tn_import_opts *opts, tn_import_result *res,
		     tn_error *err);

/* ---- one row at a time (the server's ingestion, tenure serve) ------------ */

struct cJSON;
typedef struct tn_import_rows tn_import_rows;

/* Check and write records of KIND given one at a time as JSON objects (keys
 * as in JSON Lines), inside the caller's transaction: the same checks and
 * messages as tn_import, without FILE:LINE:COLUMN.  Free with
 * tn_import_rows_free. */
TN_API int tn_import_rows_new(tn_store *s, tn_kind kind, tn_import_rows **out, tn_error *err);
/* Check and write OBJ.  TN_OK when written; TN_ERR_INPUT when the row is bad:
 * err holds the reason ("occurred_at: expected ..., found ...") and *field
 * (if FIELD is not NULL) the field it names, or NULL.  After a bad row later
 * rows are still checked but no longer written.  Another code: the store failed. */
TN_API int tn_import_row_json(tn_import_rows *r, const struct cJSON *obj, const char **field, tn_error *err);
/* Write buffered rows and give the counts.  TN_ERR_INPUT when a row was bad. */
TN_API int tn_import_rows_finish(tn_import_rows *r, tn_import_result *res, tn_error *err);
/* Rows new or changed so far (events: counted at finish). */
TN_API long long tn_import_rows_added(const tn_import_rows *r);
TN_API void tn_import_rows_free(tn_import_rows *r);

#endif
