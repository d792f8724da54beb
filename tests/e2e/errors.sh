# errors.sh -- a damaged store is an error, never a short answer: with one
# page of the subscriptions table overwritten, the commands that read it fail
# with SQLite's message (the old read loops stopped at the damage and printed
# the rows before it, exit 0).
. "$REPO/tests/e2e/lib.sh"

check "demo company" $TENURE --db demo.db demo --customers 3000 --months 6
check "journey churn on the intact store" $TENURE --db demo.db journey churn --now 2026-06-30
check "offers ending on the intact store" $TENURE --db demo.db offers ending --now 2026-06-01
cp demo.db bad.db
# the last leaf page of the subscriptions table (dbstat), its header overwritten
page=$(sqlite3 bad.db "SELECT max(pageno) FROM dbstat WHERE name = 'subscriptions' AND pagetype = 'leaf'")
size=$(sqlite3 bad.db "PRAGMA page_size")
check "found a leaf page of subscriptions ($page)" test "${page:-0}" -gt 2
printf '\377%.0s' $(seq 64) | dd of=bad.db bs=1 seek=$(( (page - 1) * size )) conv=notrunc 2>/dev/null
check_fails "journey churn on the damaged store fails" $TENURE --db bad.db journey churn --now 2026-06-30
check_contains "naming the store and SQLite's message" check.out "bad.db: reading subscriptions: database disk image is malformed"
check_fails "journey funnel fails" $TENURE --db bad.db journey funnel --now 2026-06-30
check_contains "journey funnel: malformed" check.out "malformed"
check_fails "offers ending fails" $TENURE --db bad.db offers ending --now 2026-06-01
check_contains "offers ending: malformed" check.out "listing subscriptions: database disk image is malformed"
check_fails "summary fails" $TENURE --db bad.db summary
check_contains "summary: malformed" check.out "malformed"
