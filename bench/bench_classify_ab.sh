#!/bin/sh
# bench_classify_ab.sh -- issue 17's classification goal (500k texts per
# CPU-second on one core) as an A/B: the classifier of BASE (a git commit,
# default 63359cb, main before session 23's changes) against the working
# tree's, back to back in the same load.  Only src/feedback/*.c is taken from
# BASE (compiled into a copy of build/libtenure.a), so both binaries differ
# in the classifier alone.  Each round runs A then B on the same texts; the
# medians of ROUNDS rounds of CPU microseconds per text are printed for the
# mixed texts (the held-out file, 1/3 English), English only and Arabic +
# Persian only, with the load average.  The vector code is on (if the CPU
# has AVX-512); SCALAR=1 runs the new build with TN_FB_SIMD=0 as well.
# Needs build/libtenure.a (make build/tenure).  Sizes: TEXTS=200000, REPS=2.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
BASE=${BASE:-63359cb}
TEXTS=${TEXTS:-200000}
ROUNDS=${ROUNDS:-5}
REPS=${REPS:-2}
SCALAR=${SCALAR:-0}
D=$BENCH_DIR/classify_ab
mkdir -p "$D/base_src/feedback" "$D/obj"
machine
CC="cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -fvisibility=hidden -Iinclude $(pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)"
[ -f build/libtenure.a ] || { echo "bench_classify_ab: build/libtenure.a missing (make build/tenure)" >&2; exit 1; }
# B: the working tree's library; A: the same with BASE's classifier
$CC -Isrc -o "$D/classify_new" bench/classify_bench.c build/libtenure.a $TN_LIBS || exit 1
rm -f "$D"/obj/*.o "$D"/base_src/feedback/*
for f in $(git ls-tree --name-only "$BASE" src/feedback/); do
  git show "$BASE:$f" >"$D/base_src/feedback/$(basename "$f")" || exit 1
done
for f in "$D"/base_src/feedback/*.c; do
  # BASE's sources with BASE's private headers first, the tree's public ones
  $CC -I"$D/base_src" -Isrc -c "$f" -o "$D/obj/$(basename "$f" .c).o" || exit 1
done
cp build/libtenure.a "$D/libbase.a" && ar rcs "$D/libbase.a" "$D"/obj/*.o || exit 1
# classify_bench.c as of BASE (the tree's may use the new switch)
git show "$BASE:bench/classify_bench.c" >"$D/classify_bench_base.c" || exit 1
$CC -Ibench -I"$D/base_src" -Isrc -o "$D/classify_base" "$D/classify_bench_base.c" "$D/libbase.a" $TN_LIBS || exit 1
tx=$D/texts_$TEXTS.csv
texts_csv "$tx" "$TEXTS"
LC_ALL=C awk 'NR == 1 || !/[\200-\377]/' "$tx" >"$D/texts_en.csv"
LC_ALL=C awk 'NR == 1 || /[\200-\377]/' "$tx" >"$D/texts_arfa.csv"
# the predictions first: both builds must write the same bytes
DUMP="$D/base.dump" "$D/classify_base" "$tx" 1 >/dev/null || exit 1
DUMP="$D/new.dump" "$D/classify_new" "$tx" 1 >/dev/null || exit 1
if cmp -s "$D/base.dump" "$D/new.dump"; then echo "predictions: identical on $TEXTS texts"
else echo "predictions: DIFFER (cmp $D/base.dump $D/new.dump)"; fi
one() { # LABEL BIN [ENV] -> "us load"
  env ${3:-X=} "$D/$2" "$4" "$REPS" | sed -n 's/.*(\([0-9.]*\) us\/text); load \([0-9.]*\).*/\1 \2/p'
}
for set in mixed:$tx en:$D/texts_en.csv arfa:$D/texts_arfa.csv; do
  name=${set%%:*}; file=${set#*:}
  : >"$D/$name.out"
  for r in $(seq "$ROUNDS"); do
    echo "base $(one base classify_base X= "$file")" >>"$D/$name.out"
    echo "new $(one new classify_new X= "$file")" >>"$D/$name.out"
    [ "$SCALAR" = 1 ] && echo "scalar $(one scalar classify_new TN_FB_SIMD=0 "$file")" >>"$D/$name.out"
  done
  for b in base new scalar; do
    awk -v b="$b" '$1 == b { print $2, $3 }' "$D/$name.out" | sort -n | awk -v b="$b" -v s="$name" '
      { u[NR] = $1; if (NR == 1 || $2 < lo) lo = $2; if (NR == 1 || $2 > hi) hi = $2 }
      END { if (!NR) exit; m = u[int((NR + 1) / 2)]
        printf "%-6s %-6s CPU per text: median %.2f us (best %.2f) = %.0fk texts per CPU-second; load %s-%s\n",
          s, b, m, u[1], 1000 / m, lo, hi }'
  done
done
