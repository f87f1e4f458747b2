#!/bin/bash
# End to end: the Ingress shim. An Ingress annotated certsmith.io/cluster-issuer with a TLS entry
# gets a Certificate owned by it, which becomes Ready and fills the named TLS Secret with a
# certificate for the host that verifies against Pebble's root; a TLS entry without secretName
# gives a Warning event on the Ingress; a user's Certificate of the same name is left alone until
# deleted; the shim never updates without an Ingress change, and an annotation changed on the
# Ingress (renew-before) reaches its Certificate; removing the annotation deletes the
# Certificates and keeps the Secret.
. "$(dirname "$0")/lib.sh"
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

# A Certificate a user made by hand, whose name an Ingress entry will also use.
certificate taken taken.e2e.example pebble | sed 's/name: taken,/name: taken-tls,/' | kubectl apply -f - >/dev/null \
  || fail "Certificate taken-tls"

kubectl apply -f - >/dev/null <<YAML || fail "Ingress"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations:
    certsmith.io/cluster-issuer: pebble
spec:
  ingressClassName: $INGRESS_CLASS
  tls:
  - hosts: [shop.e2e.example]
    secretName: shop-tls
  - hosts: [forgotten.e2e.example]
  - hosts: [other.e2e.example]
    secretName: taken-tls
  rules:
  - host: shop.e2e.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: shop, port: {number: 80}}}
YAML

wait_for 30 kubectl get certificate shop-tls || fail "no Certificate shop-tls made for the Ingress"
owner=$(kubectl get certificate shop-tls -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')
[ "$owner" = "Ingress/shop/true" ] || fail "Certificate owner is '$owner', want Ingress/shop/true"
[ "$(kubectl get certificate shop-tls -o jsonpath='{.metadata.labels.certsmith\.io/ingress-shim}')" = true ] \
  || fail "Certificate lacks the ingress-shim label"
[ "$(kubectl get certificate shop-tls -o jsonpath='{.spec.dnsNames[*]}')" = shop.e2e.example ] \
  || fail "Certificate dnsNames: $(kubectl get certificate shop-tls -o jsonpath='{.spec.dnsNames}')"
echo "ok: Certificate shop-tls made for the Ingress, owned by it"

# ingress_event TYPE REASON MESSAGE-START: an Event about Ingress shop.
ingress_event() {
  kubectl get events -n default -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {.type} {.reason} {.message}{"\n"}{end}' \
    | grep -qF "Ingress/shop $1 $2 $3"
}
wait_for 30 ingress_event Warning InvalidTLSEntry "spec.tls[1] has no secretName" \
  || fail "no Warning event on the Ingress for the TLS entry without secretName"
echo "ok: the TLS entry without secretName gave a Warning event on the Ingress"

# The user's Certificate of the same name is never overwritten; once it is deleted, the shim
# makes its own.
wait_for 30 ingress_event Warning CertificateNotOwned "Certificate taken-tls already exists" \
  || fail "no CertificateNotOwned Warning for the user's Certificate taken-tls"
[ "$(kubectl get certificate taken-tls -o jsonpath='{.spec.dnsNames[*]}/{.metadata.ownerReferences}')" = taken.e2e.example/ ] \
  || fail "the user's Certificate taken-tls was changed"
kubectl delete certificate taken-tls >/dev/null || fail "deleting the user's Certificate"
shim_owned() { [ "$(kubectl get certificate taken-tls -o jsonpath='{.metadata.ownerReferences[0].name}/{.spec.dnsNames[*]}')" = shop/other.e2e.example ]; }
wait_for 30 shim_owned || fail "the shim did not make taken-tls once the user's Certificate was gone"
echo "ok: a user's Certificate of the same name was left alone (Warning), and taken over only once deleted"

wait_for 120 ready certificate shop-tls default True || fail "Certificate shop-tls not Ready"
secret_files shop-tls
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/shop-tls.crt" "$WORK/shop-tls.crt" >/dev/null \
  || fail "openssl verify of shop-tls against Pebble's root"
key_matches "$WORK/shop-tls.crt" "$WORK/shop-tls.key" || fail "tls.key does not match tls.crt"
openssl x509 -in "$WORK/shop-tls.crt" -noout -ext subjectAltName | grep -q "DNS:shop.e2e.example" \
  || fail "SAN shop.e2e.example missing"
echo "ok: Secret shop-tls holds a certificate for shop.e2e.example that verifies against Pebble's root"

# The shim writes only when the Ingress asks for something new: issuance (status, Secret) and
# the ingress controller's status writes must not make it update the Certificate.
updates=$(kubectl get events -n default -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}' | grep -c '^CertificateUpdated$')
[ "$updates" = 0 ] || fail "the shim updated the Certificate $updates times with no change to the Ingress"
[ "$(kubectl get certificate shop-tls -o jsonpath='{.metadata.generation}')" = 1 ] \
  || fail "Certificate generation moved: $(kubectl get certificate shop-tls -o jsonpath='{.metadata.generation}')"
echo "ok: no Certificate update without an Ingress change (generation 1)"

kubectl annotate ingress shop certsmith.io/renew-before=720h >/dev/null || fail "annotating renew-before"
# Written as a Go duration, 720h0m0s.
renew_before_is() { case $(kubectl get certificate shop-tls -o jsonpath='{.spec.renewBefore}') in 720h|720h0m0s) ;; *) false ;; esac; }
wait_for 30 renew_before_is || fail "renew-before did not reach Certificate shop-tls: '$(kubectl get certificate shop-tls -o jsonpath='{.spec.renewBefore}')'"
[ "$(kubectl get certificate shop-tls -o jsonpath='{.metadata.generation}')" = 2 ] \
  || fail "Certificate generation after one Ingress change: $(kubectl get certificate shop-tls -o jsonpath='{.metadata.generation}')"
echo "ok: certsmith.io/renew-before on the Ingress updated its Certificate (spec.renewBefore 720h, generation 2)"

kubectl annotate ingress shop certsmith.io/cluster-issuer- >/dev/null || fail "removing the annotation"
gone() { ! kubectl get certificate "$1" >/dev/null 2>&1; }
wait_for 30 gone shop-tls || fail "Certificate shop-tls still there after the annotation was removed"
wait_for 30 gone taken-tls || fail "Certificate taken-tls still there after the annotation was removed"
kubectl get secret shop-tls >/dev/null 2>&1 || fail "Secret shop-tls was deleted with the Certificate"
kubectl get ingress shop >/dev/null 2>&1 || fail "the Ingress itself is gone"
echo "ok: annotation removed -> Certificate deleted, Secret shop-tls kept"
echo PASS
