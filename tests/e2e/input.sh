# input.sh -- bad input that used to be accepted (issue 10, section 3): each
# is refused with a message naming where, and nothing is written.
. "$REPO/tests/e2e/lib.sh"

# numeric options are range-checked, never wrapped (4294967297 used to be 1 month)
check_fails "--months 4294967297 refused" $TENURE --db m.db demo --months 4294967297 --customers 10
check_contains "--months error names the option" check.out "--months: expected a whole number from 1 to 240"
check_eq "nothing written" "$(ls m.db 2>/dev/null)" ""
check_fails "--months 99999999999999999999 refused" $TENURE --db m.db demo --months 99999999999999999999
check_contains "overflow names the option" check.out "--months"
check_fails "--rounds 4294967297 refused" $TENURE predict cv --csv x.csv --target y --rounds 4294967297
check_contains "--rounds named" check.out "--rounds: expected a whole number"
