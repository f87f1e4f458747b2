#!/bin/bash
# End to end: the Gateway shim (controller flag --enable-gateway-api, chart value
# enableGatewayAPI). A Gateway of the testbed's GatewayClass annotated
# certsmith.io/cluster-issuer, with two HTTPS (tls.mode Terminate) listeners sharing one Secret,
# gets one Certificate owned by it, named after the Secret, with both listeners' hostnames; it
# becomes Ready and the Secret appears, verifying against Pebble's root with both names (and the
# testbed's Gateway controller then resolves the listeners' certificateRefs). Mistakes give
# Warning events on the Gateway and create nothing: an HTTPS listener without hostname, a
# certificateRef in another namespace. Removing the annotation deletes the Certificate and keeps
# the Secret.
E2E_CHART_SET=(enableGatewayAPI=true "${E2E_CHART_SET[@]}")
. "$(dirname "$0")/lib.sh"
testbed_up
[ "${TESTBED_GATEWAY_API:-0}" = 1 ] || { echo "SKIP: the testbed serves no Gateway API: ${TESTBED_GATEWAY_API_WHY:-unknown}"; exit 77; }

issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller --enable-gateway-api
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"
kubectl create namespace elsewhere >/dev/null || fail "namespace elsewhere"

kubectl apply -f - >/dev/null <<YAML || fail "Gateway"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: default
  annotations:
    certsmith.io/cluster-issuer: pebble
spec:
  gatewayClassName: $GATEWAY_CLASS
  listeners:
  - name: http
    protocol: HTTP
    port: 80
  - name: https-a
    protocol: HTTPS
    port: 443
    hostname: a.shop.e2e.example
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: shop-gw-tls}]
  - name: https-b
    protocol: HTTPS
    port: 443
    hostname: b.shop.e2e.example
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: shop-gw-tls}]
  - name: https-nohost
    protocol: HTTPS
    port: 8443
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: nohost-tls}]
  - name: https-foreign
    protocol: HTTPS
    port: 9443
    hostname: foreign.shop.e2e.example
    tls:
      mode: Terminate
      certificateRefs: [{kind: Secret, name: foreign-tls, namespace: elsewhere}]
YAML

wait_for 30 kubectl get certificate shop-gw-tls || fail "no Certificate shop-gw-tls made for the Gateway"
owner=$(kubectl get certificate shop-gw-tls -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')
[ "$owner" = "Gateway/web/true" ] || fail "Certificate owner is '$owner', want Gateway/web/true"
names=$(kubectl get certificate shop-gw-tls -o jsonpath='{.spec.dnsNames[*]}' | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$names" = "a.shop.e2e.example b.shop.e2e.example " ] || fail "Certificate dnsNames: '$names'"
[ "$(kubectl get certificate shop-gw-tls -o jsonpath='{.spec.secretName}')" = shop-gw-tls ] \
  || fail "Certificate secretName: $(kubectl get certificate shop-gw-tls -o jsonpath='{.spec.secretName}')"
[ "$(kubectl get certificates -n default -o name | wc -l)" = 1 ] \
  || fail "one Certificate expected, found: $(kubectl get certificates -A -o name)"
kubectl get certificates -n elsewhere -o name | grep -q . && fail "a Certificate was made in another namespace"
echo "ok: one Certificate shop-gw-tls for the two listeners sharing the Secret, owned by the Gateway"

# gateway_warning TEXT: a Warning event about Gateway web whose message names TEXT.
gateway_warning() {
  kubectl get events -n default -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {.type} {.reason} {.message}{"\n"}{end}' \
    | grep "^Gateway/web Warning " | grep -qF "$1"
}
wait_for 30 gateway_warning https-nohost || fail "no Warning event on the Gateway for the listener without hostname"
wait_for 30 gateway_warning elsewhere || fail "no Warning event on the Gateway for the certificateRef in namespace elsewhere"
echo "ok: Warning events on the Gateway for the listener without hostname and the foreign reference"

wait_for 180 ready certificate shop-gw-tls default True || fail "Certificate shop-gw-tls not Ready"
secret_files shop-gw-tls
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/shop-gw-tls.crt" "$WORK/shop-gw-tls.crt" >/dev/null \
  || fail "shop-gw-tls does not verify against Pebble's root"
key_matches "$WORK/shop-gw-tls.crt" "$WORK/shop-gw-tls.key" || fail "shop-gw-tls: tls.key does not match"
san=$(openssl x509 -in "$WORK/shop-gw-tls.crt" -noout -ext subjectAltName)
grep -q "DNS:a.shop.e2e.example" <<<"$san" && grep -q "DNS:b.shop.e2e.example" <<<"$san" || fail "SAN: $san"
echo "ok: Secret shop-gw-tls holds a certificate for both names that verifies against Pebble's root"

# The testbed's Gateway controller sees the Secret: both listeners' references resolve.
listener_resolved() {
  [ "$(kubectl get gateway web -o jsonpath="{.status.listeners[?(@.name==\"$1\")].conditions[?(@.type==\"ResolvedRefs\")].status}")" = True ]
}
wait_for 30 listener_resolved https-a && wait_for 30 listener_resolved https-b \
  || fail "the Gateway's HTTPS listeners do not resolve shop-gw-tls: $(kubectl get gateway web -o jsonpath='{.status.listeners}')"
echo "ok: the Gateway's listeners https-a and https-b resolve their certificateRefs"

kubectl annotate gateway web certsmith.io/cluster-issuer- >/dev/null || fail "removing the annotation"
gone() { ! kubectl get certificate "$1" >/dev/null 2>&1; }
wait_for 30 gone shop-gw-tls || fail "Certificate shop-gw-tls still there after the annotation was removed"
kubectl get secret shop-gw-tls >/dev/null 2>&1 || fail "Secret shop-gw-tls was deleted with the Certificate"
kubectl get gateway web >/dev/null 2>&1 || fail "the Gateway itself is gone"
echo "ok: annotation removed -> Certificate deleted, Secret shop-gw-tls kept"
echo PASS
