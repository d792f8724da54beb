#!/bin/sh
# bench_import.sh -- import speed and memory (issue: foundation).
#   * events from CSV into SQLite: rows/s and peak RSS, for ROWS rows (default
#     1,000,000) and 5x that to show memory does not grow with the file;
#   * the same file through the sqlite3 shell's .import (into a plain table:
#     no validation, no keys), as a ratio;
#   * re-importing the same file (every row already present);
#   * `tenure demo` at its default size (target: under 30 s).
set -eu
. bench/lib.sh
ROWS=${ROWS:-1000000}
CUSTOMERS=${CUSTOMERS:-100000}
D=$BENCH_DIR/import
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }

gen() { # gen N FILE: N events over CUSTOMERS customers, time-ordered like an export
  awk -v n="$1" -v c="$CUSTOMERS" 'BEGIN { srand(1); print "customer,occurred_at,type,amount";
    t = 1704067200; for (i = 0; i < n; i++) { t += int(rand() * 3);
      printf "c%d,%d,%s,%s\n", int(rand() * c), t, (rand() < 0.9 ? "session" : "purchase"), (rand() < 0.1 ? "9.99" : "") } }' > "$2"
}
awk -v c="$CUSTOMERS" 'BEGIN { print "id,signed_up_at,country,channel"; for (i = 0; i < c; i++) printf "c%d,2024-01-01,SA,organic\n", i }' > "$D/customers.csv"
[ -f "$D/events_$ROWS.csv" ] || gen "$ROWS" "$D/events_$ROWS.csv"
BIG=$((ROWS * 5))
[ -f "$D/events_$BIG.csv" ] || gen "$BIG" "$D/events_$BIG.csv"

for n in "$ROWS" "$BIG"; do
  rm -f "$D/t.db"
  "$TENURE" --db "$D/t.db" --quiet import customers "$D/customers.csv" > /dev/null
  measure "tenure import $n" "$TENURE" --db "$D/t.db" --quiet import events "$D/events_$n.csv"
  T_SECS=$SECS
  echo "tenure import events:   $n rows in ${SECS}s = $(rate "$n" "$SECS") rows/s, peak RSS ${RSS_MB} MB, file $(du -m "$D/events_$n.csv" | cut -f1) MB"
  if [ "$n" = "$ROWS" ]; then
    measure "tenure re-import $n" "$TENURE" --db "$D/t.db" --quiet import events "$D/events_$n.csv"
    echo "tenure re-import (all present): $(rate "$n" "$SECS") rows/s, peak RSS ${RSS_MB} MB"
    rm -f "$D/s.db"
    measure "sqlite3 .import $n" sqlite3 "$D/s.db" \
      "CREATE TABLE events(customer TEXT, occurred_at TEXT, type TEXT, amount TEXT)" ".mode csv" \
      ".import --skip 1 $D/events_$n.csv events"
    echo "sqlite3 shell .import:  $n rows in ${SECS}s = $(rate "$n" "$SECS") rows/s, peak RSS ${RSS_MB} MB (no validation, no keys)"
    echo "ratio tenure/sqlite3 (rows/s): $(ratio "$SECS" "$T_SECS")"
  fi
done

rm -f "$D/demo.db"
measure "tenure demo" "$TENURE" --db "$D/demo.db" --quiet demo
echo "tenure demo (50,000 customers, 18 months): ${SECS}s, peak RSS ${RSS_MB} MB (target < 30 s)"
