// Syntax checks for names users write: Kubernetes object names (DNS-1123) and the DNS names and
// IP addresses that go into certificates (RFC 1123 host names, RFC 6125 §6.4.3 left-most
// wildcards, RFC 5280 SAN iPAddress).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::api {

// Lower-case alphanumerics and '-', 1..63 chars, starting and ending alphanumeric.
bool IsDns1123Label(std::string_view s);
// Dot-separated DNS-1123 labels, at most 253 chars (what most object names must be).
bool IsDns1123Subdomain(std::string_view s);
// A host name for a certificate: labels of letters, digits and '-' (not at either end), 1..63
// chars each, 253 in all, an optional trailing dot. With allow_wildcard, the left-most label may
// be exactly "*" (ACME wildcard orders, RFC 8555 §7.1.3) followed by at least two labels.
bool IsValidDnsName(std::string_view s, bool allow_wildcard);
// An IPv4 or IPv6 address in textual form.
bool IsValidIpAddress(std::string_view s);
// Lower case, without a trailing dot: the one normal form identifiers are compared in.
std::string NormalizeDnsName(std::string_view s);
// True if name equals zone or lies under it ("a.b.example.org" is under "example.org").
// Both are normalised first; a wildcard name "*.x.example.org" is under "example.org".
bool IsUnderZone(std::string_view name, std::string_view zone);

// A DNS server's address as users write it (rfc2136.nameserver, dns01.nameservers): "host",
// "host:port", "[IPv6]", "[IPv6]:port", or a bare IPv6 address without a port (a port after one
// would be ambiguous, so it needs brackets). host is an IP address or a host name.
struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};
// kInvalidArgument saying what is wrong with text (quoted in the message).
Result<HostPort> ParseHostPort(std::string_view text, uint16_t default_port);

}  // namespace certsmith::api
