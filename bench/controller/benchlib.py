"""What bench/controller/run and bench/controller/scale share: the certsmith binary, the testbed
(tests/testbed/run) in a private temporary directory, the CRDs, the EAB Secret and a Pebble
ClusterIssuer, the controller process, a small API client that speaks to the API server with the
kubeconfig's token (one persistent HTTPS connection per thread), resident memory from /proc and
the real kube-apiserver's audit log. Standard library only."""

import base64
import http.client
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
NAMESPACE = "bench"
ISSUER = "bench-pebble"


class BenchError(Exception):
    """A measurement could not be made; the message says which object and why."""


def fail(msg, code=1):
    print(f"bench/controller: {msg}", file=sys.stderr)
    sys.exit(code)


def default_certsmith():
    """The first build with the controller subcommand, else the first build at all."""
    found = [os.path.join(ROOT, b, "controller", "certsmith")
             for b in ("build", "build-benchctl", "build-controller")]
    found = [p for p in found if os.access(p, os.X_OK)]
    if shutil.which("certsmith"):
        found.append(shutil.which("certsmith"))
    for path in found:
        if has_controller(path)[0]:
            return path
    return found[0] if found else ""


def has_controller(binary):
    """Whether this build has a working `certsmith controller` subcommand."""
    try:
        r = subprocess.run([binary, "controller", "--help"], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    out = r.stdout + r.stderr
    if "unknown command" in out or "usage: certsmith controller" not in out:
        return False, out.strip()[-500:]
    return True, ""


def check_tools(args, tools=("kubectl", "pebble", "pebble-challtestsrv")):
    """Exit 77 unless the certsmith binary (with its controller) and the tools are there."""
    if not args.certsmith or not os.access(args.certsmith, os.X_OK):
        fail(f"no certsmith binary (tried {args.certsmith or 'build/controller/certsmith'}); "
             "build it or pass --certsmith PATH", 77)
    args.certsmith = os.path.abspath(args.certsmith)
    ok, why = has_controller(args.certsmith)
    if not ok:
        fail(f"{args.certsmith} has no working `certsmith controller` subcommand yet:\n{why}", 77)
    for tool in tools:
        if not shutil.which(tool):
            fail(f"{tool} not found (scripts/install-deps installs it)", 77)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                line = line[len("export "):]
            if "=" not in line:
                continue
            k, v = line.split("=", 1)
            parts = shlex.split(v)
            env[k] = parts[0] if parts else ""
    return env


def rss_kib(pid):
    """VmRSS and VmHWM in KiB from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def ready_condition(obj):
    for c in obj.get("status", {}).get("conditions", []) or []:
        if c.get("type") == "Ready":
            return c
    return None


class ApiError(OSError):
    """An answer other than 2xx (an OSError, as urllib's HTTPError, so pollers retry it)."""

    def __init__(self, method, path, code, body):
        super().__init__(f"{method} {path}: HTTP {code}: {body[:500]}")
        self.code = code


class Api:
    """A minimal client for the API server, from the kubeconfig kubectl resolves: the
    kubeconfig's token, one persistent HTTPS connection per thread (for many requests at once
    from a thread pool)."""

    USER_AGENT = "certsmith-bench-driver"

    def __init__(self, kubectl_env):
        raw = subprocess.run(["kubectl", "config", "view", "--raw", "--minify", "-o", "json"],
                             env=kubectl_env, capture_output=True, text=True, check=True,
                             timeout=60).stdout
        cfg = json.loads(raw)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.server = cluster["server"].rstrip("/")
        url = urllib.parse.urlsplit(self.server)
        self.host, self.port = url.hostname, url.port or 443
        self.prefix = url.path.rstrip("/")
        self.ctx = ssl.create_default_context()
        if "certificate-authority-data" in cluster:
            self.ctx.load_verify_locations(
                cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif "certificate-authority" in cluster:
            self.ctx.load_verify_locations(cafile=cluster["certificate-authority"])
        self.headers = {"Accept": "application/json", "User-Agent": self.USER_AGENT}
        if user.get("token"):
            self.headers["Authorization"] = "Bearer " + user["token"]
        if "client-certificate-data" in user:
            raise BenchError("client-certificate kubeconfigs are not supported by the bench")
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
            self.local.conn = c
        return c

    def request(self, method, path, body=None, content_type="application/json"):
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        for attempt in range(3):
            conn = self._conn()
            try:
                conn.request(method, self.prefix + path, body=data, headers=headers)
                r = conn.getresponse()
                raw = r.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise OSError(f"{method} {path}: {e}") from e
                continue
            if r.status == 429 and attempt < 2:  # the API server's priority and fairness
                time.sleep(float(r.getheader("Retry-After") or 1))
                continue
            if r.status >= 300:
                raise ApiError(method, path, r.status, raw.decode(errors="replace"))
            return json.loads(raw) if raw else {}
        raise OSError(f"{method} {path}: no answer")

    def get(self, path):
        return self.request("GET", path)


class Testbed:
    """The testbed, the issuer and the controller for one API server (KUBE: real or test);
    cleanup() stops everything started, on every exit path."""

    def __init__(self, args, kube, tag):
        self.args = args
        self.kube = kube
        self.kube_version = ""
        self.work = tempfile.mkdtemp(prefix=f"certsmith-bench-{tag}-{kube}.")
        self.testbed_up = False
        self.controller = None
        self.controller_log = os.path.join(self.work, "controller.log")
        self.env = None
        self.kenv = None
        self.api = None

    def stop_controller(self):
        if self.controller and self.controller.poll() is None:
            self.controller.terminate()
            try:
                self.controller.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.controller.kill()
                self.controller.wait()

    def cleanup(self):
        self.stop_controller()
        if self.testbed_up:
            subprocess.run([os.path.join(ROOT, "tests", "testbed", "run"), "down", "--workdir",
                            self.work], capture_output=True, timeout=120)
        if self.args.keep:
            print(f"bench/controller: kept {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, path=None, n=30):
        path = path or self.controller_log
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()[-n:]
        except OSError:
            return ""
        return f"--- last lines of {path}\n" + "".join(lines)

    def kubectl(self, *argv, stdin=None, timeout=300):
        r = subprocess.run(["kubectl", *argv], input=stdin, env=self.kenv, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise BenchError(f"kubectl {' '.join(argv)} failed: {r.stderr.strip()[-1500:]}")
        return r.stdout

    def start_testbed(self, extra=()):
        argv = [os.path.join(ROOT, "tests", "testbed", "run"), "up", "--workdir", self.work,
                "--max-lifetime", str(self.args.max_lifetime), "--certsmith-bin",
                self.args.certsmith, "--kube", self.kube, *extra]
        self.testbed_up = True  # `down` is harmless if `up` failed half-way
        r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        if r.returncode == 77:
            fail(f"testbed cannot run here (a tool is missing):\n{r.stderr.strip()}", 77)
        if r.returncode != 0:
            raise BenchError(f"testbed up failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
        self.env = read_env(os.path.join(self.work, "env"))
        self.kube_version = self.env.get("TESTBED_KUBE_VERSION", "")
        self.kenv = dict(os.environ, KUBECONFIG=self.env["KUBECONFIG"])
        self.api = Api(self.kenv)

    def apply_issuer(self):
        e = self.env
        self.kubectl("apply", "-f", os.path.join(ROOT, "crds") + "/")
        for ns in ("certsmith", NAMESPACE):
            self.kubectl("apply", "-f", "-", stdin=json.dumps(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        # The HMAC key travels on stdin, never on a command line.
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": "bench-eab", "namespace": "certsmith"},
                  "data": {"secret": base64.b64encode(e["EAB_HMAC_KEY"].encode()).decode()}}
        self.kubectl("apply", "-f", "-", stdin=json.dumps(secret))
        with open(e["ACME_CA_BUNDLE"], "rb") as f:
            ca_bundle = base64.b64encode(f.read()).decode()
        issuer = {
            "apiVersion": "certsmith.io/v1", "kind": "ClusterIssuer",
            "metadata": {"name": ISSUER},
            "spec": {"acme": {
                "server": e["ACME_SERVER"], "caBundle": ca_bundle,
                "email": "bench@example.com",
                "privateKeySecretRef": {"name": "bench-pebble-account"},
                "externalAccountBinding": {"keyID": e["EAB_KID"], "keySecretRef": {
                    "name": "bench-eab", "key": "secret"}},
                # The testbed's names resolve only in its own DNS: Pebble's validation through
                # the ingress is the real check (as in scripts/demo).
                "solvers": [{"http01": {"skipSelfCheck": True, "ingress": {
                    "ingressClassName": e["INGRESS_CLASS"]}}}]}}}
        self.kubectl("apply", "-f", "-", stdin=json.dumps(issuer))

    def controller_argv(self):
        return [self.args.certsmith, "controller", "--kubeconfig", self.env["KUBECONFIG"],
                *self.args.controller_arg]

    def start_controller(self, log_path=None):
        self.controller_log = log_path or self.controller_log
        with open(self.controller_log, "w") as log:
            self.controller = subprocess.Popen(self.controller_argv(), stdout=log,
                                               stderr=subprocess.STDOUT, env=self.kenv,
                                               start_new_session=True)

    def check_controller(self):
        if self.controller.poll() is not None:
            raise BenchError(f"certsmith controller exited with code {self.controller.returncode}"
                             f"\n{self.log_tail()}")

    def wait_issuer(self):
        deadline = time.monotonic() + self.args.timeout
        cond = None
        while time.monotonic() < deadline:
            self.check_controller()
            try:
                obj = self.api.get(f"/apis/certsmith.io/v1/clusterissuers/{ISSUER}")
                cond = ready_condition(obj)
                if cond and cond.get("status") == "True":
                    return obj
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"ClusterIssuer {ISSUER} not Ready after {self.args.timeout}s; "
                         f"Ready condition: {json.dumps(cond)}\n{self.log_tail()}")


ANSWERED_STAGES = ("ResponseStarted", "ResponseComplete", "Panic")


def audit_requests(path, user_agent, since=0.0, until=float("inf"), offset=0):
    """{(verb, resource[/subresource]): [count, answered 4xx/5xx]} of the requests in the
    kube-apiserver audit log PATH whose User-Agent is user_agent (or user_agent/...), read from
    byte OFFSET on and received in [since, until) (epoch seconds). One per auditID, counted at its
    first answered stage (a watch logs ResponseStarted and ResponseComplete: it counts by the
    first, so a watch that started before OFFSET does not count); a request for no resource (a
    discovery path) counts under its path."""
    seen = set()
    counts = {}
    with open(path, errors="replace") as f:
        f.seek(offset)
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            agent = event.get("userAgent") or ""
            if agent != user_agent and not agent.startswith(user_agent + "/"):
                continue
            stage = event.get("stage")
            if event.get("auditID") in seen or stage not in ANSWERED_STAGES:
                continue
            if event.get("verb") == "watch" and stage != "ResponseStarted":
                continue
            received = parse_time(event.get("requestReceivedTimestamp", "1970-01-01T00:00:00Z"))
            if received < since or received >= until:
                continue
            seen.add(event.get("auditID"))
            ref = event.get("objectRef") or {}
            resource = ref.get("resource") or event.get("requestURI", "?").split("?")[0]
            if ref.get("subresource"):
                resource += "/" + ref["subresource"]
            n = counts.setdefault((event.get("verb", "?"), resource), [0, 0])
            n[0] += 1
            n[1] += (event.get("responseStatus") or {}).get("code", 0) >= 400
    return counts
