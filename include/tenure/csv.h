/*
 * tenure/csv.h -- a streaming RFC 4180 CSV reader.
 *
 * Reads one record at a time with memory bounded by the longest record (capped
 * at TN_CSV_MAX_RECORD bytes): quoted fields, "" escapes, embedded commas and
 * newlines, LF or CRLF line ends, and a leading UTF-8 byte-order mark.  Fields
 * are returned unquoted and NUL-terminated; they stay valid until the next
 * tn_csv_next() call.  Positions are 1-based lines and columns, where the
 * column is the field number, so that errors read "FILE:LINE:COLUMN: ...".
 */
#ifndef TENURE_CSV_H
#define TENURE_CSV_H

#include <stdio.h>
#include "tenure/error.h"

#define TN_CSV_MAX_RECORD (16u << 20) /* one record may not exceed 16 MiB */
#define TN_CSV_MAX_FIELDS 4096

typedef struct tn_csv tn_csv;

/* Open PATH ("-" = standard input).  DELIM is usually ','.  Returns NULL and
 * sets err when the file cannot be opened.  Free with tn_csv_close(). */
TN_API tn_csv *tn_csv_open(const char *path, char delim, tn_error *err);

/* Read from a caller-owned buffer (used by tests and the fuzzer).  NAME is the
 * file name used in messages.  The buffer must outlive the reader. */
TN_API tn_csv *tn_csv_open_mem(const char *buf, size_t len, const char *name, char delim,
			       tn_error *err);

TN_API void tn_csv_close(tn_csv *r);

/* Read the next record.  Returns 1 when a record was read, 0 at end of file,
 * -1 on error (an unterminated quote, a stray quote, an over-long record, a
 * read error) with err set to "FILE:LINE:COLUMN: ...".  Blank lines are
 * skipped. */
TN_API int tn_csv_next(tn_csv *r, tn_error *err);

TN_API size_t tn_csv_nfields(const tn_csv *r);
/* Field I of the current record (NUL-terminated); its length in *len if len
 * is not NULL.  I must be < tn_csv_nfields(). */
TN_API const char *tn_csv_field(const tn_csv *r, size_t i, size_t *len);
/* The line on which the current record starts, and the line of field I
 * (different from the record's when a quoted field spans lines). */
TN_API long tn_csv_line(const tn_csv *r);
TN_API long tn_csv_field_line(const tn_csv *r, size_t i);
/* The file name given at open. */
TN_API const char *tn_csv_name(const tn_csv *r);
/* Write LEN bytes of S as one RFC 4180 field: as they are, or quoted with
 * "" escapes when they hold a comma, a quote or a line end.  The writer side
 * of every CSV Tenure prints (tables, rejects files, exports). */
TN_API void tn_csv_write_field(FILE *fp, const char *s, size_t len);
/* The same for a NUL-terminated S (NULL writes an empty field). */
TN_API void tn_csv_write(FILE *fp, const char *s);
/* A number field: the shortest digits that read back exactly (as JSON,
 * tenure/json.h); an empty field for NaN or an infinity. */
TN_API void tn_csv_write_num(FILE *fp, double v);

/* Bytes consumed so far (for progress). */
TN_API long long tn_csv_offset(const tn_csv *r);

#endif
