// The http-01 self check: before telling the CA to validate, the controller fetches
// http://<domain>/.well-known/acme-challenge/<token> itself, so a route that does not work yet
// costs a delayed requeue instead of a failed order. cert-manager's
// --acme-http01-solver-nameservers chooses the DNS servers that resolve <domain> for it (split
// horizon: the cluster's resolver may give an internal address the CA never sees), and
// --acme-http01-self-check-port the port (80 as the CA uses, RFC 8555 §8.3; test CAs such as
// Pebble validate on another).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/http_transport.h"
#include "certsmith/status.h"

namespace certsmith::solvers::http01 {

struct SelfCheckNameserver {
  std::string address;  // an IPv4 or IPv6 address, no brackets
  uint16_t port = 53;
  bool operator==(const SelfCheckNameserver&) const = default;
};

// "10.0.0.10", "10.0.0.10:5353", "[2001:db8::1]:53", "2001:db8::1", comma-separated (as
// cert-manager's flag). Addresses only: the resolvers are how names get resolved.
Result<std::vector<SelfCheckNameserver>> ParseSelfCheckNameservers(std::string_view text);

// HOST of a self check URL "http://HOST/PATH".
Result<std::string> SelfCheckHost(std::string_view url);

// The GET for a self check URL "http://HOST/PATH": to address (an IP address, or "" to let the
// transport resolve HOST) and port, with Host: HOST so the ingress routes it as the CA's request.
Result<HttpRequest> SelfCheckRequest(std::string_view url, std::string_view address, uint16_t port,
                                     std::chrono::milliseconds timeout);

// The first A (else AAAA) address of name, asked of each nameserver in turn (recursion desired;
// CNAMEs followed by the server). Errors name the servers asked and what they answered.
Result<std::string> ResolveWith(const std::vector<SelfCheckNameserver>& nameservers,
                                const std::string& name, std::chrono::milliseconds timeout);

}  // namespace certsmith::solvers::http01
