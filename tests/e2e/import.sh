# import.sh -- `tenure import` end to end: errors with positions and a non-zero
# exit, nothing half-written (a bad row at the end of a 1,000,000-row file; a
# process killed with SIGKILL mid-import), re-import is a no-op, --skip-bad.
. "$REPO/tests/e2e/lib.sh"

printf 'id,signed_up_at,country,channel\n' > customers.csv
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "c%d,2024-01-01T00:00:00Z,SA,organic\n", i }' >> customers.csv
check "import customers" $TENURE --db t.db import customers customers.csv
check "import customers again" $TENURE --db t.db --format csv import customers customers.csv
check_eq "re-import adds nothing" "$(tail -1 check.out | cut -d, -f4,5,6)" "0,0,1000"

# a million events with one bad row near the end
awk 'BEGIN { srand(7); print "customer,occurred_at,type,amount";
  for (i = 1; i <= 1000000; i++) {
    if (i == 999000) { print "c5,2024-02-30T10:00:00Z,session,"; continue }
    printf "c%d,%d,%s,\n", int(rand() * 1000), 1704067200 + i * 7, (i % 10 ? "session" : "feature_use") } }' > events.csv
check_fails "bad row fails the import" $TENURE --db t.db import events events.csv
check_contains "bad row reported with file, line and column" check.out \
  'events.csv:999001:2: occurred_at: expected an ISO-8601 time'
check_contains "says nothing was imported" check.out "nothing was imported"
check_eq "nothing written" "$(sqlite3 t.db 'SELECT count(*) FROM events')" "0"

# --skip-bad lands the good rows and keeps the bad one with its reason
check "skip-bad imports the rest" $TENURE --db t.db --format csv import events events.csv --skip-bad rejects.csv
check_eq "999,999 events written" "$(sqlite3 t.db 'SELECT count(*) FROM events')" "999999"
check_contains "rejects file has the reason" rejects.csv 'events.csv:999001:2: occurred_at'
check_eq "rejects file: header + 1 row" "$(wc -l < rejects.csv | tr -d ' ')" "2"
check "re-import the same file" $TENURE --db t.db --format csv import events events.csv --skip-bad rejects2.csv
check_eq "re-import added nothing" "$(tail -1 check.out | cut -d, -f4)" "0"
check_eq "still 999,999 events" "$(sqlite3 t.db 'SELECT count(*) FROM events')" "999999"

# SIGKILL in the middle of an import leaves the store as it was
awk 'BEGIN { print "customer,occurred_at,type"; for (i = 1; i <= 3000000; i++) printf "c%d,%d,purchase\n", i % 1000, 1800000000 + i }' > big.csv
# (the binary itself, not lib.sh's checking wrapper: this process is killed)
$TENURE_BIN --db t.db --quiet import events big.csv > /dev/null 2>&1 &
pid=$!
# wait until the import has written into the database file (its rollback journal exists)
n=0
while [ ! -s t.db-journal ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.5
if kill -0 $pid 2>/dev/null; then
  kill -9 $pid; wait $pid 2>/dev/null
  ok "import killed mid-way"
else
  not_ok "import killed mid-way" "the import finished before it could be killed"
fi
check_eq "store unchanged after SIGKILL" "$(sqlite3 t.db 'SELECT count(*) FROM events')" "999999"
check_eq "store intact after SIGKILL" "$(sqlite3 t.db 'PRAGMA integrity_check')" "ok"

# JSON Lines, with an error's column pointing at the key
printf '{"customer":"c1","occurred_at":"2024-05-01T10:00:00+04:00","type":"session"}\n{"customer":"c2","occurred_at":"soon","type":"session"}\n' > ev.jsonl
check_fails "bad JSON Lines row fails" $TENURE --db t.db import events ev.jsonl
check_contains "JSON Lines error names line and column" check.out 'ev.jsonl:2:18: occurred_at: expected an ISO-8601 time'

# usage errors
check_fails "unknown kind" $TENURE --db t.db import things customers.csv
check_contains "unknown kind explained" check.out 'KIND: expected customers, subscriptions, events, payments, feedback or rates'
check_fails "missing file" $TENURE --db t.db import events nosuch.csv
check_contains "missing file named" check.out 'nosuch.csv: cannot open'
