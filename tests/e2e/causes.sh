# causes.sh -- voluntary and involuntary churn end to end: subscriptions
# imported with source and cause columns (and plain ones whose cause is
# derived), churn rate --by cause|source, the voluntary/involuntary
# definitions, tenure churn recovery, survival --causes and drivers --cause
# on the store, checked against numbers worked out by hand (comments) and
# against R survival on the exported table.
. "$REPO/tests/e2e/lib.sh"

cat > customers.csv <<'EOF'
id,signed_up_at
a,2024-01-01
b,2024-01-01
c,2024-01-01
d,2024-01-01
e,2024-01-01
f,2024-01-01
g,2024-02-01
h,2024-03-01
i,2024-03-31
EOF
# a: App Store, cancels Feb 20 (paid to Mar 1: a 10-day save window), voluntary
# b: Stripe, billing failure Feb 15 (involuntary, MRR 20)
# c: plain import, expired Mar 10 after a failed payment on Mar 1: derived billing
# d: plain import, cancelled Mar 5; its Feb 1 failure recovered on Feb 4: derived voluntary
# e: annual, trial to Jan 8, still paying (a converted trial)
# f: Google Play, price increase: auto-renew off Mar 15, paid to Apr 1 (a window still open)
# g: trial Feb 1-8 that expired (not converted; voluntary)
# h: App Store, in billing retry now (open; MRR 15)
# i: signs up on Mar 31 without subscribing (the data's last day: the as-of)
cat > subs.csv <<'EOF'
id,customer,plan,billing_period,price,currency,started_at,trial_ends_at,current_period_end,cancelled_at,status,source,cause
s_a,a,monthly,month,10,USD,2024-01-01,,2024-03-01,2024-02-20,cancelled,appstore,voluntary
s_b,b,premium,month,20,USD,2024-01-01,,2024-02-15,,expired,stripe,billing
s_c,c,monthly,month,10,USD,2024-01-01,,2024-03-10,,expired,,
s_d,d,monthly,month,10,USD,2024-01-01,,,2024-03-05,cancelled,,
s_e,e,annual,year,120,USD,2024-01-01,2024-01-08,,,active,,
s_f,f,monthly,month,10,USD,2024-01-01,,2024-04-01,2024-03-15,cancelled,googleplay,price_increase
s_g,g,monthly,month,10,USD,2024-02-01,2024-02-08,2024-02-08,,expired,,
s_h,h,monthly,month,15,USD,2024-03-01,,,,past_due,ios,
EOF
cat > payments.csv <<'EOF'
customer,paid_at,amount,currency,status
a,2024-01-01,10,USD,succeeded
a,2024-02-21,10,USD,refunded
c,2024-01-01,10,USD,succeeded
c,2024-02-01,10,USD,succeeded
c,2024-03-01,10,USD,failed
d,2024-02-01,10,USD,failed
d,2024-02-04,10,USD,succeeded
h,2024-03-20,15,USD,failed
EOF
check "import customers" $TENURE --db t.db import customers customers.csv
check "import subscriptions with source and cause" $TENURE --db t.db import subscriptions subs.csv
check "import payments" $TENURE --db t.db import payments payments.csv

# a cause needs an ended subscription and an id
printf 'id,customer,plan,billing_period,price,currency,started_at,status,cause\nz1,a,monthly,month,10,USD,2024-01-01,active,billing\n' > bad1.csv
fails $TENURE --db t.db import subscriptions bad1.csv 2>err1.txt
check_contains "cause on an open subscription is refused" err1.txt "bad1.csv:2:9: cause: only for an ended subscription"
printf 'customer,plan,billing_period,price,currency,started_at,status,source\na,monthly,month,10,USD,2024-01-05,active,stripe\n' > bad2.csv
fails $TENURE --db t.db import subscriptions bad2.csv 2>err2.txt
check_contains "source without an id is refused" err2.txt "source: needs the subscription's id"
printf 'id,customer,plan,billing_period,price,currency,started_at,status,source\nz2,a,monthly,month,10,USD,2024-01-05,active,amazon\n' > bad3.csv
fails $TENURE --db t.db import subscriptions bad3.csv 2>err3.txt
check_contains "an unknown source is refused" err3.txt "bad3.csv:2:9"

# ---- the causes in the survival table ------------------------------------
check "export --causes" $TENURE --db t.db churn export --csv causes.csv --causes --as-of 2024-03-31
check_eq "export header ends with the causes" "$(head -1 causes.csv | sed 's/.*first_nps,//')" "cause,churn_cause,source"
row() { grep "^$1," causes.csv | awk -F, '{print $3 "," $4 "," $(NF-2) "," $(NF-1) "," $NF}'; }
check_eq "a: day 50, voluntary, appstore" "$(row a)" "50,1,voluntary,voluntary,appstore"
check_eq "b: day 45, billing, stripe" "$(row b)" "45,1,involuntary,billing,stripe"
check_eq "c: derived billing (last payment failed)" "$(row c)" "69,1,involuntary,billing,import"
check_eq "d: derived voluntary (failure recovered)" "$(row d)" "64,1,voluntary,voluntary,import"
check_eq "f: price increase is voluntary" "$(row f)" "74,1,voluntary,price_increase,googleplay"
check_eq "h: in billing retry, censored" "$(row h)" "31,0,censored,,appstore"

# ---- definitions voluntary / involuntary ----------------------------------
check "churn list has the built-ins" $TENURE --db t.db --format csv churn list
check_contains "voluntary listed" check.out "voluntary"
check_contains "involuntary listed" check.out "involuntary"
check "status involuntary" $TENURE --db t.db --format csv churn status --definition involuntary --as-of 2024-03-31
check_eq "involuntary: b and c churned" "$(grep -c ',churned,' check.out)" "2"
check_eq "involuntary: four left for the other cause" "$(grep -c ',other_cause,' check.out)" "4"
check_fails "a built-in name cannot be redefined" $TENURE --db t.db churn define voluntary --cancelled

# ---- churn rate by cause and source ---------------------------------------
check "rate by cause" $TENURE --db t.db --format csv churn rate --by cause --as-of 2024-03-31
# period,group,customers_start,new,reactivated,churned,...: Feb voluntary a,g; involuntary b; Mar d,f / c
check_eq "Feb voluntary churned 2" "$(grep '^2024-02-01,voluntary,' check.out | cut -d, -f6)" "2"
check_eq "Feb involuntary churned 1" "$(grep '^2024-02-01,involuntary,' check.out | cut -d, -f6)" "1"
check_eq "Mar voluntary churned 2" "$(grep '^2024-03-01,voluntary,' check.out | cut -d, -f6)" "2"
check_eq "Feb involuntary churned MRR 20" "$(grep '^2024-02-01,involuntary,' check.out | cut -d, -f14)" "20"
check_eq "Feb voluntary churned MRR 10" "$(grep '^2024-02-01,voluntary,' check.out | cut -d, -f14)" "10"
checked $TENURE --db t.db churn rate --by cause --as-of 2024-03-31 > ratecause.txt 2>&1 || not_ok "rate by cause table"
check_contains "involuntary share of churned MRR: 30 of 60" ratecause.txt "Involuntary share of churned MRR over these periods: 50.0% (30.00 of 60.00)"
check "rate by source" $TENURE --db t.db --format csv churn rate --by source --as-of 2024-03-31
check_eq "sources as groups" "$(cut -d, -f2 check.out | sed 1d | sort -u | tr '\n' ' ')" "appstore googleplay import stripe "
check "rate involuntary" $TENURE --db t.db --format csv churn rate --definition involuntary --as-of 2024-03-31
check_eq "involuntary: churned_other column" "$(head -1 check.out | awk -F, '{print $NF}')" "churned_other"
check_eq "Feb: b involuntary, a and g left otherwise" "$(grep '^2024-02-01,' check.out | awk -F, '{print $5 "," $NF}')" "1,2"

# ---- recovery ----------------------------------------------------------------
check "recovery" $TENURE --db t.db --format csv churn recovery --as-of 2024-03-31
v() { grep "^$1," check.out | cut -d, -f2; }
check_eq "episodes: c lost, d recovered, h open" "$(v billing_episodes),$(v billing_recovered),$(v billing_lost),$(v billing_open)" "3,1,1,1"
check_eq "recovery rate 1/2" "$(v recovery_rate)" "0.5"
check_eq "3 days to recover" "$(v days_to_recover_median)" "3"
check_eq "revenue recovered 10" "$(v revenue_recovered)" "10"
check_eq "h in billing retry, MRR 15" "$(v in_billing_retry),$(v mrr_in_billing_issue)" "1,15"
check_eq "trials: e converted, g not" "$(v trials_ended),$(v trials_converted),$(v trial_conversion)" "2,1,0.5"
check_eq "refund rate 1/5" "$(v refund_rate),$(v refund_amount_rate)" "0.2,0.2"
check_eq "churned 6: 4 voluntary, 2 involuntary" "$(v churned),$(v churned_voluntary),$(v churned_involuntary)" "6,4,2"
check_eq "involuntary MRR share 30/60" "$(v churned_mrr),$(v churned_mrr_involuntary),$(v involuntary_mrr_share)" "60,30,0.5"
check_eq "price increase: f" "$(v churned_price_increase),$(v churned_mrr_price_increase)" "1,10"
check_eq "save window: a's 10 days" "$(v save_window_n),$(v save_window_median_days)" "1,10"
check_eq "save window open: f" "$(v save_window_open),$(v save_window_open_mrr)" "1,10"
check_eq "a's window in the 7-14 bin" "$(v save_window_days_7-14)" "1"
check "recovery json" $TENURE --db t.db --format json churn recovery --as-of 2024-03-31
check_contains "json bins" check.out '"save_window_bins"'

# ---- competing risks on the store -----------------------------------------
check "survival --causes" $TENURE --db t.db --format csv survival --causes --as-of 2024-03-31 --at 91
# by hand (Aalen-Johansen): times 7v 31c 45i 50v 64v 69i 74v 91c -> at 91
# S = 7/48, F_vol = 27/48, F_inv = 14/48
p() { grep ",$1," check.out | cut -d, -f5; }
check_near "still there 7/48" "$(p still_there)" 0.145833 0.000001
check_near "voluntary 27/48" "$(p voluntary)" 0.5625 0.000001
check_near "involuntary 14/48" "$(p involuntary)" 0.291667 0.000001
check_fails "--status goes with --csv" $TENURE --db t.db survival --causes --status cause

# ---- against R: the exported table, survfit with a factor status and coxph per cause
command -v Rscript >/dev/null || { not_ok "Rscript" "install r-cran-survival (scripts/deps.sh test)"; exit 1; }
Rscript -e '
suppressMessages(library(survival))
d <- read.csv("causes.csv")
d$st <- factor(d$cause, c("censored", "voluntary", "involuntary"))
f <- survfit(Surv(time, st) ~ 1, data = d)
s <- summary(f, times = c(46, 70))
for (i in 1:2) for (k in 1:3) cat(sprintf("%g,%d,%.10f,%.10f\n", s$time[i], k, s$pstate[i, k], s$std.err[i, k]))
' > r_aj.csv 2>r_err.txt || not_ok "R survfit" "$(cat r_err.txt)"
check "survival --causes json" $TENURE --db t.db --format json survival --causes --as-of 2024-03-31 --at 46,70
python3 - check.out r_aj.csv > cmp.txt <<'PY' || not_ok "Aalen-Johansen matches R" "$(cat cmp.txt)"
import json, sys
j = json.load(open(sys.argv[1]))
states = ["still_there"] + j["causes"]
got = {(e["time"], states.index(e["state"]) + 1): (e["probability"], e["se"]) for e in j["groups"][0]["at"]}
bad = 0
for line in open(sys.argv[2]):
    t, k, p, se = line.strip().split(",")
    g = got[(float(t), int(k))]
    if abs(g[0] - float(p)) > 1e-6 or abs(g[1] - float(se)) > 1e-6:
        print("t", t, "state", k, "got", g, "R", p, se); bad = 1
sys.exit(bad)
PY
[ -s r_aj.csv ] && ! grep -q . cmp.txt && ok "Aalen-Johansen on the store matches R survfit (pstate, std.err) to 1e-6"

Rscript -e '
suppressMessages(library(survival))
d <- read.csv("causes.csv")
f <- coxph(Surv(time, cause == "voluntary") ~ mrr, data = d)
cat(sprintf("%.10f,%.10f\n", coef(f)[1], sqrt(vcov(f)[1, 1])))
' > r_cox.txt 2>r_err2.txt || not_ok "R coxph" "$(cat r_err2.txt)"
check "drivers --cause voluntary" $TENURE --db t.db --format json drivers --cause voluntary --covariates mrr --as-of 2024-03-31
python3 - check.out r_cox.txt > cmp2.txt <<'PY' || not_ok "cause-specific Cox matches R" "$(cat cmp2.txt)"
import json, sys
j = json.load(open(sys.argv[1]))
c = j["coefficients"][0]
rc, rse = map(float, open(sys.argv[2]).read().split(","))
# relative to R's value where it is large (mrr above 10 never leaves voluntarily here: a very flat likelihood)
if abs(c["coef"] - rc) > 1e-6 * max(1, abs(rc)) or abs(c["se"] - rse) > 1e-6 * max(1, abs(rse)) or j["events"] != 4:
    print("got", c["coef"], c["se"], j["events"], "R", rc, rse); sys.exit(1)
PY
[ -s r_cox.txt ] && ! grep -q . cmp2.txt && ok "drivers --cause voluntary = R coxph(Surv(time, cause == \"voluntary\") ~ mrr) to 1e-6 (relative)"

# --csv mode: a factor status column, and a cause-specific Cox from a file
check "survival --causes --csv" $TENURE --format csv survival --causes --csv causes.csv --time time --status cause --at 91
check_near "csv mode: voluntary 27/48" "$(p voluntary)" 0.5625 0.000001
check "drivers --cause --csv" $TENURE --format json drivers --csv causes.csv --time time --status cause --cause involuntary --covariates mrr
check_contains "involuntary: 2 events" check.out '"events":2'
check_fails "drivers --cause on the store takes voluntary|involuntary" $TENURE --db t.db drivers --cause billing

# ---- the report's section --------------------------------------------------
check "report" $TENURE --db t.db report --html r.html --as-of 2024-03-31
check_contains "report: why customers leave" r.html "Why customers leave: voluntary and involuntary churn"
check_contains "report: involuntary share of churned MRR" r.html "50% of the MRR lost left involuntarily"
check_contains "report: the save window" r.html "half the windows last 10.0 days or more"
