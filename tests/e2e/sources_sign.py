#!/usr/bin/env python3
"""sources_sign.py -- make signed source notifications for the tests and the
bench, with keys and certificates the test itself made (tests/e2e/sources.sh
makes the App Store chain with the openssl CLI).  Python 3 stdlib plus
python3-cryptography (Debian) for ECDSA/RSA signing; nothing is downloaded.

  appstore KEY X5C OPTIONS          print {"signedPayload": JWS} (see --help)
  stripe-sig SECRET T BODYFILE      print the Stripe-Signature header value
  stripe-sigs SECRET T BODYFILE...  the same for each file, one line each (one python start for many)
  rsa-key OUT.pem                   make an RSA-2048 key
  jwks KEY.pem KID                  print a JWKS with KEY's public half
  google-token KEY.pem KID AUD EMAIL EXP   print an RS256 OIDC token
  google-push PKG MSGID TYPE TOKEN [MS]    print a Pub/Sub push body
  bench-appstore KEY X5C N OUT      N distinct signed App Store bodies, one per line
  bench-stripe SECRET N OUT [FIRST] N distinct Stripe events as SIGNATURE<TAB>BODY lines
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def x5c_of(paths):
    out = []
    for p in paths.split(","):
        if not p:
            continue
        with open(p, "rb") as f:
            pem = f.read().decode()
        body = "".join(l for l in pem.splitlines() if "-----" not in l)
        out.append(body)
    return out


def jws(key, x5c, payload, alg="ES256"):
    header = {"alg": alg, "x5c": x5c}
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(payload, separators=(",", ":")).encode())
    data = (h + "." + p).encode()
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg == "HS256":
        sig = hmac.new(b"secret", data, hashlib.sha256).digest()
    else:  # none
        sig = b""
    return h + "." + p + "." + b64u(sig)


def appstore(a, key, x5c, uuid=None):
    now_ms = int(a.signed_date if a.signed_date else time.time() * 1000)
    env = a.env
    txn = {
        "originalTransactionId": a.otid, "transactionId": a.tid or (a.otid + "-" + str(now_ms)),
        "productId": a.product, "bundleId": a.txn_bundle or a.bundle, "environment": env,
        "purchaseDate": now_ms, "originalPurchaseDate": a.start if a.start else now_ms,
        "expiresDate": a.expires if a.expires else now_ms + 30 * 86400 * 1000,
        "type": "Auto-Renewable Subscription", "signedDate": now_ms, "inAppOwnershipType": "PURCHASED",
    }
    if a.price is not None:
        txn["price"] = a.price
        txn["currency"] = a.currency
    if a.token:
        txn["appAccountToken"] = a.token
    if a.trial:
        txn["offerType"] = 1
        txn["offerDiscountType"] = "FREE_TRIAL"
    ren = {"originalTransactionId": a.otid, "autoRenewProductId": a.product, "productId": a.product,
           "autoRenewStatus": a.auto_renew, "environment": env, "signedDate": now_ms,
           "recentSubscriptionStartDate": now_ms}
    if a.intent:
        ren["expirationIntent"] = a.intent
    if a.renewal_price is not None:
        ren["renewalPrice"] = a.renewal_price
        ren["currency"] = a.currency
    stx = jws(key, x5c, txn, a.alg)
    if a.tamper_txn:  # change the payload, keep the signature
        h, p, s = stx.split(".")
        t2 = dict(txn, productId="stolen.product")
        stx = h + "." + b64u(json.dumps(t2, separators=(",", ":")).encode()) + "." + s
    data = {"appAppleId": a.app_id, "bundleId": a.bundle, "environment": env,
            "signedTransactionInfo": stx, "signedRenewalInfo": jws(key, x5c, ren, a.alg), "status": 1}
    if not a.app_id:
        del data["appAppleId"]
    payload = {"notificationType": a.type, "notificationUUID": uuid or a.uuid, "data": data,
               "version": "2.0", "signedDate": now_ms}
    if a.subtype:
        payload["subtype"] = a.subtype
    out = jws(key, x5c, payload, a.alg)
    if a.tamper:
        h, p, s = out.split(".")
        payload["notificationType"] = "REFUND"
        out = h + "." + b64u(json.dumps(payload, separators=(",", ":")).encode()) + "." + s
    return json.dumps({"signedPayload": out}, separators=(",", ":"))


def stripe_sig(secret, t, body):
    mac = hmac.new(secret.encode(), (str(t) + ".").encode() + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "--help"
    if cmd == "appstore" or cmd == "bench-appstore":
        ap = argparse.ArgumentParser(prog="sources_sign.py " + cmd)
        ap.add_argument("key")
        ap.add_argument("x5c")
        if cmd == "bench-appstore":
            ap.add_argument("n", type=int)
            ap.add_argument("out")
        ap.add_argument("--type", default="SUBSCRIBED")
        ap.add_argument("--subtype")
        ap.add_argument("--uuid", default="00000000-0000-0000-0000-000000000001")
        ap.add_argument("--signed-date", type=int, default=0)
        ap.add_argument("--bundle", default="com.example.app")
        ap.add_argument("--txn-bundle")
        ap.add_argument("--env", default="Sandbox")
        ap.add_argument("--app-id", type=int, default=0)
        ap.add_argument("--otid", default="1000")
        ap.add_argument("--tid")
        ap.add_argument("--product", default="com.example.monthly")
        ap.add_argument("--start", type=int, default=0)
        ap.add_argument("--expires", type=int, default=0)
        ap.add_argument("--price", type=int)
        ap.add_argument("--renewal-price", type=int)
        ap.add_argument("--currency", default="USD")
        ap.add_argument("--token")
        ap.add_argument("--trial", action="store_true")
        ap.add_argument("--auto-renew", type=int, default=1)
        ap.add_argument("--intent", type=int)
        ap.add_argument("--alg", default="ES256")
        ap.add_argument("--tamper", action="store_true")
        ap.add_argument("--tamper-txn", action="store_true")
        a = ap.parse_args(sys.argv[2:])
        key, x5c = load_key(a.key), x5c_of(a.x5c)
        if cmd == "appstore":
            print(appstore(a, key, x5c))
        else:
            with open(a.out, "w") as f:
                base = a.otid
                for i in range(a.n):
                    a.otid = "%s%d" % (base, i % 1000)
                    a.tid = "t%d" % i
                    f.write(appstore(a, key, x5c, uuid="bench-%d" % i) + "\n")
    elif cmd == "stripe-sig":
        secret, t, path = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        with open(path, "rb") as f:
            print(stripe_sig(secret, t, f.read()))
    elif cmd == "stripe-sigs":
        secret, t = sys.argv[2], int(sys.argv[3])
        for path in sys.argv[4:]:
            with open(path, "rb") as f:
                print(stripe_sig(secret, t, f.read()))
    elif cmd == "bench-stripe":
        secret, n, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        first = int(sys.argv[5]) if len(sys.argv) > 5 else 0  # ids from evt_b<FIRST>
        t = int(time.time())
        with open(out, "w") as f:
            for i in range(first, first + n):
                ev = {"id": "evt_b%d" % i, "type": "invoice.paid", "created": t, "object": "event",
                      "data": {"object": {"id": "in_b%d" % i, "customer": "cus_b%d" % (i % 500),
                                          "currency": "usd", "amount_paid": 1999,
                                          "status_transitions": {"paid_at": t - i}}}}
                body = json.dumps(ev, separators=(",", ":"))
                # the bench's own line format: SIGNATURE TAB BODY (bench/sources_post.lua)
                f.write(stripe_sig(secret, t, body.encode()) + "\t" + body + "\n")
    elif cmd == "rsa-key":
        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(sys.argv[2], "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    elif cmd == "jwks":
        k = load_key(sys.argv[2]).public_key().public_numbers()
        def be(n):
            return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))
        print(json.dumps({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": sys.argv[3],
                                    "n": be(k.n), "e": be(k.e)}]}))
    elif cmd == "google-token":
        key, kid, aud, email, exp = load_key(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
        h = b64u(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode())
        p = b64u(json.dumps({"aud": aud, "iss": "https://accounts.google.com", "email": email,
                             "email_verified": True, "exp": exp, "iat": exp - 3600,
                             "sub": "1"}).encode())
        sig = key.sign((h + "." + p).encode(), padding.PKCS1v15(), hashes.SHA256())
        print(h + "." + p + "." + b64u(sig))
    elif cmd == "google-push":
        pkg, mid, typ, token = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
        ms = sys.argv[6] if len(sys.argv) > 6 else str(int(time.time() * 1000))
        if typ == "test":
            dn = {"version": "1.0", "packageName": pkg, "eventTimeMillis": ms, "testNotification": {"version": "1.0"}}
        elif typ == "voided":
            dn = {"version": "1.0", "packageName": pkg, "eventTimeMillis": ms,
                  "voidedPurchaseNotification": {"purchaseToken": token, "orderId": "GPA.1", "productType": 1,
                                                 "refundType": 1}}
        else:
            dn = {"version": "1.0", "packageName": pkg, "eventTimeMillis": ms,
                  "subscriptionNotification": {"version": "1.0", "notificationType": int(typ),
                                               "purchaseToken": token, "subscriptionId": "premium_monthly"}}
        data = base64.b64encode(json.dumps(dn).encode()).decode()
        print(json.dumps({"message": {"data": data, "messageId": mid, "publishTime": "2026-01-01T00:00:00Z",
                                      "attributes": {}}, "subscription": "projects/p/subscriptions/s"}))
    else:
        print(__doc__)
        sys.exit(0 if cmd == "--help" else 2)


if __name__ == "__main__":
    main()
