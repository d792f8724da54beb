# value.sh -- `tenure value` end to end: summary of the CDNOW log, the four
# model fits against the published numbers (tests/data/README.md), score,
# and errors.
. "$REPO/tests/e2e/lib.sh"
D=$TENURE_TEST_DATA/cdnow
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# summary of CDNOW_sample.txt at the 39-week calibration equals the published summary
check "summary runs" sh -c "$TENURE value summary --csv $D/CDNOW_sample.txt --whitespace --no-header \
  --columns master,id,date,cds,amount --customer id --date date --amount amount \
  --calibration-end 1997-09-30 --format csv > summary.csv"
check_eq "summary rows" "$(wc -l < summary.csv)" 2358
diffs=$(awk -F, 'NR == FNR { if (FNR > 1) { x[$1+0] = $2; t[$1+0] = $3; T[$1+0] = $4; z[$1+0] = $5 }; next }
  FNR > 1 { id = $1 + 0; d = 0
    if ($2 != x[id]) d = 1
    if ($3 - t[id] > 0.0051 || t[id] - $3 > 0.0051) d = 1
    if ($4 - T[id] > 0.0051 || T[id] - $4 > 0.0051) d = 1
    if ($5 - z[id] > 0.0051 || z[id] - $5 > 0.0051) d = 1
    n += d }
  END { print n + 0 }' "$D/cdnow_customers_summary_with_transactions.csv" summary.csv)
check_eq "summary equals cdnow_customers_summary_with_transactions.csv (2 decimals)" "$diffs" 0

# BG/NBD (Fader, Hardie & Lee 2005): r=0.243 alpha=4.414 a=0.793 b=2.426 LL=-9582.4
check "bgnbd fit" sh -c "$TENURE --format json value fit --model bgnbd --csv summary.csv > bg.json"
check_near "bgnbd r" "$(json bg.json 'd["params"]["r"]')" 0.243 0.0005
check_near "bgnbd alpha" "$(json bg.json 'd["params"]["alpha"]')" 4.414 0.0005
check_near "bgnbd a" "$(json bg.json 'd["params"]["a"]')" 0.793 0.0005
check_near "bgnbd b" "$(json bg.json 'd["params"]["b"]')" 2.426 0.0005
check_near "bgnbd loglik" "$(json bg.json 'd["loglik"]')" -9582.4 0.05
check_eq "bgnbd converged" "$(json bg.json 'd["converged"]')" True
check_eq "bgnbd se present" "$(json bg.json 'all(v > 0 for v in d["se"].values())')" True

# Pareto/NBD: r=0.553 alpha=10.578 s=0.606 beta=11.669 (loosely) LL=-9595.0
check "pareto-nbd fit" sh -c "$TENURE --format json value fit --model pareto-nbd --csv $D/cdnow_customers_summary.csv > pn.json"
check_near "pareto-nbd r" "$(json pn.json 'd["params"]["r"]')" 0.553 0.0005
check_near "pareto-nbd s" "$(json pn.json 'd["params"]["s"]')" 0.606 0.005
check_near "pareto-nbd beta" "$(json pn.json 'd["params"]["beta"]')" 11.669 0.2
check_near "pareto-nbd loglik" "$(json pn.json 'd["loglik"]')" -9595.0 0.05

# Gamma-Gamma on the 946 repeat buyers: p=6.25 q=3.74 gamma=15.44 (note 025)
check "gamma-gamma fit" sh -c "$TENURE --format json value fit --model gamma-gamma \
  --csv $D/cdnow_customers_summary_with_transactions.csv --frequency x --monetary zbar > gg.json"
check_near "gg p" "$(json gg.json 'd["params"]["p"]')" 6.25 0.005
check_near "gg q" "$(json gg.json 'd["params"]["q"]')" 3.74 0.005
check_near "gg gamma" "$(json gg.json 'd["params"]["gamma"]')" 15.44 0.01
check_eq "gg n" "$(json gg.json 'd["n"]')" 946

# sBG (Fader & Hardie 2007), years 1-7: regular alpha=0.704 beta=1.182
check "sbg fit" sh -c "$TENURE --format json value fit --model sbg --survivors 1000,631,468,382,326,289,262,241 > sbg.json"
check_near "sbg alpha" "$(json sbg.json 'd["params"]["alpha"]')" 0.704 0.0005
check_near "sbg beta" "$(json sbg.json 'd["params"]["beta"]')" 1.182 0.0005
check "sbg table" sh -c "$TENURE value fit --model sbg --survivors 1000,869,743,653,593,551,517,491 > sbg.txt"
check_contains "sbg table shows the log-likelihood" sbg.txt "log-likelihood: -1611.1"
check_contains "sbg table shows the projection" sbg.txt "projection"

# score: customer 1 (x=2, t_x=30.43, T=38.86) expects 1.226 purchases in 39 weeks (FHL 2005)
check "score" sh -c "$TENURE --format csv value score --csv summary.csv --horizon 39 > score.csv"
check_eq "score rows" "$(wc -l < score.csv)" 2358
check_contains "score header" score.csv "customer,frequency,recency,T,p_alive,expected_transactions,expected_spend,clv"
check_near "score expected transactions of customer 1" "$(awk -F, '$1 == 1 { print $6 }' score.csv)" 1.226 0.0005
check "score json" sh -c "$TENURE --format json value score --csv summary.csv > score.json"
check_eq "score json rows" "$(json score.json 'len(d)')" 2357

# errors: no repeat buyers, a bad file, unknown model
printf 'frequency,recency,T\n0,0,10\n0,0,20\n' > norepeat.csv
check_fails "no repeat buyers is refused" $TENURE value fit --model bgnbd --csv norepeat.csv
fails $TENURE value fit --model bgnbd --csv norepeat.csv 2> err.txt
check_contains "no repeat buyers message" err.txt "no customer made a repeat purchase"
printf 'cust,when,amt\na,2024-01-01,1\nb,soon,2\n' > bad.csv
check_fails "bad date" $TENURE value summary --csv bad.csv --customer cust --date when --amount amt
fails $TENURE value summary --csv bad.csv --customer cust --date when --amount amt 2> err2.txt
check_contains "bad date names file:line:column" err2.txt "bad.csv:3:2:"
check_fails "unknown model" $TENURE value fit --model nope --csv summary.csv
check_fails "survivors growing" $TENURE value fit --model sbg --survivors 100,90,95
check "help" sh -c "$TENURE value fit --help | grep -q -- --survivors"
check "at-risk help" sh -c "$TENURE value at-risk --help | grep -q -- --by"
check "at-risk without a store: no data yet, exit 0" $TENURE --db nothing-here.db value at-risk
check_contains "at-risk says there is no data yet" check.out "no data yet in nothing-here.db"
check "score without a store: no data yet, exit 0" $TENURE --db nothing-here.db value score
check_contains "score says there is no data yet" check.out "no data yet in nothing-here.db"
check "score pareto-nbd" sh -c "$TENURE --format csv value score --model pareto-nbd --csv summary.csv --horizon 39 > pscore.csv"
check_eq "pareto-nbd score rows" "$(wc -l < pscore.csv)" 2358
check_eq "pareto-nbd p_alive in (0,1]" "$(awk -F, 'NR > 1 && !($5 > 0 && $5 <= 1)' pscore.csv | wc -l)" 0
printf 'frequency,recency,T\n1,5,4\n' > tx_after_T.csv
fails $TENURE value fit --model bgnbd --csv tx_after_T.csv 2> err3.txt
check_contains "t_x > T names the file and row" err3.txt "tx_after_T.csv: data row 1:"
