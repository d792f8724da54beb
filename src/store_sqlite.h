/*
 * store_sqlite.h -- internal: the SQLite handle behind a tn_store, for the
 * library's loaders (churn, survival on the store, value, risk...) that read
 * with SQL.  Not part of the public API.
 */
#ifndef TENURE_STORE_SQLITE_H
#define TENURE_STORE_SQLITE_H

#include <sqlite3.h>
#include "tenure/store.h"

sqlite3 *tn_store_sqlite(tn_store *s);

/* Prepare SQL, setting err ("database error: ...") on failure. */
sqlite3_stmt *tn_store_prepare(tn_store *s, const char *sql, tn_error *err);

/* A statement prepared once per connection and kept (SQL must be a string
 * constant: it is looked up by address).  The caller resets it after use and
 * never finalizes it; tn_store_close does. */
sqlite3_stmt *tn_store_cached(tn_store *s, const char *sql, tn_error *err);

/* Set err from the handle's current message; returns TN_ERR_DB. */
int tn_store_db_error(tn_store *s, const char *what, tn_error *err);

/* Read / write a text value in the meta table (key-value settings that belong
 * with the data: churn definitions, thresholds...).  get returns NULL when
 * absent; the caller frees the result. */
char *tn_store_meta_get(tn_store *s, const char *key);
int tn_store_meta_set(tn_store *s, const char *key, const char *value, tn_error *err);

#endif
