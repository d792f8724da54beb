# survival.sh -- `tenure survival` and `tenure drivers` end to end on the
# Rossi recidivism data; reference numbers from tests/data/README.md
# (R survival 3.5): KM S(52) = 0.736111, SE 0.021205; Cox Efron fin
# -0.3794222, prio 0.0914971, concordance 0.6403; log-rank by fin from R
# survdiff: chisq 3.8376 on 1 df (survdiff(Surv(week, arrest) ~ fin, rossi)).
. "$REPO/tests/e2e/lib.sh"
R=$TENURE_TEST_DATA/survival/rossi.csv
[ -f "$R" ] || { not_ok "reference data" "missing $R"; exit 1; }

$TENURE --format csv survival --csv "$R" --time week --event arrest --at 52 >km.csv 2>err.txt
check_eq "survival csv header" "$(head -1 km.csv)" "group,n,events,median,median_lower,median_upper,time,n_risk,survival,se,lower,upper"
check_near "KM S(52)" "$(awk -F, 'NR==2 {print $9}' km.csv)" 0.736111 1e-6
check_near "KM SE(52)" "$(awk -F, 'NR==2 {print $10}' km.csv)" 0.021205 1e-6

$TENURE --format json survival --csv "$R" --time week --event arrest --by fin --at 26,52 >by.json
check_contains "json groups" by.json '"groups":[{"group":"0","n":216,"events":66,'
check_contains "json logrank df" by.json '"df":1,'
chisq=$(sed -n 's/.*"logrank":{"chisq":\([0-9.e+-]*\),.*/\1/p' by.json)
check_near "log-rank chisq by fin" "$chisq" 3.8376 1e-4
check_contains "json danger sentence" by.json '"sentence":"The risk of leaving peaks in'

$TENURE survival --csv "$R" --time week --event arrest --bin week >table.txt
check_contains "table has median column" table.txt "median_lower"
check_contains "table danger window" table.txt "act before day"

$TENURE --format json drivers --csv "$R" --time week --event arrest >cox.json
coef() { sed -n "s/.*\"name\":\"$1\",\"coef\":\([0-9.e+-]*\),.*/\1/p" cox.json; }
check_near "drivers fin coef" "$(coef fin)" -0.3794222 1e-6
check_near "drivers prio coef" "$(coef prio)" 0.0914971 1e-6
check_near "drivers age coef" "$(coef age)" -0.0574377 1e-6
conc=$(sed -n 's/.*"concordance":\([0-9.]*\),.*/\1/p' cox.json)
check_near "drivers concordance" "$conc" 0.6403 5e-5
check_contains "drivers json keys" cox.json '"n":432,"events":114,"loglik_null":'

$TENURE drivers --csv "$R" --time week --event arrest --covariates fin,age,prio --ties breslow --strata race >b.txt
check_contains "drivers table" b.txt "hazard_ratio"

# a text covariate with a chosen reference level
awk -F, 'BEGIN{OFS=","} NR==1 {print $0,"band"; next} {print $0, ($4<20?"teen":($4<30?"twenties":"older"))}' "$R" >r2.csv
$TENURE --format csv drivers --csv r2.csv --time week --event arrest --covariates band,fin --reference band=older >band.csv
check_contains "indicator named COLUMN=LEVEL" band.csv "band=teen,"
check_contains "reference level not a column" band.csv "band=twenties,"

# bad input: a clear error naming the file, line and column; non-zero exit
printf 'time,left\n3,1\n4,2\n' >bad.csv
check_fails "event 2 rejected" $TENURE survival --csv bad.csv --time time --event left
fails $TENURE survival --csv bad.csv --time time --event left 2>err.txt
check_contains "error names file:line:column" err.txt "bad.csv:3: left: expected 0 or 1, found 2"
check_fails "missing column" $TENURE drivers --csv "$R" --time weeks --event arrest
check_fails "bad ties" $TENURE drivers --csv "$R" --time week --event arrest --ties exact
check_fails "no data source" $TENURE survival --time week --event arrest
printf 'time,left,plan\n3,1,a\n,0,b\n5,0,\n6,1,b\n' >blank.csv
$TENURE survival --csv blank.csv --time time --event left --by plan >/dev/null 2>err.txt
check_contains "dropped rows reported" err.txt "n=2, 2 observations deleted due to missingness"
$TENURE survival --help >help.txt
check_contains "help documents --bin" help.txt "--bin W"
$TENURE drivers --help >help.txt
check_contains "help documents --reference" help.txt "--reference LIST"
printf 't,e,x,y\n1,1,1,2\n2,0,2,4\n3,1,3,6\n4,1,1,2\n' >col.csv
fails $TENURE drivers --csv col.csv --time t --event e 2>err.txt
check_contains "collinear covariate named" err.txt 'covariate "y" is constant or a combination'
printf 't,e\n' >empty.csv
check_fails "no rows" $TENURE survival --csv empty.csv --time t --event e
$TENURE --format json survival --csv "$R" --time week --event arrest --bin 4 --unit week >bin.json
check_contains "numeric bin width" bin.json '"bin_width":4,'
check_contains "unit in the sentence" bin.json 'act before week '
check_fails "bad bin" $TENURE survival --csv "$R" --time week --event arrest --bin fortnight
