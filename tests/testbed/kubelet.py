"""A stand-in kubelet: runs the test cluster's Pods as local processes.

No container runtime exists here, so a Pod runs as a process on the host. The commands it knows:
  - `certsmith ...` (a container command whose basename is certsmith, or no command and args that
    start with a certsmith subcommand, as in a solver Pod whose image's entrypoint is certsmith):
    runs $CERTSMITH_BIN with the Pod's args;
  - python3 (for tests), and any basename given with --kubelet-allow.
Anything else gets phase Failed with a message saying why.

Each containerPort is mapped to a free local port and the args are rewritten to it: an argument
(or the value of a --flag=value) equal to the port number becomes the local port, and ":P",
"0.0.0.0:P", "[::]:P", "127.0.0.1:P" become "127.0.0.1:L". The mapping is written to
DIR/kubelet.json and used to resolve Services for the ingress stand-in.

On a server that serves Nodes (the real control plane) it registers the Node "testbed" and, as
there is no scheduler, binds every Pod that names no node (and no other scheduler) to it through
the pods/binding subresource, as kube-scheduler would; it runs only the Pods bound to its node.
On a server without Nodes (the test API server) it runs every Pod as it comes.

Like a kubelet it gives each process KUBERNETES_SERVICE_HOST/PORT (the API server's own address:
there is no kube-proxy to reach the `kubernetes` Service's cluster IP), expands env `valueFrom`
fieldRefs and `$(VAR)` references in command, args and env, and materialises projected,
secret, configMap, downwardAPI and emptyDir volumes under pods/NS_NAME/volumes: a
serviceAccountToken comes from the TokenRequest API, bound to the Pod, and is renewed at 80% of
its lifetime. The volumes are bind-mounted at their mountPath in a mount namespace of the Pod's
own (`unshare --mount --uts`, which needs root or unprivileged user namespaces), over a fresh
tmpfs /run as a container has its own, with the Pod's name as hostname: a controller Pod finds
its token at /var/run/secrets/kubernetes.io/serviceaccount as in a cluster. A readinessProbe httpGet decides
readiness once the ports listen (without one, listening is ready).

All process starts and stops happen on one long-lived worker thread, because PR_SET_PDEATHSIG is
tied to the thread that forked: the processes die with that thread.
"""

import base64
import datetime
import http.client
import json
import logging
import os
import queue
import re
import shutil
import subprocess
import threading
import time

import processes
from informer import Informer, object_key
from kube_client import KubeError

log = logging.getLogger("testbed.kubelet")

CERTSMITH_SUBCOMMANDS = ("solver", "controller", "acme", "version")
READY_TIMEOUT = 30
NODE_NAME = "testbed"
DEFAULT_SCHEDULER = "default-scheduler"
_VAR_REF_RE = re.compile(r"\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)")
# Run in the Pod's own mount and UTS namespaces: its hostname is the Pod's name, as in a
# cluster; a tmpfs /run first so mount points can be made; the volumes; then the command.
_MOUNT_SCRIPT = r"""
set -e
printf %s "$HOSTNAME" >/proc/sys/kernel/hostname
mount -t tmpfs -o mode=755 tmpfs /run
[ -L /var/run ] || mount -t tmpfs -o mode=755 tmpfs /var/run
while [ "$1" != -- ]; do
  src=$1 dst=$2 ro=$3; shift 3
  mkdir -p "$dst"
  mount --bind "$src" "$dst"
  [ "$ro" = ro ] && mount -o remount,bind,ro "$dst"
done
shift
exec "$@"
"""
_LISTEN_RE = re.compile(r"^(|0\.0\.0\.0|\[::\]|::|127\.0\.0\.1|localhost):(\d+)$")
# Flags that name a port the process listens on: --listen, --port, --metrics-listen,
# --listen-port, --bind-address... Not a port it connects to (--acme-http01-self-check-port, or
# any other --*-port): those are left alone, as a kubelet would.
_PORT_FLAG_RE = re.compile(r"^--(port|([\w-]*-)?(listen|listen-port|addr|address))$")


SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
                 "ASAN_SYMBOLIZER_PATH")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class CannotRun(Exception):
    """The Pod asks for something the testbed cannot run; the message goes into its status."""


class PodProcess:
    def __init__(self, pod, proc, ports, log_path):
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = meta.get("namespace", ""), meta["name"], meta["uid"]
        self.labels = meta.get("labels") or {}
        container = pod["spec"]["containers"][0]
        self.container = container
        self.port_names = {p["name"]: p["containerPort"]
                           for p in container.get("ports") or [] if p.get("name")}
        self.proc = proc
        self.ports = ports  # containerPort -> local port
        self.log_path = log_path
        self.started = time.monotonic()
        self.started_at = _now()
        self.listening = False
        self.ready = False
        self.probe = (container.get("readinessProbe") or {}).get("httpGet")
        probe = container.get("readinessProbe") or {}
        self.probe_period = probe.get("periodSeconds", 10)
        self.next_probe = self.started + probe.get("initialDelaySeconds", 0)
        self.tokens = []  # [TokenFile]: projected serviceAccountTokens to renew

    def local_port(self, target):
        """The local port for a Service targetPort (a number or a container port name)."""
        if isinstance(target, str) and not target.isdigit():
            target = self.port_names.get(target)
            if target is None:
                return None
        return self.ports.get(int(target))


def expand_refs(value, env):
    """Kubernetes' $(VAR) expansion: a defined VAR is replaced, an undefined one kept as
    written, $$ is a literal $."""
    def one(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return _VAR_REF_RE.sub(one, value)


def _field(pod, path):
    """The value of a downward API fieldRef path ("metadata.labels['app']" too)."""
    m = re.match(r"^metadata\.(labels|annotations)\['(.+)'\]$", path)
    if m:
        return ((pod.get("metadata") or {}).get(m.group(1)) or {}).get(m.group(2), "")
    node = pod
    for part in path.split("."):
        node = (node or {}).get(part) if isinstance(node, dict) else None
    if path == "spec.serviceAccountName" and not node:
        return "default"
    if path in ("status.podIP", "status.hostIP") and not node:
        return "127.0.0.1"
    return "" if node is None else str(node)


class TokenFile:
    """A projected serviceAccountToken: where it is written and when to renew it."""

    def __init__(self, path, request_path, body, mode):
        self.path, self.request_path, self.body, self.mode = path, request_path, body, mode
        self.renew_at = 0.0


def rewrite_ports(args, ports):
    """args with each containerPort reference replaced by its local port (see module doc)."""
    def one(value):
        for container_port, local in ports.items():
            if value == str(container_port):
                return str(local)
            m = _LISTEN_RE.match(value)
            if m and int(m.group(2)) == container_port:
                return f"127.0.0.1:{local}"
        return value

    out = []
    for arg in args:
        if arg.startswith("--") and "=" in arg:
            flag, value = arg.split("=", 1)
            out.append(f"{flag}={one(value)}")
        else:
            out.append(one(arg))
    return out


def _listen_ports(args):
    """Ports named by --listen/--port/--listen-port/--address style arguments (a solver Pod may
    not declare them in its ports list)."""
    found = []
    for i, arg in enumerate(args):
        flag, eq, value = arg.partition("=")
        if not _PORT_FLAG_RE.match(flag):
            continue
        if not eq:
            value = args[i + 1] if i + 1 < len(args) else ""
        m = _LISTEN_RE.match(value)
        if m:
            found.append(int(m.group(2)))
        elif value.isdigit():
            found.append(int(value))
    return found


class Kubelet:
    def __init__(self, client, workdir, certsmith_bin, allowed=()):
        self.client = client
        self.workdir = workdir
        self.certsmith_bin = certsmith_bin
        self.allowed = {"python3": "/usr/bin/python3", "python": "/usr/bin/python3"}
        for name in allowed:
            path = shutil.which(name)
            if path:
                self.allowed[os.path.basename(name)] = path
        self.pods_dir = os.path.join(workdir, "pods")
        os.makedirs(self.pods_dir, exist_ok=True)
        self.node_name = None  # set by start() when the server serves Nodes
        self.unshare = _mount_namespace_argv()
        self._events = queue.Queue()
        self._lock = threading.Lock()
        self._running = {}  # (namespace, name) -> PodProcess
        self._finished = set()  # uids run once already: restartPolicy is treated as Never
        self._stop = threading.Event()
        self.informer = Informer(client, "/api/v1/pods", handler=self._on_event)
        self._worker = threading.Thread(target=self._work, name="kubelet", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self):
        self._register_node()
        self._worker.start()
        self.informer.start()
        return self

    def _register_node(self):
        """Registers Node "testbed" (Ready, address 127.0.0.1) as a kubelet does; a server
        without Nodes (404) leaves the kubelet running every Pod unbound."""
        try:
            self.client.create("/api/v1/nodes", {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": NODE_NAME, "labels": {
                    "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux"}}})
        except KubeError as e:
            if e.code == 404:
                log.info("the API server serves no Nodes: running Pods unbound")
                return
            if e.code != 409:
                raise
        now = _now()
        self.client.merge_patch(f"/api/v1/nodes/{NODE_NAME}/status", {"status": {
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "testbed kubelet stand-in is posting ready status",
                            "lastHeartbeatTime": now, "lastTransitionTime": now}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": NODE_NAME}],
            "nodeInfo": {"kubeletVersion": "testbed", "operatingSystem": "linux",
                         "architecture": os.uname().machine, "containerRuntimeVersion": "",
                         "kernelVersion": os.uname().release, "osImage": "", "machineID": "",
                         "systemUUID": "", "bootID": "", "kubeProxyVersion": ""}}})
        self.node_name = NODE_NAME

    def stop(self):
        self.informer.stop()
        self._stop.set()
        self._worker.join(timeout=30)

    def _on_event(self, kind, pod):
        self._events.put((kind, pod))

    def _work(self):
        try:
            while not self._stop.is_set():
                try:
                    kind, pod = self._events.get(timeout=0.1)
                    self._handle(kind, pod)
                except queue.Empty:
                    pass
                except Exception:  # one bad Pod or API error must not stop the kubelet
                    log.exception("kubelet: handling a Pod event failed")
                try:
                    self._check_processes()
                except Exception:
                    log.exception("kubelet: checking processes failed")
        finally:
            for key in list(self._running):
                self._kill(key)

    # -- pod events ----------------------------------------------------------------------------

    def _handle(self, kind, pod):
        key = object_key(pod)
        meta = pod.get("metadata", {})
        current = self._running.get(key)
        if kind == "DELETED" or meta.get("deletionTimestamp"):
            if current and current.uid == meta.get("uid"):
                self._kill(key)
            if kind != "DELETED" and not meta.get("finalizers"):
                self._final_delete(pod)
            return
        if current and current.uid == meta.get("uid"):
            return
        if current:  # same name, new Pod
            self._kill(key)
        if meta.get("uid") in self._finished or \
                (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
            return
        if self.node_name:
            spec = pod.get("spec") or {}
            if not spec.get("nodeName"):
                if spec.get("schedulerName", DEFAULT_SCHEDULER) == DEFAULT_SCHEDULER:
                    self._bind(pod)  # its MODIFIED event, bound, brings it back
                return
            if spec["nodeName"] != self.node_name:
                return
        try:
            self._start(pod)
        except OSError as e:
            self._finished.add(meta.get("uid"))
            self._set_failed(pod, "CannotRun", f"could not start the process: {e}")
        except CannotRun as e:
            self._finished.add(meta.get("uid"))
            log.warning("pod %s/%s cannot run: %s", key[0], key[1], e)
            self._set_failed(pod, "CannotRun", str(e))

    def _bind(self, pod):
        # What kube-scheduler does once it has chosen a node (it also sets PodScheduled).
        ns, name = object_key(pod)
        try:
            self.client.create(f"/api/v1/namespaces/{ns}/pods/{name}/binding", {
                "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": self.node_name}})
            log.info("pod %s/%s: bound to node %s", ns, name, self.node_name)
        except KubeError as e:
            if e.code not in (404, 409):  # gone, or bound meanwhile
                raise

    def _final_delete(self, pod):
        # The real kubelet finishes a graceful delete with gracePeriodSeconds=0 once the
        # containers are gone.
        ns, name = object_key(pod)
        try:
            self.client.delete(f"/api/v1/namespaces/{ns}/pods/{name}", gracePeriodSeconds="0")
        except KubeError as e:
            if e.code != 404:
                raise

    def _command(self, container):
        command = list(container.get("command") or [])
        args = list(container.get("args") or [])
        image = container.get("image", "")
        if not command:
            if args and args[0] in CERTSMITH_SUBCOMMANDS:
                return [self.certsmith_bin] + args
            raise CannotRun(f"image {image!r} has no entrypoint the testbed kubelet knows: set "
                            f"args starting with a certsmith subcommand "
                            f"({', '.join(CERTSMITH_SUBCOMMANDS)}) or a command")
        base = os.path.basename(command[0])
        if base == "certsmith":
            return [self.certsmith_bin] + command[1:] + args
        if base in self.allowed:
            return [self.allowed[base]] + command[1:] + args
        raise CannotRun(f"command {command[0]!r} cannot run in the testbed: its kubelet runs "
                        f"only certsmith and {', '.join(sorted(self.allowed))} "
                        f"(more with --kubelet-allow)")

    def _start(self, pod):
        spec = pod.get("spec") or {}
        containers = spec.get("containers") or []
        if len(containers) != 1:
            raise CannotRun(f"the testbed kubelet runs single-container Pods only "
                            f"(this one has {len(containers)})")
        container = containers[0]
        ns, name = object_key(pod)
        env = self._env(pod, container)
        expanded = dict(container)
        for field in ("command", "args"):
            if container.get(field):
                expanded[field] = [expand_refs(a, env) for a in container[field]]
        argv = self._command(expanded)
        if not os.access(argv[0], os.X_OK):
            raise CannotRun(f"{argv[0]} is not an executable file (set CERTSMITH_BIN?)")
        declared = [p["containerPort"] for p in container.get("ports") or []]
        ports = {}
        for port in declared + _listen_ports(argv):
            ports.setdefault(port, processes.free_port())
        argv = [argv[0]] + rewrite_ports(argv[1:], ports)
        command = argv
        pod_dir = os.path.join(self.pods_dir, f"{ns}_{name}")
        os.makedirs(pod_dir, exist_ok=True)
        env["HOME"] = pod_dir
        env.setdefault("HOSTNAME", name)
        tokens = []
        mounts = self._volumes(pod, container, pod_dir, tokens)
        if mounts:
            if not self.unshare:
                raise CannotRun("mounting volumes needs a mount namespace (root or "
                                "unprivileged user namespaces), which this host does not allow")
            flat = []
            for src, dst, read_only in mounts:
                flat += [src, dst, "ro" if read_only else "rw"]
            argv = self.unshare + ["/bin/sh", "-c", _MOUNT_SCRIPT, "sh"] + flat + ["--"] + argv
        log_path = os.path.join(pod_dir, "log")
        with open(log_path, "ab") as f:
            f.write(f"# testbed kubelet: {' '.join(command)}\n".encode())
        proc = processes.spawn(argv, log_path, env=env, cwd=pod_dir)
        running = PodProcess(pod, proc, ports, log_path)
        running.tokens = tokens
        with self._lock:
            self._running[(ns, name)] = running
        self._write_state()
        log.info("pod %s/%s: started pid %d ports %s%s", ns, name, proc.pid, ports,
                 f" mounts {[m[1] for m in mounts]}" if mounts else "")

    def _env(self, pod, container):
        """The process environment: what a kubelet gives every container, then the container's
        env in order (each value may refer to the ones before it)."""
        meta = pod["metadata"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "POD_NAME": meta["name"], "POD_NAMESPACE": meta.get("namespace", ""),
               "POD_IP": "127.0.0.1",
               "KUBERNETES_SERVICE_HOST": self.client.host,
               "KUBERNETES_SERVICE_PORT": str(self.client.port),
               "KUBERNETES_SERVICE_PORT_HTTPS": str(self.client.port)}
        # Not a kubelet's doing, but a test build's: a sanitizer-built certsmith in a Pod (a
        # solver, the in-cluster controller) reports, and suppresses, as the test that started
        # the testbed asked (scripts/test writes reports to files it checks).
        for name in SANITIZER_ENV:
            if name in os.environ:
                env[name] = os.environ[name]
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = expand_refs(item["value"], env)
            elif "fieldRef" in (item.get("valueFrom") or {}):
                env[item["name"]] = _field(pod, item["valueFrom"]["fieldRef"]["fieldPath"])
            elif item.get("valueFrom"):
                ref = item["valueFrom"]
                kind = "secretKeyRef" if "secretKeyRef" in ref else (
                    "configMapKeyRef" if "configMapKeyRef" in ref else None)
                if kind is None:
                    raise CannotRun(f"env {item['name']}: valueFrom {sorted(ref)} is not "
                                    f"supported by the testbed kubelet")
                data = self._data(meta.get("namespace", ""), kind, ref[kind]["name"],
                                  ref[kind].get("optional", False))
                if ref[kind]["key"] in data:
                    env[item["name"]] = data[ref[kind]["key"]].decode(errors="replace")
                elif not ref[kind].get("optional", False):
                    raise CannotRun(f"env {item['name']}: key {ref[kind]['key']} not in "
                                    f"{ref[kind]['name']}")
            else:
                env[item["name"]] = ""
        return env

    # -- volumes -------------------------------------------------------------------------------

    def _data(self, ns, kind, name, optional):
        """The decoded data of a Secret (secretKeyRef/secret) or ConfigMap, {} if optional and
        missing."""
        secret = kind.startswith("secret")
        path = f"/api/v1/namespaces/{ns}/{'secrets' if secret else 'configmaps'}/{name}"
        try:
            obj = self.client.get(path)
        except KubeError as e:
            if e.code == 404 and optional:
                return {}
            raise CannotRun(f"{'Secret' if secret else 'ConfigMap'} {ns}/{name}: {e}") from None
        if secret:
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        out = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        out.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return out

    def _volumes(self, pod, container, pod_dir, tokens):
        """Writes each mounted volume under pod_dir/volumes; returns [(dir, mountPath, ro)]."""
        by_name = {v["name"]: v for v in (pod.get("spec") or {}).get("volumes") or []}
        mounts = []
        for mount in container.get("volumeMounts") or []:
            volume = by_name.get(mount["name"])
            if volume is None:
                raise CannotRun(f"volumeMount {mount['name']} names no volume")
            target = os.path.join(pod_dir, "volumes", mount["name"])
            if not os.path.isdir(target):
                os.makedirs(target, mode=0o755)
                self._fill(pod, volume, target, tokens)
            src = os.path.join(target, mount["subPath"]) if mount.get("subPath") else target
            path = mount["mountPath"]
            if not (path.startswith("/run/") or path.startswith("/var/run/")) and \
                    not os.path.isdir(path):
                raise CannotRun(f"volume {mount['name']}: mountPath {path} does not exist on "
                                f"this host (the testbed kubelet makes mount points only under "
                                f"/run and /var/run)")
            mounts.append((src, path, bool(mount.get("readOnly"))))
        return mounts

    def _fill(self, pod, volume, target, tokens):
        if "emptyDir" in volume:
            return
        if "projected" in volume:
            mode = volume["projected"].get("defaultMode", 0o644)
            for source in volume["projected"].get("sources") or []:
                self._fill_source(pod, source, target, mode, tokens)
            return
        for kind, ref in (("secret", "secretName"), ("configMap", "name")):
            if kind in volume:
                v = volume[kind]
                self._fill_source(pod, {kind: {"name": v.get(ref), "items": v.get("items"),
                                               "optional": v.get("optional", False)}},
                                  target, v.get("defaultMode", 0o644), tokens)
                return
        if "downwardAPI" in volume:
            self._fill_source(pod, volume, target, volume["downwardAPI"].get("defaultMode", 0o644),
                              tokens)
            return
        raise CannotRun(f"volume {volume['name']}: type {sorted(set(volume) - {'name'})} is not "
                        f"supported by the testbed kubelet (projected, secret, configMap, "
                        f"downwardAPI, emptyDir are)")

    def _fill_source(self, pod, source, target, mode, tokens):
        ns = pod["metadata"].get("namespace", "")
        if "serviceAccountToken" in source:
            t = source["serviceAccountToken"]
            sa = (pod.get("spec") or {}).get("serviceAccountName") or "default"
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                    "spec": {"expirationSeconds": t.get("expirationSeconds", 3607),
                             "boundObjectRef": {"apiVersion": "v1", "kind": "Pod",
                                                "name": pod["metadata"]["name"],
                                                "uid": pod["metadata"]["uid"]}}}
            if t.get("audience"):
                body["spec"]["audiences"] = [t["audience"]]
            token = TokenFile(os.path.join(target, t["path"]),
                              f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token", body, mode)
            self._renew(token)
            tokens.append(token)
            return
        if "downwardAPI" in source:
            for item in source["downwardAPI"].get("items") or []:
                if "fieldRef" not in item:
                    raise CannotRun(f"downwardAPI {item['path']}: only fieldRef is supported")
                _write(os.path.join(target, item["path"]),
                       _field(pod, item["fieldRef"]["fieldPath"]).encode(),
                       item.get("mode", mode))
            return
        for kind in ("secret", "configMap"):
            if kind in source:
                ref = source[kind]
                if kind == "configMap" and ref.get("name") == "kube-root-ca.crt" and \
                        self.client.ca_pem and not self._exists(ns, ref["name"]):
                    data = {"ca.crt": self.client.ca_pem}  # a server without the publisher
                else:
                    data = self._data(ns, kind, ref["name"], ref.get("optional", False))
                items = ref.get("items") or [{"key": k, "path": k} for k in data]
                for item in items:
                    if item["key"] not in data:
                        if ref.get("optional", False):
                            continue
                        raise CannotRun(f"{kind} {ref['name']} has no key {item['key']}")
                    _write(os.path.join(target, item["path"]), data[item["key"]],
                           item.get("mode", mode))
                return
        raise CannotRun(f"projected source {sorted(source)} is not supported by the testbed "
                        f"kubelet")

    def _exists(self, ns, configmap):
        try:
            self.client.get(f"/api/v1/namespaces/{ns}/configmaps/{configmap}")
            return True
        except KubeError as e:
            if e.code == 404:
                return False
            raise

    def _renew(self, token):
        """Asks the TokenRequest API for a fresh token; renewed at 80% of its lifetime, as the
        kubelet does."""
        answer = self.client.create(token.request_path, token.body)
        status = answer.get("status") or {}
        _write(token.path, status["token"].encode(), token.mode)
        lifetime = token.body["spec"]["expirationSeconds"]
        try:
            expiry = datetime.datetime.strptime(status["expirationTimestamp"],
                                                "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
            lifetime = (expiry - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        except (KeyError, ValueError):
            pass
        token.renew_at = time.monotonic() + 0.8 * max(lifetime, 1)

    def _kill(self, key):
        with self._lock:
            running = self._running.pop(key, None)
        if running:
            self._finished.add(running.uid)
            processes.terminate(running.proc)
            log.info("pod %s/%s: stopped pid %d", key[0], key[1], running.proc.pid)
            self._write_state()

    # -- process watching and status -----------------------------------------------------------

    def _check_processes(self):
        for key, running in list(self._running.items()):
            code = running.proc.poll()
            if code is not None:
                with self._lock:
                    self._running.pop(key, None)
                self._finished.add(running.uid)
                self._write_state()
                self._set_exited(running, code)
                continue
            for token in running.tokens:
                if time.monotonic() >= token.renew_at:
                    try:
                        self._renew(token)
                    except (KubeError, OSError) as e:
                        log.warning("pod %s/%s: renewing its token: %s", key[0], key[1], e)
                        token.renew_at = time.monotonic() + 10
            first = False
            if not running.listening:
                if all(processes.port_open(p) for p in running.ports.values()):
                    running.listening = first = True
                elif time.monotonic() - running.started > READY_TIMEOUT:
                    self._kill(key)
                    self._set_failed_process(running, "NotListening",
                                             f"no listener on the mapped ports {running.ports} "
                                             f"after {READY_TIMEOUT}s")
                    continue
            if running.listening:
                ready = self._probe(running)
                if first or ready != running.ready:
                    running.ready = ready
                    self._write_state()
                    self._set_running(running)

    def _probe(self, r):
        """A readinessProbe httpGet (every periodSeconds), or True without one."""
        if not r.probe:
            return True
        now = time.monotonic()
        if now < r.next_probe:
            return r.ready
        r.next_probe = now + r.probe_period
        port = r.local_port(r.probe.get("port"))
        if port is None:
            return False
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", r.probe.get("path", "/"))
            code = conn.getresponse().status
            conn.close()
        except OSError:
            return False
        return 200 <= code < 400

    def _status_path(self, ns, name):
        return f"/api/v1/namespaces/{ns}/pods/{name}/status"

    def _patch_status(self, ns, name, status):
        try:
            self.client.merge_patch(self._status_path(ns, name), {"status": status})
        except KubeError as e:
            if e.code not in (404, 409):
                raise

    def _set_running(self, r):
        now = _now()
        ready = "True" if r.ready else "False"
        conditions = [{"type": t, "status": "True", "lastTransitionTime": now}
                      for t in ("PodScheduled", "Initialized")]
        conditions += [{"type": t, "status": ready, "lastTransitionTime": now}
                       for t in ("ContainersReady", "Ready")]
        self._patch_status(r.namespace, r.name, {
            "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}], "startTime": r.started_at, "conditions": conditions,
            "containerStatuses": [{
                "name": r.container.get("name", "main"), "image": r.container.get("image", ""),
                "imageID": "", "containerID": f"testbed://{r.proc.pid}", "ready": r.ready,
                "started": True, "restartCount": 0,
                "state": {"running": {"startedAt": r.started_at}}}]})
        log.info("pod %s/%s: Running, ready %s", r.namespace, r.name, r.ready)

    def _set_exited(self, r, code):
        reason = "Completed" if code == 0 else "Error"
        self._set_failed_process(r, reason, f"process exited with code {code}: "
                                            f"{processes.tail(r.log_path, 400)}",
                                 phase="Succeeded" if code == 0 else "Failed", code=code)

    def _set_failed_process(self, r, reason, message, phase="Failed", code=1):
        now = _now()
        self._patch_status(r.namespace, r.name, {
            "phase": phase, "reason": reason, "message": message, "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "False", "reason": reason,
                            "lastTransitionTime": now}],
            "containerStatuses": [{
                "name": r.container.get("name", "main"), "image": r.container.get("image", ""),
                "imageID": "", "ready": False, "started": False, "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "reason": reason,
                                         "startedAt": r.started_at, "finishedAt": now}}}]})
        log.info("pod %s/%s: %s (%s)", r.namespace, r.name, phase, reason)

    def _set_failed(self, pod, reason, message):
        ns, name = object_key(pod)
        self._patch_status(ns, name, {
            "phase": "Failed", "reason": reason, "message": message,
            "conditions": [{"type": "Ready", "status": "False", "reason": reason,
                            "message": message, "lastTransitionTime": _now()}]})

    def _write_state(self):
        with self._lock:
            state = {f"{r.namespace}/{r.name}": {
                "uid": r.uid, "pid": r.proc.pid, "argv0": r.proc.args[0], "ready": r.ready,
                "log": r.log_path,
                "ports": {str(k): v for k, v in r.ports.items()}} for r in self._running.values()}
        path = os.path.join(self.workdir, "kubelet.json")
        with open(path + ".tmp", "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(path + ".tmp", path)

    # -- Services ------------------------------------------------------------------------------

    def endpoints(self, namespace, selector, target_port):
        """Local ports of ready Pods in namespace whose labels match selector."""
        if not selector:
            return []
        with self._lock:
            candidates = list(self._running.values())
        out = []
        for r in candidates:
            if r.namespace != namespace or not r.ready:
                continue
            if all(r.labels.get(k) == v for k, v in selector.items()):
                port = r.local_port(target_port)
                if port:
                    out.append(port)
        return out


def _write(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)  # atomic: a reader sees the old token or the new one


def _mount_namespace_argv():
    """The unshare command that gives a process its own mount namespace here, or None."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    for argv in ([unshare, "--mount", "--uts", "--propagation", "private"],
                 [unshare, "--mount", "--uts", "--propagation", "private", "--map-root-user"]):
        r = subprocess.run(argv + ["/bin/sh", "-c", "mount -t tmpfs tmpfs /run && "
                                   "printf x >/proc/sys/kernel/hostname"],
                           capture_output=True, timeout=30)
        if r.returncode == 0:
            return argv
    return None


def resolve_service(services, kubelet, namespace, name, port):
    """(local port, None) for Service namespace/name and a backend port {number|name},
    or (None, why)."""
    svc = services.get(namespace, name)
    if svc is None:
        return None, f"service {namespace}/{name} not found"
    spec = svc.get("spec") or {}
    svc_ports = spec.get("ports") or []
    chosen = None
    for p in svc_ports:
        if ("number" in port and p.get("port") == port["number"]) or \
                ("name" in port and p.get("name") == port["name"]):
            chosen = p
            break
    if chosen is None and not port and len(svc_ports) == 1:
        chosen = svc_ports[0]
    if chosen is None:
        return None, f"service {namespace}/{name} has no port {port}"
    target = chosen.get("targetPort", chosen.get("port"))
    ports = kubelet.endpoints(namespace, spec.get("selector") or {}, target)
    if not ports:
        return None, f"service {namespace}/{name} has no ready endpoints"
    return ports[0], None
