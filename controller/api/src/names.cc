#include "api/names.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace certsmith::api {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// One host-name label (RFC 1123 §2.1): letters, digits, inner hyphens, 1..63 characters.
bool IsHostLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!IsDns1123Label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsValidDnsName(std::string_view s, bool allow_wildcard) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  bool wildcard = allow_wildcard && s.substr(0, 2) == "*.";
  if (wildcard) s.remove_prefix(2);
  int labels = 0;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!IsHostLabel(label)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // "*.com" would be a wildcard for a whole TLD, which no CA issues (CA/B Forum BR 3.2.2.6).
  return !wildcard || labels >= 2;
}

bool IsValidIpAddress(std::string_view s) {
  std::string text(s);
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string NormalizeDnsName(std::string_view s) {
  std::string out(s);
  while (!out.empty() && out.back() == '.') out.pop_back();
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsUnderZone(std::string_view name_in, std::string_view zone_in) {
  std::string name = NormalizeDnsName(name_in);
  std::string zone = NormalizeDnsName(zone_in);
  if (name.substr(0, 2) == "*.") name = name.substr(2);
  if (zone.empty()) return true;  // the root zone holds everything
  if (name == zone) return true;
  return name.size() > zone.size() &&
         name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

namespace {

Result<uint16_t> ParsePort(std::string_view text, const std::string& whole) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 ||
      port > 65535) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + whole + "\": the port must be a number from 1 to 65535");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view text, uint16_t default_port) {
  const std::string whole(text);
  HostPort hp;
  hp.port = default_port;
  if (text.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty address");
  bool bracketed = false;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "\"" + whole + "\": missing ']'");
    }
    bracketed = true;
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"" + whole + "\": only \":port\" may follow ']'");
    }
    if (!rest.empty()) {
      auto port = ParsePort(rest.substr(1), whole);
      if (!port.ok()) return port.status();
      hp.port = *port;
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    hp.host = whole;  // a bare IPv6 address
  } else if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    hp.host = std::string(text.substr(0, colon));
    auto port = ParsePort(text.substr(colon + 1), whole);
    if (!port.ok()) return port.status();
    hp.port = *port;
  } else {
    hp.host = whole;
  }
  const bool v6 = hp.host.find(':') != std::string::npos;
  if (bracketed && !v6) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + whole + "\": brackets are for IPv6 addresses");
  }
  if (v6 ? !IsValidIpAddress(hp.host)
         : !(IsValidIpAddress(hp.host) || IsValidDnsName(hp.host, false))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"" + whole + "\" is not host, host:port, [IPv6] or [IPv6]:port");
  }
  return hp;
}

}  // namespace certsmith::api
