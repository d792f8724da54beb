# predict_compare.py MATRIX.csv MODEL L2 ROUNDS DEPTH ETA -- fit scikit-learn's
# LogisticRegression (StandardScaler + C = 1/L2) or XGBoost's XGBClassifier
# (same parameters as tenure: exact trees, 1 thread) on the folds and the
# encoded matrix that `tenure predict cv --export` wrote; print the mean of
# the fold ROC AUCs and the seconds spent fitting.
import sys, time
import numpy as np
from sklearn.metrics import roc_auc_score

path, model = sys.argv[1], sys.argv[2]
l2, rounds, depth, eta = float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
data = np.loadtxt(path, delimiter=",", skiprows=1)
fold, y, x = data[:, 0].astype(int), data[:, 1], data[:, 2:]
aucs, fit = [], 0.0
for k in range(fold.max() + 1):
    tr, te = fold != k, fold == k
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        sc = StandardScaler().fit(x[tr])
        m = LogisticRegression(C=1.0 / l2, tol=1e-10, max_iter=10000)
        t0 = time.perf_counter()
        m.fit(sc.transform(x[tr]), y[tr])
        fit += time.perf_counter() - t0
        p = m.predict_proba(sc.transform(x[te]))[:, 1]
    else:
        import xgboost as xgb
        m = xgb.XGBClassifier(n_estimators=rounds, max_depth=depth, learning_rate=eta,
                              min_child_weight=1, reg_lambda=1, subsample=1, tree_method="exact",
                              n_jobs=1, random_state=0)
        xt = x[tr].astype(np.float32)
        t0 = time.perf_counter()
        m.fit(xt, y[tr])
        fit += time.perf_counter() - t0
        p = m.predict_proba(x[te].astype(np.float32))[:, 1]
    aucs.append(roc_auc_score(y[te], p))
print("%.10f %.4f" % (np.mean(aucs), fit))
