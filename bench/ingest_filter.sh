#!/bin/sh
# ingest_filter.sh -- A/B of the filter of events' keys (store.c, "events
# keys") on the server writer's events path without HTTP
# (bench/ingest_filter.c): NEVENTS (default 2,000,000) new events in batches
# of 500, 40 batches a commit, into a fresh copy of the 50,000-customer demo
# (5.3M events), the filter off (the probe of events' index for every event)
# and on, in the order off on, on off, ... (ROUNDS, default 2) so a load that
# drifts weighs on both.  Prints the writer's CPU per event (the fair figure
# on a shared machine) and the filter's load.  Needs build/libtenure.a (make).
# FOLD_ROWS (default 0: none): fold the journal as the server does once it
# holds that many rows (1000000 is the server's), and print the RSS series.
# LIB (default build/libtenure.a): the library to link, e.g. main's, for an
# A/B of two builds (run the script once with each).
. bench/lib.sh
NEVENTS=${NEVENTS:-2000000}
ROUNDS=${ROUNDS:-2}
CUSTOMERS=${CUSTOMERS:-50000}
D=$BENCH_DIR/ingest_filter
mkdir -p "$D"
LIB=${LIB:-build/libtenure.a}
FOLD_ROWS=${FOLD_ROWS:-0}
[ -f "$LIB" ] || { echo "build first: make" >&2; exit 1; }
cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Iinclude -Isrc -o "$D/ingest_filter" \
  bench/ingest_filter.c "$LIB" -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lmicrohttpd -lcurl \
  -lcrypto -lpq -lm -lpthread || exit 1
[ -f "$D/demo.orig.db" ] || "$TENURE" --db "$D/demo.orig.db" --quiet demo >/dev/null
machine
run() {
  rm -f "$D/demo.db" "$D/demo.db-wal" "$D/demo.db-shm"
  cp "$D/demo.orig.db" "$D/demo.db"
  echo "  (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$D/ingest_filter" "$D/demo.db" "$1" "$NEVENTS" "$CUSTOMERS" "$FOLD_ROWS"
}
i=0
while [ $i -lt "$ROUNDS" ]; do
  if [ $((i % 2)) -eq 0 ]; then run off; run on; else run on; run off; fi
  i=$((i + 1))
done
