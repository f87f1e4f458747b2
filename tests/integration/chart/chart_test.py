#!/usr/bin/python3
"""Renders charts/certsmith with ../shared/tools/helm-render (Helm's `helm template` semantics)
and checks what a cluster admin would review: the kinds, a hardened Pod, and RBAC that is narrow
(no wildcards, no RBAC or CRD rights, Issuer specs read-only, Certificate writes only for the
Ingress shim, Secrets per namespace when asked). Also checks that the chart's CRDs are the
generated ones and that values.schema.json refuses bad values. Exit 77 when the shared tools or python3-yaml are missing.
"""
import filecmp
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed")
    sys.exit(77)

SRC = os.environ.get("CERTSMITH_SOURCE_DIR") or sys.argv[1]
CHART = os.path.join(SRC, "charts", "certsmith")
RENDER = os.path.join(os.path.dirname(os.path.abspath(SRC)), "shared", "tools", "helm-render", "run")
if not os.access(RENDER, os.X_OK):
    print(f"SKIP: {RENDER} is absent (the shared tools live beside the repository)")
    sys.exit(77)

failures = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def render(*args):
    p = subprocess.run([RENDER, "--name", "certsmith", "--namespace", "certsmith", *args, CHART],
                       capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def check_pod(objects):
    deps = by_kind(objects, "Deployment")
    check(len(deps) == 1, "one Deployment")
    pod = deps[0]["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == 65532, "runs as non-root 65532")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccomp RuntimeDefault")
    c = pod["containers"][0]
    sc = c["securityContext"]
    check(sc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    check(sc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], "drops all capabilities")
    check("limits" in c.get("resources", {}) and "requests" in c["resources"], "resources set")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness probe on /healthz")
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness probe on /readyz")
    args = c["args"]
    check(args[0] == "controller" and "--leader-elect=true" in args, "controller with leader election")
    check(any(a.startswith("--metrics-listen=") for a in args), "metrics endpoint enabled for probes")
    check("--default-secret-deletion-policy=Retain" in args, "TLS Secrets outlive Certificates by default")
    check(pod["serviceAccountName"] == "certsmith", "runs as the chart's ServiceAccount")


def rules_of(objects, kind):
    out = []
    for o in by_kind(objects, kind):
        for r in o.get("rules", []):
            out.append((o["metadata"].get("namespace"), r))
    return out


def check_rbac(objects, secrets_cluster_wide):
    cluster = [r for _, r in rules_of(objects, "ClusterRole")]
    every = cluster + [r for _, r in rules_of(objects, "Role")]
    check(all("*" not in r["verbs"] + r["resources"] + r["apiGroups"] for r in every),
          "no wildcard verbs, resources or groups")
    forbidden = {"clusterroles", "roles", "clusterrolebindings", "rolebindings",
                 "customresourcedefinitions", "nodes", "namespaces", "configmaps",
                 "serviceaccounts", "pods/exec"}
    check(not any(set(r["resources"]) & forbidden for r in every),
          "no rights on RBAC, CRDs, nodes, namespaces, ConfigMaps or exec")
    spec_rules = [r for r in cluster if "certsmith.io" in r["apiGroups"]
                  and set(r["resources"]) & {"issuers", "clusterissuers", "certificates"}]
    check(spec_rules and all(set(r["verbs"]) <= {"get", "list", "watch"} for r in spec_rules
                             if set(r["resources"]) & {"issuers", "clusterissuers"}),
          "Issuer specs are read-only (status is written through the subresource)")
    cert_verbs = set().union(*[set(r["verbs"]) for r in spec_rules if "certificates" in r["resources"]])
    check(cert_verbs == {"get", "list", "watch", "create", "update", "delete"},
          f"Certificates: read, and create/update/delete for the Ingress shim only, got {sorted(cert_verbs)}")
    shim_rules = [r for r in spec_rules if "create" in r["verbs"]]
    check(all(r["resources"] == ["certificates"] for r in shim_rules),
          "the Ingress shim's write rule names Certificates alone")
    ingress_verbs = set().union(*[set(r["verbs"]) for r in cluster
                                  if "networking.k8s.io" in r["apiGroups"] and "ingresses" in r["resources"]])
    check({"get", "list", "watch"} <= ingress_verbs, "Ingresses are watched (the Ingress shim)")
    check(any(r["resources"] == ["ingresses/finalizers"] and r["verbs"] == ["update"] for r in cluster),
          "ingresses/finalizers update (blockOwnerDeletion on the shim's Certificates)")
    secret_cluster = [r for r in cluster if "secrets" in r["resources"]]
    check(bool(secret_cluster) == secrets_cluster_wide,
          "Secrets in the ClusterRole only when rbac.secretNamespaces is empty")
    leases = [(ns, r) for ns, r in rules_of(objects, "Role") if "leases" in r["resources"]]
    check(len(leases) == 1 and leases[0][0] == "certsmith", "leases only in the release namespace")
    check(not any("leases" in r["resources"] for r in cluster), "no cluster-wide leases")
    events = [r for r in cluster if "events" in r["resources"]]
    check(events and set(events[0]["verbs"]) == {"create", "patch"}, "events: create and patch")


def check_gateway_api(default_objects):
    """enableGatewayAPI: the flag and exactly the Gateway API rules the controller needs."""
    gw_group = "gateway.networking.k8s.io"
    default_cluster = [r for _, r in rules_of(default_objects, "ClusterRole")]
    default_args = by_kind(default_objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    check(not any(gw_group in r["apiGroups"] for r in default_cluster)
          and "--enable-gateway-api" not in default_args,
          "no Gateway API flag or rules by default")
    rc, out, err = render("--set", "enableGatewayAPI=true")
    check(rc == 0, "enableGatewayAPI=true renders" + (": " + err if rc else ""))
    objects = docs(out) if rc == 0 else []
    if not objects:
        return
    args = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    check("--enable-gateway-api" in args, "enableGatewayAPI reaches --enable-gateway-api")
    check_rbac(objects, secrets_cluster_wide=True)
    gw = {tuple(r["resources"]): set(r["verbs"]) for _, r in rules_of(objects, "ClusterRole")
          if gw_group in r["apiGroups"]}
    check(gw == {("httproutes",): {"get", "list", "watch", "create", "delete", "update"},
                 ("gateways",): {"get", "list", "watch"},
                 ("gateways/finalizers",): {"update"}},
          f"Gateway API rules: HTTPRoutes made, put back, removed; Gateways read; gateways/finalizers "
          f"for blockOwnerDeletion; got {gw}")
    rc, out, err = render("--set", "enableGatewayAPI=yes")
    check(rc != 0 and "enableGatewayAPI" in err, "values.schema.json refuses enableGatewayAPI=yes")


def check_prometheus_rule():
    """The optional alerts render and use only metric names the controller exports."""
    rc, out, err = render("--set", "metrics.prometheusRule.enabled=true",
                          "--set", "metrics.prometheusRule.expiryWarningDays=21")
    check(rc == 0, "prometheusRule values render" + (": " + err if rc else ""))
    rules = by_kind(docs(out), "PrometheusRule")
    check(len(rules) == 1, "PrometheusRule when enabled")
    if not rules:
        return
    exprs = [r["expr"] for g in rules[0]["spec"]["groups"] for r in g["rules"]]
    check(any("< 21 * 86400" in e for e in exprs), "expiryWarningDays reaches the expiry alert")
    with open(os.path.join(SRC, "controller", "metrics", "src", "controller_metrics.cc")) as f:
        exported = set(re.findall(r'"(certsmith_[a-z_]+)"', f.read()))
    used = set(re.findall(r"certsmith_[a-z_]+", " ".join(exprs)))
    check(used and used <= exported, f"alerts use exported metrics only: {sorted(used - exported)}")
    rc, out, err = render("--set", "metrics.prometheusRule.notReadyFor=soon")
    check(rc != 0, "values.schema.json refuses notReadyFor=soon")


def main():
    rc, out, err = render()
    check(rc == 0, "default values render" + (": " + err if rc else ""))
    objects = docs(out)
    kinds = sorted({o["kind"] for o in objects})
    check(kinds == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding",
                    "Service", "ServiceAccount"], f"expected kinds, got {kinds}")
    check_pod(objects)
    check_rbac(objects, secrets_cluster_wide=True)
    args = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    check(not any(a.startswith("--secret-namespaces") for a in args),
          "no --secret-namespaces by default (Secrets watched in every namespace)")
    check_gateway_api(objects)

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("rbac:\n  secretNamespaces: [shop, web]\n  dnsWebhooks:\n"
                "  - {groupName: acme.example.com, solverName: my-dns}\n"
                "metrics:\n  serviceMonitor: {enabled: true}\n")
        narrow = f.name
    rc, out, err = render("-f", narrow)
    os.unlink(narrow)
    check(rc == 0, "narrow values render" + (": " + err if rc else ""))
    objects = docs(out)
    check_rbac(objects, secrets_cluster_wide=False)
    secret_ns = sorted(ns for ns, r in rules_of(objects, "Role") if "secrets" in r["resources"])
    check(secret_ns == ["certsmith", "shop", "web"],
          f"Secret Roles in listed namespaces plus the cluster resource one: {secret_ns}")
    args = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    check("--secret-namespaces=shop,web,certsmith" in args,
          "the controller watches Secrets where the Roles allow them (--secret-namespaces)")
    check(len(by_kind(objects, "ServiceMonitor")) == 1, "ServiceMonitor when enabled")
    check_prometheus_rule()
    webhook = [r for _, r in rules_of(objects, "ClusterRole") if r["apiGroups"] == ["acme.example.com"]]
    check(webhook and webhook[0]["resources"] == ["my-dns"] and webhook[0]["verbs"] == ["create"],
          "dns01 webhook: create on its one solver resource")

    rc, out, err = render("--set", "logLevel=verbose")
    check(rc != 0 and "logLevel" in err, "values.schema.json refuses logLevel=verbose")
    rc, out, err = render("--set", "secretDeletionPolicy=Delete")
    args = by_kind(docs(out), "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"] if rc == 0 else []
    check("--default-secret-deletion-policy=Delete" in args, "secretDeletionPolicy=Delete reaches the flag")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write('dns01RecursiveNameservers: ["10.0.0.53:53", "[2001:db8::53]:53"]\n'
                "dns01RecursiveNameserversOnly: true\n")
        dns_values = f.name
    rc, out, err = render("-f", dns_values)
    os.unlink(dns_values)
    args = by_kind(docs(out), "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"] if rc == 0 else []
    check("--dns01-recursive-nameservers=10.0.0.53:53,[2001:db8::53]:53" in args
          and "--dns01-recursive-nameservers-only" in args,
          f"dns01RecursiveNameservers[Only] reach the flags: {args}")
    rc, out, err = render("--set", "secretDeletionPolicy=Orphan")
    check(rc != 0 and "secretDeletionPolicy" in err, "values.schema.json refuses secretDeletionPolicy=Orphan")
    rc, out, err = render("--set", "replicaCount=two")
    check(rc != 0, "values.schema.json refuses a non-integer replicaCount")

    rc, out, err = render("--include-crds")
    crds = by_kind(docs(out), "CustomResourceDefinition")
    check(len(crds) == 5, f"--include-crds renders 5 CRDs, got {len(crds)}")
    chart_crds = sorted(os.listdir(os.path.join(CHART, "crds")))
    top = sorted(f for f in os.listdir(os.path.join(SRC, "crds")) if f.endswith(".yaml"))
    same = chart_crds == top and all(
        filecmp.cmp(os.path.join(CHART, "crds", f), os.path.join(SRC, "crds", f), shallow=False)
        for f in top)
    check(same, "charts/certsmith/crds/ equals crds/ (one generated source)")

    dockerfile = open(os.path.join(SRC, "Dockerfile"), encoding="utf-8").read().splitlines()
    froms = [l for l in dockerfile if l.startswith("FROM ")]
    # The build stage on the one base container-build has; the runtime stage on an empty one
    # (the image is checked by the container_image test).
    check(froms == ["FROM debian:bookworm-slim AS build", "FROM scratch"],
          f"Dockerfile: a debian:bookworm-slim build stage and a scratch runtime stage, got {froms}")
    check("USER 65532:65532" in dockerfile, "Dockerfile: USER 65532")
    check('ENTRYPOINT ["/usr/local/bin/certsmith"]' in dockerfile, "Dockerfile: ENTRYPOINT")

    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
