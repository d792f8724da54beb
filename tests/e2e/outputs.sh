#!/bin/sh
# outputs.sh -- outputs that say what they mean (issue 11, part 3): help texts
# without printf escapes, tiny p-values, feedback exports and titled tables,
# one table per CSV stream, the partial last period of churn rate.
. "$REPO/tests/e2e/lib.sh"

# every --help prints "95%", never the printf escape "95%%"
: >help.txt
for c in import demo summary schema churn cohorts survival drivers report value predict alerts feedback offers \
  winback points journey; do
  $TENURE $c --help >>help.txt 2>&1
done
for c in "value summary" "value fit" "value score" "value at-risk" "value retention" "value profitability" \
  "feedback classify" "feedback scores" "feedback impact" "feedback train" "feedback evaluate" "churn rate" \
  "churn define" "churn list" "predict features" "predict backtest" "offers plan" "winback report"; do
  $TENURE $c --help >>help.txt 2>&1
done
check "help texts read" test "$(wc -l <help.txt)" -gt 200
check_eq "no \"%%\" in any help text" "$(grep -c '%%' help.txt)" 0
check_contains "feedback help says 95%" help.txt "NPS (with 95% CI)"

# a p-value below a double's precision is "p < 1e-16", not "p = 0"
awk 'BEGIN { print "t,e,g"; for (i = 0; i < 3000; i++) { print (1 + i % 5) ",1,a"; print (200 + i % 7) ",1,b" } }' >sep.csv
check "survival of two separate groups" $TENURE survival --csv sep.csv --time t --event e --by g
check_contains "log-rank p < 1e-16" check.out "p < 1e-16 (the groups differ)"
check "drivers of two separate groups" $TENURE drivers --csv sep.csv --time t --event e --covariates g
check_contains "likelihood ratio p < 1e-16" check.out "p < 1e-16."

$TENURE --db d.db demo --customers 1500 --months 12 >demo.out 2>&1
check_eq "demo store written" "$?" 0

# feedback classify --export: three columns, from the store as from a file
check "classify --export from the store" $TENURE --db d.db --quiet --format csv feedback classify --export
check_eq "export header: three columns" "$(head -1 check.out)" "verbatim,theme,type"
check "every export row has a type" awk -F, 'NR > 1 && $NF !~ /^(functionality|feature_request|usability|reliability|customer_service|pricing_billing|praise)?$/ { exit 1 }' check.out

# feedback impact: two titled tables; CSV: one table per stream; JSON: named arrays
check "impact as tables" $TENURE --db d.db --quiet feedback impact
check_contains "impact table titled" check.out "Complaints and churn:"
check_contains "exit reasons titled" check.out "Why leavers say they left:"
$TENURE --db d.db --quiet --format csv feedback impact >imp.csv 2>imp.err
check_eq "impact CSV: one header, the impact table's" "$(grep -c -e '^type,theme,' -e '^rank,' imp.csv)" 1
check_contains "impact CSV: header" imp.csv "type,theme,customers,churned"
$TENURE --db d.db --quiet --format csv feedback impact --table exit-reasons >ex.csv 2>&1
check_eq "--table exit-reasons: that table alone" "$(head -1 ex.csv)" "rank,exit_reason_type,exit_reason_theme,answers,share,ci_low,ci_high"
check_eq "exit reasons: no impact header" "$(grep -c '^type,theme,' ex.csv)" 0
check_fails "--table of an unknown table fails" $TENURE --db d.db feedback impact --table nope
$TENURE --db d.db --quiet --format json feedback impact >imp.json 2>&1
check "impact JSON: an object with named arrays" sh -c 'grep -q "^{\"impact\": \[" imp.json && grep -q "\"exit_reasons\": \[" imp.json'
