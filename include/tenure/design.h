/*
 * tenure/design.h -- from a frame (frame.h) to the plain arrays the models
 * take: a numeric design matrix, and group labels as indices.
 *
 * Numeric columns are used as they are.  A text column becomes indicator
 * columns "COLUMN=LEVEL", one per level but the reference, which is the
 * first level in sorted (byte) order unless a reference "COLUMN=LEVEL" is
 * given.  A row with a blank in any used column (covariates and the
 * REQUIRED columns, e.g. time and event) is dropped; the count is reported.
 */
#ifndef TENURE_DESIGN_H
#define TENURE_DESIGN_H

#include <stddef.h>
#include "tenure/error.h"
#include "tenure/frame.h"

#define TN_DESIGN_MAX_LEVELS 1000 /* levels of one text column */

typedef struct tn_design {
	size_t n;        /* rows kept */
	size_t p;        /* columns of x */
	char **names;    /* p names: "age", "plan=annual" */
	double *x;       /* n x p, row-major */
	size_t *rows;    /* n indices of the kept rows in the frame */
	size_t dropped;  /* rows dropped for a blank */
	int *cols;       /* tn_design_new_cols without x: the frame's column of each of the p covariates */
} tn_design;

/* Build the design for columns COLS (NCOLS names) of F; REQUIRED (NREQ
 * names, may be NULL) are only checked for blanks.  REFS (NREFS strings
 * "COLUMN=LEVEL") choose reference levels.  Errors name the column (a
 * missing column, an unknown reference level, a text column with more than
 * TN_DESIGN_MAX_LEVELS levels).  Free with tn_design_free(). */
TN_API int tn_design_new(const tn_frame *f, const char *const *cols, size_t ncols,
			 const char *const *required, size_t nreq, const char *const *refs, size_t nrefs,
			 tn_design **out, tn_error *err);
/* The same design, but when every covariate is a distinct numeric column, x
 * is not built (NULL): covariate j of kept row i is the frame's column
 * COLS[j] at ROWS[i] (for tn_cox_fit_cols: no n x p copy).  Otherwise as
 * tn_design_new (x built, cols NULL). */
TN_API int tn_design_new_cols(const tn_frame *f, const char *const *cols, size_t ncols,
			      const char *const *required, size_t nreq, const char *const *refs, size_t nrefs,
			      tn_design **out, tn_error *err);
TN_API void tn_design_free(tn_design *d);

/* Column COL of F on the rows ROWS[0..n) as doubles (a numeric column);
 * *OUT is malloc'ed (caller frees). */
TN_API int tn_design_numeric(const tn_frame *f, const char *col, const size_t *rows, size_t n, double **out,
			     tn_error *err);

/* Group labels: column COL (text or numeric, numbers printed with %g) on the
 * rows ROWS[0..n) as indices 0..*nlevels-1 into *LABELS, sorted (numbers in
 * numeric order).  *IDX and *LABELS are freed with tn_design_groups_free(). */
TN_API int tn_design_groups(const tn_frame *f, const char *col, const size_t *rows, size_t n, int **idx,
			    char ***labels, int *nlevels, tn_error *err);
TN_API void tn_design_groups_free(int *idx, char **labels, int nlevels);

/* The reference level of design column J of D built from F: for a
 * "COLUMN=LEVEL" column, the level of COLUMN (on D's rows) that has no
 * design column of its own, written to BUF; "" for a numeric covariate.
 * Returns BUF. */
TN_API char *tn_design_reference(const tn_design *d, const tn_frame *f, size_t j, char *buf, size_t n);

#endif
