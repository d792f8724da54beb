# harness.sh -- the test harness and the CLI's edges: lib.sh records a failure
# for every CLI call that fails unchecked or dies of a sanitizer report; the
# sanitizers exit with their own status; a failed write to stdout is an error;
# numbers are read and written with a '.' whatever the locale.
. "$REPO/tests/e2e/lib.sh"

# ---- lib.sh and tests/e2e/tenure-checked, on a fake CLI that exits with $1 --
printf '#!/bin/sh\nexit "$1"\n' > fake
chmod +x fake
# probe SNIPPET: run SNIPPET in a test script of its own whose CLI is the fake;
# print how many "ok" and "not ok" lines it recorded, as "OK NOT_OK"
probe() {
  TENURE_BIN="$PWD/fake" sh -c ". \"\$REPO/tests/e2e/lib.sh\"; $1" > probe.out 2>&1
  echo "$(grep -c '^ok - ' probe.out) $(grep -c '^not ok - ' probe.out)"
}
check_eq "check_fails: an expected failure (exit 1)" "$(probe 'check_fails x $TENURE 1')" "1 0"
check_eq "check_fails: a sanitizer report is a failure" "$(probe 'check_fails x $TENURE 86')" "0 2"
check_eq "check_fails: a signal (139) is a failure" "$(probe 'check_fails x $TENURE 139')" "0 1"
check_eq "check: exit 0" "$(probe 'check x $TENURE 0')" "1 0"
check_eq "check: a sanitizer report" "$(probe 'check x $TENURE 86')" "0 2"
check_eq "unchecked call in \$(...) that fails" "$(probe 'v=$($TENURE 1)')" "0 1"
check_eq "unchecked call redirected to a file that fails" "$(probe '$TENURE 2 > out.txt 2>&1')" "0 1"
check_eq "unchecked call that succeeds" "$(probe '$TENURE 0 > out.txt')" "0 0"
check_eq "unchecked background call that fails" "$(probe '$TENURE 1 & wait')" "0 1"
check_eq "fails: a failure" "$(probe 'fails $TENURE 2 > out.txt')" "0 0"
check_eq "fails: a success" "$(probe 'fails $TENURE 0')" "0 1"
check_eq "fails: a sanitizer report" "$(probe 'fails $TENURE 86 2>/dev/null')" "0 2"
check_eq "a check inside sh -c whose CLI fails in a pipeline" "$(probe 'check x sh -c "\$TENURE 1 | cat"')" "1 1"
check_eq "checked: a failure the caller judges" "$(probe 'checked $TENURE 2; [ $? -eq 2 ] && ok x')" "1 0"
check_eq "checked: a sanitizer report" "$(probe 'checked $TENURE 86')" "0 1"
check_eq "check_contains on a missing file" "$(probe 'check_contains x nofile text 2>/dev/null')" "0 1"
check_eq "check_near on an empty value" "$(probe 'check_near x "" 1 1')" "0 1"

# a signal sent to a background $TENURE reaches the CLI (a test stopping a server)
printf '#!/bin/sh\ntrap "echo stopped; exit 0" TERM\nwhile :; do sleep 0.1; done\n' > server
chmod +x server
TENURE_BIN="$PWD/server" $TENURE > server.out 2>&1 &
spid=$!
sleep 0.5
kill -TERM "$spid"; wait "$spid"; rc=$?
check_eq "SIGTERM to a background \$TENURE: the CLI stops and exits 0" "$rc,$(cat server.out)" "0,stopped"
check_eq "no CLI process left behind" "$(ps -eo args | grep -c "^/bin/sh $PWD/server")" 0

# ---- the sanitizers' own exit status (tests/run.sh sets the options) ------
# (a probe program of its own, whichever build is under test: the options are the point)
cat > san.c <<'EOF2'
#include <limits.h>
#include <stdlib.h>
void *volatile keep;
int main(int argc, char **argv)
{
	char *p = malloc(4);
	if (argv[1][0] == 'a') p[argc + 2] = 1;                  /* heap overflow: ASan */
	if (argv[1][0] == 'u') { int x = INT_MAX - 2 + argc; p[0] = (char)(x + 1); } /* overflow: UBSan */
	if (argv[1][0] == 'l') { keep = malloc(10); keep = 0; }  /* leak: LSan */
	free(p);
	return 0;
}
EOF2
if cc -O0 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined san.c -o san 2>cc.err; then
  for k in a u l; do
    ./san $k >/dev/null 2>san.err; rc=$?
    check_eq "sanitizer $k exits with its own status $TN_SANITIZER_EXIT" "$rc" "$TN_SANITIZER_EXIT"
  done
  ./san ok >/dev/null 2>&1; check_eq "a clean run exits 0" "$?" 0
else
  not_ok "compile a sanitizer probe" "$(head -3 cc.err)"
fi

# ---- the unit runner: a program that exits with the sanitizers' status fails, even
# when cmocka had counted its tests as passed (tests/run.sh on a fake build)
mkdir -p fakebuild/tests
cp fake fakebuild/tenure
printf '#!/bin/sh\necho "[  PASSED  ] 3 test(s)."\nexit %s\n' "$TN_SANITIZER_EXIT" > fakebuild/tests/test_fake_san
printf '#!/bin/sh\necho "[  PASSED  ] 2 test(s)."\nexit 0\n' > fakebuild/tests/test_fake_ok
chmod +x fakebuild/tests/test_fake_san fakebuild/tests/test_fake_ok
(cd "$REPO" && TESTS=test_fake_san,test_fake_ok tests/run.sh "$OLDPWD/fakebuild") > runner.out 2>&1
check_eq "run.sh exits non-zero" "$?" 1
check_contains "run.sh names the sanitizer report" runner.out "FAIL test_fake_san: a sanitizer report (exit $TN_SANITIZER_EXIT)"
check_eq "run.sh counts it as a failure" "$(tail -1 runner.out)" "5 passed, 1 failed"

# ---- a failed write to stdout exits non-zero, for every kind of output -----
R=$TENURE_TEST_DATA/survival/rossi.csv
to_full() { "$@" > /dev/full; }
printf 'id,signed_up_at,country\na,2024-01-01,DE\nb,2024-02-01,SA\n' > c.csv
check "a small store" $TENURE --db s.db --quiet import customers c.csv
for args in "--version" "help" "survival --help" "--db s.db summary" "--db s.db --format json summary" \
    "value fit --model sbg --survivors 1000,631,468,382" "--format csv survival --csv $R --time week --event arrest" \
    "--format json drivers --csv $R --time week --event arrest"; do
  # shellcheck disable=SC2086
  check "tenure $args > file" $TENURE $args
  # shellcheck disable=SC2086
  check_fails "tenure $args > /dev/full fails" to_full $TENURE $args
  check_contains "tenure $args > /dev/full says why" check.out "tenure: cannot write to standard output: No space left on device"
done

# ---- numbers with a '.' whatever the locale (de_DE writes 1,5) ----------------
if [ -n "${TENURE_TEST_LOCPATH:-}" ]; then
  de() { env LOCPATH="$TENURE_TEST_LOCPATH" LC_ALL=de_DE.UTF-8 "$@"; }
  check_eq "the de_DE locale is active (its decimal point is a comma)" \
    "$(de /usr/bin/python3 -c 'import locale; locale.setlocale(locale.LC_ALL, ""); print(locale.localeconv()["decimal_point"])')" ","
  check "sBG fit under de_DE" de $TENURE --format json value fit --model sbg --survivors 1000,631,468,382,326,289,262,241
  check_contains "alpha printed with a point (Fader & Hardie 2007: 0.704)" check.out '"alpha":0.704'
  D=$TENURE_TEST_DATA/cdnow
  check "Gamma-Gamma under de_DE reads decimals" de $TENURE --format csv value fit --model gamma-gamma \
    --csv "$D/cdnow_customers_summary_with_transactions.csv" --frequency x --monetary zbar
  check_contains "p = 6.25 (zbar read with its decimals)" check.out "p,6.24"
  check "survival table under de_DE" de $TENURE survival --csv "$R" --time week --event arrest --at 52
  check_contains "S(52) = 0.7361 printed with a point" check.out "0.7361"
else
  not_ok "locale tests" "TENURE_TEST_LOCPATH is not set: tests/run.sh compiles de_DE.UTF-8 with localedef (package locales)"
fi
