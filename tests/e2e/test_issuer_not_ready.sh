#!/bin/bash
# End to end: a Certificate whose Issuer is not Ready (its EAB Secret is missing) creates no Order;
# its Ready condition names the Issuer and the Issuer's reason (a Warning event too). Once the
# Issuer becomes Ready the Certificate is woken at once (not at a later poll) and issued
# (issue #12).
. "$(dirname "$0")/lib.sh"
testbed_up
issuer late missing-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer late"
start_controller
certificate waits waits.e2e.example late | kubectl apply -f - >/dev/null || fail "Certificate"
issuer_reason() { kubectl get clusterissuer late -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'; }
wait_for 30 ready clusterissuer late "" False || fail "ClusterIssuer late never Ready=False"
reason=$(issuer_reason)
[ "$reason" = EABSecretMissing ] || fail "ClusterIssuer reason '$reason', want EABSecretMissing"
cert_reason() { kubectl get certificate waits -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'; }
says() { [ "$(cert_reason)" = IssuerNotReady ]; }
wait_for 20 says || fail "Certificate Ready reason is '$(cert_reason)', want IssuerNotReady"
msg=$(kubectl get certificate waits -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
[[ "$msg" == 'ClusterIssuer "late" is not Ready (EABSecretMissing): '*"missing-eab"* ]] ||
  fail "the Certificate's Ready message does not name the Issuer and its reason: $msg"
kubectl get events -n default --field-selector involvedObject.name=waits,reason=IssuerNotReady \
  -o jsonpath='{.items[*].type}' | grep -q Warning || fail "no IssuerNotReady Warning event"
sleep 5  # the Issuer is retried meanwhile; still no Order may appear
[ -z "$(kubectl get orders -n default -o name)" ] || fail "an Order was made for a not-Ready Issuer"
[ -z "$(kubectl get secrets -n default -o name | grep next-key)" ] || fail "a key was made"
echo "ok: no Order; Ready=False IssuerNotReady: $msg"

kubectl -n certsmith create secret generic missing-eab --from-literal=secret="$EAB_HMAC_KEY" \
  >/dev/null || fail "EAB secret"
wait_for 120 ready clusterissuer late "" True || fail "ClusterIssuer late not Ready with its Secret"
t_ready=$SECONDS
has_order() { [ -n "$(kubectl get orders -n default -o name)" ]; }
wait_for 30 has_order || fail "no Order after the Issuer became Ready"
woke=$((SECONDS - t_ready))
# The Certificate's own fallback requeue is 5 minutes away: an Order this soon means the
# Issuer's status change woke it.
[ $woke -le 10 ] || fail "the Order came $woke s after the Issuer was Ready: not woken by it"
wait_for 90 ready certificate waits default True || fail "Certificate not Ready"
echo "ok: Order $woke s after the Issuer became Ready; the Certificate is Ready"
