/*
 * cluster.h -- a Tenure store across several PostgreSQL servers
 * (docs/scaling.md, "A cluster").
 *
 * A coordinator (the --db PostgreSQL URL) keeps everything but the five
 * tables that grow with customers: customers, subscriptions, events,
 * payments and feedback are hash-partitioned by the customer's internal id,
 * each partition a postgres_fdw foreign table on one shard (async_capable),
 * so that a customer's rows are all on one shard and every per-customer
 * aggregate can run there.  With Citus the same tables are distributed by
 * create_distributed_table on the customer column instead.  Commands work
 * on the coordinator unchanged; a shard that is down is an error naming
 * it, never a partial answer.
 */
#ifndef TENURE_CLUSTER_H
#define TENURE_CLUSTER_H

#include <stddef.h>
#include "tenure/error.h"
#include "tenure/store.h"

#define TN_CLUSTER_MAX_SHARDS 64

/* Make store S (PostgreSQL, with no customer data yet) the coordinator of
 * the N shards at URLS (postgresql:// URLs; each gets the Tenure schema and
 * must hold no customers).  CITUS: distribute with the Citus extension
 * instead of postgres_fdw (refused clearly when the extension is missing).
 * A shard URL without a password uses $PGPASSWORD (the CLI puts the --db
 * URL's password there).  All or nothing on the coordinator. */
TN_API int tn_cluster_init(tn_store *s, const char *const *urls, size_t n, int citus, tn_error *err);

typedef struct tn_cluster_shard {
	char kind[16];      /* postgres_fdw or citus */
	char server[64];    /* the foreign server (tn_shard_K) or Citus worker */
	char location[512]; /* its URL without the password */
	int modulus, remainder;
	long long customers, events; /* rows on it, read through the coordinator; -1 when not counted */
} tn_cluster_shard;

/* The shards of coordinator S (none on a single node); COUNT: also count
 * each shard's customers and events (each shard must be up).  Free *OUT. */
TN_API int tn_cluster_shards(tn_store *s, int count, tn_cluster_shard **out, size_t *n, tn_error *err);

#endif
