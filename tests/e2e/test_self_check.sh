#!/bin/bash
# End to end: the controller's http-01 self check runs against the testbed's DNS (issue #12).
# The controller resolves challenge names with --acme-http01-solver-nameservers (the DNS server
# Pebble uses; this machine's resolver knows no *.e2e.example name) and fetches the challenge
# from the ingress on Pebble's http port before it asks the CA to validate:
# (a) while that DNS points the name at an address nothing listens on, the Challenge waits with
#     the self check's error and the CA is not asked;
# (b) once the name points at the ingress, the self check passes and the Certificate is Ready.
# Bad nameserver flags are refused with a clear message.
. "$(dirname "$0")/lib.sh"
out=$("$BIN" controller --acme-http01-solver-nameservers dns.example:53 2>&1) &&
  fail "a host name accepted as a nameserver"
grep -q 'acme-http01-solver-nameservers: "dns.example:53" is not an IP address' <<<"$out" ||
  fail "unclear error for a bad nameserver: $out"
echo "ok: bad --acme-http01-solver-nameservers refused"

testbed_up
challtestsrv() {  # PATH JSON: the testbed DNS's management API
  python3 - "$TESTBED_CHALLTESTSRV$1" "$2" <<'PY'
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST",
                             headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=10).read()
PY
}
# 127.0.0.2: loopback, but the ingress listens on 127.0.0.1 only.
challtestsrv /add-a '{"host": "checked.e2e.example.", "addresses": ["127.0.0.2"]}' ||
  fail "setting an A record"
pebble_issuer_ready
grep -q "skipSelfCheck: false" <(kubectl get clusterissuer pebble -o yaml) ||
  fail "the issuer does not keep the self check on"
certificate checked checked.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"

held() {
  kubectl get challenges -n default -o jsonpath='{.items[0].status.reason}' |
    grep -q "self check of http://checked.e2e.example/.well-known/acme-challenge/.* failed"
}
wait_for 60 held || fail "the Challenge is not held by a failing self check:" \
  "$(kubectl get challenges -n default -o jsonpath='{.items[*].status.reason}')"
sleep 3
[ "$(kubectl get challenges -n default -o jsonpath='{.items[0].status.processing}')" != true ] ||
  fail "the CA was asked to validate although the self check failed"
ready certificate checked default True && fail "Ready although the self check fails"
echo "ok: (a) held: $(kubectl get challenges -n default -o jsonpath='{.items[0].status.reason}')"

challtestsrv /clear-a '{"host": "checked.e2e.example."}' || fail "clearing the A record"
wait_for 60 ready certificate checked default True ||
  fail "Certificate not Ready once the name resolves to the ingress"
echo "ok: (b) the self check passed against the testbed's DNS and the Certificate is Ready"
