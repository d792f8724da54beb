# fits.sh -- degenerate fits are flagged, never reported as good (issue 10 §4).
#  * Cox with infinite coefficients: R's cgd data (survival package, exported
#    here by Rscript), time = tstop - tstart, ~ treat + center with Harvard as
#    the reference.  R 3.5 warns "Loglik converged before variable
#    2,3,4,5,6,7,9,10,11,12,13; coefficient may be infinite"; the flagged
#    names are computed by R at test time and must be exactly ours.
#  * Cox that does not converge: survival's tests/infcox.R data (test3): R
#    "Ran out of iterations and did not converge" -> exit 3 and a warning.
#  * sBG on survivors 100,50,0 (alpha, beta -> infinity), BG/NBD on one
#    customer, sBG on one period: warnings first, "warnings" in JSON, exit 3.
#  * a singular log-rank variance: the curves are printed, the test is null.
. "$REPO/tests/e2e/lib.sh"
command -v Rscript >/dev/null || { not_ok "Rscript" "install r-cran-survival (scripts/deps.sh test)"; exit 1; }

Rscript -e '
suppressMessages(library(survival))
d <- data.frame(time = cgd$tstop - cgd$tstart, status = cgd$status, treat = as.character(cgd$treat),
                center = as.character(cgd$center))
write.csv(d, "cgd.csv", row.names = FALSE)
w <- NULL
fd <- data.frame(time = d$time, status = d$status, treat = cgd$treat, center = cgd$center)
f <- withCallingHandlers(coxph(Surv(time, status) ~ treat + center, fd),
                         warning = function(m) { w <<- conditionMessage(m); invokeRestart("muffleWarning") })
idx <- as.integer(strsplit(sub(" *;.*", "", sub(".*variable *", "", w)), ",")[[1]])
nm <- sub("^center", "center=", names(coef(f))[idx])
writeLines(sort(nm), "r_inf.txt")
writeLines(sprintf("%.10f", coef(f)[1]), "r_treat.txt")
' >r.out 2>&1 || { not_ok "R exports cgd" "$(tail -3 r.out)"; exit 1; }
check_eq "R flags 11 centres" "$(wc -l < r_inf.txt | tr -d ' ')" "11"

$TENURE --format json drivers --csv cgd.csv --time time --event status --covariates treat,center \
  --reference "center=Harvard Medical Sch" >cgd.json
check_eq "infinite coefficients exit 0 (the others stand, as R)" "$?" "0"
python3 -c '
import json, sys
d = json.load(open("cgd.json"))
for c in d["coefficients"]:
    if c["may_be_infinite"]: print(c["name"])
' | sort >ours_inf.txt
check_eq "the coefficients R says may be infinite, and only those" "$(cat ours_inf.txt)" "$(cat r_inf.txt)"
check_eq "warnings first in the JSON" "$(python3 -c 'import json; print(list(json.load(open("cgd.json")))[0])')" "warnings"
check_eq "one warning per infinite coefficient" \
  "$(python3 -c 'import json; print(len(json.load(open("cgd.json"))["warnings"]))')" "11"
treat=$(python3 -c 'import json; print([c["coef"] for c in json.load(open("cgd.json"))["coefficients"] if c["name"] == "treat=rIFN-g"][0])')
check_near "the finite treat coefficient as R" "$treat" "$(cat r_treat.txt)" 1e-6
$TENURE drivers --csv cgd.csv --time time --event status --covariates treat,center \
  --reference "center=Harvard Medical Sch" >cgd.txt
check_eq "table: the warning is the first line" "$(head -c 28 cgd.txt)" "warning: the likelihood conv"
check_contains "table: flagged effect" cgd.txt "infinite?"

# rossi: a good fit carries an empty list
$TENURE --format json drivers --csv "$TENURE_TEST_DATA/survival/rossi.csv" --time week --event arrest >rossi.json
check_contains "a good Cox fit: empty warnings" rossi.json '"warnings":[],'

# survival's tests/infcox.R: does not converge
printf 'futime,fustat,x1,x2\n' >t3.csv
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
  s=0; case $i in 1|3|5) s=1 ;; esac
  printf '%s,%s,%s,%s\n' $i $s $(( (i + 1) % 2 )) $(( i > 6 ))
done >>t3.csv
checked $TENURE drivers --csv t3.csv --time futime --event fustat >t3.txt
check_eq "Cox not converged: exit 3" "$?" "3"
check_contains "Cox not converged: said plainly" t3.txt "did not converge in 20 iterations"

# value fits
checked $TENURE --format json value fit --model sbg --survivors 100,50,0 >sbg.json
check_eq "sBG 100,50,0: exit 3" "$?" "3"
check_contains "sBG 100,50,0: alpha runs off" sbg.json 'alpha = '
check_contains "sBG 100,50,0: alpha and beta run off together" sbg.json 'both run off to infinity'
check_contains "sBG 100,50,0: the lifetime value is missing, said" sbg.json 'lifetime values cannot be computed'
python3 -m json.tool sbg.json >/dev/null && ok "sBG 100,50,0: valid JSON" || not_ok "sBG 100,50,0: valid JSON"
checked $TENURE value fit --model sbg --survivors 100,50 >sbg1.txt
check_eq "sBG on one period: exit 3" "$?" "3"
check_contains "sBG on one period: too few" sbg1.txt "1 period(s) of survivors for 2 parameters"
printf 'frequency,recency,T\n2,20,30\n' >one.csv
checked $TENURE value fit --model bgnbd --csv one.csv >one.txt
check_eq "BG/NBD on one customer: exit 3" "$?" "3"
check_eq "BG/NBD on one customer: warning first" "$(head -c 17 one.txt)" "warning: bgnbd fi"
$TENURE --format json value fit --model sbg --survivors 1000,631,468,382,326,289,262,241 >fh.json
check_eq "a good sBG fit: exit 0" "$?" "0"
check_contains "a good sBG fit: empty warnings" fh.json '{"warnings":[],'

# log-rank with a singular variance: the curves stay
printf 't,e,g\n1,1,a\n1,1,b\n' >sing.csv
$TENURE survival --csv sing.csv --time t --event e --by g >sing.txt
check_eq "singular log-rank: exit 0" "$?" "0"
check_contains "singular log-rank: the curves printed" sing.txt "Share still there at each age"
check_contains "singular log-rank: says why" sing.txt "no log-rank test: its variance matrix is singular"
$TENURE --format json survival --csv sing.csv --time t --event e --by g >sing.json
check_contains "singular log-rank: null test" sing.json '"logrank":{"chisq":null,"df":null,"p":null}'

# drivers on a 15-customer demo store: the Cox fit does not converge
check "small demo store" $TENURE --db small.db demo --customers 15
checked $TENURE --db small.db drivers >small.txt 2>&1
check_eq "small store drivers: exit 3" "$?" "3"
check_eq "small store drivers: the warning comes first" "$(head -c 38 small.txt)" "warning: the Cox fit did not converge "
checked $TENURE --db small.db --format json drivers >small.json 2>/dev/null
check_contains "small store drivers: converged false" small.json '"converged":false'
check_contains "small store drivers: JSON warning" small.json '"warnings":["the Cox fit did not converge'

# the demo's spend model: Gamma-Gamma q and gamma run off together (every
# customer's spend rate alike) -- said, but the predictions stand: exit 0
check "demo store" $TENURE --db demo.db demo --customers 300
$TENURE --db demo.db --format json value at-risk >atrisk.json 2>/dev/null
check_eq "collapsed spend mixture: exit 0" "$?" "0"
check_contains "collapsed spend mixture: said" atrisk.json 'both run off to infinity: every customer looks alike'
check_contains "at-risk JSON: warnings and segments" atrisk.json '"segments":[{"segment":'
$TENURE --db demo.db --format json value profitability >profit.json 2>/dev/null
check_eq "profitability: exit 0" "$?" "0"
check_contains "profitability JSON: warnings and segments" profit.json '"segments":[{"segment":'
