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

All process starts and stops happen on one long-lived worker thread, because PR_SET_PDEATHSIG is
tied to the thread that forked: the processes die with that thread.
"""

import datetime
import json
import logging
import os
import queue
import re
import shutil
import threading
import time

import processes
from informer import Informer, object_key
from kube_client import KubeError

log = logging.getLogger("testbed.kubelet")

CERTSMITH_SUBCOMMANDS = ("solver", "controller", "acme", "version")
READY_TIMEOUT = 30
_LISTEN_RE = re.compile(r"^(|0\.0\.0\.0|\[::\]|::|127\.0\.0\.1|localhost):(\d+)$")
_PORT_FLAG_RE = re.compile(r"^--[\w-]*(listen|port|addr)[\w-]*$")


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
        self.ready = False

    def local_port(self, target):
        """The local port for a Service targetPort (a number or a container port name)."""
        if isinstance(target, str) and not target.isdigit():
            target = self.port_names.get(target)
            if target is None:
                return None
        return self.ports.get(int(target))


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
        self._events = queue.Queue()
        self._lock = threading.Lock()
        self._running = {}  # (namespace, name) -> PodProcess
        self._finished = set()  # uids run once already: restartPolicy is treated as Never
        self._stop = threading.Event()
        self.informer = Informer(client, "/api/v1/pods", handler=self._on_event)
        self._worker = threading.Thread(target=self._work, name="kubelet", daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self):
        self._worker.start()
        self.informer.start()
        return self

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
        try:
            self._start(pod)
        except OSError as e:
            self._finished.add(meta.get("uid"))
            self._set_failed(pod, "CannotRun", f"could not start the process: {e}")
        except CannotRun as e:
            self._finished.add(meta.get("uid"))
            log.warning("pod %s/%s cannot run: %s", key[0], key[1], e)
            self._set_failed(pod, "CannotRun", str(e))

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
        argv = self._command(container)
        if not os.access(argv[0], os.X_OK):
            raise CannotRun(f"{argv[0]} is not an executable file (set CERTSMITH_BIN?)")
        declared = [p["containerPort"] for p in container.get("ports") or []]
        ports = {}
        for port in declared + _listen_ports(argv):
            ports.setdefault(port, processes.free_port())
        argv = [argv[0]] + rewrite_ports(argv[1:], ports)
        ns, name = object_key(pod)
        pod_dir = os.path.join(self.pods_dir, f"{ns}_{name}")
        os.makedirs(pod_dir, exist_ok=True)
        log_path = os.path.join(pod_dir, "log")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": pod_dir,
               "POD_NAME": name, "POD_NAMESPACE": ns, "POD_IP": "127.0.0.1"}
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = item["value"]
        with open(log_path, "ab") as f:
            f.write(f"# testbed kubelet: {' '.join(argv)}\n".encode())
        proc = processes.spawn(argv, log_path, env=env, cwd=pod_dir)
        running = PodProcess(pod, proc, ports, log_path)
        with self._lock:
            self._running[(ns, name)] = running
        self._write_state()
        log.info("pod %s/%s: started pid %d ports %s", ns, name, proc.pid, ports)

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
            elif not running.ready:
                if all(processes.port_open(p) for p in running.ports.values()):
                    running.ready = True
                    self._write_state()
                    self._set_running(running)
                elif time.monotonic() - running.started > READY_TIMEOUT:
                    self._kill(key)
                    self._set_failed_process(running, "NotListening",
                                             f"no listener on the mapped ports {running.ports} "
                                             f"after {READY_TIMEOUT}s")

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
        conditions = [{"type": t, "status": "True", "lastTransitionTime": now}
                      for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]
        self._patch_status(r.namespace, r.name, {
            "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}], "startTime": r.started_at, "conditions": conditions,
            "containerStatuses": [{
                "name": r.container.get("name", "main"), "image": r.container.get("image", ""),
                "imageID": "", "containerID": f"testbed://{r.proc.pid}", "ready": True,
                "started": True, "restartCount": 0,
                "state": {"running": {"startedAt": r.started_at}}}]})
        log.info("pod %s/%s: Running", r.namespace, r.name)

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
