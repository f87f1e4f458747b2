#!/bin/bash
# End to end: the controller is killed (SIGKILL) while an Order is in flight and started again;
# the Certificate still becomes Ready with a key that matches, and the restarted controller
# finishes the same Order instead of placing a new one (Order names are deterministic per
# revision, key and attempt, so a restart finds its Order).
. "$(dirname "$0")/lib.sh"
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

LABEL=certsmith.io/certificate-name=web
orders() { kubectl get orders -n default -l "$LABEL" -o name; }
# An Order the CA already knows (status.url set): killing now leaves an ACME order half done.
placed() { kubectl get orders -n default -l "$LABEL" -o jsonpath='{.items[*].status.url}'; }
certificate web www.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
deadline=$((SECONDS + 60))
until [ -n "$(placed 2>/dev/null)" ]; do
  [ $SECONDS -ge $deadline ] && fail "no Order was placed with the CA"
  sleep 0.1
done
kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
ready certificate web default True && fail "Certificate was already Ready when the controller was killed; the scenario did not run"
echo "ok: controller killed with $(orders | tr '\n' ' ')in flight (state $(kubectl get orders -n default -l "$LABEL" -o jsonpath='{.items[0].status.state}'))"

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
echo "ok: Ready after restart, key matches, one Order ($(orders))"
echo PASS
