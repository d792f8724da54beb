/*
 * import_floor.c -- the floor of `tenure import events` on SQLite: what the
 * writer thread cannot beat.
 *
 * Reads the rows of an imported store's events table (already validated,
 * keyed and sorted: SELECT ... ORDER BY the primary key) into memory, untimed,
 * then inserts them into a fresh database with the same events table (the
 * store's own CREATE TABLE, WITHOUT ROWID) and the same pragmas as a Tenure
 * writer (cache_size -65536, synchronous FULL, the source's page size and
 * journal mode) in one transaction through the SQLite API: one prepared
 * INSERT, bind, step, reset per row.  Timed: the CPU (user + sys, this
 * process) and wall time of the insert and commit alone.
 *
 *   import_floor SRC.db DST.db [plain|ignore|chunks] [PAGE_SIZE]
 *
 * "plain" (default) is INSERT in key order; "ignore" INSERT OR IGNORE in key
 * order; "chunks" INSERT OR IGNORE of the rows shuffled (a fixed seed: like
 * an export's time order, whose customers are random) and then sorted in
 * buffers of 262,144 rows, as tenure's writer receives them (each buffer
 * touches every leaf of the B-tree).  Prints one line:
 *   floor: N rows, CPU X s (user U, sys S), wall W s
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct {
	int64_t cid, at, tid;
	double amount;
	int has_amount;
	char *eid;
} row;

#define CHUNK 262144

static int row_cmp(const void *a, const void *b)
{
	const row *x = a, *y = b;
	if (x->cid != y->cid)
		return x->cid < y->cid ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return strcmp(x->eid, y->eid);
}

static double tv(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "import_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: import_floor SRC.db DST.db [plain|ignore]\n");
		return 2;
	}
	int chunks = argc > 3 && strcmp(argv[3], "chunks") == 0;
	int ignore = chunks || (argc > 3 && strcmp(argv[3], "ignore") == 0);
	sqlite3 *src, *dst;
	if (sqlite3_open_v2(argv[1], &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die(src, "open source");
	sqlite3_stmt *q;
	char ddl[2048] = "", jmode[32] = "delete";
	int page = 4096;
	if (sqlite3_prepare_v2(src, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'events'", -1,
			       &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		die(src, "the events table's DDL");
	snprintf(ddl, sizeof ddl, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(src, "PRAGMA page_size", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		page = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(src, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		snprintf(jmode, sizeof jmode, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (argc > 4)
		page = atoi(argv[4]); /* another page size, to try */

	size_t n = 0, cap = 1 << 20;
	row *r = malloc(cap * sizeof *r);
	if (sqlite3_prepare_v2(src, "SELECT customer_id, occurred_at, type_id, ext_id, amount FROM events "
				    "ORDER BY customer_id, occurred_at, type_id, ext_id", -1, &q, NULL) != SQLITE_OK)
		die(src, "reading events");
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap && !(r = realloc(r, (cap *= 2) * sizeof *r)))
			die(NULL, "out of memory");
		r[n].cid = sqlite3_column_int64(q, 0);
		r[n].at = sqlite3_column_int64(q, 1);
		r[n].tid = sqlite3_column_int64(q, 2);
		r[n].eid = strdup((const char *)sqlite3_column_text(q, 3));
		r[n].has_amount = sqlite3_column_type(q, 4) != SQLITE_NULL;
		r[n].amount = sqlite3_column_double(q, 4);
		n++;
	}
	if (rc != SQLITE_DONE)
		die(src, "reading events");
	sqlite3_finalize(q);
	sqlite3_close(src);

	if (chunks) { /* untimed: shuffle, then sort each buffer (the rows are unique) */
		uint64_t x = 88172645463325252ull;
		for (size_t i = n; i > 1; i--) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t j = (size_t)(x % i);
			row t = r[i - 1];
			r[i - 1] = r[j];
			r[j] = t;
		}
		for (size_t i = 0; i < n; i += CHUNK)
			qsort(r + i, n - i < CHUNK ? n - i : CHUNK, sizeof *r, row_cmp);
	}
	remove(argv[2]);
	if (sqlite3_open(argv[2], &dst) != SQLITE_OK)
		die(dst, "open destination");
	char sql[4096];
	snprintf(sql, sizeof sql,
		 "PRAGMA page_size = %d; PRAGMA journal_mode = %s; PRAGMA cache_size = -65536; "
		 "PRAGMA temp_store = MEMORY; PRAGMA synchronous = FULL; %s",
		 page, jmode, ddl);
	if (sqlite3_exec(dst, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "schema");
	sqlite3_stmt *ins;
	if (sqlite3_prepare_v2(dst,
			       ignore ? "INSERT OR IGNORE INTO events(customer_id, occurred_at, type_id, ext_id, amount) "
					"VALUES (?1, ?2, ?3, ?4, ?5)"
				      : "INSERT INTO events(customer_id, occurred_at, type_id, ext_id, amount) "
					"VALUES (?1, ?2, ?3, ?4, ?5)",
			       -1, &ins, NULL) != SQLITE_OK)
		die(dst, "prepare");

	struct rusage u0, u1;
	struct timespec w0, w1;
	getrusage(RUSAGE_SELF, &u0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	if (sqlite3_exec(dst, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "begin");
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, r[i].cid);
		sqlite3_bind_int64(ins, 2, r[i].at);
		sqlite3_bind_int64(ins, 3, r[i].tid);
		sqlite3_bind_text(ins, 4, r[i].eid, -1, SQLITE_STATIC);
		if (r[i].has_amount)
			sqlite3_bind_double(ins, 5, r[i].amount);
		else
			sqlite3_bind_null(ins, 5);
		if (sqlite3_step(ins) != SQLITE_DONE)
			die(dst, "insert");
		sqlite3_reset(ins);
	}
	if (sqlite3_exec(dst, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die(dst, "commit");
	clock_gettime(CLOCK_MONOTONIC, &w1);
	getrusage(RUSAGE_SELF, &u1);
	sqlite3_finalize(ins);
	sqlite3_close(dst);
	double us = tv(u1.ru_utime) - tv(u0.ru_utime), ss = tv(u1.ru_stime) - tv(u0.ru_stime);
	double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
	printf("floor: %zu rows, CPU %.3f s (user %.3f, sys %.3f), wall %.3f s, page %d, journal %s, %s\n", n,
	       us + ss, us, ss, wall, page, jmode, chunks ? "INSERT OR IGNORE, sorted by 262144-row buffers" : ignore ? "INSERT OR IGNORE" : "INSERT");
	for (size_t i = 0; i < n; i++)
		free(r[i].eid);
	free(r);
	return 0;
}
