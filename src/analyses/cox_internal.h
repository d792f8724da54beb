/*
 * cox_internal.h -- internal: how many threads a Cox pass uses, for the test
 * that checks two threads give the same bits as one (tests/unit/test_cox.c).
 */
#ifndef TN_COX_INTERNAL_H
#define TN_COX_INTERNAL_H

/* 0: decide by size and cores (the default), 1 or 2: force.  Not thread-safe:
 * set it before fitting. */
void tn_cox_set_threads(int n);

#endif
