"""The ingress stand-in as a Gateway API controller (gateway.networking.k8s.io/v1).

It controls the GatewayClasses whose spec.controllerName is CONTROLLER_NAME (the supervisor
creates one, `testbed`), their Gateways, and the HTTPRoutes attached to those Gateways. Every
Gateway of such a class listens, conceptually, on the ingress stand-in's one port (the port
Pebble validates http-01 against): a listener's `port` is kept in status but not opened. Only
`HTTP` listeners route traffic; `HTTPS` listeners get status (certificate references checked)
but no TLS is terminated; other protocols are not accepted (UnsupportedProtocol).

The decisions are pure functions of the objects (`compute`), so tests need no server:
  - hostnames (listener and route): exact, or `*.` prefixed, a suffix match of one or more
    labels (`*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`);
    a listener and a route attach when either has no hostname or some pair intersects;
  - a listener admits a route when its allowedRoutes.namespaces.from (Same, the default; All;
    Selector, a label selector on the route's Namespace) and allowedRoutes.kinds (default:
    HTTPRoute) allow it;
  - a parentRef attaches to the listeners it names (sectionName, port) or to all of them;
    refusal reasons, in order: NoMatchingParent (no listener has that sectionName / port),
    NotAllowedByListeners (no listener admits the route), NoMatchingListenerHostname (none of
    the admitting listeners shares a hostname);
  - ResolvedRefs per parent: InvalidKind (a backendRef that is not a core Service),
    RefNotPermitted (another namespace without a ReferenceGrant), BackendNotFound (no such
    Service); else True;
  - matching a request: hostname, then path (Exact, PathPrefix element-wise; a rule without
    matches is PathPrefix `/`), method, headers (Exact, RegularExpression) and query parameters;
    precedence as the spec orders it: the most specific hostname (characters of a non-wildcard
    hostname, then of the hostname), then Exact over PathPrefix, the longest path, method,
    the most headers, the most query parameters, then the oldest route, then namespace/name.

The ingress stand-in asks `route(host, path, ...)` for the best HTTPRoute rule and compares it
with the best Ingress rule (see ingress.py for that precedence).
"""

import datetime
import logging
import random
import re
import threading

from informer import Informer
from kube_client import KubeError

log = logging.getLogger("testbed.gateway")

GROUP = "gateway.networking.k8s.io"
API = f"/apis/{GROUP}/v1"
CONTROLLER_NAME = "testbed.certsmith.io/gateway-controller"
ROUTE_KINDS = {"HTTP": ["HTTPRoute"], "HTTPS": ["HTTPRoute"]}
TLS_SECRET = "kubernetes.io/tls"


# -- hostnames ------------------------------------------------------------------------------------

def host_matches(pattern, host):
    """Whether a request host matches a Gateway API hostname (None/"" matches every host)."""
    if not pattern:
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def hostnames_intersect(a, b):
    """Whether two Gateway API hostnames (a listener's and a route's) have a common name."""
    if not a or not b:
        return True
    if a.startswith("*.") and b.startswith("*."):
        return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])
    if a.startswith("*."):
        return host_matches(a, b)
    if b.startswith("*."):
        return host_matches(b, a)
    return a == b


def host_precedence(hostname):
    """Sort key of a matching hostname: non-wildcard characters first, then all characters."""
    if not hostname:
        return (0, 0)
    return (0 if hostname.startswith("*.") else len(hostname), len(hostname))


# -- paths and other matches ------------------------------------------------------------------------

def path_matches(match_type, value, path):
    """Whether a request path (no query) matches an HTTPRoute path match."""
    value = value or "/"
    if match_type == "Exact":
        return path == value
    if match_type == "RegularExpression":
        try:
            return re.fullmatch(value, path) is not None
        except re.error:
            return False
    # PathPrefix: element by element; a trailing "/" of the value is ignored.
    want = [p for p in value.split("/") if p]
    have = path.split("/")[1:] if path.startswith("/") else path.split("/")
    return have[:len(want)] == want


def _header_value(headers, name):
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def _value_matches(match, actual):
    if actual is None:
        return False
    if match.get("type", "Exact") == "RegularExpression":
        try:
            return re.fullmatch(match.get("value", ""), actual) is not None
        except re.error:
            return False
    return actual == match.get("value", "")


def match_key(match, method, path, headers, query):
    """The precedence key of an HTTPRouteMatch if the request matches it, else None."""
    p = match.get("path") or {"type": "PathPrefix", "value": "/"}
    ptype = p.get("type", "PathPrefix")
    if not path_matches(ptype, p.get("value", "/"), path):
        return None
    if match.get("method") and match["method"] != method:
        return None
    for h in match.get("headers") or []:
        if not _value_matches(h, _header_value(headers, h.get("name", ""))):
            return None
    for q in match.get("queryParams") or []:
        if not _value_matches(q, (query or {}).get(q.get("name", ""))):
            return None
    # Path characters, as ingress.py counts them (a prefix's trailing "/" is ignored).
    value = p.get("value", "/")
    length = {"Exact": len(value), "PathPrefix": len(value.rstrip("/"))}.get(ptype, 0)
    return (ptype == "Exact", length,
            bool(match.get("method")), len(match.get("headers") or []),
            len(match.get("queryParams") or []))


# -- listeners and parents ----------------------------------------------------------------------

def label_selector_matches(selector, labels):
    """A metav1.LabelSelector (matchLabels, matchExpressions) against a label map."""
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def listener_kinds(listener):
    """(supported kinds, invalid kinds) of a listener's allowedRoutes.kinds."""
    supported = ROUTE_KINDS.get(listener.get("protocol"), [])
    asked = (listener.get("allowedRoutes") or {}).get("kinds")
    if not asked:
        return list(supported), []
    ok, bad = [], []
    for k in asked:
        if k.get("group", GROUP) == GROUP and k.get("kind") in supported:
            ok.append(k["kind"])
        else:
            bad.append(k.get("kind", ""))
    return ok, bad


def listener_admits(listener, gateway_ns, route_ns, namespace_labels, kind="HTTPRoute"):
    """Whether the listener's allowedRoutes let a route of `kind` in `route_ns` attach."""
    if kind not in listener_kinds(listener)[0]:
        return False
    namespaces = (listener.get("allowedRoutes") or {}).get("namespaces") or {}
    frm = namespaces.get("from", "Same")
    if frm == "All":
        return True
    if frm == "Selector":
        return label_selector_matches(namespaces.get("selector") or {},
                                      namespace_labels.get(route_ns))
    return route_ns == gateway_ns


def parent_ref_key(ref, route_ns):
    """(namespace, name) of the Gateway a parentRef names, or None when it is not a Gateway."""
    if ref.get("group", GROUP) != GROUP or ref.get("kind", "Gateway") != "Gateway":
        return None
    return ref.get("namespace") or route_ns, ref.get("name", "")


def attach(gateway, listener_ok, route, ref, namespace_labels):
    """(accepted, reason, message, [listener names attached]) for one parentRef of `route` to
    `gateway`. listener_ok: names of the Gateway's listeners that are valid (Accepted)."""
    gw_ns = gateway["metadata"]["namespace"]
    route_ns = route["metadata"]["namespace"]
    listeners = (gateway.get("spec") or {}).get("listeners") or []
    named = listeners
    if ref.get("sectionName"):
        named = [l for l in named if l.get("name") == ref["sectionName"]]
        if not named:
            return (False, "NoMatchingParent",
                    f"Gateway {gw_ns}/{gateway['metadata']['name']} has no listener named "
                    f"{ref['sectionName']!r}", [])
    if ref.get("port"):
        named = [l for l in named if l.get("port") == ref["port"]]
        if not named:
            return (False, "NoMatchingParent",
                    f"no listener on port {ref['port']}", [])
    named = [l for l in named if l.get("name") in listener_ok]
    admitting = [l for l in named if listener_admits(l, gw_ns, route_ns, namespace_labels)]
    if not admitting:
        return (False, "NotAllowedByListeners",
                "no listener of the Gateway allows this route (allowedRoutes namespaces or "
                "kinds)", [])
    route_hosts = (route.get("spec") or {}).get("hostnames") or []
    attached = [l for l in admitting
                if not route_hosts or any(hostnames_intersect(l.get("hostname"), h)
                                          for h in route_hosts)]
    if not attached:
        return (False, "NoMatchingListenerHostname",
                "no listener hostname intersects the route's hostnames", [])
    return True, "Accepted", "accepted by the testbed Gateway", [l["name"] for l in attached]


def resolve_refs(route, services, grants):
    """(resolved, reason, message) for every backendRef of the route's rules.
    services: set of (namespace, name); grants: ReferenceGrant objects."""
    route_ns = route["metadata"]["namespace"]
    for rule in (route.get("spec") or {}).get("rules") or []:
        for b in rule.get("backendRefs") or []:
            group, kind = b.get("group", ""), b.get("kind", "Service")
            name, ns = b.get("name", ""), b.get("namespace") or route_ns
            if group != "" or kind != "Service":
                return False, "InvalidKind", f"backendRef {group}/{kind} {name} is not a Service"
            if ns != route_ns and not reference_granted(grants, "HTTPRoute", route_ns,
                                                        "Service", ns, name):
                return (False, "RefNotPermitted",
                        f"backendRef Service {ns}/{name}: no ReferenceGrant in {ns} allows it")
            if (ns, name) not in services:
                return False, "BackendNotFound", f"Service {ns}/{name} not found"
    return True, "ResolvedRefs", "all references resolved"


def reference_granted(grants, from_kind, from_ns, to_kind, to_ns, to_name, to_group=""):
    from_group = GROUP if from_kind in ("HTTPRoute", "Gateway") else ""
    for g in grants:
        if g["metadata"].get("namespace") != to_ns:
            continue
        spec = g.get("spec") or {}
        if not any(f.get("group", "") == from_group and f.get("kind") == from_kind
                   and f.get("namespace") == from_ns for f in spec.get("from") or []):
            continue
        if any(t.get("group", "") == to_group and t.get("kind") == to_kind
               and (not t.get("name") or t["name"] == to_name) for t in spec.get("to") or []):
            return True
    return False


def listener_status(gateway, listener, secrets, grants):
    """(accepted, programmed, resolved-refs, reasons...) of one listener:
    dict with supportedKinds and the three (status, reason, message) triples."""
    proto = listener.get("protocol")
    kinds, bad = listener_kinds(listener)
    gw_ns = gateway["metadata"]["namespace"]
    out = {"supportedKinds": [{"group": GROUP, "kind": k} for k in kinds]}
    if proto not in ROUTE_KINDS:
        out["Accepted"] = (False, "UnsupportedProtocol", f"protocol {proto} is not supported")
        out["ResolvedRefs"] = (True, "ResolvedRefs", "")
        out["Programmed"] = (False, "Invalid", "the listener is not accepted")
        return out
    out["Accepted"] = (True, "Accepted", "")
    resolved = (True, "ResolvedRefs", "")
    if bad:
        resolved = (False, "InvalidRouteKinds", f"unsupported route kinds: {', '.join(bad)}")
    elif proto == "HTTPS":
        tls = listener.get("tls") or {}
        if tls.get("mode", "Terminate") == "Terminate":
            for ref in tls.get("certificateRefs") or []:
                ns, name = ref.get("namespace") or gw_ns, ref.get("name", "")
                if ref.get("group", "") != "" or ref.get("kind", "Secret") != "Secret":
                    resolved = (False, "InvalidCertificateRef", f"{name} is not a Secret")
                elif ns != gw_ns and not reference_granted(grants, "Gateway", gw_ns, "Secret",
                                                           ns, name):
                    resolved = (False, "RefNotPermitted",
                                f"Secret {ns}/{name}: no ReferenceGrant allows it")
                elif secrets.get((ns, name)) != TLS_SECRET:
                    resolved = (False, "InvalidCertificateRef",
                                f"Secret {ns}/{name} does not exist or is not "
                                f"{TLS_SECRET}")
                if not resolved[0]:
                    break
            if not tls.get("certificateRefs"):
                resolved = (False, "InvalidCertificateRef", "no certificateRefs")
    out["ResolvedRefs"] = resolved
    out["Programmed"] = ((True, "Programmed", "") if resolved[0]
                         else (False, "Invalid", "references are not resolved"))
    return out


# -- computing every status and the routing table -----------------------------------------------

class Snapshot:
    """What one reconcile decided: statuses to write and the table requests are routed by."""

    def __init__(self):
        self.classes = {}   # name -> status
        self.gateways = {}  # (ns, name) -> status
        self.routes = {}    # (ns, name) -> [our parent statuses]
        # [(gateway, listener dict, route)] for HTTP listeners that carry the route
        self.table = []


def _cond(ctype, triple, generation):
    ok, reason, message = triple
    return {"type": ctype, "status": "True" if ok else "False", "reason": reason,
            "message": message, "observedGeneration": generation}


def compute(classes, gateways, routes, namespaces, services, secrets, grants,
            controller_name=CONTROLLER_NAME):
    """Every status this controller owes, from plain objects. namespaces: {name: labels};
    services: set of (ns, name); secrets: {(ns, name): type}; grants: ReferenceGrants."""
    snap = Snapshot()
    ours = set()
    for c in classes:
        if (c.get("spec") or {}).get("controllerName") != controller_name:
            continue
        name, gen = c["metadata"]["name"], c["metadata"].get("generation", 0)
        ours.add(name)
        snap.classes[name] = {"conditions": [
            _cond("Accepted", (True, "Accepted", "handled by the testbed"), gen),
            _cond("SupportedVersion", (True, "SupportedVersion", ""), gen)]}
    valid = {}  # (ns, name) -> (gateway, {listener name: listener}, {listener name: status})
    for g in gateways:
        meta = g["metadata"]
        if (g.get("spec") or {}).get("gatewayClassName") not in ours or meta.get(
                "deletionTimestamp"):
            continue
        gen = meta.get("generation", 0)
        states = {}
        for l in (g.get("spec") or {}).get("listeners") or []:
            states[l.get("name")] = listener_status(g, l, secrets, grants)
        ok = {n for n, s in states.items() if s["Accepted"][0]}
        valid[(meta["namespace"], meta["name"])] = (g, ok, states)
    attached = {key: {n: 0 for n in v[2]} for key, v in valid.items()}
    for r in routes:
        meta = r["metadata"]
        if meta.get("deletionTimestamp"):
            continue
        rkey = (meta["namespace"], meta["name"])
        gen = meta.get("generation", 0)
        parents = []
        resolved = None
        for ref in (r.get("spec") or {}).get("parentRefs") or []:
            key = parent_ref_key(ref, meta["namespace"])
            if key is None or key not in valid:
                continue  # not a Gateway of ours: another controller's business
            gw, ok_listeners, _ = valid[key]
            accepted, reason, message, names = attach(gw, ok_listeners, r, ref, namespaces)
            if resolved is None:
                resolved = resolve_refs(r, services, grants)
            parent_ref = {"group": GROUP, "kind": "Gateway", "namespace": key[0], "name": key[1]}
            for f in ("sectionName", "port"):
                if ref.get(f):
                    parent_ref[f] = ref[f]
            parents.append({"parentRef": parent_ref, "controllerName": controller_name,
                            "conditions": [_cond("Accepted", (accepted, reason, message), gen),
                                           _cond("ResolvedRefs", resolved, gen)]})
            if not accepted:
                continue
            for name in names:
                attached[key][name] += 1
            for l in (gw.get("spec") or {}).get("listeners") or []:
                if l.get("name") in names and l.get("protocol") == "HTTP":
                    snap.table.append((gw, l, r))
        snap.routes[rkey] = parents
    for key, (g, ok, states) in valid.items():
        gen = g["metadata"].get("generation", 0)
        listeners = []
        for l in (g.get("spec") or {}).get("listeners") or []:
            s = states[l.get("name")]
            listeners.append({
                "name": l.get("name"), "supportedKinds": s["supportedKinds"],
                "attachedRoutes": attached[key][l.get("name")],
                "conditions": [_cond("Accepted", s["Accepted"], gen),
                               _cond("Programmed", s["Programmed"], gen),
                               _cond("ResolvedRefs", s["ResolvedRefs"], gen),
                               _cond("Conflicted", (False, "NoConflicts", ""), gen)]})
        all_ok = len(ok) == len(states)
        programmed = any(s["Programmed"][0] for s in states.values())
        snap.gateways[key] = {
            "addresses": [{"type": "IPAddress", "value": "127.0.0.1"}],
            "conditions": [
                _cond("Accepted", (bool(ok), "Accepted" if all_ok else "ListenersNotValid",
                                   "" if all_ok else "some listeners are not valid"), gen),
                _cond("Programmed", (programmed, "Programmed" if programmed else "Invalid",
                                     "" if programmed else "no listener is programmed"), gen)],
            "listeners": listeners}
    return snap


def best_rule(table, host, method, path, headers=None, query=None):
    """(key, route, rule) of the request's best match in a Snapshot table, or None.
    key sorts like an Ingress match key in ingress.py: (host precedence, path precedence...)."""
    best = None
    for gw, listener, route in table:
        lh = listener.get("hostname")
        if not host_matches(lh, host):
            continue
        rhosts = (route.get("spec") or {}).get("hostnames") or []
        if rhosts:
            matching = [h for h in rhosts if host_matches(h, host)
                        and hostnames_intersect(lh, h)]
            if not matching:
                continue
            hkey = max(host_precedence(h) for h in matching)
        else:
            hkey = host_precedence(lh)
        meta = route["metadata"]
        tie = (_negated_time(meta.get("creationTimestamp", "")),
               tuple(-ord(c) for c in f"{meta['namespace']}/{meta['name']}"))
        for rule in (route.get("spec") or {}).get("rules") or [{}]:
            for m in rule.get("matches") or [{}]:
                mkey = match_key(m, method, path, headers, query)
                if mkey is None:
                    continue
                key = (hkey, mkey, tie)
                if best is None or key > best[0]:
                    best = (key, route, rule)
    return best


def _negated_time(ts):
    """A key that sorts an older RFC 3339 timestamp higher."""
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").timestamp()
    except ValueError:
        t = 0
    return -t


def pick_backend(route, rule):
    """(namespace, name, port) of a backendRef by weight, or None (no backend: 500)."""
    refs = [b for b in rule.get("backendRefs") or [] if b.get("weight", 1) > 0]
    if not refs:
        return None
    b = random.choices(refs, weights=[r.get("weight", 1) for r in refs])[0]
    return b.get("namespace") or route["metadata"]["namespace"], b.get("name", ""), b.get("port")


# -- the controller ------------------------------------------------------------------------------

def _merge_conditions(old, new):
    """New conditions, keeping lastTransitionTime where the status did not change."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = {c.get("type"): c for c in old or []}
    out = []
    for c in new:
        c = dict(c)
        prev = before.get(c["type"])
        c["lastTransitionTime"] = (prev.get("lastTransitionTime", now)
                                   if prev and prev.get("status") == c["status"] else now)
        out.append(c)
    return out


def _with_times(old, new):
    """`new` status with lastTransitionTimes carried over from `old` (recursively for
    listeners and parents)."""
    new = dict(new)
    new["conditions"] = _merge_conditions(old.get("conditions"), new.get("conditions", []))
    if "listeners" in new:
        before = {l.get("name"): l for l in old.get("listeners") or []}
        new["listeners"] = [dict(l, conditions=_merge_conditions(
            (before.get(l["name"]) or {}).get("conditions"), l["conditions"]))
            for l in new["listeners"]]
    return new


def _strip_times(obj):
    if isinstance(obj, dict):
        return {k: _strip_times(v) for k, v in obj.items() if k != "lastTransitionTime"}
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


class GatewayController:
    """Informers on the Gateway API kinds (and Namespaces, Secrets, ReferenceGrants), one
    reconcile thread writing statuses, and `route()` for the ingress stand-in."""

    def __init__(self, client, services, kubelet, controller_name=CONTROLLER_NAME):
        self.client = client
        self.services = services
        self.kubelet = kubelet
        self.controller_name = controller_name
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self.snapshot = Snapshot()
        kick = lambda *_: self._dirty.set()  # noqa: E731
        self.classes = Informer(client, f"{API}/gatewayclasses", handler=kick)
        self.gateways = Informer(client, f"{API}/gateways", handler=kick)
        self.routes = Informer(client, f"{API}/httproutes", handler=kick)
        self.grants = Informer(client, f"/apis/{GROUP}/v1beta1/referencegrants", handler=kick)
        self.namespaces = Informer(client, "/api/v1/namespaces", handler=kick)
        self.secrets = Informer(client, "/api/v1/secrets", handler=kick)
        self.informers = [self.classes, self.gateways, self.routes, self.grants,
                          self.namespaces, self.secrets]
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)

    def start(self):
        for i in self.informers:
            i.start()
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._dirty.set()
        for i in self.informers:
            i.stop()

    def wait_synced(self, timeout):
        return all(i.wait_synced(timeout) for i in self.informers)

    def kick(self):
        """Services change who resolves: the supervisor's Service informer calls this."""
        self._dirty.set()

    def _run(self):
        while not self._stop.is_set():
            self._dirty.wait(30)
            if self._stop.is_set():
                return
            self._dirty.clear()
            try:
                self.reconcile()
            except Exception:
                log.exception("gateway: reconcile failed")
                self._dirty.set()
            self._stop.wait(0.05)  # coalesce bursts of events

    def reconcile(self):
        snap = compute(
            self.classes.list(), self.gateways.list(), self.routes.list(),
            {n["metadata"]["name"]: n["metadata"].get("labels") or {}
             for n in self.namespaces.list()},
            {(s["metadata"]["namespace"], s["metadata"]["name"]) for s in self.services.list()},
            {(s["metadata"]["namespace"], s["metadata"]["name"]): s.get("type", "")
             for s in self.secrets.list()},
            self.grants.list(), self.controller_name)
        self.snapshot = snap  # routing first: a status saying Accepted means traffic flows
        for name, status in snap.classes.items():
            self._write(f"{API}/gatewayclasses/{name}", lambda old, s=status: _with_times(old, s),
                        self.classes.get("", name))
        for (ns, name), status in snap.gateways.items():
            self._write(f"{API}/namespaces/{ns}/gateways/{name}",
                        lambda old, s=status: _with_times(old, s), self.gateways.get(ns, name))
        for (ns, name), parents in snap.routes.items():
            self._write(f"{API}/namespaces/{ns}/httproutes/{name}",
                        lambda old, p=parents: self._route_status(old, p),
                        self.routes.get(ns, name))

    def _route_status(self, old, parents):
        """Our parent entries replace our old ones; other controllers' entries stay."""
        mine = {_parent_id(p["parentRef"]): p for p in old.get("parents") or []
                if p.get("controllerName") == self.controller_name}
        others = [p for p in old.get("parents") or []
                  if p.get("controllerName") != self.controller_name]
        if not parents and not mine:
            return old  # not attached to any of our Gateways: not ours to write
        out = []
        for p in parents:
            prev = mine.get(_parent_id(p["parentRef"])) or {}
            out.append(dict(p, conditions=_merge_conditions(prev.get("conditions"),
                                                            p["conditions"])))
        return dict(old, parents=others + out)

    def _write(self, path, make, cached=None):
        """Read, compute, and PUT the status subresource when it changed (retry on 409).
        Nothing is sent when the cached copy already has that status."""
        if cached is not None:
            old = cached.get("status") or {}
            if _strip_times(make(old)) == _strip_times(old):
                return
        for _ in range(5):
            try:
                obj = self.client.get(path)
            except KubeError as e:
                if e.code == 404:
                    return
                raise
            old = obj.get("status") or {}
            new = make(old)
            if _strip_times(new) == _strip_times(old):
                return
            obj["status"] = new
            try:
                self.client.request("PUT", path + "/status", obj)
                return
            except KubeError as e:
                if e.code == 404:
                    return
                if e.code != 409:
                    log.warning("gateway: status of %s: %s", path, e)
                    return

    def route(self, host, method, path, headers=None, query=None):
        """(key, namespace, backend or None) of the best HTTPRoute rule, or None."""
        best = best_rule(self.snapshot.table, host, method, path, headers, query)
        if best is None:
            return None
        key, route, rule = best
        return key, route["metadata"]["namespace"], pick_backend(route, rule)


def _parent_id(ref):
    return (ref.get("group", GROUP), ref.get("kind", "Gateway"), ref.get("namespace"),
            ref.get("name"), ref.get("sectionName"), ref.get("port"))
