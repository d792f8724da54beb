# churn.sh -- `tenure churn`, `tenure cohorts` and `tenure report` end to end
# on a hand-made store imported from CSV (answers computed by hand in the
# comments) and on a small demo company (identities that must hold).
. "$REPO/tests/e2e/lib.sh"

cat > customers.csv <<'EOF'
id,signed_up_at,country,channel,attrs
x,2024-01-01,DE,organic,"{""device"":""ios""}"
y,2024-01-15,DE,paid_social,"{""device"":""android""}"
z,2024-02-01,SA,organic,"{""device"":""ios""}"
EOF
# x 10/month from Jan 1; y 20/month Jan 15, cancelled Feb 10, back Mar 1
# (19 days later: a reactivation under the 7-day grace, the same spell under
# a 30-day grace); z 120/year from Feb 1 (MRR 10)
cat > subs.csv <<'EOF'
customer,plan,billing_period,price,currency,started_at,cancelled_at,status
x,monthly,month,10,USD,2024-01-01,,active
y,premium,month,20,USD,2024-01-15,2024-02-10,cancelled
y,monthly,month,10,USD,2024-03-01,,active
z,annual,year,120,USD,2024-02-01,,active
EOF
cat > events.csv <<'EOF'
customer,occurred_at,type
x,2024-01-02,session
x,2024-03-20,session
z,2024-02-02,session
z,2024-03-30,onboarding_complete
EOF
check "import customers" $TENURE --db t.db import customers customers.csv
check "import subscriptions" $TENURE --db t.db import subscriptions subs.csv
check "import events" $TENURE --db t.db import events events.csv

check "churn status" $TENURE --db t.db --format csv churn status --as-of 2024-03-31
check_eq "y has two spells" "$(grep -c '^y,' check.out)" "2"
check_contains "y churned on Feb 10 (cancelled)" check.out "y,1,2024-01-15T00:00:00Z,2024-02-10T00:00:00Z,churned,cancelled,26,premium"
check_contains "y back on Mar 1, censored" check.out "y,2,2024-03-01T00:00:00Z,2024-04-01T00:00:00Z,censored,,31,monthly"
check_contains "x censored after the as-of day (through 2024-03-31)" check.out "x,1,2024-01-01T00:00:00Z,2024-04-01T00:00:00Z,censored,,91,monthly"

check "define grace30" $TENURE --db t.db churn define grace30 --cancelled --grace 30
check "status grace30" $TENURE --db t.db --format csv churn status --definition grace30 --as-of 2024-03-31
check_eq "grace 30: y has one spell" "$(grep -c '^y,' check.out)" "1"

# inactivity 30 days on sessions: x's sessions Jan 2 and Mar 20 -> churn Feb 1, back Mar 20
check "define idle" $TENURE --db t.db churn define idle --inactive-days 30 --event-types session
check "status idle" $TENURE --db t.db --format csv churn status --definition idle --as-of 2024-03-31
check_contains "x inactive on Feb 1" check.out "x,1,2024-01-01T00:00:00Z,2024-02-01T00:00:00Z,churned,inactive"
check_contains "x back on Mar 20" check.out "x,2,2024-03-20T00:00:00Z"
check "list" $TENURE --db t.db --format csv churn list
check_contains "list shows the rule" check.out '"{""inactive_days"":30,""event_types"":[""session""]}"'
check "define bad (types are checked when used)" $TENURE --db t.db churn define bad --inactive-days 3 --event-types sesion
check_fails "status with an unknown type fails" $TENURE --db t.db churn status --definition bad
check_contains "names the type and the known ones" check.out 'no event type "sesion"'
check "drop" $TENURE --db t.db churn drop bad
check_fails "drop again fails" $TENURE --db t.db churn drop bad
check_fails "no rule is a usage error" $TENURE --db t.db churn define empty
check_fails "unknown definition" $TENURE --db t.db churn status --definition nope
check_contains "says which exist" check.out "defined: cancelled, voluntary, involuntary, grace30, idle"
check_fails "bad as-of" $TENURE --db t.db churn status --as-of 2024-13-01

# February: 2 at start (x, y), y churned: rate 0.5; MRR 30 -> 20 with z's 10 new
# and y's 20 churned: gross revenue churn 20/30, NRR 10/30
check "rate" $TENURE --db t.db --format csv churn rate --as-of 2024-03-31
feb=$(grep '^2024-02-01,' check.out)
check_eq "Feb counts" "$(echo "$feb" | cut -d, -f2-6)" "2,1,0,1,2"
check_near "Feb churn rate" "$(echo "$feb" | cut -d, -f7)" 0.5 1e-12
check_near "Feb NRR" "$(echo "$feb" | cut -d, -f16)" 0.333333333333 1e-9
mar=$(grep '^2024-03-01,' check.out)
check_eq "Mar: y reactivated" "$(echo "$mar" | cut -d, -f4)" "1"
check_near "Mar reactivation MRR" "$(echo "$mar" | cut -d, -f10)" 10 1e-9
check "rate by plan" $TENURE --db t.db --format json churn rate --by plan --period quarter --as-of 2024-03-31
check_contains "json has the group" check.out '"group":"premium","customers_start":0,"new":1,"reactivated":1,"churned":1'
check_fails "bad period" $TENURE --db t.db churn rate --period week

check "cohorts" $TENURE --db t.db --format csv cohorts --as-of 2024-03-31
check_contains "Jan cohort: 2 customers, y gone at +1 month" check.out "2024-01-01,2,1,0.5,"
check "revenue cohorts" $TENURE --db t.db --format csv cohorts --revenue --as-of 2024-03-31

check "export" $TENURE --db t.db churn export --csv out.csv --as-of 2024-03-31 --milestones onboarding_complete --milestone-days 60
check_eq "export header" "$(head -1 out.csv)" "customer,spell,time,event,reason,plan,billing_period,price,mrr,channel,country,attr_device,reached_onboarding_complete,first_nps"
check_eq "z reached onboarding within 60 days" "$(grep '^z,' out.csv | cut -d, -f13)" "1"
check_eq "one row per customer by default" "$(($(wc -l < out.csv) - 1))" "3"
check "export all spells" $TENURE --db t.db churn export --csv all.csv --all-spells --as-of 2024-03-31
check_eq "four spells" "$(($(wc -l < all.csv) - 1))" "4"

check "report" $TENURE --db t.db report --html r.html --as-of 2024-03-31
check_contains "report is HTML" r.html "<!DOCTYPE html>"
check_eq "no network references" "$(grep -c -E 'https?://' r.html)" "0"
check_eq "no scripts" "$(grep -c '<script' r.html)" "0"
check_contains "cohort heatmap" r.html "Share of each monthly cohort"
check_contains "survival section" r.html "<h2>Survival by plan</h2>"
if /usr/bin/python3 -c 'import html.parser' 2>/dev/null; then
  check "report parses as HTML with balanced tags" /usr/bin/python3 -c '
import sys, html.parser
void = {"meta", "br", "rect", "line", "path", "circle", "hr", "img", "input", "link"}
class P(html.parser.HTMLParser):
    def __init__(s): super().__init__(); s.stack = []
    def handle_starttag(s, t, a):
        if t not in void: s.stack.append(t)
    def handle_startendtag(s, t, a): pass
    def handle_endtag(s, t):
        if t in void: return
        if not s.stack or s.stack.pop() != t: sys.exit("unbalanced </%s>" % t)
p = P(); p.feed(open("r.html").read())
sys.exit("unclosed: %s" % p.stack if p.stack else 0)'
fi

# a small demo company: identities that hold for every period
check "demo" $TENURE --db demo.db demo --customers 600 --months 6
check "demo rate" $TENURE --db demo.db --format csv churn rate
check_eq "end = start + new + reactivated - churned, every month" \
  "$(awk -F, 'NR > 1 && $6 != $2 + $3 + $4 - $5 { bad++ } END { print bad + 0 }' check.out)" "0"
check_eq "MRR end = start + movements, every month" \
  "$(awk -F, 'NR > 1 { d = $14 - ($8 + $9 + $10 + $11 - $12 - $13); if (d > 1e-6 || d < -1e-6) bad++ } END { print bad + 0 }' check.out)" "0"
check "demo status" $TENURE --db demo.db --format csv churn status
check_eq "one first spell per subscriber" "$(awk -F, '$2 == 1' check.out | wc -l | tr -d ' ')" \
  "$(sqlite3 demo.db 'SELECT count(DISTINCT customer_id) FROM subscriptions')"
check "demo report" $TENURE --db demo.db report --html demo.html
check_eq "demo report: no network references" "$(grep -c -E 'https?://' demo.html)" "0"
check_contains "demo report: survival by plan read out" demo.html "prints it): annual"
check_contains "demo report: the danger window" demo.html "act before day"
check_contains "demo report: drivers" demo.html "The strongest driver:"
# every section is filled but the offers', which need a plan made before they can be measured
check_eq "demo report: no placeholder left but offers" "$(grep -c 'class="pending"' demo.html)" "1"
check_contains "demo report: offers say how to start" demo.html "No offer plan yet"
check_contains "demo report: win-back campaigns" demo.html 'dir="auto">mail+call</td>'
check_contains "demo report: loyalty ledger checked" demo.html "balances = ledger"
check_contains "demo report: onboarding journey" demo.html "Customers who reached no milestone churned at"
