#!/usr/bin/python3
"""Starts Let's Encrypt's Pebble and pebble-challtestsrv on free loopback ports, for tests.

Standard library only. Each instance lives in its own temporary directory with its own TLS
certificate (the Debian package ships none), its own ports and its own EAB key pair, so tests can
run in parallel. The child processes die with the Python process that started them
(PR_SET_PDEATHSIG) and are stopped by stop() / the context manager / the CLI's exit.

As a module:

    from pebble import Pebble
    with Pebble(eab_required=True, nonce_reject=0) as p:
        p.directory_url, p.ca_bundle, p.eab_kid, p.eab_hmac_key, p.http_port
        p.add_txt("_acme-challenge.a.example.", "value"); p.clear_txt(...)
        p.management_get("/roots/0"); p.cert_status("0A1B...")

As a command (environment variables PEBBLE_* describe the instance, see ENV_NAMES):

    pebble.py run [options] -- CMD ARGS...    start, run CMD with PEBBLE_* set, stop; CMD's exit code
    pebble.py serve [options] --env-file F    start, write `export PEBBLE_...=...` lines to F,
                                              serve until SIGTERM/SIGINT or --lifetime seconds
    pebble.py txt-add HOST VALUE | txt-clear HOST      (challtestsrv from $PEBBLE_CHALLTESTSRV_URL)
    pebble.py get PATH                        GET on the management interface ($PEBBLE_MANAGEMENT_URL)

Exit code 77 (the ctest "skipped" code) when pebble, pebble-challtestsrv or openssl is missing.
"""

import argparse
import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SKIP = 77

ENV_NAMES = {
    "directory_url": "PEBBLE_DIRECTORY_URL",
    "management_url": "PEBBLE_MANAGEMENT_URL",
    "ca_bundle": "PEBBLE_CA_BUNDLE",
    "eab_kid": "PEBBLE_EAB_KID",
    "eab_hmac_key": "PEBBLE_EAB_HMAC_KEY",
    "http_port": "PEBBLE_HTTP_PORT",
    "tls_port": "PEBBLE_TLS_PORT",
    "challtestsrv_url": "PEBBLE_CHALLTESTSRV_URL",
    "dns_server": "PEBBLE_DNS_SERVER",
    "workdir": "PEBBLE_DIR",
}


class PebbleUnavailable(Exception):
    """A tool Pebble needs is not installed: the caller should skip (exit 77)."""


class PebbleError(Exception):
    pass


def require_tools():
    for tool in ("pebble", "pebble-challtestsrv", "openssl"):
        if shutil.which(tool) is None:
            raise PebbleUnavailable(f"{tool} is not installed (Debian packages pebble, openssl)")


def _die_with_parent():
    # Runs in the child between fork and exec: SIGTERM it when the thread that started it exits,
    # so a killed test never leaves a Pebble behind. prctl(PR_SET_PDEATHSIG=1, SIGTERM).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass
    os.setpgrp()


def _free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_tcp_udp_port():
    """A port free for both TCP and UDP (the DNS server listens on both)."""
    for _ in range(50):
        port = _free_tcp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise PebbleError("no free TCP+UDP port found")


def _distinct_ports(n, taken=()):
    ports = set(taken)
    out = []
    while len(out) < n:
        p = _free_tcp_port()
        if p not in ports:
            ports.add(p)
            out.append(p)
    return out


def _openssl(args, cwd):
    r = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise PebbleError(f"openssl {' '.join(args[:2])} failed: {r.stderr.strip()}")


def make_tls_certificate(directory):
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; returns (ca, cert, key)."""
    ca_key, ca_pem = "tls-ca.key", "tls-ca.pem"
    key, csr, cert = "tls.key", "tls.csr", "tls.pem"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    _openssl(["req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca_pem, "-days", "2",
                                      "-subj", "/CN=certsmith test Pebble TLS CA"], directory)
    _openssl(["req", "-new"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
             directory)
    ext = os.path.join(directory, "tls.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n")
    _openssl(["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
              "-out", cert, "-days", "2", "-extfile", ext], directory)
    return tuple(os.path.join(directory, p) for p in (ca_pem, cert, key))


class Pebble:
    """One Pebble + pebble-challtestsrv pair. Use as a context manager or call start()/stop()."""

    def __init__(self, eab_required=True, nonce_reject=0, alternate_roots=0, http_port=None,
                 tls_port=None, chain_length=None, authz_reuse=None, va_sleep=False,
                 always_valid=False, workdir=None, extra_env=None, start_timeout=30,
                 validity_seconds=None, resolver=None, blocked_domains=()):
        self.eab_required = eab_required
        self.nonce_reject = nonce_reject
        self.alternate_roots = alternate_roots
        self.chain_length = chain_length
        self.authz_reuse = authz_reuse
        self.va_sleep = va_sleep
        self.always_valid = always_valid
        self.validity_seconds = validity_seconds  # Pebble's certificateValidityPeriod
        self.resolver = resolver  # "host:port" Pebble resolves with instead of challtestsrv
        # Pebble's domainBlocklist: newOrder for these names (and their subdomains) is refused
        # with urn:ietf:params:acme:error:rejectedIdentifier.
        self.blocked_domains = list(blocked_domains)
        self.extra_env = dict(extra_env or {})
        self.start_timeout = start_timeout
        self._fixed_http_port = http_port
        self._fixed_tls_port = tls_port
        self._own_workdir = workdir is None
        self.workdir = workdir
        self.eab_kid = "kid-" + secrets.token_hex(4)
        # 32 random bytes, base64url without padding: the form CA portals hand out.
        self.eab_hmac_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self._procs = []
        self._logs = []

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        require_tools()
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="certsmith-pebble-")
        os.makedirs(self.workdir, exist_ok=True)
        self.ca_bundle, self._tls_cert, self._tls_key = make_tls_certificate(self.workdir)
        last = None
        for _ in range(3):  # a probed port can be taken by a parallel test before we bind it
            try:
                self._start_once()
                return self
            except PebbleError as e:
                last = e
                self._kill_all()
        self.stop()
        raise last

    def _start_once(self):
        dns_port = _free_tcp_udp_port()
        acme, mgmt, chall = _distinct_ports(3, {dns_port})
        self.http_port = self._fixed_http_port or _distinct_ports(1, {dns_port, acme, mgmt, chall})[0]
        self.tls_port = self._fixed_tls_port or _distinct_ports(
            1, {dns_port, acme, mgmt, chall, self.http_port})[0]
        self.directory_url = f"https://127.0.0.1:{acme}/dir"
        self.management_url = f"https://127.0.0.1:{mgmt}"
        self.challtestsrv_url = f"http://127.0.0.1:{chall}"
        self.dns_server = f"127.0.0.1:{dns_port}"
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{acme}",
            "managementListenAddress": f"127.0.0.1:{mgmt}",
            "certificate": self._tls_cert,
            "privateKey": self._tls_key,
            "httpPort": self.http_port,
            "tlsPort": self.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": self.eab_required,
            "externalAccountMACKeys": {self.eab_kid: self.eab_hmac_key},
        }}
        if self.validity_seconds:  # short-lived certificates for renewal tests (Pebble >= 2.4)
            config["pebble"]["certificateValidityPeriod"] = int(self.validity_seconds)
        if self.blocked_domains:
            config["pebble"]["domainBlocklist"] = self.blocked_domains
        config_path = os.path.join(self.workdir, "pebble-config.json")
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)
        self._spawn("challtestsrv", [
            "pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
            "-dns01", self.dns_server, "-management", f"127.0.0.1:{chall}",
            "-http01", "", "-https01", "", "-tlsalpn01", ""], os.environ.copy())
        self._wait_ready("pebble-challtestsrv", lambda: self._challtestsrv_alive())
        self._spawn("pebble", ["pebble", "-config", config_path,
                               "-dnsserver", self.resolver or self.dns_server,
                               "-strict=false"], self._pebble_env())
        self._wait_ready("pebble", lambda: self._get(self.directory_url))

    def _pebble_env(self):
        env = os.environ.copy()
        env["PEBBLE_VA_NOSLEEP"] = "0" if self.va_sleep else "1"
        env["PEBBLE_WFE_NONCEREJECT"] = str(self.nonce_reject)
        env["PEBBLE_VA_ALWAYS_VALID"] = "1" if self.always_valid else "0"
        env["PEBBLE_ALTERNATE_ROOTS"] = str(self.alternate_roots)
        if self.chain_length is not None:
            env["PEBBLE_CHAIN_LENGTH"] = str(self.chain_length)
        if self.authz_reuse is not None:
            env["PEBBLE_AUTHZREUSE"] = str(self.authz_reuse)
        env.update(self.extra_env)
        return env

    def _spawn(self, name, argv, env):
        log_path = os.path.join(self.workdir, f"{name}.log")
        log = open(log_path, "ab")
        self._logs.append(log)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        proc.certsmith_name = name
        proc.certsmith_log = log_path
        self._procs.append(proc)

    def _wait_ready(self, name, probe):
        deadline = time.monotonic() + self.start_timeout
        proc = self._procs[-1]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise PebbleError(f"{name} exited with {proc.returncode}: {self._tail(proc)}")
            try:
                probe()
                return
            except (OSError, urllib.error.URLError, ssl.SSLError):
                time.sleep(0.05)
        raise PebbleError(f"{name} not ready after {self.start_timeout}s: {self._tail(proc)}")

    @staticmethod
    def _tail(proc):
        try:
            with open(proc.certsmith_log, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def _kill_all(self):
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs = []
        for log in self._logs:
            log.close()
        self._logs = []

    def stop(self):
        self._kill_all()
        if self._own_workdir and self.workdir and not os.environ.get("CERTSMITH_KEEP_PEBBLE_DIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self):
        """Pebble's and challtestsrv's output so far (for test failure messages)."""
        out = []
        for name in ("pebble", "challtestsrv"):
            path = os.path.join(self.workdir, f"{name}.log")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    out.append(f"--- {name}\n" + f.read()[-8000:].decode(errors="replace"))
        return "\n".join(out)

    # -- HTTP helpers --------------------------------------------------------------------------

    def _ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_bundle)

    def _get(self, url):
        with urllib.request.urlopen(url, timeout=10, context=self._ssl_context()) as r:
            return r.read()

    def _challtestsrv_alive(self):
        # The management API answers 404 on "/" once it is listening.
        try:
            urllib.request.urlopen(self.challtestsrv_url + "/", timeout=2).close()
        except urllib.error.HTTPError:
            pass

    def management_get(self, path):
        """Body of GET <management>/<path> (bytes), e.g. "/roots/0", "/intermediates/0"."""
        return self._get(self.management_url + path)

    def root_pem(self, index=0):
        return self.management_get(f"/roots/{index}").decode()

    def intermediate_pem(self, index=0):
        return self.management_get(f"/intermediates/{index}").decode()

    def cert_status(self, serial_hex):
        """Pebble's {"Status": "Valid"|"Revoked", "Reason": n, ...} for a serial (hex)."""
        return json.loads(self.management_get(f"/cert-status-by-serial/{serial_hex.lower()}"))

    def challtestsrv(self, path, body):
        return challtestsrv_post(self.challtestsrv_url, path, body)

    def add_txt(self, host, value):
        self.challtestsrv("/set-txt", {"host": _fqdn(host), "value": value})

    def clear_txt(self, host):
        self.challtestsrv("/clear-txt", {"host": _fqdn(host)})

    def add_a(self, host, addresses):
        self.challtestsrv("/add-a", {"host": _fqdn(host), "addresses": list(addresses)})

    def env(self):
        return {env: str(getattr(self, attr)) for attr, env in ENV_NAMES.items()}


def _fqdn(host):
    return host if host.endswith(".") else host + "."


def challtestsrv_post(base_url, path, body):
    req = urllib.request.Request(base_url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read()


# -- command line --------------------------------------------------------------------------------

def _add_instance_options(p):
    p.add_argument("--no-eab", action="store_true", help="do not require External Account Binding")
    p.add_argument("--nonce-reject", type=int, default=0, help="PEBBLE_WFE_NONCEREJECT (percent)")
    p.add_argument("--alternate-roots", type=int, default=0, help="PEBBLE_ALTERNATE_ROOTS")
    p.add_argument("--chain-length", type=int, help="PEBBLE_CHAIN_LENGTH")
    p.add_argument("--authz-reuse", type=int, help="PEBBLE_AUTHZREUSE (percent)")
    p.add_argument("--http-port", type=int, help="port Pebble validates http-01 on (default: free)")
    p.add_argument("--va-sleep", action="store_true", help="keep Pebble's random validation sleep")
    p.add_argument("--block-domain", action="append", default=[], metavar="NAME",
                   help="refuse orders for NAME and its subdomains (rejectedIdentifier; repeatable)")
    p.add_argument("--dir", help="work directory (kept); default: a temporary one, removed")


def _instance(args):
    return Pebble(eab_required=not args.no_eab, nonce_reject=args.nonce_reject,
                  alternate_roots=args.alternate_roots, chain_length=args.chain_length,
                  authz_reuse=args.authz_reuse, http_port=args.http_port, va_sleep=args.va_sleep,
                  workdir=args.dir, blocked_domains=args.block_domain)


def _cmd_run(args):
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("pebble.py run: no command given (pebble.py run [options] -- CMD ...)",
              file=sys.stderr)
        return 2
    with _instance(args) as p:
        env = os.environ.copy()
        env.update(p.env())
        proc = subprocess.Popen(command, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            return proc.wait()


def _cmd_serve(args):
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    with _instance(args) as p:
        tmp = args.env_file + ".tmp"
        with open(tmp, "w") as f:
            for name, value in p.env().items():
                f.write(f"export {name}='{value}'\n")
        os.replace(tmp, args.env_file)
        stop.wait(args.lifetime)
    return 0


def _cmd_txt(args):
    base = args.challtestsrv or os.environ.get("PEBBLE_CHALLTESTSRV_URL")
    if not base:
        print("pebble.py: set PEBBLE_CHALLTESTSRV_URL or --challtestsrv", file=sys.stderr)
        return 2
    if args.cmd == "txt-add":
        challtestsrv_post(base, "/set-txt", {"host": _fqdn(args.host), "value": args.value})
    else:
        challtestsrv_post(base, "/clear-txt", {"host": _fqdn(args.host)})
    return 0


def _cmd_get(args):
    base = os.environ.get("PEBBLE_MANAGEMENT_URL")
    ca = os.environ.get("PEBBLE_CA_BUNDLE")
    if not base or not ca:
        print("pebble.py get: PEBBLE_MANAGEMENT_URL and PEBBLE_CA_BUNDLE must be set",
              file=sys.stderr)
        return 2
    ctx = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(base + args.path, timeout=10, context=ctx) as r:
        sys.stdout.buffer.write(r.read())
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="start Pebble, run a command with PEBBLE_* set, stop")
    _add_instance_options(run)
    run.add_argument("command", nargs=argparse.REMAINDER)
    serve = sub.add_parser("serve", help="start Pebble and serve until signalled")
    _add_instance_options(serve)
    serve.add_argument("--env-file", required=True, help="where to write export lines")
    serve.add_argument("--lifetime", type=float, default=3600, help="stop after this many seconds")
    txt_add = sub.add_parser("txt-add", help="set a TXT record in challtestsrv")
    txt_add.add_argument("host")
    txt_add.add_argument("value")
    txt_add.add_argument("--challtestsrv")
    txt_clear = sub.add_parser("txt-clear", help="remove the TXT records of a name")
    txt_clear.add_argument("host")
    txt_clear.add_argument("--challtestsrv")
    get = sub.add_parser("get", help="GET a path of Pebble's management interface")
    get.add_argument("path")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "run":
            return _cmd_run(args)
        if args.cmd == "serve":
            return _cmd_serve(args)
        if args.cmd in ("txt-add", "txt-clear"):
            return _cmd_txt(args)
        return _cmd_get(args)
    except PebbleUnavailable as e:
        print(f"pebble.py: skipped: {e}", file=sys.stderr)
        return SKIP
    except PebbleError as e:
        print(f"pebble.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
