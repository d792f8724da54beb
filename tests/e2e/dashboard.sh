#!/bin/sh
# dashboard.sh -- the dashboard's front door with curl, against the real
# `tenure serve` on a free port: signed out every page leads to /login; sign
# in with a read, admin or ingest key; the session cookie's flags; security
# headers; the pages answer 200 in three languages with <html lang dir>;
# language, digits and calendar remembered in cookies; CSV downloads; the
# CSRF check refuses a form without its token; acknowledging needs an admin
# key; sessions survive a restart (the store keeps the token's SHA-256);
# sign-out ends the session; a revoked key ends its sessions; assets
# are embedded; page data cached (Server-Timing) and refreshed when data arrive;
# a page never computes: with no wait budget its first view says "being
# computed" at once, and the background thread's figures follow.
. "$REPO/tests/e2e/lib.sh"
# pages wait for the background computation (the checks below read figures)
export TENURE_WEB_WAIT_MS=120000

check "small demo" $TENURE --db d.db demo --customers 400 --months 8
check "alerts raised" $TENURE --db d.db alerts
check "keys" sh -c "$TENURE --db d.db keys create --scope admin >admin.key && $TENURE --db d.db keys create --scope read >read.key && $TENURE --db d.db keys create --scope ingest >ingest.key && $TENURE --db d.db keys create --scope read >gone.key"
ADMIN=$(cat admin.key); READ=$(cat read.key); INGEST=$(cat ingest.key); GONE=$(cat gone.key)

$TENURE_BIN --db d.db serve --listen 127.0.0.1:0 2>serve.log &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 300); do
  PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9][0-9]*\)$|\1|p' serve.log)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  not_ok "server starts" "$(cat serve.log)"; exit 0
fi
ok "server starts ($PORT)"
U="http://127.0.0.1:$PORT"
# get PATH [CURL OPTIONS...]: the status; body in body.out, headers in hdr.out
get() { p=$1; shift; curl -s -o body.out -D hdr.out -w '%{http_code}' "$@" "$U$p"; }
# login KEY: the session cookie's value ("" when refused)
login() { curl -s -o /dev/null -D login.hdr --data-urlencode "key=$1" "$U/login"; sed -n 's/^Set-Cookie: tn_session=\([0-9a-f]*\);.*/\1/p' login.hdr | tr -d '\r'; }

# ---- signed out ----
for p in / /when /why /who /act /alerts /customers/C000001; do
  check_eq "signed out: GET $p redirects" "$(get "$p")" 303
  check_contains "signed out: GET $p goes to /login" hdr.out "Location: /login"
done
check_eq "GET /login" "$(get /login)" 200
check_contains "the sign-in form has a field named key" body.out 'name="key"'
check_eq "an unknown path is still the API's 404" "$(get /nowhere)" 404
check_contains "404 is JSON" body.out '"not_found"'
check_eq "the API still needs its bearer key" "$(get /v1/summary)" 401

# ---- sign in ----
check_eq "wrong key refused" "$(curl -s -o body.out -w '%{http_code}' --data-urlencode "key=tn_$(printf '%064d' 0)" "$U/login")" 401
check_eq "no key refused" "$(curl -s -o body.out -w '%{http_code}' -d "other=1" "$U/login")" 400
check_eq "ingest key refused (403)" "$(curl -s -o body.out -w '%{http_code}' --data-urlencode "key=$INGEST" "$U/login")" 403
S=$(login "$ADMIN")
check_eq "admin key signs in (a 64-hex session)" "$(printf %s "$S" | grep -cE '^[0-9a-f]{64}$')" 1
check_contains "cookie: HttpOnly" login.hdr "HttpOnly"
check_contains "cookie: SameSite=Strict" login.hdr "SameSite=Strict"
check_contains "cookie: with an expiry" login.hdr "Max-Age=28800"
check_contains "cookie: Path=/" login.hdr "Path=/"
check_contains "sign-in redirects to the overview" login.hdr "Location: /"
R=$(login "$READ")
check_eq "read key signs in" "$(printf %s "$R" | wc -c | tr -d ' ')" 64
check_eq "garbage cookie is no session" "$(get / -H "Cookie: tn_session=$(printf '%064d' 7)")" 303

# ---- pages ----
for lang in en ar fa; do
  for p in / /when /why /who /act /alerts /customers/C000001; do
    check_eq "GET $p?lang=$lang" "$(get "$p?lang=$lang" -H "Cookie: tn_session=$S")" 200
    dir=rtl; [ "$lang" = en ] && dir=ltr
    check_contains "$p in $lang: <html lang dir>" body.out "<html lang=\"$lang\" dir=\"$dir\">"
  done
done
get / -H "Cookie: tn_session=$S" >/dev/null
check_contains "security headers: CSP" hdr.out "Content-Security-Policy: default-src 'none'"
check_contains "security headers: nosniff" hdr.out "X-Content-Type-Options: nosniff"
check_contains "pages are not cached by the browser" hdr.out "Cache-Control: no-store"
check_contains "the overview has data-metric figures" body.out 'data-metric="churn_rate_month_pct"'
check_contains "no reference beyond the server" body.out 'href="/assets/app.css"'
if grep -qE '(src|href)="(https?:)?//' body.out; then not_ok "nothing loaded from the network" "$(grep -oE '(src|href)="(https?:)?//[^"]*' body.out | head -3)"; else ok "nothing loaded from the network"; fi
check_eq "language remembered: Set-Cookie tn_lang" "$(get '/?lang=fa' -H "Cookie: tn_session=$S" >/dev/null; grep -c 'Set-Cookie: tn_lang=fa' hdr.out)" 1
check_eq "remembered language used" "$(get / -H "Cookie: tn_session=$S; tn_lang=ar" >/dev/null; grep -c '<html lang="ar" dir="rtl">' body.out)" 1
get '/?lang=fa&digits=native' -H "Cookie: tn_session=$S" >/dev/null
check_contains "Persian digits on request" body.out "۰"
get '/?lang=fa&cal=solar&digits=latin' -H "Cookie: tn_session=$S" >/dev/null
check_contains "Solar Hijri dates on request" body.out "تا پایان 140"
check_eq "assets are embedded: app.css" "$(get /assets/app.css)" 200
check_contains "app.css is CSS" hdr.out "Content-Type: text/css"
check_eq "assets are embedded: app.js" "$(get /assets/app.js)" 200
check_eq "no such asset" "$(get /assets/nope.js)" 404
check_eq "CSV of a page" "$(get '/who?format=csv' -H "Cookie: tn_session=$S")" 200
check_contains "CSV: text/csv" hdr.out "Content-Type: text/csv"
check_contains "CSV: attachment" hdr.out "Content-Disposition: attachment"
check_contains "CSV: the at-risk table" body.out "customer"
check_eq "CSV of the overview" "$(get '/?format=csv' -H "Cookie: tn_session=$S")" 200
check_contains "CSV: the headline figures" body.out "churn_rate_month_pct,"
check_eq "a filter in the URL" "$(get '/?period=quarter&plan=monthly' -H "Cookie: tn_session=$S")" 200
check_contains "the filter is kept in the links" body.out 'href="/when?period=quarter&amp;plan=monthly"'
check_eq "an unknown customer" "$(get /customers/nobody -H "Cookie: tn_session=$S")" 200
check_contains "an unknown customer says so" body.out "Not found."

# the value model's thread and the warming threads (started by the pages
# above) yield the cores to the requests (docs/dashboard.md, "The warming and
# the CPU priority")
check_background_nice "the value model's and the warming threads at nice +10, the others unchanged" "$SERVER_PID" tn-value tn-warm1 tn-warm2

# ---- cached, refreshed when data arrive ----
get /who -H "Cookie: tn_session=$S" >/dev/null
t=$(sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' hdr.out | tr -d '\r')
# 100 ms is the target (release build); the sanitizer build runs several times slower
LIMIT=100
case "$TENURE_BIN" in *asan*) LIMIT=500 ;; esac
check "a cached page is served in under $LIMIT ms of server time ($t ms)" awk -v t="$t" -v l="$LIMIT" 'BEGIN { exit !(t != "" && t < l) }'
n1=$(grep -o 'data-metric="customers" data-value="[0-9]*"' body.out; get / -H "Cookie: tn_session=$S" >/dev/null; grep -o 'data-metric="customers" data-value="[0-9]*"' body.out)
check_eq "ingest one customer" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data-binary '[{"id":"NEW-1","signed_up_at":"2026-01-01T00:00:00Z"}]' "$U/v1/customers")" 200
n1=$(printf %s "$n1" | sed 's/.*value="//; s/"//')
# the warming thread recomputes in the background; pages show the previous values meanwhile
for _ in $(seq 1 120); do
  get / -H "Cookie: tn_session=$S" >/dev/null
  n2=$(grep -o 'data-metric="customers" data-value="[0-9]*"' body.out | sed 's/.*value="//; s/"//')
  [ "$n2" = "$((n1 + 1))" ] && break
  sleep 0.5
done
check_eq "the overview refreshes when data arrive" "$n2" "$((n1 + 1))"
# and the rest of that round: the insights (thread 2) recomputed, then "round
# done" after the last computation.  The counts below and the restart that
# recomputes nothing need it finished: on a loaded machine it can end later
# than the overview's refresh, so wait for it (at most 300 s) rather than
# assume it
for _ in $(seq 1 1200); do
  done_at=$(grep -n 'dashboard round done' serve.log | tail -1 | cut -d: -f1)
  last_at=$(grep -n 'dashboard .* computed in' serve.log | tail -1 | cut -d: -f1)
  [ "$(grep -c 'dashboard insights| computed' serve.log)" -ge 2 ] && [ -n "$done_at" ] && [ "$done_at" -gt "${last_at:-0}" ] && break
  sleep 0.25
done
check "the round after the ingest ends (round done after the insights' second computation)" \
  sh -c "[ $(grep -c 'dashboard insights| computed' serve.log) -ge 2 ] && [ ${done_at:-0} -gt ${last_at:-0} ]"

# ---- CSRF, admin, acknowledge ----
get /alerts -H "Cookie: tn_session=$S" >/dev/null
ID=$(grep -o 'action="/alerts/[0-9]*/ack"' body.out | head -1 | sed 's/[^0-9]//g')
ID2=$(grep -o 'action="/alerts/[0-9]*/ack"' body.out | sed -n 2p | sed 's/[^0-9]//g')
TOKEN=$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')
check_eq "the inbox offers acknowledge (a CSRF token in the form)" "$(printf %s "$TOKEN" | wc -c | tr -d ' ')" 64
check_eq "acknowledge without the CSRF token: 403" "$(curl -s -o body.out -w '%{http_code}' -X POST -H "Cookie: tn_session=$S" "$U/alerts/$ID/ack")" 403
check_eq "acknowledge with a wrong token: 403" "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$S" -d "csrf=$(printf '%064d' 1)" "$U/alerts/$ID/ack")" 403
check_eq "another session's token: 403" "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$R" -d "csrf=$TOKEN" "$U/alerts/$ID/ack")" 403
check_eq "still open after the refusals" "$(sqlite3 d.db "SELECT acked_at IS NULL FROM alerts WHERE id = $ID")" 1
get /alerts -H "Cookie: tn_session=$R" >/dev/null
RTOKEN=$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')
check_eq "a read key's inbox has no acknowledge button" "$(grep -c 'class="ack"' body.out)" 0
check_eq "acknowledge with a read key: 403" "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$R" -d "csrf=$RTOKEN" "$U/alerts/$ID/ack")" 403
check_eq "acknowledge with the token: 303 back to the inbox" "$(curl -s -o body.out -D hdr.out -w '%{http_code}' -H "Cookie: tn_session=$S" -d "csrf=$TOKEN" "$U/alerts/$ID/ack")" 303
check_eq "acknowledged in the store" "$(sqlite3 d.db "SELECT acked_at IS NOT NULL FROM alerts WHERE id = $ID")" 1
check_eq "the other alert is still open" "$(sqlite3 d.db "SELECT acked_at IS NULL FROM alerts WHERE id = $ID2")" 1
check_eq "acknowledge an unknown alert: 404" "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$S" -d "csrf=$TOKEN" "$U/alerts/999999/ack")" 404
check_eq "a form without a session: 401" "$(curl -s -o body.out -w '%{http_code}' -d "csrf=$TOKEN" "$U/alerts/$ID2/ack")" 401
check_eq "a large form: 413" "$(head -c 20000 /dev/zero | tr '\0' a | curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$S" --data-binary @- "$U/alerts/$ID2/ack")" 413
check_eq "DELETE on a page: 405" "$(curl -s -o body.out -w '%{http_code}' -X DELETE -H "Cookie: tn_session=$S" "$U/alerts")" 405

# ---- sessions survive a restart; the store holds only the token's SHA-256 ----
check_eq "the store does not hold the session's token" "$(sqlite3 d.db "SELECT count(*) FROM web_sessions WHERE token_hash = '$S'")" 0
check_eq "it holds its SHA-256, with an expiry" \
  "$(sqlite3 d.db "SELECT count(*) FROM web_sessions WHERE token_hash = '$(printf %s "$S" | sha256sum | cut -c1-64)' AND expires_at > strftime('%s','now')")" 1
# the version the figures depend on moves only with the data they read: the
# sign-ins, the feedback labels the insights write and the acknowledgement
# above recomputed nothing; the customer ingested did, once
check_eq "the summary was computed twice: at start and after the ingest" "$(grep -c 'dashboard summary| computed' serve.log)" 2
check_eq "the insights twice (their feedback labels are no data change)" "$(grep -c 'dashboard insights| computed' serve.log)" 2
# /when's survival by every other attribute follows the first (the churn
# frame shared), and is kept
for _ in $(seq 1 600); do grep -q 'dashboard survival|country computed' serve.log && break; sleep 0.1; done
check "survival by another attribute computed after the first" grep -q 'dashboard survival|country computed' serve.log
# the overview's other periods (by plan and source too) are kept ready, no page asking
for _ in $(seq 1 600); do grep -q 'dashboard rates|12|channel computed' serve.log && break; sleep 0.1; done
check "the overview's quarter and year computed ahead" sh -c "grep -q 'dashboard rates|3| computed' serve.log && grep -q 'dashboard rates|12|channel computed' serve.log"
# two warming threads: the rates' thread can end before the insights' one
# (/who, the drivers), so wait for the round's end before reading the store
kept4() { sqlite3 d.db "SELECT count(*) FROM dashboard_cache WHERE (key LIKE 'summary||%' OR key LIKE 'who||%' OR key LIKE 'drivers||%' OR key LIKE 'survival|plan|%') AND key NOT LIKE '%t' AND length(value) > 0"; }
for _ in $(seq 1 600); do [ "$(kept4)" = 4 ] && break; sleep 0.1; done
check_eq "the figures are kept in the store (dashboard_cache)" "$(kept4)" 4
# /who in two rows: the head (the rows a page shows) small, the tail (every
# live customer) apart, read after every head at a restart
check_eq "/who is kept as a head and a tail" "$(sqlite3 d.db "SELECT count(*) FROM dashboard_cache WHERE key IN ('who||4', 'who||4t') AND length(value) > 0")" 2
kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
if start_server d.db serve2.log; then
  U="http://127.0.0.1:$PORT"
  check_eq "after a restart the session is still signed in" "$(get /alerts -H "Cookie: tn_session=$S")" 200
  check_eq "with the same CSRF token" "$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')" "$TOKEN"
else
  not_ok "the server restarts" "$(cat serve2.log)"; exit 0
fi

# ---- sign-out; a revoked key ends its sessions ----
check_eq "sign out without the token: 403" "$(curl -s -o body.out -w '%{http_code}' -X POST -H "Cookie: tn_session=$S" "$U/logout")" 403
check_eq "sign out" "$(curl -s -o body.out -D hdr.out -w '%{http_code}' -H "Cookie: tn_session=$S" -d "csrf=$TOKEN" "$U/logout")" 303
check_contains "sign-out clears the cookie" hdr.out "tn_session=; Path=/; Max-Age=0"
check_eq "the old session is gone" "$(get / -H "Cookie: tn_session=$S")" 303
check_eq "and so is its row in the store" \
  "$(sqlite3 d.db "SELECT count(*) FROM web_sessions WHERE token_hash = '$(printf %s "$S" | sha256sum | cut -c1-64)'")" 0
G=$(login "$GONE")
check_eq "a key signs in" "$(get / -H "Cookie: tn_session=$G")" 200
GID=$($TENURE --db d.db --format json keys list | /usr/bin/python3 -c 'import json,sys; print(max(k["id"] for k in json.load(sys.stdin)))')
check "revoke the key" $TENURE --db d.db keys revoke "$GID"
sleep 1.2
check_eq "its session ends with it" "$(get / -H "Cookie: tn_session=$G")" 303

# ---- a brake on guessing keys ----
set --
for _ in $(seq 1 40); do set -- "$@" -o /dev/null "$U/login"; done
codes=$(curl -s -w '%{http_code}\n' --data-urlencode "key=tn_$(printf '%064d' 3)" "$@" | sort | uniq -c | tr -s ' ')
case "$codes" in *429*) ok "many wrong keys in a second: 429";; *) not_ok "many wrong keys in a second: 429" "$codes";; esac
sleep 1.2
check_eq "a second later a right key signs in" "$(printf %s "$(login "$READ")" | wc -c | tr -d ' ')" 64

kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
check_eq "server stops cleanly" "$?" 0

# ---- a restart serves the kept figures at once, recomputing nothing ----
if TENURE_WEB_WAIT_MS=0 start_server d.db serve4.log; then
  U="http://127.0.0.1:$PORT"
  A=$(login "$ADMIN")
  for p in / /when /why /who /act; do
    check_eq "after a restart, no wait budget: GET $p" "$(get "$p" -H "Cookie: tn_session=$A")" 200
    check_eq "$p is served from the kept figures (not being computed)" "$(grep -c 'data-state="computing"' body.out)" 0
    check_contains "$p says when they were computed" body.out 'class="computed"'
  done
  get /why -H "Cookie: tn_session=$A" >/dev/null
  check_contains "the kept drivers: their hazard ratios" body.out "hazard ratios"
  t=$(sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' hdr.out | tr -d '\r')
  check "in under $LIMIT ms of server time ($t ms)" awk -v t="$t" -v l="$LIMIT" 'BEGIN { exit !(t != "" && t < l) }'
  sleep 2
  check_eq "the data did not change: nothing kept is recomputed" "$(grep -c 'dashboard \(summary\|insights\|drivers\|who\|survival\)|.* computed' serve4.log)" 0
  check "the log says the kept values were loaded" grep -q "dashboard kept values loaded" serve4.log
  check_eq "every tail came with its head" "$(grep -c 'kept without its tail' serve4.log)" 0
  check_eq "after a restart, GET /when?by=country" "$(get '/when?by=country' -H "Cookie: tn_session=$A")" 200
  check_eq "a by= filter is served from the kept figures" "$(grep -c 'data-state="computing"' body.out)" 0
  stop_server
else
  not_ok "the server restarts with its kept figures" "$(cat serve4.log)"
fi

# ---- a head whose tail is lost: served, and recomputed ----
check "lose /who's tail" sqlite3 d.db "DELETE FROM dashboard_cache WHERE key = 'who||4t'"
if TENURE_WEB_WAIT_MS=0 start_server d.db serve5.log; then
  U="http://127.0.0.1:$PORT"
  A=$(login "$ADMIN")
  check_eq "GET /who without the kept tail" "$(get /who -H "Cookie: tn_session=$A")" 200
  check_eq "/who is served from the kept head" "$(grep -c 'data-state="computing"' body.out)" 0
  for _ in $(seq 1 100); do grep -q "kept values loaded" serve5.log && break; sleep 0.1; done
  check "the log says the head came without its tail" grep -q "dashboard who| kept without its tail; recomputing" serve5.log
  stop_server
else
  not_ok "the server restarts without /who's tail" "$(cat serve5.log)"
fi

# ---- no wait budget: a cold page answers at once, "being computed" ----
check "forget the kept figures" sqlite3 d.db "DELETE FROM dashboard_cache"
# nothing is computed while the hold file exists (TENURE_WEB_HOLD): the
# "being computed" checks do not race the background thread
touch hold
if TENURE_WEB_HOLD="$PWD/hold" TENURE_WEB_WAIT_MS=0 start_server d.db serve3.log; then
  U="http://127.0.0.1:$PORT"
  A=$(login "$ADMIN")
  R2=$(login "$READ")
  # a form posted while the figures it needs are computed: 503, nothing done
  get /alerts -H "Cookie: tn_session=$A" >/dev/null
  AT=$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')
  napp=$(sqlite3 d.db "SELECT count(*) FROM offer_plan_approvals")
  check_eq "approve a plan before its figures are computed: 503" \
    "$(curl -s -o body.out -D hdr.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "csrf=$AT&cost=1&accept=0.3&control=0.3" "$U/act/plan/approve")" 503
  check_contains "with Retry-After" hdr.out "Retry-After:"
  check_contains "and a page that says so" body.out "still being computed"
  check_eq "nothing was approved" "$(sqlite3 d.db "SELECT count(*) FROM offer_plan_approvals")" "$napp"
  code=$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$A; tn_lang=fa" -d "csrf=$AT&cost=1&accept=0.3&control=0.3" "$U/act/plan/approve")
  if [ "$code" = 503 ]; then check_contains "the 503 page in Persian" body.out "کاری انجام نشد"; else ok "the 503 page in Persian (figures ready: $code)"; fi
  check_eq "cold /why answers" "$(get /why -H "Cookie: tn_session=$A")" 200
  check_contains "it says its figures are being computed" body.out 'data-state="computing"'
  check_contains "and refreshes by itself" hdr.out "Refresh: 3"
  t=$(sed -n 's/^Server-Timing: page;dur=\([0-9.]*\).*/\1/p' hdr.out | tr -d '\r')
  check "at once: under $LIMIT ms of server time ($t ms)" awk -v t="$t" -v l="$LIMIT" 'BEGIN { exit !(t != "" && t < l) }'
  rm -f hold # the background thread goes on
  for _ in $(seq 1 240); do
    get /why -H "Cookie: tn_session=$A" >/dev/null
    grep -q 'data-state="computing"' body.out || break
    sleep 0.5
  done
  check_contains "then the background thread's figures: the drivers" body.out 'class="computed"'
  check_contains "their hazard ratios" body.out "hazard ratios"
  check "the server logs each computation with its CPU time" grep -q "dashboard drivers| computed in .* s CPU" serve3.log
  # ---- /act: the plan in force, withdrawn with a button ----
  for _ in $(seq 1 240); do
    code=$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "csrf=$AT&cost=1&accept=0.3&control=0.3" "$U/act/plan/approve")
    [ "$code" = 503 ] || break
    sleep 0.5
  done
  check_eq "once the figures are computed the plan is approved" "$code" 303
  # (no wait budget here: /act's record of what was done is recomputed after the approval)
  for _ in $(seq 1 120); do
    get /act -H "Cookie: tn_session=$A" >/dev/null
    grep -q 'data-state="computing"' body.out || break
    sleep 0.5
  done
  PID_IN=$(sqlite3 d.db "SELECT plan_id FROM offer_plan_approvals WHERE withdrawn_at IS NULL ORDER BY approved_at DESC, plan_id DESC LIMIT 1")
  check_contains "/act shows the plan in force" body.out "data-plan-in-force=\"$PID_IN\""
  check_contains "with a withdraw button" body.out 'action="/act/plan/withdraw"'
  get /act -H "Cookie: tn_session=$R2" >/dev/null
  check_eq "a read key sees no withdraw button" "$(grep -c 'action="/act/plan/withdraw"' body.out)" 0
  check_eq "withdraw without the CSRF token: 403" \
    "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "plan=$PID_IN" "$U/act/plan/withdraw")" 403
  R2T=$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')
  get /alerts -H "Cookie: tn_session=$R2" >/dev/null
  R2T=$(grep -o 'name="csrf" value="[0-9a-f]*"' body.out | head -1 | sed 's/.*value="//; s/"//')
  check_eq "withdraw with a read key: 403" \
    "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$R2" -d "csrf=$R2T&plan=$PID_IN" "$U/act/plan/withdraw")" 403
  check_eq "withdraw another plan than the one in force: 409" \
    "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "csrf=$AT&plan=$((PID_IN + 1000))" "$U/act/plan/withdraw")" 409
  check_eq "still in force after the refusals" "$(sqlite3 d.db "SELECT withdrawn_at IS NULL FROM offer_plan_approvals WHERE plan_id = $PID_IN")" 1
  check_eq "withdraw with the token: 303" \
    "$(curl -s -o body.out -D hdr.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "csrf=$AT&plan=$PID_IN" "$U/act/plan/withdraw")" 303
  check_contains "back to /act saying so" hdr.out "Location: /act?done=withdrawn"
  check_eq "withdrawn in the store, by the session's key" \
    "$(sqlite3 d.db "SELECT withdrawn_at IS NOT NULL AND withdrawn_key > 0 FROM offer_plan_approvals WHERE plan_id = $PID_IN")" 1
  check_eq "and audited" "$(sqlite3 d.db "SELECT count(*) FROM web_audit WHERE action = 'withdraw_offer_plan' AND outcome = 'done'")" 1
  for _ in $(seq 1 120); do
    get "/act?done=withdrawn" -H "Cookie: tn_session=$A" >/dev/null
    grep -q 'data-state="computing"' body.out || break
    sleep 0.5
  done
  check_contains "/act says the plan was withdrawn" body.out 'data-done="withdrawn"'
  check_eq "and shows no plan in force" "$(grep -c 'data-plan-in-force' body.out)" 0
  check_eq "withdraw again: 409 (none in force)" \
    "$(curl -s -o body.out -w '%{http_code}' -H "Cookie: tn_session=$A" -d "csrf=$AT&plan=$PID_IN" "$U/act/plan/withdraw")" 409
  check_contains "saying no plan is in force" body.out "No offer plan is in force"
  # ---- sign-in when the keys cannot be read: 503, not "bad key" ----
  check "the keys table goes away" sqlite3 d.db "ALTER TABLE api_keys RENAME TO api_keys_away"
  sleep 1.2
  check_eq "sign-in while the keys cannot be read: 503" \
    "$(curl -s -o body.out -D hdr.out -w '%{http_code}' --data-urlencode "key=$ADMIN" "$U/login")" 503
  check_contains "with Retry-After" hdr.out "Retry-After:"
  check_contains "saying sign-in is temporarily unavailable" body.out "temporarily unavailable"
  check "the keys table comes back" sqlite3 d.db "ALTER TABLE api_keys_away RENAME TO api_keys"
  sleep 1.2
  check_eq "then the key signs in again" "$(printf %s "$(login "$ADMIN")" | wc -c | tr -d ' ')" 64
  stop_server
else
  not_ok "the server starts with no wait budget" "$(cat serve3.log)"
fi
