/*
 * store.c -- the SQLite store: open/upgrade, transactions, idempotent writers
 * and the event write buffer (see include/tenure/store.h).
 *
 * Events are the bulk of the data.  They are buffered (TN_EVENT_BUFFER rows),
 * sorted by the table's clustered key and written with one prepared
 * INSERT OR IGNORE, so that B-tree pages are filled in order and a re-imported
 * event costs one key comparison.  The customer id -> key map is held in
 * memory (proportional to customers, never to events).
 */
#include "base/hashmap.h"
#include "store/db.h"
#include "store/db_pg.h"
#include "store/cluster.h"
#include "store/schema.h"
#include "store/store_sqlite.h"
#include "base/alloc.h"
#include "base/radix.h"
#include "tenure.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TN_EVENT_BUFFER (1u << 18)
#define TN_STMT_CACHE 24


typedef struct ev_row {
	int64_t cid, at, tid;
	double amount;
	const char *eid; /* points into the buffer's string pool, or "" */
	uint32_t tag;    /* tn_store_put_event_tag: the request it came with */
	uint32_t elen;   /* strlen(eid) */
} ev_row;

/* A key map's value for a key whose row a savepoint rollback took back. */
#define KEY_GONE INT64_MIN

/* The journaling writer's filter of events' keys ("events keys" below): a
 * blocked Bloom filter, 12 bits a key, the 7 bits of a key in one 512-bit
 * block (one cache line a look-up). */
typedef struct ebloom {
	uint64_t *w;
	size_t nblocks; /* a power of two */
	size_t n, cap;  /* keys added (that set a bit), keys it was sized for */
} ebloom;

enum { EKEYS_UNLOADED, EKEYS_LOADING, EKEYS_ON, EKEYS_STALE, EKEYS_OFF };

static void ebloom_free(ebloom *b)
{
	if (b)
		free(b->w);
	free(b);
}

struct tn_store {
	sqlite3 *db;
	tn_pg *pg;  /* a PostgreSQL store instead (db NULL) */
	int cluster; /* shards behind this PostgreSQL coordinator (store/cluster.h), 0 on one node */
	int cust_batch; /* tn_store_put_customers: 0 not known yet, 1 set-based, 2 set-based with the old
			 * INSERT trigger writing customer_keys, 3 set-based on one PostgreSQL server,
			 * -1 row by row */
	char *path; /* the file, or the URL without its password */
	int opened_version;
	int in_txn;
	/* prepared statements, made on first use */
	tn_stmt *ins_customer, *ins_subscription, *ins_event, *ins_payment, *ins_feedback;
	sqlite3_stmt *ins_event_lite; /* the events' INSERT on SQLite (PostgreSQL: COPY) */
	sqlite3_stmt *ins_event_bare; /* the same without the journal checks (see flush_events) */
	sqlite3_stmt *journal_any;    /* is either journal table non-empty? */
	/* the journaling writer's multi-row INSERTs into events_journal, by
	 * size (JOURNAL_SIZES), and its probe of the journal for one key */
	sqlite3_stmt *ins_journal[2][4], *find_journal[2];
	int journal;                  /* events go to the journal */
	int jtab;                     /* ... to this one of its two tables (JTAB) */
	long long journal_rows;       /* journaled since the last fold */
	/* the journaling writer's filter of the keys of the events it
	 * journaled (see "journal keys" below): JKEYS since the current fold
	 * began, JKEYS_OLD those of the journal being folded */
	tn_u64set *jkeys, *jkeys_old;
	size_t jkeys_hint;      /* keys the last filter held: the size of the next */
	/* JKEYS and JKEYS_OLD hold every key of the journal (a superset).
	 * Not kept while the events keys' filter is true, which holds them
	 * too: they are loaded again from the journal when it is not (see
	 * "events keys") */
	int jkeys_ok;
	uint32_t *jrows;        /* flush_journal's scratch: the rows to write */
	size_t jrows_cap;
	/* a chunked fold under way (tn_store_fold_step): 0 none, 1 moving
	 * the customers of table FOLD_TAB in chunks (the writer appends to the
	 * other one meanwhile) */
	int fold_phase, fold_tab;
	int64_t fold_through;
	/* the folded table's customers (FOLD_CUSTOMERS) and the width of a
	 * step's range of them, for about a step's rows (tn_store_fold_step) */
	int64_t fold_cmin, fold_cmax, fold_span;
	long long fold_start_rows; /* journal_rows when it began */
	void (*txn_hook)(void *ud, int phase); /* tn_store_txn_hook */
	void *txn_hook_ud;
	tn_stmt *find_subscription, *upd_subscription, *find_payment, *upd_payment, *find_feedback,
		*upd_feedback;
	/* customer ext_id -> key */
	tn_strmap *cmap;
	int cmap_loaded;
	/* event-type name -> key */
	tn_strmap *types;
	int types_loaded;
	/* event buffer */
	ev_row *ev;
	size_t nev;
	char *pool;
	size_t pool_len, pool_cap;
	int64_t ev_min, ev_max;
	long long ev_added; /* events new since the last tn_store_flush() report */
	int64_t sp_min, sp_max; /* ev_min, ev_max when the savepoint was taken */
	/* the key maps' sizes when the savepoint was taken (SIZE_MAX: not
	 * loaded then): a rollback to it marks the keys added since KEY_GONE
	 * rather than dropping the maps (a reload reads every customer) */
	size_t sp_ncust, sp_ntypes;
	long long *tag_added;   /* tn_store_count_by_tag */
	size_t ntags;
	/* sort_events' scratch, kept between flushes (fresh pages each time
	 * were a tenth of the server's ingest CPU: page faults) */
	void *sort_a, *sort_b, *sort_out;
	size_t sort_cap;
	int bulk; /* tn_store_bulk: 1 allowed, 2 the events key is dropped in this transaction, 3 not this time */
	/* a postgres_fdw coordinator's bulk events import: our own connections
	 * to the shards ("events on a cluster" below) */
	tn_pg **shard;       /* [remainder], nshard of them, opened on first use */
	int nshard;
	int shard_txn;       /* the shards' transactions are open (begun by the first flush) */
	int shard_off;       /* the shards could not be reached from here: postgres_fdw's way */
	unsigned char *shard_stream; /* [k]: the shard's events key is dropped, rows stream in */
	long long *shard_rows;       /* [k]: rows streamed (the key build's memory) */
	unsigned char *route;        /* [i]: the shard of buffered event i */
	size_t route_cap;
	long long bulk_rows; /* rows copied while the key was dropped (the key build's memory) */
	int bulk_cache;      /* tn_store_bulk_size raised the page cache */
	/* statements kept prepared by tn_store_cached, keyed by the SQL's address */
	struct { const char *sql; sqlite3_stmt *st; } stc[TN_STMT_CACHE];
	size_t nstc;
	void *db_cache; /* db.c's cached statements */
	/* the journaling writer's filter of every key in events and the
	 * journal (see "events keys" below) */
	struct ebloom *ekeys;
	int ekeys_state;        /* EKEYS_* */
	int64_t ekeys_dv;       /* PRAGMA data_version when it was last true */
	double ekeys_retry;     /* a reload after a change by another connection: not before (monotonic s) */
	double ekeys_load_secs; /* the last load's time (its steps') */
	int64_t ekeys_through;  /* a load under way: events' customers read up to this one */
	long long ekeys_loads;  /* loads so far (tn_store_events_filter) */
	sqlite3_stmt *data_version;
	sqlite3_stmt *ins_journal_new[2][4]; /* ins_journal without the events probe */
	size_t ekeys_max;       /* tn_store_events_filter_max; 0: EKEYS_MAX */
	size_t ekeys_last_n;    /* the keys the last filter held */
};

int tn_store_schema_latest(void) { return (int)tn_store_nmigrations; }
sqlite3 *tn_store_sqlite(tn_store *s) { return s->db; }
tn_pg *tn_store_pg(tn_store *s) { return s->pg; }
int tn_store_cluster(const tn_store *s) { return s->cluster; }
void **tn_store_db_cache_slot(tn_store *s) { return &s->db_cache; }
const char *tn_store_path(const tn_store *s) { return s->path; }
int tn_store_opened_version(const tn_store *s) { return s->opened_version; }

/* A write refused because the file (or its folder, for the journal) is
 * read-only, in words that name the cause; 0 when the error is another. */
static int readonly_error(tn_store *s, tn_error *err)
{
	if (!s->db || (sqlite3_errcode(s->db) & 0xff) != SQLITE_READONLY)
		return 0;
	tn_error_set(err, TN_ERR_IO,
		     "%s: the store is read-only: no permission to write it (or to create its journal in its "
		     "folder); check the permissions, or copy it somewhere writable",
		     s->path);
	return 1;
}

int tn_store_db_error(tn_store *s, const char *what, tn_error *err)
{
	if (readonly_error(s, err))
		return TN_ERR_IO;
	if (!s->db)
		return tn_error_set(err, TN_ERR_DB, "%s: %s: failed", s->path, what);
	return tn_error_set(err, TN_ERR_DB, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int tn_store_step_end(tn_store *s, int step, const char *what, tn_error *err)
{
	return step == SQLITE_DONE ? TN_OK : tn_store_db_error(s, what, err);
}

int tn_store_step_row(tn_store *s, sqlite3_stmt *st, const char *what, tn_error *err)
{
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		return TN_OK;
	if (step == SQLITE_DONE)
		return tn_error_set(err, TN_ERR_DB, "%s: %s: the query returned no row", s->path, what);
	return tn_store_db_error(s, what, err);
}

/* Code still written against SQLite's own API, on a PostgreSQL store. */
static void not_on_pg(tn_store *s, tn_error *err)
{
	tn_error_set(err, TN_ERR_DB,
		     "%s: not yet on PostgreSQL: this command still reads the store through SQLite "
		     "(use an SQLite store for it; docs/scaling.md lists what runs on PostgreSQL)",
		     s->path);
}

sqlite3_stmt *tn_store_prepare(tn_store *s, const char *sql, tn_error *err)
{
	if (s->pg) {
		not_on_pg(s, err);
		return NULL;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		tn_store_db_error(s, "preparing a query", err);
		return NULL;
	}
	return st;
}

sqlite3_stmt *tn_store_cached(tn_store *s, const char *sql, tn_error *err)
{
	if (s->pg) {
		not_on_pg(s, err);
		return NULL;
	}
	for (size_t i = 0; i < s->nstc; i++)
		if (s->stc[i].sql == sql)
			return s->stc[i].st;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		tn_store_db_error(s, "preparing a query", err);
		return NULL;
	}
	if (s->nstc == TN_STMT_CACHE) {
		sqlite3_finalize(st);
		tn_error_set(err, TN_ERR_DB, "%s: more than %d cached statements", s->path, TN_STMT_CACHE);
		return NULL;
	}
	s->stc[s->nstc].sql = sql;
	s->stc[s->nstc++].st = st;
	return st;
}

int tn_store_exec(tn_store *s, const char *sql, tn_error *err)
{
	if (s->pg) {
		/* the message names the statement: "running SAVEPOINT" */
		char what[48];
		size_t n = strcspn(sql, " ;(");
		snprintf(what, sizeof what, "running %.*s", (int)(n < 32 ? n : 32), sql);
		return tn_pg_exec(s->pg, sql, what, err);
	}
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		tn_error_set(err, TN_ERR_DB, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int migrate(tn_store *s, tn_error *err)
{
	int version = 0, app = 0, ntables = 0;
	if (pragma_int(s->db, "PRAGMA user_version", &version) ||
	    pragma_int(s->db, "PRAGMA application_id", &app) ||
	    pragma_int(s->db, "SELECT count(*) FROM sqlite_schema", &ntables))
		return tn_error_set(err, TN_ERR_DB, "%s: not a Tenure store (cannot read it as SQLite: %s)", s->path,
				    sqlite3_errmsg(s->db));
	if (ntables > 0 && app != TN_APPLICATION_ID)
		return tn_error_set(err, TN_ERR_DB,
				    "%s: not a Tenure store (an SQLite file of another application); "
				    "give another --db file",
				    s->path);
	s->opened_version = version;
	int latest = tn_store_schema_latest();
	if (version > latest)
		return tn_error_set(err, TN_ERR_VERSION,
				    "%s: written by a newer Tenure (schema version %d; this tenure %s knows up to %d): "
				    "upgrade tenure to open it",
				    s->path, version, tn_version(), latest);
	if (version == latest)
		return TN_OK;
	if (sqlite3_db_readonly(s->db, "main") == 1)
		return tn_error_set(err, TN_ERR_VERSION,
				    "%s: schema version %d needs an upgrade to %d; open it for writing once", s->path,
				    version, latest);
	if (tn_store_exec(s, "BEGIN IMMEDIATE", err))
		return tn_error_code(err, TN_ERR_DB);
	for (int v = version; v < latest; v++)
		if (tn_store_exec(s, tn_store_migrations[v].sql, err))
			goto fail;
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", latest,
		 TN_APPLICATION_ID);
	if (tn_store_exec(s, sql, err) || tn_store_exec(s, "COMMIT", err))
		goto fail;
	return TN_OK;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return tn_error_code(err, TN_ERR_DB);
}

/* One integer from a query on a PostgreSQL store; -1 when it has no row. */
static int pg_int(tn_store *s, const char *sql, long long *out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the schema version", err);
	*out = rc == TN_DB_ROW ? tn_db_column_int64(st, 0) : -1;
	tn_db_finalize(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

/* The migrations on PostgreSQL: the version in the table tenure_schema,
 * under an advisory lock so that two processes opening a new database do
 * not both create it. */
static int migrate_pg(tn_store *s, int flags, tn_error *err)
{
	long long version = 0, has = 0;
	int latest = tn_store_schema_latest();
	if (pg_int(s, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
		      "AND tablename = 'tenure_schema'", &has, err))
		return tn_error_code(err, TN_ERR_DB);
	if (has && pg_int(s, "SELECT version FROM tenure_schema", &version, err))
		return tn_error_code(err, TN_ERR_DB);
	if (version < 0)
		version = 0;
	if (version > latest)
		return tn_error_set(err, TN_ERR_VERSION,
				    "%s: written by a newer Tenure (schema version %lld; this tenure %s knows up to %d): "
				    "upgrade tenure to open it",
				    s->path, version, tn_version(), latest);
	s->opened_version = (int)version;
	if (version == latest)
		return TN_OK;
	if (flags & TN_STORE_READONLY)
		return tn_error_set(err, TN_ERR_VERSION,
				    "%s: schema version %lld needs an upgrade to %d; open it for writing once", s->path,
				    version, latest);
	if (tn_store_exec(s, "BEGIN; SELECT pg_advisory_xact_lock(1413828181)", err))
		return tn_error_code(err, TN_ERR_DB);
	/* another process may have migrated while this one waited */
	if (pg_int(s, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
		      "AND tablename = 'tenure_schema'", &has, err) ||
	    (has && pg_int(s, "SELECT version FROM tenure_schema", &version, err)))
		goto fail;
	if (!has && (tn_store_exec(s, "CREATE TABLE tenure_schema(version INTEGER NOT NULL)", err) ||
		     tn_store_exec(s, "INSERT INTO tenure_schema VALUES (0)", err) ||
		     tn_store_exec(s, tn_pg_prelude, err)))
		goto fail;
	if (!has)
		version = 0;
	for (int v = (int)version; v < latest; v++) {
		const tn_migration *m = &tn_store_migrations[v];
		char *ddl = tn_pg_ddl(m->pg ? m->pg : m->sql);
		if (!ddl) {
			tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			goto fail;
		}
		int rc = tn_store_exec(s, ddl, err);
		free(ddl);
		if (rc)
			goto fail;
	}
	char sql[64];
	snprintf(sql, sizeof sql, "UPDATE tenure_schema SET version = %d", latest);
	if (tn_store_exec(s, sql, err) || tn_store_exec(s, "COMMIT", err))
		goto fail;
	return TN_OK;
fail:
	tn_pg_exec(s->pg, "ROLLBACK", "rolling back", NULL);
	return tn_error_code(err, TN_ERR_DB);
}

static int open_pg(const char *url, int flags, tn_store **out, tn_error *err)
{
	tn_store *s = tn_calloc(1, sizeof *s);
	if (!s || !(s->path = tn_pg_redact(url))) {
		free(s);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	int rc = tn_pg_open(url, s->path, &s->pg, err);
	if (!rc)
		rc = migrate_pg(s, flags, err);
	if (!rc)
		rc = tn_cluster_detect(s, &s->cluster, err);
	if (!rc && (flags & TN_STORE_READONLY))
		rc = tn_store_exec(s, "SET default_transaction_read_only = on", err);
	if (rc) {
		tn_store_close(s);
		return rc;
	}
	s->ev_min = INT64_MAX;
	s->ev_max = INT64_MIN;
	*out = s;
	return TN_OK;
}

/* ---- the events journal ------------------------------------------------------
 * (docs/data-model.md, "The events journal").  On SQLite the server appends
 * acknowledged events to events_journal and folds them into events later.  A
 * connection sees every acknowledged event either way:
 *   - a live connection (TN_STORE_LIVE, or the journaling writer itself) has a
 *     TEMP VIEW named events -- SQLite resolves an unqualified name in temp
 *     first -- over main.events UNION ALL main.events_journal, so every query
 *     that names events reads both (the store's own writes name main.events);
 *   - any other connection folds the journal at open when it holds rows (a
 *     command sees what was acknowledged before it started, with events'
 *     clustered order intact for its full scans), or, opened read-only, takes
 *     the view.
 * A crash between a commit and its fold leaves rows in the journal: the next
 * open folds them (the server's writer opens without TN_STORE_LIVE). */

/* The journal is two tables, events_journal and events_journal_b (JTAB):
 * the journaling writer appends to one (s->jtab).  A chunked fold
 * (tn_store_fold_step) turns the writer to the other table, then moves the
 * first one's rows into events customer range by customer range, each range
 * in its own short transaction, and records in meta how far it got
 * (JMARK: the table's customers <= that value are in events already; the
 * view leaves them out).  Its last step empties the table with an
 * unqualified DELETE -- SQLite frees the pages whole instead of deleting
 * row by row through the customer index -- and clears the mark.  So every
 * event is seen exactly once at every moment, and a crash between two
 * steps leaves a state the next full fold (tn_store_fold) finishes: it
 * moves what is left of both tables (rows already moved are kept once) and
 * clears the marks. */
static const char *const JTAB[2] = {"main.events_journal", "main.events_journal_b"};
#define JMARK_A "events_journal_folded"
#define JMARK_B "events_journal_b_folded"
#define JSEL "SELECT customer_id, occurred_at, type_id, ext_id, amount FROM "
#define JMIN "-9223372036854775807 - 1"
/* The journal's generations (migration 23): a journal table's index is on
 * (id >> 16, customer_id, occurred_at), and the writer gives ids in rising
 * order, so a group commit adds its entries to the newest generation's
 * part of the index alone (at most 65,536 entries, a few hundred leaves)
 * instead of to nearly every leaf of a customer index over the whole
 * journal (up to a million entries: ~70% of the writer's CPU an event).
 * A look-up by customer seeks once per generation: JGENS(T) lists them,
 * from the smallest id's to the largest's (two rowid look-ups; a table's
 * ids, hence its generations, are contiguous: the writer appends only and
 * a fold empties a table whole).  Queries name JGEN exactly as the index
 * does, so that SQLite uses it.  The fold's mark is written
 * +customer_id > mark: without statistics SQLite would take that range
 * over a query's customer_id = ? for the index's second column (a scan of
 * the generation instead of a seek). */
#define JGEN "(id >> 16)"
#define JGENS(t)                                                                                              \
	"(WITH RECURSIVE g(v) AS (SELECT min(id) >> 16 FROM " t " UNION ALL SELECT v + 1 FROM g WHERE v < "     \
	"(SELECT max(id) >> 16 FROM " t ")) SELECT v FROM g)"
#define JGEN_A JGEN " IN " JGENS("main.events_journal")
#define JGEN_B JGEN " IN " JGENS("main.events_journal_b")
static const char JOURNAL_VIEW[] =
	"CREATE TEMP VIEW IF NOT EXISTS events AS " JSEL "main.events UNION ALL " JSEL "main.events_journal "
	"WHERE " JGEN_A " AND +customer_id > COALESCE((SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_A
	"'), " JMIN ") UNION ALL " JSEL "main.events_journal_b "
	"WHERE " JGEN_B " AND +customer_id > COALESCE((SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_B
	"'), " JMIN ")";

/* The journal's two tables as the view reads them (the rows not yet folded),
 * each with a caller's columns and condition: "%s" cols, cond, cols, cond */
#define JOURNAL_PARTS                                                                                          \
	"SELECT %s FROM main.events_journal WHERE (%s) AND " JGEN_A " AND +customer_id > COALESCE((SELECT "     \
	"CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_A "'), " JMIN ") UNION ALL SELECT %s FROM " \
	"main.events_journal_b WHERE (%s) AND " JGEN_B " AND +customer_id > COALESCE((SELECT CAST(value AS "    \
	"INTEGER) FROM main.meta WHERE key = '" JMARK_B "'), " JMIN ")"

static int journal_view(tn_store *s, tn_error *err)
{
	if (s->pg)
		return TN_OK;
	return tn_store_exec(s, JOURNAL_VIEW, err);
}

/* Whether this connection reads events through the journal view (*VIEW) */
static int events_view(tn_store *s, int *view, tn_error *err)
{
	*view = 0;
	if (s->pg)
		return TN_OK;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_temp_master WHERE type = 'view' AND name = 'events'", -1,
			       &st, NULL) != SQLITE_OK)
		return tn_store_db_error(s, "reading the events view", err);
	int step = sqlite3_step(st), rc = TN_OK;
	*view = step == SQLITE_ROW;
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = tn_store_db_error(s, "reading the events view", err);
	sqlite3_finalize(st);
	return rc;
}

char *tn_store_events_scan_sql(tn_store *s, const char *cols, const char *cond, const char *order, tn_error *err)
{
	int view = 0;
	if (events_view(s, &view, err))
		return NULL;
	size_t n = 3 * (strlen(cols) + strlen(cond)) + strlen(order) + 2048;
	char *sql = tn_malloc(n);
	if (!sql) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (!view)
		snprintf(sql, n, "SELECT %s FROM events WHERE %s ORDER BY %s", cols, cond, order);
	else
		snprintf(sql, n, "SELECT %s FROM main.events WHERE %s UNION ALL " JOURNAL_PARTS " ORDER BY %s", cols, cond,
			 cols, cond, cols, cond, order);
	return sql;
}

char *tn_store_events_seek_sql(tn_store *s, const char **table, const char *cols, const char *cond, const char *order,
			       tn_error *err)
{
	*table = NULL;
	if (s->pg) /* a cluster's events are foreign tables: a look-up per customer, a remote query each */
		return tn_store_events_scan_sql(s, cols, cond, order, err);
	int view = 0;
	if (events_view(s, &view, err))
		return NULL;
	size_t n = view ? 2 * (strlen(cols) + strlen(cond)) + strlen(order) + 2048 : 1;
	char *sql = tn_malloc(n);
	if (!sql) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	*sql = 0;
	*table = view ? "main.events" : "events";
	if (view)
		snprintf(sql, n, JOURNAL_PARTS " ORDER BY %s", cols, cond, cols, cond, order);
	return sql;
}

static int journal_open(tn_store *s, int flags, tn_error *err)
{
	if (s->pg)
		return TN_OK;
	if (flags & TN_STORE_LIVE)
		return journal_view(s, err);
	tn_stmt *st = tn_db_prepare(
		s, "SELECT EXISTS (SELECT 1 FROM main.events_journal) OR EXISTS (SELECT 1 FROM main.events_journal_b)",
		err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the events journal", err);
	int any = rc == TN_DB_ROW && tn_db_column_int64(st, 0) != 0;
	tn_db_finalize(st);
	if (rc != TN_DB_ROW)
		return rc == TN_DB_DONE ? tn_error_set(err, TN_ERR_DB, "%s: reading the events journal", s->path) : rc;
	if (!any)
		return TN_OK;
	if (sqlite3_db_readonly(s->db, "main") == 1)
		return journal_view(s, err);
	return tn_store_fold(s, NULL, err);
}

/* ---- journal keys -------------------------------------------------------
 * The journaling writer keeps a filter of the keys (customer, time, type,
 * event id) of the events it journaled: a 64-bit fingerprint of each in a
 * tn_u64set (8-16 bytes a key, no string copies).  Only this connection
 * appends to the journal, and other connections only move rows out of it
 * into events (a fold), so the filter is a superset of the journal's keys:
 * an event whose fingerprint it does not hold is certainly not in the
 * journal, and one it holds (a re-send, or rarely two keys with one
 * fingerprint) is looked up in the journal's index to be sure.  Keys of
 * rows rolled back, or never written because events had them, may stay in
 * the filter: that only costs a lookup.  The filter of the journal being
 * folded (JKEYS_OLD) is dropped when that fold ends.  Neither is kept while
 * the filter of events' keys ("events keys") is true: it holds the
 * journal's keys as well (JKEYS_OK 0); they are loaded again from the
 * journal at the first flush after it stops being true. */
static uint64_t jkey(const ev_row *e)
{
	uint64_t h = tn_hash_mix64((uint64_t)e->cid ^ 0x9E3779B97F4A7C15ull);
	h = tn_hash_mix64(h ^ (uint64_t)e->at);
	h = tn_hash_mix64(h ^ (uint64_t)e->tid);
	return tn_hash_fnv1a(e->eid, h);
}

static int jkey_add(tn_store *s, uint64_t k)
{
	if (!s->jkeys && !(s->jkeys = tn_u64set_new_for(s->jkeys_hint)))
		return -1;
	return tn_u64set_add(s->jkeys, k) < 0 ? -1 : 0;
}

/* Load the keys of the rows in the journal (tn_store_journal at start). */
static int jkeys_load(tn_store *s, tn_error *err)
{
	tn_u64set_free(s->jkeys);
	tn_u64set_free(s->jkeys_old);
	s->jkeys = s->jkeys_old = NULL;
	if (!(s->jkeys = tn_u64set_new()))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_stmt *st = tn_db_prepare(s,
				    "SELECT customer_id, occurred_at, type_id, ext_id FROM main.events_journal UNION ALL "
				    "SELECT customer_id, occurred_at, type_id, ext_id FROM main.events_journal_b",
				    err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	while ((rc = tn_db_step(st, "reading the events journal", err)) == TN_DB_ROW) {
		const char *eid = tn_db_column_text(st, 3);
		ev_row e = {tn_db_column_int64(st, 0), tn_db_column_int64(st, 1), tn_db_column_int64(st, 2), 0,
			    eid ? eid : "", 0, eid ? (uint32_t)strlen(eid) : 0};
		if (jkey_add(s, jkey(&e))) {
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			break;
		}
	}
	tn_db_finalize(st);
	s->jkeys_ok = rc == TN_DB_DONE;
	return rc == TN_DB_DONE ? TN_OK : rc;
}

int tn_store_journal(tn_store *s, int on, tn_error *err)
{
	if (s->pg)
		return TN_OK;
	if (on && (journal_view(s, err) || jkeys_load(s, err)))
		return tn_error_code(err, TN_ERR_DB);
	if (on) { /* the events keys' filter: loaded in steps by the writer (tn_store_events_filter_step) */
		ebloom_free(s->ekeys);
		s->ekeys = NULL;
		s->ekeys_state = EKEYS_UNLOADED;
	}
	s->journal = on;
	s->jtab = 0;
	return TN_OK;
}

long long tn_store_journal_rows(const tn_store *s) { return s->journal_rows; }

size_t tn_store_journal_keys(const tn_store *s)
{
	return tn_u64set_count(s->jkeys) + tn_u64set_count(s->jkeys_old);
}

/* the marks of chunked folds, this one's and (events_fold_*) those the
 * single-table journal before migration 20 left */
static const char FOLD_CLEAR[] = "DELETE FROM main.meta WHERE key IN ('" JMARK_A "', '" JMARK_B "', "
				 "'events_fold_upto', 'events_fold_through')";

/* Empty journal tables by SQL (unqualified DELETEs), inside the open
 * transaction.  Debian builds SQLite with SECURE_DELETE on: every page the
 * DELETE frees would be zeroed and written out through the log (the whole
 * table and its index, about 100 bytes an event: a step of seconds).  Every
 * row was just copied into events in the same transaction, in the same
 * file, so zeroing the freed copies hides nothing: off for these DELETEs
 * only, then back to what it was. */
/* Before a table is emptied: the highest id given, kept in meta, so that
 * ids go on from it (flush_journal) and TN_STORE_JOURNAL_HIGH_SQL does not
 * move with the fold. */
static const char JOURNAL_HIGH_KEEP[] = "INSERT INTO main.meta(key, value) SELECT '" TN_STORE_JOURNAL_HIGH_KEY
					"', CAST(h AS TEXT) FROM (SELECT (" TN_STORE_JOURNAL_HIGH_SQL ") AS h) t WHERE h IS NOT NULL "
					"ON CONFLICT(key) DO UPDATE SET value = excluded.value";

static int journal_empty(tn_store *s, const char *sql, tn_error *err)
{
	if (tn_store_exec(s, JOURNAL_HIGH_KEEP, err))
		return tn_error_code(err, TN_ERR_DB);
	int prev = 0;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA secure_delete", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		prev = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	int rc = prev > 0 ? tn_store_exec(s, "PRAGMA secure_delete = 0", err) : TN_OK;
	if (rc == TN_OK)
		rc = tn_store_exec(s, sql, err);
	if (prev > 0) {
		char back[40];
		snprintf(back, sizeof back, "PRAGMA secure_delete = %d", prev);
		int brc = tn_store_exec(s, back, rc ? NULL : err);
		if (rc == TN_OK)
			rc = brc;
	}
	return rc;
}

/* The whole journal (both tables) into events, inside the open
 * transaction; *N moved. */
static int fold_all(tn_store *s, long long *n, tn_error *err)
{
	/* one sorted pass: each page of events is visited once for the whole
	 * journal; a row already in events (imported meanwhile by another
	 * process, or moved by a chunked fold that did not finish) is kept once;
	 * OR IGNORE: no statement journal holding a copy of every page of events
	 * it changes (FOLD_MOVE says why) */
	tn_stmt *ins = tn_db_prepare(s,
				     "INSERT OR IGNORE INTO main.events(customer_id, occurred_at, type_id, ext_id, amount) "
				     "SELECT * FROM (" JSEL "main.events_journal UNION ALL " JSEL "main.events_journal_b) "
				     "ORDER BY customer_id, occurred_at, type_id, ext_id",
				     err);
	int rc = ins ? tn_db_step(ins, "folding the events journal", err) : TN_ERR_DB;
	*n = rc == TN_DB_DONE ? tn_db_changes(s) : 0;
	tn_db_finalize(ins);
	if (rc == TN_DB_DONE)
		rc = journal_empty(s, "DELETE FROM main.events_journal; DELETE FROM main.events_journal_b", err);
	else if (rc == TN_DB_ROW)
		rc = tn_error_set(err, TN_ERR_DB, "%s: folding the events journal: unexpected row", s->path);
	if (rc == TN_OK)
		rc = tn_store_exec(s, FOLD_CLEAR, err);
	return rc;
}

/* After a full fold has committed: the journal is empty, no key is needed
 * to tell duplicates. */
static void folded_all(tn_store *s)
{
	s->journal_rows = 0;
	s->fold_phase = 0;
	tn_u64set_free(s->jkeys);
	tn_u64set_free(s->jkeys_old);
	s->jkeys = s->jkeys_old = NULL;
	s->jkeys_ok = 1; /* an empty journal's keys: none */
}

int tn_store_fold(tn_store *s, long long *moved, tn_error *err)
{
	if (moved)
		*moved = 0;
	if (s->pg) /* never journaled on PostgreSQL */
		return TN_OK;
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	long long n = 0;
	int rc = fold_all(s, &n, err);
	if (rc == TN_OK)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		return rc;
	}
	folded_all(s);
	if (moved)
		*moved = n;
	return TN_OK;
}

/* One statement with up to three integer parameters, stepped to its end. */
static int fold_exec(tn_store *s, const char *sql, int np, int64_t a, int64_t b, int64_t c, tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int64_t v[3] = {a, b, c};
	for (int i = 0; i < np; i++)
		tn_db_bind_int64(st, i + 1, v[i]);
	int rc = tn_db_step(st, "folding the events journal", err);
	tn_db_reset(st);
	if (rc == TN_DB_ROW)
		rc = TN_DB_DONE;
	return rc == TN_DB_DONE ? TN_OK : rc;
}

/* One integer from a one-row query; *NONE when no row or NULL. */
static int fold_int(tn_store *s, const char *sql, int np, int64_t a, int64_t b, int64_t *out, int *none,
		    tn_error *err)
{
	tn_stmt *st = tn_db_cached(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	if (np > 0)
		tn_db_bind_int64(st, 1, a);
	if (np > 1)
		tn_db_bind_int64(st, 2, b);
	int rc = tn_db_step(st, "folding the events journal", err);
	*none = rc != TN_DB_ROW || tn_db_column_is_null(st, 0);
	*out = rc == TN_DB_ROW ? tn_db_column_int64(st, 0) : 0;
	tn_db_reset(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

/* The fold's statements on table T (0 or 1). */
#define JT_SQL(a, b) {a "main.events_journal" b, a "main.events_journal_b" b}
static const char *const FOLD_MARK_GET[2] = {
	"SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_A "'",
	"SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_B "'"};
static const char *const FOLD_MARK_SET[2] = {
	"INSERT INTO main.meta(key, value) VALUES('" JMARK_A "', CAST(?1 AS TEXT)) "
	"ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	"INSERT INTO main.meta(key, value) VALUES('" JMARK_B "', CAST(?1 AS TEXT)) "
	"ON CONFLICT(key) DO UPDATE SET value = excluded.value"};
static const char *const FOLD_MARK_DEL[2] = {"DELETE FROM main.meta WHERE key = '" JMARK_A "'",
					     "DELETE FROM main.meta WHERE key = '" JMARK_B "'"};
static const char *const FOLD_MIN[2] = JT_SQL("SELECT min(id) FROM ", "");
static const char *const FOLD_MAX[2] = JT_SQL("SELECT max(id) FROM ", "");
static const char JOURNAL_HIGH[] = TN_STORE_JOURNAL_HIGH_SQL;
static const char *const FOLD_ANY[2] = JT_SQL("SELECT EXISTS (SELECT 1 FROM ", ")");
/* The range of customer ids (customers' rowids: two look-ups).  The
 * journal's index starts with the generation, so the customer at a given
 * offset is no longer one seek away: a step takes the next FOLD_SPAN ids,
 * the span that holds about a step's rows were the folded table's rows
 * spread evenly over the ids (the last step takes whatever is left). */
static const char FOLD_CUSTOMERS[] = "SELECT min(id), max(id) FROM main.customers";
/* The move is INSERT OR IGNORE, not ON CONFLICT DO NOTHING: the same rows
 * stored (the journal's key columns are NOT NULL like events', checked by
 * SQLite when the rows were journaled, so the only row OR IGNORE can skip
 * is one whose key events holds, which DO NOTHING skipped too: nothing is
 * dropped silently), but with DO NOTHING the NOT
 * NULL checks keep their default ABORT, so SQLite opens a statement journal
 * for the INSERT inside the step's transaction and copies into it every
 * page of events the step changes -- in memory, with temp_store = MEMORY,
 * and without bound.  A step touches a range of events' leaves that grows
 * with the table and with the step's span of customers: +3-7 MB a step
 * during a 60 s ingest (rising with the run), +100 MB for the steps of the
 * idle fold of a small journal after it, whose span is a third of the
 * customers (the server's 204-306 MB peak RSS against ~190 MB sampled;
 * docs/performance.md, session 31).  OR IGNORE cannot abort, so there is no
 * statement journal: the step's transaction is all there is to roll back. */
static const char *const FOLD_MOVE[2] = {
	"INSERT OR IGNORE INTO main.events(customer_id, occurred_at, type_id, ext_id, amount) " JSEL
	"main.events_journal WHERE " JGEN_A " AND customer_id >= ?1 AND customer_id <= ?2 "
	"ORDER BY customer_id, occurred_at, type_id, ext_id",
	"INSERT OR IGNORE INTO main.events(customer_id, occurred_at, type_id, ext_id, amount) " JSEL
	"main.events_journal_b WHERE " JGEN_B " AND customer_id >= ?1 AND customer_id <= ?2 "
	"ORDER BY customer_id, occurred_at, type_id, ext_id"};
static const char *const FOLD_EMPTY[2] = {"DELETE FROM main.events_journal", "DELETE FROM main.events_journal_b"};

int tn_store_fold_step(tn_store *s, long long chunk, int *done, long long *moved, tn_error *err)
{
	*done = 1;
	if (moved)
		*moved = 0;
	if (s->pg)
		return TN_OK;
	if (s->in_txn)
		return tn_error_set(err, TN_ERR_DB, "%s: a fold needs no transaction open", s->path);
	if (chunk < 1)
		chunk = 1;
	/* every step is one transaction: BEGIN IMMEDIATE holds the write lock,
	 * so what it reads of the journal and of meta stays true until it
	 * commits */
	if (tn_store_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK, none = 0;
	long long n = 0;
	if (s->fold_phase != 0 && s->fold_through != INT64_MIN) {
		/* a full fold by another connection (an open of the store) ended
		 * this one: it cleared the mark and emptied both tables */
		int64_t mark;
		rc = fold_int(s, FOLD_MARK_GET[s->fold_tab], 0, 0, 0, &mark, &none, err);
		if (!rc && (none || mark != s->fold_through)) {
			if (tn_store_commit(s, err)) { /* nothing written: ends the read */
				tn_store_rollback(s);
				return tn_error_code(err, TN_ERR_DB);
			}
			tn_u64set_free(s->jkeys_old);
			s->jkeys_old = NULL;
			s->fold_phase = 0;
			s->journal_rows = 0;
			return TN_OK;
		}
	}
	if (!rc && s->fold_phase == 0) {
		int64_t lo = 0, hi = 0, other = 0;
		int t = s->jtab;
		rc = fold_int(s, FOLD_MIN[t], 0, 0, 0, &lo, &none, err);
		if (!rc && !none)
			rc = fold_int(s, FOLD_MAX[t], 0, 0, 0, &hi, &none, err);
		/* the other table is empty between folds (a crash or a full fold
		 * by another connection empties both); if not, fold it all */
		int none2 = 0;
		if (!rc)
			rc = fold_int(s, FOLD_ANY[!t], 0, 0, 0, &other, &none2, err);
		if (!rc && (none || hi - lo < chunk || other)) { /* empty or small: all at once */
			rc = fold_all(s, &n, err);
			if (!rc)
				rc = tn_store_commit(s, err);
			if (rc) {
				tn_store_rollback(s);
				return rc;
			}
			folded_all(s);
			if (moved)
				*moved = n;
			return TN_OK;
		}
		/* table T is folded; events journaled from now on go into the
		 * other table and a new key set, the old one goes when this fold
		 * ends */
		s->fold_phase = 1;
		s->fold_tab = t;
		s->jtab = !t;
		s->fold_through = INT64_MIN;
		s->fold_start_rows = s->journal_rows;
		if (!rc) {
			tn_stmt *q = tn_db_cached(s, FOLD_CUSTOMERS, err);
			rc = q ? tn_db_step(q, "folding the events journal", err) : tn_error_code(err, TN_ERR_DB);
			s->fold_cmin = rc == TN_DB_ROW ? tn_db_column_int64(q, 0) : 0;
			s->fold_cmax = rc == TN_DB_ROW ? tn_db_column_int64(q, 1) : 0;
			if (q)
				tn_db_reset(q);
			rc = rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
			/* ROWS (hi - lo + 1: the ids are contiguous) over the ids */
			double rows = (double)(hi - lo) + 1.0, ids = (double)s->fold_cmax - (double)s->fold_cmin + 1.0;
			double span = ids * (double)chunk / rows;
			s->fold_span = span < 1.0 ? 1 : span > 1e15 ? (int64_t)1e15 : (int64_t)span;
		}
		tn_u64set_free(s->jkeys_old);
		s->jkeys_old = s->jkeys;
		s->jkeys = NULL;
		s->jkeys_hint = tn_u64set_count(s->jkeys_old);
	}
	*done = 0;
	/* the next FOLD_SPAN customer ids (about CHUNK rows); the last step
	 * takes every customer left */
	int t = s->fold_tab;
	int64_t first = s->fold_through == INT64_MIN ? INT64_MIN : s->fold_through + 1, through = INT64_MAX;
	int64_t base = first == INT64_MIN ? s->fold_cmin : first;
	if (base < s->fold_cmax && s->fold_cmax - base >= s->fold_span)
		through = base + s->fold_span - 1;
	if (!rc)
		rc = fold_exec(s, FOLD_MOVE[t], 2, first, through, 0, err);
	n = rc ? 0 : tn_db_changes(s);
	/* the last step empties the table whole (SQLite's truncation: no
	 * row-by-row index work) and clears the mark */
	if (!rc)
		rc = through == INT64_MAX ? journal_empty(s, FOLD_EMPTY[t], err)
					  : fold_exec(s, FOLD_MARK_SET[t], 1, through, 0, 0, err);
	if (!rc && through == INT64_MAX)
		rc = fold_exec(s, FOLD_MARK_DEL[t], 0, 0, 0, 0, err);
	if (!rc)
		rc = tn_store_commit(s, err);
	if (rc) {
		tn_store_rollback(s);
		return rc;
	}
	if (moved)
		*moved = n;
	s->fold_through = through;
	if (through == INT64_MAX) {
		s->fold_phase = 0;
		s->journal_rows -= s->fold_start_rows;
		if (s->journal_rows < 0)
			s->journal_rows = 0;
		tn_u64set_free(s->jkeys_old);
		s->jkeys_old = NULL;
		*done = 1;
	}
	return TN_OK;
}

/* SQLite's memory statistics (sqlite3_memory_used and friends, which
 * Tenure does not read) take a global mutex around every allocation: off,
 * once, before SQLite initialises itself.  The server's threads allocate
 * constantly; that mutex was about a tenth of its ingest CPU. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
/* (A program that initialised SQLite first keeps its own settings: the call
 * then fails, harmlessly.) */
static void sqlite_setup(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

int tn_store_open(const char *path, int flags, tn_store **out, tn_error *err)
{
	*out = NULL;
	pthread_once(&sqlite_once, sqlite_setup);
	for (size_t i = 0; i < tn_store_nmigrations; i++)
		if (tn_store_migrations[i].version != (int)i + 1)
			return tn_error_set(err, TN_ERR_DB, "internal: migration %zu is numbered %d", i + 1,
					    tn_store_migrations[i].version);
	if (tn_pg_is_url(path))
		return open_pg(path, flags, out, err);
	tn_store *s = tn_calloc(1, sizeof *s);
	if (!s || !(s->path = tn_strdup(path))) {
		free(s);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	/* one connection is used by one thread at a time: no SQLite mutexes */
	int oflags = SQLITE_OPEN_NOMUTEX | ((flags & TN_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	if ((flags & TN_STORE_CREATE) && !(flags & TN_STORE_READONLY))
		oflags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		/* the operating system's reason (permission denied, no such file or
		 * directory...) says more than SQLite's "unable to open database file" */
		int se = s->db ? sqlite3_system_errno(s->db) : 0;
		int rc = tn_error_set(err, TN_ERR_IO, "%s: cannot open the store: %s%s", path,
			     se ? strerror(se) : s->db ? sqlite3_errmsg(s->db) : "out of memory",
			     (flags & TN_STORE_CREATE) || (se && se != ENOENT) ? ""
									: " (import data or run `tenure demo` first)");
		tn_store_close(s);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 30000);
	/* foreign keys are part of the schema's meaning: not having them is an error */
	int rc = sqlite3_exec(s->db,
			      "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;"
			      "PRAGMA synchronous = FULL",
			      NULL, NULL, NULL);
	if (rc == SQLITE_NOTADB)
		rc = tn_error_set(err, TN_ERR_DB, "%s: not a Tenure store (cannot read it as SQLite: %s)", path,
				  sqlite3_errmsg(s->db));
	else if (rc != SQLITE_OK)
		rc = tn_store_db_error(s, "opening the store", err);
	if (!rc)
		rc = migrate(s, err);
	if (rc == TN_OK && tn_store_money_register(s) != SQLITE_OK)
		rc = tn_store_db_error(s, "opening the store", err);
	s->ev_min = INT64_MAX;
	s->ev_max = INT64_MIN;
	if (!rc)
		rc = journal_open(s, flags, err);
	if (rc) {
		tn_store_close(s);
		return rc;
	}
	*out = s;
	return TN_OK;
}

void tn_store_close(tn_store *s)
{
	if (!s)
		return;
	if (s->in_txn)
		tn_store_rollback(s);
	for (int k = 0; k < s->nshard; k++)
		tn_pg_close(s->shard[k]);
	free(s->shard);
	free(s->shard_stream);
	free(s->shard_rows);
	free(s->route);
	tn_db_finalize(s->ins_customer);
	tn_db_finalize(s->ins_subscription);
	tn_db_finalize(s->ins_event);
	sqlite3_finalize(s->ins_event_lite);
	sqlite3_finalize(s->ins_event_bare);
	sqlite3_finalize(s->journal_any);
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof s->ins_journal[t] / sizeof *s->ins_journal[t]; i++)
			sqlite3_finalize(s->ins_journal[t][i]);
		for (size_t i = 0; i < sizeof s->ins_journal_new[t] / sizeof *s->ins_journal_new[t]; i++)
			sqlite3_finalize(s->ins_journal_new[t][i]);
		sqlite3_finalize(s->find_journal[t]);
	}
	sqlite3_finalize(s->data_version);
	tn_db_finalize(s->ins_payment);
	tn_db_finalize(s->find_subscription);
	tn_db_finalize(s->upd_subscription);
	tn_db_finalize(s->find_payment);
	tn_db_finalize(s->upd_payment);
	tn_db_finalize(s->find_feedback);
	tn_db_finalize(s->upd_feedback);
	tn_db_finalize(s->ins_feedback);
	for (size_t i = 0; i < s->nstc; i++)
		sqlite3_finalize(s->stc[i].st);
	tn_db_cache_free(s);
	sqlite3_close(s->db);
	tn_pg_close(s->pg);
	tn_strmap_free(s->cmap);
	tn_strmap_free(s->types);
	tn_u64set_free(s->jkeys);
	tn_u64set_free(s->jkeys_old);
	ebloom_free(s->ekeys);
	free(s->jrows);
	free(s->sort_a);
	free(s->sort_b);
	free(s->sort_out);
	free(s->ev);
	free(s->pool);
	free(s->path);
	free(s);
}

/* ---- transactions ------------------------------------------------------- */

int tn_store_begin(tn_store *s, tn_error *err)
{
	if (s->in_txn)
		return tn_error_set(err, TN_ERR_DB, "%s: a transaction is already open", s->path);
	if (s->db && sqlite3_db_readonly(s->db, "main") == 1)
		return tn_error_set(err, TN_ERR_IO,
				    "%s: the store is read-only: no permission to write it; check the permissions, or "
				    "copy it somewhere writable",
				    s->path);
	if (tn_store_exec(s, s->pg ? "BEGIN" : "BEGIN IMMEDIATE", err))
		return tn_error_code(err, TN_ERR_DB);
	s->in_txn = 1;
	if (s->txn_hook)
		s->txn_hook(s->txn_hook_ud, 0);
	return TN_OK;
}

void tn_store_txn_hook(tn_store *s, void (*fn)(void *ud, int phase), void *ud)
{
	s->txn_hook = fn;
	s->txn_hook_ud = ud;
}

static int update_bounds(tn_store *s, tn_error *err);
static int flush_events(tn_store *s, tn_error *err);
static int bulk_done(tn_store *s, tn_error *err);
static int shards_done(tn_store *s, tn_error *err);
static int shards_commit(tn_store *s, tn_error *err);
static void shards_rollback(tn_store *s);

int tn_store_commit(tn_store *s, tn_error *err)
{
	if (flush_events(s, err) || bulk_done(s, err) || shards_done(s, err) || update_bounds(s, err) ||
	    shards_commit(s, err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->bulk)
		s->bulk = 1;
	if (s->in_txn && tn_store_exec(s, "COMMIT", err))
		return tn_error_code(err, TN_ERR_DB);
	int was = s->in_txn;
	s->in_txn = 0;
	if (was && s->txn_hook)
		s->txn_hook(s->txn_hook_ud, 1);
	return TN_OK;
}

void tn_store_rollback(tn_store *s)
{
	s->nev = 0;
	s->ev_added = 0;
	s->pool_len = s->pool ? 1 : 0;
	s->ev_min = INT64_MAX;
	s->ev_max = INT64_MIN;
	shards_rollback(s);
	if (s->in_txn)
		tn_store_exec(s, "ROLLBACK", NULL);
	s->in_txn = 0;
	if (s->bulk)
		s->bulk = 1; /* a dropped events key is back */
	/* keys handed out inside the transaction are gone: reload on next use */
	tn_strmap_free(s->cmap);
	s->cmap = NULL;
	s->cmap_loaded = 0;
	tn_strmap_free(s->types);
	s->types = NULL;
	s->types_loaded = 0;
}

/* Savepoints: one request's writes inside the server's group transaction.
 * Buffered events are written at release, so the buffer is empty between
 * savepoints and a rollback to one discards only that request's events. */
/* SAVEPOINT / RELEASE of the server's writer, once per request of a group:
 * on SQLite a cached prepared statement (sqlite3_exec parsed the text again
 * each time: about 4% of a webhook's server CPU); PostgreSQL as before. */
static const char SQL_SAVEPOINT[] = "SAVEPOINT tn_request";
static const char SQL_RELEASE[] = "RELEASE tn_request";
static int exec_cached(tn_store *s, const char *sql, tn_error *err)
{
	if (s->pg)
		return tn_store_exec(s, sql, err);
	tn_stmt *st = tn_db_cached(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, sql == SQL_SAVEPOINT ? "opening a request's savepoint" : "releasing a request's savepoint",
			    err);
	tn_db_reset(st);
	return rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

int tn_store_savepoint(tn_store *s, tn_error *err)
{
	if (!s->in_txn)
		return tn_error_set(err, TN_ERR_DB, "%s: a savepoint needs an open transaction", s->path);
	s->sp_min = s->ev_min;
	s->sp_max = s->ev_max;
	s->sp_ncust = s->cmap_loaded ? tn_strmap_count(s->cmap) : SIZE_MAX;
	s->sp_ntypes = s->types_loaded ? tn_strmap_count(s->types) : SIZE_MAX;
	return exec_cached(s, SQL_SAVEPOINT, err);
}

int tn_store_release(tn_store *s, tn_error *err)
{
	if (flush_events(s, err))
		return tn_error_code(err, TN_ERR_DB);
	return exec_cached(s, SQL_RELEASE, err);
}

void tn_store_rollback_savepoint(tn_store *s)
{
	s->nev = 0;
	s->ev_added = 0;
	s->pool_len = s->pool ? 1 : 0;
	s->ev_min = s->sp_min;
	s->ev_max = s->sp_max;
	tn_store_exec(s, "ROLLBACK TO tn_request; RELEASE tn_request", NULL);
	/* keys handed out since the savepoint are gone: mark them (a key added
	 * again later gets its new value); a map loaded inside the savepoint is
	 * dropped and reloaded on next use */
	if (s->sp_ncust != SIZE_MAX && s->cmap_loaded) {
		for (size_t k = s->sp_ncust; k < tn_strmap_count(s->cmap); k++)
			tn_strmap_set(s->cmap, k, KEY_GONE);
	} else {
		tn_strmap_free(s->cmap);
		s->cmap = NULL;
		s->cmap_loaded = 0;
	}
	if (s->sp_ntypes != SIZE_MAX && s->types_loaded) {
		for (size_t k = s->sp_ntypes; k < tn_strmap_count(s->types); k++)
			tn_strmap_set(s->types, k, KEY_GONE);
	} else {
		tn_strmap_free(s->types);
		s->types = NULL;
		s->types_loaded = 0;
	}
}

int tn_store_reader(tn_store *s, tn_error *err)
{
	/* a smaller page cache than a writer's (8 MiB, not 64): the server holds
	 * one reader per HTTP thread; no mmap, whose pages would count in the
	 * server's RSS once per connection */
	if (s->pg)
		return tn_store_exec(s, "SET default_transaction_read_only = on", err);
	return tn_store_exec(s, "PRAGMA query_only = 1; PRAGMA cache_size = -8192", err);
}

/* The page cache of a one-pass scanner (tn_store_reader_scan): the scan
 * reads each page of the table it walks once, so a cache only pays for the
 * pages it comes back to -- the interior pages of the tables it looks rows
 * up in by key (the value refit: customers by rowid, one lookup a purchase).
 * 1 MiB holds 256 pages of 4 KiB: the 4 interior pages of the 50,000-customer
 * demo's customers table (dbstat) with room for ~60 times as many customers,
 * plus the cursors' paths.  Measured on the demo (session 29): the same
 * 24,762 read() calls a refit as with the readers' 8 MiB, 12% less CPU. */
#define TN_SCAN_CACHE_KIB 1024

int tn_store_reader_scan(tn_store *s, tn_error *err)
{
	int rc = tn_store_reader(s, err);
	if (rc || s->pg)
		return rc;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", TN_SCAN_CACHE_KIB);
	return tn_store_exec(s, sql, err);
}

void tn_store_scan_mmap(tn_store *s)
{
	/* Each page a scan misses in the page cache costs a pread() system call
	 * and a 4 KB copy: 31% of the insights' thread on 1,000,000 customers
	 * (perf, session 28), whose scans of events and subscriptions re-read
	 * a 3.3 GB file through a 64 MiB cache.  Mapped, a page costs one
	 * minor fault the first time.  The mapped pages are the kernel's page
	 * cache, shared with every other reader of the file, but they count in
	 * the process's RSS (RssFile, not RssAnon): the HTTP readers, one per
	 * thread, stay unmapped (tn_store_reader).  SQLite caps the size at its
	 * SQLITE_MAX_MMAP_SIZE; past it pages are read as before. */
	if (s && s->db && !s->pg)
		sqlite3_exec(s->db, "PRAGMA mmap_size = 1099511627776", NULL, NULL, NULL);
}

int tn_store_wal(tn_store *s, tn_error *err)
{
	/* WAL with synchronous=FULL: every COMMIT syncs the log before it returns,
	 * so a committed transaction survives a crash or power loss */
	if (s->pg)
		return TN_OK; /* PostgreSQL's own write-ahead log */
	sqlite3_stmt *st = tn_store_prepare(s, "PRAGMA journal_mode = WAL", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = sqlite3_step(st);
	int wal = rc == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal)
		return tn_error_set(err, TN_ERR_DB, "%s: cannot switch the store to WAL mode: %s", s->path,
				    sqlite3_errmsg(s->db));
	/* checkpoint every 64 MiB of log rather than 4 MiB: a page written by many
	 * commits is copied back to the database once */
	return tn_store_exec(s, "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 16384", err);
}

/* ---- meta ---------------------------------------------------------------- */

int tn_store_meta_get(tn_store *s, const char *key, char **value, tn_error *err)
{
	*value = NULL;
	tn_stmt *st = tn_db_prepare(s, "SELECT value FROM meta WHERE key = ?", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	int step = tn_db_step(st, "reading settings", err), rc = TN_OK;
	if (step == TN_DB_ROW) {
		if (!(*value = tn_strdup(tn_db_column_text(st, 0))))
			rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	} else if (step != TN_DB_DONE) {
		rc = step;
	}
	tn_db_finalize(st);
	return rc;
}

int tn_store_meta_set(tn_store *s, const char *key, const char *value, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO meta(key, value) VALUES(?, ?) "
				       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, key);
	tn_db_bind_text(st, 2, value);
	int rc = tn_db_step(st, "writing settings", err);
	tn_db_finalize(st);
	return rc == TN_DB_DONE ? TN_OK : rc;
}

/* ---- customer key map ---------------------------------------------------- */
/* KEY_GONE (tn_store_rollback_savepoint) is defined with the struct. */

/* Remember customer KEY -> VAL (the store's integer key). */
static int map_put(tn_store *s, const char *key, int64_t val)
{
	size_t k;
	if (!s->cmap && !(s->cmap = tn_strmap_new()))
		return -1;
	if (tn_strmap_add(s->cmap, key, &k) < 0)
		return -1;
	tn_strmap_set(s->cmap, k, val);
	return 0;
}

static int load_customers(tn_store *s, tn_error *err)
{
	if (s->cmap_loaded)
		return TN_OK;
	if (!s->cmap && !(s->cmap = tn_strmap_new()))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_stmt *st = tn_db_prepare(s, "SELECT ext_id, id FROM customers", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	while ((rc = tn_db_step(st, "reading customers", err)) == TN_DB_ROW)
		if (map_put(s, tn_db_column_text(st, 0), tn_db_column_int64(st, 1))) {
			tn_db_finalize(st);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		return rc;
	s->cmap_loaded = 1;
	return TN_OK;
}

int tn_store_customer_key(tn_store *s, const char *ext_id, int64_t *key, tn_error *err)
{
	int rc = load_customers(s, err);
	if (rc)
		return rc;
	size_t k = tn_strmap_find(s->cmap, ext_id);
	if (k == TN_STRMAP_NONE || tn_strmap_val(s->cmap, k) == KEY_GONE)
		return tn_error_set(err, TN_ERR_NOTFOUND, "customer \"%s\" is not in the store (import customers first)",
				    ext_id);
	*key = tn_strmap_val(s->cmap, k);
	return TN_OK;
}

int tn_store_event_type(tn_store *s, const char *name, int64_t *key, tn_error *err)
{
	if (!s->types_loaded) {
		tn_stmt *st = tn_db_prepare(s, "SELECT name, id FROM event_types", err);
		if (!st)
			return tn_error_code(err, TN_ERR_DB);
		if (!s->types && !(s->types = tn_strmap_new())) {
			tn_db_finalize(st);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		int step;
		while ((step = tn_db_step(st, "reading event types", err)) == TN_DB_ROW) {
			size_t k;
			if (tn_strmap_add(s->types, tn_db_column_text(st, 0), &k) < 0) {
				tn_db_finalize(st);
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			}
			tn_strmap_set(s->types, k, tn_db_column_int64(st, 1));
		}
		tn_db_finalize(st);
		if (step != TN_DB_DONE)
			return step;
		s->types_loaded = 1;
	}
	size_t k = tn_strmap_find(s->types, name);
	if (k != TN_STRMAP_NONE && tn_strmap_val(s->types, k) != KEY_GONE) {
		*key = tn_strmap_val(s->types, k);
		return TN_OK;
	}
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO event_types(name) VALUES(?) RETURNING id", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(st, 1, name);
	int rc = tn_db_step(st, "adding an event type", err);
	int64_t id = rc == TN_DB_ROW ? tn_db_column_int64(st, 0) : 0;
	tn_db_finalize(st);
	if (rc != TN_DB_ROW)
		return rc == TN_DB_DONE ? tn_error_set(err, TN_ERR_DB, "%s: adding an event type: no id", s->path) : rc;
	if (tn_strmap_add(s->types, name, &k) < 0)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	tn_strmap_set(s->types, k, id);
	*key = id;
	return TN_OK;
}

/* ---- writers ------------------------------------------------------------- */

static int prepare_once(tn_store *s, tn_stmt **st, const char *sql, tn_error *err)
{
	if (*st) {
		tn_db_reset(*st);
		return TN_OK;
	}
	/* kept for the store's life, so on PostgreSQL a prepared statement, not a cursor */
	*st = tn_db_cached(s, sql, err);
	return *st ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

/* A failed write: the input's fault when it broke a constraint. */
static int write_error(tn_store *s, int rc, const char *what, tn_error *err)
{
	if (rc == TN_ERR_NOMEM)
		return rc;
	if (readonly_error(s, err))
		return TN_ERR_IO;
	if (tn_db_constraint_failed(s)) {
		/* the engine's message follows WHAT: keep it, say whose fault */
		tn_error scratch = {0};
		tn_error *e = err ? err : &scratch;
		if (e->code != TN_OK) {
			char msg[TN_ERROR_MSG_MAX];
			snprintf(msg, sizeof msg, "%s", e->msg);
			const char *m = strstr(msg, what);
			m = m ? m + strlen(what) : msg;
			while (*m == ':' || *m == ' ')
				m++;
			tn_error_clear(e);
			tn_error_set(e, TN_ERR_INPUT, "refused by the store: %s", m);
		}
		return TN_ERR_INPUT;
	}
	return tn_error_code(err, rc ? rc : TN_ERR_DB);
}

/* Step an upsert with RETURNING id: 1 row when inserted or changed. */
static int step_upsert(tn_store *s, tn_stmt *st, const char *what, int64_t *id, int *changed,
		       tn_error *err)
{
	int rc = tn_db_step(st, what, err);
	*changed = 0;
	if (rc == TN_DB_ROW) {
		if (id)
			*id = tn_db_column_int64(st, 0);
		*changed = 1;
		rc = tn_db_step(st, what, err);
	}
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return write_error(s, rc, what, err);
	return TN_OK;
}

int tn_store_put_customer(tn_store *s, const tn_customer_rec *r, int *outcome, tn_error *err)
{
	if (load_customers(s, err) ||
	    prepare_once(s, &s->ins_customer,
			 /* a cluster's customers table is partitioned across the
			  * shards: no unique key on ext_id for ON CONFLICT to use;
			  * a function made by `tenure cluster init` upserts
			  * through the coordinator's key table and returns the
			  * same row (store/cluster.c) */
			 s->cluster ? "SELECT * FROM tn_put_customer(?1, ?2, ?3, ?4, ?5)" :
			 "INSERT INTO customers(ext_id, signed_up_at, country, channel, attrs) "
			 "VALUES(?1, ?2, ?3, ?4, json(coalesce(?5, '{}'))) "
			 "ON CONFLICT(ext_id) DO UPDATE SET signed_up_at = excluded.signed_up_at, "
			 "country = excluded.country, channel = excluded.channel, attrs = excluded.attrs "
			 "WHERE (customers.signed_up_at, customers.country, customers.channel, customers.attrs) "
			 "IS DISTINCT FROM "
			 "(excluded.signed_up_at, excluded.country, excluded.channel, excluded.attrs) "
			 "RETURNING id",
			 err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = s->ins_customer;
	size_t ek = s->cmap ? tn_strmap_find(s->cmap, r->id) : TN_STRMAP_NONE;
	int existed = ek != TN_STRMAP_NONE && tn_strmap_val(s->cmap, ek) != KEY_GONE;
	tn_db_bind_text(st, 1, r->id);
	tn_db_bind_time(st, 2, r->signed_up_at);
	tn_db_bind_text(st, 3, r->country);
	tn_db_bind_text(st, 4, r->channel);
	tn_db_bind_text(st, 5, r->attrs_json);
	int64_t id = 0;
	int changed;
	if (step_upsert(s, st, "writing a customer", &id, &changed, err))
		return tn_error_code(err, TN_ERR_DB);
	if (changed && map_put(s, r->id, id))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (outcome)
		*outcome = !changed ? TN_PUT_UNCHANGED : existed ? TN_PUT_UPDATED : TN_PUT_ADDED;
	return TN_OK;
}

/* A multi-row INSERT into staging table TABLE (COLS, NCOLS of them) for
 * rows FROM..FROM+M-1, bound by BIND: one round trip per STAGE_ROWS rows
 * instead of one per row.  The statement for a full chunk is prepared once
 * per call and run again for every full chunk (*KEEP), so that the server
 * plans it once, not once per chunk. */
#define STAGE_ROWS 200
typedef void (*stage_bind_fn)(tn_stmt *st, int base, const void *rows, size_t i, tn_store *s, int64_t seq);
static tn_stmt *stage_stmt(tn_store *s, const char *table, const char *cols, int ncols, size_t m, tn_error *err)
{
	size_t cap = strlen(table) + strlen(cols) + 64 + m * (size_t)ncols * 8;
	char *sql = tn_malloc(cap);
	if (!sql) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	size_t o = (size_t)snprintf(sql, cap, "INSERT INTO %s(%s) VALUES ", table, cols);
	for (size_t i = 0; i < m; i++) {
		sql[o++] = i ? ',' : ' ';
		sql[o++] = '(';
		for (int c = 0; c < ncols; c++)
			o += (size_t)snprintf(sql + o, cap - o, "%s?%zu", c ? "," : "", i * (size_t)ncols + (size_t)c + 1);
		sql[o++] = ')';
	}
	sql[o] = '\0';
	tn_stmt *st = tn_db_prepare(s, sql, err);
	free(sql);
	return st;
}

static int stage_chunk(tn_store *s, const char *table, const char *cols, int ncols, const void *rows, size_t from,
		       size_t m, stage_bind_fn bind, tn_stmt **keep, tn_error *err)
{
	tn_stmt *st = keep ? *keep : NULL;
	if (!st && !(st = stage_stmt(s, table, cols, ncols, m, err)))
		return tn_error_code(err, TN_ERR_DB);
	if (keep)
		*keep = st;
	for (size_t i = 0; i < m; i++)
		bind(st, (int)(i * (size_t)ncols), rows, from + i, s, (int64_t)(from + i));
	int rc = tn_db_step(st, "staging rows", err);
	if (keep)
		tn_db_reset(st);
	else
		tn_db_finalize(st);
	return rc == TN_DB_DONE ? TN_OK : write_error(s, rc, "staging rows", err);
}

static int stage_rows(tn_store *s, const char *table, const char *cols, int ncols, const void *rows, size_t n,
		      stage_bind_fn bind, tn_error *err)
{
	tn_stmt *full = NULL;
	int rc = TN_OK;
	for (size_t from = 0; from < n && !rc; from += STAGE_ROWS) {
		size_t m = n - from < STAGE_ROWS ? n - from : STAGE_ROWS;
		rc = stage_chunk(s, table, cols, ncols, rows, from, m, bind, m == STAGE_ROWS ? &full : NULL, err);
	}
	tn_db_finalize(full);
	return rc ? tn_error_code(err, TN_ERR_DB) : TN_OK;
}

static void bind_customer(tn_stmt *st, int b, const void *rows, size_t i, tn_store *s, int64_t seq)
{
	(void)s;
	const tn_customer_rec *r = (const tn_customer_rec *)rows + i;
	tn_db_bind_int64(st, b + 1, seq);
	tn_db_bind_text(st, b + 2, r->id);
	tn_db_bind_time(st, b + 3, r->signed_up_at);
	tn_db_bind_text(st, b + 4, r->country);
	tn_db_bind_text(st, b + 5, r->channel);
	tn_db_bind_text(st, b + 6, r->attrs_json);
}

static void bind_subscription(tn_stmt *st, int b, const void *rows, size_t i, tn_store *s, int64_t seq)
{
	const tn_subscription_rec *r = (const tn_subscription_rec *)rows + i;
	int64_t cid = 0;
	/* checked by the caller before: the key is in the store's map */
	if (tn_store_customer_key(s, r->customer, &cid, NULL))
		cid = 0;
	tn_db_bind_int64(st, b + 1, seq);
	tn_db_bind_int64(st, b + 2, cid);
	tn_db_bind_text(st, b + 3, r->id);
	tn_db_bind_text(st, b + 4, r->plan);
	tn_db_bind_text(st, b + 5, r->billing_period);
	tn_db_bind_double(st, b + 6, r->price);
	tn_db_bind_text(st, b + 7, r->currency);
	tn_db_bind_time(st, b + 8, r->started_at);
	tn_db_bind_time(st, b + 9, r->trial_ends_at);
	tn_db_bind_time(st, b + 10, r->current_period_end);
	tn_db_bind_time(st, b + 11, r->cancelled_at);
	tn_db_bind_text(st, b + 12, r->cancel_reason);
	tn_db_bind_text(st, b + 13, r->status);
}

/* How a batch of customers is written here (s->cust_batch): set-based on a
 * postgres_fdw coordinator (its customers table has the coordinator's id
 * sequence).  A coordinator made before the batched path keeps
 * customer_keys by a row trigger on INSERT too: the batch then leaves the
 * key rows to it (a row trigger makes postgres_fdw send the rows one by
 * one, but still within one statement).  On one PostgreSQL server (3) the
 * same statements find the stored ids in customers itself and take new ones
 * from its identity sequence: one round trip per batch instead of one or
 * two per row. */
static int customers_batch_mode(tn_store *s, tn_error *err)
{
	if (s->cust_batch)
		return TN_OK;
	s->cust_batch = -1;
	if (!s->cluster) {
		if (s->pg)
			s->cust_batch = 3;
		return TN_OK;
	}
	tn_stmt *st = tn_db_prepare(s,
		"SELECT (SELECT count(*) FROM cluster_shards WHERE kind = 'postgres_fdw'), "
		"(to_regclass('tn_customers_id') IS NOT NULL)::int, "
		"(SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass "
		"AND tgname = 'customer_keys_sync' AND (tgtype & 4) <> 0)", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the cluster's set-up", err);
	if (rc == TN_DB_ROW && tn_db_column_int64(st, 0) > 0 && tn_db_column_int64(st, 1) > 0)
		s->cust_batch = tn_db_column_int64(st, 2) > 0 ? 2 : 1;
	tn_db_finalize(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

int tn_store_put_customers(tn_store *s, const tn_customer_rec *r, size_t n, int *outcomes, tn_error *err)
{
	if (customers_batch_mode(s, err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->cust_batch < 0) {
		for (size_t i = 0; i < n; i++)
			if (tn_store_put_customer(s, &r[i], outcomes ? &outcomes[i] : NULL, err))
				return tn_error_code(err, TN_ERR_DB);
		return TN_OK;
	}
	if (n == 0)
		return TN_OK;
	/* TRUNCATE, not DELETE, between batches: a temporary table is never
	 * vacuumed, so each DELETE (and each UPDATE below) left its dead rows in
	 * the heap that the next batch's statements scan -- quadratic: 1M
	 * customers into PostgreSQL stalled at ~4.5 s a 2,000-row batch
	 * (docs/scaling.md, "Session 30") */
	if (load_customers(s, err) ||
	    tn_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS tn_stage_customers(seq BIGINT PRIMARY KEY, ext_id TEXT, "
			     "signed_up_at BIGINT, country TEXT, channel TEXT, attrs TEXT, id BIGINT, "
			     "existed BOOLEAN NOT NULL DEFAULT false, changed BOOLEAN NOT NULL DEFAULT false); "
			     "TRUNCATE tn_stage_customers", err))
		return tn_error_code(err, TN_ERR_DB);
	if (stage_rows(s, "tn_stage_customers", "seq, ext_id, signed_up_at, country, channel, attrs", 6, r, n,
		       bind_customer, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st;
	/* ids: the stored one, else the sequence's next in file order (as row
	 * by row); the key rows first, so that a duplicate ext_id (a writer
	 * elsewhere) is refused before any shard is written; then one INSERT
	 * (postgres_fdw sends it in batches of batch_size), one read of the
	 * stored rows by id (pushed to the shards), and an UPDATE of only the
	 * rows that differ, so that a re-import writes nothing */
	char sql[2048];
	snprintf(sql, sizeof sql,
		 "UPDATE tn_stage_customers s SET id = k.id, existed = true FROM %s k WHERE k.ext_id = s.ext_id; "
		 "UPDATE tn_stage_customers SET attrs = json(coalesce(attrs, '{}')); "
		 "UPDATE tn_stage_customers s SET id = o.id FROM (SELECT seq, nextval(%s) AS id FROM "
		 "(SELECT seq FROM tn_stage_customers WHERE NOT existed ORDER BY seq) q) o WHERE s.seq = o.seq; "
		 "%s"
		 "INSERT INTO customers(id, ext_id, signed_up_at, country, channel, attrs) "
		 "SELECT id, ext_id, signed_up_at, country, channel, attrs FROM tn_stage_customers WHERE NOT existed "
		 "ORDER BY seq; "
		 "UPDATE tn_stage_customers s SET changed = true FROM customers c "
		 "WHERE c.id = ANY(ARRAY(SELECT id FROM tn_stage_customers WHERE existed)) AND s.existed AND c.id = s.id "
		 "AND (c.signed_up_at, c.country, c.channel, c.attrs) IS DISTINCT FROM "
		 "(s.signed_up_at, s.country, s.channel, s.attrs); "
		 "UPDATE customers c SET signed_up_at = s.signed_up_at, country = s.country, channel = s.channel, "
		 "attrs = s.attrs FROM tn_stage_customers s "
		 "WHERE c.id = ANY(ARRAY(SELECT id FROM tn_stage_customers WHERE changed)) AND s.changed AND c.id = s.id",
		 s->cust_batch == 3 ? "customers" : "customer_keys",
		 s->cust_batch == 3 ? "pg_get_serial_sequence('customers', 'id')" : "'tn_customers_id'",
		 s->cust_batch == 1 ? "INSERT INTO customer_keys(ext_id, id) SELECT ext_id, id FROM tn_stage_customers "
				      "WHERE NOT existed ORDER BY seq; "
				    : "");
	int rc = tn_store_exec(s, sql, err);
	if (rc)
		return write_error(s, rc, "writing customers", err);
	static const char out_sql[] = "SELECT seq, id, existed::int, changed::int FROM tn_stage_customers ORDER BY seq";
	if (!(st = tn_db_cached(s, out_sql, err)))
		return tn_error_code(err, TN_ERR_DB);
	size_t got = 0;
	while ((rc = tn_db_step(st, "reading the customers written", err)) == TN_DB_ROW) {
		int64_t seq = tn_db_column_int64(st, 0), id = tn_db_column_int64(st, 1);
		int existed = tn_db_column_int64(st, 2) != 0, changed = tn_db_column_int64(st, 3) != 0;
		if (seq < 0 || (size_t)seq >= n)
			continue;
		got++;
		if ((!existed || changed) && map_put(s, r[seq].id, id)) {
			tn_db_reset(st);
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		}
		if (outcomes)
			outcomes[seq] = !existed ? TN_PUT_ADDED : changed ? TN_PUT_UPDATED : TN_PUT_UNCHANGED;
	}
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return tn_error_code(err, TN_ERR_DB);
	if (got != n)
		return tn_error_set(err, TN_ERR_DB, "internal: %zu customers staged, %zu read back", n, got);
	return TN_OK;
}

/* Step FIND (bound by the caller): the id of the stored record with the same
 * key, or 0 when there is none. */
static int find_row(tn_store *s, tn_stmt *find, const char *what, int64_t *id, tn_error *err)
{
	(void)s;
	int rc = tn_db_step(find, what, err);
	*id = rc == TN_DB_ROW ? tn_db_column_int64(find, 0) : 0;
	tn_db_reset(find);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : rc;
}

/* Step INS (new record) or UPD (bound, ?1 = the stored id, changes nothing
 * when the values are the same) and say which happened. */
static int step_write(tn_store *s, tn_stmt *st, int64_t existing, const char *what, int *outcome,
		      tn_error *err)
{
	int rc = tn_db_step(st, what, err);
	long long changes = tn_db_changes(s);
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return write_error(s, rc, what, err);
	if (outcome)
		*outcome = changes == 0 ? TN_PUT_UNCHANGED : existing ? TN_PUT_UPDATED : TN_PUT_ADDED;
	return TN_OK;
}

int tn_store_put_subscription(tn_store *s, const tn_subscription_rec *r, int *outcome, tn_error *err)
{
	int64_t cid, existing;
	/* matched on the subscription id when given, else on (customer, started_at, plan) */
	if (tn_store_customer_key(s, r->customer, &cid, err) ||
	    prepare_once(s, &s->find_subscription,
			 "SELECT id, 0 FROM subscriptions WHERE ?1 IS NOT NULL AND ext_id = ?1 UNION ALL "
			 "SELECT id, 1 FROM subscriptions WHERE customer_id = ?2 AND started_at = ?3 AND plan = ?4 "
			 "ORDER BY 2 LIMIT 1",
			 err))
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(s->find_subscription, 1, r->id);
	tn_db_bind_int64(s->find_subscription, 2, cid);
	tn_db_bind_time(s->find_subscription, 3, r->started_at);
	tn_db_bind_text(s->find_subscription, 4, r->plan);
	if (find_row(s, s->find_subscription, "reading a subscription", &existing, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st;
	if (existing) {
		if (prepare_once(s, &s->upd_subscription,
				 "UPDATE subscriptions SET customer_id = ?2, ext_id = ?3, plan = ?4, billing_period = ?5, "
				 "price = ?6, currency = ?7, started_at = ?8, trial_ends_at = ?9, "
				 "current_period_end = ?10, cancelled_at = ?11, cancel_reason = ?12, status = ?13 "
				 "WHERE id = ?1 AND (customer_id, ext_id, plan, billing_period, price, currency, "
				 "started_at, trial_ends_at, current_period_end, cancelled_at, cancel_reason, status) "
				 "IS DISTINCT FROM (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
				 err))
			return tn_error_code(err, TN_ERR_DB);
		st = s->upd_subscription;
	} else {
		if (prepare_once(s, &s->ins_subscription,
				 "INSERT INTO subscriptions(customer_id, ext_id, plan, billing_period, price, "
				 "currency, started_at, trial_ends_at, current_period_end, cancelled_at, "
				 "cancel_reason, status) "
				 "VALUES(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
				 err))
			return tn_error_code(err, TN_ERR_DB);
		st = s->ins_subscription;
	}
	if (existing)
		tn_db_bind_int64(st, 1, existing);
	tn_db_bind_int64(st, 2, cid);
	tn_db_bind_text(st, 3, r->id);
	tn_db_bind_text(st, 4, r->plan);
	tn_db_bind_text(st, 5, r->billing_period);
	tn_db_bind_double(st, 6, r->price);
	tn_db_bind_text(st, 7, r->currency);
	tn_db_bind_time(st, 8, r->started_at);
	tn_db_bind_time(st, 9, r->trial_ends_at);
	tn_db_bind_time(st, 10, r->current_period_end);
	tn_db_bind_time(st, 11, r->cancelled_at);
	tn_db_bind_text(st, 12, r->cancel_reason);
	tn_db_bind_text(st, 13, r->status);
	return step_write(s, st, existing, "writing a subscription", outcome, err);
}

int tn_store_put_subscriptions(tn_store *s, const tn_subscription_rec *r, size_t n, int *outcomes, tn_error *err)
{
	if (customers_batch_mode(s, err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->cust_batch < 0) {
		for (size_t i = 0; i < n; i++)
			if (tn_store_put_subscription(s, &r[i], outcomes ? &outcomes[i] : NULL, err))
				return tn_error_code(err, TN_ERR_DB);
		return TN_OK;
	}
	if (n == 0)
		return TN_OK;
	/* ext_id COLLATE "default", not the "C" tn_pg_ddl gives every other
	 * TEXT column: the candidates' ARRAY(SELECT ext_id ...) below is a
	 * parameter of the foreign scans on a cluster, and postgres_fdw sends
	 * no condition whose parameter has a non-default collation -- each
	 * batch then fetched every subscription of the shards and filtered it
	 * on the coordinator (the import quadratic: docs/scaling.md, session
	 * 31).  Text equality is byte equality under both collations. */
	if (tn_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS tn_stage_subscriptions(seq BIGINT PRIMARY KEY, "
			     "customer_id BIGINT, ext_id TEXT COLLATE \"default\", plan TEXT, billing_period TEXT, price DOUBLE PRECISION, "
			     "currency TEXT, started_at BIGINT, trial_ends_at BIGINT, current_period_end BIGINT, "
			     "cancelled_at BIGINT, cancel_reason TEXT, status TEXT, id BIGINT, "
			     "changed BOOLEAN NOT NULL DEFAULT false); "
			     "TRUNCATE tn_stage_subscriptions", err))
		return tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < n; i++) { /* every customer stored (the row is the one refused) */
		int64_t cid;
		if (tn_store_customer_key(s, r[i].customer, &cid, err))
			return tn_error_code(err, TN_ERR_DB);
	}
	if (stage_rows(s, "tn_stage_subscriptions",
		       "seq, customer_id, ext_id, plan, billing_period, price, currency, started_at, trial_ends_at, "
		       "current_period_end, cancelled_at, cancel_reason, status",
		       13, r, n, bind_subscription, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st;
	/* the match of tn_store_put_subscription (the id first, else customer,
	 * started_at and plan) among the candidates read at once: those with
	 * one of the ids, those of the batch's customers (both pushed to the
	 * shards); then the new rows in one INSERT, the differing ones in one
	 * UPDATE.  The match is two equality joins (hashed), not one join on
	 * "id matches OR customer, start and plan match": PostgreSQL can only
	 * run that as a nested loop testing every staged row against every
	 * candidate (2,000 x 2,000 a batch: ~1 s of the coordinator's CPU, most
	 * of a batch through a cluster; docs/scaling.md, session 31). */
	int rc = tn_store_exec(s,
		"UPDATE tn_stage_subscriptions s SET id = m.id FROM ("
		"  WITH x AS MATERIALIZED ("
		"    SELECT id, ext_id, customer_id, started_at, plan FROM subscriptions"
		"     WHERE ext_id = ANY(ARRAY(SELECT ext_id FROM tn_stage_subscriptions WHERE ext_id IS NOT NULL))"
		"        OR customer_id = ANY(ARRAY(SELECT customer_id FROM tn_stage_subscriptions)))"
		"  SELECT DISTINCT ON (seq) seq, id FROM ("
		"    SELECT b.seq, x.id, 0 AS by_key FROM tn_stage_subscriptions b JOIN x ON x.ext_id = b.ext_id"
		"    UNION ALL"
		"    SELECT b.seq, x.id, 1 FROM tn_stage_subscriptions b JOIN x ON x.customer_id = b.customer_id"
		"       AND x.started_at = b.started_at AND x.plan = b.plan) c"
		"  ORDER BY seq, by_key, id) m "
		"WHERE s.seq = m.seq; "
		"INSERT INTO subscriptions(customer_id, ext_id, plan, billing_period, price, currency, started_at, "
		"trial_ends_at, current_period_end, cancelled_at, cancel_reason, status) "
		"SELECT customer_id, ext_id, plan, billing_period, price, currency, started_at, trial_ends_at, "
		"current_period_end, cancelled_at, cancel_reason, status FROM tn_stage_subscriptions WHERE id IS NULL "
		"ORDER BY seq; "
		"UPDATE tn_stage_subscriptions s SET changed = true FROM subscriptions c "
		"WHERE c.id = ANY(ARRAY(SELECT id FROM tn_stage_subscriptions WHERE id IS NOT NULL)) AND c.id = s.id "
		"AND (c.customer_id, c.ext_id, c.plan, c.billing_period, c.price, c.currency, c.started_at, "
		"c.trial_ends_at, c.current_period_end, c.cancelled_at, c.cancel_reason, c.status) IS DISTINCT FROM "
		"(s.customer_id, s.ext_id, s.plan, s.billing_period, s.price, s.currency, s.started_at, "
		"s.trial_ends_at, s.current_period_end, s.cancelled_at, s.cancel_reason, s.status); "
		"UPDATE subscriptions c SET customer_id = s.customer_id, ext_id = s.ext_id, plan = s.plan, "
		"billing_period = s.billing_period, price = s.price, currency = s.currency, started_at = s.started_at, "
		"trial_ends_at = s.trial_ends_at, current_period_end = s.current_period_end, "
		"cancelled_at = s.cancelled_at, cancel_reason = s.cancel_reason, status = s.status "
		"FROM tn_stage_subscriptions s "
		"WHERE c.id = ANY(ARRAY(SELECT id FROM tn_stage_subscriptions WHERE changed)) AND s.changed AND c.id = s.id",
		err);
	if (rc)
		return write_error(s, rc, "writing subscriptions", err);
	static const char out_sql[] = "SELECT seq, (id IS NOT NULL)::int, changed::int FROM tn_stage_subscriptions "
				      "ORDER BY seq";
	if (!(st = tn_db_cached(s, out_sql, err)))
		return tn_error_code(err, TN_ERR_DB);
	size_t got = 0;
	while ((rc = tn_db_step(st, "reading the subscriptions written", err)) == TN_DB_ROW) {
		int64_t seq = tn_db_column_int64(st, 0);
		int existed = tn_db_column_int64(st, 1) != 0, changed = tn_db_column_int64(st, 2) != 0;
		if (seq < 0 || (size_t)seq >= n)
			continue;
		got++;
		if (outcomes)
			outcomes[seq] = !existed ? TN_PUT_ADDED : changed ? TN_PUT_UPDATED : TN_PUT_UNCHANGED;
	}
	tn_db_reset(st);
	if (rc != TN_DB_DONE)
		return tn_error_code(err, TN_ERR_DB);
	if (got != n)
		return tn_error_set(err, TN_ERR_DB, "internal: %zu subscriptions staged, %zu read back", n, got);
	return TN_OK;
}

/* What putting a payment or a feedback row shares: the statements (each
 * prepared once, in the store's slots) and the matching.  A row is matched
 * on the record's own id when given, else on (customer, instant, MATCH: the
 * status or the kind) among the rows without one. */
typedef struct put_sql {
	tn_stmt **find, **upd, **ins;
	const char *find_sql, *upd_sql, *ins_sql, *reading;
} put_sql;

/* Find the existing row (*existing, 0 if none) and prepare the statement
 * that writes the record (*st): the update has the row id at ?1, so the
 * record's columns start at ?(1 + *off); the customer's key and the instant
 * are bound here as the first two of them. */
static int put_match(tn_store *s, const put_sql *q, const char *customer, const char *id, tn_time at,
		     const char *match, int64_t *existing, tn_stmt **st, int *off, tn_error *err)
{
	int64_t cid;
	if (tn_store_customer_key(s, customer, &cid, err) || prepare_once(s, q->find, q->find_sql, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_db_bind_text(*q->find, 1, id);
	tn_db_bind_int64(*q->find, 2, cid);
	tn_db_bind_int64(*q->find, 3, at);
	tn_db_bind_text(*q->find, 4, match);
	if (find_row(s, *q->find, q->reading, existing, err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt **slot = *existing ? q->upd : q->ins;
	if (prepare_once(s, slot, *existing ? q->upd_sql : q->ins_sql, err))
		return tn_error_code(err, TN_ERR_DB);
	*st = *slot;
	*off = *existing ? 1 : 0; /* the insert has no id parameter */
	if (*existing)
		tn_db_bind_int64(*st, 1, *existing);
	tn_db_bind_int64(*st, 1 + *off, cid);
	tn_db_bind_int64(*st, 2 + *off, at);
	return TN_OK;
}

int tn_store_put_payment(tn_store *s, const tn_payment_rec *r, int *outcome, tn_error *err)
{
	const put_sql q = {
		&s->find_payment, &s->upd_payment, &s->ins_payment,
		"SELECT id FROM payments WHERE ?1 <> '' AND ext_id = ?1 UNION ALL "
		"SELECT id FROM payments WHERE coalesce(?1, '') = '' AND customer_id = ?2 AND paid_at = ?3 AND status = ?4 AND ext_id = '' "
		"LIMIT 1",
		"UPDATE payments SET customer_id = ?2, paid_at = ?3, amount = ?4, currency = ?5, "
		"status = ?6 WHERE id = ?1 AND (customer_id, paid_at, amount, currency, status) "
		"IS DISTINCT FROM (?2, ?3, ?4, ?5, ?6)",
		"INSERT INTO payments(customer_id, paid_at, amount, currency, status, ext_id) "
		"VALUES(?1, ?2, ?3, ?4, ?5, coalesce(?6, ''))",
		"reading a payment"};
	int64_t existing;
	tn_stmt *st;
	int o;
	int rc = put_match(s, &q, r->customer, r->id, r->at, r->status, &existing, &st, &o, err);
	if (rc)
		return rc;
	tn_db_bind_double(st, 3 + o, r->amount);
	tn_db_bind_text(st, 4 + o, r->currency);
	tn_db_bind_text(st, 5 + o, r->status);
	if (!existing)
		tn_db_bind_text(st, 6, r->id);
	return step_write(s, st, existing, "writing a payment", outcome, err);
}

int tn_store_put_feedback(tn_store *s, const tn_feedback_rec *r, int *outcome, tn_error *err)
{
	const put_sql q = {
		&s->find_feedback, &s->upd_feedback, &s->ins_feedback,
		"SELECT id FROM feedback WHERE ?1 <> '' AND ext_id = ?1 UNION ALL "
		"SELECT id FROM feedback WHERE coalesce(?1, '') = '' AND customer_id = ?2 AND given_at = ?3 AND kind = ?4 AND ext_id = '' "
		"LIMIT 1",
		"UPDATE feedback SET customer_id = ?2, given_at = ?3, kind = ?4, score = ?5, "
		"answer = ?6, language = ?7 WHERE id = ?1 AND (customer_id, given_at, kind, score, "
		"answer, language) IS DISTINCT FROM (?2, ?3, ?4, ?5, ?6, ?7)",
		"INSERT INTO feedback(customer_id, given_at, kind, score, answer, language, ext_id) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, coalesce(?7, ''))",
		"reading feedback"};
	int64_t existing;
	tn_stmt *st;
	int o;
	int rc = put_match(s, &q, r->customer, r->id, r->at, r->kind, &existing, &st, &o, err);
	if (rc)
		return rc;
	tn_db_bind_text(st, 3 + o, r->kind);
	tn_db_bind_double(st, 4 + o, r->score);
	tn_db_bind_text(st, 5 + o, r->answer);
	tn_db_bind_text(st, 6 + o, r->language);
	if (!existing)
		tn_db_bind_text(st, 7, r->id);
	return step_write(s, st, existing, "writing feedback", outcome, err);
}

/* ---- events -------------------------------------------------------------- */

static int ev_cmp(const void *a, const void *b)
{
	const ev_row *x = a, *y = b;
	if (x->cid != y->cid)
		return x->cid < y->cid ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->eid == y->eid) /* both the shared empty string */
		return 0;
	return strcmp(x->eid, y->eid);
}

#define TN_WRITER_CACHE_KIB 65536 /* cache_size of a writer (tn_store_open) */

void tn_store_bulk(tn_store *s, int on)
{
	s->bulk = on ? 1 : 0;
	if (!on && s->bulk_cache && s->db) { /* a hint: a failure changes only the speed */
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", TN_WRITER_CACHE_KIB);
		sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		s->bulk_cache = 0;
	}
}

void tn_store_bulk_size(tn_store *s, long long bytes)
{
	long long kib = bytes / 1024;
	if (!s->db || s->pg || kib <= TN_WRITER_CACHE_KIB)
		return;
	if (kib > 1048576)
		kib = 1048576;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%lld", kib);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK) /* a hint, as above */
		s->bulk_cache = 1;
}

static const char SQL_EVENTS_KEY[] = "ALTER TABLE events ADD CONSTRAINT events_pkey "
				     "PRIMARY KEY (customer_id, occurred_at, type_id, ext_id)";
/* the later copies of a repeated event; the first one stays, as SQLite's
 * INSERT OR IGNORE keeps it */
static const char SQL_EVENTS_REPEATS[] = "DELETE FROM events e USING (SELECT ctid AS c, row_number() OVER "
					 "(PARTITION BY customer_id, occurred_at, type_id, ext_id ORDER BY ctid) AS rn "
					 "FROM events) d WHERE e.ctid = d.c AND d.rn > 1";

/* maintenance_work_mem for the key of ROWS rows (see bulk_done), as SQL */
static void key_memory(char *sql, size_t cap, long long rows)
{
	long long kb = rows * 128 / 1024;
	kb = kb < 65536 ? 65536 : kb > 1048576 ? 1048576 : kb;
	snprintf(sql, cap, "SET LOCAL maintenance_work_mem = '%lldkB'; "
		 "SET LOCAL max_parallel_maintenance_workers = 0", kb);
}

/* The bulk load's end: build the events key again by sorting.  When the
 * rows hold duplicates, the later copies are deleted first (the first one
 * stays, as SQLite's INSERT OR IGNORE keeps it) and no longer count as
 * added. */
static int bulk_done(tn_store *s, tn_error *err)
{
	if (s->bulk != 2)
		return TN_OK;
	s->bulk = 3;
	if (tn_pg_copy_is_open(s->pg)) {
		long long rows = 0;
		if (tn_pg_copy_end(s->pg, &rows, err))
			return tn_error_code(err, TN_ERR_DB);
	}
	/* the key is built by one sort, in memory when it fits: PostgreSQL's
	 * in-memory sort of this key takes about 90 bytes a row (trace_sort: 87
	 * MB for a million rows with empty ext_ids); at 80 bytes a row the sort
	 * of a million rows spilled to disk.  One process, no parallel workers:
	 * on two cores the workers (and the leader that merges their runs) cost
	 * 40-100% more CPU for the same index and were not faster (1M rows: 0.75
	 * CPU-s in memory alone, 1.1-1.7 in parallel; docs/scaling.md) */
	char mwm[128];
	key_memory(mwm, sizeof mwm, s->bulk_rows);
	s->bulk_rows = 0;
	if (tn_store_exec(s, mwm, err))
		return tn_error_code(err, TN_ERR_DB);
	static const char *const add_key = SQL_EVENTS_KEY;
	if (tn_store_exec(s, "SAVEPOINT tn_key", err))
		return tn_error_code(err, TN_ERR_DB);
	if (tn_store_exec(s, add_key, NULL) == TN_OK)
		return tn_store_exec(s, "RELEASE tn_key", err);
	if (!tn_db_constraint_failed(s))
		return tn_store_exec(s, add_key, err); /* the error, once more, with its message */
	if (tn_store_exec(s, "ROLLBACK TO tn_key", err))
		return tn_error_code(err, TN_ERR_DB);
	tn_stmt *st = tn_db_prepare(s, SQL_EVENTS_REPEATS, err);
	int rc = st ? tn_db_step(st, "removing repeated events", err) : TN_ERR_DB;
	if (rc == TN_DB_DONE) {
		rc = TN_OK;
		s->ev_added -= tn_db_changes(s);
	}
	tn_db_finalize(st);
	if (!rc)
		rc = tn_store_exec(s, add_key, err);
	if (!rc)
		rc = tn_store_exec(s, "RELEASE tn_key", err);
	return rc;
}

int tn_store_flush(tn_store *s, long long *added, tn_error *err)
{
	int rc = flush_events(s, err);
	if (!rc)
		rc = bulk_done(s, err);
	if (!rc)
		rc = shards_done(s, err);
	if (added)
		*added = s->ev_added;
	s->ev_added = 0;
	return rc;
}

/* Sort the buffer by (customer, time) with an LSD radix sort on a packed
 * 64-bit key (tn_radix_sort_kv) -- several times faster than qsort here -- then put runs with
 * equal (customer, time) in full key order with an insertion sort (such runs
 * are short).  When the buffer's times already rise in file order (an export
 * in time order, the usual case) the key is the customer alone: the sort is
 * stable, so each customer's rows stay in time order, and the customer's
 * bits need two passes instead of the four of customer and time (10,000
 * customers and 262,144 rows 7 s apart: 14 bits against 35; digits of up to
 * 11 bits).  Returns -1 when the keys do not pack (then qsort is used). */
static int sort_events(tn_store *s)
{
	size_t n = s->nev;
	int64_t cmin = INT64_MAX, cmax = INT64_MIN, tmin = INT64_MAX, tmax = INT64_MIN;
	int rising = 1;
	for (size_t i = 0; i < n; i++) {
		const ev_row *e = &s->ev[i];
		if (e->cid < cmin)
			cmin = e->cid;
		if (e->cid > cmax)
			cmax = e->cid;
		if (e->at < tmin)
			tmin = e->at;
		if (e->at > tmax)
			tmax = e->at;
		if (i && e->at < e[-1].at)
			rising = 0;
	}
	uint64_t crange = (uint64_t)(cmax - cmin), trange = (uint64_t)(tmax - tmin);
	int tbits = 0;
	while (!rising && tbits < 64 && (trange >> tbits))
		tbits++;
	int cbits = 0;
	while (cbits < 64 && (crange >> cbits))
		cbits++;
	if (cbits + tbits > 64 || n < 64)
		return -1;
	if (s->sort_cap < n) {
		free(s->sort_a);
		free(s->sort_b);
		free(s->sort_out);
		s->sort_a = tn_malloc(n * sizeof(tn_radix_kv));
		s->sort_b = tn_malloc(n * sizeof(tn_radix_kv));
		/* the event buffer's size: the sorted rows become the buffer */
		s->sort_out = tn_malloc(TN_EVENT_BUFFER * sizeof(ev_row));
		s->sort_cap = n;
		if (!s->sort_a || !s->sort_b || !s->sort_out) {
			free(s->sort_a);
			free(s->sort_b);
			free(s->sort_out);
			s->sort_a = s->sort_b = s->sort_out = NULL;
			s->sort_cap = 0;
			return -1;
		}
	}
	tn_radix_kv *a = s->sort_a;
	ev_row *out = s->sort_out;
	/* rising: tbits is 0, the key is the customer alone */
	for (size_t i = 0; i < n; i++) {
		a[i].key = ((uint64_t)(s->ev[i].cid - cmin) << tbits) | (rising ? 0 : (uint64_t)(s->ev[i].at - tmin));
		a[i].idx = (uint32_t)i;
	}
	a = tn_radix_sort_kv(a, s->sort_b, n, cbits + tbits);
	for (size_t i = 0; i < n; i++)
		out[i] = s->ev[a[i].idx];
	/* equal (customer, time): order by type and event id */
	for (size_t i = 1; i < n; i++) {
		if (out[i].cid != out[i - 1].cid || out[i].at != out[i - 1].at)
			continue;
		ev_row x = out[i];
		size_t j = i;
		while (j > 0 && out[j - 1].cid == x.cid && out[j - 1].at == x.at && ev_cmp(&out[j - 1], &x) > 0) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = x;
	}
	s->sort_out = s->ev; /* swap: no copy back */
	s->ev = out;
	return 0;
}

/* ---- events on PostgreSQL: COPY ------------------------------------------ */

/* Two digits a step from a table, and the digits copied by one fixed-size
 * copy (a variable-length memcpy is a call per number): COPY's text is mostly
 * integers, four a row.  Writes up to 25 bytes at P (copy_rows reserves 24 a
 * number and 40 more a row); returns the end of the number. */
static const char digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

static char *put_int(char *p, int64_t v)
{
	char tmp[48];
	char *end = tmp + 24, *t = end;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	while (u >= 100) {
		unsigned d = (unsigned)(u % 100) * 2;
		u /= 100;
		*--t = digits2[d + 1];
		*--t = digits2[d];
	}
	if (u >= 10) {
		*--t = digits2[u * 2 + 1];
		*--t = digits2[u * 2];
	} else {
		*--t = (char)('0' + u);
	}
	if (v < 0)
		*p++ = '-';
	memcpy(p, t, 24); /* t >= tmp + 4: at most 20 digits */
	return p + (end - t);
}

/* COPY's text format: tab-separated, \N for NULL, backslash escapes.
 * STREAM (the bulk load into events): the COPY stays open across flushes and
 * the rows are queued without waiting for the server, which parses them
 * while tenure reads the next batch (tn_pg_copy_stream); bulk_done, or any
 * other statement, ends it.  Each batch first waits until the previous one
 * has gone, so that at most one batch sits in memory. */
static int copy_rows(tn_store *s, tn_pg *pg, const char *table, const unsigned char *route, int shard, int with_tag,
		     int stream, tn_error *err)
{
	char sql[160];
	snprintf(sql, sizeof sql, "COPY %s(customer_id, occurred_at, type_id, ext_id, amount%s) FROM STDIN", table,
		 with_tag ? ", seq, tag" : "");
	int wait = stream && tn_pg_copy_is_open(pg);
	if (!wait && (stream ? tn_pg_copy_stream(pg, sql, err) : tn_pg_copy_begin(pg, sql, err)))
		return tn_error_code(err, TN_ERR_DB);
	size_t cap = 1 << 20, len = 0;
	char *buf = tn_malloc(cap);
	if (!buf) {
		tn_pg_copy_end(pg, NULL, NULL);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
#define PUT(b, n) (stream ? tn_pg_copy_queue(pg, b, n, wait, err) : tn_pg_copy_put(pg, b, n, err))
	int rc = TN_OK;
	for (size_t i = 0; i < s->nev && !rc; i++) {
		if (route && route[i] != shard)
			continue;
		const ev_row *e = &s->ev[i];
		size_t el = e->elen;
		if (len + 5 * 24 + 2 * el + 40 > cap) {
			rc = PUT(buf, len);
			wait = 0;
			len = 0;
			if (5 * 24 + 2 * el + 40 > cap) {
				char *nb = tn_realloc(buf, cap = 5 * 24 + 2 * el + 40);
				if (!nb) {
					rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
					break;
				}
				buf = nb;
			}
		}
		char *p = buf + len;
		p = put_int(p, e->cid);
		*p++ = '\t';
		p = put_int(p, e->at);
		*p++ = '\t';
		p = put_int(p, e->tid);
		*p++ = '\t';
		for (const char *c = e->eid; el && *c; c++) {
			switch (*c) {
			case '\\': *p++ = '\\'; *p++ = '\\'; break;
			case '\t': *p++ = '\\'; *p++ = 't'; break;
			case '\n': *p++ = '\\'; *p++ = 'n'; break;
			case '\r': *p++ = '\\'; *p++ = 'r'; break;
			default: *p++ = *c;
			}
		}
		*p++ = '\t';
		if (isnan(e->amount)) {
			*p++ = '\\';
			*p++ = 'N';
		} else if (e->amount == (double)(int64_t)e->amount && fabs(e->amount) < 1e15) {
			p = put_int(p, (int64_t)e->amount);
		} else {
			p += snprintf(p, 32, "%.17g", e->amount);
		}
		if (with_tag) {
			*p++ = '\t';
			p = put_int(p, (int64_t)i);
			*p++ = '\t';
			p = put_int(p, (int64_t)e->tag);
		}
		*p++ = '\n';
		len = (size_t)(p - buf);
	}
	if (!rc && len)
		rc = PUT(buf, len);
#undef PUT
	free(buf);
	if (stream) {
		if (rc)
			tn_pg_copy_end(pg, NULL, NULL);
		else
			tn_pg_copy_poll(pg);
		return rc;
	}
	long long rows = 0;
	int erc = tn_pg_copy_end(pg, &rows, rc ? NULL : err);
	return rc ? rc : erc;
}

/* ---- events on a cluster: straight into the shards -----------------------
 * Through the coordinator, a million events cost about 2 CPU-s on the
 * coordinator's backend (the temporary table, the INSERT ... SELECT routed
 * to the foreign partitions, postgres_fdw's parameters as text) and 3 on
 * each shard (INSERTs of 1,000 rows, the key checked row by row), in
 * batches the coordinator waits for one by one: 33-50k rows/s against 490k
 * into one server by COPY (docs/scaling.md, Session 30).  A bulk import (tn_store_bulk) on a postgres_fdw coordinator
 * therefore opens connections of its own to the shards, with the foreign
 * servers' options (tn_cluster_connect), asks the coordinator which shard
 * each customer's rows go to (satisfies_hash_partition: the partitions'
 * own hash, never a copy of it), and COPYs each shard's rows into its
 * events table as the single node does: an empty shard loses its key and
 * takes the rows streamed, its key rebuilt (repeats removed) at the end;
 * a shard with events takes each buffer by COPY in a savepoint, and when a
 * row is already there, through a temporary table with ON CONFLICT DO
 * NOTHING.  The shards' transactions commit just before the coordinator's,
 * in the order postgres_fdw commits its own (not two-phase either).  When a
 * shard cannot be reached from here (its address is the coordinator's
 * view), the import goes through the coordinator as before. */

/* one value of a one-row query on a shard */
static int shard_int(tn_pg *pg, const char *sql, const char *what, long long *out, tn_error *err)
{
	tn_pgstmt *st = tn_pg_prepare(pg, sql, 0, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_pg_step(st, what, err);
	*out = rc == TN_DB_ROW ? tn_pg_column_int64(st, 0) : 0;
	tn_pg_finalize(st);
	return rc == TN_DB_ROW ? TN_OK : rc == TN_DB_DONE ? tn_error_set(err, TN_ERR_DB, "%s: no answer", what) : rc;
}

/* The first flush of a transaction: connections (once per store), each
 * shard's transaction, and an empty shard's key dropped. */
static int shards_begin(tn_store *s, tn_error *err)
{
	if (!s->shard) {
		tn_error cerr;
		tn_error_clear(&cerr);
		if (tn_cluster_connect(s, &s->shard, &s->nshard, &cerr)) {
			if (cerr.code == TN_ERR_NOMEM)
				return tn_error_set(err, TN_ERR_NOMEM, "%s", cerr.msg);
			s->shard_off = 1; /* postgres_fdw's way: the coordinator reaches them */
			return TN_OK;
		}
		s->shard_stream = tn_calloc((size_t)s->nshard, 1);
		s->shard_rows = tn_calloc((size_t)s->nshard, sizeof *s->shard_rows);
		if (!s->shard_stream || !s->shard_rows)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	s->shard_txn = 1;
	for (int k = 0; k < s->nshard; k++) {
		tn_pg *pg = s->shard[k];
		long long any = 0;
		if (tn_pg_exec(pg, "BEGIN", "beginning the import on the shard", err) ||
		    shard_int(pg, "SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) x", "looking at the shard's events",
			      &any, err))
			return tn_error_code(err, TN_ERR_DB);
		s->shard_stream[k] = !any;
		s->shard_rows[k] = 0;
		if (!any && tn_pg_exec(pg, "ALTER TABLE events DROP CONSTRAINT events_pkey", "dropping the events key", err))
			return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

/* s->route[i] = the shard of buffered event i, from the coordinator's
 * hash partitioning of events (one query a buffer, its distinct
 * customers). */
static int shards_route(tn_store *s, tn_error *err)
{
	if (s->route_cap < s->nev) {
		unsigned char *nr = tn_realloc(s->route, s->nev);
		if (!nr)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		s->route = nr;
		s->route_cap = s->nev;
	}
	/* the buffer is sorted by customer: its distinct ids, in order */
	/* put_int writes 25 bytes whatever the number's length: room for the last */
	size_t cap = 32 + s->nev * 22, len = 0, nd = 0;
	char *arr = tn_malloc(cap);
	int64_t *ids = tn_malloc(s->nev * sizeof *ids);
	unsigned char *shard = tn_malloc(s->nev);
	int rc = arr && ids && shard ? TN_OK : tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!rc) {
		arr[len++] = '{';
		for (size_t i = 0; i < s->nev; i++)
			if (i == 0 || s->ev[i].cid != s->ev[i - 1].cid) {
				if (nd)
					arr[len++] = ',';
				len = (size_t)(put_int(arr + len, s->ev[i].cid) - arr);
				ids[nd++] = s->ev[i].cid;
			}
		arr[len++] = '}';
		arr[len] = '\0';
	}
	tn_stmt *st = rc ? NULL
			 : tn_db_prepare(s, "SELECT x, r FROM unnest(?1::bigint[]) x, generate_series(0, ?2::int - 1) r "
					    "WHERE satisfies_hash_partition('events'::regclass, ?2::int, r, x)", err);
	if (!rc && !st)
		rc = tn_error_code(err, TN_ERR_DB);
	int step = TN_DB_DONE;
	size_t got = 0;
	if (!rc) {
		tn_db_bind_text(st, 1, arr);
		tn_db_bind_int64(st, 2, s->nshard);
		memset(shard, 0xff, nd);
		while ((step = tn_db_step(st, "finding the customers' shards", err)) == TN_DB_ROW) {
			int64_t x = tn_db_column_int64(st, 0), r = tn_db_column_int64(st, 1);
			int64_t at = tn_sorted_find_i64(ids, nd, x); /* ids is sorted */
			if (at >= 0 && r >= 0 && r < s->nshard && shard[at] == 0xff) {
				shard[at] = (unsigned char)r;
				got++;
			}
		}
		if (step != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
		else if (got != nd)
			rc = tn_error_set(err, TN_ERR_DB, "internal: %zu of %zu customers have no shard", nd - got, nd);
	}
	tn_db_finalize(st);
	if (!rc)
		for (size_t i = 0, d = 0; i < s->nev; i++) {
			if (i && s->ev[i].cid != s->ev[i - 1].cid)
				d++;
			s->route[i] = shard[d];
		}
	free(arr);
	free(ids);
	free(shard);
	return rc;
}

/* The buffer into the shards; *ADDED the rows added (a streaming shard's
 * repeats are taken off at shards_done). */
static int shards_flush(tn_store *s, long long *added, tn_error *err)
{
	if (!s->shard_txn && shards_begin(s, err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->shard_off)
		return TN_OK;
	if (shards_route(s, err))
		return tn_error_code(err, TN_ERR_DB);
	long long *count = tn_calloc((size_t)s->nshard, sizeof *count);
	if (!count)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < s->nev; i++)
		count[s->route[i]]++;
	int rc = TN_OK;
	/* the streaming shards first: they parse while the others are sent */
	for (int k = 0; k < s->nshard && !rc; k++)
		if (s->shard_stream[k] && count[k]) {
			rc = copy_rows(s, s->shard[k], "events", s->route, k, 0, 1, err);
			s->shard_rows[k] += count[k];
			*added += count[k];
		}
	for (int k = 0; k < s->nshard && !rc; k++) {
		tn_pg *pg = s->shard[k];
		if (s->shard_stream[k] || !count[k])
			continue;
		if (tn_pg_exec(pg, "SAVEPOINT tn_copy", "running SAVEPOINT", err))
			rc = tn_error_code(err, TN_ERR_DB);
		tn_error quiet;
		tn_error_clear(&quiet);
		if (rc) {
		} else if (copy_rows(s, pg, "events", s->route, k, 0, 0, &quiet) == TN_OK) {
			*added += count[k];
			rc = tn_pg_exec(pg, "RELEASE tn_copy", "running RELEASE", err);
		} else if (!tn_pg_constraint_failed(pg)) {
			rc = tn_error_set(err, quiet.code ? quiet.code : TN_ERR_DB, "%s", quiet.msg);
		} else if (tn_pg_exec(pg, "ROLLBACK TO tn_copy; RELEASE tn_copy", "running ROLLBACK", err) ||
			   tn_pg_exec(pg, "CREATE TEMP TABLE IF NOT EXISTS tn_events_load "
				      "(LIKE events INCLUDING DEFAULTS, seq BIGINT, tag BIGINT); TRUNCATE tn_events_load",
				      "making the shard's load table", err) ||
			   copy_rows(s, pg, "tn_events_load", s->route, k, 1, 0, err)) {
			rc = tn_error_code(err, TN_ERR_DB);
		} else {
			/* seq: the row's place in the sorted buffer, so that of two
			 * equal rows the first is the one added (as on SQLite) */
			tn_pgstmt *st = tn_pg_prepare(pg, "INSERT INTO events(customer_id, occurred_at, type_id, ext_id, "
							  "amount) SELECT customer_id, occurred_at, type_id, ext_id, amount "
							  "FROM tn_events_load ORDER BY seq ON CONFLICT DO NOTHING", 0, err);
			int step = st ? tn_pg_step(st, "writing events", err) : TN_ERR_DB;
			if (step == TN_DB_DONE)
				*added += tn_pg_changes(pg);
			else
				rc = tn_error_code(err, TN_ERR_DB);
			tn_pg_finalize(st);
			if (!rc)
				rc = tn_pg_exec(pg, "TRUNCATE tn_events_load", "running TRUNCATE", err);
		}
	}
	free(count);
	return rc;
}

/* The streaming shards' COPY ended and their key built again (repeats
 * removed first, no longer counted as added). */
static int shards_done(tn_store *s, tn_error *err)
{
	for (int k = 0; k < s->nshard && s->shard_txn; k++) {
		tn_pg *pg = s->shard[k];
		if (!s->shard_stream[k])
			continue;
		s->shard_stream[k] = 0; /* the key is back: later buffers go by savepoint */
		long long rows = 0;
		if (tn_pg_copy_is_open(pg) && tn_pg_copy_end(pg, &rows, err))
			return tn_error_code(err, TN_ERR_DB);
		char mwm[128];
		key_memory(mwm, sizeof mwm, s->shard_rows[k]);
		if (tn_pg_exec(pg, mwm, "setting the key build's memory", err) ||
		    tn_pg_exec(pg, "SAVEPOINT tn_key", "running SAVEPOINT", err))
			return tn_error_code(err, TN_ERR_DB);
		if (tn_pg_exec(pg, SQL_EVENTS_KEY, "building the events key", NULL) == TN_OK) {
			if (tn_pg_exec(pg, "RELEASE tn_key", "running RELEASE", err))
				return tn_error_code(err, TN_ERR_DB);
			continue;
		}
		if (!tn_pg_constraint_failed(pg))
			return tn_pg_exec(pg, SQL_EVENTS_KEY, "building the events key", err); /* the error, with its message */
		if (tn_pg_exec(pg, "ROLLBACK TO tn_key", "running ROLLBACK", err))
			return tn_error_code(err, TN_ERR_DB);
		tn_pgstmt *st = tn_pg_prepare(pg, SQL_EVENTS_REPEATS, 0, err);
		int step = st ? tn_pg_step(st, "removing repeated events", err) : TN_ERR_DB;
		if (step == TN_DB_DONE)
			s->ev_added -= tn_pg_changes(pg);
		tn_pg_finalize(st);
		if (step != TN_DB_DONE)
			return tn_error_code(err, TN_ERR_DB);
		if (tn_pg_exec(pg, SQL_EVENTS_KEY, "building the events key", err) ||
		    tn_pg_exec(pg, "RELEASE tn_key", "running RELEASE", err))
			return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

/* Commit the shards' parts, just before the coordinator's commit; a
 * failure leaves the shards not yet committed to tn_store_rollback. */
static int shards_commit(tn_store *s, tn_error *err)
{
	if (!s->shard_txn)
		return TN_OK;
	for (int k = 0; k < s->nshard; k++) {
		if (s->shard_stream[k])
			return tn_error_set(err, TN_ERR_DB, "internal: a shard's events key was not built again");
		if (tn_pg_in_txn(s->shard[k]) && tn_pg_exec(s->shard[k], "COMMIT", "committing on the shard", err))
			return tn_error_code(err, TN_ERR_DB);
	}
	s->shard_txn = 0;
	return TN_OK;
}

static void shards_rollback(tn_store *s)
{
	if (!s->shard_txn)
		return;
	for (int k = 0; k < s->nshard; k++) {
		tn_pg *pg = s->shard[k];
		if (tn_pg_copy_is_open(pg))
			tn_pg_copy_end(pg, NULL, NULL);
		if (tn_pg_in_txn(pg))
			tn_pg_exec(pg, "ROLLBACK", "rolling back on the shard", NULL);
		s->shard_stream[k] = 0;
	}
	s->shard_txn = 0;
}

/* Write the buffer with COPY straight into events; when a row is already
 * there (a re-import) COPY refuses the batch, which is then copied into a
 * temporary table and inserted skipping the rows present -- the slower way,
 * only when needed.  Inside a savepoint, so that the refusal does not end
 * the caller's transaction. */
static int flush_events_pg(tn_store *s, long long *added, tn_error *err)
{
	int own = !s->in_txn;
	if (own && tn_store_exec(s, "BEGIN", err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->cluster && s->bulk && !own && !s->tag_added && !s->shard_off) {
		int rc = shards_flush(s, added, err);
		if (rc || !s->shard_off)
			return rc;
	}
	if (s->bulk == 1 && !own && !s->cluster) { /* a coordinator's events are foreign partitions */
		/* the bulk load's first flush: an empty table loses its key
		 * until bulk_done */
		tn_stmt *st = tn_db_prepare(s, "SELECT NOT EXISTS (SELECT 1 FROM events)", err);
		int rc = st ? tn_db_step(st, "looking at the events", err) : TN_ERR_DB;
		int empty = rc == TN_DB_ROW && tn_db_column_int64(st, 0) == 1;
		tn_db_finalize(st);
		if (rc != TN_DB_ROW && rc != TN_DB_DONE)
			return rc;
		s->bulk = 3;
		if (empty) {
			if (tn_store_exec(s, "ALTER TABLE events DROP CONSTRAINT events_pkey", err))
				return tn_error_code(err, TN_ERR_DB);
			s->bulk = 2;
			s->bulk_rows = 0;
		}
	}
	if (s->bulk == 2 && !own) {
		/* no key to conflict with: straight in; bulk_done sorts it out */
		int rc = copy_rows(s, s->pg, "events", NULL, 0, 0, 1, err);
		if (!rc) {
			s->bulk_rows += (long long)s->nev;
			*added = (long long)s->nev;
			if (s->tag_added)
				for (size_t i = 0; i < s->nev; i++)
					if (s->ev[i].tag < s->ntags)
						s->tag_added[s->ev[i].tag]++;
		}
		return rc;
	}
	int rc = tn_store_exec(s, "SAVEPOINT tn_copy", err);
	if (!rc) {
		tn_error quiet = {0};
		/* on a cluster coordinator COPY into the partitioned events would
		 * send one row per round trip to the shards (PostgreSQL 15); the
		 * INSERT ... SELECT from the temporary table goes in batches
		 * (postgres_fdw batch_size) */
		if (!s->cluster && copy_rows(s, s->pg, "events", NULL, 0, 0, 0, &quiet) == TN_OK) {
			*added = (long long)s->nev;
			if (s->tag_added)
				for (size_t i = 0; i < s->nev; i++)
					if (s->ev[i].tag < s->ntags)
						s->tag_added[s->ev[i].tag]++;
			rc = tn_store_exec(s, "RELEASE tn_copy", err);
		} else if (!s->cluster && !tn_db_constraint_failed(s)) {
			tn_error_set(err, quiet.code, "%s", quiet.msg);
			rc = quiet.code;
		} else {
			rc = tn_store_exec(s, "ROLLBACK TO tn_copy; RELEASE tn_copy", err);
			/* seq: the row's place in the sorted buffer, so that of two
			 * equal rows the first is the one added (as on SQLite);
			 * tag: the request it came with (tn_store_count_by_tag) */
			if (!rc)
				rc = tn_store_exec(s, "CREATE TEMP TABLE IF NOT EXISTS tn_events_load "
						      "(LIKE events INCLUDING DEFAULTS, seq BIGINT, tag BIGINT); "
						      "TRUNCATE tn_events_load", err);
			if (!rc)
				rc = copy_rows(s, s->pg, "tn_events_load", NULL, 0, 1, 0, err);
			if (!rc && !s->tag_added) {
				tn_stmt *st = tn_db_prepare(s, "INSERT INTO events(customer_id, occurred_at, type_id, "
							       "ext_id, amount) SELECT customer_id, occurred_at, type_id, "
							       "ext_id, amount FROM tn_events_load ORDER BY seq "
							       "ON CONFLICT DO NOTHING", err);
				rc = st ? tn_db_step(st, "writing events", err) : TN_ERR_DB;
				if (rc == TN_DB_DONE) {
					rc = TN_OK;
					*added = tn_db_changes(s);
				}
				tn_db_finalize(st);
			} else if (!rc) {
				/* the rows added, counted by the request they came with */
				tn_stmt *st = tn_db_prepare(s,
					"WITH ins AS (INSERT INTO events(customer_id, occurred_at, type_id, ext_id, amount) "
					"SELECT customer_id, occurred_at, type_id, ext_id, amount FROM tn_events_load "
					"ORDER BY seq ON CONFLICT DO NOTHING "
					"RETURNING customer_id, occurred_at, type_id, ext_id) "
					"SELECT f.tag, count(*) FROM (SELECT DISTINCT ON (l.customer_id, l.occurred_at, "
					"l.type_id, l.ext_id) l.tag FROM tn_events_load l JOIN ins ON "
					"ins.customer_id = l.customer_id AND ins.occurred_at = l.occurred_at AND "
					"ins.type_id = l.type_id AND ins.ext_id = l.ext_id "
					"ORDER BY l.customer_id, l.occurred_at, l.type_id, l.ext_id, l.seq) f GROUP BY f.tag",
					err);
				rc = st ? TN_OK : TN_ERR_DB;
				while (!rc && (rc = tn_db_step(st, "writing events", err)) == TN_DB_ROW) {
					int64_t tag = tn_db_column_int64(st, 0), n = tn_db_column_int64(st, 1);
					*added += n;
					if (tag >= 0 && (size_t)tag < s->ntags)
						s->tag_added[tag] += n;
					rc = TN_OK;
				}
				if (rc == TN_DB_DONE)
					rc = TN_OK;
				tn_db_finalize(st);
			}
			if (!rc)
				rc = tn_store_exec(s, "TRUNCATE tn_events_load", err);
		}
	}
	if (own) {
		if (!rc)
			rc = tn_store_exec(s, "COMMIT", err);
		else
			tn_store_exec(s, "ROLLBACK", NULL);
	}
	return rc;
}

/* ---- events into the journal (the server's writer) ---------------------
 * The group's events, sorted, go into events_journal by multi-row INSERTs
 * (one statement of up to 128 rows rather than one per event: the
 * statement's fixed cost -- its cursors opened and closed, the VDBE started
 * -- was most of SQLite's share of the writer's CPU).  Each row's id is
 * given (NEXT on), so the rows an INSERT added are known by their ids: all
 * of them when the change count says so (the usual case), else the ones
 * found in the journal afterwards.  A row is left out when events holds its
 * key already (the INSERT's NOT EXISTS); one the filter (jkeys) says may be
 * in the journal is looked up first; an event repeated within the group is
 * added once (its first copy: the buffer is sorted stably). */
static const int JOURNAL_SIZES[4] = {128, 32, 8, 1};

static sqlite3_stmt *journal_insert(tn_store *s, int k, int probe, tn_error *err)
{
	int t = s->jtab;
	sqlite3_stmt **slot = probe ? &s->ins_journal[t][k] : &s->ins_journal_new[t][k];
	if (*slot)
		return *slot;
	int rows = JOURNAL_SIZES[k];
	size_t cap = 512 + (size_t)rows * 16;
	char *sql = tn_malloc(cap);
	if (!sql) {
		tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		return NULL;
	}
	size_t n = (size_t)snprintf(sql, cap, "INSERT INTO %s(id, customer_id, occurred_at, type_id, "
					    "ext_id, amount) SELECT column1, column2, column3, column4, column5, "
					    "column6 FROM (VALUES ",
				    JTAB[t]);
	for (int i = 0; i < rows; i++)
		n += (size_t)snprintf(sql + n, cap - n, "%s(?,?,?,?,?,?)", i ? "," : "");
	snprintf(sql + n, cap - n, "%s",
		 probe ? ") AS v WHERE NOT EXISTS (SELECT 1 FROM main.events e WHERE e.customer_id = "
			 "v.column2 AND e.occurred_at = v.column3 AND e.type_id = v.column4 AND "
			 "e.ext_id = v.column5)"
		       : ") AS v");
	*slot = tn_store_prepare(s, sql, err);
	free(sql);
	return *slot;
}

/* 1 when journal table T holds E's key, 0 when not, <0 an error. */
static int journal_has(tn_store *s, int t, const ev_row *e, tn_error *err)
{
	static const char *const sql[2] = {
		"SELECT 1 FROM main.events_journal WHERE " JGEN_A " AND customer_id = ?1 AND occurred_at = ?2 "
		"AND type_id = ?3 AND ext_id = ?4",
		"SELECT 1 FROM main.events_journal_b WHERE " JGEN_B " AND customer_id = ?1 AND occurred_at = ?2 "
		"AND type_id = ?3 AND ext_id = ?4"};
	if (!s->find_journal[t] && !(s->find_journal[t] = tn_store_prepare(s, sql[t], err)))
		return -1;
	sqlite3_stmt *st = s->find_journal[t];
	sqlite3_bind_int64(st, 1, e->cid);
	sqlite3_bind_int64(st, 2, e->at);
	sqlite3_bind_int64(st, 3, e->tid);
	sqlite3_bind_text(st, 4, e->eid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	tn_store_db_error(s, "reading the events journal", err);
	return -1;
}

/* ROWS[0..n) (indices into the buffer) into the journal with ids NEXT on. */
static int journal_rows(tn_store *s, const uint32_t *rows, size_t n, int64_t next, int probe, long long *added,
			tn_error *err)
{
	size_t at = 0;
	for (int k = 0; k < 4 && at < n; k++) {
		size_t size = (size_t)JOURNAL_SIZES[k];
		while (n - at >= size) {
			sqlite3_stmt *st = journal_insert(s, k, probe, err);
			if (!st)
				return tn_error_code(err, TN_ERR_DB);
			int p = 1;
			for (size_t i = 0; i < size; i++) {
				const ev_row *e = &s->ev[rows[at + i]];
				sqlite3_bind_int64(st, p++, next + (int64_t)(at + i));
				sqlite3_bind_int64(st, p++, e->cid);
				sqlite3_bind_int64(st, p++, e->at);
				sqlite3_bind_int64(st, p++, e->tid);
				sqlite3_bind_text(st, p++, e->eid, (int)e->elen, SQLITE_STATIC);
				if (isnan(e->amount))
					sqlite3_bind_null(st, p++);
				else
					sqlite3_bind_double(st, p++, e->amount);
			}
			int rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return tn_store_db_error(s, "writing events", err);
			size_t ch = (size_t)sqlite3_changes(s->db);
			if (ch == size) {
				for (size_t i = 0; i < size; i++) {
					const ev_row *e = &s->ev[rows[at + i]];
					if (s->tag_added && e->tag < s->ntags)
						s->tag_added[e->tag]++;
				}
				*added += (long long)size;
			} else if (ch > 0) {
				/* some were in events already: the ids tell which were added */
				static const char *const sql[2] = JT_SQL("SELECT id FROM ",
									 " WHERE id >= ?1 AND id < ?2");
				sqlite3_stmt *q = tn_store_cached(s, sql[s->jtab], err);
				if (!q)
					return tn_error_code(err, TN_ERR_DB);
				sqlite3_bind_int64(q, 1, next + (int64_t)at);
				sqlite3_bind_int64(q, 2, next + (int64_t)(at + size));
				while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
					int64_t i = sqlite3_column_int64(q, 0) - next;
					const ev_row *e = &s->ev[rows[i]];
					if (s->tag_added && e->tag < s->ntags)
						s->tag_added[e->tag]++;
					++*added;
				}
				sqlite3_reset(q);
				if (rc != SQLITE_DONE)
					return tn_store_db_error(s, "writing events", err);
			}
			at += size;
		}
	}
	return TN_OK;
}

/* ---- events keys --------------------------------------------------------
 * The journaling writer's filter of the key of every event in events and in
 * the journal (the fingerprints of jkey), so that a new event -- the usual
 * case -- goes into the journal without the probe of events' index (the
 * INSERT's NOT EXISTS: a B-tree descent per event, about a tenth of the
 * writer's time).  A fingerprint not in the filter: the event is certainly
 * in neither, and it is written by the INSERT without the probe (and with
 * no journal look-up); one in the filter (a re-send, a duplicate, or rarely
 * another key's fingerprint) takes the probing path as before.
 * - Loaded by one scan of events' and the journal's keys inside a
 *   transaction of the writer (BEGIN IMMEDIATE: nothing else writes
 *   meanwhile): at start, and again inside a group's after a change.
 * - Fed with every key the writer journals (a fold only moves rows from the
 *   journal into events: their keys are in already).  Keys of rows rolled
 *   back stay: a superset only costs probes.
 * - True only while no other connection has written the store: PRAGMA
 *   data_version, read at each flush, moves when one has (a CLI import,
 *   `customers link`, `demo`, a fold by a CLI open).  Then the filter is
 *   dropped, the probing path is taken, and it is loaded again -- not
 *   before ten times its last load's time has passed, so a store another
 *   connection writes often costs at most about a tenth more in loads.
 * - A blocked Bloom filter (ebloom): 12 bits a key, a key's 7 bits in one
 *   cache line, false "maybe"s about 1% when full.  Loaded at start
 *   (tn_store_journal), sized for twice what the file may hold (at least
 *   4M keys), rounded up to a power of two of blocks, all of which it
 *   fills (12 bits a key): 1.5-6 MB per million keys; past a quarter of
 *   EKEYS_MAX it is sized for EKEYS_MAX at once (the demo's 200 MB file:
 *   64 MB, room for the bound).  When it fills up it is loaded again,
 *   twice as large.  Past EKEYS_MAX
 *   keys (events larger, or grown past it) it is freed and the writer
 *   keeps the probing path.
 * - SQLite only (PostgreSQL never journals). */
#define EKEYS_MAX 32000000
#define ekeys_max(s) ((s)->ekeys_max ? (s)->ekeys_max : (size_t)EKEYS_MAX)

void tn_store_events_filter_max(tn_store *s, size_t n) { s->ekeys_max = n; }

long long tn_store_events_filter(const tn_store *s, long long *loads)
{
	if (loads)
		*loads = s->ekeys_loads;
	return s->ekeys_state == EKEYS_ON ? (long long)s->ekeys->n : -1;
}

/* the one monotonic clock (base/time.c: pinned by the fuzz targets, so a
 * filter's retry comes after the same writes in every run) */
static double mono_now(void) { return tn_mono(); }

/* PRAGMA data_version into *V; 0, or -1 when it could not be read. */
static int data_version(tn_store *s, int64_t *v)
{
	if (!s->data_version &&
	    sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &s->data_version, NULL) != SQLITE_OK) {
		sqlite3_finalize(s->data_version);
		s->data_version = NULL;
		return -1;
	}
	int rc = sqlite3_step(s->data_version);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s->data_version, 0) : 0;
	sqlite3_reset(s->data_version);
	return rc == SQLITE_ROW ? 0 : -1;
}

static ebloom *ebloom_new(size_t cap)
{
	size_t nblocks = 16;
	while (nblocks * 512 < cap * 12 && nblocks < ((size_t)1 << 32))
		nblocks *= 2;
	ebloom *b = tn_calloc(1, sizeof *b);
	if (b && !(b->w = tn_calloc(nblocks * 8, sizeof *b->w))) {
		free(b);
		return NULL;
	}
	if (b) {
		/* the keys the blocks hold at 12 bits each: the power of two
		 * rounds CAP up by up to 2x, and a filter sized for CAP alone
		 * was loaded again (2 CPU-s, and twice the memory) while that
		 * room was unused */
		b->nblocks = nblocks;
		b->cap = nblocks * 512 / 12;
		if (b->cap < cap)
			b->cap = cap;
	}
	return b;
}

/* Add K: 1 when it set a bit (K certainly was not in), 0 when every bit
 * was set already (maybe in). */
static int ebloom_add(ebloom *b, uint64_t k)
{
	uint64_t h = tn_hash_mix64(k), g = tn_hash_mix64(k ^ 0xC2B2AE3D27D4EB4Full);
	uint64_t *blk = &b->w[(h & (b->nblocks - 1)) * 8];
	uint64_t miss = 0;
	for (int i = 0; i < 7; i++, g >>= 9) {
		unsigned bit = (unsigned)(g & 511);
		uint64_t m = (uint64_t)1 << (bit & 63);
		miss |= ~blk[bit >> 6] & m;
		blk[bit >> 6] |= m;
	}
	b->n += miss != 0;
	return miss != 0;
}

static void ekeys_drop(tn_store *s, int state)
{
	ebloom_free(s->ekeys);
	s->ekeys = NULL;
	s->ekeys_state = state;
}

/* Add the keys SQL's rows give (bound to CUST when >= 0), at most about
 * ROWS of them and then to the end of the customer under way (ROWS 0: all):
 * *THROUGH the last customer read whole, *ALL whether the rows ran out.
 * SQLITE_FULL past the bound. */
static int ekeys_scan(tn_store *s, const char *sql, int64_t from, long long rows, int64_t *through, int *all)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return SQLITE_ERROR;
	}
	sqlite3_bind_int64(st, 1, from);
	int rc;
	long long n = 0;
	*all = 1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t cid = sqlite3_column_int64(st, 0);
		if (rows > 0 && n >= rows && cid != *through) {
			*all = 0; /* the next customer: the next step's */
			rc = SQLITE_DONE;
			break;
		}
		const char *eid = (const char *)sqlite3_column_text(st, 3);
		ev_row e = {cid, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), 0, eid ? eid : "", 0,
			    eid ? (uint32_t)sqlite3_column_bytes(st, 3) : 0};
		ebloom_add(s->ekeys, jkey(&e));
		*through = cid;
		n++;
		if (s->ekeys->n > ekeys_max(s)) {
			rc = SQLITE_FULL;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int tn_store_events_filter_due(const tn_store *s)
{
	if (!s->journal || s->pg)
		return 0;
	return s->ekeys_state == EKEYS_UNLOADED || s->ekeys_state == EKEYS_LOADING ||
	       (s->ekeys_state == EKEYS_STALE && mono_now() >= s->ekeys_retry);
}

/* A load goes in steps between the writer's groups (no transaction open),
 * each reading about ROWS of events' rows in customer order, so a large
 * store delays no request by more than a step.  Meanwhile the writer
 * takes the probing path and adds the keys it journals to the filter; the
 * journal's rows from before the load are read at its first step (a fold
 * only moves rows from the journal into events).  It is true at the end
 * only if no other connection has written since it began (data_version
 * unmoved); else it is dropped and loaded again later. */
int tn_store_events_filter_step(tn_store *s, long long rows, int *more, tn_error *err)
{
	*more = 0;
	if (!tn_store_events_filter_due(s))
		return TN_OK;
	if (s->in_txn)
		return tn_error_set(err, TN_ERR_DB, "%s: loading the events' keys needs no transaction open", s->path);
	double t0 = mono_now();
	int rc = SQLITE_DONE, all = 1;
	if (s->ekeys_state != EKEYS_LOADING) { /* a new load */
		ekeys_drop(s, EKEYS_UNLOADED);
		/* a file this large holds more events than the bound (an event is
		 * 30-60 bytes of table): off without reading it */
		int64_t bytes = 0, dv = 0;
		sqlite3_stmt *ps = NULL;
		if (sqlite3_prepare_v2(s->db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
				       -1, &ps, NULL) == SQLITE_OK &&
		    sqlite3_step(ps) == SQLITE_ROW)
			bytes = sqlite3_column_int64(ps, 0);
		sqlite3_finalize(ps);
		if (bytes / 64 > (int64_t)ekeys_max(s)) {
			s->ekeys_state = EKEYS_OFF;
			return TN_OK;
		}
		if (data_version(s, &dv))
			return tn_store_db_error(s, "reading the data version", err);
		/* sized for about twice the events the file may hold (32 bytes an
		 * event at least), at least 4M keys, twice the last filter's,
		 * within the bound; a filter that fills up is loaded again */
		size_t cap = (size_t)(bytes / 32) * 2, last = s->ekeys_last_n * 2;
		if (cap < last)
			cap = last;
		if (cap < ((size_t)1 << 22))
			cap = (size_t)1 << 22;
		/* Past a quarter of the bound, at the bound at once.  Why: the
		 * filter fills up under a sustained ingest, and its reload is a
		 * step of the server's RSS (the new filter, twice as large) and a
		 * scan of every event again on the writer while the ingest runs.
		 * The demo's 200 MB file got 2^19 blocks (32 MB, room for 22.4M
		 * keys), full after ~15M new events: 67 s at 224,000 events/s, so
		 * a 120 s ingest stepped up by 32-64 MB (docs/performance.md,
		 * "Session 30 (rss)").  The bound's filter (64 MB) fills only
		 * where the filter is given up anyway; a small store keeps a
		 * small filter, whose reloads are small and quick. */
		if (cap > ekeys_max(s) / 4)
			cap = ekeys_max(s);
		if (!(s->ekeys = ebloom_new(cap)))
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		s->ekeys_state = EKEYS_LOADING;
		s->ekeys_dv = dv;
		s->ekeys_through = INT64_MIN;
		s->ekeys_load_secs = 0;
		s->ekeys_loads++;
		int64_t through = INT64_MIN;
		rc = ekeys_scan(s, "SELECT customer_id, occurred_at, type_id, ext_id FROM main.events_journal UNION ALL "
				   "SELECT customer_id, occurred_at, type_id, ext_id FROM main.events_journal_b",
				0, 0, &through, &all);
	}
	if (rc == SQLITE_DONE) {
		int64_t through = s->ekeys_through;
		rc = ekeys_scan(s,
				"SELECT customer_id, occurred_at, type_id, ext_id FROM main.events WHERE customer_id > ?1",
				s->ekeys_through, rows, &through, &all);
		s->ekeys_through = through;
	}
	s->ekeys_load_secs += mono_now() - t0;
	if (rc == SQLITE_FULL) { /* too many: the probing path for good */
		ekeys_drop(s, EKEYS_OFF);
		return TN_OK;
	}
	if (rc != SQLITE_DONE) {
		ekeys_drop(s, EKEYS_STALE);
		s->ekeys_retry = mono_now() + 10 * s->ekeys_load_secs;
		return tn_store_db_error(s, "reading the events' keys", err);
	}
	if (!all) {
		*more = 1;
		return TN_OK;
	}
	int64_t dv;
	if (data_version(s, &dv))
		return tn_store_db_error(s, "reading the data version", err);
	if (dv != s->ekeys_dv) { /* another connection wrote meanwhile */
		ekeys_drop(s, EKEYS_STALE);
		s->ekeys_retry = mono_now() + 10 * s->ekeys_load_secs;
		return TN_OK;
	}
	s->ekeys_last_n = s->ekeys->n;
	s->ekeys_state = EKEYS_ON;
	return TN_OK;
}

/* Before a flush (inside the writer's transaction): 1 when the filter is
 * true now, 0 when the probing path must be taken, <0 an error. */
static int ekeys_ready(tn_store *s, tn_error *err)
{
	if (s->ekeys_state != EKEYS_ON || !s->in_txn)
		return 0;
	int64_t dv;
	if (data_version(s, &dv))
		return tn_store_db_error(s, "reading the data version", err), -1;
	if (dv == s->ekeys_dv)
		return 1;
	/* another connection wrote: anything may be in events now */
	ekeys_drop(s, EKEYS_STALE);
	s->ekeys_retry = mono_now() + 10 * s->ekeys_load_secs;
	return 0;
}

static int flush_journal(tn_store *s, long long *added, tn_error *err)
{
	/* the ids go on from the largest ever given (a fold leaves its mark) */
	sqlite3_stmt *st = tn_store_cached(s, JOURNAL_HIGH, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = sqlite3_step(st);
	int64_t next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return tn_store_db_error(s, "reading the events journal", err);
	int sure = ekeys_ready(s, err);
	if (sure < 0)
		return tn_error_code(err, TN_ERR_DB);
	if (sure && (s->jkeys || s->jkeys_old)) {
		/* the filter holds the journal's keys too: the key sets go (up
		 * to 32 MB each at a million keys, and a tenth of the writer's
		 * time) until the filter is not true */
		tn_u64set_free(s->jkeys);
		tn_u64set_free(s->jkeys_old);
		s->jkeys = s->jkeys_old = NULL;
		s->jkeys_hint = 0;
	}
	if (sure)
		s->jkeys_ok = 0;
	else if (!s->jkeys_ok && jkeys_load(s, err))
		return tn_error_code(err, TN_ERR_DB);
	if (s->jrows_cap < s->nev) {
		free(s->jrows);
		s->jrows_cap = 0;
		if (!(s->jrows = tn_malloc(s->nev * sizeof *s->jrows)))
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		s->jrows_cap = s->nev;
	}
	/* ROWS: from the front the rows known new (no probe), from the back
	 * those that may be in events or the journal (probed) */
	uint32_t *rows = s->jrows;
	size_t n = 0, m = 0;
	rc = TN_OK;
	for (size_t i = 0; i < s->nev && !rc; i++) {
		const ev_row *e = &s->ev[i];
		if (i > 0 && ev_cmp(&s->ev[i - 1], e) == 0)
			continue; /* repeated in the group: its first copy is the one */
		uint64_t k = jkey(e);
		/* maybe in the journal: 1 (then looked up there), certainly not: 0 */
		int maybe = 1;
		if (sure) {
			if (ebloom_add(s->ekeys, k)) { /* in neither events nor the journal */
				rows[n++] = (uint32_t)i;
				continue;
			}
		} else {
			if (!s->jkeys && !(s->jkeys = tn_u64set_new_for(s->jkeys_hint))) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			int added_key = tn_u64set_add(s->jkeys, k);
			if (added_key < 0) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			if (s->ekeys_state == EKEYS_LOADING)
				ebloom_add(s->ekeys, k); /* a load under way: what it will not read */
			maybe = added_key == 0 || tn_u64set_has(s->jkeys_old, k);
		}
		if (maybe) {
			/* in the table written to, or in the one being folded */
			int has = journal_has(s, s->jtab, e, err);
			if (has == 0 && s->fold_phase != 0)
				has = journal_has(s, s->fold_tab, e, err);
			if (has < 0) {
				rc = tn_error_code(err, TN_ERR_DB);
				break;
			}
			if (has)
				continue; /* journaled already: unchanged */
		}
		rows[s->nev - ++m] = (uint32_t)i;
	}
	for (size_t a = s->nev - m, b = s->nev; a + 1 < b; a++, b--) { /* back in key order */
		uint32_t t = rows[a];
		rows[a] = rows[b - 1];
		rows[b - 1] = t;
	}
	if (s->ekeys && !rc && s->ekeys->n > ekeys_max(s)) {
		ekeys_drop(s, EKEYS_OFF); /* grown past its bound: the probing path from now on */
	} else if (sure && !rc && s->ekeys && s->ekeys->n > s->ekeys->cap) {
		/* full (its false "maybe"s grow): loaded again, twice as large */
		s->ekeys_last_n = s->ekeys->n;
		ekeys_drop(s, EKEYS_STALE);
		s->ekeys_retry = mono_now() + 10 * s->ekeys_load_secs;
	}
	if (!rc)
		rc = journal_rows(s, rows, n, next, 0, added, err);
	if (!rc)
		rc = journal_rows(s, rows + (s->nev - m), m, next + (int64_t)n, 1, added, err);
	return rc;
}

/* 1 when both events journal tables are empty, 0 when not, -1 when it
 * could not be read (the caller then checks every row against them). */
static int journals_empty(tn_store *s)
{
	if (!s->journal_any &&
	    sqlite3_prepare_v2(s->db,
			       "SELECT EXISTS (SELECT 1 FROM main.events_journal) OR "
			       "EXISTS (SELECT 1 FROM main.events_journal_b)",
			       -1, &s->journal_any, NULL) != SQLITE_OK) {
		sqlite3_finalize(s->journal_any);
		s->journal_any = NULL;
		return -1;
	}
	int r = sqlite3_step(s->journal_any) == SQLITE_ROW ? !sqlite3_column_int(s->journal_any, 0) : -1;
	sqlite3_reset(s->journal_any);
	return r;
}

/* flush_events' INSERTs: guarded against the events already journaled by a
 * running server, and bare (see flush_events) */
static const char SQL_EVENTS_GUARDED[] =
	"INSERT OR IGNORE INTO main.events(customer_id, occurred_at, type_id, ext_id, amount) "
	"SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM main.events_journal "
	"WHERE " JGEN_A " AND customer_id = ?1 AND occurred_at = ?2 AND type_id = ?3 AND ext_id = ?4) "
	"AND NOT EXISTS (SELECT 1 FROM main.events_journal_b "
	"WHERE " JGEN_B " AND customer_id = ?1 AND occurred_at = ?2 AND type_id = ?3 AND ext_id = ?4)";
static const char SQL_EVENTS_BARE[] =
	"INSERT OR IGNORE INTO main.events(customer_id, occurred_at, type_id, ext_id, amount) "
	"VALUES (?1, ?2, ?3, ?4, ?5)";
/* flush_events' INSERT in SLOT, prepared on first use; on failure the
 * buffered events are dropped (as a failed write drops them) and NULL. */
static sqlite3_stmt *events_insert(tn_store *s, sqlite3_stmt **slot, const char *sql, tn_error *err)
{
	if (!*slot && !(*slot = tn_store_prepare(s, sql, err))) {
		s->nev = 0;
		s->pool_len = 1;
	}
	return *slot;
}

static int flush_events(tn_store *s, tn_error *err)
{
	long long n_added = 0;
	if (s->nev == 0)
		return TN_OK;
	/* the pool may have moved while growing: eids are stored as offsets */
	for (size_t i = 0; i < s->nev; i++)
		s->ev[i].eid = s->pool + (size_t)(uintptr_t)s->ev[i].eid;
	if (sort_events(s))
		qsort(s->ev, s->nev, sizeof *s->ev, ev_cmp);
	if (s->pg) {
		int prc = flush_events_pg(s, &n_added, err);
		s->nev = 0;
		s->pool_len = 1;
		s->ev_added += n_added;
		return prc;
	}
	/* main.events: a live connection's events is the journal's view.  An
	 * event already journaled by a running server is not written twice.
	 * The journaling writer has its own way (flush_journal). */
	if (s->journal) {
		int jrc = flush_journal(s, &n_added, err);
		s->nev = 0;
		s->pool_len = 1;
		s->ev_added += n_added;
		s->journal_rows += n_added;
		return jrc;
	}
	/* A large flush inside our transaction (BEGIN IMMEDIATE: no other
	 * connection writes until we commit) into a store whose journal tables
	 * are empty -- a bulk import with no server journaling -- needs no
	 * look-ups in them: two index seeks and a third of the statement's
	 * VDBE work per row saved; the same rows are written. */
	int bare = s->in_txn && s->nev >= 4096 && journals_empty(s) == 1;
	sqlite3_stmt *st = bare ? events_insert(s, &s->ins_event_bare, SQL_EVENTS_BARE, err)
				: events_insert(s, &s->ins_event_lite, SQL_EVENTS_GUARDED, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	for (size_t i = 0; i < s->nev; i++) {
		const ev_row *e = &s->ev[i];
		sqlite3_bind_int64(st, 1, e->cid);
		sqlite3_bind_int64(st, 2, e->at);
		sqlite3_bind_int64(st, 3, e->tid);
		sqlite3_bind_text(st, 4, e->eid, -1, SQLITE_STATIC);
		if (isnan(e->amount))
			sqlite3_bind_null(st, 5);
		else
			sqlite3_bind_double(st, 5, e->amount);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = tn_store_db_error(s, "writing events", err);
			sqlite3_reset(st);
			break;
		}
		int ch = sqlite3_changes(s->db);
		sqlite3_reset(st);
		n_added += ch;
		if (s->tag_added && e->tag < s->ntags)
			s->tag_added[e->tag] += ch;
	}
	s->nev = 0;
	s->pool_len = 1; /* offset 0 is the shared empty string */
	s->ev_added += n_added;
	return rc;
}

static int ev_push(tn_store *s, int64_t cid, tn_time at, int64_t tid, double amount, const char *eid,
		   uint32_t tag, tn_error *err)
{
	if (!s->ev) {
		s->ev = tn_malloc(TN_EVENT_BUFFER * sizeof *s->ev);
		s->pool_cap = 1 << 16;
		s->pool = tn_malloc(s->pool_cap);
		if (!s->ev || !s->pool)
			return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
		s->pool[0] = '\0';
		s->pool_len = 1;
	}
	if (s->nev == TN_EVENT_BUFFER && flush_events(s, err))
		return tn_error_code(err, TN_ERR_DB);
	size_t off = 0, n = 0;
	if (eid && *eid) {
		n = strlen(eid) + 1;
		if (n > INT_MAX)
			return tn_error_set(err, TN_ERR_INPUT, "an event id is too long");
		if (s->pool_len + n > s->pool_cap) {
			size_t cap = s->pool_cap;
			while (s->pool_len + n > cap)
				cap *= 2;
			char *p = tn_realloc(s->pool, cap);
			if (!p)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			s->pool = p;
			s->pool_cap = cap;
		}
		off = s->pool_len;
		memcpy(s->pool + off, eid, n);
		s->pool_len += n;
	}
	s->ev[s->nev++] = (ev_row){cid, at, tid, amount, (const char *)(uintptr_t)off, tag, n ? (uint32_t)(n - 1) : 0};
	if (s->pg && (s->nev & 4095) == 0)
		tn_pg_copy_poll(s->pg); /* a streaming COPY's queued rows go on while we read */
	if (at < s->ev_min)
		s->ev_min = at;
	if (at > s->ev_max)
		s->ev_max = at;
	return TN_OK;
}

int tn_store_put_event_keys(tn_store *s, int64_t customer, tn_time at, int64_t type, double amount,
			    tn_error *err)
{
	return ev_push(s, customer, at, type, amount, NULL, 0, err);
}

int tn_store_put_event(tn_store *s, const tn_event_rec *r, tn_error *err)
{
	int64_t cid, tid;
	if (tn_store_customer_key(s, r->customer, &cid, err) || tn_store_event_type(s, r->type, &tid, err))
		return tn_error_code(err, TN_ERR_DB);
	return ev_push(s, cid, r->at, tid, r->amount, r->id, 0, err);
}

int tn_store_put_event_tag(tn_store *s, const tn_event_rec *r, uint32_t tag, tn_error *err)
{
	int64_t cid, tid;
	if (tn_store_customer_key(s, r->customer, &cid, err) || tn_store_event_type(s, r->type, &tid, err))
		return tn_error_code(err, TN_ERR_DB);
	return ev_push(s, cid, r->at, tid, r->amount, r->id, tag, err);
}

int tn_store_put_event_tag_key(tn_store *s, int64_t customer, const tn_event_rec *r, uint32_t tag,
			       tn_error *err)
{
	int64_t tid;
	if (tn_store_event_type(s, r->type, &tid, err))
		return tn_error_code(err, TN_ERR_DB);
	return ev_push(s, customer, r->at, tid, r->amount, r->id, tag, err);
}

void tn_store_count_by_tag(tn_store *s, long long *added, size_t n)
{
	s->tag_added = added;
	s->ntags = added ? n : 0;
}

/* Keep the events' time range in meta, so readers need not scan the table. */
static int update_bounds(tn_store *s, tn_error *err)
{
	if (s->ev_min > s->ev_max)
		return TN_OK;
	char buf[32];
	char *old;
	if (tn_store_meta_get(s, "events_first", &old, err))
		return tn_error_code(err, TN_ERR_DB);
	if (!old || strtoll(old, NULL, 10) > s->ev_min) {
		snprintf(buf, sizeof buf, "%lld", (long long)s->ev_min);
		if (tn_store_meta_set(s, "events_first", buf, err)) {
			free(old);
			return tn_error_code(err, TN_ERR_DB);
		}
	}
	free(old);
	if (tn_store_meta_get(s, "events_last", &old, err))
		return tn_error_code(err, TN_ERR_DB);
	if (!old || strtoll(old, NULL, 10) < s->ev_max) {
		snprintf(buf, sizeof buf, "%lld", (long long)s->ev_max);
		if (tn_store_meta_set(s, "events_last", buf, err)) {
			free(old);
			return tn_error_code(err, TN_ERR_DB);
		}
	}
	free(old);
	s->ev_min = INT64_MAX;
	s->ev_max = INT64_MIN;
	return TN_OK;
}

double tn_period_months(const char *p)
{
	if (!p)
		return 0;
	if (strcmp(p, "month") == 0)
		return 1;
	if (strcmp(p, "year") == 0)
		return 12;
	if (strcmp(p, "quarter") == 0)
		return 3;
	if (strcmp(p, "week") == 0)
		return 12.0 / 52.0;
	if (strcmp(p, "day") == 0)
		return 12.0 / 365.0;
	return 0;
}

/* One integer from an aggregate query; NULL reads as TN_NO_TIME. */
static int count_of(tn_store *s, const char *sql, long long *out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step_row(st, "counting rows", err);
	if (!rc)
		*out = tn_db_column_is_null(st, 0) ? TN_NO_TIME : tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	return rc;
}

static const char last_sql[] = "SELECT max(t) FROM (SELECT max(signed_up_at) t FROM customers UNION ALL "
				"SELECT max(started_at) FROM subscriptions UNION ALL SELECT max(cancelled_at) FROM "
				"subscriptions UNION ALL SELECT max(paid_at) FROM payments UNION ALL "
				"SELECT max(given_at) FROM feedback UNION ALL "
				"SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'events_last') m";

int tn_store_data_last(tn_store *s, tn_time *last, tn_error *err)
{
	/* indexed maxima only: no count of the events (a full scan of the
	 * largest table: seconds on 1,000,000 customers) */
	long long v;
	if (count_of(s, last_sql, &v, err))
		return tn_error_code(err, TN_ERR_DB);
	*last = v;
	return TN_OK;
}

/* The events' count.  Through the journal view, count(*) steps every row
 * through the view's UNION ALL (decoding each: 12.5 s of CPU for 106M
 * events); each table's own count(*) only walks its B-tree's pages (0.9 s
 * user + page reads), and the view is exactly the three tables' rows (the
 * journals' folded customers left out), so their sum is the same count, in
 * one statement: one snapshot. */
static const char events_count_view[] =
	"SELECT (SELECT count(*) FROM main.events) + (SELECT count(*) FROM main.events_journal WHERE customer_id > "
	"COALESCE((SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '" JMARK_A "'), " JMIN ")) + "
	"(SELECT count(*) FROM main.events_journal_b WHERE customer_id > COALESCE((SELECT CAST(value AS INTEGER) "
	"FROM main.meta WHERE key = '" JMARK_B "'), " JMIN "))";

int tn_store_counts_get(tn_store *s, tn_store_counts *c, tn_error *err)
{
	long long first, last;
	int view = 0;
	if (events_view(s, &view, err))
		return tn_error_code(err, TN_ERR_DB);
	if (count_of(s, "SELECT count(*) FROM customers", &c->customers, err) ||
	    count_of(s, "SELECT count(*) FROM subscriptions", &c->subscriptions, err) ||
	    count_of(s, view ? events_count_view : "SELECT count(*) FROM events", &c->events, err) ||
	    count_of(s, "SELECT count(*) FROM payments", &c->payments, err) ||
	    count_of(s, "SELECT count(*) FROM feedback", &c->feedback, err) ||
	    count_of(s, "SELECT min(t) FROM (SELECT min(signed_up_at) t FROM customers UNION ALL "
			"SELECT min(started_at) FROM subscriptions UNION ALL "
			"SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'events_first') m",
		     &first, err) ||
	    count_of(s, last_sql, &last, err))
		return tn_error_code(err, TN_ERR_DB);
	c->first = first;
	c->last = last;
	return TN_OK;
}
