/*
 * db_pg.c -- the SQL interface (db.h) on PostgreSQL, through libpq.
 *
 * Portable SQL is translated once per statement (placeholders to $N, REAL to
 * FLOAT8) and prepared on the server (PQprepare) the first time it runs, with
 * the parameter types of its first bindings (int64 -> int8, double -> float8,
 * text -> inferred by the server); a later binding of another type prepares
 * it again.  Values travel as text (bytea as binary), results as text and are
 * converted by the column accessors.
 *
 * A statement that returns rows and was made with tn_db_prepare (a scan)
 * runs as a cursor fetched TN_PG_BATCH rows at a time, so that a scan of the
 * events table never sits in memory; a cached statement (a keyed lookup or a
 * write run in a loop) runs as one prepared execution.  Several statements
 * may be stepped at once on one connection, as on SQLite: each holds its own
 * result.
 *
 * Outside a transaction a statement that fails because the connection
 * dropped is run again once on a new connection, and one that fails with a
 * serialization failure or deadlock is run again up to three times; inside a
 * transaction the failure is the caller's (the transaction is lost).
 */
#include "store/db_pg.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define TN_PG_BATCH 8192
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_FLOAT8 701

struct tn_pg {
	PGconn *conn;
	char *name;
	unsigned gen;     /* bumped on every reconnect: prepared statements are gone */
	unsigned next_id; /* statement and cursor names */
	long long changes;
	int constraint;
	int lost_txn; /* the connection dropped inside a transaction: nothing runs until ROLLBACK */
	int was_txn;  /* a transaction was open when the last call started (snap) */
	int txn;      /* between our BEGIN and its COMMIT/ROLLBACK (libpq cannot tell once the connection drops) */
	/* a streaming COPY (tn_pg_copy_stream) left open between the caller's
	 * calls; ended (settle) before anything else runs on the connection,
	 * its failure kept for the next statement to report */
	int copy_open;
	int copy_code;
	char *copy_err;
};

static void settle_quiet(tn_pg *pg);
static int settle(tn_pg *pg, tn_error *err);

struct tn_pgstmt {
	tn_pg *pg;
	char *sql;      /* translated */
	int n;          /* parameters */
	char **val;
	int *len, *fmt;
	Oid *type, *ptype; /* bound types; the types it was prepared with */
	char *used;        /* whether $i appears in the SQL (an unused one is typed text) */
	PGresult *desc;    /* the result's description, asked for before the first step */
	unsigned pgen;     /* generation it was prepared in; 0 = not prepared */
	unsigned dgen;     /* generation its parameter types were described in */
	unsigned id;
	int returns_rows, stream;
	int runs;          /* executions so far: a statement run again is a lookup, not a scan */
	int bind_failed;
	/* the current execution */
	int started, cursor;
	PGresult *res;
	int row, nrows;
	unsigned char *blob;
	size_t blob_len;
};

int tn_pg_is_url(const char *name)
{
	return name && (strncmp(name, "postgresql://", 13) == 0 || strncmp(name, "postgres://", 11) == 0);
}

char *tn_pg_redact(const char *url)
{
	size_t n = strlen(url);
	/* Each "password=" (9 bytes after its '?' or '&') becomes "password=***" (12): at most a third longer. */
	char *out = tn_malloc(n + n / 3 + 16);
	if (!out)
		return NULL;
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t o = (size_t)(p - url);
	memcpy(out, url, o);
	/* the authority: drop ":password" before '@' */
	const char *end = p + strcspn(p, "/?");
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *ue = colon ? colon : at;
		memcpy(out + o, p, (size_t)(ue - p));
		o += (size_t)(ue - p);
		p = at;
	}
	/* the rest, with password=... in the query replaced */
	while (*p) {
		char prev = o > 0 ? out[o - 1] : '\0';
		if ((prev == '?' || prev == '&') && strncmp(p, "password=", 9) == 0) {
			memcpy(out + o, "password=***", 12);
			o += 12;
			p += 9;
			while (*p && *p != '&')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

/* The first line of libpq's message, without "ERROR:  " noise kept as is. */
static void conn_msg(const char *m, char *buf, size_t n)
{
	snprintf(buf, n, "%s", m && *m ? m : "unknown error");
	size_t l = strlen(buf);
	while (l && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
		buf[--l] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

int tn_pg_open(const char *url, const char *name, tn_pg **out, tn_error *err)
{
	*out = NULL;
	tn_pg *pg = tn_calloc(1, sizeof *pg);
	if (!pg || !(pg->name = tn_strdup(name))) {
		free(pg);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	/* no password prompt, a bounded wait for a server that is down */
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {url, "10", "tenure", NULL};
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		char m[512];
		conn_msg(pg->conn ? PQerrorMessage(pg->conn) : "out of memory", m, sizeof m);
		int rc = tn_error_set(err, TN_ERR_IO, "%s: cannot connect to PostgreSQL: %s", name, m);
		tn_pg_close(pg);
		return rc;
	}
	/* floats as the shortest text that reads back to the same double;
	 * instants are integers, so the time zone never matters */
	PGresult *r = PQexec(pg->conn, "SET extra_float_digits = 3; SET client_min_messages = warning");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		char m[512];
		conn_msg(PQerrorMessage(pg->conn), m, sizeof m);
		int rc = tn_error_set(err, TN_ERR_DB, "%s: setting up the connection: %s", name, m);
		tn_pg_close(pg);
		return rc;
	}
	pg->gen = 1;
	*out = pg;
	return TN_OK;
}

void tn_pg_close(tn_pg *pg)
{
	if (!pg)
		return;
	if (pg->copy_open && pg->conn) /* never committed: nothing to keep */
		PQputCopyEnd(pg->conn, "closed");
	if (pg->conn)
		PQfinish(pg->conn);
	free(pg->copy_err);
	free(pg->name);
	free(pg);
}

int tn_pg_in_txn(tn_pg *pg)
{
	PGTransactionStatusType t = PQtransactionStatus(pg->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static int exec_ddl(tn_pg *pg, const char *sql, const char *what, tn_error *err);

/* Whether a statement about to run is outside any transaction, so that a
 * dropped connection may be reset and the statement run again.  A dropped
 * connection reports no transaction status: it counts as idle unless it
 * dropped inside a transaction (then the caller must ROLLBACK first, or a
 * later statement of that transaction would run on its own, half of it
 * lost). */
static int conn_idle(tn_pg *pg)
{
	PGTransactionStatusType t = PQtransactionStatus(pg->conn);
	pg->was_txn = pg->txn || pg->lost_txn || t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
	if (pg->txn || pg->lost_txn)
		return 0;
	return t == PQTRANS_IDLE || PQstatus(pg->conn) == CONNECTION_BAD;
}

/* Before a call that does not decide about retrying (FETCH, COPY): note
 * whether a transaction is open, for fail(). */
static void snap(tn_pg *pg) { (void)conn_idle(pg); }

/* After a failure: remember a connection lost inside a transaction. */
static void note_lost(tn_pg *pg, int idle)
{
	if (!idle && PQstatus(pg->conn) == CONNECTION_BAD)
		pg->lost_txn = 1;
}

/* Set ERR from a failed result (or the connection's message). */
static int fail(tn_pg *pg, PGresult *r, const char *what, tn_error *err)
{
	char m[768];
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	pg->constraint = state && strncmp(state, "23", 2) == 0;
	if (PQstatus(pg->conn) == CONNECTION_BAD && pg->was_txn)
		pg->lost_txn = 1; /* whatever the call: the transaction is gone */
	const char *msg = r ? PQresultErrorMessage(r) : NULL;
	conn_msg(msg && *msg ? msg : PQerrorMessage(pg->conn), m, sizeof m);
	if (PQstatus(pg->conn) == CONNECTION_BAD)
		return tn_error_set(err, TN_ERR_DB, "%s: %s: the connection to PostgreSQL was lost: %s", pg->name,
				    what, m);
	return tn_error_set(err, TN_ERR_DB, "%s: %s: %s", pg->name, what, m);
}

/* Whether a failed call made outside a transaction may run again: the
 * connection dropped (and came back), or a serialization failure. */
static int retry(tn_pg *pg, PGresult *r, int was_idle, int *tries)
{
	if (!was_idle || ++*tries > 3)
		return 0;
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		PQreset(pg->conn);
		if (PQstatus(pg->conn) != CONNECTION_OK)
			return 0;
		pg->gen++;
		PGresult *x = PQexec(pg->conn, "SET extra_float_digits = 3; SET client_min_messages = warning");
		PQclear(x);
		return 1;
	}
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

int tn_pg_exec(tn_pg *pg, const char *text, const char *what, tn_error *err)
{
	/* what is run this way is DDL and transaction control: SQLite's types
	 * and temp schema in PostgreSQL's words */
	char *sql = tn_pg_ddl(text);
	if (!sql)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int rc = exec_ddl(pg, sql, what, err);
	free(sql);
	return rc;
}

static int exec_ddl(tn_pg *pg, const char *sql, const char *what, tn_error *err)
{
	int tries = 0;
	if (strncmp(sql, "ROLLBACK", 8) == 0) { /* an open COPY's failure no longer matters */
		settle_quiet(pg);
		free(pg->copy_err);
		pg->copy_err = NULL;
	} else if (settle(pg, err)) {
		return tn_error_code(err, TN_ERR_DB);
	}
	if (PQstatus(pg->conn) == CONNECTION_BAD && strncmp(sql, "ROLLBACK", 8) == 0 &&
	    strncmp(sql, "ROLLBACK TO", 11) != 0) {
		/* the server rolled the transaction back when the connection
		 * dropped: done; the next statement reconnects */
		pg->lost_txn = 0;
		pg->txn = 0;
		return TN_OK;
	}
	int begin = strncmp(sql, "BEGIN", 5) == 0,
	    end = strncmp(sql, "COMMIT", 6) == 0 || (strncmp(sql, "ROLLBACK", 8) == 0 && strncmp(sql, "ROLLBACK TO", 11) != 0);
	if (begin)
		pg->lost_txn = pg->txn = 0; /* a new transaction: whatever was lost before is over */
	for (;;) {
		int idle = conn_idle(pg);
		PGresult *r = PQexec(pg->conn, sql);
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
			PQclear(r);
			if (begin)
				pg->txn = 1;
			if (end)
				pg->txn = 0;
			return TN_OK;
		}
		/* BEGIN/COMMIT are not repeated blindly: only a lone statement */
		/* r is NULL when libpq knew the connection was gone: retry too */
		if (retry(pg, r, idle && strncmp(sql, "COMMIT", 6) != 0, &tries)) {
			PQclear(r);
			continue;
		}
		note_lost(pg, idle);
		int rc = fail(pg, r, what, err);
		PQclear(r);
		return rc;
	}
}

/* ---- translation ---------------------------------------------------------- */

static int is_word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* The word before position I (skipping blanks), compared with W. */
static int word_before(const char *s, size_t i, const char *w)
{
	while (i > 0 && isspace((unsigned char)s[i - 1]))
		i--;
	size_t n = strlen(w);
	return i >= n && strncasecmp(s + i - n, w, n) == 0 && (i == n || !is_word_char(s[i - n - 1]));
}

/* PostgreSQL 15 wants a name for every subquery in FROM, SQLite does not:
 * give `FROM (SELECT ...)` / `JOIN (SELECT ...)` without one a name.  OUT
 * has room for the additions (the caller allocated generously). */
static void name_subqueries(char *s)
{
	static const char *const after[] = {"WHERE", "GROUP", "ORDER", "UNION", "LIMIT", "JOIN", "LEFT", "INNER",
					    "CROSS", "ON", "HAVING", "EXCEPT", "INTERSECT", "WINDOW", "OFFSET",
					    "FULL", "RIGHT", "NATURAL", NULL};
	int k = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\'') {
			while (s[++i] && s[i] != '\'')
				;
			if (!s[i])
				return;
			continue;
		}
		if (s[i] != '(' || !(word_before(s, i, "FROM") || word_before(s, i, "JOIN")))
			continue;
		if (word_before(s, i, "FROM")) {
			/* `x IS [NOT] DISTINCT FROM (a, b)` compares rows: no subquery */
			size_t f = i;
			while (f > 0 && isspace((unsigned char)s[f - 1]))
				f--;
			if (word_before(s, f - 4, "DISTINCT"))
				continue;
		}
		size_t j = i + 1;
		for (int depth = 1; s[j] && depth; j++) {
			if (s[j] == '\'') {
				while (s[++j] && s[j] != '\'')
					;
				if (!s[j])
					return;
			} else if (s[j] == '(') {
				depth++;
			} else if (s[j] == ')') {
				depth--;
			}
		}
		/* j: just after the closing parenthesis */
		size_t w = j;
		while (isspace((unsigned char)s[w]))
			w++;
		int named = is_word_char(s[w]) || s[w] == '"';
		for (int a = 0; named && after[a]; a++) {
			size_t n = strlen(after[a]);
			if (strncasecmp(s + w, after[a], n) == 0 && !is_word_char(s[w + n]))
				named = 0;
		}
		if (!named) {
			char alias[24];
			int n = snprintf(alias, sizeof alias, " AS tn_q%d", ++k);
			memmove(s + j + n, s + j, strlen(s + j) + 1);
			memcpy(s + j, alias, (size_t)n);
		}
	}
}

char *tn_pg_translate(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	/* each `?` grows to at most `$NNNNN`, REAL to FLOAT8, DESC by NULLS LAST */
	char *out = tn_malloc(n * 8 + 64);
	if (!out)
		return NULL;
	size_t o = 0;
	int next = 0, max = 0;
	for (size_t i = 0; i < n;) {
		char c = sql[i];
		if (c == '\'' || c == '"') { /* a literal or quoted name, as is */
			size_t j = i + 1;
			while (j < n && sql[j] != c)
				j++;
			if (j < n)
				j++;
			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		} else if (c == '?') {
			int k;
			i++;
			if (isdigit((unsigned char)sql[i])) {
				k = 0;
				while (isdigit((unsigned char)sql[i])) {
					if (k < 100000)
						k = k * 10 + (sql[i] - '0');
					i++;
				}
			} else {
				k = max + 1;
			}
			if (k > 65535) /* PostgreSQL's limit: the server says no */
				k = 65535;
			if (k > max)
				max = k;
			next = k;
			o += (size_t)snprintf(out + o, 16, "$%d", k);
		} else if ((isalpha((unsigned char)c) || c == '_') &&
			   (i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_' || sql[i - 1] == '.'))) {
			size_t j = i;
			while (j < n && (isalnum((unsigned char)sql[j]) || sql[j] == '_'))
				j++;
			if (j - i == 4 && strncasecmp(sql + i, "REAL", 4) == 0) {
				memcpy(out + o, "FLOAT8", 6);
				o += 6;
			} else if (j - i == 4 && strncasecmp(sql + i, "DESC", 4) == 0) {
				/* SQLite sorts NULL lowest, PostgreSQL highest: a
				 * descending key puts NULLs last on both (an ascending
				 * one on a column that may be NULL says NULLS FIRST) */
				size_t k = j;
				while (isspace((unsigned char)sql[k]))
					k++;
				memcpy(out + o, sql + i, 4);
				o += 4;
				if (strncasecmp(sql + k, "NULLS", 5) != 0) {
					memcpy(out + o, " NULLS LAST", 11);
					o += 11;
				}
			} else if (j - i == 4 && strncasecmp(sql + i, "temp", 4) == 0 && sql[j] == '.') {
				memcpy(out + o, "pg_temp", 7); /* SQLite's temp schema */
				o += 7;
			} else if (j - i == 7 && strncasecmp(sql + i, "INDEXED", 7) == 0) {
				/* SQLite's INDEXED BY name: the planner chooses here */
				size_t k = j;
				while (isspace((unsigned char)sql[k]))
					k++;
				if (strncasecmp(sql + k, "BY", 2) == 0 && isspace((unsigned char)sql[k + 2])) {
					k += 2;
					while (isspace((unsigned char)sql[k]))
						k++;
					while (isalnum((unsigned char)sql[k]) || sql[k] == '_')
						k++;
					j = k;
				} else {
					memcpy(out + o, sql + i, j - i);
					o += j - i;
				}
			} else {
				memcpy(out + o, sql + i, j - i);
				o += j - i;
			}
			i = j;
		} else {
			out[o++] = c;
			i++;
		}
	}
	(void)next;
	out[o] = '\0';
	name_subqueries(out);
	*nparams = max;
	return out;
}

/* ---- statements ------------------------------------------------------------ */

static int starts_with_word(const char *s, const char *w)
{
	while (isspace((unsigned char)*s) || *s == '(')
		s++;
	size_t n = strlen(w);
	return strncasecmp(s, w, n) == 0 && !isalnum((unsigned char)s[n]);
}

/* Whether a WITH statement writes (WITH x AS (INSERT ... RETURNING ...)
 * SELECT ...): PostgreSQL declares no cursor over such a statement. */
static int modifies(const char *sql)
{
	if (!starts_with_word(sql, "WITH"))
		return 0;
	for (const char *p = sql; *p; p++)
		if ((p == sql || !is_word_char(p[-1])) &&
		    (starts_with_word(p, "INSERT") || starts_with_word(p, "UPDATE") || starts_with_word(p, "DELETE")))
			return 1;
	return 0;
}

tn_pgstmt *tn_pg_prepare(tn_pg *pg, const char *sql, int stream, tn_error *err)
{
	tn_pgstmt *st = tn_calloc(1, sizeof *st);
	if (!st || !(st->sql = tn_pg_translate(sql, &st->n)))
		goto nomem;
	st->pg = pg;
	st->id = ++pg->next_id;
	st->returns_rows = starts_with_word(sql, "SELECT") || starts_with_word(sql, "WITH") ||
			   starts_with_word(sql, "VALUES");
	st->stream = stream && st->returns_rows && !modifies(sql);
	if (st->n > 0) {
		st->val = tn_calloc((size_t)st->n, sizeof *st->val);
		st->len = tn_calloc((size_t)st->n, sizeof *st->len);
		st->fmt = tn_calloc((size_t)st->n, sizeof *st->fmt);
		st->type = tn_calloc((size_t)st->n, sizeof *st->type);
		st->ptype = tn_calloc((size_t)st->n, sizeof *st->ptype);
		st->used = tn_calloc((size_t)st->n, 1);
		if (!st->val || !st->len || !st->fmt || !st->type || !st->ptype || !st->used)
			goto nomem;
		for (const char *p = st->sql; *p; p++)
			if (*p == '$' && isdigit((unsigned char)p[1])) {
				long k = strtol(p + 1, NULL, 10);
				if (k >= 1 && k <= st->n)
					st->used[k - 1] = 1;
			}
	}
	return st;
nomem:
	tn_pg_finalize(st);
	tn_error_set(err, TN_ERR_NOMEM, "out of memory preparing a query");
	return NULL;
}

static void end_run(tn_pgstmt *st)
{
	if (st->cursor)
		settle_quiet(st->pg);
	if (st->cursor && PQstatus(st->pg->conn) == CONNECTION_OK) {
		char sql[48];
		snprintf(sql, sizeof sql, "CLOSE tnc%u", st->id);
		PQclear(PQexec(st->pg->conn, sql));
	}
	st->cursor = 0;
	PQclear(st->res);
	st->res = NULL;
	st->started = 0;
	st->row = st->nrows = 0;
	free(st->blob);
	st->blob = NULL;
}

void tn_pg_reset(tn_pgstmt *st)
{
	if (!st)
		return;
	end_run(st);
	for (int i = 0; i < st->n; i++) {
		free(st->val[i]);
		st->val[i] = NULL;
		st->type[i] = 0;
		st->fmt[i] = 0;
		st->len[i] = 0;
	}
	st->bind_failed = 0;
}

void tn_pg_finalize(tn_pgstmt *st)
{
	if (!st)
		return;
	if (st->pg)
		tn_pg_reset(st);
	if (st->pgen)
		settle_quiet(st->pg);
	if (st->pgen && st->pgen == st->pg->gen && PQstatus(st->pg->conn) == CONNECTION_OK &&
	    PQtransactionStatus(st->pg->conn) != PQTRANS_INERROR) {
		char sql[48];
		snprintf(sql, sizeof sql, "DEALLOCATE tns%u", st->id);
		PQclear(PQexec(st->pg->conn, sql));
	}
	free(st->val);
	free(st->len);
	free(st->fmt);
	free(st->type);
	free(st->ptype);
	free(st->used);
	PQclear(st->desc);
	free(st->sql);
	free(st);
}

int tn_pg_bind(tn_pgstmt *st, int i, unsigned oid, const char *val, int len, int binary)
{
	if (i < 1 || i > st->n) {
		st->bind_failed = 1;
		return TN_ERR_DB;
	}
	i--;
	free(st->val[i]);
	st->val[i] = NULL;
	st->type[i] = oid;
	st->fmt[i] = binary;
	st->len[i] = 0;
	if (!val)
		return TN_OK;
	if (len < 0)
		len = (int)strlen(val);
	if (!(st->val[i] = tn_malloc((size_t)len + 1))) {
		st->bind_failed = 1;
		return TN_ERR_NOMEM;
	}
	memcpy(st->val[i], val, (size_t)len);
	st->val[i][len] = '\0';
	st->len[i] = len;
	return TN_OK;
}

/* A statement prepared with a parameter left for the server to type (a
 * NULL or a text was bound first) and now bound with a typed value: ask the
 * server which types it gave them.  When the new binding's types are those
 * (an integer for a BIGINT column first bound NULL), the statement runs
 * as prepared -- before, a batch whose first row had a NULL where a later one
 * had a number was prepared again for nearly every batch.  Returns whether
 * the prepared statement fits the binding. */
static int describe_untyped(tn_pgstmt *st)
{
	tn_pg *pg = st->pg;
	for (int i = 0; i < st->n; i++)
		if (st->used[i] && st->type[i] && st->ptype[i] != st->type[i] && st->ptype[i] != 0)
			return 0; /* a type given before that differs: prepare again */
	char name[32];
	snprintf(name, sizeof name, "tns%u", st->id);
	PGresult *d = PQdescribePrepared(pg->conn, name);
	int ok = PQresultStatus(d) == PGRES_COMMAND_OK && PQnparams(d) == st->n;
	if (ok) {
		for (int i = 0; i < st->n; i++)
			st->ptype[i] = PQparamtype(d, i);
		st->dgen = pg->gen;
	}
	PQclear(d);
	for (int i = 0; ok && i < st->n; i++)
		if (st->used[i] && st->type[i] && st->ptype[i] != st->type[i])
			ok = 0;
	return ok;
}

/* Prepare on the server unless done with compatible types in this
 * connection's life. */
static int ensure_prepared(tn_pgstmt *st, const char *what, tn_error *err)
{
	tn_pg *pg = st->pg;
	int same = st->pgen == pg->gen;
	for (int i = 0; same && i < st->n; i++)
		if (st->used[i] && st->type[i] && st->ptype[i] != st->type[i])
			same = 0;
	if (!same && st->pgen == pg->gen && st->dgen != pg->gen && describe_untyped(st))
		return TN_OK;
	if (same)
		return TN_OK;
	char name[32];
	if (st->pgen == pg->gen) { /* other types: a fresh name */
		snprintf(name, sizeof name, "DEALLOCATE tns%u", st->id);
		PQclear(PQexec(pg->conn, name));
		st->id = ++pg->next_id;
	}
	snprintf(name, sizeof name, "tns%u", st->id);
	int untyped = 0;
	for (int i = 0; i < st->n; i++) {
		st->ptype[i] = st->used[i] ? st->type[i] : 25 /* text */;
		untyped |= st->ptype[i] == 0;
	}
	/* a NULL bound where only the SQL could tell the type (`?1 IS NULL`)
	 * may leave the server unable to infer it: then text.  Inside a
	 * transaction the attempt runs under a savepoint, so that its failure
	 * does not end the transaction. */
	int sp = untyped && tn_pg_in_txn(pg);
	if (sp)
		PQclear(PQexec(pg->conn, "SAVEPOINT tn_prepare"));
	st->dgen = 0;
	PGresult *r = PQprepare(pg->conn, name, st->sql, st->n, st->ptype);
	if (untyped && PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (state && (strcmp(state, "42P18") == 0 || strcmp(state, "42P08") == 0)) {
			PQclear(r);
			if (sp)
				PQclear(PQexec(pg->conn, "ROLLBACK TO SAVEPOINT tn_prepare"));
			for (int i = 0; i < st->n; i++)
				if (!st->ptype[i])
					st->ptype[i] = 25;
			r = PQprepare(pg->conn, name, st->sql, st->n, st->ptype);
		}
	}
	if (sp && PQresultStatus(r) == PGRES_COMMAND_OK)
		PQclear(PQexec(pg->conn, "RELEASE SAVEPOINT tn_prepare"));
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		int rc = fail(pg, r, what, err);
		PQclear(r);
		st->pgen = 0;
		return rc;
	}
	PQclear(r);
	st->pgen = pg->gen;
	return TN_OK;
}

static int take(tn_pgstmt *st, PGresult *r, const char *what, tn_error *err)
{
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK) {
		st->res = r;
		st->nrows = PQntuples(r);
		st->row = -1;
		if (!st->cursor)
			st->pg->changes = atoll(PQcmdTuples(r));
		return TN_OK;
	}
	if (s == PGRES_COMMAND_OK) {
		st->pg->changes = atoll(PQcmdTuples(r));
		st->res = r;
		st->nrows = 0;
		st->row = -1;
		return TN_OK;
	}
	int rc = fail(st->pg, r, what, err);
	PQclear(r);
	return rc;
}

static int fetch(tn_pgstmt *st, const char *what, tn_error *err)
{
	char sql[64];
	snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM tnc%u", TN_PG_BATCH, st->id);
	if (settle(st->pg, err))
		return tn_error_code(err, TN_ERR_DB);
	snap(st->pg);
	PQclear(st->res);
	st->res = NULL;
	return take(st, PQexec(st->pg->conn, sql), what, err);
}

static int start(tn_pgstmt *st, const char *what, tn_error *err)
{
	tn_pg *pg = st->pg;
	int tries = 0;
	if (settle(pg, err))
		return tn_error_code(err, TN_ERR_DB);
	for (;;) {
		int idle = conn_idle(pg);
		PGresult *r;
		if (st->stream && st->runs == 0) {
			/* outside a transaction the cursor must outlive the
			 * DECLARE's own: WITH HOLD */
			size_t n = strlen(st->sql) + 80;
			char *decl = tn_malloc(n);
			if (!decl)
				return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
			snprintf(decl, n, "DECLARE tnc%u NO SCROLL CURSOR%s FOR %s", st->id, idle ? " WITH HOLD" : "",
				 st->sql);
			/* the parameters' types as the server infers them: prepare
			 * (which falls back to text where it cannot tell) and
			 * describe, then declare the cursor with those types */
			int prc = ensure_prepared(st, what, err);
			if (!prc && st->dgen != pg->gen) {
				char name[32];
				snprintf(name, sizeof name, "tns%u", st->id);
				PGresult *d = PQdescribePrepared(pg->conn, name);
				if (PQresultStatus(d) == PGRES_COMMAND_OK && PQnparams(d) == st->n) {
					for (int i = 0; i < st->n; i++)
						st->ptype[i] = PQparamtype(d, i);
					st->dgen = pg->gen;
				} else {
					prc = fail(pg, d, what, err);
				}
				PQclear(d);
			}
			if (prc) {
				free(decl);
				/* a connection dropped while idle (its backend killed,
				 * the server restarted): reconnect and run again, as a
				 * lookup does below -- without this a pooled reader whose
				 * connection dropped failed every scan for good (the
				 * server's key list among them: every request 401) */
				if (PQstatus(pg->conn) == CONNECTION_BAD && retry(pg, NULL, idle, &tries)) {
					tn_error_clear(err);
					continue;
				}
				note_lost(pg, idle);
				return prc;
			}
			r = PQexecParams(pg->conn, decl, st->n, st->ptype, (const char *const *)st->val, st->len,
					 st->fmt, 0);
			free(decl);
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				PQclear(r);
				st->cursor = 1;
				return fetch(st, what, err);
			}
		} else {
			int rc = ensure_prepared(st, what, err);
			if (rc) {
				if (PQstatus(pg->conn) == CONNECTION_BAD && retry(pg, NULL, idle, &tries)) {
					tn_error_clear(err);
					continue;
				}
				note_lost(pg, idle);
				return rc;
			}
			char name[32];
			snprintf(name, sizeof name, "tns%u", st->id);
			r = PQexecPrepared(pg->conn, name, st->n, (const char *const *)st->val, st->len, st->fmt, 0);
			ExecStatusType s = PQresultStatus(r);
			if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
				return take(st, r, what, err);
		}
		if (retry(pg, r, idle, &tries)) {
			PQclear(r);
			continue;
		}
		note_lost(pg, idle);
		int rc = fail(pg, r, what, err);
		PQclear(r);
		return rc;
	}
}

int tn_pg_step(tn_pgstmt *st, const char *what, tn_error *err)
{
	if (st->bind_failed)
		return tn_error_set(err, TN_ERR_DB, "%s: %s: a value could not be bound", st->pg->name, what);
	if (!st->started) {
		st->started = 1;
		st->pg->constraint = 0;
		int rc = start(st, what, err);
		st->runs++;
		if (rc) {
			st->started = 0;
			return rc;
		}
	}
	free(st->blob);
	st->blob = NULL;
	if (++st->row < st->nrows)
		return 100; /* TN_DB_ROW */
	if (st->cursor && st->nrows == TN_PG_BATCH) {
		int rc = fetch(st, what, err);
		if (rc) {
			end_run(st);
			return rc;
		}
		if (++st->row < st->nrows)
			return 100;
	}
	/* done: as SQLite, a next step runs the statement again */
	end_run(st);
	return 101; /* TN_DB_DONE */
}

int tn_pg_column_count(tn_pgstmt *st)
{
	if (st->res)
		return PQnfields(st->res);
	/* before the first step: ask the server */
	settle_quiet(st->pg);
	if (st->returns_rows && !st->stream && st->pgen != st->pg->gen && ensure_prepared(st, "describing", NULL))
		return 0;
	char name[32];
	snprintf(name, sizeof name, "tns%u", st->id);
	if (st->pgen != st->pg->gen) {
		/* a stream: describe the query through a throwaway prepare */
		PGresult *p = PQprepare(st->pg->conn, "", st->sql, st->n, st->type);
		PQclear(p);
		name[0] = '\0';
	}
	PGresult *d = PQdescribePrepared(st->pg->conn, name);
	int n = PQresultStatus(d) == PGRES_COMMAND_OK ? PQnfields(d) : 0;
	PQclear(d);
	return n;
}

int tn_pg_param_count(tn_pgstmt *st) { return st->n; }

const char *tn_pg_column_name(tn_pgstmt *st, int i)
{
	if (st->res)
		return PQfname(st->res, i);
	/* before the first step (a listing's header): describe the query */
	if (!st->desc) {
		settle_quiet(st->pg);
		PGresult *p = PQprepare(st->pg->conn, "", st->sql, st->n, st->type);
		int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
		PQclear(p);
		if (!ok)
			return "?";
		st->desc = PQdescribePrepared(st->pg->conn, "");
	}
	if (PQresultStatus(st->desc) != PGRES_COMMAND_OK || i >= PQnfields(st->desc))
		return "?";
	return PQfname(st->desc, i);
}

static const char *cell(tn_pgstmt *st, int i)
{
	if (!st->res || st->row < 0 || st->row >= st->nrows || i < 0 || i >= PQnfields(st->res) ||
	    PQgetisnull(st->res, st->row, i))
		return NULL;
	return PQgetvalue(st->res, st->row, i);
}

int tn_pg_column_is_null(tn_pgstmt *st, int i) { return cell(st, i) == NULL; }

int tn_pg_column_is_number(tn_pgstmt *st, int i)
{
	if (!cell(st, i))
		return 0;
	switch (PQftype(st->res, i)) {
	case 16: case 20: case 21: case 23: case 700: case 701: case 1700: /* bool, ints, floats, numeric */
		return 1;
	default:
		return 0;
	}
}

int64_t tn_pg_column_int64(tn_pgstmt *st, int i)
{
	const char *v = cell(st, i);
	if (!v)
		return 0;
	if (v[0] == 't' && !v[1])
		return 1;
	if (v[0] == 'f' && !v[1])
		return 0;
	/* a numeric or float result read as an integer: SQLite truncates */
	if (strpbrk(v, ".eE"))
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

double tn_pg_column_double(tn_pgstmt *st, int i)
{
	const char *v = cell(st, i);
	if (!v)
		return NAN;
	if (v[0] == 't' && !v[1])
		return 1;
	if (v[0] == 'f' && !v[1])
		return 0;
	return strtod(v, NULL);
}

const char *tn_pg_column_text(tn_pgstmt *st, int i)
{
	const char *v = cell(st, i);
	if (v && st->res && PQftype(st->res, i) == 16 && !v[1]) /* bool as SQLite's 0/1 */
		return v[0] == 't' ? "1" : "0";
	return v;
}

static const unsigned char *blob_of(tn_pgstmt *st, int i)
{
	const char *v = cell(st, i);
	if (!v)
		return NULL;
	if (PQftype(st->res, i) != OID_BYTEA) {
		st->blob_len = strlen(v);
		return (const unsigned char *)v;
	}
	free(st->blob);
	st->blob = PQunescapeBytea((const unsigned char *)v, &st->blob_len);
	return st->blob;
}

const void *tn_pg_column_blob(tn_pgstmt *st, int i) { return blob_of(st, i); }

int tn_pg_column_bytes(tn_pgstmt *st, int i)
{
	return blob_of(st, i) ? (int)st->blob_len : 0;
}

long long tn_pg_changes(tn_pg *pg) { return pg->changes; }
int tn_pg_constraint_failed(tn_pg *pg) { return pg->constraint; }

/* ---- COPY ------------------------------------------------------------------ */

int tn_pg_copy_begin(tn_pg *pg, const char *sql, tn_error *err)
{
	if (settle(pg, err))
		return tn_error_code(err, TN_ERR_DB);
	snap(pg);
	PGresult *r = PQexec(pg->conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		int rc = fail(pg, r, "starting COPY", err);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	return TN_OK;
}

/* Wait until every row queued by a streaming COPY has gone to the server
 * (reading what the server sends meanwhile, so that neither side blocks). */
static int drain(tn_pg *pg, tn_error *err)
{
	for (;;) {
		int f = PQflush(pg->conn);
		if (f == 0)
			return TN_OK;
		if (f < 0)
			return fail(pg, NULL, "sending COPY data", err);
		struct pollfd p = {.fd = PQsocket(pg->conn), .events = POLLOUT | POLLIN};
		if (poll(&p, 1, -1) < 0)
			continue; /* EINTR */
		if ((p.revents & POLLIN) && !PQconsumeInput(pg->conn))
			return fail(pg, NULL, "sending COPY data", err);
	}
}

int tn_pg_copy_stream(tn_pg *pg, const char *sql, tn_error *err)
{
	if (tn_pg_copy_begin(pg, sql, err))
		return tn_error_code(err, TN_ERR_DB);
	if (PQsetnonblocking(pg->conn, 1) != 0) {
		PQputCopyEnd(pg->conn, "no non-blocking mode");
		PGresult *r;
		while ((r = PQgetResult(pg->conn)))
			PQclear(r);
		return fail(pg, NULL, "starting COPY", err);
	}
	pg->copy_open = 1;
	return TN_OK;
}

int tn_pg_copy_is_open(tn_pg *pg) { return pg->copy_open; }

int tn_pg_copy_queue(tn_pg *pg, const char *buf, size_t len, int wait, tn_error *err)
{
	if (wait && drain(pg, err))
		return tn_error_code(err, TN_ERR_DB);
	for (;;) {
		int r = PQputCopyData(pg->conn, buf, (int)len);
		if (r == 1)
			return TN_OK;
		if (r < 0)
			return fail(pg, NULL, "sending COPY data", err);
		if (drain(pg, err)) /* the buffer could not grow: send what is queued first */
			return tn_error_code(err, TN_ERR_DB);
	}
}

void tn_pg_copy_poll(tn_pg *pg)
{
	if (pg->copy_open && PQflush(pg->conn) > 0)
		PQconsumeInput(pg->conn); /* a failure shows at the COPY's end */
}

/* End an open streaming COPY; its failure is kept for settle(). */
static void settle_quiet(tn_pg *pg)
{
	if (!pg->copy_open)
		return;
	tn_error e = {0};
	if (tn_pg_copy_end(pg, NULL, &e) && !pg->copy_err) {
		pg->copy_err = tn_strdup(e.msg);
		pg->copy_code = e.code ? e.code : TN_ERR_DB;
	}
}

/* Before a statement: end an open COPY, and report its failure (once). */
static int settle(tn_pg *pg, tn_error *err)
{
	settle_quiet(pg);
	if (!pg->copy_err)
		return TN_OK;
	int rc = tn_error_set(err, pg->copy_code, "%s", pg->copy_err);
	free(pg->copy_err);
	pg->copy_err = NULL;
	return rc;
}

int tn_pg_copy_put(tn_pg *pg, const char *buf, size_t len, tn_error *err)
{
	if (PQputCopyData(pg->conn, buf, (int)len) != 1)
		return fail(pg, NULL, "sending COPY data", err);
	return TN_OK;
}

int tn_pg_copy_end(tn_pg *pg, long long *rows, tn_error *err)
{
	if (pg->copy_open) {
		pg->copy_open = 0;
		int drc = drain(pg, err);
		PQsetnonblocking(pg->conn, 0);
		if (drc) {
			PQputCopyEnd(pg->conn, "not all rows were sent");
			PGresult *r;
			while ((r = PQgetResult(pg->conn)))
				PQclear(r);
			return drc;
		}
	}
	if (PQputCopyEnd(pg->conn, NULL) != 1)
		return fail(pg, NULL, "ending COPY", err);
	int rc = TN_OK;
	PGresult *r;
	while ((r = PQgetResult(pg->conn))) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			if (rows)
				*rows = atoll(PQcmdTuples(r));
		} else if (!rc) {
			rc = fail(pg, r, "copying rows", err);
		}
		PQclear(r);
	}
	return rc;
}

/* ---- DDL ------------------------------------------------------------------- */

const char tn_pg_prelude[] =
	/* SQLite's JSON checks and normalizer, for CHECK constraints and writes */
	"CREATE FUNCTION json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS"
	"  $$BEGIN PERFORM t::json; RETURN true; EXCEPTION WHEN others THEN RETURN false; END$$;"
	"CREATE FUNCTION json_type(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT json_typeof(t::json)$$;"
	"CREATE FUNCTION json(t text) RETURNS text LANGUAGE sql IMMUTABLE AS"
	"  $$SELECT CASE WHEN json_typeof(t::json) IS NOT NULL THEN t END$$;"
	/* json_extract(DOC, '$.a.b') as text (read it with CAST), and round(x, n)
	 * on doubles, half away from zero as SQLite */
	"CREATE FUNCTION json_extract(t text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS"
	"  $$SELECT CASE WHEN path = '$' THEN t ELSE (t::json) #>> string_to_array(substr(path, 3), '.') END$$;"
	"CREATE FUNCTION round(x double precision, n integer) RETURNS double precision LANGUAGE sql IMMUTABLE AS"
	"  $$SELECT pg_catalog.round(x::numeric, n::int4)::double precision$$;"
	/* strftime(FORMAT, T, 'unixepoch') for the %Y %m %d %H %M %S it uses */
	"CREATE FUNCTION strftime(fmt text, t bigint, modifier text) RETURNS text LANGUAGE sql IMMUTABLE AS"
	"  $$SELECT to_char(to_timestamp(t) AT TIME ZONE 'UTC', replace(replace(replace(replace(replace(replace("
	"    fmt, '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD'), '%H', 'HH24'), '%M', 'MI'), '%S', 'SS'))$$;"
	/* SQLite's total() (a float sum, 0 over no rows), and sums and totals
	 * of comparisons, which are 0/1 integers on SQLite */
	"CREATE AGGREGATE total(double precision) (SFUNC = float8pl, STYPE = double precision, INITCOND = '0');"
	"CREATE FUNCTION tn_total_bool(a double precision, b boolean) RETURNS double precision LANGUAGE sql"
	"  IMMUTABLE AS $$SELECT a + CASE WHEN b THEN 1 ELSE 0 END$$;"
	"CREATE AGGREGATE total(boolean) (SFUNC = tn_total_bool, STYPE = double precision, INITCOND = '0');"
	"CREATE FUNCTION tn_sum_bool(a bigint, b boolean) RETURNS bigint LANGUAGE sql IMMUTABLE AS"
	"  $$SELECT CASE WHEN b IS NULL THEN a ELSE coalesce(a, 0) + CASE WHEN b THEN 1 ELSE 0 END END$$;"
	"CREATE AGGREGATE sum(boolean) (SFUNC = tn_sum_bool, STYPE = bigint);"
	/* currency.c's tn_money(AMOUNT, CURRENCY, AT): AMOUNT in the reporting
	 * currency at the rate in force at AT, or an error naming the currency
	 * and the day (never a silent sum across currencies) */
	"CREATE FUNCTION tn_money(amount double precision, cur text, at bigint) RETURNS double precision"
	"  LANGUAGE plpgsql STABLE AS $$"
	"DECLARE rep text; r double precision; first bigint; day text;"
	"BEGIN"
	"  IF amount IS NULL THEN RETURN NULL; END IF;"
	"  SELECT v INTO rep FROM (SELECT value AS v FROM meta WHERE key = 'reporting_currency' UNION ALL"
	"    SELECT * FROM (SELECT currency FROM subscriptions ORDER BY id LIMIT 1) s UNION ALL"
	"    SELECT * FROM (SELECT currency FROM payments ORDER BY id LIMIT 1) p UNION ALL SELECT 'USD' LIMIT 1) x;"
	"  IF cur IS NULL OR cur = rep THEN RETURN amount; END IF;"
	"  SELECT rate INTO r FROM currency_rates WHERE currency = cur AND valid_from <= at"
	"    ORDER BY valid_from DESC LIMIT 1;"
	"  IF r > 0 THEN RETURN amount * r; END IF;"
	"  SELECT min(valid_from) INTO first FROM currency_rates WHERE currency = cur;"
	"  day := to_char(to_timestamp(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD');"
	"  IF first IS NULL THEN"
	"    RAISE EXCEPTION 'an amount in % (on %) cannot be added to the reporting currency %: there is no % "
	"exchange rate (import one with `tenure import rates FILE`)', cur, day, rep, cur;"
	"  END IF;"
	"  RAISE EXCEPTION 'an amount in % on % cannot be added to the reporting currency %: the first % rate is "
	"from % (import an earlier one with `tenure import rates FILE`)', cur, day, rep, cur,"
	"    to_char(to_timestamp(first) AT TIME ZONE 'UTC', 'YYYY-MM-DD');"
	"END$$;";

static int word_at(const char *s, size_t i, const char *w)
{
	size_t n = strlen(w);
	return strncasecmp(s + i, w, n) == 0 && !(isalnum((unsigned char)s[i + n]) || s[i + n] == '_');
}

/* Whether the statement at S makes or alters a table (its TEXT columns
 * are then given the "C" collation, see tn_pg_ddl). */
static int table_statement(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	if (word_at(s, 0, "ALTER")) {
		s += 5;
	} else if (word_at(s, 0, "CREATE")) {
		s += 6;
		while (isspace((unsigned char)*s))
			s++;
		if (word_at(s, 0, "TEMP") || word_at(s, 0, "TEMPORARY") || word_at(s, 0, "UNLOGGED"))
			while (*s && !isspace((unsigned char)*s))
				s++;
	} else {
		return 0;
	}
	while (isspace((unsigned char)*s))
		s++;
	return word_at(s, 0, "TABLE");
}

/* Whether the TEXT at I in a table statement is a column's type: after the
 * column's name (or ALTER COLUMN's TYPE), not CAST(x AS TEXT) nor x::TEXT,
 * and not already given a collation. */
static int text_column(const char *sql, size_t i, size_t j)
{
	size_t b = i;
	while (b > 0 && isspace((unsigned char)sql[b - 1]))
		b--;
	if (b == 0 || !(isalnum((unsigned char)sql[b - 1]) || sql[b - 1] == '_' || sql[b - 1] == '"'))
		return 0;
	if (word_before(sql, b, "AS"))
		return 0;
	while (isspace((unsigned char)sql[j]))
		j++;
	return !word_at(sql, j, "COLLATE") && sql[j] != '[';
}

char *tn_pg_ddl(const char *sql)
{
	size_t n = strlen(sql);
	char *out = tn_malloc(n * 4 + 16);
	if (!out)
		return NULL;
	size_t o = 0;
	int table = table_statement(sql);
	for (size_t i = 0; i < n;) {
		char c = sql[i];
		if (c == ';') /* the next statement */
			table = table_statement(sql + i + 1);
		if (c == '\'' || c == '"' || (c == '$' && sql[i + 1] == '$')) {
			const char *close = c == '$' ? "$$" : c == '\'' ? "'" : "\"";
			const char *e = strstr(sql + i + strlen(close), close);
			size_t j = e ? (size_t)(e - sql) + strlen(close) : n;
			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
			continue;
		}
		if (!(isalpha((unsigned char)c) || c == '_') ||
		    (i > 0 && (isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_'))) {
			out[o++] = c;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && (isalnum((unsigned char)sql[j]) || sql[j] == '_'))
			j++;
		const char *rep = NULL;
		size_t skip = j - i;
		if (word_at(sql, i, "INTEGER")) {
			size_t k = j;
			while (sql[k] == ' ')
				k++;
			if (word_at(sql, k, "PRIMARY")) {
				rep = "BIGINT GENERATED BY DEFAULT AS IDENTITY";
			} else {
				rep = "BIGINT";
			}
		} else if (word_at(sql, i, "REAL")) {
			rep = "DOUBLE PRECISION";
		} else if (word_at(sql, i, "temp") && sql[j] == '.') {
			rep = "pg_temp";
		} else if (word_at(sql, i, "BLOB")) {
			rep = "BYTEA";
		} else if (table && word_at(sql, i, "TEXT") && text_column(sql, i, j)) {
			/* SQLite compares text by its bytes; a database's locale
			 * collation (en_US.UTF-8, ICU) would order customer ids
			 * otherwise (`points balance`'s ties): "C" is memcmp, the
			 * same order on both engines, and the cheapest one */
			rep = "TEXT COLLATE \"C\"";
		} else if (word_at(sql, i, "AUTOINCREMENT")) {
			rep = "";
		} else if (word_at(sql, i, "WITHOUT")) {
			size_t k = j;
			while (sql[k] == ' ')
				k++;
			if (word_at(sql, k, "ROWID")) {
				rep = "";
				skip = k + 5 - i;
			}
		}
		if (rep) {
			size_t l = strlen(rep);
			memcpy(out + o, rep, l);
			o += l;
			i += skip;
		} else {
			memcpy(out + o, sql + i, j - i);
			o += j - i;
			i = j;
		}
	}
	out[o] = '\0';
	return out;
}
