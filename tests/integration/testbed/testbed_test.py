#!/usr/bin/python3
"""Integration tests of tests/testbed/run: each case starts its own testbed in a temporary
directory, checks one behaviour with real kubectl / HTTP / DNS clients, and tears it down.

    testbed_test.py CASE      CASE: routing | up_down | supervisor_killed | max_lifetime |
                                    kubectl | pod_ingress | pod_failed | pebble_dns | bind_dns |
                                    kube_test | kube_real | pod_in_cluster |
                                    gateway
Exit 0 pass, 1 fail, 77 skipped (a tool the testbed needs is missing).
"""

import http.client
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE_DIR = os.environ.get("CERTSMITH_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RUN = os.path.join(SOURCE_DIR, "tests", "testbed", "run")
SKIP = 77
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "testbed"))


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(what, probe, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise Failure(f"timed out waiting for {what}")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class Testbed:
    """`run up` in a private temporary directory; `run down` and removal on exit."""

    def __init__(self, *extra):
        self.extra = list(extra)
        self.dir = tempfile.mkdtemp(prefix="certsmith-testbed-test-")
        self.env = {}

    def __enter__(self):
        r = subprocess.run([RUN, "up", "--workdir", self.dir, "--max-lifetime", "600"]
                           + self.extra, capture_output=True, text=True, timeout=180)
        if r.returncode == SKIP:
            print(f"skipped: {r.stderr.strip()}")
            self._cleanup()
            sys.exit(SKIP)
        if r.returncode != 0:
            self._cleanup()
            raise Failure(f"testbed up failed ({r.returncode}): {r.stderr}")
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                if line.startswith("export "):
                    name, _, value = line[len("export "):].strip().partition("=")
                    self.env[name] = shlex.split(value)[0] if value else ""
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            for name in ("testbed.log", "apiserver.log"):
                path = os.path.join(self.dir, name)
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        print(f"--- {name}\n{f.read()[-4000:]}", file=sys.stderr)
        self.down()
        self._cleanup()

    def down(self):
        return subprocess.run([RUN, "down", "--workdir", self.dir], capture_output=True,
                              text=True, timeout=120)

    def _cleanup(self):
        if not os.environ.get("CERTSMITH_KEEP_TESTBED"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def kubectl(self, *args, stdin=None, check_rc=True):
        r = subprocess.run(["kubectl", "--kubeconfig", self.env["KUBECONFIG"]] + list(args),
                           input=stdin, capture_output=True, text=True, timeout=60)
        if check_rc and r.returncode != 0:
            raise Failure(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
        return r

    def apply(self, obj):
        self.kubectl("apply", "-f", "-", stdin=json.dumps(obj))

    def pod(self, name, ns="default"):
        r = self.kubectl("get", "pod", name, "-n", ns, "-o", "json", check_rc=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def kubelet_state(self):
        try:
            with open(os.path.join(self.dir, "kubelet.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def ingress_get(self, host, path):
        conn = http.client.HTTPConnection("127.0.0.1", int(self.env["INGRESS_PORT"]), timeout=10)
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        conn.close()
        return resp.status, body


# -- cases -----------------------------------------------------------------------------------

def case_routing():
    """Path and host matching and port rewriting, without servers."""
    from ingress import _host_matches, _path_match_length
    from kubelet import rewrite_ports, _listen_ports
    check(_path_match_length("Prefix", "/foo", "/foo/bar") > 0, "prefix matches sub-path")
    check(_path_match_length("Prefix", "/foo", "/foobar") < 0, "prefix is element-wise")
    check(_path_match_length("Prefix", "/", "/anything") >= 0, "/ matches all")
    check(_path_match_length("Exact", "/a/b", "/a/b") > 0, "exact matches")
    check(_path_match_length("Exact", "/a/b", "/a/b/") < 0, "exact is exact")
    check(_host_matches("*.example", "a.example"), "wildcard matches one label")
    check(not _host_matches("*.example", "a.b.example"), "wildcard matches only one label")
    check(not _host_matches("a.example", "b.example"), "hosts differ")
    check(_host_matches("", "x"), "no host matches any")
    args = ["solver", "--listen", ":8089", "--domain", "a.example", "--listen-port=8089", "8089",
            "80", "--http-addr", "0.0.0.0:8089"]
    check(_listen_ports(args) == [8089, 8089, 8089], f"listen ports {_listen_ports(args)}")
    # A port the process connects to is not one it listens on (the in-cluster controller's
    # self check port stayed unmapped and the Pod never became Ready).
    connects = ["controller", "--acme-http01-self-check-port", "34493", "--metrics-listen=:9402"]
    check(_listen_ports(connects) == [9402], f"listen ports {_listen_ports(connects)}")
    out = rewrite_ports(args, {8089: 40000})
    check(out == ["solver", "--listen", "127.0.0.1:40000", "--domain", "a.example",
                  "--listen-port=40000", "40000", "80", "--http-addr", "127.0.0.1:40000"],
          f"rewritten {out}")


def case_up_down():
    """up answers; down stops the supervisor, the API server, Pebble and every Pod process."""
    with Testbed() as tb:
        with open(os.path.join(tb.dir, "pids.json")) as f:
            pids = [e["pid"] for e in json.load(f)]
        check(len(pids) >= 4, f"supervisor, apiserver, pebble, challtestsrv recorded: {pids}")
        check(all(alive(p) for p in pids), "every recorded process runs after up")
        tb.apply(http_server_pod("web"))
        state = wait_for("pod process", lambda: tb.kubelet_state().get("default/web"))
        pids.append(state["pid"])
        check(subprocess.run([RUN, "status", "--workdir", tb.dir], capture_output=True)
              .returncode == 0, "status says up")
        r = tb.down()
        check(r.returncode == 0, f"down: {r.stderr}")
        wait_for("every process gone", lambda: not any(alive(p) for p in pids), timeout=20)
        check(subprocess.run([RUN, "status", "--workdir", tb.dir], capture_output=True)
              .returncode == 3, "status says down")


def case_supervisor_killed():
    """If the supervisor is killed outright (SIGKILL), its children still stop (PDEATHSIG)."""
    with Testbed() as tb:
        tb.apply(http_server_pod("web"))
        state = wait_for("pod process", lambda: tb.kubelet_state().get("default/web"))
        with open(os.path.join(tb.dir, "pids.json")) as f:
            pids = [e["pid"] for e in json.load(f)] + [state["pid"]]
        os.kill(pids[0], 9)
        wait_for("every child gone", lambda: not any(alive(p) for p in pids), timeout=20)


def case_max_lifetime():
    """Everything stops by itself when --max-lifetime runs out."""
    with Testbed("--max-lifetime", "8") as tb:
        with open(os.path.join(tb.dir, "pids.json")) as f:
            pids = [e["pid"] for e in json.load(f)]
        wait_for("processes to stop by themselves", lambda: not any(alive(p) for p in pids),
                 timeout=40)


def case_kubectl():
    with Testbed() as tb:
        out = tb.kubectl("get", "ns").stdout
        check("default" in out, f"kubectl get ns lists default: {out}")
        out = tb.kubectl("get", "ingressclass", tb.env["INGRESS_CLASS"], "-o", "json").stdout
        check(json.loads(out)["spec"]["controller"] == "certsmith.io/testbed-ingress",
              "IngressClass created")


def case_kube_test():
    """--kube test: the project's test API server, said so in DIR/env."""
    with Testbed("--kube", "test") as tb:
        check(tb.env.get("TESTBED_KUBE") == "test", f"TESTBED_KUBE={tb.env.get('TESTBED_KUBE')}")
        out = tb.kubectl("version", "-o", "json").stdout
        check("certsmith-test" in json.loads(out)["serverVersion"]["gitVersion"],
              f"the test API server answers: {out}")


def case_kube_real():
    """--kube real: kube-apiserver v1.32.6 with kube-controller-manager; the kubelet registers
    Node testbed and binds an unscheduled Pod to it, as a scheduler would."""
    with Testbed("--kube", "real") as tb:
        check(tb.env.get("TESTBED_KUBE") == "real", f"TESTBED_KUBE={tb.env.get('TESTBED_KUBE')}")
        version = json.loads(tb.kubectl("version", "-o", "json").stdout)["serverVersion"]
        check(version["gitVersion"] == tb.env.get("TESTBED_KUBE_VERSION") == "v1.32.6",
              f"kube-apiserver {version['gitVersion']}")
        check(os.path.exists(tb.env.get("TESTBED_AUDIT_LOG", "")), "audit log in DIR/env")
        node = json.loads(tb.kubectl("get", "node", "testbed", "-o", "json").stdout)
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        check(ready.get("Ready") == "True", f"Node testbed Ready: {ready}")
        tb.apply(http_server_pod("web"))
        pod = wait_for("pod web Running", lambda: running(tb, "web"))
        check(pod["spec"].get("nodeName") == "testbed", "bound to node testbed")
        scheduled = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        check(scheduled.get("PodScheduled") == "True", f"PodScheduled: {scheduled}")
        # Garbage collection is kube-controller-manager's: a ConfigMap owned by the Pod goes
        # with it.
        tb.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "owned", "namespace": "default", "ownerReferences": [{
                "apiVersion": "v1", "kind": "Pod", "name": "web",
                "uid": pod["metadata"]["uid"]}]}})
        tb.kubectl("delete", "pod", "web", "--wait=true", "--timeout=60s")
        wait_for("owned ConfigMap collected", lambda: tb.kubectl(
            "get", "cm", "owned", check_rc=False).returncode != 0, timeout=60)


IN_CLUSTER = r"""
import json, os, ssl, urllib.request
sa = "/var/run/secrets/kubernetes.io/serviceaccount"
token = open(sa + "/token").read()
ns = open(sa + "/namespace").read()
ctx = ssl.create_default_context(cafile=sa + "/ca.crt")
url = "https://%s:%s/apis" % (os.environ["KUBERNETES_SERVICE_HOST"],
                             os.environ["KUBERNETES_SERVICE_PORT"])
req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
code = urllib.request.urlopen(req, context=ctx).status
print("IN-CLUSTER", json.dumps({"namespace": ns, "apis": code, "arg": os.sys.argv[1],
                                "hostname": os.uname().nodename, "pod": os.environ["MY_POD"]}),
      flush=True)
"""


def case_pod_in_cluster():
    """On the real server a Pod finds, as in a cluster, its ServiceAccount token, ca.crt and
    namespace at /var/run/secrets/kubernetes.io/serviceaccount and the API server at
    KUBERNETES_SERVICE_HOST/PORT; env fieldRefs and $(VAR) in args are expanded; its hostname
    is its name; and a readinessProbe decides Ready."""
    with Testbed("--kube", "real") as tb:
        tb.apply({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "client", "namespace": "default"},
                  "spec": {"containers": [{
                      "name": "c", "image": "python:3", "command": ["python3"],
                      # The kubelet rewrites the argument "8089" to the local port it maps.
                      "args": ["-c", IN_CLUSTER + "\nimport http.server, sys\n"
                               "http.server.test(http.server.SimpleHTTPRequestHandler, "
                               "port=int(sys.argv[2]), bind='127.0.0.1')", "$(MY_POD)-x", "8089"],
                      "env": [{"name": "MY_POD", "valueFrom": {"fieldRef": {
                          "fieldPath": "metadata.name"}}}],
                      "ports": [{"containerPort": 8089, "name": "http"}],
                      "readinessProbe": {"httpGet": {"path": "/nowhere", "port": "http"},
                                         "periodSeconds": 1}}]}})
        log = os.path.join(tb.dir, "pods", "default_client", "log")

        def said():
            try:
                with open(log) as f:
                    lines = [l for l in f if l.startswith("IN-CLUSTER ")]
            except OSError:
                return None
            return json.loads(lines[0].split(" ", 1)[1]) if lines else None
        got = wait_for("the Pod's report", said, timeout=60)
        check(got == {"namespace": "default", "apis": 200, "arg": "client-x",
                      "hostname": "client", "pod": "client"}, f"in-cluster report: {got}")
        pod = wait_for("pod Running", lambda: running(tb, "client"))
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        check(ready.get("Ready") == "False", f"a failing readinessProbe keeps it unready: {ready}")


def http_server_pod(name, labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {"app": name}},
            "spec": {"containers": [{
                "name": "web", "image": "python:3", "command": ["python3"],
                "args": ["-m", "http.server", "--bind", "127.0.0.1", "8089"],
                "ports": [{"containerPort": 8089, "name": "http"}]}]}}


def solver_pod(name):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
            "spec": {"containers": [{
                "name": "solver", "image": "certsmith:test",
                "args": ["solver", "--listen", ":8089", "--domain", "a.example", "--token", "T",
                         "--key", "T.K"],
                "ports": [{"containerPort": 8089, "name": "http"}]}]}}


def service(name, target):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": target}]}}


def ingress(name, host, path, path_type, cls="testbed"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"ingressClassName": cls, "rules": [{"host": host, "http": {"paths": [{
                "path": path, "pathType": path_type,
                "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]}}


def solver_available():
    binary = os.environ.get("CERTSMITH_BIN", "")
    if not os.access(binary, os.X_OK):
        return False
    r = subprocess.run([binary, "solver", "--help"], capture_output=True, text=True, timeout=10)
    return "unknown command" not in r.stdout + r.stderr


def running(tb, name):
    pod = tb.pod(name)
    return pod and pod.get("status", {}).get("phase") == "Running" and pod


def case_pod_ingress():
    """A Pod becomes Running, a Service + Ingress route to it by Host, deleting it stops it."""
    use_solver = solver_available()
    with Testbed() as tb:
        name = "solver" if use_solver else "web"
        tb.apply(solver_pod(name) if use_solver else http_server_pod(name))
        pod = wait_for(f"pod {name} Running", lambda: running(tb, name))
        check(pod["status"].get("podIP") == "127.0.0.1", "podIP is 127.0.0.1")
        ready = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}
        check(ready.get("Ready") == "True", f"Ready condition: {ready}")
        tb.apply(service(name, "http"))
        if use_solver:
            tb.apply(ingress(name, "a.example", "/.well-known/acme-challenge/T", "Exact"))
            path, expect = "/.well-known/acme-challenge/T", "T.K"
        else:
            tb.apply(ingress(name, "a.example", "/", "Prefix"))
            path, expect = "/", "Directory listing"
        status, body = wait_for("ingress route", lambda: (
            lambda r: r if r[0] == 200 else None)(tb.ingress_get("a.example", path)))
        check(expect in body, f"backend answered {body[:200]!r}")
        wait_for("Ingress status.loadBalancer 127.0.0.1", lambda: tb.kubectl(
            "get", "ingress", name, "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
            .stdout == "127.0.0.1")
        status, _ = tb.ingress_get("b.example", path)
        check(status == 404, f"other host -> {status}")
        tb.apply(ingress("other", "c.example", "/", "Prefix", cls="someone-else"))
        time.sleep(0.5)  # let the watch deliver it; it must still not route
        status, _ = tb.ingress_get("c.example", "/")
        check(status == 404, f"another class's Ingress is not served -> {status}")
        pid = tb.kubelet_state()[f"default/{name}"]["pid"]
        check(alive(pid), "pod process runs")
        tb.kubectl("delete", "pod", name, "--wait=false")
        wait_for("pod process stopped", lambda: not alive(pid))
        wait_for("kubelet state empty", lambda: f"default/{name}" not in tb.kubelet_state())
        status, body = wait_for("503 once the pod is gone", lambda: (
            lambda r: r if r[0] == 503 else None)(tb.ingress_get("a.example", path)))


def case_gateway():
    """The Gateway API CRDs are installed; the stand-in routes an HTTPRoute attached to a Gateway
    of class testbed by Host and path, and writes GatewayClass, Gateway and HTTPRoute status."""
    with Testbed() as tb:
        if tb.env.get("TESTBED_GATEWAY_API") != "1":
            print(f"skipped: no Gateway API: {tb.env.get('TESTBED_GATEWAY_API_WHY')}")
            sys.exit(SKIP)
        tb.apply(http_server_pod("web"))
        tb.apply(service("web", "http"))
        tb.apply({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": "other", "labels": {"team": "a"}}})
        gw = "gateway.networking.k8s.io/v1"
        tb.apply({"apiVersion": gw, "kind": "Gateway",
                  "metadata": {"name": "gw", "namespace": "default"},
                  "spec": {"gatewayClassName": tb.env["GATEWAY_CLASS"], "listeners": [
                      {"name": "http", "protocol": "HTTP", "port": 80, "hostname": "*.example"},
                      {"name": "team", "protocol": "HTTP", "port": 8080,
                       "hostname": "team.example", "allowedRoutes": {"namespaces": {
                           "from": "Selector", "selector": {"matchLabels": {"team": "a"}}}}}]}})

        def httproute(name, ns, parent, hostnames, path_type="PathPrefix", path="/",
                      backend="web"):
            tb.apply({"apiVersion": gw, "kind": "HTTPRoute",
                      "metadata": {"name": name, "namespace": ns},
                      "spec": {"parentRefs": [dict(parent, name="gw", namespace="default")],
                               "hostnames": hostnames, "rules": [{
                                   "matches": [{"path": {"type": path_type, "value": path}}],
                                   "backendRefs": [{"name": backend, "namespace": "default",
                                                    "port": 80}]}]}})

        httproute("web", "default", {}, ["a.example"], "Exact", "/")
        httproute("team", "other", {"sectionName": "team"}, ["team.example"])
        httproute("refused", "other", {"sectionName": "http"}, ["a.example"])
        httproute("nohost", "default", {"sectionName": "http"}, ["a.other"])
        httproute("nosection", "default", {"sectionName": "nope"}, ["a.example"])
        httproute("nobackend", "default", {}, ["b.example"], backend="missing")

        def reasons(name, ns):
            r = tb.kubectl("get", "httproute", name, "-n", ns, "-o", "json")
            parents = json.loads(r.stdout).get("status", {}).get("parents", [])
            return {c["type"]: c["reason"] for p in parents for c in p["conditions"]}

        want = {("web", "default"): {"Accepted": "Accepted", "ResolvedRefs": "ResolvedRefs"},
                ("refused", "other"): {"Accepted": "NotAllowedByListeners",
                                       "ResolvedRefs": "RefNotPermitted"},
                ("nohost", "default"): {"Accepted": "NoMatchingListenerHostname",
                                        "ResolvedRefs": "ResolvedRefs"},
                ("nosection", "default"): {"Accepted": "NoMatchingParent",
                                           "ResolvedRefs": "ResolvedRefs"},
                ("nobackend", "default"): {"Accepted": "Accepted",
                                           "ResolvedRefs": "BackendNotFound"}}
        for (name, ns), expect in want.items():
            wait_for(f"HTTPRoute {ns}/{name} status {expect}",
                     lambda: reasons(name, ns) == expect or None)
        # The route in namespace other names a Service in default without a ReferenceGrant.
        wait_for("team route RefNotPermitted", lambda: reasons("team", "other") == {
            "Accepted": "Accepted", "ResolvedRefs": "RefNotPermitted"} or None)
        cls = json.loads(tb.kubectl("get", "gatewayclass", tb.env["GATEWAY_CLASS"], "-o",
                                    "json").stdout)
        check({c["type"]: c["status"] for c in cls["status"]["conditions"]}.get("Accepted")
              == "True", f"GatewayClass status {cls.get('status')}")
        g = json.loads(tb.kubectl("get", "gateway", "gw", "-o", "json").stdout)
        conds = {c["type"]: c["status"] for c in g["status"]["conditions"]}
        check(conds.get("Accepted") == "True" and conds.get("Programmed") == "True",
              f"Gateway conditions {conds}")
        attached = {l["name"]: l["attachedRoutes"] for l in g["status"]["listeners"]}
        check(attached == {"http": 2, "team": 1}, f"attachedRoutes {attached}")
        wait_for("the pod serving", lambda: running(tb, "web"))
        status, body = wait_for("route to the pod", lambda: (
            lambda r: r if r[0] == 200 else None)(tb.ingress_get("a.example", "/")))
        check("Directory listing" in body, f"backend answered {body[:200]!r}")
        status, _ = tb.ingress_get("a.example", "/x")
        check(status == 404, f"Exact / does not match /x: {status}")
        status, _ = tb.ingress_get("a.other", "/")
        check(status == 404, f"a refused route does not route: {status}")
        status, _ = tb.ingress_get("b.example", "/")
        check(status == 500, f"a missing backend answers 500: {status}")


def case_pod_failed():
    """A Pod the kubelet cannot run gets phase Failed with a message saying why."""
    with Testbed() as tb:
        tb.apply({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "nginx", "namespace": "default"},
                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1"}]}})
        pod = wait_for("pod Failed", lambda: (
            lambda p: p if p and p.get("status", {}).get("phase") == "Failed" else None)(
                tb.pod("nginx")))
        check("nginx" in pod["status"].get("message", ""), f"message: {pod['status']}")


def case_pebble_dns():
    """Pebble answers its directory over TLS with DIR's CA bundle, EAB required, refuses
    --block-domain names with rejectedIdentifier; the DNS server answers 127.0.0.1 for any
    name."""
    with Testbed("--validity", "600", "--block-domain", "blocked.example") as tb:
        ctx = ssl.create_default_context(cafile=tb.env["ACME_CA_BUNDLE"])
        with urllib.request.urlopen(tb.env["ACME_SERVER"], context=ctx, timeout=10) as r:
            directory = json.load(r)
        check("newNonce" in directory, f"directory: {directory}")
        check(directory.get("meta", {}).get("externalAccountRequired") is True, "EAB required")
        check(tb.env["EAB_KID"] and tb.env["EAB_HMAC_KEY"], "EAB credentials in env")
        with open(os.path.join(tb.dir, "pebble", "pebble.log")) as f:
            check("validity period of 600 seconds" in f.read(), "--validity reaches Pebble")
        check_blocked_name_refused(tb, "a.blocked.example")
        if shutil.which("dig") is None:
            print("dig missing (bind9-dnsutils): DNS check skipped")
            return
        for name in ("a.example", "anything.test", "x.y.z.invalid"):
            answer = dig(tb.env["TESTBED_DNS"], name, "A")
            check(answer == "127.0.0.1", f"{name} -> {answer!r}")


def check_blocked_name_refused(tb, name):
    """A real ACME client (certsmith acme) ordering NAME gets Pebble's rejectedIdentifier."""
    binary = os.environ.get("CERTSMITH_BIN", "")
    if not os.access(binary, os.X_OK):
        print("certsmith not built: --block-domain check skipped")
        return
    out = os.path.join(tb.dir, "acme-out")
    env = dict(os.environ, CERTSMITH_EAB_HMAC_KEY=tb.env["EAB_HMAC_KEY"])
    r = subprocess.run([binary, "acme", "issue", "--server", tb.env["ACME_SERVER"],
                        "--ca-bundle", tb.env["ACME_CA_BUNDLE"],
                        "--account-key", os.path.join(tb.dir, "account.pem"),
                        "--eab-kid", tb.env["EAB_KID"], "-d", name,
                        "--http01-webroot", out, "--out", out, "--timeout", "30s"],
                       env=env, capture_output=True, text=True, timeout=60)
    check(r.returncode != 0, f"ordering {name} succeeded")
    check("urn:ietf:params:acme:error:rejectedIdentifier" in r.stderr
          and f'forbidden by policy: "{name}"' in r.stderr, f"refusal of {name}: {r.stderr}")


def dig(server, name, rtype):
    host, port = server.rsplit(":", 1)
    r = subprocess.run(["dig", "+short", "+time=2", "+tries=2", "-p", port, f"@{host}", name,
                        rtype], capture_output=True, text=True, timeout=20)
    return r.stdout.strip()


def case_bind_dns():
    """--dns bind: BIND answers 127.0.0.1 for any name, takes TSIG-signed RFC 2136 updates for
    its zones, refuses unsigned ones, and is the server Pebble resolves with."""
    for tool in ("dig", "nsupdate", "named"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            print(f"skipped: {tool} is not installed (bind9, bind9-dnsutils)")
            sys.exit(SKIP)
    with Testbed("--dns", "bind", "--bind-zone", "example") as tb:
        server = tb.env["TESTBED_DNS"]
        check(tb.env["TESTBED_DNS_KIND"] == "bind", "env says bind")
        for name in ("a.example", "anything.test"):
            check(dig(server, name, "A") == "127.0.0.1", f"{name} A")
        host, port = server.rsplit(":", 1)
        script = (f"server {host} {port}\nzone example.\n"
                  f"update add _acme-challenge.b.example. 5 TXT \"v1\"\nsend\n")
        unsigned = subprocess.run(["nsupdate"], input=script, capture_output=True, text=True,
                                  timeout=30)
        check(unsigned.returncode != 0, "an unsigned update is refused")
        key = (f"{tb.env['TESTBED_TSIG_ALGORITHM']}:{tb.env['TESTBED_TSIG_KEY_NAME']}:"
               f"{tb.env['TESTBED_TSIG_SECRET']}")
        r = subprocess.run(["nsupdate", "-y", key], input=script, capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, f"signed update: {r.stderr}")
        check(dig(server, "_acme-challenge.b.example", "TXT") == '"v1"', "TXT visible")
        with open(os.path.join(tb.dir, "pebble", "pebble.log")) as f:
            check(f"resolver for ACME challenges: {server}" in f.read(), "Pebble resolves via BIND")


CASES = {n[len("case_"):]: f for n, f in globals().items() if n.startswith("case_")}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print(f"usage: {sys.argv[0]} {'|'.join(CASES)}", file=sys.stderr)
        return 2
    if shutil.which("kubectl") is None:
        print("skipped: kubectl is not installed")
        return SKIP
    try:
        CASES[sys.argv[1]]()
    except Failure as e:
        print(f"FAIL {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    print(f"PASS {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
