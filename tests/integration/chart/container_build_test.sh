#!/usr/bin/env bash
# Builds the Dockerfile with ../shared/tools/container-build (buildah) from the committed tree
# (git archive HEAD, so half-edited files in a shared working tree do not leak in), then checks
# the image:
# - its size, as buildah reports it, is at most 40 MB (CERTSMITH_IMAGE_MAX_BYTES);
# - it holds the non-root user 65532:65532, and what certsmith writes there belongs to it;
# - `certsmith version` and `certsmith solver --help` run in it (every shared library is there);
# - TLS: with nothing listening the ACME client says it cannot connect; against a local HTTPS
#   server with a self-signed certificate it says the certificate is not trusted; with that
#   certificate appended to the image's /etc/ssl/certs/ca-certificates.crt it gets through TLS
#   and reads the answer: OpenSSL's default trust store in the image is that bundle.
# Exit 77 (skipped) only when the tool is absent (../shared is not there).
set -euo pipefail
src=${CERTSMITH_SOURCE_DIR:?}
tool="$src/../shared/tools/container-build/run"
[ -x "$tool" ] || { echo "SKIP: $tool is absent"; exit 77; }
max_bytes=${CERTSMITH_IMAGE_MAX_BYTES:-40000000}
b() { buildah --storage-driver vfs "$@"; }

work=$(mktemp -d)
ctx="$work/context"
mkdir "$ctx"
tag="localhost/certsmith-test:$$"
ctr=""
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$ctr" ] || b rm "$ctr" >/dev/null 2>&1 || true
  b rmi "$tag" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
  git -C "$src" archive HEAD | tar -x -C "$ctx"
else
  cp -a "$src"/. "$ctx"/
fi
# The binary ctest built and tested (CERTSMITH_BIN) goes in as prebuilt/certsmith: the image is
# then made without compiling certsmith again inside buildah (25 min on 2 cores with a cold
# cache). A sanitizer build is not packaged; CERTSMITH_IMAGE_COMPILE=1 compiles in the image.
if [ -z "${CERTSMITH_IMAGE_COMPILE:-}" ] && [ -x "${CERTSMITH_BIN:-}" ] \
   && ! ldd "$CERTSMITH_BIN" | grep -Eq 'lib(a|t|ub)san'; then
  mkdir -p "$ctx/prebuilt"
  cp "$CERTSMITH_BIN" "$ctx/prebuilt/certsmith"
  echo "packaging the binary ctest built: $CERTSMITH_BIN"
fi
# --layers=false: no intermediate image per step (with vfs each is a full copy of its tree, over
# 1 GB, and a new commit would leave new ones at every run); the compiler cache survives in the
# Dockerfile's cache mount.
"$tool" build --layers=false -t "$tag" "$ctx"

# The size buildah reports (`buildah images`): its layers, uncompressed, in bytes.
size=$(b inspect --type image --format '{{.Manifest}}' "$tag" \
  | /usr/bin/python3 -c 'import json, sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
echo "image size: $size bytes ($(b images --format '{{.Size}}' "$tag" | head -n 1)), at most $max_bytes"
[ "$size" -le "$max_bytes" ] || fail "the image is $size bytes, more than $max_bytes"

user=$(b inspect --type image --format '{{.OCIv1.Config.User}}' "$tag")
[ "$user" = "65532:65532" ] || fail "image user is '$user'"

out=$("$tool" run "$tag" /usr/local/bin/certsmith version)
echo "$out"
[[ $out == certsmith* ]] || fail "certsmith version printed '$out'"
"$tool" run "$tag" /usr/local/bin/certsmith solver --help | grep -q -- --token \
  || fail "the image has no solver command"

# A working container of the image, to run certsmith in and look at its files afterwards.
ctr=$(b from "$tag")
mnt=$(b mount "$ctr")
# acme CTR_ARGS...: certsmith acme register in the container, as the image's user; prints its
# stdout and stderr, then its exit code.
acme() {
  local rc=0 out
  out=$(b run --isolation chroot "$ctr" -- /usr/local/bin/certsmith acme register \
    --account-key /tmp/account.key "$@" 2>&1) || rc=$?
  printf '%s\nexit %s\n' "$out" "$rc"
}

out=$(acme --server https://127.0.0.1:1/directory)
echo "$out"
grep -q "^exit 3$" <<<"$out" || fail "no exit 3 (unreachable) with nothing listening"
grep -qi "not trusted" <<<"$out" && fail "a trust-store error with nothing listening"
# The account key certsmith created in /tmp (writable there) is the non-root user's.
owner=$(stat -c %u:%g "$mnt/tmp/account.key") || fail "certsmith could not write /tmp/account.key"
[ "$owner" = "65532:65532" ] || fail "certsmith runs as $owner, not as 65532:65532"
echo "ok: certsmith runs as 65532:65532 and writes in /tmp; nothing listening: exit 3"

# A local HTTPS server with a self-signed certificate for 127.0.0.1; it answers every GET with
# a JSON object that is not an ACME directory, and stops by itself.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=certsmith-image-test -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/server.key" -out "$work/server.crt" 2>/dev/null
/usr/bin/python3 - "$work" <<'EOF' &
import http.server, os, ssl, sys, threading
work = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"certsmith-image-test": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(work, "server.crt"), os.path.join(work, "server.key"))
server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Timer(600, server.shutdown).start()
with open(os.path.join(work, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(work, "port.tmp"), os.path.join(work, "port"))
server.serve_forever()
EOF
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the HTTPS server did not start"
url="https://127.0.0.1:$(cat "$work/port")/directory"

out=$(acme --server "$url")
echo "$out"
if ! grep -q "^exit 3$" <<<"$out" || ! grep -qi "not trusted" <<<"$out"; then
  fail "a self-signed server certificate was not refused as untrusted"
fi
cat "$work/server.crt" >>"$mnt/etc/ssl/certs/ca-certificates.crt"
out=$(acme --server "$url")
echo "$out"
grep -q "is not an ACME directory" <<<"$out" \
  || fail "with its certificate in the image's CA bundle, the server's answer was not read"
echo "ok: the image's OpenSSL trusts the CAs in /etc/ssl/certs/ca-certificates.crt"
