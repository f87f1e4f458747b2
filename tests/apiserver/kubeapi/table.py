"""meta.k8s.io/v1 Table output (server-side printing used by `kubectl get`).

Custom resources get NAME plus their additionalPrinterColumns (or NAME, AGE without any);
built-in kinds get the columns kubectl users know. Date columns are rendered as ages.
"""
import datetime
import json
import re


def wants_table(accept):
    return bool(accept) and "as=Table" in accept and "g=meta.k8s.io" in accept


def human_age(stamp, now=None):
    if not stamp:
        return "<unknown>"
    try:
        then = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    now = now or datetime.datetime.now(datetime.timezone.utc)
    secs = max(0, int((now - then).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    mins = secs // 60
    if mins < 10:
        return f"{mins}m{secs % 60}s" if secs % 60 else f"{mins}m"
    if mins < 180:
        return f"{mins}m"
    hours = mins // 60
    if hours < 8:
        return f"{hours}h{mins % 60}m" if mins % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


# -- a small JSONPath evaluator for printer columns: .a.b, .a[0], .a[*].b, .a[?(@.k=="v")].b
_TOKEN = re.compile(r"\.([A-Za-z0-9_$-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*"
                    r"[\"']([^\"']*)[\"']\)\]|\['([^']+)'\]")


def jsonpath(obj, path):
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    nodes, pos = [obj], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        nodes = _step(nodes, m)
    return [n for n in nodes if n is not None]


def _step(nodes, m):
    out = []
    for n in nodes:
        if m.group(1) is not None or m.group(5) is not None:
            key = m.group(1) or m.group(5)
            if isinstance(n, dict) and key in n:
                out.append(n[key])
        elif m.group(2) is not None and isinstance(n, list):
            if m.group(2) == "*":
                out.extend(n)
            elif int(m.group(2)) < len(n):
                out.append(n[int(m.group(2))])
        elif m.group(3) is not None and isinstance(n, list):
            out.extend(i for i in n if isinstance(i, dict) and
                       str(_dig(i, m.group(3))) == m.group(4))
    return out


def _dig(obj, dotted):
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _cell(values, col_type):
    if not values:
        return None
    value = values[0] if len(values) == 1 else ",".join(_text(v) for v in values)
    if col_type == "date":
        return human_age(value) if isinstance(value, str) else value
    if col_type == "string" and not isinstance(value, str):
        return _text(value)
    return value


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _col(name, type_="string", fmt="", desc="", priority=0):
    return {"name": name, "type": type_, "format": fmt, "description": desc,
            "priority": priority}


NAME_COL = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE_COL = _col("Age", "string", desc="CreationTimestamp is a timestamp representing the server "
               "time when this object was created.")


def _age(o):
    return human_age(o["metadata"].get("creationTimestamp"))


def _pod_ready(o):
    specs = len((o.get("spec") or {}).get("containers") or [])
    statuses = (o.get("status") or {}).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{specs}"


def _service_ports(o):
    ports = (o.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _event_object(o):
    inv = o.get("involvedObject") or {}
    return f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}"


def _ingress_hosts(o):
    rules = (o.get("spec") or {}).get("rules") or []
    return ",".join(r.get("host", "*") for r in rules) or "*"


def _ingress_address(o):
    lbs = (((o.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
    return ",".join(i.get("ip") or i.get("hostname", "") for i in lbs)


def _ingress_ports(o):
    return "80, 443" if (o.get("spec") or {}).get("tls") else "80"


def _role_ref(o):
    ref = o.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


# kind -> [(column, fn(obj))]; NAME is always first.
_BUILTIN = {
    "Namespace": [(_col("Status"), lambda o: (o.get("status") or {}).get("phase", "")),
                  (AGE_COL, _age)],
    "Secret": [(_col("Type"), lambda o: o.get("type", "")),
               (_col("Data", "integer"), lambda o: len(o.get("data") or {})),
               (AGE_COL, _age)],
    "ConfigMap": [(_col("Data", "integer"),
                   lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                  (AGE_COL, _age)],
    "Pod": [(_col("Ready"), _pod_ready),
            (_col("Status"), lambda o: (o.get("status") or {}).get("phase", "")),
            (_col("Restarts", "string"), lambda o: "0"),
            (AGE_COL, _age)],
    "Service": [(_col("Type"), lambda o: (o.get("spec") or {}).get("type", "")),
                (_col("Cluster-IP"), lambda o: (o.get("spec") or {}).get("clusterIP", "")),
                (_col("External-IP"), lambda o: "<none>"),
                (_col("Port(s)"), _service_ports),
                (AGE_COL, _age)],
    "ServiceAccount": [(AGE_COL, _age)],
    "Event": [(_col("Last Seen"), lambda o: human_age(
                  o.get("lastTimestamp") or o.get("eventTime") or
                  o["metadata"].get("creationTimestamp"))),
              (_col("Type"), lambda o: o.get("type", "")),
              (_col("Reason"), lambda o: o.get("reason", "")),
              (_col("Object"), _event_object),
              (_col("Message"), lambda o: o.get("message", ""))],
    "Lease": [(_col("Holder"), lambda o: (o.get("spec") or {}).get("holderIdentity", "")),
              (AGE_COL, _age)],
    "Ingress": [(_col("Class"), lambda o: (o.get("spec") or {}).get("ingressClassName")
                  or "<none>"),
                (_col("Hosts"), _ingress_hosts), (_col("Address"), _ingress_address),
                (_col("Ports"), _ingress_ports), (AGE_COL, _age)],
    "IngressClass": [(_col("Controller"), lambda o: (o.get("spec") or {}).get("controller", "")),
                     (AGE_COL, _age)],
    "RoleBinding": [(_col("Role"), _role_ref), (AGE_COL, _age)],
    "ClusterRoleBinding": [(_col("Role"), _role_ref), (AGE_COL, _age)],
    "CustomResourceDefinition": [(_col("Created At", "date"),
                                  lambda o: o["metadata"].get("creationTimestamp"))],
}


def columns_for(rt):
    if rt.crd:
        cols = rt.columns or [{"name": "Age", "type": "date",
                               "jsonPath": ".metadata.creationTimestamp"}]
        return [NAME_COL] + [_col(c["name"], c.get("type", "string"), c.get("format", ""),
                                  c.get("description", ""), c.get("priority", 0)) for c in cols]
    return [NAME_COL] + [c for c, _ in _BUILTIN.get(rt.kind, [(AGE_COL, _age)])]


def row_for(rt, obj, include="Metadata", external=lambda o: o):
    if rt.crd:
        cols = rt.columns or [{"type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        cells = [obj["metadata"]["name"]] + [
            _cell(jsonpath(obj, c["jsonPath"]), c.get("type", "string")) for c in cols]
    else:
        fns = [f for _, f in _BUILTIN.get(rt.kind, [(AGE_COL, _age)])]
        cells = [obj["metadata"]["name"]] + [f(obj) for f in fns]
    row = {"cells": cells}
    if include == "Object":
        row["object"] = external(obj)
    elif include != "None":
        row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                         "metadata": obj["metadata"]}
    return row


def table(rt, objs, rv, cont="", include="Metadata", with_columns=True, external=lambda o: o):
    meta = {"resourceVersion": str(rv)}
    if cont:
        meta["continue"] = cont
    body = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "rows": [row_for(rt, o, include, external) for o in objs]}
    body["columnDefinitions"] = columns_for(rt) if with_columns else []
    return body
