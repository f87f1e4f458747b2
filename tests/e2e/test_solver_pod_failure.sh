#!/bin/bash
# End to end: an http-01 solver Pod that exits at once (issue #12). The Challenge gets a Warning
# event and condition SolverReady=False with the Pod's reason and message within seconds, the
# Certificate's Ready message says so while the Pod is replaced after a backoff, and the
# Certificate is Ready once the working replacement serves the challenge.
. "$(dirname "$0")/lib.sh"
# The testbed kubelet runs solver Pods with --certsmith-bin: this one exits with code 3 the first
# two times it is started as a solver (replaced after 5 s, then 10 s), and is the real certsmith
# from then on.
cat >"$WORK/flaky-certsmith" <<SH
#!/bin/bash
if [ "\$1" = solver ] && { mkdir "$WORK/solver-failed-1" || mkdir "$WORK/solver-failed-2"; } 2>/dev/null; then
  echo "flaky solver: failing on purpose" >&2
  exit 3
fi
exec "$BIN" "\$@"
SH
chmod +x "$WORK/flaky-certsmith"
testbed_up --certsmith-bin "$WORK/flaky-certsmith"
pebble_issuer_ready
certificate flaky flaky.e2e.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
t0=$SECONDS
# Every Ready message the Certificate goes through (the one naming the Pod lasts only while the
# replacement waits).
kubectl get certificate flaky --watch \
  -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}{"\n"}' >"$WORK/ready-messages" 2>&1 &
WATCH_PID=$!
on_exit "kill $WATCH_PID 2>/dev/null"

warning() {
  kubectl get events -n default --field-selector reason=SolverPodFailed,type=Warning \
    -o jsonpath='{.items[*].message}' | grep -q "exited with code 3"
}
wait_for 20 warning || fail "no SolverPodFailed Warning event on the Challenge"
echo "ok: Warning on the Challenge $((SECONDS - t0)) s after the Certificate was applied"
ev=$(kubectl get events -n default --field-selector reason=SolverPodFailed \
  -o jsonpath='{.items[0].involvedObject.kind} {.items[0].message}')
[[ "$ev" == Challenge*"solver Pod cm-acme-http-solver-"*"failed (Error)"*"flaky solver: failing on purpose"* ]] ||
  fail "the event does not carry the Pod's reason and message: $ev"
cond=$(kubectl get challenges -n default -o jsonpath='{.items[0].status.conditions[?(@.type=="SolverReady")].reason}')
[ "$cond" = Error ] || fail "Challenge condition SolverReady reason '$cond', want Error"
# The Certificate names the failing solver while the replacement waits out its backoff.
cert_says() { grep -q "is waiting: challenge [^ ]* *for flaky.e2e.example: solver Pod cm-acme-http-solver-.* failed (Error)" "$WORK/ready-messages"; }
wait_for 20 cert_says || fail "the Certificate's Ready message never named the failed solver Pod:" \
  "$(cat "$WORK/ready-messages")"
echo "ok: Challenge SolverReady=False reason '$cond'; the Certificate's Ready message named the Pod:"
grep -m1 "solver Pod" "$WORK/ready-messages" | sed 's/^/    /'

wait_for 90 ready certificate flaky default True || fail "Certificate not Ready after the replacement"
echo "ok: Ready $((SECONDS - t0)) s after apply, served by the third solver Pod"
failures=$(kubectl get challenges -n default -o jsonpath='{.items[0].status.solverPodFailures}')
[ "$failures" = 2 ] || fail "Challenge status.solverPodFailures is '$failures', want 2"
count=$(kubectl get events -n default --field-selector reason=SolverPodFailed \
  -o jsonpath='{range .items[*]}{.count}{"\n"}{end}' | awk '{ n += $1 } END { print n }')
[ "$count" = 2 ] || fail "$count SolverPodFailed events, want 2 (one per failed Pod)"
[ "$(kubectl get orders -n default -o name | wc -l)" -eq 1 ] || fail "more than one Order"
secret_files flaky-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/flaky-tls.crt" "$WORK/flaky-tls.crt" \
  >/dev/null || fail "the certificate does not verify against Pebble's root"
[ "$(kubectl get pods -n default -l acme.certsmith.io/http01-solver -o name | wc -l)" -eq 0 ] ||
  fail "solver Pods left behind"
