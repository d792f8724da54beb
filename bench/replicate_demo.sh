#!/bin/sh
# replicate_demo.sh SRC DST K -- a store of K x the demo's customers from the
# demo at SRC: K copies, customer keys and row ids shifted, external ids
# suffixed "_k" (so each copy's customers behave as the demo's).  `tenure demo
# --customers 1000000` is disk-bound here (one 3 GB transaction spilling its
# cache: over 40 minutes, not finished); this writes the same rows in key
# order with no journal (a scratch file for the bench) in about a minute of CPU.
# Every table the demo fills is copied; the others stay empty.
set -eu
SRC=$1; DST=$2; K=$3
N=$(sqlite3 "$SRC" 'SELECT max(id) FROM customers')
rm -f "$DST" "$DST-wal" "$DST-shm"
cp "$SRC" "$DST"
{
echo "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000; ATTACH '$SRC' AS s;"
echo "BEGIN;"
k=1
while [ "$k" -lt "$K" ]; do
  o=$((k * N))
  cat <<SQL
INSERT INTO customers(id, ext_id, signed_up_at, country, channel, attrs) SELECT id+$o, ext_id||'_$k', signed_up_at, country, channel, attrs FROM s.customers ORDER BY id;
INSERT INTO subscriptions SELECT id+$k*10000000, customer_id+$o, CASE WHEN ext_id IS NULL THEN NULL ELSE ext_id||'_$k' END, plan, billing_period, price, currency, started_at, trial_ends_at, current_period_end, cancelled_at, cancel_reason, status FROM s.subscriptions ORDER BY id;
INSERT INTO events SELECT customer_id+$o, occurred_at, type_id, ext_id, amount FROM s.events ORDER BY customer_id, occurred_at, type_id, ext_id;
INSERT INTO payments SELECT id+$k*10000000, customer_id+$o, paid_at, amount, currency, status, ext_id FROM s.payments ORDER BY id;
INSERT INTO feedback SELECT id+$k*10000000, customer_id+$o, given_at, kind, score, answer, language, ext_id FROM s.feedback ORDER BY id;
INSERT INTO winback_contacts SELECT id+$k*10000000, customer_id+$o, campaign, contacted_at, channel, reached, control, reason, offer, cost FROM s.winback_contacts ORDER BY id;
INSERT INTO points_ledger SELECT id+$k*10000000, customer_id+$o, at, kind, points, expires_at, CASE WHEN lot_id IS NULL THEN NULL ELSE lot_id+$k*10000000 END, idem_key||'_$k', note FROM s.points_ledger ORDER BY id;
INSERT INTO points_lots SELECT lot_id+$k*10000000, customer_id+$o, at, expires_at, remaining FROM s.points_lots ORDER BY lot_id;
INSERT INTO points_balances SELECT customer_id+$o, balance, earned FROM s.points_balances ORDER BY customer_id;
SQL
  k=$((k + 1))
done
echo "COMMIT;"
} | sqlite3 "$DST" >/dev/null
