# value_retention.sh -- `tenure value retention`: the sBG fitted per plan to
# the store's signup cohorts.  A store holding exactly the "regular" cohort of
# Fader & Hardie (2007), "How to project customer retention", J. Interactive
# Marketing 21(1) -- 1000 customers, 631, 468, 382, 326, 289, 262, 241 alive
# at the start of years 1..7 -- must give their published fit, alpha = 0.704
# and beta = 1.182 (the figures in tests/data/README.md).  Then the
# subscribers' scores feed `tenure offers plan` on the demo company.
. "$REPO/tests/e2e/lib.sh"

awk 'BEGIN { print "id,signed_up_at"; for (i = 1; i <= 1000; i++) printf "c%d,2010-01-01\n", i }' > customers.csv
# churned in year k (k = 0..6): cancelled half way through it
awk 'BEGIN { split("369 163 86 56 37 27 21", d, " "); n = 0;
  print "customer,plan,billing_period,price,currency,started_at,cancelled_at,current_period_end,status";
  for (k = 0; k < 7; k++) for (j = 0; j < d[k + 1]; j++) {
    n++; printf "c%d,pro,year,100,USD,2010-01-01,%d,%d,cancelled\n", n, 1262304000 + (k + 0.5) * 31557600, 1262304000 + (k + 1) * 31557600 }
  for (n++; n <= 1000; n++) printf "c%d,pro,year,100,USD,2010-01-01,,,active\n", n }' > subscriptions.csv
check "import customers" $TENURE --db fh.db import customers customers.csv
check "import subscriptions" $TENURE --db fh.db import subscriptions subscriptions.csv
check "fit the cohort from the store" $TENURE --db fh.db --format csv value retention --as-of 2017-07-01
alpha=$(awk -F, '$1 == "pro" {print $6}' check.out)
beta=$(awk -F, '$1 == "pro" {print $8}' check.out)
check_near "alpha as published (Fader & Hardie 2007)" "$alpha" 0.704 0.0005
check_near "beta as published (Fader & Hardie 2007)" "$beta" 1.182 0.0005
r1=$(awk -F, '$1 == "pro" {print $10}' check.out)
# r_1 = beta / (alpha + beta), eq. 8
check_near "first renewal rate = beta / (alpha + beta)" "$r1" "$(awk -v a="$alpha" -v b="$beta" 'BEGIN { printf "%.15f", b / (a + b) }')" 1e-9
check "the 241 live subscribers are valued" $TENURE --db fh.db --format csv value retention --as-of 2017-07-01 --subscribers
check_eq "241 rows" "$(($(wc -l < check.out) - 1))" "241"

check "demo company" $TENURE --db demo.db demo --customers 5000
check "retention by plan" $TENURE --db demo.db value retention
check_contains "monthly plan" check.out "premium_monthly"
# the README's workflow: per-customer risk from the risk model, per-customer value from the subscribers' value
check "risk model" $TENURE --db demo.db --quiet predict train --as-of 2026-09-30 --save risk.json
$TENURE --db demo.db --quiet --format csv predict score --model risk.json --as-of 2026-10-31 > risk.csv 2>/dev/null
$TENURE --db demo.db --format csv value retention --subscribers > value.csv 2>/dev/null
check "offers planned from risk and value" $TENURE --db demo.db --format csv offers plan --risk risk.csv --value value.csv \
  --budget 100 --offer-cost 5 --dry-run
check_contains "says where P(churn) and value come from" check.out "P(churn) from risk.csv, value from value.csv"
n=$(grep -E ',(offer|control),' check.out | cut -d, -f6 | sort -u | wc -l)
ids=$(grep -E ',(offer|control),' check.out | cut -d, -f2)
check "per-customer risk: the top 20 are not one tied figure ($n distinct)" test "$n" -gt 10
check "not ranked by id" test "$ids" != "$(echo "$ids" | sort)"
check_fails "bad discount" $TENURE --db demo.db value retention --discount -1

# the single cohort fitted alone gives the same published figures
check "cohort fits" $TENURE --db fh.db --format csv value retention --as-of 2017-07-01 --cohorts
check_eq "one cohort, 7 whole years observed" "$(awk -F, '$1 == "pro" {print $2, $3, $4}' check.out)" "2010-01 1000 7"
check_near "cohort alpha (Fader & Hardie 2007)" "$(awk -F, '$1 == "pro" {print $5}' check.out)" 0.704 0.0005

# a store with nothing to compare (one plan, no channel or attributes): drivers says so
check_fails "drivers with nothing that varies" $TENURE --db fh.db drivers --as-of 2017-07-01
check_contains "names the way out" check.out "name them with --covariates"
