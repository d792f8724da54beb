#!/bin/sh
# bench_postgres.sh -- the PostgreSQL store against SQLite on the same data:
# importing events (COPY on PostgreSQL, a sorted INSERT on SQLite), a
# re-import (every row already there), and `churn rate`, `survival` and
# `predict features` on the demo company.  PostgreSQL is a throwaway local
# instance (tests/e2e/pg.sh; fsync off, as a test instance).
#   BENCH_PG_EVENTS   events to import (default 1000000)
#   BENCH_PG_DEMO     demo customers for the analyses (default 2000)
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
# import runs; and the bound no importer can beat, PostgreSQL's own COPY of
# the same rows from a server-side file into a bare table (no key), next to
# the same COPY into a table with the events key.
backend_cpu() { # the CPU seconds of the busiest tenure backend, sampled until PID exits
  _last=0
  # (a finished PID stays a zombie until waited for: its state is Z)
  while kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; do
    for p in $(pgrep -f "postgres: tenure postgres" 2>/dev/null); do
      v=$(awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$p/stat" 2>/dev/null)
      [ -n "$v" ] && awk -v a="$v" -v b="$_last" 'BEGIN { exit !(a > b) }' && _last=$v
    done
    sleep 0.1
  done
  echo "$_last"
}
echo "where the time goes: importing $N events into an empty PostgreSQL events table"
pg_psql bench "TRUNCATE events" >/dev/null
/usr/bin/time -f '%e %U %S' -o "$W/t.time" "$TENURE" --db "$URL" --quiet import events "$W/events.csv" >/dev/null 2>"$W/t.err" &
tp=$!
bcpu=$(backend_cpu "$tp")
wait "$tp" || { cat "$W/t.err"; exit 1; }
read -r wall tu ts <"$W/t.time"
printf '  wall %s s (%s rows/s); tenure CPU %.2f s (user %s + sys %s); server backend CPU ~%s s; load %s\n' \
  "$wall" "$(rate "$N" "$wall")" "$(awk -v a="$tu" -v b="$ts" 'BEGIN { print a + b }')" "$tu" "$ts" "$bcpu" \
  "$(cut -d' ' -f1 /proc/loadavg)"
eval "pgdir=\$PG_DIR_bench"
pg_psql bench "COPY events TO '$pgdir/ev.copy'; CREATE TABLE bare (LIKE events); CREATE TABLE keyed (LIKE events INCLUDING ALL)" >/dev/null
for t in bare keyed; do
  s0=$(date +%s.%N)
  pg_psql bench "COPY $t FROM '$pgdir/ev.copy'" >/dev/null
  s1=$(date +%s.%N)
  secs=$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')
  printf '  PostgreSQL COPY of the same rows into a table %-14s %6s s  %8s rows/s\n' \
    "$([ $t = bare ] && echo "without a key:" || echo "with the key:")" "$secs" "$(rate "$N" "$secs")"
done
pg_psql bench "DROP TABLE bare, keyed" >/dev/null

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
