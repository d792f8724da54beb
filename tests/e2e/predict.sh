#!/bin/sh
# predict.sh -- `tenure predict cv|train|score` end to end on the telco file.
. "$REPO/tests/e2e/lib.sh"
T="$TENURE_TEST_DATA/telco/telco_customer_churn.csv"

# 5-fold ROC AUC of logistic regression; published about 0.84-0.85 (tests/data/README.md)
$TENURE --format json predict cv --csv "$T" --target Churn --positive Yes --id customerID \
  --model logistic --folds 5 --seed 1 --export m.csv >cv.json 2>cv.err
check_contains "cv json has auc_folds" cv.json '"auc_folds":['
auc=$(sed -n 's/.*"auc":\([0-9.]*\).*/\1/p' cv.json)
check_near "telco logistic 5-fold auc >= 0.84" "$auc" 0.87 0.03
check_eq "export has 7043 rows + header" "$(wc -l <m.csv | tr -d ' ')" 7044
check_contains "export header names an indicator" m.csv ',Contract=Two year,'

# readable table by default
$TENURE predict cv --csv "$T" --target Churn --id customerID >cv.txt 2>&1
check_contains "cv table" cv.txt "roc_auc (mean of folds)"

# train, save, score with reasons
check "train gbdt" $TENURE predict train --csv "$T" --target Churn --id customerID --model gbdt --rounds 60 --save g.json
$TENURE --format csv predict score --model g.json --csv "$T" --top 5 >s.csv 2>s.err
check_eq "score prints 5 rows + header" "$(wc -l <s.csv | tr -d ' ')" 6
check_contains "score header" s.csv "rank,id,risk,reason_1,reason_2,reason_3"
check_contains "reasons in plain words" s.csv "Contract is Month-to-month"
$TENURE --format csv predict score --model g.json --csv "$T" --top 5 >s2.csv 2>&1
check_eq "scores reproducible" "$(cat s2.csv)" "$(cat s.csv)"

# errors: clear, non-zero
check_fails "missing target column fails" $TENURE predict cv --csv "$T" --target Nope
fails $TENURE predict cv --csv "$T" --target Nope >e.txt 2>&1
check_contains "error names the columns" e.txt 'no column "Nope"; columns are: customerID'
check_fails "unknown model fails" $TENURE predict cv --csv "$T" --target Churn --model forest
check_fails "id as predictor is refused" $TENURE predict cv --csv "$T" --target Churn
fails $TENURE predict cv --csv "$T" --target Churn >e2.txt 2>&1
check_contains "identifier hint" e2.txt "pass it to --id"
echo '{"format":"x"}' >bad.json
check_fails "bad model file fails" $TENURE predict score --model bad.json --csv "$T"
$TENURE predict --help >h.txt
check_contains "help documents --export" h.txt "--export FILE"

# a column that was text in training and is numeric in the scored file
printf 'id,plan,y\na,x,1\nb,y,0\nc,x,0\nd,y,1\ne,x,1\nf,y,0\n' >t1.csv
printf 'id,plan,y\na,1,1\nb,2,0\n' >t2.csv
check "train small" $TENURE predict train --csv t1.csv --target y --id id --save m1.json
$TENURE --format csv predict score --model m1.json --csv t2.csv >t2.out 2>&1
check_eq "text-trained column read as numbers scores cleanly" "$(sed -n 2p t2.out | cut -d, -f1,2,5,6)" "1,a,,"
