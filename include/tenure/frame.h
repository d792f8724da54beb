/*
 * tenure/frame.h -- a flat table read from a CSV file, column by column.
 *
 * This is how the analyses take "any flat file" (tenure survival --csv,
 * tenure drivers --csv, tenure value fit --csv, tenure predict cv --csv ...).
 * A cell is missing when it is blank or R's NA (the text NA, surrounding
 * spaces allowed).  A column is numeric when every non-missing cell parses as
 * a finite number; missing cells are NaN there.  Otherwise it is a text
 * column ("" for missing cells).
 * The whole file is held in memory: 8 bytes per numeric cell.
 */
#ifndef TENURE_FRAME_H
#define TENURE_FRAME_H

#include <stddef.h>
#include "tenure/error.h"

typedef struct tn_column {
	char *name;
	int is_numeric;  /* 1: num[] is valid; 0: text[] is valid */
	double *num;     /* nrows values, NaN for blank */
	char **text;     /* nrows NUL-terminated strings ("" for blank) */
	size_t nblank;   /* number of blank cells */
	int pooled;      /* text[] cells live in the frame's pool (may share one copy): never freed one by one */
} tn_column;

typedef struct tn_frame {
	char *path;
	size_t nrows, ncols;
	tn_column *cols;
	void *pool;      /* the pooled columns' strings (tn_frame_pool_strdup), freed with the frame */
} tn_frame;

/* Read PATH.  When WANT is not NULL, only those NWANT columns are kept (in
 * the order given), and a missing one is an error naming the columns that
 * exist.  Rows with the wrong number of fields are errors
 * ("FILE:LINE: expected N fields, found M").  Free with tn_frame_free(). */
TN_API tn_frame *tn_frame_read_csv(const char *path, const char *const *want, size_t nwant,
				   tn_error *err);

TN_API void tn_frame_free(tn_frame *f);

/* A copy of S (N bytes, then a NUL) in F's pool: no allocation of its own,
 * freed with the frame.  For the cells of pooled columns (a frame built in
 * memory, e.g. tn_churn_frame: a million customers' plan, country, ...). */
TN_API char *tn_frame_pool_strdup(tn_frame *f, const char *s, size_t n);

/* Index of column NAME, or -1. */
TN_API int tn_frame_find(const tn_frame *f, const char *name);

/* Index of column NAME that must exist (and be numeric when NEED_NUMERIC);
 * -1 with err set ("FILE: no column \"x\"; columns are: a, b, c") otherwise. */
TN_API int tn_frame_require(const tn_frame *f, const char *name, int need_numeric, tn_error *err);

/* Parse a number the way the frame does: the whole of S (surrounding spaces
 * allowed), finite, with a '.' decimal point whatever the C locale is.
 * Returns 0 on success. */
TN_API int tn_parse_double(const char *s, size_t len, double *out);

/* Write X as the shortest %.Ng (N <= 17) that reads back as exactly X, so
 * that distinct numbers never print alike (1234567 and 1234568, not both
 * 1.23457e+06).  BUF should hold 32 bytes. */
TN_API char *tn_format_double(double x, char *buf, size_t n);

#endif
