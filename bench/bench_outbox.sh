#!/bin/sh
# bench_outbox.sh -- messages and the scheduler (issue 14).
#   * outbox: OUTBOX_N (default 20,000) signed webhooks queued, then delivered
#     by `tenure outbox deliver` (libcurl multi, 32 transfers in flight) to a
#     local receiver (bench/outbox_bench.c on libmicrohttpd) that verifies
#     every signature: target >= 2,000 webhooks/s;
#   * nightly jobs: `tenure jobs run` (refresh = features + risk of every live
#     customer, alerts, win-back, offers, contract ends, points expiry) for the
#     demo company of JOBS_CUSTOMERS customers (default 1,000,000; the data end
#     on 2026-09-30, the run is for 2026-10-01): target under 60 s.
# The machine is shared with other engineers: figures are noisy (taken under load).
set -eu
. bench/lib.sh
OUTBOX_N=${OUTBOX_N:-20000}
JOBS_CUSTOMERS=${JOBS_CUSTOMERS:-1000000}
D=$BENCH_DIR/outbox
mkdir -p "$D"
[ -x "$TENURE" ] && [ -f build/libtenure.a ] || { echo "build first: make" >&2; exit 1; }
cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Iinclude bench/outbox_bench.c build/libtenure.a \
  -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lmicrohttpd -lcurl -lcrypto -lpq -lm -lpthread -o "$D/outbox_bench"
machine

# ---- webhooks per second ----
SECRET=whsec_bench_0123456789abcdef
rm -f "$D/port" "$D/o.db" "$D/o.db-wal" "$D/o.db-shm"
"$D/outbox_bench" receiver "$D/port" "$SECRET" >"$D/recv.out" &
RPID=$!
trap 'kill $RPID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$D/port" ] && break; sleep 0.1; done
PORT=$(cat "$D/port")
"$D/outbox_bench" queue "$D/o.db" "$OUTBOX_N" "http://127.0.0.1:$PORT/hook" "$SECRET"
measure "outbox deliver" "$TENURE" --db "$D/o.db" --format csv outbox deliver --concurrency 32
kill -TERM $RPID; wait $RPID || true; trap - EXIT
SENT=$(awk -F, 'NR == 2 { print $2 }' "$BENCH_DIR/.out")
DSECS=$(awk -F, 'NR == 2 { print $5 }' "$BENCH_DIR/.out")
RATE=$(rate "$SENT" "$DSECS")
echo "outbox: $SENT of $OUTBOX_N webhooks delivered in $DSECS s (process $SECS s, peak RSS $RSS_MB MB): $RATE webhooks/s (target >= 2,000: $([ "$RATE" -ge 2000 ] && echo met || echo NOT met))"
echo "  receiver: $(cat "$D/recv.out") (signatures verified)"

# ---- nightly jobs ----
DB="$D/jobs_$JOBS_CUSTOMERS.db"
if [ ! -s "$DB.ok" ]; then
  rm -f "$DB"
  if [ "$JOBS_CUSTOMERS" -gt 50000 ] && [ $((JOBS_CUSTOMERS % 50000)) -eq 0 ]; then
    # the demo itself does not scale to a million here (disk-bound, 40+ min):
    # 50,000 demo customers, copied JOBS_CUSTOMERS / 50,000 times
    [ -s "$D/jobs_50000.db.ok" ] || { rm -f "$D/jobs_50000.db"
      "$TENURE" --db "$D/jobs_50000.db" --quiet demo --customers 50000 --end 2026-09-30 --force >/dev/null
      echo ok >"$D/jobs_50000.db.ok"; }
    measure "replicate" sh bench/replicate_demo.sh "$D/jobs_50000.db" "$DB" $((JOBS_CUSTOMERS / 50000))
    echo "store of $JOBS_CUSTOMERS customers (the 50,000-customer demo x $((JOBS_CUSTOMERS / 50000))) made in $SECS s"
  else
    measure "demo" "$TENURE" --db "$DB" --quiet demo --customers "$JOBS_CUSTOMERS" --end 2026-09-30 --force
    echo "demo company of $JOBS_CUSTOMERS customers generated in $SECS s"
  fi
  echo ok >"$DB.ok"
fi
cp "$DB" "$D/run.db"
# a receiver subscribed to every event, so that the jobs queue their messages (not delivered here)
"$TENURE" --db "$D/run.db" webhooks add http://127.0.0.1:9/hook --events all --secret "$SECRET" >/dev/null
measure "jobs run" "$TENURE" --db "$D/run.db" --format csv jobs run --as-of 2026-10-01
sed 's/^/  /' "$BENCH_DIR/.out"
echo "nightly jobs for $JOBS_CUSTOMERS customers: $SECS s, peak RSS $RSS_MB MB (target < 60 s: $(awk -v s="$SECS" 'BEGIN { print (s < 60) ? "met" : "NOT met" }'))"
rm -f "$D/run.db"
