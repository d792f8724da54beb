/*
 * feedback_internal.h -- internal: helpers shared by the store-based
 * feedback reports (feedback_store.c, feedback_impact.c).
 */
#ifndef TENURE_FEEDBACK_INTERNAL_H
#define TENURE_FEEDBACK_INTERNAL_H

#include "store/db.h"
#include "tenure/feedback.h"

#define ROWS_MAX 1000000 /* report rows */

/* A customer row c churned: a subscription with status cancelled or expired. */
#define CHURNED_SQL \
	"EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id AND s.status IN ('cancelled','expired'))"

/* Feedback rows f holding free text: kinds exit and free, and custom kinds
 * with more than 20 distinct answers (fewer: fixed choices). */
#define TEXT_KINDS_SQL \
	"(f.kind IN ('exit','free') OR f.kind IN (SELECT kind FROM feedback WHERE kind NOT IN " \
	"('nps','csat','ces','exit','free') GROUP BY kind HAVING COUNT(DISTINCT answer) > 20))"

typedef struct rowvec {
	tn_fb_row *v;
	size_t n, cap;
} rowvec;

/* Append a zeroed row (capped at ROWS_MAX); NULL with err set. */
tn_fb_row *tn_fb_row_push(rowvec *r, tn_error *err);
/* Column I as text ("" for NULL). */
const char *tn_fb_col_text(tn_stmt *st, int i);

#endif
