#!/bin/bash
# End to end: `kubectl certsmith account rollover` against Pebble's keyChange (RFC 8555 §7.3.5).
# The account key Secret ends with a new key Pebble knows (checked with `certsmith acme account
# show`: the new key finds the account, the old one does not), the Issuer stays Ready with the
# same account URL and issues with the new key at once (the controller's shared client changed
# keys), and a restarted controller finds the account again without registering a new one. Then
# the crash window: the CA changed the key but the controller stopped before updating the Secret
# (made here with the CLI's keyChange while the Secret holds the old key and the staged new one);
# the restarted controller makes the staged key the account key, with no new account.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/bin" && ln -s "$BIN" "$WORK/bin/kubectl-certsmith"
export PATH="$WORK/bin:$PATH"
testbed_up
pebble_issuer_ready
account=$(kubectl get clusterissuer pebble -o jsonpath='{.status.acme.uri}')
key_of() { kubectl -n certsmith get secret pebble-account -o jsonpath="{.data.${1//./\\.}}" | base64 -d; }
key_of tls.key >"$WORK/old.pem"
fingerprint() { openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | openssl sha256 | cut -d' ' -f2; }
account_url_with() {  # the account Pebble finds for a key file (onlyReturnExisting), or nothing
  "$BIN" acme account show --server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE" --account-key "$1" \
    2>/dev/null | sed -n 's/^account: //p'
}
[ "$(account_url_with "$WORK/old.pem")" = "$account" ] || fail "the old key does not find $account"
registrations() { kubectl get events -A --field-selector reason=AccountRegistered -o name | wc -l; }
registered=$(registrations)

kubectl certsmith account rollover pebble >"$WORK/rollover.txt" 2>&1 || fail "rollover: $(cat "$WORK/rollover.txt")"
grep -q "^Done: the ACME account $account now uses a new key" "$WORK/rollover.txt" || fail "$(cat "$WORK/rollover.txt")"
key_of tls.key >"$WORK/new.pem"
[ "$(fingerprint "$WORK/new.pem")" != "$(fingerprint "$WORK/old.pem")" ] || fail "the key did not change"
[ -z "$(key_of tls.key.next)" ] || fail "a staged key was left in the Secret"
[ "$(account_url_with "$WORK/new.pem")" = "$account" ] || fail "Pebble does not find the account with the new key"
[ -z "$(account_url_with "$WORK/old.pem")" ] || fail "Pebble still finds the account with the old key"
ready clusterissuer pebble "" True || fail "ClusterIssuer not Ready after the rollover"
[ "$(kubectl get clusterissuer pebble -o jsonpath='{.status.acme.uri}')" = "$account" ] || fail "account URL changed"
echo "ok: rollover: Pebble knows the new key only, the Secret holds it, $account kept"

certificate after after.rollover.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate after default True || fail "no certificate with the new key"
echo "ok: issued with the new key by the running controller"

kill "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null
start_controller
certificate again again.rollover.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate again default True || fail "restarted controller cannot issue"
[ "$(registrations)" = "$registered" ] || fail "a new account was registered after the restart"
echo "ok: a restarted controller uses the new key for the same account"

# The crash window: the CA moved the account to the staged key; the Secret still names the old.
kill "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
cp "$WORK/new.pem" "$WORK/current.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/staged.pem" 2>/dev/null
"$BIN" acme account rollover --server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE" \
  --account-key "$WORK/current.pem" --new-key "$WORK/staged.pem" >/dev/null || fail "CLI keyChange"
kubectl -n certsmith patch secret pebble-account --type merge \
  -p "{\"data\":{\"tls.key.next\":\"$(base64 -w0 <"$WORK/staged.pem")\"}}" >/dev/null || fail "staging"
start_controller
wait_for 60 bash -c "[ \"\$(kubectl -n certsmith get secret pebble-account -o jsonpath='{.data.tls\\.key\\.next}')\" = '' ]" \
  || fail "the staged key was not promoted"
key_of tls.key >"$WORK/promoted.pem"
[ "$(fingerprint "$WORK/promoted.pem")" = "$(fingerprint "$WORK/staged.pem")" ] || fail "the Secret does not hold the key Pebble knows"
certificate last last.rollover.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate last default True || fail "no certificate after the recovery"
[ "$(kubectl get clusterissuer pebble -o jsonpath='{.status.acme.uri}')" = "$account" ] || fail "account URL changed"
[ "$(registrations)" = "$registered" ] || fail "a new account was registered in the recovery"
echo "ok: an interrupted rollover (CA changed, Secret not) finished from the staged key, same account"
echo PASS
