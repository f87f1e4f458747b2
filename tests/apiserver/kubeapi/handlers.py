"""HTTP layer: authentication, routing of Kubernetes API paths, JSON/Table responses,
chunked watch streams and the /_admin endpoints for tests.
"""
import hmac
import json
import logging
import traceback
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from . import discovery, kinds, protobuf, table
from .errors import ApiError, bad_request, method_not_allowed, path_not_found, status_body, \
    unauthorized, unsupported_media
from .selectors import Selector
from .watch import WatchRequest, WatchStream

log = logging.getLogger("kubeapi.http")
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"
ANONYMOUS_PATHS = ("/healthz", "/livez", "/readyz", "/version")


def anonymous_forbidden(method, path, params):
    """RBAC's refusal of system:anonymous, in kube-apiserver's words."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) > 2:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) > 3:
        group, rest = parts[1], parts[3:]
    else:
        return ApiError(403, "Forbidden", f'forbidden: User "system:anonymous" cannot '
                        f'{method.lower()} path "{path}"', {})
    if rest and rest[0] == "watch":
        rest = rest[1:]
        params = dict(params, watch=["true"])
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    elif len(rest) in (1, 2) and rest[0] == "namespaces":
        ns = rest[1] if len(rest) == 2 else None
    resource = "/".join([rest[0]] + rest[2:3]) if rest else ""
    named = len(rest) >= 2
    watching = (params.get("watch") or [""])[0] in ("true", "1")
    verb = {"GET": "watch" if watching else ("get" if named else "list"), "POST": "create",
            "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if named else "deletecollection"}.get(method, method.lower())
    scope = f'in the namespace "{ns}"' if ns else "at the cluster scope"
    return ApiError(403, "Forbidden", f'{rest[0] if rest else ""} is forbidden: User '
                    f'"system:anonymous" cannot {verb} resource "{resource}" in API group '
                    f'"{group}" {scope}', {"kind": rest[0] if rest else ""})


class Context:
    """Everything a request needs; one per server."""

    def __init__(self, api, faults, token, stopping, server_address):
        self.api, self.registry, self.store = api, api.registry, api.store
        self.faults, self.token, self.stopping = faults, token, stopping
        self.server_address = server_address
        self._encoded = {}   # (uid, apiVersion) -> (resourceVersion, JSON bytes)

    def encode(self, rt, obj):
        """JSON of a stored object as served by rt; cached because stored objects are never
        mutated, which keeps a list of 10k objects to a join of cached bytes."""
        meta = obj["metadata"]
        key = (meta.get("uid"), rt.api_version)
        hit = self._encoded.get(key)
        if hit and hit[0] == meta.get("resourceVersion"):
            return hit[1]
        data = json.dumps(kinds.to_external(rt, obj), separators=(",", ":")).encode()
        if len(self._encoded) > 200000:
            self._encoded.clear()
        self._encoded[key] = (meta.get("resourceVersion"), data)
        return data


def _flag(params, name):
    return params.get(name, [""])[0] in ("1", "true", "True")


def _dry_run(params):
    values = params.get("dryRun", [])
    if any(v not in ("All", "") for v in values):
        raise bad_request(f"Invalid dry run value: {values}")
    return "All" in values


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "certsmith-test-apiserver"
    disable_nagle_algorithm = True   # header and body writes must not wait for delayed ACKs
    ctx = None   # set by the server

    def log_message(self, fmt, *args):
        log.info("%s %s", self.address_string(), fmt % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # -- plumbing ---------------------------------------------------------------------------
    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if ctype == "application/vnd.kubernetes.protobuf" and raw:
            return protobuf.decode(raw)
        if ctype not in ("application/json", "*/*", ""):
            raise unsupported_media(["application/json", "application/vnd.kubernetes.protobuf"])
        try:
            return json.loads(raw or b"{}")
        except ValueError as e:
            raise bad_request(f"couldn't get version/kind; json parse error: {e}") from None

    def _send(self, code, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else json.dumps(
            body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, err):
        self._send(err.code, err.status(), headers=err.headers)

    def _authorized(self):
        """A valid bearer token. Without any Authorization header a request is the anonymous
        user's, which kube-apiserver (--anonymous-auth, on by default) lets through to RBAC:
        allowed only ANONYMOUS_PATHS (system:public-info-viewer), 403 elsewhere; a wrong token
        is 401."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self.ctx.token.encode())

    def _dispatch(self, method):
        try:
            url = urlsplit(self.path)
            params = parse_qs(url.query, keep_blank_values=True)
            raw = self._body()
            if url.path not in ANONYMOUS_PATHS and not self._authorized():
                if "Authorization" not in self.headers:
                    raise anonymous_forbidden(method, url.path, params)
                raise unauthorized()
            self._route(method, url.path, params, raw)
        except ApiError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:   # report as the real server does, never crash the thread
            log.error("internal error: %s", traceback.format_exc())
            self._send(500, status_body(500, "InternalError", f"Internal error occurred: {e}"))

    def _route(self, method, path, params, raw):
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_admin"]:
            return self._admin(method, parts[1:], raw)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version":
            return self._send(200, discovery.VERSION)
        if parts[:1] == ["openapi"]:
            self.ctx.faults.maybe_fail(discovery=True)
            return self._openapi(parts[1:])
        if parts[:1] == ["api"]:
            return self._api(method, "", parts[1:], params, raw)
        if parts[:1] == ["apis"]:
            if len(parts) == 1:
                self.ctx.faults.maybe_fail(discovery=True)
                if discovery.wants_aggregated(self.headers.get("Accept")):
                    return self._send(200, discovery.aggregated(self.ctx.registry, core=False),
                                      discovery.AGGREGATED)
                return self._send(200, discovery.api_group_list(self.ctx.registry))
            if len(parts) == 2:
                group = discovery.api_group(self.ctx.registry, parts[1])
                if group is None:
                    raise path_not_found(path)
                return self._send(200, group)
            return self._api(method, parts[1], parts[2:], params, raw)
        raise path_not_found(path)

    def _openapi(self, parts):
        reg = self.ctx.registry
        if parts == ["v3"]:
            return self._send(200, discovery.openapi_v3_index(reg))
        doc = None
        if parts[:2] == ["v3", "api"] and len(parts) == 3:
            doc = discovery.openapi_v3_gv(reg, "", parts[2])
        elif parts[:2] == ["v3", "apis"] and len(parts) == 4:
            doc = discovery.openapi_v3_gv(reg, parts[2], parts[3])
        if doc is None:
            raise path_not_found("/openapi/" + "/".join(parts))
        return self._send(200, doc)

    # -- API paths --------------------------------------------------------------------------
    def _api(self, method, group, parts, params, raw):
        if not group and not parts:
            if discovery.wants_aggregated(self.headers.get("Accept")):
                return self._send(200, discovery.aggregated(self.ctx.registry, core=True),
                                  discovery.AGGREGATED)
            return self._send(200, discovery.api_versions(self.ctx.server_address))
        version, rest = parts[0], parts[1:]
        if not rest:
            self.ctx.faults.maybe_fail(discovery=True)
            listing = discovery.resource_list(self.ctx.registry, group, version)
            if listing is None:
                raise path_not_found("")
            return self._send(200, listing)
        self.ctx.faults.maybe_fail()
        watch = rest[0] == "watch"
        if watch:
            rest = rest[1:]
        ns = ""
        if (len(rest) >= 3 and rest[0] == "namespaces"
                and not (not group and len(rest) == 3 and rest[2] in ("status", "finalize"))):
            ns, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise path_not_found("")
        rt = self.ctx.registry.lookup(group, version, rest[0])
        if rt is None or (ns and not rt.namespaced):
            raise path_not_found("")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise path_not_found("")
        if watch or (method == "GET" and name is None and _flag(params, "watch")):
            if name:
                params.setdefault("fieldSelector", [""])
                extra = f"metadata.name={name}"
                both = (params["fieldSelector"][0], extra)
                params["fieldSelector"] = [",".join(p for p in both if p)]
            return self._watch(rt, ns, params)
        return self._resource(method, rt, ns, name, sub, params, raw)

    def _validation(self, params):
        value = params.get("fieldValidation", ["Warn"])[0] or "Warn"
        if value not in ("Strict", "Warn", "Ignore"):
            raise bad_request(f"fieldValidation parameter unsupported: {value}")
        return value

    def _resource(self, method, rt, ns, name, sub, params, raw):
        api = self.ctx.api
        if rt.namespaced and not ns and (name or method != "GET"):
            raise path_not_found("")   # namespaced objects live under /namespaces/{ns}/
        if method == "GET" and name is None:
            return self._list(rt, ns, params)
        if method == "GET":
            return self._object(200, rt, api.get(rt, ns, name))
        if method == "POST" and name is None:
            obj, warnings = api.create(rt, ns, self._json_body(raw), self._validation(params),
                                       _dry_run(params))
            return self._object(201, rt, obj, warnings)
        if method == "PUT" and name:
            obj, warnings = api.update(rt, ns, name, self._json_body(raw), sub,
                                       self._validation(params), _dry_run(params))
            return self._object(200, rt, obj, warnings)
        if method == "PATCH" and name:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype == "application/apply-patch+yaml" and sub is None:
                if not params.get("fieldManager", [""])[0]:
                    raise bad_request("PATCH, application/apply-patch+yaml requires a non-empty "
                                      "fieldManager query parameter")
                obj, warnings, created = api.apply(rt, ns, name, raw, self._validation(params),
                                                   _dry_run(params))
                return self._object(201 if created else 200, rt, obj, warnings)
            obj, warnings = api.patch(rt, ns, name, ctype, raw, sub, self._validation(params),
                                      _dry_run(params))
            return self._object(200, rt, obj, warnings)
        if method == "DELETE" and name:
            return self._delete(rt, ns, name, params, raw)
        if method == "DELETE":
            return self._delete_collection(rt, ns, params, raw)
        raise method_not_allowed()

    def _object(self, code, rt, obj, warnings=()):
        headers = {}
        if warnings:
            headers["Warning"] = ", ".join('299 - ' + json.dumps(w) for w in warnings)
        if table.wants_table(self.headers.get("Accept")):
            body = table.table(rt, [obj], obj["metadata"]["resourceVersion"],
                               include=self._include(), external=self._external(rt))
            return self._send(code, body, TABLE_CONTENT_TYPE, headers)
        if _dry_run(self._params()):   # dry-run results must not enter the encoding cache
            return self._send(code, kinds.to_external(rt, obj), headers=headers)
        return self._send(code, self.ctx.encode(rt, obj), headers=headers)

    @staticmethod
    def _external(rt):
        return lambda o: kinds.to_external(rt, o)

    def _params(self):
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def _include(self):
        return self._params().get("includeObject", ["Metadata"])[0]

    def _list(self, rt, ns, params):
        limit = int(params.get("limit", ["0"])[0] or 0)
        items, rv, token, remaining = self.ctx.api.list(
            rt, ns, params.get("labelSelector", [""])[0], params.get("fieldSelector", [""])[0],
            limit, params.get("continue", [""])[0] or None)
        if table.wants_table(self.headers.get("Accept")):
            body = table.table(rt, items, rv, token, self._include(), external=self._external(rt))
            return self._send(200, body, TABLE_CONTENT_TYPE)
        meta = {"resourceVersion": str(rv)}
        if token:
            meta["continue"] = token
        if token and remaining is not None:
            meta["remainingItemCount"] = remaining
        head = json.dumps({"kind": rt.kind + "List", "apiVersion": rt.api_version,
                           "metadata": meta}, separators=(",", ":"))[:-1]
        body = b"".join([head.encode(), b',"items":[',
                         b",".join(self.ctx.encode(rt, o) for o in items), b"]}"])
        return self._send(200, body)

    def _delete_options(self, params, raw):
        options = self._json_body(raw) if raw.strip() else {}
        if "propagationPolicy" in params:
            options["propagationPolicy"] = params["propagationPolicy"][0]
        if "gracePeriodSeconds" in params:
            options["gracePeriodSeconds"] = int(params["gracePeriodSeconds"][0])
        if "orphanDependents" in params:
            options["orphanDependents"] = _flag(params, "orphanDependents")
        return options

    def _delete(self, rt, ns, name, params, raw):
        options = self._delete_options(params, raw)
        dry_run = _dry_run(params) or "All" in (options.get("dryRun") or [])
        obj, deleted = self.ctx.api.delete(rt, ns, name, options, dry_run)
        if deleted and not rt.crd:
            meta = obj["metadata"]
            details = {"name": name, "kind": rt.plural, "uid": meta["uid"]}
            if rt.group:
                details["group"] = rt.group
            return self._send(200, status_body(200, "", "", details, status="Success"))
        return self._object(200, rt, obj)

    def _delete_collection(self, rt, ns, params, raw):
        options = self._delete_options(params, raw)
        items, rv, _, _ = self.ctx.api.list(rt, ns, params.get("labelSelector", [""])[0],
                                            params.get("fieldSelector", [""])[0])
        for obj in items:
            try:
                self.ctx.api.delete(rt, obj["metadata"].get("namespace", ""),
                                    obj["metadata"]["name"], dict(options), _dry_run(params))
            except ApiError as e:
                if e.code != 404:
                    raise
        body = {"kind": rt.kind + "List", "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": [kinds.to_external(rt, o) for o in items]}
        return self._send(200, body)

    # -- watch ------------------------------------------------------------------------------
    def _watch(self, rt, ns, params):
        selector = Selector(params.get("labelSelector", [""])[0],
                            params.get("fieldSelector", [""])[0], rt.selectable_fields)
        timeout = int(params.get("timeoutSeconds", ["0"])[0] or 0)
        as_table = table.wants_table(self.headers.get("Accept"))
        req = WatchRequest(rt, ns, selector, params.get("resourceVersion", [""])[0],
                           _flag(params, "allowWatchBookmarks"), timeout, as_table,
                           self._include())
        stream = WatchStream(self.ctx.store, self.ctx.faults, req, self.ctx.stopping,
                             self.ctx.encode)
        self.send_response(200)
        self.send_header("Content-Type", TABLE_CONTENT_TYPE if as_table else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True

        def write(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        stream.run(write)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- admin ------------------------------------------------------------------------------
    def _admin(self, method, parts, raw):
        faults, store = self.ctx.faults, self.ctx.store
        if parts == ["faults"] and method == "GET":
            return self._send(200, faults.snapshot())
        if parts == ["faults"] and method == "POST":
            return self._send(200, faults.update(self._json_body(raw)))
        if parts in (["faults"], ["faults", "reset"], ["reset"]) and method in ("DELETE", "POST"):
            return self._send(200, faults.reset())
        if parts == ["compact"] and method == "POST":
            store.compact()
            return self._send(200, {"compactedResourceVersion": str(store.compacted_rv)})
        if parts == ["stats"] and method == "GET":
            with store.lock:
                counts = {k: len(v) for k, v in store.objects.items()}
                return self._send(200, {"resourceVersion": str(store.rv), "objects": counts,
                                        "history": len(store.history),
                                        "watchers": len(store.listeners)})
        raise path_not_found("/_admin")
