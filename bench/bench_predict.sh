#!/bin/sh
# bench_predict.sh -- churn-risk models: accuracy against scikit-learn and
# Python XGBoost on the same folds and encoding (telco), fitting time, and
# scoring speed on 1,000,000 customers.  Run from the checkout: bench/bench_predict.sh
# (SCORE_N=... to change the number of customers scored).
set -e
. "$(dirname "$0")/lib.sh"
T=${TELCO:-tests/data/telco/telco_customer_churn.csv}
PY=/usr/bin/python3
N=${SCORE_N:-1000000}
machine
echo "note: 2 cores shared with other engineers' jobs: times are noisy"
echo
printf '%-9s %10s %10s %9s %10s %10s %7s\n' model tenure_auc python_auc diff tenure_fit python_fit ratio
for model in logistic gbdt; do
  "$TENURE" --format json predict cv --csv "$T" --target Churn --positive Yes --id customerID \
    --model "$model" --folds 5 --seed 1 --export "$BENCH_DIR/telco_$model.csv" >"$BENCH_DIR/cv_$model.json"
  auc=$(sed -n 's/.*"auc":\([0-9.]*\).*/\1/p' "$BENCH_DIR/cv_$model.json")
  fit=$(sed -n 's/.*"fit_seconds":\([0-9.e-]*\).*/\1/p' "$BENCH_DIR/cv_$model.json")
  set -- $($PY bench/predict_compare.py "$BENCH_DIR/telco_$model.csv" "$model" 1.0 300 3 0.05)
  printf '%-9s %10.4f %10.4f %+9.5f %9.3fs %9.3fs %7s\n' "$model" "$auc" "$1" \
    "$(awk -v a="$auc" -v b="$1" 'BEGIN{print a-b}')" "$fit" "$2" "$(ratio "$fit" "$2")"
done
echo "(auc = mean of the 5 fold AUCs; fit = seconds fitting all 5 folds; ratio = tenure/python)"
echo
[ -s "$BENCH_DIR/score_$N.csv" ] || $PY bench/predict_make_big.py "$T" "$BENCH_DIR/score_$N.csv" "$N"
for model in logistic gbdt; do
  "$TENURE" predict train --csv "$T" --target Churn --id customerID --model "$model" \
    --save "$BENCH_DIR/model_$model.json" >/dev/null
  measure "score $model" "$TENURE" --format csv predict score --model "$BENCH_DIR/model_$model.json" \
    --csv "$BENCH_DIR/score_$N.csv" --top 100 --timing
  echo "score $model, $N customers: total $SECS s (peak RSS $RSS_MB MB); $(grep timing "$BENCH_DIR/.err")"
done
echo
# features from the store: a demo company of FEAT_CUSTOMERS customers (~106 events each)
FC=${FEAT_CUSTOMERS:-100000}
DB="$BENCH_DIR/predict_demo_$FC.db"
[ -s "$DB" ] || "$TENURE" --db "$DB" demo --customers "$FC" --force >/dev/null
EV=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE occurred_at <= strftime('%s','2026-10-01 23:59:59')")
measure "features" "$TENURE" --db "$DB" predict features --as-of 2026-10-01 --horizon 30 --out "$BENCH_DIR/features.csv" --timing
B=$(sed -n 's/.*build \([0-9.]*\) s.*/\1/p' "$BENCH_DIR/.err")
echo "features: $FC customers, $EV events up to the cut-off: $SECS s in all, build $B s" \
  "($(rate "$EV" "$B") history events/s; only the last 90 days are read), peak RSS $RSS_MB MB; $(cat "$BENCH_DIR/.err")"
measure "backtest" "$TENURE" --db "$DB" predict backtest --as-of 2026-09-30 --horizon 30
echo "backtest (logistic, two feature builds + fit + score): $SECS s, peak RSS $RSS_MB MB"
sed -n 3p "$BENCH_DIR/.out"
measure "alerts" "$TENURE" --db "$DB" --format csv alerts --as-of 2026-10-31
echo "alerts (features at t and t-30 d, risk model, episodes): $SECS s, peak RSS $RSS_MB MB; $(tail -1 "$BENCH_DIR/.err")"
