#!/usr/bin/python3
"""Unit tests of the test API server's modules (no server, no network, no sleeps)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../apiserver"))

from kubeapi import patch, schema, selectors, table  # noqa: E402
from kubeapi.api import Api  # noqa: E402
from kubeapi.errors import ApiError  # noqa: E402
from kubeapi.resources import Registry  # noqa: E402
from kubeapi.faults import Faults  # noqa: E402
from kubeapi.storage import Event, Store  # noqa: E402
from kubeapi.watch import WatchRequest, WatchStream  # noqa: E402


class LabelSelectorTest(unittest.TestCase):
    def match(self, text, labels):
        return selectors.labels_match(selectors.parse_label_selector(text), labels)

    def test_operators(self):
        labels = {"app": "web", "tier": "front"}
        self.assertTrue(self.match("app=web", labels))
        self.assertTrue(self.match("app==web,tier", labels))
        self.assertFalse(self.match("app!=web", labels))
        self.assertTrue(self.match("tier in (front, back)", labels))
        self.assertFalse(self.match("tier notin (front,back)", labels))
        self.assertTrue(self.match("!missing", labels))
        self.assertFalse(self.match("missing", labels))
        self.assertTrue(self.match("missing notin (x)", labels))
        self.assertTrue(self.match("", labels))

    def test_bad_key_is_400(self):
        with self.assertRaises(ApiError) as e:
            selectors.parse_label_selector("a b=c")
        self.assertEqual(e.exception.code, 400)

    def test_field_selector(self):
        reqs = selectors.parse_field_selector("type=kubernetes.io/tls,metadata.name!=x",
                                              ("type", "metadata.name"))
        self.assertTrue(selectors.fields_match(reqs, {"type": "kubernetes.io/tls",
                                                      "metadata": {"name": "y"}}))
        with self.assertRaises(ApiError):
            selectors.parse_field_selector("spec.other=1", ("metadata.name",))


class PatchTest(unittest.TestCase):
    def test_merge_patch(self):
        self.assertEqual(patch.merge_patch({"a": 1, "b": {"c": 2}}, {"a": None, "b": {"d": 3}}),
                         {"b": {"c": 2, "d": 3}})

    def test_json_patch(self):
        doc = {"a": [1, 2], "b": "x"}
        out = patch.json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                                     {"op": "replace", "path": "/b", "value": "y"},
                                     {"op": "test", "path": "/b", "value": "y"},
                                     {"op": "move", "from": "/b", "path": "/c"}])
        self.assertEqual(out, {"a": [1, 2, 3], "c": "y"})
        self.assertEqual(doc, {"a": [1, 2], "b": "x"}, "input untouched")
        with self.assertRaises(ApiError):
            patch.json_patch(doc, [{"op": "remove", "path": "/zzz"}])

    def test_strategic_merge_by_key_and_directives(self):
        pod = {"spec": {"containers": [{"name": "a", "image": "1", "env": [{"name": "X"}]},
                                       {"name": "b", "image": "1"}]},
               "metadata": {"finalizers": ["f1"]}}
        out = patch.strategic_merge(pod, {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "1"}]},
                                    {"name": "b", "$patch": "delete"}]},
            "metadata": {"finalizers": ["f2"], "$deleteFromPrimitiveList/finalizers": ["f1"]}})
        # An item new to the server goes before the server-only ones, as kube-apiserver orders
        # them (a Service's ports patched with a new port: kubectl_builtin_test).
        self.assertEqual(out["spec"]["containers"],
                         [{"name": "a", "image": "1", "env": [{"name": "Y", "value": "1"},
                                                              {"name": "X"}]}])
        self.assertEqual(out["metadata"]["finalizers"], ["f2"])

    def test_merged_list_order(self):
        # apimachinery's normalizeElementOrder: patch items in the patch's order, server-only
        # items slotted in by their original place.
        svc = {"ports": [{"port": 1}, {"port": 2}, {"port": 3}]}
        out = patch.strategic_merge(svc, {"ports": [{"port": 3, "name": "x"}, {"port": 9}]})
        self.assertEqual([p["port"] for p in out["ports"]], [1, 2, 3, 9])
        out = patch.strategic_merge(svc, {"$setElementOrder/ports": [{"port": 3}, {"port": 1}],
                                          "ports": [{"port": 1, "name": "one"}]})
        self.assertEqual([p["port"] for p in out["ports"]], [2, 3, 1])
        out = patch.strategic_merge({"finalizers": ["a"]}, {"finalizers": ["b"]})
        self.assertEqual(out["finalizers"], ["b", "a"])

    def test_service_ports_keyed_by_port(self):
        svc = {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}
        out = patch.strategic_merge(svc, {"ports": [{"port": 443, "name": "tls"}]})
        self.assertEqual(out["ports"][1], {"port": 443, "name": "tls"})
        self.assertEqual(len(out["ports"]), 2)


SCHEMA = {"type": "object", "properties": {"spec": {
    "type": "object", "required": ["size"],
    "properties": {"size": {"type": "string", "enum": ["s", "m"]},
                   "n": {"type": "integer", "minimum": 1, "default": 2},
                   "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                   "list": {"type": "array", "items": {"type": "string", "maxLength": 3}}}}}}


class SchemaTest(unittest.TestCase):
    def test_prune_and_default(self):
        obj = {"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"},
               "spec": {"size": "s", "junk": 1, "free": {"any": {"thing": 1}}}, "top": 1}
        pruned = schema.prune(obj, SCHEMA)
        self.assertEqual(sorted(pruned), ["spec.junk", "top"])
        schema.apply_defaults(obj, SCHEMA)
        self.assertEqual(obj["spec"], {"size": "s", "n": 2, "free": {"any": {"thing": 1}}})
        self.assertEqual(obj["metadata"], {"name": "a"})

    def test_messages(self):
        causes = schema.validate({"spec": {"size": "x", "n": 0, "list": ["abcd"]}}, SCHEMA)
        messages = {c["field"]: c["message"] for c in causes}
        self.assertEqual(messages["spec.size"],
                         'Unsupported value: "x": supported values: "s", "m"')
        self.assertEqual(messages["spec.n"], "Invalid value: 0: spec.n in body should be "
                                             "greater than or equal to 1")
        self.assertIn("spec.list[0]", messages)
        causes = schema.validate({"spec": {"n": "1"}}, SCHEMA)
        self.assertEqual({c["reason"] for c in causes},
                         {"FieldValueRequired", "FieldValueTypeInvalid"})


class CompositionTest(unittest.TestCase):
    def test_any_one_not(self):
        any_of = {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}
        self.assertEqual(schema.validate({"b": 1}, any_of, "spec"), [])
        msgs = [c["message"] for c in schema.validate({}, any_of, "spec")]
        self.assertIn('Invalid value: "object": spec in body must validate at least one schema '
                      '(anyOf)', msgs)
        one_of = {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}
        msgs = [c["message"] for c in schema.validate({"a": 1, "b": 1}, one_of, "s")]
        self.assertTrue(msgs and msgs[-1].endswith("(oneOf). Found 2 valid alternatives"))
        self.assertEqual(schema.validate({"a": 1}, one_of, "s"), [])
        not_both = {"type": "object", "not": {"required": ["a", "b"]}}
        self.assertEqual(len(schema.validate({"a": 1, "b": 2}, not_both, "s")), 1)
        self.assertEqual(schema.validate({"a": 1}, not_both, "s"), [])


class TableTest(unittest.TestCase):
    def test_jsonpath(self):
        obj = {"status": {"conditions": [{"type": "A", "status": "False"},
                                         {"type": "Ready", "status": "True"}]},
               "spec": {"items": [{"n": 1}, {"n": 2}]}}
        self.assertEqual(table.jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status'),
                         ["True"])
        self.assertEqual(table.jsonpath(obj, ".spec.items[*].n"), [1, 2])
        self.assertEqual(table.jsonpath(obj, ".spec.items[1].n"), [2])
        self.assertEqual(table.jsonpath(obj, ".missing.x"), [])

    def test_human_age(self):
        import datetime
        now = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
        self.assertEqual(table.human_age("2026-01-01T23:59:30Z", now), "30s")
        self.assertEqual(table.human_age("2026-01-01T23:55:00Z", now), "5m")
        self.assertEqual(table.human_age("2026-01-01T00:00:00Z", now), "24h")
        self.assertEqual(table.human_age("2025-12-20T00:00:00.123456Z", now), "12d")


class StoreAndApiTest(unittest.TestCase):
    def setUp(self):
        self.api = Api(Registry(), Store(history_limit=3))
        self.ns = self.api.registry.lookup("", "v1", "namespaces")
        self.cm = self.api.registry.lookup("", "v1", "configmaps")
        self.api.create(self.ns, "", {"metadata": {"name": "default"}})

    def test_history_window_gives_410(self):
        first, _ = self.api.create(self.cm, "default", {"metadata": {"name": "a"}})
        for i in range(4):
            self.api.patch(self.cm, "default", "a", "application/merge-patch+json",
                           f'{{"data":{{"i":"{i}"}}}}'.encode())
        with self.assertRaises(ApiError) as e:
            self.api.store.events_since(int(first["metadata"]["resourceVersion"]))
        self.assertEqual(e.exception.code, 410)
        latest = int(self.api.get(self.cm, "default", "a")["metadata"]["resourceVersion"])
        self.assertEqual(self.api.store.events_since(latest - 1)[0].type, "MODIFIED")

    def test_pages_follow_key_order_and_selectors(self):
        self.api.create(self.ns, "", {"metadata": {"name": "other"}})
        for ns, name in (("default", "b"), ("other", "a"), ("default", "a"), ("default", "c")):
            self.api.create(self.cm, ns, {"metadata": {"name": name,
                                                       "labels": {"odd": str(name != "b")}}})
        items, _, token, remaining = self.api.list(self.cm, "default", limit=2)
        self.assertEqual([o["metadata"]["name"] for o in items], ["a", "b"])
        self.assertEqual(remaining, 1)
        items, _, token, _ = self.api.list(self.cm, "default", limit=2, cont=token)
        self.assertEqual(([o["metadata"]["name"] for o in items], token), (["c"], ""))
        items, _, token, remaining = self.api.list(self.cm, None, "odd=True", limit=2)
        self.assertEqual([(o["metadata"]["namespace"], o["metadata"]["name"]) for o in items],
                         [("default", "a"), ("default", "c")])
        self.assertTrue(token)
        self.assertIsNone(remaining)
        items, _, token, _ = self.api.list(self.cm, None, "odd=True", limit=2, cont=token)
        self.assertEqual([o["metadata"]["namespace"] for o in items], ["other"])
        self.assertEqual(token, "")

    def test_noop_update_keeps_resource_version(self):
        obj, _ = self.api.create(self.cm, "default", {"metadata": {"name": "a"},
                                                      "data": {"k": "v"}})
        again, _ = self.api.update(self.cm, "default", "a", obj)
        self.assertEqual(again["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"])

    def test_finalizers_hold_deletion(self):
        self.api.create(self.cm, "default", {"metadata": {"name": "a", "finalizers": ["x/y"]}})
        obj, deleted = self.api.delete(self.cm, "default", "a")
        self.assertFalse(deleted)
        self.assertIn("deletionTimestamp", obj["metadata"])
        self.api.patch(self.cm, "default", "a", "application/merge-patch+json",
                       b'{"metadata":{"finalizers":null}}')
        self.assertIsNone(self.api.store.get(self.cm.store_key, "default", "a"))


class WatchTransformTest(unittest.TestCase):
    """Selector transitions, decided per history event (no streaming, no sleeping)."""

    def stream(self, label_selector):
        rt = Registry().lookup("", "v1", "configmaps")
        sel = selectors.Selector(label_selector, "", rt.selectable_fields)
        req = WatchRequest(rt, "default", sel, "", False, 0, False, "Metadata")
        return WatchStream(Store(), Faults(), req, None, None)

    @staticmethod
    def event(type_, new_labels, old_labels):
        def obj(labels):
            return None if labels is None else {"metadata": {"namespace": "default",
                                                             "name": "a", "labels": labels}}
        return Event(1, "/configmaps", type_, obj(new_labels), obj(old_labels))

    def test_transitions(self):
        w = self.stream("team=a")
        self.assertEqual(w._transform(self.event("ADDED", {"team": "a"}, None))[0], "ADDED")
        self.assertIsNone(w._transform(self.event("ADDED", {"team": "b"}, None)))
        self.assertEqual(w._transform(self.event("MODIFIED", {"team": "b"}, {"team": "a"}))[0],
                         "DELETED")
        self.assertEqual(w._transform(self.event("MODIFIED", {"team": "a"}, {"team": "b"}))[0],
                         "ADDED")
        self.assertEqual(w._transform(self.event("MODIFIED", {"team": "a"}, {"team": "a"}))[0],
                         "MODIFIED")
        self.assertEqual(w._transform(self.event("DELETED", {"team": "a"}, {"team": "a"}))[0],
                         "DELETED")


if __name__ == "__main__":
    unittest.main()
