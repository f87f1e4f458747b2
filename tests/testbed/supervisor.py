"""The testbed's supervisor: starts every part in order, writes DIR/env, stops in reverse.

Order matters: the API server first (the stand-ins need it: the real control plane from
realkube.py or the project's test API server, per --kube), then the Gateway API CRDs (from
../shared/data/gateway-api, when they install), then the ingress listener on a free port (also the
Gateway controller's), then Pebble told to validate http-01 on that port, then the IngressClass and
GatewayClass objects.
Processes are started from the main thread so PR_SET_PDEATHSIG ties them to the supervisor's life.
"""

import json
import logging
import os
import shlex
import shutil
import subprocess
import time

import gateway
import processes
import realkube
from informer import Informer
from ingress import IngressRouter, IngressServer
from kube_client import KubeClient, KubeError
from kubelet import Kubelet

log = logging.getLogger("testbed")

INGRESS_CONTROLLER = "certsmith.io/testbed-ingress"
GATEWAY_API_VERSION = "v1.4.1"
GATEWAY_API_CRDS = ("gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants")


def gateway_api_dir(source_dir):
    """../shared/data/gateway-api/VERSION beside the repository (as ../shared/tools/kube)."""
    return os.path.join(os.path.dirname(os.path.abspath(source_dir)), "shared", "data",
                        "gateway-api", GATEWAY_API_VERSION)


class Unavailable(Exception):
    """A required tool is missing: the caller exits 77 (skipped)."""


class Supervisor:
    def __init__(self, args, source_dir):
        self.args = args
        self.dir = os.path.abspath(args.workdir)
        self.source_dir = source_dir
        self.apiserver = None
        self.control_plane = None
        self.kube = None  # "real" or "test", once chosen
        self.kube_version = ""
        self.pebble = None
        self.client = None
        self.services = None
        self.kubelet = None
        self.router = None
        self.ingress = None
        self.bind = None
        self.gateway = None
        self.gateway_api = ""  # why the Gateway API is not served; "" once it is
        self._pids = []

    def start(self):
        for tool in ("kubectl", "openssl"):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed")
        self._start_kube()
        self._install_gateway_api()
        self._start_stand_ins()
        if self.args.dns == "bind":
            self._start_bind()
        self._start_pebble()
        self._create_ingress_class()
        informers = [self.services, self.kubelet.informer, self.router.informer]
        if self.gateway:
            self._create_gateway_class()
            informers += self.gateway.informers
        for informer in informers:
            if not informer.wait_synced(30):
                raise RuntimeError(f"could not list {informer.path} from the API server")
        self._write_env()
        with open(os.path.join(self.dir, "ready"), "w") as f:
            f.write(f"{os.getpid()}\n")
        log.info("ready: %s", os.path.join(self.dir, "env"))

    # -- parts ---------------------------------------------------------------------------------

    def _start_kube(self):
        """--kube real: the real control plane or Unavailable; test: the test API server; auto
        (the default): real when it can run here, else test, saying why in the log."""
        want = self.args.kube
        assets = None
        if want in ("real", "auto"):
            try:
                assets = realkube.find_assets(self.source_dir)
            except realkube.Unavailable as e:
                if want == "real":
                    raise Unavailable(f"--kube real: {e}") from None
                log.info("the real control plane cannot run here (%s): using the test API server",
                         e)
        if assets:
            self.kube = "real"
            self._start_real(assets)
        else:
            self.kube = "test"
            self._start_apiserver()
        self.kube_version = self.client.get("/version").get("gitVersion", "")
        log.info("kube: %s API server %s", self.kube, self.kube_version)

    def _start_real(self, assets):
        self.control_plane = realkube.ControlPlane(os.path.join(self.dir, "kube"), assets,
                                                   self._record,
                                                   [os.path.join(self.source_dir, "crds")])
        self.control_plane.start()
        self._flatten(self.control_plane.kubeconfig)

    def _flatten(self, kubeconfig):
        # A self-contained copy (certificates inlined) so DIR/kubeconfig works from anywhere.
        flat = subprocess.run(["kubectl", "config", "view", "--raw", "--flatten", "--kubeconfig",
                               kubeconfig],
                              capture_output=True, text=True, timeout=30, check=True).stdout
        path = os.path.join(self.dir, "kubeconfig")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(flat)
        self.client = KubeClient(path)

    def _start_apiserver(self):
        run = os.path.join(self.source_dir, "tests", "apiserver", "run")
        if not os.access(run, os.X_OK):
            raise Unavailable(f"{run} does not exist yet (the test API server)")
        work = os.path.join(self.dir, "apiserver")
        os.makedirs(work, exist_ok=True)
        for stale in ("ready", "kubeconfig"):
            if os.path.exists(os.path.join(work, stale)):
                os.unlink(os.path.join(work, stale))
        argv = [run, "--workdir", work, "--port", "0",
                "--max-lifetime", str(self.args.max_lifetime + 30)]
        self.apiserver = processes.spawn(argv, os.path.join(self.dir, "apiserver.log"))
        self._record(self.apiserver, argv)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(work, "ready")):
            if self.apiserver.poll() is not None:
                raise RuntimeError(f"the API server exited with {self.apiserver.returncode}: "
                                   + processes.tail(os.path.join(self.dir, "apiserver.log")))
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not become ready in 60s")
            time.sleep(0.05)
        self._flatten(os.path.join(work, "kubeconfig"))

    def _install_gateway_api(self):
        """kubectl apply --server-side the Gateway API CRDs and wait until they are Established.
        Where they cannot be installed (no ../shared/data, or a server that refuses them) the
        testbed runs without Gateway API: TESTBED_GATEWAY_API=0 and the reason in env."""
        crds = gateway_api_dir(self.source_dir)
        if not os.path.isdir(crds):
            self.gateway_api = f"no Gateway API CRDs at {crds}"
            log.info("gateway api: %s", self.gateway_api)
            return
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        apply = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side",
                                "--field-manager", "certsmith-testbed", "-f", crds],
                               capture_output=True, text=True, timeout=120)
        wait = None
        if apply.returncode == 0:
            wait = subprocess.run(
                ["kubectl", "--kubeconfig", kubeconfig, "wait", "--for=condition=Established",
                 "--timeout=60s"] + [f"crd/{n}.{gateway.GROUP}" for n in GATEWAY_API_CRDS],
                capture_output=True, text=True, timeout=90)
        if apply.returncode != 0 or wait.returncode != 0:
            out = (apply if apply.returncode != 0 else wait).stderr.strip()
            self.gateway_api = (f"the {self.kube} API server did not take the Gateway API "
                                f"{GATEWAY_API_VERSION} CRDs: {out[-300:]}")
            if self.kube == "real":
                raise RuntimeError(self.gateway_api)
            log.warning("gateway api: %s", self.gateway_api)
            return
        log.info("gateway api: %s CRDs installed and Established", GATEWAY_API_VERSION)

    def _start_stand_ins(self):
        self.services = Informer(self.client, "/api/v1/services",
                                 handler=lambda *_: self.gateway and self.gateway.kick()).start()
        self.kubelet = Kubelet(self.client, self.dir, self.args.certsmith_bin,
                               self.args.kubelet_allow).start()
        self.router = IngressRouter(self.client, self.args.ingress_class, self.services,
                                    self.kubelet, default_class=self.args.default_class,
                                    wait_ready=self.args.ingress_wait_ready)
        self.ingress = IngressServer(self.router).start()
        self.router.port = self.ingress.port
        self.router.informer.start()
        if not self.gateway_api:
            self.gateway = gateway.GatewayController(self.client, self.services,
                                                     self.kubelet).start()
            self.router.gateway = self.gateway
        log.info("ingress listening on 127.0.0.1:%d", self.ingress.port)

    def _start_bind(self):
        from bind import Bind, BindUnavailable
        self.bind = Bind(self.dir, self.args.bind_zone or ["example"])
        try:
            self.bind.start(self._record)
        except BindUnavailable as e:
            raise Unavailable(str(e)) from None
        log.info("bind: %s zones %s", self.bind.address, self.bind.zones)

    def _start_pebble(self):
        import pebble  # tests/support/pebble.py
        try:
            pebble.require_tools()
        except pebble.PebbleUnavailable as e:
            raise Unavailable(str(e)) from None
        a = self.args
        self.pebble = pebble.Pebble(
            eab_required=not a.no_eab, nonce_reject=a.nonce_reject, http_port=self.ingress.port,
            va_sleep=a.va_sleep, validity_seconds=a.validity, chain_length=a.chain_length,
            alternate_roots=a.alternate_roots or 0, authz_reuse=a.authz_reuse,
            workdir=os.path.join(self.dir, "pebble"),
            resolver=self.bind.address if self.bind else None, blocked_domains=a.block_domain)
        self.pebble.start()
        for proc in self.pebble._procs:  # recorded so `down` can check nothing is left
            self._record(proc, proc.args)
        with open(os.path.join(self.dir, "pebble-root.pem"), "w") as f:
            f.write(self.pebble.root_pem())
        log.info("pebble: %s", self.pebble.directory_url)

    def _create_ingress_class(self):
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": self.args.ingress_class},
                "spec": {"controller": INGRESS_CONTROLLER}}
        if self.args.default_class:
            body["metadata"]["annotations"] = {
                "ingressclass.kubernetes.io/is-default-class": "true"}
        try:
            self.client.create("/apis/networking.k8s.io/v1/ingressclasses", body)
        except KubeError as e:
            if e.code != 409:
                raise

    def _create_gateway_class(self):
        body = {"apiVersion": f"{gateway.GROUP}/v1", "kind": "GatewayClass",
                "metadata": {"name": self.args.gateway_class},
                "spec": {"controllerName": gateway.CONTROLLER_NAME,
                         "description": "the certsmith testbed's ingress stand-in"}}
        try:
            self.client.create(f"{gateway.API}/gatewayclasses", body)
        except KubeError as e:
            if e.code != 409:
                raise

    def _record(self, proc, argv):
        self._pids.append({"pid": proc.pid, "argv0": argv[0]})
        path = os.path.join(self.dir, "pids.json")
        with open(path + ".tmp", "w") as f:
            json.dump([{"pid": os.getpid(), "argv0": "supervisor"}] + self._pids, f)
        os.replace(path + ".tmp", path)

    def _write_env(self):
        p = self.pebble
        values = {
            "TESTBED_DIR": self.dir,
            "KUBECONFIG": os.path.join(self.dir, "kubeconfig"),
            "ACME_SERVER": p.directory_url,
            "ACME_CA_BUNDLE": p.ca_bundle,
            "ACME_ROOT_CA": os.path.join(self.dir, "pebble-root.pem"),
            "EAB_KID": p.eab_kid,
            "EAB_HMAC_KEY": p.eab_hmac_key,
            "PEBBLE_MANAGEMENT": p.management_url,
            "INGRESS_CLASS": self.args.ingress_class,
            "INGRESS_PORT": str(self.ingress.port),
            "TESTBED_DNS": p.dns_server,
            "TESTBED_CHALLTESTSRV": p.challtestsrv_url,
            "CERTSMITH_BIN": self.args.certsmith_bin,
            "TESTBED_KUBE": self.kube,
            "TESTBED_KUBE_VERSION": self.kube_version,
            "TESTBED_GATEWAY_API": "0" if self.gateway_api else "1",
        }
        if self.gateway_api:
            values["TESTBED_GATEWAY_API_WHY"] = self.gateway_api
        else:
            values["TESTBED_GATEWAY_API_VERSION"] = GATEWAY_API_VERSION
            values["GATEWAY_CLASS"] = self.args.gateway_class
            values["GATEWAY_CONTROLLER"] = gateway.CONTROLLER_NAME
        if self.control_plane:
            values["TESTBED_AUDIT_LOG"] = self.control_plane.audit_log
        values.update(p.env())  # PEBBLE_* for tests/support/pebble.py txt-add and friends
        values["TESTBED_DNS_KIND"] = "challtestsrv"
        if self.bind:
            values.update(self.bind.env())
        path = os.path.join(self.dir, "env")
        with open(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("# certsmith testbed: source this file\n")
            for name, value in values.items():
                f.write(f"export {name}={shlex.quote(value)}\n")
        os.replace(path + ".tmp", path)

    # -- stop ----------------------------------------------------------------------------------

    def stop(self):
        try:
            os.unlink(os.path.join(self.dir, "ready"))
        except FileNotFoundError:
            pass
        if self.ingress:
            self.ingress.stop()
        if self.gateway:
            self.gateway.stop()
        for informer in (self.services, self.router and self.router.informer):
            if informer:
                informer.stop()
        if self.kubelet:
            self.kubelet.stop()
        if self.pebble:
            self.pebble.stop()
        if self.bind:
            self.bind.stop()
        if self.apiserver:
            processes.terminate(self.apiserver)
        if self.control_plane:
            self.control_plane.stop()
        log.info("stopped")
