# demo.sh -- `tenure demo`, `tenure summary`, help for every command, schema rules.
. "$REPO/tests/e2e/lib.sh"

check "demo with 3000 customers" $TENURE demo --customers 3000
check_contains "demo prints a summary" check.out "mrr"
# 3000 customers, and by default 1% of that (30) on each of the App Store, Google Play and Stripe
# (docs/demo.md, "Store customers"): 3000 + 3 x 30
check_eq "demo.db has 3000 + 3 x 30 store customers" "$(sqlite3 demo.db 'SELECT count(*) FROM customers')" "3090"
check_eq "30 subscribers on each store, each with a source state" \
  "$(sqlite3 demo.db "SELECT group_concat(source || ' ' || n, ', ') FROM (SELECT source, count(*) AS n FROM subscription_state GROUP BY source ORDER BY source)")" \
  "appstore 30, googleplay 30, stripe 30"
check_contains "demo says what it added" check.out "store customers: 30 each on the App Store, Google Play and Stripe"
check_fails "demo refuses to overwrite" $TENURE demo --customers 10
check_contains "says how to replace" check.out "--force"
check "summary as json" $TENURE --db demo.db summary --format json
check_contains "json has customers" check.out '"measure":"customers","value":3090'
check "demo without store customers" $TENURE --db plain.db demo --customers 3000 --store-customers 0
check_eq "--store-customers 0: the 3000 alone" "$(sqlite3 plain.db 'SELECT count(*) FROM customers'), $(sqlite3 plain.db 'SELECT count(*) FROM subscription_state')" "3000, 0"

# the same seed gives the same company
check "second demo, same seed" $TENURE --db demo2.db demo --customers 3000
a=$(sqlite3 demo.db "SELECT count(*), sum(occurred_at) FROM events")
b=$(sqlite3 demo2.db "SELECT count(*), sum(occurred_at) FROM events")
check_eq "demo is deterministic" "$a" "$b"
# the store customers' notifications are signed with a key made on the spot (so the bodies differ), their states not
st() { sqlite3 "$1" "SELECT count(*), sum(length(s.state || COALESCE(s.cause, '')) * u.id), sum(s.expires_at) FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id"; }
check_eq "the store customers are deterministic" "$(st demo.db)" "$(st demo2.db)"

# planted effect, raw check: customers who never finished onboarding cancel more
r=$(sqlite3 demo.db "WITH c AS (SELECT cu.id, EXISTS(SELECT 1 FROM events e JOIN event_types t ON t.id = e.type_id
      WHERE e.customer_id = cu.id AND t.name = 'onboarding_complete') AS onb,
      EXISTS(SELECT 1 FROM subscriptions s WHERE s.customer_id = cu.id AND s.status IN ('cancelled','expired')) AS gone
      FROM customers cu)
    SELECT round((SELECT avg(gone) FROM c WHERE onb = 0) / (SELECT avg(gone) FROM c WHERE onb = 1), 2)")
check "never-onboarded customers churn more (ratio $r)" awk -v r="$r" 'BEGIN { exit !(r > 1.2) }'

# help for every command
check "tenure help" $TENURE help
for cmd in $($TENURE help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ {on = 0}'); do
  [ "$cmd" = help ] && continue
  check "tenure $cmd --help" $TENURE $cmd --help
  check "tenure help $cmd" $TENURE help $cmd
done
check_fails "unknown command" $TENURE frobnicate
check_fails "bad --format" $TENURE --format xml summary

# an older binary's view: a file from a newer Tenure is refused with a clear message
sqlite3 demo2.db "PRAGMA user_version = 999"
check_fails "newer store refused" $TENURE --db demo2.db summary
check_contains "explains the version" check.out "written by a newer Tenure"
printf 'id,name\n1,x\n' >notastore.csv
check_fails "not a store" $TENURE --db notastore.csv summary
check_contains "says it is not a store" check.out "not a Tenure store"

# a store with no data yet: every report command answers without a crash
printf 'id\n' > empty.csv
check "an empty customers file with a header" $TENURE --db empty.db import customers empty.csv
check_fails "a file without a header" $TENURE --db empty.db import customers /dev/null
check_contains "says what was expected" check.out "expected a header line, found an empty file"
check "report on an empty store" $TENURE --db empty.db report --html empty.html
check_contains "the report says there is no data" empty.html "No data yet"
check "summary on an empty store" $TENURE --db empty.db summary
check "churn rate on an empty store" $TENURE --db empty.db churn rate
