# import_quiet.sh -- `tenure --quiet import`: nothing at all on success (no
# result line, in any --format); errors still on stderr with exit status 1;
# the rows --skip-bad left out are still counted on stderr (never silent).
. "$REPO/tests/e2e/lib.sh"

printf 'id,signed_up_at,country,channel\nc1,2024-01-01,SA,organic\nc2,2024-01-02,IR,ads\n' >c.csv
printf 'customer,occurred_at,type\nc1,2024-02-01T10:00:00Z,session\nc2,2024-02-30T10:00:00Z,session\nc2,2024-02-03,session\n' >e.csv

# without --quiet: the result line
check "import customers" $TENURE --db q.db --format csv import customers c.csv
check_contains "the result line without --quiet" check.out "customers,c.csv,2,2,0,0,0,"

for f in table csv json; do
  rm -f q$f.db
  checked $TENURE --db q$f.db --quiet --format $f import customers c.csv >out.$f 2>err.$f
  check_eq "--quiet --format $f: exit 0" "$?" "0"
  check_eq "--quiet --format $f: nothing on stdout" "$(wc -c <out.$f | tr -d ' ')" "0"
  check_eq "--quiet --format $f: nothing on stderr" "$(wc -c <err.$f | tr -d ' ')" "0"
  check_eq "--quiet --format $f: the rows are in" "$(sqlite3 q$f.db 'SELECT count(*) FROM customers')" "2"
done

# a bad row: the error on stderr, exit 1, nothing written
fails $TENURE --db q.db --quiet import events e.csv >bad.out 2>bad.err
check_eq "--quiet, a bad row: nothing on stdout" "$(wc -c <bad.out | tr -d ' ')" "0"
check_contains "--quiet, a bad row: the error on stderr" bad.err "e.csv:3:2: occurred_at"
check_eq "--quiet, a bad row: nothing written" "$(sqlite3 q.db 'SELECT count(*) FROM events')" "0"

# --skip-bad: the good rows in, nothing on stdout, the left-out count on stderr
checked $TENURE --db q.db --quiet import events e.csv --skip-bad rej.csv >skip.out 2>skip.err
check_eq "--quiet --skip-bad: exit 0" "$?" "0"
check_eq "--quiet --skip-bad: nothing on stdout" "$(wc -c <skip.out | tr -d ' ')" "0"
check_contains "--quiet --skip-bad: the rows left out are said" skip.err "1 bad row written to rej.csv"
check_eq "--quiet --skip-bad: the good rows in" "$(sqlite3 q.db 'SELECT count(*) FROM events')" "2"
