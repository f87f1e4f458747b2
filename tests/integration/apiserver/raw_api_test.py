#!/usr/bin/python3
"""Raw HTTPS checks of API semantics that kubectl does not expose directly: authentication,
discovery, 409 AlreadyExists/Conflict, delete preconditions, pagination, watch from a
resourceVersion with selectors and bookmarks, 410 Gone after compaction (also through
`kubectl get --raw`), fault injection, and the server's own lifecycle (SIGTERM, max lifetime).
"""
import json
import os
import subprocess
import sys
import time

from apiserver_fixture import ApiServer, Checks, run_steps

CMS = "/api/v1/namespaces/default/configmaps"


def cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels or {}}, "data": data or {"k": "v"}}


def auth(s, c):
    # No token: the anonymous user, whom RBAC lets see only /version and the health checks.
    status, _, body = s.request("GET", "/api/v1/namespaces", token=False)
    c.equal((status, body.get("kind"), body.get("reason")), (403, "Status", "Forbidden"),
            "no token -> 403 for system:anonymous")
    c.equal(body.get("message"), 'namespaces is forbidden: User "system:anonymous" cannot list '
            'resource "namespaces" in API group "" at the cluster scope', "anonymous 403 message")
    status, _, body = s.request("GET", "/api", token=False)
    c.equal((status, body.get("message")), (403, 'forbidden: User "system:anonymous" cannot get '
                                            'path "/api"'), "anonymous discovery -> 403")
    status, _, body = s.request("GET", "/api/v1/namespaces",
                                headers={"Authorization": "Bearer x"}, token=False)
    c.equal(status, 401, "wrong token -> 401")
    c.equal((body.get("kind"), body.get("reason")), ("Status", "Unauthorized"), "401 Status")
    status, _, body = s.request("GET", "/version", token=False)
    c.equal((status, body.get("major")), (200, "1"), "/version is public")
    with open(s.kubeconfig) as f:
        text = f.read()
    c.contains(text, f"server: https://127.0.0.1:{s.port}", "kubeconfig has the real port")
    c.contains(text, "certificate-authority-data:", "kubeconfig carries the CA")


def discovery(s, c):
    aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    status, hdrs, body = s.request("GET", "/apis", headers={"Accept": aggregated +
                                                            ",application/json"})
    c.equal((status, body.get("kind")), (200, "APIGroupDiscoveryList"), "aggregated /apis")
    c.equal(hdrs.get("Content-Type"), aggregated, "aggregated content type")
    leases = [r for i in body["items"] if i["metadata"]["name"] == "coordination.k8s.io"
              for v in i["versions"] for r in v["resources"]]
    c.equal([(r["resource"], r["scope"], r["responseKind"]["kind"]) for r in leases],
            [("leases", "Namespaced", "Lease")], "aggregated resource entry")
    _, _, body = s.request("GET", "/api", headers={"Accept": aggregated})
    core = [r["resource"] for r in body["items"][0]["versions"][0]["resources"]]
    c.check("name" not in body["items"][0]["metadata"] and "secrets" in core,
            "aggregated /api lists the core group (an entry without a name)")
    status, hdrs, body = s.request("GET", "/apis", headers={"Accept": "application/json"})
    c.equal((status, body.get("kind")), (200, "APIGroupList"), "/apis plain form")
    groups = [g["name"] for g in body["groups"]]
    for g in ("events.k8s.io", "coordination.k8s.io", "networking.k8s.io",
              "rbac.authorization.k8s.io", "apiextensions.k8s.io"):
        c.check(g in groups, f"/apis lists {g}")
    _, _, body = s.request("GET", "/api/v1")
    names = {r["name"]: r for r in body["resources"]}
    c.check("pods/status" in names and "namespaces/finalize" in names, "subresources listed")
    c.equal(names["secrets"]["verbs"], ["create", "delete", "deletecollection", "get", "list",
                                        "patch", "update", "watch"], "secret verbs")
    c.equal(names["namespaces"]["namespaced"], False, "namespaces are cluster-scoped")
    c.equal(names["configmaps"]["shortNames"], ["cm"], "short names")
    status, _, body = s.request("GET", "/openapi/v3")
    c.check(status == 200 and "apis/coordination.k8s.io/v1" in body["paths"], "openapi v3 index")


def conflicts(s, c):
    status, _, created = s.request("POST", CMS, cm("c1"))
    c.equal(status, 201, "create -> 201")
    status, _, body = s.request("POST", CMS, cm("c1"))
    c.equal((status, body.get("reason")), (409, "AlreadyExists"), "duplicate -> AlreadyExists")
    c.equal(body.get("message"), 'configmaps "c1" already exists', "AlreadyExists message")
    stale = dict(created, data={"k": "new"})
    status, _, updated = s.request("PUT", f"{CMS}/c1", stale)
    c.equal(status, 200, "update with current resourceVersion")
    c.check(int(updated["metadata"]["resourceVersion"]) >
            int(created["metadata"]["resourceVersion"]), "resourceVersion increases")
    status, _, body = s.request("PUT", f"{CMS}/c1", stale)
    c.equal((status, body.get("reason")), (409, "Conflict"), "stale update -> Conflict")
    c.contains(body.get("message", ""), "the object has been modified", "Conflict message")
    unconditional = cm("c1", data={"k": "forced"})
    status, _, _ = s.request("PUT", f"{CMS}/c1", unconditional)
    c.equal(status, 200, "update without resourceVersion is unconditional")
    opts = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "nope"}}
    status, _, body = s.request("DELETE", f"{CMS}/c1", opts)
    c.equal((status, body.get("reason")), (409, "Conflict"), "uid precondition -> Conflict")
    status, _, body = s.request("POST", CMS, {"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"generateName": "gen-"}})
    c.check(status == 201 and body["metadata"]["name"].startswith("gen-")
            and len(body["metadata"]["name"]) == 9, "generateName")
    status, _, body = s.request("POST", "/api/v1/namespaces/absent/configmaps", cm("x"))
    c.equal((status, body.get("reason")), (404, "NotFound"), "create in missing namespace")
    status, _, body = s.request("GET", "/api/v1/namespaces/default/pods/none")
    c.equal(body.get("details"), {"name": "none", "kind": "pods"}, "NotFound details")


def pod_status(s, c):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    _, _, pod = s.request("POST", "/api/v1/namespaces/default/pods", pod)
    changed = json.loads(json.dumps(pod))
    changed["status"] = {"phase": "Running"}
    changed["spec"]["containers"][0]["image"] = "y"
    _, _, body = s.request("PUT", "/api/v1/namespaces/default/pods/p/status", changed)
    c.equal((body["status"]["phase"], body["spec"]["containers"][0]["image"]), ("Running", "x"),
            "pod /status changes only status")
    body["status"] = {"phase": "Failed"}
    _, _, body = s.request("PUT", "/api/v1/namespaces/default/pods/p", body)
    c.equal(body["status"]["phase"], "Running", "pod main resource ignores status")


def pagination(s, c):
    for i in range(25):
        s.request("POST", CMS, cm(f"page-{i:02d}", {"set": "paged"}))
    seen, token, pages = [], "", 0
    while True:
        path = f"{CMS}?labelSelector=set%3Dpaged&limit=10" + (f"&continue={token}" if token
                                                               else "")
        _, _, body = s.request("GET", path)
        seen += [i["metadata"]["name"] for i in body["items"]]
        pages += 1
        if pages == 1:   # ListMeta: not set when the list used a selector
            c.check("remainingItemCount" not in body["metadata"],
                    "no remainingItemCount with a selector")
        token = body["metadata"].get("continue", "")
        if not token or pages > 5:
            break
    c.equal((pages, seen), (3, [f"page-{i:02d}" for i in range(25)]), "limit/continue pages")
    _, _, body = s.request("GET", f"{CMS}?limit=10")
    _, _, whole = s.request("GET", CMS)
    c.equal(body["metadata"].get("remainingItemCount"), len(whole["items"]) - 10,
            "remainingItemCount without a selector")
    _, _, second = s.request("GET", f"{CMS}?limit=10&continue={body['metadata']['continue']}")
    c.equal(second["metadata"]["resourceVersion"], body["metadata"]["resourceVersion"],
            "pages of one list report the first page's resourceVersion")
    status, _, body = s.request("DELETE", f"{CMS}?labelSelector=set%3Dpaged")
    c.equal((status, len(body.get("items", []))), (200, 25), "deletecollection by selector")
    _, _, body = s.request("GET", f"{CMS}?labelSelector=set%3Dpaged")
    c.equal(body["items"], [], "deletecollection deleted them")


def watches(s, c):
    _, _, body = s.request("POST", CMS, cm("w1", {"team": "a"}))
    rv = body["metadata"]["resourceVersion"]
    s.request("PATCH", f"{CMS}/w1", {"metadata": {"labels": {"team": "b"}}},
              "application/merge-patch+json")
    s.request("PATCH", f"{CMS}/w1", {"metadata": {"labels": {"team": "a"}}},
              "application/merge-patch+json")
    s.request("DELETE", f"{CMS}/w1")
    _, events = s.watch(f"{CMS}?watch=1&resourceVersion={rv}&timeoutSeconds=1"
                        f"&fieldSelector=metadata.name%3Dw1")
    c.equal([e["type"] for e in events], ["MODIFIED", "MODIFIED", "DELETED"],
            "watch from resourceVersion replays later events")
    _, events = s.watch(f"/api/v1/watch/namespaces/default/configmaps?resourceVersion={rv}"
                        f"&timeoutSeconds=1&labelSelector=team%3Da")
    c.equal([e["type"] for e in events if e["object"]["metadata"]["name"] == "w1"],
            ["DELETED", "ADDED", "DELETED"], "selector transitions become DELETED/ADDED")
    # From a listed resourceVersion, as informers do (kube-apiserver on etcd 3.4 refuses a
    # watch asking for bookmarks without one; tests/apiserver/README.md).
    _, _, listed = s.request("GET", f"{CMS}?labelSelector=none%3Dnone")
    _, events = s.watch(f"{CMS}?watch=1&timeoutSeconds=3&allowWatchBookmarks=true"
                        f"&labelSelector=none%3Dnone"
                        f"&resourceVersion={listed['metadata']['resourceVersion']}")
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    c.check(bookmarks and bookmarks[0]["object"]["metadata"]["resourceVersion"],
            "BOOKMARK events with a resourceVersion", json.dumps(events))
    start = time.monotonic()
    s.watch(f"{CMS}?watch=1&timeoutSeconds=1")
    c.check(time.monotonic() - start < 4, "timeoutSeconds ends the watch")


def gone(s, c):
    for i in range(3):
        s.request("POST", CMS, cm(f"gone-{i}"))
    _, _, body = s.request("GET", CMS)
    old_rv = body["metadata"]["resourceVersion"]
    _, _, first = s.request("GET", f"{CMS}?limit=2")
    s.request("POST", CMS, cm("after-compaction"))
    status, _, _ = s.request("POST", "/_admin/compact", {})
    c.equal(status, 200, "admin compact")
    status, events = s.watch(f"{CMS}?watch=1&resourceVersion={old_rv}&timeoutSeconds=2")
    c.equal(status, 200, "watch on a compacted resourceVersion still answers 200")
    c.check(len(events) == 1 and events[0]["type"] == "ERROR"
            and events[0]["object"].get("code") == 410
            and events[0]["object"].get("reason") == "Expired"
            and "too old resource version" in events[0]["object"].get("message", ""),
            "ERROR event with 410 Expired", json.dumps(events))
    _, out, err = s.kubectl("get", "--raw",
                            f"{CMS}?watch=1&resourceVersion={old_rv}&timeoutSeconds=2")
    c.contains(out, '"code":410', "kubectl get --raw shows the 410 watch error")
    status, _, body = s.request("GET", f"{CMS}?limit=2&continue={first['metadata']['continue']}")
    c.equal((status, body.get("reason")), (410, "Expired"), "stale continue token -> 410")


def faults(s, c):
    s.request("POST", "/_admin/faults", {"errorPercent": 100, "errorCode": 429,
                                         "retryAfterSeconds": 3})
    status, hdrs, body = s.request("GET", CMS)
    c.equal((status, body.get("reason"), hdrs.get("Retry-After")), (429, "TooManyRequests", "3"),
            "injected 429 with Retry-After")
    status, _, _ = s.request("GET", "/api/v1")
    c.equal(status, 200, "discovery is spared by default")
    s.request("POST", "/_admin/faults", {"errorCode": 500})
    status, _, body = s.request("GET", CMS)
    c.equal((status, body.get("reason")), (500, "InternalError"), "injected 500")
    s.request("POST", "/_admin/faults", {"errorPercent": 50, "errorCode": 500})
    codes = [s.request("GET", CMS)[0] for _ in range(60)]
    c.check(5 <= codes.count(500) <= 55 and codes.count(200) >= 5, "50% of requests fail",
            str(codes))
    s.request("POST", "/_admin/faults/reset", {})
    status, _, _ = s.request("GET", CMS)
    c.equal(status, 200, "reset clears faults")
    s.request("POST", "/_admin/faults", {"dropWatchSeconds": 1})
    start = time.monotonic()
    s.watch(f"{CMS}?watch=1&timeoutSeconds=30")
    c.check(time.monotonic() - start < 5, "watches dropped after dropWatchSeconds")
    s.request("POST", "/_admin/faults/reset", {})


def lifecycle(c):
    short = ApiServer(lifetime=2)
    try:
        short.proc.wait(timeout=20)
        c.equal(short.proc.returncode, 0, "server exits by itself after --max-lifetime")
        c.check(not os.path.exists(os.path.join(short.dir, "ready")), "ready removed on exit")
    except subprocess.TimeoutExpired:
        c.check(False, "server exits by itself after --max-lifetime")
    finally:
        short.stop()
    s = ApiServer()
    s.stop()
    c.equal(s.proc.returncode, 0, "SIGTERM stops the server cleanly")
    flagged = ApiServer("--fault-error-percent", "100", "--fault-error-code", "503",
                        "--fault-retry-after", "7")
    try:
        status, hdrs, body = flagged.request("GET", CMS)
        c.equal((status, body.get("reason"), hdrs.get("Retry-After")),
                (503, "ServiceUnavailable", "7"), "faults set by flags")
    finally:
        flagged.stop()


def main():
    steps = (auth, discovery, conflicts, pod_status, pagination, watches, gone, faults)
    code = run_steps("raw_api_test", steps, "--bookmark-interval", "1")
    c = Checks("raw_api_test lifecycle")
    c.run(lifecycle, c)
    return max(code, c.finish())


if __name__ == "__main__":
    sys.exit(main())
