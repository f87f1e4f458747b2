#!/bin/bash
# End to end: the controller is killed (SIGKILL) while an Order is in flight and started again;
# the Certificate still becomes Ready with a key that matches, and the restarted controller
# finishes the same Order instead of placing a new one (Order names are deterministic per
# revision, key and attempt, so a restart finds its Order). The kill lands at the same point
# every run: the Issuer talks to Pebble through tests/support/ca_gate.py, which lets newOrder
# through and holds the controller's next CA request, so the Order is placed (status.url
# recorded, still pending) and nothing more; the test fails if that point is not reached.
. "$(dirname "$0")/lib.sh"
testbed_up
ca_gate_up
ACME_SERVER=$GATE_URL CA_B64=$GATE_CA_B64 issuer pebble pebble-eab | kubectl apply -f - >/dev/null \
  || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

LABEL=certsmith.io/certificate-name=web
orders() { kubectl get orders -n default -l "$LABEL" -o name; }
url() { kubectl get orders -n default -l "$LABEL" -o jsonpath='{.items[*].status.url}'; }
has_url() { [ -n "$(url)" ]; }
# Held deterministically with the Order placed: the gate lets newOrder through, then holds every
# later request, so the controller records status.url and goes no further.
gate hold-after '^POST /order-plz' || fail "gate rule"
certificate web www.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
gate wait . 60 || fail "the point was not reached: no request held after newOrder (gate log: $(gate log | tail -n 5 | tr '\n' ';'))"
wait_for 20 has_url || fail "the Order was placed with the CA but status.url never recorded"
placed=$(url)
kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
ready certificate web default True && fail "Certificate was already Ready when the controller was killed; the scenario did not run"
state=$(kubectl get orders -n default -l "$LABEL" -o jsonpath='{.items[0].status.state}')
[ "$state" = pending ] || fail "the Order was $state, not pending, when the controller was killed"
echo "ok: controller killed with $(orders | tr '\n' ' ')in flight (state $state, $placed), gate held: $(gate held | tr '\n' ' ')"
gate release || fail "releasing the gate"

echo "--- restart" >>"$WORK/controller.log"
start_controller
wait_for 120 ready certificate web default True || fail "Certificate not Ready after the restart"
secret_files web-tls
key_matches "$WORK/web-tls.crt" "$WORK/web-tls.key" || fail "tls.key does not match tls.crt"
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/web-tls.crt" "$WORK/web-tls.crt" >/dev/null \
  || fail "openssl verify of tls.crt against Pebble's root"
n=$(orders | wc -l)
[ "$n" -eq 1 ] || fail "expected the one in-flight Order to be completed, found $n Orders: $(orders | tr '\n' ' ')"
[ "$(url)" = "$placed" ] || fail "the Order's URL changed from $placed to $(url)"
[ "$(gate count '^POST /order-plz')" -eq 1 ] || fail "the CA saw $(gate count '^POST /order-plz') newOrder requests, expected 1"
echo "ok: Ready after restart, key matches, one Order ($(orders)), the same ACME order, one newOrder at the CA"
echo PASS
