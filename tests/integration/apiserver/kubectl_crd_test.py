#!/usr/bin/python3
"""kubectl against the test API server: a CRD and its custom objects.

Checks what a real API server does for CRDs: Established condition, printer columns in
`kubectl get`, short names and categories, defaulting and pruning, strict field validation,
schema violations refused at apply time, idempotent apply, generation, the status
subresource, label selectors, and discovery following CRD creation and deletion.
"""
import json
import sys

from apiserver_fixture import KubectlWatch, run_steps, testdata, wait_for

WIDGET = """apiVersion: test.certsmith.io/v1
kind: Widget
metadata:
  name: {name}
  labels: {{tier: {tier}}}
spec:
  size: {size}
  owner: team-a
"""


def crd_established(s, c):
    out = s.apply(testdata("widget-crd.yaml"))
    c.contains(out, "customresourcedefinition.apiextensions.k8s.io/widgets.test.certsmith.io "
               "created", "CRD created")
    s.kubectl("wait", "--for=condition=Established", "crd/widgets.test.certsmith.io",
              "--timeout=10s")
    crd = s.get_json("crd", "widgets.test.certsmith.io")
    conds = {x["type"]: x["status"] for x in crd["status"]["conditions"]}
    c.equal(conds.get("NamesAccepted"), "True", "CRD NamesAccepted")
    c.equal(crd["status"]["acceptedNames"]["kind"], "Widget", "CRD acceptedNames.kind")
    c.check("customresourcecleanup.apiextensions.k8s.io" not in
            (crd["metadata"].get("finalizers") or []),
            "a live CRD carries no cleanup finalizer (it is added on delete)")
    _, out, _ = s.kubectl("api-resources", "--api-group=test.certsmith.io")
    c.contains(out, "wdg", "api-resources lists the short name")
    c.contains(out, "Widget", "api-resources lists the kind")


def apply_and_columns(s, c):
    out = s.apply(testdata("widget-small.yaml"))
    c.contains(out, "widget.test.certsmith.io/small-one created", "custom object created")
    out = s.apply(testdata("widget-small.yaml"))
    c.contains(out, "widget.test.certsmith.io/small-one unchanged", "second apply is a no-op")
    _, out, _ = s.kubectl("get", "wdg")
    header = out.splitlines()[0].split()
    c.equal(header, ["NAME", "SIZE", "REPLICAS", "READY", "AGE"], "printer column headers")
    row = out.splitlines()[1].split()
    c.equal(row[:3], ["small-one", "small", "1"], "printer column cells (replicas defaulted)")
    _, out, _ = s.kubectl("get", "certsmith-test")
    c.contains(out, "small-one", "category lists the widget")
    obj = s.get_json("widget", "small-one")
    c.equal(obj["spec"].get("extra"), {"anything": "goes", "nested": {"deep": 1}},
            "x-kubernetes-preserve-unknown-fields keeps nested data")
    c.equal(obj["metadata"]["generation"], 1, "generation starts at 1")


def update_bumps_generation(s, c):
    text = testdata("widget-small.yaml").replace("size: small", "size: medium")
    c.contains(s.apply(text), "configured", "changed apply configures")
    obj = s.get_json("widget", "small-one")
    c.equal(obj["spec"]["size"], "medium", "apply updated the spec")
    c.equal(obj["metadata"]["generation"], 2, "spec change bumps generation")
    s.kubectl("label", "widget", "small-one", "extra=yes")
    obj = s.get_json("widget", "small-one")
    c.equal(obj["metadata"]["generation"], 2, "label change keeps generation")
    _, out, _ = s.kubectl("get", "widget", "small-one")
    c.contains(out, "medium", "get shows the updated column")


def schema_violations(s, c):
    bad = ("apiVersion: test.certsmith.io/v1\nkind: Widget\nmetadata: {name: bad}\n"
           "spec: {size: huge, owner: X, replicas: 20, tags: [a, b, c, d]}\n")
    rc, out, err = s.kubectl("apply", "-f", "-", stdin=bad, check=False)
    c.check(rc != 0, "invalid widget refused")
    c.contains(err, 'The Widget "bad" is invalid', "Invalid error names the object")
    c.contains(err, 'spec.size: Unsupported value: "huge": supported values: "small", '
               '"medium", "large"', "enum violation message")
    c.contains(err, "spec.replicas: Invalid value: 20: spec.replicas in body should be less "
               "than or equal to 10", "maximum violation message")
    c.contains(err, "spec.tags: Too many: 4: must have at most 3 items", "maxItems message")
    # "X" breaks minLength and the pattern: one message per value, the first rule's.
    c.contains(err, "spec.owner in body should be at least 2 chars long", "minLength message")
    c.check("should match" not in err, "one message for a value that breaks two rules", err)
    rc, _, err = s.kubectl("apply", "-f", "-", stdin=bad.replace("owner: X", "owner: Xy"),
                           check=False)
    c.contains(err, "spec.owner in body should match '^[a-z][a-z0-9-]*$'", "pattern message")
    missing = "apiVersion: test.certsmith.io/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {}\n"
    rc, _, err = s.kubectl("apply", "-f", "-", stdin=missing, check=False)
    c.check(rc != 0 and "spec.size: Required value" in err and "spec.owner: Required value"
            in err, "required fields reported", err)
    wrong_type = ("apiVersion: test.certsmith.io/v1\nkind: Widget\nmetadata: {name: bad}\n"
                  "spec: {size: small, owner: ab, replicas: many}\n")
    rc, _, err = s.kubectl("apply", "-f", "-", stdin=wrong_type, check=False)
    c.contains(err, 'spec.replicas in body must be of type integer: "string"', "type error")
    _, out, _ = s.kubectl("get", "widgets", "-o", "name")
    c.check("bad" not in out, "refused objects are not stored")


def unknown_fields(s, c):
    text = ("apiVersion: test.certsmith.io/v1\nkind: Widget\nmetadata: {name: strict}\n"
            "spec: {size: small, owner: ab, bogus: 1}\n")
    rc, _, err = s.kubectl("apply", "-f", "-", stdin=text, check=False)
    c.check(rc != 0, "unknown field refused with default (Strict) validation")
    c.contains(err, 'unknown field "spec.bogus"', "strict decoding error names the field")
    rc, out, err = s.kubectl("apply", "--validate=warn", "-f", "-", stdin=text, check=False)
    c.check(rc == 0, "--validate=warn accepts", err)
    c.contains(err, 'unknown field "spec.bogus"', "warning printed for unknown field")
    obj = s.get_json("widget", "strict")
    c.check("bogus" not in obj["spec"], "unknown field pruned", json.dumps(obj["spec"]))


def status_subresource(s, c):
    status = {"status": {"observedGeneration": 2,
                         "conditions": [{"type": "Ready", "status": "True"}]}}
    s.kubectl("patch", "widget", "small-one", "--subresource=status", "--type=merge",
              "-p", json.dumps(dict(status, spec={"size": "large"})))
    obj = s.get_json("widget", "small-one")
    c.equal(obj["status"]["conditions"][0]["status"], "True", "status written via /status")
    c.equal(obj["spec"]["size"], "medium", "/status ignores spec changes")
    c.equal(obj["metadata"]["generation"], 2, "/status keeps generation")
    _, out, _ = s.kubectl("get", "wdg", "small-one")
    c.equal(out.splitlines()[1].split()[3], "True", "Ready printer column from filter path")
    s.kubectl("patch", "widget", "small-one", "--type=merge",
              "-p", json.dumps({"status": {"observedGeneration": 99}}))
    obj = s.get_json("widget", "small-one")
    c.equal(obj["status"]["observedGeneration"], 2, "main resource ignores status changes")
    bad = {"status": {"conditions": [{"type": "Ready", "status": "Maybe"}]}}
    rc, _, err = s.kubectl("patch", "widget", "small-one", "--subresource=status",
                           "--type=merge", "-p", json.dumps(bad), check=False)
    c.check(rc != 0 and "status.conditions[0].status: Unsupported value" in err,
            "status validated against the schema", err)


def watch_table(s, c):
    """kubectl get -w asks for Tables; later rows must carry the printer columns."""
    w = KubectlWatch(s, "widgets")
    try:
        c.check(w.wait_for(["NAME", "SIZE", "REPLICAS"]), "watch prints the columns")
        c.check(w.wait_for(["small-one", "medium", "1"]), "watch lists the object")
        s.kubectl("patch", "widget", "small-one", "--type=merge",
                  "-p", '{"spec":{"replicas":7}}')
        c.check(w.wait_for(["small-one", "medium", "7"]), "watch shows the changed column")
    finally:
        out = w.stop()
    if c.failed:
        print(out)


def label_selectors(s, c):
    for name, tier, size in (("w-a", "front", "small"), ("w-b", "back", "large"),
                             ("w-c", "db", "small")):
        s.apply(WIDGET.format(name=name, tier=tier, size=size))

    def names(*args):
        return sorted(s.kubectl("get", "widgets", "-o", "name", *args)[1].split())
    c.equal(names("-l", "tier=back"), ["widget.test.certsmith.io/w-b"], "equality selector")
    c.equal(names("-l", "tier in (back,db)"),
            ["widget.test.certsmith.io/w-b", "widget.test.certsmith.io/w-c"], "set selector")
    # "strict" (from unknown_fields) has no tier label: != and notin match it, as upstream.
    c.equal(len(names("-l", "tier!=front")), 3, "inequality selector")
    c.equal(len(names("-l", "tier notin (front)")), 3, "notin selector")
    c.equal(names("-l", "!tier"), ["widget.test.certsmith.io/strict"], "!exists selector")
    c.equal(len(names("-l", "extra")), 1, "exists selector")
    c.equal(names("--field-selector", "metadata.name=w-c"),
            ["widget.test.certsmith.io/w-c"], "metadata.name field selector")


def cluster_scoped_versions(s, c):
    s.apply(testdata("gadget-crd.yaml"))
    s.kubectl("wait", "--for=condition=Established", "crd/gadgets.test.certsmith.io",
              "--timeout=10s")
    s.apply("apiVersion: test.certsmith.io/v1beta1\nkind: Gadget\nmetadata: {name: g1}\n"
            "spec: {color: red}\n")
    obj = s.get_json("gadgets.v1.test.certsmith.io", "g1")
    c.equal(obj["apiVersion"], "test.certsmith.io/v1", "object read through the other version")
    c.check("namespace" not in obj["metadata"], "cluster-scoped object has no namespace")
    _, out, _ = s.kubectl("get", "gdg")
    c.equal(out.splitlines()[0].split(), ["NAME", "AGE"], "default columns without printer "
                                                          "columns")
    status, _, body = s.request("GET", "/apis/test.certsmith.io")
    c.equal(body.get("preferredVersion", {}).get("version"), "v1", "preferred version is GA")
    status, _, _ = s.request("GET", "/apis/test.certsmith.io/v1/namespaces/default/gadgets")
    c.equal(status, 404, "cluster-scoped resource has no namespaced path")
    rc, _, _ = s.kubectl("patch", "gadgets.v1beta1.test.certsmith.io", "g1", "--type=merge",
                         "--subresource=status", "-p", '{"status":{"phase":"x"}}', check=False)
    c.check(rc != 0, "a version without the status subresource has no /status")


def crd_deletion(s, c):
    s.kubectl("delete", "crd", "widgets.test.certsmith.io", "--timeout=20s")
    ok = wait_for(lambda: s.kubectl("get", "widgets", check=False)[0] != 0)
    c.check(ok, "widgets endpoint gone after CRD deletion")
    _, _, body = s.request("GET", "/apis/test.certsmith.io/v1")
    names = [r["name"] for r in body.get("resources", [])]
    c.check("widgets" not in names and "gadgets" in names,
            "discovery drops the deleted CRD's resources, keeps the group's others", str(names))
    s.kubectl("delete", "crd", "gadgets.test.certsmith.io", "--timeout=20s")
    status, _, _ = s.request("GET", "/apis/test.certsmith.io/v1")
    c.equal(status, 404, "discovery drops the group version with its last CRD")
    s.apply(testdata("widget-crd.yaml"))
    s.kubectl("wait", "--for=condition=Established", "crd/widgets.test.certsmith.io",
              "--timeout=10s")
    _, out, _ = s.kubectl("get", "widgets")
    c.check("small-one" not in out, "recreated CRD starts empty (objects were cleaned up)")


def main():
    steps = (crd_established, apply_and_columns, update_bumps_generation, schema_violations,
             unknown_fields, status_subresource, watch_table, label_selectors,
             cluster_scoped_versions, crd_deletion)
    return run_steps("kubectl_crd_test", steps)


if __name__ == "__main__":
    sys.exit(main())
