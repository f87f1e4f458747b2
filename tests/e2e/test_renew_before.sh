#!/bin/bash
# End to end: spec.renewBefore moves the renewal. With 330 s certificates, `early`
# (renewBefore 5m, the smallest allowed) is renewed at notAfter - 5m, about 30 s after issuance,
# while `late` (no renewBefore) is scheduled at 2/3 of the lifetime and left alone meanwhile.
. "$(dirname "$0")/lib.sh"
testbed_up --validity 330
pebble_issuer_ready

{ certificate early early.renew.example pebble; echo "  renewBefore: 5m"; } |
  kubectl apply -f - >/dev/null || fail "Certificate early"
certificate late late.renew.example pebble | kubectl apply -f - >/dev/null || fail "Certificate late"

for c in early late; do wait_for 90 ready certificate $c default True || fail "$c not Ready"; done
observe late
check_issued late $((NB + (NA - NB) * 2 / 3))
L_SERIAL=$SERIAL L_RT=$S_RT
observe early
[ "$REV" = 1 ] || fail "early: revision $REV when first Ready"
check_issued early $((NA - 300))
check_events early "$S_RT"
E_SERIAL=$SERIAL E_RT=$S_RT E_NA=$NA
echo "ok: early renewal scheduled at $(clock "$E_RT") (notAfter - 5m), late at $(clock "$L_RT") (2/3)"

wait_for 75 revision_is early 2 || fail "early not renewed (revision $(kubectl get certificate early -o jsonpath='{.status.revision}'))"
observe early
[ "$REV" = 2 ] || fail "early: revision $REV after its first renewal"
check_renewed early "$E_SERIAL" "$E_RT" "$E_NA"
check_issued early $((NA - 300))
check_events early "$E_RT" "$S_RT"
echo "ok: early renewed at $(clock "$NB"), $((NB - E_RT)) s after its renewal time"
observe late
[ "$REV" = 1 ] && [ "$SERIAL" = "$L_SERIAL" ] && [ "$S_RT" = "$L_RT" ] || fail "late changed: revision $REV"
echo "ok: late untouched until $(clock "$L_RT")"
echo PASS
