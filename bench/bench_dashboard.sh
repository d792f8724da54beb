#!/bin/sh
# bench_dashboard.sh -- the dashboard's server time per page on the demo
# (DASH_CUSTOMERS, default 50,000; the store is generated once under
# $BENCH_DIR and never committed): each page's first view from cold (its
# Server-Timing), the time until the warming thread has every usual analysis
# ready, then each page's Server-Timing (ms) over 20 views -- median, p95 and
# max -- and its bytes; peak RSS of the server; the load average before and
# after.  Peer: none (no other tool serves this dashboard); the targets are
# 100 ms of server time a page on 50,000 customers, 1 s on 1,000,000
# (DASH_CUSTOMERS=1000000 BENCH=dashboard make bench).
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
TARGET=$([ "$N" -gt 50000 ] && echo 1000 || echo 100)
MAX_WAIT=${DASH_MAX_WAIT:-5400}
PAGES="/ /when /why /who /act /alerts /customers/C000204"
machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
DB="$BENCH_DIR/dash-$N.db"
[ -f "$DB" ] || "$TENURE" --db "$DB" demo --customers "$N" >/dev/null || exit 1
"$TENURE" --db "$DB" alerts >/dev/null 2>&1
KEY=$("$TENURE" --db "$DB" keys create --scope admin 2>/dev/null)
/usr/bin/time -f '%M' -o "$BENCH_DIR/.dash.time" "$TENURE" --db "$DB" serve --listen 127.0.0.1:0 2>"$BENCH_DIR/dash.log" &
PID=$!
PORT=""
for _ in $(seq 1 600); do
  PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9][0-9]*\)$|\1|p' "$BENCH_DIR/dash.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "bench: the server did not start"; kill "$PID"; exit 1; }
U="http://127.0.0.1:$PORT"
C=$(curl -s -D - -o /dev/null --data-urlencode "key=$KEY" "$U/login" | sed -n 's/^Set-Cookie: \(tn_session=[0-9a-f]*\);.*/\1/p')
timing() { sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' | tr -d '\r'; }
t0=$(date +%s.%N)
# cold: the first view of each page (the first one also starts the warming
# thread; a page whose value is not cached yet computes it on the spot)
echo "dashboard on $N customers, first view of each page from cold (server ms):"
for p in $PAGES; do
  w0=$(date +%s.%N)
  d=$(curl -s -o /dev/null -D - -H "Cookie: $C" "$U$p" | timing)
  echo "  $p: $d ms server ($(awk -v a="$w0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s wall)"
done
# warm: until /who and /why (the slowest) answer from the cache twice in a row
ready=0
while [ "$ready" -lt 2 ]; do
  sleep 2
  d=$(curl -s -o /dev/null -D - -H "Cookie: $C" "$U/why" | timing)
  e=$(curl -s -o /dev/null -D - -H "Cookie: $C" "$U/who" | timing)
  if awk -v a="$d" -v b="$e" -v t="$TARGET" 'BEGIN { exit !(a < t && b < t) }'; then ready=$((ready + 1)); else ready=0; fi
  if awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$MAX_WAIT" 'BEGIN { exit !(b - a > m) }'; then
    echo "  not warm after $MAX_WAIT s (/why $d ms, /who $e ms)"; break
  fi
done
t1=$(date +%s.%N)
echo "every usual analysis computed in the background in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
echo "cached, 20 views a page (target $TARGET ms of server time):"
for p in $PAGES; do
  bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Cookie: $C" "$U$p")
  for i in $(seq 1 20); do
    curl -s -o /dev/null -D - -H "Cookie: $C" "$U$p" | timing
  done | sort -n | awk -v p="$p" -v b="$bytes" '{ v[NR] = $1 } END { printf "  %-20s server ms: median %.1f  p95 %.1f  max %.1f   %.0f KB\n", p, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR], b / 1024 }'
done
kill -TERM "$PID"
wait "$PID"
echo "  server peak RSS: $(awk '{printf "%.0f", $1/1024}' "$BENCH_DIR/.dash.time") MB (figures taken on a shared, loaded machine)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
