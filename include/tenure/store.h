/*
 * tenure/store.h -- the embedded store: one SQLite file per business.
 *
 * Tables (docs/data-model.md has every column):
 *   customers      id (internal integer key), ext_id (the business's own id),
 *                  signed_up_at, country, channel, attrs (JSON object)
 *   subscriptions  customer_id, ext_id, plan, billing_period (day, week, month,
 *                  quarter, year), price, currency, started_at, trial_ends_at,
 *                  current_period_end, cancelled_at, cancel_reason, status
 *                  (trialing, active, past_due, cancelled, expired)
 *   event_types    id, name (session, purchase, feature_use, support_ticket, ...)
 *   events         customer_id, occurred_at, type_id, ext_id, amount -- the large
 *                  table: WITHOUT ROWID, clustered on (customer_id, occurred_at,
 *                  type_id, ext_id), so a customer's history is one range scan
 *                  in time order and a re-imported event is a no-op
 *   payments       customer_id, paid_at, amount, currency, status (succeeded,
 *                  failed, refunded), ext_id
 *   feedback       customer_id, given_at, kind (nps, csat, ces, exit, free or a
 *                  custom question id), score, answer, language, ext_id
 * All instants are INTEGER Unix seconds, UTC.  Writers are idempotent: putting
 * the same record twice changes nothing (customers and subscriptions are
 * updated in place by their keys; events, payments and feedback are ignored
 * when already present).
 *
 * Opening a file written by an older Tenure upgrades it in one transaction;
 * opening one written by a newer Tenure fails with TN_ERR_VERSION.
 */
#ifndef TENURE_STORE_H
#define TENURE_STORE_H

#include <stdint.h>
#include "tenure/error.h"
#include "tenure/time.h"

typedef struct tn_store tn_store;

enum {
	TN_STORE_CREATE = 1,   /* create the file if it does not exist */
	TN_STORE_READONLY = 2, /* open for reading only (no upgrade) */
	/* a connection kept open while a server appends to the events journal:
	 * it reads events through the journal (a view) instead of folding the
	 * journal once at open (docs/data-model.md, "The events journal") */
	TN_STORE_LIVE = 4,
};

/* Open (and create or upgrade) the store at PATH.  Returns TN_OK and *out, or
 * an error: TN_ERR_IO/TN_ERR_DB when the file cannot be opened or is not a
 * Tenure store, TN_ERR_VERSION when it was written by a newer Tenure. */
TN_API int tn_store_open(const char *path, int flags, tn_store **out, tn_error *err);
/* Close; an open write transaction is rolled back. */
TN_API void tn_store_close(tn_store *s);
TN_API const char *tn_store_path(const tn_store *s);
/* The schema version found in the file when it was opened (before any upgrade),
 * and the version this library writes. */
TN_API int tn_store_opened_version(const tn_store *s);
TN_API int tn_store_schema_latest(void);

/* Transactions: everything written between begin and commit lands together
 * or not at all (also when the process is killed). */
TN_API int tn_store_begin(tn_store *s, tn_error *err);
TN_API int tn_store_commit(tn_store *s, tn_error *err);
TN_API void tn_store_rollback(tn_store *s);

/* ---- writing (used by import and the demo generator) ------------------- */

#define TN_NO_TIME INT64_MIN /* an absent instant */

typedef struct tn_customer_rec {
	const char *id;         /* required: the business's id */
	tn_time signed_up_at;   /* TN_NO_TIME if unknown */
	const char *country;    /* NULL if unknown */
	const char *channel;    /* acquisition channel; NULL if unknown */
	const char *attrs_json; /* a JSON object text, or NULL for {} */
} tn_customer_rec;

typedef struct tn_subscription_rec {
	const char *id;         /* the business's subscription id, or NULL */
	const char *customer;   /* required: customer ext id */
	const char *plan;       /* required */
	const char *billing_period; /* day|week|month|quarter|year */
	double price;           /* per billing period, >= 0 */
	const char *currency;   /* ISO 4217, e.g. "USD" */
	tn_time started_at;     /* required */
	tn_time trial_ends_at;  /* TN_NO_TIME if no trial */
	tn_time current_period_end; /* TN_NO_TIME if unknown */
	tn_time cancelled_at;   /* TN_NO_TIME if not cancelled */
	const char *cancel_reason; /* NULL if none */
	const char *status;     /* trialing|active|past_due|cancelled|expired */
} tn_subscription_rec;

typedef struct tn_event_rec {
	const char *customer;   /* required: customer ext id */
	tn_time at;             /* required */
	const char *type;       /* required: session, purchase, ... */
	double amount;          /* NAN when absent */
	const char *id;         /* the business's event id, or NULL */
} tn_event_rec;

typedef struct tn_payment_rec {
	const char *customer;
	tn_time at;
	double amount;
	const char *currency;
	const char *status;     /* succeeded|failed|refunded */
	const char *id;         /* or NULL */
} tn_payment_rec;

typedef struct tn_feedback_rec {
	const char *customer;
	tn_time at;
	const char *kind;       /* nps|csat|ces|exit|free|<custom question id> */
	double score;           /* NAN when absent */
	const char *answer;     /* free text or a fixed choice; NULL if none */
	const char *language;   /* en|ar|fa|...; NULL if unknown */
	const char *id;         /* or NULL */
} tn_feedback_rec;

/* What a put did to the store. */
enum { TN_PUT_UNCHANGED = 0, TN_PUT_ADDED = 1, TN_PUT_UPDATED = 2 };

/* Each put returns TN_OK, TN_ERR_NOTFOUND when the customer is unknown (the
 * message names it), TN_ERR_INPUT for a value the schema refuses, or
 * TN_ERR_DB.  *outcome (if not NULL) is TN_PUT_ADDED for a new record,
 * TN_PUT_UPDATED when a record with the same key (docs/import.md,
 * "Idempotence") was there with other values, TN_PUT_UNCHANGED when it was
 * there as given.  Events are buffered and written in key order; they are
 * flushed by tn_store_flush() and tn_store_commit(). */
TN_API int tn_store_put_customer(tn_store *s, const tn_customer_rec *r, int *outcome, tn_error *err);
TN_API int tn_store_put_subscription(tn_store *s, const tn_subscription_rec *r, int *outcome, tn_error *err);
TN_API int tn_store_put_event(tn_store *s, const tn_event_rec *r, tn_error *err);
TN_API int tn_store_put_payment(tn_store *s, const tn_payment_rec *r, int *outcome, tn_error *err);
TN_API int tn_store_put_feedback(tn_store *s, const tn_feedback_rec *r, int *outcome, tn_error *err);

/* A subscription's exact state as its source reports it (migration 8;
 * docs/sources.md).  STATE is one of trial, active, cancelling (auto-renew
 * off, still paid), grace, billing_retry, paused, expired, refunded; CAUSE
 * (for expired and refunded) one of voluntary, billing, price_increase,
 * refund, revoked, product_unavailable, other, or NULL.  SOURCE is import,
 * appstore, googleplay, stripe or revenuecat. */
typedef struct tn_subscription_state {
	const char *subscription; /* the business's subscription id (subscriptions.ext_id) */
	const char *source;
	const char *state;
	const char *cause;        /* NULL while not ended */
	int auto_renew;           /* 1, 0, or -1 when unknown */
	tn_time expires_at;       /* TN_NO_TIME if unknown */
	tn_time auto_renew_off_at; /* TN_NO_TIME while on */
	tn_time updated_at;       /* required: when the source said so */
} tn_subscription_state;

/* Record the state of an existing subscription (TN_ERR_NOTFOUND when no
 * subscription has that id; TN_ERR_INPUT for a value outside the lists
 * above).  *outcome as for the puts. */
TN_API int tn_store_put_subscription_state(tn_store *s, const tn_subscription_state *r, int *outcome,
					   tn_error *err);
/* ---- money: one reporting currency (docs/metrics.md, "Currency") ---------
 * Amounts are summed in the store's reporting currency: the setting, else the
 * currency of the first subscription imported, else of the first payment,
 * else USD.  An amount in another currency is multiplied by that currency's
 * rate in force at its date (subscriptions: started_at; payments: paid_at):
 * the latest rate on or before it.  RATE is how many units of the reporting
 * currency one unit of CUR buys.  An amount with no such rate makes the
 * analysis fail with an error naming the currency and the date. */
TN_API int tn_currency_code_ok(const char *cur); /* three capital letters */
TN_API int tn_store_reporting_currency(tn_store *s, char out[4], tn_error *err);
TN_API int tn_store_set_reporting_currency(tn_store *s, const char *cur, tn_error *err);
/* *outcome as for the puts (the key is CUR and VALID_FROM). */
TN_API int tn_store_put_rate(tn_store *s, const char *cur, tn_time valid_from, double rate, int *outcome,
			     tn_error *err);

/* Write buffered events; *added (if not NULL) receives how many were new. */
TN_API int tn_store_flush(tn_store *s, long long *added, tn_error *err);
/* Events of many requests written together (the server's group commit):
 * each event carries its request's TAG; while ADDED is set (NULL stops it),
 * every flush adds each newly stored event to ADDED[tag] (N entries). */
TN_API int tn_store_put_event_tag(tn_store *s, const tn_event_rec *r, uint32_t tag, tn_error *err);
/* The same with the customer's key CUSTOMER known already (from
 * tn_store_customer_key in this transaction): r->customer is not looked up. */
TN_API int tn_store_put_event_tag_key(tn_store *s, int64_t customer, const tn_event_rec *r, uint32_t tag,
				      tn_error *err);
TN_API void tn_store_count_by_tag(tn_store *s, long long *added, size_t n);
/* A bulk load of events in one transaction (tenure import).  On PostgreSQL,
 * when the events table is empty at the transaction's first flush, its key
 * is dropped, the rows are COPYed bare and the key is built once by sorting
 * before the commit (duplicates dropped, the first kept, as on SQLite): about
 * twice less server work than keeping the index up to date row by row.  The
 * table is locked against other writers and readers meanwhile.  No effect on
 * SQLite. */
TN_API void tn_store_bulk(tn_store *s, int on);
/* The bulk load's input is about BYTES long (0: unknown).  On SQLite the
 * page cache is raised to about that size (the events table takes ~0.7 of
 * its CSV), at most 1 GiB, until tn_store_bulk(s, 0): every flush of sorted
 * rows touches every leaf of the events table, and a table larger than the
 * cache is written out and read back at each flush (5M events: 2.6 CPU-s per
 * 1M rows against 1.65 at 1M).  The cache grows only as pages are used. */
TN_API void tn_store_bulk_size(tn_store *s, long long bytes);

/* Internal key of customer EXT_ID, or TN_ERR_NOTFOUND. */
TN_API int tn_store_customer_key(tn_store *s, const char *ext_id, int64_t *key, tn_error *err);
/* Event-type key of NAME, created when new. */
TN_API int tn_store_event_type(tn_store *s, const char *name, int64_t *key, tn_error *err);
/* Buffer an event by internal keys (the demo generator's fast path). */
TN_API int tn_store_put_event_keys(tn_store *s, int64_t customer, tn_time at, int64_t type, double amount,
				   tn_error *err);

/* Months in a billing period ("month" 1, "year" 12, "quarter" 3, "week"
 * 12/52, "day" 12/365); 0 for an unknown period.  Used for MRR. */
TN_API double tn_period_months(const char *period);

/* ---- reading --------------------------------------------------------- */

typedef struct tn_store_counts {
	long long customers, subscriptions, events, payments, feedback;
	tn_time first, last; /* earliest and latest instant in the data */
} tn_store_counts;

TN_API int tn_store_counts_get(tn_store *s, tn_store_counts *out, tn_error *err);
/* tn_store_counts's LAST alone: indexed maxima, without counting the rows
 * (counting the events reads the whole table). */
TN_API int tn_store_data_last(tn_store *s, tn_time *last, tn_error *err);

/* Run SQL (no result rows) -- for migrations, tests and the CLI's maintenance. */
TN_API int tn_store_exec(tn_store *s, const char *sql, tn_error *err);

/* ---- the server's operations (tenure serve) ----------------------------- */

/* Put the file in WAL mode with synchronous=FULL (every commit is durable when
 * it returns; readers on other connections never wait for the writer). */
TN_API int tn_store_wal(tn_store *s, tn_error *err);
/* Make this connection a reader: it refuses writes. */
TN_API int tn_store_reader(tn_store *s, tn_error *err);
/* tn_store_reader for a connection that only makes one pass over whole
 * tables (the server's value refit): a 1 MiB page cache instead of 8 MiB,
 * since a page read once gains nothing from staying cached. */
TN_API int tn_store_reader_scan(tn_store *s, tn_error *err);
/* A hint for a connection that scans whole tables again and again (the
 * dashboard's warming threads): read the file through a memory map (up to
 * SQLite's limit, 2 GB on Debian) instead of a read() per page.  Nothing on
 * PostgreSQL; a failure changes only the speed. */
TN_API void tn_store_scan_mmap(tn_store *s);

/* The events journal (docs/data-model.md, "The events journal"; SQLite
 * only -- on PostgreSQL events are written straight to the table and these
 * do nothing).  tn_store_journal(s, 1): the events this connection writes
 * are appended to events_journal (skipping any already in events or the
 * journal) instead of being inserted into the clustered events table, and
 * its reads of events see the journal too (as with TN_STORE_LIVE).
 * tn_store_fold moves every journaled event into events in one sorted pass
 * and one transaction (outside any open one), setting *moved (may be NULL);
 * tn_store_journal_rows is the number this connection has journaled since
 * its last fold. */
TN_API int tn_store_journal(tn_store *s, int on, tn_error *err);
/* The highest id the journal has given, as one SQL value (NULL when it never
 * held a row): its two tables' largest, or the mark the last fold that
 * emptied a table left in meta.  New rows' ids go on from it, so it rises
 * with every event journaled and a fold -- the same events, moved -- leaves
 * it as it was: the dashboard's data version reads it (web_store.c), so a
 * fold recomputes nothing.  Portable SQL (the version is read on PostgreSQL
 * too, where the journal stays empty). */
#define TN_STORE_JOURNAL_HIGH_KEY "events_journal_high"
#define TN_STORE_JOURNAL_HIGH_SQL                                                                                  \
	"SELECT max(hi) FROM (SELECT max(id) AS hi FROM events_journal UNION ALL SELECT max(id) FROM "            \
	"events_journal_b UNION ALL SELECT CAST(value AS BIGINT) FROM meta WHERE key = '" TN_STORE_JOURNAL_HIGH_KEY \
	"') j"

TN_API int tn_store_fold(tn_store *s, long long *moved, tn_error *err);
TN_API long long tn_store_journal_rows(const tn_store *s);
/* One step of a fold in short transactions, so a writer can run its own
 * transactions between steps: customers range by range (about CHUNK rows
 * each), then the moved rows deleted CHUNK ids at a time.  Readers see
 * every event exactly once between steps (the moved rows are left out of
 * the events view until deleted; meta keys events_fold_upto/_through), and
 * a crash between steps is finished by the next full fold.  A journal of
 * fewer than CHUNK rows is folded at once.  *done is 1 when the journal as
 * it was at the first step is folded; *moved (may be NULL) the rows this
 * step moved.  Outside any transaction. */
TN_API int tn_store_fold_step(tn_store *s, long long chunk, int *done, long long *moved, tn_error *err);
/* FN(UD, 0) right after this connection's tn_store_begin has taken the
 * write lock (BEGIN IMMEDIATE on SQLite), FN(UD, 1) right after its COMMIT:
 * between the two no other connection can commit (the server's read cache
 * tells its writer's commits from others' this way).  FN NULL: none. */
TN_API void tn_store_txn_hook(tn_store *s, void (*fn)(void *ud, int phase), void *ud);
/* The journaling writer's remembered journal keys (memory use). */
TN_API size_t tn_store_journal_keys(const tn_store *s);
/* The journaling writer's filter of every key in events and the journal
 * (store.c, "events keys"): the keys it holds, or -1 when it is not in use
 * (not loaded yet, dropped after another connection wrote, or the store past
 * its bound); *LOADS (may be NULL) the scans that loaded it so far. */
TN_API long long tn_store_events_filter(const tn_store *s, long long *loads);
/* Its bound in keys (0: the default, 32,000,000; a Bloom filter of 12 bits
 * a key, sized for twice the keys it is loaded with: 1.5-6 MB a million
 * keys); past it the writer probes events' index for every event, as
 * without it.  Takes effect at the next load or flush. */
TN_API void tn_store_events_filter_max(tn_store *s, size_t n);
/* The journaling writer loads that filter in steps between its groups (no
 * transaction open): _due says whether a step is wanted (a load to begin or
 * under way), _step reads about ROWS of events' rows, *MORE 1 while the
 * load goes on.  Until it is loaded the writer probes as without it. */
TN_API int tn_store_events_filter_due(const tn_store *s);
TN_API int tn_store_events_filter_step(tn_store *s, long long rows, int *more, tn_error *err);
/* Inside a transaction: mark a savepoint; release it (writing buffered
 * events); or undo everything since it (and drop buffered events).  One
 * level only: the server wraps each request of a group commit in one. */
TN_API int tn_store_savepoint(tn_store *s, tn_error *err);
TN_API int tn_store_release(tn_store *s, tn_error *err);
TN_API void tn_store_rollback_savepoint(tn_store *s);

/* API keys.  The store keeps a key's SHA-256 hash, never the key. */
typedef struct tn_api_key {
	int64_t id;
	char name[64];      /* "" when none was given */
	char scope[8];      /* ingest|read|admin */
	char prefix[16];    /* the key's first characters, to recognise it */
	unsigned char hash[32];
	tn_time created_at;
	tn_time revoked_at; /* TN_NO_TIME while valid */
} tn_api_key;

/* Add a key; *id receives its number.  TN_ERR_INPUT for an unknown scope. */
TN_API int tn_store_key_add(tn_store *s, const tn_api_key *k, int64_t *id, tn_error *err);
/* Every key, revoked ones too, by id; the caller frees *keys. */
TN_API int tn_store_keys_list(tn_store *s, tn_api_key **keys, size_t *n, tn_error *err);
/* Revoke key ID at NOW; TN_ERR_NOTFOUND when there is no such valid key. */
TN_API int tn_store_key_revoke(tn_store *s, int64_t id, tn_time now, tn_error *err);

/* One customer as a JSON object text (docs/api.md, GET /v1/customers/{id}):
 * attributes, subscriptions with status, days as a customer and MRR at NOW,
 * latest risk, points balance and tier, milestones reached, open alerts.
 * TN_ERR_NOTFOUND when EXT_ID is not a customer.  The caller frees *json. */
TN_API int tn_store_customer_json(tn_store *s, const char *ext_id, tn_time now, char **json, tn_error *err);
/* The same with "value" given by the caller as a JSON object text (the
 * server's value model, which the store does not keep), or NULL for null. */
TN_API int tn_store_customer_json_value(tn_store *s, const char *ext_id, tn_time now, const char *value_json,
					char **json, tn_error *err);
/* The same, and *until: the first instant after NOW at which the answer
 * would differ with the store unchanged ("days_as_customer" steps), or
 * INT64_MAX when it never would.  For the server's read cache. */
TN_API int tn_store_customer_json_until(tn_store *s, const char *ext_id, tn_time now, const char *value_json,
					char **json, tn_time *until, tn_error *err);
/* The record in parts, for the server's read cache (src/server/readcache.c),
 * which keeps it and brings it up to date when events arrive or the value
 * model changes, without reading the store again: TMPL is the JSON with
 * marks (TN_PART_MARK and a letter) where the value, last_event_at and each
 * milestone's reached_at go; LAST is the customer's last event time and
 * MILE_AT[i] the first time of an event of type MILE_TYPE[i] (NULL: no
 * type), TN_NO_TIME for none.  tn_customer_parts_render makes the answer
 * (the bytes tn_store_customer_json_until gives); NULL when out of memory. */
#define TN_PART_MARK '\x01'
#define TN_PART_MILES 26
typedef struct tn_customer_parts {
	char *tmpl;
	tn_time last;
	size_t nmiles;
	char **mile_type;
	tn_time *mile_at;
} tn_customer_parts;
TN_API int tn_store_customer_parts(tn_store *s, const char *ext_id, tn_time now, tn_customer_parts *p,
				   tn_time *until, tn_error *err);
/* Where SPANS (NULL, or room for 2 + nmiles) says each mark's text went in
 * the answer, in the template's order: the answer with each span put back
 * as its mark is the template again (what the read cache keeps). */
typedef struct tn_part_span {
	char mark;
	uint32_t off, len;
} tn_part_span;
TN_API char *tn_customer_parts_render(const tn_customer_parts *p, const char *value_json, size_t *len,
				      tn_part_span *spans);
TN_API void tn_customer_parts_free(tn_customer_parts *p);
/* SQLite's PRAGMA data_version on this connection: a value that changes
 * when another connection (of this process or another) commits a change.
 * TN_ERR_USAGE on PostgreSQL. */
TN_API int tn_store_data_version(tn_store *s, int64_t *version, tn_error *err);
/* The same question for a whole process, without a connection or a lock
 * (store_change.c): a read-only map of the WAL index's header, which every
 * commit rewrites.  Open after the store is in WAL mode and some connection
 * has read it; TN_ERR_IO when there is no WAL index (not WAL, PostgreSQL). */
typedef struct tn_store_watch tn_store_watch;
typedef struct tn_store_mark {
	unsigned char b[48];
} tn_store_mark;
TN_API int tn_store_watch_open(const char *db_path, tn_store_watch **w, tn_error *err);
/* 1 and *MARK (equal marks: no commit in between); 0 when a commit is under
 * way (take that as a change). */
TN_API int tn_store_watch_read(tn_store_watch *w, tn_store_mark *mark);
TN_API void tn_store_watch_close(tn_store_watch *w);

#endif
