#!/bin/bash
# The dns-01 provider conformance suite (conformance_test.cc) with its real parts, all inside a
# network namespace this script makes for itself, so nothing it starts is seen by anyone else:
#   - BIND 9 (tests/testbed/bind.py) on 127.0.0.1:53, with a TSIG key per algorithm: the zone's
#     NS record leads to it, so certsmith's default propagation check (the NS walk, port 53) is
#     tested as it runs on the Internet;
#   - the example webhook provider (tests/support/dns01_webhook.py) over HTTPS, reached directly
#     (webhook.url) and as an APIService backend;
#   - a real Kubernetes control plane (../shared/tools/kube) whose aggregation layer forwards
#     POST /apis/<group>/v1alpha1/<solver> to the provider: its Service has a ClusterIP and its
#     Endpoints an address that this namespace puts on `lo` (the API server refuses loopback
#     endpoints, ../shared/tools/kube/README.md).
# usage: run_conformance.sh TEST_BINARY [gtest arguments]
# Exit 77 (skipped) when a tool is missing, or when the aggregation path cannot run here (the
# rest still runs and must pass); with CI=true both are failures.
set -u
SRC=${CERTSMITH_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
BINARY=$1
shift
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL (CI): $*"; exit 1; fi
  echo "SKIP: $*"; exit 77
}

if [ -z "${DNS01_IN_NETNS:-}" ]; then
  for tool in named nsupdate dig openssl python3 ip unshare; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || skip "$tool is not installed"
  done
  [ -x "$BINARY" ] || skip "$BINARY is not built"
  # Root makes a plain network namespace; anyone else a user namespace mapping them to root.
  if [ "$(id -u)" = 0 ]; then flags=-n; else flags=-rn; fi
  unshare $flags true 2>/dev/null || skip "cannot create a network namespace (unshare $flags)"
  exec env DNS01_IN_NETNS=1 unshare $flags "$0" "$BINARY" "$@"
fi

WORK=$(mktemp -d -t certsmith-dns01-conformance.XXXXXX)
PIDS=()
KUBE_RUN=$(dirname "$SRC")/shared/tools/kube/run
cleanup() {
  local rc=$?
  [ -f "$WORK/kube/pids" ] && "$KUBE_RUN" down --workdir "$WORK/kube" >/dev/null 2>&1
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "--- logs (kept in $WORK)"
    tail -n 20 "$WORK"/webhook.log "$WORK"/bind/bind/named.log 2>/dev/null
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

ip link set lo up || skip "cannot bring up lo in the network namespace"
SERVICE_IP=10.96.0.53     # the Service's ClusterIP
ENDPOINT_IP=10.244.0.53   # the provider "Pod"'s address, in its Endpoints
ip addr add "$SERVICE_IP/32" dev lo && ip addr add "$ENDPOINT_IP/32" dev lo \
  || skip "cannot add addresses to lo"

ZONE=conformance.example
PYTHONPATH="$SRC/tests/support:$SRC/tests/testbed" python3 "$SRC/tests/testbed/bind.py" serve \
  --workdir "$WORK/bind" --port 53 --zone "$ZONE" --max-lifetime 900 >"$WORK/bind.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do [ -f "$WORK/bind/bind.env" ] && break; sleep 0.2; done
[ -f "$WORK/bind/bind.env" ] || { cat "$WORK/bind.log"; echo "FAIL: BIND did not start"; exit 1; }
. "$WORK/bind/bind.env"
export TESTBED_TSIG_KEYS DNS01_BIND=127.0.0.1:53 DNS01_ZONE=$ZONE

# The real control plane, when ../shared has it.
KUBE_OK=""
AGG_WHY="../shared/tools/kube/run is not there"
if [ -x "$KUBE_RUN" ]; then
  if "$KUBE_RUN" up --workdir "$WORK/kube" --max-lifetime 900 >"$WORK/kube.log" 2>&1; then
    KUBE_OK=1
  else
    AGG_WHY="the control plane did not start: $(tail -n 3 "$WORK/kube.log")"
  fi
fi

# The provider's certificate: for the Service's name (how the API server checks it) and the
# addresses the direct URL uses; a second CA that vouches for nothing here.
GROUP=acme.conformance.test
SOLVER=bind
SVC=dns01-webhook
NS=dns01-test
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dns01-webhook-ca \
  -keyout "$WORK/ca.key" -out "$WORK/ca.crt" >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca \
  -keyout "$WORK/other.key" -out "$WORK/other.crt" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=$SVC.$NS.svc" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:%s.%s.svc,IP:127.0.0.1,IP:%s\nextendedKeyUsage=serverAuth\n' \
  "$SVC" "$NS" "$ENDPOINT_IP" >"$WORK/ext.cnf"
openssl x509 -req -in "$WORK/tls.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 1 -extfile "$WORK/ext.cnf" -out "$WORK/tls.crt" >/dev/null 2>&1 || { echo "FAIL: openssl"; exit 1; }

client_ca=()
[ -n "$KUBE_OK" ] && client_ca=(--client-ca "$WORK/kube/pki/front-proxy-ca.crt")
DNS01_WEBHOOK_TSIG="$TESTBED_TSIG_ALGORITHM:$TESTBED_TSIG_KEY_NAME:$TESTBED_TSIG_SECRET" \
  python3 "$SRC/tests/support/dns01_webhook.py" --listen 0.0.0.0:8443 --cert "$WORK/tls.crt" \
  --key "$WORK/tls.key" "${client_ca[@]}" --group "$GROUP" --solver "$SOLVER" \
  --nameserver 127.0.0.1:53 --max-lifetime 900 --log "$WORK/webhook.log" 2>>"$WORK/webhook.log" &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null && break; sleep 0.1; done
export DNS01_WEBHOOK_URL=https://127.0.0.1:8443/present DNS01_WEBHOOK_CA=$WORK/ca.crt
export DNS01_WEBHOOK_OTHER_CA=$WORK/other.crt

if [ -n "$KUBE_OK" ]; then
  export KUBECONFIG=$WORK/kube/kubeconfig
  CA_B64=$(base64 -w0 <"$WORK/ca.crt")
  if kubectl apply -f - >"$WORK/apply.log" 2>&1 <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: Service
metadata: {name: $SVC, namespace: $NS}
spec:
  clusterIP: $SERVICE_IP
  ports: [{name: https, port: 443, targetPort: 8443}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: $SVC, namespace: $NS}
subsets:
- addresses: [{ip: $ENDPOINT_IP}]
  ports: [{name: https, port: 8443}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.$GROUP}
spec:
  group: $GROUP
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service: {name: $SVC, namespace: $NS, port: 443}
  caBundle: $CA_B64
YAML
  then
    if kubectl wait --for=condition=Available "apiservice/v1alpha1.$GROUP" --timeout=90s \
        >>"$WORK/apply.log" 2>&1; then
      export DNS01_WEBHOOK_GROUP=$GROUP DNS01_WEBHOOK_SOLVER=$SOLVER
      # A ServiceAccount without any rule, for the RBAC check.
      kubectl -n "$NS" create serviceaccount nobody >/dev/null
      token=$(kubectl -n "$NS" create token nobody)
      sed "s|token: .*|token: $token|" "$KUBECONFIG" >"$WORK/nobody.kubeconfig"
      export DNS01_UNPRIVILEGED_KUBECONFIG=$WORK/nobody.kubeconfig
    else
      AGG_WHY="APIService v1alpha1.$GROUP never became Available: $(kubectl get apiservice \
        "v1alpha1.$GROUP" -o jsonpath='{.status.conditions[0].message}' 2>&1)"
    fi
  else
    AGG_WHY="applying the APIService failed: $(tail -n 3 "$WORK/apply.log")"
  fi
fi
export DNS01_AGGREGATION_UNAVAILABLE=$AGG_WHY

"$BINARY" "$@"
rc=$?
[ $rc -ne 0 ] && exit $rc
[ -n "${DNS01_WEBHOOK_GROUP:-}" ] || skip "the aggregation path did not run: $AGG_WHY"
grep -q "via /apis/$GROUP/v1alpha1/$SOLVER" "$WORK/webhook.log" \
  || { echo "FAIL: no request reached the provider through the aggregation layer"; exit 1; }
exit 0
