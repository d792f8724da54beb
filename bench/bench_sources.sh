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
# GROUP_WAIT passes --group-wait to the server (0: the writer never waits for
# company; compare with the default to see what gathering does on a machine).
# PHASES (default "appstore stripe") picks the phases; WRK_THREADS (default 2)
# wrk's threads.  SECS (default 5) per phase, after a WARM-second (default 2) warm-up on other
# bodies; CONNS connections (default 256).  Besides notifications/s and the
# latency percentiles it reports the server's CPU per notification (user +
# system seconds of the server process over the phase / requests): the
# machine is shared, and that figure does not depend on what else runs.
set -eu
. bench/lib.sh
SECS=${SECS:-5}
WARM=${WARM:-2}
CONNS=${CONNS:-256}
PHASES=${PHASES:-appstore stripe}
WRK_THREADS=${WRK_THREADS:-2}
export WRK_THREADS
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
# enough bodies that no request of a phase repeats one (a repeat is a duplicate:
# verified, but not applied); the phase's line says if some did
AR=${AR:-8000}; SR=${SR:-30000}   # the most notifications/s expected
NA=$(((SECS + WARM) * AR)); NS=$(((SECS + WARM) * SR))
case " $PHASES " in *" appstore "*) ;; *) NA=1 ;; esac
t0=$(date +%s.%N)
$SIGN bench-appstore "$D/certs/bench-leaf.p8" "$D/certs/bench-leaf.pem,$D/certs/bench-inter.pem,$D/certs/bench-root.pem" \
  "$NA" "$D/appstore.all" --app-id 4242 --price 4990 --type DID_RENEW
# the warm-up's bodies are other notifications than the measured ones (a
# repeated one would be a cheap duplicate)
head -n $((WARM * AR)) "$D/appstore.all" >"$D/appstore.warm"
tail -n +$((WARM * AR + 1)) "$D/appstore.all" >"$D/appstore.jsonl"
echo "signed $NA App Store notifications in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (python3-cryptography)"
"$TENURE" --db "$D/s.db" sources add appstore --bundle-id com.example.app --app-apple-id 4242 --environment Sandbox \
  --root-cert "$D/certs/bench-root.pem" --test-root >/dev/null 2>&1
"$TENURE" --db "$D/s.db" sources add stripe --secret whsec_bench >/dev/null 2>&1
READ=$("$TENURE" --db "$D/s.db" keys create --scope read --name bench 2>/dev/null)
# GROUP_WAIT: the server's --group-wait in microseconds (unset: the default; 0: never wait)
"$TENURE" --db "$D/s.db" serve --listen 127.0.0.1:0 --per-ip 1024 ${GROUP_WAIT:+--group-wait "$GROUP_WAIT"} 2>"$D/serve.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
wait_port "$D/serve.log" "$PID" || exit 1
URL=http://127.0.0.1:$PORT
echo "server: $URL, default HTTP threads (a write waits for its group commit suspended, without a thread);" \
  "$CONNS connections, wrk -t$WRK_THREADS, ${WARM}s warm-up + ${SECS}s per phase"
cpu() { awk '{print $14 + $15}' /proc/$PID/stat; }   # clock ticks, user + system
commits() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" | awk '/^tenure_commit_duration_seconds_count/ {print $2}'; }
TCK=$(getconf CLK_TCK)
phase() { # KIND ROUTE WARM_BODIES BODIES
  ROUTE=$2 BODIES=$3 KIND=$1 wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARM}s" -s bench/sources_post.lua "$URL" >/dev/null
  k0=$(commits); c0=$(cpu); l0=$(cut -d' ' -f1 /proc/loadavg)
  ROUTE=$2 BODIES=$4 KIND=$1 wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SECS}s" -s bench/sources_post.lua "$URL" >"$D/wrk.$1"
  c1=$(cpu); l1=$(cut -d' ' -f1 /proc/loadavg); k1=$(commits)
  grep -E "^$1" "$D/wrk.$1"
  n=$(sed -n "s/^$1: \([0-9]*\) requests.*/\1/p" "$D/wrk.$1")
  nb=$(wc -l <"$4")
  [ "$n" -le "$nb" ] || echo "$1: NOTE $((n - nb)) of the $n requests re-sent a body (duplicates): raise AR/SR"
  awk -v c=$((c1 - c0)) -v t="$TCK" -v n="$n" -v a="$l0" -v b="$l1" 'BEGIN {
    s = c / t; printf "%s server CPU: %.2f s for %d notifications = %.0f us per notification (%.0f notifications per CPU-second); load average %s -> %s\n",
      "'"$1"'", s, n, 1e6 * s / n, n / s, a, b }'
  # the group commits of the phase (the metrics request itself is one more request, not a commit)
  awk -v k=$((k1 - k0)) -v n="$n" 'BEGIN { printf "'"$1"' group commits: %d, %.1f notifications per commit\n", k, k ? n / k : 0 }'
}
case " $PHASES " in *" appstore "*)
echo "-- App Store: POST /v1/webhooks/appstore (ES256 x3, x5c chain cached)"
phase appstore /v1/webhooks/appstore "$D/appstore.warm" "$D/appstore.jsonl" ;;
esac
# Stripe's timestamps must be under 300 s old: signed now
$SIGN bench-stripe whsec_bench "$NS" "$D/stripe.all"
head -n $((WARM * SR)) "$D/stripe.all" >"$D/stripe.warm"
tail -n +$((WARM * SR + 1)) "$D/stripe.all" >"$D/stripe.tsv"
case " $PHASES " in *" stripe "*)
echo "-- Stripe: POST /v1/webhooks/stripe (HMAC-SHA256)"
phase stripe /v1/webhooks/stripe "$D/stripe.warm" "$D/stripe.tsv" ;;
esac
echo "group commits (both phases and warm-ups): $(curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_commit_duration_seconds_count/ {c=$2} /^tenure_commit_duration_seconds_sum/ {s=$2} END {printf "%d, %.2f s committing", c, s}')"
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
for k in $PHASES; do
  f=$D/$k.jsonl
  /usr/bin/time -f '%U %e %M' -o "$D/time.$k" "$TENURE" --db "$D/i.db" --quiet import "$k" "$f" >/dev/null
  n=$(wc -l <"$f")
  read -r u e m <"$D/time.$k"
  echo "import $k (one thread, one transaction): $n in $u s of CPU = $(rate "$n" "$u") notifications/s per core ($e s wall, peak RSS $((m / 1024)) MB)"
done
