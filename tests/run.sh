#!/bin/sh
# run.sh BUILD_DIR [BUILD_DIR...] -- run every test and print the total as
# "N passed, N failed".  `make test` runs `tests/run.sh build/asan build`:
# the unit and end-to-end tests on the sanitizer build, then the end-to-end
# tests again on the release build (build/tenure).
#  * unit tests: each BUILD_DIR/tests/test_* binary (cmocka); its
#    "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines are counted.
#  * end-to-end tests: each tests/e2e/*.sh script, run with $TENURE set to
#    BUILD_DIR/tenure; it prints "ok - NAME" or "not ok - NAME" per check
#    (tests/e2e/lib.sh), which are counted.  A script that exits non-zero
#    without printing "not ok" counts as one failure.
#  * AddressSanitizer, UBSan and LeakSanitizer exit with their own status,
#    $TN_SANITIZER_EXIT (86), never 1: a sanitizer report is a failure of the
#    unit program, and of an end-to-end check even where the CLI was expected
#    to fail (lib.sh, tests/e2e/tenure-checked).
#  * TENURE_TEST_LOCPATH: a directory holding the de_DE.UTF-8 locale, compiled
#    here with localedef (Debian package `locales`) for the locale tests.
set -u
[ $# -gt 0 ] || set -- build/asan
passed=0; failed=0
export REPO="$PWD"
export TENURE_TEST_DATA="$PWD/tests/data"
export TN_SANITIZER_EXIT=86
# the caller's options come last, so they win -- but keep exitcode ours
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}:exitcode=$TN_SANITIZER_EXIT"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}:exitcode=$TN_SANITIZER_EXIT"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}:exitcode=$TN_SANITIZER_EXIT"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
only=${TESTS:-}
SANRE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

mkdir -p "$log/locale"
if localedef -i de_DE -f UTF-8 "$log/locale/de_DE.UTF-8" >"$log/localedef.out" 2>&1 ||
   [ -f "$log/locale/de_DE.UTF-8/LC_NUMERIC" ]; then
  export TENURE_TEST_LOCPATH="$log/locale"
else
  echo "note: localedef de_DE.UTF-8 failed (install the Debian package locales: scripts/deps.sh install test)"
fi

first=1
for B in "$@"; do
  if [ "$first" -eq 1 ]; then tag=""; else tag=" [$B]"; fi
  first=0
  case "$B" in /*) dir=$B ;; *) dir=$PWD/$B ;; esac
  export TENURE="$dir/tenure"
  unset TENURE_BIN
  if [ ! -x "$TENURE" ]; then
    echo "FAIL $B/tenure: not built"; failed=$((failed + 1)); continue
  fi
  for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$only" in ""|*"$name"*) ;; *) continue ;; esac
    (cd tests/unit && "$t") >"$log/$name.out" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -eq "$TN_SANITIZER_EXIT" ] || grep -qE "$SANRE" "$log/$name.out"; then
      echo "FAIL $name$tag: a sanitizer report (exit $rc)"; f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
      # a test program that ran no test passed nothing
      echo "no test ran" >>"$log/$name.out"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
      echo "FAIL $name$tag"; sed 's/^/    /' "$log/$name.out" | tail -60
    else
      echo "ok   $name$tag ($p)"
    fi
  done

  for s in tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    # sourced by tests, not tests themselves
    case "$s" in */lib.sh|*/pg.sh|*/sources_chain.sh) continue ;; esac
    case "$only" in ""|*"$name"*) ;; *) continue ;; esac
    work=$(mktemp -d)
    (cd "$work" && sh "$OLDPWD/$s") >"$log/$name.out" 2>&1
    rc=$?
    rm -rf "$work"
    p=$(grep -c '^ok - ' "$log/$name.out")
    f=$(grep -c '^not ok - ' "$log/$name.out")
    if grep -qE "$SANRE" "$log/$name.out"; then
      echo "FAIL e2e/$name$tag: a sanitizer report in the output"; f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
      # a script that checked nothing passed nothing
      echo "not ok - e2e/$name ran no check" >>"$log/$name.out"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
      echo "FAIL e2e/$name$tag"
      # every "not ok" with its detail lines, wherever it is in a long script;
      # the end of the output when the script died without one
      if grep -q '^not ok - ' "$log/$name.out"; then
        awk '/^not ok - / { p = 1; print "    " $0; next } /^    / { if (p) print "    " $0; next } { p = 0 }' \
          "$log/$name.out" | head -200
      else
        sed 's/^/    /' "$log/$name.out" | tail -60
      fi
    else
      echo "ok   e2e/$name$tag ($p)"
    fi
  done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
