#!/bin/bash
# End to end: deleting a Certificate cleans up after it (issue #4).
# (a) Certificates deleted (background and foreground propagation) while their http-01 challenge
#     is in flight: Orders, Challenges, solver
#     Pods, Services and Ingresses, the path rule added to an existing Ingress and next-key
#     Secrets are all gone within a bounded time, and the controller logs no error loop.
# (b) a Ready Certificate deleted with the default policy: its TLS Secret stays, with no owner.
# (c) spec.secretDeletionPolicy: Delete, and the controller flag cert-manager users know
#     (--enable-certificate-owner-ref, applied to an existing Secret on restart): the Secret goes
#     with its Certificate.
. "$(dirname "$0")/lib.sh"
CLEANUP_LIMIT=30  # seconds (a): the garbage collector plus one Challenge sync
SOLVER_LABEL=acme.certsmith.io/http01-solver

# Bad flags are refused with a clear message before anything starts.
out=$("$BIN" controller --default-secret-deletion-policy=Orphan 2>&1) && fail "bad policy accepted"
grep -q "must be Retain or Delete" <<<"$out" || fail "unclear error for a bad policy: $out"
out=$("$BIN" controller --enable-certificate-owner-ref --default-secret-deletion-policy=Retain 2>&1) \
  && fail "contradicting flags accepted"
grep -q "contradicts" <<<"$out" || fail "unclear error for contradicting flags: $out"
echo "ok: bad deletion-policy flags refused"

testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer pebble"
# Issuers whose challenges cannot finish: their solver's route is on an Ingress of a class no
# ingress controller serves, so the controller's self check gets a 404 and never asks the CA.
# The challenge stays presented (solver Pod, Service, Ingress) until something removes it.
issuer stuck pebble-eab | sed "s/ingressClassName: $INGRESS_CLASS/ingressClassName: unserved/" |
  kubectl apply -f - >/dev/null || fail "ClusterIssuer stuck"
issuer stuck-edit pebble-eab | sed "s/ingressClassName: $INGRESS_CLASS/name: shop/" |
  kubectl apply -f - >/dev/null || fail "ClusterIssuer stuck-edit"
# The user's Ingress that stuck-edit adds its path rule to (not served either).
kubectl apply -f - >/dev/null <<YAML || fail "Ingress shop"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: default}
spec:
  ingressClassName: unserved
  rules:
  - host: shop.e2e.example
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}]}
YAML
shop_before=$(kubectl get ingress shop -o jsonpath='{.spec.rules}{.metadata.annotations}')

start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"
certificate keep keep.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate keep"
{ certificate gone gone.e2e.example pebble; echo "  secretDeletionPolicy: Delete"; } |
  kubectl apply -f - >/dev/null || fail "Certificate gone"
certificate flagged flagged.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate flagged"
certificate inflight inflight.e2e.example stuck | kubectl apply -f - >/dev/null || fail "Certificate inflight"
certificate inflight-edit edit.e2e.example stuck-edit | kubectl apply -f - >/dev/null ||
  fail "Certificate inflight-edit"

for c in keep gone flagged; do
  wait_for 120 ready certificate $c default True || fail "Certificate $c not Ready"
done
echo "ok: keep, gone, flagged Ready"

# (a) ---------------------------------------------------------------------------------------
count() { kubectl get "$@" -o name 2>/dev/null | grep -c .; }
in_flight() {
  [ "$(count pods -n default -l $SOLVER_LABEL)" -eq 2 ] &&
    [ "$(count services -n default -l $SOLVER_LABEL)" -eq 2 ] &&
    [ "$(count ingresses -n default -l $SOLVER_LABEL)" -eq 1 ] &&
    kubectl get ingress shop -o jsonpath='{.spec.rules[*].host}' | grep -q edit.e2e.example &&
    [ "$(kubectl get challenges -n default -o jsonpath='{.items[*].status.presented}' | grep -o true | wc -l)" -eq 2 ]
}
wait_for 90 in_flight || fail "the two challenges never got their solvers presented"
reasons=$(kubectl get challenges -n default -o jsonpath='{range .items[*]}{.status.reason}{"\n"}{end}')
# Not yet validated: otherwise this would not test deletion in flight.
[ "$(grep -c 'self check' <<<"$reasons")" -eq 2 ] ||
  fail "challenges are not held at the self check, so not in flight: $reasons"
next_keys=$(kubectl get secrets -n default -o name | grep -E 'inflight(-edit)?-next-key' | wc -l)
[ "$next_keys" -eq 2 ] || fail "expected 2 next-key Secrets in flight, found $next_keys"
echo "ok: in flight: 2 Orders' Challenges presented (2 solver Pods/Services, 1 Ingress, 1 rule on Ingress shop), 2 next-key Secrets"

log_mark=$(wc -l <"$WORK/controller.log")
t0=$(date +%s.%N)
# Both propagation policies: background (kubectl's default) and foreground, where the Certificate
# stays until its Orders, Challenges (held by their finalizer) and their dependents are gone.
kubectl delete certificate inflight --wait=false >/dev/null || fail "deleting inflight"
kubectl delete certificate inflight-edit --cascade=foreground --timeout=${CLEANUP_LIMIT}s >/dev/null ||
  fail "foreground deletion of inflight-edit did not finish within ${CLEANUP_LIMIT}s"
all_gone() {
  [ "$(kubectl get orders,challenges -n default -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' |
       grep -c '^inflight')" -eq 0 ] &&
    [ "$(count pods,services,ingresses -n default -l $SOLVER_LABEL)" -eq 0 ] &&
    [ "$(kubectl get secrets -n default -o name | grep -c -- '-next-key')" -eq 0 ] &&
    [ "$(kubectl get ingress shop -o jsonpath='{.spec.rules}{.metadata.annotations}')" = "$shop_before" ]
}
wait_for $CLEANUP_LIMIT all_gone || {
  kubectl get orders,challenges,pods,services,ingresses,secrets -n default -o wide
  kubectl get ingress shop -o yaml
  fail "in-flight resources left behind ${CLEANUP_LIMIT}s after deleting their Certificates"
}
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "ok: (a) Orders, Challenges, solver Pods/Services/Ingresses, the added rule and next-key Secrets gone ${secs}s after kubectl delete"
sleep 1
quiet_mark=$(wc -l <"$WORK/controller.log")
# Past one Challenge requeue (5s): a loop retrying the deleted objects would show by now.
sleep 6
errors=$(tail -n +"$((log_mark + 1))" "$WORK/controller.log" | grep -E 'level=(warning|error)' | grep -E 'inflight|stuck')
[ -z "$errors" ] || fail "controller logged errors about the deleted Certificates: $errors"
# A sync that finds its object gone and asks for nothing more (a delayed requeue from before the
# deletion firing) ends the story; anything else (a requeue, a request, a write) is a loop.
late=$(tail -n +"$((quiet_mark + 1))" "$WORK/controller.log" | grep 'inflight' |
  grep -vE 'msg=synced .* ok=true requeueMs=-$')
[ -z "$late" ] || fail "controller still busy with the deleted Certificates: $late"
echo "ok: no warning or error about the deleted Certificates in the controller log, and quiet about them after"
# One ACME order per Certificate: none placed for a Certificate already deleted while the
# controller's caches still showed it (its Order gone first, the Certificate event late).
new_orders=$(grep -c 'url=[^ ]*/order-plz status=201' "$WORK/controller.log")
[ "$new_orders" -eq 5 ] || fail "expected 5 ACME newOrder requests (one per Certificate), saw $new_orders"
echo "ok: exactly one ACME order per Certificate"

# (b) ---------------------------------------------------------------------------------------
[ -z "$(kubectl get secret keep-tls -o jsonpath='{.metadata.ownerReferences}')" ] ||
  fail "keep-tls has ownerReferences under the default Retain policy"
kubectl delete certificate keep >/dev/null || fail "deleting keep"
orders_of() { [ "$(kubectl get orders -n default -l certsmith.io/certificate-name="$1" -o name | grep -c .)" -eq 0 ]; }
wait_for 15 orders_of keep || fail "keep's Orders not garbage-collected"
sleep 2  # the garbage collector runs every 0.1s: give it every chance to take the Secret wrongly
kubectl get secret keep-tls >/dev/null 2>&1 || fail "(b) keep-tls deleted with its Certificate under Retain"
echo "ok: (b) deleting Certificate keep left Secret keep-tls (default Retain)"

# (c) spec.secretDeletionPolicy: Delete ----------------------------------------------------
gone_uid=$(kubectl get certificate gone -o jsonpath='{.metadata.uid}')
[ "$(kubectl get secret gone-tls -o jsonpath='{.metadata.ownerReferences[0].uid}')" = "$gone_uid" ] ||
  fail "gone-tls has no ownerReference to Certificate gone"
# Foreground: the reference blocks the owner's deletion, so the Secret is gone when kubectl returns.
kubectl delete certificate gone --cascade=foreground --timeout=15s >/dev/null || fail "deleting gone"
secret_gone() { ! kubectl get secret "$1" >/dev/null 2>&1; }
secret_gone gone-tls || fail "(c) gone-tls still there after the foreground deletion of its Certificate"
echo "ok: (c) secretDeletionPolicy: Delete: Secret gone-tls garbage-collected with its Certificate"

# (c) the controller-wide flag, on a Secret written before it was set ----------------------
[ -z "$(kubectl get secret flagged-tls -o jsonpath='{.metadata.ownerReferences}')" ] ||
  fail "flagged-tls owned before the flag was set"
kill "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
start_controller --enable-certificate-owner-ref
flagged_uid=$(kubectl get certificate flagged -o jsonpath='{.metadata.uid}')
owned() { [ "$(kubectl get secret flagged-tls -o jsonpath='{.metadata.ownerReferences[0].uid}')" = "$flagged_uid" ]; }
wait_for 60 owned || fail "--enable-certificate-owner-ref did not put an ownerReference on flagged-tls"
[ "$(kubectl get secret keep-tls -o jsonpath='{.metadata.ownerReferences}')" = "" ] ||
  fail "the retained Secret of a deleted Certificate got an owner"
kubectl delete certificate flagged >/dev/null || fail "deleting flagged"
wait_for 15 secret_gone flagged-tls || fail "(c) flagged-tls not garbage-collected with its Certificate"
echo "ok: (c) --enable-certificate-owner-ref: existing Secret flagged-tls got the owner and went with its Certificate"

# Nothing certsmith made is left but the retained Secret (and the issuers' account keys).
left=$(kubectl get pods,services,ingresses,secrets -A -l app.kubernetes.io/managed-by=certsmith -o name |
  grep -v '^secret/keep-tls$' | grep -v -- '-account$')
[ -z "$left" ] || fail "certsmith-labelled objects left: $left"
[ -z "$(kubectl get orders,challenges -A -o name)" ] || fail "Orders or Challenges left: $(kubectl get orders,challenges -A -o name)"
echo "ok: kubectl get: no certsmith-labelled object left but Secret keep-tls"
echo PASS
