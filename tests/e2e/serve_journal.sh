#!/bin/sh
# serve_journal.sh -- the events journal of `tenure serve` (docs/data-model.md,
# "The events journal") end to end: events POSTed are appended to
# events_journal, not the events table; GET /v1/customers/{id} sees them at
# once; a CLI command in another process sees them (it folds the journal
# when it opens the store); a re-send is unchanged whether the event sits in
# the journal or the table; a kill -9 between commit and fold loses nothing
# (the restarted server folds); a graceful stop folds; --fold-rows folds
# while the server runs.
. "$REPO/tests/e2e/lib.sh"

req() { # METHOD PATH KEY [BODY]: prints the status; the body is in resp.json
  set -- -s -o resp.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" ${4:+--data-binary "$4"} \
    "http://127.0.0.1:$PORT$2"
  curl "$@"
}
q() { sqlite3 j.db "$1"; }
events() { # N FROM customer ID_PREFIX: a JSON array of N events, one a minute from 2024-07-01
  i=0; b="["
  while [ "$i" -lt "$1" ]; do
    [ "$i" -gt 0 ] && b="$b,"
    b="$b{\"customer\":\"$3\",\"occurred_at\":$((1719792000 + 60 * ($2 + i))),\"type\":\"session\",\"id\":\"$4$((i + $2))\"}"
    i=$((i + 1))
  done
  printf '%s]' "$b"
}

INGEST=$($TENURE --db j.db keys create --scope ingest)
READ=$($TENURE --db j.db keys create --scope read)
check "schema version has the journal" test "$(q 'PRAGMA user_version')" -ge 12

# no idle fold: the journal stays until a command, --fold-rows or the stop folds it
start_server j.db serve1.log --fold-idle 0 || not_ok "server starts"
check_eq "customers" "$(req POST /v1/customers "$INGEST" '[{"id":"c1"},{"id":"c2"}]')" 200
check_eq "50 events" "$(req POST /v1/events "$INGEST" "$(events 50 0 c1 e)")" 200
check_eq "50 events: added" "$(jq -c . resp.json)" '{"added":50,"updated":0,"unchanged":0}'
check_eq "in the journal" "$(q 'SELECT count(*) FROM events_journal')" 50
check_eq "not in the table yet" "$(q 'SELECT count(*) FROM events')" 0
check_eq "GET customer" "$(req GET /v1/customers/c1 "$READ")" 200
check_eq "GET customer: the newest journaled event" "$(jq -r .last_event_at resp.json)" 2024-07-01T00:49:00Z
check_eq "re-send from the journal: unchanged" "$(req POST /v1/events "$INGEST" "$(events 50 0 c1 e)")" 200
check_eq "re-send from the journal: counts" "$(jq -c . resp.json)" '{"added":0,"updated":0,"unchanged":50}'
check_eq "still 50 journaled" "$(q 'SELECT count(*) FROM events_journal')" 50

# a CLI command in another process sees them: it folds the journal first
$TENURE --db j.db schema --format json >schema.json
check_eq "CLI sees the journaled events" "$(jq -r '.[] | select(.item == "events") | .value' schema.json)" 50
check_eq "CLI folded the journal" "$(q 'SELECT count(*) FROM events_journal')" 0
check_eq "CLI folded into the table" "$(q 'SELECT count(*) FROM events')" 50
# re-send after the fold: found in the table
check_eq "re-send from the table: counts" \
  "$(req POST /v1/events "$INGEST" "$(events 60 0 c1 e)" >/dev/null; jq -c . resp.json)" \
  '{"added":10,"updated":0,"unchanged":50}'
check_eq "the 10 new ones journaled" "$(q 'SELECT count(*) FROM events_journal')" 10
check_eq "GET customer after the fold: newest" "$(req GET /v1/customers/c1 "$READ")" 200
check_eq "GET customer after the fold: newest event" "$(jq -r .last_event_at resp.json)" 2024-07-01T00:59:00Z

# kill -9 with events in the journal: the restarted server folds them
check_eq "events for c2" "$(req POST /v1/events "$INGEST" "$(events 7 0 c2 k)")" 200
check_eq "journal before the kill" "$(q 'SELECT count(*) FROM events_journal')" 17
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
check_eq "after kill -9: the events wait in the journal" "$(q 'SELECT count(*) FROM events_journal')" 17
start_server j.db serve2.log --fold-idle 0 || not_ok "server restarts after kill -9"
check_eq "restart folded the journal" "$(q 'SELECT count(*) FROM events_journal')" 0
check_eq "restart: every event in the table" "$(q 'SELECT count(*) FROM events')" 67
check_eq "restart: integrity_check" "$(q 'PRAGMA integrity_check')" ok

# a graceful stop folds
check_eq "3 more" "$(req POST /v1/events "$INGEST" "$(events 3 100 c2 k)")" 200
check_eq "3 journaled" "$(q 'SELECT count(*) FROM events_journal')" 3
stop_server
check_eq "stop folded the journal" "$(q 'SELECT count(*) FROM events_journal')" 0
check_eq "stop: every event in the table" "$(q 'SELECT count(*) FROM events')" 70

# --fold-rows: the writer folds while serving; an idle fold too.  The
# writer folds after it has answered the group, so each check waits for its
# fold (10 s at most: a loaded machine under ASan); the first server has no
# idle fold, so only --fold-rows can have folded there.
wait_q() { # SQL WANT: the query's value once it is WANT, or its last after 10 s
  for _ in $(seq 1 100); do [ "$(q "$1")" = "$2" ] && break; sleep 0.1; done
  q "$1"
}
start_server j.db serve3.log --fold-rows 20 --fold-idle 0 || not_ok "server with --fold-rows"
check_eq "25 events" "$(req POST /v1/events "$INGEST" "$(events 25 200 c2 f)")" 200
check_eq "--fold-rows: folded at 25 >= 20 rows" "$(wait_q 'SELECT count(*) FROM events' 95)" 95
check "metrics count the --fold-rows fold" sh -c "curl -s -H 'Authorization: Bearer $READ' http://127.0.0.1:$PORT/metrics |
  awk '/^tenure_journal_folds_total/ {exit !(\$2 >= 1)}'"
stop_server
start_server j.db serve3b.log --fold-rows 20 --fold-idle 0.2 || not_ok "server with --fold-idle"
check_eq "5 events" "$(req POST /v1/events "$INGEST" "$(events 5 300 c2 f)")" 200
check_eq "--fold-idle: folded after 0.2 s without writes" "$(wait_q 'SELECT count(*) FROM events_journal' 0)" 0
check_eq "--fold-idle: in the table" "$(q 'SELECT count(*) FROM events')" 100
check "metrics count the idle fold" sh -c "curl -s -H 'Authorization: Bearer $READ' http://127.0.0.1:$PORT/metrics |
  awk '/^tenure_journal_folds_total/ {exit !(\$2 >= 1)}'"
stop_server
check_fails "--fold-rows 0 refused" $TENURE --db j.db serve --fold-rows 0
check_fails "--fold-idle -1 refused" $TENURE --db j.db serve --fold-idle -1
