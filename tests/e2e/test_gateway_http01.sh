#!/bin/bash
# End to end: http-01 through the Gateway API (controller flag --enable-gateway-api, chart value
# enableGatewayAPI). An EAB ClusterIssuer whose solver is http01.gatewayHTTPRoute, attached to
# Gateway infra/public of the testbed's GatewayClass, issues a two-name Certificate: an HTTPRoute
# per Challenge, attached to the Gateway (status.parents Accepted=True by the testbed's Gateway
# controller), routing exactly /.well-known/acme-challenge/<token> for the Challenge's name, exists
# while the Challenge is pending and is gone afterwards. A Gateway whose listener admits only
# routes of its own namespace refuses the route: the Challenge carries the Gateway's reason
# (NotAllowedByListeners) in its conditions and a Warning event, the CA is not asked to validate,
# and deleting the Certificate removes the route.
E2E_CHART_SET=(enableGatewayAPI=true "${E2E_CHART_SET[@]}")
. "$(dirname "$0")/lib.sh"
testbed_up
[ "${TESTBED_GATEWAY_API:-0}" = 1 ] || { echo "SKIP: the testbed serves no Gateway API: ${TESTBED_GATEWAY_API_WHY:-unknown}"; exit 77; }

kubectl create namespace infra >/dev/null || fail "namespace infra"
kubectl apply -f - >/dev/null <<YAML || fail "Gateways"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  gatewayClassName: $GATEWAY_CLASS
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    hostname: "*.gw.e2e.example"
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: private, namespace: infra}
spec:
  gatewayClassName: $GATEWAY_CLASS
  listeners:
  - name: http
    protocol: HTTP
    port: 80
    allowedRoutes: {namespaces: {from: Same}}
YAML
gateway_programmed() { [ "$(kubectl get gateway "$1" -n infra -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status}')" = True ]; }
wait_for 30 gateway_programmed public || fail "Gateway infra/public not Programmed by the testbed"

gateway_solver() {  # GATEWAY: an http01.gatewayHTTPRoute solver item attached to infra/GATEWAY
  cat <<YAML
    - http01:
        gatewayHTTPRoute:
          parentRefs: [{name: $1, namespace: infra, sectionName: http}]
          labels: {e2e: gateway-http01}
YAML
}
issuer_with_solvers gw "$(gateway_solver public)" | kubectl apply -f - >/dev/null || fail "ClusterIssuer gw"
issuer_with_solvers refused "$(gateway_solver private)" | kubectl apply -f - >/dev/null || fail "ClusterIssuer refused"
start_controller --enable-gateway-api
wait_for 60 ready clusterissuer gw "" True || fail "ClusterIssuer gw not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"

# Every HTTPRoute event in namespace default, from before the Certificate exists: the routes come
# and go within seconds, so they are checked from this record afterwards.
kubectl get httproutes -n default --watch --output-watch-events -o json >"$WORK/routes.json" 2>"$WORK/routes.err" &
HELPER_PIDS+=($!)
sleep 1

# 1. A two-name Certificate issued through HTTPRoutes.
certificate shop a.gw.e2e.example,b.gw.e2e.example gw | kubectl apply -f - >/dev/null || fail "Certificate shop"
route_seen() { [ "$(kubectl get httproutes -n default -o name | wc -l)" -ge 1 ]; }
wait_for 60 route_seen || fail "no HTTPRoute while the Challenges are pending"
wait_for 180 ready certificate shop default True || fail "Certificate shop not Ready"
secret_files shop-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/shop-tls.crt" "$WORK/shop-tls.crt" >/dev/null \
  || fail "shop-tls does not verify against Pebble's root"
key_matches "$WORK/shop-tls.crt" "$WORK/shop-tls.key" || fail "shop-tls: tls.key does not match"
san=$(openssl x509 -in "$WORK/shop-tls.crt" -noout -ext subjectAltName)
grep -q "DNS:a.gw.e2e.example" <<<"$san" && grep -q "DNS:b.gw.e2e.example" <<<"$san" || fail "SAN: $san"
echo "ok: Certificate shop Ready through HTTPRoutes, both names in the SAN, chain verifies"

routes_gone() { [ -z "$(kubectl get httproutes -n default -o name)" ]; }
wait_for 30 routes_gone || fail "HTTPRoutes left after issuance: $(kubectl get httproutes -n default -o name)"
kubectl get pods,services -n default -l acme.certsmith.io/http01-solver=true -o name | grep -q . \
  && fail "solver Pods or Services left behind"
sleep 1  # the watch delivers the last DELETED events
python3 - "$WORK/routes.json" "$GATEWAY_CONTROLLER" "$(kubectl get challenges -n default -o json 2>/dev/null)" <<'PY' || fail "HTTPRoutes seen during issuance"
import json, sys
text, controller = open(sys.argv[1]).read(), sys.argv[2]
dec, pos, events = json.JSONDecoder(), 0, []
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos == len(text):
        break
    obj, pos = dec.raw_decode(text, pos)
    events.append(obj)
routes = {}
for e in events:
    r = e["object"]
    entry = routes.setdefault(r["metadata"]["name"], {"added": False, "deleted": False,
                                                      "accepted": False, "obj": r})
    entry["added"] |= e["type"] == "ADDED"
    entry["generation"] = max(entry.get("generation", 0), r["metadata"].get("generation", 0))
    entry["deleted"] |= e["type"] == "DELETED"
    for p in (r.get("status") or {}).get("parents") or []:
        if p.get("controllerName") == controller and any(
                c["type"] == "Accepted" and c["status"] == "True" for c in p["conditions"]):
            entry["accepted"] = True
errors = []
hosts = set()
for name, e in routes.items():
    spec = e["obj"]["spec"]
    refs = [(p.get("name"), p.get("namespace"), p.get("sectionName")) for p in spec["parentRefs"]]
    if refs != [("public", "infra", "http")]:
        errors.append(f"{name}: parentRefs {refs}")
    rules = spec.get("rules") or []
    paths = [(m.get("path") or {}) for r in rules for m in r.get("matches") or []]
    if len(paths) != 1 or paths[0].get("type") != "Exact" or not paths[0].get(
            "value", "").startswith("/.well-known/acme-challenge/") or len(paths[0]["value"]) <= 28:
        errors.append(f"{name}: matches {paths} (want one Exact /.well-known/acme-challenge/TOKEN)")
    if len(spec.get("hostnames") or []) != 1:
        errors.append(f"{name}: hostnames {spec.get('hostnames')}")
    hosts.update(spec.get("hostnames") or [])
    if (e["obj"]["metadata"].get("labels") or {}).get("e2e") != "gateway-http01":
        errors.append(f"{name}: the solver's labels are not on the route")
    if not e["accepted"]:
        errors.append(f"{name}: never Accepted by the testbed's Gateway")
    if not e["deleted"]:
        errors.append(f"{name}: never deleted")
    if e["generation"] != 1:  # the controller wrote its spec after creating it
        errors.append(f"{name}: spec rewritten (generation {e['generation']})")
if hosts != {"a.gw.e2e.example", "b.gw.e2e.example"}:
    errors.append(f"route hostnames {sorted(hosts)}")
for err in errors:
    print(err)
if not routes:
    print("no HTTPRoute event recorded:", open(sys.argv[1] + "").read()[:300])
sys.exit(1 if errors or not routes else 0)
PY
echo "ok: one HTTPRoute per name (Exact challenge path, its host, parent infra/public, the solver's labels), Accepted by the Gateway, deleted afterwards"

# 2. A Gateway that refuses the route: its reason on the Challenge, no validation asked.
certificate nope nope.gw.e2e.example refused | kubectl apply -f - >/dev/null || fail "Certificate nope"
refused_reason() {
  local ch
  ch=$(challenges_of nope | head -n1)
  [ -n "$ch" ] && kubectl get -n default "$ch" -o json | python3 -c '
import json, sys
c = json.load(sys.stdin)
conds = (c.get("status") or {}).get("conditions") or []
sys.exit(0 if any(x.get("reason") == "NotAllowedByListeners" and "infra/private" in x.get("message", "")
                  for x in conds) else 1)'
}
wait_for 60 refused_reason || fail "the Challenge of nope does not carry NotAllowedByListeners from Gateway infra/private: $(kubectl get -n default "$(challenges_of nope | head -n1)" -o jsonpath='{.status}' 2>&1)"
ch=$(challenges_of nope | head -n1)
ch_name=${ch#*/}
challenge_warning() {
  kubectl get events -n default --field-selector "involvedObject.name=$ch_name,type=Warning" \
    -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -q NotAllowedByListeners
}
wait_for 30 challenge_warning || fail "no Warning event on $ch carrying NotAllowedByListeners"
route=$(kubectl get httproutes -n default -o name | head -n1)
[ -n "$route" ] || fail "no HTTPRoute for the refused Challenge"
[ "$(kubectl get -n default "$route" -o jsonpath='{.status.parents[0].conditions[?(@.type=="Accepted")].reason}')" = NotAllowedByListeners ] \
  || fail "the testbed did not refuse $route: $(kubectl get -n default "$route" -o jsonpath='{.status}')"
state=$(kubectl get -n default "$ch" -o jsonpath='{.status.state}')
case $state in valid|invalid) fail "the refused Challenge went to the CA: state $state" ;; esac
ready certificate nope default True && fail "Certificate nope Ready through a refused route"
echo "ok: the refused route shows on $ch (NotAllowedByListeners, Warning event), state '${state:-none}'"

# 3. Someone edits the solver's route: the controller puts its host back (the edit wakes the
# Challenge; the refused Challenge's own next look is 30 s or more away).
kubectl patch -n default "$route" --type merge -p '{"spec":{"hostnames":["elsewhere.gw.e2e.example"]}}' \
  >/dev/null || fail "editing $route"
route_host_back() { [ "$(kubectl get -n default "$route" -o jsonpath='{.spec.hostnames[0]}')" = nope.gw.e2e.example ]; }
wait_for 20 route_host_back || fail "the edited $route was not put back: $(kubectl get -n default "$route" -o jsonpath='{.spec.hostnames}')"
generation=$(kubectl get -n default "$route" -o jsonpath='{.metadata.generation}')
sleep 3
[ "$(kubectl get -n default "$route" -o jsonpath='{.metadata.generation}')" = "$generation" ] \
  || fail "$route is rewritten again and again (generation $generation, then $(kubectl get -n default "$route" -o jsonpath='{.metadata.generation}'))"
echo "ok: the edited route was put back once (generation $generation)"
kubectl delete certificate nope >/dev/null || fail "deleting Certificate nope"
wait_for 30 routes_gone || fail "the refused route is left after its Certificate was deleted"
echo "ok: deleting the Certificate removed the refused route"
echo PASS
