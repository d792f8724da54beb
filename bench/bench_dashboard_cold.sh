#!/bin/sh
# bench_dashboard_cold.sh -- the dashboard's cold round (every value the
# warming thread keeps ready, computed from nothing: a new user's first start,
# or the refresh after new data) on the DASH_CUSTOMERS demo (default 50,000),
# A/B against another build: DASH_BASE=<its tenure binary> (default: this
# build only).  Each round runs on a fresh copy of the store with no kept
# values; with DASH_BASE the two builds alternate (A B A B ..., DASH_ROUNDS
# rounds each, default 1; DASH_THIS_FIRST=1 starts with this build) so both
# see the same load; the kept rows of each pair are compared byte for byte.  Printed per round: each
# computation's CPU seconds (the warming thread's, from the server's log),
# the total, the CPU until the overview's headline (summary and this month's
# rates) is ready, the wall time and the server's peak RSS.  CPU seconds are
# the fair figure on a shared machine; the load average is printed.
#   DASH_BASE=/tmp/dash-base/build/tenure sh bench/bench_dashboard_cold.sh
#   DASH_CUSTOMERS=1000000 DASH_MAX_WAIT=7200 sh bench/bench_dashboard_cold.sh
# With two warming threads (session 27; TENURE_WEB_THREADS=1 for one) the CPU
# is the sum over both threads' lines and the wall time is the round's.
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
ROUNDS=${DASH_ROUNDS:-1}
MAX_WAIT=${DASH_MAX_WAIT:-3600}
machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dash_store "$N" || exit 1
SRC=$DB
# the round is over when the server says so ("round done", since session 27:
# two warming threads finish in either order); a build without that line:
# when the last value of its warming list is computed
DONE='dashboard round done'
LAST='rates|12|channel computed'
round() { # round BIN TAG: prints "TAG kind|arg cpu" lines into $BENCH_DIR/cold.TAG
  DB="$BENCH_DIR/cold-$2.db"
  cp "$SRC" "$DB" && sqlite3 "$DB" "DELETE FROM dashboard_cache" || return 1
  [ "$(sqlite3 "$DB" 'SELECT count(*) FROM alerts' 2>/dev/null)" != 0 ] || "$1" --db "$DB" alerts >/dev/null 2>&1
  KEY=$("$1" --db "$DB" keys create --scope admin 2>/dev/null)
  t0=$(date +%s.%N)
  dash_serve "$1" "$BENCH_DIR/cold-$2.log"
  dash_login
  curl -s -o /dev/null -H "Cookie: $C" "$U/"
  if grep -q "$DONE" "$1"; then end=$DONE; else end=$LAST; fi
  hw=""
  while ! grep -q "$end" "$BENCH_DIR/cold-$2.log"; do
    [ -n "$hw" ] || ! grep -q 'rates|1|channel computed' "$BENCH_DIR/cold-$2.log" ||
      hw=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
    sleep 1
    if awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$MAX_WAIT" 'BEGIN { exit !(b - a > m) }'; then
      echo "  $2: not done after $MAX_WAIT s"; break
    fi
  done
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  rss=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status")
  # since session 28 the warming connections map the file (tn_store_scan_mmap): its pages count in
  # the RSS but are the kernel's page cache; the anonymous part (the process's own heap) is the cost
  rss="$rss MB$(awk '/RssAnon/ { a = $2 } /RssFile/ { f = $2 } END { printf " (at the end: anon %.0f MB, file %.0f MB)", a / 1024, f / 1024 }' "/proc/$PID/status")"
  kill -TERM "$PID"; wait "$PID"
  sed -n 's/^tenure serve: dashboard \([^ ]*\) computed in [0-9.]* s (\([0-9.]*\) s CPU).*/\1 \2/p' \
    "$BENCH_DIR/cold-$2.log" >"$BENCH_DIR/cold.$2"
  # the headline: the summary and this month's three rates, the first
  # values of the (first) warming thread; its wall time polled each second
  awk -v tag="$2" -v wall="$wall" -v rss="$rss" -v hw="${hw:-?}" '
    { c += $2 } $1 ~ /^(summary\||rates\|1\|)/ { h += $2 }
    END { printf "  %-6s cold round: CPU %7.2f s (headline ready after %.2f s CPU, wall ~%s s), wall %.1f s, peak RSS %s\n", tag, c, h, hw, wall, rss }' \
    "$BENCH_DIR/cold.$2"
  # the kept rows, for the A/B's byte comparison below (a change must not alter a value)
  sqlite3 "$DB" "SELECT key, version, hex(value) FROM dashboard_cache ORDER BY key" >"$BENCH_DIR/cold-$2.rows"
  rm -f "$DB" "$DB-wal" "$DB-shm"
}
echo "cold rounds on $N customers:"
i=1
while [ "$i" -le "$ROUNDS" ]; do
  # DASH_THIS_FIRST=1: this build's round first (alternate the order between runs: the load drifts)
  [ -n "$DASH_THIS_FIRST" ] && round "$TENURE" "this$i"
  [ -n "$DASH_BASE" ] && round "$DASH_BASE" "base$i"
  [ -n "$DASH_THIS_FIRST" ] || round "$TENURE" "this$i"
  i=$((i + 1))
done
echo "CPU s per computation (round 1):"
if [ -n "$DASH_BASE" ]; then
  awk 'NR == FNR { b[$1] = $2; if (!($1 in o)) { o[$1] = ++n; k[n] = $1 } next }
       { t[$1] = $2; if (!($1 in o)) { o[$1] = ++n; k[n] = $1 } }
       END { printf "  %-28s %9s %9s\n", "value", "base", "this"
             for (i = 1; i <= n; i++) { printf "  %-28s %9.3f %9.3f\n", k[i], b[k[i]], t[k[i]]; sb += b[k[i]]; st += t[k[i]] }
             printf "  %-28s %9.3f %9.3f  (%.2fx)\n", "total", sb, st, (st > 0 ? sb / st : 0) }' \
    "$BENCH_DIR/cold.base1" "$BENCH_DIR/cold.this1"
else
  awk '{ printf "  %-28s %9.3f\n", $1, $2; s += $2 } END { printf "  %-28s %9.3f\n", "total", s }' "$BENCH_DIR/cold.this1"
fi
if [ -n "$DASH_BASE" ]; then
  i=1
  while [ "$i" -le "$ROUNDS" ]; do
    if cmp -s "$BENCH_DIR/cold-base$i.rows" "$BENCH_DIR/cold-this$i.rows"; then
      echo "kept rows, round $i: identical ($(wc -l <"$BENCH_DIR/cold-this$i.rows") rows)"
    else
      echo "kept rows, round $i: DIFFER ($BENCH_DIR/cold-base$i.rows, $BENCH_DIR/cold-this$i.rows)"
    fi
    i=$((i + 1))
  done
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: CPU seconds are the fair figure)"
