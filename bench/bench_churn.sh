#!/bin/sh
# bench_churn.sh -- `tenure churn status` speed and memory on a demo company
# (issue 3; target: 1,000,000 customers with 100,000,000 events under 30 s).
# The demo has about 106 events per customer, so CUSTOMERS=1000000 is the
# target size (about 2.4 GB of store, ~2 minutes to generate); the default
# 100,000 customers (10.6 M events) keeps `make bench` short.
#   * churn status, built-in "cancelled" (reads customers + subscriptions)
#   * churn status with inactivity + defection (also streams every event)
#   * churn rate (two passes), churn export (streamed CSV) and tenure report
#     (which also fits Kaplan-Meier, the danger window and Cox in memory)
# Output goes to /dev/null as CSV (streamed; table output holds every row).
set -eu
. bench/lib.sh
CUSTOMERS=${CUSTOMERS:-100000}
D=$BENCH_DIR/churn
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }
DB=$D/demo_$CUSTOMERS.db
if [ ! -f "$DB" ]; then
  measure "tenure demo $CUSTOMERS" "$TENURE" --db "$DB" --quiet demo --customers "$CUSTOMERS" --force
  echo "generated $CUSTOMERS customers with tenure demo in ${SECS}s"
fi
EVENTS=$(sqlite3 "$DB" 'SELECT count(*) FROM events')
SUBS=$(sqlite3 "$DB" 'SELECT count(*) FROM subscriptions')
echo "store: $CUSTOMERS customers, $SUBS subscriptions, $EVENTS events, $(du -m "$DB" | cut -f1) MB"
"$TENURE" --db "$DB" churn define bench_activity --cancelled --inactive-days 30 --event-types session \
  --defection-window 14 --defection-baseline 60 --defection-fraction 0.3 >/dev/null

run() { # run NAME CMD...: time it twice (the first warms the page cache), report the second
  _n=$1; shift
  measure "$_n" "$@" >/dev/null 2>&1 || true
  measure "$_n" "$@"
}
run "status cancelled" "$TENURE" --db "$DB" --format csv churn status
echo "churn status (cancelled):            ${SECS}s, $(rate "$CUSTOMERS" "$SECS") customers/s, peak RSS ${RSS_MB} MB"
run "status activity" "$TENURE" --db "$DB" --format csv churn status --definition bench_activity
echo "churn status (inactivity+defection): ${SECS}s, $(rate "$CUSTOMERS" "$SECS") customers/s, $(rate "$EVENTS" "$SECS") events/s, peak RSS ${RSS_MB} MB"
run "rate" "$TENURE" --db "$DB" --format csv churn rate
echo "churn rate (monthly, 2 passes):      ${SECS}s, peak RSS ${RSS_MB} MB"
run "export" "$TENURE" --db "$DB" churn export --csv "$D/export.csv"
echo "churn export --csv (streamed):       ${SECS}s, $(rate "$CUSTOMERS" "$SECS") customers/s, peak RSS ${RSS_MB} MB"
rm -f "$D/export.csv"
run "report" "$TENURE" --db "$DB" report --html "$D/report.html"
echo "report --html:                       ${SECS}s, peak RSS ${RSS_MB} MB"
