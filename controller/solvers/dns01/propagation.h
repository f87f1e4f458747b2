// The check made before the CA is asked to validate: is the TXT value visible where the CA will
// look? By default at every authoritative server of the zone (its NS records, found through the
// lookup servers, each asked without recursion on port 53). With only_lookup_servers (a solver's
// dns01.nameservers, or --dns01-recursive-nameservers-only) at the lookup servers instead, for
// clusters whose egress reaches no authoritative server.
//
// One call is one round of queries; the caller (the Challenge reconciler) waits between rounds
// with a delayed requeue of NextCheckDelay(failed rounds), never a sleep.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "solvers/dns01/dns_client.h"
#include "solvers/dns01/zone_lookup.h"

namespace certsmith::solvers::dns01 {

struct PropagationConfig {
  LookupServers lookup;
  bool only_lookup_servers = false;
  uint16_t authoritative_port = 53;
};

// What one server showed for the record.
struct ServerCheck {
  std::string server;               // "ns1.example.org. 192.0.2.1:53" or "10.0.0.53:53"
  std::vector<std::string> values;  // the TXT values it answered with
  std::string error;                // no answer, or its rcode when not NOERROR/NXDOMAIN
  bool found = false;               // the value is among values
  bool operator==(const ServerCheck&) const = default;
};

struct PropagationResult {
  bool propagated = false;  // every server has the value
  std::vector<ServerCheck> servers;
  // "10.0.0.53:53 has it; ns2.example. 192.0.2.2:53 shows none" etc., for status and events.
  std::string Summary() const;
};

// One round: asks each server once. An error only when no server could even be found (the
// zone's NS lookup failed); an unreachable server is a ServerCheck with its error.
Result<PropagationResult> CheckPropagation(DnsClient& dns, const PropagationConfig& config,
                                           const std::string& fqdn, const std::string& zone,
                                           const std::string& value);

// How long to wait after the n-th round that did not find the value everywhere: 2 s, doubling,
// at most 60 s (n <= 0: none).
std::chrono::seconds NextCheckDelay(int64_t failed_rounds);

}  // namespace certsmith::solvers::dns01
