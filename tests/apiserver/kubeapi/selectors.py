"""Label and field selectors (k8s.io/apimachinery/pkg/labels and pkg/fields syntax).

Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by
commas (commas inside parentheses belong to the set). Field selectors: `f=v`, `f==v`, `f!=v`.
"""
import re

from .errors import bad_request

_SET_RE = re.compile(r"^\s*([A-Za-z0-9._/-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_KEY_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$")


def _split_top_level(text):
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key, selector):
    if not _KEY_RE.match(key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" '
                          f'in selector "{selector}"')


def parse_label_selector(text):
    """Returns a list of (key, op, values) requirements; op in =, !=, in, notin, exists, !."""
    reqs = []
    for part in _split_top_level(text or ""):
        m = _SET_RE.match(part)
        if m:
            values = [v.strip() for v in m.group(3).split(",") if v.strip()]
            _check_key(m.group(1), text)
            reqs.append((m.group(1), m.group(2), values))
            continue
        for op in ("!=", "==", "="):
            if op in part:
                key, value = part.split(op, 1)
                key = key.strip()
                _check_key(key, text)
                reqs.append((key, "!=" if op == "!=" else "=", [value.strip()]))
                break
        else:
            if part.startswith("!"):
                _check_key(part[1:].strip(), text)
                reqs.append((part[1:].strip(), "!", []))
            else:
                _check_key(part, text)
                reqs.append((part, "exists", []))
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        if op == "=" and (not present or value != values[0]):
            return False
        if op == "!=" and present and value == values[0]:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


def parse_field_selector(text, allowed):
    """Returns (stored path, negate, value) triples; `allowed` lists the field labels the
    resource indexes, or maps each label to the stored field it reads (events.k8s.io)."""
    reqs = []
    for part in _split_top_level(text or ""):
        for op in ("!=", "==", "="):
            if op in part:
                field, value = part.split(op, 1)
                field = field.strip()
                if field not in allowed:
                    raise bad_request(f'field label not supported: {field}')
                path = allowed[field] if isinstance(allowed, dict) else field
                reqs.append((path, op == "!=", value.strip()))
                break
        else:
            raise bad_request(f'invalid selector: \'{part}\'; can\'t understand \'{part}\'')
    return reqs


def field_value(obj, path):
    cur = obj
    for seg in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(seg)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def fields_match(reqs, obj):
    for path, negate, value in reqs:
        if (field_value(obj, path) == value) == negate:
            return False
    return True


class Selector:
    """A parsed labelSelector + fieldSelector pair applied to stored objects."""

    def __init__(self, label_text, field_text, allowed_fields):
        self.labels = parse_label_selector(label_text)
        self.fields = parse_field_selector(field_text, allowed_fields)

    def empty(self):
        return not self.labels and not self.fields

    def matches(self, obj):
        if obj is None:
            return False
        meta = obj.get("metadata", {})
        return labels_match(self.labels, meta.get("labels")) and fields_match(self.fields, obj)
