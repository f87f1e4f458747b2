#!/usr/bin/python3
"""Integration tests of `certsmith acme` against a real Pebble (EAB required) and
pebble-challtestsrv, each case with its own instance on free loopback ports.

    acme_cli_test.py CASE        (CASES below; ctest runs each as acme_cli_<case>)

Needs $CERTSMITH_BIN (set by ctest). Exits 77 (skipped) when pebble or openssl is missing."""

import http.client
import http.server
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "support"))
import pebble as pebble_support  # noqa: E402

HOOK = os.path.join(HERE, "challtestsrv_dns01_hook.py")
SKIP = 77


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Case:
    """One test case: a Pebble, a temp dir, and helpers to run the CLI and check results."""

    def __init__(self, pebble, tmp):
        self.p = pebble
        self.tmp = tmp
        self.bin = os.environ["CERTSMITH_BIN"]

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, args, env=None, expect=0, server=True, ca=True):
        argv = [self.bin, "acme"] + args[:1]
        if server:
            argv += ["--server", self.p.directory_url]
        if ca:
            argv += ["--ca-bundle", self.p.ca_bundle]
        argv += args[1:]
        full_env = os.environ.copy()
        full_env.pop("CERTSMITH_EAB_HMAC_KEY", None)
        full_env.update(self.p.env())
        full_env.update(env or {})
        r = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=120)
        shown = " ".join(a if a != self.p.eab_hmac_key else "<hmac>" for a in argv)
        if expect is not None and r.returncode != expect:
            raise Failure(f"`{shown}` exited {r.returncode}, want {expect}\n"
                          f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n{self.p.logs()[-3000:]}")
        check(self.p.eab_hmac_key not in r.stdout + r.stderr, "the HMAC key was printed")
        return r

    def eab(self):
        return ["--eab-kid", self.p.eab_kid, "--eab-hmac-key", self.p.eab_hmac_key]

    def issue(self, names, out, extra=(), account="account.pem", expect=0, env=None):
        args = ["issue", "--account-key", self.path(account)] + self.eab()
        for n in names:
            args += ["-d", n]
        args += ["--out", self.path(out)] + list(extra)
        if not any(a.startswith("--http01") or a == "--dns01-hook" for a in extra):
            args += ["--http01-listen", f"127.0.0.1:{self.p.http_port}"]
        return self.run(args, expect=expect, env=env)

    def root(self, index=0):
        path = self.path(f"root{index}.pem")
        with open(path, "w") as f:
            f.write(self.p.root_pem(index))
        return path

    def verify_chain(self, out, root_index=0):
        d = self.path(out)
        r = subprocess.run(["openssl", "verify", "-CAfile", self.root(root_index), "-untrusted",
                            os.path.join(d, "chain.pem"), os.path.join(d, "cert.pem")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"openssl verify failed: {r.stdout}{r.stderr}")
        mode = stat.S_IMODE(os.stat(os.path.join(d, "privkey.pem")).st_mode)
        check(mode == 0o600, f"privkey.pem mode is {oct(mode)}, want 0600")
        check(not os.path.exists(os.path.join(d, "privkey.pem.pending")), "pending key left over")
        with open(os.path.join(d, "fullchain.pem")) as f, open(os.path.join(d, "cert.pem")) as c:
            check(f.read().startswith(c.read()), "fullchain.pem does not start with cert.pem")
        self.check_key_matches(d)

    def check_key_matches(self, d):
        def pub(args):
            return subprocess.run(["openssl"] + args, capture_output=True, text=True).stdout
        cert_pub = pub(["x509", "-in", os.path.join(d, "cert.pem"), "-noout", "-pubkey"])
        key_pub = pub(["pkey", "-in", os.path.join(d, "privkey.pem"), "-pubout"])
        check(cert_pub and cert_pub == key_pub, "privkey.pem does not match cert.pem")

    def openssl_x509(self, out, *args):
        return subprocess.run(["openssl", "x509", "-in", os.path.join(self.path(out), "cert.pem"),
                               "-noout"] + list(args), capture_output=True, text=True).stdout

    def serial(self, out):
        return self.openssl_x509(out, "-serial").strip().split("=", 1)[1]


class RateLimitingProxy:
    """A TLS proxy in front of Pebble that answers the first `times` POSTs to newOrder with 429,
    a rateLimited problem and `Retry-After: retry_after`, as Sectigo and Google Trust Services
    throttle bursts, and passes everything else on. The Host header is kept, so Pebble builds
    its URLs (and checks each JWS url) against the proxy's address."""

    def __init__(self, pebble, times=1, retry_after="1"):
        self.p = pebble
        self.times = times
        self.retry_after = retry_after
        self.refused = []  # monotonic times of the 429s
        self.passed = []   # monotonic times of newOrder requests passed on
        upstream = urllib.parse.urlsplit(pebble.directory_url)
        context = ssl.create_default_context(cafile=pebble.ca_bundle)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "POST" and self.path.endswith("order-plz"):
                    if len(proxy.refused) < proxy.times:
                        proxy.refused.append(time.monotonic())
                        return self._rate_limited()
                    proxy.passed.append(time.monotonic())
                conn = http.client.HTTPSConnection(upstream.hostname, upstream.port,
                                                   context=context, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "content-length")}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            def _rate_limited(self):
                # A fresh nonce from Pebble, as a real CA sends with every error (RFC 8555 §6.5).
                conn = http.client.HTTPSConnection(upstream.hostname, upstream.port,
                                                   context=context, timeout=30)
                conn.request("HEAD", "/nonce-plz", headers={"Host": self.headers["Host"]})
                nonce = conn.getresponse().getheader("Replay-Nonce")
                conn.close()
                body = json.dumps({"type": "urn:ietf:params:acme:error:rateLimited",
                                   "detail": "too many new orders, retry in a moment",
                                   "status": 429}).encode()
                self.send_response(429)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Retry-After", proxy.retry_after)
                self.send_header("Replay-Nonce", nonce)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(pebble._tls_cert, pebble._tls_key)
        self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.directory_url = f"https://127.0.0.1:{self.server.server_address[1]}{upstream.path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# -- the cases ------------------------------------------------------------------------------------

def case_http01(c):
    r = c.issue(["a.example", "b.example"], "out", extra=["--verbose"])
    check("registered account" in r.stderr, "the first issue should register the account")
    c.verify_chain("out")
    sans = c.openssl_x509("out", "-ext", "subjectAltName")
    check("DNS:a.example" in sans and "DNS:b.example" in sans, f"SANs: {sans}")
    # A second run finds the account (no EAB needed) and replaces the files.
    old_serial = c.serial("out")
    r = c.run(["issue", "--account-key", c.path("account.pem"), "-d", "a.example",
               "--http01-listen", f"127.0.0.1:{c.p.http_port}", "--out", c.path("out"), "-v"])
    check("found existing account" in r.stderr, r.stderr)
    check(c.serial("out") != old_serial, "cert.pem was not replaced")
    c.verify_chain("out")


def case_ip_identifier(c):
    c.issue(["127.0.0.1"], "out", extra=["--key-type", "rsa2048"])
    c.verify_chain("out")
    sans = c.openssl_x509("out", "-ext", "subjectAltName")
    check("IP Address:127.0.0.1" in sans, f"SANs: {sans}")


def case_dns01(c):
    log = c.path("hook.log")
    env = {"HOOK_LOG": log, "CERTSMITH_EAB_HMAC_KEY": c.p.eab_hmac_key}
    args = ["issue", "--account-key", c.path("account.pem"), "--eab-kid", c.p.eab_kid,
            "-d", "dns.example", "-d", "*.dns.example", "--dns01-hook", f"/usr/bin/python3 {HOOK}",
            "--out", c.path("out")]
    c.run(args, env=env)
    c.verify_chain("out")
    with open(log) as f:
        calls = [json.loads(line) for line in f]
    actions = [x["action"] for x in calls]
    check(actions.count("present") == 2 and actions.count("cleanup") == 2, f"calls: {actions}")
    check(all(x["name"] == "_acme-challenge.dns.example" for x in calls), f"names: {calls}")
    check(all(x["env_domain"] in ("dns.example", "*.dns.example") for x in calls), str(calls))
    check(all(x["env_value"] == x["value"] for x in calls), "CERTSMITH_TXT_VALUE != argument")
    check(not any(x["env_has_hmac"] for x in calls), "the hook saw CERTSMITH_EAB_HMAC_KEY")
    # A failed validation: the hook publishes a wrong value; cleanup must still run.
    os.remove(log)
    env["HOOK_MANGLE"] = "1"
    args[args.index("--out") + 1] = c.path("bad")
    r = c.run(args[:5] + ["-d", "bad.example"] + args[9:], env=env, expect=1)
    check("validation of dns bad.example failed" in r.stderr, r.stderr)
    check("CA problem: urn:ietf:params:acme:error:" in r.stderr, r.stderr)
    with open(log) as f:
        actions = [json.loads(line)["action"] for line in f]
    check(actions == ["present", "cleanup"], f"cleanup did not run after failure: {actions}")
    check(not os.path.exists(os.path.join(c.path("bad"), "privkey.pem")), "key for failed order")


def case_nonce_reject(c):
    for i in range(3):
        c.issue([f"n{i}.example"], f"out{i}")
        c.verify_chain(f"out{i}")


def case_alternate_chain(c):
    root1 = c.root(1)
    cn = subprocess.run(["openssl", "x509", "-in", root1, "-noout", "-subject", "-nameopt",
                         "multiline"], capture_output=True, text=True).stdout
    cn = re.search(r"commonName\s*=\s*(.+)", cn).group(1).strip()
    r = c.issue(["alt.example"], "alt", extra=["--preferred-chain", cn])
    check(f"chain top issued by: CN={cn}" in r.stdout, r.stdout)
    c.verify_chain("alt", root_index=1)
    # The default chain verifies against root 0, not root 1.
    c.issue(["default.example"], "default")
    c.verify_chain("default", root_index=0)
    r = subprocess.run(["openssl", "verify", "-CAfile", root1, "-untrusted",
                        c.path("default/chain.pem"), c.path("default/cert.pem")],
                       capture_output=True, text=True)
    check(r.returncode != 0, "the default chain should not lead to the alternate root")


def case_revoke(c):
    c.issue(["rev.example"], "out")
    serial = c.serial("out")
    check(c.p.cert_status(serial)["Status"] == "Valid", "fresh certificate not valid")
    c.run(["revoke", "--account-key", c.path("account.pem"), "--cert", c.path("out/cert.pem"),
           "--reason", "4"])
    status = c.p.cert_status(serial)
    check(status["Status"] == "Revoked" and status["Reason"] == 4, f"status: {status}")
    # Signed by the certificate's own key, without any account key.
    c.issue(["rev2.example"], "out2")
    serial2 = c.serial("out2")
    c.run(["revoke", "--cert", c.path("out2/cert.pem"), "--key", c.path("out2/privkey.pem"),
           "--reason", "1"])
    status = c.p.cert_status(serial2)
    check(status["Status"] == "Revoked" and status["Reason"] == 1, f"status: {status}")


def case_rollover(c):
    key = c.path("account.pem")
    c.run(["register", "--account-key", key] + c.eab())
    url = c.run(["account", "show", "--account-key", key]).stdout.split()[1]
    with open(key) as f:
        old_pem = f.read()
    c.run(["account", "rollover", "--account-key", key, "--new-key", c.path("new.pem")])
    with open(key + ".old") as f:
        check(f.read() == old_pem, "FILE.old is not the old key")
    with open(key) as f, open(c.path("new.pem")) as n:
        check(f.read() == n.read(), "FILE does not hold the new key")
    for path in (key, key + ".old"):
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o600, f"{path} mode {oct(mode)}")
    r = c.run(["account", "show", "--account-key", key])
    check(url in r.stdout, f"new key shows another account: {r.stdout}")
    r = c.run(["account", "show", "--account-key", key + ".old"], expect=None)
    check(r.returncode != 0 and "accountDoesNotExist" in r.stderr,
          f"old key still finds the account: {r.returncode} {r.stderr}")
    # Issue with the rolled-over key.
    c.run(["issue", "--account-key", key, "-d", "roll.example", "--http01-listen",
           f"127.0.0.1:{c.p.http_port}", "--out", c.path("out")])
    c.verify_chain("out")


def case_account_reuse(c):
    key = c.path("account.pem")
    r = c.run(["register", "--account-key", key, "--email", "ops@example.org"] + c.eab())
    check("registered: new account" in r.stdout, r.stdout)
    mode = stat.S_IMODE(os.stat(key).st_mode)
    check(mode == 0o600, f"account key mode {oct(mode)}")
    url = r.stdout.split()[1]
    # Again with a wrong HMAC key: the account is found first, EAB is never sent.
    wrong = "c29tZXRoaW5nLWVsc2UtZW50aXJlbHktZGlmZmVyZW50"
    r = c.run(["register", "--account-key", key, "--eab-kid", c.p.eab_kid, "--eab-hmac-key",
               wrong, "-v"])
    check(url in r.stdout and "existing account" in r.stdout, r.stdout)
    check("EAB not sent" in r.stderr, r.stderr)
    r = c.run(["account", "show", "--account-key", key])
    check("contact: mailto:ops@example.org" in r.stdout, r.stdout)
    # HMAC key from a file and from the environment.
    hmac_file = c.path("hmac")
    with open(hmac_file, "w") as f:
        f.write(c.p.eab_hmac_key + "\n")
    c.run(["register", "--account-key", c.path("k2.pem"), "--eab-kid", c.p.eab_kid,
           "--eab-hmac-key-file", hmac_file])
    c.run(["register", "--account-key", c.path("k3.pem"), "--eab-kid", c.p.eab_kid],
          env={"CERTSMITH_EAB_HMAC_KEY": c.p.eab_hmac_key})
    r = c.run(["account", "deactivate", "--account-key", c.path("k3.pem")])
    check("status: deactivated" in r.stdout, r.stdout)


def case_prevalidated(c):
    c.issue(["pre.example"], "first")
    # Pebble (PEBBLE_AUTHZREUSE=100) now holds a valid authorization: no challenge, so a
    # listener on a port Pebble never calls is enough.
    r = c.run(["issue", "--account-key", c.path("account.pem"), "-d", "pre.example",
               "--http01-listen", "127.0.0.1:0", "--out", c.path("second"), "-v"])
    check("already valid, no challenge needed" in r.stderr, r.stderr)
    c.verify_chain("second")


def case_eab_errors(c):
    wrong = "c29tZXRoaW5nLWVsc2UtZW50aXJlbHktZGlmZmVyZW50"
    r = c.run(["register", "--account-key", c.path("k1.pem"), "--eab-kid", c.p.eab_kid,
               "--eab-hmac-key", wrong], expect=4)
    check("rejected the External Account Binding" in r.stderr, r.stderr)
    check("urn:ietf:params:acme:error:unauthorized" in r.stderr, r.stderr)
    check("hint: check --eab-kid and the HMAC key" in r.stderr, r.stderr)
    check(wrong not in r.stderr, "the wrong HMAC key was printed")
    r = c.run(["register", "--account-key", c.path("k2.pem"), "--eab-kid", c.p.eab_kid,
               "--eab-hmac-key", "abc*def"], expect=2)
    check("malformed" in r.stderr and "position 4" in r.stderr, r.stderr)
    r = c.run(["register", "--account-key", c.path("k3.pem")], expect=2)
    check("requires External Account Binding" in r.stderr, r.stderr)
    r = c.run(["register", "--account-key", c.path("k4.pem"), "--eab-kid", "no-such-kid",
               "--eab-hmac-key", c.p.eab_hmac_key], expect=4)
    check("External Account Binding" in r.stderr, r.stderr)


def case_connection_errors(c):
    r = c.run(["register", "--account-key", c.path("k.pem")] + c.eab(), ca=False, expect=3)
    check("--ca-bundle" in r.stderr and "TLS" in r.stderr, r.stderr)
    r = c.run(["register", "--server", "https://127.0.0.1:1/dir", "--account-key",
               c.path("k.pem")] + c.eab(), server=False, expect=3)
    check("cannot reach" in r.stderr and "hint: check the --server URL" in r.stderr, r.stderr)


def case_ov_subject(c):
    subject = "O=Example Org,OU=IT,C=FR,ST=Ile-de-France,L=Paris"
    r = c.issue(["ov.example"], "out", extra=["--subject", subject, "--key-type", "rsa2048",
                                               "--save-csr", c.path("csr.pem"), "-v"])
    check("O=Example Org" in r.stderr, "verbose output does not show the CSR subject")
    text = subprocess.run(["openssl", "req", "-in", c.path("csr.pem"), "-noout", "-subject",
                           "-nameopt", "RFC2253"], capture_output=True, text=True).stdout
    for part in ("O=Example Org", "OU=IT", "C=FR", "ST=Ile-de-France", "L=Paris",
                 "CN=ov.example"):
        check(part in text, f"CSR subject {text!r} lacks {part}")
    c.verify_chain("out")
    # Pebble keeps only the CN of a CSR's subject (a real OV CA keeps the rest).
    check("CN = ov.example" in c.openssl_x509("out", "-subject"), "issued subject")


def case_rate_limited(c):
    """A 429 with Retry-After: 1 on newOrder is waited out (said on stderr), then issued; a
    Retry-After longer than --max-wait ends with the CA's error and exit code 5."""
    with RateLimitingProxy(c.p, times=1, retry_after="1") as proxy:
        r = c.run(["issue", "--server", proxy.directory_url, "--account-key",
                   c.path("account.pem")] + c.eab() +
                  ["-d", "slow.example", "--http01-listen", f"127.0.0.1:{c.p.http_port}",
                   "--out", c.path("out")], server=False)
        check(len(proxy.refused) == 1 and len(proxy.passed) == 1,
              f"newOrder refused {len(proxy.refused)}x, passed {len(proxy.passed)}x")
        check("the CA is rate limiting the new order (HTTP 429); waiting 1s" in r.stderr, r.stderr)
        check("--max-wait 60s" in r.stderr, r.stderr)
        waited = proxy.passed[0] - proxy.refused[0]
        check(waited >= 0.95, f"the retry came {waited:.2f}s after the 429, before Retry-After")
        c.verify_chain("out")
    with RateLimitingProxy(c.p, times=1, retry_after="30") as proxy:
        r = c.run(["issue", "--server", proxy.directory_url, "--account-key",
                   c.path("account.pem"), "-d", "slow.example", "--http01-listen",
                   f"127.0.0.1:{c.p.http_port}", "--out", c.path("out2"), "--max-wait", "5s"],
                  server=False, expect=5)
        check(len(proxy.refused) == 1 and not proxy.passed, "a second newOrder was sent")
        check("waiting" not in r.stderr, r.stderr)
        check("urn:ietf:params:acme:error:rateLimited" in r.stderr, r.stderr)
        check("retry after: 30 s" in r.stderr, r.stderr)


def case_usage(c):
    r = c.run(["issue", "--account-key", c.path("k.pem"), "-d", "a.example", "--out",
               c.path("o")], expect=2)
    check("exactly one of --http01-listen" in r.stderr, r.stderr)
    r = c.run(["issue", "--help"], server=False, ca=False)
    check("--dns01-hook" in r.stdout and "CERTSMITH_EAB_HMAC_KEY" in r.stdout, r.stdout)
    for sub in ("register", "revoke", "account"):
        r = c.run([sub, "--help"], server=False, ca=False)
        check("usage: certsmith acme" in r.stdout, r.stdout)


CASES = {
    "http01": ({}, case_http01),
    "ip_identifier": ({}, case_ip_identifier),
    "dns01": ({}, case_dns01),
    "nonce_reject": ({"nonce_reject": 50}, case_nonce_reject),
    "alternate_chain": ({"alternate_roots": 1}, case_alternate_chain),
    "revoke": ({}, case_revoke),
    "rollover": ({}, case_rollover),
    "account_reuse": ({}, case_account_reuse),
    "prevalidated": ({"authz_reuse": 100}, case_prevalidated),
    "eab_errors": ({}, case_eab_errors),
    "connection_errors": ({}, case_connection_errors),
    "ov_subject": ({}, case_ov_subject),
    "rate_limited": ({}, case_rate_limited),
    "usage": ({}, case_usage),
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: {sys.argv[0]} {'|'.join(CASES)}", file=sys.stderr)
        return 2
    if not os.environ.get("CERTSMITH_BIN") or not os.path.exists(os.environ["CERTSMITH_BIN"]):
        print("skipped: CERTSMITH_BIN is not set to the certsmith binary", file=sys.stderr)
        return SKIP
    settings, run = CASES[sys.argv[1]]
    try:
        with tempfile.TemporaryDirectory(prefix="certsmith-acme-cli-") as tmp:
            with pebble_support.Pebble(**settings) as p:
                run(Case(p, tmp))
    except pebble_support.PebbleUnavailable as e:
        print(f"skipped: {e}", file=sys.stderr)
        return SKIP
    except Failure as e:
        print(f"FAIL {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
