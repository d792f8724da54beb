#!/bin/sh
# bench_cluster.sh -- SQLite, one PostgreSQL and a two-shard PostgreSQL
# cluster (`tenure cluster init`, postgres_fdw; docs/scaling.md) side by side
# on the same synthetic data: the import rate (through the coordinator for
# the cluster), then `churn rate`, `survival` and `predict features`, and the
# bytes the shards sent to the coordinator for each, counted by a TCP relay
# (bench/byteproxy.py) put between the coordinator and each shard.
# By default the relay is in the timed run of each cluster command (one run,
# not two). Measured in session 31 (docs/scaling.md, "Session 31 (bench)";
# 100,000 customers / 2,000,000 events, 3 alternating rounds, load 6-11): the
# relay (threads, blocking sockets) added to the median wall 1% (`survival`),
# 17% (`churn rate`) and 19% (`predict features`, whose cursors make many
# small round trips: 2.3-3.5 CPU-s of the relays), where a second run of each
# command costs 100% more; each timed cluster row prints the relays' CPU
# seconds, so that their share is visible. BENCH_CLUSTER_RELAY=second times
# the cluster without it, as before.
# PostgreSQL instances are local ones (tests/e2e/pg.sh: fsync off,
# shared_buffers 64MB), all on this machine: the "network" is loopback.
#   BENCH_CLUSTER_CUSTOMERS  customers (default 10000; the issue's size: 1000000)
#   BENCH_CLUSTER_EVENTS     events (default 200000; the issue's size: 100000000)
#   BENCH_CLUSTER_DIR        keep the stores in this directory: the SQLite file,
#                            the CSVs and the four PostgreSQL instances' data
#                            (pg-single, pg-coord, pg-s0, pg-s1), so that the
#                            analyses can run in a later session; without it
#                            (default) everything is thrown away at the end
#   BENCH_CLUSTER_PHASES     "import analyses" (default), "import" or "analyses"
#                            (the last needs BENCH_CLUSTER_DIR of a finished
#                            import: the instances are started again on fresh
#                            ports, the coordinator's foreign servers pointed
#                            at the shards' new ports). With BENCH_CLUSTER_DIR,
#                            the import skips a store already imported there
#                            (done.sqlite, done.postgresql, done.cluster) and
#                            makes again one that was not finished.
#   BENCH_CLUSTER_RELAY      timed (default: the bytes counted in the timed
#                            run), second (timed without the relay, then each
#                            cluster command once more through it), or ab (the
#                            relay's overhead: each cluster command without and
#                            with the relay, alternating, BENCH_CLUSTER_ROUNDS
#                            rounds (3), wall, tenure's CPU and the relay's CPU;
#                            the SQLite and PostgreSQL columns are skipped)
# Progress: the events generator appends "rows unix-time" twenty times an
# import to $W/progress.<store> (tail it during a long run); the bench prints
# the rate of each quarter of each events import.
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/e2e/pg.sh"
NC=${BENCH_CLUSTER_CUSTOMERS:-10000}
NE=${BENCH_CLUSTER_EVENTS:-200000}
KEEP=${BENCH_CLUSTER_DIR:-}
PHASES=${BENCH_CLUSTER_PHASES:-import analyses}
RELAY=${BENCH_CLUSTER_RELAY:-timed}
ROUNDS=${BENCH_CLUSTER_ROUNDS:-3}
case $RELAY in timed|second|ab) ;; *) echo "bench_cluster: BENCH_CLUSTER_RELAY is timed, second or ab" >&2; exit 1 ;; esac
has_phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
has_phase import || has_phase analyses || { echo "bench_cluster: BENCH_CLUSTER_PHASES names no phase (import, analyses)" >&2; exit 1; }
if ! has_phase import && [ -z "$KEEP" ]; then
  echo "bench_cluster: the analyses phase alone needs BENCH_CLUSTER_DIR (the stores of an earlier import)" >&2; exit 1
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }
machine
echo "load: $(load) (the machine is shared: figures are taken under that load)"
echo "size: $NC customers, $NC subscriptions, $NE events (BENCH_CLUSTER_CUSTOMERS, BENCH_CLUSTER_EVENTS); phases: $PHASES; relay: $RELAY"
pg_available || { echo "bench_cluster: PostgreSQL 15 is not installed (scripts/deps.sh install test)"; exit 1; }
PROXIES=""
trap 'for p in $PROXIES; do kill "$p" 2>/dev/null; done; pg_stop_all' EXIT
# stopped by a signal (kill -TERM -PGID), the servers are stopped all the same
trap 'exit 1' INT TERM HUP
# A pause of the bench's process group (kill -STOP -PGID, then -CONT) stops
# tenure and the generator, not the PostgreSQL servers nor the relays (each in
# a session of its own): no timeout counts wall time across it (the waits
# below are bounded by iterations of short sleeps). A row timed across a pause
# has the pause in its wall time, not in its CPU seconds.

if [ -n "$KEEP" ]; then
  W=$KEEP
  mkdir -p "$W" || exit 1
  W=$(cd "$W" && pwd)
  if [ -f "$W/size" ] && [ "$(cat "$W/size")" != "$NC $NE" ]; then
    echo "bench_cluster: $W holds stores of $(cat "$W/size") (customers events), not $NC $NE: another directory, or remove it" >&2; exit 1
  fi
  echo "$NC $NE" >"$W/size"
  pgdir() { echo "$W/pg-$1"; }
  if ! has_phase import; then
    for t in sqlite postgresql cluster; do
      [ -f "$W/done.$t" ] || { echo "bench_cluster: $W has no finished import of $t (run BENCH_CLUSTER_PHASES=import first)" >&2; exit 1; }
    done
  fi
else
  W=$BENCH_DIR/cluster
  rm -rf "$W" && mkdir -p "$W"
  pgdir() { :; }
fi
done_() { [ -f "$W/done.$1" ]; }
# a store whose import did not finish (an earlier run stopped) is made again
if ! done_ sqlite; then rm -f "$W/lite.db" "$W/lite.db-wal" "$W/lite.db-shm"; fi
if [ -n "$KEEP" ]; then
  done_ postgresql || rm -rf "$(pgdir single)"
  done_ cluster || rm -rf "$(pgdir coord)" "$(pgdir s0)" "$(pgdir s1)"
fi
for n in single coord s0 s1; do pg_start $n "$(pgdir $n)" || exit 1; done
# the postmasters are not in this process group (pg_ctl starts each in its
# own): kill -STOP -PGID of the bench pauses its clients, not the servers
echo "postmasters (each its own process group): $(for n in single coord s0 s1; do eval "d=\$PG_DIR_$n"; printf '%s=%s ' $n "$(head -1 "$d/data/postmaster.pid")"; done)"
# the shards' ports are new at every start: point the coordinator's foreign
# servers at them (a no-op on a fresh cluster, made below)
shard_ports() {
  for k in 0 1; do
    port=$1; shift
    pg_psql coord "ALTER SERVER tn_shard_$k OPTIONS (SET port '$port')" >/dev/null || return 1
  done
}
if done_ cluster; then shard_ports "$PG_PORT_s0" "$PG_PORT_s1" || exit 1; fi

url() { case $1 in sqlite) echo "$W/lite.db" ;; postgresql) echo "$PG_URL_single" ;; cluster) echo "$PG_URL_coord" ;; esac; }
sizes() {
  printf '  on disk: sqlite %s' "$(du -sh "$W"/lite.db* 2>/dev/null | awk '{ print $1 }' | paste -sd+)"
  for n in single coord s0 s1; do eval "d=\$PG_DIR_$n"; printf ', %s %s' "$n" "$(du -sh "$d/data" | cut -f1)"; done
  printf ' (df /tmp: %s free)\n' "$(df -h --output=avail "$W" | tail -1 | tr -d ' ')"
}

# ---- import phase ----
if has_phase import; then
  done_ cluster || "$TENURE" --db "$PG_URL_coord" --quiet cluster init --shards "$PG_URL_s0,$PG_URL_s1" || exit 1
  # data: customers signing up over 2024-2025, one monthly subscription
  # each (a third cancelled), events spread over the customers
  [ -f "$W/customers.csv" ] || awk -v n="$NC" 'BEGIN { srand(11); print "id,signed_up_at,country,channel";
    for (i = 0; i < n; i++) printf "c%d,%d,%s,%s\n", i, 1704067200 + int(rand() * 63072000), (i % 3 ? "DE" : "US"), (i % 4 ? "organic" : "paid") }' >"$W/customers.csv"
  [ -f "$W/subscriptions.csv" ] || awk -F, 'NR > 1 { srand(NR); c = (rand() < 0.33);
    printf "%s,pro,month,%s,USD,%d,%s,%s\n", $1, (NR % 5 ? "9.99" : "29.99"), $2, (c ? $2 + 2592000 * (1 + int(rand() * 12)) : ""), (c ? "price" : "") }
    BEGIN { print "customer,plan,billing_period,price,currency,started_at,cancelled_at,cancel_reason" }' "$W/customers.csv" >"$W/subscriptions.csv"
  # events are generated on the fly into each import (`import events -`),
  # never kept on disk (at the issue's size the CSV would be 2.6 GB); the
  # generator counts the bytes it writes (into $W/events.bytes) and appends
  # "rows unix-time" to the file $2 twenty times, for the rate over time
  cat >"$W/gen_events.sh" <<EOF
awk -v n="$NE" -v nc="$NC" -v bytes="$W/events.bytes" -v prog="\$1" 'function stamp(i,  t) { "date +%s.%N" | getline t; close("date +%s.%N"); print i, t >>prog; fflush(prog) }
  BEGIN { srand(7); h = "customer,occurred_at,type,amount"; print h; b = length(h) + 1; step = int(n / 20); if (step < 1) step = 1; stamp(0)
  for (i = 1; i <= n; i++) { l = sprintf("c%d,%d,%s,", int(rand() * nc), 1704067200 + int(rand() * 70000000), (i % 10 ? "session" : "feature_use")); print l; b += length(l) + 1
    if (i % step == 0) stamp(i) }
  printf "%.0f\n", b >bytes }'
EOF
  # the rate of each quarter of an events import, from its progress file
  quarters() {
    awk 'NR == 1 { t0 = $2 } { r[NR] = $1; t[NR] = $2 } END { q = (NR - 1) / 4; if (q < 1) exit
      for (k = 0; k < 4; k++) { a = 1 + int(k * q); z = 1 + int((k + 1) * q); d = t[z] - t[a]; if (d <= 0) d = 0.01
        printf "%s%.0f", (k ? " / " : ""), (r[z] - r[a]) / d } }' "$1"
  }
  echo "import (rows/s; peak RSS of tenure; load after the store's imports)"
  for t in sqlite postgresql cluster; do
    if done_ $t; then cat "$W/done.$t"; continue; fi
    db=$(url $t)
    measure "customers $t" "$TENURE" --db "$db" --quiet import customers "$W/customers.csv" || exit 1
    c=$SECS
    measure "subscriptions $t" "$TENURE" --db "$db" --quiet import subscriptions "$W/subscriptions.csv" || exit 1
    s=$SECS
    rm -f "$W/progress.$t"
    measure "events $t" sh -c 'sh "$2" "$3" | "$0" --db "$1" --quiet import events -' "$TENURE" "$db" "$W/gen_events.sh" "$W/progress.$t" || exit 1
    printf '  %-10s  customers %7s rows/s (%.1f s)   subscriptions %7s rows/s (%.1f s)   events %8s rows/s (%.1f s, %s MB; by quarter %s)  [load %s, %s]\n' "$t" \
      "$(rate "$NC" "$c")" "$c" "$(rate "$NC" "$s")" "$s" "$(rate "$NE" "$SECS")" "$SECS" "$RSS_MB" "$(quarters "$W/progress.$t")" \
      "$(load)" "$(date -u +%H:%M:%SZ)" | tee "$W/done.$t.tmp"
    mv "$W/done.$t.tmp" "$W/done.$t"
  done
  echo "  the events CSV is $(cat "$W/events.bytes" 2>/dev/null || echo "(unknown: no import ran here)") bytes"
  for k in 0 1; do
    echo "  shard $k holds $(pg_psql s$k "SELECT count(*) FROM customers") customers, $(pg_psql s$k "SELECT count(*) FROM events") events"
  done
  sizes
fi
has_phase analyses || exit 0

# ---- analyses phase ----
# measure, and tenure's own CPU seconds (user + sys) in CPU (PostgreSQL's
# backends are other processes: their CPU is not in it)
measure_cpu() {
  _name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$BENCH_DIR/.time" "$@" >"$BENCH_DIR/.out" 2>"$BENCH_DIR/.err" || {
    echo "bench: $_name failed:" >&2; tail -5 "$BENCH_DIR/.err" >&2; return 1; }
  read -r SECS _rss _u _s <"$BENCH_DIR/.time"
  CPU=$(awk -v a="$_u" -v b="$_s" 'BEGIN { printf "%.2f", a + b }')
}
# the relays, one per shard; their ports in RPORT0, RPORT1
for k in 0 1; do
  eval "port=\$PG_PORT_s$k"
  rm -f "$W/proxy$k.port" "$W/proxy$k.counts"
  # in a session of its own, like the postmasters: a pause of the bench's
  # process group (kill -STOP) must not stop a relay between the coordinator
  # and a shard, where a connection being made would meet the foreign
  # servers' connect_timeout (10 s)
  setsid python3 "$REPO/bench/byteproxy.py" "$W/proxy$k.port" "$port" "$W/proxy$k.counts" &
  PROXIES="$PROXIES $!"
  eval "RPID$k=$!"
done
for k in 0 1; do
  i=0; while [ ! -s "$W/proxy$k.port" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
  [ -s "$W/proxy$k.port" ] || { echo "bench: the byte relay did not start" >&2; exit 1; }
  eval "RPORT$k=\$(cat \"\$W/proxy$k.port\")"
done
# the bytes through both relays once no connection is open ("down up")
total() {
  i=0
  while [ $i -lt 600 ]; do
    set -- $(cat "$W/proxy0.counts" "$W/proxy1.counts" | awk '{ d += $1; u += $2; o += $3 } END { print d, u, o }')
    [ "$3" -eq 0 ] && { echo "$1 $2"; return 0; }
    sleep 0.1; i=$((i + 1))
  done
  echo "bench: the relays still have connections open" >&2; return 1
}
# the relays' CPU seconds so far (user + sys, both)
relay_cpu() {
  for p in $RPID0 $RPID1; do cut -d')' -f2 "/proc/$p/stat"; done |
    awk -v hz="$(getconf CLK_TCK)" '{ c += $12 + $13 } END { printf "%.2f", c / hz }'
}
CMDS="churn rate|survival|predict features --as-of 2026-03-01 --horizon 30"
echo "$CMDS" | tr '|' '\n' >"$W/cmds"
echo "analyses on the stores of $W (load $(load), $(date -u +%H:%M:%SZ))"
sizes

if [ "$RELAY" = ab ]; then
  echo "the relay's overhead on the cluster (wall seconds [tenure's CPU seconds] {the relays' CPU seconds}; $ROUNDS rounds, alternating)"
  r=1
  while [ $r -le "$ROUNDS" ]; do
    while read -r cmd; do
      # order: direct first in odd rounds, relayed first in even ones
      if [ $((r % 2)) -eq 1 ]; then order="direct relay"; else order="relay direct"; fi
      line=""
      for m in $order; do
        if [ $m = relay ]; then shard_ports "$RPORT0" "$RPORT1"; else shard_ports "$PG_PORT_s0" "$PG_PORT_s1"; fi || exit 1
        rc0=$(relay_cpu)
        # shellcheck disable=SC2086
        measure_cpu "$cmd cluster ($m)" "$TENURE" --db "$PG_URL_coord" --format json $cmd || exit 1
        total >/dev/null || exit 1
        line="$line $(printf '%s %7.2f [%5.2f] {%5.2f}' $m "$SECS" "$CPU" "$(awk -v a="$(relay_cpu)" -v b="$rc0" 'BEGIN { printf "%.2f", a - b }')")"
      done
      printf '  round %d  %-48s %s  (load %s)\n' $r "$cmd" "$line" "$(load)"
    done <"$W/cmds"
    r=$((r + 1))
  done
  shard_ports "$PG_PORT_s0" "$PG_PORT_s1"
  exit 0
fi

[ "$RELAY" = timed ] && { shard_ports "$RPORT0" "$RPORT1" || exit 1; }
if [ "$RELAY" = timed ]; then
  echo "analyses (wall seconds [tenure's CPU seconds]; the cluster through the byte relay; the cluster's ratio to one PostgreSQL; MB from the shards; load at the row's end)"
else
  echo "analyses (wall seconds [tenure's CPU seconds]; the cluster's ratio to one PostgreSQL; load at the row's end)"
fi
printf '  %-48s %16s %16s %16s %7s\n' command sqlite postgresql cluster ratio
while read -r cmd; do
  for t in sqlite postgresql cluster; do
    if [ $t = cluster ]; then tt=$(total) || exit 1; set -- $tt; d0=$1; rc0=$(relay_cpu); fi
    # shellcheck disable=SC2086
    measure_cpu "$cmd $t" "$TENURE" --db "$(url $t)" --format json $cmd || exit 1
    eval "T_$t=\$SECS; C_$t=\$CPU"
    cp "$BENCH_DIR/.out" "$W/out.$t"
  done
  mb=""
  [ "$RELAY" = timed ] && { tt=$(total) || exit 1; set -- $tt
    mb=$(awk -v a="$1" -v b="$d0" -v c="$(relay_cpu)" -v c0="$rc0" 'BEGIN { printf "; %.1f MB from the shards, the relays %.2f CPU-s", (a - b) / 1e6, c - c0 }'); }
  same=same
  for t in postgresql cluster; do python3 "$REPO/tests/e2e/jsoncmp.py" "$W/out.sqlite" "$W/out.$t" >/dev/null 2>&1 || same="DIFFERENT ($t)"; done
  printf '  %-48s %7.2f [%5.2f] %7.2f [%5.2f] %7.2f [%5.2f] %7s  (%s output%s; load %s, %s)\n' "$cmd" \
    "$T_sqlite" "$C_sqlite" "$T_postgresql" "$C_postgresql" "$T_cluster" "$C_cluster" \
    "$(ratio "$T_cluster" "$T_postgresql")" "$same" "$mb" "$(load)" "$(date -u +%H:%M:%SZ)"
done <"$W/cmds"

if [ "$RELAY" = second ]; then
  # ---- bytes from the shards: the same commands once more through the relay ----
  shard_ports "$RPORT0" "$RPORT1" || exit 1
  echo "bytes from the shards to the coordinator (both shards; the coordinator's requests in brackets)"
  while read -r cmd; do
    tt=$(total) || exit 1; set -- $tt; d0=$1; u0=$2
    # shellcheck disable=SC2086
    "$TENURE" --db "$PG_URL_coord" --format json $cmd >/dev/null 2>&1 || { echo "bench: $cmd through the relay failed" >&2; exit 1; }
    tt=$(total) || exit 1; set -- $tt
    printf '  %-48s %12s bytes  (%s bytes sent)\n' "$cmd" $(($1 - d0)) $(($2 - u0))
  done <"$W/cmds"
fi
# the coordinator's foreign servers back on the shards' own ports (a kept
# cluster is pointed at them again at its next start anyway)
shard_ports "$PG_PORT_s0" "$PG_PORT_s1" || exit 1
echo "done (load $(load), $(date -u +%H:%M:%SZ))"
