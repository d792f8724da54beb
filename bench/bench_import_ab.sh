#!/bin/sh
# bench_import_ab.sh -- `tenure import events` against its floor and the sqlite3 shell (issue 17), and
# optionally against another build of tenure (A/B), interleaved in the same load.
#   EVENTS events (default 1,000,000) over EVENTS/50 customers (at least 1,000), the file bench/peers.sh makes;
#   per run: wall, CPU (user + sys) and peak RSS, medians of REPS runs (default 5).
#   * tenure: `tenure import customers` (untimed) then `tenure import events` (timed);
#   * BASE=path/to/other/tenure: the same with that binary, right after; both stores' events must be
#     identical (checked: the events table dumped in key order, and the import's output);
#   * sqlite3 .import into a bare table (no keys, no checks);
#   * the floor (bench/import_floor.c): the same rows, validated and sorted, inserted into the same
#     WITHOUT ROWID events table with the same pragmas in one transaction, prepared statement + bind + step
#     (insert and commit timed alone): what tenure's writer thread cannot beat; also with INSERT OR IGNORE, and
#     with the rows in buffers of 262,144 sorted rows as tenure's writer gets them (each touches every leaf).
# Figures: CPU seconds per 1M rows (the fair figure on a loaded machine) and rows/s of wall time.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
EVENTS=${EVENTS:-1000000}
REPS=${REPS:-5}
BASE=${BASE:-}
D=$BENCH_DIR/import_ab
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "bench_import_ab: build first (make build/tenure)" >&2; exit 1; }
NCUST=$((EVENTS / 50 > 1000 ? EVENTS / 50 : 1000))
ev=$D/events_$EVENTS.csv
[ -f "$ev" ] || { awk -v n="$EVENTS" -v c="$NCUST" 'BEGIN { srand(1); print "customer,occurred_at,type,amount";
  t = 1704067200; for (i = 0; i < n; i++) { t += int(rand() * 3);
    printf "c%d,%d,%s,%s\n", int(rand() * c), t, (rand() < 0.9 ? "session" : "purchase"), (rand() < 0.1 ? "9.99" : "") } }' >"$ev.tmp" && mv "$ev.tmp" "$ev"; }
awk -v c="$NCUST" 'BEGIN { print "id,signed_up_at,country,channel"; for (i = 0; i < c; i++) printf "c%d,2024-01-01,SA,organic\n", i }' >"$D/customers.csv"
FLOOR=$D/import_floor
cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -o "$FLOOR" bench/import_floor.c -lsqlite3 || exit 1

machine
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (shared machine: wall times include waiting for a core)"
echo "import $EVENTS events over $NCUST customers ($(du -mL "$ev" | cut -f1) MB), $REPS runs each, interleaved"

rm -f "$D"/*.runs
one() { # one NAME PREP CMD...: wall cpu rss appended to NAME.runs
  _n=$1; _prep=$2; shift 2
  sh -c "$_prep" || return 1
  /usr/bin/time -f '%e %M %U %S' -o "$D/.time" "$@" >"$D/$_n.out" 2>"$D/.err" || {
    echo "bench_import_ab: $_n failed:" >&2; tail -3 "$D/.err" >&2; return 1; }
  awk '{ printf "%s %.2f %.0f\n", $1, $3 + $4, $2 / 1024 }' "$D/.time" >>"$D/$_n.runs"
}
for i in $(seq 1 "$REPS"); do
  one tenure "rm -f '$D/t.db' && '$TENURE' --db '$D/t.db' --quiet import customers '$D/customers.csv' >/dev/null" \
    "$TENURE" --db "$D/t.db" import events "$ev"
  if [ -n "$BASE" ]; then
    one base "rm -f '$D/b.db' && '$BASE' --db '$D/b.db' --quiet import customers '$D/customers.csv' >/dev/null" \
      "$BASE" --db "$D/b.db" import events "$ev"
  fi
  one sqlite3 "rm -f '$D/s.db'" sqlite3 "$D/s.db" \
    "CREATE TABLE events(customer TEXT, occurred_at TEXT, type TEXT, amount TEXT)" ".mode csv" ".import --skip 1 $ev events"
  "$FLOOR" "$D/t.db" "$D/f.db" plain >>"$D/floor.lines" || exit 1
  "$FLOOR" "$D/t.db" "$D/f.db" ignore >>"$D/floor_ignore.lines" || exit 1
  "$FLOOR" "$D/t.db" "$D/f.db" chunks >>"$D/floor_chunks.lines" || exit 1
done
# the floor's own timing (insert + commit only), as wall cpu
for f in floor floor_ignore floor_chunks; do
  sed -n 's/.*CPU \([0-9.]*\) s .*wall \([0-9.]*\) s.*/\2 \1 0/p' "$D/$f.lines" >"$D/$f.runs"
  rm -f "$D/$f.lines"
done

med() { sort -n -k"$2" "$D/$1.runs" | awk -v k="$2" '{ v[NR] = $k } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
per() { awk -v s="$1" -v n="$EVENTS" 'BEGIN { printf "%.3f", s / n * 1e6 }'; }
line() { # line NAME LABEL
  [ -s "$D/$1.runs" ] || return 0
  w=$(med "$1" 1); c=$(med "$1" 2); r=$(med "$1" 3)
  printf '| %s | %s s | %s s | %s | %s | %s MB |\n' "$2" "$w" "$c" "$(per "$c")" "$(rate "$EVENTS" "$c")" "$r"
}
echo
echo "| run | wall (median) | CPU user+sys (median) | CPU-s per 1M rows | rows per CPU-second | peak RSS |"
echo "|---|---|---|---|---|---|"
line tenure "tenure import events (this tree)"
line base "tenure import events (BASE)"
line sqlite3 "sqlite3 .import, bare table"
line floor "floor: INSERT, sorted, one transaction (insert + commit only)"
line floor_ignore "floor: INSERT OR IGNORE (the same)"
line floor_chunks "floor: INSERT OR IGNORE, in file order sorted by 262,144-row buffers"
echo
echo "CPU ratio sqlite3 / tenure: $(ratio "$(med sqlite3 2)" "$(med tenure 2)")x (goal 1.2x);" \
  "tenure / floor: $(ratio "$(med tenure 2)" "$(med floor 2)")x"
[ -n "$BASE" ] && echo "A/B CPU: BASE / this tree = $(ratio "$(med base 2)" "$(med tenure 2)")x"
echo "all runs (wall cpu rss):"; for f in tenure base sqlite3 floor floor_ignore floor_chunks; do [ -s "$D/$f.runs" ] && echo "  $f: $(tr '\n' ';' <"$D/$f.runs")"; done
if [ -n "$BASE" ]; then
  dump() { sqlite3 "$1" "SELECT customer_id, occurred_at, type_id, ext_id, quote(amount) FROM events ORDER BY 1, 2, 3, 4" | sha256sum | cut -c1-16; }
  a=$(dump "$D/t.db"); b=$(dump "$D/b.db")
  # the import's report without its timing columns (seconds, rows_per_s)
  strip() { awk '{ $(NF) = ""; $(NF - 1) = ""; print }' "$1"; }
  if [ "$a" = "$b" ] && [ "$(strip "$D/tenure.out")" = "$(strip "$D/base.out")" ]; then
    echo "same events and report as BASE (events sha256 $a)"
  else echo "DIFFERENT from BASE: events $a vs $b; output:"; diff "$D/tenure.out" "$D/base.out"; fi
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
