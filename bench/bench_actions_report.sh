#!/bin/sh
# bench_actions_report.sh -- the dashboard's /act computation ("actions" in
# the server's cold round: tn_report_actions = offers, win-back, the points
# check and points at risk, the onboarding journey) on a demo store, part by
# part: CPU seconds and peak RSS of a process that runs only that part, so a
# part's memory is its own.  The store: $BENCH_DIR/dash-$DASH_CUSTOMERS.db
# (default 50,000; made as bench_dashboard.sh makes it).  A/B: BASE_LIB=path
# to another build's libtenure.a (e.g. main's) runs the same parts with it,
# back to back, and compares the tables byte for byte.  REPS (default 3)
# runs of each; the minimum CPU is printed (the machine may be shared).
#   DASH_CUSTOMERS=1000000 BASE_LIB=/tmp/base/build/libtenure.a sh bench/bench_actions_report.sh
. bench/lib.sh
N=${DASH_CUSTOMERS:-50000}
REPS=${REPS:-3}
PARTS=${PARTS:-"winback check risk journey all"}
[ -f build/libtenure.a ] || { echo "build first: make" >&2; exit 1; }
machine
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dash_store "$N" || exit 1
D=$BENCH_DIR/actions_report
mkdir -p "$D"
build() { bench_link bench/actions_report_bench.c "$1" "$2"; }
build build/libtenure.a "$D/this" || exit 1
BUILDS="this"
if [ -n "${BASE_LIB:-}" ]; then build "$BASE_LIB" "$D/base" || exit 1; BUILDS="base this"; fi
echo "the /act computation on $N customers, per part: min CPU s of $REPS runs, peak RSS MB (max):"
for p in $PARTS; do
  for b in $BUILDS; do
    for i in $(seq 1 "$REPS"); do
      "$D/$b" "$DB" "$p" 2>&1 >"$D/$b.$p.out" | sed -n 's/.*CPU *\([0-9.]*\) s.*peak RSS \([0-9]*\) MB.*/\1 \2/p'
    done | sort -n | awk -v p="$p" -v b="$b" 'NR == 1 { c = $1 } { if ($2 > r) r = $2 } END { printf "  %-8s %-4s CPU %7.2f s  peak RSS %5d MB\n", p, b, c, r }'
  done
  if [ -n "${BASE_LIB:-}" ]; then
    cmp -s "$D/base.$p.out" "$D/this.$p.out" && echo "  $p: outputs identical" || echo "  $p: OUTPUTS DIFFER ($D/base.$p.out, $D/this.$p.out)"
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (figures on a shared machine: CPU seconds are the fair figure)"
