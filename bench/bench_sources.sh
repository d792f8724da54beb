#!/bin/sh
# bench_sources.sh -- the source webhooks end to end through `tenure serve`
# (docs/sources.md): signed App Store notifications (ES256 JWS with a 3-certificate
# x5c chain made here with the openssl CLI, each notification carrying a signed
# transaction and renewal info: 3 signature checks each; the verified chain is
# cached, as Apple's library does) to POST /v1/webhooks/appstore, and Stripe
# events (HMAC-SHA256) to POST /v1/webhooks/stripe, with wrk on loopback.
# Every request is verified in full; each is acknowledged only after the group
# commit that made it durable.  Targets: >= 2,000 App Store notifications/s and
# >= 20,000 Stripe events/s.  Peer: the ingest route of the same server
# (bench_serve.sh) -- the ratio shows what verification costs.
# SECS (default 5) per phase; CONNS connections (default 16).
set -eu
. bench/lib.sh
SECS=${SECS:-5}
CONNS=${CONNS:-256}
D=$BENCH_DIR/sources
rm -rf "$D"
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh install all" >&2; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || { echo "python3-cryptography is missing: scripts/deps.sh install all" >&2; exit 1; }
machine
echo "load generator: $(wrk -v 2>&1 | head -1) on the same machine"
. tests/e2e/sources_chain.sh
make_chain "$D/certs" bench
SIGN="python3 tests/e2e/sources_sign.py"
NA=$((SECS * 3000)); NS=$((SECS * 25000))
t0=$(date +%s.%N)
$SIGN bench-appstore "$D/certs/bench-leaf.p8" "$D/certs/bench-leaf.pem,$D/certs/bench-inter.pem,$D/certs/bench-root.pem" \
  "$NA" "$D/appstore.jsonl" --app-id 4242 --price 4990 --type DID_RENEW
$SIGN bench-stripe whsec_bench "$NS" "$D/stripe.tsv"
echo "signed $NA App Store notifications and $NS Stripe events in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (python3-cryptography)"
"$TENURE" --db "$D/s.db" sources add appstore --bundle-id com.example.app --app-apple-id 4242 --environment Sandbox \
  --root-cert "$D/certs/bench-root.pem" --test-root >/dev/null 2>&1
"$TENURE" --db "$D/s.db" sources add stripe --secret whsec_bench >/dev/null 2>&1
"$TENURE" --db "$D/s.db" serve --listen 127.0.0.1:0 --threads 256 --per-ip 1024 2>"$D/serve.log" &
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
echo "server: $URL, 256 HTTP threads (each waits for its group commit); $CONNS connections, ${SECS}s per phase"
echo "-- App Store: POST /v1/webhooks/appstore (ES256 x3, x5c chain cached)"
ROUTE=/v1/webhooks/appstore BODIES="$D/appstore.jsonl" KIND=appstore \
  wrk -t2 -c"$CONNS" -d"${SECS}s" -s bench/sources_post.lua "$URL" | grep -E '^appstore:'
echo "-- Stripe: POST /v1/webhooks/stripe (HMAC-SHA256)"
ROUTE=/v1/webhooks/stripe BODIES="$D/stripe.tsv" KIND=stripe \
  wrk -t2 -c"$CONNS" -d"${SECS}s" -s bench/sources_post.lua "$URL" | grep -E '^stripe:'
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status) MB"
kill -TERM $PID; wait $PID 2>/dev/null || true
trap - EXIT
echo "stored: $(sqlite3 "$D/s.db" "SELECT kind || ' ' || count(*) || ' notifications (' || sum(outcome = 'applied') || ' applied)' FROM source_notifications GROUP BY kind" | tr '\n' ';')"
echo "refused (log lines): $(grep -c 'refused' "$D/serve.log" || true)"
# the same bodies without HTTP and without a commit per group: one import transaction, one
# thread -- the CPU cost of verifying, decoding and applying (user CPU seconds, so a loaded
# machine's waiting does not count)
"$TENURE" --db "$D/i.db" sources add appstore --bundle-id com.example.app --app-apple-id 4242 --environment Sandbox \
  --root-cert "$D/certs/bench-root.pem" --test-root >/dev/null 2>&1
"$TENURE" --db "$D/i.db" sources add stripe --secret whsec_bench >/dev/null 2>&1
awk -F '\t' -v now="$(date +%s)" '{ b = $2; gsub(/\\/, "\\\\", b); gsub(/"/, "\\\"", b);
  printf "{\"headers\":{\"Stripe-Signature\":\"%s\"},\"body\":\"%s\",\"received_at\":%s}\n", $1, b, now }' "$D/stripe.tsv" >"$D/stripe.jsonl"
for k in appstore stripe; do
  f=$D/$k.jsonl
  /usr/bin/time -f '%U %e %M' -o "$D/time.$k" "$TENURE" --db "$D/i.db" --quiet import "$k" "$f" >/dev/null
  n=$(wc -l <"$f")
  read -r u e m <"$D/time.$k"
  echo "import $k (one thread, one transaction): $n in $u s of CPU = $(rate "$n" "$u") notifications/s per core ($e s wall, peak RSS $((m / 1024)) MB)"
done
