/*
 * report_internal.h -- helpers the report's table sections share
 * (report_actions.c, report_insights.c): formatted strings and tables.
 */
#ifndef TENURE_REPORT_INTERNAL_H
#define TENURE_REPORT_INTERNAL_H

#include "tenure/report.h"

/* A malloc'ed formatted string (cut at 512 bytes), or NULL when out of memory. */
char *tn_report_fmt(const char *f, ...) TN_PRINTF(1, 2);
/* Start table T titled TITLE with the columns of the NULL-terminated list
 * COLS and room for NROWS_MAX rows; -1 when out of memory. */
int tn_report_table_init(tn_report_table *t, const char *title, const char *const *cols, size_t nrows_max);

#endif
