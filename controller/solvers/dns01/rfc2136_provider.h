// RFC 2136 dynamic updates signed with TSIG (RFC 8945), as BIND, Knot, PowerDNS and Windows DNS
// take them. Present adds the value to the name's TXT RRset (§2.5.1: adding a record that exists
// changes nothing); CleanUp deletes that one record (§2.5.4, class NONE), so the other value of
// a wildcard-and-apex pair stays. A refused update gives the server's rcode and TSIG error with
// what they usually mean.
#pragma once

#include <optional>

#include "solvers/dns01/dns_client.h"
#include "solvers/dns01/provider.h"

namespace certsmith::solvers::dns01 {

struct Rfc2136Config {
  Nameserver server;
  Transport transport = Transport::kUdp;
  std::optional<TsigKey> tsig;
  uint32_t ttl = 60;  // as cert-manager's
};

class Rfc2136Provider final : public Provider {
 public:
  Rfc2136Provider(DnsClient& dns, Rfc2136Config config) : dns_(dns), config_(std::move(config)) {}

  Status Present(const ChallengeRecord& record) override;
  Status CleanUp(const ChallengeRecord& record) override;
  std::string Describe() const override;

 private:
  Status Send(const ChallengeRecord& record, bool remove);

  DnsClient& dns_;
  Rfc2136Config config_;
};

}  // namespace certsmith::solvers::dns01
