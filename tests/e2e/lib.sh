#!/bin/bash
# Shared setup for the e2e scripts (sourced, not run): tool checks, a private testbed with
# teardown on every path, the EAB ClusterIssuer "pebble", and starting/stopping the controller.
set -u
SRC=${CERTSMITH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${CERTSMITH_BIN:-$SRC/build/controller/certsmith}
for tool in kubectl openssl python3 pebble; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$BIN" ] || { echo "SKIP: certsmith binary not built ($BIN)"; exit 77; }
[ -d "$SRC/crds" ] || { echo "SKIP: no crds/"; exit 77; }

WORK=$(mktemp -d)
CONTROLLER_PID=""
# CERTSMITH_E2E_KEEP_WORKDIR=1 keeps $WORK (controller log, testbed logs) when the test fails.
e2e_cleanup() {
  local rc=$?
  [ -n "$CONTROLLER_PID" ] && kill "$CONTROLLER_PID" 2>/dev/null && wait "$CONTROLLER_PID" 2>/dev/null
  "$SRC/tests/testbed/run" down --workdir "$WORK/tb" >/dev/null 2>&1
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${CERTSMITH_E2E_KEEP_WORKDIR:-}" ]; then
    echo "kept workdir: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap e2e_cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -n "${CERTSMITH_E2E_KEEP_WORKDIR:-}" ] && kubectl get clusterissuers,certificates,orders,challenges,pods,ingresses,events -A -o yaml >"$WORK/objects.yaml" 2>&1
  echo "--- controller log (tail)"; tail -n 60 "$WORK"/controller*.log 2>/dev/null
  kubectl get clusterissuers,certificates,orders,challenges -A -o yaml 2>/dev/null | tail -n 120
  exit 1
}
# wait_for SECONDS CMD...: retries CMD every half second.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.5
  done
}
# ready KIND NAME NAMESPACE|"" STATUS: the Ready condition has STATUS.
ready() { [ "$(kubectl get "$1" "$2" ${3:+-n $3} -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = "$4" ]; }

# testbed_up: starts the testbed, applies the CRDs and the EAB secret, exports the testbed env.
testbed_up() {
  CERTSMITH_BIN="$BIN" "$SRC/tests/testbed/run" up --workdir "$WORK/tb" --max-lifetime 600 \
    >"$WORK/up.log" 2>&1 || { local rc=$?; cat "$WORK/up.log"; [ $rc -eq 77 ] && exit 77; fail "testbed up"; }
  . "$WORK/tb/env"
  export KUBECONFIG
  kubectl apply -f "$SRC/crds/" >/dev/null || fail "applying CRDs"
  kubectl create namespace certsmith >/dev/null || fail "namespace"
  kubectl -n certsmith create secret generic pebble-eab --from-literal=secret="$EAB_HMAC_KEY" >/dev/null \
    || fail "EAB secret"
  if [ -f "$ACME_CA_BUNDLE" ]; then CA_B64=$(base64 -w0 <"$ACME_CA_BUNDLE"); else CA_B64=$(printf '%s' "$ACME_CA_BUNDLE" | base64 -w0); fi
}

issuer() {  # name eab-secret
  cat <<YAML
apiVersion: certsmith.io/v1
kind: ClusterIssuer
metadata: {name: $1}
spec:
  acme:
    server: $ACME_SERVER
    email: ops@example.org
    caBundle: $CA_B64
    privateKeySecretRef: {name: $1-account}
    externalAccountBinding:
      keyID: $EAB_KID
      keySecretRef: {name: $2, key: secret}
    solvers:
    - http01:
        skipSelfCheck: true
        ingress: {ingressClassName: $INGRESS_CLASS}
YAML
}
certificate() {  # name dnsNames(comma-separated) issuer
  cat <<YAML
apiVersion: certsmith.io/v1
kind: Certificate
metadata: {name: $1, namespace: default}
spec:
  secretName: $1-tls
  dnsNames: [$2]
  issuerRef: {name: $3, kind: ClusterIssuer}
YAML
}

# start_controller: runs `certsmith controller` in the background, appending to controller.log.
start_controller() {
  "$BIN" controller --kubeconfig "$KUBECONFIG" --leader-elect=false \
    --cluster-resource-namespace certsmith --log-level debug >>"$WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!
}

# fetch_root FILE: Pebble's current root (management /roots/0).
fetch_root() {
  python3 - "$PEBBLE_MANAGEMENT" "$1" <<'PY'
import ssl, sys, urllib.request
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1] + "/roots/0", context=ctx).read())
PY
}
# secret_files NAME: writes tls.crt/tls.key of Secret NAME (default ns) to $WORK/NAME.crt/.key.
secret_files() {
  kubectl get secret "$1" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$WORK/$1.crt"
  kubectl get secret "$1" -o jsonpath='{.data.tls\.key}' | base64 -d >"$WORK/$1.key"
}
# key_matches CRT KEY: the certificate's public key is the private key's.
key_matches() {
  [ "$(openssl x509 -in "$1" -noout -pubkey | openssl sha256)" = \
    "$(openssl pkey -in "$2" -pubout | openssl sha256)" ]
}
