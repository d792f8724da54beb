#!/usr/bin/env python3
"""receivers.py -- the outbox tests' counterparts on loopback, stdlib only.

  receivers.py webhook PORTFILE LOG SECRET [FAILFILE [SLOWFILE]]
      An HTTP receiver (http.server, threaded).  Every POST is checked the way
      docs/actions.md tells a receiver to: Tenure-Signature t=...,v1=... is
      HMAC-SHA256(SECRET, t + "." + body), compared in constant time, t within
      300 s.  One JSON line per request goes to LOG: key, event, sig_ok,
      status, body.  While FAILFILE exists it answers 500 (to test retries).
      A request with a good signature and a key already acknowledged is
      answered 200 and logged with "dup": true (the receiver drops repeats).
      While SLOWFILE exists each answer waits 1 s (a receiver that hangs).
  receivers.py smtp PORTFILE DIR
      A minimal SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT):
      each message is written to DIR/N.eml, with the envelope in DIR/N.env.
Both write their port to PORTFILE once listening, and stop on SIGTERM.
"""
import hashlib
import hmac
import http.server
import json
import os
import signal
import socketserver
import sys
import threading
import time


def webhook(portfile, log, secret, failfile=None, slowfile=None):
    lock = threading.Lock()
    seen = set()
    out = open(log, "a", buffering=1)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            sig = self.headers.get("Tenure-Signature", "")
            key = self.headers.get("Idempotency-Key", "")
            ok = False
            try:
                parts = dict(p.split("=", 1) for p in sig.split(","))
                t = parts["t"]
                want = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, parts.get("v1", "")) and abs(time.time() - int(t)) <= 300
            except (ValueError, KeyError):
                ok = False
            if slowfile and os.path.exists(slowfile):
                time.sleep(1)
            status = 500 if (failfile and os.path.exists(failfile)) else (200 if ok else 400)
            with lock:
                dup = status == 200 and key in seen
                if status == 200:
                    seen.add(key)
                out.write(json.dumps({"key": key, "event": self.headers.get("Tenure-Event", ""), "sig_ok": ok,
                                      "status": status, "dup": dup,
                                      "body": body.decode("utf-8", "replace")}) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        request_queue_size = 256

    srv = S(("127.0.0.1", 0), H)
    serve(srv, portfile)


def smtp(portfile, d):
    os.makedirs(d, exist_ok=True)
    counter = [0]
    lock = threading.Lock()

    class H(socketserver.StreamRequestHandler):
        def say(self, line):
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self):
            self.say("220 localhost test SMTP")
            env = {"from": None, "to": []}
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode("utf-8", "replace").rstrip("\r\n")
                up = cmd.upper()
                if up.startswith("EHLO"):
                    self.wfile.write(b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    self.wfile.flush()
                elif up.startswith("HELO"):
                    self.say("250 localhost")
                elif up.startswith("MAIL FROM:"):
                    env = {"from": cmd[10:].strip(), "to": []}
                    self.say("250 OK")
                elif up.startswith("RCPT TO:"):
                    env["to"].append(cmd[8:].strip())
                    self.say("250 OK")
                elif up == "DATA":
                    self.say("354 end with <CRLF>.<CRLF>")
                    data = []
                    while True:
                        l = self.rfile.readline()
                        if not l or l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        data.append(l)
                    with lock:
                        counter[0] += 1
                        n = counter[0]
                    with open(os.path.join(d, "%d.eml" % n), "wb") as f:
                        f.write(b"".join(data))
                    with open(os.path.join(d, "%d.env" % n), "w") as f:
                        json.dump(env, f)
                    self.say("250 OK queued as %d" % n)
                elif up in ("RSET", "NOOP"):
                    self.say("250 OK")
                elif up == "QUIT":
                    self.say("221 bye")
                    return
                else:
                    self.say("502 not implemented")

    class S(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = S(("127.0.0.1", 0), H)
    serve(srv, portfile)


def serve(srv, portfile):
    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    if sys.argv[1] == "webhook":
        webhook(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None,
                sys.argv[6] if len(sys.argv) > 6 else None)
    elif sys.argv[1] == "smtp":
        smtp(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: receivers.py webhook|smtp ...")
