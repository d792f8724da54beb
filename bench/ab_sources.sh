#!/bin/sh
# ab_sources.sh -- A/B of two tenure binaries on Stripe webhooks through
# `tenure serve` (bench_sources.sh's Stripe phase), run in alternation so both
# see the same machine: BASE=/path/to/old/tenure (required) against TENURE
# (default build/tenure).  Each binary gets its own server and store; both are
# started once, then PAIRS (default 4) rounds of a WARM-second warm-up and a
# SECS-second measured phase on each, in the order A B, B A, A B, ... (a load
# that drifts during the run weighs on both alike).  A round posts the same
# pre-signed bodies to both servers (separate stores: no duplicates).  Per
# phase: notifications/s, p99, the server's CPU per notification (user +
# system of that server process; of it, its HTTP threads' -- the rest is the
# writer's group commit) and wrk's CPU per request; at the end the
# median of each side.  On a shared machine the CPU per notification is the
# figure to compare.  Stripe timestamps must be under 300 s old: everything
# runs within that after a round's bodies are signed (defaults: ~3 minutes).
# Not run by `make bench` (it needs a second binary); without BASE it says so.
# A baseline from main: git worktree add /tmp/tenure-base main && make -C /tmp/tenure-base build/tenure
set -eu
. bench/lib.sh
if [ -z "${BASE:-}" ]; then
  echo "ab_sources.sh: set BASE=/path/to/the/baseline/tenure (e.g. main's build) to compare it with $TENURE"
  exit 0
fi
SECS=${SECS:-5}
WARM=${WARM:-2}
CONNS=${CONNS:-256}
PAIRS=${PAIRS:-4}
WRK_THREADS=${WRK_THREADS:-2}
SR=${SR:-30000}   # the most notifications/s expected
export WRK_THREADS
D=$BENCH_DIR/sources_ab
rm -rf "$D"
mkdir -p "$D"
for b in "$BASE" "$TENURE"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 1; }; done
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh install all" >&2; exit 1; }
machine
echo "A (base): $BASE"
echo "B (new):  $TENURE"
PER=$(((SECS + WARM) * SR))
# a round's bodies are signed just before it (Stripe's 300 s tolerance)
sign_round() { # ROUND
  python3 tests/e2e/sources_sign.py bench-stripe whsec_bench "$PER" "$D/round" $(($1 * PER))
  head -n $((WARM * SR)) "$D/round" >"$D/warm.$1"
  tail -n +$((WARM * SR + 1)) "$D/round" >"$D/body.$1"
}
start() { # NAME BINARY -> sets PID_NAME, URL_NAME
  "$2" --db "$D/$1.db" sources add stripe --secret whsec_bench >/dev/null 2>&1
  "$2" --db "$D/$1.db" serve --listen 127.0.0.1:0 --per-ip 1024 2>"$D/$1.log" &
  eval "PID_$1=$!"
  wait_port "$D/$1.log" $! || exit 1
  eval "URL_$1=http://127.0.0.1:$PORT"
}
start a "$BASE"
start b "$TENURE"
trap 'kill -TERM $PID_a $PID_b 2>/dev/null; wait 2>/dev/null || true' EXIT
TCK=$(getconf CLK_TCK)
# the CPU ticks of the server's HTTP threads (libmicrohttpd names them
# MHD-worker); the rest is the writer's (the group commit) and idle threads'
http_ticks() { # PID
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = MHD-worker ] && awk '{print $14 + $15}' "$t/stat" 2>/dev/null
  done | awk '{ s += $1 } END { print s + 0 }'
}
phase() { # NAME ROUND
  eval "pid=\$PID_$1 url=\$URL_$1"
  ROUTE=/v1/webhooks/stripe BODIES=$D/warm.$2 KIND=stripe wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARM}s" \
    -s bench/sources_post.lua "$url" >/dev/null
  c0=$(awk '{print $14 + $15}' /proc/$pid/stat); h0=$(http_ticks "$pid"); l0=$(cut -d' ' -f1 /proc/loadavg)
  ROUTE=/v1/webhooks/stripe BODIES=$D/body.$2 KIND=stripe wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" \
    -s bench/sources_post.lua "$url" >"$D/wrk.$1.$2"
  c1=$(awk '{print $14 + $15}' /proc/$pid/stat); h1=$(http_ticks "$pid")
  n=$(sed -n 's/^stripe: \([0-9]*\) requests.*/\1/p' "$D/wrk.$1.$2")
  rate=$(sed -n 's/.* = \([0-9]*\) verified notifications\/s.*/\1/p' "$D/wrk.$1.$2")
  bad=$(sed -n 's/.*non-2xx: \([0-9]*\).*/\1/p' "$D/wrk.$1.$2")
  p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$D/wrk.$1.$2")
  wcpu=$(sed -n 's/.* = \([0-9]*\) us per request.*/\1/p' "$D/wrk.$1.$2")
  us=$(awk -v c=$((c1 - c0)) -v t="$TCK" -v n="$n" 'BEGIN { printf "%.1f", n ? 1e6 * c / t / n : 0 }')
  hus=$(awk -v c=$((h1 - h0)) -v t="$TCK" -v n="$n" 'BEGIN { printf "%.1f", n ? 1e6 * c / t / n : 0 }')
  echo "$1 $2 $rate $us $wcpu $p99 $bad $l0 $hus" >>"$D/rows"
  printf '%-4s round %d: %6d notifications/s, server %5.1f us CPU a notification (HTTP threads %s, writer and the rest %s), wrk %s us, p99 %s ms, non-2xx %s, load %s\n' \
    "$( [ "$1" = a ] && echo base || echo new)" "$2" "$rate" "$us" "$hus" \
    "$(awk -v a="$us" -v b="$hus" 'BEGIN { printf "%.1f", a - b }')" "$wcpu" "$p99" "$bad" "$l0"
}
echo "$CONNS connections, wrk -t$WRK_THREADS, ${WARM}s warm-up + ${SECS}s a phase, $PAIRS rounds (A B, B A, ...)"
i=0
while [ $i -lt "$PAIRS" ]; do
  sign_round $i
  if [ $((i % 2)) -eq 0 ]; then phase a $i; phase b $i; else phase b $i; phase a $i; fi
  i=$((i + 1))
done
# phases with refused requests (e.g. stale signatures) are left out
med() { awk -v k="$1" -v f="$2" '$1 == k && $7 == 0 { print $f }' "$D/rows" | sort -n |
  awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(med a 4); mb=$(med b 4)
echo "median: base $(med a 3) notifications/s at $ma us server CPU; new $(med b 3) notifications/s at $mb us" \
  "(new/base CPU $(ratio "$mb" "$ma")); HTTP threads $(med a 9) / $(med b 9) us; wrk $(med a 5) / $(med b 5) us a request"
