/*
 * tenure/warn.h -- the warnings a result carries.
 *
 * A fit can be computed and still be no good: the optimiser did not
 * converge, a parameter ran off to a boundary (a Cox coefficient to
 * infinity, an sBG alpha to 1e10), the data are too few to identify the
 * model, a test statistic is undefined.  The library never prints: it
 * returns these as a list of sentences that the caller shows (the CLI
 * prints them before a table, and as "warnings": [...] in JSON).  A
 * warning marked SEVERE means the numbers of the result must not be used
 * (the CLI then exits with status 3, TN_EXIT_DEGENERATE).
 */
#ifndef TENURE_WARN_H
#define TENURE_WARN_H

#include <stddef.h>
#include "tenure/error.h"

/* Process exit status of a command whose result is printed but degenerate
 * (not converged, unidentifiable, at a boundary). */
#define TN_EXIT_DEGENERATE 3

typedef struct tn_warnings {
	size_t n;
	char **msg;   /* n sentences */
	int severe;   /* 1 when any warning makes the result unusable */
	int nomem;    /* 1 when a warning could not be stored */
} tn_warnings;

/* Append a sentence (printf style).  SEVERE marks the result unusable.
 * Returns TN_OK or TN_ERR_NOMEM (then w->nomem is set and the warning is
 * counted as severe, so that it is never lost silently). */
TN_API int tn_warn(tn_warnings *w, int severe, const char *fmt, ...) TN_PRINTF(3, 4);
TN_API void tn_warnings_free(tn_warnings *w);

#endif
