#!/bin/bash
# cert-manager's documentation examples for Certificate, Issuer and ClusterIssuer (ACME), written
# here with apiVersion certsmith.io/v1 and nothing else changed (examples/), pass
# `kubectl apply --validate=strict` on a real Kubernetes API server (../shared/tools/kube) with
# certsmith's CRDs: no unknown field, no schema error. What the controller then does with each
# (accept, or refuse one field with its reason) is checked by api_unit_test (SamplesTest) from
# the "# controller:" line of each file. As a control, an unknown field is refused by the same
# strict apply, so the check can fail.
set -u
SRC=${CERTSMITH_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
KUBE=${CERTSMITH_KUBE_TOOL:-$SRC/../shared/tools/kube/run}
command -v kubectl >/dev/null || { echo "SKIP: kubectl not installed"; exit 77; }
[ -x "$KUBE" ] || { echo "SKIP: no ../shared/tools/kube"; exit 77; }
WORK=$(mktemp -d -t certsmith-cmcompat.XXXXXX)
cleanup() { "$KUBE" down --workdir "$WORK" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$KUBE" up --workdir "$WORK" --max-lifetime 300 >"$WORK/up.log" 2>&1 || {
  rc=$?; cat "$WORK/up.log"; [ $rc -eq 77 ] && exit 77; fail "kube up"; }
. "$WORK/env"
export KUBECONFIG
kubectl apply --validate=strict -f "$SRC/crds/" >/dev/null || fail "CRDs"
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null || fail "CRDs not established"
kubectl create namespace sandbox >/dev/null || fail "namespace"

n=0
for f in "$SRC"/tests/integration/cmcompat/examples/*.yaml; do
  grep -q '^apiVersion: certsmith.io/v1' "$f" || fail "$f: not apiVersion certsmith.io/v1"
  out=$(kubectl apply --validate=strict --dry-run=server -f "$f" 2>&1) || fail "$(basename "$f"): $out"
  n=$((n + 1))
done
[ $n -ge 10 ] || fail "only $n examples"
# Applied for real too (not only dry-run): the objects are stored as written.
kubectl apply --validate=strict -f "$SRC/tests/integration/cmcompat/examples/" >/dev/null || fail "apply"
[ "$(kubectl get certificate example-com -n sandbox -o jsonpath='{.spec.keystores.pkcs12.profile}')" = Modern2023 ] \
  || fail "keystores not stored"
[ "$(kubectl get clusterissuer letsencrypt-staging -o jsonpath='{.spec.acme.profile}')" = tlsserver ] \
  || fail "profile not stored"
echo "ok: $n cert-manager documentation examples pass kubectl apply --validate=strict"

# The control: strict validation does refuse what the CRDs do not know.
bad=$(sed 's/^  secretName: literal-subject-tls/  secretName: literal-subject-tls\n  notAField: 1/' \
  "$SRC/tests/integration/cmcompat/examples/certificate-literal-subject.yaml")
out=$(kubectl apply --validate=strict --dry-run=server -f - <<<"$bad" 2>&1) && fail "unknown field accepted"
grep -q 'unknown field "spec.notAField"' <<<"$out" || fail "unexpected refusal: $out"
echo "ok: an unknown field is refused ($(grep -o "unknown field \"[^\"]*\"" <<<"$out"))"
echo PASS
