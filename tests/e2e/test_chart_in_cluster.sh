#!/bin/bash
# End to end, in-cluster: the Helm chart rendered with ../shared/tools/helm-render and applied to
# the real control plane. kube-controller-manager makes the Deployment's ReplicaSet and Pods; the
# testbed's kubelet binds and runs each Pod as a kubelet does (a TokenRequest token, ca.crt and
# namespace at /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT, the
# readiness probe), so `certsmith controller` runs in-cluster with leader election, the chart's
# RBAC its only permissions. An EAB ClusterIssuer and a Certificate end Ready with no controller
# started by hand. Then two replicas: one leads (the Lease names its Pod); the leader's Pod is
# deleted while an issuance is in flight and another replica (the standby, or the ReplicaSet's
# replacement if it is quicker) takes the Lease and finishes it.
# Needs the real control plane (exit 77 without it).
. "$(dirname "$0")/lib.sh"
# --va-sleep: Pebble waits 0-15 s before validating, so an issuance is still in flight when the
# leader's Pod goes.
testbed_up --kube real --va-sleep
RENDER="$(dirname "$SRC")/shared/tools/helm-render/run"
[ -x "$RENDER" ] || { echo "SKIP: $RENDER is absent"; exit 77; }

# render_chart REPLICAS: the chart with the testbed's defaults, applied (CRDs are already in).
# The http-01 self check resolves with the testbed's DNS and connects to the ingress on Pebble's
# port, as the controllers that other tests start do (SELF_CHECK_FLAGS): the chart's extraArgs.
render_chart() {
  printf 'extraArgs:\n' >"$WORK/values-testbed.yaml"
  printf '  - "%s"\n' "${SELF_CHECK_FLAGS[@]}" >>"$WORK/values-testbed.yaml"
  "$RENDER" --name certsmith --namespace certsmith --set replicaCount="$1" --set logLevel=debug \
    -f "$WORK/values-testbed.yaml" "$SRC/charts/certsmith" >"$WORK/chart-$1.yaml" || fail "helm-render"
  kubectl apply -f "$WORK/chart-$1.yaml" >/dev/null || fail "applying the chart (replicas $1)"
}
pods() { kubectl -n certsmith get pods -l app.kubernetes.io/name=certsmith \
  --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
ready_pods() { kubectl -n certsmith get pods -l app.kubernetes.io/name=certsmith -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
  | awk '$2 == "True" { print $1 }'; }
count_is() { [ "$("$1" | grep -c .)" = "$2" ]; }
holder() { kubectl -n certsmith get lease certsmith-controller -o jsonpath='{.spec.holderIdentity}'; }
# leader: the Pod whose name the Lease holder starts with (identity = hostname_random, and the
# kubelet gives each Pod its name as hostname).
leader() { local h; h=$(holder); [ -n "$h" ] && echo "${h%_*}"; }
pod_log() { cat "$TESTBED_DIR/pods/certsmith_$1/log"; }

render_chart 1
kubectl -n certsmith rollout status deployment/certsmith --timeout=120s >/dev/null \
  || fail "the Deployment did not become available: $(kubectl -n certsmith get pods -o wide)"
POD=$(pods)
[ "$(echo "$POD" | grep -c .)" = 1 ] || fail "expected one Running controller Pod, got: $POD"
[ "$(kubectl -n certsmith get pod "$POD" -o jsonpath='{.spec.nodeName}')" = testbed ] || fail "Pod not bound to node testbed"
owner=$(kubectl -n certsmith get pod "$POD" -o jsonpath='{.metadata.ownerReferences[0].kind}')
[ "$owner" = ReplicaSet ] || fail "the Pod is owned by $owner, not by the Deployment's ReplicaSet"
# In-cluster: no kubeconfig, the API server found through KUBERNETES_SERVICE_HOST/PORT and the
# projected token, whose requests the audit log shows under the chart's ServiceAccount.
head -n 1 "$TESTBED_DIR/pods/certsmith_$POD/log" | grep -q "kubelet: .*certsmith controller" \
  || fail "no controller command in the Pod log"
head -n 1 "$TESTBED_DIR/pods/certsmith_$POD/log" | grep -q -- "--kubeconfig" && fail "the Pod runs with a kubeconfig"
grep -q "pod certsmith/$POD: started .*mounts \['/var/run/secrets/kubernetes.io/serviceaccount'\]" \
  "$TESTBED_DIR/testbed.log" || fail "the ServiceAccount volume was not mounted"
wait_for 60 bash -c "grep -q '\"$CONTROLLER_USER\".*\"userAgent\":\"certsmith\"' '$TESTBED_AUDIT_LOG'" \
  || fail "no request of the controller as $CONTROLLER_USER in the audit log"
has_holder() { [ -n "$(holder)" ]; }
wait_for 60 has_holder || fail "no leader elected: $(pod_log "$POD" | tail -n 20)"
[ "$(leader)" = "$POD" ] || fail "the Lease holder $(holder) is not Pod $POD"
echo "ok: chart installed; Pod $POD (ReplicaSet, node testbed) runs certsmith in-cluster as $CONTROLLER_USER and leads"

issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
wait_for 120 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready: $(pod_log "$POD" | tail -n 20)"
certificate one one.chart.example pebble | kubectl apply -f - >/dev/null || fail "Certificate one"
wait_for 180 ready certificate one default True || fail "Certificate one not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"
secret_files one-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/one-tls.crt" "$WORK/one-tls.crt" >/dev/null \
  || fail "one-tls does not verify against Pebble's root"
key_matches "$WORK/one-tls.crt" "$WORK/one-tls.key" || fail "one-tls: key does not match"
pod_log "$POD" | grep -q 'certificate issued.*default/one' || fail "the in-cluster controller did not log the issuance"
echo "ok: EAB ClusterIssuer and Certificate Ready through the in-cluster controller alone"

# -- two replicas, failover during an issuance --------------------------------------------------
render_chart 2
kubectl -n certsmith rollout status deployment/certsmith --timeout=120s >/dev/null \
  || fail "two replicas did not become available"
wait_for 60 count_is ready_pods 2 || fail "expected two Ready replicas: $(kubectl -n certsmith get pods)"
LEADER=$(leader); STANDBY=$(pods | grep -vx "$LEADER")
[ -n "$LEADER" ] && [ -n "$STANDBY" ] && [ "$(echo "$STANDBY" | grep -c .)" = 1 ] \
  || fail "expected one leader and one standby, got leader '$LEADER', others '$STANDBY'"
pod_log "$STANDBY" | grep -q 'controller workers started' && fail "the standby $STANDBY started its workers"
echo "ok: two replicas Ready; $LEADER leads, $STANDBY waits"

# An issuance in flight: the Challenge accepted by the CA (Pebble sleeps before it validates) when
# the leader's Pod is deleted. Pebble may sleep so little that the old leader finishes it while
# stopping (its log says so): then the next name is tried, with the roles as they now are.
issued_by() { pod_log "$1" | grep -q "certificate issued.*default/$2"; }
lease_moved_from() { local h; h=$(holder); [ -n "$h" ] && [ "${h%_*}" != "$1" ]; }
gone() { ! kubectl -n certsmith get pod "$1" >/dev/null 2>&1; }
in_flight=""
for name in two three four; do
  certificate "$name" "$name.chart.example" pebble | kubectl apply -f - >/dev/null || fail "Certificate $name"
  # Accepted: processing, or already valid when Pebble slept less than one look here takes.
  accepted() { kubectl get challenges -n default -l "certsmith.io/certificate-name=$name" \
    -o jsonpath='{.items[*].status.processing} {.items[*].status.state}' | grep -Eq 'true|valid'; }
  wait_for 60 accepted || fail "Certificate $name: no Challenge accepted by the CA"
  kubectl -n certsmith delete pod "$LEADER" --wait=false >/dev/null || fail "deleting the leader's Pod"
  wait_for 60 gone "$LEADER" || fail "the deleted Pod $LEADER is still there"
  wait_for 60 lease_moved_from "$LEADER" || fail "nobody took the Lease over from $LEADER"
  if ! issued_by "$LEADER" "$name"; then in_flight=$name; break; fi
  echo "note: the old leader finished $name before it stopped; trying again"
  wait_for 90 count_is ready_pods 2 || fail "the replacement replica did not become Ready"
  LEADER=$(leader); STANDBY=$(pods | grep -vx "$LEADER")
done
[ -n "$in_flight" ] || fail "no issuance was in flight when the leader's Pod was deleted (three tries)"
echo "ok: leader $LEADER deleted while Certificate $in_flight was being issued"
# The standby usually takes the Lease; the ReplicaSet's replacement Pod may start and win it
# first: either way another replica leads and finishes the issuance.
NEW=$(leader)
[ -n "$NEW" ] && [ "$NEW" != "$LEADER" ] && kubectl -n certsmith get pod "$NEW" >/dev/null 2>&1 \
  || fail "the Lease holder '$(holder)' is not a live replica"
wait_for 180 ready certificate "$in_flight" default True || fail "Certificate $in_flight not Ready after the failover"
issued_by "$NEW" "$in_flight" || fail "the new leader $NEW did not log the issuance of $in_flight"
n=$(kubectl get orders -n default -l "certsmith.io/certificate-name=$in_flight" -o name | grep -c .)
[ "$n" = 1 ] || fail "expected the in-flight Order to be finished, found $n Orders"
secret_files "$in_flight-tls"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/$in_flight-tls.crt" "$WORK/$in_flight-tls.crt" >/dev/null \
  || fail "$in_flight-tls does not verify against Pebble's root"
wait_for 90 count_is ready_pods 2 || fail "the ReplicaSet did not replace the deleted Pod"
echo "ok: $NEW ($([ "$NEW" = "$STANDBY" ] && echo "the standby" || echo "the ReplicaSet's new Pod")) took the Lease over and finished $in_flight's Order; the ReplicaSet replaced $LEADER"
echo PASS
