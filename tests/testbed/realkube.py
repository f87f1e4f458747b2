"""The real Kubernetes control plane for the testbed: etcd, kube-apiserver and
kube-controller-manager from an envtest-style assets directory, on free 127.0.0.1 ports.

Where the binaries come from (find_assets): $KUBEBUILDER_ASSETS when it names a directory holding
etcd, kube-apiserver and kube-controller-manager (envtest's convention; envtest's own archives
carry no controller-manager, so add one), else `../shared/tools/kube/run assets` (Kubernetes
v1.32.6, see its README). The processes are started here rather than by `run up` so they are the
supervisor's children (they die with it) and so the API server can be given an audit log.

The flags follow ../shared/tools/kube/run: RBAC on, a token file with an admin in
system:masters, ServiceAccount tokens signed with a key made for the run, the front-proxy
(aggregation layer) certificates, and every controller of kube-controller-manager but the node,
volume and cloud ones. Two additions:
  - an audit log (Metadata level; Request level for the create/update/patch requests of
    ServiceAccounts on anything but Secrets and ConfigMaps), DIR/audit.log, so tests can see
    which requests a controller sent and which were refused (tests/e2e/rbac.py);
  - the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift): an
    ownerReference with blockOwnerDeletion then needs `update` on the owner's finalizers, so the
    chart's finalizers rules are enforced, not assumed.
"""

import base64
import json
import logging
import os
import ssl
import subprocess
import time
import urllib.request

import processes

log = logging.getLogger("testbed.kube")

ASSET_BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
# ../shared/tools/kube/run's default controller list.
CONTROLLERS = ("*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,"
               "-node-route-controller,-persistentvolume-binder,-attachdetach,"
               "-persistentvolume-expander,-ephemeral-volume,-pv-protection,-pvc-protection")
SERVICE_CIDR = "10.96.0.0/16"

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "None", "users": ["system:kube-controller-manager", "system:apiserver"]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version"]},
        # Never a Secret's data, a ConfigMap's or a token in the log.
        {"level": "Metadata", "resources": [
            {"group": "", "resources": ["secrets", "configmaps", "serviceaccounts/token"]}]},
        # The bodies a controller writes show the ownerReferences it sets (finalizers rules).
        {"level": "Request", "userGroups": ["system:serviceaccounts"],
         "verbs": ["create", "update", "patch"]},
        {"level": "Metadata"},
    ],
}


class Unavailable(Exception):
    """No real control plane can run here; the message says why."""


def shared_kube_tool(source_dir):
    return os.path.join(os.path.dirname(os.path.abspath(source_dir)), "shared", "tools", "kube",
                        "run")


def find_assets(source_dir, timeout=900):
    """The directory holding etcd, kube-apiserver and kube-controller-manager, or raises
    Unavailable saying why none is usable."""
    env_dir = os.environ.get("KUBEBUILDER_ASSETS")
    if env_dir:
        missing = [b for b in ASSET_BINARIES
                   if not os.access(os.path.join(env_dir, b), os.X_OK)]
        if missing:
            raise Unavailable(f"KUBEBUILDER_ASSETS={env_dir} has no {', '.join(missing)}")
        return env_dir
    tool = shared_kube_tool(source_dir)
    if not os.access(tool, os.X_OK):
        raise Unavailable(f"no KUBEBUILDER_ASSETS and no {tool}")
    try:
        r = subprocess.run([tool, "assets"], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"{tool} assets did not answer in {timeout}s") from None
    if r.returncode != 0:
        raise Unavailable(f"{tool} assets: {r.stderr.strip() or r.returncode}")
    lines = r.stdout.strip().splitlines()
    if not lines or not os.path.isdir(lines[-1]):
        raise Unavailable(f"{tool} assets printed no directory")
    return lines[-1]


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


def version(assets):
    r = subprocess.run([os.path.join(assets, "kube-apiserver"), "--version"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip().split()[-1] if r.returncode == 0 and r.stdout.strip() else "unknown"


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager in DIR (a directory of their own)."""

    def __init__(self, workdir, assets, record, crd_dirs=()):
        self.dir = workdir
        # CustomResourceDefinitions installed before kube-controller-manager starts: its garbage
        # collector learns resource types by discovery at start and then only every 30 s, so a
        # CRD applied later has its objects' dependents collected up to 30 s late.
        self.crd_dirs = list(crd_dirs)
        self.assets = assets
        self.record = record  # record(proc, argv): the supervisor keeps the pids for `down`
        self.procs = []
        self.port = None
        self.token = None
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        self.audit_log = os.path.join(workdir, "audit.log")
        self.ca = os.path.join(workdir, "pki", "ca.crt")

    # -- start ---------------------------------------------------------------------------------

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self._pki()
        etcd_port, etcd_peer, self.port = (processes.free_port() for _ in range(3))
        data = os.path.join(self.dir, "etcd-data")
        os.makedirs(data, mode=0o700, exist_ok=True)
        self._spawn("etcd", [
            os.path.join(self.assets, "etcd"), "--name", "testbed", "--data-dir", data,
            "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{etcd_peer}",
            "--initial-cluster", f"testbed=http://127.0.0.1:{etcd_peer}",
            "--listen-metrics-urls", "",
            # The API server's watch cache learns the current revision of a quiet resource from
            # these; without them a watch or list at the latest revision waits 3 s and fails
            # ("Too large resource version"). kubeadm sets 5s.
            "--experimental-watch-progress-notify-interval=1s"])
        self._wait(lambda: self._http_ok(f"http://127.0.0.1:{etcd_port}/health"), "etcd", 60)
        pki = os.path.join(self.dir, "pki")
        policy = os.path.join(self.dir, "audit-policy.json")
        with open(policy, "w") as f:
            json.dump(AUDIT_POLICY, f)
        self._spawn("kube-apiserver", [
            os.path.join(self.assets, "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--tls-cert-file={pki}/apiserver.crt", f"--tls-private-key-file={pki}/apiserver.key",
            f"--client-ca-file={pki}/ca.crt", f"--token-auth-file={pki}/tokens.csv",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={pki}/sa.pub",
            f"--service-account-signing-key-file={pki}/sa.key",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true",
            "--endpoint-reconciler-type=none", "--enable-aggregator-routing=true",
            f"--requestheader-client-ca-file={pki}/front-proxy-ca.crt",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki}/front-proxy-client.crt",
            f"--proxy-client-key-file={pki}/front-proxy-client.key",
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
            f"--audit-policy-file={policy}", f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json", "--audit-log-mode=blocking"])
        self._wait(lambda: self._https_ok("/readyz"), "kube-apiserver /readyz", 180)
        self._write_kubeconfig(self.kubeconfig, self.token)
        self._install_crds()
        kcm = os.path.join(self.dir, "kcm.kubeconfig")
        self._write_kubeconfig(kcm, self.kcm_token)
        self._spawn("kube-controller-manager", [
            os.path.join(self.assets, "kube-controller-manager"), f"--kubeconfig={kcm}",
            f"--authentication-kubeconfig={kcm}", f"--authorization-kubeconfig={kcm}",
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
            f"--controllers={CONTROLLERS}", f"--service-account-private-key-file={pki}/sa.key",
            f"--root-ca-file={pki}/ca.crt", "--use-service-account-credentials=false",
            "--concurrent-gc-syncs=5"])
        # Pods need their namespace's "default" ServiceAccount and kube-root-ca.crt ConfigMap,
        # which kube-controller-manager makes: wait for those of "default".
        self._wait(lambda: self._https_ok("/api/v1/namespaces/default/serviceaccounts/default")
                   and self._https_ok("/api/v1/namespaces/default/configmaps/kube-root-ca.crt"),
                   "the default ServiceAccount and kube-root-ca.crt", 60)
        log.info("kube-apiserver %s on 127.0.0.1:%d", version(self.assets), self.port)

    def _install_crds(self):
        kubectl = ["kubectl", "--kubeconfig", self.kubeconfig]
        for d in self.crd_dirs:
            # Client-side apply, as tests/e2e/lib.sh and users apply them again afterwards.
            for argv in (["apply", "-f", d],
                         ["wait", "--for", "condition=Established", "--timeout=60s", "-f", d]):
                done = subprocess.run(kubectl + argv, capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    raise RuntimeError(f"kubectl {' '.join(argv)}: {done.stderr.strip()}")
            log.info("CRDs installed from %s", d)

    def _pki(self):
        pki = os.path.join(self.dir, "pki")
        os.makedirs(pki, exist_ok=True)
        p = lambda name: os.path.join(pki, name)  # noqa: E731
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
                 p("ca.crt"), "-days", "30", "-subj", "/CN=testbed-kube-ca")
        with open(p("server.cnf"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,"
                    "DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\n"
                    "extendedKeyUsage=serverAuth\n")
        with open(p("client.cnf"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        self._signed(pki, "apiserver", "ca", "/CN=kube-apiserver", "server.cnf")
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                 p("front-proxy-ca.key"), "-out", p("front-proxy-ca.crt"), "-days", "30", "-subj",
                 "/CN=front-proxy-ca")
        self._signed(pki, "front-proxy-client", "front-proxy-ca", "/CN=front-proxy-client",
                     "client.cnf")
        _openssl("genrsa", "-out", p("sa.key"), "2048")
        _openssl("rsa", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub"))
        self.token = os.urandom(24).hex()
        self.kcm_token = os.urandom(24).hex()
        path = p("tokens.csv")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(f"{self.token},admin,admin-uid,system:masters\n"
                    f"{self.kcm_token},system:kube-controller-manager,kcm-uid,system:masters\n")

    @staticmethod
    def _signed(pki, name, ca, subject, ext):
        p = lambda n: os.path.join(pki, n)  # noqa: E731
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(f"{name}.key"), "-out",
                 p(f"{name}.csr"), "-subj", subject)
        _openssl("x509", "-req", "-in", p(f"{name}.csr"), "-CA", p(f"{ca}.crt"), "-CAkey",
                 p(f"{ca}.key"), "-CAcreateserial", "-out", p(f"{name}.crt"), "-days", "30",
                 "-extfile", p(ext))

    def _spawn(self, name, argv):
        proc = processes.spawn(argv, os.path.join(self.dir, f"{name}.log"))
        self.procs.append((name, proc))
        self.record(proc, argv)

    def _wait(self, probe, what, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: " + processes.tail(
                        os.path.join(self.dir, f"{name}.log"), 1500))
            if probe():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what}: not ready after {timeout}s")

    @staticmethod
    def _http_ok(url):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def _https_ok(self, path):
        ctx = ssl.create_default_context(cafile=self.ca)
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}",
                                     headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
                return r.status == 200
        except OSError:
            return False

    def _write_kubeconfig(self, path, token):
        with open(self.ca, "rb") as f:
            ca = base64.b64encode(f.read()).decode()
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "testbed", "cluster": {
                "server": f"https://127.0.0.1:{self.port}", "certificate-authority-data": ca}}],
            "users": [{"name": "admin", "user": {"token": token}}],
            "contexts": [{"name": "testbed", "context": {
                "cluster": "testbed", "user": "admin", "namespace": "default"}}],
            "current-context": "testbed"}
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(config, f, indent=1)

    # -- stop ----------------------------------------------------------------------------------

    def stop(self):
        for name, proc in reversed(self.procs):
            processes.terminate(proc, grace=10)
