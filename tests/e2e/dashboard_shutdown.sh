#!/bin/sh
# dashboard_shutdown.sh -- SIGTERM while the dashboard's warming thread is in
# an analysis: the server stops accepting, cancels the analysis (its reads of
# the store fail at once, "cancelled"; nothing it made is kept), commits and
# exits 0 within seconds -- it used to wait for the analysis to end (minutes
# on 1,000,000 customers).  The store's integrity_check is ok, no value of the
# cancelled analysis is kept, and a restart serves the pages with figures.
# Under ASan/LSan the exit is clean (a leak fails the exit status).
. "$REPO/tests/e2e/lib.sh"
# a store whose cold round takes seconds (more under ASan)
N=${TN_SHUTDOWN_CUSTOMERS:-6000}
check "demo of $N customers" $TENURE --db d.db demo --customers "$N"
check "admin key" sh -c "$TENURE --db d.db keys create --scope admin >admin.key"
KEY=$(cat admin.key)

# pages answer at once (no wait budget): the warming goes on in the background
export TENURE_WEB_WAIT_MS=0
login() { curl -s -o /dev/null -D login.hdr --data-urlencode "key=$KEY" "$U/login"; sed -n 's/^Set-Cookie: \(tn_session=[0-9a-f]*\);.*/\1/p' login.hdr | tr -d '\r'; }
# The SIGTERM must land while the thread is inside an analysis.  Between two
# analyses (keeping the last value: a commit) there is nothing to cancel and
# the thread just stops, so an attempt that lands there is tried again on the
# same store (its kept values skip ahead: the thread is then in a later
# analysis).  Every attempt must exit 0 within the bound.
for attempt in 1 2 3; do
  if ! start_server d.db serve.log; then
    not_ok "server starts (attempt $attempt)"; exit 0
  fi
  ok "server starts ($PORT, attempt $attempt)"
  U="http://127.0.0.1:$PORT"
  C=$(login)
  check_eq "signed in" "$(printf %s "$C" | grep -c '^tn_session=')" 1
  # the first page starts the warming thread
  check_eq "overview while cold" "$(curl -s -o page.html -w '%{http_code}' -H "Cookie: $C" "$U/")" 200
  check_contains "overview says being computed" page.html 'data-state="computing"'
  # wait until the first analysis is done: the thread is then in the next one
  for _ in $(seq 1 1200); do
    grep -q ' computed in ' serve.log && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  check_contains "the warming thread computed a first value" serve.log ' computed in '
  t0=$(date +%s.%N)
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"; rc=$?
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  check_eq "SIGTERM during the warming: exit 0" "$rc" 0
  check_contains "SIGTERM: said so" serve.log "finishing the requests in flight"
  check_contains "SIGTERM: stopped" serve.log "tenure serve: stopped"
  # ~2 s asked; a loaded machine (and ASan) get a margin
  if awk -v t="$took" 'BEGIN { exit !(t < 5) }'; then ok "SIGTERM: exit within 5 s ($took s)"; else not_ok "SIGTERM: exit within 5 s" "took $took s" "$(tail -5 serve.log)"; fi
  grep -q "cancelled after" serve.log && break
  cp serve.log "serve-between-$attempt.log"
done
check_contains "SIGTERM: the analysis in progress was cancelled" serve.log "cancelled after"
check_eq "integrity_check after the shutdown" "$(sqlite3 d.db 'PRAGMA integrity_check')" ok
# the cancelled values are not kept (their key "kind|arg|format"; two
# warming threads: one or both were in an analysis)
for CANCELLED in $(sed -n 's/^tenure serve: dashboard \([^ ]*\) cancelled after.*/\1/p' serve.log); do
  check_eq "the cancelled value ($CANCELLED) is not kept" \
    "$(sqlite3 d.db "SELECT count(*) FROM dashboard_cache WHERE key LIKE '$CANCELLED|%'")" 0
done
check_eq "no failed computation logged" "$(grep -c 'failed: ' serve.log)" 0

# a restart serves the pages with figures (the kept ones at once, the rest computed)
export TENURE_WEB_WAIT_MS=120000
if ! start_server d.db serve2.log; then
  not_ok "server restarts"; exit 0
fi
ok "server restarts"
U="http://127.0.0.1:$PORT"
C=$(login)
for p in / /when /why /who /act /alerts; do
  code=$(curl -s -o page.html -w '%{http_code}' -H "Cookie: $C" "$U$p")
  check_eq "restart: $p answers" "$code" 200
  if grep -q 'data-state="computing"' page.html; then not_ok "restart: $p shows its figures"; else ok "restart: $p shows its figures"; fi
done
stop_server; rc=$?
check_eq "second SIGTERM: exit 0" "$rc" 0
check_eq "integrity_check at the end" "$(sqlite3 d.db 'PRAGMA integrity_check')" ok
