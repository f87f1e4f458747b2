"""Discovery documents (/api, /apis, APIResourceList), /version and OpenAPI.

/api and /apis answer in the aggregated form (apidiscovery.k8s.io/v2) when the client asks for
it first, as kubectl 1.32 does, and in the legacy form otherwise.
OpenAPI v3 is served per group-version with paths carrying x-kubernetes-group-version-kind and
the fieldValidation parameter, which is how kubectl decides that the server validates fields
(server-side field validation); component schemas are published for custom resources only, so
kubectl computes strategic merge patches for built-in kinds from its compiled-in types.
"""
import hashlib
import json

from .resources import VERBS

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-certsmith-test",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
           "platform": "linux/amd64"}


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(group, versions):
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry):
    groups = [_group(g, vs) for g, vs in registry.group_versions() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry, group):
    for g, vs in registry.group_versions():
        if g == group and g:
            return dict(_group(g, vs), kind="APIGroup", apiVersion="v1")
    return None


def resource_list(registry, group, version):
    types = [t for t in registry.all() if t.group == group and t.version == version]
    if not types:
        return None
    resources = []
    for t in sorted(types, key=lambda t: t.plural):
        entry = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                 "kind": t.kind, "verbs": VERBS}
        if t.short_names:
            entry["shortNames"] = t.short_names
        if t.categories:
            entry["categories"] = t.categories
        resources.append(entry)
        for sub in t.subresources:
            verbs = ["update"] if sub == "finalize" else ["get", "patch", "update"]
            resources.append({"name": f"{t.plural}/{sub}", "singularName": "",
                              "namespaced": t.namespaced, "kind": t.kind, "verbs": verbs})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


# -- aggregated discovery (apidiscovery.k8s.io/v2): every group, version and resource at once --
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept):
    """True when the client's first choice is apidiscovery.k8s.io/v2 (kubectl 1.32 is)."""
    params = set((accept or "").split(",")[0].replace(" ", "").split(";")[1:])
    return {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params


def _aggregated_resource(t):
    kind = {"group": t.group, "version": t.version, "kind": t.kind}
    entry = {"resource": t.plural, "responseKind": kind,
             "scope": "Namespaced" if t.namespaced else "Cluster",
             "singularResource": t.singular, "verbs": VERBS}
    if t.short_names:
        entry["shortNames"] = t.short_names
    if t.categories:
        entry["categories"] = t.categories
    if t.subresources:
        entry["subresources"] = [
            {"subresource": sub, "responseKind": kind,
             "verbs": ["update"] if sub == "finalize" else ["get", "patch", "update"]}
            for sub in t.subresources]
    return entry


def aggregated(registry, core):
    """/api (core=True) or /apis as an APIGroupDiscoveryList."""
    types = registry.all()
    items = []
    for group, versions in registry.group_versions():
        if bool(group) == core:
            continue
        entries = []
        for version in versions:
            res = [_aggregated_resource(t) for t in sorted(types, key=lambda t: t.plural)
                   if t.group == group and t.version == version]
            entries.append({"version": version, "resources": res, "freshness": "Current"})
        # The core group's entry has no name at all (omitempty), not "".
        meta = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
        items.append({"metadata": meta, "versions": entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


# -- OpenAPI ----------------------------------------------------------------------------------
def _gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_gv(registry, group, version):
    types = [t for t in registry.all() if t.group == group and t.version == version]
    if not types:
        return None
    paths, schemas = {}, {}
    for t in types:
        gvk = {"group": t.group, "version": t.version, "kind": t.kind}
        base = "/" + _gv_path(group, version)
        if t.namespaced:
            base += "/namespaces/{namespace}"
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string",
                   "uniqueItems": True}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string"}}]
        op = {"x-kubernetes-group-version-kind": gvk, "parameters": params,
              "responses": {"200": {"description": "OK"}}}
        collection = dict(op, **{"x-kubernetes-action": "post"})
        item = {"get": dict(op, **{"x-kubernetes-action": "get"}),
                "put": dict(op, **{"x-kubernetes-action": "put"}),
                "patch": dict(op, **{"x-kubernetes-action": "patch"}),
                "delete": dict(op, **{"x-kubernetes-action": "delete"})}
        paths[f"{base}/{t.plural}"] = {"post": collection,
                                       "get": dict(op, **{"x-kubernetes-action": "list"})}
        paths[f"{base}/{t.plural}/{{name}}"] = item
        if t.schema is not None:
            schemas[_schema_name(t)] = _cr_schema(t, gvk)
    schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = {
        "type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}


def _schema_name(t):
    reverse = ".".join(reversed(t.group.split("."))) if t.group else "io.k8s.api.core"
    return f"{reverse}.{t.version}.{t.kind}"


def _cr_schema(t, gvk):
    doc = json.loads(json.dumps(t.schema))
    props = doc.setdefault("properties", {})
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props["metadata"] = {"allOf": [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]}
    doc["type"] = "object"
    doc["x-kubernetes-group-version-kind"] = [gvk]
    return doc


def openapi_v3_index(registry):
    paths = {}
    for group, versions in registry.group_versions():
        for version in versions:
            doc = openapi_v3_gv(registry, group, version)
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]
            key = _gv_path(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest.upper()}"}
    return {"paths": paths}
