/*
 * cox_internal.h -- internal: how many threads a Cox pass uses, for the test
 * that checks two threads give the same bits as one (tests/unit/test_cox.c).
 */
#ifndef TN_COX_INTERNAL_H
#define TN_COX_INTERNAL_H

#include <stddef.h>

#include "tenure/error.h"

/* 0: decide by size and cores (the default), 1 or 2: force.  Not thread-safe:
 * set it before fitting. */
void tn_cox_set_threads(int n);

/* Harrell's C by the binary indexed tree walked in time order: the
 * reference tn_cox_concordance (merge-sort counting) is tested against. */
int tn_cox_concordance_tree(const double *time, const double *event, const double *lp, const int *strata,
			    size_t n, double *concordance, double counts[4], tn_error *err);

#endif
