#!/bin/sh
# predict_store.sh -- `tenure predict features|backtest` on a small demo store:
# one row per live customer, no leakage from after the cut-off, a useful backtest.
. "$REPO/tests/e2e/lib.sh"
$TENURE --db d.db demo --customers 1500 --months 12 >demo.out 2>&1
check_eq "demo store written" "$?" 0
cp d.db th.db # a copy without alerts, for the thresholds check
$TENURE --db d.db --format csv predict features --as-of 2026-08-31 --horizon 30 >f1.csv 2>f1.err
check_contains "features header" f1.csv "customer,tenure_days,plan,billing_period,price,mrr"
rows=$(($(wc -l <f1.csv) - 1))
check "some live customers" test "$rows" -gt 100
rate=$(awk -F, 'NR > 1 { s += $NF } END { print s / (NR - 1) }' f1.csv)
check "label rate strictly between 0 and 1" awk -v r="$rate" 'BEGIN { exit !(r > 0 && r < 1) }'

# no leakage: deleting everything recorded after the cut-off changes no feature
cut=$(date -u -d '2026-08-31 23:59:59' +%s)
cp d.db cut.db
sqlite3 cut.db "DELETE FROM events WHERE occurred_at > $cut; DELETE FROM payments WHERE paid_at > $cut;
  DELETE FROM feedback WHERE given_at > $cut;"
$TENURE --db cut.db --format csv predict features --as-of 2026-08-31 --horizon 30 >f2.csv 2>f2.err
check_eq "features ignore history after the cut-off" "$(cut -d, -f1-25 f2.csv | md5sum)" "$(cut -d, -f1-25 f1.csv | md5sum)"

# the features feed the flat-file commands
check "cv on the features" $TENURE predict cv --csv f1.csv --target churned --id customer --folds 3

$TENURE --db d.db --format json predict backtest --as-of 2026-08-31 --horizon 30 >bt.json 2>bt.err
auc=$(sed -n 's/.*"auc":\([0-9.]*\).*/\1/p' bt.json)
check_near "backtest auc well above chance" "$auc" 0.8 0.15
check_fails "backtest needs --horizon" $TENURE --db d.db predict backtest --as-of 2026-08-31
check_fails "bad date is an error" $TENURE --db d.db predict features --as-of 31/08/2026 --horizon 30
$TENURE predict features --help >h.txt
check_contains "features help lists columns" h.txt "support_tickets_90d"

# alerts: raised once per episode, acknowledged, resolved when the condition ends
$TENURE --db d.db --format csv alerts --as-of 2026-08-31 >a1.csv 2>a1.err
check_contains "alerts header" a1.csv "id,customer,kind,raised_at,risk,mrr,mrr_at_risk,detail,status"
$TENURE --db d.db --format csv alerts --no-update --all >a1all.csv 2>&1
n1=$(($(wc -l <a1all.csv) - 1))
check "some alerts raised" test "$n1" -gt 20
check_eq "the top 20 by default" "$(($(wc -l <a1.csv) - 1))" 20
check_contains "first run: the counts agree with the rows (all new, all open)" a1.err "$n1 new, 0 open from earlier runs and still holding, 0 resolved; $n1 open now"
check_contains "says how many are not shown" a1.err "20 of $n1 open alerts shown"
check_eq "every row of the first run is open" "$(cut -d, -f9 a1all.csv | sed 1d | sort -u)" "open"
check "listed by revenue at risk, largest first" awk -F, 'NR > 2 && $7 > prev + 1e-9 { exit 1 } { prev = $7 }' a1.csv
check_eq "no \"in 1 days\"" "$(grep -c -e 'in 1 days' -e 'for 1 days' -e ' 1 days ago' a1all.csv)" 0
$TENURE --db d.db alerts --no-update >a1.txt 2>&1
check_contains "table: the count and the way to see more" a1.txt "20 of $n1 open alerts shown, the most monthly revenue at risk first (--top N for more, --all for every alert)"
$TENURE --db d.db --format csv alerts --as-of 2026-08-31 >a2.csv 2>a2.err
check_contains "second run raises nothing new" a2.err " 0 new, $n1 open from earlier runs"
check_eq "same open alerts listed" "$(cat a2.csv)" "$(cat a1.csv)"
id=$(awk -F, 'NR == 2 { print $1 }' a1.csv)
check "ack an alert" $TENURE --db d.db alerts ack "$id"
$TENURE --db d.db --format csv alerts --no-update --top 1000000 >a3.csv 2>&1
check_eq "acked alert no longer listed" "$(($(wc -l <a3.csv) - 1))" "$((n1 - 1))"
$TENURE --db d.db --format csv alerts --no-update --all >a4.csv 2>&1
check_contains "acked alert listed with --all" a4.csv ",acked"
check_fails "ack of a missing id fails" $TENURE --db d.db alerts ack 999999
$TENURE --db d.db --format csv alerts --as-of 2026-09-30 --since 2026-09-01 >a5.csv 2>a5.err
check_contains "a later run resolves ended episodes" a5.err "resolved"
$TENURE --db th.db --format csv alerts --as-of 2026-08-31 --inactive-days 100000 --detractor -1 >th.csv 2>&1
check_eq "thresholds are configurable (no inactive, no detractor alerts)" "$(grep -c -e ',inactive,' -e ',detractor,' th.csv)" 0
check_contains "default thresholds raise inactive alerts" a1all.csv ",inactive,"
$TENURE alerts --help >ah.txt
check_contains "alerts help documents thresholds" ah.txt "--inactive-days"

# train and score straight from the store
check "train from the store" $TENURE --db d.db predict train --as-of 2026-07-31 --horizon 30 --save st.json
check_contains "train prints the backtest quality" check.out "backtest: trained at 2026-07-01, tested on 2026-07-31"
auc=$(awk 'NR == 3 {print $5}' check.out)
check "train: backtest AUC well above chance ($auc)" awk -v a="$auc" 'BEGIN { exit !(a > 0.65 && a <= 1) }'
$TENURE --db d.db predict score --model st.json --as-of 2026-08-31 --top 20 >words.txt 2>&1
check_contains "score says the horizon" words.txt "risk = the probability of leaving in the next 30 days"
check_contains "reasons in words: the period end" words.txt "period ends"
check "reasons without raw names, log-odds or exponents" sh -c \
  "! grep -E 'days_to_period_end|is (low|high) \\(|\\(\\+[0-9]|[0-9]e[-+][0-9]' words.txt"
$TENURE --db d.db --format csv predict score --model st.json --as-of 2026-08-31 --top 3 >ss.csv 2>&1
check_eq "score from the store: 3 rows + header" "$(wc -l <ss.csv | tr -d ' ')" 4
check_contains "store ids in the ranking" ss.csv ",C0"
check_fails "--csv and --as-of together fail" $TENURE --db d.db predict score --model st.json --as-of 2026-08-31 --csv f1.csv
$TENURE --db d.db predict features --as-of 2026-10-20 --horizon 30 --out late.csv 2>late.err
check_contains "label window past the data's end is flagged" late.err "labels too low"
