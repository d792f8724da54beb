#!/bin/sh
# serve.sh -- `tenure serve` end to end: the real server on a free port (port
# 0, read from its "listening on" line), spoken to with curl.  Keys and
# scopes, every error status, idempotent re-sends, all-or-nothing requests,
# the analysis routes equal to the CLI's JSON, concurrent writers and readers,
# TLS, graceful shutdown, and the SIGKILL test: every acknowledged write is
# in the store after a kill -9, and PRAGMA integrity_check is ok.
. "$REPO/tests/e2e/lib.sh"

# req METHOD PATH KEY [BODY [CONTENT-TYPE]]: prints the status; the body is in resp.json
req() {
  m=$1; p=$2; k=$3; b=${4-}; ct=${5:-application/json}
  set -- -s -o resp.json -D resp.hdr -w '%{http_code}' -X "$m"
  [ -n "$k" ] && set -- "$@" -H "Authorization: Bearer $k"
  [ -n "$b" ] && set -- "$@" -H "Content-Type: $ct" --data-binary "$b"
  curl "$@" "http://127.0.0.1:$PORT$p"
}
count() { sqlite3 "$1" "$2"; }
# events matching WHERE in the table and in the journal the running server
# appends to (docs/data-model.md, "The events journal")
count_events() { sqlite3 "$1" "SELECT (SELECT count(*) FROM events WHERE $2) + (SELECT count(*) FROM events_journal WHERE $2) + (SELECT count(*) FROM events_journal_b WHERE $2)"; }

# ---- keys ----
check "keys create admin" sh -c "$TENURE --db t.db keys create --scope admin --name ops >admin.key 2>keys.err"
check "keys create read" sh -c "$TENURE --db t.db keys create --scope read >read.key 2>>keys.err"
check "keys create ingest" sh -c "$TENURE --db t.db keys create --scope ingest --name app >ingest.key 2>>keys.err"
check "keys create revoked" sh -c "$TENURE --db t.db keys create --scope admin >gone.key 2>>keys.err"
check_fails "keys create: bad scope" $TENURE --db t.db keys create --scope owner
ADMIN=$(cat admin.key); READ=$(cat read.key); INGEST=$(cat ingest.key); GONE=$(cat gone.key)
check_eq "key: tn_ and 64 hex digits" "$(printf %s "$ADMIN" | grep -cE '^tn_[0-9a-f]{64}$')" 1
check_eq "keys differ" "$(sort -u admin.key read.key ingest.key gone.key | wc -l | tr -d ' ')" 4
check_eq "store keeps no key" "$(count t.db "SELECT count(*) FROM api_keys WHERE instr(CAST(hash AS TEXT), '$ADMIN') OR prefix = '$ADMIN'")" 0
check_eq "store keeps the SHA-256" "$(count t.db "SELECT hex(hash) FROM api_keys WHERE id = 1" | tr A-F a-f)" \
  "$(printf %s "$ADMIN" | openssl dgst -sha256 -r | cut -d' ' -f1)"
check "keys revoke" $TENURE --db t.db keys revoke 4
check_fails "keys revoke twice" $TENURE --db t.db keys revoke 4
$TENURE --db t.db --format json keys list >keys.json
check_contains "keys list: revoked shown" keys.json '"revoked_at":"'
check_contains "keys list: names" keys.json '"name":"ops"'

# ---- start ----
if ! start_server t.db serve.log --max-body 64k --max-depth 8; then
  not_ok "server starts" "$(cat serve.log)"; exit 1
fi
ok "server starts on a free port ($PORT)"
# the value model's refit yields the cores to the requests and the writer (docs/api.md, Performance)
check_background_nice "the value model's thread runs at nice +10, the others unchanged" "$SERVER_PID" tn-value
check_contains "listening line" serve.log "listening on http://127.0.0.1:$PORT"
check_eq "healthz needs no key" "$(req GET /healthz '')" 200
check_contains "healthz body" resp.json '"status":"ok"'
check_contains "json content type" resp.hdr "Content-Type: application/json"

# ---- writes ----
CUST='[{"id":"c1","signed_up_at":"2024-01-05","country":"SA","channel":"ads","tier":"gold"},{"id":"c2","signed_up_at":"2024-02-01"},{"id":"c3"}]'
check_eq "POST customers" "$(req POST /v1/customers "$INGEST" "$CUST")" 200
check_eq "customers: added" "$(cat resp.json)" '{"added":3,"updated":0,"unchanged":0}'
check_eq "re-send: unchanged" "$(req POST /v1/customers "$INGEST" "$CUST")" 200
check_eq "re-send counts" "$(cat resp.json)" '{"added":0,"updated":0,"unchanged":3}'
check_eq "change one: updated" "$(req POST /v1/customers "$INGEST" '[{"id":"c3","country":"IR"}]')" 200
check_eq "updated counts" "$(cat resp.json)" '{"added":0,"updated":1,"unchanged":0}'
SUB='[{"id":"s1","customer":"c1","plan":"pro","billing_period":"month","price":30,"currency":"USD","started_at":"2024-01-05"},{"id":"s2","customer":"c2","plan":"pro","billing_period":"year","price":120,"currency":"USD","started_at":"2024-02-01","cancelled_at":"2024-06-01"}]'
check_eq "POST subscriptions" "$(req POST /v1/subscriptions "$INGEST" "$SUB")" 200
EV='[{"customer":"c1","occurred_at":"2024-03-01T10:00:00Z","type":"session","id":"e1"},{"customer":"c1","occurred_at":"2024-03-02","type":"purchase","amount":9.5,"id":"e2"}]'
check_eq "POST events" "$(req POST /v1/events "$INGEST" "$EV")" 200
check_eq "events: added" "$(cat resp.json)" '{"added":2,"updated":0,"unchanged":0}'
check_eq "events re-sent" "$(req POST /v1/events "$INGEST" "$EV")" 200
check_eq "events: idempotent" "$(cat resp.json)" '{"added":0,"updated":0,"unchanged":2}'
printf '{"customer":"c2","occurred_at":"2024-03-01","type":"session","id":"n1"}\n\n{"customer":"c2","occurred_at":"2024-03-03","type":"session","id":"n2"}\n' >ev.ndjson
check_eq "POST events as JSON Lines" "$(req POST /v1/events "$INGEST" "@ev.ndjson" application/x-ndjson)" 200
check_eq "ndjson: added" "$(cat resp.json)" '{"added":2,"updated":0,"unchanged":0}'
check_eq "POST payments" "$(req POST /v1/payments "$INGEST" '[{"customer":"c1","paid_at":"2024-02-05","amount":30,"currency":"USD","status":"paid","id":"p1"}]')" 200
check_eq "POST feedback" "$(req POST /v1/feedback "$INGEST" '[{"customer":"c1","given_at":"2024-03-05","kind":"nps","score":9,"id":"f1"}]')" 200
check_eq "empty array" "$(req POST /v1/events "$INGEST" '[]')" 200
check_eq "admin may write" "$(req POST /v1/events "$ADMIN" '[]')" 200

# ---- 422: import's wording, every bad item, nothing written ----
BAD='[{"customer":"c1","occurred_at":"2024-03-09","type":"session","id":"ok1"},{"customer":"c1","occurred_at":"yesterday","type":"session"},{"customer":"nobody","occurred_at":"2024-03-01","type":"session"},{"customer":"c1","occurred_at":"2024-03-01"}]'
check_eq "422 on bad rows" "$(req POST /v1/events "$INGEST" "$BAD")" 422
check_contains "422 code" resp.json '"code":"validation_failed"'
check_contains "422: index and field" resp.json '{"index":1,"field":"occurred_at","message":"occurred_at: expected an ISO-8601 time'
check_contains "422: unknown customer" resp.json '{"index":2,"field":"customer","message":"customer: customer \"nobody\" is not in the store'
check_contains "422: missing type" resp.json '{"index":3,"field":"type","message":"type: expected a value, found nothing"}'
check_eq "422: all or nothing" "$(count_events t.db "ext_id = 'ok1'")" 0
# the same row through tenure import: the same message after FILE:LINE:COLUMN
printf '{"customer":"c1","occurred_at":"yesterday","type":"session"}\n' >bad.jsonl
fails $TENURE --db t.db import events bad.jsonl >imp.out 2>&1
api_msg=$(sed -n 's/.*{"index":1,"field":"occurred_at","message":"\([^"]*\)\\".*/\1/p' resp.json)
check_contains "import says the same" imp.out "$api_msg"
check_eq "422 not an object" "$(req POST /v1/events "$INGEST" '[1]')" 422
check_contains "422 not an object: message" resp.json 'expected a JSON object'

# ---- 400, 404, 405, 413 ----
check_eq "400 malformed JSON" "$(req POST /v1/events "$INGEST" '[{"customer":"c1",}]')" 400
off=$(sed -n 's/.*"details":\[{"offset":\([0-9]*\)}\].*/\1/p' resp.json)
check_near "400 names the byte offset (the stray } is byte 18)" "$off" 18 1
check_contains "400 code" resp.json '"code":"malformed_json"'
check_eq "400 not an array" "$(req POST /v1/events "$INGEST" '{"customer":"c1"}')" 400
check_eq "400 trailing text" "$(req POST /v1/events "$INGEST" '[] x')" 400
check_eq "400 too deep" "$(req POST /v1/customers "$INGEST" '[{"id":"d","attrs":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1}}}}}}}}}]')" 400
check_contains "400 too deep: code" resp.json '"code":"too_deep"'
printf '{"customer":"c1","occurred_at":"2024-01-01","type":"x"}\n{"customer":\n' >broken.ndjson
check_eq "400 broken JSON Lines" "$(req POST /v1/events "$INGEST" "@broken.ndjson" application/x-ndjson)" 400
off=$(sed -n 's/.*"details":\[{"offset":\([0-9]*\)}\].*/\1/p' resp.json)
check_near "400 JSON Lines: the offset is in line 2 (bytes 56-68)" "$off" 62 6
check_eq "404 unknown route" "$(req GET /v2/nothing "$ADMIN")" 404
check_contains "404 error shape" resp.json '{"error":{"code":"not_found","message":'
check_eq "404 unknown customer" "$(req GET /v1/customers/nobody "$READ")" 404
check_eq "404 nested path" "$(req GET /v1/customers/c1/x "$READ")" 404
check_eq "405 wrong method" "$(req DELETE /v1/events "$ADMIN")" 405
check_contains "405 Allow header" resp.hdr "Allow: POST"
check_eq "405 GET on a write route" "$(req GET /v1/events "$ADMIN")" 405
head -c 70000 /dev/zero | tr '\0' ' ' >big.json
check_eq "413 body above --max-body" "$(req POST /v1/events "$INGEST" "@big.json")" 413
check_contains "413 code" resp.json '"code":"payload_too_large"'
check_eq "server alive after 413" "$(req GET /healthz '')" 200

# ---- key / scope matrix ----
matrix() { # NAME KEY want-POST want-GET-customer want-metrics
  check_eq "$1: POST /v1/events" "$(req POST /v1/events "$2" '[]')" "$3"
  check_eq "$1: GET /v1/customers/c1" "$(req GET /v1/customers/c1 "$2")" "$4"
  check_eq "$1: GET /metrics" "$(req GET /metrics "$2")" "$5"
}
matrix "no key" "" 401 401 401
check_contains "401 WWW-Authenticate" resp.hdr "WWW-Authenticate: Bearer"
matrix "unknown key" "tn_0000000000000000000000000000000000000000000000000000000000000000" 401 401 401
matrix "revoked key" "$GONE" 401 401 401
matrix "ingest key" "$INGEST" 200 403 403
matrix "read key" "$READ" 403 200 200
matrix "admin key" "$ADMIN" 200 200 200
check_eq "not Bearer" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $ADMIN" http://127.0.0.1:$PORT/v1/summary)" 401

# ---- reads ----
check_eq "GET customer" "$(req GET /v1/customers/c1 "$READ")" 200
check_contains "customer: attributes" resp.json '"attributes":{"tier":"gold"}'
check_contains "customer: subscription status" resp.json '"plan":"pro","billing_period":"month","price":30,"currency":"USD"'
check_contains "customer: mrr" resp.json '"mrr":30'
check_contains "customer: last event" resp.json '"last_event_at":"2024-03-02T00:00:00Z"'
check_contains "customer: open alerts" resp.json '"open_alerts":[]'
$TENURE --db t.db --format json summary >cli_summary.json
req GET /v1/summary "$READ" >/dev/null
check "summary = CLI JSON" cmp resp.json cli_summary.json
$TENURE --db t.db --format json summary --as-of 2024-04-01 >cli_summary2.json
req GET "/v1/summary?as-of=2024-04-01" "$READ" >/dev/null
check "summary?as-of = CLI JSON" cmp resp.json cli_summary2.json
check_eq "400 unknown option" "$(req GET '/v1/summary?db=/etc/passwd' "$READ")" 400
check_contains "400 names the options" resp.json 'takes: as-of'
check_eq "400 bad option value" "$(req GET '/v1/summary?as-of=someday' "$READ")" 400
req GET /metrics "$READ" >/dev/null
check_contains "metrics: requests by route and status" resp.json 'tenure_http_requests_total{route="/v1/events",status="200"}'
check_contains "metrics: latency histogram" resp.json 'tenure_http_request_duration_seconds_bucket{class="write",le="+Inf"}'
check_contains "metrics: rows ingested" resp.json 'tenure_rows_ingested_total'
check_contains "metrics: queue depth" resp.json 'tenure_write_queue_depth 0'
check_contains "metrics: commit time" resp.json 'tenure_commit_duration_seconds_count'

# revoking takes effect on the running server
check "revoke the read key" $TENURE --db t.db keys revoke 2
sleep 1.2
check_eq "revoked key now 401" "$(req GET /v1/customers/c1 "$READ")" 401

# ---- concurrent writers and readers ----
writer() { # W: 20 batches of 50 events with ids W-B-I
  i=0
  while [ $i -lt 20 ]; do
    b="["; j=0
    while [ $j -lt 50 ]; do
      [ $j -gt 0 ] && b="$b,"
      b="$b{\"customer\":\"c$((j % 3 + 1))\",\"occurred_at\":\"2024-05-01T00:00:$(printf %02d $((j % 60)))Z\",\"type\":\"tap\",\"id\":\"w$1-$i-$j\"}"
      j=$((j + 1))
    done
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $INGEST" -H 'Content-Type: application/json' \
      --data-binary "$b]" "http://127.0.0.1:$PORT/v1/events"
    i=$((i + 1))
  done >"w$1.codes"
}
reader() {
  i=0
  while [ $i -lt 40 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/v1/customers/c$((i % 3 + 1))"
    i=$((i + 1))
  done >"r$1.codes"
}
writer 1 & P1=$!
writer 2 & P2=$!
writer 3 & P3=$!
writer 4 & P4=$!
reader 1 & P5=$!
reader 2 & P6=$!
wait "$P1" "$P2" "$P3" "$P4" "$P5" "$P6"
check_eq "concurrent writes all 200" "$(cat w1.codes w2.codes w3.codes w4.codes | sort | uniq -c | tr -s ' ')" " 80 200"
check_eq "concurrent reads all 200" "$(cat r1.codes r2.codes | sort | uniq -c | tr -s ' ')" " 80 200"
check_eq "every concurrent event stored" "$(count_events t.db "ext_id LIKE 'w%'")" 4000

# ---- graceful shutdown: a request in flight is answered and committed ----
awk 'BEGIN { printf "["; for (i = 0; i < 600; i++) printf "%s{\"customer\":\"c%d\",\"occurred_at\":\"2024-06-01T00:%02d:%02dZ\",\"type\":\"g\",\"id\":\"g%d\"}", (i ? "," : ""), i % 3 + 1, (i / 60) % 60, i % 60, i; printf "]" }' >grace.json
# sent slowly (about 2.4 s), and SIGTERM only once the server has its headers
# (GET /metrics counts it in flight, beside itself): a fixed sleep raced curl's
# start on a loaded machine (the request not yet accepted when the server
# stopped listening: 000 and nothing committed, whatever the server does)
curl -s -o grace.out -w '%{http_code}' --limit-rate 20k -H "Authorization: Bearer $INGEST" --data-binary @grace.json \
  "http://127.0.0.1:$PORT/v1/events" >grace.code &
CURL=$!
inflight=0
for _ in $(seq 1 200); do
  inflight=$(curl -s -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/metrics" |
    sed -n 's/^tenure_http_requests_in_flight \([0-9]*\)$/\1/p')
  [ "${inflight:-0}" -ge 2 ] && break
  sleep 0.1
done
check "SIGTERM: the slow request is in flight first (/metrics)" test "${inflight:-0}" -ge 2
check "SIGTERM: comes before the request's end" kill -0 "$CURL"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"; rc=$?
wait "$CURL"
check_eq "SIGTERM: exit 0" "$rc" 0
check_contains "SIGTERM: said so" serve.log "finishing the requests in flight"
check_eq "SIGTERM: the request in flight is answered" "$(cat grace.code)" 200
check_eq "SIGTERM: and committed" "$(count t.db "SELECT count(*) FROM events WHERE ext_id LIKE 'g%'")" 600
check_eq "SIGTERM: integrity" "$(count t.db 'PRAGMA integrity_check')" ok

# ---- rate limit: 429 with Retry-After ----
start_server t.db serve2.log --rate 0.1 --burst 2 || not_ok "server restarts"
# the three requests from one curl (one connection, milliseconds apart), and one
# token every 10 s: three curl starts took over a 1 s refill on a loaded
# machine, and the 3rd was rightly answered 200
U="http://127.0.0.1:$PORT/v1/customers/c1"
curl -s -w '%{http_code}\n' -H "Authorization: Bearer $ADMIN" -D resp.hdr -o /dev/null -o /dev/null -o resp.json \
  "$U" "$U" "$U" >rate.codes
check_eq "rate: 1st" "$(sed -n 1p rate.codes)" 200
check_eq "rate: 2nd (burst)" "$(sed -n 2p rate.codes)" 200
check_eq "rate: 3rd is 429" "$(sed -n 3p rate.codes)" 429
check "429 Retry-After: 1 to 10 s" awk 'tolower($1) == "retry-after:" { n = $2 + 0; ok = n >= 1 && n <= 10 }
  END { exit !ok }' resp.hdr
check_contains "429 code" resp.json '"code":"rate_limited"'
check_eq "rate: healthz unaffected" "$(req GET /healthz '')" 200
stop_server

# ---- analyses on a small demo: the same JSON as the CLI ----
$TENURE --db demo.db demo --customers 400 --months 8 >/dev/null 2>&1
$TENURE --db demo.db keys create --scope read >demo.key 2>/dev/null
DK=$(cat demo.key)
start_server demo.db serve3.log || not_ok "server on the demo"
analysis() { # NAME PATH CLI-ARGS...
  n=$1; p=$2; shift 2
  $TENURE --db demo.db --format json "$@" >cli.json 2>cli.err
  st=$(req GET "$p" "$DK")
  if [ "$st" = 200 ] && cmp -s resp.json cli.json; then ok "$n = CLI"; else not_ok "$n = CLI" "status $st" "$(head -c 300 resp.json)"; fi
}
analysis "summary" /v1/summary summary
analysis "churn rate" "/v1/churn/rate?period=month" churn rate --period month
analysis "cohorts" /v1/cohorts cohorts
analysis "survival by plan at 30,60,90" "/v1/survival?by=plan&at=30,60,90" survival --by plan --at 30,60,90
analysis "drivers" /v1/drivers drivers
analysis "value profitability" /v1/value/profitability value profitability
analysis "alerts" /v1/alerts alerts --no-update
analysis "feedback scores" "/v1/feedback/scores?period=month" feedback scores --period month
check_eq "demo customer" "$(req GET /v1/customers/C000001 "$DK")" 200
check_contains "demo customer: subscriptions with status" resp.json '"status":"'
check_contains "demo customer: days as customer" resp.json '"days_as_customer":'
# this small demo's value fit is degenerate (`tenure value score` exits 3):
# the value is null rather than numbers that mean nothing
checked $TENURE --db demo.db --format json --quiet value score >/dev/null 2>&1
check_eq "small demo: value score says degenerate" "$?" 3
sleep 1
req GET /v1/customers/C000005 "$DK" >/dev/null
check_contains "small demo: value null" resp.json '"value":null'
# an analysis answer is cached until a commit changes the data
$TENURE --db demo.db keys create --scope ingest >demo.ikey 2>/dev/null
DI=$(cat demo.ikey)
sleep 1.2 # the server reloads its keys every second
req GET /v1/summary "$DK" >/dev/null; cp resp.json summary1.json
req GET /v1/summary "$DK" >/dev/null
check "summary again (cached) = the first" cmp resp.json summary1.json
check_eq "a new customer" "$(req POST /v1/customers "$DI" '[{"id":"cache-test","signed_up_at":"2025-01-01"}]')" 200
req GET /v1/summary "$DK" >/dev/null
$TENURE --db demo.db --format json summary >cli_after.json
check "summary after a commit = CLI JSON now" cmp resp.json cli_after.json
if cmp -s resp.json summary1.json; then not_ok "summary after a commit changed"; else ok "summary after a commit changed"; fi
stop_server

# ---- the value (CLV) on a demo large enough for a sound fit ----
$TENURE --db v.db demo --customers 1000 --months 12 >/dev/null 2>&1
$TENURE --db v.db keys create --scope read >v.key 2>/dev/null
VK=$(cat v.key)
start_server v.db serve8.log || not_ok "server on the value demo"
# the value (CLV) is `tenure value score`'s, once the server's model is built
$TENURE --db v.db --format json --quiet value score >scores.json 2>/dev/null
line=$(grep -m1 '"clv":[0-9]' scores.json)
vc=$(echo "$line" | sed 's/.*"customer":"\([^"]*\)".*/\1/')
want=$(echo "$line" | sed 's/.*"clv":\([^,}]*\).*/\1/')
got=""
# the model is fitted by a thread at a lower priority than the requests
# (base/thread.h): on a loaded machine give it up to 120 s, not 20
for _ in $(seq 1 600); do
  req GET "/v1/customers/$vc" "$VK" >/dev/null
  got=$(sed -n 's/.*"value":{"clv":\([^,}]*\).*/\1/p' resp.json)
  [ -n "$got" ] && break
  sleep 0.2
done
if [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }'; then
  ok "demo customer: value.clv = value score's clv"
else
  not_ok "demo customer: value.clv = value score's clv" "customer $vc: served \"$got\", value score $want"
fi
check_contains "demo customer: value model named" resp.json '"model":"bgnbd+gamma-gamma"'
stop_server

# ---- TLS with a self-signed certificate ----
if openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost >/dev/null 2>&1; then
  start_server t.db serve4.log --tls-cert cert.pem --tls-key key.pem || not_ok "TLS server starts" "$(cat serve4.log)"
  check_contains "TLS: https in the listening line" serve4.log "listening on https://127.0.0.1:$PORT"
  check_eq "TLS: healthz over https" "$(curl -s --cacert cert.pem --resolve "localhost:$PORT:127.0.0.1" -o /dev/null -w '%{http_code}' "https://localhost:$PORT/healthz")" 200
  check_eq "TLS: plain http refused" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" 000
  stop_server
else
  not_ok "openssl makes a self-signed certificate"
fi
check_fails "TLS: a key without a certificate" $TENURE --db t.db serve --listen 127.0.0.1:0 --tls-key key.pem

# ---- reads never wait for a big import (WAL) ----
awk 'BEGIN { print "customer,occurred_at,type,id"; for (i = 0; i < 300000; i++) printf "c%d,%d,bulk,b%d\n", i % 3 + 1, 1714521600 + i, i }' >bulk.csv
start_server t.db serve7.log || not_ok "server for the import test"
$TENURE --db t.db --quiet import events bulk.csv >bulk.out 2>&1 &
IMP=$!
sleep 0.5
# the time is curl's own, from its connect to the answer's end: curl's process
# start (timed with date around it before) took over a second on a loaded machine
set -- $(curl -s -o resp.json -w '%{http_code} %{time_total}' -H "Authorization: Bearer $ADMIN" \
  "http://127.0.0.1:$PORT/v1/customers/c2")
st=$1; took=${2:-9}
if kill -0 "$IMP" 2>/dev/null; then running=yes; else running=no; fi
check_eq "read during a bulk import: 200" "$st" 200
check_eq "read during a bulk import: the import was still running" "$running" yes
check "read during a bulk import: under a second" awk -v t="$took" 'BEGIN { exit !(t < 1) }'
wait "$IMP"; check_eq "bulk import committed" "$(count t.db "SELECT count(*) FROM events WHERE ext_id LIKE 'b%'")" 300000
stop_server

# ---- SIGKILL: nothing acknowledged is lost ----
start_server t.db serve5.log || not_ok "server for the kill test"
killer() { # client C: batches of 20 events until the server dies; log acked ids
  i=0
  while :; do
    b="["; j=0
    while [ $j -lt 20 ]; do
      [ $j -gt 0 ] && b="$b,"
      b="$b{\"customer\":\"c1\",\"occurred_at\":\"2024-07-01T00:00:00Z\",\"type\":\"k\",\"id\":\"k$1-$i-$j\"}"
      j=$((j + 1))
    done
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $INGEST" --data-binary "$b]" \
      "http://127.0.0.1:$PORT/v1/events")
    [ "$code" = 200 ] || break
    j=0
    while [ $j -lt 20 ]; do echo "k$1-$i-$j"; j=$((j + 1)); done >>"acked$1.txt"
    i=$((i + 1))
  done
}
: >acked1.txt; : >acked2.txt; : >acked3.txt
killer 1 & K1=$!
killer 2 & K2=$!
killer 3 & K3=$!
# kill once something is acknowledged (and more is in flight): a fixed 2 s
# sleep ended before the first answer on a loaded machine (load ~25)
for _ in $(seq 1 600); do
  [ -s acked1.txt ] || [ -s acked2.txt ] || [ -s acked3.txt ] && break
  sleep 0.1
done
sleep 0.5
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
wait "$K1" "$K2" "$K3"
cat acked1.txt acked2.txt acked3.txt | sort >acked.txt
n_acked=$(wc -l <acked.txt | tr -d ' ')
if [ "$n_acked" -gt 0 ]; then ok "kill -9: $n_acked events acknowledged before the kill"; else not_ok "kill -9: some events acknowledged"; fi
# restart the server on the same file: it opens (recovering the WAL) and serves
start_server t.db serve6.log || not_ok "server restarts after kill -9"
check_eq "after kill -9: serves" "$(req GET /v1/customers/c1 "$ADMIN")" 200
stop_server
count t.db "SELECT ext_id FROM events WHERE ext_id LIKE 'k%'" | sort >stored.txt
check_eq "after kill -9: every acknowledged event is stored" "$(comm -23 acked.txt stored.txt | wc -l | tr -d ' ')" 0
check_eq "after kill -9: integrity_check" "$(count t.db 'PRAGMA integrity_check')" ok
check_eq "journal mode is WAL" "$(count t.db 'PRAGMA journal_mode')" wal
