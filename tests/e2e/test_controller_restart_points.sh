#!/bin/bash
# End to end: the controller is killed (SIGKILL) at several points of one issuance, one
# Certificate per point, and started again each time; every Certificate still becomes Ready
# with a key that matches, from exactly one Order whose Challenge ended valid, with exactly one
# newOrder and one finalize reaching the CA (a restart resumes the Order in flight and never
# places a second one). Each point is reached deterministically: the Issuer talks to Pebble
# through tests/support/ca_gate.py, which holds the controller at one CA request; the test waits
# until the request is held, checks what the cluster shows, kills the controller there, and
# drops the held request. A point that is not reached fails the test. The points, in the order
# an issuance passes them (gate rule on "METHOD /path", Pebble's paths):
#   order-created  hold newOrder: the Order object exists, status.url empty; the CA never saw
#                  the order (the kill after status.url is e2e_controller_restart)
#   pod-only       hold the challenge answer: the solver Pod, Service and Ingress exist, the CA
#                  is not asked yet. The Service and Ingress are then deleted: what a kill
#                  between creating the Pod and the rest leaves. The restart must not ask the CA
#                  before the ingress can have picked up the new route (else the CA gets a 404)
#   accepted       let the challenge answer through, hold every later request: the CA was asked
#                  to validate and the Challenge says status.processing
#   unrecorded     the challenge answer reaches the CA, its reply is held: the CA accepted, the
#                  Challenge status was never written. The CA refuses a second answer; the
#                  Challenge must still end valid, not invalid
#   order-ready    hold finalize: the authorizations are valid, the Order ready at the CA
#   finalized      finalize reaches the CA, its reply is held: the CA issued, the Order never
#                  recorded it; the restart downloads instead of finalizing again
. "$(dirname "$0")/lib.sh"
testbed_up
ca_gate_up
ACME_SERVER=$GATE_URL CA_B64=$GATE_CA_B64 issuer gated pebble-eab | kubectl apply -f - >/dev/null \
  || fail "ClusterIssuer gated"
start_controller
wait_for 60 ready clusterissuer gated "" True || fail "ClusterIssuer gated not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"

jp() { kubectl get "$1" -n default -l "certsmith.io/certificate-name=$2" -o jsonpath="$3" 2>/dev/null; }
challenge_valid() { [ "$(jp challenges "$1" '{.items[*].status.state}')" = valid ]; }
processing() { [ "$(jp challenges "$1" '{.items[*].status.processing}')" = true ]; }

# point -> "MODE REGEX" for the gate
declare -A RULE=(
  [order-created]="hold ^POST /order-plz"
  [pod-only]="hold ^POST /chalZ/"
  [accepted]="hold-after ^POST /chalZ/"
  [unrecorded]="hold-response ^POST /chalZ/"
  [order-ready]="hold ^POST /finalize-order/"
  [finalized]="hold-response ^POST /finalize-order/"
)
# at POINT CERT: what the cluster must show while the controller is held at POINT.
at() {
  case $1 in
    order-created)
      [ -n "$(jp orders "$2" '{.items[*].metadata.name}')" ] || fail "$2: no Order at $1"
      [ -z "$(jp orders "$2" '{.items[*].status.url}')" ] || fail "$2: the Order has a URL at $1" ;;
    pod-only)
      local ch; ch=$(jp challenges "$2" '{.items[0].metadata.name}')
      [ -n "$ch" ] || fail "$2: no Challenge at $1"
      POD=$(kubectl get pods -n default \
        -o jsonpath="{.items[?(@.metadata.ownerReferences[0].name==\"$ch\")].metadata.name}")
      [ -n "$POD" ] || fail "$2: no solver Pod of Challenge $ch at $1"
      processing "$2" && fail "$2: the Challenge says processing at $1" ;;
    accepted)
      wait_for 20 processing "$2" || fail "$2: the Challenge never recorded processing at $1" ;;
    unrecorded)
      processing "$2" && fail "$2: the Challenge recorded processing at $1" ;;
    order-ready | finalized)  # the CA said ready (the controller finalizes only then); the
      # Challenge may not have recorded valid yet: its reconciler polls on its own clock
      [ -n "$(jp orders "$2" '{.items[*].status.url}')" ] || fail "$2: the Order has no URL at $1"
      [ "$(jp orders "$2" '{.items[*].status.state}')" != valid ] || fail "$2: the Order is valid at $1" ;;
  esac
  return 0
}

n=0
for point in order-created pod-only accepted unrecorded order-ready finalized; do
  n=$((n + 1))
  cert=restart$n
  read -r mode match <<<"${RULE[$point]}"
  orders_before=$(gate count '^POST /order-plz')
  finalize_before=$(gate count '^POST /finalize-order/')
  gate "$mode" "$match" || fail "setting the gate rule for $point"
  certificate $cert $cert.e2e.example gated | kubectl apply -f - >/dev/null || fail "Certificate $cert"
  # hold-after holds the requests after the match; the others hold the match itself.
  held=$match; [ "$mode" = hold-after ] && held=.
  gate wait "$held" 60 || fail "$cert: never reached $point (no request held for '$match'; gate log: $(gate log | tail -n 5 | tr '\n' ';'))"
  at $point $cert
  kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
  ready certificate $cert default True && fail "$cert was Ready when killed at $point: the scenario did not run"
  echo "--- killed at $point while the gate held: $(gate held | tr '\n' ' ')" | tee -a "$WORK/controller.log"
  gate release || fail "releasing the gate"
  if [ $point = pod-only ]; then
    kubectl delete -n default service/$POD ingress/$POD --ignore-not-found >/dev/null \
      || fail "$cert: deleting the solver Service and Ingress"
  fi
  start_controller
  wait_for 60 ready certificate $cert default True || fail "$cert not Ready after a restart at $point"
  secret_files $cert-tls
  key_matches "$WORK/$cert-tls.crt" "$WORK/$cert-tls.key" || fail "$cert: tls.key does not match tls.crt"
  openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/$cert-tls.crt" "$WORK/$cert-tls.crt" \
    >/dev/null || fail "$cert: openssl verify against Pebble's root"
  orders=$(jp orders $cert '{.items[*].metadata.name}')
  [ "$(wc -w <<<"$orders")" -eq 1 ] || fail "$cert: a restart at $point left Orders: $orders"
  wait_for 20 challenge_valid $cert \
    || fail "$cert: after a restart at $point the Challenge is $(jp challenges $cert '{.items[*].status.state}: {.items[*].status.reason}')"
  placed=$(($(gate count '^POST /order-plz') - orders_before))
  finalized=$(($(gate count '^POST /finalize-order/') - finalize_before))
  [ $placed -eq 1 ] && [ $finalized -eq 1 ] \
    || fail "$cert: after a restart at $point the CA saw $placed newOrder and $finalized finalize requests, expected 1 each"
  echo "ok: killed at $point, $cert Ready from one Order ($orders), one newOrder and one finalize at the CA (${SECONDS}s)"
done
echo PASS
