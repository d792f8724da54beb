#!/bin/sh
# bench_dashboard.sh -- the dashboard's server time per page on the demo
# (DASH_CUSTOMERS, default 50,000): the time until the warming thread has every
# usual analysis ready, then each page's Server-Timing (ms) over 20 views:
# median, p95 and max; peak RSS of the server.  Peer: none (no other tool
# serves this dashboard); the target is 100 ms of server time a page.
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
DB="$BENCH_DIR/dash-$N.db"
[ -f "$DB" ] || "$TENURE" --db "$DB" demo --customers "$N" >/dev/null || exit 1
"$TENURE" --db "$DB" alerts >/dev/null 2>&1
KEY=$("$TENURE" --db "$DB" keys create --scope admin 2>/dev/null)
/usr/bin/time -f '%M' -o "$BENCH_DIR/.dash.time" "$TENURE" --db "$DB" serve --listen 127.0.0.1:0 2>"$BENCH_DIR/dash.log" &
PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9][0-9]*\)$|\1|p' "$BENCH_DIR/dash.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "bench: the server did not start"; kill "$PID"; exit 1; }
U="http://127.0.0.1:$PORT"
C=$(curl -s -D - -o /dev/null --data-urlencode "key=$KEY" "$U/login" | sed -n 's/^Set-Cookie: \(tn_session=[0-9a-f]*\);.*/\1/p')
t0=$(date +%s.%N)
# the first view computes the overview on the spot and starts the warming thread
curl -s -o /dev/null -H "Cookie: $C" "$U/"
# warm: until /who and /why (the slowest) answer from the cache twice in a row
ready=0
while [ "$ready" -lt 2 ]; do
  sleep 2
  d=$(curl -s -o /dev/null -D - -H "Cookie: $C" "$U/why" | sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' | tr -d '\r')
  e=$(curl -s -o /dev/null -D - -H "Cookie: $C" "$U/who" | sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' | tr -d '\r')
  if awk -v a="$d" -v b="$e" 'BEGIN { exit !(a < 100 && b < 100) }'; then ready=$((ready + 1)); else ready=0; fi
done
t1=$(date +%s.%N)
echo "dashboard on $N customers: every usual analysis computed in the background in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
for p in / /when /why /who /act /alerts /customers/C000204; do
  for i in $(seq 1 20); do
    curl -s -o /dev/null -D - -H "Cookie: $C" "$U$p" | sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' | tr -d '\r'
  done | sort -n | awk -v p="$p" '{ v[NR] = $1 } END { printf "  %-20s server ms: median %.1f  p95 %.1f  max %.1f\n", p, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5)], v[NR] }'
done
kill -TERM "$PID"
wait "$PID"
echo "  server peak RSS: $(awk '{printf "%.0f", $1/1024}' "$BENCH_DIR/.dash.time") MB (figures taken on a shared, loaded machine)"
