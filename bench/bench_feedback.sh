#!/bin/sh
# bench_feedback.sh -- feedback speed and memory (issue 5).
#   * classification: `tenure feedback classify --csv --export` over N texts
#     (default 1,000,000: the held-out set's 306 texts repeated with a row
#     number appended so no two are the same), texts per second on one core and
#     peak RSS; the default model is trained from data/feedback/train.csv at
#     start (included in the time).  Target: >= 100,000 texts/s.
#   * scores: NPS, CSAT and CES over ANSWERS (default 10,000,000) answers each
#     held in memory (library functions over arrays).  Target: under 1 s.
set -eu
. bench/lib.sh
N=${N:-1000000}
ANSWERS=${ANSWERS:-10000000}
D=$BENCH_DIR/feedback
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }

[ -f "$D/texts_$N.csv" ] || awk -v n="$N" -F'\n' 'NR == 1 { next }
  { t[m++] = $0 }
  END { print "text,type,language,theme"
        for (i = 0; i < n; i++) { r = t[i % m]
          # a quoted text: put the counter inside the quotes
          if (substr(r, 1, 1) == "\"") { sub(/^"/, "\"#" i " ", r); print r }
          else print "#" i " " r } }' data/feedback/heldout.csv > "$D/texts_$N.csv"

# wall time and user CPU time: the machine is shared, so the CPU rate is the steadier figure
/usr/bin/time -f '%e %U %M' -o "$D/.time" "$TENURE" --quiet feedback classify --csv "$D/texts_$N.csv" --text text \
  --export > "$D/out.csv"
got=$(($(wc -l < "$D/out.csv") - 1))
[ "$got" -eq "$N" ] || { echo "bench: classified $got of $N texts" >&2; exit 1; }
read -r SECS USER_SECS RSS_KB < "$D/.time"
echo "feedback classify:  $N texts in ${SECS}s wall = $(rate "$N" "$SECS") texts/s; ${USER_SECS}s CPU = $(rate "$N" "$USER_SECS") texts/s on one core; peak RSS $((RSS_KB / 1024)) MB; file $(du -m "$D/texts_$N.csv" | cut -f1) MB"

cc -std=c17 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude -Isrc -o "$D/scores_bench" bench/feedback_scores_bench.c build/libtenure.a \
  -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lm -lpthread
measure "feedback scores $ANSWERS" "$D/scores_bench" "$ANSWERS"
echo "feedback scores:    $(cat "$BENCH_DIR/.out") (peak RSS ${RSS_MB} MB, 3 x $ANSWERS doubles in memory)"
