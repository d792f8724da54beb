/*
 * cluster.c -- `tenure cluster init`: a PostgreSQL coordinator whose
 * customers, subscriptions, events, payments and feedback live on shards
 * (include/tenure/cluster.h, docs/scaling.md "A cluster").
 *
 * postgres_fdw: on the coordinator each of the five tables becomes a table
 * PARTITIONED BY HASH of the customer's internal id (customers.id, the
 * others' customer_id), one partition per shard, each partition a foreign
 * table on that shard's server (async_capable, so the shards scan at once).
 * The shards hold the ordinary Tenure schema (migrated here), so every
 * unique key and foreign key among a customer's rows is checked where the
 * rows are.  Three things the single-node schema has do not carry over to a
 * partitioned table with foreign partitions, and are solved here:
 *   - ids: identity columns are not allowed on partitioned tables, and a
 *     shard's own sequence would repeat another's: the coordinator issues
 *     them (a sequence per table, the column's DEFAULT), globally unique;
 *   - the unique ext_id of customers: a partitioned table's unique key must
 *     contain the partition key (and foreign partitions take no index at
 *     all): the coordinator keeps customer_keys(ext_id PRIMARY KEY, id
 *     UNIQUE), written with each new customer (kept on rename and
 *     delete by a trigger on customers), so a duplicate ext_id is
 *     refused across all shards; the other tables' foreign keys to
 *     customers(id) point at customer_keys(id) instead;
 *   - upserts: ON CONFLICT (ext_id) DO UPDATE cannot go through foreign
 *     partitions; the customer upsert is the function tn_put_customer
 *     (same result: the id when the row was added or changed, no row when
 *     it was unchanged), and events go in with ON CONFLICT DO NOTHING,
 *     which postgres_fdw does send to the shards.
 * Foreign keys from coordinator tables to subscriptions(id) and
 * feedback(id) cannot exist (no unique index on the partitioned table):
 * they are dropped, and the store's writers keep them true.
 */
#include "store/cluster.h"
#include "store/db.h"
#include "store/db_pg.h"
#include "base/alloc.h"
#include "tenure/cluster.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* the tables that follow the customer, with their partition key */
static const struct {
	const char *table, *key;
	int has_id;
} sharded[] = {
	{"customers", "id", 1},      {"subscriptions", "customer_id", 1}, {"events", "customer_id", 0},
	{"payments", "customer_id", 1}, {"feedback", "customer_id", 1},
};
#define NSHARDED (sizeof sharded / sizeof sharded[0])

int tn_cluster_detect(tn_store *s, int *nshards, tn_error *err)
{
	*nshards = 0;
	if (!tn_store_pg(s))
		return TN_OK;
	tn_stmt *st = tn_db_prepare(s, "SELECT count(*) FROM cluster_shards", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, "reading the cluster's shards", err);
	if (rc == TN_DB_ROW)
		*nshards = (int)tn_db_column_int64(st, 0);
	tn_db_finalize(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

/* Run one statement made by printf; a statement longer than the buffer is
 * an internal error, never run cut short. */
static int execf(tn_store *s, tn_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int execf(tn_store *s, tn_error *err, const char *fmt, ...)
{
	char sql[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof sql)
		return tn_error_set(err, TN_ERR_DB, "internal: a cluster statement is too long");
	return tn_store_exec(s, sql, err);
}

static int query_int(tn_store *s, const char *sql, const char *what, long long *out, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, sql, err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = tn_db_step(st, what, err);
	*out = rc == TN_DB_ROW ? tn_db_column_int64(st, 0) : 0;
	tn_db_finalize(st);
	return rc == TN_DB_ROW || rc == TN_DB_DONE ? TN_OK : tn_error_code(err, TN_ERR_DB);
}

/* V as an SQL string literal into OUT (CAP bytes); -1 when it does not fit
 * or holds a character no option needs. */
static int literal(char *out, size_t cap, const char *v)
{
	size_t o = 0;
	if (cap < 3)
		return -1;
	out[o++] = '\'';
	for (const char *c = v; *c; c++) {
		if ((unsigned char)*c < 0x20)
			return -1;
		if (o + 3 >= cap)
			return -1;
		if (*c == '\'')
			out[o++] = '\'';
		out[o++] = *c;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return 0;
}

/* "OPTIONS (k 'v', ...)" pieces: append key K with value V to BUF. */
static int add_option(char *buf, size_t cap, const char *k, const char *v)
{
	char lit[1100];
	if (literal(lit, sizeof lit, v))
		return -1;
	size_t l = strlen(buf);
	int n = snprintf(buf + l, cap - l, "%s%s %s", l ? ", " : "", k, lit);
	return n < 0 || (size_t)n >= cap - l ? -1 : 0;
}

/* One shard URL, read by libpq's own parser: the server's options
 * (where) and the user mapping's (who). */
typedef struct shard_url {
	char server_opts[2048], user_opts[2048];
	char host[256], port[16];
	char *shown; /* the URL without its password */
} shard_url;

/* the libpq parameters a shard URL may give: the server's, the user's */
static const char *const server_keys[] = {"host", "hostaddr", "port", "dbname", "sslmode", "sslrootcert",
					  "sslcrl", "connect_timeout", "target_session_attrs", NULL};
static const char *const user_keys[] = {"user", "password", "sslcert", "sslkey", NULL};

static int parse_url(const char *url, size_t k, shard_url *out, tn_error *err)
{
	memset(out, 0, sizeof *out);
	if (!(out->shown = tn_pg_redact(url)))
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	if (!tn_pg_is_url(url))
		return tn_error_set(err, TN_ERR_USAGE, "shard %zu: \"%s\" is not a postgresql:// URL", k + 1, out->shown);
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	if (!opts) {
		int rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s: %s", k + 1, out->shown,
				      msg ? msg : "out of memory");
		PQfreemem(msg);
		return rc;
	}
	int rc = TN_OK, has_password = 0, has_timeout = 0;
	for (PQconninfoOption *o = opts; o->keyword && !rc; o++) {
		if (!o->val || !*o->val)
			continue;
		int found = 0;
		for (int i = 0; server_keys[i] && !found; i++)
			if (strcmp(o->keyword, server_keys[i]) == 0) {
				found = 1;
				if (add_option(out->server_opts, sizeof out->server_opts, o->keyword, o->val))
					rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s: the %s is too long", k + 1,
							  out->shown, o->keyword);
				if (strcmp(o->keyword, "host") == 0)
					snprintf(out->host, sizeof out->host, "%s", o->val);
				if (strcmp(o->keyword, "port") == 0)
					snprintf(out->port, sizeof out->port, "%s", o->val);
				has_timeout |= strcmp(o->keyword, "connect_timeout") == 0;
			}
		for (int i = 0; user_keys[i] && !found; i++)
			if (strcmp(o->keyword, user_keys[i]) == 0) {
				found = 1;
				if (add_option(out->user_opts, sizeof out->user_opts, o->keyword, o->val))
					rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s: the %s is too long or holds "
							  "a control character", k + 1, out->shown, o->keyword);
				has_password |= strcmp(o->keyword, "password") == 0;
			}
		if (!found && !rc)
			rc = tn_error_set(err, TN_ERR_USAGE,
					  "shard %zu: %s: the parameter \"%s\" cannot be given to a shard (allowed: host, "
					  "hostaddr, port, dbname, user, password, sslmode, sslrootcert, sslcrl, sslcert, "
					  "sslkey, connect_timeout, target_session_attrs)",
					  k + 1, out->shown, o->keyword);
	}
	PQconninfoFree(opts);
	/* a shard that is down answers within ten seconds, not TCP's minutes */
	if (!rc && !has_timeout && add_option(out->server_opts, sizeof out->server_opts, "connect_timeout", "10"))
		rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s: too many parameters", k + 1, out->shown);
	const char *env = getenv("PGPASSWORD");
	if (!rc && !has_password && env && *env &&
	    add_option(out->user_opts, sizeof out->user_opts, "password", env))
		rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: the password in PGPASSWORD is too long", k + 1);
	return rc;
}

/* Open the shard (which gives it the Tenure schema) and check that it can
 * be one: not a coordinator itself, no customer data yet. */
static int prepare_shard(const char *url, size_t k, const shard_url *u, tn_error *err)
{
	tn_store *sh;
	if (tn_store_open(url, TN_STORE_CREATE, &sh, err))
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	tn_store_counts c;
	if (tn_store_cluster(sh) > 0)
		rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s is itself a cluster coordinator", k + 1, u->shown);
	else if (!(rc = tn_store_counts_get(sh, &c, err)) &&
		 c.customers + c.subscriptions + c.events + c.payments + c.feedback > 0)
		rc = tn_error_set(err, TN_ERR_USAGE,
				  "shard %zu: %s already holds data (%lld customers, %lld events): a shard starts empty",
				  k + 1, u->shown, c.customers, c.events);
	tn_store_close(sh);
	return rc;
}

/* Foreign keys from the coordinator's own tables to the five sharded ones. */
typedef struct fk {
	char table[128], name[128], def[512], target[64];
} fk;

static int list_fks(tn_store *s, fk **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s,
		"SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.confrelid::regclass::text "
		"FROM pg_constraint c WHERE c.contype = 'f' "
		"AND c.confrelid::regclass::text IN ('customers','subscriptions','events','payments','feedback') "
		"AND c.conrelid::regclass::text NOT IN ('customers','subscriptions','events','payments','feedback') "
		"ORDER BY 1, 2", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	size_t cap = 0;
	while ((rc = tn_db_step(st, "reading the foreign keys", err)) == TN_DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			fk *nf = tn_realloc(*out, cap * sizeof *nf);
			if (!nf) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			*out = nf;
		}
		fk *f = &(*out)[(*n)++];
		const char *v[4];
		for (int i = 0; i < 4; i++)
			v[i] = tn_db_column_text(st, i);
		if (!v[0] || !v[1] || !v[2] || !v[3] || strlen(v[0]) >= sizeof f->table ||
		    strlen(v[1]) >= sizeof f->name || strlen(v[2]) >= sizeof f->def || strlen(v[3]) >= sizeof f->target) {
			rc = tn_error_set(err, TN_ERR_DB, "internal: an unexpected foreign key on the coordinator");
			break;
		}
		snprintf(f->table, sizeof f->table, "%s", v[0]);
		snprintf(f->name, sizeof f->name, "%s", v[1]);
		snprintf(f->def, sizeof f->def, "%s", v[2]);
		snprintf(f->target, sizeof f->target, "%s", v[3]);
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

/* Drop the foreign keys to the sharded tables; those to customers(id)
 * point at customer_keys(id) again. */
static int repoint_fks(tn_store *s, const fk *f, size_t n, tn_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (execf(s, err, "ALTER TABLE %s DROP CONSTRAINT \"%s\"", f[i].table, f[i].name))
			return tn_error_code(err, TN_ERR_DB);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].target, "customers") != 0)
			continue;
		const char *ref = strstr(f[i].def, "REFERENCES customers(id)");
		if (!ref)
			continue;
		if (execf(s, err, "ALTER TABLE %s ADD CONSTRAINT \"%s\" %.*sREFERENCES customer_keys(id)%s", f[i].table,
			  f[i].name, (int)(ref - f[i].def), f[i].def, ref + strlen("REFERENCES customers(id)")))
			return tn_error_code(err, TN_ERR_DB);
	}
	return TN_OK;
}

/* The coordinator's key table and customer upsert.  TRIGGER: a trigger on
 * customers writes the key row of a new customer; else the function does
 * (Citus, and postgres_fdw since the batched import: there the trigger
 * follows only an erase that renames ext_id, and deletes). */
static int make_keys(tn_store *s, int trigger, tn_error *err)
{
	if (tn_store_exec(s, "CREATE TABLE customer_keys(ext_id TEXT PRIMARY KEY, id BIGINT NOT NULL UNIQUE)", err))
		return tn_error_code(err, TN_ERR_DB);
	/* the single-node upsert's contract (store.c): one row, the id, when
	 * the customer was added or changed; no row when it was the same */
	return execf(s, err,
		"CREATE FUNCTION tn_put_customer(p_ext TEXT, p_at BIGINT, p_country TEXT, p_channel TEXT, p_attrs TEXT)"
		"  RETURNS SETOF BIGINT LANGUAGE plpgsql AS $$"
		"DECLARE v_id BIGINT; v_attrs TEXT := json(coalesce(p_attrs, '{}')); v_n BIGINT;"
		"BEGIN"
		"  SELECT k.id INTO v_id FROM customer_keys k WHERE k.ext_id = p_ext;"
		"  IF v_id IS NULL THEN"
		"    INSERT INTO customers(ext_id, signed_up_at, country, channel, attrs)"
		"      VALUES (p_ext, p_at, p_country, p_channel, v_attrs) RETURNING id INTO v_id;"
		"    %s"
		"    RETURN NEXT v_id;"
		"    RETURN;"
		"  END IF;"
		"  UPDATE customers c SET signed_up_at = p_at, country = p_country, channel = p_channel, attrs = v_attrs"
		"   WHERE c.id = v_id AND (c.signed_up_at, c.country, c.channel, c.attrs)"
		"     IS DISTINCT FROM (p_at, p_country, p_channel, v_attrs);"
		"  GET DIAGNOSTICS v_n = ROW_COUNT;"
		"  IF v_n > 0 THEN RETURN NEXT v_id; END IF;"
		"END$$",
		trigger ? "" : "INSERT INTO customer_keys(ext_id, id) VALUES (p_ext, v_id);");
}

static int record_shards(tn_store *s, const char *kind, shard_url *u, size_t n, int partitioned, tn_error *err)
{
	tn_stmt *st = tn_db_prepare(s, "INSERT INTO cluster_shards(kind, server, location, modulus, remainder, added_at) "
				       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc = TN_OK;
	for (size_t k = 0; k < n && !rc; k++) {
		char server[64];
		if (partitioned)
			snprintf(server, sizeof server, "tn_shard_%zu", k);
		else
			snprintf(server, sizeof server, "%s:%s", u[k].host, u[k].port[0] ? u[k].port : "5432");
		tn_db_bind_text(st, 1, kind);
		tn_db_bind_text(st, 2, server);
		tn_db_bind_text(st, 3, u[k].shown);
		if (partitioned) {
			tn_db_bind_int64(st, 4, (int64_t)n);
			tn_db_bind_int64(st, 5, (int64_t)k);
		} else {
			tn_db_bind_null(st, 4);
			tn_db_bind_null(st, 5);
		}
		tn_db_bind_int64(st, 6, (int64_t)tn_now());
		int r = tn_db_step(st, "recording the shards", err);
		tn_db_reset(st);
		if (r != TN_DB_DONE)
			rc = tn_error_code(err, TN_ERR_DB);
	}
	tn_db_finalize(st);
	return rc;
}

/* The planner settings that let a per-customer GROUP BY and a join on the
 * customer run on each shard, for every later session on this database. */
static int planner_settings(tn_store *s, tn_error *err)
{
	return tn_store_exec(s,
		"DO $$BEGIN"
		"  EXECUTE format('ALTER DATABASE %I SET enable_partitionwise_aggregate = on', current_database());"
		"  EXECUTE format('ALTER DATABASE %I SET enable_partitionwise_join = on', current_database());"
		"END$$;"
		"SET enable_partitionwise_aggregate = on; SET enable_partitionwise_join = on", err);
}

/* tn_money (the prelude's, db_pg.c) finds the reporting currency on every
 * call, from meta or else the first subscription's or payment's currency.
 * On a coordinator that lookup is a query to every shard, per amount: the
 * coordinator's tn_money keeps the answer for the rest of the transaction
 * (set_config(..., true)), which is one statement when the analyses read.
 * Made from the prelude's own text, so that the two stay one function; if
 * that text has changed shape, tn_money stays as it is (slower, same). */
static int cache_money(tn_store *s, tn_error *err)
{
	static const char lookup_from[] = "  SELECT v INTO rep FROM (";
	static const char lookup_end[] = ") x;";
	const char *fn = strstr(tn_pg_prelude, "CREATE FUNCTION tn_money(");
	const char *from = fn ? strstr(fn, lookup_from) : NULL;
	const char *end = from ? strstr(from, lookup_end) : NULL;
	const char *body_end = end ? strstr(end, "END$$;") : NULL;
	if (!body_end)
		return TN_OK;
	end += strlen(lookup_end);
	body_end += strlen("END$$;");
	return execf(s, err,
		     "CREATE OR REPLACE %.*s"
		     "  rep := current_setting('tenure.reporting_currency', true);"
		     "  IF rep IS NULL OR rep = '' THEN"
		     "%.*s"
		     "    PERFORM set_config('tenure.reporting_currency', rep, true);"
		     "  END IF;"
		     "%.*s",
		     (int)(from - fn - strlen("CREATE ")), fn + strlen("CREATE "), (int)(end - from), from,
		     (int)(body_end - end), end);
}

static int init_fdw(tn_store *s, shard_url *u, size_t n, tn_error *err)
{
	fk *fks = NULL;
	size_t nfk = 0;
	int rc = tn_store_exec(s, "CREATE EXTENSION IF NOT EXISTS postgres_fdw", err);
	for (size_t k = 0; k < n && !rc; k++)
		rc = execf(s, err,
			   "CREATE SERVER tn_shard_%zu FOREIGN DATA WRAPPER postgres_fdw OPTIONS (%s, async_capable "
			   "'true', fetch_size '10000', batch_size '1000');"
			   "CREATE USER MAPPING FOR CURRENT_USER SERVER tn_shard_%zu%s%s%s",
			   k, u[k].server_opts, k, u[k].user_opts[0] ? " OPTIONS (" : "", u[k].user_opts,
			   u[k].user_opts[0] ? ")" : "");
	if (!rc)
		rc = list_fks(s, &fks, &nfk, err);
	if (!rc)
		rc = make_keys(s, 0, err);
	if (!rc)
		rc = repoint_fks(s, fks, nfk, err);
	free(fks);
	/* customers last: the others' foreign keys to it go with them */
	for (size_t t = NSHARDED; t-- > 0 && !rc;) {
		const char *T = sharded[t].table;
		rc = execf(s, err,
			   "ALTER TABLE %s RENAME TO %s_single;"
			   "CREATE TABLE %s (LIKE %s_single INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
			   "  PARTITION BY HASH (%s);"
			   "DROP TABLE %s_single",
			   T, T, T, T, sharded[t].key, T);
		if (!rc && sharded[t].has_id)
			rc = execf(s, err,
				   "CREATE SEQUENCE tn_%s_id AS BIGINT;"
				   "ALTER SEQUENCE tn_%s_id OWNED BY %s.id;"
				   "ALTER TABLE %s ALTER COLUMN id SET DEFAULT nextval('tn_%s_id')",
				   T, T, T, T, T);
		for (size_t k = 0; k < n && !rc; k++)
			rc = execf(s, err,
				   "CREATE FOREIGN TABLE %s_shard%zu PARTITION OF %s"
				   "  FOR VALUES WITH (MODULUS %zu, REMAINDER %zu)"
				   "  SERVER tn_shard_%zu OPTIONS (table_name '%s')",
				   T, k, T, n, k, k, T);
	}
	/* the key table's trigger needs the partitioned customers.  Not on
	 * INSERT: a row trigger on INSERT makes postgres_fdw send rows one by
	 * one (no batch_size), and one with a transition table cannot collect
	 * rows from foreign partitions; the two writers that add customers
	 * write the key row themselves (tn_put_customer, and the batched
	 * import, tn_store_put_customers in store.c) */
	if (!rc)
		rc = tn_store_exec(s,
			"CREATE FUNCTION tn_customer_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
			"  IF TG_OP = 'INSERT' THEN"
			"    INSERT INTO customer_keys(ext_id, id) VALUES (NEW.ext_id, NEW.id);"
			"  ELSIF TG_OP = 'DELETE' THEN"
			"    DELETE FROM customer_keys WHERE id = OLD.id;"
			"  ELSE"
			"    UPDATE customer_keys SET ext_id = NEW.ext_id, id = NEW.id WHERE id = OLD.id;"
			"  END IF;"
			"  RETURN NULL;"
			"END$$;"
			"CREATE TRIGGER customer_keys_sync AFTER DELETE OR UPDATE OF ext_id, id ON customers"
			"  FOR EACH ROW EXECUTE FUNCTION tn_customer_keys_sync()", err);
	if (!rc)
		rc = cache_money(s, err);
	if (!rc)
		rc = record_shards(s, "postgres_fdw", u, n, 1, err);
	if (!rc)
		rc = planner_settings(s, err);
	return rc;
}

/* Drop, on table T, every unique key and primary key without the
 * distribution column KEY (Citus allows only those that hold it). */
static int drop_keys_without(tn_store *s, const char *T, const char *key, tn_error *err)
{
	return execf(s, err,
		"DO $$DECLARE r record; k int2 := (SELECT attnum FROM pg_attribute"
		"  WHERE attrelid = '%s'::regclass AND attname = '%s');"
		"BEGIN"
		"  FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = '%s'::regclass"
		"    AND contype IN ('p','u') AND NOT k = ANY (conkey) LOOP"
		"    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %%I', r.conname);"
		"  END LOOP;"
		"  FOR r IN SELECT indexrelid::regclass::text AS ix FROM pg_index WHERE indrelid = '%s'::regclass"
		"    AND indisunique AND NOT k = ANY (indkey::int2[])"
		"    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid) LOOP"
		"    EXECUTE 'DROP INDEX ' || r.ix;"
		"  END LOOP;"
		"END$$",
		T, key, T, T, T);
}

static int init_citus(tn_store *s, shard_url *u, size_t n, tn_error *err)
{
	fk *fks = NULL;
	size_t nfk = 0;
	int rc = tn_store_exec(s, "CREATE EXTENSION IF NOT EXISTS citus", err);
	for (size_t k = 0; k < n && !rc; k++) {
		char host[300];
		if (literal(host, sizeof host, u[k].host[0] ? u[k].host : "localhost"))
			return tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s: a bad host", k + 1, u[k].shown);
		rc = execf(s, err, "SELECT citus_add_node(%s, %d)", host, u[k].port[0] ? (int)strtol(u[k].port, NULL, 10) : 5432);
	}
	if (!rc)
		rc = list_fks(s, &fks, &nfk, err);
	if (!rc)
		rc = make_keys(s, 0, err);
	if (!rc)
		rc = repoint_fks(s, fks, nfk, err);
	free(fks);
	for (size_t t = 0; t < NSHARDED && !rc; t++) {
		const char *T = sharded[t].table;
		rc = drop_keys_without(s, T, sharded[t].key, err);
		if (!rc && sharded[t].has_id && strcmp(sharded[t].key, "id") != 0)
			rc = execf(s, err, "ALTER TABLE %s ADD PRIMARY KEY (%s, id)", T, sharded[t].key);
		if (!rc)
			rc = execf(s, err, "SELECT create_distributed_table('%s', '%s'%s)", T, sharded[t].key,
				   t ? ", colocate_with => 'customers'" : "");
	}
	if (!rc)
		rc = cache_money(s, err);
	if (!rc)
		rc = record_shards(s, "citus", u, n, 0, err);
	return rc;
}

int tn_cluster_init(tn_store *s, const char *const *urls, size_t n, int citus, tn_error *err)
{
	if (!tn_store_pg(s))
		return tn_error_set(err, TN_ERR_USAGE,
				    "%s: a cluster's coordinator is a PostgreSQL database: give --db postgresql://... "
				    "(docs/scaling.md, \"A cluster\")", tn_store_path(s));
	if (n == 0 || n > TN_CLUSTER_MAX_SHARDS)
		return tn_error_set(err, TN_ERR_USAGE, "a cluster has 1 to %d shards, not %zu", TN_CLUSTER_MAX_SHARDS, n);
	shard_url *u = tn_calloc(n, sizeof *u);
	if (!u)
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	int rc = TN_OK;
	for (size_t k = 0; k < n && !rc; k++) {
		rc = parse_url(urls[k], k, &u[k], err);
		if (!rc && strcmp(u[k].shown, tn_store_path(s)) == 0)
			rc = tn_error_set(err, TN_ERR_USAGE, "shard %zu: %s is the coordinator itself", k + 1, u[k].shown);
		for (size_t j = 0; j < k && !rc; j++)
			if (strcmp(u[j].shown, u[k].shown) == 0)
				rc = tn_error_set(err, TN_ERR_USAGE, "shards %zu and %zu are the same: %s", j + 1, k + 1,
						  u[k].shown);
	}
	tn_store_counts c;
	if (!rc && tn_store_cluster(s) > 0)
		rc = tn_error_set(err, TN_ERR_USAGE, "%s is already the coordinator of a cluster (%d shards: "
				  "`tenure cluster status`)", tn_store_path(s), tn_store_cluster(s));
	if (!rc && !(rc = tn_store_counts_get(s, &c, err)) &&
	    c.customers + c.subscriptions + c.events + c.payments + c.feedback > 0)
		rc = tn_error_set(err, TN_ERR_USAGE,
				  "%s already holds data (%lld customers, %lld events): make the cluster on an empty "
				  "database, then import through it", tn_store_path(s), c.customers, c.events);
	long long has_citus = 0;
	if (!rc && citus &&
	    !(rc = query_int(s, "SELECT count(*) FROM pg_available_extensions WHERE name = 'citus'",
			     "looking for the Citus extension", &has_citus, err)) && !has_citus)
		rc = tn_error_set(err, TN_ERR_USAGE,
				  "%s: the Citus extension is not installed on this PostgreSQL server, so --citus cannot "
				  "distribute the tables (Citus is not packaged in Debian; docs/scaling.md, \"Citus\", says "
				  "how to install it); without it, leave out --citus and the shards are made with "
				  "postgres_fdw", tn_store_path(s));
	/* postgres_fdw's shards carry the Tenure schema; Citus makes its own */
	for (size_t k = 0; k < n && !rc && !citus; k++)
		rc = prepare_shard(urls[k], k, &u[k], err);
	if (!rc)
		rc = tn_store_exec(s, "BEGIN", err);
	if (!rc) {
		rc = citus ? init_citus(s, u, n, err) : init_fdw(s, u, n, err);
		if (!rc)
			rc = tn_store_exec(s, "COMMIT", err);
		if (rc)
			tn_store_exec(s, "ROLLBACK", NULL);
	}
	for (size_t k = 0; k < n; k++)
		free(u[k].shown);
	free(u);
	return rc ? tn_error_code(err, TN_ERR_DB) : TN_OK;
}

int tn_cluster_shards(tn_store *s, int count, tn_cluster_shard **out, size_t *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	tn_stmt *st = tn_db_prepare(s, "SELECT kind, server, location, coalesce(modulus, 0), coalesce(remainder, 0) "
				       "FROM cluster_shards ORDER BY id", err);
	if (!st)
		return tn_error_code(err, TN_ERR_DB);
	int rc;
	size_t cap = 0;
	while ((rc = tn_db_step(st, "reading the cluster's shards", err)) == TN_DB_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			tn_cluster_shard *ns = tn_realloc(*out, cap * sizeof *ns);
			if (!ns) {
				rc = tn_error_set(err, TN_ERR_NOMEM, "out of memory");
				break;
			}
			*out = ns;
		}
		tn_cluster_shard *sh = &(*out)[(*n)++];
		memset(sh, 0, sizeof *sh);
		const char *kind = tn_db_column_text(st, 0), *server = tn_db_column_text(st, 1),
			   *loc = tn_db_column_text(st, 2);
		snprintf(sh->kind, sizeof sh->kind, "%s", kind ? kind : "");
		snprintf(sh->server, sizeof sh->server, "%s", server ? server : "");
		snprintf(sh->location, sizeof sh->location, "%s", loc ? loc : "");
		sh->modulus = (int)tn_db_column_int64(st, 3);
		sh->remainder = (int)tn_db_column_int64(st, 4);
		sh->customers = sh->events = -1;
	}
	tn_db_finalize(st);
	if (rc != TN_DB_DONE)
		goto fail;
	for (size_t k = 0; k < *n && count; k++) {
		tn_cluster_shard *sh = &(*out)[k];
		if (strcmp(sh->kind, "postgres_fdw") != 0)
			continue;
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT count(*) FROM customers_shard%d", sh->remainder);
		if (query_int(s, sql, "counting a shard's customers", &sh->customers, err))
			goto fail;
		snprintf(sql, sizeof sql, "SELECT count(*) FROM events_shard%d", sh->remainder);
		if (query_int(s, sql, "counting a shard's events", &sh->events, err))
			goto fail;
	}
	return TN_OK;
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return tn_error_code(err, TN_ERR_DB);
}

/* KEY one of the libpq parameters cluster init put into the foreign
 * server's or the user mapping's options (the others are postgres_fdw's). */
static int libpq_key(const char *key)
{
	for (int i = 0; server_keys[i]; i++)
		if (strcmp(key, server_keys[i]) == 0)
			return 1;
	for (int i = 0; user_keys[i]; i++)
		if (strcmp(key, user_keys[i]) == 0)
			return 1;
	return 0;
}

/* Append "key='value' " to BUF (CAP bytes), quoted as libpq reads it. */
static int add_conninfo(char *buf, size_t cap, const char *k, const char *v)
{
	size_t l = strlen(buf);
	int n = snprintf(buf + l, cap - l, "%s='", k);
	if (n < 0 || (size_t)n >= cap - l)
		return -1;
	l += (size_t)n;
	for (const char *c = v; *c; c++) {
		if (l + 4 >= cap)
			return -1;
		if (*c == '\\' || *c == '\'')
			buf[l++] = '\\';
		buf[l++] = *c;
	}
	buf[l++] = '\'';
	buf[l++] = ' ';
	buf[l] = '\0';
	return 0;
}

int tn_cluster_connect(tn_store *s, tn_pg ***out, int *n, tn_error *err)
{
	*out = NULL;
	*n = 0;
	long long mod = 0;
	if (query_int(s, "SELECT count(*) FROM cluster_shards WHERE kind = 'postgres_fdw'", "reading the cluster's shards",
		      &mod, err))
		return tn_error_code(err, TN_ERR_DB);
	if (mod <= 0 || mod > TN_CLUSTER_MAX_SHARDS)
		return tn_error_set(err, TN_ERR_DB, "%s: not a postgres_fdw coordinator", tn_store_path(s));
	char(*info)[4096] = tn_calloc((size_t)mod, sizeof *info);
	tn_pg **pg = tn_calloc((size_t)mod, sizeof *pg);
	if (!info || !pg) {
		free(info);
		free(pg);
		return tn_error_set(err, TN_ERR_NOMEM, "out of memory");
	}
	/* the mapping's options are readable by its own user (and superusers):
	 * the user cluster init ran as */
	tn_stmt *st = tn_db_prepare(s,
		"SELECT cs.remainder, cs.modulus, o.k, o.v FROM cluster_shards cs "
		"JOIN pg_foreign_server fs ON fs.srvname = cs.server, LATERAL ("
		"  SELECT option_name, option_value FROM pg_options_to_table(fs.srvoptions)"
		"  UNION ALL SELECT option_name, option_value FROM pg_user_mappings um, pg_options_to_table(um.umoptions)"
		"  WHERE um.srvid = fs.oid AND um.usename = current_user) o(k, v) "
		"WHERE cs.kind = 'postgres_fdw' ORDER BY cs.remainder", err);
	int rc = st ? TN_OK : tn_error_code(err, TN_ERR_DB), step = TN_DB_DONE;
	while (!rc && (step = tn_db_step(st, "reading the shards' connection options", err)) == TN_DB_ROW) {
		long long r = tn_db_column_int64(st, 0), m = tn_db_column_int64(st, 1);
		const char *k = tn_db_column_text(st, 2), *v = tn_db_column_text(st, 3);
		if (m != mod || r < 0 || r >= mod || !k || !v)
			rc = tn_error_set(err, TN_ERR_DB, "%s: the cluster's shards are not remainders 0 to %lld of %lld",
					  tn_store_path(s), mod - 1, mod);
		else if (libpq_key(k) && add_conninfo(info[r], sizeof info[r], k, v))
			rc = tn_error_set(err, TN_ERR_DB, "%s: shard %lld: its connection options are too long",
					  tn_store_path(s), r + 1);
	}
	tn_db_finalize(st);
	if (!rc && step != TN_DB_DONE)
		rc = tn_error_code(err, TN_ERR_DB);
	for (long long r = 0; r < mod && !rc; r++) {
		char name[64];
		snprintf(name, sizeof name, "shard %lld (tn_shard_%lld)", r + 1, r);
		rc = tn_pg_open(info[r], name, &pg[r], err);
	}
	free(info);
	if (rc) {
		for (long long r = 0; r < mod; r++)
			tn_pg_close(pg[r]);
		free(pg);
		return tn_error_code(err, TN_ERR_DB);
	}
	*out = pg;
	*n = (int)mod;
	return TN_OK;
}
