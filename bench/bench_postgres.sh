#!/bin/sh
# bench_postgres.sh -- the PostgreSQL store against SQLite on the same data:
# importing events (COPY on PostgreSQL, a sorted INSERT on SQLite), a
# re-import (every row already there), and `churn rate`, `survival` and
# `predict features` on the demo company.  PostgreSQL is a throwaway local
# instance (tests/e2e/pg.sh; fsync off, as a test instance).
#   BENCH_PG_EVENTS   events to import (default 1000000)
#   BENCH_PG_DEMO     demo customers for the analyses (default 2000)
#   BENCH_PG_BASE     a baseline tenure binary: A/B of the events import,
#                     alternately in the same instance (default: none)
#   BENCH_PG_REPS     A/B rounds (default 3)
#   BENCH_PG_PERF     0: no perf profile of the backend (default 1)
#   BENCH_PG_ANALYSES 0: skip the analyses on the demo company (default 1)
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/e2e/pg.sh"
N=${BENCH_PG_EVENTS:-1000000}
D=${BENCH_PG_DEMO:-2000}
machine
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures are taken under that load)"
pg_available || { echo "bench_postgres: PostgreSQL 15 is not installed (scripts/deps.sh install test)"; exit 1; }
trap 'pg_stop_all' EXIT
pg_start bench || exit 1
URL=$PG_URL_bench
W=$BENCH_DIR/pg
rm -rf "$W" && mkdir -p "$W"

printf 'id,signed_up_at,country,channel\n' >"$W/customers.csv"
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "c%d,2024-01-01T00:00:00Z,SA,organic\n", i }' >>"$W/customers.csv"
awk -v n="$N" 'BEGIN { srand(7); print "customer,occurred_at,type,amount";
  for (i = 1; i <= n; i++) printf "c%d,%d,%s,\n", int(rand() * 10000), 1704067200 + i * 7, (i % 10 ? "session" : "feature_use") }' >"$W/events.csv"

"$TENURE" --db "$W/lite.db" --quiet import customers "$W/customers.csv" >/dev/null
"$TENURE" --db "$URL" --quiet import customers "$W/customers.csv" >/dev/null
echo "import $N events (rows/s; peak RSS of tenure)"
for target in sqlite postgresql; do
  db=$W/lite.db; [ "$target" = postgresql ] && db=$URL
  measure "import $target" "$TENURE" --db "$db" --quiet import events "$W/events.csv" || exit 1
  first=$SECS; rss=$RSS_MB
  measure "re-import $target" "$TENURE" --db "$db" --quiet import events "$W/events.csv" || exit 1
  printf '  %-10s  first import %8s rows/s (%5.1f s, %s MB)   re-import %8s rows/s (%5.1f s)\n' "$target" \
    "$(rate "$N" "$first")" "$first" "$rss" "$(rate "$N" "$SECS")" "$SECS"
done

# where the time goes on PostgreSQL: tenure's CPU (parse, sort, COPY
# formatting) against the server backend's CPU, sampled from /proc while the
# import runs, and the WAL it wrote; the bound no importer can beat, psql's
# own \copy of the same rows into a bare table (no key), next to the same
# into the keyed table, bare then ADD PRIMARY KEY, FREEZE into a table made
# in the same transaction, and an UNLOGGED table (no WAL); then a perf
# profile of the backend during tenure's import (BENCH_PG_PERF=0: none).
backend_cpu() { # the CPU seconds of this instance's backends (and parallel workers) that ended while PID ran
  # (counted by the postmaster, which reaps them: other instances on the
  # machine are not counted, nor the instance's long-lived helper processes)
  _pm=$(head -1 "$PG_DIR_bench/data/postmaster.pid")
  _c0=$(awk '{print $16 + $17}' "/proc/$_pm/stat")
  # (a finished PID stays a zombie until waited for: its state is Z)
  while kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
    sleep 0.1
  done
  sleep 0.5 # the backend ends after its client
  awk -v a="$_c0" '{printf "%.2f", ($16 + $17 - a) / 100}' "/proc/$_pm/stat"
}
wal_now() { pg_psql bench "SELECT pg_current_wal_lsn()"; }
wal_mb() { pg_psql bench "SELECT round(pg_wal_lsn_diff('$2', '$1') / 1048576.0, 1)"; }
cpu_line() { # WHAT WALL CLIENT-USER CLIENT-SYS BACKEND-CPU WAL-MB (the client: tenure or psql)
  # CPU-s per million rows: the fair figure on a loaded machine (wall rates
  # depend on what else runs)
  printf '  %-54s wall %6s s %9s rows/s; client CPU %5s s; backend CPU %5s s; CPU-s per 1M rows: client %s, server %s, all %s; WAL %6s MB; load %s\n' \
    "$1" "$2" "$(rate "$N" "$2")" "$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", a + b }')" "$5" \
    "$(awk -v a="$3" -v b="$4" -v n="$N" 'BEGIN { printf "%.2f", (a + b) * 1e6 / n }')" \
    "$(awk -v a="$5" -v n="$N" 'BEGIN { printf "%.2f", a * 1e6 / n }')" \
    "$(awk -v a="$3" -v b="$4" -v c="$5" -v n="$N" 'BEGIN { printf "%.2f", (a + b + c) * 1e6 / n }')" \
    "$6" "$(cut -d' ' -f1 /proc/loadavg)"
}
echo "where the time goes: importing $N events into an empty PostgreSQL events table"
tenure_import() { # LABEL BINARY [DATABASE]: import the events into the emptied table; sets TWALL, TCPU (client+server)
  pg_psql bench "TRUNCATE events" "${3:-postgres}" >/dev/null
  w0=$(wal_now)
  /usr/bin/time -f '%e %U %S' -o "$W/t.time" "$2" --db "$(printf '%s' "$URL" | sed "s|/postgres\$|/${3:-postgres}|")" --quiet import events "$W/events.csv" >/dev/null 2>"$W/t.err" &
  tp=$!
  bcpu=$(backend_cpu "$tp")
  wait "$tp" || { cat "$W/t.err"; exit 1; }
  read -r wall tu ts <"$W/t.time"
  cpu_line "$1" "$wall" "$tu" "$ts" "$bcpu" "$(wal_mb "$w0" "$(wal_now)")"
  TWALL=$wall
  TCPU=$(awk -v a="$tu" -v b="$ts" -v c="$bcpu" -v n="$N" 'BEGIN { printf "%.3f", (a + b + c) * 1e6 / n }')
}
# A/B against a baseline binary (BENCH_PG_BASE=path/to/tenure, e.g. main's
# build): both import the same rows into the same instance, alternately,
# BENCH_PG_REPS times (default 3), back to back under the same load
if [ -n "${BENCH_PG_BASE:-}" ]; then
  echo "  A/B: this build against $BENCH_PG_BASE, alternately"
  # the baseline in its own database of the same instance, made by the
  # baseline itself (this build's schema may be newer than it knows)
  pg_psql bench "CREATE DATABASE tn_base" >/dev/null
  "$BENCH_PG_BASE" --db "$(printf '%s' "$URL" | sed 's|/postgres$|/tn_base|')" --quiet import customers "$W/customers.csv" >/dev/null || exit 1
  : >"$W/ab"
  for r in $(seq 1 "${BENCH_PG_REPS:-3}"); do
    tenure_import "baseline import (run $r)" "$BENCH_PG_BASE" tn_base; echo "base $TCPU $TWALL" >>"$W/ab"
    tenure_import "this build's import (run $r)" "$TENURE"; echo "new $TCPU $TWALL" >>"$W/ab"
  done
  med() { grep "^$1 " "$W/ab" | awk -v c="$2" '{print $c}' | sort -n | awk '{a[NR] = $1} END { print a[int((NR + 1) / 2)] }'; }
  printf '  A/B medians: CPU-s per 1M rows (tenure + server) baseline %s, this build %s (%s of baseline); wall baseline %s s, this build %s s\n' \
    "$(med base 2)" "$(med new 2)" "$(ratio "$(med new 2)" "$(med base 2)")" "$(med base 3)" "$(med new 3)"
fi
tenure_import "tenure import (COPY, key rebuilt by sort)" "$TENURE"

# the bound: psql's own \copy (client side, the same protocol as tenure's
# COPY FROM STDIN) of the same rows, as text, in the same run
eval "pgdir=\$PG_DIR_bench; pgport=\$PG_PORT_bench"
pg_psql bench "COPY events TO '$pgdir/ev.copy'" >/dev/null
# the same rows in COPY's binary format (what tenure's bulk load sends)
pg_psql bench "COPY events TO '$pgdir/ev.bin' (FORMAT binary)" >/dev/null
# the same rows in the key's order over the whole load (not per buffer)
pg_psql bench "COPY (SELECT * FROM events ORDER BY customer_id, occurred_at, type_id, ext_id) TO '$pgdir/ev.sorted'" >/dev/null
psql_copy() { # NAME SETUP-SQL COPY-OPTIONS [FILE]: time psql's \copy into table t, in one transaction with SETUP
  pg_psql bench "DROP TABLE IF EXISTS t" >/dev/null 2>&1
  w0=$(wal_now)
  (cd / && pg_as /usr/bin/time -f '%e %U %S' -o "$pgdir/p.time" "$PG_BIN/psql" -X -q -1 -h "$pgdir" -p "$pgport" \
    -U tenure -d postgres -v ON_ERROR_STOP=1 -c "$2" -c "\\copy t FROM '${4:-$pgdir/ev.copy}' $3") >/dev/null 2>"$W/p.err" &
  pp=$!
  pc=$(backend_cpu "$pp")
  wait "$pp" || { cat "$W/p.err"; return 1; }
  read -r pw pu psys <"$pgdir/p.time"
  cpu_line "$1" "$pw" "$pu" "$psys" "$pc" "$(wal_mb "$w0" "$(wal_now)")"
  [ "$1" = "psql \\copy, bare table (no key)" ] && BWALL=$pw
  [ "$1" = "psql \\copy, keyed table (the events key)" ] && KWALL=$pw
  [ "$1" = "psql \\copy, bare, then ADD PRIMARY KEY (tenure's way)" ] && AWALL=$pw
  return 0
}
psql_copy "psql \\copy, bare table (no key)" "CREATE TABLE t (LIKE events)" ""
psql_copy "psql \\copy binary, bare table (no key)" "CREATE TABLE t (LIKE events)" "(FORMAT binary)" "$pgdir/ev.bin"
psql_copy "psql \\copy, keyed table (the events key)" "CREATE TABLE t (LIKE events INCLUDING ALL)" ""
# COPY into the keyed table in global key order: every index insert lands on
# the rightmost leaf (btree's fast path), and the index is built while the
# rows come in rather than after the last one -- but one WAL record a row
psql_copy "psql \\copy, keyed table, rows in global key order" "CREATE TABLE t (LIKE events INCLUDING ALL)" "" "$pgdir/ev.sorted"
psql_copy "psql \\copy, bare, then ADD PRIMARY KEY (tenure's way)" "CREATE TABLE t (LIKE events)" "" &&
  { s0=$(date +%s.%N); _pm=$(head -1 "$PG_DIR_bench/data/postmaster.pid"); _c0=$(awk '{print $16 + $17}' "/proc/$_pm/stat")
    # with tenure's settings for the key (bulk_done in src/store/store.c)
    pg_psql bench "SET maintenance_work_mem = '$(( N * 128 / 1024 > 65536 ? N * 128 / 1024 : 65536 ))kB'; SET max_parallel_maintenance_workers = 0; ALTER TABLE t ADD PRIMARY KEY (customer_id, occurred_at, type_id, ext_id)" >/dev/null
    k=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'); AWALL=$(awk -v a="$AWALL" -v b="$k" 'BEGIN { print a + b }')
    sleep 0.3; kc=$(awk -v a="$_c0" '{printf "%.2f", ($16 + $17 - a) / 100}' "/proc/$_pm/stat")
    printf '    + ADD PRIMARY KEY: %.2f s, server CPU %s s (%s CPU-s per 1M rows); %s rows/s all told\n' "$k" "$kc" \
      "$(awk -v a="$kc" -v n="$N" 'BEGIN { printf "%.2f", a * 1e6 / n }')" "$(rate "$N" "$AWALL")"
    # the same key built by the leader and one parallel worker (two cores)
    pg_psql bench "ALTER TABLE t DROP CONSTRAINT t_pkey" >/dev/null
    s0=$(date +%s.%N); _c0=$(awk '{print $16 + $17}' "/proc/$_pm/stat")
    pg_psql bench "SET maintenance_work_mem = '$(( N * 128 / 1024 > 65536 ? N * 128 / 1024 : 65536 ))kB'; SET max_parallel_maintenance_workers = 1; ALTER TABLE t ADD PRIMARY KEY (customer_id, occurred_at, type_id, ext_id)" >/dev/null
    k=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    sleep 0.3; kc=$(awk -v a="$_c0" '{printf "%.2f", ($16 + $17 - a) / 100}' "/proc/$_pm/stat")
    printf '    + the key again with one parallel worker: %.2f s, server CPU %s s (%s CPU-s per 1M rows)\n' "$k" "$kc" \
      "$(awk -v a="$kc" -v n="$N" 'BEGIN { printf "%.2f", a * 1e6 / n }')"; }
psql_copy "psql \\copy FREEZE, bare, created in the transaction" "CREATE TABLE t (LIKE events)" "WITH (FREEZE)"
psql_copy "psql \\copy, bare UNLOGGED table (no WAL)" "CREATE UNLOGGED TABLE t (LIKE events)" ""
pg_psql bench "DROP TABLE IF EXISTS t" >/dev/null
printf '  tenure import rate / psql \\copy rate, same run: %s against the bare table, %s against the keyed table, %s against bare then ADD PRIMARY KEY\n' \
  "$(ratio "$BWALL" "$TWALL")" "$(ratio "$KWALL" "$TWALL")" "$(ratio "$AWALL" "$TWALL")"

# where the backend's time goes during tenure's import (perf, when allowed)
if [ "${BENCH_PG_PERF:-1}" = 1 ] && command -v perf >/dev/null 2>&1; then
  pg_psql bench "TRUNCATE events" >/dev/null
  "$TENURE" --db "$URL" --quiet import events "$W/events.csv" >/dev/null 2>"$W/t.err" &
  tp=$!
  bp=""
  for _ in $(seq 1 100); do
    bp=$(pgrep -f "postgres: tenure postgres .*(COPY|ALTER)" | head -1)
    [ -n "$bp" ] && break
    sleep 0.05
  done
  if [ -n "$bp" ] && perf record -q -F 999 -p "$bp" -o "$W/perf.data" -- sleep "${BENCH_PG_PERF_SECS:-4}" >/dev/null 2>&1; then
    echo "  the backend's profile during tenure's import (perf, ${BENCH_PG_PERF_SECS:-4} s, top symbols, self time):"
    perf report -i "$W/perf.data" --stdio --sort dso,symbol 2>/dev/null |
      grep -E '^ +[0-9]' | head -15 | sed 's/^/    /'
    echo "  (by part: $(perf report -i "$W/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -4 |
      awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1}'); the postgres binary has no symbols without the
    Debian dbgsym package)"
  else
    echo "  (perf could not profile the backend)"
  fi
  wait "$tp"
fi

[ "${BENCH_PG_ANALYSES:-1}" = 0 ] && exit 0
echo "analyses on the demo company ($D customers, 12 months)"
pg_psql bench "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
"$TENURE" --db "$W/demo.db" --quiet demo --customers "$D" --months 12 >/dev/null 2>&1
measure "demo into postgresql" "$TENURE" --db "$URL" --quiet demo --customers "$D" --months 12 || exit 1
echo "  demo into postgresql: $SECS s"
for cmd in "churn rate" "survival" "predict features --as-of 2026-09-30 --horizon 30"; do
  # shellcheck disable=SC2086
  measure "$cmd sqlite" "$TENURE" --db "$W/demo.db" --format json $cmd || exit 1
  a=$SECS
  # shellcheck disable=SC2086
  measure "$cmd postgresql" "$TENURE" --db "$URL" --format json $cmd || exit 1
  printf '  %-50s sqlite %6.2f s   postgresql %6.2f s   ratio %s\n' "$cmd" "$a" "$SECS" "$(ratio "$SECS" "$a")"
done
