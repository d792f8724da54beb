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
check "impact JSON: an object with named arrays" python3 -c 'import json,sys; d=json.load(open("imp.json")); sys.exit(not (isinstance(d.get("impact"), list) and isinstance(d.get("exit_reasons"), list)))'

# churn rate: the last, partial period is marked; rates above 100% are explained; an as-of past the data warns
cat >customers.csv <<'CSV'
id,signed_up_at,country,channel
a,2024-01-05,DE,organic
b,2024-02-02,DE,organic
c,2024-02-02,DE,organic
d,2024-02-02,DE,organic
e,2024-01-10,DE,organic
CSV
# Feb: a and e at the start; b, c, d join on Feb 2 and leave on Feb 10, a leaves Feb 20: 4 churned of 2 = 200%
cat >subs.csv <<'CSV'
customer,plan,billing_period,price,currency,started_at,cancelled_at,status
a,monthly,month,10,USD,2024-01-05,2024-02-20,cancelled
b,monthly,month,10,USD,2024-02-02,2024-02-10,cancelled
c,monthly,month,10,USD,2024-02-02,2024-02-10,cancelled
d,monthly,month,10,USD,2024-02-02,2024-02-10,cancelled
e,monthly,month,10,USD,2024-01-10,,active
CSV
printf 'customer,occurred_at,type\ne,2024-03-15,session\n' >events.csv
check "import customers" $TENURE --db r.db import customers customers.csv
check "import subscriptions" $TENURE --db r.db import subscriptions subs.csv
check "import events" $TENURE --db r.db import events events.csv
check "churn rate" $TENURE --db r.db churn rate
check_contains "rate above 100% explained" check.out "note: a churn rate above 100% (200% in 2024-02-01) means more customers left"
check_contains "trial drop-offs named" check.out "joined and left within it (e.g. trial drop-offs)"
check_contains "the last period is partial" check.out "note: 2024-03-01 is a partial period (partial = yes): counted to 2024-03-15 only"
$TENURE --db r.db --format csv churn rate >rate.csv 2>rate.err
check_eq "CSV: partial column" "$(cut -d, -f1,17 rate.csv | tr '\n' ' ')" "period,partial 2024-01-01,no 2024-02-01,no 2024-03-01,yes "
check_contains "CSV notes go to stderr" rate.err "partial period"
$TENURE --db r.db churn rate --as-of 2024-06-30 >late.out 2>late.err
check_contains "as-of past the data's end warns" late.err "warning: --as-of 2024-06-30 is after the data's end (2024-03-15)"

# cohorts: the cells whose period was not over at the as-of are marked
check "cohorts" $TENURE --db r.db cohorts
check_contains "partial cells starred" check.out "*"
check_contains "and explained" check.out "* partial: the period was not over at the as-of (2024-03-15)"
$TENURE --db r.db --format csv cohorts >coh.csv 2>&1
check_eq "CSV: the first partial cell of each cohort" "$(cut -d, -f1 coh.csv | tr '\n' ' ')|$(awk -F, '{print $NF}' coh.csv | tr '\n' ' ')" \
  "cohort 2024-01-01 2024-02-01 2024-03-01 |partial_from m2 m1  "

# an empty store, and no store at all: every command that reads the store answers alike, with exit 0
printf 'id\n' >none.csv
check "an empty store" $TENURE --db empty.db import customers none.csv
for db in empty.db missing.db; do
  bad=""
  for c in "summary" "churn rate" "churn status" "churn export --csv x.csv" "cohorts" "survival" "drivers" \
    "value summary" "value score" "value at-risk" "value retention" "value profitability" \
    "predict features --as-of 2026-01-01 --horizon 30" "predict backtest --as-of 2026-01-01 --horizon 30" \
    "predict train --as-of 2026-01-01 --save m.json" "predict score --model m.json --as-of 2026-01-01" "alerts" \
    "feedback classify" "feedback scores" "feedback impact" "feedback matrix" "feedback follow-up" \
    "offers plan" "offers report" "offers plans" "offers ending" "offers nearing" "offers call" \
    "winback schedule" "winback report" "winback reasons" "points balance" "points tiers" "points check" \
    "points at-risk" "journey funnel" "journey churn" "journey stuck" "report --html e.html"; do
    # shellcheck disable=SC2086
    $TENURE --db $db $c >out.txt 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] || ! grep -qF "no data yet in $db: import your customers and subscriptions" out.txt; then
      bad="$bad [$c: exit $rc: $(head -1 out.txt)]"
    fi
  done
  check_eq "every command on $db: exit 0 and \"no data yet\"" "$bad" ""
done
printf 'id,signed_up_at\nq1,2026-01-01\n' >one.csv
check "customers without subscriptions" $TENURE --db nosubs.db import customers one.csv
check "churn rate without subscriptions" $TENURE --db nosubs.db churn rate
check_contains "says no subscriptions yet" check.out "no data yet in nosubs.db: no subscriptions; import them"
check "offers plan without subscriptions" $TENURE --db nosubs.db offers plan
check_contains "stores no empty plan" check.out "no data yet in nosubs.db"
check "summary on an empty store" $TENURE --db empty.db summary
check_eq "no \"As of 1970-01-01\"" "$(grep -c 1970 check.out)" 0
check_contains "the empty store's report still says so" e.html "No"
$TENURE --db empty.db --format csv churn rate >nd.csv 2>nd.err
check_eq "CSV on an empty store: nothing on stdout" "$(wc -c <nd.csv | tr -d ' ')" 0
check_contains "CSV on an empty store: the message on stderr" nd.err "no data yet"

# store errors name their cause.  Permissions do not bind root: run those as nobody (setpriv) when root.
# nobody must reach the CLI: a checkout in a private directory (a clone into
# `mktemp -d`, mode 700) is not reachable, so then the CLI, its wrapper and the
# leak checker's suppressions are copied into this test's directory first.
RTENURE=$TENURE
if [ "$(id -u)" = 0 ]; then
  chmod 755 .
  run_as() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  if ! run_as test -x "$TENURE_BIN" || ! run_as test -x "$TENURE"; then
    mkdir nb && cp "$TENURE" "$TENURE_BIN" "$REPO/tests/lsan.supp" nb/ && chmod -R a+rX nb || exit 1
    RTENURE="env TENURE_BIN=$PWD/nb/$(basename "$TENURE_BIN") LSAN_OPTIONS=$(printf '%s' "$LSAN_OPTIONS" |
      sed "s|suppressions=[^:]*|suppressions=$PWD/nb/lsan.supp|") $PWD/nb/$(basename "$TENURE")"
  fi
else
  run_as() { "$@"; }
fi
printf 'id,signed_up_at\nz1,2026-01-01\n' >c1.csv
cp d.db ro.db
chmod 444 ro.db c1.csv
checked run_as $RTENURE --db ro.db import customers c1.csv >ro.out 2>&1
check_eq "import into a read-only store fails" "$?" 1
check_contains "and says the store is read-only" ro.out "ro.db: the store is read-only"
check_eq "not as a CSV row error" "$(grep -c 'c1.csv:2' ro.out)" 0
check "a read-only store can still be read" run_as $RTENURE --db ro.db summary
cp d.db np.db
chmod 000 np.db
checked run_as $RTENURE --db np.db summary >np.out 2>&1
check_eq "an unreadable store fails" "$?" 1
check_contains "and says permission denied" np.out "np.db: cannot open the store: Permission denied"
check_fails "report into a missing folder fails" $TENURE --db d.db report --html nowhere/report.html
check_contains "and names the file and the cause" check.out "cannot write nowhere/report.html: No such file or directory"

# a tiny store: the purchase models say there are no purchases yet; a risk model says why it cannot learn
check "value summary without purchases" $TENURE --db r.db value summary
check_contains "no purchase events yet" check.out "no data yet in r.db: no purchase events"
check_fails "predict train with no churner in the window" $TENURE --db r.db predict train --as-of 2024-03-01 --horizon 10 --save m.json
check_contains "says there is nothing to learn from" check.out "nothing to learn from: none of the"
