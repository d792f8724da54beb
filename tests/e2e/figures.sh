# figures.sh -- one figure everywhere (docs/metrics.md, "Headline figures"):
# on a small demo, `tenure summary` agrees with `tenure churn rate`, `value
# profitability`, `survival` and the HTML report for the same as-of, and a
# date given as --as-of means the end of that day in every command.
. "$REPO/tests/e2e/lib.sh"

check "small demo" $TENURE --db d.db demo --customers 1500 --months 14
printed=$(sed -n 's/.* \([0-9]*\) events,.*/\1/p' check.out)
check_eq "demo prints the events the store holds" "$printed" "$(sqlite3 d.db 'SELECT count(*) FROM events')"

# the numbers of one as-of, from one command each
py() { /usr/bin/python3 -c "$@"; }
figures() { # AS_OF (or "") -> "paying+trialing mrr churn% nrr% | customers_end mrr_end churn% nrr%"
  a=${1:+--as-of $1}
  $TENURE --db d.db --format json summary $a >s.json && $TENURE --db d.db --format json churn rate $a >r.json &&
  py '
import json
s = {r["measure"]: r["value"] for r in json.load(open("s.json"))}
r = json.load(open("r.json"))[-1]
print("%d %.2f %.4f %.4f | %d %.2f %.4f %.4f" % (s["paying"] + s["trialing"], s["mrr"], s["churn_rate_month_pct"],
      s["nrr_month_pct"], r["customers_end"], r["mrr_end"], 100 * r["churn_rate"], 100 * r["nrr"]))'
}
for a in "" 2026-10-31 2026-09-30 2026-06-15; do
  f=$(figures "$a")
  check_eq "summary = churn rate's last period (as of ${a:-the data's end}): $f" "${f% |*}" "${f#*| }"
done
check_eq "as-of a date = the end of that day = the data's end" "$(figures 2026-10-31)" "$(figures "")"
$TENURE --db d.db --format json churn rate --as-of 2026-09-30 >r1.json
$TENURE --db d.db --format json churn rate >r2.json
check_eq "as of 2026-09-30, September is the whole month" \
  "$(py 'import json; r = json.load(open("r1.json"))[-1]; print(r["period"], r["churned"], r["customers_end"])')" \
  "$(py 'import json; r = [x for x in json.load(open("r2.json")) if x["period"] == "2026-09-01"][0]; print(r["period"], r["churned"], r["customers_end"])')"
check_eq "as of the end of a month, nothing partial" \
  "$($TENURE --db d.db summary --as-of 2026-09-30 | grep -c 'to date')" "0"
check_contains "as of mid-month, the month is to date" \
  "$($TENURE --db d.db summary --as-of 2026-06-15 >mid.txt; echo mid.txt)" "in 2026-06 (to date)"

# revenue at risk = value profitability's (all) value_at_risk
$TENURE --db d.db --format json summary >s.json
$TENURE --db d.db --format csv value profitability >p.csv
check_near "revenue at risk = value profitability (all)" \
  "$(py 'import json; print([r["value"] for r in json.load(open("s.json")) if r["measure"] == "revenue_at_risk"][0])')" \
  "$(awk -F, '$1 == "(all)" {print $6}' p.csv)" 0.01

# the report: every data-metric figure equals summary's, and the sections are there
check "report" $TENURE --db d.db report --html r.html
check "report figures = summary's" py '
import json, re, sys
html = open("r.html", encoding="utf-8").read()
s = {r["measure"]: r["value"] for r in json.load(open("s.json"))}
shown = re.findall(r"<span data-metric=\"([a-z0-9_]+)\">([^<]*)</span>", html)
need = {"customers", "active_customers", "paying", "trialing", "mrr", "churn_rate_month_pct",
        "churn_rate_prev_month_pct", "nrr_month_pct", "nps_90d", "revenue_at_risk"}
missing = need - {k for k, _ in shown}
if missing: sys.exit("no data-metric for %s" % sorted(missing))
for k, v in shown:
    if k not in s: sys.exit("%s is not a summary measure" % k)
    digits = len(v.split(".")[1]) if "." in v else 0
    if abs(float(v.replace(",", "")) - s[k]) > 0.5 * 10 ** -digits + 1e-9:
        sys.exit("%s: report %s, summary %s" % (k, v, s[k]))
print(len(shown), "figures agree")'
for h in "Headline" "Churn rate by month" "Survival by plan" "When customers leave" "What drives churn" \
         "What customers say: survey scores" "What customers say: complaints by type" \
         "What customers say: impact against cost" "What customers are worth: by plan" \
         "What customers are worth: by channel" "Who is about to leave"; do
  check_contains "report section: $h" r.html "<h2>$h"
done
# the medians are the Kaplan-Meier medians `tenure survival` prints
$TENURE --db d.db --format json survival --by plan >sv.json
for g in $(py 'import json; print(" ".join(g["group"] for g in json.load(open("sv.json"))["groups"] if g["median"] is not None))'); do
  m=$(py "import json; print('%.1f' % [g['median'] for g in json.load(open('sv.json'))['groups'] if g['group'] == '$g'][0])")
  check_contains "report median of $g = survival's ($m days)" r.html " $g $m days"
done
check_contains "hazard axis in percent" r.html "share leaving that day"
check "every hazard tick is a percentage" py '
import re, sys
svg = open("r.html").read().split("Daily churn hazard")[1].split("</svg>")[0]
ticks = re.findall(r"text-anchor=\"end\">([0-9.]+[^<]*)</text>", svg)
sys.exit(0 if ticks and all(t.endswith("%") for t in ticks) else "ticks: %s" % ticks)'
check_contains "hazard peaks described" r.html "The hazard peaks at day"
check_contains "drivers against a reference level" r.html "customers, the reference level"
check_contains "drivers: country shown" r.html "country="
check_contains "drivers: colour key" r.html "plan (vs "
check_contains "money with currency and separators" r.html "(USD)"
check "Arabic and Persian answers laid out in their own direction (dir=auto)" py '
import re, sys
html = open("r.html", encoding="utf-8").read()
cells = re.findall(r"<td class=\"t\" dir=\"auto\">([^<]*)</td>", html)
rtl = [c for c in cells if re.search("[\u0600-\u06ff]", c)]
sys.exit(0 if len(rtl) >= 2 else "right-to-left answers in dir=auto cells: %d" % len(rtl))'
check_contains "what customers say, in their own words" r.html "<h2>What customers say: in their own words"
check_eq "no network references" "$(grep -c -E 'https?://|<script|<link' r.html)" "0"
check "drivers in the terminal name the reference" $TENURE --db d.db drivers
check_contains "drivers: reference column" check.out "reference"
