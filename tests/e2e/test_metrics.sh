#!/bin/bash
# End to end: two controllers with --leader-elect against the testbed. Both answer /healthz and
# /readyz 200 (a synced standby is ready: it can take over at once); certsmith_leader is 1 on the
# leader only. After a Certificate is issued the leader's /metrics has its expiry equal to the
# Secret's notAfter, Ready=True, ACME request and order counters; deleting the Certificate removes
# its series; killing the leader makes the standby lead and export the remaining Certificate.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
testbed_up
issuer pebble pebble-eab | kubectl apply -f - >/dev/null || fail "ClusterIssuer"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=()
# start_replica NAME PORT: a controller with leader election and a metrics endpoint.
start_replica() {
  "$BIN" controller --kubeconfig "$CONTROLLER_KUBECONFIG" --leader-elect --leader-election-namespace certsmith \
    --cluster-resource-namespace certsmith --metrics-listen "127.0.0.1:$2" "${SELF_CHECK_FLAGS[@]}" \
    >>"$WORK/controller-$1.log" 2>&1 &
  PIDS+=($!)
}
stop_replicas() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
on_exit stop_replicas  # before the teardown; e2e_cleanup keeps the script's status

PORT_A=$(free_port); start_replica a "$PORT_A"; PID_A=${PIDS[0]}
PORT_B=$(free_port); start_replica b "$PORT_B"; PID_B=${PIDS[1]}

status_of() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }
scrape() { curl -sf "http://127.0.0.1:$1/metrics"; }
# value PORT SERIES: the value of one exact series (name{labels}), empty if absent.
value() { scrape "$1" | awk -v s="$2" 'index($0, s" ") == 1 { print $2 }'; }
# status_is PORT PATH CODE, series_is PORT SERIES VALUE: re-evaluated on each wait_for try.
status_is() { [ "$(status_of "$1" "$2")" = "$3" ]; }
series_is() { [ "$(value "$1" "$2")" = "$3" ]; }
is_leader() { series_is "$1" certsmith_leader 1; }
# at_least PORT SERIES N: the series exists and is >= N.
at_least() { local v; v=$(value "$1" "$2"); [ -n "$v" ] && awk -v v="$v" -v n="$3" 'BEGIN { exit !(v >= n) }'; }

for port in "$PORT_A" "$PORT_B"; do
  wait_for 60 status_is "$port" /readyz 200 || fail "/readyz on :$port not 200"
  [ "$(status_of "$port" /healthz)" = 200 ] || fail "/healthz on :$port not 200"
done
wait_for 60 bash -c "curl -sf http://127.0.0.1:$PORT_A/metrics http://127.0.0.1:$PORT_B/metrics | grep -qx 'certsmith_leader 1'" \
  || fail "no replica became leader"
if is_leader "$PORT_A"; then LEADER=$PORT_A; STANDBY=$PORT_B; STANDBY_PID=$PID_B; LEADER_PID=$PID_A
else LEADER=$PORT_B; STANDBY=$PORT_A; STANDBY_PID=$PID_A; LEADER_PID=$PID_B; fi
[ "$(value "$STANDBY" certsmith_leader)" = 0 ] || fail "standby does not say certsmith_leader 0"
[ "$(status_of "$STANDBY" /readyz)" = 200 ] || fail "standby /readyz not 200"
echo "ok: leader :$LEADER and standby :$STANDBY both live and ready; certsmith_leader 1 / 0"

certificate web www.metrics.example pebble | kubectl apply -f - >/dev/null || fail "Certificate"
certificate keep keep.metrics.example pebble | kubectl apply -f - >/dev/null || fail "Certificate keep"
wait_for 120 ready certificate web default True || fail "Certificate web not Ready"
wait_for 120 ready certificate keep default True || fail "Certificate keep not Ready"
secret_files web-tls
not_after=$(date -u -d "$(openssl x509 -in "$WORK/web-tls.crt" -noout -enddate | cut -d= -f2)" +%s)
CERT='namespace="default",name="web",issuer_kind="ClusterIssuer",issuer_name="pebble"'
HOST=$(printf '%s' "$ACME_SERVER" | sed -E 's#^[a-z]+://([^/]+).*#\1#' | tr 'A-Z' 'a-z')
wait_for 20 series_is "$LEADER" "certsmith_certificate_expiration_timestamp_seconds{$CERT}" "$not_after" \
  || fail "expiry gauge $(value "$LEADER" "certsmith_certificate_expiration_timestamp_seconds{$CERT}") != Secret notAfter $not_after"
[ "$(value "$LEADER" "certsmith_certificate_ready_status{$CERT,condition=\"True\"}")" = 1 ] || fail "ready_status True != 1"
[ "$(value "$LEADER" "certsmith_certificate_ready_status{$CERT,condition=\"False\"}")" = 0 ] || fail "ready_status False != 0"
renewal=$(value "$LEADER" "certsmith_certificate_renewal_timestamp_seconds{$CERT}")
[ -n "$renewal" ] && [ "$renewal" -lt "$not_after" ] && [ "$renewal" -gt "$(date +%s)" ] || fail "renewal gauge $renewal"
echo "ok: expiry gauge = Secret notAfter ($not_after), renewal at $renewal, Ready=True"

[ "$(value "$LEADER" 'certsmith_issuer_ready_status{kind="ClusterIssuer",namespace="",name="pebble",condition="True"}')" = 1 ] \
  || fail "issuer ready gauge"
for ep in 'directory",method="GET",status="200' 'newNonce",method="HEAD",status="200' \
          'newAccount",method="POST",status="201' 'newOrder",method="POST",status="201' \
          'authz",method="POST",status="200' 'challenge",method="POST",status="200' \
          'finalize",method="POST",status="200' 'cert",method="POST",status="200'; do
  at_least "$LEADER" "certsmith_acme_client_requests_total{host=\"$HOST\",endpoint=\"$ep\"}" 1 \
    || fail "no ACME request counted for $ep"
done
at_least "$LEADER" "certsmith_acme_client_request_duration_seconds_count{host=\"$HOST\",endpoint=\"newOrder\",method=\"POST\"}" 1 \
  || fail "no newOrder duration observed"
at_least "$LEADER" 'certsmith_acme_orders_finished_total{state="valid"}' 1 || fail "orders valid counter"
# The Order can see its authorization valid at the CA before the Challenge sync records it.
wait_for 30 at_least "$LEADER" 'certsmith_acme_challenges_finished_total{state="valid"}' 1 \
  || fail "challenges valid counter"
at_least "$LEADER" 'certsmith_controller_syncs_total{controller="certificates",result="success"}' 1 || fail "sync counter"
[ -n "$(value "$LEADER" 'certsmith_workqueue_depth{controller="orders"}')" ] || fail "no workqueue depth"
# The API client's own limit: 50 QPS unless adapted (it can only have grown: no 429 here).
at_least "$LEADER" 'certsmith_kube_client_rate_limit_qps{client="reconcilers"}' 50 || fail "no client rate limit gauge"
[ "$(value "$LEADER" 'certsmith_kube_client_throttled_total{client="events"}')" = 0 ] || fail "events client throttled"
wait_for 30 series_is "$LEADER" certsmith_acme_challenges_in_flight 0 || fail "challenges still in flight"
# Bounded labels: no series names an order, authorization or challenge by its URL or token.
scrape "$LEADER" | grep -E '^certsmith_' | grep -Eq 'https?://|/my-order/|/authZ/|/chalZ/' && fail "a label carries a URL"
scrape "$LEADER" | grep -q 'endpoint="other"' && fail "an ACME request was not classified: $(scrape "$LEADER" | grep 'endpoint="other"')"
scrape "$STANDBY" | grep -q '^certsmith_certificate_' && fail "the standby exports Certificate series"
echo "ok: issuer, ACME request/duration, order, challenge, sync and workqueue metrics on the leader; none of them on the standby"

kubectl delete certificate web >/dev/null || fail "deleting Certificate"
wait_for 30 bash -c "! curl -sf http://127.0.0.1:$LEADER/metrics | grep -q 'name=\"web\"'" \
  || fail "deleted Certificate's series still exported"
scrape "$LEADER" | grep -q 'name="keep"' || fail "deleting web removed keep's series too"
echo "ok: deleting the Certificate removed its series (and only its)"

kill "$LEADER_PID"; wait "$LEADER_PID" 2>/dev/null
wait_for 60 is_leader "$STANDBY" || fail "standby did not take over"
[ "$(status_of "$STANDBY" /readyz)" = 200 ] || fail "new leader /readyz"
secret_files keep-tls
keep_not_after=$(date -u -d "$(openssl x509 -in "$WORK/keep-tls.crt" -noout -enddate | cut -d= -f2)" +%s)
KEEP='namespace="default",name="keep",issuer_kind="ClusterIssuer",issuer_name="pebble"'
wait_for 30 series_is "$STANDBY" "certsmith_certificate_expiration_timestamp_seconds{$KEEP}" "$keep_not_after" \
  || fail "the new leader does not export keep's expiry $keep_not_after"
scrape "$STANDBY" | grep -q 'name="web"' && fail "the new leader exports the deleted Certificate"
echo "ok: after the leader stopped, the standby leads (certsmith_leader 1) and exports the expiry of the Certificates it found"
echo PASS
