#!/usr/bin/python3
"""An HTTPS proxy in front of Pebble that adds what Pebble 2.4 lacks, for tests:

- ACME Renewal Information (RFC 9773): a `renewalInfo` entry in the directory and
  `GET renewal-info/<certID>` answering the window the test writes to STATE/window.json
  ({"start": RFC 3339, "end": RFC 3339, "retryAfter": seconds, "explanationURL": "..."}, or
  {"default": WINDOW, "byCert": {"<certID>": WINDOW}} for one certificate's own window), read at
  each request, so the test moves the window by rewriting the file;
- ACME profiles (draft-aaron-acme-profiles): `meta.profiles` in the directory from
  STATE/profiles.json ({"name": "description"}), when that file exists;
- a record of every newOrder payload (JWS payload decoded) in STATE/neworders.jsonl, one JSON
  object per line, so a test sees `replaces`, `profile`, `notBefore`/`notAfter`;
- every renewalInfo request in STATE/renewal-info.log (one certID per line).

Everything else goes to Pebble unchanged, with the proxy's own Host header: Pebble builds every
URL it returns (and checks each JWS "url") from the Host it is asked under, so the client only
ever talks to the proxy. Standard library only; listens on 127.0.0.1 on a free port with a
self-signed certificate made with openssl; stops by itself after --lifetime seconds.

    ari_proxy.py --upstream https://127.0.0.1:14000/dir --state DIR [--lifetime 600]

writes DIR/env: ARI_PROXY_DIRECTORY (the directory URL to give the client) and ARI_PROXY_CA
(the proxy's certificate, PEM), then serves until killed or the lifetime ends.
"""

import argparse
import base64
import http.client
import http.server
import json
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

SKIP = 77


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_certificate(state):
    key, cert = os.path.join(state, "proxy.key"), os.path.join(state, "proxy.crt")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=ari-proxy",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True)
    return key, cert


class Proxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def handler_for(upstream, state, lock):
    up = urllib.parse.urlsplit(upstream)
    up_ctx = ssl.create_default_context()
    up_ctx.check_hostname = False
    up_ctx.verify_mode = ssl.CERT_NONE
    new_order_path = {"path": None}

    def read_json(name, default):
        try:
            with open(os.path.join(state, name), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return default

    def append(name, line):
        with lock, open(os.path.join(state, name), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def _send(self, status, headers, body):
            self.send_response(status)
            for k, v in headers:
                if k.lower() in ("content-length", "transfer-encoding", "connection"):
                    continue
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self, body):
            conn = http.client.HTTPSConnection(up.hostname, up.port, context=up_ctx, timeout=30)
            try:
                conn.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
                conn.putheader("Host", self.headers.get("Host", ""))
                for k, v in self.headers.items():
                    if k.lower() in ("host", "content-length", "connection"):
                        continue
                    conn.putheader(k, v)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.getheaders(), data
            finally:
                conn.close()

        def _renewal_info(self):
            cert_id = self.path.rsplit("/", 1)[-1]
            append("renewal-info.log", cert_id)
            window = read_json("window.json", None)
            if window is not None and ("byCert" in window or "default" in window):
                window = window.get("byCert", {}).get(cert_id, window.get("default"))
            if window is None:
                self._send(404, [("Content-Type", "application/problem+json")],
                           b'{"type":"urn:ietf:params:acme:error:malformed",'
                           b'"detail":"no window set by the test"}')
                return
            doc = {"suggestedWindow": {"start": window["start"], "end": window["end"]}}
            if window.get("explanationURL"):
                doc["explanationURL"] = window["explanationURL"]
            headers = [("Content-Type", "application/json"),
                       ("Retry-After", str(int(window.get("retryAfter", 21600))))]
            self._send(200, headers, json.dumps(doc).encode())

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            if "/renewal-info/" in self.path:
                self._renewal_info()
                return
            status, headers, data = self._forward(None)
            if self.path == up.path and status == 200:
                data = self._directory(data)
            self._send(status, headers, data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if new_order_path["path"] is None:
                # The directory tells where newOrder is; fetch it once if the client has not.
                _, _, d = self._get_directory()
                new_order_path["path"] = urllib.parse.urlsplit(d.get("newOrder", "")).path
            if self.path == new_order_path["path"]:
                try:
                    payload = json.loads(b64url_decode(json.loads(body)["payload"]))
                except (ValueError, KeyError):
                    payload = {"undecodable": True}
                payload["_time"] = time.time()
                append("neworders.jsonl", json.dumps(payload, sort_keys=True))
            status, headers, data = self._forward(body)
            self._send(status, headers, data)

        def _get_directory(self):
            conn = http.client.HTTPSConnection(up.hostname, up.port, context=up_ctx, timeout=30)
            try:
                conn.putrequest("GET", up.path, skip_host=True)
                conn.putheader("Host", self.headers.get("Host", ""))
                conn.endheaders()
                resp = conn.getresponse()
                return resp.status, resp.getheaders(), json.loads(resp.read())
            finally:
                conn.close()

        def _directory(self, data):
            d = json.loads(data)
            new_order_path["path"] = urllib.parse.urlsplit(d.get("newOrder", "")).path
            d["renewalInfo"] = "https://%s/renewal-info/" % self.headers.get("Host", "")
            profiles = read_json("profiles.json", None)
            if profiles:
                d.setdefault("meta", {})["profiles"] = profiles
            return json.dumps(d).encode()

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="Pebble's directory URL")
    ap.add_argument("--state", required=True, help="directory for env, window.json, logs")
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()
    for tool in ("openssl",):
        if not any(os.access(os.path.join(p, tool), os.X_OK)
                   for p in os.environ.get("PATH", "").split(os.pathsep)):
            print(f"SKIP: {tool} not installed")
            return SKIP
    os.makedirs(args.state, exist_ok=True)
    key, cert = make_certificate(args.state)
    server = Proxy(("127.0.0.1", 0), handler_for(args.upstream, args.state, threading.Lock()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    path = urllib.parse.urlsplit(args.upstream).path
    tmp = os.path.join(args.state, "env.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"export ARI_PROXY_DIRECTORY=https://127.0.0.1:{port}{path}\n")
        f.write(f"export ARI_PROXY_CA={cert}\n")
    os.replace(tmp, os.path.join(args.state, "env"))
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
