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

# import: refused with FILE:LINE:COLUMN, nothing written
printf 'id,signed_up_at\nc1,20240301\nc2,20240230\n' >d.csv
check_fails "20240230 refused (was 1970-08-23)" $TENURE --db i.db import customers d.csv
check_contains "date error has a position" check.out "d.csv:3:2: signed_up_at:"
check_eq "nothing written" "$(sqlite3 i.db 'SELECT count(*) FROM customers')" "0"
printf 'id,country\nc1,SA\nc2,IR\nc1,EG\n' >dup.csv
check_fails "a customer twice in a file refused" $TENURE --db i.db import customers dup.csv
check_contains "names both lines" check.out 'dup.csv:4:1: id: expected each customer id once in a file, found "c1" again (first on line 2, again on line 4)'
printf 'id,country\nc1,SA\nc2,IR\n' >c.csv
check "import customers" $TENURE --db i.db import customers c.csv
printf 'id,country\nc1,SA\nc2,EG\nc3,IR\n' >c2.csv
check "re-import a changed file" $TENURE --db i.db --format json import customers c2.csv
check_eq "added / updated / unchanged" "$(jq -c '.[0] | [.added, .updated, .unchanged]' check.out)" "[1,1,1]"

# several currencies: one reporting currency, rates convert, a missing rate is an error
printf 'customer,plan,period,price,currency,started_at\nc1,pro,month,10,USD,2024-01-05\nc2,pro,month,10,EUR,2024-02-05\nc3,pro,month,100,SAR,2024-03-05\n' >s.csv
check "import subscriptions in 3 currencies" $TENURE --db i.db import subscriptions s.csv
check_fails "summary without rates fails" $TENURE --db i.db summary
check_contains "names the currency" check.out "an amount in EUR (on 2024-02-05) cannot be added to the reporting currency USD"
printf 'date,currency,rate\n2024-01-01,EUR,1.1\n2024-03-01,EUR,1.2\n2024-01-01,SAR,0.25\n' >r.csv
check "import rates" $TENURE --db i.db import rates r.csv
check "summary with rates" $TENURE --db i.db --format json summary
check_eq "MRR 10 + 10 x 1.1 + 100 x 0.25" "$(jq '.[] | select(.measure == "mrr") | .value' check.out)" "46"

# predict keeps rows with a missing predictor (imputed, docs/predict.md) and says how many; NA is missing, not a level
awk 'BEGIN { print "y,age,plan"; for (i = 1; i <= 200; i++) { a = 20 + (i * 7) % 40; y = (i * 13) % 5 < 2;
  p = i % 2 ? "a" : "b"; if (i % 17 == 0) a = "NA"; if (i % 23 == 0) p = ""; print y "," a "," p } }' >pr.csv
$TENURE predict cv --csv pr.csv --target y >pr.out 2>pr.err
check_eq "predict with NA exits 0" "$?" "0"
check_contains "predict says how many rows had a missing predictor" pr.err "n=200, 19 rows with a missing predictor (blank or NA) kept"
