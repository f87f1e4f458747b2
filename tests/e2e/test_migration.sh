#!/bin/bash
# End to end: moving from cert-manager without re-issuing. cert-manager's objects (its CRDs served
# by the API server, its ACME account, the TLS Secrets it wrote with certificates Pebble issued)
# are converted with `kubectl certsmith convert --from-cluster`; what certsmith lacks (a Route 53
# solver) is listed, the ClusterIssuer's Secrets are named to copy. Applied, the ClusterIssuer
# finds cert-manager's account (no new registration), the Certificate and the Certificate
# certsmith's Ingress shim makes from the converted Ingress adopt the existing Secrets: Ready at
# once, zero Orders, the same serials.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/bin" && ln -s "$BIN" "$WORK/bin/kubectl-certsmith"
export PATH="$WORK/bin:$PATH"
testbed_up

# 1. What cert-manager left: certificates Pebble issued (obtained here through a seed issuer),
#    in Secrets with cert-manager's annotations and RSA keys (its default).
issuer seed pebble-eab | kubectl apply -f - >/dev/null || fail "seed ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer seed "" True || fail "seed ClusterIssuer not Ready"
for name in shop blog; do
  certificate "seed-$name" "$name.migrate.example" seed | sed 's/^spec:/spec:\n  privateKey: {algorithm: RSA}/' \
    | kubectl apply -f - >/dev/null || fail "seed Certificate $name"
done
for name in shop blog; do
  wait_for 120 ready certificate "seed-$name" default True || fail "seed $name not Ready"
  secret_files "seed-$name-tls"
  kubectl create secret tls "$name-tls" --cert="$WORK/seed-$name-tls.crt" --key="$WORK/seed-$name-tls.key" \
    --dry-run=client -o json | python3 -c '
import json, sys
s = json.load(sys.stdin); name = sys.argv[1]
s["metadata"]["labels"] = {"controller.cert-manager.io/fao": "true"}
s["metadata"]["annotations"] = {
  "cert-manager.io/issuer-name": "pebble", "cert-manager.io/issuer-kind": "ClusterIssuer",
  "cert-manager.io/issuer-group": "cert-manager.io", "cert-manager.io/certificate-name": name,
  "cert-manager.io/alt-names": name.split("-")[0] + ".migrate.example"}
print(json.dumps(s))' "$name" | kubectl apply -f - >/dev/null || fail "cert-manager Secret $name-tls"
  kubectl delete certificate "seed-$name" >/dev/null && kubectl delete secret "seed-$name-tls" >/dev/null
  eval "serial_$name=$(openssl x509 -in "$WORK/seed-$name-tls.crt" -noout -serial | cut -d= -f2)"
done
echo "ok: cert-manager's Secrets shop-tls and blog-tls hold certificates from Pebble"

# cert-manager's ACME account (an RSA key, as cert-manager makes them) and its objects.
openssl genrsa -traditional -out "$WORK/cm-account.pem" 2048 2>/dev/null || fail "account key"
account=$(CERTSMITH_EAB_HMAC_KEY="$EAB_HMAC_KEY" "$BIN" acme register --server "$ACME_SERVER" \
  --ca-bundle "$ACME_CA_BUNDLE" --account-key "$WORK/cm-account.pem" --eab-kid "$EAB_KID" \
  --email ops@example.org | sed -n 's/^account: //p')
[ -n "$account" ] || fail "registering cert-manager's account"
kubectl create namespace cert-manager >/dev/null
kubectl -n cert-manager create secret generic cm-account --from-file=tls.key="$WORK/cm-account.pem" >/dev/null
kubectl -n cert-manager create secret generic cm-eab --from-literal=secret="$EAB_HMAC_KEY" >/dev/null
for kind in Certificate:certificates:Namespaced ClusterIssuer:clusterissuers:Cluster Issuer:issuers:Namespaced; do
  IFS=: read -r k plural scope <<<"$kind"
  cat <<YAML
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: $plural.cert-manager.io}
spec:
  group: cert-manager.io
  names: {kind: $k, plural: $plural, singular: $(tr '[:upper:]' '[:lower:]' <<<"$k")}
  scope: $scope
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
done | kubectl apply -f - >/dev/null || fail "cert-manager CRDs"
wait_for 30 kubectl get certificates.cert-manager.io -A || fail "cert-manager CRDs not served"
cat >"$WORK/cert-manager.yaml" <<YAML
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: pebble}
spec:
  acme:
    server: $ACME_SERVER
    email: ops@example.org
    caBundle: $CA_B64
    privateKeySecretRef: {name: cm-account}
    externalAccountBinding:
      keyID: $EAB_KID
      keySecretRef: {name: cm-eab, key: secret}
    solvers:
    - http01:
        ingress: {ingressClassName: $INGRESS_CLASS}
    - selector: {dnsZones: [aws.migrate.example]}
      dns01:
        route53: {region: eu-west-1}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: shop, namespace: default}
spec:
  secretName: shop-tls
  dnsNames: [shop.migrate.example]
  issuerRef: {name: pebble, kind: ClusterIssuer, group: cert-manager.io}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: blog
  namespace: default
  annotations: {cert-manager.io/cluster-issuer: pebble}
spec:
  tls:
  - hosts: [blog.migrate.example]
    secretName: blog-tls
  rules:
  - host: blog.migrate.example
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: blog, port: {number: 80}}}}]}
YAML
kubectl apply -f "$WORK/cert-manager.yaml" >/dev/null || fail "cert-manager objects"
# The Certificate cert-manager's ingress-shim made for the Ingress.
uid=$(kubectl get ingress blog -o jsonpath='{.metadata.uid}')
kubectl apply -f - >/dev/null <<YAML || fail "ingress-shim Certificate"
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: blog-tls
  namespace: default
  ownerReferences: [{apiVersion: networking.k8s.io/v1, kind: Ingress, name: blog, uid: "$uid", controller: true}]
spec:
  secretName: blog-tls
  dnsNames: [blog.migrate.example]
  issuerRef: {name: pebble, kind: ClusterIssuer, group: cert-manager.io}
YAML
echo "ok: cert-manager's account $account, ClusterIssuer, Certificate and annotated Ingress"

# 2. Convert from the cluster.
kubectl certsmith convert --from-cluster -A >"$WORK/converted.yaml" 2>"$WORK/notes.txt" \
  || fail "convert: $(cat "$WORK/notes.txt")"
grep -q "ClusterIssuer pebble: spec.acme.solvers\[1\].dns01.route53: \[not converted\].*dns01.webhook" "$WORK/notes.txt" \
  || fail "route53 not listed: $(cat "$WORK/notes.txt")"
grep -q "ClusterIssuer pebble: \[to do\] copy Secret(s) cm-account, cm-eab from cert-manager's namespace (cert-manager) to certsmith's (certsmith)" \
  "$WORK/notes.txt" || fail "Secrets to copy not named: $(cat "$WORK/notes.txt")"
grep -q "Certificate default/blog-tls: \[object skipped\] made by cert-manager's ingress-shim" "$WORK/notes.txt" \
  || fail "the ingress-shim Certificate: $(cat "$WORK/notes.txt")"
grep -q "^# Converted from cert-manager.io/v1 Certificate default/shop" "$WORK/converted.yaml" || fail "no comment header"
kubectl certsmith convert --from-cluster -A --strict >/dev/null 2>&1; [ $? = 3 ] || fail "--strict should exit 3"
echo "ok: convert listed the Route 53 solver, the Secrets to copy and the shim's Certificate"

# 3. Apply, after copying the ClusterIssuer's Secrets as told.
for s in cm-account cm-eab; do
  kubectl -n cert-manager get secret "$s" -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)
s["metadata"] = {"name": s["metadata"]["name"], "namespace": "certsmith"}
print(json.dumps(s))' | kubectl create -f - >/dev/null || fail "copying Secret $s"
done
kubectl apply -f "$WORK/converted.yaml" >/dev/null || fail "applying the converted objects"
wait_for 60 ready clusterissuer.certsmith.io pebble "" True || fail "converted ClusterIssuer not Ready"
[ "$(kubectl get clusterissuer.certsmith.io pebble -o jsonpath='{.status.acme.uri}')" = "$account" ] \
  || fail "the converted ClusterIssuer did not find cert-manager's account $account"
kubectl get events -A --field-selector reason=AccountRegistered -o jsonpath='{.items[*].involvedObject.name}' \
  | grep -qw pebble && fail "a new account was registered instead of cert-manager's"
wait_for 60 ready certificate.certsmith.io shop default True || fail "shop not Ready"
wait_for 60 ready certificate.certsmith.io blog-tls default True || fail "blog-tls (Ingress shim) not Ready"
sleep 3  # time for a wrong Order to show
for name in shop blog-tls; do
  n=$(kubectl get orders.acme.certsmith.io -l certsmith.io/certificate-name="$name" -o name | wc -l)
  [ "$n" = 0 ] || fail "$name: $n Orders, expected none"
  kubectl get events --field-selector "involvedObject.name=$name,reason=Adopted" -o name | grep -q . \
    || fail "$name: no Adopted event"
done
for name in shop blog; do
  secret_files "$name-tls"
  serial=$(openssl x509 -in "$WORK/$name-tls.crt" -noout -serial | cut -d= -f2)
  want=$(eval echo "\$serial_$name")
  [ "$serial" = "$want" ] || fail "$name-tls: serial $serial, expected cert-manager's $want"
  [ "$(kubectl get secret "$name-tls" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')" = certsmith ] \
    || fail "$name-tls not labelled for certsmith"
  [ "$(kubectl get secret "$name-tls" -o jsonpath='{.metadata.annotations.cert-manager\.io/issuer-name}')" = pebble ] \
    || fail "$name-tls lost cert-manager's annotations (a rollback needs them)"
done
[ "$(kubectl get certificate.certsmith.io shop -o jsonpath='{.status.revision}')" = 1 ] || fail "shop revision"
echo "ok: converted objects applied: account reused, both Secrets adopted (Ready, 0 Orders, same serials)"
echo PASS
