/*
 * store_schema.c -- the store's schema, one migration per version.
 *
 * PRAGMA user_version holds the schema version and PRAGMA application_id marks
 * the file as Tenure's.  Migration N takes a version N-1 file to version N; a
 * newer binary runs the missing ones in one transaction, an older binary
 * refuses a newer file (store.c).  Never edit a released migration: add one.
 */
#include <stddef.h>

const char *const tn_store_migrations[] = {
	/* 1: the initial data model (docs/data-model.md) */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE customers("
	"  id INTEGER PRIMARY KEY,"
	"  ext_id TEXT NOT NULL UNIQUE,"
	"  signed_up_at INTEGER,"
	"  country TEXT,"
	"  channel TEXT,"
	"  attrs TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attrs) AND json_type(attrs) = 'object'));"
	"CREATE TABLE subscriptions("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  ext_id TEXT,"
	"  plan TEXT NOT NULL,"
	"  billing_period TEXT NOT NULL CHECK (billing_period IN ('day','week','month','quarter','year')),"
	"  price REAL NOT NULL CHECK (price >= 0),"
	"  currency TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  trial_ends_at INTEGER,"
	"  current_period_end INTEGER,"
	"  cancelled_at INTEGER,"
	"  cancel_reason TEXT,"
	"  status TEXT NOT NULL CHECK (status IN ('trialing','active','past_due','cancelled','expired')),"
	"  UNIQUE (customer_id, started_at, plan));"
	"CREATE UNIQUE INDEX subscriptions_ext_id ON subscriptions(ext_id) WHERE ext_id IS NOT NULL;"
	"CREATE TABLE event_types(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE events("
	"  customer_id INTEGER NOT NULL,"
	"  occurred_at INTEGER NOT NULL,"
	"  type_id INTEGER NOT NULL,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  amount REAL,"
	"  PRIMARY KEY (customer_id, occurred_at, type_id, ext_id)) WITHOUT ROWID;"
	"CREATE TABLE payments("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  paid_at INTEGER NOT NULL,"
	"  amount REAL NOT NULL,"
	"  currency TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('succeeded','failed','refunded')),"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (customer_id, paid_at, status, ext_id));"
	"CREATE TABLE feedback("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  given_at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  score REAL,"
	"  answer TEXT,"
	"  language TEXT,"
	"  ext_id TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (customer_id, given_at, kind, ext_id));",
	/* 2: feedback: labels of free-text answers (type, theme), and the team's
	 * effort estimate and "fixed" mark per theme (docs/feedback.md) */
	"CREATE TABLE feedback_labels("
	"  feedback_id INTEGER PRIMARY KEY REFERENCES feedback(id),"
	"  type TEXT NOT NULL,"
	"  theme TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  confidence REAL NOT NULL,"
	"  by_rule INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX feedback_labels_theme ON feedback_labels(theme);"
	"CREATE TABLE feedback_themes("
	"  theme TEXT PRIMARY KEY,"
	"  effort TEXT CHECK (effort IN ('low','high')),"
	"  fixed_at INTEGER);",
	/* 3: named churn definitions (docs/churn.md); rule is the JSON form of tn_churn_def */
	"CREATE TABLE churn_definitions("
	"  name TEXT PRIMARY KEY,"
	"  rule TEXT NOT NULL CHECK (json_valid(rule) AND json_type(rule) = 'object'));",
};

const size_t tn_store_nmigrations = sizeof tn_store_migrations / sizeof tn_store_migrations[0];
