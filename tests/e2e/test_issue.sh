#!/bin/bash
# End to end: an EAB ClusterIssuer and a Certificate become a valid TLS Secret that verifies
# against Pebble's root; so do a namespaced EAB Issuer (its Secrets in its own namespace) and a
# Certificate that names it; a wrong HMAC key gives a clear Issuer condition. Everything is torn
# down on every path.
. "$(dirname "$0")/lib.sh"
testbed_up
wrong_hmac=$(printf 'not-the-right-key-at-all-0123456' | base64 -w0 | tr '+/' '-_' | tr -d '=')
kubectl -n certsmith create secret generic wrong-eab --from-literal=secret="$wrong_hmac" >/dev/null
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
issuer wrong wrong-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer wrong"

start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"
echo "ok: EAB ClusterIssuer Ready ($(kubectl get clusterissuer pebble -o jsonpath='{.status.acme.uri}'))"

# 1. Happy path.
certificate web www.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate web default True || fail "Certificate web not Ready"
kubectl get secret web-tls -o jsonpath='{.data.tls\.crt}' | base64 -d >"$WORK/chain.pem"
kubectl get secret web-tls -o jsonpath='{.data.tls\.key}' | base64 -d >"$WORK/key.pem"
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/chain.pem" "$WORK/chain.pem" >/dev/null \
  || fail "openssl verify of tls.crt against Pebble's root"
key_matches "$WORK/chain.pem" "$WORK/key.pem" || fail "tls.key does not match tls.crt"
openssl x509 -in "$WORK/chain.pem" -noout -ext subjectAltName | grep -q "www.e2e.example" || fail "SAN"
kubectl get pods,services,ingresses -n default -l acme.certsmith.io/http01-solver=true -o name | grep -q . \
  && fail "solver resources left behind"
echo "ok: Certificate issued, verified against Pebble's root, solver cleaned up"

# 1b. A namespaced Issuer: its EAB key and account key Secrets live in its own namespace.
kubectl create secret generic local-eab --from-literal=secret="$EAB_HMAC_KEY" >/dev/null || fail "Issuer EAB secret"
issuer local local-eab | sed 's/^kind: ClusterIssuer/kind: Issuer/; s/^metadata: {name: local}/metadata: {name: local, namespace: default}/' \
  | kubectl apply -f - >/dev/null || fail "Issuer local"
wait_for 60 ready issuer local default True || fail "Issuer local not Ready"
kubectl get secret local-account >/dev/null || fail "no account key Secret default/local-account"
certificate shop shop.e2e.example local | sed 's/kind: ClusterIssuer/kind: Issuer/' | kubectl apply -f - >/dev/null \
  || fail "Certificate shop"
wait_for 120 ready certificate shop default True || fail "Certificate shop (Issuer local) not Ready"
secret_files shop-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/shop-tls.crt" "$WORK/shop-tls.crt" >/dev/null \
  || fail "shop-tls does not verify against Pebble's root"
key_matches "$WORK/shop-tls.crt" "$WORK/shop-tls.key" || fail "shop-tls: tls.key does not match"
echo "ok: namespaced Issuer Ready, its Certificate issued and verified"

# 2. Wrong HMAC key: a clear condition on the Issuer.
wait_for 60 ready clusterissuer wrong "" False || fail "wrong-HMAC ClusterIssuer not Ready=False"
msg=$(kubectl get clusterissuer wrong -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
[ -n "$msg" ] || fail "no message on the wrong-HMAC ClusterIssuer"
reason=$(kubectl get clusterissuer wrong -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')
[ "$reason" = ErrRegisterACMEAccount ] || fail "wrong-HMAC ClusterIssuer reason $reason: $msg"
grep -q 'urn:ietf:params:acme:error:' <<<"$msg" || fail "the CA's problem is not in the message: $msg"
# The key itself never shows: not in status, not in events, not in the controller log.
for where in "$(kubectl get clusterissuer wrong -o json)" "$(kubectl get events -A -o json)" \
  "$(cat "$WORK/controller.log")"; do
  grep -qF -e "$wrong_hmac" -e "not-the-right-key" <<<"$where" && fail "the HMAC key leaked"
done
echo "ok: wrong HMAC key -> Ready=False: $msg"

# A name the CA refuses: test_refused_name.sh (the testbed's --block-domain).
echo PASS
