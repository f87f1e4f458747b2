#!/bin/bash
# End to end, dns-01 through RFC 2136: a Certificate for a wildcard and its apex (two TXT values
# on one name) ends Ready through the testbed's BIND, with a chain that verifies against Pebble's
# root; both values are removed once valid; the Challenges say which solver was chosen and why.
# The controller finds zones and checks records at BIND (--dns01-recursive-nameservers[-only]).
. "$(dirname "$0")/lib.sh"
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
testbed_up --dns bind --bind-zone example
tsig_secret tsig
issuer_with_solvers dns "$(rfc2136_solver tsig)" | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller --dns01-recursive-nameservers "$TESTBED_DNS" --dns01-recursive-nameservers-only
wait_for 60 ready clusterissuer dns "" True || fail "ClusterIssuer dns not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"

start=$EPOCHREALTIME
certificate wild '"*.a.example", a.example' dns | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate wild default True || fail "Certificate wild not Ready"
took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "ok: wildcard + apex Ready through rfc2136 in ${took}s"

secret_files wild-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/wild-tls.crt" "$WORK/wild-tls.crt" >/dev/null \
  || fail "the chain does not verify against Pebble's root"
key_matches "$WORK/wild-tls.crt" "$WORK/wild-tls.key" || fail "tls.key does not match"
san=$(openssl x509 -in "$WORK/wild-tls.crt" -noout -ext subjectAltName)
grep -q 'DNS:\*\.a\.example' <<<"$san" && grep -q 'DNS:a\.example' <<<"$san" || fail "SAN: $san"
echo "ok: chain verifies, SAN has *.a.example and a.example"

# Both Challenges wrote at the same name, and both values are gone. A Challenge records the CA's
# verdict at its own next look (1 s after it answered), which can come after the Order was
# finalized and the Certificate Ready (Pebble validates at once: the whole issuance can take
# 0.2 s), so its state is waited for, not read once.
chs=$(challenges_of wild)
[ "$(wc -l <<<"$chs")" = 2 ] || fail "expected 2 Challenges: $chs"
challenge_state() { [ "$(kubectl get "$1" -o jsonpath='{.status.state}')" = "$2" ]; }
for ch in $chs; do
  wait_for 30 challenge_state "$ch" valid \
    || fail "$ch not valid: $(kubectl get "$ch" -o jsonpath='{.status}')"
  [ "$(kubectl get "$ch" -o jsonpath='{.status.dns01.resolvedFQDN}')" = _acme-challenge.a.example. ] \
    || fail "$ch resolvedFQDN: $(kubectl get "$ch" -o jsonpath='{.status.dns01}')"
  sel=$(kubectl get "$ch" -o jsonpath='{.spec.solverSelection}')
  grep -q 'solvers\[0\] (dns01.rfc2136)' <<<"$sel" || fail "$ch solverSelection: $sel"
  kubectl get events -n default --field-selector "involvedObject.name=${ch#*/},reason=Presented" \
    -o name | grep -q . || fail "no Presented event on $ch"
done
wait_for 10 no_txt _acme-challenge.a.example || fail "TXT left behind: $(txt_values _acme-challenge.a.example)"
echo "ok: two Challenges on one name, both valid, both values removed"
grep -q 'dns01RecursiveNameserversOnly=true' "$WORK/controller.log" || fail "flags not in the start-up log"
echo PASS
