#!/bin/sh
# serve_pg.sh -- `tenure serve` on PostgreSQL end to end: a throwaway
# PostgreSQL 15 (tests/e2e/pg.sh) and, side by side, a server on SQLite fed
# the same requests.  Keys, ingest of customers, subscriptions, events,
# payments and feedback over HTTP with the same answers on both, a customer
# read back equal on both, the analysis routes on the demo equal to the
# SQLite server's (numbers to 1e-9) and to the CLI on PostgreSQL; then
# dropped connections: every backend killed with pg_terminate_backend while
# idle (the next requests succeed: the pool reconnects) and while clients
# write (each request either succeeds or fails with 5xx, and each batch is
# stored whole or not at all).
. "$REPO/tests/e2e/lib.sh"
. "$REPO/tests/e2e/pg.sh"

if ! pg_available; then
  not_ok "postgresql server" "PostgreSQL 15 is not installed (scripts/deps.sh install test)"
  exit 0
fi
LITE_PID=""
trap 'kill -TERM $LITE_PID $SERVER_PID 2>/dev/null; pg_stop_all' EXIT
if ! pg_start srv; then
  not_ok "start postgresql" "see above"
  exit 0
fi
URL=$PG_URL_srv

# req PORT METHOD PATH KEY [BODY [CONTENT-TYPE]]: prints the status; the body is in resp.json
req() {
  pt=$1; m=$2; p=$3; k=$4; b=${5-}; ct=${6:-application/json}
  set -- -s -o resp.json -w '%{http_code}' -X "$m"
  [ -n "$k" ] && set -- "$@" -H "Authorization: Bearer $k"
  [ -n "$b" ] && set -- "$@" -H "Content-Type: $ct" --data-binary "$b"
  curl "$@" "http://127.0.0.1:$pt$p"
}
# both METHOD PATH BODY: the same request to both servers; ok when the
# status is 200 on both and the bodies are equal (numbers to 1e-9)
both() {
  m=$1; p=$2; b=${3-}
  sl=$(req "$LPORT" "$m" "$p" "$LKEY" "$b"); cp resp.json lite.json
  sp=$(req "$PORT" "$m" "$p" "$PKEY" "$b"); cp resp.json pg.json
  if [ "$sl" != 200 ] || [ "$sp" != 200 ]; then
    not_ok "same on both servers: $m $p" "status $sl on sqlite, $sp on postgresql" "$(head -c 300 pg.json)"
  elif d=$(python3 "$REPO/tests/e2e/jsoncmp.py" lite.json pg.json); then ok "same on both servers: $m $p"
  else not_ok "same on both servers: $m $p" "$d"; fi
}
pgq() { (cd / && checked pg_psql srv "$1" 2>&1); }

# ---- keys on both stores ----
check "keys create on postgresql" sh -c "$TENURE --db '$URL' keys create --scope admin --name ops >pg.key 2>keys.err"
check "keys create on sqlite" sh -c "$TENURE --db lite.db keys create --scope admin --name ops >lite.key 2>>keys.err"
PKEY=$(cat pg.key); LKEY=$(cat lite.key)
check_eq "postgresql keeps the key's SHA-256, not the key" \
  "$(pgq "SELECT encode(hash, 'hex') FROM api_keys WHERE id = 1")" \
  "$(printf %s "$PKEY" | openssl dgst -sha256 -r | cut -d' ' -f1)"
if grep -q "$PG_PASSWORD" keys.err; then not_ok "keys: password not printed"; else ok "keys: password not printed"; fi

# ---- the two servers ----
if ! start_server lite.db lite.log; then not_ok "sqlite server starts"; exit 1; fi
LITE_PID=$SERVER_PID; LPORT=$PORT
if ! start_server "$URL" pg.log; then not_ok "postgresql server starts" "$(cat pg.log)"; exit 1; fi
ok "server on postgresql starts ($PORT)"
if grep -q "$PG_PASSWORD" pg.log; then not_ok "serve: password not printed" "$(cat pg.log)"
else ok "serve: password not printed"; fi
check_eq "healthz" "$(req "$PORT" GET /healthz '')" 200

# ---- ingest: the same answers on both ----
both POST /v1/customers '[{"id":"c1","signed_up_at":"2024-01-05","country":"SA","channel":"ads","tier":"gold"},{"id":"c2","signed_up_at":"2024-02-01"},{"id":"c3"}]'
check_eq "customers: added" "$(cat pg.json)" '{"added":3,"updated":0,"unchanged":0}'
both POST /v1/customers '[{"id":"c3","country":"IR"}]'
check_eq "customers: updated" "$(cat pg.json)" '{"added":0,"updated":1,"unchanged":0}'
both POST /v1/subscriptions '[{"id":"s1","customer":"c1","plan":"pro","billing_period":"month","price":30,"currency":"USD","started_at":"2024-01-05"},{"id":"s2","customer":"c2","plan":"pro","billing_period":"year","price":120,"currency":"USD","started_at":"2024-02-01","cancelled_at":"2024-06-01"}]'
EV='[{"customer":"c1","occurred_at":"2024-03-01T10:00:00Z","type":"session","id":"e1"},{"customer":"c1","occurred_at":"2024-03-02","type":"purchase","amount":9.5,"id":"e2"},{"customer":"c2","occurred_at":"2024-03-03","type":"session"}]'
both POST /v1/events "$EV"
check_eq "events: added" "$(cat pg.json)" '{"added":3,"updated":0,"unchanged":0}'
both POST /v1/events "$EV"
check_eq "events re-sent: idempotent" "$(cat pg.json)" '{"added":0,"updated":0,"unchanged":3}'
both POST /v1/payments '[{"customer":"c1","paid_at":"2024-02-05","amount":30,"currency":"USD","status":"succeeded","id":"p1"},{"customer":"c2","paid_at":"2024-02-05","amount":120,"currency":"USD","status":"failed","id":"p2"}]'
both POST /v1/feedback '[{"customer":"c1","given_at":"2024-03-05","kind":"nps","score":9,"id":"f1","text":"great support"}]'
# a bad batch: 422 on both and nothing of it written on PostgreSQL
BAD='[{"customer":"c1","occurred_at":"2024-03-09","type":"session","id":"ok1"},{"customer":"nobody","occurred_at":"2024-03-01","type":"session"}]'
check_eq "422 on postgresql" "$(req "$PORT" POST /v1/events "$PKEY" "$BAD")" 422
check_contains "422: names the item" resp.json '{"index":1,"field":"customer"'
check_eq "422: nothing written" "$(pgq "SELECT count(*) FROM events WHERE ext_id = 'ok1'")" 0

# ---- reads ----
both GET /v1/customers/c1
check_contains "customer read back: attributes" pg.json '"attributes":{"tier":"gold"}'
check_contains "customer read back: mrr" pg.json '"mrr":30'
check_contains "customer read back: last event" pg.json '"last_event_at":"2024-03-02T00:00:00Z"'
both GET /v1/customers/c2
check_eq "404 unknown customer" "$(req "$PORT" GET /v1/customers/nobody "$PKEY")" 404
both GET /v1/summary
both GET "/v1/summary?as-of=2024-04-01"

# ---- dropped connections, idle: the pool reconnects ----
kill_backends() {
  pgq "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
}
n=$(kill_backends)
if [ "${n:-0}" -ge 1 ]; then ok "killed $n idle server connections"; else not_ok "killed the server's connections" "$n"; fi
# (the key list is a scan: its reader's dropped connection must reconnect,
# or every request is refused once the cached keys are a second old)
sleep 1.1
check_eq "after the kill: a write succeeds" "$(req "$PORT" POST /v1/events "$PKEY" '[{"customer":"c3","occurred_at":"2024-04-01","type":"session","id":"after-kill"}]')" 200
check_eq "after the kill: the write is stored" "$(pgq "SELECT count(*) FROM events WHERE ext_id = 'after-kill'")" 1
kill_backends >/dev/null
check_eq "after the kill: a read succeeds" "$(req "$PORT" GET /v1/customers/c1 "$PKEY")" 200
kill_backends >/dev/null
check_eq "after the kill: an analysis succeeds" "$(req "$PORT" GET /v1/summary "$PKEY")" 200

# ---- dropped connections while clients write: 200 or 5xx, whole or nothing ----
writer() { # client C: 25 batches of 20 events; logs "batch status"
  i=0
  while [ $i -lt 25 ]; do
    b="["; j=0
    while [ $j -lt 20 ]; do
      [ $j -gt 0 ] && b="$b,"
      b="$b{\"customer\":\"c$(((j % 3) + 1))\",\"occurred_at\":\"2024-07-01T00:00:00Z\",\"type\":\"k\",\"id\":\"k$1-$i-$j\"}"
      j=$((j + 1))
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PKEY" --data-binary "$b]" \
      "http://127.0.0.1:$PORT/v1/events")
    echo "k$1-$i $code"
    i=$((i + 1))
  done >"w$1.txt"
}
writer 1 & W1=$!
writer 2 & W2=$!
kills=0
while kill -0 "$W1" 2>/dev/null || kill -0 "$W2" 2>/dev/null; do
  kill_backends >/dev/null; kills=$((kills + 1)); sleep 0.7
done
wait "$W1" "$W2"
cat w1.txt w2.txt >statuses.txt
total=$(wc -l <statuses.txt | tr -d ' ')
good=$(grep -c ' 200$' statuses.txt)
bad=$(grep -vc ' 200$' statuses.txt)
check_eq "writes during $kills kills: every request answered" "$total" 50
check_eq "writes during kills: only 200 or 5xx" "$(grep -vcE ' (200|5[0-9][0-9])$' statuses.txt)" 0
echo "# writes during kills: $good of $total succeeded, $bad failed with 5xx" >&3
pgq "SELECT split_part(ext_id, '-', 1) || '-' || split_part(ext_id, '-', 2), count(*) FROM events WHERE ext_id LIKE 'k%' GROUP BY 1" | tr '|' ' ' | sort >stored.txt
check_eq "writes during kills: every batch whole (20 rows) or absent" "$(awk '$2 != 20' stored.txt | wc -l | tr -d ' ')" 0
grep ' 200$' statuses.txt | cut -d' ' -f1 | sort >acked.txt
check_eq "writes during kills: every acknowledged batch stored" "$(cut -d' ' -f1 stored.txt | comm -23 acked.txt - | wc -l | tr -d ' ')" 0
check_eq "after the kills: the server still serves" "$(req "$PORT" GET /v1/customers/c1 "$PKEY")" 200
st=$(req "$PORT" POST /v1/events "$PKEY" '[{"customer":"c2","occurred_at":"2024-08-01","type":"session","id":"after-kills"}]')
if [ "$st" = 200 ]; then ok "after the kills: a write succeeds"
else not_ok "after the kills: a write succeeds" "status $st" "$(cat resp.json)"; fi
check_eq "after the kills: that write is stored" "$(pgq "SELECT count(*) FROM events WHERE ext_id = 'after-kills'")" 1
stop_server
kill -TERM "$LITE_PID" 2>/dev/null; wait "$LITE_PID"; LITE_PID=""

# ---- the first requests of a fresh server are concurrent POSTs ----
# (seen once as 401 for a valid key: every one of 32 concurrent first POSTs,
# on a new database each round, must be 200 and stored)
for round in 1 2 3; do
  pgq "CREATE DATABASE first$round" >/dev/null
  FURL=$(printf %s "$URL" | sed "s|/postgres\$|/first$round|")
  FKEY=$($TENURE --db "$FURL" keys create --scope ingest --name first 2>/dev/null)
  if ! start_server "$FURL" first.log; then not_ok "fresh server $round starts" "$(cat first.log)"; continue; fi
  pids=""
  for i in $(seq 1 32); do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $FKEY" -H 'Content-Type: application/json' \
      --data-binary "[{\"id\":\"f$i\"}]" "http://127.0.0.1:$PORT/v1/customers" >"first.$i" &
    pids="$pids $!"
  done
  wait $pids
  codes=$(cat first.[0-9]* | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')
  check_eq "fresh server $round: 32 concurrent first POSTs all 200" "$codes" "200 x32"
  check_eq "fresh server $round: the 32 customers stored" \
    "$(cd / && pg_psql srv "SELECT count(*) FROM customers" "first$round")" 32
  rm -f first.[0-9]*
  [ $round -lt 3 ] && stop_server
done
# keys that cannot be read: 503 with the reason logged, not 401
(cd / && pg_psql srv "ALTER TABLE api_keys RENAME TO api_keys_away" first3) >/dev/null
sleep 1.1
check_eq "keys unreadable: 503, not 401" "$(req "$PORT" POST /v1/customers "$FKEY" '[{"id":"g1"}]')" 503
check_contains "keys unreadable: the reason on stderr" first.log "cannot read the API keys"
(cd / && pg_psql srv "ALTER TABLE api_keys_away RENAME TO api_keys" first3) >/dev/null
check_eq "keys readable again: 200" "$(req "$PORT" POST /v1/customers "$FKEY" '[{"id":"g1"}]')" 200
stop_server

# ---- analysis routes on the demo: postgresql server = sqlite server = CLI ----
pgq "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null
rm -f lite.db lite.db-wal lite.db-shm
check "demo into sqlite" $TENURE --db lite.db --quiet demo --customers 300 --months 8
check "demo into postgresql" $TENURE --db "$URL" --quiet demo --customers 300 --months 8
$TENURE --db "$URL" keys create --scope read >pg.key 2>/dev/null; PKEY=$(cat pg.key)
$TENURE --db lite.db keys create --scope read >lite.key 2>/dev/null; LKEY=$(cat lite.key)
if ! start_server lite.db lite2.log; then not_ok "sqlite server on the demo"; exit 1; fi
LITE_PID=$SERVER_PID; LPORT=$PORT
if ! start_server "$URL" pg2.log; then not_ok "postgresql server on the demo" "$(cat pg2.log)"; exit 1; fi
route() { # PATH CLI-ARGS...: both servers equal, and the postgresql server = CLI on postgresql
  p=$1; shift
  both GET "$p"
  $TENURE --db "$URL" --format json "$@" >cli.json 2>cli.err
  if d=$(python3 "$REPO/tests/e2e/jsoncmp.py" cli.json pg.json); then ok "postgresql server = CLI: $p"
  else not_ok "postgresql server = CLI: $p" "$d"; fi
}
route /v1/summary summary
route "/v1/churn/rate?period=month" churn rate --period month
route /v1/cohorts cohorts
route "/v1/survival?by=plan&at=30,60,90" survival --by plan --at 30,60,90
route /v1/drivers drivers
route /v1/value/profitability value profitability
route /v1/alerts alerts --no-update
route "/v1/feedback/scores?period=month" feedback scores --period month
both GET /v1/customers/C000001
both GET /v1/customers/C000042
kill_backends >/dev/null
check_eq "demo: an analysis after the kill" "$(req "$PORT" GET "/v1/churn/rate?period=quarter" "$PKEY")" 200
stop_server
kill -TERM "$LITE_PID" 2>/dev/null; wait "$LITE_PID"; LITE_PID=""
