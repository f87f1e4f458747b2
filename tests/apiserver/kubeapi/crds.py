"""CustomResourceDefinition admission and the status the real server's controllers set.

The real apiextensions-apiserver validates names and versions, adds the
customresourcecleanup finalizer when a CRD is deleted (not before: a live CRD carries none), and
its naming/establishing controllers report NamesAccepted and Established; here that happens
synchronously on every CRD write, so a client waiting for condition=Established sees it on its
first read.
"""
import datetime

from .errors import invalid

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _cause(reason, field, message):
    return {"reason": reason, "message": message, "field": field}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate(rt, crd):
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = crd["metadata"]["name"]
    causes = []
    if not spec.get("group"):
        causes.append(_cause("FieldValueRequired", "spec.group", "Required value"))
    if not names.get("plural"):
        causes.append(_cause("FieldValueRequired", "spec.names.plural", "Required value"))
    if not names.get("kind"):
        causes.append(_cause("FieldValueRequired", "spec.names.kind", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(_cause("FieldValueNotSupported", "spec.scope",
                             f'Unsupported value: "{spec.get("scope", "")}": supported values: '
                             f'"Cluster", "Namespaced"'))
    if names.get("plural") and spec.get("group") and name != f'{names["plural"]}.{spec["group"]}':
        causes.append(_cause("FieldValueInvalid", "metadata.name",
                             f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'))
    versions = spec.get("versions") or []
    if not versions:
        causes.append(_cause("FieldValueInvalid", "spec.versions",
                             "Invalid value: []: must have exactly one version marked as "
                             "storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append(_cause("FieldValueInvalid", "spec.versions", "Invalid value: "
                             "must have exactly one version marked as storage version"))
    for i, v in enumerate(versions):
        if not (v.get("schema") or {}).get("openAPIV3Schema"):
            causes.append(_cause("FieldValueRequired", f"spec.versions[{i}].schema.openAPIV3Schema",
                                 "Required value: schemas are required"))
    if causes:
        raise invalid(rt, name, causes)


def deleting(crd):
    """The CRD about to be deleted: the cleanup finalizer keeps it until its objects are gone
    (apiextensions-apiserver's registry adds it in Delete)."""
    fins = crd["metadata"].setdefault("finalizers", [])
    if CLEANUP_FINALIZER not in fins:
        fins.append(CLEANUP_FINALIZER)


def prepare(crd, old=None):
    """The controller-owned status."""
    meta = crd["metadata"]
    spec = crd.get("spec", {})
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", names.get("kind", "") + "List")
    spec["names"] = names
    stamp = ((old or {}).get("status") or {}).get("conditions", [{}])[0].get(
        "lastTransitionTime") or _now()
    storage = [v["name"] for v in spec.get("versions", []) if v.get("storage")]
    stored = list(((old or {}).get("status") or {}).get("storedVersions") or [])
    for v in storage:
        if v not in stored:
            stored.append(v)
    conditions = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": stamp},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted", "lastTransitionTime": stamp},
    ]
    if meta.get("deletionTimestamp"):
        conditions.append({"type": "Terminating", "status": "True",
                           "reason": "InstanceDeletionInProgress",
                           "message": "CustomResource deletion is in progress",
                           "lastTransitionTime": _now()})
    crd["status"] = {"conditions": conditions, "acceptedNames": names, "storedVersions": stored}
