/*
 * cluster.h -- internal: what the store needs to know about a cluster
 * (store/cluster.c; the public side is include/tenure/cluster.h).
 */
#ifndef TENURE_STORE_CLUSTER_H
#define TENURE_STORE_CLUSTER_H

#include "tenure/store.h"

/* *NSHARDS = the shards behind this PostgreSQL coordinator (rows of
 * cluster_shards), 0 on SQLite, on a single node and on a shard. */
int tn_cluster_detect(tn_store *s, int *nshards, tn_error *err);

/* The number store.c found at open (tn_cluster_detect). */
int tn_store_cluster(const tn_store *s);

/* Upsert N customers at once (import on a coordinator): OUTCOMES[i] (may
 * be NULL) gets TN_PUT_ADDED / _UPDATED / _UNCHANGED as
 * tn_store_put_customer would say for R[i], ext_ids all different.  On a
 * postgres_fdw coordinator the batch is staged in a temporary table and
 * written with a few set-based statements (ids from the coordinator's
 * sequence, ext_id unique through customer_keys, inserts batched to the
 * shards); elsewhere it is tn_store_put_customer row by row. */
int tn_store_put_customers(tn_store *s, const tn_customer_rec *r, size_t n, int *outcomes, tn_error *err);

/* The same for N subscriptions (their customers already stored), none of
 * them matching another of the N by id or by (customer, started_at,
 * plan): matched as tn_store_put_subscription matches, on a coordinator
 * in one read of the candidate rows (pushed to the shards), one batched
 * INSERT of the new ones and an UPDATE of only the changed ones. */
int tn_store_put_subscriptions(tn_store *s, const tn_subscription_rec *r, size_t n, int *outcomes, tn_error *err);

/* Open a connection of our own to each shard of a postgres_fdw
 * coordinator, with the coordinator's own settings for it (the foreign
 * server's connection options and the current user's mapping: only the
 * libpq ones), so that the events import can COPY straight into the shards
 * (store.c, "events on a cluster").  (*OUT)[r] is the shard of hash
 * remainder r, *N the modulus.  Close each with tn_pg_close, free the
 * array. */
struct tn_pg;
int tn_cluster_connect(tn_store *s, struct tn_pg ***out, int *n, tn_error *err);

#endif
