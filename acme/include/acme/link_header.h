// HTTP Link headers (RFC 8288), as ACME uses them: rel="alternate" chains (RFC 8555 §7.4.2),
// rel="up" issuer, rel="index" directory.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace certsmith::acme {

struct Link {
  std::string url{};                                          // resolved against the request URL
  std::vector<std::pair<std::string, std::string>> params{};  // names lower-cased, values unquoted

  // True when the rel parameter (a space-separated list) contains rel.
  bool HasRel(std::string_view rel) const;
};

// Parses every Link header value (each may hold several comma-separated links). Malformed
// entries are skipped, not fatal: a stray header must not cost us the certificate.
std::vector<Link> ParseLinkHeaders(const std::vector<std::string>& values,
                                   std::string_view request_url);

// The URLs of links with the given rel, in order.
std::vector<std::string> LinksWithRel(const std::vector<Link>& links, std::string_view rel);

// RFC 3986 §5.2 reference resolution, enough for what CAs send: absolute URLs, "//host/p",
// "/path", and relative paths (with "." and ".." segments).
std::string ResolveUrl(std::string_view base, std::string_view reference);

}  // namespace certsmith::acme
