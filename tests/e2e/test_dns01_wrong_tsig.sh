#!/bin/bash
# End to end, a wrong TSIG secret: BIND answers NOTAUTH/BADSIG, and that answer shows on the
# Challenge (Ready=False PresentError, a Warning event) and in the Certificate's Ready message;
# the secret appears in no status, event or log; the Challenge stays pending, so once the Secret
# is fixed the same Order goes on and the Certificate ends Ready.
. "$(dirname "$0")/lib.sh"
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
testbed_up --dns bind --bind-zone example
wrong=$(head -c 32 /dev/urandom | base64 -w0)
tsig_secret tsig "$wrong"
issuer_with_solvers dns "$(rfc2136_solver tsig "nameservers: [\"$TESTBED_DNS\"]")" \
  | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer dns "" True || fail "ClusterIssuer dns not Ready"

certificate badsig w.example dns | kubectl apply -f - >/dev/null || fail "Certificate"
says_badsig() { ready_message certificate badsig | grep -q "TSIG error BADSIG"; }
wait_for 60 says_badsig || fail "Certificate Ready message: $(ready_message certificate badsig)"
ch=$(challenges_of badsig)
cond=$(kubectl get "$ch" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')
msg=$(kubectl get "$ch" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
[ "$cond" = PresentError ] || fail "$ch condition $cond: $msg"
grep -q "the server answered NOTAUTH with TSIG error BADSIG" <<<"$msg" || fail "$ch: $msg"
grep -q "$TESTBED_TSIG_KEY_NAME (hmac-sha256)" <<<"$msg" || fail "the key is not named: $msg"
kubectl get events -n default --field-selector "involvedObject.name=${ch#*/},reason=PresentError,type=Warning" \
  -o jsonpath='{.items[*].message}' | grep -q BADSIG || fail "no Warning event with BADSIG on $ch"
[ "$(kubectl get "$ch" -o jsonpath='{.status.state}')" = pending ] || fail "$ch is no longer pending"
echo "ok: Challenge Ready=False $cond; Certificate: $(ready_message certificate badsig)"
for where in "$(kubectl get certificates,orders,challenges -A -o json)" \
  "$(kubectl get events -A -o json)" "$(cat "$WORK/controller.log")"; do
  grep -qF -e "$wrong" -e "$TESTBED_TSIG_SECRET" <<<"$where" && fail "a TSIG secret leaked"
done
echo "ok: no TSIG secret in status, events or the controller log"

# Fixed: the next retry presents, the same Order finishes.
orders_before=$(kubectl get orders -n default -o name | wc -l)
tsig_secret tsig
wait_for 400 ready certificate badsig default True || fail "not Ready after the fix: $(ready_message certificate badsig)"
[ "$(kubectl get orders -n default -o name | wc -l)" = "$orders_before" ] || fail "a new Order was made"
echo "ok: fixed Secret -> Ready with the same Order"
echo PASS
