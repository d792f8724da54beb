# churn_reference.sh -- `tenure churn status` and `tenure churn rate` against
# an independent implementation (Python's sqlite3 reading the same store,
# written from docs/churn.md and docs/metrics.md, not from the C code) on a
# small demo company: every spell of every customer must match, and every
# monthly count.
. "$REPO/tests/e2e/lib.sh"
PY=/usr/bin/python3

check "demo" $TENURE --db d.db demo --customers 1500 --months 9 --seed 7
check "define idle" $TENURE --db d.db churn define idle --inactive-days 21 --event-types session
check "define both" $TENURE --db d.db churn define both --cancelled --grace 3 --inactive-days 30
for def in cancelled idle both; do
  check "status $def" $TENURE --db d.db --format csv churn status --definition $def
  cut -d, -f1-6 check.out > tenure_$def.csv
done
check "rate" $TENURE --db d.db --format csv churn rate
cut -d, -f1-6 check.out > tenure_rate.csv
cp check.out tenure_rate_full.csv
check "cohorts" $TENURE --db d.db --format csv cohorts
cp check.out tenure_cohorts.csv

cat > ref.py <<'EOF'
import sqlite3, sys, datetime
db = sqlite3.connect("d.db")
DAY = 86400
INF = float("inf")
as_of = db.execute("""SELECT max(t) FROM (SELECT max(signed_up_at) t FROM customers UNION ALL
  SELECT max(started_at) FROM subscriptions UNION ALL SELECT max(cancelled_at) FROM subscriptions UNION ALL
  SELECT max(paid_at) FROM payments UNION ALL SELECT max(given_at) FROM feedback UNION ALL
  SELECT CAST(value AS INTEGER) FROM meta WHERE key IN ('events_last', 'data_end'))""").fetchone()[0]
as_of = as_of // DAY * DAY + DAY - 1  # docs/metrics.md: as of the end of the data's last day
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
custs = db.execute("SELECT id, ext_id, signed_up_at FROM customers ORDER BY id").fetchall()
subs = {}
def sub_end(start, trial, cpe, canc, status):  # docs/churn.md, "When a subscription ends"
    if canc is not None:
        return canc if canc <= as_of else INF
    if status in ("expired", "cancelled"):
        e = cpe if cpe is not None else trial if trial is not None else start
        return e if e <= as_of else INF
    return INF
for cid, start, trial, cpe, canc, status in db.execute(
        "SELECT customer_id, started_at, trial_ends_at, current_period_end, cancelled_at, status FROM subscriptions "
        "ORDER BY customer_id, started_at, plan"):
    if start > as_of:
        continue
    end = sub_end(start, trial, cpe, canc, status)
    subs.setdefault(cid, []).append((start, max(end, start)))
sessions = {}
for cid, t in db.execute("SELECT e.customer_id, e.occurred_at FROM events e JOIN event_types y ON y.id = e.type_id "
                         "WHERE y.name = 'session' AND e.occurred_at <= ? ORDER BY 1, 2", (as_of,)):
    sessions.setdefault(cid, []).append(t)
allev = {}
for cid, t in db.execute("SELECT customer_id, occurred_at FROM events WHERE occurred_at <= ? ORDER BY 1, 2", (as_of,)):
    allev.setdefault(cid, []).append(t)

def spells(cid, signup, cancelled, grace, inactive, acts):
    ss = subs.get(cid, [])
    ev = acts.get(cid, [])
    gend = {}
    if cancelled and ss:  # groups: overlap or gap <= grace
        i = 0
        while i < len(ss):
            j, e = i, ss[i][1]
            while j + 1 < len(ss) and (e == INF or ss[j + 1][0] <= e + grace):
                j += 1
                e = max(e, ss[j][1])
            for k in range(i, j + 1):
                gend[k] = e
            i = j + 1
    out = []
    if cancelled:
        if not ss:
            return out
        t0, sub = ss[0][0], 0
    else:
        cands = [x for x in [signup if signup is not None and signup <= as_of else None,
                             ss[0][0] if ss else None, ev[0] if ev else None] if x is not None]
        if not cands:
            return out
        t0, sub = min(cands), None
    while t0 <= as_of:
        limit = gend[sub] if cancelled else INF
        l = min(limit, as_of)
        fire = INF
        if inactive:
            prev = t0
            for t in ev:
                if t <= t0:
                    continue
                if t > l:
                    break
                if t - prev > inactive:
                    fire = prev + inactive
                    break
                prev = t
            if fire == INF and prev + inactive <= l:
                fire = prev + inactive
        if fire < limit and fire <= as_of:
            end, st, why = fire, "churned", "inactive"
        elif limit <= as_of:
            end, st, why = limit, "churned", "cancelled"
        else:
            out.append((t0, as_of + 1, "censored", ""))  # as of a day's end: censored at the next midnight
            break
        out.append((t0, end, st, why))
        nxt = [k for k, s in enumerate(ss) if s[0] > end]
        if cancelled:
            if not nxt:
                break
            sub = nxt[0]
            t0 = ss[sub][0]
        else:
            c = [ss[nxt[0]][0]] if nxt else []
            c += [t for t in ev if t > end][:1]
            if not c:
                break
            t0 = min(c)
    return out

defs = {"cancelled": (True, 7 * DAY, 0, sessions), "idle": (False, 0, 21 * DAY, sessions),
        "both": (True, 3 * DAY, 30 * DAY, allev)}
result = {}
for name, (canc, grace, inact, acts) in defs.items():
    with open("ref_%s.csv" % name, "w") as f:
        f.write("customer,spell,start,end,status,reason\n")
        for cid, ext, signup in custs:
            sp = spells(cid, signup, canc, grace, inact, acts)
            result.setdefault(name, {})[cid] = sp
            for i, (a, b, st, why) in enumerate(sp):
                f.write("%s,%d,%s,%s,%s,%s\n" % (ext, i + 1, iso(a), iso(b), st, why))

# monthly counts under "cancelled" (docs/metrics.md): alive at t <=> start < t <= end (censored: no end)
def month_start(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return int(datetime.datetime(d.year, d.month, 1, tzinfo=datetime.timezone.utc).timestamp())
def add_month(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return int(datetime.datetime(y, m, 1, tzinfo=datetime.timezone.utc).timestamp())
sp = result["cancelled"]
first = min(s[0][0] for s in sp.values() if s)
a = month_start(first)
alive = lambda s, t: s[0] < t and (s[2] == "censored" or t <= s[1])
with open("ref_rate.csv", "w") as f:
    f.write("period,customers_start,new,reactivated,churned,customers_end\n")
    while a <= as_of:
        b = min(add_month(a), as_of + 1)
        cs = ce = new = re = ch = 0
        for spells_ in sp.values():
            cs += any(alive(s, a) for s in spells_)
            ce += any(alive(s, b) for s in spells_)
            for i, s in enumerate(spells_):
                if a <= s[0] < b:
                    if i == 0: new += 1
                    else: re += 1
                if s[2] == "churned" and a <= s[1] < b:
                    ch += 1
        f.write("%s,%d,%d,%d,%d,%d\n" % (iso(a)[:10], cs, new, re, ch, ce))
        a = add_month(a)

# MRR movements (docs/metrics.md): per customer, MRR just before a and b
import calendar, csv
msubs = {}
for cid, start, trial, cpe, canc, status, price, period in db.execute(
        "SELECT customer_id, started_at, trial_ends_at, current_period_end, cancelled_at, status, price, "
        "billing_period FROM subscriptions ORDER BY customer_id, started_at, plan"):
    if start > as_of:
        continue
    end = sub_end(start, trial, cpe, canc, status)
    months = {"month": 1, "year": 12, "quarter": 3, "week": 12 / 52, "day": 12 / 365}[period]
    paid = trial if trial is not None and trial > start else start
    msubs.setdefault(cid, []).append((start, paid, max(end, start), price / months))
mrr = lambda ss, t: sum(x[3] for x in ss if x[1] < t <= x[2])
bad = 0
rows = list(csv.DictReader(open("tenure_rate_full.csv")))
for r in rows:
    a = int(datetime.datetime.strptime(r["period"], "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp())
    b = min(add_month(a), as_of + 1)
    want = dict(mrr_start=0, new_mrr=0, reactivation_mrr=0, expansion_mrr=0, contraction_mrr=0, churned_mrr=0,
                mrr_end=0)
    for ss in msubs.values():
        m0, m1 = mrr(ss, a), mrr(ss, b)
        want["mrr_start"] += m0
        want["mrr_end"] += m1
        if m0 <= 0 and m1 > 0:
            before = any(x[1] < a and x[2] > x[1] for x in ss)
            want["reactivation_mrr" if before else "new_mrr"] += m1
        elif m0 > 0 and m1 <= 0:
            want["churned_mrr"] += m0
        elif m1 > m0:
            want["expansion_mrr"] += m1 - m0
        elif m1 < m0:
            want["contraction_mrr"] += m0 - m1
    for k, v in want.items():
        if abs(float(r[k]) - v) > 1e-6 * max(1, abs(v)):
            print("MRR mismatch", r["period"], k, r[k], v)
            bad += 1
# cohorts: share alive at each member's own monthly anniversary (start <= t < end)
def anniversary(t, k):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    y, m = divmod(d.month - 1 + k, 12)
    y, m = d.year + y, m + 1
    day = min(d.day, calendar.monthrange(y, m)[1])
    return int(d.replace(year=y, month=m, day=day).timestamp())
crows = list(csv.DictReader(open("tenure_cohorts.csv")))
for r in crows:
    c0 = int(datetime.datetime.strptime(r["cohort"], "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp())
    members = [s for s in sp.values() if s and month_start(s[0][0]) == c0]
    if int(r["customers"]) != len(members):
        print("cohort size mismatch", r["cohort"], r["customers"], len(members))
        bad += 1
    k = 0
    while "m%d" % k in r:
        num = den = 0
        for s in members:
            t = anniversary(s[0][0], k)
            if t > as_of:
                continue
            den += 1
            num += any(x[0] <= t and (x[2] == "censored" or t < x[1]) for x in s)
        got = r["m%d" % k]
        if (den == 0) != (got == "") or (den and abs(float(got) - num / den) > 1e-12):
            print("cohort mismatch", r["cohort"], k, got, num, den)
            bad += 1
        k += 1
print("checked", len(rows), "months of MRR and", len(crows), "cohorts")
sys.exit(1 if bad else 0)
EOF
check "reference implementation runs" $PY ref.py
check_contains "MRR movements and cohorts identical to the reference" check.out "checked 10 months of MRR and 10 cohorts"
for def in cancelled idle both; do
  check_eq "$def: $(($(wc -l < ref_$def.csv) - 1)) spells identical to the reference" \
    "$(diff tenure_$def.csv ref_$def.csv | head -5)" ""
done
check_eq "monthly counts identical to the reference" "$(diff tenure_rate.csv ref_rate.csv | head -5)" ""
check_eq "the demo has reactivations (the test covers spells > 1)" \
  "$(awk -F, 'NR > 1 && $2 > 1' ref_cancelled.csv | head -1 | cut -d, -f2)" "2"
check_eq "the 'both' definition mixes reasons" \
  "$(cut -d, -f6 ref_both.csv | grep -E '^(inactive|cancelled)$' | sort -u | tr '\n' ' ')" "cancelled inactive "
