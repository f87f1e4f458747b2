#include "api/naming.h"

#include <cstdio>

namespace certsmith::api {

namespace {

constexpr size_t kHashLength = 10;

// Lower case, '.' and other characters turned into '-', no '-' at either end, at most max chars.
std::string LabelPrefix(std::string_view in, size_t max) {
  std::string out;
  for (char c : in) {
    if (out.size() == max) break;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += alnum ? c : '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  size_t lead = out.find_first_not_of('-');
  return lead == std::string::npos ? std::string() : out.substr(lead);
}

std::string Join(std::string_view prefix, std::string_view suffix) {
  // suffix is "-..." ; leave room for it.
  std::string head = LabelPrefix(prefix, kMaxLabelLength - suffix.size());
  if (head.empty()) head = "x";  // a name must start with an alphanumeric
  return head + std::string(suffix);
}

}  // namespace

std::string ShortHash(std::string_view data) {
  uint64_t h = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;  // FNV prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, kHashLength);
}

std::string OrderName(std::string_view certificate_name, int64_t revision,
                      std::string_view spec_digest_input) {
  std::string suffix = "-" + std::to_string(revision) + "-" + ShortHash(spec_digest_input);
  return Join(certificate_name, suffix);
}

std::string ChallengeName(std::string_view order_name, std::string_view authorization_url,
                          std::string_view challenge_type) {
  std::string seed = std::string(authorization_url) + "\n" + std::string(challenge_type);
  return Join(order_name, "-" + ShortHash(seed));
}

std::string HashedName(std::string_view prefix, std::string_view seed) {
  return Join(prefix, "-" + ShortHash(seed));
}

}  // namespace certsmith::api
