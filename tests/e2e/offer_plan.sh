#!/bin/sh
# offer_plan.sh -- the plan approved on the dashboard is followed by the
# engine (docs/actions.md, "The approved offer plan"), through the real
# server: approve on /act with curl (admin key, CSRF token), then
# POST /v1/decisions offers to the plan's offer arm only -- none to its
# control arm, none outside it -- and the scheduler's offers job queues no
# offer of its renewal rule (the same job on a copy with the plan withdrawn
# queues renewal offers, to customers it does not offer too); `tenure offers
# withdraw` suppresses the plan's pending offers and a running server
# returns to its default rules.
. "$REPO/tests/e2e/lib.sh"
# the dashboard waits for its figures (a form posted while they are still
# being computed is refused): as in dashboard.sh, this test checks the plan,
# not the wait
export TENURE_WEB_WAIT_MS=120000

jget() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[int(k)] if isinstance(d, list) else d[k]
print("null" if d is None else (str(d).lower() if isinstance(d, bool) else d))' "$@"; }
q() { sqlite3 d.db "$1"; }

check "demo" $TENURE --db d.db --quiet demo --customers 600 --months 8
check "no decisions holdout (the plan's control is what is measured here)" $TENURE --db d.db offers holdout --share 0
check "a webhook for every event" sh -c "$TENURE --db d.db webhooks add http://127.0.0.1:9/hook --events all --secret 0123456789abcdef0123 >/dev/null"
check "keys" sh -c "$TENURE --db d.db keys create --scope admin >admin.key && $TENURE --db d.db keys create --scope ingest >ingest.key"
ADMIN=$(cat admin.key); KEY=$(cat ingest.key)
check_eq "no plan in force before an approval" "$($TENURE --db d.db --format csv offers in-force | wc -l | tr -d ' ')" 1
check_fails "withdraw: nothing in force" $TENURE --db d.db offers withdraw

if ! start_server d.db serve.log; then not_ok "server starts" "$(cat serve.log)"; exit 1; fi
ok "server starts ($PORT)"
U="http://127.0.0.1:$PORT"
# dec CUSTOMER: a cancel decision, the answer in resp.json, the status printed
dec() { curl -s -o resp.json -w '%{http_code}' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  --data-binary "{\"customer\":\"$1\",\"moment\":\"cancel\"}" "$U/v1/decisions"; }

# ---- approve on /act, as a retention team does ----
curl -s -o /dev/null -D login.hdr --data-urlencode "key=$ADMIN" "$U/login"
S=$(sed -n 's/^Set-Cookie: tn_session=\([0-9a-f]*\);.*/\1/p' login.hdr | tr -d '\r')
curl -s -o act.html -H "Cookie: tn_session=$S" "$U/act"
TOKEN=$(grep -o 'name="csrf" value="[0-9a-f]*"' act.html | head -1 | sed 's/.*value="//; s/"//')
check_eq "approve the plan (control share 0.3)" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: tn_session=$S" -d "csrf=$TOKEN&cost=1&accept=0.3&control=0.3" "$U/act/plan/approve")" 303
PLAN=$(q "SELECT plan_id FROM offer_plan_approvals")
check_eq "one approval" "$(printf %s "$PLAN" | grep -c '^[0-9][0-9]*$')" 1
$TENURE --db d.db --format json offers in-force >force.json
check_eq "offers in-force names it" "$(jget force.json 0 plan)" "$PLAN"
NCTL=$(q "SELECT count(*) FROM offer_assignments WHERE plan_id = $PLAN AND arm = 'control'")
check "the plan has a control arm" test "$NCTL" -gt 0
QUEUED=$(q "SELECT count(*) FROM outbox WHERE event = 'offer' AND idem_key LIKE 'offer:%:approved:%'")
check "the approval queued the offer arm's offers" test "$QUEUED" -gt 0

# live customers by arm (the plan's customers were live when it was made)
LIVE="SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id AND s.status IN ('active','trialing','past_due')"
OFFER=$(q "SELECT c.ext_id FROM offer_assignments a JOIN customers c ON c.id = a.customer_id WHERE a.plan_id = $PLAN AND a.arm = 'offer' ORDER BY a.rank LIMIT 1")
CTLS=$(q "SELECT c.ext_id FROM offer_assignments a JOIN customers c ON c.id = a.customer_id WHERE a.plan_id = $PLAN AND a.arm = 'control' ORDER BY a.rank LIMIT 5")
OUTS=$(q "SELECT c.ext_id FROM customers c WHERE EXISTS ($LIVE) AND c.id NOT IN (SELECT customer_id FROM offer_assignments WHERE plan_id = $PLAN) ORDER BY c.id LIMIT 5")

# ---- decisions follow it ----
check_eq "offer arm: a decision" "$(dec "$OFFER")" 200
check_eq "offer arm: an offer is made" "$(jget resp.json offer kind | grep -cE '^(discount|pause|downgrade|free_period)$')" 1
check_eq "offer arm: the answer names the plan and the arm" "$(jget resp.json plan id) $(jget resp.json plan arm)" "$PLAN offer"
n=0; arms=""
for c in $CTLS; do
  [ "$(dec "$c")" = 200 ] && [ "$(jget resp.json offer kind)" = none ] && n=$((n + 1)); arms="$arms $(jget resp.json plan arm)"
done
check_eq "control arm: no offer to any of 5" "$n" 5
check_eq "control arm: so the answers say" "$arms" " control control control control control"
n=0
for c in $OUTS; do
  [ "$(dec "$c")" = 200 ] && [ "$(jget resp.json offer kind)" = none ] && [ "$(jget resp.json plan arm)" = outside ] && n=$((n + 1))
done
check_eq "outside the plan: no offer to any of 5" "$n" 5

# ---- the scheduler's offers job follows it ----
sqlite3 d.db ".backup nd.db" # the server holds d.db open: its WAL too
check "jobs run offers" sh -c "$TENURE --db d.db jobs run --job offers --as-of 2026-10-01 >job.out"
check_contains "the job says the plan is in force" job.out "approved plan $PLAN in force"
check_eq "no offer of the renewal rule queued" "$(q "SELECT count(*) FROM outbox WHERE event = 'offer' AND idem_key NOT LIKE 'offer:%:approved:%'")" 0
check_eq "no offer queued to the control arm" "$(q "SELECT count(*) FROM outbox o JOIN offer_assignments a ON a.customer_id = o.customer_id AND a.plan_id = $PLAN AND a.arm = 'control' WHERE o.event = 'offer'")" 0
check_eq "nothing queued twice" "$(q "SELECT count(*) FROM outbox WHERE event = 'offer'")" "$QUEUED"
# the same job with the plan withdrawn: the renewal rule, to customers outside the offer arm too
check "withdraw on the copy" sh -c "$TENURE --db nd.db offers withdraw >/dev/null"
check "jobs run offers on the copy" sh -c "$TENURE --db nd.db jobs run --job offers --as-of 2026-10-01 >job2.out"
R=$(sqlite3 nd.db "SELECT count(*) FROM outbox WHERE event = 'offer' AND status = 'pending' AND idem_key NOT LIKE 'offer:%:approved:%'")
check "without the plan the renewal rule queues offers ($R)" test "$R" -gt 0
NO=$(sqlite3 nd.db "SELECT count(*) FROM outbox o WHERE o.event = 'offer' AND o.status = 'pending' AND o.customer_id NOT IN (SELECT customer_id FROM offer_assignments WHERE plan_id = $PLAN AND arm = 'offer')")
check "to customers the plan does not offer too ($NO)" test "$NO" -gt 0

# ---- withdraw: pending offers suppressed, the server back to its rules ----
check_fails "withdraw: another plan id" $TENURE --db d.db offers withdraw --plan $((PLAN + 1))
check "withdraw" sh -c "$TENURE --db d.db --format json offers withdraw >w.json"
check_eq "its pending offers are suppressed" "$(jget w.json 0 suppressed)" "$(q "SELECT count(*) FROM outbox WHERE event = 'offer' AND status = 'suppressed'")"
check_eq "none left pending" "$(q "SELECT count(*) FROM outbox WHERE event = 'offer' AND status = 'pending' AND idem_key LIKE 'offer:%:approved:%'")" 0
check_eq "the approval is kept, withdrawn" "$(q "SELECT withdrawn_at IS NOT NULL FROM offer_plan_approvals WHERE plan_id = $PLAN")" 1
check_eq "nothing in force" "$($TENURE --db d.db --format csv offers in-force | wc -l | tr -d ' ')" 1
sleep 6 # the server rereads the plan every 5 s
C1=$(printf '%s\n' $CTLS | sed -n 2p)
check_eq "a control customer: a decision" "$(dec "$C1")" 200
check_eq "after the withdrawal: an offer again, no plan" "$(jget resp.json offer kind | grep -cE '^(discount|pause|downgrade|free_period)$') $(jget resp.json plan)" "1 null"

stop_server
check_eq "server stops cleanly" "$?" 0
