#!/bin/bash
# End to end, cnameStrategy: Follow (seed 001): _acme-challenge.c.example is a CNAME to
# c.acme-delegation.example, where the platform team lets certsmith write. The TXT record is
# written where the chain ends (the Challenge says so in status.dns01), Pebble follows the CNAME
# and validates, the Certificate ends Ready, the value is removed and the CNAME stays.
# The alias stays inside the zone: the testbed's BIND (9.18, recursion off) answers only the
# CNAME when its target is in another zone, even one it serves, and Pebble asks it directly, with
# no recursive resolver to follow the alias. certsmith's own following across zones is tested against
# FakeDns (tests/unit/reconcilers/dns01_challenge_test.cc) and BIND (tests/integration/dns01).
. "$(dirname "$0")/lib.sh"
command -v dig >/dev/null || { echo "SKIP: dig not installed (bind9-dnsutils)"; exit 77; }
command -v nsupdate >/dev/null || { echo "SKIP: nsupdate not installed (bind9-dnsutils)"; exit 77; }
testbed_up --dns bind --bind-zone example
nsupdate_testbed "zone example." \
  "update add _acme-challenge.c.example. 60 CNAME c.acme-delegation.example." || fail "adding the CNAME"
tsig_secret tsig
issuer_with_solvers follow "$(rfc2136_solver tsig 'cnameStrategy: Follow')" | kubectl apply -f - >/dev/null \
  || fail "ClusterIssuer"
start_controller --dns01-recursive-nameservers "$TESTBED_DNS" --dns01-recursive-nameservers-only
wait_for 60 ready clusterissuer follow "" True || fail "ClusterIssuer follow not Ready"
fetch_root "$WORK/root.pem" || fail "fetching Pebble's root"

certificate aliased c.example follow | kubectl apply -f - >/dev/null || fail "Certificate"
wait_for 120 ready certificate aliased default True || fail "Certificate aliased not Ready"
ch=$(challenges_of aliased)
fqdn=$(kubectl get "$ch" -o jsonpath='{.status.dns01.resolvedFQDN}')
zone=$(kubectl get "$ch" -o jsonpath='{.status.dns01.resolvedZone}')
[ "$fqdn" = c.acme-delegation.example. ] && [ "$zone" = example. ] || fail "written at $fqdn in $zone"
secret_files aliased-tls
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/aliased-tls.crt" "$WORK/aliased-tls.crt" \
  >/dev/null || fail "the chain does not verify"
wait_for 10 no_txt c.acme-delegation.example || fail "TXT left behind at c.acme-delegation.example"
[ "$(dig +short +norecurse @"${TESTBED_DNS%:*}" -p "${TESTBED_DNS##*:}" CNAME _acme-challenge.c.example)" \
  = c.acme-delegation.example. ] || fail "the CNAME is gone"
echo "ok: written at $fqdn in zone $zone, Ready, value removed, CNAME kept"
echo PASS
