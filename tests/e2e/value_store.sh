# value_store.sh -- `tenure value summary|score|at-risk` on the store (the
# demo company's purchase events), where T = 0 customers must not stop scoring.
. "$REPO/tests/e2e/lib.sh"

check "demo company" $TENURE --db demo.db demo --customers 4000
check "value summary from the store" $TENURE --db demo.db --format csv value summary
check_contains "summary header" check.out "customer,frequency,recency,T"
n=$(($(wc -l < check.out) - 1))
buyers=$(sqlite3 demo.db "SELECT count(DISTINCT customer_id) FROM events WHERE type_id = (SELECT id FROM event_types WHERE name = 'purchase')")
check_eq "one summary row per purchasing customer" "$n" "$buyers"
# (stdout only: the fits' warnings go to stderr with --format csv)
check "value score from the store" sh -c "$TENURE --db demo.db --quiet --format csv value score > score.csv"
check_contains "score columns" score.csv "p_alive,expected_transactions,expected_spend,clv"
bad=$(awk -F, '$1 != "customer" && ($5 + 0 < 0 || $5 + 0 > 1 || $5 == "") {n++} END {print n + 0}' score.csv)
check_eq "P(alive) within [0, 1]" "$bad" "0"
check "value at-risk by channel" $TENURE --db demo.db value at-risk --by channel
check_contains "profitability table" check.out "profitability by channel"
check_contains "paid_social segment" check.out "paid_social"

# segment profitability: a hand-computed case, then the demo's paid-social channel
printf 'id,signed_up_at,channel,acquisition_cost\nc1,2024-01-01,ads,10\nc2,2024-01-01,friends,0\n' > pc.csv
printf 'customer,paid_at,amount,currency,status\nc1,2024-01-08,20,USD,succeeded\nc1,2024-01-09,5,USD,refunded\nc2,2024-01-08,8,USD,succeeded\nc2,2024-02-08,8,USD,failed\n' > pp.csv
check "import" $TENURE --db p.db import customers pc.csv
check "import payments" $TENURE --db p.db import payments pp.csv
check "profitability by channel" $TENURE --db p.db --format csv value profitability --margin 0.5
# ads: revenue 20 - 5 = 15, 0.5 x 15 - 10 = -2.5; friends: 8 (the failed charge is no revenue), 0.5 x 8 = 4
check_eq "ads: revenue, cost, profit to date" "$(awk -F, '$1 == "ads" {print $4, $7, $8}' check.out)" "15 10 -2.5"
check_eq "friends: profit to date" "$(awk -F, '$1 == "friends" {print $8}' check.out)" "4"
check_contains "ads costs more than it brings" check.out "ads,1,0,15,0,0,10,-2.5,-2.5,-2.5,costs more than it brings"
check "demo profitability" $TENURE --db demo.db --format csv value profitability
cp check.out profit.csv
check "paid_social has not paid back its acquisition cost" awk -F, '$1 == "paid_social" && $8 < 0 {f = 1} END {exit !f}' profit.csv
check "organic is profitable already" awk -F, '$1 == "organic" && $8 > 0 {f = 1} END {exit !f}' profit.csv
