#!/usr/bin/python3
# gen_value.py -- benchmark data for bench_value.sh (written under build/bench, never committed).
#   gen_value.py replicate SUMMARY N OUT   the CDNOW summary repeated to N rows
#   gen_value.py synth N OUT               N customers simulated from the BG/NBD process
#                                          (FHL 2005 parameters, T uniform 26..52 weeks, continuous times,
#                                          so the rows are distinct), with a Gamma-Gamma spend
import sys
import numpy as np

def replicate(src, n, out):
    rows = open(src).read().splitlines()
    hdr, body = rows[0], rows[1:]
    with open(out, "w") as f:
        f.write(hdr + "\n")
        for i in range(n):
            f.write(body[i % len(body)] + "\n")

def synth(n, out):
    rng = np.random.default_rng(42)
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    p, q, g = 6.25, 3.74, 15.44
    lam = rng.gamma(r, 1 / alpha, n)
    pd = rng.beta(a, b, n)
    T = rng.uniform(26, 52, n)
    x = np.zeros(n, dtype=np.int64)
    tx = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for _ in range(400):  # at most 400 repeat purchases
        if not alive.any():
            break
        t = t + rng.exponential(1, n) / np.maximum(lam, 1e-12)
        ok = alive & (t <= T)
        x[ok] += 1
        tx[ok] = t[ok]
        alive = ok & (rng.uniform(size=n) >= pd)
    nu = rng.gamma(q, 1 / g, n)
    m = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0)
    with open(out, "w") as f:
        f.write("customer,frequency,recency,T,monetary_value\n")
        for i in range(n):
            f.write("%d,%d,%.6f,%.6f,%.4f\n" % (i + 1, x[i], tx[i], T[i], m[i]))

if sys.argv[1] == "replicate":
    replicate(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    synth(int(sys.argv[2]), sys.argv[3])
