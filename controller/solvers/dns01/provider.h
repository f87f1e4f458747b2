// A DNS provider: what puts a challenge's TXT value in place and takes it away. Every provider
// passes the same conformance suite (tests/integration/dns01): Present adds one value and keeps
// any other value of the same name (a wildcard and its apex share _acme-challenge.<name>);
// CleanUp removes that value only; both may be repeated (a restarted controller does).
#pragma once

#include <string>

#include "certsmith/status.h"

namespace certsmith::solvers::dns01 {

struct ChallengeRecord {
  std::string uid;                 // the Challenge's uid (the webhook's request uid)
  std::string dns_name;            // the identifier, without "*." ("example.org")
  std::string fqdn;                // where the record goes ("_acme-challenge.example.org.")
  std::string zone;                // the zone holding fqdn ("example.org.")
  std::string value;               // the TXT value (RFC 8555 §8.4)
  std::string resource_namespace;  // where the provider reads its Secrets (webhook)
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Errors carry the server's own answer and never a secret.
  virtual Status Present(const ChallengeRecord& record) = 0;
  virtual Status CleanUp(const ChallengeRecord& record) = 0;
  // For people: "rfc2136 at 10.0.0.53:53 (UDP, TSIG key k. (hmac-sha256))".
  virtual std::string Describe() const = 0;
};

}  // namespace certsmith::solvers::dns01
