"""A small Kubernetes REST client for the testbed's stand-ins (standard library only).

It reads a kubeconfig (JSON directly; YAML through `kubectl config view -o json`, since the
standard library has no YAML parser), authenticates with the bearer token or client certificate it
names and verifies the server with the kubeconfig's CA. Watches are read line by line, one JSON
event per line, as the API server streams them.
"""

import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import urllib.parse


class KubeError(Exception):
    """A non-2xx answer; `code` is the HTTP status, `reason` the Status reason if any."""

    def __init__(self, code, body):
        self.code = code
        self.body = body
        reason, message = "", ""
        if isinstance(body, dict):
            reason, message = body.get("reason", ""), body.get("message", "")
        self.reason = reason
        super().__init__(f"HTTP {code} {reason}: {message or str(body)[:300]}")


def load_kubeconfig(path):
    """The current context's cluster and user entries as plain dicts."""
    with open(path) as f:
        text = f.read()
    try:
        config = json.loads(text)
    except ValueError:
        out = subprocess.run(["kubectl", "config", "view", "--raw", "-o", "json",
                              "--kubeconfig", path], capture_output=True, text=True, timeout=30,
                             check=True).stdout
        config = json.loads(out)
    current = config.get("current-context") or config["contexts"][0]["name"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == current)
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next((u["user"] for u in config.get("users", []) if u["name"] == context.get("user")),
                {})
    return cluster, user


def _file_or_data(entry, key, base_dir):
    if entry.get(key + "-data"):
        return base64.b64decode(entry[key + "-data"])
    if entry.get(key):
        path = entry[key]
        with open(path if os.path.isabs(path) else os.path.join(base_dir, path), "rb") as f:
            return f.read()
    return None


class KubeClient:
    def __init__(self, kubeconfig, timeout=30):
        cluster, user = load_kubeconfig(kubeconfig)
        base_dir = os.path.dirname(os.path.abspath(kubeconfig))
        url = urllib.parse.urlsplit(cluster["server"])
        self.scheme, self.host = url.scheme, url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": "application/json", "User-Agent": "certsmith-testbed"}
        if user.get("token"):
            self.headers["Authorization"] = "Bearer " + user["token"]
        self.ssl_context = None
        # The CA the server is verified with (PEM), for Pods' ca.crt when no kube-root-ca.crt
        # ConfigMap exists (the test API server).
        self.ca_pem = _file_or_data(cluster, "certificate-authority", base_dir)
        if self.scheme == "https":
            self.ssl_context = self._make_ssl_context(cluster, user, base_dir)

    @staticmethod
    def _make_ssl_context(cluster, user, base_dir):
        ctx = ssl.create_default_context()
        if cluster.get("insecure-skip-tls-verify"):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ca = _file_or_data(cluster, "certificate-authority", base_dir)
            if ca:
                ctx.load_verify_locations(cadata=ca.decode())
        cert = _file_or_data(user, "client-certificate", base_dir)
        key = _file_or_data(user, "client-key", base_dir)
        if cert and key:
            # load_cert_chain only reads files: write them to a private temporary directory.
            with tempfile.TemporaryDirectory() as d:
                paths = []
                for name, data in (("c.pem", cert), ("k.pem", key)):
                    p = os.path.join(d, name)
                    with open(os.open(p, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
                        f.write(data)
                    paths.append(p)
                ctx.load_cert_chain(*paths)
        return ctx

    def _connection(self, timeout):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", params=None):
        """The decoded JSON answer; raises KubeError on a non-2xx status."""
        conn = self._connection(self.timeout)
        try:
            headers = dict(self.headers)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = content_type
            conn.request(method, self._url(path, params), body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = raw.decode(errors="replace")
        if resp.status >= 300:
            raise KubeError(resp.status, decoded)
        return decoded

    def _url(self, path, params):
        url = self.prefix + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        return url

    def get(self, path, **params):
        return self.request("GET", path, params=params or None)

    def create(self, path, obj, **params):
        return self.request("POST", path, obj, params=params or None)

    def delete(self, path, **params):
        return self.request("DELETE", path, params=params or None)

    def merge_patch(self, path, patch):
        return self.request("PATCH", path, patch, content_type="application/merge-patch+json")

    def watch(self, path, resource_version, timeout_seconds=60):
        """Yields watch events (dicts) until the server ends the stream or it breaks."""
        params = {"watch": "true", "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(timeout_seconds)}
        if resource_version:
            params["resourceVersion"] = resource_version
        conn = self._connection(timeout_seconds + 15)
        try:
            conn.request("GET", self._url(path, params), headers=self.headers)
            resp = conn.getresponse()
            if resp.status >= 300:
                raw = resp.read()
                try:
                    raise KubeError(resp.status, json.loads(raw))
                except ValueError:
                    raise KubeError(resp.status, raw.decode(errors="replace")) from None
            while True:
                line = resp.readline()
                if not line:
                    return
                line = line.strip()
                if line:
                    yield json.loads(line)
        finally:
            conn.close()
