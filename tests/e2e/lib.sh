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

WORK=$(mktemp -d -t certsmith-e2e.XXXXXX)
CONTROLLER_PID=""
HELPER_PIDS=()  # other processes a test starts (the dns-01 webhook provider), stopped at exit
E2E_ON_EXIT=()
# on_exit CMD: CMD runs at exit, before the teardown. Scripts register their own cleanup here
# rather than with `trap ... EXIT`, which would replace e2e_cleanup or hand it another status.
on_exit() { E2E_ON_EXIT+=("$*"); }
SELF_CHECK_FLAGS=()
# On the real control plane the controller runs as the chart's ServiceAccount, the chart's RBAC
# its only permissions (controller_rbac); CONTROLLER_KUBECONFIG is what to start it with.
# E2E_CHART_SET=(key=value ...) (scalars) and E2E_CHART_VALUES (YAML, for lists such as a
# dnsWebhooks entry) before testbed_up set chart values for that RBAC; E2E_ALLOW_FORBIDDEN=1 for
# a test that provokes refusals on purpose.
CONTROLLER_USER=system:serviceaccount:certsmith:certsmith
CONTROLLER_KUBECONFIG=""
E2E_CHART_SET=("${E2E_CHART_SET[@]}")
E2E_CHART_VALUES=${E2E_CHART_VALUES:-}
REQUESTS_DIR=${CERTSMITH_E2E_REQUESTS_DIR:-${CERTSMITH_BUILD_DIR:+$CERTSMITH_BUILD_DIR/e2e-requests}}
CHART_ARGS=()  # the chart values of controller_rbac, as rbac.py arguments
# CERTSMITH_E2E_KEEP_WORKDIR=1 keeps $WORK (controller log, testbed logs) when the test fails;
# =always keeps it in any case. The script's exit status decides, whatever the cleanup returns.
e2e_cleanup() {
  local rc=$? cmd
  for cmd in "${E2E_ON_EXIT[@]}"; do eval "$cmd"; done
  [ -n "$CONTROLLER_PID" ] && kill "$CONTROLLER_PID" 2>/dev/null && wait "$CONTROLLER_PID" 2>/dev/null
  local p
  for p in "${HELPER_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  "$SRC/tests/testbed/run" down --workdir "$WORK/tb" >/dev/null 2>&1
  local refused=0
  check_requests || refused=1
  if [ "${CERTSMITH_E2E_KEEP_WORKDIR:-}" = always ] ||
     { { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ $refused -ne 0 ]; } && [ -n "${CERTSMITH_E2E_KEEP_WORKDIR:-}" ]; }; then
    echo "kept workdir: $WORK"
  else
    rm -rf "$WORK"
  fi
  [ $refused -eq 0 ] || exit 1
}
trap e2e_cleanup EXIT
# check_requests (real control plane only): records the controller's requests from the audit log
# for the chart RBAC comparison (rbac.py compare, ctest e2e_rbac_rules) and fails when the API
# server refused one: the chart lacks a permission the controller needs.
check_requests() {
  [ "${TESTBED_KUBE:-}" = real ] && [ -f "${TESTBED_AUDIT_LOG:-}" ] || return 0
  if [ -n "$REQUESTS_DIR" ]; then
    "$SRC/tests/e2e/rbac.py" record --audit "$TESTBED_AUDIT_LOG" --user "$CONTROLLER_USER" \
      --out "$REQUESTS_DIR/$(basename "$0" .sh).json" "${CHART_ARGS[@]}" \
      ${E2E_ALLOW_FORBIDDEN:+--provoked-refusals} \
      || echo "FAIL: recording the controller's requests"
  fi
  [ -n "${E2E_ALLOW_FORBIDDEN:-}" ] && return 0
  local refused
  refused=$("$SRC/tests/e2e/rbac.py" forbidden --audit "$TESTBED_AUDIT_LOG" --user "$CONTROLLER_USER") && return 0
  echo "FAIL: the API server refused the controller (the chart's RBAC lacks these):"
  echo "$refused"
  return 1
}
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

# testbed_up [OPTION...]: starts the testbed (extra `run up` options, e.g. --validity 45, or
# --kube real for a test that needs the real control plane; by default the testbed's choice:
# $CERTSMITH_TESTBED_KUBE, else real when it can run here), applies the CRDs and the EAB secret,
# exports the testbed env; on the real control plane, the chart's RBAC (controller_rbac).
testbed_up() {
  CERTSMITH_BIN="$BIN" "$SRC/tests/testbed/run" up --workdir "$WORK/tb" --max-lifetime 600 "$@" \
    >"$WORK/up.log" 2>&1 || { local rc=$?; cat "$WORK/up.log"; [ $rc -eq 77 ] && exit 77; fail "testbed up"; }
  . "$WORK/tb/env"
  export KUBECONFIG
  echo "testbed: $TESTBED_KUBE API server $TESTBED_KUBE_VERSION"
  kubectl apply -f "$SRC/crds/" >/dev/null || fail "applying CRDs"
  kubectl create namespace certsmith >/dev/null || fail "namespace"
  CONTROLLER_KUBECONFIG=$KUBECONFIG
  [ "$TESTBED_KUBE" = real ] && controller_rbac
  kubectl -n certsmith create secret generic pebble-eab --from-literal=secret="$EAB_HMAC_KEY" >/dev/null \
    || fail "EAB secret"
  if [ -f "$ACME_CA_BUNDLE" ]; then CA_B64=$(base64 -w0 <"$ACME_CA_BUNDLE"); else CA_B64=$(printf '%s' "$ACME_CA_BUNDLE" | base64 -w0); fi
  # The controller's http-01 self check resolves names with the testbed's DNS (the one Pebble
  # uses) and connects to the ingress on Pebble's http port, as a CA would. A test that wants the
  # machine's own resolver (where *.example names do not exist) sets SELF_CHECK_FLAGS=().
  SELF_CHECK_FLAGS=(--acme-http01-solver-nameservers "$TESTBED_DNS"
                    --acme-http01-self-check-port "$INGRESS_PORT")
}

# controller_rbac: the chart's ServiceAccount certsmith/certsmith with its Roles, ClusterRoles and
# bindings (rendered with E2E_CHART_SET and E2E_CHART_VALUES), and $WORK/controller.kubeconfig with a token of that
# ServiceAccount from the TokenRequest API.
controller_rbac() {
  local s
  CHART_ARGS=()
  for s in "${E2E_CHART_SET[@]}"; do CHART_ARGS+=(--set "$s"); done
  if [ -n "$E2E_CHART_VALUES" ]; then
    printf '%s\n' "$E2E_CHART_VALUES" >"$WORK/values.yaml"
    CHART_ARGS+=(-f "$WORK/values.yaml")
  fi
  "$SRC/tests/e2e/rbac.py" manifests "${CHART_ARGS[@]}" >"$WORK/rbac.json" || fail "rendering the chart's RBAC"
  kubectl apply -f "$WORK/rbac.json" >/dev/null || fail "applying the chart's RBAC"
  CONTROLLER_KUBECONFIG=$WORK/controller.kubeconfig
  kubectl -n certsmith create token certsmith --duration=2h | python3 -c '
import json, subprocess, sys
config = json.loads(subprocess.run(["kubectl", "config", "view", "--raw", "--minify", "--flatten",
                                    "-o", "json"], capture_output=True, text=True, check=True).stdout)
config["users"] = [{"name": "certsmith", "user": {"token": sys.stdin.read().strip()}}]
config["contexts"][0]["context"]["user"] = "certsmith"
import os
with open(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    json.dump(config, f)
' "$CONTROLLER_KUBECONFIG" || fail "a token for the controller's ServiceAccount"
}

issuer() {  # name eab-secret; the self check is on unless SKIP_SELF_CHECK=true
  issuer_with_solvers "$1" "    - http01:
        skipSelfCheck: ${SKIP_SELF_CHECK:-false}
        ingress: {ingressClassName: $INGRESS_CLASS}" "$2"
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

# start_controller [FLAG...]: runs `certsmith controller` (with any extra flags) in the
# background, appending to controller.log.
start_controller() {
  "$BIN" controller --kubeconfig "$CONTROLLER_KUBECONFIG" --leader-elect=false \
    --cluster-resource-namespace certsmith --log-level debug "${SELF_CHECK_FLAGS[@]}" "$@" \
    >>"$WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!
}

# ca_gate_up: tests/support/ca_gate.py in front of Pebble, stopped at exit. Sets GATE_URL (the
# directory URL through the gate) and GATE_CA_B64 (caBundle for it): an Issuer on
# `ACME_SERVER=$GATE_URL CA_B64=$GATE_CA_B64 issuer NAME pebble-eab` lets the test stop an
# issuance at an exact CA request with `gate MODE REGEX` (MODE hold, hold-response, hold-after;
# REGEX on "METHOD /path"), `gate wait REGEX SECONDS`, `gate count REGEX`, `gate release`.
ca_gate_up() {
  python3 "$SRC/tests/support/ca_gate.py" serve --upstream "$ACME_SERVER" --workdir "$WORK/gate" \
    --lifetime 600 >>"$WORK/gate.log" 2>&1 &
  local pid=$!
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
  local deadline=$((SECONDS + 30))
  until [ -f "$WORK/gate/env" ]; do
    kill -0 $pid 2>/dev/null && [ $SECONDS -lt $deadline ] || { cat "$WORK/gate.log"; fail "CA gate did not start"; }
    sleep 0.1
  done
  . "$WORK/gate/env"
  GATE_CA_B64=$(base64 -w0 <"$GATE_CA")
}
gate() { python3 "$SRC/tests/support/ca_gate.py" "$1" "$GATE_CONTROL" "${@:2}"; }

# pebble_issuer_ready: the EAB ClusterIssuer "pebble" and the controller, returning once the
# issuer is Ready; Pebble's root in $WORK/root.pem.
pebble_issuer_ready() {
  issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
  start_controller
  wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"
  fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"
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

# -- certificate state, for renewal tests -------------------------------------------------------
epoch() { date -u -d "$1" +%s; }
clock() { date -u -d @"$1" +%Y-%m-%dT%H:%M:%SZ; }
revision_is() { [ "$(kubectl get certificate "$1" -o jsonpath='{.status.revision}')" = "$2" ]; }
# observe NAME: reads Secret NAME-tls and the Certificate's status until they describe the same
# certificate (a renewal can land between two reads). Sets REV SERIAL NB NA (the certificate's
# notBefore/notAfter, epoch seconds) PUB (public key digest) S_NA S_RT (status.notAfter and
# status.renewalTime, epoch seconds); writes $WORK/NAME-tls.crt/.key.
observe() {
  local tries=0
  while :; do
    REV=$(kubectl get certificate "$1" -o jsonpath='{.status.revision}')
    S_NA=$(epoch "$(kubectl get certificate "$1" -o jsonpath='{.status.notAfter}')")
    S_RT=$(epoch "$(kubectl get certificate "$1" -o jsonpath='{.status.renewalTime}')")
    secret_files "$1-tls"
    SERIAL=$(openssl x509 -in "$WORK/$1-tls.crt" -noout -serial | cut -d= -f2)
    NB=$(epoch "$(openssl x509 -in "$WORK/$1-tls.crt" -noout -startdate | cut -d= -f2)")
    NA=$(epoch "$(openssl x509 -in "$WORK/$1-tls.crt" -noout -enddate | cut -d= -f2)")
    PUB=$(openssl pkey -in "$WORK/$1-tls.key" -pubout | openssl sha256)
    [ "$S_NA" = "$NA" ] && revision_is "$1" "$REV" && return 0
    tries=$((tries + 1)); [ $tries -lt 20 ] || fail "$1: status and Secret never agree"
    sleep 0.2
  done
}
# check_issued NAME RENEWAL_EPOCH (after observe): the chain verifies against Pebble's root
# ($WORK/root.pem, see fetch_root), tls.key matches, status.renewalTime is RENEWAL_EPOCH.
check_issued() {
  openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/$1-tls.crt" "$WORK/$1-tls.crt" >/dev/null \
    || fail "$1 revision $REV does not verify against Pebble's root"
  key_matches "$WORK/$1-tls.crt" "$WORK/$1-tls.key" || fail "$1 revision $REV: tls.key does not match"
  [ "$S_RT" -eq "$2" ] || fail "$1 revision $REV: status.renewalTime $(clock "$S_RT"), expected" \
    "$(clock "$2") (notBefore $(clock "$NB"), notAfter $(clock "$NA"))"
}
# check_renewed NAME OLD_SERIAL OLD_RT OLD_NA (after observe): a new certificate, issued no
# earlier than the old renewal time, at most 15 s later, before the old one expired; status
# renewalTime and notAfter moved on.
check_renewed() {
  [ "$SERIAL" != "$2" ] || fail "$1: same serial after renewal"
  [ "$NB" -ge "$3" ] || fail "$1 renewed at $(clock "$NB"), before its renewal time $(clock "$3")"
  [ "$NB" -le $(($3 + 15)) ] || fail "$1 renewed at $(clock "$NB"), >15 s after $(clock "$3")"
  [ "$NB" -lt "$4" ] || fail "$1 renewed only after the old certificate expired"
  [ "$S_RT" -gt "$3" ] && [ "$S_NA" -gt "$4" ] || fail "$1: renewalTime/notAfter did not advance"
}
events() {  # NAME REASON: "count message" of the Certificate's Events with REASON, by message
  kubectl get events -n default --field-selector "involvedObject.name=$1,reason=$2" \
    -o jsonpath='{range .items[*]}{.count} {.message}{"\n"}{end}' | sort -k2
}
# check_events NAME RENEWAL_EPOCH...: exactly one Issued event per revision and one
# RenewalScheduled event with its time per renewal time given, each counted once. Events of
# later issuances (a renewal can land while a slow machine looks) are left for their own check.
check_events() {
  local name=$1 rev=0 issued="" scheduled="" t last=0; shift
  for t in "$@"; do
    rev=$((rev + 1)) last=$t
    issued+="1 The certificate has been successfully issued (revision $rev)"$'\n'
    scheduled+="1 Renewal scheduled at $(clock "$t")"$'\n'
  done
  local got_issued got_scheduled line
  got_issued=$(events "$name" Issued | while read -r line; do
    local n=${line##*(revision }; n=${n%)}
    [ "$n" -le "$rev" ] 2>/dev/null && echo "$line"
  done)
  got_scheduled=$(events "$name" RenewalScheduled | while read -r line; do
    [ "$(epoch "${line##* at }")" -le "$last" ] 2>/dev/null && echo "$line"
  done)
  [ "$got_issued" = "${issued%$'\n'}" ] \
    || fail "$name Issued events:"$'\n'"$(events "$name" Issued)"$'\n'"expected:"$'\n'"$issued"
  [ "$got_scheduled" = "${scheduled%$'\n'}" ] || fail "$name RenewalScheduled" \
    "events:"$'\n'"$(events "$name" RenewalScheduled)"$'\n'"expected:"$'\n'"$scheduled"
}

# -- dns-01 (testbed_up --dns bind) -------------------------------------------------------------
# issuer_with_solvers NAME SOLVERS [EAB_SECRET]: the EAB ClusterIssuer NAME (EAB key in Secret
# EAB_SECRET, default pebble-eab) with the given solvers (YAML list items, indented by four spaces).
issuer_with_solvers() {
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
      keySecretRef: {name: ${3:-pebble-eab}, key: secret}
    solvers:
$2
YAML
}
# tsig_secret NAME [SECRET]: Secret NAME (certsmith namespace, key "secret") with the testbed's
# TSIG secret, or SECRET.
tsig_secret() {
  kubectl -n certsmith create secret generic "$1" --from-literal=secret="${2:-$TESTBED_TSIG_SECRET}" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}
# rfc2136_solver SECRET_NAME [EXTRA]: a dns01 rfc2136 solver list item for the testbed's BIND and
# key; EXTRA is more dns01 fields as one flow-mapping line ("cnameStrategy: Follow").
rfc2136_solver() {
  cat <<YAML
    - dns01:
        ${2:-cnameStrategy: None}
        rfc2136:
          nameserver: "$TESTBED_DNS"
          tsigKeyName: $TESTBED_TSIG_KEY_NAME
          tsigAlgorithm: HMACSHA256
          tsigSecretSecretRef: {name: $1, key: secret}
YAML
}
# txt_values NAME: the TXT values of NAME at the testbed's BIND, sorted, one per line.
txt_values() {
  dig +short +norecurse @"${TESTBED_DNS%:*}" -p "${TESTBED_DNS##*:}" TXT "$1" | tr -d '"' | sort
}
# no_txt NAME: NAME has no TXT record at the testbed's BIND.
no_txt() { [ -z "$(txt_values "$1")" ]; }
# nsupdate_testbed LINE...: an RFC 2136 update of the testbed's BIND with its key.
nsupdate_testbed() {
  { printf 'server %s %s\n' "${TESTBED_DNS%:*}" "${TESTBED_DNS##*:}"; printf '%s\n' "$@" send; } |
    nsupdate -y "$TESTBED_TSIG_ALGORITHM:$TESTBED_TSIG_KEY_NAME:$TESTBED_TSIG_SECRET"
}
# webhook_provider: starts tests/support/dns01_webhook.py (HTTPS on a free loopback port, updating
# the testbed's BIND) and sets WEBHOOK_URL, WEBHOOK_CA_B64 and WEBHOOK_LOG.
webhook_provider() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=webhook-ca \
    -keyout "$WORK/webhook-ca.key" -out "$WORK/webhook-ca.crt" >/dev/null 2>&1 || fail "webhook CA"
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$WORK/webhook.key" \
    -out "$WORK/webhook.csr" >/dev/null 2>&1 || fail "webhook key"
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$WORK/webhook.cnf"
  openssl x509 -req -in "$WORK/webhook.csr" -CA "$WORK/webhook-ca.crt" -CAkey "$WORK/webhook-ca.key" \
    -CAcreateserial -days 1 -extfile "$WORK/webhook.cnf" -out "$WORK/webhook.crt" >/dev/null 2>&1 \
    || fail "webhook certificate"
  WEBHOOK_LOG=$WORK/webhook.log
  DNS01_WEBHOOK_TSIG="$TESTBED_TSIG_ALGORITHM:$TESTBED_TSIG_KEY_NAME:$TESTBED_TSIG_SECRET" \
    python3 "$SRC/tests/support/dns01_webhook.py" --listen "127.0.0.1:$port" \
    --cert "$WORK/webhook.crt" --key "$WORK/webhook.key" --nameserver "$TESTBED_DNS" \
    --max-lifetime 600 --log "$WEBHOOK_LOG" 2>>"$WEBHOOK_LOG" &
  HELPER_PIDS+=($!)
  WEBHOOK_URL=https://127.0.0.1:$port/certsmith
  WEBHOOK_CA_B64=$(base64 -w0 <"$WORK/webhook-ca.crt")
  wait_for 10 grep -q listening "$WEBHOOK_LOG" || fail "webhook provider did not start"
}
# challenges_of CERT: the Challenges (challenge.acme.certsmith.io/NAME) of Certificate CERT.
challenges_of() {
  kubectl get challenges -n default -l "certsmith.io/certificate-name=$1" -o name 2>/dev/null
}
# ready_message KIND NAME: the Ready condition's message (namespace default).
ready_message() { kubectl get "$1" "$2" -n default -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'; }
