/*
 * test_cluster.c -- `tenure cluster init` refusals that need no server
 * (include/tenure/cluster.h): an SQLite store cannot be a coordinator, the
 * shard list is bounded, and a single node lists no shards (migration 15's
 * cluster_shards exists and is empty).  The cluster itself, with three
 * PostgreSQL servers, is tests/e2e/cluster.sh.
 */
#include "testutil.h"

#include <string.h>
#include <unistd.h>

#include "tenure.h"

static tn_store *open_temp(char *path, size_t n)
{
	snprintf(path, n, "/tmp/tenure-test-cluster-%ld.db", (long)getpid());
	unlink(path);
	tn_store *s = NULL;
	tn_error err = {0};
	assert_int_equal(tn_store_open(path, TN_STORE_CREATE, &s, &err), TN_OK);
	return s;
}

static void test_sqlite_is_no_coordinator(void **state)
{
	(void)state;
	char path[256];
	tn_store *s = open_temp(path, sizeof path);
	tn_error err = {0};
	const char *urls[] = {"postgresql://a@127.0.0.1:1/x", "postgresql://a@127.0.0.1:2/x"};
	assert_int_equal(tn_cluster_init(s, urls, 2, 0, &err), TN_ERR_USAGE);
	assert_non_null(strstr(err.msg, "a cluster's coordinator is a PostgreSQL database"));
	tn_error_clear(&err);
	assert_int_equal(tn_cluster_init(s, urls, 2, 1, NULL), TN_ERR_USAGE); /* err may be NULL */
	tn_cluster_shard *sh = NULL;
	size_t n = 99;
	assert_int_equal(tn_cluster_shards(s, 1, &sh, &n, &err), TN_OK);
	assert_int_equal(n, 0);
	free(sh);
	tn_store_close(s);
	unlink(path);
}

static void test_schema_has_cluster_table(void **state)
{
	(void)state;
	char path[256];
	tn_store *s = open_temp(path, sizeof path);
	tn_error err = {0};
	assert_true(tn_store_schema_latest() >= 15);
	/* the table is portable DDL: a row goes in and is listed */
	assert_int_equal(tn_store_exec(s, "INSERT INTO cluster_shards(kind, server, location, modulus, remainder, "
					  "added_at) VALUES ('postgres_fdw', 'tn_shard_0', 'postgresql://a@h/x', 2, 0, 1)",
				       &err),
			 TN_OK);
	assert_int_equal(tn_store_exec(s, "INSERT INTO cluster_shards(kind, server, location, added_at) "
					  "VALUES ('sharding', 'x', 'y', 1)", &err),
			 TN_ERR_DB); /* kind is checked */
	tn_cluster_shard *sh = NULL;
	size_t n = 0;
	assert_int_equal(tn_cluster_shards(s, 0, &sh, &n, &err), TN_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sh[0].server, "tn_shard_0");
	assert_int_equal(sh[0].modulus, 2);
	assert_int_equal(sh[0].customers, -1);
	free(sh);
	tn_store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_is_no_coordinator),
		cmocka_unit_test(test_schema_has_cluster_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
