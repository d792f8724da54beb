#!/bin/sh
# run.sh -- run every benchmark script in bench/ (make bench).  Each prints its
# figures; the machine is printed once here.  BENCH=name runs only that one.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
machine
status=0
for b in bench/bench_*.sh; do
  [ -f "$b" ] || continue
  case "${BENCH:-}" in ""|*"$(basename "$b" .sh | sed 's/^bench_//')"*) ;; *) continue ;; esac
  echo
  echo "== $(basename "$b" .sh)"
  sh "$b" || status=1
done
exit $status
