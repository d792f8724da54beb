# lib.sh -- helpers for end-to-end tests; sourced by tests/e2e/*.sh, which run
# in a fresh temporary directory with $TENURE (the CLI under test) and
# $TENURE_TEST_DATA (tests/data) set by tests/run.sh, and $REPO the
# checkout.
#   ok NAME / not_ok NAME DETAIL      record one check
#   check NAME CMD...                 ok when CMD succeeds
#   check_fails NAME CMD...           ok when CMD fails: exit status 1..125, not a
#                                     sanitizer report ($TN_SANITIZER_EXIT), not a signal
#   fails CMD...                      run CMD (its redirections are the caller's);
#                                     not ok unless it fails as check_fails wants
#   checked CMD...                    run CMD; its status is the caller's to judge
#                                     (e.g. a helper that keeps rc=$?); a sanitizer
#                                     report is still a failure
#   check_eq NAME GOT WANT            ok when the strings are equal
#   check_contains NAME FILE TEXT     ok when FILE contains TEXT
#   check_near NAME GOT WANT TOL      ok when |GOT - WANT| <= TOL
# Every CLI call is checked: $TENURE is tests/e2e/tenure-checked, which runs
# the real binary ($TENURE_BIN) and records "not ok" when a call outside
# check/check_fails/fails exits non-zero, or when any call dies of a sanitizer
# report.  Results go to fd 3 (this script's stdout), so a call's own
# redirections never swallow them.
REPO=${REPO:-$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)}
TN_SANITIZER_EXIT=${TN_SANITIZER_EXIT:-86}
if [ -z "${TENURE_BIN:-}" ]; then
  TENURE_BIN=$TENURE
  TENURE="$REPO/tests/e2e/tenure-checked"
fi
export TENURE TENURE_BIN TN_SANITIZER_EXIT
exec 3>&1
ok() { echo "ok - $1" >&3; }
not_ok() { echo "not ok - $1" >&3; shift; [ $# -gt 0 ] && printf '    %s\n' "$@" >&3; return 0; }
# status_fail_ok RC: 1..125 and not the sanitizers' code (a "failure" a test may want)
status_fail_ok() { [ "$1" -ge 1 ] && [ "$1" -le 125 ] && [ "$1" -ne "$TN_SANITIZER_EXIT" ]; }
check() {
  n=$1; shift
  TN_CHECKED=$$ "$@" >check.out 2>&1; rc=$?; TN_CHECKED=
  if [ "$rc" -eq 0 ]; then ok "$n"
  else not_ok "$n" "command failed (exit $rc): $*" "$(tail -5 check.out)"; fi
}
check_fails() {
  n=$1; shift
  TN_CHECKED=$$ "$@" >check.out 2>&1; rc=$?; TN_CHECKED=
  if [ "$rc" -eq 0 ]; then not_ok "$n" "command succeeded but should fail: $*"
  elif status_fail_ok "$rc"; then ok "$n"
  else not_ok "$n" "command crashed (exit $rc; $TN_SANITIZER_EXIT is a sanitizer report, >125 a signal): $*" "$(tail -5 check.out)"; fi
}
fails() {
  TN_CHECKED=$$ "$@"; rc=$?; TN_CHECKED=
  if [ "$rc" -eq 0 ]; then not_ok "fails: $*" "command succeeded but should fail"
  elif ! status_fail_ok "$rc"; then not_ok "fails: $*" "command crashed (exit $rc)"; fi
  return 0
}
checked() { TN_CHECKED=$$ "$@"; rc=$?; TN_CHECKED=; return "$rc"; }
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi; }
check_contains() { if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "$2 does not contain: $3" "$(head -5 "$2")"; fi; }
check_near() {
  if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'; then ok "$1"
  else not_ok "$1" "got $2, want $3 within $4"; fi
}

# ---- a real `tenure serve` for the HTTP tests ----
SERVER_PID=""
PORT=""
# start_server DB LOG [OPTIONS...]: start $TENURE_BIN serve on a free loopback
# port in the background; sets SERVER_PID and PORT once it listens (http or
# https), or prints the log and returns 1 when it exits first or takes 20 s.
start_server() {
  db=$1; log=$2; shift 2
  $TENURE_BIN --db "$db" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's|^listening on https\{0,1\}://127.0.0.1:\([0-9][0-9]*\)$|\1|p' "$log")
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log"
  return 1
}
# stop_server: SIGTERM (graceful shutdown) and wait for it
stop_server() { kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID"; }
# check_background_nice LABEL PID NAME...: each thread named NAME (base/thread.h)
# runs at the nice value of PID's main thread + 10 (at most 19), and every
# other thread at the main thread's, read from /proc/PID/task/TID/stat
# (field 19; the fields after the ")" that ends the name)
check_background_nice() {
  label=$1; pid=$2; shift 2
  main=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f17)
  want=$((main + 10)); [ "$want" -gt 19 ] && want=19
  got=""; bad=""
  for t in /proc/"$pid"/task/*; do
    c=$(cat "$t/comm" 2>/dev/null) || continue
    n=$(sed 's/.*) //' "$t/stat" 2>/dev/null | cut -d' ' -f17) || continue
    case " $* " in
      *" $c "*) got="$got $c=$n"; [ "$n" = "$want" ] || bad="$bad $c=$n" ;;
      *) case "$c" in tn-*) ;; *) [ "$n" = "$main" ] || bad="$bad $c=$n" ;; esac ;;
    esac
  done
  for nm in "$@"; do case "$got " in *" $nm="*) ;; *) bad="$bad $nm:missing" ;; esac; done
  if [ -z "$bad" ]; then ok "$label"; else not_ok "$label" "want $* at nice $want, the others at $main; wrong:$bad"; fi
}
