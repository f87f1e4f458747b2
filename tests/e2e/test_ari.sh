#!/bin/bash
# End to end (issue #11): ACME Renewal Information (RFC 9773), ACME profiles and
# enableDurationFeature, through tests/support/ari_proxy.py in front of Pebble 2.4 (which has
# neither renewalInfo nor profiles). The proxy adds them, answers the renewal window this test
# writes, and records every newOrder payload.
# - The first certificate's renewal time is a point inside the CA's window (an hour away), not
#   at 2/3 of its lifetime; status.renewalInfo and a RenewalScheduled event say the CA set it.
# - The CA moves the window to seconds from now: the controller sees it at its next check (the
#   proxy's Retry-After, 2 s; --ari-min-recheck-interval 1s), moves renewalTime into the new
#   window, and renews then: the new certificate's notBefore is no earlier than that time.
# - The renewal's newOrder carries `replaces` = the ARI certID of the replaced certificate
#   (computed here with openssl from its AKI and serial); the first newOrder carries none.
# - Every newOrder carries the Issuer's profile, and with enableDurationFeature notBefore/notAfter
#   spanning the Certificate's duration. An Issuer asking for a profile the CA does not list is
#   Ready=False ProfileNotOffered naming those it offers.
. "$(dirname "$0")/lib.sh"
testbed_up
PROXY=$WORK/proxy
python3 "$SRC/tests/support/ari_proxy.py" --upstream "$ACME_SERVER" --state "$PROXY" --lifetime 600 \
  >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!
on_exit kill $PROXY_PID
wait_for 20 test -f "$PROXY/env" || { cat "$WORK/proxy.log"; fail "proxy did not start"; }
. "$PROXY/env"

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
window() {  # START_EPOCH END_EPOCH: a JSON window with a 2 s Retry-After
  printf '{"start": "%s", "end": "%s", "retryAfter": 2}' "$(iso "$1")" "$(iso "$2")"
}
NOW=$(date +%s)
FAR_START=$((NOW + 3600)) FAR_END=$((NOW + 7200))
echo "{\"default\": $(window $FAR_START $FAR_END)}" >"$PROXY/window.json"
echo '{"classic": "the default", "shortlived": "6 days"}' >"$PROXY/profiles.json"

PROXY_CA_B64=$(base64 -w0 <"$ARI_PROXY_CA")
issuer ari pebble-eab | sed -e "s|server: .*|server: $ARI_PROXY_DIRECTORY|" \
  -e "s|caBundle: .*|caBundle: $PROXY_CA_B64\n    profile: shortlived\n    enableDurationFeature: true|" |
  kubectl apply -f - >/dev/null || fail "ClusterIssuer ari"
issuer wrong-profile pebble-eab | sed -e "s|server: .*|server: $ARI_PROXY_DIRECTORY|" \
  -e "s|caBundle: .*|caBundle: $PROXY_CA_B64\n    profile: tlsserver|" |
  kubectl apply -f - >/dev/null || fail "ClusterIssuer wrong-profile"
start_controller --ari-min-recheck-interval 1s
wait_for 60 ready clusterissuer ari "" True || fail "ClusterIssuer ari not Ready"
fetch_root "$WORK/root.pem" || fail "root"

{ certificate web web.ari.example ari; echo "  duration: 48h"; } | kubectl apply -f - >/dev/null \
  || fail "Certificate web"

# -- 1. first issuance: the renewal time is the CA's ------------------------------------------
wait_for 90 ready certificate web default True || fail "web not Ready"
has_window() { [ -n "$(kubectl get certificate web -o jsonpath='{.status.renewalInfo.windowStart}')" ]; }
wait_for 20 has_window || fail "no status.renewalInfo"
observe web
[ "$S_RT" -ge "$FAR_START" ] && [ "$S_RT" -lt "$FAR_END" ] \
  || fail "renewalTime $(clock "$S_RT") not in the CA's window $(iso $FAR_START)..$(iso $FAR_END)"
[ "$(kubectl get certificate web -o jsonpath='{.status.renewalInfo.windowStart}')" = "$(iso $FAR_START)" ] \
  || fail "status.renewalInfo.windowStart"
scheduled_by_ca() { events web RenewalScheduled | grep -c "set by the CA"; }
[ "$(scheduled_by_ca)" -ge 1 ] || fail "no RenewalScheduled event saying the CA set it: $(events web RenewalScheduled)"
echo "ok: renewalTime $(clock "$S_RT") is in the CA's window, not at 2/3 ($(clock $((NB + (NA - NB) * 2 / 3))))"

# Which certificate is it, in ARI's words (RFC 9773 §4.1): base64url(AKI keyid).base64url(serial).
cert_id() {
  python3 - "$1" <<'PY'
import base64, re, subprocess, sys
text = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", "-ext", "authorityKeyIdentifier",
                       "-serial"], capture_output=True, text=True, check=True).stdout
keyid = re.search(r"(?:keyid:)?((?:[0-9A-F]{2}:)+[0-9A-F]{2})", text).group(1).replace(":", "")
serial = re.search(r"serial=([0-9A-F]+)", text).group(1)
serial = ("0" if len(serial) % 2 else "") + serial
raw = bytes.fromhex(serial)
if raw[0] & 0x80: raw = b"\0" + raw
b = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
print(b(bytes.fromhex(keyid)) + "." + b(raw))
PY
}
ID1=$(cert_id "$WORK/web-tls.crt")
[ "$(kubectl get certificate web -o jsonpath='{.status.renewalInfo.certificateID}')" = "$ID1" ] \
  || fail "status.renewalInfo.certificateID is not $ID1"
grep -q "^$ID1\$" "$PROXY/renewal-info.log" || fail "the CA was never asked about $ID1"
first_order=$(head -n 1 "$PROXY/neworders.jsonl")
python3 - "$first_order" <<'PY' || fail "first newOrder: $first_order"
import json, sys, datetime
o = json.loads(sys.argv[1])
assert o.get("profile") == "shortlived", "profile"
assert "replaces" not in o, "replaces in a first order"
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
assert (t(o["notAfter"]) - t(o["notBefore"])).total_seconds() == 48 * 3600, "notAfter - notBefore"
PY
# Pebble honours the dates: the certificate lives the Certificate's 48 h (notAfter is one second
# short of it with Pebble 2.4).
[ $((NA - NB)) -ge $((48 * 3600 - 1)) ] && [ $((NA - NB)) -le $((48 * 3600)) ] \
  || fail "certificate lifetime $((NA - NB)) s, not the 48 h asked for"
echo "ok: first newOrder: profile shortlived, notBefore/notAfter 48h apart, no replaces; certificate lifetime $((NA - NB)) s"
OLD_SERIAL=$SERIAL OLD_NA=$NA

# -- 2. the CA moves the window to seconds from now ---------------------------------------------
NEAR_START=$(($(date +%s) + 10)) NEAR_END=$(($(date +%s) + 14))
echo "{\"default\": $(window $FAR_START $FAR_END), \"byCert\": {\"$ID1\": $(window $NEAR_START $NEAR_END)}}" \
  >"$PROXY/window.json"
moved() {
  local rt; rt=$(epoch "$(kubectl get certificate web -o jsonpath='{.status.renewalTime}')")
  [ "$rt" -ge "$NEAR_START" ] && [ "$rt" -lt "$NEAR_END" ]
}
wait_for 8 moved || fail "renewalTime did not follow the moved window ($(kubectl get certificate web -o jsonpath='{.status.renewalTime}'))"
MOVED_RT=$(epoch "$(kubectl get certificate web -o jsonpath='{.status.renewalTime}')")
events web RenewalScheduled | grep -q "window $(iso $NEAR_START) to $(iso $NEAR_END)" \
  || fail "no RenewalScheduled event for the moved window: $(events web RenewalScheduled)"
echo "ok: the CA moved its window: renewalTime moved to $(clock "$MOVED_RT")"

# -- 3. the renewal happens in the new window and replaces the old certificate --------------------
wait_for 60 revision_is web 2 || fail "web not renewed"
observe web
[ "$SERIAL" != "$OLD_SERIAL" ] || fail "same serial"
[ "$NB" -ge "$MOVED_RT" ] || fail "renewed at $(clock "$NB"), before the CA's time $(clock "$MOVED_RT")"
[ "$NB" -le $((NEAR_END + 15)) ] || fail "renewed at $(clock "$NB"), long after the window"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/web-tls.crt" "$WORK/web-tls.crt" >/dev/null \
  || fail "renewed certificate does not verify"
last_order=$(tail -n 1 "$PROXY/neworders.jsonl")
[ "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("replaces",""))' "$last_order")" = "$ID1" ] \
  || fail "the renewal's newOrder does not replace $ID1: $last_order"
[ "$(wc -l <"$PROXY/neworders.jsonl")" -eq 2 ] || fail "expected 2 newOrders: $(cat "$PROXY/neworders.jsonl")"
# The new certificate gets its own (far) window: no renewal loop.
ID2=$(cert_id "$WORK/web-tls.crt")
has_id2() { [ "$(kubectl get certificate web -o jsonpath='{.status.renewalInfo.certificateID}')" = "$ID2" ]; }
wait_for 10 has_id2 || fail "status.renewalInfo not about the new certificate"
sleep 3
revision_is web 2 || fail "renewed again"
echo "ok: renewed at $(clock "$NB") (CA's time $(clock "$MOVED_RT")); newOrder replaces $ID1"

# -- 4. a profile the CA does not offer -----------------------------------------------------------
wait_for 30 ready clusterissuer wrong-profile "" False || fail "wrong-profile not refused"
msg=$(kubectl get clusterissuer wrong-profile -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}')
grep -q '^ProfileNotOffered: .*"tlsserver".*classic, shortlived' <<<"$msg" || fail "wrong-profile: $msg"
echo "ok: $msg"
echo PASS
