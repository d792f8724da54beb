# json_valid.sh -- every command's --format json output is valid JSON
# (RFC 8259: no NaN, no Infinity; null instead), from the one JSON writer
# (tenure/json.h), on stores and files that produce NaN and infinities:
# a tiny store whose sBG runs off to infinity (its lifetime value is NaN),
# a store with one customer and nothing else, a degenerate value score (BG/NBD on 5 customers), Cox with
# infinite hazard-ratio limits, a survival group whose median and CI are not
# reached.  A command that fails must print nothing on stdout.
. "$REPO/tests/e2e/lib.sh"
valid() { # NAME FILE: valid JSON, or nothing on stdout when the store has no data yet (said on stderr)
  if python3 -m json.tool "$2" >/dev/null 2>&1; then ok "$1"
  elif [ ! -s "$2" ] && grep -q "^no data yet" err.txt 2>/dev/null; then ok "$1 (no data yet)"
  else not_ok "$1" "$(head -c 300 "$2")"; fi
}
printf 'id,signed_up_at\nc1,2024-01-01\nc2,2024-01-01\nc3,2024-02-01\nc4,2024-02-01\n' >cu.csv
printf 'customer,plan,billing_period,price,currency,started_at,cancelled_at,current_period_end,status\nc1,basic,month,10,USD,2024-01-01,2024-03-15,2024-04-01,cancelled\nc2,basic,month,10,USD,2024-01-01,,,active\nc3,basic,month,10,USD,2024-02-01,,,active\nc4,basic,month,10,USD,2024-02-01,,,active\n' >su.csv
check "tiny store: customers" $TENURE --db tiny.db import customers cu.csv
check "tiny store: subscriptions" $TENURE --db tiny.db import subscriptions su.csv
check "demo store" $TENURE --db demo.db demo --customers 300
printf 'id,signed_up_at\nz1,2024-01-01\n' >one.csv
check "a store with one customer and nothing else" $TENURE --db empty.db import customers one.csv
for db in tiny demo empty; do
  for c in "summary" "schema" "churn list" "churn status" "churn rate" "cohorts" "cohorts --revenue" \
    "survival" "survival --by plan" "drivers" "value summary" "value at-risk" "value retention" \
    "value retention --subscribers" "value retention --cohorts" "value profitability" "value score" \
    "alerts --no-update" "feedback scores" "feedback impact" "offers plans" "offers ending" "offers nearing" \
    "winback report" "winback reasons" "points balance" "points tiers" "points check" "journey map" \
    "journey funnel" "journey churn" "journey stuck --days 30"; do
    cp $db.db x.db
    checked $TENURE --db x.db --format json $c >out.json 2>err.txt
    rc=$?
    if [ $rc -eq 0 ] || [ $rc -eq 3 ]; then valid "$db: $c" out.json
    elif [ $rc -ge 126 ] || [ ! -s err.txt ]; then not_ok "$db: $c" "exit $rc: $(head -c 300 err.txt)"
    else check_eq "$db: $c fails with nothing on stdout" "$(wc -c < out.json | tr -d ' ')" "0"; fi
  done
done
checked $TENURE --db tiny.db --format json value retention --as-of 2024-08-01 >ret.json
valid "tiny store: value retention" ret.json
check "tiny store: a lifetime value is a finite number or null, never NaN" python3 -c 'import json,math,sys; d=json.load(open("ret.json"), parse_constant=lambda c: sys.exit(1)); v=[p["lifetime_value"] for p in d["plans"]]; sys.exit(not v or not all(x is None or math.isfinite(x) for x in v))'
printf 'customer,frequency,recency,T,monetary_value\na,0,0,30,0\nb,2,20,30,10\nc,1,5,30,5\nd,3,29,30,7\ne,0,0,20,0\n' >sc.csv
checked $TENURE --format json value score --csv sc.csv --id customer >sc.json 2>sc.err
check_eq "degenerate value score: exit 3" "$?" "3"
valid "degenerate value score" sc.json
check_contains "degenerate value score: warned" sc.err "running off to infinity"
printf 't,e,g,x\n1,1,a,0\n2,0,a,0\n3,1,a,1\n4,0,b,1\n5,0,b,1\n6,1,a,0\n' >nan.csv
$TENURE --format json survival --csv nan.csv --time t --event e --by g >nan.json
valid "survival: medians not reached" nan.json
$TENURE --format json drivers --csv nan.csv --time t --event e --covariates x >inf.json
valid "drivers: infinite limits" inf.json
$TENURE --format csv drivers --csv nan.csv --time t --event e --covariates x >inf.csv
check "csv: no inf or nan cells" sh -c '! grep -qiE "(^|,)-?(inf|nan)(,|$)" inf.csv'
