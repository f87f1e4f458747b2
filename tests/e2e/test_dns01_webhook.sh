#!/bin/bash
# End to end, dns-01 through a webhook provider: the example provider (tests/support/
# dns01_webhook.py, cert-manager's ChallengePayload over HTTPS, updating the testbed's BIND)
# called straight at webhook.url with its own caBundle. A wildcard and its apex end Ready with a
# chain that verifies; the provider saw two Presents and two CleanUps with the resolved FQDN and
# zone, and the record is gone. (The same provider behind a real API server's aggregation layer:
# tests/integration/dns01, which needs a network namespace of its own.)
. "$(dirname "$0")/lib.sh"
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
command -v nsupdate >/dev/null || { echo "SKIP: nsupdate not installed (bind9-dnsutils)"; exit 77; }
testbed_up --dns bind --bind-zone example
webhook_provider
issuer_with_solvers hook "$(cat <<YAML
    - dns01:
        nameservers: ["$TESTBED_DNS"]
        webhook:
          url: $WEBHOOK_URL
          caBundle: $WEBHOOK_CA_B64
          config: {note: passed through unchanged}
YAML
)" | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer hook "" True || fail "ClusterIssuer hook not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"

start=$EPOCHREALTIME
certificate hooked '"*.b.example", b.example' hook | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate hooked default True || fail "Certificate hooked not Ready"
took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "ok: wildcard + apex Ready through the webhook in ${took}s"

secret_files hooked-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/hooked-tls.crt" "$WORK/hooked-tls.crt" \
  >/dev/null || fail "the chain does not verify against Pebble's root"
key_matches "$WORK/hooked-tls.crt" "$WORK/hooked-tls.key" || fail "tls.key does not match"
san=$(openssl x509 -in "$WORK/hooked-tls.crt" -noout -ext subjectAltName)
grep -q 'DNS:\*\.b\.example' <<<"$san" && grep -q 'DNS:b\.example' <<<"$san" || fail "SAN: $san"
wait_for 10 no_txt _acme-challenge.b.example || fail "TXT left behind: $(txt_values _acme-challenge.b.example)"
presents=$(grep -c 'Present _acme-challenge.b.example. in example.' "$WEBHOOK_LOG")
cleanups=$(grep -c 'CleanUp _acme-challenge.b.example. in example.' "$WEBHOOK_LOG")
[ "$presents" = 2 ] && [ "$cleanups" = 2 ] || fail "provider calls: $(cat "$WEBHOOK_LOG")"
echo "ok: chain verifies; the provider got 2 Presents and 2 CleanUps; no TXT left"

# The provider's success: false reaches the Challenge and the Certificate in its own words.
issuer_with_solvers refusing "$(cat <<YAML
    - dns01:
        nameservers: ["$TESTBED_DNS"]
        webhook:
          url: $WEBHOOK_URL
          caBundle: $WEBHOOK_CA_B64
          config: {fail: "zone b.example is locked at the registrar"}
YAML
)" | kubectl apply -f - >/dev/null || fail "ClusterIssuer refusing"
wait_for 60 ready clusterissuer refusing "" True || fail "ClusterIssuer refusing not Ready"
certificate refused r.example refusing | kubectl apply -f - >/dev/null || fail "Certificate refused"
has_words() { ready_message certificate refused | grep -q "locked at the registrar"; }
wait_for 60 has_words || fail "Certificate message: $(ready_message certificate refused)"
ch=$(challenges_of refused)
[ "$(kubectl get "$ch" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" = PresentError ] \
  || fail "$ch: $(kubectl get "$ch" -o jsonpath='{.status.conditions}')"
echo "ok: success: false -> $(ready_message certificate refused)"
echo PASS
