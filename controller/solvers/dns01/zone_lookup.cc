#include "solvers/dns01/zone_lookup.h"

#include <algorithm>
#include <set>

namespace certsmith::solvers::dns01 {
namespace {

std::string Parent(const std::string& fqdn) {
  size_t dot = fqdn.find('.');
  if (dot == std::string::npos || dot + 1 >= fqdn.size()) return ".";
  return fqdn.substr(dot + 1);
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

std::string LookupServers::Describe() const {
  std::vector<std::string> names;
  for (const Nameserver& s : servers) names.push_back(s.ToString());
  return Join(names, ", ");
}

Result<Response> Ask(DnsClient& dns, const LookupServers& lookup, const std::string& name,
                     RrType type) {
  if (lookup.servers.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "no nameserver to ask: none is configured (dns01.nameservers, "
                     "--dns01-recursive-nameservers) and /etc/resolv.conf lists none");
  }
  std::vector<std::string> failures;
  for (const Nameserver& server : lookup.servers) {
    auto r = dns.Query(server, {name, type, lookup.recursion_desired});
    if (!r.ok()) {
      failures.push_back(r.status().message());
      continue;
    }
    if (r->rcode == kNoError || r->rcode == kNxDomain) return r;
    failures.push_back(server.ToString() + " answered " + RcodeName(r->rcode));
  }
  return MakeError(ErrorCode::kUnavailable, std::string("looking up ") + RrTypeName(type) + " " +
                                                name + ": " + Join(failures, "; "));
}

Result<std::string> FindZone(DnsClient& dns, const LookupServers& lookup, const std::string& fqdn) {
  for (std::string candidate = Fqdn(fqdn); candidate != "."; candidate = Parent(candidate)) {
    ASSIGN_OR_RETURN(Response r, Ask(dns, lookup, candidate, RrType::kSoa));
    bool alias = false;
    for (const Record& rec : r.answer) {
      if (rec.name != candidate) continue;
      if (rec.type == RrType::kSoa) return candidate;
      if (rec.type == RrType::kCname) alias = true;
    }
    if (alias) continue;
    for (const Record& rec : r.authority) {
      if (rec.type == RrType::kSoa && rec.name != "." && IsInZone(candidate, rec.name)) {
        return rec.name;
      }
    }
  }
  return MakeError(ErrorCode::kNotFound,
                   "no zone found for " + Fqdn(fqdn) + ": no SOA record at or above it at " +
                       lookup.Describe() + " (is the zone served by these nameservers?)");
}

Result<std::string> FollowCnames(DnsClient& dns, const LookupServers& lookup,
                                 const std::string& fqdn) {
  std::string name = Fqdn(fqdn);
  std::vector<std::string> chain = {name};
  std::set<std::string> seen = {name};
  for (int hop = 0; hop <= kMaxCnameHops; ++hop) {
    ASSIGN_OR_RETURN(Response r, Ask(dns, lookup, name, RrType::kCname));
    auto cname = std::find_if(r.answer.begin(), r.answer.end(), [&](const Record& rec) {
      return rec.type == RrType::kCname && rec.name == name;
    });
    if (cname == r.answer.end()) return name;
    if (hop == kMaxCnameHops) break;
    name = Fqdn(cname->data);
    chain.push_back(name);
    if (!seen.insert(name).second) {
      return MakeError(ErrorCode::kFailedPrecondition, "CNAME loop: " + Join(chain, " -> "));
    }
  }
  return MakeError(ErrorCode::kFailedPrecondition, "more than " + std::to_string(kMaxCnameHops) +
                                                       " CNAMEs from " + chain.front() + ": " +
                                                       Join(chain, " -> "));
}

}  // namespace certsmith::solvers::dns01
