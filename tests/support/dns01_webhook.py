#!/usr/bin/python3
"""An example DNS webhook provider, for certsmith's dns-01 tests (Python standard library).

It speaks cert-manager's ChallengePayload (webhook.acme.cert-manager.io/v1alpha1) over HTTPS and
applies each request to BIND with nsupdate, signed with TSIG: Present adds the value to the TXT
RRset of resolvedFQDN in resolvedZone, CleanUp deletes that one value (RFC 2136 §2.5.4), so two
values on one name leave each other alone. It serves both ways certsmith calls a provider:

- straight to a URL (webhook.url + caBundle): a POST to any path;
- as an APIService backend behind the API server's aggregation layer
  (POST /apis/<group>/v1alpha1/<solver>): it answers the discovery document the API server's
  availability check reads, and with --client-ca it only takes /apis/ requests that present a
  client certificate signed by that CA (the API server's front-proxy certificate).

A request's config may say {"fail": "message"}: the provider then answers success: false with
that message (tests of error reporting).

usage: dns01_webhook.py --listen HOST:PORT --cert PEM --key PEM [--client-ca PEM]
           --group G --solver S --nameserver HOST:PORT [--max-lifetime S] [--log FILE]
The TSIG key comes from $DNS01_WEBHOOK_TSIG ("algorithm:name:secret", as nsupdate -y takes it),
never from the command line. Exits after --max-lifetime seconds (default 900) or on SIGTERM.
"""
import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "webhook.acme.cert-manager.io/v1alpha1"


def nsupdate(nameserver, zone, command):
    host, _, port = nameserver.rpartition(":")
    script = f"server {host.strip('[]')} {port}\nzone {zone}\n{command}\nsend\n"
    key = os.environ.get("DNS01_WEBHOOK_TSIG", "")
    argv = ["nsupdate"] + (["-y", key] if key else [])
    r = subprocess.run(argv, input=script, capture_output=True, text=True, timeout=30)
    # nsupdate prints the rcode ("update failed: REFUSED"); never the key.
    return r.returncode == 0, (r.stderr.strip() or r.stdout.strip())


def answer(uid, success, message=None):
    response = {"uid": uid, "success": success}
    if message:
        response["status"] = {"message": message, "reason": "ProviderError", "code": 500}
    return {"apiVersion": API_VERSION, "kind": "ChallengePayload", "response": response}


class Handler(BaseHTTPRequestHandler):
    server_version = "dns01-webhook"

    def log_message(self, fmt, *args):
        self.server.log(fmt % args)

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _client_ok(self):
        """Aggregated requests come from the API server's front proxy, with its certificate."""
        if not self.server.client_ca or not self.path.startswith("/apis"):
            return True
        return bool(self.connection.getpeercert())

    def do_GET(self):
        if not self._client_ok():
            return self._send(401, {"kind": "Status", "message": "no front-proxy certificate"})
        group, solver = self.server.group, self.server.solver
        if self.path.rstrip("/") == f"/apis/{group}/v1alpha1":
            return self._send(200, {
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/v1alpha1",
                "resources": [{"name": solver, "singularName": solver, "namespaced": False,
                               "kind": "ChallengePayload", "verbs": ["create"]}]})
        if self.path.rstrip("/") in ("/apis", f"/apis/{group}"):
            version = {"groupVersion": f"{group}/v1alpha1", "version": "v1alpha1"}
            g = {"name": group, "versions": [version], "preferredVersion": version}
            if self.path.rstrip("/") == "/apis":
                return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [g]})
            return self._send(200, dict(g, kind="APIGroup", apiVersion="v1"))
        if self.path in ("/healthz", "/readyz", "/livez"):
            return self._send(200, {"status": "ok"})
        return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "message": f"{self.path} not found", "code": 404})

    def do_POST(self):
        if not self._client_ok():
            return self._send(401, {"kind": "Status", "message": "no front-proxy certificate"})
        if self.path.startswith("/apis/") and \
                self.path.rstrip("/") != f"/apis/{self.server.group}/v1alpha1/{self.server.solver}":
            return self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": f"no solver at {self.path}", "code": 404})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            payload = json.loads(self.rfile.read(length))
            req = payload["request"]
            uid, action = req["uid"], req["action"]
            fqdn, zone, key = req["resolvedFQDN"], req["resolvedZone"], req["key"]
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": f"not a ChallengePayload: {e}", "code": 400})
        config = req.get("config") or {}
        self.server.log(f"{action} {fqdn} in {zone} (uid {uid}, via {self.path}, "
                        f"user {self.headers.get('X-Remote-User', '-')})")
        if config.get("fail"):
            return self._send(200, answer(uid, False, config["fail"]))
        if action == "Present":
            ok, out = nsupdate(self.server.nameserver, zone, f'update add {fqdn} 60 TXT "{key}"')
        elif action == "CleanUp":
            ok, out = nsupdate(self.server.nameserver, zone, f'update delete {fqdn} TXT "{key}"')
        else:
            ok, out = False, f"unknown action {action}"
        with self.server.lock:
            self.server.calls.append(action)
        return self._send(200, answer(uid, ok, None if ok else f"nsupdate: {out}"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca")
    p.add_argument("--group", default="acme.certsmith.test")
    p.add_argument("--solver", default="bind")
    p.add_argument("--nameserver", required=True)
    p.add_argument("--max-lifetime", type=int, default=900)
    p.add_argument("--log")
    a = p.parse_args()
    host, _, port = a.listen.rpartition(":")
    server = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.load_verify_locations(a.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.group, server.solver, server.nameserver = a.group, a.solver, a.nameserver
    server.client_ca = a.client_ca
    server.calls, server.lock = [], threading.Lock()
    log_file = open(a.log, "a", buffering=1) if a.log else sys.stderr
    server.log = lambda m: print(time.strftime("%H:%M:%S ") + m, file=log_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    threading.Timer(a.max_lifetime, server.shutdown).start()
    server.log(f"listening on {a.listen} for {a.group}/{a.solver}, BIND at {a.nameserver}")
    server.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
