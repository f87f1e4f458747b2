// ACME identifiers (RFC 8555 §7.1.3 "identifiers"; IP identifiers per RFC 8738), normalised once,
// where they enter: DNS names lower case without a trailing dot, IP addresses in canonical text.
#pragma once

#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::acme {

struct Identifier {
  std::string type{};   // "dns" or "ip"
  std::string value{};  // normalised: "a.example", "*.a.example", "192.0.2.1", "2001:db8::1"

  bool operator==(const Identifier&) const = default;
  // "dns a.example": the form used in summaries and logs.
  std::string ToString() const;
};

// A "dns" identifier for name, normalised (lower case, one trailing dot removed).
Identifier DnsIdentifier(std::string_view name);
// An "ip" identifier; fails when text is not an IPv4 or IPv6 address. The value is the
// canonical text form (RFC 5952 for IPv6), as the CA will echo it back.
Result<Identifier> IpIdentifier(std::string_view text);
// "ip" when text parses as an IP address, "dns" otherwise.
Result<Identifier> IdentifierFor(std::string_view name_or_ip);

// Normalises an identifier received from a CA (or built by hand): dns lower-cased without a
// trailing dot, ip canonicalised. Unknown types are kept as they are.
Identifier NormalizeIdentifier(Identifier id);

}  // namespace certsmith::acme
