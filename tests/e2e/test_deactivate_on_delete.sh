#!/bin/bash
# End to end: an Order that will not be finished has its pending authorization deactivated at the
# CA (RFC 8555 §7.5.2), as Pebble itself reports it, because CAs limit pending authorizations
# per account (issue #12):
# (a) a Certificate deleted while its challenge is in flight;
# (b) an Order replaced: the Certificate's dnsNames changed while its challenge is in flight.
# Deletion itself never waits for the CA (the Certificate and its Order are gone at once).
. "$(dirname "$0")/lib.sh"
testbed_up
# Challenges held in flight: the solver's route is on an Ingress class nothing serves, so the
# self check gets a 404 and the CA is never asked to validate; the authorization stays pending.
issuer held pebble-eab | sed "s/ingressClassName: $INGRESS_CLASS/ingressClassName: unserved/" |
  kubectl apply -f - >/dev/null || fail "ClusterIssuer held"
start_controller
wait_for 60 ready clusterissuer held "" True || fail "ClusterIssuer held not Ready"
kubectl -n certsmith get secret held-account -o jsonpath='{.data.tls\.key}' | base64 -d \
  >"$WORK/account.key" || fail "account key"
ACCOUNT=$(kubectl get clusterissuer held -o jsonpath='{.status.acme.uri}')
[ -n "$ACCOUNT" ] || fail "no account URI on the ClusterIssuer"

# authz_status URL: the authorization's status at Pebble.
authz_status() {
  python3 "$(dirname "$0")/acme_get.py" "$ACME_SERVER" "$ACME_CA_BUNDLE" "$WORK/account.key" \
    "$ACCOUNT" "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}
# held_authz CERT: the authorization URL of CERT's Order once its challenge is held at the self
# check (so the CA was never asked to validate).
held_authz() {
  local reason
  reason=$(kubectl get challenges -n default -l "certsmith.io/certificate-name=$1" \
    -o jsonpath='{.items[0].status.reason}' 2>/dev/null)
  [[ "$reason" == *"self check"* ]] || return 1
  AUTHZ=$(kubectl get orders -n default -l "certsmith.io/certificate-name=$1" \
    -o jsonpath='{.items[0].status.authorizations[0].url}')
  [ -n "$AUTHZ" ]
}
is_status() { [ "$(authz_status "$1")" = "$2" ]; }

# (a) ---------------------------------------------------------------------------------------
certificate gone gone.e2e.example held | kubectl apply -f - >/dev/null || fail "Certificate gone"
wait_for 60 held_authz gone || fail "gone: no challenge held at the self check"
[ "$(authz_status "$AUTHZ")" = pending ] || fail "gone: authorization $AUTHZ is not pending"
t0=$SECONDS
kubectl delete certificate gone --wait=true --timeout=30s >/dev/null || fail "deleting gone"
[ $((SECONDS - t0)) -le 10 ] || fail "deleting the Certificate took $((SECONDS - t0)) s"
wait_for 30 is_status "$AUTHZ" deactivated ||
  fail "gone: authorization $AUTHZ is $(authz_status "$AUTHZ") at Pebble, not deactivated"
echo "ok: a Certificate deleted mid-order leaves its authorization deactivated at Pebble"

# (b) ---------------------------------------------------------------------------------------
certificate moved moved.e2e.example held | kubectl apply -f - >/dev/null || fail "Certificate moved"
wait_for 60 held_authz moved || fail "moved: no challenge held at the self check"
OLD_AUTHZ=$AUTHZ
OLD_ORDER=$(kubectl get orders -n default -l certsmith.io/certificate-name=moved -o name)
certificate moved moved2.e2e.example held | kubectl apply -f - >/dev/null || fail "changing moved"
new_order() {
  local orders
  orders=$(kubectl get orders -n default -l certsmith.io/certificate-name=moved -o name)
  [ -n "$orders" ] && [ "$orders" != "$OLD_ORDER" ] && ! grep -q "$OLD_ORDER" <<<"$orders"
}
wait_for 30 new_order || fail "moved: the old Order was not replaced"
wait_for 30 is_status "$OLD_AUTHZ" deactivated ||
  fail "moved: the replaced Order's authorization is $(authz_status "$OLD_AUTHZ"), not deactivated"
[ -n "$(kubectl get events -n default --field-selector reason=OrderSuperseded -o name)" ] ||
  fail "moved: no OrderSuperseded event"
echo "ok: an Order replaced mid-order leaves its authorization deactivated at Pebble"
grep -q "pending authorizations deactivated" "$WORK/controller.log" || fail "nothing logged"
