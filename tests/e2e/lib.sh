# lib.sh -- helpers for end-to-end tests; sourced by tests/e2e/*.sh, which run
# in a fresh temporary directory with $TENURE (the CLI under test) and
# $TENURE_TEST_DATA (tests/data) set by tests/run.sh, and $REPO the
# checkout.
#   ok NAME / not_ok NAME DETAIL      record one check
#   check NAME CMD...                 ok when CMD succeeds
#   check_fails NAME CMD...           ok when CMD fails (exit status != 0)
#   check_eq NAME GOT WANT            ok when the strings are equal
#   check_contains NAME FILE TEXT     ok when FILE contains TEXT
#   check_near NAME GOT WANT TOL      ok when |GOT - WANT| <= TOL
REPO=${REPO:-$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)}
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && printf '    %s\n' "$@"; return 0; }
check() { n=$1; shift; if "$@" >check.out 2>&1; then ok "$n"; else not_ok "$n" "command failed: $*" "$(tail -5 check.out)"; fi; }
check_fails() { n=$1; shift; if "$@" >check.out 2>&1; then not_ok "$n" "command succeeded but should fail: $*"; else ok "$n"; fi; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi; }
check_contains() { if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "$2 does not contain: $3" "$(head -5 "$2")"; fi; }
check_near() {
  if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'; then ok "$1"
  else not_ok "$1" "got $2, want $3 within $4"; fi
}
