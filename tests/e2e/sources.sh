#!/bin/sh
# sources.sh -- the subscription sources end to end (docs/sources.md): a
# certificate chain made here with the openssl CLI (root, intermediate and
# leaf carrying Apple's OIDs), App Store notifications signed with it
# (tests/e2e/sources_sign.py), Stripe, RevenueCat and Google Play pushes,
# all sent to the real server; every negative case refused with a log line
# and nothing stored; the state walked through the notification types;
# `sources replay` giving exactly the same state; import of raw bodies.
. "$REPO/tests/e2e/lib.sh"
. "$REPO/tests/e2e/sources_chain.sh"
SIGN="python3 $REPO/tests/e2e/sources_sign.py"

trap 'kill -TERM $SERVER_PID 2>/dev/null' EXIT
# post ROUTE FILE [HEADER...]: prints the status; the body is in resp.json
post() {
  r=$1; f=$2; shift 2
  set -- -s -o resp.json -w '%{http_code}' -X POST -H "Content-Type: application/json" --data-binary "@$f" "$@"
  curl "$@" "http://127.0.0.1:$PORT/v1/webhooks/$r"
}
q() { sqlite3 t.db "$1"; }
notes() { q "SELECT count(*) FROM source_notifications"; }

# ---- chains ----
make_chain certs a || { not_ok "openssl makes the chain"; exit 1; }
make_chain certs other || exit 1
make_chain certs noleafoid leaf_nooid || exit 1
make_chain certs nointeroid leaf inter_nooid || exit 1
make_chain certs short leaf inter 1 || exit 1
ok "certificate chains made with the openssl CLI"
X5C=certs/a-leaf.pem,certs/a-inter.pem,certs/a-root.pem
KEY=certs/a-leaf.p8
NOW=$(date +%s)
MS=$((NOW * 1000))
DAY=86400000

# ---- sources add ----
check_fails "appstore: a test root is not Apple Root CA - G3" \
  $TENURE --db t.db sources add appstore --bundle-id com.example.app --environment Sandbox --root-cert certs/a-root.pem
check_contains "fingerprint refusal names Apple's" check.out "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179"
check_fails "appstore Production needs --app-apple-id" \
  $TENURE --db t.db sources add appstore --bundle-id com.example.app --environment Production --root-cert certs/a-root.pem --test-root
check "sources add appstore --test-root" $TENURE --db t.db sources add appstore --bundle-id com.example.app \
  --app-apple-id 4242 --environment Sandbox --root-cert certs/a-root.pem --test-root
check "sources add stripe" $TENURE --db t.db sources add stripe --secret whsec_test_secret_1
check "sources add revenuecat" $TENURE --db t.db sources add revenuecat --authorization "Bearer rc-hook-secret"
$SIGN rsa-key google.key
$SIGN jwks google.key k1 >jwks.json
check "sources add googleplay with JWKS" $TENURE --db t.db sources add googleplay --package com.example.app \
  --jwks jwks.json --audience https://tenure.example/push --service-account push@p.iam.gserviceaccount.com
$TENURE --db t.db --format json sources list >list.json
check_contains "list: four sources" list.json '"kind":"revenuecat"'
check_eq "list shows no secret" "$(grep -c 'whsec_test_secret_1' list.json)" 0
check_eq "revenuecat authorization kept as SHA-256" "$(q "SELECT json_extract(config, '\$.authorization_sha256') FROM sources WHERE kind = 'revenuecat'")" \
  "$(printf %s 'Bearer rc-hook-secret' | openssl dgst -sha256 -r | cut -d' ' -f1)"

check "keys create read" sh -c "$TENURE --db t.db keys create --scope read >read.key 2>/dev/null"
READ=$(cat read.key)
check_fails "serve: --group-wait above 100000 refused" $TENURE --db t.db serve --group-wait 100001
check_contains "serve: --group-wait message" check.out "expected 0 (never) to 100000 microseconds"
# a 2 ms gathering wait (writer.c): notifications posted together share group commits
if ! start_server t.db serve.log --group-wait 2000; then not_ok "server starts"; exit 1; fi
ok "server starts ($PORT)"

# ---- App Store: a good one ----
as() { $SIGN appstore $KEY $X5C --app-id 4242 --signed-date "$MS" --start "$MS" --expires $((MS + 30 * DAY)) "$@"; }
as --uuid u-sub --type SUBSCRIBED --subtype INITIAL_BUY --price 9990 --token cust-as >n.json
check_eq "appstore SUBSCRIBED: 200" "$(post appstore n.json)" 200
check_contains "outcome applied" resp.json '"outcome":"applied"'
check_eq "state active" "$(q "SELECT state, auto_renew FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'appstore:1000'")" "active|1"
check_eq "customer = appAccountToken" "$(q "SELECT c.ext_id FROM subscriptions u JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'appstore:1000'")" cust-as
check_eq "payment from the renewal price" "$(q "SELECT amount, currency, status FROM payments")" "9.99|USD|succeeded"
check_eq "replayed notificationUUID: 200" "$(post appstore n.json)" 200
check_contains "replayed: duplicate" resp.json '"outcome":"duplicate"'
check_eq "stored once" "$(q "SELECT count(*) FROM source_notifications WHERE dedupe_key = 'u-sub'")" 1

# ---- App Store: every refusal, with a log line, nothing stored ----
refused() { # NAME STATUS ROUTE FILE LOGTEXT [HEADERS...]
  name=$1; want=$2; route=$3; file=$4; text=$5; shift 5
  before=$(notes)
  check_eq "$name: $want" "$(post "$route" "$file" "$@")" "$want"
  check_eq "$name: nothing stored" "$(notes)" "$before"
  check_contains "$name: logged" serve.log "$text"
}
as --uuid u-t1 --tamper >bad.json
refused "tampered payload" 401 appstore bad.json "signedPayload: the ES256 signature does not verify"
as --uuid u-t2 --tamper-txn >bad.json
refused "tampered nested transaction" 401 appstore bad.json "signedTransactionInfo: the ES256 signature does not verify"
$SIGN appstore certs/other-leaf.p8 certs/other-leaf.pem,certs/other-inter.pem,certs/other-root.pem --app-id 4242 --uuid u-t3 >bad.json
refused "chain to another root" 401 appstore bad.json "does not verify against the configured root"
$SIGN appstore certs/other-leaf.p8 certs/other-leaf.pem,certs/other-inter.pem,certs/a-root.pem --app-id 4242 --uuid u-t3b >bad.json
refused "another chain with our root as x5c[2]" 401 appstore bad.json "does not verify against the configured root"
$SIGN appstore certs/noleafoid-leaf.p8 certs/noleafoid-leaf.pem,certs/noleafoid-inter.pem,certs/noleafoid-root.pem --app-id 4242 --uuid u-t4 >bad.json
check "source for the no-OID chains" $TENURE --db t.db sources add appstore --bundle-id com.example.app \
  --app-apple-id 4242 --environment Sandbox --root-cert certs/noleafoid-root.pem --test-root
check "source for the no-OID intermediate" $TENURE --db t.db sources add appstore --bundle-id com.example.app \
  --app-apple-id 4242 --environment Sandbox --root-cert certs/nointeroid-root.pem --test-root
check "source for the short-lived leaf" $TENURE --db t.db sources add appstore --bundle-id com.example.app \
  --app-apple-id 4242 --environment Sandbox --root-cert certs/short-root.pem --test-root
sleep 1.1 # the server reloads the sources at most once a second
refused "leaf without OID 1.2.840.113635.100.6.11.1" 401 appstore bad.json "the leaf certificate lacks OID 1.2.840.113635.100.6.11.1"
$SIGN appstore certs/nointeroid-leaf.p8 certs/nointeroid-leaf.pem,certs/nointeroid-inter.pem,certs/nointeroid-root.pem --app-id 4242 --uuid u-t5 >bad.json
refused "intermediate without OID 1.2.840.113635.100.6.2.1" 401 appstore bad.json "the intermediate certificate lacks OID 1.2.840.113635.100.6.2.1"
$SIGN appstore certs/short-leaf.p8 certs/short-leaf.pem,certs/short-inter.pem,certs/short-root.pem --app-id 4242 --uuid u-t6 --signed-date $((MS + 10 * DAY)) >bad.json
refused "leaf expired at signedDate" 401 appstore bad.json "certificate has expired"
$SIGN appstore certs/short-leaf.p8 certs/short-leaf.pem,certs/short-inter.pem,certs/short-root.pem --app-id 4242 --uuid u-t6b --signed-date "$MS" >ok6.json
check_eq "the same leaf at a signedDate inside its validity: 200" "$(post appstore ok6.json)" 200
as --uuid u-t7 --alg none >bad.json
refused "alg none" 401 appstore bad.json "alg is none, not ES256"
as --uuid u-t8 --alg HS256 >bad.json
refused "alg HS256" 401 appstore bad.json "alg is HS256, not ES256"
$SIGN appstore $KEY certs/a-leaf.pem,certs/a-inter.pem --app-id 4242 --uuid u-t9 >bad.json
refused "two certificates in x5c" 401 appstore bad.json "x5c must hold exactly 3 certificates (found 2)"
as --uuid u-t10 --bundle com.other.app >bad.json
refused "wrong bundle id" 403 appstore bad.json "bundleId com.other.app is not the configured com.example.app"
as --uuid u-t11 --env Production >bad.json
refused "wrong environment" 403 appstore bad.json "environment Production is not the configured Sandbox"
as --uuid u-t12 --txn-bundle com.other.app >bad.json
refused "nested transaction for another app" 403 appstore bad.json "signedTransactionInfo: bundleId com.other.app"
printf '{"signedPayload": "not.a.jws!"}' >bad.json
refused "not a JWS" 400 appstore bad.json "signedPayload:"

# ---- App Store: the states ----
step() { # UUID MS TYPE SUBTYPE WANT_STATE WANT_CAUSE [more sign options]
  u=$1; t=$2; ty=$3; st=$4; ws=$5; wc=$6; shift 6
  if [ -n "$st" ]; then as --uuid "$u" --signed-date "$t" --otid 2000 --type "$ty" --subtype "$st" "$@" >s.json
  else as --uuid "$u" --signed-date "$t" --otid 2000 --type "$ty" "$@" >s.json; fi
  code=$(post appstore s.json)
  got=$(q "SELECT state || '|' || COALESCE(cause, '') FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'appstore:2000'")
  check_eq "appstore $ty${st:+/$st} -> $ws${wc:+ ($wc)}" "$code $got" "200 $ws|$wc"
}
step s1 $((MS + 1000)) SUBSCRIBED INITIAL_BUY trial "" --trial --price 0
step s2 $((MS + 2000)) DID_RENEW "" active "" --price 4990
step s3 $((MS + 3000)) DID_CHANGE_RENEWAL_STATUS AUTO_RENEW_DISABLED cancelling "" --auto-renew 0
check_eq "auto_renew_off_at set" "$(q "SELECT auto_renew, auto_renew_off_at FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'appstore:2000'")" "0|$(((MS + 3000) / 1000))"
step s4 $((MS + 4000)) DID_CHANGE_RENEWAL_STATUS AUTO_RENEW_ENABLED active "" --auto-renew 1
step s5 $((MS + 5000)) DID_FAIL_TO_RENEW GRACE_PERIOD grace "" --renewal-price 4990
check_eq "failed payment recorded" "$(q "SELECT count(*) FROM payments WHERE status = 'failed'")" 1
step s6 $((MS + 6000)) GRACE_PERIOD_EXPIRED "" billing_retry ""
step s7 $((MS + 7000)) EXPIRED BILLING_RETRY expired billing --auto-renew 0
check_eq "coarse status: involuntary is expired" "$(q "SELECT status, cancel_reason FROM subscriptions WHERE ext_id = 'appstore:2000'")" "expired|billing"
step s8 $((MS + 8000)) SUBSCRIBED RESUBSCRIBE active "" --price 4990
step s9 $((MS + 9000)) DID_CHANGE_RENEWAL_PREF UPGRADE active "" --product com.example.yearly
check_eq "upgrade: the new product" "$(q "SELECT plan, billing_period FROM subscriptions WHERE ext_id = 'appstore:2000'")" "com.example.yearly|year"
step s10 $((MS + 10000)) PRICE_INCREASE PENDING active ""
step s11 $((MS + 11000)) EXPIRED PRICE_INCREASE expired price_increase --auto-renew 0
step s12 $((MS + 12000)) REFUND_REVERSED "" active ""
step s13 $((MS + 13000)) REFUND "" refunded refund --price 4990
check_eq "refund recorded" "$(q "SELECT count(*) FROM payments WHERE status = 'refunded'")" 1
step s14 $((MS + 14000)) OFFER_REDEEMED "" active ""
step s15 $((MS + 15000)) REVOKE "" expired revoked
step s16 $((MS + 16000)) RENEWAL_EXTENDED "" active ""
step s17 $((MS + 17000)) EXPIRED PRODUCT_NOT_FOR_SALE expired product_unavailable --auto-renew 0
step s18 $((MS + 18000)) SUBSCRIBED RESUBSCRIBE active ""
step s19 $((MS + 19000)) DID_CHANGE_RENEWAL_STATUS AUTO_RENEW_DISABLED cancelling "" --auto-renew 0
step s20 $((MS + 20000)) EXPIRED VOLUNTARY expired voluntary --auto-renew 0
check_eq "coarse status: voluntary is cancelled" "$(q "SELECT status FROM subscriptions WHERE ext_id = 'appstore:2000'")" cancelled
step s21 $((MS + 21000)) CONSUMPTION_REQUEST "" expired voluntary
step s22 $((MS + 22000)) TEST "" expired voluntary
step s23 $((MS + 15500)) DID_RENEW "" expired voluntary
check_contains "an older notification arriving late is stale" resp.json '"outcome":"stale"'

# ---- the API ----
code=$(curl -s -o cust.json -w '%{http_code}' -H "Authorization: Bearer $READ" "http://127.0.0.1:$PORT/v1/customers/cust-as")
check_eq "GET /v1/customers/cust-as" "$code" 200
check_contains "customer: source" cust.json '"source":"appstore"'
check_contains "customer: status (exact)" cust.json '"status":"active"'
check_contains "customer: product" cust.json '"product":"com.example.monthly"'
check_contains "customer: auto_renew" cust.json '"auto_renew":true'

# ---- Stripe ----
cat >ev.json <<EOF
{"id":"evt_1","object":"event","type":"customer.subscription.created","created":$NOW,"data":{"object":{"id":"sub_1","object":"subscription","customer":"cus_1","status":"active","cancel_at_period_end":false,"start_date":$NOW,"current_period_end":$((NOW + 2592000)),"items":{"data":[{"price":{"id":"price_pro","unit_amount":2900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}}}
EOF
# signed when sent: the 300 s tolerance counts from now, not from the test's start
SIG=$($SIGN stripe-sig whsec_test_secret_1 "$(date +%s)" ev.json)
check_eq "stripe: good signature" "$(post stripe ev.json -H "Stripe-Signature: $SIG")" 200
check_eq "stripe: subscription state" "$(q "SELECT s.state, u.price, u.currency, c.ext_id FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'stripe:sub_1'")" "active|29.0|USD|cus_1"
T=$(date +%s)
SIG2=$($SIGN stripe-sig whsec_rotated_old "$T" ev.json)
sed 's/evt_1/evt_2/' ev.json >ev2.json
SIGB=$($SIGN stripe-sig whsec_test_secret_1 "$T" ev2.json)
check_eq "stripe: several v1 (one good)" "$(post stripe ev2.json -H "Stripe-Signature: t=$T,v1=$(echo "$SIG2" | sed 's/.*v1=//'),v1=$(echo "$SIGB" | sed 's/.*v1=//')")" 200
sed 's/evt_1/evt_3/' ev.json >ev3.json
BAD=$($SIGN stripe-sig whsec_wrong "$(date +%s)" ev3.json)
refused "stripe: wrong secret" 401 stripe ev3.json "no v1 signature matches" -H "Stripe-Signature: $BAD"
OLD=$($SIGN stripe-sig whsec_test_secret_1 $(($(date +%s) - 400)) ev3.json)
refused "stripe: old timestamp" 401 stripe ev3.json "more than the 300 s tolerance" -H "Stripe-Signature: $OLD"
refused "stripe: missing header" 401 stripe ev3.json "the Stripe-Signature header is missing"
cat >inv.json <<EOF
{"id":"evt_4","object":"event","type":"invoice.payment_failed","created":$((NOW + 1)),"data":{"object":{"id":"in_1","customer":"cus_1","subscription":"sub_1","currency":"usd","amount_due":2900}}}
EOF
check_eq "stripe: invoice.payment_failed" "$(post stripe inv.json -H "Stripe-Signature: $($SIGN stripe-sig whsec_test_secret_1 "$(date +%s)" inv.json)")" 200
check_eq "stripe: failed payment" "$(q "SELECT amount, status FROM payments WHERE ext_id = 'stripe:evt_4'")" "29.0|failed"
sed -e 's/evt_1/evt_5/' -e 's/"status":"active"/"status":"past_due"/' -e "s/\"created\":$NOW/\"created\":$((NOW + 2))/" ev.json >ev5.json
check_eq "stripe: past_due" "$(post stripe ev5.json -H "Stripe-Signature: $($SIGN stripe-sig whsec_test_secret_1 "$(date +%s)" ev5.json)")" 200
sed -e 's/evt_1/evt_6/' -e 's/"status":"active"/"status":"canceled","ended_at":'$((NOW + 3))'/' -e "s/\"created\":$NOW/\"created\":$((NOW + 3))/" \
  -e 's/customer.subscription.created/customer.subscription.deleted/' ev.json >ev6.json
check_eq "stripe: deleted" "$(post stripe ev6.json -H "Stripe-Signature: $($SIGN stripe-sig whsec_test_secret_1 "$(date +%s)" ev6.json)")" 200
check_eq "stripe: canceled after past_due is billing churn" "$(q "SELECT state, cause FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'stripe:sub_1'")" "expired|billing"

# ---- RevenueCat ----
cat >rc.json <<EOF
{"api_version":"1.0","event":{"id":"rc-1","type":"INITIAL_PURCHASE","app_user_id":"user-rc","product_id":"pro_monthly","period_type":"NORMAL","purchased_at_ms":$MS,"expiration_at_ms":$((MS + 30 * DAY)),"event_timestamp_ms":$MS,"price":4.99,"currency":"EUR","price_in_purchased_currency":4.49,"original_transaction_id":"rc-otid","transaction_id":"rc-t1","store":"APP_STORE","environment":"PRODUCTION"}}
EOF
check_eq "revenuecat: good header" "$(post revenuecat rc.json -H 'Authorization: Bearer rc-hook-secret')" 200
sed 's/"rc-1"/"rc-2"/' rc.json >rc2.json
refused "revenuecat: wrong header" 401 revenuecat rc2.json "the Authorization header is not the configured one" -H 'Authorization: Bearer guess'
refused "revenuecat: missing header" 401 revenuecat rc2.json "the Authorization header is missing"
sed -e 's/"rc-1"/"rc-3"/' -e 's/"INITIAL_PURCHASE"/"BILLING_ISSUE"/' -e "s/\"event_timestamp_ms\":$MS/\"event_timestamp_ms\":$((MS + 1000))/" rc.json >rc3.json
check_eq "revenuecat: BILLING_ISSUE" "$(post revenuecat rc3.json -H 'Authorization: Bearer rc-hook-secret')" 200
sed -e 's/"rc-1"/"rc-4"/' -e 's/"INITIAL_PURCHASE"/"EXPIRATION","expiration_reason":"BILLING_ERROR"/' -e "s/\"event_timestamp_ms\":$MS/\"event_timestamp_ms\":$((MS + 2000))/" rc.json >rc4.json
check_eq "revenuecat: EXPIRATION" "$(post revenuecat rc4.json -H 'Authorization: Bearer rc-hook-secret')" 200
check_eq "revenuecat: expired, billing" "$(q "SELECT state, cause FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'revenuecat:rc-otid'")" "expired|billing"

# ---- Google Play ----
TOK=$($SIGN google-token google.key k1 https://tenure.example/push push@p.iam.gserviceaccount.com $((NOW + 3600)))
$SIGN google-push com.example.app m-1 4 tok-1 "$MS" >g1.json
check_eq "googleplay: PURCHASED with a good token" "$(post googleplay g1.json -H "Authorization: Bearer $TOK")" 200
BADAUD=$($SIGN google-token google.key k1 https://evil.example/push push@p.iam.gserviceaccount.com $((NOW + 3600)))
$SIGN google-push com.example.app m-2 3 tok-1 $((MS + 1000)) >g2.json
refused "googleplay: wrong audience" 401 googleplay g2.json "audience https://evil.example/push is not the configured" -H "Authorization: Bearer $BADAUD"
refused "googleplay: no token" 401 googleplay g2.json "Bearer token is missing"
$SIGN rsa-key other.key
FORGED=$($SIGN google-token other.key k1 https://tenure.example/push push@p.iam.gserviceaccount.com $((NOW + 3600)))
refused "googleplay: token signed by another key" 401 googleplay g2.json "RS256 signature does not verify" -H "Authorization: Bearer $FORGED"
check_eq "googleplay: CANCELED" "$(post googleplay g2.json -H "Authorization: Bearer $TOK")" 200
$SIGN google-push com.example.app m-3 13 tok-1 $((MS + 2000)) >g3.json
check_eq "googleplay: EXPIRED" "$(post googleplay g3.json -H "Authorization: Bearer $TOK")" 200
check_eq "googleplay: canceled then expired is voluntary" "$(q "SELECT state, cause FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'googleplay:tok-1'")" "expired|voluntary"
$SIGN google-push com.example.app m-4 test x >g4.json
check_eq "googleplay: test notification" "$(post googleplay g4.json -H "Authorization: Bearer $TOK")" 200
check_contains "test: kept only" resp.json '"outcome":"stored"'
$SIGN google-push com.other.app m-5 4 tok-2 >g5.json
refused "googleplay: another package" 403 googleplay g5.json "packageName com.other.app is not the configured" -H "Authorization: Bearer $TOK"

# ---- many at once: each answered 200 only after its group commit, each kept once ----
for i in $(seq 1 24); do
  sed -e "s/\"evt_1\"/\"evt_c$i\"/" -e "s/\"sub_1\"/\"sub_c$i\"/" -e "s/\"cus_1\"/\"cus_c$i\"/" ev.json >evc$i.json
done
# signed in one python start, just before the posts: one start per body took
# minutes on a loaded machine and put the first signatures past Stripe's
# 300 s tolerance
$SIGN stripe-sigs whsec_test_secret_1 "$(date +%s)" $(for i in $(seq 1 24); do echo evc$i.json; done) >sigs.all
for i in $(seq 1 24); do sed -n "${i}p" sigs.all >sigc$i; done
check_eq "concurrent: 24 signatures made" "$(grep -c '^t=[0-9]*,v1=[0-9a-f]\{64\}$' sigs.all)" 24
pids=""
for i in $(seq 1 24); do
  curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Content-Type: application/json" -H "Stripe-Signature: $(cat sigc$i)" \
    --data-binary "@evc$i.json" "http://127.0.0.1:$PORT/v1/webhooks/stripe" >code.$i &
  pids="$pids $!"
done
wait $pids
check_eq "concurrent: 24 answered 200" "$(cat code.* | grep -c '^200$')" 24
check_eq "concurrent: each kept once" "$(q "SELECT count(*), count(DISTINCT dedupe_key) FROM source_notifications WHERE dedupe_key LIKE 'evt_c%'")" "24|24"
check_eq "concurrent: 24 subscriptions active" "$(q "SELECT count(*) FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id LIKE 'stripe:sub_c%' AND s.state = 'active'")" 24

stop_server
ok "server stopped"

# ---- replay gives exactly the same state ----
dump() {
  sqlite3 t.db "SELECT u.ext_id, s.source, s.state, s.cause, s.auto_renew, s.expires_at, s.auto_renew_off_at, s.updated_at FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id ORDER BY u.ext_id;
    SELECT ext_id, plan, billing_period, price, currency, started_at, trial_ends_at, current_period_end, cancelled_at, cancel_reason, status FROM subscriptions ORDER BY ext_id;
    SELECT subscription_id, kind, last_event_at, pending_cause FROM source_subscriptions ORDER BY 1;
    SELECT id, outcome FROM source_notifications ORDER BY id;
    SELECT customer_id, paid_at, amount, currency, status, ext_id FROM payments ORDER BY ext_id"
}
dump >before.txt
check "sources replay" $TENURE --db t.db sources replay
dump >after.txt
if cmp -s before.txt after.txt; then ok "replay: exactly the same state"; else not_ok "replay: exactly the same state" "$(diff before.txt after.txt | head -10)"; fi
check_eq "replay: every notification" "$(cat check.out | tail -1)" "$(notes)"
sqlite3 t.db "UPDATE subscription_state SET state = 'paused'"
check "sources replay repairs a changed state" $TENURE --db t.db sources replay
dump >after2.txt
if cmp -s before.txt after2.txt; then ok "replay repairs"; else not_ok "replay repairs" "$(diff before.txt after2.txt | head -10)"; fi

# ---- import: the same bodies from a file, verified the same way ----
as --uuid i-1 --otid 3000 --type SUBSCRIBED --price 9990 >imp.jsonl
as --uuid i-2 --otid 3000 --type DID_FAIL_TO_RENEW --signed-date $((MS + 1000)) >>imp.jsonl
$TENURE --db t.db --format csv import appstore imp.jsonl >imp.out
check_contains "import appstore: applied" imp.out "appstore,imp.jsonl,2,2,0,0,0"
check_eq "import: state" "$(q "SELECT state FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id WHERE u.ext_id = 'appstore:3000'")" billing_retry
$TENURE --db t.db --format csv import appstore imp.jsonl >imp2.out
check_contains "import again: duplicates" imp2.out "appstore,imp.jsonl,2,0,2,0,0"
as --uuid i-3 --otid 3001 --tamper >bad.jsonl
before=$(notes)
fails $TENURE --db t.db import appstore bad.jsonl 2>imp.err
check_contains "import: a bad body names its line" imp.err "bad.jsonl:1: signedPayload: the ES256 signature does not verify"
check_eq "import: nothing stored" "$(notes)" "$before"
printf '{"headers":{"Stripe-Signature":"%s"},"body":%s,"received_at":%s}\n' \
  "$($SIGN stripe-sig whsec_test_secret_1 $((NOW - 86400)) inv.json)" \
  "$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' inv.json | sed 's/evt_4/evt_9/')" $((NOW - 86400 + 10)) >strip.jsonl
fails $TENURE --db t.db import stripe strip.jsonl 2>strip.err
check_contains "import stripe: the body must match its signature" strip.err "strip.jsonl:1: Stripe-Signature: no v1 signature matches"
printf '{"purchaseToken":"tok-9","subscriptionState":"SUBSCRIPTION_STATE_ON_HOLD","startTime":"2026-01-01T00:00:00Z","lineItems":[{"productId":"premium_yearly","expiryTime":"2026-12-01T00:00:00Z","autoRenewingPlan":{"autoRenewEnabled":true}}],"externalAccountIdentifiers":{"obfuscatedExternalAccountId":"acct-9"}}\n' >gstate.jsonl
check "import googleplay-state" $TENURE --db t.db import googleplay-state gstate.jsonl
check_eq "googleplay-state: on hold is billing_retry, customer from the account id" \
  "$(q "SELECT s.state, c.ext_id, u.billing_period FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'googleplay:tok-9'")" "billing_retry|acct-9|year"
dump >before3.txt
check "replay with imports" $TENURE --db t.db sources replay
dump >after3.txt
if cmp -s before3.txt after3.txt; then ok "replay with imports: same state"; else not_ok "replay with imports: same state" "$(diff before3.txt after3.txt | head -10)"; fi
check "sources remove" $TENURE --db t.db sources remove 2
check_fails "sources remove twice" $TENURE --db t.db sources remove 2
check_eq "removed source's notifications kept" "$(q "SELECT count(*) > 0 FROM source_notifications WHERE kind = 'stripe'")" 1
$TENURE --db t.db --format json sources list >list2.json
check_contains "list: removed_at" list2.json '"removed_at":"20'

# ---- the demo's store customers: signed, verified and applied like the webhooks ----
check "demo --store-customers" $TENURE --db demo.db demo --customers 200 --store-customers 40
dq() { sqlite3 demo.db "$1"; }
check_eq "demo: three sources" "$(dq "SELECT count(*) FROM sources")" 3
check_eq "demo: 120 store subscriptions with a state" "$(dq "SELECT count(*) FROM subscription_state")" 120
check_eq "demo: every notification applied" "$(dq "SELECT count(*) FROM source_notifications WHERE outcome <> 'applied'")" 0
check "demo: voluntary and involuntary churn planted on every source" sh -c \
  "[ \$(sqlite3 demo.db \"SELECT count(DISTINCT source || cause) FROM subscription_state WHERE state = 'expired' AND cause IN ('voluntary','billing')\") -eq 6 ]"
check_eq "demo: appAccountToken customers" "$(dq "SELECT count(*) FROM customers WHERE ext_id LIKE 'demo-as-%'")" 40
sqlite3 demo.db "SELECT u.ext_id, s.state, s.cause, s.auto_renew, s.expires_at, s.auto_renew_off_at, s.updated_at, u.status FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id ORDER BY 1" >d1.txt
check "demo: replay" $TENURE --db demo.db sources replay
sqlite3 demo.db "SELECT u.ext_id, s.state, s.cause, s.auto_renew, s.expires_at, s.auto_renew_off_at, s.updated_at, u.status FROM subscription_state s JOIN subscriptions u ON u.id = s.subscription_id ORDER BY 1" >d2.txt
if cmp -s d1.txt d2.txt; then ok "demo: replay gives the same state"; else not_ok "demo: replay gives the same state" "$(diff d1.txt d2.txt | head -5)"; fi

# ---- customers link: one customer known by two ids ----
as --uuid l-1 --otid 7000 --type SUBSCRIBED --price 9990 --start $((MS + 5000)) >l1.jsonl
check "import a subscription without appAccountToken" $TENURE --db t.db import appstore l1.jsonl
check_eq "its customer is appstore:7000" "$(q "SELECT c.ext_id FROM subscriptions u JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'appstore:7000'")" appstore:7000
check_fails "link to an unknown customer" $TENURE --db t.db customers link nobody appstore:7000
as --uuid l-2 --otid 7001 --type SUBSCRIBED >l2.jsonl
check "import one that would collide" $TENURE --db t.db import appstore l2.jsonl
# everything else a customer can have, on both aliases: events, feedback, consent,
# points, an alert, a decision with its holdout draw, a score
for a in appstore:7000 appstore:7001; do
  printf 'customer,occurred_at,type\n%s,2026-01-02,login\n%s,2026-01-03,workout\n' "$a" "$a" >ev-$a.csv
  printf 'customer,given_at,kind,score,answer\n%s,2026-01-04,nps,3,too dear\n' "$a" >fb-$a.csv
  check "events for $a" $TENURE --db t.db import events ev-$a.csv
  check "feedback for $a" $TENURE --db t.db import feedback fb-$a.csv
  check "points for $a" $TENURE --db t.db points grant --customer $a --points 40 --key g-$a --at 2026-01-05
  check "points spent by $a" $TENURE --db t.db points redeem --customer $a --points 15 --key r-$a --at 2026-01-06
  check "consent of $a" $TENURE --db t.db customers consent $a --email no
  q "INSERT INTO alerts(customer_id, kind, raised_at, detail, last_seen) SELECT id, 'inactive', 1767225600, 'quiet', 1767225600 FROM customers WHERE ext_id = '$a';
     INSERT INTO decision_holdout(customer_id, holdout, share, seed, assigned_at) SELECT id, 1, 0.1, 7, 1767225600 FROM customers WHERE ext_id = '$a';
     INSERT INTO decisions(id, customer_id, moment, decided_at, holdout) SELECT 'd-$a', id, 'cancel', 1767225600, 1 FROM customers WHERE ext_id = '$a';
     INSERT INTO customer_scores(customer_id, p_churn, value, source, scored_at, as_of) SELECT id, 0.5, 10, 'test', 1767225600, 1767225600 FROM customers WHERE ext_id = '$a'"
done
# cust-as has the alias's 2026-01-02 login too (the same event, sent under both ids) and an open alert
printf 'customer,occurred_at,type\ncust-as,2026-01-02,login\n' >ev-keep.csv
check "an event of cust-as" $TENURE --db t.db import events ev-keep.csv
q "INSERT INTO alerts(customer_id, kind, raised_at, detail, last_seen) SELECT id, 'inactive', 1767225700, 'keep', 1767225700 FROM customers WHERE ext_id = 'cust-as'"
owned() { # rows per table for customer $1
  q "SELECT (SELECT count(*) FROM subscriptions WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM payments WHERE customer_id = c.id)
     || ' ' || (SELECT count(*) FROM events WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM feedback WHERE customer_id = c.id)
     || ' ' || (SELECT count(*) FROM consent WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM alerts WHERE customer_id = c.id)
     || ' ' || (SELECT count(*) FROM decisions WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM decision_holdout WHERE customer_id = c.id)
     || ' ' || (SELECT count(*) FROM customer_scores WHERE customer_id = c.id) || ' ' || COALESCE((SELECT balance FROM points_balances WHERE customer_id = c.id), 0)
     FROM customers c WHERE c.ext_id = '$1'"
}
before_7001=$(owned appstore:7001); before_keep=$(owned cust-as)
check_fails "link: a subscription both would hold is refused" $TENURE --db t.db customers link cust-as appstore:7001
check_contains "link: the collision is named" check.out "already has a subscription to the same plan starting at the same instant"
check_eq "link: all or nothing -- the refused alias keeps everything" "$(owned appstore:7001)" "$before_7001"
check_eq "link: all or nothing -- the kept customer is unchanged" "$(owned cust-as)" "$before_keep"
check_eq "link: the refused alias is not linked" "$(q "SELECT count(*) FROM customer_links WHERE alias = 'appstore:7001'")" 0
check_eq "appstore:7000 before the link: 1 subscription, 1 payment, 2 events, 1 answer, consent, alert, decision, holdout, score, 25 points" \
  "$(owned appstore:7000)" "1 1 2 1 1 1 1 1 1 25"
keep0=$(q "SELECT (SELECT count(*) FROM subscriptions WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM payments WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM events WHERE customer_id = c.id) FROM customers c WHERE ext_id = 'cust-as'")
check "customers link cust-as appstore:7000" $TENURE --db t.db customers link cust-as appstore:7000
check_eq "the subscription moved" "$(q "SELECT c.ext_id FROM subscriptions u JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'appstore:7000'")" cust-as
check_eq "its payment moved" "$(q "SELECT count(*) FROM payments p JOIN customers c ON c.id = p.customer_id WHERE c.ext_id = 'appstore:7000'")" 0
check_eq "the alias holds nothing any more (points: its ledger keeps the history, balance 0)" "$(owned appstore:7000)" "0 0 0 0 0 0 0 0 0 0"
set -- $keep0
check_eq "cust-as gained its subscription, payment and one event (the same login once)" \
  "$(q "SELECT (SELECT count(*) FROM subscriptions WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM payments WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM events WHERE customer_id = c.id) FROM customers c WHERE ext_id = 'cust-as'")" \
  "$(($1 + 1)) $(($2 + 1)) $(($3 + 1))"
check_eq "feedback, consent, decision, holdout draw and score moved" \
  "$(q "SELECT (SELECT count(*) FROM feedback WHERE customer_id = c.id) || ' ' || (SELECT granted FROM consent WHERE customer_id = c.id AND channel = 'email') || ' ' || (SELECT id FROM decisions WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM decision_holdout WHERE customer_id = c.id) || ' ' || (SELECT count(*) FROM customer_scores WHERE customer_id = c.id) FROM customers c WHERE ext_id = 'cust-as'")" \
  "1 0 d-appstore:7000 1 1"
check_eq "two open inactive alerts became one: the alias's is resolved and moved" \
  "$(q "SELECT count(*) || ' ' || sum(resolved_at IS NULL) FROM alerts a JOIN customers c ON c.id = a.customer_id WHERE c.ext_id = 'cust-as' AND kind = 'inactive'")" "2 1"
check_eq "points: the 25 left moved, with the 40 earned" "$(q "SELECT balance || ' ' || earned FROM points_balances b JOIN customers c ON c.id = b.customer_id WHERE c.ext_id = 'cust-as'")" "25 40"
check "points ledger, lots and balances agree after the link" $TENURE --db t.db points check
check "points history of cust-as" $TENURE --db t.db points history --customer cust-as
check_contains "the move is in the kept customer's history" check.out "customers link: moved to cust-as"
check "link a Stripe customer before it is seen" $TENURE --db t.db customers link cust-as cus_future
cat >fut.json <<EOF2
{"id":"evt_f1","object":"event","type":"customer.subscription.created","created":$NOW,"data":{"object":{"id":"sub_f","customer":"cus_future","status":"active","current_period_end":$((NOW + 2592000)),"items":{"data":[{"price":{"id":"p","unit_amount":500,"currency":"usd","recurring":{"interval":"month"}}}]}}}}
EOF2
python3 -c 'import json,sys; print(json.dumps({"headers":{"Stripe-Signature":sys.argv[1]},"body":open(sys.argv[2]).read(),"received_at":int(sys.argv[3])}))' \
  "$($SIGN stripe-sig whsec_test_secret_1 "$NOW" fut.json)" fut.json "$NOW" >fut.jsonl
check_fails "import a Stripe event while no Stripe source is configured" $TENURE --db t.db import stripe fut.jsonl
check "sources add stripe again" $TENURE --db t.db sources add stripe --secret whsec_test_secret_1
check "import a Stripe event for the linked id" $TENURE --db t.db import stripe fut.jsonl
check_eq "a new subscription for the alias is the kept customer's" "$(q "SELECT c.ext_id FROM subscriptions u JOIN customers c ON c.id = u.customer_id WHERE u.ext_id = 'stripe:sub_f'")" cust-as
check_eq "no customer made for the alias" "$(q "SELECT count(*) FROM customers WHERE ext_id = 'cus_future'")" 0
