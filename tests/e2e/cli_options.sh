# cli_options.sh -- the table-driven option parser and subcommand dispatcher
# (src/cli/cli.c): strict numbers, errors that name the option, usage status 2.
. "$REPO/tests/e2e/lib.sh"
T=$TENURE

# run CMD...: its exit status in $rc, stderr in err.txt, stdout in out.txt
run() { checked "$@" >out.txt 2>err.txt; rc=$?; }

# a store with data: on an empty one every reading command answers "no data
# yet" (exit 0) before it looks at its options
check "a small store" $TENURE --db opts.db demo --customers 200 --months 6
export TENURE_DB="$PWD/opts.db"

# a whole number that does not fit is refused, naming the option (it wrapped before)
run $T predict features --as-of 2024-01-01 --horizon 30 --rounds 4294967297
check_eq "rounds out of range: exit 2" "$rc" 2
check_contains "rounds out of range: names the option and range" err.txt '--rounds (boosting rounds): expected a whole number from 1 to 100000, found "4294967297"'
run $T predict backtest --as-of 2024-01-01 --horizon 30 --depth 3x
check_eq "depth not a number: exit 2" "$rc" 2
check_contains "depth not a number: names the option" err.txt '--depth (tree depth): expected a whole number, found "3x"'
run $T predict features --as-of 2024-01-01 --horizon=30days
check_eq "horizon=VALUE not a number: exit 2" "$rc" 2
check_contains "horizon=VALUE: names the option" err.txt '--horizon (days): expected a number, found "30days"'
run $T churn status --as-of 2024-02-30
check_eq "bad date: exit 2" "$rc" 2
check_contains "bad date: names the option" err.txt '--as-of: expected a date'
run $T churn rate --period
check_eq "missing value: exit 2" "$rc" 2
check_contains "missing value: says so" err.txt 'option --period needs a value'
run $T churn export --all-spells=yes --csv x.csv
check_eq "flag with a value: exit 2" "$rc" 2
check_contains "flag with a value: says so" err.txt '--all-spells takes no value'
run $T cohorts --bogus
check_eq "unknown option: exit 2" "$rc" 2
check_contains "unknown option: named" err.txt 'tenure cohorts: unknown option "--bogus"'
run $T churn define
check_eq "define without NAME: exit 2" "$rc" 2
run $T churn define a b
check_contains "define: a second NAME is unexpected" err.txt 'unexpected argument "b"'
run $T feedback fixed
check_contains "feedback fixed: THEME required" err.txt 'expected a THEME'

# help from the table commands: stdout, exit 0
run $T churn rate --help
check_eq "churn rate --help: exit 0" "$rc" 0
check_contains "churn rate --help: the churn usage" out.txt 'usage: tenure churn SUBCOMMAND'
run $T feedback scores -h
check_contains "feedback scores -h: its own help" out.txt 'usage: tenure feedback scores'
run $T predict features --help
check_contains "predict features --help" out.txt 'usage: tenure predict features'

# one dispatcher for churn, offers, winback, journey and points
for c in churn offers winback journey points; do
  run $T $c
  check_eq "$c without a subcommand: exit 2" "$rc" 2
  check_contains "$c without a subcommand: usage on stderr" err.txt 'usage: tenure'
  run $T $c nosuch
  check_eq "$c nosuch: exit 2" "$rc" 2
  check_contains "$c nosuch: unknown subcommand" err.txt "tenure $c: unknown subcommand \"nosuch\""
  run $T $c --help
  check_eq "$c --help: exit 0" "$rc" 0
done
run $T points nosuch
check_contains "points nosuch: lists the subcommands" err.txt '  at-risk    points expiring and balances of likely churners'
check_eq "points nosuch: one line per subcommand" "$(grep -c '^  [a-z-]* ' err.txt)" 11
run $T journey nosuch
check_contains "journey nosuch: lists the subcommands" err.txt '  stuck      live customers who have not reached first value'
run $T offers plans extra
check_eq "offers plans extra: exit 2" "$rc" 2

# a run that works end to end through the parser
run $T demo --customers 300
check_eq "demo builds" "$rc" 0
run $T --db demo.db churn rate --period quarter --as-of=2025-01-01 --format csv
check_eq "churn rate with --opt=VALUE: exit 0" "$rc" 0
check_contains "churn rate: csv header" out.txt 'period,customers_start'
run $T --db demo.db churn define test30 --inactive-days 30 --event-types session,feature_use
check_eq "churn define with options: exit 0" "$rc" 0
run $T --db demo.db churn list --format csv
check_contains "churn list: the new definition" out.txt 'test30'
run $T --db demo.db churn define bad --inactive-days 0
check_eq "churn define --inactive-days 0: exit 2" "$rc" 2
run $T --db demo.db churn define g --grace 3
check_contains "churn define --grace without --cancelled" err.txt '--grace applies to --cancelled'

# a repeatable list option (CLI_LIST): two --reference options act as one comma list
awk 'BEGIN { srand(3); print "time,event,plan,country";
  for (i = 0; i < 300; i++) { p = (i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c")); c = (i % 2 ? "x" : "y");
    t = int(-log(rand()) * (p == "a" ? 50 : (p == "b" ? 80 : 120))) + 1; print t "," (rand() < 0.8) "," p "," c } }' > refs.csv
run $T drivers --csv refs.csv --time time --event event --covariates plan,country --reference plan=b --reference country=y --format csv
check_eq "drivers --reference twice: exit 0" "$rc" 0
cut -d, -f1 out.txt | tr '\n' ' ' > levels.txt
check_contains "drivers --reference twice: both references applied" levels.txt 'driver plan=a plan=c country=x '
mv out.txt twice.txt
run $T drivers --csv refs.csv --time time --event event --covariates plan,country --reference plan=b,country=y --format csv
check_eq "drivers --reference a,b: the same fit" "$(cat out.txt)" "$(cat twice.txt)"
