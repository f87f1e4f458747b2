// Whether a string is an IP address literal (IPv4 dotted quad, or IPv6 without brackets): an ACME
// "ip" identifier (RFC 8738) rather than a DNS name.
#pragma once

#include <arpa/inet.h>

#include <string>

namespace certsmith {

inline bool IsIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

inline bool IsIpv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

inline bool IsIpAddress(const std::string& s) { return IsIpv4(s) || IsIpv6(s); }

}  // namespace certsmith
