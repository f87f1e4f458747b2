#!/usr/bin/python3
"""The Helm chart's RBAC against the requests certsmith really sends, read from the real API
server's audit log (tests/testbed/realkube.py writes it on the real control plane).

    rbac.py manifests [-f VALUES] [--set K=V]...
                                            the chart's ServiceAccount, Roles, ClusterRoles and
                                            bindings (release certsmith, namespace certsmith) as
                                            a JSON List for `kubectl apply -f -`
    rbac.py record --audit LOG --user U --out FILE [-f VALUES] [--set K=V]...
                                            U's resource requests in LOG (verb, group, resource,
                                            subresource, namespace, status), the owners'
                                            finalizers its ownerReferences needed, and the chart
                                            values the test rendered its RBAC with
    rbac.py forbidden --audit LOG --user U  prints U's refused (403) requests; exit 1 if any
    rbac.py compare --records DIR --tests NAME...
                                            every rule of the chart (default values) against
                                            the requests recorded by the e2e tests NAME...:
                                            a request no rule allows is missing, a rule no
                                            request used is excess; exit 1 on either, 77 when a
                                            test left no record (the tier did not run whole on
                                            the real server)

A rule is used when a request that was not refused matched its group, resource[/subresource],
verb and, for a Role, namespace; the refusals of a test that provokes them on purpose
(E2E_ALLOW_FORBIDDEN) are not missing rules. One exception, not reported as excess: `get` where the same rule grants `list` and
`watch`, because the controller's caches (kube::CachedClient) read from the API server until
their informer has synced and, for the label-selected ones (Secrets, solver Pods and Services),
on a miss, which a test run may or may not come across. `update` on OWNER/finalizers is used when the user set an ownerReference with
blockOwnerDeletion to an OWNER (the OwnerReferencesPermissionEnforcement admission plugin, on in
the testbed, asks for it; Request-level audit entries show the bodies). Only the chart's default
values are looked at for excess; a request is missing when the chart rendered with the values
of the test that sent it (E2E_CHART_SET, E2E_CHART_VALUES) has no rule for it, so a test may
use a rule that values add (an rbac.dnsWebhooks entry).
Needs python3-yaml and ../shared/tools/helm-render.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

SRC = os.environ.get("CERTSMITH_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CHART = os.path.join(SRC, "charts", "certsmith")
RENDER = os.path.join(os.path.dirname(SRC), "shared", "tools", "helm-render", "run")
RELEASE, NAMESPACE = "certsmith", "certsmith"
RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
SKIP = 77
# Kinds whose plural is not kind.lower() + "s".
PLURALS = {"Ingress": "ingresses", "IngressClass": "ingressclasses", "Endpoints": "endpoints"}


def render(sets=(), values=()):
    try:
        import yaml
    except ImportError:
        print("SKIP: python3-yaml is not installed", file=sys.stderr)
        sys.exit(SKIP)
    if not os.access(RENDER, os.X_OK):
        print(f"SKIP: {RENDER} is absent", file=sys.stderr)
        sys.exit(SKIP)
    argv = [RENDER, "--name", RELEASE, "--namespace", NAMESPACE]
    for v in values:
        argv += ["-f", v]
    for s in sets:
        argv += ["--set", s]
    r = subprocess.run(argv + [CHART], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit(f"helm-render failed: {r.stderr}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def rbac_objects(objects):
    return [o for o in objects if o.get("kind") in RBAC_KINDS]


def plural(kind):
    return PLURALS.get(kind, kind.lower() + "s")


def group_of(api_version):
    return api_version.split("/")[0] if "/" in api_version else ""


# -- reading the audit log ---------------------------------------------------------------------

def read_requests(audit, user):
    """{(verb, group, resource, subresource, namespace, code): count} of user's resource
    requests (one per auditID) and {(group, resource, namespace): count} of the owners whose
    finalizers its blockOwnerDeletion ownerReferences needed (owners share their dependents'
    namespace)."""
    seen = set()
    requests = collections.Counter()
    finalizers = collections.Counter()
    with open(audit) as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if (event.get("user") or {}).get("username") != user or "objectRef" not in event:
                continue
            if event.get("stage") not in ("ResponseComplete", "ResponseStarted", "Panic"):
                continue
            if event["auditID"] in seen:  # a watch logs ResponseStarted and ResponseComplete
                continue
            seen.add(event["auditID"])
            ref = event["objectRef"]
            code = (event.get("responseStatus") or {}).get("code", 0)
            requests[(event["verb"], ref.get("apiGroup", ""), ref.get("resource", ""),
                      ref.get("subresource", ""), ref.get("namespace", ""), code)] += 1
            body = event.get("requestObject") or {}
            if code < 300 and event["verb"] in ("create", "update", "patch"):
                for owner in ((body.get("metadata") or {}).get("ownerReferences") or []):
                    if owner.get("blockOwnerDeletion"):
                        finalizers[(group_of(owner.get("apiVersion", "")),
                                    plural(owner.get("kind", "")), ref.get("namespace", ""))] += 1
    return requests, finalizers


def cmd_record(args):
    requests, finalizers = read_requests(args.audit, args.user)
    values = []
    for path in args.values:
        with open(path) as f:
            values.append(f.read())
    record = {
        "user": args.user,
        "chart": {"set": args.set, "values": values},
        "provoked_refusals": args.provoked_refusals,
        "requests": [{"verb": k[0], "group": k[1], "resource": k[2], "subresource": k[3],
                      "namespace": k[4], "code": k[5], "count": n}
                     for k, n in sorted(requests.items())],
        "finalizers": [{"group": g, "resource": r, "namespace": ns, "count": n}
                       for (g, r, ns), n in sorted(finalizers.items())],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(record, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    return 0


def describe(verb, group, resource, subresource, namespace):
    what = resource + (f"/{subresource}" if subresource else "")
    return (f"{verb} {what} in API group \"{group}\"" +
            (f" in namespace {namespace}" if namespace else " (cluster-wide)"))


def cmd_forbidden(args):
    requests, _ = read_requests(args.audit, args.user)
    refused = [(k, n) for k, n in sorted(requests.items()) if k[5] == 403]
    for k, n in refused:
        print(f"forbidden ({n}x): {describe(*k[:5])}")
    return 1 if refused else 0


# -- comparing ---------------------------------------------------------------------------------

def rule_triples(objects):
    """[(scope namespace or None, group, resource, verb)] of every Role and ClusterRole rule
    bound to the chart's ServiceAccount."""
    out = []
    for o in objects:
        if o["kind"] not in ("Role", "ClusterRole"):
            continue
        ns = o["metadata"].get("namespace") if o["kind"] == "Role" else None
        for rule in o.get("rules") or []:
            for g in rule.get("apiGroups") or []:
                for r in rule.get("resources") or []:
                    for v in rule.get("verbs") or []:
                        out.append((ns, g, r, v, o["metadata"]["name"]))
    return out


def allows(triple, verb, group, resource, namespace):
    ns, g, r, v, _ = triple
    return (g in (group, "*") and r in (resource, "*") and v in (verb, "*") and
            (ns is None or ns == namespace))


def cmd_compare(args):
    records, missing_tests = [], []
    for name in args.tests:
        path = os.path.join(args.records, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                records.append((name, json.load(f)))
        else:
            missing_tests.append(name)
    if missing_tests:
        print(f"SKIP: no requests recorded for {', '.join(missing_tests)}: the comparison needs "
              f"the whole e2e tier run on the real control plane (records in {args.records})")
        return SKIP
    triples = rule_triples(render())
    own_rules = {}  # chart values (as JSON) -> the rules the chart has with them
    used = set()
    missing = collections.defaultdict(set)
    total = 0
    for name, record in records:
        chart = record.get("chart") or {"set": [], "values": []}
        key = json.dumps(chart, sort_keys=True)
        if key not in own_rules:
            own_rules[key] = triples if not chart["set"] and not chart["values"] else \
                rule_triples(render_with(chart))

        def check(verb, group, resource, namespace, what, refused=False):
            if refused and record.get("provoked_refusals"):
                return  # the test took the permission away on purpose
            if not refused:
                used.update(t for t in triples if allows(t, verb, group, resource, namespace))
            if not any(allows(t, verb, group, resource, namespace) for t in own_rules[key]):
                missing[what].add(name)
        for q in record["requests"]:
            total += q["count"]
            resource = q["resource"] + (f"/{q['subresource']}" if q["subresource"] else "")
            check(q["verb"], q["group"], resource, q["namespace"],
                  describe(q["verb"], q["group"], q["resource"], q["subresource"],
                           q["namespace"]), refused=q["code"] == 403)
        for fin in record.get("finalizers", []):
            resource = fin["resource"] + "/finalizers"
            check("update", fin["group"], resource, fin["namespace"],
                  f"update {resource} in API group \"{fin['group']}\" (an ownerReference with "
                  f"blockOwnerDeletion)")
    granted = {t[:4] for t in triples}
    excess = [t for t in triples if t not in used and not (
        t[3] == "get" and (t[0], t[1], t[2], "list") in granted and
        (t[0], t[1], t[2], "watch") in granted)]
    print(f"{total} requests of {len(records)} e2e tests against {len(triples)} rule entries "
          f"(verb x group x resource) of the chart")
    for what, tests in sorted(missing.items()):
        print(f"MISSING: {what} (sent by {', '.join(sorted(tests))})")
    for ns, g, r, v, role in excess:
        scope = f"Role {role} in {ns}" if ns else f"ClusterRole {role}"
        print(f"EXCESS: {v} {r} in API group \"{g}\" ({scope}): no e2e test's controller sent it")
    if not missing and not excess:
        print("ok: every request allowed by a rule, every rule used by a request")
    return 1 if missing or excess else 0


def render_with(chart):
    """The chart rendered with a record's values (YAML texts through temporary files)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for i, text in enumerate(chart["values"]):
            paths.append(os.path.join(d, f"values-{i}.yaml"))
            with open(paths[-1], "w") as f:
                f.write(text)
        return render(chart["set"], paths)


def cmd_manifests(args):
    objects = rbac_objects(render(args.set, args.values))
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, sys.stdout)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("manifests")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("-f", "--values", action="append", default=[])
    for name in ("record", "forbidden"):
        p = sub.add_parser(name)
        p.add_argument("--audit", required=True)
        p.add_argument("--user", required=True)
        if name == "record":
            p.add_argument("--out", required=True)
            p.add_argument("--set", action="append", default=[])
            p.add_argument("-f", "--values", action="append", default=[])
            p.add_argument("--provoked-refusals", action="store_true",
                           help="the test refused requests on purpose (E2E_ALLOW_FORBIDDEN)")
    p = sub.add_parser("compare")
    p.add_argument("--records", required=True)
    p.add_argument("--tests", nargs="+", required=True)
    args = parser.parse_args()
    return {"manifests": cmd_manifests, "record": cmd_record, "forbidden": cmd_forbidden,
            "compare": cmd_compare}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
