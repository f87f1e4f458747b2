#!/usr/bin/python3
"""A small HTTPS peer for the transport test: prints its port, serves a few fixed paths,
and exits by itself after --lifetime seconds."""
import argparse, os, http.server, ssl, threading, sys

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def _send(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/links":
            self._send(200, b"ok", [("Link", '<https://a/1>;rel="alternate"'),
                                    ("Link", '<https://a/2>;rel="alternate"'),
                                    ("Replay-Nonce", "n1")])
        elif self.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in (b'{"a":1}\n', b'{"b":2}\r\n'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            # Keep the stream open until GET /release (or the peer's end): the test cancels it,
            # and a Cancel that does not work must not be rescued by the stream ending.
            RELEASE.wait(ARGS.lifetime)
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
        elif self.path == "/release":
            RELEASE.set()
            self._send(200, b"released")
        else:
            self._send(404, b"nope")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        echo = ("%s|%s|%s" % (self.headers.get("Content-Type"), self.headers.get("User-Agent"),
                              self.headers.get("X-Test"))).encode() + b"|" + body
        self._send(201, echo)

ap = argparse.ArgumentParser()
ap.add_argument("--cert"); ap.add_argument("--key"); ap.add_argument("--lifetime", type=float, default=60)
ARGS = a = ap.parse_args()
RELEASE = threading.Event()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(a.cert, a.key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(os.getpid(), srv.server_address[1], flush=True)
threading.Timer(a.lifetime, lambda: srv.shutdown()).start()
srv.serve_forever()
