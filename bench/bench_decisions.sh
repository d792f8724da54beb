#!/bin/sh
# bench_decisions.sh -- POST /v1/decisions on the 50,000-customer demo (issue
# 14): wrk (bench/serve_decisions.lua) on loopback, random customers and
# moments, each decision made in memory and written by the group-committing
# writer before it is answered.
#   * paced: 21 connections x one request every 10 ms (jittered, plus the
#     answer's time) = about 2,000 requests/s; target p99 < 10 ms;
#   * open throttle: 16 connections as fast as possible (the ceiling).
# Also the decider's load time (first decision) and the server's peak RSS.
# SECS (default 20) per phase.
set -eu
. bench/lib.sh
SECS=${SECS:-20}
D=$BENCH_DIR/decisions
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh install all" >&2; exit 1; }
machine
echo "load generator: $(wrk -v 2>&1 | head -1) on the same machine"
[ -f "$D/demo.db" ] || "$TENURE" --db "$D/demo.db" --quiet demo >/dev/null
# every run starts from the pristine demo (no decisions stored yet)
rm -f "$D/run.db" "$D/run.db-wal" "$D/run.db-shm"
cp "$D/demo.db" "$D/run.db"
"$TENURE" --db "$D/run.db" --quiet offers scores
INGEST=$("$TENURE" --db "$D/run.db" keys create --scope ingest --name bench 2>/dev/null)
READ=$("$TENURE" --db "$D/run.db" keys create --scope read --name bench 2>/dev/null)

"$TENURE" --db "$D/run.db" serve --listen 127.0.0.1:0 --threads 8 2>"$D/serve.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
wait_port "$D/serve.log" "$PID" || exit 1
URL=http://127.0.0.1:$PORT
peak() { awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status; }
BEFORE=0
echo "server: $URL, 8 HTTP threads; $("$TENURE" --db "$D/run.db" offers catalogue list | tail -n +3 | wc -l) offers in the catalogue"
echo "first decision (loads the decider: 50,000 customers' scores): $(curl -s -o /dev/null -w '%{time_total}' \
  -H "Authorization: Bearer $INGEST" -d '{"customer":"C000001","moment":"cancel"}' "$URL/v1/decisions") s"

echo "-- paced: 21 connections, a request every 10 ms each (about 2,000 req/s), ${SECS}s"
TENURE_KEY=$INGEST DELAY_MS=10 wrk -t2 -c21 -d"${SECS}s" -s bench/serve_decisions.lua "$URL" | grep -E '^decisions:|Non-2xx'
# the server's own time in the handler (no network, no wrk), from /metrics: the
# decisions are the only requests of the "analysis" route class here
echo "server-side handler time, paced phase (cumulative share of decisions answered within):"
curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk -F'[{}" ]+' '/^tenure_http_request_duration_seconds_bucket/ && /class="analysis"|kind="analysis"|route="analysis"/ {
    n[++k] = $NF; le[k] = $0 } END { for (i = 1; i <= k; i++) { sub(/.*le="/, "", le[i]); sub(/".*/, "", le[i]);
    if (n[k] > 0) printf "  <= %s s: %.4f\n", le[i], n[i] / n[k] } }'
echo "-- open throttle: 16 connections, no pause, ${SECS}s"
TENURE_KEY=$INGEST DELAY_MS=0 wrk -t2 -c16 -d"${SECS}s" -s bench/serve_decisions.lua "$URL" | grep -E '^decisions:|Non-2xx'
echo "server peak RSS: $(peak) MB"
kill -TERM $PID; wait $PID 2>/dev/null || true
trap - EXIT
echo "decisions stored by this run after a graceful stop: $(( $(sqlite3 "$D/run.db" 'SELECT count(*) FROM decisions') - BEFORE )) (503 overloaded answers are not stored)"
