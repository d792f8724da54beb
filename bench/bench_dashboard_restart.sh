#!/bin/sh
# bench_dashboard_restart.sh -- the dashboard's first views after a restart,
# on the figures kept in the store (dashboard_cache), A/B against another
# build.
#   sh bench/bench_dashboard_restart.sh
#   DASH_CUSTOMERS=1000000 DASH_BASE=/tmp/dash-base/build/tenure sh bench/bench_dashboard_restart.sh
# DASH_CUSTOMERS (default 50,000): the store, built as bench_dashboard.sh
# builds it.  DASH_PAGES (default "/who /alerts / /when /why /act"): the pages
# measured.  DASH_BASE: a baseline binary (e.g. main's, built in a worktree
# of its own); its rounds alternate with this build's, back to back.
# DASH_ROUNDS (default 2) restarts per binary.  DASH_MAX_WAIT (default 5400 s)
# for the first computation of the pages' figures by each binary (kept
# values of another layout are not read: each binary keeps its own).
# Printed per restart: each page's first view -- its server time (wall ms,
# waits for the kept value included), the request thread's CPU ms (both
# from Server-Timing) and whether it showed figures -- then the load of the
# kept values (wall and CPU s, from the server's log), the server's CPU
# seconds 5 s after its start and its peak RSS.  The machine may be shared:
# the CPU figures are the fair ones; the load average is printed.
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
PAGES=${DASH_PAGES:-/who /alerts / /when /why /act}
ROUNDS=${DASH_ROUNDS:-2}
MAX_WAIT=${DASH_MAX_WAIT:-5400}
TARGET=$([ "$N" -gt 50000 ] && echo 1000 || echo 100)
machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dash_store "$N" || exit 1
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM alerts' 2>/dev/null)" != 0 ] || "$TENURE" --db "$DB" alerts >/dev/null 2>&1
KEY=$("$TENURE" --db "$DB" keys create --scope admin 2>/dev/null)
LOG="$BENCH_DIR/dash-restart.log"
# start BIN: a server with no wait budget; sets PID, U and C
start() {
  dash_serve "$1" "$LOG"
  dash_login
}
# stop: SIGTERM, then SIGKILL after 3 s (a server stops when the analysis
# its background thread is in ends: minutes on a large store)
stop() {
  kill -TERM "$PID"
  for _ in $(seq 1 30); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
}
cpu_of() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
view() { # view PATH: "wall cpu state"
  curl -s -o "$BENCH_DIR/dash.page" -D "$BENCH_DIR/dash.hdr" -H "Cookie: $C" "$U$1"
  w=$(sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' "$BENCH_DIR/dash.hdr" | tr -d '\r')
  c=$(sed -n 's/^Server-Timing: .*cpu;dur=\([0-9.]*\).*/\1/p' "$BENCH_DIR/dash.hdr" | tr -d '\r')
  s=$(grep -q 'data-state="computing"' "$BENCH_DIR/dash.page" && echo computing || echo figures)
  echo "${w:-?} ${c:--} $s"
}
BINS="$TENURE"
[ -n "${DASH_BASE:-}" ] && BINS="$DASH_BASE $TENURE"
name() { [ "$1" = "$TENURE" ] && echo "this build" || echo "baseline"; }
# each binary's figures for the pages, computed once (kept in the store)
for b in $BINS; do
  start "$b"
  t0=$(date +%s.%N)
  for p in $PAGES; do view "$p" >/dev/null; done
  while :; do
    busy=""
    for p in $PAGES; do
      set -- $(view "$p")
      [ "$3" = computing ] && busy=$p && break
    done
    [ -z "$busy" ] && break
    if awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$MAX_WAIT" 'BEGIN { exit !(b - a > m) }'; then
      echo "  $(name "$b"): not computed after $MAX_WAIT s ($busy)"; break
    fi
    sleep 5
  done
  comp=$(grep -c ' computed in ' "$LOG")
  [ "$comp" -gt 0 ] && echo "$(name "$b"): figures computed first ($comp values, $(cpu_of "$PID") s server CPU)"
  stop
done
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for b in $BINS; do
    echo "restart $r, $(name "$b") (load $(cut -d' ' -f1 /proc/loadavg)):"
    r0=$(date +%s.%N)
    start "$b"
    for p in $PAGES; do
      set -- $(view "$p")
      printf '  %-8s first view %8s ms server time, %6s ms CPU (%s)\n' "$p" "$1" "$2" "$3"
    done
    echo "  all first views done $(awk -v a="$r0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s after the start (target $TARGET ms of server time a page)"
    sleep 5
    echo "  server CPU $(cpu_of "$PID") s after 5 s, peak RSS $(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status") MB"
    for _ in $(seq 1 120); do grep -q 'kept values loaded in' "$LOG" && break; sleep 1; done
    sed -n 's/^tenure serve: dashboard kept values loaded in \(.*\)/  kept values (heads, then tails) loaded in \1/p' "$LOG"
    stop
  done
  r=$((r + 1))
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
