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

#endif
