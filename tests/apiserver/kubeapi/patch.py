"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic
merge patch for the built-in kinds (lists merged by their patchMergeKey, directives
$patch, $setElementOrder, $deleteFromPrimitiveList, $retainKeys as kubectl emits them).
"""
import copy
import json

from .errors import ApiError, bad_request

# patchMergeKey of the built-in list fields kubectl's strategic patches touch (from the Go
# struct tags in k8s.io/api). `ports` is keyed by containerPort in a container and by port in a
# Service; the item shape tells them apart.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "conditions": "type", "ownerReferences": "uid",
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
    "schedulingGates": "name",
}
# Lists of scalars with patchStrategy=merge: union instead of replace.
PRIMITIVE_MERGE = {"finalizers"}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def _resolve(doc, pointer):
    if pointer == "":
        return None, None
    if not pointer.startswith("/"):
        raise bad_request(f"invalid JSON pointer {pointer!r}")
    parts = [_unescape(p) for p in pointer[1:].split("/")]
    parent = doc
    for part in parts[:-1]:
        parent = _child(parent, part, pointer)
    return parent, parts[-1]


def _child(node, part, pointer):
    try:
        if isinstance(node, list):
            return node[int(part)]
        return node[part]
    except (KeyError, IndexError, ValueError, TypeError):
        raise _patch_error(f"doc is missing path: {pointer!r}") from None


def _patch_error(message):
    # The real server reports a JSON patch that cannot be applied as 422 Invalid with the
    # json-patch library's message; kubectl prints that message.
    return ApiError(422, "Invalid", message)


def _add(doc, pointer, value):
    parent, key = _resolve(doc, pointer)
    if parent is None:
        return value
    if isinstance(parent, list):
        index = len(parent) if key == "-" else int(key)
        if index < 0 or index > len(parent):
            raise _patch_error(f"add operation index out of bounds: {pointer!r}")
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        raise _patch_error(f"doc is missing path: {pointer!r}")
    return doc


def _remove(doc, pointer):
    parent, key = _resolve(doc, pointer)
    try:
        if isinstance(parent, list):
            return parent.pop(int(key))
        return parent.pop(key)
    except (KeyError, IndexError, ValueError, AttributeError):
        raise _patch_error(f"Unable to remove nonexistent key: {key}: missing value") from None


def _get(doc, pointer):
    parent, key = _resolve(doc, pointer)
    if parent is None:
        return doc
    return _child(parent, key, pointer)


def json_patch(target, operations):
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            _remove(doc, path) if path else None
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            value = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise _patch_error(f"testing value {path} failed")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


def _merge_key(field, items):
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return MERGE_KEYS.get(field)


def strategic_merge(target, patch):
    """Applies a strategic merge patch to a dict (the built-in kinds only)."""
    return _smp_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch)


def _smp_map(result, patch):
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            base = result.get(key)
            result[key] = _smp_map(copy.deepcopy(base) if isinstance(base, dict) else {}, value)
        elif isinstance(value, list):
            original = result.get(key) if isinstance(result.get(key), list) else []
            result[key] = _smp_list(key, original, value)
            order = patch.get(f"$setElementOrder/{key}", value)
            result[key] = _normalize_order(key, result[key], order, original)
        else:
            result[key] = copy.deepcopy(value)
    for directive, order in patch.items():
        field = directive[len("$setElementOrder/"):]
        if directive.startswith("$setElementOrder/") and field not in patch and \
                isinstance(result.get(field), list):
            result[field] = _normalize_order(field, result[field], order, result[field])
    if retain is not None:
        for key in list(result):
            if key not in retain:
                del result[key]
    return result


def _smp_list(field, base, patch_items):
    base = copy.deepcopy(base) if isinstance(base, list) else []
    if field in PRIMITIVE_MERGE:
        return base + [v for v in patch_items if v not in base]
    key = _merge_key(field, patch_items + base)
    if not key:
        return copy.deepcopy(patch_items)
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch_items):
        return [copy.deepcopy(i) for i in patch_items
                if not (isinstance(i, dict) and "$patch" in i)]
    for item in patch_items:
        if not isinstance(item, dict):
            continue
        match = next((i for i, b in enumerate(base) if isinstance(b, dict)
                      and b.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if match is not None:
                base.pop(match)
        elif match is None:
            base.append(_smp_map({}, item))
        else:
            base[match] = _smp_map(base[match], item)
    return base


def _normalize_order(field, merged, patch_order, original):
    """The order kube's strategic merge gives a merged list (normalizeElementOrder and
    mergeSortedSlice in apimachinery's strategicpatch): the items the patch names, in the patch's
    order (or its $setElementOrder), with the items only the server had slotted in by their
    place in the original list; an item new to the server goes before a server-only one."""
    if field in PRIMITIVE_MERGE:
        ident = lambda item: json_key(item)  # noqa: E731
    else:
        key = _merge_key(field, list(merged) + list(patch_order))
        if not key:
            return merged
        ident = lambda item: json_key(item.get(key) if isinstance(item, dict) else item)  # noqa
    wanted = [ident(i) for i in patch_order if not (isinstance(i, dict) and "$patch" in i)]
    server = [ident(i) for i in original]
    patch_items = sorted((i for i in merged if ident(i) in wanted),
                         key=lambda i: wanted.index(ident(i)))
    server_only = sorted((i for i in merged if ident(i) not in wanted),
                         key=lambda i: server.index(ident(i)) if ident(i) in server
                         else len(server))
    out, i, j = [], 0, 0
    while i < len(server_only) or j < len(patch_items):
        if j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        else:
            left, right = ident(server_only[i]), ident(patch_items[j])
            if left in server and right in server and server.index(left) < server.index(right):
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


def json_key(value):
    return json.dumps(value, sort_keys=True)
