"""API errors as the real server reports them: a metav1.Status body with code and reason.

The reasons and message shapes follow k8s.io/apimachinery/pkg/api/errors so clients that
switch on `reason` (kubectl, client-go, certsmith's kube client) see what they would see live.
"""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self):
        return status_body(self.code, self.reason, self.message, self.details)


def status_body(code, reason, message, details=None, status="Failure"):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": status,
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    if not reason:
        del body["reason"]
    return body


def _details(rt, name):
    d = {"name": name, "kind": rt.plural}
    if rt.group:
        d["group"] = rt.group
    return d


def not_found(rt, name):
    return ApiError(404, "NotFound", f'{rt.group_resource} "{name}" not found', _details(rt, name))


def already_exists(rt, name):
    return ApiError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists',
                    _details(rt, name))


def conflict(rt, name, why="the object has been modified; please apply your changes to "
                           "the latest version and try again"):
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {rt.group_resource} "{name}": {why}',
                    _details(rt, name))


def invalid(rt, name, causes):
    """422 with field causes; message joins them like field.ErrorList.ToAggregate()."""
    texts = [f'{c["field"]}: {c["message"]}' for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    qualified = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    details = {"name": name, "kind": rt.kind, "causes": causes}
    if rt.group:
        details["group"] = rt.group
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def forbidden(rt, name, why):
    return ApiError(403, "Forbidden", f'{rt.group_resource} "{name}" is forbidden: {why}',
                    _details(rt, name))


def method_not_allowed(message="the server does not allow this method on the requested resource"):
    return ApiError(405, "MethodNotAllowed", message)


def unsupported_media(accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted))


def gone(message):
    return ApiError(410, "Expired", message)


def path_not_found(path):
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")
