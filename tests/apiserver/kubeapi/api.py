"""Object semantics shared by the HTTP handlers and the in-process controllers (GC, namespace
and CRD cleanup): create, read, list, update, patch and delete with the real server's rules
for metadata, resourceVersion conflicts, the status subresource, finalizers and validation.
"""
import base64
import copy
import datetime
import json
import random
import re
import string
import uuid

from . import crds, kinds, patch, schema
from .errors import (ApiError, already_exists, bad_request, conflict, forbidden, invalid,
                     not_found, unsupported_media)
from .selectors import Selector

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "generation", "namespace", "name", "selfLink")
PATCH_TYPES = ("application/merge-patch+json", "application/json-patch+json",
               "application/strategic-merge-patch+json")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cause(reason, field, message):
    return {"reason": reason, "message": message, "field": field}


class Api:
    def __init__(self, registry, store):
        self.registry = registry
        self.store = store

    # -- reads ------------------------------------------------------------------------------
    def get(self, rt, ns, name):
        obj = self.store.get(rt.store_key, ns if rt.namespaced else "", name)
        if obj is None:
            raise not_found(rt, name)
        return obj

    def list(self, rt, ns, label_selector="", field_selector="", limit=0, cont=None):
        """Returns (items, list resourceVersion, continue token, remaining count)."""
        selector = Selector(label_selector, field_selector, rt.selectable_fields)
        start_after, token_rv = None, None
        if cont:
            token_rv, start_after = _decode_continue(cont, self.store.compacted_rv)
        items, rv, more, remaining = self.store.page(
            rt.store_key, ns if rt.namespaced else None, start_after, limit,
            None if selector.empty() else selector.matches)
        rv = token_rv or rv   # every page of one list reports the first page's revision
        token = _encode_continue(rv, _sort_key(items[-1])) if more and items else ""
        return items, rv, token, (remaining if token else None)

    # -- create -----------------------------------------------------------------------------
    def create(self, rt, ns, obj, validation="Strict", dry_run=False):
        obj = self._decode(rt, obj)
        meta = obj.setdefault("metadata", {})
        ns = self._check_namespace(rt, ns, meta)
        if not meta.get("name") and meta.get("generateName"):
            suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
            meta["name"] = meta["generateName"] + suffix
        self._validate_name(rt, meta.get("name", ""))
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                    "selfLink", "managedFields"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        if rt.generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if rt.crd and rt.status:
            obj.pop("status", None)
        warnings = self._admit(rt, obj, None, validation)
        with self.store.lock:
            self._check_namespace_active(rt, ns, meta["name"])
            if self.store.get(rt.store_key, ns, meta["name"]) is not None:
                raise already_exists(rt, meta["name"])
            if dry_run:   # dryRun=All: admitted and validated, never stored
                return obj, warnings
            stored = self.store.write(rt.store_key, obj, None)
            self._after_write(rt, stored)
        return stored, warnings

    def _decode(self, rt, obj):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request was not a JSON object")
        obj = copy.deepcopy(obj)
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != rt.kind or api_version and api_version != rt.api_version:
            raise bad_request(f'the API version in the data ({api_version}) does not match the '
                              f'expected API version ({rt.api_version})' if kind == rt.kind else
                              f'{kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                              f'the kind in the data does not match the expected kind')
        obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
        obj = kinds.to_storage(rt, obj)
        if not isinstance(obj.get("metadata", {}), dict):
            raise bad_request("metadata must be an object")
        return obj

    def _check_namespace(self, rt, ns, meta):
        if not rt.namespaced:
            meta.pop("namespace", None)
            return ""
        body_ns = meta.get("namespace")
        if body_ns and ns and body_ns != ns:
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        ns = ns or body_ns
        if not ns:
            raise bad_request("an empty namespace may not be set during creation")
        meta["namespace"] = ns
        return ns

    def _check_namespace_active(self, rt, ns, name):
        if not rt.namespaced:
            return
        ns_obj = self.store.get("/namespaces", "", ns)
        if ns_obj is None:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found',
                           {"name": ns, "kind": "namespaces"})
        if ns_obj["metadata"].get("deletionTimestamp"):
            raise forbidden(rt, name, f"unable to create new content in namespace {ns} because "
                            f"it is being terminated")

    def _validate_name(self, rt, name):
        if not name:
            raise invalid(rt, name, [_cause("FieldValueRequired", "metadata.name",
                                            "Required value: name or generateName is required")])
        if rt.kind == "Namespace" and not rt.group:
            ok, what = _LABEL.match(name) and len(name) <= 63, "RFC 1123 label"
        else:
            ok, what = _SUBDOMAIN.match(name) and len(name) <= 253, "RFC 1123 subdomain"
        if not ok:
            raise invalid(rt, name, [_cause(
                "FieldValueInvalid", "metadata.name",
                f'Invalid value: "{name}": a lowercase {what} must consist of lower case '
                f"alphanumeric characters, '-' or '.', and must start and end with an "
                f"alphanumeric character")])

    def _admit(self, rt, obj, old, validation):
        """Kind hooks, CRD schema pruning/defaulting/validation; returns warnings."""
        warnings = []
        if old is None:
            kinds.on_create(rt, obj)
        else:
            kinds.on_update(rt, old, obj)
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            crds.validate(rt, obj)
            crds.prepare(obj, old)
        if rt.schema:
            warnings = self._apply_schema(rt, obj, validation)
        return warnings

    def _apply_schema(self, rt, obj, validation):
        unknown = schema.prune(obj, rt.schema)
        name = obj["metadata"].get("name", "")
        if unknown and validation == "Strict":
            fields = ", ".join(f'unknown field "{u}"' for u in unknown)
            raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a '
                              f'{rt.kind}: strict decoding error: {fields}')
        schema.apply_defaults(obj, rt.schema)
        causes = schema.validate(obj, rt.schema)
        if causes:
            raise invalid(rt, name, causes)
        if validation == "Warn":
            return [f'unknown field "{u}"' for u in unknown]
        return []

    def _after_write(self, rt, stored):
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            self.registry.set_crd(stored)

    def _after_remove(self, rt, obj):
        if rt.kind == "CustomResourceDefinition" and rt.group == "apiextensions.k8s.io":
            self.registry.remove_crd(obj["metadata"]["name"])

    # -- update and patch -------------------------------------------------------------------
    def update(self, rt, ns, name, obj, subresource=None, validation="Strict", dry_run=False):
        obj = self._decode(rt, obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise bad_request(f"the name of the object ({meta['name']}) does not match the name "
                              f"on the URL ({name})")
        meta["name"] = name
        with self.store.lock:
            old = self.get(rt, ns, name)
            want = meta.get("resourceVersion")
            if want and want != old["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            return self._replace(rt, old, obj, subresource, validation, dry_run)

    def patch(self, rt, ns, name, content_type, body, subresource=None, validation="Strict",
              dry_run=False):
        accepted = PATCH_TYPES[:2] if rt.crd else PATCH_TYPES
        if content_type not in accepted:
            raise unsupported_media(accepted)
        try:
            doc = json.loads(body or b"null")
        except ValueError as e:
            raise bad_request(f"error decoding patch: {e}") from None
        with self.store.lock:
            old = self.get(rt, ns, name)
            current = kinds.to_external(rt, old)
            if content_type == PATCH_TYPES[0]:
                if not isinstance(doc, dict):
                    raise bad_request("merge patch must be a JSON object")
                patched = patch.merge_patch(current, doc)
            elif content_type == PATCH_TYPES[1]:
                patched = patch.json_patch(current, doc)
            else:
                if not isinstance(doc, dict):
                    raise bad_request("strategic merge patch must be a JSON object")
                patched = patch.strategic_merge(current, doc)
            if not isinstance(patched, dict):
                raise bad_request("patch did not produce an object")
            patched = self._decode(rt, patched)
            want = patched.get("metadata", {}).get("resourceVersion")
            if want and want != old["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            return self._replace(rt, old, patched, subresource, validation, dry_run)

    def apply(self, rt, ns, name, body, validation="Strict", dry_run=False):
        """application/apply-patch+yaml, approximated: creates the object, or merges the
        applied configuration into it (strategic merge for built-ins, merge for custom
        objects). Without managedFields, fields dropped from the configuration are kept.
        Returns (object, warnings, created)."""
        doc = _parse_apply(body)
        meta = doc.setdefault("metadata", {}) if isinstance(doc, dict) else None
        if meta is None or meta.get("name", name) != name:
            raise bad_request("the name of the object does not match the name on the URL")
        meta["name"] = name
        with self.store.lock:
            if self.store.get(rt.store_key, ns if rt.namespaced else "", name) is None:
                obj, warnings = self.create(rt, ns, doc, validation, dry_run)
                return obj, warnings, True
            ctype = PATCH_TYPES[0] if rt.crd else PATCH_TYPES[2]
            doc = _drop_nulls(doc)
            obj, warnings = self.patch(rt, ns, name, ctype, json.dumps(doc).encode(), None,
                                       validation, dry_run)
            return obj, warnings, False

    def _replace(self, rt, old, new, subresource, validation, dry_run=False):
        name = old["metadata"]["name"]
        meta = new.setdefault("metadata", {})
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(old)
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
            warnings = self._apply_schema(rt, new, validation) if rt.schema else []
        else:
            for key in _IMMUTABLE_META:
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            meta.pop("managedFields", None)
            self._check_finalizers(rt, old, new)
            if rt.status and subresource != "finalize":
                if "status" in old:   # a copy: admission may default into it in place
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            if subresource == "finalize":
                new = self._finalize_namespace(old, new)
                warnings = []
            else:
                warnings = self._admit(rt, new, old, validation)
            if rt.generation and _spec_changed(old, new):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        return self.commit(rt, old, new, dry_run), warnings

    def _check_finalizers(self, rt, old, new):
        if not old["metadata"].get("deletionTimestamp"):
            return
        added = set(new["metadata"].get("finalizers") or []) - set(
            old["metadata"].get("finalizers") or [])
        if added:
            raise invalid(rt, old["metadata"]["name"], [_cause(
                "FieldValueForbidden", "metadata.finalizers",
                "Forbidden: no new finalizers can be added if the object is being deleted, "
                f"found new finalizers {json.dumps(sorted(added))}")])

    def _finalize_namespace(self, old, new):
        result = copy.deepcopy(old)
        result["spec"] = {"finalizers": list((new.get("spec") or {}).get("finalizers") or [])}
        if not result["spec"]["finalizers"]:
            result["spec"] = {}
        return result

    def commit(self, rt, old, new, dry_run=False):
        """Writes unless nothing changed; completes deletion once no finalizer is left."""
        comparable = dict(new, metadata=dict(new["metadata"],
                                             resourceVersion=old["metadata"]["resourceVersion"]))
        if comparable == old:
            return old
        if dry_run:
            return comparable
        if new["metadata"].get("deletionTimestamp") and not self._pending_finalizers(rt, new):
            return self._remove(rt, old)
        stored = self.store.write(rt.store_key, new, old)
        self._after_write(rt, stored)
        return stored

    @staticmethod
    def _pending_finalizers(rt, obj):
        fins = list(obj["metadata"].get("finalizers") or [])
        if rt.kind == "Namespace" and not rt.group:
            fins += (obj.get("spec") or {}).get("finalizers") or []
        return fins

    def _remove(self, rt, obj):
        gone = self.store.remove(rt.store_key, obj)
        self._after_remove(rt, obj)
        return gone

    # -- delete -----------------------------------------------------------------------------
    def delete(self, rt, ns, name, options=None, dry_run=False):
        """Returns (object, deleted_now)."""
        options = options or {}
        with self.store.lock:
            obj = self.get(rt, ns, name)
            self._check_preconditions(rt, obj, options.get("preconditions") or {})
            policy = options.get("propagationPolicy")
            if policy is None and options.get("orphanDependents") is not None:
                policy = "Orphan" if options["orphanDependents"] else "Background"
            if policy not in (None, "Background", "Foreground", "Orphan"):
                raise invalid(rt, name, [_cause(
                    "FieldValueNotSupported", "propagationPolicy",
                    f'Unsupported value: "{policy}": supported values: "Foreground", '
                    f'"Background", "Orphan", "nil"')])
            new = copy.deepcopy(obj)
            meta = new["metadata"]
            fins = list(meta.get("finalizers") or [])
            extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy)
            if extra and extra not in fins:
                fins.append(extra)
            if rt.kind == "CustomResourceDefinition" and not meta.get("deletionTimestamp"):
                crds.deleting(new)
                fins = meta["finalizers"]
            if fins:
                meta["finalizers"] = fins
            if not self._pending_finalizers(rt, new):
                return (obj if dry_run else self._remove(rt, obj)), True
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now()
                meta["deletionGracePeriodSeconds"] = 0
            if rt.kind == "Namespace" and not rt.group:
                new["status"] = {"phase": "Terminating"}
            if rt.kind == "CustomResourceDefinition":
                crds.prepare(new, obj)
            return self.commit(rt, obj, new, dry_run), False

    def _check_preconditions(self, rt, obj, pre):
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise conflict(rt, meta["name"], f'Precondition failed: UID in precondition: '
                           f'{pre["uid"]}, UID in object meta: {meta["uid"]}')
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise conflict(rt, meta["name"], f'Precondition failed: ResourceVersion in '
                           f'precondition: {pre["resourceVersion"]}, ResourceVersion in object '
                           f'meta: {meta["resourceVersion"]}')

    def remove_finalizer(self, rt, obj, finalizer):
        """Controller helper: drops one finalizer (completing deletion if it was the last)."""
        with self.store.lock:
            current = self.store.get(rt.store_key, obj["metadata"].get("namespace", ""),
                                     obj["metadata"]["name"])
            if current is None or current["metadata"]["uid"] != obj["metadata"]["uid"]:
                return
            new = copy.deepcopy(current)
            new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or []
                                             if f != finalizer]
            if not new["metadata"]["finalizers"]:
                del new["metadata"]["finalizers"]
            self.commit(rt, current, new)


def _parse_apply(body):
    """Apply configurations are YAML (kubectl sends JSON, which is YAML too)."""
    try:
        return json.loads(body or b"{}")
    except ValueError:
        pass
    try:
        import yaml   # python3-yaml, listed in scripts/apt-packages.txt
        return yaml.safe_load(body)
    except ImportError:
        raise bad_request("apply configuration is not JSON and PyYAML is missing") from None
    except yaml.YAMLError as e:
        raise bad_request(f"error decoding YAML: {e}") from None


def _drop_nulls(value):
    """In an apply configuration null means "not managed", never "delete"."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _spec_changed(old, new):
    """Generation moves on changes outside metadata and status (CRD and built-in rule)."""
    def body(o):
        return {k: v for k, v in o.items() if k not in ("metadata", "status")}
    return body(old) != body(new)


def _sort_key(obj):
    meta = obj["metadata"]
    return [meta.get("namespace", ""), meta["name"]]


def _encode_continue(rv, key):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": key}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token, compacted_rv):
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        rv, start = int(data["rv"]), list(data["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: invalid continue token") from None
    if rv < compacted_rv:
        raise ApiError(410, "Expired", "The provided continue parameter is too old to display "
                       "a consistent list result. You can start a new list without the continue "
                       "parameter, or use the continue token in this response to retrieve the "
                       "remainder of the results. Continuing with the provided token results in "
                       "an inconsistent list - objects that were created, modified, or deleted "
                       "between the time the first chunk was returned and now may show up in "
                       "the list.")
    return rv, start
