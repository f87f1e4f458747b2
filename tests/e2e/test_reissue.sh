#!/bin/bash
# End to end: changing a Ready Certificate's dnsNames re-issues it; the new Secret carries both
# names, status.revision grows, and the chain verifies against Pebble's root.
. "$(dirname "$0")/lib.sh"
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

certificate web a.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate web default True || fail "Certificate web not Ready"
rev1=$(kubectl get certificate web -o jsonpath='{.status.revision}')
[ -n "$rev1" ] || fail "no status.revision on a Ready Certificate"
echo "ok: Certificate Ready at revision $rev1"

kubectl patch certificate web --type=merge -p '{"spec":{"dnsNames":["a.e2e.example","b.e2e.example"]}}' \
  >/dev/null || fail "patching dnsNames"
has_both_names() {
  local san
  san=$(kubectl get secret web-tls -o jsonpath='{.data.tls\.crt}' | base64 -d |
    openssl x509 -noout -ext subjectAltName) || return 1
  grep -q "DNS:a.e2e.example" <<<"$san" && grep -q "DNS:b.e2e.example" <<<"$san"
}
revision_grew() { [ "$(kubectl get certificate web -o jsonpath='{.status.revision}')" -gt "$rev1" ]; }
wait_for 120 has_both_names || fail "Secret never got a certificate for both names"
wait_for 60 revision_grew || fail "status.revision did not increase after re-issuance"
wait_for 60 ready certificate web default True || fail "Certificate not Ready after re-issuance"
echo "ok: re-issued for both names at revision $(kubectl get certificate web -o jsonpath='{.status.revision}')"

secret_files web-tls
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/web-tls.crt" "$WORK/web-tls.crt" >/dev/null \
  || fail "openssl verify of the re-issued tls.crt against Pebble's root"
key_matches "$WORK/web-tls.crt" "$WORK/web-tls.key" || fail "tls.key does not match tls.crt"
echo PASS
