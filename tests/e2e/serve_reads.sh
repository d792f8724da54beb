#!/bin/sh
# serve_reads.sh -- GET /v1/customers/{id} and its read cache (readcache.c):
# a kept answer is the very answer a fresh read gives (a second server with
# --read-cache 0 is the reference), and it is dropped by a commit of the
# server's own writer, by a commit of another process (sqlite3, tenure
# import), and when "days_as_customer" steps; events the writer commits
# bring the kept answer up to date (last_event_at, milestones) before they
# are acknowledged, so a read after an acknowledged POST sees them.  Also: the write routes refuse
# \u0000 in a string, naming the item and the field.
. "$REPO/tests/e2e/lib.sh"

get() { # get PORT ID -> the body on stdout
  curl -s -H "Authorization: Bearer $READ" "http://127.0.0.1:$1/v1/customers/$2"
}
post() { # post PATH BODY -> status; the body in resp.json
  curl -s -o resp.json -w '%{http_code}' -H "Authorization: Bearer $INGEST" -H 'Content-Type: application/json' \
    --data-binary "$2" "http://127.0.0.1:$PORT$1"
}
metric() { curl -s -H "Authorization: Bearer $READ" "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# same ID: the cached server's answer equals the uncached one's
same() {
  get "$PORT" "$2" >a.json; get "$REF" "$2" >b.json
  if cmp -s a.json b.json && [ -s a.json ]; then ok "$1"; else not_ok "$1" "cached: $(cat a.json)" "fresh:  $(cat b.json)"; fi
}

check "keys" sh -c "$TENURE --db t.db keys create --scope read >read.key 2>/dev/null &&
  $TENURE --db t.db keys create --scope ingest >ingest.key 2>/dev/null"
READ=$(cat read.key); INGEST=$(cat ingest.key)
check "journey map" checked $TENURE --db t.db journey map first_value feature_used
if ! start_server t.db serve.log; then not_ok "server starts" "$(cat serve.log)"; exit 1; fi
MAIN_PID=$SERVER_PID; MAIN_PORT=$PORT
if ! start_server t.db ref.log --read-cache 0; then not_ok "reference server starts" "$(cat ref.log)"; exit 1; fi
REF=$PORT; REF_PID=$SERVER_PID
PORT=$MAIN_PORT; SERVER_PID=$MAIN_PID
check_eq "POST customers" "$(post /v1/customers '[{"id":"c1","signed_up_at":"2024-01-05","country":"SA"}]')" 200

same "first read equals the uncached read" c1
H0=$(metric tenure_read_cache_hits_total)
same "second read equals the uncached read" c1
check_eq "second read came from the cache" "$(($(metric tenure_read_cache_hits_total) - H0))" 1

# the server's own writer
check_eq "POST subscriptions" "$(post /v1/subscriptions '[{"id":"s1","customer":"c1","plan":"pro","billing_period":"month","price":30,"currency":"USD","started_at":"2024-01-05"}]')" 200
get "$PORT" c1 >a.json
check_contains "after a write: the new subscription" a.json '"id":"s1"'
same "after a write: equals the uncached read" c1
check_eq "POST events" "$(post /v1/events '[{"customer":"c1","occurred_at":"2024-03-01T10:00:00Z","type":"session","id":"e1"}]')" 200
get "$PORT" c1 >a.json
check_contains "after events: last_event_at" a.json '"last_event_at":"2024-03-01T10:00:00Z"'
same "after events: equals the uncached read" c1

# a POST of events drops only its customers' answers (the fast path's
# customers are known to the writer); other answers stay kept
check_eq "POST customer c3" "$(post /v1/customers '[{"id":"c3","signed_up_at":"2024-01-05"}]')" 200
get "$PORT" c1 >/dev/null; get "$PORT" c3 >/dev/null
check_eq "POST events for c3" "$(post /v1/events '[{"customer":"c3","occurred_at":"2024-03-02T10:00:00Z","type":"session","id":"e3"}]')" 200
H0=$(metric tenure_read_cache_hits_total)
same "c1 after c3's events: equals the uncached read" c1
check_eq "c1 after c3's events: still from the cache" "$(($(metric tenure_read_cache_hits_total) - H0))" 1
H0=$(metric tenure_read_cache_hits_total)
get "$PORT" c3 >a.json
check_contains "c3 after its events: the new last_event_at" a.json '"last_event_at":"2024-03-02T10:00:00Z"'
check_eq "c3 after its events: brought up to date in the cache" "$(($(metric tenure_read_cache_hits_total) - H0))" 1
same "c3 after its events: equals the uncached read" c3
# acknowledged events, each read straight after: later and earlier times,
# the milestone's type (first_value: its first time), repeats, two customers
# in one request; the kept answer is the fresh one every time
i=0; bad=0; hits0=$(metric tenure_read_cache_hits_total)
for ev in "c3 2024-03-05T00:00:00Z session" "c3 2024-02-01T00:00:00Z session" "c3 2024-04-01T00:00:00Z feature_used" \
  "c3 2024-03-20T00:00:00Z feature_used" "c3 2024-04-02T00:00:00Z feature_used" "c1 2024-05-01T00:00:00Z feature_used" \
  "c3 2024-03-20T00:00:00Z feature_used"; do
  set -- $ev; i=$((i + 1))
  st=$(post /v1/events "[{\"customer\":\"$1\",\"occurred_at\":\"$2\",\"type\":\"$3\",\"id\":\"p$i\"},{\"customer\":\"c1\",\"occurred_at\":\"2024-01-0${i}T00:00:00Z\",\"type\":\"session\",\"id\":\"q$i\"}]")
  [ "$st" = 200 ] || bad=$((bad + 1))
  for c in c1 c3; do
    get "$PORT" $c >a.json; get "$REF" $c >b.json
    cmp -s a.json b.json || { bad=$((bad + 1)); echo "# after event $i, $c: cached $(cat a.json)"; echo "#   fresh $(cat b.json)"; }
  done
done
check_eq "events read back straight after their acknowledgement: all fresh" "$bad" 0
check_eq "those reads came from the cache" "$(($(metric tenure_read_cache_hits_total) - hits0 >= 10))" 1
get "$PORT" c3 >a.json
check_contains "c3's first_value is its first feature_used" a.json '"milestone":"first_value","event_type":"feature_used","reached_at":"2024-03-20T00:00:00Z"'
check_contains "c3's last event" a.json '"last_event_at":"2024-04-02T00:00:00Z"'
sleep 1.5 # the idle fold of the journal: no answer changes, none is dropped
H0=$(metric tenure_read_cache_hits_total)
same "c3 after the fold: equals the uncached read" c3
check_eq "c3 after the fold: still from the cache" "$(($(metric tenure_read_cache_hits_total) - H0))" 1
check_eq "the fold ran" "$(($(metric tenure_journal_folds_total) > 0))" 1

# another process: sqlite3 and the CLI
get "$PORT" c1 >/dev/null
sqlite3 t.db "PRAGMA busy_timeout = 5000; UPDATE customers SET country = 'IR' WHERE ext_id = 'c1'"
get "$PORT" c1 >a.json
check_contains "after sqlite3's commit: the new country" a.json '"country":"IR"'
same "after sqlite3's commit: equals the uncached read" c1
printf 'id,customer,plan,billing_period,price,currency,started_at\ns9,c1,max,month,50,USD,2024-02-01\n' >subs.csv
get "$PORT" c1 >/dev/null
check "tenure import while serving" checked $TENURE --db t.db --quiet import subscriptions subs.csv
get "$PORT" c1 >a.json
check_contains "after tenure import: the new subscription" a.json '"id":"s9"'
same "after tenure import: equals the uncached read" c1

# the clock: days_as_customer steps with no commit at all (a customer whose
# first day ends 30 s from now -- a POST and two reads took over 6 s on a loaded
# machine; read twice, the second from the cache)
STEP=$(($(date +%s) + 30))
SOON=$(date -u -d "@$((STEP - 86400))" +%Y-%m-%dT%H:%M:%SZ)
check_eq "POST a customer near a day's end" "$(post /v1/customers "[{\"id\":\"c2\",\"signed_up_at\":\"$SOON\"}]")" 200
get "$PORT" c2 >/dev/null
get "$PORT" c2 >a.json
check_contains "days_as_customer before the step" a.json '"days_as_customer":0'
sleep $((STEP - $(date +%s) + 1))
get "$PORT" c2 >a.json
check_contains "days_as_customer after the step (no commit)" a.json '"days_as_customer":1'
same "after the step: equals the uncached read" c2

check_eq "unknown customer 404" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READ" "http://127.0.0.1:$PORT/v1/customers/nobody")" 404
B=$(metric tenure_read_cache_bytes)
check_eq "the cache holds what it kept" "$([ "$B" -gt 0 ] && echo yes)" yes

# ---- \u0000 in a JSON string is refused on every write route ----
for route in customers events; do
  case $route in
  customers) body='[{"id":"c5"},{"id":"c6","country":"S\u0000A"}]'; field=country ;;
  events) body='[{"customer":"c1","occurred_at":"2024-03-01","type":"se\u0000ssion"}]'; field=type ;;
  esac
  st=$(post /v1/$route "$body")
  check_eq "$route: \\u0000 refused" "$st" 422
  check_contains "$route: \\u0000: the field" resp.json "\"field\":\"$field\""
  check_contains "$route: \\u0000: the message" resp.json 'expected text without NUL characters'
done
check_eq "\\u0000: nothing written" "$(sqlite3 t.db "SELECT count(*) FROM customers WHERE ext_id IN ('c5', 'c6')")" 0
check_eq "\\u0000 in a key refused" "$(post /v1/customers '[{"id":"c7","x\u0000":"1"}]')" 422

# ---- a 422 takes back the customers its request added, and only those ----
check_eq "422: a new customer and a bad one" "$(post /v1/customers '[{"id":"n1"},{"id":"n2","signed_up_at":"not a date"}]')" 422
check_eq "422: the new customer is not stored" "$(sqlite3 t.db "SELECT count(*) FROM customers WHERE ext_id = 'n1'")" 0
check_eq "events for the taken-back customer: 422" "$(post /v1/events '[{"customer":"n1","occurred_at":"2024-03-01","type":"x1"}]')" 422
check_contains "events for the taken-back customer: named" resp.json 'customer \"n1\" is not in the store'
check_eq "events for a known customer still 200" "$(post /v1/events '[{"customer":"c1","occurred_at":"2024-03-05","type":"x2","id":"k1"}]')" 200
check_eq "the customer sent again: added" "$(post /v1/customers '[{"id":"n1"}]')" 200
check_eq "the customer sent again: counts" "$(cat resp.json)" '{"added":1,"updated":0,"unchanged":0}'
check_eq "its events now: 200" "$(post /v1/events '[{"customer":"n1","occurred_at":"2024-03-01","type":"x1","id":"k2"}]')" 200
# (the server's writes sit in the events journal until it folds them: count both)
check_eq "its events stored under its key" "$(sqlite3 t.db "SELECT (SELECT count(*) FROM events e JOIN customers c ON c.id = e.customer_id WHERE c.ext_id = 'n1') + (SELECT count(*) FROM events_journal e JOIN customers c ON c.id = e.customer_id WHERE c.ext_id = 'n1')")" 1

kill -TERM "$REF_PID" 2>/dev/null; wait "$REF_PID"
stop_server
check_eq "graceful stop" "$?" 0

# ---- a small cache stays within its budget ----
if ! start_server t.db small.log --read-cache 2k; then not_ok "small cache server" "$(cat small.log)"; exit 1; fi
for i in 1 2 3 4 5 6; do get "$PORT" c1 >/dev/null; get "$PORT" c2 >/dev/null; done
B=$(metric tenure_read_cache_bytes)
check_eq "--read-cache 2k: at most 2048 bytes kept" "$([ "$B" -le 2048 ] && echo yes)" yes
stop_server
