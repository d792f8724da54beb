/*
 * schema.h -- internal: the list of migrations (store_schema.c), one entry
 * per schema version, with the PostgreSQL text where it differs.
 */
#ifndef TENURE_SCHEMA_H
#define TENURE_SCHEMA_H

#include <stddef.h>

/* PRAGMA application_id of a SQLite store ("TENU"): a file whose tables were
 * written by another application is refused at open (store.c migrate); the
 * migration tests set it on the old stores they build */
#define TN_APPLICATION_ID 0x54454E55

typedef struct tn_migration {
	int version;    /* its position: entry i has version i + 1 (checked at open) */
	const char *sql; /* SQLite; also PostgreSQL's when pg is NULL (translated) */
	const char *pg;  /* PostgreSQL, where the DDL differs; NULL otherwise */
} tn_migration;

extern const tn_migration tn_store_migrations[];
extern const size_t tn_store_nmigrations;

#endif
