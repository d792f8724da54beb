#!/bin/sh
# bench_serve.sh -- `tenure serve` under load (issue: tenure serve), with wrk
# (Lua scripts bench/serve_*.lua) on loopback against the 50,000-customer demo:
#   * ingest: POST /v1/events in batches of 500 new events (events/s, latency,
#     the server's RSS sampled every second and its peak);
#   * reads: GET /v1/customers/{id} (requests/s, p50/p99/p999);
#   * reads while ingest runs (both figures).
# Targets (docs/api.md): >= 200,000 events/s; >= 20,000 reads/s with p99 < 5 ms.
# SECS (default 10) per phase; CONNS read connections (default 32).
set -eu
. bench/lib.sh
SECS=${SECS:-10}
CONNS=${CONNS:-32}
D=$BENCH_DIR/serve
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh install all" >&2; exit 1; }
machine
echo "load generator: $(wrk -v 2>&1 | head -1) on the same machine"
[ -f "$D/demo.db" ] || "$TENURE" --db "$D/demo.db" --quiet demo >/dev/null
INGEST=$("$TENURE" --db "$D/demo.db" keys create --scope ingest --name bench 2>/dev/null)
READ=$("$TENURE" --db "$D/demo.db" keys create --scope read --name bench 2>/dev/null)

"$TENURE" --db "$D/demo.db" serve --listen 127.0.0.1:0 --threads 16 2>"$D/serve.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 100); do
  PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$D/serve.log")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$D/serve.log" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$PID/status; }
peak() { awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status; }
sample_rss() { # print the server's RSS every second for N seconds
  i=0; s=""
  while [ $i -lt "$1" ]; do s="$s $(rss)"; sleep 1; i=$((i + 1)); done
  echo "server RSS (MB, each second):$s"
}
echo "server: $URL, 16 HTTP threads, RSS at start $(rss) MB"

echo "-- ingest: POST /v1/events, 500 events a request, 16 connections, ${SECS}s"
sample_rss "$SECS" &
S=$!
TENURE_KEY=$INGEST BATCH=500 wrk -t2 -c16 -d"${SECS}s" -s bench/serve_ingest.lua "$URL" | grep -E '^ingest:|Non-2xx'
wait $S
echo "server peak RSS so far: $(peak) MB"

echo "-- reads: GET /v1/customers/{id}, $CONNS connections, ${SECS}s"
TENURE_KEY=$READ wrk -t2 -c"$CONNS" -d"${SECS}s" -s bench/serve_read.lua "$URL" | grep -E '^reads:|Non-2xx'

echo "-- reads while ingest runs (1 ingest connection)"
TENURE_KEY=$INGEST BATCH=500 wrk -t1 -c1 -d"${SECS}s" -s bench/serve_ingest.lua "$URL" >"$D/ingest_bg.txt" &
W=$!
TENURE_KEY=$READ wrk -t1 -c"$CONNS" -d"${SECS}s" -s bench/serve_read.lua "$URL" | grep -E '^reads:|Non-2xx'
wait $W
grep -E '^ingest:|Non-2xx' "$D/ingest_bg.txt"
echo "server peak RSS: $(peak) MB"
curl -s -H "Authorization: Bearer $READ" "$URL/metrics" | grep -E '^tenure_(rows_ingested_total|commit_duration_seconds_(sum|count))'
