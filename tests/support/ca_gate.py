#!/usr/bin/python3
"""A gate in front of an ACME server (Pebble), for tests that stop an issuance at an exact step.

The gate is an HTTPS reverse proxy on a free loopback port. It forwards every request to the
upstream unchanged, Host header included: Pebble builds every URL it hands out (directory,
Location, order, authorization, challenge, certificate) from the Host header, so a client given
the gate's directory URL talks to the gate from then on, and the JWS "url" of each request is the
URL Pebble expects. Rules, set through a plain HTTP control port, hold requests matching a
regular expression on "METHOD /path" (e.g. 'POST /finalize-order/'):

  hold           the request is held and never reaches the CA
  hold-response  the request reaches the CA; its answer is held and never reaches the client
  hold-after     the request and its answer go through; every later request is held

Once the gate holds anything, every later request is held too: the client stays frozen at that
step even when its request times out and it carries on or retries (a slow, loaded machine). Held
requests stay held until `release`, which drops them (the client's connection is closed without
an answer: tests kill the client first) and clears the rules. With a rule, a test waits until
the client is blocked at that step (`wait`), kills it there, and knows what the CA saw.

    ca_gate.py serve --upstream DIRECTORY_URL --workdir DIR [--lifetime S]
        writes DIR/env (GATE_URL: the directory URL through the gate, GATE_CONTROL, GATE_CA: the
        CA of the gate's certificate, PEM file), serves until SIGTERM or --lifetime seconds
    ca_gate.py hold|hold-response|hold-after CONTROL REGEX
    ca_gate.py wait CONTROL REGEX SECONDS   exit 0 once a held request matches, 1 after SECONDS
    ca_gate.py count CONTROL REGEX          how many requests matching REGEX were forwarded
    ca_gate.py held|log CONTROL             the held requests / every request seen, one a line
    ca_gate.py release CONTROL              drop the held requests, clear the rules

Standard library and openssl only; listens on 127.0.0.1; stops by itself after --lifetime.
"""

import argparse
import http.client
import http.server
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pebble import make_tls_certificate  # noqa: E402

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade",
              "proxy-connection", "te", "trailer"}
MODES = ("hold", "hold-response", "hold-after")


class Gate:
    """The rules and what they caught; shared by the proxy and control handlers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []          # (mode, compiled regex)
        self.holding_all = False  # a request was held, or a hold-after rule fired
        self.released = threading.Event()
        self.held = {}           # id -> "METHOD /path" of the requests held now
        self.log = []            # "METHOD /path STATUS" of every request, in order ("held" ...)

    def add_rule(self, mode, pattern):
        with self.lock:
            self.rules.append((mode, re.compile(pattern)))

    def decide(self, line):
        """What to do with a request: (mode or None, the release event to wait on)."""
        with self.lock:
            if self.holding_all:
                return "hold", self.released
            for mode, regex in self.rules:
                if regex.search(line):
                    return mode, self.released
            return None, self.released

    def trip_after(self):
        with self.lock:
            self.holding_all = True

    def record(self, line, outcome):
        with self.lock:
            self.log.append(f"{line} {outcome}")

    def hold(self, line, released):
        token = object()
        with self.lock:
            self.held[token] = line
        released.wait()
        with self.lock:
            self.held.pop(token, None)

    def release(self):
        with self.lock:
            released = self.released
            self.released = threading.Event()
            self.rules = []
            self.holding_all = False
            self.held = {}
        released.set()


def proxy_handler(gate, upstream_host, upstream_port):
    context = ssl.create_default_context()
    # Test gear between two loopback processes: the client's check of the gate is what counts.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _forward(self, body):
            conn = http.client.HTTPSConnection(upstream_host, upstream_port, context=context,
                                               timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp, data

        def _answer(self, resp, data):
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _drop(self):
            self.close_connection = True  # no answer: the client sees its connection closed

        def _handle(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            line = f"{self.command} {urllib.parse.urlsplit(self.path).path}"
            mode, released = gate.decide(line)
            if mode == "hold":
                gate.record(line, "held")
                gate.trip_after()  # frozen: what the client sends next is held too
                gate.hold(line, released)
                return self._drop()
            try:
                resp, data = self._forward(body)
            except OSError as e:
                gate.record(line, f"upstream-error {e}")
                self.send_error(502, "upstream: %s" % e)
                return
            if mode == "hold-response":
                gate.record(line, f"{resp.status} held-response")
                gate.trip_after()
                gate.hold(line, released)
                return self._drop()
            gate.record(line, str(resp.status))
            if mode == "hold-after":
                gate.trip_after()  # before answering: the client's next request is held
            self._answer(resp, data)

        do_GET = do_POST = do_HEAD = _handle

    return Handler


def control_handler(gate):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _send(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with gate.lock:
                if self.path == "/held":
                    return self._send(200, list(gate.held.values()))
                if self.path == "/log":
                    return self._send(200, list(gate.log))
            self._send(404, {"error": "unknown path"})

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/rule" and q.get("mode") in MODES and q.get("match"):
                try:
                    gate.add_rule(q["mode"], q["match"])
                except re.error as e:
                    return self._send(400, {"error": str(e)})
                return self._send(200, {"ok": True})
            if url.path == "/release":
                gate.release()
                return self._send(200, {"ok": True})
            self._send(400, {"error": "POST /rule?mode=MODE&match=REGEX or /release"})

    return Handler


def serve(args):
    os.makedirs(args.workdir, exist_ok=True)
    ca, cert, key = make_tls_certificate(args.workdir)
    up = urllib.parse.urlsplit(args.upstream)
    gate = Gate()
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            proxy_handler(gate, up.hostname, up.port or 443))
    proxy.daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    proxy.socket = tls.wrap_socket(proxy.socket, server_side=True)
    control = http.server.ThreadingHTTPServer(("127.0.0.1", 0), control_handler(gate))
    control.daemon_threads = True
    env = {
        "GATE_URL": urllib.parse.urlunsplit(
            ("https", f"127.0.0.1:{proxy.server_address[1]}", up.path, up.query, "")),
        "GATE_CONTROL": f"http://127.0.0.1:{control.server_address[1]}",
        "GATE_CA": ca,
    }
    tmp = os.path.join(args.workdir, "env.tmp")
    with open(tmp, "w") as f:
        for k, v in env.items():
            f.write(f"{k}={v}\n")
    os.rename(tmp, os.path.join(args.workdir, "env"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    threading.Thread(target=control.serve_forever, daemon=True).start()
    proxy.serve_forever()


def call(control, method, path, params=None):
    url = control + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--upstream", required=True, help="the ACME directory URL behind the gate")
    s.add_argument("--workdir", required=True)
    s.add_argument("--lifetime", type=float, default=600)
    for mode in MODES:
        p = sub.add_parser(mode)
        p.add_argument("control")
        p.add_argument("match")
    w = sub.add_parser("wait")
    w.add_argument("control")
    w.add_argument("match")
    w.add_argument("seconds", type=float)
    c = sub.add_parser("count")
    c.add_argument("control")
    c.add_argument("match")
    for name in ("held", "log", "release"):
        sub.add_parser(name).add_argument("control")
    a = ap.parse_args()

    if a.cmd == "serve":
        return serve(a)
    if a.cmd in MODES:
        call(a.control, "POST", "/rule", {"mode": a.cmd, "match": a.match})
    elif a.cmd == "release":
        call(a.control, "POST", "/release")
    elif a.cmd in ("held", "log"):
        for line in call(a.control, "GET", "/" + a.cmd):
            print(line)
    elif a.cmd == "count":
        regex = re.compile(a.match)
        print(sum(1 for entry in call(a.control, "GET", "/log")
                  if regex.search(entry) and not entry.endswith(" held")))
    elif a.cmd == "wait":
        regex = re.compile(a.match)
        deadline = time.monotonic() + a.seconds
        while not any(regex.search(line) for line in call(a.control, "GET", "/held")):
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
