/*
 * actions_internal.h -- internal helpers shared by the action modules
 * (offers.c, winback.c, points.c, journey.c, actions_common.c).
 */
#ifndef TENURE_ACTIONS_INTERNAL_H
#define TENURE_ACTIONS_INTERNAL_H

#include "store/db.h"
#include "store/store_sqlite.h"
#include "tenure.h"

/* Run a prepared, bound statement to completion and collect its rows.
 * DIGITS[c] >= 0 marks column c numeric with that many decimals shown;
 * -1 text.  Finalizes ST.  At most TN_ROWSET_MAX rows. */
#define TN_ROWSET_MAX 20000000
int tn_rowset_from_db(tn_store *s, tn_stmt *st, const int *digits, tn_rowset **out, tn_error *err);
/* The same for a statement still prepared with SQLite's own API (SQLite only). */
int tn_rowset_from_stmt(tn_store *s, sqlite3_stmt *st, const int *digits, tn_rowset **out, tn_error *err);

/* Put SC's (attached) P(churn) into TEMP table tn_risk(customer_id, p_churn, value). */
int tn_scores_to_temp(tn_store *s, const tn_scores *sc, tn_error *err);

#endif
