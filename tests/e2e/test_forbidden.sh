#!/bin/bash
# End to end, on the real control plane (RBAC enforced): the controller runs as the chart's
# ServiceAccount; one permission is taken out of the chart's ClusterRole at a time. A refused
# request becomes a Warning event "Forbidden" and a Ready=False condition, reason Forbidden, whose
# message names the missing permission: on the Certificate when creating its Order is refused, and
# on the Challenge (event) and its Certificate (event and condition) when creating the solver's
# Service is. Once the rule is back, the Certificate is issued without anyone touching it.
# Needs the real control plane (exit 77 without it).
. "$(dirname "$0")/lib.sh"
E2E_ALLOW_FORBIDDEN=1  # the refusals are the point
testbed_up --kube real
ROLE=certsmith-controller
kubectl get clusterrole "$ROLE" -o json >"$WORK/role.json" || fail "reading ClusterRole $ROLE"

# without GROUP RESOURCE VERB: the chart's ClusterRole minus that verb on that resource.
without() {
  python3 - "$WORK/role.json" "$@" <<'PY' | kubectl replace -f - >/dev/null
import json, sys
role = json.load(open(sys.argv[1]))
group, resource, verb = sys.argv[2:5]
for rule in role["rules"]:
    if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
        rule["verbs"] = [v for v in rule["verbs"] if v != verb]
for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    role["metadata"].pop(key, None)
print(json.dumps(role))
PY
}
restore() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
for k in ("resourceVersion","uid","creationTimestamp","managedFields"): r["metadata"].pop(k, None)
print(json.dumps(r))' "$WORK/role.json" | kubectl replace -f - >/dev/null
}
condition() { kubectl get certificate "$1" -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].$2}"; }
reason_is() { [ "$(condition "$1" reason)" = "$2" ]; }
event_on() {  # KIND NAME: the messages of its Forbidden Warning events
  kubectl get events -n default --field-selector "involvedObject.kind=$1,involvedObject.name=$2,reason=Forbidden,type=Warning" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}
has_event() { event_on "$1" "$2" | grep -qF "$3"; }

issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer pebble "" True || fail "ClusterIssuer pebble not Ready"

# 1. No `create` on Orders: the Certificate says so.
without acme.certsmith.io orders create || fail "editing the ClusterRole"
certificate one one.forbidden.example pebble | kubectl apply -f - >/dev/null || fail "Certificate one"
want='missing RBAC permission: create orders in API group "acme.certsmith.io" in namespace "default" (user system:serviceaccount:certsmith:certsmith)'
wait_for 60 reason_is one Forbidden || fail "Certificate one: Ready reason $(condition one reason): $(condition one message)"
[ "$(condition one status)" = False ] || fail "Certificate one: Ready is $(condition one status)"
condition one message | grep -qF "$want" || fail "Certificate one: the condition does not name the permission: $(condition one message)"
wait_for 30 has_event Certificate one "$want" || fail "no Forbidden Warning event on Certificate one: $(event_on Certificate one)"
echo "ok: Order creation refused -> Certificate one Ready=False Forbidden: $want"

restore || fail "restoring the ClusterRole"
wait_for 180 ready certificate one default True || fail "Certificate one not Ready once the rule is back: $(condition one message)"
echo "ok: with the rule back, Certificate one is issued; Ready=True ($(condition one reason))"

# 2. No `create` on Services (the chart grants it with Pods': both go): the http-01 solver
# cannot be presented; the Challenge and its Certificate say so.
without "" services create || fail "editing the ClusterRole"
certificate two two.forbidden.example pebble | kubectl apply -f - >/dev/null || fail "Certificate two"
want='missing RBAC permission: create services in API group "" in namespace "default"'
wait_for 60 reason_is two Forbidden || fail "Certificate two: Ready reason $(condition two reason): $(condition two message)"
condition two message | grep -qF "$want" || fail "Certificate two: the condition does not name the permission: $(condition two message)"
challenge=$(kubectl get challenges -n default -l certsmith.io/certificate-name=two -o jsonpath='{.items[0].metadata.name}')
[ -n "$challenge" ] || fail "no Challenge for Certificate two"
wait_for 30 has_event Challenge "$challenge" "$want" || fail "no Forbidden Warning event on Challenge $challenge"
wait_for 30 has_event Certificate two "$want" || fail "no Forbidden Warning event on Certificate two"
kubectl describe certificate two | grep -q "Warning  Forbidden" || fail "kubectl describe certificate two shows no Forbidden event"
echo "ok: solver Service creation refused -> Challenge $challenge and Certificate two say: $want"

restore || fail "restoring the ClusterRole"
wait_for 180 ready certificate two default True || fail "Certificate two not Ready once the rule is back: $(condition two message)"
echo "ok: with the rule back, Certificate two is issued"

# The refusals reached the API server as the chart's ServiceAccount, and only those two.
refused=$("$SRC/tests/e2e/rbac.py" forbidden --audit "$TESTBED_AUDIT_LOG" --user "$CONTROLLER_USER")
grep -q "create orders" <<<"$refused" && grep -q "create services" <<<"$refused" || fail "audit log: $refused"
[ "$(grep -c . <<<"$refused")" = 2 ] || fail "other refusals than the two provoked: $refused"
echo PASS
