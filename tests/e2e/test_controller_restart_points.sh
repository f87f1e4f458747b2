#!/bin/bash
# End to end: the controller is killed (SIGKILL) at several points of one issuance, one
# Certificate per point, and started again each time; every Certificate still becomes Ready
# with a key that matches, from exactly one Order whose Challenge ended valid (a restart resumes
# the Order in flight and never places a second one). The points, in the order an issuance
# passes them (the kill lands at or a little after each: the test polls with kubectl):
#   order-created    the Order object exists (placed with the CA or not; the kill after
#                    status.url is e2e_controller_restart)
#   pod-only         a Challenge and its http-01 solver Pod exist; then the solver's Service and
#                    Ingress are deleted and the Pod left to become Ready: what a kill between
#                    creating the Pod and the rest leaves. The restart must not ask the CA before
#                    the ingress can have picked up the new route. Held there deterministically
#                    (an issuance takes about a second, faster than kubectl polls): its Issuer
#                    keeps the controller's self check on, which (this test's controller resolves
#                    with the machine's resolver, not the testbed's DNS) cannot resolve
#                    *.e2e.example; while the controller is down the Challenge is switched to
#                    skip it. The other Issuer skips the self check: this test covers
#                    skipSelfCheck (on the Issuer, and switched on a Challenge).
#   accepted         the CA was asked to validate (Challenge status.processing)
#   unrecorded       as accepted, then the Challenge status is put back to what it was before:
#                    what a kill between the CA's acceptance and that status write leaves. The CA
#                    refuses a second answer; the Challenge must still end valid, not invalid
#   order-ready      the authorizations are valid (Order state ready, processing or valid)
. "$(dirname "$0")/lib.sh"
testbed_up
SELF_CHECK_FLAGS=()
SKIP_SELF_CHECK=true issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
issuer held pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer held"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"
wait_for 60 ready clusterissuer held "" True || fail "ClusterIssuer held not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble root"

jp() { kubectl get "$1" -n default -l "certsmith.io/certificate-name=$2" -o jsonpath="$3" 2>/dev/null; }
reached() {  # POINT CERT: the issuance of CERT has passed POINT.
  case $1 in
    order-created) [ -n "$(jp orders "$2" '{.items[*].metadata.name}')" ] ;;
    pod-only)  # a solver Pod owned by one of CERT's Challenges
      local ch; ch=$(jp challenges "$2" '{.items[*].metadata.name}')
      [ -n "$ch" ] && [[ " $(kubectl get pods -n default -l acme.certsmith.io/http01-solver=true \
        -o jsonpath='{.items[*].metadata.ownerReferences[0].name}' 2>/dev/null) " == *" $ch "* ]] ;;
    accepted | unrecorded) [[ "$(jp challenges "$2" '{.items[*].status.processing}')" == *true* ]] ;;
    order-ready) [[ "$(jp orders "$2" '{.items[*].status.state}')" =~ ready|processing|valid ]] ;;
  esac
}

challenge_valid() { [ "$(jp challenges "$1" '{.items[*].status.state}')" = valid ]; }

n=0
for point in order-created pod-only accepted unrecorded order-ready; do
  n=$((n + 1))
  cert=restart$n
  issuer_of=pebble
  [ $point = pod-only ] && issuer_of=held
  certificate $cert $cert.e2e.example $issuer_of | kubectl apply -f - >/dev/null || fail "Certificate $cert"
  deadline=$((SECONDS + 60))
  until reached $point $cert; do
    [ $SECONDS -ge $deadline ] && fail "$cert: never reached $point"
    ready certificate $cert default True && break
    sleep 0.05
  done
  kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
  ready certificate $cert default True && echo "note: $cert was Ready before the kill at $point"
  if [ $point = pod-only ]; then
    ch=$(jp challenges $cert '{.items[0].metadata.name}')
    pod=$(kubectl get pods -n default \
      -o jsonpath="{.items[?(@.metadata.ownerReferences[0].name==\"$ch\")].metadata.name}")
    [ -n "$pod" ] || fail "$cert: no solver Pod of Challenge $ch"
    kubectl delete -n default service/$pod ingress/$pod --ignore-not-found >/dev/null \
      || fail "$cert: deleting the solver Service and Ingress"
    wait_for 20 kubectl wait -n default --for=condition=Ready pod/$pod --timeout=1s \
      || fail "$cert: solver Pod $pod not Ready"
    kubectl patch -n default challenge "$ch" --type=merge \
      -p '{"spec":{"solver":{"http01":{"skipSelfCheck":true}}}}' >/dev/null \
      || fail "$cert: letting Challenge $ch skip the self check"
  fi
  if [ $point = unrecorded ]; then
    kubectl patch -n default challenge "$(jp challenges $cert '{.items[0].metadata.name}')" --type=merge \
      --subresource=status -p '{"status":{"processing":false,"state":null}}' >/dev/null \
      || fail "$cert: putting the Challenge status back"
  fi
  echo "--- restart after $point ($cert: $(jp orders $cert '{.items[*].metadata.name}'), challenge processing=$(jp challenges $cert '{.items[*].status.processing}'))" \
    | tee -a "$WORK/controller.log"
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
  echo "ok: killed at $point, $cert Ready from one Order ($orders)"
done
echo PASS
