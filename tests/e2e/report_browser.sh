# report_browser.sh -- the HTML report in headless Chromium (tests/browser/check.js,
# puppeteer-core): legible at 1400 px and 400 px, screenshots saved as
# build/report-1400.png and build/report-400.png, no horizontal overflow on a
# phone, no request beyond the file, and the headline shows summary's figures.
. "$REPO/tests/e2e/lib.sh"

B="$REPO/tests/browser"
if [ ! -d "$B/node_modules/puppeteer-core" ]; then
  # CI runs `npm ci` there (.ci/run); a first local run installs it the same way
  check "npm ci in tests/browser" npm ci --prefix "$B" --no-audit --no-fund
fi
check "small demo" $TENURE --db d.db demo --customers 1500 --months 14
check "report" $TENURE --db d.db report --html r.html
$TENURE --db d.db --format json summary >s.json
mkdir -p "$REPO/build"
rm -f "$REPO/build/report-1400.png" "$REPO/build/report-400.png"
check "headless Chromium renders the report" node "$B/check.js" r.html "$REPO/build"
cp check.out browser.json
for w in 1400 400; do
  check "screenshot build/report-$w.png" test -s "$REPO/build/report-$w.png"
done
check "no horizontal overflow at 400 px or 1400 px" /usr/bin/python3 -c '
import json, sys
for line in open("browser.json"):
    if not line.startswith("{"): continue
    m = json.loads(line)
    if m["scrollWidth"] > m["width"]: sys.exit("%d px wide: scrollWidth %d" % (m["width"], m["scrollWidth"]))'
check "chart text at least 9 px on a 400 px screen" /usr/bin/python3 -c '
import json, sys
for line in open("browser.json"):
    if line.startswith("{") and json.loads(line)["width"] == 400:
        t = json.loads(line)["minChartText"]
        sys.exit(0 if t >= 9 else "smallest chart text %.1f px" % t)
sys.exit("no 400 px result")'
check "no request beyond the file (works offline)" /usr/bin/python3 -c '
import json, sys
bad = [u for line in open("browser.json") if line.startswith("{") for u in json.loads(line)["outside"]]
sys.exit("requests: %s" % bad if bad else 0)'
check "the rendered headline shows summary's figures" /usr/bin/python3 -c '
import json, sys
s = {r["measure"]: r["value"] for r in json.load(open("s.json"))}
for line in open("browser.json"):
    if not line.startswith("{"): continue
    shown = json.loads(line)["metrics"]
    if len(shown) < 10: sys.exit("only %d data-metric figures" % len(shown))
    for k, v in shown.items():
        d = len(v.split(".")[1]) if "." in v else 0
        if abs(float(v.replace(",", "")) - s[k]) > 0.5 * 10 ** -d + 1e-9:
            sys.exit("%s: shown %s, summary %s" % (k, v, s[k]))'
