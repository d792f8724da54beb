#!/bin/sh
# run.sh BUILD_DIR -- run every test and print the total as "N passed, N failed".
#  * unit tests: each BUILD_DIR/tests/test_* binary (cmocka); its
#    "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines are counted.
#  * end-to-end tests: each tests/e2e/*.sh script, run with $TENURE set to the
#    sanitizer-built CLI; it prints "ok - NAME" or "not ok - NAME" per check
#    (tests/e2e/lib.sh), which are counted.  A script that exits non-zero
#    without printing "not ok" counts as one failure.
set -u
B=${1:-build/asan}
passed=0; failed=0
export TENURE="$PWD/$B/tenure"
export REPO="$PWD"
export TENURE_TEST_DATA="$PWD/tests/data"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
only=${TESTS:-}

for t in "$B"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case "$only" in ""|*"$name"*) ;; *) continue ;; esac
  (cd tests/unit && "../../$t") >"$log/$name.out" 2>&1
  rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    echo "FAIL $name"; sed 's/^/    /' "$log/$name.out" | tail -60
  else
    echo "ok   $name ($p)"
  fi
done

for s in tests/e2e/*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s" .sh)
  case "$s" in */lib.sh) continue ;; esac
  case "$only" in ""|*"$name"*) ;; *) continue ;; esac
  work=$(mktemp -d)
  (cd "$work" && sh "$OLDPWD/$s") >"$log/$name.out" 2>&1
  rc=$?
  rm -rf "$work"
  p=$(grep -c '^ok - ' "$log/$name.out")
  f=$(grep -c '^not ok - ' "$log/$name.out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    echo "FAIL e2e/$name"; sed 's/^/    /' "$log/$name.out" | tail -60
  else
    echo "ok   e2e/$name ($p)"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
