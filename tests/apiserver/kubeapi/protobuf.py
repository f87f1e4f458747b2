"""Decoding of the Kubernetes protobuf request encoding for the kinds `kubectl create <kind>`
sends (its typed clients post application/vnd.kubernetes.protobuf and do not fall back).

Wire format (https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding):
the 4-byte magic "k8s\\0", then a runtime.Unknown message {1: TypeMeta{1: apiVersion,
2: kind}, 2: raw, 3: contentEncoding, 4: contentType} whose `raw` is the object's message.
Field numbers come from the generated.proto files of k8s.io/api and k8s.io/apimachinery.
Responses are always JSON (kubectl accepts it).
"""
import base64

from .errors import bad_request

MAGIC = b"k8s\x00"

# A schema maps field number -> (json name, type). Types: "string", "bytes", "int", "bool",
# a nested schema dict, ("map", value_type) or ("list", item_type).
_TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
_OWNER_REF = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
              5: ("apiVersion", "string"), 6: ("controller", "bool"),
              7: ("blockOwnerDeletion", "bool")}
_OBJECT_META = {1: ("name", "string"), 2: ("generateName", "string"),
                3: ("namespace", "string"), 5: ("uid", "string"),
                6: ("resourceVersion", "string"), 7: ("generation", "int"),
                8: ("creationTimestamp", _TIME), 11: ("labels", ("map", "string")),
                12: ("annotations", ("map", "string")),
                13: ("ownerReferences", ("list", _OWNER_REF)),
                14: ("finalizers", ("list", "string"))}
_NAMED_REF = {1: ("name", "string")}
_OBJECT_REF = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
               4: ("uid", "string"), 5: ("apiVersion", "string")}
_POLICY_RULE = {1: ("verbs", ("list", "string")), 2: ("apiGroups", ("list", "string")),
                3: ("resources", ("list", "string")), 4: ("resourceNames", ("list", "string")),
                5: ("nonResourceURLs", ("list", "string"))}
_SUBJECT = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
            4: ("namespace", "string")}
_ROLE_REF = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
_BINDING = {1: ("metadata", _OBJECT_META), 2: ("subjects", ("list", _SUBJECT)),
            3: ("roleRef", _ROLE_REF)}
_ROLE = {1: ("metadata", _OBJECT_META), 2: ("rules", ("list", _POLICY_RULE))}

KINDS = {
    "Namespace": {1: ("metadata", _OBJECT_META),
                  2: ("spec", {1: ("finalizers", ("list", "string"))})},
    "Secret": {1: ("metadata", _OBJECT_META), 2: ("data", ("map", "bytes")),
               3: ("type", "string"), 4: ("stringData", ("map", "string")),
               5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", _OBJECT_META), 2: ("data", ("map", "string")),
                  3: ("binaryData", ("map", "bytes")), 4: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", _OBJECT_META), 2: ("secrets", ("list", _OBJECT_REF)),
                       3: ("imagePullSecrets", ("list", _NAMED_REF)),
                       4: ("automountServiceAccountToken", "bool")},
    "Role": _ROLE,
    "ClusterRole": _ROLE,
    "RoleBinding": _BINDING,
    "ClusterRoleBinding": _BINDING,
}
_UNKNOWN = {1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}),
            2: ("raw", "raw")}


def _varint(buf, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of one message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _scalar(kind, value):
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "raw":
        return value
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    return decode_message(value, kind)


def decode_message(buf, schema):
    out = {}
    for number, _, value in _fields(buf):
        if number not in schema:
            continue   # fields this server does not model are dropped, as pruning would
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = dict((n, v) for n, _, v in _fields(value))
            out.setdefault(name, {})[entry.get(1, b"").decode()] = _scalar(kind[1],
                                                                          entry.get(2, b""))
        elif isinstance(kind, tuple) and kind[0] == "list":
            out.setdefault(name, []).append(_scalar(kind[1], value))
        else:
            value = _scalar(kind, value)
            if value not in ("", 0, False) or kind not in ("string", "int", "bool"):
                out[name] = value   # Go's omitempty: zero scalars do not appear in JSON
    return out


def _rfc3339(t):
    import datetime
    stamp = datetime.datetime.fromtimestamp(t.get("seconds", 0), datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def decode(body):
    """Returns the JSON form of a protobuf-encoded object, or raises 400/415-style errors."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf body lacks the k8s\\0 prefix")
    try:
        unknown = decode_message(body[len(MAGIC):], _UNKNOWN)
        type_meta = unknown.get("typeMeta", {})
        kind = type_meta.get("kind", "")
        if kind not in KINDS:
            raise bad_request(f"this test server cannot decode protobuf for kind {kind!r}; "
                              f"send JSON")
        obj = decode_message(unknown.get("raw", b""), KINDS[kind])
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"invalid protobuf body: {e}") from None
    meta = obj.setdefault("metadata", {})
    if "creationTimestamp" in meta:
        meta["creationTimestamp"] = _rfc3339(meta["creationTimestamp"])
    obj["apiVersion"], obj["kind"] = type_meta.get("apiVersion", ""), kind
    return obj
