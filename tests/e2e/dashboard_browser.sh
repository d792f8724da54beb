#!/bin/sh
# dashboard_browser.sh -- the dashboard in headless Chromium (tests/browser/dashboard.js,
# puppeteer-core and axe-core) against the real `tenure serve` on a free port,
# on a small demo store: sign in; every page in en, ar and fa at 1400 and
# 400 px; no console errors, no failed requests, nothing beyond the server, no
# horizontal overflow, page weight; the overview's data-metric numbers equal
# GET /v1/summary; a filter changes the chart and the URL; hover read-out;
# sorting and paging; chart numbers in Arabic-Indic / Persian digits;
# acknowledging an alert, approving an offer plan and starting a win-back
# campaign work, once, and are refused without the CSRF token (then the
# outbox, the audit and the sessions are checked in the store); axe-core
# finds no serious or critical violation.
# Screenshots of every page: build/screenshots/PAGE-LANG-WIDTH.png.
. "$REPO/tests/e2e/lib.sh"
# pages wait for the background computation (the checks compare figures)
export TENURE_WEB_WAIT_MS=120000

B="$REPO/tests/browser"
if [ ! -d "$B/node_modules/puppeteer-core" ] || [ ! -d "$B/node_modules/axe-core" ]; then
  # CI runs `npm ci` there (.ci/run); a first local run installs it the same way
  check "npm ci in tests/browser" npm ci --prefix "$B" --no-audit --no-fund
fi
check "small demo" $TENURE --db d.db demo --customers 1500 --months 14
check "alerts raised" $TENURE --db d.db alerts
check "admin key" sh -c "$TENURE --db d.db keys create --scope admin --name dash >admin.key"
ADMIN=$(cat admin.key)
# a receiver for the offers and win-back messages the dashboard's actions queue
check "a webhook for offers and win-back" $TENURE --db d.db webhooks add http://127.0.0.1:9/hook --events offer,winback --secret dashboard-test-secret-0123

SERVER_PID=""
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
ok "server starts on a free port ($PORT)"
check_eq "GET /v1/summary" "$(curl -s -o s.json -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/v1/summary")" 200

OUT="$REPO/build/screenshots"
mkdir -p "$OUT"
rm -f "$OUT"/*.png
checked node "$B/dashboard.js" "http://127.0.0.1:$PORT" "$ADMIN" s.json "$OUT" >dash.out 2>dash.err
# one line of JSON per check from the browser
/usr/bin/python3 - dash.out >checks.txt <<'PY'
import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    d = m["detail"]
    d = d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)
    print(("ok" if m["ok"] else "no") + "\t" + m["check"] + "\t" + d[:400].replace("\n", " "))
PY
n=0
while IFS="$(printf '\t')" read -r res name detail; do
  n=$((n + 1))
  if [ "$res" = ok ]; then ok "browser: $name"; else not_ok "browser: $name" "$detail"; fi
done <checks.txt
[ "$n" -ge 30 ] || not_ok "browser: every check ran" "$n checks; stderr: $(tail -5 dash.err)"
check_eq "a screenshot of every page in every language at both widths" "$(ls "$OUT"/*.png 2>/dev/null | wc -l | tr -d ' ')" 42

# what the actions did, in the store: the approved plan's offers and the
# campaign's contacts queued (once), every action and refusal audited
q() { sqlite3 d.db "$1"; }
check_eq "the approved plan is stored once, with its offers queued" \
  "$(q "SELECT count(*) = 1 AND min(queued) > 0 FROM offer_plan_approvals")" 1
check_eq "its offers in the outbox = its offer arm" \
  "$(q "SELECT (SELECT count(*) FROM outbox WHERE event = 'offer' AND idem_key LIKE 'offer:%:approved:%') = (SELECT count(*) FROM offer_assignments a JOIN offer_plan_approvals p ON p.plan_id = a.plan_id WHERE a.arm = 'offer')")" 1
check_eq "the campaign's contacts recorded and queued once" \
  "$(q "SELECT (SELECT count(*) FROM winback_contacts WHERE campaign = 'browser-winback' AND control = 0) = (SELECT count(*) FROM outbox WHERE idem_key LIKE 'winback:browser-winback:%') AND (SELECT queued FROM campaigns WHERE name = 'browser-winback') > 0")" 1
check_eq "the audit: plan approved then repeated, campaign started then repeated, plan withdrawn" \
  "$(q "SELECT group_concat(action || '/' || outcome, ' ') FROM (SELECT action, outcome FROM web_audit WHERE outcome IN ('done','repeat') AND action <> 'ack_alert' ORDER BY id)")" \
  "approve_offer_plan/done approve_offer_plan/repeat start_campaign/done start_campaign/repeat withdraw_offer_plan/done"
check_eq "the audit: the refusals without a CSRF token" \
  "$(q "SELECT count(*) FROM web_audit WHERE outcome = 'refused' AND detail = 'no valid CSRF token'")" 8
check_eq "the audit: two of them a withdrawal" \
  "$(q "SELECT count(*) FROM web_audit WHERE outcome = 'refused' AND action = 'withdraw_offer_plan'")" 2
check_eq "the withdrawn plan keeps its approval, withdrawn by the session's key" \
  "$(q "SELECT count(*) FROM offer_plan_approvals WHERE withdrawn_at IS NOT NULL AND withdrawn_key > 0")" 1
check_eq "sessions: the store holds hashes only, none left after signing out" "$(q "SELECT count(*) FROM web_sessions")" 0

kill -TERM "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID"
rc=$?
check_eq "server stops cleanly" "$rc" 0
