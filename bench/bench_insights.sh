#!/bin/sh
# bench_insights.sh -- the dashboard's insights value ("insights|", the
# longest of the cold round) on a demo store, in its three parts: the
# scoring, the churn frame and the tables (bench/insights_bench.c).  The
# store: $BENCH_DIR/dash-$DASH_CUSTOMERS.db (default 50,000; made as
# bench_dashboard.sh makes it); its text answers must be labelled (a first
# `tenure report --html x.html` or dashboard start does it).  A/B:
# BASE_LIB=path to another build's libtenure.a (e.g. main's) alternates the
# two builds (base, this) REPS times (default 3) and compares the tables
# byte for byte.  CPU seconds of the process (the fair figure on a shared
# machine); the load average is printed with each run.
#   DASH_CUSTOMERS=200000 BASE_LIB=/tmp/base/build/libtenure.a sh bench/bench_insights.sh
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
REPS=${REPS:-3}
[ -f build/libtenure.a ] || { echo "build first: make" >&2; exit 1; }
machine
dash_store "$N" || exit 1
D=$BENCH_DIR/insights
mkdir -p "$D"
build() { bench_link bench/insights_bench.c "$1" "$2"; }
build build/libtenure.a "$D/this" || exit 1
BUILDS="this"
if [ -n "${BASE_LIB:-}" ]; then build "$BASE_LIB" "$D/base" || exit 1; BUILDS="base this"; fi
echo "the insights value on $N customers ($DB), CPU s per part:"
for i in $(seq 1 "$REPS"); do
  for b in $BUILDS; do
    echo "  $b (load $(cut -d' ' -f1 /proc/loadavg)): $("$D/$b" "$DB" 2>&1 >"$D/$b.out" | tail -1)"
  done
  if [ -n "${BASE_LIB:-}" ]; then
    cmp -s "$D/base.out" "$D/this.out" && echo "  tables identical" || echo "  TABLES DIFFER ($D/base.out, $D/this.out)"
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: CPU seconds are the fair figure)"
