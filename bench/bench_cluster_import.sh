#!/bin/sh
# bench_cluster_import.sh -- customers and subscriptions imported through a
# two-shard cluster coordinator (`tenure cluster init`, postgres_fdw; the
# batched, set-based path of docs/scaling.md): first import and the same
# file again (all unchanged), wall rows/s and tenure's own CPU seconds.
# Instances are throwaway local ones (tests/e2e/pg.sh), all on loopback.
#   BENCH_CLUSTER_IMPORT_ROWS  customers (and one subscription each), default 10000
#   TENURE                     the binary (to compare two builds, run twice)
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/e2e/pg.sh"
N=${BENCH_CLUSTER_IMPORT_ROWS:-10000}
machine
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures are taken under that load)"
pg_available || { echo "bench_cluster_import: PostgreSQL 15 is not installed (scripts/deps.sh install test)"; exit 1; }
trap 'pg_stop_all' EXIT
for n in coord s0 s1; do pg_start $n || exit 1; done
"$TENURE" --db "$PG_URL_coord" --quiet cluster init --shards "$PG_URL_s0,$PG_URL_s1" || exit 1
W=$BENCH_DIR/cluster_import
rm -rf "$W" && mkdir -p "$W"
awk -v n="$N" 'BEGIN { srand(11); print "id,signed_up_at,country,channel";
  for (i = 0; i < n; i++) printf "c%d,%d,%s,%s\n", i, 1704067200 + int(rand() * 63072000), (i % 3 ? "DE" : "US"), (i % 4 ? "organic" : "paid") }' >"$W/customers.csv"
awk -F, 'NR > 1 { srand(NR); c = (rand() < 0.33);
  printf "%s,pro,month,%s,USD,%d,%s,%s\n", $1, (NR % 5 ? "9.99" : "29.99"), $2, (c ? $2 + 2592000 * (1 + int(rand() * 12)) : ""), (c ? "price" : "") }
  BEGIN { print "customer,plan,billing_period,price,currency,started_at,cancelled_at,cancel_reason" }' "$W/customers.csv" >"$W/subscriptions.csv"
echo "$N rows each, $TENURE"
for pass in first again; do
  for k in customers subscriptions; do
    /usr/bin/time -f '%e %U %S' -o "$W/time" "$TENURE" --db "$PG_URL_coord" --quiet import "$k" "$W/$k.csv" >"$W/out" 2>"$W/err" || {
      echo "bench: import $k failed:" >&2; tail -5 "$W/err" >&2; exit 1; }
    awk -v k="$k" -v p="$pass" -v n="$N" '{ printf "  %-13s %-5s  %8.0f rows/s  (%.2f s wall, %.2f s tenure CPU)\n", k, p, n / ($1 > 0 ? $1 : 0.01), $1, $2 + $3 }' "$W/time"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
