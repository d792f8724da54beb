#!/bin/sh
# ab_sources_import.sh -- A/B of two tenure binaries on the writer's side of
# Stripe webhooks, without HTTP: `tenure import stripe` of N (default 60,000)
# signed invoice.paid bodies (bench_sources.sh's bodies, as import
# envelopes), one thread and one transaction, so each notification's verify +
# decode + apply + keep is all that is timed.  BASE=/path/to/old/tenure
# (required) against TENURE (default build/tenure), PAIRS (default 5) pairs
# alternating A B, B A, ... into fresh stores.  It prints each run's user +
# system CPU per notification and the medians: CPU time does not depend on
# what else the machine runs, so the ratio holds under load.  Not run by
# `make bench` (it needs a second binary); without BASE it says so.
set -eu
. bench/lib.sh
if [ -z "${BASE:-}" ]; then
  echo "ab_sources_import.sh: set BASE=/path/to/the/baseline/tenure (e.g. main's build) to compare it with $TENURE"
  exit 0
fi
N=${N:-60000}
PAIRS=${PAIRS:-5}
D=$BENCH_DIR/sources_ab_import
rm -rf "$D"
mkdir -p "$D"
for b in "$BASE" "$TENURE"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 1; }; done
machine
echo "A (base): $BASE"
echo "B (new):  $TENURE"
python3 tests/e2e/sources_sign.py bench-stripe whsec_bench "$N" "$D/stripe.tsv"
# received_at: the signature's instant (the 300 s tolerance is judged against it)
awk -F '\t' -v now="$(date +%s)" '{ b = $2; gsub(/\\/, "\\\\", b); gsub(/"/, "\\\"", b);
  printf "{\"headers\":{\"Stripe-Signature\":\"%s\"},\"body\":\"%s\",\"received_at\":%s}\n", $1, b, now }' \
  "$D/stripe.tsv" >"$D/stripe.jsonl"
run() { # NAME BINARY PAIR
  rm -f "$D/$1.db" "$D/$1.db-wal" "$D/$1.db-shm"
  "$2" --db "$D/$1.db" sources add stripe --secret whsec_bench >/dev/null 2>&1
  l=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%U %S %e' -o "$D/time" "$2" --db "$D/$1.db" --quiet import stripe "$D/stripe.jsonl" >/dev/null
  read -r u s e <"$D/time"
  us=$(awk -v u="$u" -v s="$s" -v n="$N" 'BEGIN { printf "%.2f", 1e6 * (u + s) / n }')
  echo "$1 $us" >>"$D/rows"
  printf '%-4s pair %d: %s notifications in %s s user + %s s system = %5.2f us CPU a notification (%s s wall, load %s)\n' \
    "$( [ "$1" = a ] && echo base || echo new)" "$3" "$N" "$u" "$s" "$us" "$e" "$l"
}
i=0
while [ "$i" -lt "$PAIRS" ]; do
  if [ $((i % 2)) -eq 0 ]; then run a "$BASE" "$i"; run b "$TENURE" "$i"; else run b "$TENURE" "$i"; run a "$BASE" "$i"; fi
  i=$((i + 1))
done
# the two stores (the last pair's) hold the same rows
for t in source_notifications payments customers subscriptions subscription_state source_subscriptions; do
  ca=$(sqlite3 "$D/a.db" "SELECT * FROM $t ORDER BY rowid" | md5sum); cb=$(sqlite3 "$D/b.db" "SELECT * FROM $t ORDER BY rowid" | md5sum)
  [ "$ca" = "$cb" ] && echo "same rows in $t: $(sqlite3 "$D/b.db" "SELECT count(*) FROM $t")" || echo "DIFFERENT rows in $t"
done
med() { awk -v k="$1" '$1 == k {print $2}' "$D/rows" | sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ma=$(med a); mb=$(med b)
echo "median CPU a notification: base $ma us, new $mb us (new/base $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", b / a }'))"
