// DnsClient over ldns: messages built and parsed by ldns, sent with ldns's UDP and TCP senders
// (a truncated UDP answer is asked again over TCP), RFC 2136 updates signed with TSIG
// (tsig_wire.h) and the answer's signature checked. Each call blocks for at most
// timeout * udp_attempts; the Challenge reconciler makes one round of calls per sync.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "certsmith/clock.h"
#include "solvers/dns01/dns_client.h"

namespace certsmith::solvers::dns01 {

struct LdnsDnsClientOptions {
  std::chrono::milliseconds timeout{2000};        // per attempt
  int udp_attempts = 2;                           // UDP is retried once; TCP is not
  const Clock* clock = &SystemClock::Instance();  // TSIG time signed
};

class LdnsDnsClient final : public DnsClient {
 public:
  explicit LdnsDnsClient(LdnsDnsClientOptions options = {}) : options_(options) {}

  Result<Response> Query(const Nameserver& server, const Question& question,
                         Transport transport = Transport::kUdp) override;
  Result<Response> Update(const Nameserver& server, const UpdateRequest& update,
                          Transport transport) override;
  Result<std::vector<std::string>> Addresses(const std::string& host) override;

 private:
  // Sends wire to server and returns the answer's bytes (UDP, then TCP when truncated).
  Result<std::string> Exchange(const Nameserver& server, const std::string& wire, uint16_t id,
                               Transport transport);

  LdnsDnsClientOptions options_;
};

// The nameservers listed in a resolv.conf: the lookup servers when none are configured.
std::vector<Nameserver> SystemNameservers(const std::string& resolv_conf = "/etc/resolv.conf");

// Parses an answer (internal; the unit tests build answers with ldns and read them here).
Result<Response> ParseResponse(const std::string& wire);

}  // namespace certsmith::solvers::dns01
