#!/bin/bash
# End to end (issue #11): revocation on delete, opt-in.
# - spec.revokeOnDelete: true with secretDeletionPolicy: Delete: deleting the Certificate revokes
#   its certificate at Pebble (management API: Status Revoked, Reason 5 = cessationOfOperation),
#   and the Secret goes too, after the revocation; a Revoked event says which serial.
# - the Issuer's spec.revokeOnDelete is the default: a Certificate of that issuer is revoked on
#   delete (its Secret is Retained: the default policy), while a Certificate of an issuer without
#   it is not revoked.
# - a revocation that cannot happen (its ClusterIssuer deleted first: no account to sign with) is
#   shown (Warning RevocationFailed, Ready=False RevocationFailed) and never blocks the deletion
#   beyond --revocation-timeout (10 s here, 5 minutes by default): RevocationAbandoned, then gone.
. "$(dirname "$0")/lib.sh"
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer pebble"
issuer revoking pebble-eab | sed 's|^spec:|spec:\n  revokeOnDelete: true|' | kubectl apply -f - >/dev/null \
  || fail "ClusterIssuer revoking"
issuer doomed pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer doomed"
start_controller --revocation-timeout 10s
for i in pebble revoking doomed; do
  wait_for 60 ready clusterissuer $i "" True || fail "ClusterIssuer $i not Ready"
done

{ certificate gone gone.revoke.example pebble; printf '  revokeOnDelete: true\n  secretDeletionPolicy: Delete\n'; } |
  kubectl apply -f - >/dev/null || fail "Certificate gone"
certificate bydefault default.revoke.example revoking | kubectl apply -f - >/dev/null || fail "Certificate bydefault"
certificate plain plain.revoke.example pebble | kubectl apply -f - >/dev/null || fail "Certificate plain"
{ certificate stuck stuck.revoke.example doomed; echo "  revokeOnDelete: true"; } |
  kubectl apply -f - >/dev/null || fail "Certificate stuck"
declare -A SERIAL
for c in gone bydefault plain stuck; do
  wait_for 90 ready certificate $c default True || fail "$c not Ready"
  secret_files $c-tls
  SERIAL[$c]=$(openssl x509 -in "$WORK/$c-tls.crt" -noout -serial | cut -d= -f2 | tr A-F a-f | sed "s/^0*//")
done
has_finalizer() { kubectl get certificate "$1" -o jsonpath='{.metadata.finalizers}' | grep -q certsmith.io/revoke-on-delete; }
for c in gone bydefault stuck; do wait_for 10 has_finalizer $c || fail "$c: no revocation finalizer"; done
has_finalizer plain && fail "plain carries the revocation finalizer"

pebble_status() {  # SERIAL: "Status Reason" at Pebble
  python3 - "$PEBBLE_MANAGEMENT" "$1" <<'PY'
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = json.loads(urllib.request.urlopen(f"{sys.argv[1]}/cert-status-by-serial/{sys.argv[2]}", context=ctx).read())
print(s.get("Status"), s.get("Reason", ""))
PY
}
for c in gone bydefault plain stuck; do
  [ "$(pebble_status "${SERIAL[$c]}" | cut -d' ' -f1)" = Valid ] || fail "$c not Valid at Pebble before deletion"
done

gone_now() { ! kubectl get certificate "$1" >/dev/null 2>&1; }
secret_gone() { ! kubectl get secret "$1" >/dev/null 2>&1; }
kubectl delete certificate gone bydefault plain --wait=false >/dev/null || fail "delete"
for c in gone bydefault plain; do wait_for 30 gone_now $c || fail "$c not deleted"; done
[ "$(pebble_status "${SERIAL[gone]}")" = "Revoked 5" ] || fail "gone: Pebble says $(pebble_status "${SERIAL[gone]}")"
[ "$(pebble_status "${SERIAL[bydefault]}")" = "Revoked 5" ] || fail "bydefault: Pebble says $(pebble_status "${SERIAL[bydefault]}")"
[ "$(pebble_status "${SERIAL[plain]}" | cut -d' ' -f1)" = Valid ] || fail "plain was revoked"
wait_for 30 secret_gone gone-tls || fail "gone-tls not deleted"
kubectl get secret bydefault-tls plain-tls >/dev/null || fail "a Retained Secret went"
# SERIAL is Pebble's spelling (no leading zero); the event's is OpenSSL's (whole bytes: a serial
# whose first byte is below 0x10 starts with 0), so any leading zeros match.
events gone Revoked | grep -Eq "Revoked certificate 0*$(tr a-f A-F <<<"${SERIAL[gone]}") at the CA \(reason cessationOfOperation\)" \
  || fail "no Revoked event for gone: $(events gone Revoked)"
echo "ok: revokeOnDelete revoked gone and bydefault at Pebble (reason 5), gone-tls deleted after; plain not revoked"

# The issuer goes first: nothing can sign the revocation.
kubectl delete clusterissuer doomed >/dev/null || fail "delete doomed"
sleep 1
kubectl delete certificate stuck --wait=false >/dev/null || fail "delete stuck"
started=$SECONDS
wait_for 10 bash -c "kubectl get events -n default --field-selector involvedObject.name=stuck,reason=RevocationFailed -o name | grep -q ." \
  || fail "no RevocationFailed event"
reason=$(kubectl get certificate stuck -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}' 2>/dev/null)
[ "$reason" = RevocationFailed ] || fail "stuck: Ready reason $reason"
wait_for 30 gone_now stuck || fail "stuck still there after the revocation timeout"
took=$((SECONDS - started))
[ "$took" -ge 8 ] || fail "stuck went after ${took}s, before the 10 s timeout"
[ -n "$(events stuck RevocationAbandoned)" ] || fail "no RevocationAbandoned event"
[ "$(pebble_status "${SERIAL[stuck]}" | cut -d' ' -f1)" = Valid ] || fail "stuck revoked?"
echo "ok: an impossible revocation is shown (RevocationFailed) and the deletion goes on after ${took}s"
echo PASS
