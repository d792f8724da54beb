#!/bin/sh
# postgres.sh -- the PostgreSQL store end to end: a throwaway PostgreSQL 15
# (tests/e2e/pg.sh), the demo written into it and into SQLite, and every
# command that runs on PostgreSQL giving the same --format json output on
# both (numbers to 1e-9); commands not yet on PostgreSQL say so clearly.
# Errors: a wrong password (never printed), a server that is down, a
# database written by a newer Tenure.
. "$REPO/tests/e2e/lib.sh"
. "$REPO/tests/e2e/pg.sh"

if ! pg_available; then
  not_ok "postgresql server" "PostgreSQL 15 is not installed (scripts/deps.sh install test)"
  exit 0
fi
trap 'pg_stop_all' EXIT
if ! pg_start one; then
  not_ok "start postgresql" "see above"
  exit 0
fi
URL=$PG_URL_one
SHOWN=$(printf '%s' "$URL" | sed 's|//\([^:]*\):[^@]*@|//\1@|') # how messages name it

# ---- the demo on both stores ----
N=${TN_PG_DEMO_CUSTOMERS:-300}
check "demo into sqlite" $TENURE --db lite.db --quiet demo --customers "$N" --months 12
check "demo into postgresql" $TENURE --db "$URL" --quiet demo --customers "$N" --months 12
if grep -q "$PG_PASSWORD" check.out; then not_ok "demo output hides the password" "$(cat check.out)"
else ok "demo output hides the password"; fi
check "schema on postgresql" sh -c "$TENURE --db '$URL' --format json schema >schema.json"
check_contains "schema version on postgresql" schema.json '"schema_version"'

# every command below runs on PostgreSQL and must print what SQLite prints
same() {
  name=$1; shift
  checked $TENURE --db lite.db --format json "$@" >lite.out 2>lite.err; a=$?
  checked $TENURE --db "$URL" --format json "$@" >pg.out 2>pg.err; b=$?
  if [ "$a" -ne 0 ] || [ "$b" -ne 0 ]; then
    not_ok "same on both: $name" "exit $a on sqlite, $b on postgresql" "$(head -c 400 lite.err)" "$(head -c 400 pg.err)"
    return
  fi
  python3 "$REPO/tests/e2e/notimes.py" lite.out 2>/dev/null; python3 "$REPO/tests/e2e/notimes.py" pg.out 2>/dev/null
  if d=$(python3 "$REPO/tests/e2e/jsoncmp.py" lite.out pg.out); then ok "same on both: $name"
  else not_ok "same on both: $name" "$d"; fi
}
AS_OF=2026-09-30
same_analyses
same "churn list" churn list
same "churn recovery" churn recovery
same "surveys list" surveys list
same "webhooks list" webhooks list
same "sources list" sources list
same "outbox stats" outbox stats
same "jobs run" jobs run --as-of "$AS_OF"
same "outbox stats after the jobs" outbox stats
check "churn export on sqlite" $TENURE --db lite.db churn export --csv lite-churn.csv
check "churn export on postgresql" $TENURE --db "$URL" churn export --csv pg-churn.csv
check "churn export: the same CSV" cmp lite-churn.csv pg-churn.csv
check "report on postgresql" $TENURE --db "$URL" --quiet report --html pg-report.html
check_contains "report on postgresql: a page" pg-report.html "</html>"
same "predict cv" predict cv --as-of "$AS_OF" --horizon 30

# ---- bulk import into an empty events table (the key dropped, rebuilt) ----
(cd / && checked pg_psql one "CREATE DATABASE bulk") >/dev/null 2>&1
BULK=$(printf '%s' "$URL" | sed 's|/postgres$|/bulk|')
bulkq() { (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d bulk -c "$1") 2>&1; }
printf 'id,signed_up_at\nc1,2024-01-01\nc2,2024-01-01\n' >bc.csv
# repeated events (the first is kept, as on SQLite), then a big file whose
# last row is bad: nothing imported and the key back
printf 'customer,occurred_at,type,amount\nc1,2024-01-01,a,1\nc1,2024-01-01,a,2\nc2,2024-01-02,b,\nc2,2024-01-02,b,\nc2,2024-01-03,b,\n' >dup.csv
awk 'BEGIN { print "customer,occurred_at,type"; for (i = 0; i < 300000; i++) printf "c%d,%d,bulk\n", i % 2 + 1, 1714521600 + i; print "c1,someday,bulk" }' >bigbad.csv
for db in bulk.db "$BULK"; do
  checked $TENURE --db "$db" --quiet import customers bc.csv >/dev/null 2>&1
  fails $TENURE --db "$db" --quiet import events bigbad.csv >/dev/null 2>&1
done
check_eq "bulk: a failed big import keeps the events key" \
  "$(bulkq "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'")" events_pkey
same_db() { # NAME ARGS...: as same(), on bulk.db and $BULK
  n=$1; shift
  checked $TENURE --db bulk.db --format json "$@" >lite.out 2>lite.err
  checked $TENURE --db "$BULK" --format json "$@" >pg.out 2>pg.err
  python3 "$REPO/tests/e2e/notimes.py" lite.out 2>/dev/null; python3 "$REPO/tests/e2e/notimes.py" pg.out 2>/dev/null
  if d=$(python3 "$REPO/tests/e2e/jsoncmp.py" lite.out pg.out); then ok "same on both: $n"
  else not_ok "same on both: $n" "$d" "$(head -c 300 pg.err)"; fi
}
same_db "bulk import with repeated events" import events dup.csv
check_contains "bulk import: 3 added, 2 repeated" pg.out '"added":3'
check_eq "bulk: the first of two repeated events kept" \
  "$(bulkq "SELECT string_agg(coalesce(amount::text, '-'), ',' ORDER BY customer_id, occurred_at) FROM events")" "1,-,-"
check_eq "bulk: the events key rebuilt" \
  "$(bulkq "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'")" events_pkey
same_db "bulk: re-import adds nothing" import events dup.csv
same_db "bulk: summary" summary
# a bulk load spanning several flushes keeps its COPY open between them
# (tn_pg_copy_stream); a new event type half-way writes a row between two
# flushes, which ends the open COPY first and opens another at the next flush
(cd / && checked pg_psql one "CREATE DATABASE bulk2") >/dev/null 2>&1
BULK2=$(printf '%s' "$URL" | sed 's|/postgres$|/bulk2|')
awk 'BEGIN { print "customer,occurred_at,type,amount"; for (i = 0; i < 700000; i++)
  printf "c%d,%d,%s,%s\n", i % 2 + 1, 1714521600 + i, (i < 400000 ? "early" : "late"), (i % 3 ? i % 100 : "") }' >big.csv
for db in bulk2.db "$BULK2"; do
  checked $TENURE --db "$db" --quiet import customers bc.csv >/dev/null 2>&1
  checked $TENURE --db "$db" --format json import events big.csv >"$(basename "$db" | tr -c 'a-z0-9\n' _).out" 2>&1
done
check_contains "bulk over several flushes: all rows added" "$(basename "$BULK2" | tr -c 'a-z0-9\n' _).out" '"added":700000'
check_eq "bulk over several flushes: the rows and amounts as on SQLite" \
  "$( (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d bulk2 \
      -c "SELECT count(*), sum(amount)::bigint, count(DISTINCT type_id) FROM events") 2>&1)" \
  "$(sqlite3 -separator '|' bulk2.db "SELECT count(*), CAST(sum(amount) AS INTEGER), count(DISTINCT type_id) FROM events")"
check_eq "bulk over several flushes: the events key rebuilt" \
  "$( (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d bulk2 \
      -c "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass AND contype = 'p'") 2>&1)" events_pkey
checked $TENURE --db "$BULK2" --format json import events big.csv >again.out 2>&1
check_contains "bulk over several flushes: re-import adds nothing" again.out '"added":0'
# the bulk load (into an empty table, the key rebuilt) and an import into
# the non-empty table store the same rows, escaped in COPY's text (ids with a
# tab, a newline, backslashes, UTF-8, 3,000 bytes; amounts -0, tiny, huge,
# NULL)
(cd / && checked pg_psql one "CREATE DATABASE odd1") >/dev/null 2>&1
(cd / && checked pg_psql one "CREATE DATABASE odd2") >/dev/null 2>&1
python3 -c '
rows = ["\"tab\there\",c1,1714521600,odd,-0", "back\\slash\\\\,c1,1714521601,odd,0.0",
        "\u00e9v\u00e9nement,c2,1714521602,odd,1e300", ",c2,1714521603,odd,0.1", "\"new\nline\",c1,1714521604,odd,-1.5e-300",
        "x" * 3000 + ",c2,1714521605,odd,-0.0", ",c1,1714521606,odd,", ",c2,1714521607,odd,-12345678901.25"]
open("odd.csv", "w").write("id,customer,occurred_at,type,amount\n" + "\n".join(rows) + "\n")'
printf 'customer,occurred_at,type\nc1,1600000000,first\n' >first.csv
ODD1=$(printf '%s' "$URL" | sed 's|/postgres$|/odd1|'); ODD2=$(printf '%s' "$URL" | sed 's|/postgres$|/odd2|')
for db in "$ODD1" "$ODD2"; do checked $TENURE --db "$db" --quiet import customers bc.csv >/dev/null 2>&1; done
checked $TENURE --db "$ODD2" --quiet import events first.csv >/dev/null 2>&1
for db in "$ODD1" "$ODD2"; do checked $TENURE --db "$db" --quiet import events odd.csv >/dev/null 2>&1; done
oddq() { (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d "$1" -c "$2") 2>&1; }
ODDQ="COPY (SELECT c.ext_id, e.occurred_at, e.ext_id, e.amount FROM events e JOIN customers c ON c.id = e.customer_id WHERE e.occurred_at > 1700000000 ORDER BY 2) TO STDOUT"
check_eq "odd rows: the bulk load and the import into a non-empty table store the same" "$(oddq odd1 "$ODDQ" | md5sum)" "$(oddq odd2 "$ODDQ" | md5sum)"
check_eq "odd rows: ids and amounts as written" \
  "$(oddq odd1 "SELECT count(*) FILTER (WHERE ext_id = E'tab\\there'), count(*) FILTER (WHERE ext_id = E'back\\\\slash\\\\\\\\'), count(*) FILTER (WHERE ext_id = E'new\\nline'), count(*) FILTER (WHERE ext_id = 'événement' AND amount = 1e300), count(*) FILTER (WHERE length(ext_id) = 3000 AND amount = 0), count(amount), sum(CASE WHEN amount = 0 THEN 1 ELSE 0 END) FROM events")" \
  "1|1|1|1|1|7|3"
check_eq "odd rows: no negative zero stored" "$(oddq odd1 "SELECT count(*) FROM events WHERE amount = 0 AND amount::text = '-0'")" 0

# ---- customers staged in batches: one prepare per batch, not per chunk ----
# A staging INSERT whose first row binds NULL where a later row binds a number
# (signed_up_at, country, channel missing now and then) used to be prepared
# again for nearly every 200-row chunk (a SAVEPOINT, PREPARE, RELEASE and
# DEALLOCATE each); now it is prepared once per batch of 2,000 and run again,
# the server's inferred types reused (describe_untyped in db_pg.c).
(cd / && checked pg_psql one "CREATE DATABASE stage") >/dev/null 2>&1
(cd / && checked pg_psql one "ALTER DATABASE stage SET log_statement = 'all'") >/dev/null 2>&1
STAGE=$(printf '%s' "$URL" | sed 's|/postgres$|/stage|')
awk 'BEGIN { srand(3); print "id,signed_up_at,country,channel"; for (i = 0; i < 10000; i++)
  printf "s%d,%s,%s,%s\n", i, (rand() < 0.1 ? "" : "2024-01-01T00:00:00Z"), (rand() < 0.3 ? "" : "SA"), (rand() < 0.5 ? "" : "organic") }' >nulls.csv
checked $TENURE --db stage.db --quiet import customers nulls.csv >/dev/null 2>&1
l0=$(wc -l <"$PG_DIR_one/log")
checked $TENURE --db "$STAGE" --quiet import customers nulls.csv >/dev/null 2>&1
sp=$(tail -n +"$((l0 + 1))" "$PG_DIR_one/log" | grep -c 'statement: SAVEPOINT tn_prepare')
if [ "$sp" -le 10 ]; then ok "staged customers: prepared at most twice per batch of 2,000 ($sp)"
else not_ok "staged customers: prepared at most twice per batch of 2,000" "$sp prepares under a savepoint for 10,000 rows"; fi
check_eq "staged customers with NULLs: the values as on SQLite" \
  "$( (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d stage \
      -c "SELECT count(*), count(signed_up_at), sum(signed_up_at), count(country), count(channel) FROM customers") 2>&1)" \
  "$(sqlite3 -separator '|' stage.db "SELECT count(*), count(signed_up_at), sum(signed_up_at), count(country), count(channel) FROM customers")"

# ---- text order: bytes, as on SQLite, whatever the database's locale ----
# A database made with a locale collation (initdb's en_US.UTF-8, or here an
# ICU one) orders text case-blind, punctuation last; SQLite orders by bytes.
# Every text column is made with COLLATE "C" (tn_pg_ddl; migration 22 for a
# database made before): customer ids order the same on both, e.g. `points
# balance` lists equal balances by id.
(cd / && checked pg_psql one "CREATE DATABASE icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'") >/dev/null 2>&1
ICU=$(printf '%s' "$URL" | sed 's|/postgres$|/icu|')
icuq() { (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$PG_DIR_one" -p "$PG_PORT_one" -U tenure -d icu -c "$1") 2>&1; }
check_eq "icu database: a locale order that is not bytes" \
  "$(icuq "SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('b1'), ('B2'), ('_x'), ('a-1')) v(x)")" "_x a-1 b1 B2"
printf 'id,signed_up_at\nb1,2024-01-01\nB2,2024-01-01\n_x,2024-01-01\na-1,2024-01-01\nZed,2024-01-01\n\303\251va,2024-01-01\na1,2024-01-01\nA-2,2024-01-01\n' >mixed.csv
for db in mixed.db "$ICU"; do
  checked $TENURE --db "$db" --quiet import customers mixed.csv >/dev/null 2>&1
  for c in b1 B2 _x a-1 Zed "$(printf '\303\251va')" a1 A-2; do
    checked $TENURE --db "$db" --quiet points grant --customer "$c" --points 5 --key "g-$c" >/dev/null 2>&1
  done
done
same_mixed() { # NAME ARGS...: as same(), on mixed.db and $ICU
  n=$1; shift
  checked $TENURE --db mixed.db --format json "$@" >lite.out 2>lite.err
  checked $TENURE --db "$ICU" --format json "$@" >pg.out 2>pg.err
  if d=$(python3 "$REPO/tests/e2e/jsoncmp.py" lite.out pg.out); then ok "$n"; else not_ok "$n" "$d"; fi
}
same_mixed "icu database: points balance in byte order of ids, as on SQLite" points balance
check_eq "icu database: the ids in byte order" \
  "$(python3 -c 'import json,sys; print(" ".join(r["customer"] for r in json.load(open("pg.out"))))')" \
  "A-2 B2 Zed _x a-1 a1 b1 $(printf '\303\251va')"
check_eq "icu database: every text column collates \"C\"" \
  "$(icuq "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND a.atttypid = 'text'::regtype AND a.attcollation <> 'pg_catalog.\"C\"'::regcollation")" 0
# a database made before migration 22: its columns in the database's
# collation; the next command migrates them
icuq "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'text'::regtype LOOP EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE text COLLATE \"default\"', r.relname, r.attname); END LOOP; END\$\$; UPDATE tenure_schema SET version = 21" >/dev/null
check_eq "icu database before migration 22: ids in the locale's order" \
  "$(icuq "SELECT string_agg(ext_id, ' ' ORDER BY ext_id) FROM customers")" "_x a-1 A-2 a1 b1 B2 $(printf '\303\251va') Zed"
same_mixed "icu database migrated by 22: points balance as on SQLite" points balance
check_eq "icu database migrated by 22: every text column collates \"C\"" \
  "$(icuq "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND a.atttypid = 'text'::regtype AND a.attcollation <> 'pg_catalog.\"C\"'::regcollation")" 0
check_eq "icu database migrated by 22: the schema version" "$(icuq "SELECT version FROM tenure_schema")" "$($TENURE --db mixed.db --format json schema | python3 -c 'import json,sys; print([r["value"] for r in json.load(sys.stdin) if r["item"] == "schema_version"][0])')"

# ---- errors ----
BAD=$(printf '%s' "$URL" | sed "s|:$PG_PASSWORD@|:wrong-$PG_PASSWORD@|")
fails $TENURE --db "$BAD" summary >bad.out 2>bad.err
check_contains "wrong password: a clear error" bad.err "password authentication failed"
if grep -q "$PG_PASSWORD" bad.err bad.out; then not_ok "wrong password: not printed" "$(cat bad.err)"
else ok "wrong password: not printed"; fi
check_contains "wrong password: names the store" bad.err "$SHOWN"

checked pg_psql one "UPDATE tenure_schema SET version = 999" >/dev/null 2>&1
fails $TENURE --db "$URL" summary >new.out 2>new.err
check_contains "newer schema refused" new.err "written by a newer Tenure (schema version 999"
checked pg_psql one "UPDATE tenure_schema SET version = (SELECT max(version) FROM tenure_schema) - 990" >/dev/null 2>&1

DOWN="postgresql://tenure@127.0.0.1:$PG_PORT_one/postgres"
pg_stop one
fails $TENURE --db "$DOWN" summary >down.out 2>down.err
check_contains "server down: a clear error" down.err "cannot connect to PostgreSQL"
check_contains "server down: names the store" down.err "$DOWN"
