# actions.sh -- `tenure offers|winback|points|journey` end to end: hand-made
# data imported with `tenure import`, hand-computed answers, errors with
# positions, and two CLI processes writing points at once.
. "$REPO/tests/e2e/lib.sh"
DB="--db t.db"

cat >customers.csv <<'CSV'
id,signed_up_at
a,2024-01-01
b,2024-01-01
c,2024-01-01
d,2024-01-01
e,2024-02-10
CSV
# a, b, c live; d lapsed on 2024-03-01; e cancelled after 10 days
cat >subs.csv <<'CSV'
customer,plan,billing_period,price,currency,started_at,current_period_end,cancelled_at,status
a,monthly,month,9.99,USD,2024-01-01,2024-03-20,,active
b,monthly,month,9.99,USD,2024-01-01,2024-04-01,,active
c,annual,year,79.99,USD,2024-01-01,2025-01-01,,active
d,monthly,month,9.99,USD,2024-01-01,2024-03-01,2024-03-01,cancelled
e,monthly,month,9.99,USD,2024-02-10,2024-02-20,2024-02-20,cancelled
CSV
cat >events.csv <<'CSV'
customer,occurred_at,type,amount
a,2024-01-01T10:00:00Z,session,
a,2024-01-03T00:00:00Z,feature_use,
a,2024-01-05T00:00:00Z,purchase,12.50
b,2024-01-02T00:00:00Z,session,
c,2024-01-04T00:00:00Z,session,
c,2024-03-10T00:00:00Z,purchase,4.99
CSV
check "import customers" $TENURE $DB import customers customers.csv
check "import subscriptions" $TENURE $DB import subscriptions subs.csv
check "import events" $TENURE $DB import events events.csv

# ---- offers -------------------------------------------------------------
cat >scores.csv <<'CSV'
customer,p_churn,value
a,0.9,10
b,0.3,200
c,0.5,50
CSV
# E = p x 0.5 x v - 2: a 2.5, b 28, c 10.5 -> b, c, a; budget 4 -> b and c
check "offers plan" $TENURE $DB --quiet --format csv offers plan --scores scores.csv --accept-rate 0.5 --offer-cost 2 \
  --budget 4 --control 0 --danger-day 30 --lead-days 7 --now 2024-03-15
check_eq "ranked by expected profit" "$(cut -d, -f2,3,6 check.out | tr '\n' ' ')" \
  "customer,arm,expected_profit b,offer,28 c,offer,10.5 "
# b: danger day 30 is past; period ends 2024-04-01 -> 7 days before = 2024-03-25
check_eq "timed before the period end" "$(grep '^1,' check.out | cut -d, -f7)" "2024-03-25"
# the same from the files other analyses write: predict score (id, risk) and value score (customer, clv)
printf 'rank,id,risk,reason_1\n1,a,0.9,x\n2,c,0.5,y\n3,b,0.3,z\n' >risk.csv
printf 'customer,p_alive,clv\na,0.9,10\nb,0.8,200\nc,0.7,\n' >value.csv
check "offers plan --risk --value" $TENURE $DB --format csv offers plan --risk risk.csv --value value.csv \
  --accept-rate 0.5 --offer-cost 2 --control 0 --danger-day 30 --now 2024-03-15 --dry-run
check_contains "says where P(churn) and value come from" check.out "P(churn) from risk.csv, value from value.csv (3 customers; 1 without a value: 0)"
check_eq "c without a value is not offered" "$(grep ',offer,' check.out | cut -d, -f2 | tr '\n' ' ')" "b a "
check_fails "--risk without --value" $TENURE $DB offers plan --risk risk.csv
check "offers report" $TENURE $DB --format csv offers report
check_eq "plan stored: 2 offered, 0 churned" "$(sed -n 2p check.out | cut -d, -f3,4,5)" "2,0,0"
# the identical plan again is not stored a second time
check "offers plan again" $TENURE $DB --format csv offers plan --scores scores.csv --accept-rate 0.5 --offer-cost 2 \
  --budget 4 --control 0 --danger-day 30 --lead-days 7 --now 2024-03-15
check_contains "says it is not stored again" check.out "identical to the stored plan, not stored again"
check "offers plans" $TENURE $DB --format csv offers plans
check_eq "one stored plan (the dry runs and the repeat are not)" "$(sed 1d check.out | cut -d, -f1,3,4,5)" "1,scores,2,0"
check_eq "plans: one column per parameter, no float noise" "$(cut -d, -f6- check.out | tr '\n' ' ')" \
  "offer_cost,accept_rate,budget,control_share,seed,lead_days,danger_day 2,0.5,4,0,1,7,30 "
check "offers plans as a table" $TENURE $DB offers plans
check_contains "plans table header" check.out "accept_rate  budget  control_share"
check "offers ending --days 10" $TENURE $DB --format csv offers ending --days 10 --now 2024-03-15
check_eq "only a's period ends within 10 days" "$(sed 1d check.out | cut -d, -f1,4 | tr '\n' ' ')" "a,2024-03-20 "
# ages on 2024-03-15: a-d 74 days, e 34 days; live ones within 3 days before day 76: a, b, c
check "offers nearing" $TENURE $DB --quiet --format csv offers nearing --danger-day 76 --window 3 --now 2024-03-15
check_eq "a, b, c near day 76 (d lapsed)" "$(sed 1d check.out | cut -d, -f1,4 | tr '\n' ' ')" "a,2 b,2 c,2 "
check "offers call" $TENURE $DB --quiet --format csv offers call --scores scores.csv --min-p 0.4 --now 2024-03-15
check_eq "call list by value at risk" "$(sed 1d check.out | cut -d, -f1 | tr '\n' ' ')" "c a "
check_fails "no danger window with 5 customers" $TENURE $DB offers plan --danger-day window --dry-run --scores scores.csv
check_contains "says why" check.out "too few customers at risk"
check "offers plan without scores (estimate)" $TENURE $DB offers plan --dry-run --now 2024-03-15
check_contains "says it uses the built-in estimate" check.out "built-in estimate"
printf 'customer,p_churn,value\na,0.5,10\nb,x,3\n' >bad.csv
check_fails "bad scores file" $TENURE $DB offers plan --scores bad.csv
check_contains "error names file:line:column" check.out "bad.csv:3:2: p_churn: expected a probability"
printf 'customer,p_churn,value\nzz,0.5,10\n' >unknown.csv
check_fails "unknown customer in scores" $TENURE $DB offers plan --scores unknown.csv
check_contains "names the customer" check.out '"zz"'

# ---- win-back -----------------------------------------------------------
check "winback schedule" $TENURE $DB --format csv winback schedule --after-days 30 --days 7 --control 0 --now 2024-03-30
check_eq "d is due on 2024-03-31" "$(sed 1d check.out | cut -d, -f1,2,3 | tr '\n' ' ')" "2024-03-31,d,contact "
check "winback record d" $TENURE $DB winback record --customer d --campaign spring --channel email --reached yes \
  --reason "Too expensive" --cost 1.5 --at 2024-03-31
check "winback record d again (idempotent)" $TENURE $DB winback record --customer d --campaign spring \
  --channel email --reached yes --reason "Too expensive" --cost 1.5 --at 2024-03-31
check_contains "says unchanged" check.out "unchanged"
cat >contacts.csv <<'CSV'
customer,campaign,channel,reached,at,reason,cost,control
d,spring,call,no,2024-04-01,,8.5,no
e,spring,none,no,2024-03-31,,,yes
CSV
check "winback import" $TENURE $DB winback import contacts.csv
cat >resub.csv <<'CSV'
customer,plan,billing_period,price,currency,started_at,status
d,monthly,month,9.99,USD,2024-04-10,active
CSV
check "d resubscribes" $TENURE $DB import subscriptions resub.csv
check "winback report" $TENURE $DB --format csv winback report --now 2024-04-20
# cost 1.5 + 8.5 = 10 for one customer won back; revenue: one period (no payments)
check_eq "contacted,reached,won,cost,cost_per_win" "$(sed -n 2p check.out | cut -d, -f2,3,4,7,8)" "1,1,1,10,10"
check_eq "revenue regained" "$(sed -n 2p check.out | cut -d, -f6)" "9.99"
check_eq "control 1, none came back" "$(sed -n 2p check.out | cut -d, -f9,10)" "1,0"
check "winback reasons" $TENURE $DB --format csv winback reasons
check_eq "reasons ranked" "$(sed -n 2p check.out)" "1,too expensive,1"
printf 'customer,campaign,channel,reached,at\nd,x,fax,yes,2024-01-01\n' >badc.csv
check_fails "bad channel" $TENURE $DB winback import badc.csv
check_contains "error names file:line" check.out "badc.csv:2: channel: expected email, call, sms"
check_fails "record needs --reached" $TENURE $DB winback record --customer d --campaign x --channel email

# ---- points ---------------------------------------------------------------
check "rule" $TENURE $DB points rule purchase --per-action 5 --per-amount 2 --expiry-days 30
check "earn from events" $TENURE $DB points earn --from-events
check_contains "two purchases" check.out "2 new earn entries"
check "earn again from events (idempotent)" $TENURE $DB points earn --from-events
check_contains "no new entries" check.out "0 new earn entries"
# a: 5 + floor(2 x 12.50) = 30 on 2024-01-05, expires 2024-02-04
check "balance a" $TENURE $DB --format csv points balance --customer a
check_eq "a has 30" "$(sed -n 2p check.out | cut -d, -f2)" "30"
check "grant a" $TENURE $DB points grant --customer a --points 20 --key g1 --at 2024-01-20
check "redeem a 25 (FIFO: 25 of the first lot)" $TENURE $DB points redeem --customer a --points 25 --key r1 --at 2024-01-25
check "retry redeem a (same key)" $TENURE $DB points redeem --customer a --points 25 --key r1 --at 2024-01-25
check_contains "retry not applied twice" check.out "already applied"
check_fails "redeem above balance" $TENURE $DB points redeem --customer a --points 26 --key r2 --at 2024-01-26
check "expire on 2024-02-05" $TENURE $DB points expire --at 2024-02-05
check_contains "the first lot's 5 left expire" check.out "expired 5 points in 1 lots"
check "history a" $TENURE $DB --format csv points history --customer a
check_eq "ledger kinds" "$(sed 1d check.out | cut -d, -f3,4,5 | tr '\n' ' ')" "earn,30,30 grant,20,50 redeem,-25,25 expire,-5,20 "
check "tiers set" $TENURE $DB points tiers set silver --level 1 --points 40 --benefits "free month"
check "tiers" $TENURE $DB --format csv points tiers
check_eq "a is silver (50 lifetime points)" "$(sed -n 2p check.out | cut -d, -f1,6)" "silver,1"
check "at-risk" $TENURE $DB --format csv points at-risk --days 40 --scores scores.csv --min-p 0.8 --now 2024-01-26
check_contains "a's balance at risk" check.out "a,"
check_fails "earn without key" $TENURE $DB points earn --customer a --points 3
# by rule from the command line: 5 + floor(2 x 7.25) = 19
check "earn by rule" $TENURE $DB points earn --customer c --event-type purchase --amount 7.25 --key pc1 --at 2024-03-01
check "history c" $TENURE $DB --format csv points history --customer c
check_eq "c earned 19" "$(grep ',pc1,' check.out | cut -d, -f4)" "19"
check_fails "earn by a rule that does not exist" $TENURE $DB points earn --customer c --event-type session --key pc2

# two processes earning and redeeming at once, with overlapping keys
{
  echo "kind,customer,points,key"
  i=0; while [ $i -lt 300 ]; do echo "earn,b,2,k$i"; [ $((i % 3)) -eq 0 ] && echo "redeem,b,1,r$i"; i=$((i + 1)); done
} >ops.csv
$TENURE $DB --quiet points import ops.csv --batch 7 >p1.out 2>&1 &
p1=$!
$TENURE $DB --quiet points import ops.csv --batch 5 >p2.out 2>&1 &
p2=$!
for k in 1 2 3 4 5 6 7 8 9 10; do $TENURE $DB --quiet points earn --customer c --points 1 --key c$k >/dev/null 2>&1; done &
p3=$!
wait $p1; r1=$?
wait $p2; r2=$?
wait $p3
check_eq "both importers succeeded" "$r1,$r2" "0,0"
check "balance b" $TENURE $DB --format csv points balance --customer b
# 300 earns of 2 and 100 redeems of 1, each exactly once
check_eq "b exact under concurrency" "$(sed -n 2p check.out | cut -d, -f2)" "500"
check "points check" $TENURE $DB --format csv points check
check_contains "ledger sums match" check.out "balance_not_ledger_sum,0"
check_contains "lots match" check.out "balance_not_open_lots,0"

# ---- journey ------------------------------------------------------------------
check "journey map first_value feature_use" $TENURE $DB journey map first_value feature_use
check "journey funnel" $TENURE $DB --format csv journey funnel --now 2024-03-15
check_eq "first impression: 3 of 5 (a, b, c)" "$(grep first_impression check.out | cut -d, -f3,4)" "5,3"
check_eq "first impression median days: a 10/24, b 1, c 3 -> 1" "$(grep first_impression check.out | cut -d, -f6)" "1"
check_eq "first value: a only, after 2 days" "$(grep first_value check.out | cut -d, -f4,6)" "1,2"
check "journey churn" $TENURE $DB --format csv journey churn --now 2024-03-15
check_eq "none reached: d, e, both gone on 2024-03-15" "$(grep '^none' check.out)" "none,2,2,1"
check "journey stuck" $TENURE $DB --format csv journey stuck --days 14 --now 2024-03-15
check_eq "b and c stuck before first value" "$(sed 1d check.out | cut -d, -f1 | tr '\n' ' ')" "b c "
check "journey stuck later" $TENURE $DB --format csv journey stuck --days 14 --now 2024-04-15
check_eq "d is back (resubscribed 2024-04-10) and stuck too" "$(sed 1d check.out | cut -d, -f1 | tr '\n' ' ')" "b c d "
check_fails "unknown milestone" $TENURE $DB journey map nope session
check_fails "stuck needs --days" $TENURE $DB journey stuck
