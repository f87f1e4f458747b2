#!/usr/bin/python3
"""kubectl against the test API server: built-in kinds.

apply (create, idempotent re-apply, three-way updates that remove list items), get tables,
Secret stringData, strategic/merge/JSON patches, describe with Events (core/v1 and
events.k8s.io/v1), label and field selectors, namespace existence.
"""
import base64
import json
import sys

from apiserver_fixture import run_steps, testdata

EVENTS = """apiVersion: events.k8s.io/v1
kind: Event
metadata: {{name: web.new, namespace: app}}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: certsmith.io/test
reportingInstance: test-1
action: Reconcile
reason: Issued
type: Normal
note: issued by the new events API
regarding: {{apiVersion: v1, kind: Pod, name: web, namespace: app, uid: "{uid}"}}
---
apiVersion: v1
kind: Event
metadata: {{name: web.old, namespace: app}}
reason: BackOff
type: Warning
message: reported by the core events API
count: 4
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:05:00Z"
source: {{component: certsmith}}
involvedObject: {{apiVersion: v1, kind: Pod, name: web, namespace: app, uid: "{uid}"}}
---
apiVersion: v1
kind: Event
metadata: {{name: other.1, namespace: app}}
reason: Unrelated
type: Normal
message: about another pod
involvedObject: {{apiVersion: v1, kind: Pod, name: other, namespace: app}}
"""


def apply_all(s, c):
    out = s.apply(testdata("builtins.yaml"))
    for what in ("namespace/app created", "secret/creds created", "configmap/settings created",
                 "serviceaccount/runner created", "pod/web created", "service/web created",
                 "lease.coordination.k8s.io/leader created", "ingress.networking.k8s.io/web "
                 "created", "role.rbac.authorization.k8s.io/secrets created",
                 "clusterrolebinding.rbac.authorization.k8s.io/certsmith-test created"):
        c.contains(out, what, f"apply: {what}")
    rv = s.get_json("-n", "app", "secret", "creds")["metadata"]["resourceVersion"]
    out = s.apply(testdata("builtins.yaml"))
    # kubectl re-sends write-only stringData (the live Secret never shows it), so it says
    # "configured" for that Secret, as against a real cluster; the server writes nothing.
    others = [line for line in out.splitlines() if not line.startswith("secret/creds")]
    c.check(all(line.endswith("unchanged") for line in others), "re-apply changes nothing",
            out)
    c.equal(s.get_json("-n", "app", "secret", "creds")["metadata"]["resourceVersion"], rv,
            "a patch that changes nothing does not bump resourceVersion")


def secrets(s, c):
    sec = s.get_json("-n", "app", "secret", "creds")
    c.equal(base64.b64decode(sec["data"]["tls.crt"]).decode(), "CERT", "stringData -> data")
    c.check("stringData" not in sec, "stringData is write-only")
    c.equal(sec["type"], "kubernetes.io/tls", "secret type kept")
    c.equal(s.get_json("-n", "app", "secret", "plain")["type"], "Opaque", "type defaults")
    _, out, _ = s.kubectl("-n", "app", "get", "secrets")
    c.equal(out.splitlines()[0].split(), ["NAME", "TYPE", "DATA", "AGE"], "secret columns")
    _, out, _ = s.kubectl("-n", "app", "get", "secrets", "-o", "name",
                          "--field-selector", "type=kubernetes.io/tls")
    c.equal(out.split(), ["secret/creds"], "field selector on secret type")
    _, out, _ = s.kubectl("-n", "app", "get", "secrets", "-o", "name", "-l", "role in (tls)")
    c.equal(out.split(), ["secret/creds"], "set-based label selector on secrets")
    rc, _, err = s.kubectl("-n", "app", "patch", "secret", "plain", "--type=merge", "-p",
                           '{"type":"Other"}', check=False)
    c.check(rc != 0 and "field is immutable" in err, "secret type is immutable", err)


def tables(s, c):
    _, out, _ = s.kubectl("-n", "app", "get", "pods")
    c.equal(out.splitlines()[0].split(), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            "pod columns")
    c.equal(out.splitlines()[1].split()[:3], ["web", "0/2", "Pending"], "pod row")
    _, out, _ = s.kubectl("-n", "app", "get", "svc")
    c.contains(out, "ClusterIP", "service type column")
    svc = s.get_json("-n", "app", "svc", "web")
    c.check(svc["spec"].get("clusterIP", "").startswith("10.96."), "service gets a cluster IP")
    _, out, _ = s.kubectl("get", "ns")
    c.contains(out, "app ", "namespace listed")
    _, out, _ = s.kubectl("-n", "app", "get", "lease")
    c.contains(out, "replica-1", "lease holder column")
    _, out, _ = s.kubectl("-n", "app", "get", "ingress")
    c.equal(out.splitlines()[0].split(), ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
            "ingress columns")
    c.contains(out, "web.example.com", "ingress hosts column")
    ing = s.get_json("-n", "app", "ingress", "web")
    c.equal(ing["metadata"].get("generation"), 1, "ingress has generation 1")
    cm = s.get_json("-n", "app", "cm", "settings")
    c.check("generation" not in cm["metadata"], "configmap has no generation")


def patches(s, c):
    # A Pod's spec is fixed but for its images (kube-apiserver's ValidatePodUpdate): the merge of
    # containers by name is seen through the image, list merges by key on a Service's ports.
    patch = {"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}
    s.kubectl("-n", "app", "patch", "pod", "web", "-p", json.dumps(patch))
    pod = s.get_json("-n", "app", "pod", "web")
    names = [x["name"] for x in pod["spec"]["containers"]]
    c.equal(names, ["main", "sidecar"], "strategic patch merges containers by name")
    main = pod["spec"]["containers"][0]
    c.equal(main["image"], "nginx:1.27", "strategic patch updates the matched container")
    c.equal(main["env"], [{"name": "MODE", "value": "prod"}, {"name": "LEVEL", "value": "3"}],
            "untouched env kept")
    c.equal(main["ports"][0]["containerPort"], 80, "untouched ports kept")
    env = {"spec": {"containers": [{"name": "main", "env": [{"name": "LEVEL", "value": "4"}]}]}}
    rc, _, err = s.kubectl("-n", "app", "patch", "pod", "web", "-p", json.dumps(env), check=False)
    c.check(rc != 0 and 'The Pod "web" is invalid: spec: Forbidden: pod updates may not change '
            'fields other than `spec.containers[*].image`' in err,
            "a Pod's env cannot change (only images, activeDeadlineSeconds, tolerations)", err)
    ports = {"spec": {"ports": [{"port": 443, "name": "https"}]}}
    s.kubectl("-n", "app", "patch", "service", "web", "-p", json.dumps(ports))
    svc = s.get_json("-n", "app", "service", "web")
    c.equal([(p["port"], p["name"]) for p in svc["spec"]["ports"]], [(443, "https"), (80, "http")],
            "strategic patch merges Service ports by port (new items first)")
    s.kubectl("-n", "app", "patch", "cm", "settings", "--type=merge",
              "-p", '{"data":{"a":null,"c":"3"}}')
    c.equal(s.get_json("-n", "app", "cm", "settings")["data"], {"b": "2", "c": "3"},
            "merge patch removes nulls and adds keys")
    s.kubectl("-n", "app", "patch", "cm", "settings", "--type=json",
              "-p", '[{"op":"add","path":"/data/d","value":"4"},{"op":"remove","path":"/data/b"}]')
    c.equal(s.get_json("-n", "app", "cm", "settings")["data"], {"c": "3", "d": "4"},
            "json patch add/remove")
    rc, _, err = s.kubectl("-n", "app", "patch", "cm", "settings", "--type=json",
                           "-p", '[{"op":"remove","path":"/data/zzz"}]', check=False)
    c.check(rc != 0, "json patch on a missing path fails", err)


def apply_removes_items(s, c):
    text = testdata("builtins.yaml")
    pod_doc = [d for d in text.split("---") if "kind: Pod" in d][0]
    out = s.apply(pod_doc)
    c.contains(out, "pod/web configured", "apply of the manifest after a patch configures")
    pod = s.get_json("-n", "app", "pod", "web")
    c.equal(pod["spec"]["containers"][0]["image"], "nginx:1.25",
            "apply restores the manifest's image")
    svc_doc = [d for d in text.split("---") if "kind: Service\n" in d][0]
    two = svc_doc.replace("ports: [{port: 80, name: http}]",
                          "ports: [{port: 80, name: http}, {port: 8080, name: alt}]")
    s.apply(two)
    out = s.apply(svc_doc)
    c.contains(out, "service/web configured", "apply with fewer items configures")
    svc = s.get_json("-n", "app", "service", "web")
    c.equal([p["port"] for p in svc["spec"]["ports"]], [443, 80],
            "three-way apply removed the port dropped from the manifest, kept the patched one (not the manifest's)")


def describe_events(s, c):
    uid = s.get_json("-n", "app", "pod", "web")["metadata"]["uid"]
    s.apply(EVENTS.format(uid=uid))
    _, out, _ = s.kubectl("-n", "app", "describe", "pod", "web")
    events = out[out.index("Events:"):] if "Events:" in out else ""
    c.contains(events, "issued by the new events API", "describe shows events.k8s.io event")
    c.contains(events, "reported by the core events API", "describe shows core/v1 event")
    c.contains(events, "(x4 over", "describe shows the event count")
    c.check("about another pod" not in events, "describe filters events by object", events)
    ev = s.get_json("-n", "app", "events.v1.events.k8s.io", "web.old")
    c.equal(ev.get("note"), "reported by the core events API", "core event read as events/v1")
    c.equal(ev.get("regarding", {}).get("name"), "web", "involvedObject read as regarding")
    _, out, _ = s.kubectl("-n", "app", "get", "events", "-o", "name",
                          "--field-selector", "involvedObject.name=web,type=Warning")
    c.equal(out.split(), ["event/web.old"], "event field selectors")
    _, out, _ = s.kubectl("-n", "app", "get", "events.v1.events.k8s.io", "-o", "name",
                          "--field-selector",
                          "regarding.name=web,reportingController=certsmith.io/test")
    c.equal(out.split(), ["event.events.k8s.io/web.new"], "events.k8s.io field selectors")


def namespaces(s, c):
    rc, _, err = s.kubectl("-n", "nowhere", "create", "-f", "-", check=False,
                           stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    c.check(rc != 0 and 'namespaces "nowhere" not found' in err, "create needs the namespace",
            err)
    rc, _, err = s.kubectl("-n", "app", "get", "cm", "missing", check=False)
    c.check(rc != 0 and 'configmaps "missing" not found' in err, "NotFound message", err)


def imperative_create(s, c):
    """kubectl create <kind> posts protobuf; the server must decode it."""
    s.kubectl("create", "namespace", "imp")
    s.kubectl("-n", "imp", "create", "secret", "generic", "gen", "--from-literal=user=admin",
              "--type=example.com/basic")
    s.kubectl("-n", "imp", "create", "configmap", "conf", "--from-literal=k=v")
    s.kubectl("-n", "imp", "create", "serviceaccount", "bot")
    s.kubectl("-n", "imp", "create", "role", "reader", "--verb=get,list", "--resource=secrets")
    s.kubectl("-n", "imp", "create", "rolebinding", "reader", "--role=reader",
              "--serviceaccount=imp:bot")
    sec = s.get_json("-n", "imp", "secret", "gen")
    c.equal((sec["data"], sec["type"]), ({"user": "YWRtaW4="}, "example.com/basic"),
            "protobuf Secret decoded")
    c.equal(s.get_json("-n", "imp", "cm", "conf")["data"], {"k": "v"}, "protobuf ConfigMap")
    role = s.get_json("-n", "imp", "role", "reader")
    c.equal(role["rules"], [{"apiGroups": [""], "resources": ["secrets"],
                             "verbs": ["get", "list"]}], "protobuf Role rules")
    binding = s.get_json("-n", "imp", "rolebinding", "reader")
    c.equal(binding["subjects"], [{"kind": "ServiceAccount", "name": "bot", "namespace": "imp"}],
            "protobuf RoleBinding subjects without empty fields")
    c.check("generateName" not in sec["metadata"], "zero-valued protobuf fields omitted")


def dry_run(s, c):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: app}\n"
    _, out, _ = s.kubectl("apply", "--dry-run=server", "-f", "-", stdin=text)
    c.contains(out, "created (server dry run)", "server dry-run create reported")
    rc, _, _ = s.kubectl("-n", "app", "get", "cm", "dry", check=False)
    c.check(rc != 0, "dry-run create stores nothing")
    before = s.get_json("-n", "app", "cm", "settings")["data"]
    _, out, _ = s.kubectl("-n", "app", "patch", "cm", "settings", "--dry-run=server",
                          "--type=merge", "-p", '{"data":{"dry":"run"}}', "-o", "json")
    c.equal(json.loads(out)["data"].get("dry"), "run", "dry-run patch answers the result")
    c.equal(s.get_json("-n", "app", "cm", "settings")["data"], before,
            "dry-run patch changes nothing (and is not served afterwards)")
    s.kubectl("-n", "app", "delete", "cm", "settings", "--dry-run=server")
    rc, _, _ = s.kubectl("-n", "app", "get", "cm", "settings", check=False)
    c.equal(rc, 0, "dry-run delete keeps the object")


def server_side_apply(s, c):
    """The approximation: apply-patch creates, then merges; an unchanged apply writes nothing."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: app, "
            "labels: {v: \"1\"}}\ndata: {a: \"1\"}\n")
    _, out, _ = s.kubectl("apply", "--server-side", "-f", "-", stdin=text)
    c.contains(out, "configmap/ssa serverside-applied", "server-side apply creates")
    s.kubectl("apply", "--server-side", "-f", "-", stdin=text.replace('a: "1"', 'a: "2"'))
    cm = s.get_json("-n", "app", "cm", "ssa")
    c.equal((cm["data"], cm["metadata"]["labels"]), ({"a": "2"}, {"v": "1"}),
            "server-side apply updates")
    rv = cm["metadata"]["resourceVersion"]
    s.kubectl("apply", "--server-side", "-f", "-", stdin=text.replace('a: "1"', 'a: "2"'))
    c.equal(s.get_json("-n", "app", "cm", "ssa")["metadata"]["resourceVersion"], rv,
            "unchanged server-side apply writes nothing")


def main():
    steps = (apply_all, secrets, tables, patches, apply_removes_items, describe_events,
             namespaces, imperative_create, dry_run, server_side_apply)
    return run_steps("kubectl_builtin_test", steps)


if __name__ == "__main__":
    sys.exit(main())
