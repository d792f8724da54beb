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

#endif
