#!/bin/bash
# End to end: 30 Certificates applied at once all become Ready, each Secret's key matching its
# certificate (the work queue, the shared ACME account and the HTTP-01 solvers under load).
. "$(dirname "$0")/lib.sh"
N=30
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

for i in $(seq 1 $N); do certificate "c$i" "c$i.e2e.example" pebble; echo ---; done >"$WORK/certs.yaml"
kubectl apply -f "$WORK/certs.yaml" >/dev/null || fail "applying $N Certificates"
start=$SECONDS
all_ready() {
  [ "$(kubectl get certificates -n default -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" -eq $N ]
}
wait_for 150 all_ready || fail "not all $N Certificates Ready: $(kubectl get certificates -n default --no-headers | grep -vc True) not Ready"
echo "ok: $N Certificates Ready in $((SECONDS - start))s"
for i in $(seq 1 $N); do
  secret_files "c$i-tls"
  key_matches "$WORK/c$i-tls.crt" "$WORK/c$i-tls.key" || fail "c$i-tls: tls.key does not match tls.crt"
  openssl x509 -in "$WORK/c$i-tls.crt" -noout -ext subjectAltName | grep -q "DNS:c$i.e2e.example" \
    || fail "c$i-tls: SAN is not c$i.e2e.example"
done
echo "ok: every Secret holds a matching key and its own name"
echo PASS
