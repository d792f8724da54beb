# store_analyses.sh -- survival and drivers on the store (--definition), on the
# demo company: the planted effects of docs/demo.md are recovered.
. "$REPO/tests/e2e/lib.sh"

check "demo company" $TENURE --db demo.db demo --customers 8000
check "survival by plan from the store" $TENURE --db demo.db survival --by plan --at 7,30,40
check_contains "three plans" check.out "premium_monthly"
check_contains "log-rank between plans" check.out "Log-rank test"
# the danger window: the end of the 7-day trial (cancellations on days 3-7)
d=$(grep -m1 '^  monthly:' check.out | sed -n 's/.*peaks in days \([0-9]*\) to \([0-9]*\).*/\1 \2/p')
check "danger window at the end of the trial (days $d)" awk -v d="$d" 'BEGIN { split(d, a, " "); exit !(a[1] >= 2 && a[2] <= 8 && a[2] >= a[1]) }'
# after the trial, the first renewal (day 37): survival of monthly customers drops between day 30 and day 40
check "survival as csv" $TENURE --db demo.db --format csv survival --by plan --at 30,40
s30=$(awk -F, '$1 == "monthly" && $7 == 30 {print $9}' check.out)
s40=$(awk -F, '$1 == "monthly" && $7 == 40 {print $9}' check.out)
check "first renewal is a second danger window (S30=$s30, S40=$s40)" awk -v a="$s30" -v b="$s40" 'BEGIN { exit !(b < a - 0.1) }'

check "drivers from the store" $TENURE --db demo.db --format csv drivers --reference plan=monthly,channel=organic
hr=$(awk -F, '$1 == "reached_onboarding_complete" {print 1 / $2}' check.out)
check_near "never onboarded: hazard ratio near the planted 2.0" "$hr" 2.0 0.35
hr=$(awk -F, '$1 == "channel=paid_social" {print $2}' check.out)
check_near "paid_social: hazard ratio near the planted 1.4" "$hr" 1.4 0.25
hr=$(awk -F, '$1 == "plan=premium_monthly" {print $2}' check.out)
check_near "premium price: hazard ratio near the planted 1.3" "$hr" 1.3 0.25

check "a stricter definition" $TENURE --db demo.db churn define quiet30 --inactive-days 30
check "survival under it" $TENURE --db demo.db survival --definition quiet30
check_fails "unknown definition" $TENURE --db demo.db survival --definition nosuch
check_contains "names the definitions" check.out "quiet30"
check_fails "--time is for --csv" $TENURE --db demo.db survival --time t

# feedback impact: complaints about price before leaving go with a higher hazard (demo: 30% of leavers complain)
check "feedback impact with hazard ratios" $TENURE --db demo.db --quiet --format csv feedback impact
cp check.out impact.csv
hr=$(awk -F, '$1 == "pricing_billing" && $2 == "(all)" {print $8}' impact.csv)
check "price complaints: hazard ratio above 1 ($hr)" awk -v h="$hr" 'BEGIN { exit !(h > 1.05) }'
hr=$(awk -F, '$1 == "praise" && $2 == "(all)" {print $8}' impact.csv)
check "praise: hazard ratio below 1 ($hr)" awk -v h="$hr" 'BEGIN { exit !(h != "" && h < 1) }'

# who is about to leave: the backtest separates churners, and the planted drivers (never finishing onboarding,
# paid-social acquisition) are among the reasons given for the riskiest customers
check "backtest on the demo" $TENURE --db demo.db --format csv predict backtest --as-of 2026-09-30 --horizon 30
auc=$(awk -F, 'NR == 2 {print $6}' check.out)
check "backtest AUC well above chance ($auc)" awk -v a="$auc" 'BEGIN { exit !(a > 0.75) }'
check "train on the store" $TENURE --db demo.db --quiet predict train --as-of 2026-09-30 --save m.json
$TENURE --db demo.db --quiet --format csv predict score --model m.json --as-of 2026-10-31 --top 300 > risk.csv 2>/dev/null
n=$(grep -c 'reached no onboarding milestone' risk.csv)
check "never finishing onboarding is a top reason ($n of 300)" test "$n" -gt 30
n=$(grep -c 'came through paid_social' risk.csv)
check "paid-social acquisition is a top reason ($n of 300)" test "$n" -gt 15
