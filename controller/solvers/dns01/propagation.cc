#include "solvers/dns01/propagation.h"

#include <algorithm>

namespace certsmith::solvers::dns01 {
namespace {

constexpr std::chrono::seconds kFirstDelay{2};
constexpr std::chrono::seconds kMaxDelay{60};

struct Target {
  std::string label;  // for people: "ns1.example. 192.0.2.1:53"
  Nameserver server;
  std::string error;  // when no address was found
};

// One address per NS host (IPv4 first: the IPv6 route is the one more often missing).
Target Resolve(DnsClient& dns, const LookupServers& lookup, const std::string& host,
               uint16_t port) {
  Target t;
  t.label = host;
  for (RrType type : {RrType::kA, RrType::kAaaa}) {
    auto r = Ask(dns, lookup, host, type);
    if (!r.ok()) continue;
    for (const Record& rec : r->answer) {
      if (rec.type == type) {
        t.server = {rec.data, port};
        t.label = host + " " + t.server.ToString();
        return t;
      }
    }
  }
  // Not in the DNS the lookup servers see (e.g. a name only /etc/hosts knows): the system's.
  auto addresses = dns.Addresses(host);
  if (addresses.ok()) {
    t.server = {addresses->front(), port};
    t.label = host + " " + t.server.ToString();
  } else {
    t.error = "no address for " + host;
  }
  return t;
}

Result<std::vector<Target>> AuthoritativeServers(DnsClient& dns, const PropagationConfig& config,
                                                 const std::string& zone) {
  ASSIGN_OR_RETURN(Response r, Ask(dns, config.lookup, zone, RrType::kNs));
  std::vector<std::string> hosts;
  for (const Record& rec : r.answer) {
    if (rec.type == RrType::kNs && rec.name == zone) hosts.push_back(rec.data);
  }
  if (hosts.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "zone " + zone + " has no NS records at " + config.lookup.Describe());
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  std::vector<Target> out;
  for (const std::string& h : hosts) {
    out.push_back(Resolve(dns, config.lookup, h, config.authoritative_port));
  }
  return out;
}

std::string Quoted(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "\"" : ", \"") + v + "\"";
  return out;
}

}  // namespace

std::string PropagationResult::Summary() const {
  std::string out;
  for (const ServerCheck& s : servers) {
    std::string part = s.server + " ";
    if (s.found) {
      part += "has it";
    } else if (!s.error.empty()) {
      part += s.error;
    } else if (s.values.empty()) {
      part += "shows no TXT record";
    } else {
      part += "shows only " + Quoted(s.values);
    }
    out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}

Result<PropagationResult> CheckPropagation(DnsClient& dns, const PropagationConfig& config,
                                           const std::string& fqdn, const std::string& zone,
                                           const std::string& value) {
  const std::string name = Fqdn(fqdn);
  std::vector<Target> targets;
  bool recursion = false;
  if (config.only_lookup_servers) {
    for (const Nameserver& s : config.lookup.servers) targets.push_back({s.ToString(), s, ""});
    recursion = config.lookup.recursion_desired;
    if (targets.empty()) {
      return MakeError(ErrorCode::kFailedPrecondition, "no nameserver to check the record at");
    }
  } else {
    ASSIGN_OR_RETURN(targets, AuthoritativeServers(dns, config, Fqdn(zone)));
  }
  PropagationResult result;
  result.propagated = true;
  for (const Target& t : targets) {
    ServerCheck check;
    check.server = t.label;
    check.error = t.error;
    if (check.error.empty()) {
      auto r = dns.Query(t.server, {name, RrType::kTxt, recursion});
      if (!r.ok()) {
        check.error = r.status().message();
      } else if (r->rcode != kNoError && r->rcode != kNxDomain) {
        check.error = "answered " + RcodeName(r->rcode);
      } else {
        for (const Record& rec : r->answer) {
          if (rec.type != RrType::kTxt || rec.name != name) continue;
          check.values.push_back(rec.data);
          if (rec.data == value) check.found = true;
        }
        std::sort(check.values.begin(), check.values.end());
      }
    }
    result.propagated = result.propagated && check.found;
    result.servers.push_back(std::move(check));
  }
  return result;
}

std::chrono::seconds NextCheckDelay(int64_t failed_rounds) {
  if (failed_rounds <= 0) return std::chrono::seconds(0);
  std::chrono::seconds d = kFirstDelay;
  for (int64_t i = 1; i < failed_rounds && d < kMaxDelay; ++i) d *= 2;
  return std::min(d, kMaxDelay);
}

}  // namespace certsmith::solvers::dns01
