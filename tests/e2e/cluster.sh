#!/bin/sh
# cluster.sh -- a Tenure store across three PostgreSQL 15 servers on loopback
# (tests/e2e/pg.sh): a coordinator and two shards made by `tenure cluster
# init`.  Shows that the demo imported through the coordinator lands on both
# shards by customer hash (rows counted on each shard directly); that every
# command prints the same --format json as on SQLite (numbers to 1e-9); that
# the per-customer aggregates push down to the shards and the documented
# others do not (EXPLAIN VERBOSE, docs/scaling.md); that a shard that is down
# is an error naming it, with no partial answer; and that --citus is refused
# clearly where the Citus extension is missing.
. "$REPO/tests/e2e/lib.sh"
. "$REPO/tests/e2e/pg.sh"

if ! pg_available; then
  not_ok "postgresql server" "PostgreSQL 15 is not installed (scripts/deps.sh install test)"
  exit 0
fi
trap 'pg_stop_all' EXIT
for n in coord s0 s1; do
  if ! pg_start $n; then not_ok "start postgresql $n" "see above"; exit 0; fi
done
C=$PG_URL_coord

# ---- refusals, before the cluster exists ----
fails $TENURE --db "$C" cluster init --shards "$PG_URL_s0,$PG_URL_s1" --citus >citus.out 2>citus.err
check_contains "--citus without Citus: refused" citus.err "the Citus extension is not installed"
check_contains "--citus without Citus: says what to do" citus.err "leave out --citus"
check_eq "--citus refused: nothing made on the coordinator" \
  "$(pg_psql coord "SELECT count(*) FROM pg_foreign_server")/$(pg_psql coord "SELECT count(*) FROM cluster_shards")" "0/0"
fails $TENURE --db other.db cluster init --shards "$PG_URL_s0" >lite.out 2>lite.err
check_contains "an SQLite coordinator: refused" lite.err "a cluster's coordinator is a PostgreSQL database"
fails $TENURE --db "$C" cluster init --shards "$PG_URL_s0,$PG_URL_s0" >dup.out 2>dup.err
check_contains "the same shard twice: refused" dup.err "are the same"
fails $TENURE --db "$C" cluster init --shards "mysql://x@127.0.0.1/db" >url.out 2>url.err
check_contains "not a postgresql URL: refused" url.err "is not a postgresql:// URL"

# ---- the cluster ----
check "cluster init" $TENURE --db "$C" cluster init --shards "$PG_URL_s0,$PG_URL_s1"
if grep -q "$PG_PASSWORD" check.out; then not_ok "cluster init hides the passwords" "$(cat check.out)"
else ok "cluster init hides the passwords"; fi
check_eq "async_capable foreign servers" \
  "$(pg_psql coord "SELECT count(*) FROM pg_foreign_server WHERE 'async_capable=true' = ANY (srvoptions)")" "2"
check_eq "five tables partitioned by hash on the coordinator" \
  "$(pg_psql coord "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE p.partstrat = 'h' AND c.relname IN ('customers','subscriptions','events','payments','feedback')")" "5"
check_eq "each partition a foreign table" \
  "$(pg_psql coord "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relkind = 'f'")" "10"
check_eq "the shards carry the Tenure schema" \
  "$(pg_psql s0 "SELECT count(*) FROM pg_tables WHERE tablename IN ('customers','events','tenure_schema')")" "3"
fails $TENURE --db "$C" cluster init --shards "$PG_URL_s0,$PG_URL_s1" >again.out 2>again.err
check_contains "init twice: refused" again.err "is already the coordinator of a cluster"

# ---- the demo through the coordinator, and on SQLite ----
N=${TN_CLUSTER_DEMO_CUSTOMERS:-200}
check "demo into sqlite" $TENURE --db lite.db --quiet demo --customers "$N" --months 12
check "demo through the coordinator" $TENURE --db "$C" --quiet demo --customers "$N" --months 12
for t in customers subscriptions events payments feedback; do
  a=$(pg_psql s0 "SELECT count(*) FROM $t"); b=$(pg_psql s1 "SELECT count(*) FROM $t")
  whole=$(pg_psql coord "SELECT count(*) FROM $t")
  if [ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ $((a + b)) -eq "$whole" ]; then ok "$t on both shards ($a + $b = $whole)"
  else not_ok "$t on both shards" "shard 0: $a, shard 1: $b, through the coordinator: $whole"; fi
done
checked $TENURE --db lite.db --format json schema >lite_schema.json
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d if isinstance(d,list) else d.get("rows",d); print([x["value"] for x in r if x["item"]=="events"][0])' lite_schema.json 2>/dev/null)
check_eq "every event stored once" "$(($(pg_psql s0 "SELECT count(*) FROM events") + $(pg_psql s1 "SELECT count(*) FROM events")))" "$want"
# placement: shard k holds exactly the customers whose id hashes to k
for k in 0 1; do
  check_eq "shard $k holds the customers of hash partition $k" \
    "$(pg_psql coord "SELECT count(*) FROM customer_keys WHERE satisfies_hash_partition('customers'::regclass, 2, $k, id)")" \
    "$(pg_psql s$k "SELECT count(*) FROM customers")"
  check_eq "shard $k: every event's customer is on the same shard" \
    "$(pg_psql s$k "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)")" "0"
done
check_eq "ids are issued once across the shards" \
  "$(pg_psql coord "SELECT count(*) - count(DISTINCT id) FROM subscriptions")" "0"
# the writers that add a customer (tn_put_customer, the batched import) write
# its key row first; a second writer's key row for the same id is refused
checked pg_psql coord "SELECT * FROM tn_put_customer('dup-test', 0, NULL, NULL, NULL)" >/dev/null 2>&1
if pg_psql coord "INSERT INTO customer_keys(ext_id, id) VALUES ('dup-test', nextval('tn_customers_id'))" >dupk.out 2>&1; then
  not_ok "a customer id twice across the shards: refused" "the second key row went through"
else check_contains "a customer id twice across the shards: refused" dupk.out "duplicate key value"; fi
check_eq "no row trigger on INSERT into customers (postgres_fdw would not batch)" \
  "$(pg_psql coord "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND (tgtype & 4) <> 0")" "0"
checked pg_psql coord "DELETE FROM customers WHERE ext_id = 'dup-test'" >/dev/null 2>&1
check_eq "key table follows a delete" "$(pg_psql coord "SELECT count(*) FROM customer_keys WHERE ext_id = 'dup-test'")" "0"
checked $TENURE --db "$C" --format json cluster status --count >status.json
check_contains "cluster status counts the shards" status.json '"tn_shard_1"'

# ---- every command: the same output as on SQLite ----
same() {
  name=$1; shift
  checked $TENURE --db lite.db --format json "$@" >lite.out 2>lite.err; a=$?
  checked $TENURE --db "$C" --format json "$@" >pg.out 2>pg.err; b=$?
  if [ "$a" -ne 0 ] || [ "$b" -ne 0 ]; then
    not_ok "same on the cluster: $name" "exit $a on sqlite, $b on the cluster" "$(head -c 400 lite.err)" "$(head -c 400 pg.err)"
    return
  fi
  if d=$(python3 "$REPO/tests/e2e/jsoncmp.py" lite.out pg.out); then ok "same on the cluster: $name"
  else not_ok "same on the cluster: $name" "$d"; fi
}
AS_OF=2026-09-30
same_analyses
# an import through the coordinator, twice: the second adds nothing (ON
# CONFLICT DO NOTHING sent to the shards), and SQLite agrees
pg_psql coord "SELECT ext_id FROM customer_keys ORDER BY id LIMIT 40" >ids.txt
{ echo "customer,occurred_at,type"; awk '{ printf "%s,2026-09-%02d,session\n", $1, 1 + NR % 28 }' ids.txt; } >more.csv
check "import events into sqlite" $TENURE --db lite.db import events more.csv
check "import events through the coordinator" $TENURE --db "$C" import events more.csv
before=$(pg_psql coord "SELECT count(*) FROM events")
check "import again through the coordinator" $TENURE --db "$C" import events more.csv
check_eq "import again: no event twice" "$(pg_psql coord "SELECT count(*) FROM events")" "$before"
# customers and subscriptions through the coordinator: set-based batches
# (store.c tn_store_put_customers / _subscriptions); new, changed and
# unchanged rows, then the same file again changes nothing
head -n 30 ids.txt | awk 'BEGIN { print "id,signed_up_at,country,channel,tier" }
  { printf "%s,2024-0%d-01,%s,%s,t%d\n", $1, 1 + NR % 9, (NR % 2 ? "DE" : "FR"), (NR % 3 ? "organic" : "paid"), NR % 4 }
  END { for (i = 1; i <= 25; i++) printf "batch-new-%d,2026-0%d-0%d,US,paid,t%d\n", i, 1 + i % 9, 1 + i % 9, i % 4 }' >cust.csv
{ echo "id,customer,plan,billing_period,price,currency,started_at,cancelled_at,cancel_reason"
  for i in $(seq 1 25); do echo "batch-sub-$i,batch-new-$i,pro,month,$((5 + i % 3)).99,USD,2026-0$((1 + i % 9))-0$((1 + i % 9)),,"; done
  for i in $(seq 1 12); do echo ",batch-new-$i,basic,month,4.99,USD,2026-0$((1 + i % 9))-0$((1 + i % 9)),2026-09-2$((i % 9)),price"; done; } >subs.csv
counts() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; print(r["rows"], r["added"], r["updated"], r["unchanged"])' "$1"; }
# shard 0 logs its statements during these imports: the subscriptions'
# candidates must be looked up on the shards, not every subscription fetched
# and filtered on the coordinator (store.c: the stage's ext_id is COLLATE
# "default"; with "C", postgres_fdw kept the condition back and each batch
# read every subscription: the import was quadratic, docs/scaling.md)
pg_psql s0 "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
pg_psql s0 "SELECT pg_reload_conf()" >/dev/null
for f in cust.csv:customers subs.csv:subscriptions; do
  file=${f%%:*}; kind=${f#*:}
  checked $TENURE --db lite.db --format json import "$kind" "$file" >lite_first.json
  checked $TENURE --db "$C" --format json import "$kind" "$file" >pg_first.json
  check_eq "import $kind through the coordinator: the same added/updated/unchanged as sqlite" \
    "$(counts pg_first.json)" "$(counts lite_first.json)"
  checked $TENURE --db lite.db --format json import "$kind" "$file" >lite_again.json
  checked $TENURE --db "$C" --format json import "$kind" "$file" >pg_again.json
  check_contains "import $kind again through the coordinator: nothing added or changed" pg_again.json '"added":0,"updated":0'
  check_eq "import $kind again: the same as sqlite" "$(counts pg_again.json)" "$(counts lite_again.json)"
done
check_eq "customers: one key row each" "$(pg_psql coord "SELECT count(*) FROM customers c JOIN customer_keys k ON k.id = c.id AND k.ext_id = c.ext_id")" "$(pg_psql coord "SELECT count(*) FROM customer_keys")"
check_eq "customers: the batch's new ones stored once" \
  "$(($(pg_psql s0 "SELECT count(*) FROM customers WHERE ext_id LIKE 'batch-new-%'") + $(pg_psql s1 "SELECT count(*) FROM customers WHERE ext_id LIKE 'batch-new-%'")))" "25"
check_eq "subscriptions: ids issued once" "$(pg_psql coord "SELECT count(*) - count(DISTINCT id) FROM subscriptions")" "0"
pg_psql s0 "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
pg_psql s0 "SELECT pg_reload_conf()" >/dev/null
shipped=$(grep -c 'FROM public.subscriptions WHERE (((ext_id = ANY' "$PG_DIR_s0/log" || true)
check_eq "subscriptions: the candidates' condition sent to the shards (shard 0's log)" \
  "$([ "${shipped:-0}" -gt 0 ] && echo sent || echo "not sent: every row fetched")" "sent"
same "churn rate after the import" churn rate
same "churn status after the import" churn status --as-of "$AS_OF"
same "summary after the import" summary
same "journey funnel after the import" journey funnel

# ---- what pushes down to the shards (docs/scaling.md, "What runs where") ----
plan() { pg_psql coord "EXPLAIN VERBOSE $1" >plan.out 2>&1 || not_ok "explain: $1" "$(cat plan.out)"; }
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1" "the plan lacks: $3" "$(grep -E 'Remote SQL|Aggregate|Foreign' "$2" | head -8)"; fi; }
lacks() { if grep -qF -- "$3" "$2"; then not_ok "$1" "the plan has: $3" "$(grep -E 'Remote SQL|Aggregate|Foreign' "$2" | head -8)"; else ok "$1"; fi; }
# a per-customer aggregate: the whole GROUP BY runs on each shard, at once
plan "SELECT customer_id, count(*), max(occurred_at) FROM events GROUP BY customer_id"
has "pushdown: per-customer aggregate's remote SQL has the GROUP BY" plan.out "count(*), max(occurred_at) FROM public.events GROUP BY 1"
has "pushdown: the shards are scanned at once (async)" plan.out "Async Foreign Scan"
# journey's milestones (src/actions/journey.c): events joined with customers,
# grouped by customer -- pushed down whole once the planner may ask the shards
# for estimates (use_remote_estimate, docs/scaling.md); without, the join runs
# on the coordinator, per shard
for k in 0 1; do pg_psql coord "ALTER SERVER tn_shard_$k OPTIONS (ADD use_remote_estimate 'true')" >/dev/null; done
plan "WITH t AS (SELECT (SELECT id FROM event_types WHERE name = 'session') AS t1) SELECT e.customer_id, min(CASE WHEN e.type_id = t.t1 THEN e.occurred_at END) FROM events e CROSS JOIN t JOIN customers c ON c.id = e.customer_id WHERE e.type_id IN (t.t1) AND e.occurred_at >= c.signed_up_at AND e.occurred_at <= 1790000000 GROUP BY e.customer_id"
# the join always goes to the shard; whether the aggregate goes with it is the
# planner's choice from the shards' estimates (docs/scaling.md)
has "pushdown: the join on the customer runs on the shard" plan.out "INNER JOIN public.customers"
for k in 0 1; do pg_psql coord "ALTER SERVER tn_shard_$k OPTIONS (DROP use_remote_estimate)" >/dev/null; done
# summary's reactivated customers (src/analyses/summary.c): GROUP BY ... HAVING on the shards
plan "SELECT count(*) FROM (SELECT customer_id FROM subscriptions WHERE started_at <= 1790000000 GROUP BY customer_id HAVING count(*) > 1) x"
has "pushdown: GROUP BY ... HAVING runs on the shards" plan.out "GROUP BY 1 HAVING ((count(*) > 1))"
# one customer: only its shard is asked
plan "SELECT * FROM events WHERE customer_id = 7"
if [ "$(grep -c 'Foreign Scan on' plan.out)" -eq 1 ]; then ok "pushdown: one customer's rows come from its shard only"
else not_ok "pushdown: one customer's rows come from its shard only" "$(grep 'Foreign Scan' plan.out)"; fi
# not pushed down: a total over all customers (each shard ships its rows; PostgreSQL 15 has no partial aggregate pushdown)
plan "SELECT count(*) FROM events"
has "not pushed: a whole-table count ships the rows" plan.out "Remote SQL: SELECT NULL FROM public.events"
# not pushed: Tenure's own SQL functions (tn_money) are evaluated on the coordinator
plan "SELECT customer_id, sum(tn_money(amount, currency, paid_at)) FROM payments GROUP BY customer_id"
lacks "not pushed: an aggregate over tn_money" plan.out "tn_money(amount"
# predict features' window (src/analyses/predict_features.c, PostgreSQL): the
# time filter goes to the shards, so only the window's events come back
plan "SELECT customer_id, occurred_at, type_id FROM events WHERE occurred_at > 1700000000 AND occurred_at <= 1790000000 AND customer_id >= -9223372036854775807 AND customer_id < 9223372036854775807 ORDER BY customer_id"
has "pushdown: the feature window's time filter runs on the shards" plan.out "(occurred_at > 1700000000)"
# cohorts and churn rate read subscriptions through the churn scan, with
# tn_money: the rows come to the coordinator, the money is converted there
plan "SELECT customer_id, plan, billing_period, tn_money(price, currency, started_at), started_at, trial_ends_at, current_period_end, cancelled_at, status FROM subscriptions ORDER BY customer_id, started_at, plan"
lacks "not pushed: the churn scan's tn_money (cohorts, churn rate)" plan.out "tn_money(price"
# not pushed: a join with a coordinator table (event_types) by name
plan "SELECT e.customer_id, count(*) FROM events e JOIN event_types t ON t.id = e.type_id WHERE t.name = 'session' GROUP BY e.customer_id"
has "not pushed: a join with a coordinator table ships the rows" plan.out "Remote SQL: SELECT customer_id, type_id FROM public.events"

# ---- a bulk events import into empty shards: COPY straight into each shard
# (store.c, "events on a cluster"): repeats inside the file stored once, the
# shards' keys built again, the same counts as SQLite, again adds nothing ----
for n in c2 t0 t1; do
  if ! pg_start $n; then not_ok "start postgresql $n" "see above"; exit 0; fi
done
check "a second cluster" $TENURE --db "$PG_URL_c2" --quiet cluster init --shards "$PG_URL_t0,$PG_URL_t1"
awk 'BEGIN { print "id,signed_up_at"; for (i = 0; i < 300; i++) printf "d%d,2025-01-01\n", i }' >d_cust.csv
awk 'BEGIN { srand(5); print "customer,occurred_at,type,amount"; for (i = 0; i < 5000; i++)
  printf "d%d,%d,%s,%s\n", int(rand() * 300), 1735689600 + int(rand() * 400), (i % 3 ? "session" : "buy"), (i % 4 ? "" : "2.5") }' >d_ev.csv
for db in direct.db "$PG_URL_c2"; do
  checked $TENURE --db "$db" --quiet import customers d_cust.csv >/dev/null
done
checked $TENURE --db direct.db --format json import events d_ev.csv >d_lite.json
checked $TENURE --db "$PG_URL_c2" --format json import events d_ev.csv >d_pg.json
check_eq "events into empty shards: the same added/unchanged as sqlite" "$(counts d_pg.json)" "$(counts d_lite.json)"
check_eq "events into empty shards: every row once" \
  "$(($(pg_psql t0 "SELECT count(*) FROM events") + $(pg_psql t1 "SELECT count(*) FROM events")))" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["added"])' d_lite.json)"
for k in 0 1; do
  check_eq "events into empty shards: shard $k has its key again" \
    "$(pg_psql t$k "SELECT count(*) FROM pg_constraint WHERE conname = 'events_pkey'")" "1"
  check_eq "events into empty shards: shard $k holds only its customers' events" \
    "$(pg_psql t$k "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)")" "0"
done
checked $TENURE --db "$PG_URL_c2" --format json import events d_ev.csv >d_again.json
check_contains "events into the shards again: nothing added" d_again.json '"added":0'
pg_stop c2; pg_stop t0; pg_stop t1

# ---- a shard that is down ----
pg_stop s1
fails $TENURE --db "$C" --format json churn rate >down.out 2>down.err
check_contains "shard down: the error names the shard" down.err 'tn_shard_1'
check_contains "shard down: and where it is" down.err "port $PG_PORT_s1"
if [ -s down.out ]; then not_ok "shard down: no partial answer" "$(head -c 300 down.out)"; else ok "shard down: no partial answer"; fi
fails $TENURE --db "$C" --format json summary >down2.out 2>down2.err
check_contains "shard down: summary fails too" down2.err 'tn_shard_1'
if [ -s down2.out ]; then not_ok "shard down: no partial summary" "$(head -c 300 down2.out)"; else ok "shard down: no partial summary"; fi
if grep -q "$PG_PASSWORD" down.err down2.err; then not_ok "shard down: no password printed" "$(cat down.err)"
else ok "shard down: no password printed"; fi
