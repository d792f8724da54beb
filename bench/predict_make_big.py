# predict_make_big.py SRC OUT N -- write N customers by cycling the rows of the
# telco file SRC with fresh ids (c0, c1, ...): input for the scoring benchmark.
import sys
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src) as f:
    header = f.readline()
    rows = [line.split(",", 1)[1] for line in f if line.strip()]
with open(out, "w") as g:
    g.write(header)
    m = len(rows)
    g.writelines("c%d,%s" % (i, rows[i % m]) for i in range(n))
