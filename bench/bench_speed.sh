#!/bin/sh
# bench_speed.sh -- issue 17's two single-core goals measured alone, in CPU
# seconds (the fair figure on a shared machine) and wall seconds:
#   classification only (bench/classify_bench.c): model trained, texts held in
#     memory, then classified REPS times -- goal 500k texts per CPU-second
#     (also the English texts alone, and the Arabic and Persian ones alone);
#   the fast CSV reader on numeric columns (bench/frame_read_bench.c): the
#     KM file's time,left on one and two threads -- goal 1 GB/s.
# Sizes: TEXTS=200000 (the held-out texts numbered, as bench/peers.sh makes
# them), CSV_ROWS=2000000 (107 MB, peers.sh's KM columns).  The load average
# is printed with each figure.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
TEXTS=${TEXTS:-200000}
CSV_ROWS=${CSV_ROWS:-2000000}
D=$BENCH_DIR/speed
mkdir -p "$D"
CC="cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Iinclude -Isrc"
$CC -o "$D/classify_bench" bench/classify_bench.c build/libtenure.a $TN_LIBS || exit 1
$CC -o "$D/frame_read_bench" bench/frame_read_bench.c build/libtenure.a $TN_LIBS || exit 1
tx=$D/texts_$TEXTS.csv
texts_csv "$tx" "$TEXTS"
km=$D/km_$CSV_ROWS.csv
[ -f "$km" ] || awk -v n="$CSV_ROWS" 'BEGIN { srand(7);
  print "id,time,left,plan,age,spend,visits,score,region,tenure_m,discount,tickets,nps";
  split("basic,plus,pro", g, ",");
  for (i = 0; i < n; i++) { k = int(rand() * 3) + 1; t = int(-log(1 - rand()) * (100 + 50 * k)) + 1; e = 1;
    if (t > 730) { t = 730; e = 0 } else if (rand() < 0.25) e = 0;
    printf "%d,%d,%d,%s,%d,%.2f,%d,%.4f,r%d,%d,%.3f,%d,%d\n", i + 1, t, e, g[k], 18 + int(rand() * 60),
      rand() * 500, int(rand() * 40), rand(), int(rand() * 9), int(rand() * 72), rand() * 0.3,
      int(rand() * 5), int(rand() * 11) } }' >"$km.tmp" && mv "$km.tmp" "$km"
"$D/classify_bench" "$tx" 3 || exit 1
# the same texts split by script: English (ASCII) alone, Arabic and Persian alone
LC_ALL=C awk 'NR == 1 || !/[\200-\377]/' "$tx" >"$D/texts_ascii.csv"
LC_ALL=C awk 'NR == 1 || /[\200-\377]/' "$tx" >"$D/texts_arabic.csv"
printf 'English only: '; "$D/classify_bench" "$D/texts_ascii.csv" 3 || exit 1
printf 'Arabic and Persian only: '; "$D/classify_bench" "$D/texts_arabic.csv" 3 || exit 1
for th in 1 2; do
  "$D/frame_read_bench" "$km" time,left "$th" 5 || exit 1
done
"$D/frame_read_bench" "$km" time,left,age,spend,visits,score,tenure_m,discount,tickets,nps 1 3 || exit 1
