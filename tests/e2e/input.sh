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

# NA and blank in a numeric covariate are missing values: the row is dropped and
# counted, as R does (the column used to become text: one indicator per value).
# R: coxph(Surv(time, event) ~ age, read.csv("cox_na_age.csv")) -> age 0.0576502236,
# n = 58, "(2 observations deleted due to missingness)"
na=$TENURE_TEST_DATA/survival/cox_na_age.csv
$TENURE --format json drivers --csv "$na" --time time --event event --covariates age >na.json 2>na.err
check_eq "drivers with NA exits 0" "$?" "0"
check_contains "says n and how many were deleted" na.err "n=58, 2 observations deleted due to missingness"
check_eq "one coefficient, not an indicator per value" "$(jq '.coefficients | length' na.json)" "1"
check_near "age coefficient as R" "$(jq '.coefficients[0].coef' na.json)" 0.0576502236 1e-8
check_eq "dropped counted in JSON" "$(jq '.dropped' na.json)" "2"
printf 'time,event\n1,1\nNA,1\n3,0\n4,1\n,0\n6,1\n' >na2.csv
$TENURE survival --csv na2.csv --time time --event event >/dev/null 2>na.err
check_contains "survival says so too" na.err "n=4, 2 observations deleted due to missingness"
