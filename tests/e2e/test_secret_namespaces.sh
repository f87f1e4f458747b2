#!/bin/bash
# End to end, on the real control plane: the chart with rbac.secretNamespaces=[default] grants
# Secrets in default and the cluster resource namespace only (Roles, no ClusterRole rule), and
# gives the controller --secret-namespaces: it watches Secrets there, one watch each (a Role allows
# no watch across namespaces), and issues a Certificate in default; a Certificate in another
# namespace gets Ready=False, reason Forbidden, naming the Secret permission it lacks there.
# Needs the real control plane (exit 77 without it).
. "$(dirname "$0")/lib.sh"
E2E_CHART_VALUES='rbac: {secretNamespaces: [default]}'
E2E_ALLOW_FORBIDDEN=1  # the Certificate outside the listed namespaces is refused on purpose
testbed_up --kube real
kubectl get clusterrole certsmith-controller -o json | grep -q '"secrets"' \
  && fail "the ClusterRole still grants Secrets with rbac.secretNamespaces set"
for ns in default certsmith; do
  kubectl -n "$ns" get role certsmith-secrets >/dev/null || fail "no Secrets Role in $ns"
done
args=$("$(dirname "$SRC")/shared/tools/helm-render/run" --name certsmith --namespace certsmith \
  -f "$WORK/values.yaml" "$SRC/charts/certsmith" | grep -o -- '--secret-namespaces=[^"]*')
[ "$args" = "--secret-namespaces=default,certsmith" ] || fail "the chart's Deployment passes '$args'"
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller "$args"
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

certificate here here.secretns.example pebble | kubectl apply -f - >/dev/null || fail "Certificate here"
wait_for 120 ready certificate here default True || fail "Certificate here (namespace default) not Ready"
kubectl get secret here-tls >/dev/null || fail "no Secret here-tls"
grep -q "caches did not sync" "$WORK/controller.log" && fail "the controller's caches did not sync"
echo "ok: with Secrets granted in default and certsmith only, the controller watches them there and issues in default"

kubectl create namespace shop >/dev/null || fail "namespace shop"
certificate away away.secretns.example pebble | sed 's/namespace: default/namespace: shop/' \
  | kubectl apply -f - >/dev/null || fail "Certificate away"
reason() { kubectl -n shop get certificate away -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}'; }
forbidden() { [ "$(reason)" = Forbidden ]; }
wait_for 60 forbidden || fail "Certificate away: Ready reason '$(reason)'"
msg=$(kubectl -n shop get certificate away -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
grep -qF 'missing RBAC permission: get secrets in API group "" in namespace "shop"' <<<"$msg" \
  || fail "Certificate away: the condition does not name the Secret permission: $msg"
kubectl -n shop get events --field-selector reason=Forbidden,type=Warning -o name | grep -q . \
  || fail "no Forbidden Warning event in namespace shop"
echo "ok: a Certificate in namespace shop: Ready=False Forbidden: $msg"
echo PASS
