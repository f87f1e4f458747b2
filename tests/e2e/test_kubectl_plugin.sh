#!/bin/bash
# End to end: `kubectl certsmith` (the certsmith binary on PATH as kubectl-certsmith, argv[0]
# dispatch; kubectl finds and runs it): check api sees the CRDs and the leader-elected controller;
# status shows a live Certificate on one screen (the serial is the Secret's); inspect secret reads
# its chain; renew gives a new serial with exactly one new Order, also when asked three times
# before the controller acts; renew --all renews each Certificate once; usage errors exit 2.
# The commands run kubectl-certsmith from PATH, as kubectl execs it: this machine's kubectl (a
# version dispatcher) once failed to find a plugin under load, which is not what is tested here.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/bin" && ln -s "$BIN" "$WORK/bin/kubectl-certsmith"
export PATH="$WORK/bin:$PATH"
kubectl plugin list 2>/dev/null | grep -q "$WORK/bin/kubectl-certsmith" || fail "kubectl does not see the plugin"
kubectl certsmith --help | grep -q "^usage: kubectl certsmith <command>" || fail "kubectl certsmith --help"

testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller --leader-elect --leader-election-namespace certsmith
kubectl-certsmith check api --wait 60s >"$WORK/check.txt" || { cat "$WORK/check.txt"; fail "check api"; }
grep -q "^ok    controller .*holds the leader Lease certsmith/certsmith-controller" "$WORK/check.txt" \
  || fail "check api: $(cat "$WORK/check.txt")"
[ "$(grep -c '^ok    .*\.certsmith\.io  *served' "$WORK/check.txt")" = 5 ] || fail "check api: $(cat "$WORK/check.txt")"
kubectl-certsmith check api -o json | python3 -c 'import json,sys; assert json.load(sys.stdin)["ok"]' \
  || fail "check api -o json"
echo "ok: check api: 5 kinds served, controller answering"
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

certificate www www.plugin.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate www default True || fail "Certificate www not Ready"
secret_files www-tls
serial1=$(openssl x509 -in "$WORK/www-tls.crt" -noout -serial | cut -d= -f2)
kubectl-certsmith status certificate www >"$WORK/status.txt" || fail "status"
for want in "Certificate default/www" "  Ready:      True  Ready: " "  Names:      www.plugin.example" \
  "  Issuer:     ClusterIssuer pebble (Ready True, ACMEAccountRegistered)" "  Revision:   1 " \
  "  SANs:       DNS:www.plugin.example" "  Serial:     $serial1" "matches the certificate" \
  "(revision 1): valid" "  Challenges: http-01 www.plugin.example  valid" "  CA said:    -" "Issued"; do
  grep -qF -- "$want" "$WORK/status.txt" || fail "status lacks \"$want\":"$'\n'"$(cat "$WORK/status.txt")"
done
kubectl-certsmith status cert/www -o json >"$WORK/status.json" || fail "status -o json"
python3 - "$WORK/status.json" "$serial1" <<'PY' || fail "status -o json"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["secret"]["contents"]["certificates"][0]["serialNumber"] == sys.argv[2]
assert s["order"]["status"]["state"] == "valid" and "data" not in s["secret"]
PY
kubectl-certsmith inspect secret www-tls >"$WORK/inspect.txt" || fail "inspect: $(cat "$WORK/inspect.txt")"
grep -q "Private key: ECDSA P-256, matches the leaf certificate" "$WORK/inspect.txt" || fail "inspect"
cat "$WORK"/status.* "$WORK/inspect.txt" | grep -q "PRIVATE KEY" && fail "a private key was printed"
echo "ok: status and inspect show serial $serial1 and the valid Order"

# renew: one new certificate, one new Order.
orders() { kubectl get orders -l certsmith.io/certificate-name="$1" -o name | wc -l; }
[ "$(orders www)" = 1 ] || fail "expected 1 Order before renew"
kubectl-certsmith renew www >"$WORK/renew.txt" || fail "renew"
grep -q "Renewal requested: default/www (newer than revision 1)" "$WORK/renew.txt" || fail "renew said: $(cat "$WORK/renew.txt")"
wait_for 60 revision_is www 2 || fail "no revision 2 after renew"
wait_for 30 ready certificate www default True || fail "www not Ready after renew"
sleep 3  # time for a wrongly repeated issuance to show
[ "$(orders www)" = 2 ] && revision_is www 2 || fail "renew: $(orders www) Orders, revision $(kubectl get certificate www -o jsonpath='{.status.revision}')"
secret_files www-tls
serial2=$(openssl x509 -in "$WORK/www-tls.crt" -noout -serial | cut -d= -f2)
[ "$serial2" != "$serial1" ] || fail "renew kept the serial"
key_matches "$WORK/www-tls.crt" "$WORK/www-tls.key" || fail "tls.key does not match after renew"
kubectl-certsmith status certificate www | grep -q "requested after revision 1 (done)" || fail "status after renew"
echo "ok: renew -> one new Order, serial $serial1 -> $serial2"

# Asked three times while the controller is down (so before it acts): still one issuance.
kill "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null
for _ in 1 2 3; do kubectl-certsmith renew www >/dev/null || fail "renew"; done
start_controller --leader-elect --leader-election-namespace certsmith
wait_for 90 revision_is www 3 || fail "no revision 3 after the repeated renew"
sleep 3
[ "$(orders www)" = 3 ] && revision_is www 3 || fail "repeated renew: $(orders www) Orders, revision $(kubectl get certificate www -o jsonpath='{.status.revision}')"
echo "ok: renew asked 3 times before the controller acted -> exactly one new Order"

# renew --all: each Certificate once.
certificate blog blog.plugin.example pebble | kubectl apply -f - >/dev/null || fail "Certificate blog"
wait_for 120 ready certificate blog default True || fail "Certificate blog not Ready"
kubectl-certsmith renew --all >"$WORK/all.txt" || fail "renew --all"
[ "$(grep -c 'Renewal requested' "$WORK/all.txt")" = 2 ] || fail "renew --all: $(cat "$WORK/all.txt")"
wait_for 60 revision_is www 4 || fail "www not renewed by --all"
wait_for 60 revision_is blog 2 || fail "blog not renewed by --all"
sleep 3
[ "$(orders www)" = 4 ] && [ "$(orders blog)" = 2 ] || fail "renew --all: orders www $(orders www), blog $(orders blog)"
echo "ok: renew --all renewed each Certificate once"

kubectl-certsmith renew >/dev/null 2>&1; [ $? = 2 ] || fail "renew without a name should exit 2"
kubectl-certsmith status certificate nope >/dev/null 2>"$WORK/err.txt"; [ $? = 1 ] || fail "status of a missing Certificate"
grep -q "certificate default/nope not found" "$WORK/err.txt" || fail "$(cat "$WORK/err.txt")"
echo PASS
