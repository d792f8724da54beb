#!/bin/sh
# decisions.sh -- in-app decisions end to end on the demo company through the
# real server: the catalogue the demo comes with, the cancel flow with curl
# (an offer, its outcome, the exit survey and its reward credited once), a
# survey triggered by a support ticket, and a simulation with a planted
# offer effect (the customers offered stay 25 points more often than the
# holdout) that `tenure offers report` recovers within its 95% interval.
. "$REPO/tests/e2e/lib.sh"

# req METHOD PATH [BODY]: prints the status; the body is in resp.json
req() {
  set -- -s -o resp.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT$2" ${3:+-H "Content-Type: application/json" --data-binary "$3"}
  curl "$@"
}
jget() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    d = d[int(k)] if isinstance(d, list) else d[k]
print("null" if d is None else (str(d).lower() if isinstance(d, bool) else d))' "$@"; }

check "demo" $TENURE --db d.db --quiet demo --customers 3000
$TENURE --db d.db --format json offers catalogue list >cat.json
check_eq "the demo's catalogue: a discount, a pause, a downgrade, a free month" \
  "$(python3 -c 'import json; print(",".join(sorted(o["kind"] for o in json.load(open("cat.json")))))')" \
  "discount,downgrade,free_period,pause"
check "catalogue add" $TENURE --db d.db offers catalogue add vip_call --kind discount --terms "A call from us" \
  --cost 30 --uplift 0.1 --moments renewal_due --cap 1/365
check_fails "catalogue add: name taken" $TENURE --db d.db offers catalogue add vip_call --kind pause --terms x --cost 1
check_fails "catalogue add: bad kind" $TENURE --db d.db offers catalogue add x --kind gift --terms x --cost 1
check_fails "catalogue add: bad moment" $TENURE --db d.db offers catalogue add x --kind pause --terms x --cost 1 --moments later
check "catalogue remove" $TENURE --db d.db offers catalogue remove vip_call
check_fails "catalogue remove: gone" $TENURE --db d.db offers catalogue remove vip_call
check "offers scores (the built-in estimate)" $TENURE --db d.db --quiet offers scores
check_eq "scores stored" "$(sqlite3 d.db 'SELECT count(*) > 0 FROM customer_scores')" 1
check "holdout share" $TENURE --db d.db offers holdout --share 0.1 --seed 5
check_fails "holdout share above 0.5" $TENURE --db d.db offers holdout --share 0.7
check "surveys add exit" $TENURE --db d.db --quiet surveys add exit_reasons --kind exit --trigger cancel --reward 50
check "surveys add ticket csat" $TENURE --db d.db --quiet surveys add after_ticket --kind csat --trigger support_ticket --days 7
check_fails "surveys add: every needs --days" $TENURE --db d.db surveys add x --kind nps --trigger every
check_fails "surveys add: unknown template" $TENURE --db d.db surveys add x --kind custom --template weather --trigger cancel
$TENURE --db d.db --format json surveys list >surveys.json
check_contains "survey text in Persian" surveys.json "دلیل اصلی رفتن شما چیست؟"
check_contains "survey text in Arabic" surveys.json "ما السبب الرئيسي لمغادرتك؟"
KEY=$($TENURE --db d.db keys create --scope ingest 2>/dev/null)
READ=$($TENURE --db d.db keys create --scope read 2>/dev/null)

if ! start_server d.db serve.log; then not_ok "server starts" "$(cat serve.log)"; exit 1; fi
ok "server starts ($PORT)"

# ---- the cancel flow ----
sqlite3 d.db "SELECT DISTINCT c.ext_id FROM customers c JOIN subscriptions s ON s.customer_id = c.id
  WHERE s.status = 'active' ORDER BY c.id" >live.txt
C=""; DEC=""
for c in $(head -40 live.txt); do
  st=$(req POST /v1/decisions "{\"customer\":\"$c\",\"moment\":\"cancel\"}")
  [ "$st" = 200 ] || { not_ok "decision for $c" "status $st" "$(cat resp.json)"; break; }
  if [ "$(jget resp.json holdout)" = false ]; then C=$c; cp resp.json cancel.json; break; fi
done
check_eq "a cancel decision offers something" "$(jget cancel.json offer kind | grep -cE '^(discount|pause|downgrade|free_period)$')" 1
check_eq "with its terms" "$(jget cancel.json offer terms | grep -c .)" 1
check_eq "and the exit survey" "$(jget cancel.json survey name)" exit_reasons
check_eq "in three languages" "$(jget cancel.json survey questions 0 text fa | grep -c .)" 1
DEC=$(jget cancel.json decision_id)
check_eq "decision stored" "$(sqlite3 d.db "SELECT count(*) FROM decisions WHERE id = '$DEC'")" 1
check_eq "outcome shown" "$(req POST /v1/decisions/$DEC/outcome '{"outcome":"shown"}')" 200
check_eq "outcome accepted" "$(req POST /v1/decisions/$DEC/outcome '{"outcome":"accepted"}')" 200
check_eq "outcome accepted again: idempotent" "$(req POST /v1/decisions/$DEC/outcome '{"outcome":"accepted"}')" 200
check_contains "not recorded twice" resp.json '"recorded":false'
check_eq "declined after accepted: 409" "$(req POST /v1/decisions/$DEC/outcome '{"outcome":"declined"}')" 409
check_eq "unknown decision: 404" "$(req POST /v1/decisions/dec_nope/outcome '{"outcome":"shown"}')" 404
check_eq "unknown moment: 422" "$(req POST /v1/decisions "{\"customer\":\"$C\",\"moment\":\"lunch\"}")" 422
check_eq "unknown customer: 404" "$(req POST /v1/decisions '{"customer":"nobody","moment":"cancel"}')" 404
check_eq "not JSON: 400" "$(req POST /v1/decisions 'customer=1')" 400
check_eq "read key cannot decide: 403" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READ" -d '{}' "http://127.0.0.1:$PORT/v1/decisions")" 403
# the survey stays due until answered; the answer credits 50 points once
check_eq "survey due" "$(req GET /v1/customers/$C/survey)" 200
check_eq "the open exit survey" "$(jget resp.json survey name)" exit_reasons
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2; do
  check_eq "answer $i" "$(req POST /v1/feedback "[{\"customer\":\"$C\",\"given_at\":\"$NOW\",\"kind\":\"exit\",\"answer\":\"too expensive for me\",\"id\":\"exit-$C\"}]")" 200
done
check_eq "reward credited once" "$(sqlite3 d.db "SELECT sum(points) FROM points_ledger l JOIN customers c ON c.id = l.customer_id WHERE c.ext_id = '$C' AND l.idem_key LIKE 'survey-invitation:%'")" 50
check_eq "no survey after answering (cap 30 days)" "$(req GET /v1/customers/$C/survey; jget resp.json survey)" "200null"

# ---- a survey triggered by a support ticket ----
T=$(sed -n 200p live.txt)
check_eq "no survey before the ticket" "$(req GET /v1/customers/$T/survey; jget resp.json survey)" "200null"
check_eq "ticket event" "$(req POST /v1/events "[{\"customer\":\"$T\",\"occurred_at\":\"$NOW\",\"type\":\"support_ticket\"}]")" 200
check_eq "csat survey after the ticket" "$(req GET /v1/customers/$T/survey; jget resp.json survey name)" "200after_ticket"

# ---- simulation: a planted effect recovered by the report ----
# 1,500 live customers press cancel; a holdout customer leaves with
# probability 0.6, one offered with 0.35 (save rate +0.25): drawn from a
# fixed seed per customer, then the leavers' subscriptions are cancelled
# through the API.
sed -n '300,1799p' live.txt >sim.txt
cat >sim.py <<'EOF'
import http.client, json, random, sys, time
port, key = int(sys.argv[1]), sys.argv[2]
h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
rng = random.Random(20261201)
leave, n = [], 0
for line in open("sim.txt"):
    c = line.strip()
    conn.request("POST", "/v1/decisions", json.dumps({"customer": c, "moment": "cancel"}), h)
    r = conn.getresponse(); d = json.loads(r.read())
    if r.status != 200: print("decision", c, r.status, d); sys.exit(1)
    offered = d["offer"]["kind"] != "none"
    u = rng.random()
    gone = u < (0.35 if offered else 0.6)
    if offered and not d["holdout"]:
        conn.request("POST", "/v1/decisions/%s/outcome" % d["decision_id"],
                     json.dumps({"outcome": "declined" if gone else "accepted"}), h)
        r = conn.getresponse(); r.read()
        if r.status != 200: print("outcome", r.status); sys.exit(1)
    if gone: leave.append(c)
    n += 1
open("leave.txt", "w").write("\n".join(leave) + "\n")
print(n, len(leave))
EOF
check "simulation: 1,500 decisions" sh -c "python3 sim.py $PORT $KEY >sim.out 2>&1"
sleep 1
NOWS=$(date -u +%s)
sqlite3 d.db "CREATE TEMP TABLE l(c TEXT); $(sed "s/.*/INSERT INTO temp.l VALUES('&');/" leave.txt)
  SELECT json_group_array(json_object('id', s.ext_id, 'customer', c.ext_id, 'plan', s.plan,
    'billing_period', s.billing_period, 'price', s.price, 'currency', s.currency,
    'started_at', strftime('%Y-%m-%dT%H:%M:%SZ', s.started_at, 'unixepoch'),
    'current_period_end', strftime('%Y-%m-%dT%H:%M:%SZ', s.current_period_end, 'unixepoch'),
    'cancelled_at', strftime('%Y-%m-%dT%H:%M:%SZ', $NOWS, 'unixepoch'), 'status', 'cancelled'))
  FROM subscriptions s JOIN customers c ON c.id = s.customer_id JOIN temp.l ON l.c = c.ext_id
  WHERE s.status IN ('trialing','active','past_due')" >cancel_subs.json
check_eq "the leavers' cancellations" "$(req POST /v1/subscriptions "$(cat cancel_subs.json)")" 200
check_eq "report over the API" "$(curl -s -o api_report.json -w '%{http_code}' -H "Authorization: Bearer $READ" "http://127.0.0.1:$PORT/v1/offers/report")" 200
stop_server
$TENURE --db d.db --format json offers report >report.json
check "report is the same over the API" cmp -s report.json api_report.json
python3 - >report.out <<'EOF'
import json
rows = [r for r in json.load(open("report.json")) if r["offer"] == "all" and r["moment"] == "cancel"]
r = rows[0]
print(r["treated"], r["holdout"], r["save_uplift"], r["ci95_low"], r["ci95_high"], r["cost_per_kept"])
EOF
read NT NH UP LO HI CPK <report.out
check_eq "report: holdout about 10% of the 1,541 cancel decisions" "$(awk -v h="$NH" -v t="$NT" 'BEGIN { s = h / (h + t); print (s > 0.07 && s < 0.13) }')" 1
check_eq "planted +0.25 within the report's 95% interval ($LO, $HI)" "$(awk -v l="$LO" -v h="$HI" 'BEGIN { print (l <= 0.25 && 0.25 <= h) }')" 1
check_eq "and the interval excludes no effect" "$(awk -v l="$LO" 'BEGIN { print (l > 0) }')" 1
check_near "save uplift near 0.25" "$UP" 0.25 0.12
check_eq "cost per customer kept is reported" "$(awk -v c="$CPK" 'BEGIN { print (c > 0) }')" 1
$TENURE --db d.db offers report >report.txt
check_contains "report table: cost per customer kept" report.txt cost_per_kept
check_contains "report table: by offer" report.txt half_off_3m
check "surveys add: the price question" $TENURE --db d.db --quiet surveys add price_check --kind custom \
  --template price_vs_expected --trigger every --days 90
$TENURE --db d.db --format json surveys list >surveys.json
check_contains "less / the same / more in Persian" surveys.json 'کمتر'
