#!/bin/sh
# bench_causes.sh -- competing risks on CAUSES_ROWS (default 1,000,000) rows:
# the Aalen-Johansen cumulative incidence of two causes by a two-level group
# with R's standard errors, Tenure (tenure survival --causes --csv) against
# R's survival package (survfit(Surv(time, factor(status)) ~ g)), end to end
# (CSV read + fit) on both sides, and R around survfit() alone; the largest
# |difference| of the incidence at day 365 between the two.  Data generated
# by awk into $BENCH_DIR (never committed).
set -u
. "$(dirname "$0")/lib.sh"
ROWS=${CAUSES_ROWS:-1000000}
[ -x "$TENURE" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v Rscript >/dev/null || { echo "bench: Rscript missing (scripts/deps.sh install test)" >&2; exit 1; }
csv=$BENCH_DIR/causes_$ROWS.csv
if [ ! -f "$csv" ]; then
  echo "generating $csv ..."
  awk -v n="$ROWS" 'BEGIN { srand(13); print "time,status,g";
    for (i = 0; i < n; i++) { g = (rand() < 0.4) ? "b" : "a"; t = int(-log(1 - rand()) * (g == "a" ? 150 : 110)) + 1;
      s = (rand() < (g == "a" ? 0.65 : 0.5)) ? 1 : 2; if (t > 730) { t = 730; s = 0 } else if (rand() < 0.2) s = 0;
      print t "," s "," g } }' >"$csv.tmp" && mv "$csv.tmp" "$csv"
fi
echo "Competing risks (Aalen-Johansen + infinitesimal-jackknife errors), $ROWS rows, 2 causes, 2 groups"
measure "tenure survival --causes" "$TENURE" --format csv survival --causes --csv "$csv" --time time --status status --by g --at 365 --quiet
ours=$SECS; ours_rss=$RSS_MB
cp "$BENCH_DIR/.out" "$BENCH_DIR/causes_ours.csv"
cat >"$BENCH_DIR/causes.R" <<'REOF'
suppressMessages(library(survival))
a <- commandArgs(TRUE)
d <- read.csv(a[1])
t0 <- proc.time()[["elapsed"]]
f <- survfit(Surv(time, factor(status, 0:2)) ~ g, data = d)
el <- proc.time()[["elapsed"]] - t0
s <- summary(f, times = 365)
cat(el, as.vector(t(s$pstate)), "\n")
REOF
measure "R survfit" Rscript "$BENCH_DIR/causes.R" "$csv"
r=$SECS; r_rss=$RSS_MB
r_fit=$(awk '{print $1}' "$BENCH_DIR/.out")
# max |difference| of the six probabilities at day 365 (groups a, b x states s0, 1, 2)
diff=$(awk 'NR == FNR { if (FNR > 1) { split($0, f, ","); v[++n] = f[5] } next }
  { m = 0; for (i = 2; i <= NF; i++) { d = $i - v[i - 1]; if (d < 0) d = -d; if (d > m) m = d } print m }' \
  "$BENCH_DIR/causes_ours.csv" "$BENCH_DIR/.out")
echo "  end to end (CSV read + fit): tenure ${ours} s (peak RSS ${ours_rss} MB, $(rate "$ROWS" "$ours") rows/s),"
echo "    R read.csv + survfit ${r} s (peak RSS ${r_rss} MB; survfit alone ${r_fit} s), ratio $(ratio "$r" "$ours")x"
echo "  max |difference| of the incidence at day 365: ${diff}"
