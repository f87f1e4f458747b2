"""Process entry point: TLS material, kubeconfig, the HTTPS server and its lifetime.

Writes into --workdir: ca.crt, server.crt/key, token, kubeconfig, port, ready, server.log.
Stops on SIGTERM/SIGINT or after --max-lifetime seconds so a forgotten server cannot linger.
"""
import argparse
import base64
import logging
import os
import secrets
import signal
import ssl
import subprocess
import sys
import threading
from http.server import ThreadingHTTPServer

from .api import Api, now
from .faults import Faults
from .gc import Controllers
from .handlers import Context, Handler
from .resources import Registry
from .storage import Store

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def parse_args(argv):
    p = argparse.ArgumentParser(description="certsmith test Kubernetes API server")
    p.add_argument("--workdir", required=True)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--token", default=None, help="bearer token (random by default)")
    p.add_argument("--max-lifetime", type=float, default=3600)
    p.add_argument("--history-limit", type=int, default=100000,
                   help="watch events kept; older resourceVersions get 410 Gone")
    p.add_argument("--bookmark-interval", type=float, default=60)
    p.add_argument("--fault-error-percent", type=float, default=None)
    p.add_argument("--fault-error-code", type=int, default=None, choices=(429, 500, 503))
    p.add_argument("--fault-retry-after", type=int, default=None)
    p.add_argument("--fault-drop-watch-seconds", type=float, default=None)
    p.add_argument("--log-requests", action="store_true")
    return p.parse_args(argv)


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_certs(workdir):
    """A throwaway CA and a 127.0.0.1/localhost serving certificate (EC P-256)."""
    with open(os.path.join(workdir, "openssl.cnf"), "w") as f:
        f.write("[req]\ndistinguished_name=dn\n[dn]\n"
                "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                "[leaf]\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "7",
             "-subj", "/CN=certsmith-test-apiserver-ca", "-config", "openssl.cnf",
             "-extensions", "ca", cwd=workdir)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=127.0.0.1", "-config", "openssl.cnf", cwd=workdir)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.crt", "-days", "7", "-extfile", "openssl.cnf",
             "-extensions", "leaf", cwd=workdir)


def write_kubeconfig(workdir, port, token):
    with open(os.path.join(workdir, "ca.crt"), "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: certsmith-test
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority-data: {ca}
users:
- name: admin
  user:
    token: {token}
contexts:
- name: certsmith-test
  context:
    cluster: certsmith-test
    user: admin
    namespace: default
current-context: certsmith-test
"""
    _write(workdir, "kubeconfig", text, 0o600)
    _write(workdir, "token", token + "\n", 0o600)


def _write(workdir, name, text, mode=0o644):
    path = os.path.join(workdir, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def seed(api):
    rt = api.registry.lookup("", "v1", "namespaces")
    for name in INITIAL_NAMESPACES:
        api.create(rt, "", {"metadata": {"name": name}})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.workdir, exist_ok=True)
    logging.basicConfig(filename=os.path.join(args.workdir, "server.log"),
                        level=logging.INFO if args.log_requests else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    make_certs(args.workdir)
    token = args.token or secrets.token_urlsafe(32)
    stopping = threading.Event()
    store = Store(history_limit=args.history_limit)
    api = Api(Registry(), store)
    seed(api)
    faults = Faults(errorPercent=args.fault_error_percent, errorCode=args.fault_error_code,
                    retryAfterSeconds=args.fault_retry_after,
                    dropWatchSeconds=args.fault_drop_watch_seconds,
                    bookmarkSeconds=args.bookmark_interval)
    httpd = Server(("127.0.0.1", args.port), Handler)
    port = httpd.server_address[1]
    Handler.ctx = Context(api, faults, token, stopping, f"127.0.0.1:{port}")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(os.path.join(args.workdir, "server.crt"),
                        os.path.join(args.workdir, "server.key"))
    tls.set_alpn_protocols(["http/1.1"])
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    controllers = Controllers(api, stopping)
    controllers.start()
    write_kubeconfig(args.workdir, port, token)
    _write(args.workdir, "port", f"{port}\n")
    serve = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                             daemon=True)
    serve.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    _write(args.workdir, "ready", now() + "\n")
    print(f"certsmith test apiserver listening on https://127.0.0.1:{port}", flush=True)
    stopping.wait(args.max_lifetime)
    stopping.set()
    httpd.shutdown()
    httpd.server_close()
    for name in ("ready", "port"):
        try:
            os.remove(os.path.join(args.workdir, name))
        except FileNotFoundError:
            pass
    return 0
