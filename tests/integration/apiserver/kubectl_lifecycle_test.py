#!/usr/bin/python3
"""kubectl against the test API server: watching, deleting and garbage collection.

`kubectl get -w` sees changes as they happen; `kubectl delete` waits while finalizers hold the
object (it keeps a deletionTimestamp) and returns once they are removed; owner references are
garbage-collected with Background, Foreground and Orphan propagation; deleting a Namespace
deletes its contents.
"""
import subprocess
import sys
import time

from apiserver_fixture import KubectlWatch, run_steps, wait_for

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\n" \
     "data: {{v: \"{value}\"}}\n"


def owned(kind, name, ns, owner_uid, owner_name="owner", extra="", block=False):
    return (f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n"
            f"    name: {owner_name}\n    uid: {owner_uid}\n"
            f"    blockOwnerDeletion: {'true' if block else 'false'}\n{extra}")


def watch_sees_changes(s, c):
    s.apply(CM.format(name="watched", ns="default", value="1"))
    w = KubectlWatch(s, "configmaps", "-o", "custom-columns=NAME:.metadata.name,V:.data.v")
    try:
        c.check(w.wait_for(["watched", "1"]), "watch lists the initial state")
        s.kubectl("patch", "cm", "watched", "--type=merge", "-p", '{"data":{"v":"2"}}')
        c.check(w.wait_for(["watched", "2"]), "watch sees the patch")
        s.apply(CM.format(name="second", ns="default", value="9"))
        c.check(w.wait_for(["second", "9"]), "watch sees the new object")
    finally:
        out = w.stop()
    if c.failed:
        print(out)
    _, out, _ = s.kubectl("get", "cm", "watched", "-w", "--output-watch-events",
                          "--request-timeout=2s", check=False, timeout=20)
    c.contains(out, "ADDED", "watch with --output-watch-events shows event types")


def delete_waits_for_finalizers(s, c):
    s.apply(CM.format(name="held", ns="default", value="1"))
    s.kubectl("patch", "cm", "held", "--type=merge",
              "-p", '{"metadata":{"finalizers":["test.certsmith.io/hold"]}}')
    rc, out, _ = s.kubectl("delete", "cm", "held", "--timeout=2s", check=False)
    c.check(rc != 0, "kubectl delete times out while a finalizer holds the object")
    obj = s.get_json("cm", "held")
    c.check(bool(obj["metadata"].get("deletionTimestamp")), "object has a deletionTimestamp")
    c.equal(obj["metadata"].get("finalizers"), ["test.certsmith.io/hold"], "finalizer kept")
    rc, _, err = s.kubectl("patch", "cm", "held", "--type=merge", "-p",
                           '{"metadata":{"finalizers":["a/b","test.certsmith.io/hold"]}}',
                           check=False)
    c.check(rc != 0 and "no new finalizers" in err, "no new finalizers while deleting", err)
    waiter = subprocess.Popen(["kubectl", "delete", "cm", "held", "--timeout=20s"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=s.env)
    time.sleep(1.0)
    c.check(waiter.poll() is None, "kubectl delete keeps waiting")
    s.kubectl("patch", "cm", "held", "--type=json",
              "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    out, err = waiter.communicate(timeout=20)
    c.equal(waiter.returncode, 0, "kubectl delete returns once the finalizer is gone")
    c.contains(out, 'configmap "held" deleted', "delete reported")
    rc, _, _ = s.kubectl("get", "cm", "held", check=False)
    c.check(rc != 0, "object gone after finalizer removal")


def gc_background(s, c):
    s.apply(CM.format(name="owner", ns="default", value="1"))
    uid = s.get_json("cm", "owner")["metadata"]["uid"]
    s.apply(owned("Secret", "dep-a", "default", uid) + "---\n"
            + owned("ConfigMap", "dep-b", "default", uid))
    s.kubectl("delete", "cm", "owner")
    gone = wait_for(lambda: s.kubectl("get", "secret", "dep-a", check=False)[0] != 0
                    and s.kubectl("get", "cm", "dep-b", check=False)[0] != 0)
    c.check(gone, "background GC deletes dependents of a deleted owner")
    s.apply(owned("Secret", "orphan-at-birth", "default", "00000000-0000-0000-0000-000000000000",
                  "never-existed"))
    gone = wait_for(lambda: s.kubectl("get", "secret", "orphan-at-birth", check=False)[0] != 0)
    c.check(gone, "GC deletes an object whose owner does not exist")


def gc_foreground(s, c):
    s.apply(CM.format(name="fg-owner", ns="default", value="1"))
    uid = s.get_json("cm", "fg-owner")["metadata"]["uid"]
    # Only a dependent with blockOwnerDeletion holds a foreground deletion back; one without is
    # deleted too, but not waited for.
    s.apply(owned("Secret", "fg-dep", "default", uid, "fg-owner",
                  "  finalizers: [test.certsmith.io/hold]\n", block=True))
    s.apply(owned("Secret", "fg-free", "default", uid, "fg-owner",
                  "  finalizers: [test.certsmith.io/hold]\n"))
    rc, _, _ = s.kubectl("delete", "cm", "fg-owner", "--cascade=foreground", "--timeout=2s",
                         check=False)
    owner = s.get_json("cm", "fg-owner")
    c.check("foregroundDeletion" in owner["metadata"].get("finalizers", []),
            "foreground delete adds foregroundDeletion")
    dep = s.get_json("secret", "fg-dep")
    c.check(bool(dep["metadata"].get("deletionTimestamp")), "dependent is being deleted")
    free = wait_for(lambda: s.get_json("secret", "fg-free")["metadata"].get("deletionTimestamp"))
    c.check(free, "the non-blocking dependent is being deleted too")
    s.kubectl("patch", "secret", "fg-free", "--type=merge", "-p",
              '{"metadata":{"finalizers":null}}')
    c.check(s.kubectl("get", "cm", "fg-owner", check=False)[0] == 0,
            "the owner waits for its blockOwnerDeletion dependent")
    s.kubectl("patch", "secret", "fg-dep", "--type=merge", "-p",
              '{"metadata":{"finalizers":null}}')
    gone = wait_for(lambda: s.kubectl("get", "cm", "fg-owner", check=False)[0] != 0)
    c.check(gone, "owner goes once its blocking dependents are gone")


def gc_orphan(s, c):
    s.apply(CM.format(name="or-owner", ns="default", value="1"))
    uid = s.get_json("cm", "or-owner")["metadata"]["uid"]
    s.apply(owned("Secret", "or-dep", "default", uid, "or-owner"))
    s.kubectl("delete", "cm", "or-owner", "--cascade=orphan", "--timeout=10s")
    time.sleep(0.5)
    rc, _, _ = s.kubectl("get", "cm", "or-owner", check=False)
    c.check(rc != 0, "orphaning owner deleted")
    dep = s.get_json("secret", "or-dep")
    c.check(not dep["metadata"].get("ownerReferences"), "orphaned dependent lost its owner ref")


def namespace_deletion(s, c):
    s.kubectl("create", "namespace", "doomed", check=False)
    s.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n")
    s.apply(CM.format(name="a", ns="doomed", value="1"))
    s.apply(CM.format(name="b", ns="doomed", value="2"))
    s.kubectl("delete", "namespace", "doomed", "--timeout=20s")
    rc, _, _ = s.kubectl("get", "namespace", "doomed", check=False)
    c.check(rc != 0, "namespace gone")
    _, _, body = s.request("GET",
                           "/api/v1/configmaps?fieldSelector=metadata.namespace%3Ddoomed")
    c.equal(body.get("items"), [], "namespace contents deleted")


def main():
    steps = (watch_sees_changes, delete_waits_for_finalizers, gc_background, gc_foreground,
             gc_orphan, namespace_deletion)
    return run_steps("kubectl_lifecycle_test", steps)


if __name__ == "__main__":
    sys.exit(main())
