#include "solvers/dns01/dns_client.h"

#include <algorithm>
#include <cctype>

#include "api/names.h"

namespace certsmith::solvers::dns01 {

const char* RrTypeName(RrType type) {
  switch (type) {
    case RrType::kA:
      return "A";
    case RrType::kNs:
      return "NS";
    case RrType::kCname:
      return "CNAME";
    case RrType::kSoa:
      return "SOA";
    case RrType::kTxt:
      return "TXT";
    case RrType::kAaaa:
      return "AAAA";
  }
  return "?";
}

const char* TransportName(Transport t) { return t == Transport::kTcp ? "TCP" : "UDP"; }

std::string RcodeName(int rcode) {
  static const char* const kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                       "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                       "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode >= 0 && rcode <= kNotZone) return kNames[rcode];
  return "RCODE " + std::to_string(rcode);
}

std::string Nameserver::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Nameserver> ParseNameserver(std::string_view text, uint16_t default_port) {
  ASSIGN_OR_RETURN(api::HostPort hp, api::ParseHostPort(text, default_port));
  return Nameserver{hp.host, hp.port};
}

Result<std::vector<Nameserver>> ParseNameservers(const std::vector<std::string>& texts) {
  std::vector<Nameserver> out;
  for (const std::string& t : texts) {
    ASSIGN_OR_RETURN(Nameserver ns, ParseNameserver(t));
    out.push_back(std::move(ns));
  }
  return out;
}

std::string Fqdn(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.empty() || out.back() != '.') out += '.';
  return out;
}

bool IsInZone(std::string_view name, std::string_view zone) {
  const std::string n = Fqdn(name);
  const std::string z = Fqdn(zone);
  if (z == ".") return true;
  if (n == z) return true;
  return n.size() > z.size() && n.compare(n.size() - z.size(), z.size(), z) == 0 &&
         n[n.size() - z.size() - 1] == '.';
}

std::string ChallengeRecordName(std::string_view dns_name) {
  std::string_view name = dns_name;
  if (name.rfind("*.", 0) == 0) name.remove_prefix(2);
  return Fqdn("_acme-challenge." + std::string(name));
}

}  // namespace certsmith::solvers::dns01
