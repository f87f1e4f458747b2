#!/bin/bash
# End to end: short-lived certificates (the testbed's --validity) are renewed by the controller
# at 2/3 of their lifetime (the default) with no user action: a new serial that verifies against
# Pebble's root, a matching key, later status.renewalTime/notAfter, one Issued and one
# RenewalScheduled event (with the time) per issuance. `web` gets a new key (rotationPolicy
# Always, the default); `pinned` (rotationPolicy Never) keeps its key.
. "$(dirname "$0")/lib.sh"
# 100 s gives a 99 s lifetime with Pebble 2.4 (notAfter is validity - 1 s after notBefore): 2/3
# of it is not whole seconds, which the renewal time must cope with. Renewals come every 66 s:
# the checks of both Certificates after the first renewal must end before the second (with 45 s,
# a 29 s window, a loaded machine met revision 3 there).
testbed_up --validity 100
pebble_issuer_ready

certificate web web.renew.example pebble | kubectl apply -f - >/dev/null || fail "Certificate web"
{ certificate pinned pinned.renew.example pebble; echo "  privateKey: {rotationPolicy: Never}"; } |
  kubectl apply -f - >/dev/null || fail "Certificate pinned"
two_thirds() { echo $((NB + (NA - NB) * 2 / 3)); }  # whole seconds, rounded down

# 1. First issuance.
declare -A OLD_SERIAL OLD_RT OLD_NA OLD_PUB
for c in web pinned; do
  wait_for 90 ready certificate $c default True || fail "$c not Ready"
  observe $c
  [ "$REV" = 1 ] || fail "$c: revision $REV when first Ready"
  check_issued $c "$(two_thirds)"
  check_events $c "$S_RT"
  OLD_SERIAL[$c]=$SERIAL OLD_RT[$c]=$S_RT OLD_NA[$c]=$NA OLD_PUB[$c]=$PUB
  echo "ok: $c issued for $((NA - NB)) s, renewal scheduled at $(clock "$S_RT") (2/3)"
done

# 2. Renewal, with no user action.
for c in web pinned; do
  wait_for 100 revision_is $c 2 || fail "$c not renewed (revision $(kubectl get certificate $c -o jsonpath='{.status.revision}'))"
  observe $c
  [ "$REV" = 2 ] || fail "$c: revision $REV after its first renewal"
  check_renewed $c "${OLD_SERIAL[$c]}" "${OLD_RT[$c]}" "${OLD_NA[$c]}"
  check_issued $c "$(two_thirds)"
  check_events $c "${OLD_RT[$c]}" "$S_RT"
  if [ $c = web ]; then
    [ "$PUB" != "${OLD_PUB[$c]}" ] || fail "web: key not rotated (rotationPolicy defaults to Always)"
  else
    [ "$PUB" = "${OLD_PUB[$c]}" ] || fail "pinned: key changed despite rotationPolicy Never"
  fi
  # What a user reads: every step in `kubectl describe`, one Order per issuance.
  kubectl describe certificate $c | sed -n '/^Events:/,$p' >"$WORK/$c-events.txt"
  for step in "Normal +KeyGenerated" "Normal +OrderCreated" "Normal +Issued +.*(revision 2)" \
    "Normal +RenewalScheduled +.*Renewal scheduled at $(clock "$S_RT")"; do
    grep -Eq "$step" "$WORK/$c-events.txt" || { cat "$WORK/$c-events.txt"; fail "describe $c: no /$step/"; }
  done
  orders=$(kubectl get orders -n default -l certsmith.io/certificate-name=$c -o name)
  [ "$(grep -c . <<<"$orders")" -eq 2 ] || fail "$c: expected 2 Orders, got: $orders"
  for o in $orders; do
    kubectl describe "$o" >"$WORK/order.txt"
    grep -Eq '^  State: +valid$' "$WORK/order.txt" && grep -Eq "Normal +Created +.*Created ACME order https://" \
      "$WORK/order.txt" && grep -Eq "Normal +Complete " "$WORK/order.txt" \
      || { cat "$WORK/order.txt"; fail "describe $o: not valid with Created and Complete events"; }
  done
  echo "ok: $c renewed at $(clock "$NB"), $((NB - OLD_RT[$c])) s after its renewal time;" \
    "key $([ "$PUB" = "${OLD_PUB[$c]}" ] && echo kept || echo rotated)"
done
echo PASS
