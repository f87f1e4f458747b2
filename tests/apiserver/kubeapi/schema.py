"""CRD structural schemas: pruning, defaulting and validation of custom objects.

Follows the apiextensions-apiserver behaviour documented at
https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/
- unknown fields are pruned unless x-kubernetes-preserve-unknown-fields is set;
- `default` values are filled in for absent properties of present objects;
- violations are reported as field causes whose messages match the real server's
  (field.Required, field.NotSupported, field.Invalid with kube-openapi's detail text).
Value validations under anyOf/oneOf/not/allOf are honoured; x-kubernetes-validations (CEL)
are not evaluated.
"""
import json
import re

ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def _join(path, key):
    return f"{path}.{key}" if path else key


def _render(value):
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '"null"'
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _cause(reason, path, message):
    return {"reason": reason, "message": message, "field": path}


def _invalid(path, value, detail):
    return _cause("FieldValueInvalid", path, f"Invalid value: {_render(value)}: {detail}")


def prune(obj, schema, path="", root=True):
    """Removes fields the schema does not declare; returns the pruned field paths."""
    pruned = []
    if not isinstance(schema, dict):
        return pruned
    if isinstance(obj, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema \
                and "additionalProperties" not in schema:
            return pruned
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        embedded = schema.get("x-kubernetes-embedded-resource")
        for key in list(obj):
            if (root or embedded) and key in ROOT_FIELDS:
                continue
            child = _join(path, key)
            if props is not None and key in props:
                pruned += prune(obj[key], props[key], child, False)
            elif isinstance(extra, dict):
                pruned += prune(obj[key], extra, child, False)
            elif extra is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                continue
            else:
                del obj[key]
                pruned.append(child)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(obj):
            pruned += prune(item, schema["items"], f"{path}[{i}]", False)
    return pruned


def apply_defaults(obj, schema):
    """Fills `default` values for absent properties and drops nulls of non-nullable fields."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in obj and obj[key] is None and not sub.get("nullable"):
                del obj[key]
            if key not in obj and "default" in sub:
                obj[key] = json.loads(json.dumps(sub["default"]))
            if key in obj:
                apply_defaults(obj[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, value in obj.items():
                apply_defaults(value, extra)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(item, schema["items"])


def _type_ok(value, schema):
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    if kind is None:
        return True
    return {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }.get(kind, lambda v: True)(value)


def validate(value, schema, path=""):
    """Returns the list of field causes for `value` against an OpenAPI v3 schema."""
    if not isinstance(schema, dict):
        return []
    if value is None:
        if schema.get("nullable") or "type" not in schema:
            return []
        return [_cause("FieldValueTypeInvalid", path, f'Invalid value: "null": {path} in body '
                       f'must be of type {schema["type"]}: "null"')]
    if not _type_ok(value, schema):
        return [_cause("FieldValueTypeInvalid", path,
                       f'Invalid value: {_render(_type_name(value))}: {path} in body must be of '
                       f'type {schema.get("type")}: {_render(_type_name(value))}')]
    causes = _validate_scalar(value, schema, path)
    if isinstance(value, dict):
        causes += _validate_object(value, schema, path)
    elif isinstance(value, list):
        causes += _validate_array(value, schema, path)
    for sub in schema.get("allOf") or []:
        causes += validate(value, sub, path)
    return causes + _validate_composition(value, schema, path)


def _validate_composition(value, schema, path):
    """anyOf / oneOf / not, reported like kube-openapi: the composite message plus the
    failures of the first alternative (its "best" one when none matches better)."""
    causes = []
    where = path or "<root>"
    shown = _render(_type_name(value)) if isinstance(value, (dict, list)) else _render(value)
    if schema.get("anyOf"):
        results = [validate(value, sub, path) for sub in schema["anyOf"]]
        if all(results):
            causes += results[0]
            causes.append(_cause("FieldValueInvalid", path, f"Invalid value: {shown}: {where} in "
                                 f"body must validate at least one schema (anyOf)"))
    if schema.get("oneOf"):
        results = [validate(value, sub, path) for sub in schema["oneOf"]]
        valid = sum(1 for r in results if not r)
        if valid == 0:
            causes += results[0]
            detail = "Found none valid"
        elif valid > 1:
            detail = f"Found {valid} valid alternatives"
        if valid != 1:
            causes.append(_cause("FieldValueInvalid", path, f"Invalid value: {shown}: {where} in "
                                 f"body must validate one and only one schema (oneOf). {detail}"))
    if isinstance(schema.get("not"), dict) and not validate(value, schema["not"], path):
        causes.append(_cause("FieldValueInvalid", path, f"Invalid value: {shown}: {where} in "
                             f"body must not validate the schema (not)"))
    return causes


def _type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _validate_scalar(value, schema, path):
    causes = []
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        allowed = ", ".join(_render(e) for e in enum)
        causes.append(_cause("FieldValueNotSupported", path,
                             f"Unsupported value: {_render(value)}: supported values: {allowed}"))
    if isinstance(value, str):
        causes += _validate_string(value, schema, path)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        causes += _validate_number(value, schema, path)
    return causes


# kube-openapi's string and number validators stop at their first failure, in this order
# (maxLength, minLength, pattern; multipleOf, maximum, minimum): a value breaking two rules
# gets one message.
def _validate_string(value, schema, path):
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [_cause("FieldValueTooLong", path,
                       f"Too long: may not be more than {schema['maxLength']} bytes")]
    if "minLength" in schema and len(value) < schema["minLength"]:
        return [_invalid(path, value, f"{path} in body should be at least "
                                      f"{schema['minLength']} chars long")]
    pattern = schema.get("pattern")
    if pattern is not None and not re.search(pattern, value):
        return [_invalid(path, value, f"{path} in body should match '{pattern}'")]
    return []


def _validate_number(value, schema, path):
    step = schema.get("multipleOf")
    if step and (value / step) != int(value / step):
        return [_invalid(path, value, f"{path} in body should be a multiple of {step}")]
    low, high = schema.get("minimum"), schema.get("maximum")
    if high is not None:
        if schema.get("exclusiveMaximum") and value >= high:
            return [_invalid(path, value, f"{path} in body should be less than {high}")]
        if value > high:
            return [_invalid(path, value, f"{path} in body should be less than or "
                                          f"equal to {high}")]
    if low is not None:
        if schema.get("exclusiveMinimum") and value <= low:
            return [_invalid(path, value, f"{path} in body should be greater than {low}")]
        if value < low:
            return [_invalid(path, value, f"{path} in body should be greater than or "
                                          f"equal to {low}")]
    return []


def _validate_object(value, schema, path):
    causes = []
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(_cause("FieldValueRequired", _join(path, key), "Required value"))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        causes.append(_cause("FieldValueTooMany", path, f"Too many: {len(value)}: must have at "
                             f"most {schema['maxProperties']} items"))
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        causes.append(_invalid(path, len(value), f"{path} in body should have at least "
                                                 f"{schema['minProperties']} properties"))
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, child in value.items():
        if path == "" and key in ROOT_FIELDS:
            continue
        if key in props:
            causes += validate(child, props[key], _join(path, key))
        elif isinstance(extra, dict):
            causes += validate(child, extra, _join(path, key))
    return causes


def _validate_array(value, schema, path):
    causes = []
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        causes.append(_cause("FieldValueTooMany", path, f"Too many: {len(value)}: must have at "
                             f"most {schema['maxItems']} items"))
    if "minItems" in schema and len(value) < schema["minItems"]:
        causes.append(_invalid(path, len(value), f"{path} in body should have at least "
                                                 f"{schema['minItems']} items"))
    if schema.get("uniqueItems"):
        seen = []
        for i, item in enumerate(value):
            if item in seen:
                causes.append(_cause("FieldValueDuplicate", f"{path}[{i}]",
                                     f"Duplicate value: {_render(item)}"))
            seen.append(item)
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            causes += validate(item, items, f"{path}[{i}]")
    return causes
