// Where a challenge record goes: the zone holding a name (by walking SOA queries up from the
// name, as cert-manager and lego do) and the end of its CNAME chain (cnameStrategy: Follow).
// Both ask the lookup servers: the solver's dns01.nameservers, else the controller's
// --dns01-recursive-nameservers, else the system's resolvers.
#pragma once

#include <string>
#include <vector>

#include "solvers/dns01/dns_client.h"

namespace certsmith::solvers::dns01 {

struct LookupServers {
  std::vector<Nameserver> servers;
  bool recursion_desired = true;  // false when the servers are authoritative ones
  std::string Describe() const;   // "10.0.0.1:53, 10.0.0.2:53"
};

// Asks the servers in turn until one answers NOERROR or NXDOMAIN; when none does, the error
// gives each server's own answer (REFUSED, SERVFAIL, no answer within ...).
Result<Response> Ask(DnsClient& dns, const LookupServers& lookup, const std::string& name,
                     RrType type);

// The zone (its apex, an FQDN) that holds fqdn: the first name from fqdn upwards that owns an
// SOA record, or the zone a negative answer's SOA names (RFC 2308 §3). A CNAME is never a zone
// apex (RFC 1034 §3.6.2). The root zone does not count: kNotFound "no zone found for ...".
Result<std::string> FindZone(DnsClient& dns, const LookupServers& lookup, const std::string& fqdn);

inline constexpr int kMaxCnameHops = 16;

// Follows CNAME records from fqdn to the name that has none (fqdn itself when it is no alias).
// A loop or more than kMaxCnameHops aliases is kFailedPrecondition naming the chain.
Result<std::string> FollowCnames(DnsClient& dns, const LookupServers& lookup,
                                 const std::string& fqdn);

}  // namespace certsmith::solvers::dns01
