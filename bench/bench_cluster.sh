#!/bin/sh
# bench_cluster.sh -- SQLite, one PostgreSQL and a two-shard PostgreSQL
# cluster (`tenure cluster init`, postgres_fdw; docs/scaling.md) side by side
# on the same synthetic data: the import rate (through the coordinator for
# the cluster), then `churn rate`, `survival` and `predict features`, and the
# bytes the shards sent to the coordinator for each (counted by a TCP relay,
# bench/byteproxy.py, put between the coordinator and each shard for a second
# run of each command, so that the timings are taken without it).
# PostgreSQL instances are throwaway local ones (tests/e2e/pg.sh: fsync off,
# shared_buffers 64MB), all on this machine: the "network" is loopback.
#   BENCH_CLUSTER_CUSTOMERS  customers (default 10000; the issue's size: 1000000)
#   BENCH_CLUSTER_EVENTS     events (default 200000; the issue's size: 100000000)
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/e2e/pg.sh"
NC=${BENCH_CLUSTER_CUSTOMERS:-10000}
NE=${BENCH_CLUSTER_EVENTS:-200000}
machine
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures are taken under that load)"
echo "size: $NC customers, $NC subscriptions, $NE events (BENCH_CLUSTER_CUSTOMERS, BENCH_CLUSTER_EVENTS)"
pg_available || { echo "bench_cluster: PostgreSQL 15 is not installed (scripts/deps.sh install test)"; exit 1; }
PROXIES=""
trap 'for p in $PROXIES; do kill "$p" 2>/dev/null; done; pg_stop_all' EXIT
for n in single coord s0 s1; do pg_start $n || exit 1; done
W=$BENCH_DIR/cluster
rm -rf "$W" && mkdir -p "$W"
"$TENURE" --db "$PG_URL_coord" --quiet cluster init --shards "$PG_URL_s0,$PG_URL_s1" || exit 1

# ---- data: customers signing up over 2024-2025, one monthly subscription
# each (a third cancelled), events spread over the customers ----
awk -v n="$NC" 'BEGIN { srand(11); print "id,signed_up_at,country,channel";
  for (i = 0; i < n; i++) printf "c%d,%d,%s,%s\n", i, 1704067200 + int(rand() * 63072000), (i % 3 ? "DE" : "US"), (i % 4 ? "organic" : "paid") }' >"$W/customers.csv"
awk -F, 'NR > 1 { srand(NR); c = (rand() < 0.33);
  printf "%s,pro,month,%s,USD,%d,%s,%s\n", $1, (NR % 5 ? "9.99" : "29.99"), $2, (c ? $2 + 2592000 * (1 + int(rand() * 12)) : ""), (c ? "price" : "") }
  BEGIN { print "customer,plan,billing_period,price,currency,started_at,cancelled_at,cancel_reason" }' "$W/customers.csv" >"$W/subscriptions.csv"
# events are generated on the fly into each import (`import events -`), never
# kept on disk: at the issue's size the CSV would be 2.6 GB
cat >"$W/gen_events.sh" <<EOF
awk -v n="$NE" -v nc="$NC" 'BEGIN { srand(7); print "customer,occurred_at,type,amount";
  for (i = 1; i <= n; i++) printf "c%d,%d,%s,\\n", int(rand() * nc), 1704067200 + int(rand() * 70000000), (i % 10 ? "session" : "feature_use") }'
EOF
gen_events() { sh "$W/gen_events.sh"; }

url() { case $1 in sqlite) echo "$W/lite.db" ;; postgresql) echo "$PG_URL_single" ;; cluster) echo "$PG_URL_coord" ;; esac; }
echo "import (rows/s; peak RSS of tenure)"
for t in sqlite postgresql cluster; do
  db=$(url $t)
  measure "customers $t" "$TENURE" --db "$db" --quiet import customers "$W/customers.csv" || exit 1
  c=$SECS
  measure "subscriptions $t" "$TENURE" --db "$db" --quiet import subscriptions "$W/subscriptions.csv" || exit 1
  s=$SECS
  measure "events $t" sh -c 'sh "$2" | "$0" --db "$1" --quiet import events -' "$TENURE" "$db" "$W/gen_events.sh" || exit 1
  printf '  %-10s  customers %7s rows/s   subscriptions %7s rows/s   events %8s rows/s (%6.1f s, %s MB)\n' "$t" \
    "$(rate "$NC" "$c")" "$(rate "$NC" "$s")" "$(rate "$NE" "$SECS")" "$SECS" "$RSS_MB"
done
for k in 0 1; do
  echo "  shard $k holds $(pg_psql s$k "SELECT count(*) FROM customers") customers, $(pg_psql s$k "SELECT count(*) FROM events") events"
done

# measure, and tenure's own CPU seconds (user + sys) in CPU (PostgreSQL's
# backends are other processes: their CPU is not in it)
measure_cpu() {
  _name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$BENCH_DIR/.time" "$@" >"$BENCH_DIR/.out" 2>"$BENCH_DIR/.err" || {
    echo "bench: $_name failed:" >&2; tail -5 "$BENCH_DIR/.err" >&2; return 1; }
  read -r SECS _rss _u _s <"$BENCH_DIR/.time"
  CPU=$(awk -v a="$_u" -v b="$_s" 'BEGIN { printf "%.2f", a + b }')
}
CMDS="churn rate|survival|predict features --as-of 2026-03-01 --horizon 30"
echo "analyses (wall seconds [tenure's CPU seconds]; the cluster's ratio to one PostgreSQL; load at the row's end)"
printf '  %-48s %16s %16s %16s %7s\n' command sqlite postgresql cluster ratio
echo "$CMDS" | tr '|' '\n' >"$W/cmds"
while read -r cmd; do
  for t in sqlite postgresql cluster; do
    # shellcheck disable=SC2086
    measure_cpu "$cmd $t" "$TENURE" --db "$(url $t)" --format json $cmd || exit 1
    eval "T_$t=\$SECS; C_$t=\$CPU"
    cp "$BENCH_DIR/.out" "$W/out.$t"
  done
  same=same; python3 "$REPO/tests/e2e/jsoncmp.py" "$W/out.sqlite" "$W/out.cluster" >/dev/null 2>&1 || same=DIFFERENT
  printf '  %-48s %7.2f [%5.2f] %7.2f [%5.2f] %7.2f [%5.2f] %7s  (%s output; load %s)\n' "$cmd" \
    "$T_sqlite" "$C_sqlite" "$T_postgresql" "$C_postgresql" "$T_cluster" "$C_cluster" \
    "$(ratio "$T_cluster" "$T_postgresql")" "$same" "$(cut -d' ' -f1 /proc/loadavg)"
done <"$W/cmds"

# ---- bytes from the shards: the same commands once more through the relay ----
for k in 0 1; do
  eval "port=\$PG_PORT_s$k"
  python3 "$REPO/bench/byteproxy.py" "$W/proxy$k.port" "$port" "$W/proxy$k.counts" &
  PROXIES="$PROXIES $!"
done
for k in 0 1; do
  i=0; while [ ! -s "$W/proxy$k.port" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
  [ -s "$W/proxy$k.port" ] || { echo "bench: the byte relay did not start" >&2; exit 1; }
  pg_psql coord "ALTER SERVER tn_shard_$k OPTIONS (SET port '$(cat "$W/proxy$k.port")')" >/dev/null || exit 1
done
total() { cat "$W/proxy0.counts" "$W/proxy1.counts" | awk '{ d += $1; u += $2 } END { print d, u }'; }
echo "bytes from the shards to the coordinator (both shards; the coordinator's requests in brackets)"
while read -r cmd; do
  set -- $(total); d0=$1; u0=$2
  # shellcheck disable=SC2086
  "$TENURE" --db "$PG_URL_coord" --format json $cmd >/dev/null 2>&1 || { echo "bench: $cmd through the relay failed" >&2; exit 1; }
  sleep 0.3
  set -- $(total)
  printf '  %-48s %12s bytes  (%s bytes sent)\n' "$cmd" $(($1 - d0)) $(($2 - u0))
done <"$W/cmds"
echo "  for scale: the events CSV is $(gen_events | wc -c) bytes"
