#!/bin/bash
# End to end, cleanup of dns-01 records when a Challenge ends without validation:
#  1. a Certificate deleted mid-challenge (its value presented, the propagation check still
#     waiting) leaves no TXT record, and its Order and Challenge go;
#  2. the same with the controller killed (SIGKILL) while it waits and the Certificate deleted
#     while it is down: the restarted controller removes the value from what the Challenge's
#     status recorded.
# The propagation check waits on purpose: the solver's nameservers list a second server that
# never answers (a resolver not yet updated), besides BIND.
. "$(dirname "$0")/lib.sh"
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
testbed_up --dns bind --bind-zone example
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tsig_secret tsig
issuer_with_solvers slow "$(rfc2136_solver tsig "nameservers: [\"$TESTBED_DNS\", \"127.0.0.1:$dead\"]")" \
  | kubectl apply -f - >/dev/null || fail "ClusterIssuer"
start_controller
wait_for 60 ready clusterissuer slow "" True || fail "ClusterIssuer slow not Ready"

has_txt() { [ -n "$(txt_values "$1")" ]; }
waiting() {  # CERT: its Challenge waits for propagation
  local ch; ch=$(challenges_of "$1")
  [ -n "$ch" ] && kubectl get "$ch" -o jsonpath='{.status.reason}' | grep -q "waiting for TXT"
}
gone() { [ -z "$(challenges_of "$1")" ] && [ -z "$(kubectl get orders -n default -l certsmith.io/certificate-name="$1" -o name)" ]; }

# 1. Deleted while waiting.
certificate mid d.example slow | kubectl apply -f - >/dev/null || fail "Certificate mid"
wait_for 60 waiting mid || fail "mid never waited for propagation"
has_txt _acme-challenge.d.example || fail "mid's value was not presented"
kubectl delete certificate mid >/dev/null || fail "deleting mid"
wait_for 30 no_txt _acme-challenge.d.example || fail "TXT left after deletion: $(txt_values _acme-challenge.d.example)"
wait_for 30 gone mid || fail "mid's Order or Challenge left behind"
echo "ok: deleted mid-challenge -> no TXT record, Order and Challenge gone"

# 2. Deleted while the controller is down.
certificate restart e.example slow | kubectl apply -f - >/dev/null || fail "Certificate restart"
wait_for 60 waiting restart || fail "restart never waited for propagation"
ch=$(challenges_of restart)
[ "$(kubectl get "$ch" -o jsonpath='{.status.dns01.resolvedFQDN}')" = _acme-challenge.e.example. ] \
  || fail "status does not record where the value is"
kill -9 "$CONTROLLER_PID"; wait "$CONTROLLER_PID" 2>/dev/null; CONTROLLER_PID=""
kubectl delete certificate restart --wait=false >/dev/null || fail "deleting restart"
sleep 2
has_txt _acme-challenge.e.example || fail "the value went without a controller?"
start_controller
wait_for 30 no_txt _acme-challenge.e.example || fail "TXT left after the restart"
wait_for 30 gone restart || fail "restart's Order or Challenge left behind"
echo "ok: deleted while the controller was down -> removed after its restart"
echo PASS
