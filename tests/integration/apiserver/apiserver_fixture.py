"""Shared helpers for the test API server's integration tests: start a private server in a
temp dir, run kubectl against it, make raw HTTPS calls, and report checks.

Every server is stopped by `stop()` (SIGTERM, then SIGKILL) and, as a backstop, by its own
--max-lifetime, so a crashed test cannot leave one running.
"""
import atexit
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = (os.environ.get("CERTSMITH_SOURCE_DIR")
              or os.path.abspath(os.path.join(HERE, "../../..")))
RUN = os.path.join(SOURCE_DIR, "tests", "apiserver", "run")
TESTDATA = os.path.join(HERE, "testdata")
SKIP = 77


def require_kubectl():
    if shutil.which("kubectl") is None:
        print("SKIP: kubectl is not installed")
        sys.exit(SKIP)


class ApiServer:
    def __init__(self, *extra_args, lifetime=300):
        self.dir = tempfile.mkdtemp(prefix="certsmith-apiserver-")
        self.real = None
        if os.environ.get("CERTSMITH_APISERVER_TESTS_KUBE") == "real":
            self._start_real()
            return
        self.log = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen(
            [RUN, "--workdir", self.dir, "--port", "0", "--max-lifetime", str(lifetime),
             *extra_args], stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        ready = os.path.join(self.dir, "ready")
        deadline = time.monotonic() + 30
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"test API server did not start; see {self.dir}")
            time.sleep(0.05)
        with open(os.path.join(self.dir, "port")) as f:
            self.port = int(f.read())
        with open(os.path.join(self.dir, "token")) as f:
            self.token = f.read().strip()
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                        KUBECACHEDIR=os.path.join(self.dir, "kubecache"), HOME=self.dir)
        self.tls = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.crt"))

    def _start_real(self):
        """The same checks against the real kube-apiserver (tests/testbed/realkube.py): how the
        differences listed in tests/apiserver/README.md were found. Not run by ctest: fault
        injection, /_admin and the server's own lifecycle exist only on the test server."""
        sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "testbed"))
        import realkube
        self.real = realkube.ControlPlane(self.dir, realkube.find_assets(SOURCE_DIR),
                                          lambda proc, argv: None)
        self.real.start()
        self.port, self.token, self.kubeconfig = self.real.port, self.real.token, \
            self.real.kubeconfig
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                        KUBECACHEDIR=os.path.join(self.dir, "kubecache"), HOME=self.dir)
        self.tls = ssl.create_default_context(cafile=self.real.ca)
        atexit.register(self.stop)

    def stop(self):
        if self.real:
            self.real.stop()
            if os.environ.get("KEEP_APISERVER_DIR") is None:
                shutil.rmtree(self.dir, ignore_errors=True)
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if os.environ.get("KEEP_APISERVER_DIR") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- kubectl ----------------------------------------------------------------------------
    def kubectl(self, *args, stdin=None, timeout=30, check=True):
        """Runs kubectl; returns (rc, stdout, stderr). check=True fails on nonzero exit."""
        p = subprocess.run(["kubectl", *args], input=stdin, capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({p.returncode}):\n"
                                 f"{p.stdout}{p.stderr}")
        return p.returncode, p.stdout, p.stderr

    def apply(self, yaml_text):
        return self.kubectl("apply", "-f", "-", stdin=yaml_text)[1]

    def get_json(self, *args):
        return json.loads(self.kubectl("get", *args, "-o", "json")[1])

    # -- raw HTTPS --------------------------------------------------------------------------
    def connection(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls,
                                           timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", token=True,
                headers=None):
        """Returns (status, headers, parsed JSON body or raw text)."""
        conn = self.connection()
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read().decode()
        conn.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw
        return resp.status, resp.headers, parsed

    def watch(self, path, timeout=10):
        """Reads a watch stream to its end (use timeoutSeconds); returns the events."""
        conn = self.connection(timeout=timeout + 5)
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        resp = conn.getresponse()
        events = [json.loads(line) for line in resp.read().decode().splitlines() if line]
        conn.close()
        return resp.status, events


class Checks:
    """Collects failures so one run reports every broken behaviour, then exits nonzero."""

    def __init__(self, name):
        self.name, self.failed, self.passed = name, [], 0

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed.append(what)
            print(f"FAIL: {what}\n{detail}".rstrip(), flush=True)

    def equal(self, actual, expected, what):
        self.check(actual == expected, what, f"  expected: {expected!r}\n  actual:   {actual!r}")

    def contains(self, text, needle, what):
        self.check(needle in text, what, f"  missing {needle!r} in:\n{text}")

    def run(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:   # a crashed step is a failure, reported with its name
            self.failed.append(f"{fn.__name__}: {e}")
            print(f"FAIL: {fn.__name__} raised {type(e).__name__}: {e}", flush=True)

    def finish(self):
        print(f"{self.name}: {self.passed} checks passed, {len(self.failed)} failed")
        return 1 if self.failed else 0


def wait_for(predicate, timeout=10, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def testdata(name):
    with open(os.path.join(TESTDATA, name)) as f:
        return f.read()


def run_steps(name, steps, *server_args):
    """Runs each step(server, checks) against one fresh server; returns the exit code."""
    require_kubectl()
    s = ApiServer(*server_args)
    c = Checks(name)
    try:
        for step in steps:
            c.run(step, s, c)
    finally:
        s.stop()
    return c.finish()


class KubectlWatch:
    """`kubectl get -w ...` in the background, its output collected line by line, so a test
    can wait for the initial listing before changing anything (no fixed sleeps)."""

    def __init__(self, server, *args):
        import threading
        self.lines = []
        self.proc = subprocess.Popen(["kubectl", "get", "-w", "--request-timeout=60s", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=server.env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.split())

    def wait_for(self, fields, timeout=20):
        """True once a line starts with `fields` (a list of columns)."""
        return wait_for(lambda: any(line[:len(fields)] == fields for line in self.lines),
                        timeout)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        return "\n".join(" ".join(line) for line in self.lines)
