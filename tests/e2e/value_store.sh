# value_store.sh -- `tenure value summary|score|at-risk` on the store (the
# demo company's purchase events), where T = 0 customers must not stop scoring.
. "$REPO/tests/e2e/lib.sh"

check "demo company" $TENURE --db demo.db demo --customers 4000
check "value summary from the store" $TENURE --db demo.db --format csv value summary
check_contains "summary header" check.out "customer,frequency,recency,T"
n=$(($(wc -l < check.out) - 1))
buyers=$(sqlite3 demo.db "SELECT count(DISTINCT customer_id) FROM events WHERE type_id = (SELECT id FROM event_types WHERE name = 'purchase')")
check_eq "one summary row per purchasing customer" "$n" "$buyers"
check "value score from the store" $TENURE --db demo.db --quiet --format csv value score
check_contains "score columns" check.out "p_alive,expected_transactions,expected_spend,clv"
bad=$(awk -F, '$1 != "customer" && ($5 + 0 < 0 || $5 + 0 > 1 || $5 == "") {n++} END {print n + 0}' check.out)
check_eq "P(alive) within [0, 1]" "$bad" "0"
check "value at-risk by channel" $TENURE --db demo.db value at-risk --by channel
check_contains "profitability table" check.out "profitability by channel"
check_contains "paid_social segment" check.out "paid_social"
