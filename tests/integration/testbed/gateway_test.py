#!/usr/bin/python3
"""Unit tests of the testbed's Gateway API controller (tests/testbed/gateway.py) and of how the
ingress stand-in picks between Ingress and HTTPRoute rules: pure functions and fakes only, no
server, no network, no sleeps."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testbed"))

import gateway as gw  # noqa: E402
from gateway import (attach, best_rule, compute, host_matches, hostnames_intersect,  # noqa: E402
                     listener_admits, match_key, path_matches, resolve_refs)
from ingress import IngressRouter  # noqa: E402


def gateway(listeners, ns="gw-ns", name="gw", cls="testbed", generation=3):
    return {"metadata": {"namespace": ns, "name": name, "generation": generation},
            "spec": {"gatewayClassName": cls, "listeners": listeners}}


def listener(name="http", protocol="HTTP", hostname=None, port=80, allowed=None, tls=None):
    out = {"name": name, "protocol": protocol, "port": port}
    if hostname:
        out["hostname"] = hostname
    if allowed is not None:
        out["allowedRoutes"] = allowed
    if tls is not None:
        out["tls"] = tls
    return out


def route(parent_refs, ns="gw-ns", name="r", hostnames=None, rules=None, generation=2,
          created="2026-01-01T00:00:00Z"):
    spec = {"parentRefs": parent_refs,
            "rules": rules if rules is not None else [{"backendRefs": [{"name": "svc",
                                                                         "port": 80}]}]}
    if hostnames:
        spec["hostnames"] = hostnames
    return {"metadata": {"namespace": ns, "name": name, "generation": generation,
                         "creationTimestamp": created}, "spec": spec}


CLASS = {"metadata": {"name": "testbed", "generation": 1},
         "spec": {"controllerName": gw.CONTROLLER_NAME}}


def conditions(status_conds):
    return {c["type"]: (c["status"], c["reason"]) for c in status_conds}


class HostnameTest(unittest.TestCase):
    def test_request_host(self):
        self.assertTrue(host_matches("a.example", "a.example"))
        self.assertFalse(host_matches("a.example", "b.example"))
        self.assertTrue(host_matches("*.example", "a.example"))
        self.assertTrue(host_matches("*.example", "a.b.example"), "suffix of several labels")
        self.assertFalse(host_matches("*.example", "example"))
        self.assertFalse(host_matches("*.example", "aexample"))
        self.assertTrue(host_matches(None, "anything"))

    def test_listener_and_route_hostnames(self):
        self.assertTrue(hostnames_intersect("*.example.com", "test.example.com"))
        self.assertTrue(hostnames_intersect("*.example.com", "foo.test.example.com"))
        self.assertTrue(hostnames_intersect("*.example.com", "*.example.com"))
        self.assertTrue(hostnames_intersect("test.example.com", "*.example.com"))
        self.assertTrue(hostnames_intersect("*.foo.example.com", "*.example.com"))
        self.assertTrue(hostnames_intersect("*.example.com", "*.foo.example.com"))
        self.assertFalse(hostnames_intersect("*.example.com", "example.com"))
        self.assertFalse(hostnames_intersect("*.example.com", "test.example.net"))
        self.assertFalse(hostnames_intersect("a.example.com", "b.example.com"))
        self.assertTrue(hostnames_intersect(None, "b.example.com"))
        self.assertTrue(hostnames_intersect("a.example.com", None))


class PathAndMatchTest(unittest.TestCase):
    def test_prefix_is_element_wise(self):
        for path in ("/abc", "/abc/", "/abc/def"):
            self.assertTrue(path_matches("PathPrefix", "/abc", path), path)
            self.assertTrue(path_matches("PathPrefix", "/abc/", path), path)
        self.assertFalse(path_matches("PathPrefix", "/abc", "/abcd"))
        self.assertTrue(path_matches("PathPrefix", "/", "/anything"))

    def test_exact(self):
        token = "/.well-known/acme-challenge/T0k"
        self.assertTrue(path_matches("Exact", token, token))
        self.assertFalse(path_matches("Exact", token, token + "/"))
        self.assertFalse(path_matches("Exact", token, token.upper()), "case-sensitive")

    def test_method_headers_query(self):
        m = {"path": {"type": "PathPrefix", "value": "/"}, "method": "GET",
             "headers": [{"name": "X-A", "value": "1"}],
             "queryParams": [{"name": "q", "type": "RegularExpression", "value": "[0-9]+"}]}
        self.assertIsNotNone(match_key(m, "GET", "/x", {"x-a": "1"}, {"q": "42"}))
        self.assertIsNone(match_key(m, "POST", "/x", {"x-a": "1"}, {"q": "42"}))
        self.assertIsNone(match_key(m, "GET", "/x", {"x-a": "2"}, {"q": "42"}))
        self.assertIsNone(match_key(m, "GET", "/x", {"x-a": "1"}, {"q": "x"}))
        self.assertIsNone(match_key(m, "GET", "/x", {}, {"q": "42"}))


class AllowedRoutesTest(unittest.TestCase):
    labels = {"gw-ns": {}, "team-a": {"team": "a"}, "team-b": {"team": "b"}}

    def test_namespaces_from(self):
        same = listener()
        self.assertTrue(listener_admits(same, "gw-ns", "gw-ns", self.labels), "Same is default")
        self.assertFalse(listener_admits(same, "gw-ns", "team-a", self.labels))
        every = listener(allowed={"namespaces": {"from": "All"}})
        self.assertTrue(listener_admits(every, "gw-ns", "team-b", self.labels))
        sel = listener(allowed={"namespaces": {"from": "Selector", "selector": {
            "matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}}})
        self.assertTrue(listener_admits(sel, "gw-ns", "team-a", self.labels))
        self.assertFalse(listener_admits(sel, "gw-ns", "team-b", self.labels))
        self.assertFalse(listener_admits(sel, "gw-ns", "gw-ns", self.labels))

    def test_kinds(self):
        grpc_only = listener(allowed={"kinds": [{"kind": "GRPCRoute"}]})
        self.assertFalse(listener_admits(grpc_only, "gw-ns", "gw-ns", self.labels))
        self.assertFalse(listener_admits(listener(protocol="TCP"), "gw-ns", "gw-ns", self.labels))


class AttachTest(unittest.TestCase):
    ns_labels = {"gw-ns": {}, "apps": {}}

    def attach(self, g, r, ref=None):
        ok = {l["name"] for l in g["spec"]["listeners"]}
        return attach(g, ok, r, ref or r["spec"]["parentRefs"][0], self.ns_labels)

    def test_accepted_on_matching_listeners_only(self):
        g = gateway([listener("a", hostname="a.example"), listener("b", hostname="b.example"),
                     listener("any")])
        accepted, reason, _, names = self.attach(g, route([{"name": "gw"}],
                                                          hostnames=["a.example"]))
        self.assertEqual((accepted, reason, names), (True, "Accepted", ["a", "any"]))

    def test_no_matching_parent(self):
        g = gateway([listener("http")])
        r = route([{"name": "gw", "sectionName": "https"}])
        self.assertEqual(self.attach(g, r)[:2], (False, "NoMatchingParent"))
        r = route([{"name": "gw", "port": 8443}])
        self.assertEqual(self.attach(g, r)[:2], (False, "NoMatchingParent"))

    def test_not_allowed_by_listeners(self):
        g = gateway([listener("http", allowed={"namespaces": {"from": "Same"}})])
        r = route([{"name": "gw", "namespace": "gw-ns"}], ns="apps")
        self.assertEqual(self.attach(g, r)[:2], (False, "NotAllowedByListeners"))

    def test_no_matching_listener_hostname(self):
        g = gateway([listener("http", hostname="*.example")])
        r = route([{"name": "gw"}], hostnames=["a.other"])
        self.assertEqual(self.attach(g, r)[:2], (False, "NoMatchingListenerHostname"))

    def test_section_name_limits_listeners(self):
        g = gateway([listener("a", hostname="a.example"), listener("b", hostname="b.example")])
        r = route([{"name": "gw", "sectionName": "b"}], hostnames=["a.example"])
        self.assertEqual(self.attach(g, r)[:2], (False, "NoMatchingListenerHostname"))

    def test_resolved_refs(self):
        services = {("gw-ns", "svc")}
        self.assertEqual(resolve_refs(route([]), services, [])[:2], (True, "ResolvedRefs"))
        missing = route([], rules=[{"backendRefs": [{"name": "nope", "port": 80}]}])
        self.assertEqual(resolve_refs(missing, services, [])[:2], (False, "BackendNotFound"))
        kind = route([], rules=[{"backendRefs": [{"group": "x.io", "kind": "Thing",
                                                  "name": "t"}]}])
        self.assertEqual(resolve_refs(kind, services, [])[:2], (False, "InvalidKind"))
        cross = route([], rules=[{"backendRefs": [{"name": "svc", "namespace": "apps",
                                                   "port": 80}]}])
        services.add(("apps", "svc"))
        self.assertEqual(resolve_refs(cross, services, [])[:2], (False, "RefNotPermitted"))
        grant = {"metadata": {"namespace": "apps", "name": "g"}, "spec": {
            "from": [{"group": gw.GROUP, "kind": "HTTPRoute", "namespace": "gw-ns"}],
            "to": [{"group": "", "kind": "Service"}]}}
        self.assertEqual(resolve_refs(cross, services, [grant])[:2], (True, "ResolvedRefs"))


class ComputeTest(unittest.TestCase):
    def compute(self, gateways, routes, services=(("gw-ns", "svc"),), secrets=None):
        return compute([CLASS], gateways, routes, {"gw-ns": {}, "apps": {}}, set(services),
                       secrets or {}, [])

    def test_statuses(self):
        g = gateway([listener("http", hostname="*.example"),
                     listener("https", "HTTPS", "a.example", 443,
                              tls={"mode": "Terminate", "certificateRefs": [{"name": "a-tls"}]})])
        ok = route([{"name": "gw"}], name="ok", hostnames=["a.example"])
        refused = route([{"name": "gw", "namespace": "gw-ns"}], ns="apps", name="refused")
        foreign = route([{"name": "elsewhere"}], name="foreign")
        snap = self.compute([g], [ok, refused, foreign])
        self.assertEqual(conditions(snap.classes["testbed"]["conditions"])["Accepted"],
                         ("True", "Accepted"))
        status = snap.gateways[("gw-ns", "gw")]
        self.assertEqual(conditions(status["conditions"]),
                         {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")})
        self.assertTrue(all(c["observedGeneration"] == 3 for c in status["conditions"]))
        http, https = status["listeners"]
        self.assertEqual(http["attachedRoutes"], 1)
        self.assertEqual(http["supportedKinds"], [{"group": gw.GROUP, "kind": "HTTPRoute"}])
        self.assertEqual(conditions(https["conditions"])["ResolvedRefs"],
                         ("False", "InvalidCertificateRef"))
        self.assertEqual(conditions(https["conditions"])["Programmed"], ("False", "Invalid"))
        parents = snap.routes[("gw-ns", "ok")]
        self.assertEqual(len(parents), 1)
        self.assertEqual(parents[0]["controllerName"], gw.CONTROLLER_NAME)
        self.assertEqual(parents[0]["parentRef"]["namespace"], "gw-ns")
        self.assertEqual(conditions(parents[0]["conditions"]),
                         {"Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")})
        self.assertEqual(parents[0]["conditions"][0]["observedGeneration"], 2)
        self.assertEqual(conditions(snap.routes[("apps", "refused")][0]["conditions"])["Accepted"],
                         ("False", "NotAllowedByListeners"))
        self.assertEqual(snap.routes[("gw-ns", "foreign")], [], "no status for others' parents")
        self.assertEqual([(t[1]["name"], t[2]["metadata"]["name"]) for t in snap.table],
                         [("http", "ok")], "only HTTP listeners route")

    def test_tls_secret_resolves(self):
        g = gateway([listener("https", "HTTPS", "a.example", 443,
                              tls={"certificateRefs": [{"name": "a-tls"}]})])
        snap = self.compute([g], [], secrets={("gw-ns", "a-tls"): "kubernetes.io/tls"})
        self.assertEqual(conditions(snap.gateways[("gw-ns", "gw")]["listeners"][0]["conditions"])
                         ["ResolvedRefs"], ("True", "ResolvedRefs"))

    def test_other_class_and_unsupported_protocol(self):
        other = gateway([listener()], name="other", cls="someone-else")
        tcp = gateway([listener("tcp", "TCP")], name="tcp")
        snap = self.compute([other, tcp], [])
        self.assertNotIn(("gw-ns", "other"), snap.gateways)
        status = snap.gateways[("gw-ns", "tcp")]
        self.assertEqual(conditions(status["listeners"][0]["conditions"])["Accepted"],
                         ("False", "UnsupportedProtocol"))
        self.assertEqual(conditions(status["conditions"])["Accepted"],
                         ("False", "ListenersNotValid"))


class PrecedenceTest(unittest.TestCase):
    def table(self, *routes, listeners=None):
        g = gateway(listeners or [listener("http")])
        return compute([CLASS], [g], list(routes), {"gw-ns": {}}, set(), {}, []).table

    @staticmethod
    def rule(path_type, value, backend):
        return {"matches": [{"path": {"type": path_type, "value": value}}],
                "backendRefs": [{"name": backend, "port": 80}]}

    def best(self, table, host, path):
        found = best_rule(table, host, "GET", path)
        return found and found[2]["backendRefs"][0]["name"]

    def test_exact_then_longest_prefix(self):
        r = route([{"name": "gw"}], rules=[self.rule("PathPrefix", "/", "root"),
                                           self.rule("PathPrefix", "/a", "a"),
                                           self.rule("Exact", "/a", "exact")])
        t = self.table(r)
        self.assertEqual(self.best(t, "x.example", "/a"), "exact")
        self.assertEqual(self.best(t, "x.example", "/a/b"), "a")
        self.assertEqual(self.best(t, "x.example", "/b"), "root")

    def test_hostname_precedence_before_path(self):
        wild = route([{"name": "gw"}], name="wild", hostnames=["*.example"],
                     rules=[self.rule("Exact", "/p", "wild")])
        exact = route([{"name": "gw"}], name="exact", hostnames=["a.example"],
                      rules=[self.rule("PathPrefix", "/", "exact")])
        t = self.table(wild, exact)
        self.assertEqual(self.best(t, "a.example", "/p"), "exact")
        self.assertEqual(self.best(t, "b.example", "/p"), "wild")
        self.assertIsNone(self.best(t, "b.example", "/q"))

    def test_oldest_route_then_name(self):
        old = route([{"name": "gw"}], name="z-old", created="2026-01-01T00:00:00Z",
                    rules=[self.rule("PathPrefix", "/", "old")])
        new = route([{"name": "gw"}], name="a-new", created="2026-01-02T00:00:00Z",
                    rules=[self.rule("PathPrefix", "/", "new")])
        self.assertEqual(self.best(self.table(new, old), "h", "/"), "old")
        b = route([{"name": "gw"}], name="b", rules=[self.rule("PathPrefix", "/", "b")])
        a = route([{"name": "gw"}], name="a", rules=[self.rule("PathPrefix", "/", "a")])
        self.assertEqual(self.best(self.table(b, a), "h", "/"), "a")

    def test_listener_hostname_filters_requests(self):
        r = route([{"name": "gw"}], rules=[self.rule("PathPrefix", "/", "svc")])
        t = self.table(r, listeners=[listener("http", hostname="*.example")])
        self.assertEqual(self.best(t, "a.example", "/"), "svc")
        self.assertIsNone(self.best(t, "a.other", "/"))


class _FakeInformer:
    def __init__(self, items):
        self.items = items

    def list(self):
        return list(self.items)


class _FakeGateway:
    def __init__(self, table):
        self.snapshot = type("S", (), {"table": table})()

    route = gw.GatewayController.route


class IngressAndRouteTest(unittest.TestCase):
    """The ingress stand-in compares its best Ingress rule with the best HTTPRoute rule."""

    def router(self, ingresses, routes):
        r = IngressRouter(client=None, class_name="testbed", services=None, kubelet=None)
        r.informer = _FakeInformer(ingresses)
        g = gateway([listener("http")])
        r.gateway = _FakeGateway(compute([CLASS], [g], routes, {"gw-ns": {}}, set(), {},
                                         []).table)
        return r

    @staticmethod
    def ingress(host, path, path_type, backend):
        return {"metadata": {"namespace": "ing-ns", "name": backend},
                "spec": {"ingressClassName": "testbed", "rules": [{"host": host, "http": {
                    "paths": [{"path": path, "pathType": path_type,
                               "backend": {"service": {"name": backend,
                                                       "port": {"number": 80}}}}]}}]}}

    @staticmethod
    def httproute(hostnames, path_type, value, backend):
        return route([{"name": "gw"}], name=backend, hostnames=hostnames, rules=[
            {"matches": [{"path": {"type": path_type, "value": value}}],
             "backendRefs": [{"name": backend, "port": 80}]}])

    @staticmethod
    def name(match):
        ns, backend = match
        if "httpRoute" in backend:
            return "route:" + backend["httpRoute"][1]
        return "ingress:" + backend["service"]["name"]

    def test_ingress_alone_unchanged(self):
        r = self.router([self.ingress("a.example", "/", "Prefix", "web")], [])
        self.assertEqual(self.name(r.route("a.example:80", "/x?y=1")), "ingress:web")
        self.assertIsNone(r.route("b.example", "/"))

    def test_more_specific_wins_and_ties_go_to_ingress(self):
        ing = self.ingress("a.example", "/", "Prefix", "web")
        token = "/.well-known/acme-challenge/T"
        r = self.router([ing], [self.httproute(["a.example"], "Exact", token, "solver")])
        self.assertEqual(self.name(r.route("a.example", token)), "route:solver")
        self.assertEqual(self.name(r.route("a.example", "/other")), "ingress:web")
        r = self.router([ing], [self.httproute(["a.example"], "PathPrefix", "/", "same")])
        self.assertEqual(self.name(r.route("a.example", "/x")), "ingress:web", "tie: Ingress")
        r = self.router([self.ingress("*.example", "/", "Prefix", "wild")],
                        [self.httproute(["a.example"], "PathPrefix", "/", "host")])
        self.assertEqual(self.name(r.route("a.example", "/x")), "route:host",
                         "an exact hostname beats a wildcard one")

    def test_default_backend_only_when_nothing_matches(self):
        default = {"metadata": {"namespace": "ing-ns", "name": "d"},
                   "spec": {"ingressClassName": "testbed",
                            "defaultBackend": {"service": {"name": "dflt",
                                                           "port": {"number": 80}}}}}
        r = self.router([default], [self.httproute(["a.example"], "PathPrefix", "/", "rt")])
        self.assertEqual(self.name(r.route("a.example", "/")), "route:rt")
        self.assertEqual(self.name(r.route("b.example", "/")), "ingress:dflt")


class _FakeClient:
    def __init__(self, obj):
        self.obj = obj
        self.puts = []

    def get(self, path):
        import copy
        return copy.deepcopy(self.obj)

    def request(self, method, path, body):
        self.puts.append((method, path, body))
        self.obj = body


class StatusWriteTest(unittest.TestCase):
    def controller(self, client):
        c = gw.GatewayController.__new__(gw.GatewayController)
        c.client, c.controller_name = client, gw.CONTROLLER_NAME
        return c

    def test_route_parents_of_others_kept_and_times_stable(self):
        theirs = {"parentRef": {"name": "x"}, "controllerName": "other.io/ctl",
                  "conditions": []}
        client = _FakeClient({"metadata": {"name": "r"}, "status": {"parents": [theirs]}})
        c = self.controller(client)
        g = gateway([listener()])
        parents = compute([CLASS], [g], [route([{"name": "gw"}])], {"gw-ns": {}},
                          {("gw-ns", "svc")}, {}, []).routes[("gw-ns", "r")]
        path = "/apis/gateway.networking.k8s.io/v1/namespaces/gw-ns/httproutes/r"
        c._write(path, lambda old: c._route_status(old, parents))
        self.assertEqual(len(client.puts), 1)
        self.assertEqual(client.puts[0][:2], ("PUT", path + "/status"))
        written = client.obj["status"]["parents"]
        self.assertEqual(written[0], theirs)
        self.assertEqual(written[1]["controllerName"], gw.CONTROLLER_NAME)
        stamp = written[1]["conditions"][0]["lastTransitionTime"]
        c._write(path, lambda old: c._route_status(old, parents))
        self.assertEqual(len(client.puts), 1, "no write when nothing changed")
        c._write(path, lambda old: c._route_status(old, []))
        self.assertEqual(client.obj["status"]["parents"], [theirs], "our entry removed")
        self.assertTrue(stamp)

    def test_no_request_when_the_cache_agrees(self):
        client = _FakeClient(None)
        c = self.controller(client)
        cached = {"metadata": {"name": "c"}, "status": {"conditions": [
            {"type": "Accepted", "status": "True", "lastTransitionTime": "t"}]}}
        c._write("/c", lambda old: gw._with_times(old, {"conditions": [
            {"type": "Accepted", "status": "True"}]}), cached)
        self.assertEqual(client.puts, [])

    def test_route_not_ours_untouched(self):
        client = _FakeClient({"metadata": {"name": "r"}, "spec": {}})
        c = self.controller(client)
        c._write("/r", lambda old: c._route_status(old, []))
        self.assertEqual(client.puts, [], "a route with no parent of ours gets no status")


if __name__ == "__main__":
    unittest.main()
