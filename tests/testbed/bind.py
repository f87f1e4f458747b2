"""BIND 9 as the testbed's DNS server (`run up --dns bind`), for RFC 2136 dns-01 end to end.

named runs authoritative-only on a free loopback port (or the port given: the dns-01
conformance suite runs it on port 53 inside a network namespace of its own, so the zone's NS
records lead to it as they would on the Internet). It serves the root zone with a wildcard,
so every name answers A 127.0.0.1 (http-01 through the ingress stand-in still works), and one
dynamic zone per --bind-zone that accepts RFC 2136 updates signed with a TSIG key (RFC 8945)
generated for this run. Its zones also carry the wildcard; note that a name that exists in a zone
(e.g. after a TXT record is added at _acme-challenge.a.example) turns its parent a.example into an
empty non-terminal that the wildcard no longer covers for A queries (RFC 4592 §2.2.2), so add an
A record for such names with nsupdate when a test needs both.
"""

import base64
import os
import secrets
import shutil
import time

import processes
# tests/support/pebble.py already finds a port free for both TCP and UDP (DNS needs both).
from pebble import _free_tcp_udp_port as free_tcp_udp_port

TSIG_KEY_NAME = "testbed-key."
TSIG_ALGORITHM = "hmac-sha256"
# One more key per RFC 8945 algorithm, each allowed to update every zone, for the TSIG tests:
# testbed-key-hmac-md5., testbed-key-hmac-sha1., ...
ALGORITHMS = ["hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
              "hmac-sha512"]


class BindUnavailable(Exception):
    pass


def _zone_text(origin):
    return (f"$ORIGIN {origin}\n$TTL 5\n"
            f"@ IN SOA ns.testbed. hostmaster.testbed. 1 60 30 600 5\n"
            f"@ IN NS ns.testbed.\n"
            f"* IN A 127.0.0.1\n")


class Bind:
    def __init__(self, workdir, zones, port=None):
        self.dir = os.path.join(workdir, "bind")
        self.zones = [z.rstrip(".").lower() + "." for z in zones]
        self.tsig_secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self.algorithm_keys = {alg: base64.b64encode(secrets.token_bytes(32)).decode()
                               for alg in ALGORITHMS}
        self.port = port
        self.proc = None
        self.address = None

    def start(self, spawn_record):
        named = shutil.which("named") or "/usr/sbin/named"
        if not os.access(named, os.X_OK):
            raise BindUnavailable("named is not installed (Debian package bind9)")
        os.makedirs(self.dir, exist_ok=True)
        port = self.port or free_tcp_udp_port()
        self.address = f"127.0.0.1:{port}"
        conf = os.path.join(self.dir, "named.conf")
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(self._config(port))
        for origin in ["."] + self.zones:
            name = "root" if origin == "." else origin.rstrip(".")
            with open(os.path.join(self.dir, f"{name}.zone"), "w") as f:
                f.write(_zone_text(origin))
        argv = [named, "-g", "-c", conf, "-n", "1"]
        self.proc = processes.spawn(argv, os.path.join(self.dir, "named.log"), cwd=self.dir)
        spawn_record(self.proc, argv)
        self._wait_ready(port)

    def _config(self, port):
        lines = [
            "options {",
            f'  directory "{self.dir}";',
            f'  pid-file "{self.dir}/named.pid";',
            f'  session-keyfile "{self.dir}/session.key";',
            f"  listen-on port {port} {{ 127.0.0.1; }};",
            "  listen-on-v6 { none; };",
            "  recursion no;",
            "  dnssec-validation no;",
            "  allow-query { any; };",
            "  notify no;",
            "};",
            "controls { };",
            f'key "{TSIG_KEY_NAME}" {{ algorithm {TSIG_ALGORITHM}; secret "{self.tsig_secret}"; }};',
            'zone "." { type primary; file "root.zone"; };',
        ]
        for alg, secret in self.algorithm_keys.items():
            lines.append(f'key "testbed-key-{alg}." {{ algorithm {alg}; secret "{secret}"; }};')
        keys = " ".join(f'key "{k}";' for k in
                        [TSIG_KEY_NAME] + [f"testbed-key-{a}." for a in ALGORITHMS])
        for z in self.zones:
            lines.append(f'zone "{z}" {{ type primary; file "{z.rstrip(".")}.zone"; '
                         f'allow-update {{ {keys} }}; }};')
        return "\n".join(lines) + "\n"

    def _wait_ready(self, port):
        deadline = time.monotonic() + 30
        log = os.path.join(self.dir, "named.log")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"named exited with {self.proc.returncode}: "
                                   + processes.tail(log, 1500))
            if "running" in processes.tail(log, 4000) and processes.port_open(port):
                return
            time.sleep(0.05)
        raise RuntimeError("named not ready after 30s: " + processes.tail(log, 1500))

    def env(self):
        return {"TESTBED_DNS": self.address, "TESTBED_DNS_KIND": "bind",
                "TESTBED_DNS_ZONES": " ".join(self.zones),
                "TESTBED_TSIG_KEY_NAME": TSIG_KEY_NAME,
                "TESTBED_TSIG_ALGORITHM": TSIG_ALGORITHM,
                "TESTBED_TSIG_SECRET": self.tsig_secret,
                # "algorithm:name:secret" (nsupdate -y) for each algorithm's key, space-separated.
                "TESTBED_TSIG_KEYS": " ".join(f"{a}:testbed-key-{a}.:{s}"
                                              for a, s in self.algorithm_keys.items())}

    def stop(self):
        if self.proc:
            processes.terminate(self.proc)


def main():
    """`bind.py serve --workdir DIR [--port P] [--zone Z]... [--max-lifetime S]`: named alone
    (for the dns-01 conformance suite), until SIGTERM or the lifetime; DIR/bind.env holds env()."""
    import argparse
    import signal
    import sys
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["serve"])
    p.add_argument("--workdir", required=True)
    p.add_argument("--port", type=int)
    p.add_argument("--zone", action="append")
    p.add_argument("--max-lifetime", type=int, default=900)
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    bind = Bind(a.workdir, a.zone or ["example"], port=a.port)
    try:
        bind.start(lambda proc, argv: None)
    except BindUnavailable as e:
        print(f"SKIP: {e}", file=sys.stderr)
        return 77
    with open(os.path.join(a.workdir, "bind.env"), "w") as f:
        for k, v in bind.env().items():
            f.write(f"export {k}='{v}'\n")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.monotonic() + a.max_lifetime
    while not stop and time.monotonic() < deadline and bind.proc.poll() is None:
        time.sleep(0.2)
    bind.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
