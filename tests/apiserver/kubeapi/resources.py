"""The resource types the server serves: built-in kinds plus those defined by CRDs.

A ResourceType names one (group, version, plural) endpoint. Several endpoints may share a
`store_key` (core/v1 and events.k8s.io/v1 Events; every version of a CRD), exactly as the real
server keeps one etcd prefix per group-resource and converts on read.
"""
import threading
from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
COMMON_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    status: bool = False          # has the /status subresource
    generation: bool = False      # metadata.generation tracks spec changes
    fields: tuple = ()            # field selectors beyond metadata.name/namespace
    columns: list = None          # CRD additionalPrinterColumns
    schema: dict = None           # CRD openAPIV3Schema
    crd: str = None               # name of the defining CRD
    store_key: str = None

    def __post_init__(self):
        if self.store_key is None:
            self.store_key = f"{self.group}/{self.plural}"

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def selectable_fields(self):
        """Field label -> stored path. events.k8s.io/v1 labels name its own fields
        (regarding.*, reportingController) and read the core/v1 form Events are stored in."""
        labels = {f: f for f in COMMON_FIELDS + tuple(self.fields)}
        if self.group == "events.k8s.io":
            for f in self.fields:
                if f.startswith("involvedObject."):
                    labels["regarding." + f.split(".", 1)[1]] = f
            labels["reportingController"] = "reportingComponent"
        return labels

    @property
    def subresources(self):
        extra = ["status"] if self.status else []
        if self.kind == "Namespace" and not self.group:
            extra.append("finalize")
        return extra


_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                 "involvedObject.uid", "involvedObject.apiVersion",
                 "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                 "reportingComponent", "source", "type")


def builtin_types():
    rt = ResourceType
    return [
        rt("", "v1", "namespaces", "namespace", "Namespace", False, ["ns"], status=True,
           fields=("status.phase",)),
        rt("", "v1", "secrets", "secret", "Secret", True, fields=("type",)),
        rt("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"]),
        rt("", "v1", "pods", "pod", "Pod", True, ["po"], ["all"], status=True,
           fields=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                   "spec.serviceAccountName", "status.phase", "status.podIP")),
        rt("", "v1", "services", "service", "Service", True, ["svc"], ["all"], status=True),
        rt("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"]),
        rt("", "v1", "events", "event", "Event", True, ["ev"], fields=_EVENT_FIELDS,
           store_key="core/events"),
        rt("events.k8s.io", "v1", "events", "event", "Event", True, ["ev"],
           fields=_EVENT_FIELDS, store_key="core/events"),
        rt("coordination.k8s.io", "v1", "leases", "lease", "Lease", True),
        rt("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, ["ing"],
           status=True, generation=True),
        rt("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", False,
           generation=True),
        rt("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
        rt("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True),
        rt("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False),
        rt("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding",
           "ClusterRoleBinding", False),
        rt("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
           "CustomResourceDefinition", False, ["crd", "crds"], ["api-extensions"], status=True,
           generation=True),
    ]


def types_from_crd(crd):
    """The endpoints an Established CRD serves, one per served version."""
    spec = crd.get("spec", {})
    names = spec.get("names", {})
    top_status = (spec.get("subresources") or {}).get("status") is not None
    out = []
    for ver in spec.get("versions", []):
        if not ver.get("served", True):
            continue
        subs = ver.get("subresources") or spec.get("subresources") or {}
        schema = (ver.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
        out.append(ResourceType(
            spec.get("group", ""), ver["name"], names.get("plural", ""),
            names.get("singular") or names.get("kind", "").lower(), names.get("kind", ""),
            spec.get("scope", "Namespaced") == "Namespaced",
            list(names.get("shortNames") or []), list(names.get("categories") or []),
            status=subs.get("status") is not None or top_status, generation=True,
            columns=ver.get("additionalPrinterColumns"), schema=schema,
            crd=crd["metadata"]["name"]))
    return out


class Registry:
    """Thread-safe map of served endpoints; CRD writes add or remove theirs."""

    def __init__(self):
        self._lock = threading.Lock()
        self._types = {}
        self._builtin_groups = []
        for t in builtin_types():
            self._types[(t.group, t.version, t.plural)] = t
            if t.group not in self._builtin_groups:
                self._builtin_groups.append(t.group)
        self.generation = 0   # bumped on every change; part of the OpenAPI hash

    def lookup(self, group, version, plural):
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, group, version, kind):
        with self._lock:
            for t in self._types.values():
                if (t.group, t.version, t.kind) == (group, version, kind):
                    return t
        return None

    def all(self):
        with self._lock:
            return list(self._types.values())

    def for_store_key(self, store_key):
        return [t for t in self.all() if t.store_key == store_key]

    def group_versions(self):
        """[(group, [versions])] in discovery order: built-ins first, then CRD groups."""
        order, versions = [], {}
        for t in self.all():
            if t.group not in versions:
                order.append(t.group)
                versions[t.group] = []
            if t.version not in versions[t.group]:
                versions[t.group].append(t.version)
        order.sort(key=lambda g: (g not in self._builtin_groups,
                                  self._builtin_groups.index(g) if g in self._builtin_groups else 0,
                                  g))
        return [(g, sorted(versions[g], key=_version_priority)) for g in order]

    def set_crd(self, crd):
        name = crd["metadata"]["name"]
        with self._lock:
            for key in [k for k, t in self._types.items() if t.crd == name]:
                del self._types[key]
            for t in types_from_crd(crd):
                self._types[(t.group, t.version, t.plural)] = t
            self.generation += 1

    def remove_crd(self, name):
        with self._lock:
            for key in [k for k, t in self._types.items() if t.crd == name]:
                del self._types[key]
            self.generation += 1


def _version_priority(version):
    """Kubernetes version priority: GA > beta > alpha, higher numbers first."""
    import re
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (3, 0, 0, version)
    level = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (level, -int(m.group(1)), -int(m.group(3) or 0), version)
