#!/bin/bash
# End to end: a name the CA refuses (Pebble's domainBlocklist, via the testbed's --block-domain).
# The Order ends `invalid` with the CA's problem type and detail in status and in a Warning
# event; the Certificate's Ready=False and Issuing=False conditions carry the CA's words; it backs
# off instead of ordering again (no status write, Order or Event over 20 s); no TLS Secret is
# made and the next private key stays stored for the retry.
. "$(dirname "$0")/lib.sh"
testbed_up --block-domain blocked.example
pebble_issuer_ready

NAME=www.blocked.example
CA_WORDS="urn:ietf:params:acme:error:rejectedIdentifier: Order included an identifier for which issuance is forbidden by policy: \"$NAME\""
certificate refused "$NAME" pebble | kubectl apply -f - >/dev/null || fail "Certificate"

# 1. The Order: state invalid, the CA's words in status.reason and in a Warning event.
orders() { kubectl get orders -n default -l certsmith.io/certificate-name=refused -o name; }
order_state() { kubectl get orders -n default -l certsmith.io/certificate-name=refused \
  -o jsonpath='{.items[*].status.state}'; }
order_failed() { [ "$(order_state)" = invalid ]; }
wait_for 90 order_failed || fail "the Order did not end invalid (state: $(order_state))"
ORDER=$(orders)
[ "$(wc -l <<<"$ORDER")" -eq 1 ] || fail "expected one Order, got: $ORDER"
reason=$(kubectl get "$ORDER" -o jsonpath='{.status.reason}')
[ "$reason" = "$CA_WORDS" ] || fail "Order status.reason is '$reason', expected the CA's words '$CA_WORDS'"
kubectl get "$ORDER" -o jsonpath='{.status.failureTime}' | grep -q . || fail "no status.failureTime"
kubectl describe "$ORDER" >"$WORK/order.txt" || fail "kubectl describe order"
grep -Eq '^  State: +invalid$' "$WORK/order.txt" || fail "describe Order: no 'State: invalid'"
grep -Fq "Warning  Failed" "$WORK/order.txt" && grep -Fq "$CA_WORDS" <(sed -n '/^Events:/,$p' "$WORK/order.txt") \
  || { cat "$WORK/order.txt"; fail "describe Order: no Warning Failed event with the CA's words"; }
echo "ok: ${ORDER#*/} invalid: $reason"

# 2. The Certificate: Ready=False and Issuing=False say why, in the CA's words.
cond() {  # TYPE FIELD
  kubectl get certificate refused -o jsonpath="{.status.conditions[?(@.type==\"$1\")].$2}"
}
ready_says_why() { [ "$(cond Ready status)" = False ] && grep -Fq "$CA_WORDS" <<<"$(cond Ready message)"; }
wait_for 30 ready_says_why \
  || fail "Ready is $(cond Ready status) '$(cond Ready message)', without the CA's words"
[ "$(cond Ready reason)" = DoesNotExist ] || fail "Ready reason $(cond Ready reason), expected DoesNotExist"
[ "$(cond Issuing status)/$(cond Issuing reason)" = False/Failed ] \
  || fail "Issuing is $(cond Issuing status)/$(cond Issuing reason), expected False/Failed"
grep -Fq "$CA_WORDS" <<<"$(cond Issuing message)" || fail "Issuing message lacks the CA's words"
[ "$(kubectl get certificate refused -o jsonpath='{.status.failedIssuanceAttempts}')" = 1 ] \
  || fail "failedIssuanceAttempts is not 1"
kubectl get certificate refused -o wide | grep -Fq "rejectedIdentifier" \
  || fail "kubectl get -o wide does not show the CA's words in the Message column"
kubectl describe certificate refused >"$WORK/cert.txt" || fail "kubectl describe certificate"
sed -n '/^Events:/,$p' "$WORK/cert.txt" >"$WORK/cert-events.txt"
for step in "Normal +KeyGenerated" "Normal +OrderCreated +.*Created Order ${ORDER#*/}" \
  "Warning +Failed +.*Order ${ORDER#*/} invalid: urn:ietf:params:acme:error:rejectedIdentifier"; do
  grep -Eq "$step" "$WORK/cert-events.txt" || { cat "$WORK/cert.txt"; fail "describe Certificate: no event /$step/"; }
done
echo "ok: Certificate Ready=False: $(cond Ready message)"

# 3. Backoff, not a hot loop: over 20 s no new Order, no status write, no new or repeated Event.
snapshot() {
  kubectl get certificate refused -o jsonpath='{.metadata.resourceVersion}{"\n"}'
  kubectl get "$ORDER" -o jsonpath='{.metadata.resourceVersion}{"\n"}'
  orders
  kubectl get events -n default -o jsonpath='{range .items[*]}{.metadata.name} {.count}{"\n"}{end}' | sort
}
snapshot >"$WORK/before.txt"
sleep 20
snapshot >"$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" >&2 || fail "something changed during the backoff (above)"
[ "$(grep -c 'msg="issuance failed"' "$WORK/controller.log")" -eq 1 ] \
  || fail "the controller logged the failure more than once"
echo "ok: backing off: 1 Order, $(grep -c . "$WORK/after.txt") lines of state unchanged over 20 s"

# 4. No certificate Secret; the next private key is kept for the retry.
kubectl get secret refused-tls >/dev/null 2>&1 && fail "a Secret refused-tls exists"
NEXT=$(kubectl get certificate refused -o jsonpath='{.status.nextPrivateKeySecretName}')
[ -n "$NEXT" ] || fail "no status.nextPrivateKeySecretName"
kubectl get secret "$NEXT" -o jsonpath='{.data.tls\.key}' | base64 -d >"$WORK/next.key"
openssl pkey -in "$WORK/next.key" -noout 2>/dev/null || fail "Secret $NEXT holds no private key"
[ "$(kubectl get secret -n default -o name | grep -c .)" -eq 1 ] \
  || fail "expected only $NEXT, got: $(kubectl get secret -n default -o name)"
echo "ok: no TLS Secret; next key kept in $NEXT"
echo PASS
