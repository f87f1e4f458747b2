"""Per-kind behaviour of the built-in resources: defaults, immutable fields, conversions.

Only what controllers and kubectl observe is modelled (documented defaults such as a Secret's
type Opaque, a Namespace's "kubernetes" finalizer and Active phase, Service cluster IPs).
"""
import base64
import binascii
import copy
import itertools

from .errors import ApiError, invalid

_service_ips = itertools.count(10)


def _cause(reason, field, message):
    return {"reason": reason, "message": message, "field": field}


# -- Events: stored in core/v1 form, events.k8s.io/v1 converts on the way in and out --------
_EVENTS_RENAMES = [("regarding", "involvedObject"), ("note", "message"),
                   ("reportingController", "reportingComponent"),
                   ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
                   ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count")]


def to_storage(rt, obj):
    if rt.group == "events.k8s.io":
        obj = {_rename(k, 0): v for k, v in obj.items()}
        obj["apiVersion"] = "v1"
    return obj


def to_external(rt, obj):
    if rt.group == "events.k8s.io":
        obj = {_rename(k, 1): v for k, v in obj.items()}
    elif obj.get("apiVersion") == rt.api_version:
        return obj
    else:
        obj = dict(obj)
    obj["apiVersion"] = rt.api_version
    return obj


def _rename(key, direction):
    for new, old in _EVENTS_RENAMES:
        if direction == 0 and key == new:
            return old
        if direction == 1 and key == old:
            return new
    return key


# -- create / update hooks --------------------------------------------------------------------
def on_create(rt, obj):
    hook = _CREATE_HOOKS.get((rt.group, rt.kind))
    if hook:
        hook(rt, obj)


def on_update(rt, old, new):
    hook = _UPDATE_HOOKS.get((rt.group, rt.kind))
    if hook:
        hook(rt, old, new)


def _secret_data(rt, obj):
    """stringData is merged into data (write-only field); data values must be base64."""
    data = obj.get("data") or {}
    for key, value in data.items():
        try:
            base64.b64decode(value or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ApiError(400, "BadRequest", f'Secret in version "v1" cannot be handled as a '
                           f'Secret: illegal base64 data in key {key}') from None
    for key, value in (obj.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


def _secret_update(rt, old, new):
    _secret_data(rt, new)
    _immutable_data(rt, old, new)
    if new.get("type") != old.get("type"):
        raise invalid(rt, new["metadata"]["name"], [_cause(
            "FieldValueInvalid", "type",
            f'Invalid value: "{new.get("type")}": field is immutable')])


def _immutable_data(rt, old, new):
    if old.get("immutable") and (old.get("data") != new.get("data")
                                 or old.get("binaryData") != new.get("binaryData")):
        raise invalid(rt, new["metadata"]["name"], [_cause(
            "FieldValueForbidden", "data",
            "Forbidden: field is immutable when `immutable` is set")])


def _namespace_create(rt, obj):
    obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    obj["status"] = {"phase": "Active"}
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def _namespace_update(rt, old, new):
    new["spec"] = copy.deepcopy(old.get("spec", {}))
    new["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = \
        new["metadata"]["name"]


def _pod_create(rt, obj):
    spec = obj.setdefault("spec", {})
    if not spec.get("containers"):
        raise invalid(rt, obj["metadata"]["name"],
                      [_cause("FieldValueRequired", "spec.containers", "Required value")])
    _pod_defaults(spec)
    obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _pod_defaults(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", "default")
    for c in spec["containers"]:
        image = c.get("image", "")
        tagged = ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
        c.setdefault("imagePullPolicy", "IfNotPresent" if tagged else "Always")
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")


# kube-apiserver's ValidatePodUpdate: a Pod's spec is fixed once created but for these.
_POD_MUTABLE = ("pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                "(allow it to be set to 1 if it was previously negative)")


def _pod_update(rt, old, new):
    spec = new.setdefault("spec", {})
    if spec.get("containers") is None:
        spec["containers"] = old.get("spec", {}).get("containers")
    _pod_defaults(spec)
    old_spec = old.get("spec", {})
    name = new["metadata"]["name"]
    for field in ("containers", "initContainers"):
        if len(spec.get(field) or []) != len(old_spec.get(field) or []):
            raise invalid(rt, name, [_cause("FieldValueForbidden", f"spec.{field}",
                                            "Forbidden: pod updates may not add or remove "
                                            "containers")])
    if _pod_fixed_part(old_spec, old_spec) != _pod_fixed_part(spec, old_spec):
        raise invalid(rt, name, [_cause("FieldValueForbidden", "spec",
                                        "Forbidden: " + _POD_MUTABLE)])


def _pod_fixed_part(spec, old_spec):
    """The spec without what an update may change (compared between old and new)."""
    fixed = copy.deepcopy(spec)
    for field in ("containers", "initContainers"):
        for c in fixed.get(field) or []:
            c.pop("image", None)
    fixed.pop("activeDeadlineSeconds", None)
    old_tolerations = old_spec.get("tolerations") or []
    if (fixed.get("tolerations") or [])[:len(old_tolerations)] == old_tolerations:
        fixed["tolerations"] = old_tolerations  # additions only
    if (old_spec.get("terminationGracePeriodSeconds") or 0) < 0:
        fixed.pop("terminationGracePeriodSeconds", None)
    return fixed


def _service_create(rt, obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName" and "clusterIP" not in spec:
        n = next(_service_ips)
        spec["clusterIP"] = f"10.96.{n // 250}.{n % 250 + 1}"
    if spec.get("clusterIP"):
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    obj["status"] = {"loadBalancer": {}}


def _service_update(rt, old, new):
    spec = new.setdefault("spec", {})
    for key in ("clusterIP", "clusterIPs"):
        if key in old.get("spec", {}):
            spec.setdefault(key, old["spec"][key])
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))


_CREATE_HOOKS = {
    ("", "Secret"): _secret_data,
    ("", "Namespace"): _namespace_create,
    ("", "Pod"): _pod_create,
    ("", "Service"): _service_create,
}
_UPDATE_HOOKS = {
    ("", "Secret"): _secret_update,
    ("", "ConfigMap"): _immutable_data,
    ("", "Namespace"): _namespace_update,
    ("", "Pod"): _pod_update,
    ("", "Service"): _service_update,
}
