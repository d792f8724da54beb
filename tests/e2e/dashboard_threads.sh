#!/bin/sh
# dashboard_threads.sh -- the dashboard's two warming threads (session 27)
# give the same values as one: a cold round with TENURE_WEB_THREADS=1 and
# one with two threads on copies of the same store keep byte-identical rows
# in dashboard_cache.  Each value belongs to one thread (web_lane); a value
# that reads what another value writes must be on that value's thread (the
# exit reasons read the text answers' labels the insights write on a first
# start: on the other thread they were computed before the labels existed,
# and this test failed).  Both threads compute, and the server says when the
# round is done.
. "$REPO/tests/e2e/lib.sh"
check "demo" $TENURE --db d.db demo --customers 1500 --months 8
check "alerts raised" $TENURE --db d.db alerts
check "admin key" sh -c "$TENURE --db d.db keys create --scope admin >admin.key"
KEY=$(cat admin.key)
export TENURE_WEB_WAIT_MS=0
# round THREADS TAG: a cold round on a copy of the store; its kept rows in kept.TAG
round() {
  cp d.db "r$2.db" && sqlite3 "r$2.db" "DELETE FROM dashboard_cache"
  if ! TENURE_WEB_THREADS=$1 start_server "r$2.db" "serve.$2"; then
    not_ok "server starts ($1 thread(s))"; return 1
  fi
  U="http://127.0.0.1:$PORT"
  C=$(curl -s -o /dev/null -D - --data-urlencode "key=$KEY" "$U/login" | sed -n 's/^Set-Cookie: \(tn_session=[0-9a-f]*\);.*/\1/p' | tr -d '\r')
  check_eq "overview while cold ($1 thread(s))" "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $C" "$U/")" 200
  for _ in $(seq 1 3000); do grep -q 'dashboard round done' "serve.$2" && break; sleep 0.1; done
  check_contains "the round ends ($1 thread(s))" "serve.$2" "dashboard round done: every value is current ($1 warming thread"
  stop_server
  check_eq "no failed computation ($1 thread(s))" "$(grep -c 'failed: ' "serve.$2")" 0
  sqlite3 "r$2.db" "SELECT key || ' ' || version || ' ' || hex(value) FROM dashboard_cache ORDER BY key" >"kept.$2"
}
round 1 one
round 2 two
nkept=$(wc -l <kept.one | tr -d ' ')
check "one thread kept the round's values ($nkept rows)" test "$nkept" -ge 20
check_eq "two threads kept as many" "$(wc -l <kept.two | tr -d ' ')" "$nkept"
if cmp -s kept.one kept.two; then ok "two threads: the kept values are byte-identical to one thread's"
else not_ok "two threads: the kept values are byte-identical to one thread's" "$(diff kept.one kept.two | cut -c1-160 | head -6)"; fi
check_contains "one thread: no thread named in its lines" serve.one "dashboard insights| computed"
check_eq "one thread: no [thread N]" "$(grep -c '\[thread ' serve.one)" 0
check "two threads: the insights on the second" grep -q 'dashboard insights| computed in .*\[thread 2\]' serve.two
check "two threads: the exit reasons after them, on the same" grep -q 'dashboard exit| computed in .*\[thread 2\]' serve.two
check "two threads: the summary and actions on the first" sh -c "grep -q 'dashboard summary| computed in .*\[thread 1\]' serve.two && grep -q 'dashboard actions| computed in .*\[thread 1\]' serve.two"
check_eq "the exit reasons come after the insights" \
  "$(grep -n 'dashboard \(insights\|exit\)| computed' serve.two | cut -d' ' -f4 | tr '\n' ' ')" "insights| exit| "
