"""A stand-in ingress controller: routes HTTP by Host and path to the kubelet's Pod processes.

It follows networking.k8s.io/v1 Ingress semantics closely enough for http-01 solvers:
  - an Ingress is ours when spec.ingressClassName (or the older kubernetes.io/ingress.class
    annotation, which cert-manager's `class` field sets) names our class, or when it names no
    class and ours is the default class;
  - rules match the Host header exactly or by a leading "*." wildcard (one label); a rule
    without host matches any host;
  - Exact paths match the whole path; Prefix paths match whole "/"-separated elements ("/foo"
    matches "/foo" and "/foo/bar", not "/foobar"); ImplementationSpecific is treated as Prefix;
    the longest match wins and Exact beats Prefix;
  - spec.defaultBackend answers when no rule matches; otherwise 404.
The backend Service is resolved to a Pod process through kubelet.resolve_service.

With a gateway.GatewayController (the Gateway API CRDs installed), HTTPRoutes attached to the
HTTP listeners of its Gateways are served on the same port. The best Ingress rule (chosen as
above, unchanged) and the best HTTPRoute rule (chosen by the Gateway API's precedence, see
gateway.py) are then compared by (hostname precedence, Exact over prefix, path length): a host
without wildcard beats a wildcard host, which beats no host; the longer non-wildcard host wins;
then Exact, then the longer path. A tie goes to the Ingress. An Ingress defaultBackend answers
only when neither matched. An HTTPRoute rule with no usable backendRef answers 500.
"""

import http.client
import http.server
import logging
import threading
import time
import urllib.parse

from informer import Informer
from kube_client import KubeError
from kubelet import resolve_service

log = logging.getLogger("testbed.ingress")

LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}


def _host_matches(rule_host, host):
    if not rule_host:
        return True
    if rule_host.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == rule_host[2:]
    return rule_host == host


def _path_match_length(path_type, rule_path, path):
    """Length of the match (higher is more specific), or -1 when rule_path does not match."""
    rule_path = rule_path or "/"
    if path_type == "Exact":
        return len(rule_path) if path == rule_path else -1
    # Prefix (and ImplementationSpecific, treated the same): element-wise prefix match.
    want = [p for p in rule_path.split("/") if p]
    have = [p for p in path.split("/") if p]
    if have[:len(want)] == want:
        return len(rule_path.rstrip("/"))
    return -1


def _ingress_host_key(rule_host):
    """Sorts like gateway.host_precedence: non-wildcard characters, then characters."""
    if not rule_host:
        return (0, 0)
    return (0 if rule_host.startswith("*.") else len(rule_host), len(rule_host))


class IngressRouter:
    def __init__(self, client, class_name, services, kubelet, default_class=False,
                 wait_ready=0.0):
        self.class_name = class_name
        self.wait_ready = wait_ready  # seconds a request may wait for a Service's first endpoint
        self.default_class = default_class
        self.services = services
        self.kubelet = kubelet
        self.client = client
        self.gateway = None  # a gateway.GatewayController when the Gateway API is installed
        self.port = None  # set once the server listens; published in Ingress status
        self.informer = Informer(client, "/apis/networking.k8s.io/v1/ingresses",
                                 handler=self._on_event)

    def _on_event(self, kind, ingress):
        # Like real controllers, publish where the Ingress is served in
        # status.loadBalancer.ingress (tools such as `kubectl get ingress` show it).
        if kind == "DELETED" or not self.port or not self.is_ours(ingress):
            return
        want = [{"ip": "127.0.0.1", "ports": [{"port": self.port, "protocol": "TCP"}]}]
        if ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") == want:
            return
        meta = ingress["metadata"]
        try:
            self.client.merge_patch(
                f"/apis/networking.k8s.io/v1/namespaces/{meta['namespace']}/ingresses/"
                f"{meta['name']}/status", {"status": {"loadBalancer": {"ingress": want}}})
        except KubeError as e:
            if e.code not in (404, 409):
                log.warning("ingress %s/%s: status: %s", meta["namespace"], meta["name"], e)

    def is_ours(self, ingress):
        spec = ingress.get("spec") or {}
        annotations = (ingress.get("metadata") or {}).get("annotations") or {}
        cls = spec.get("ingressClassName") or annotations.get(LEGACY_CLASS_ANNOTATION)
        if cls:
            return cls == self.class_name
        return self.default_class

    def route(self, host, path, method="GET", headers=None):
        """(namespace, backend) of the best Ingress or HTTPRoute match, or None. An HTTPRoute's
        backend is {"httpRoute": (namespace, name, port) or None}."""
        host = host.rsplit(":", 1)[0].lower().rstrip(".") if host else ""
        path, _, query = path.partition("?")
        path = path or "/"
        ingress = self._route_ingress(host, path)
        gw = None
        if self.gateway is not None:
            params = urllib.parse.parse_qs(query, keep_blank_values=True)
            gw = self.gateway.route(host, method, path, headers,
                                    {k: v[0] for k, v in params.items()})
        if gw is not None:
            (hkey, mkey, _), ns, ref = gw
            gw_key = (hkey, mkey[0], mkey[1])
            if ingress is None or ingress[0] is None or gw_key > ingress[0]:
                return ns, {"httpRoute": ref}
        if ingress is None:
            return None
        return ingress[1], ingress[2]

    def _route_ingress(self, host, path):
        """(key or None for a default backend, namespace, backend) of the best Ingress rule."""
        best = None  # (exact?, length, namespace, backend)
        defaults = []
        for ing in self.informer.list():
            if not self.is_ours(ing) or (ing.get("metadata") or {}).get("deletionTimestamp"):
                continue
            ns = ing["metadata"].get("namespace", "")
            spec = ing.get("spec") or {}
            if spec.get("defaultBackend"):
                defaults.append((ns, spec["defaultBackend"]))
            for rule in spec.get("rules") or []:
                if not _host_matches(rule.get("host", ""), host):
                    continue
                for p in (rule.get("http") or {}).get("paths") or []:
                    n = _path_match_length(p.get("pathType", "Prefix"), p.get("path", "/"), path)
                    if n < 0:
                        continue
                    score = (p.get("pathType") == "Exact", n)
                    if best is None or score > best[0]:
                        best = (score, ns, p.get("backend") or {},
                                _ingress_host_key(rule.get("host", "")))
        if best:
            (exact, n), ns, backend, hkey = best
            return (hkey, exact, n), ns, backend
        return (None,) + defaults[0] if defaults else None

    def invalid_backend(self, namespace, backend):
        """An HTTPRoute rule without backendRef or naming a missing Service: the Gateway API
        answers 500 there (an Ingress backend answers 503)."""
        if "httpRoute" not in backend:
            return False
        ref = backend["httpRoute"]
        return ref is None or self.services.get(ref[0], ref[1]) is None

    def backend_port(self, namespace, backend):
        if "httpRoute" in backend:
            ref = backend["httpRoute"]
            if ref is None:
                return None, "the HTTPRoute rule has no backendRef"
            ns, name, port = ref
            return resolve_service(self.services, self.kubelet, ns, name,
                                   {"number": port} if port else {})
        service = backend.get("service")
        if not service:
            return None, "backend is not a service"
        return resolve_service(self.services, self.kubelet, namespace, service.get("name", ""),
                               service.get("port") or {})


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    router = None  # set on the subclass made per server
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.client_address[0], *args)

    def _answer(self, code, text):
        body = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _proxy(self):
        try:
            self._route_and_forward()
        except Exception as e:  # a malformed object must answer 500, not drop the connection
            log.exception("ingress: %s %s failed", self.command, self.path)
            self._answer(500, f"testbed ingress: {type(e).__name__}: {e}")

    def _route_and_forward(self):
        host = self.headers.get("Host", "")
        match = self.router.route(host, self.path, self.command, dict(self.headers.items()))
        if match is None:
            log.info("ingress: 404 %s %s%s", self.command, host, self.path)
            return self._answer(404, f"testbed ingress: no rule for host {host!r} path "
                                     f"{self.path!r}")
        port, why = self.router.backend_port(*match)
        deadline = time.monotonic() + self.router.wait_ready
        while port is None and time.monotonic() < deadline:
            time.sleep(0.1)
            port, why = self.router.backend_port(*match)
        if port is None and self.router.invalid_backend(*match):
            log.info("ingress: 500 %s %s%s: %s", self.command, host, self.path, why)
            return self._answer(500, f"testbed ingress: {why}")
        if port is None:
            log.info("ingress: 503 %s %s%s: %s", self.command, host, self.path, why)
            return self._answer(503, f"testbed ingress: {why}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
        except OSError as e:
            log.info("ingress: 502 %s %s%s: %s", self.command, host, self.path, e)
            return self._answer(502, f"testbed ingress: backend on port {port}: {e}")
        log.info("ingress: %d %s %s%s -> 127.0.0.1:%d", resp.status, self.command, host,
                 self.path, port)
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy


class IngressServer:
    """The listening side; bind() first (port 0) so Pebble can be told the port."""

    def __init__(self, router, port=0):
        handler = type("Handler", (_ProxyHandler,), {"router": router})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="ingress",
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
