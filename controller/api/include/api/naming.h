// Deterministic names for the objects the controller creates, so a retried sync finds the
// object it made before instead of making another. Every name is a DNS-1123 label (at most 63
// characters, lower-case alphanumerics and '-'), so it also fits label values and Pod/Service
// name prefixes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace certsmith::api {

inline constexpr size_t kMaxLabelLength = 63;

// 10 lower-case hex digits of FNV-1a 64 over data: stable across builds and machines.
std::string ShortHash(std::string_view data);

// "<certificate>-<revision>-<hash of spec_digest_input>", the certificate name shortened (and
// dots turned into '-') to fit 63 characters. spec_digest_input is typically the Order spec
// serialised (Order::spec.ToJson().dump()).
std::string OrderName(std::string_view certificate_name, int64_t revision,
                      std::string_view spec_digest_input);

// "<order>-<hash of authorization URL and challenge type>", shortened to 63 characters.
std::string ChallengeName(std::string_view order_name, std::string_view authorization_url,
                          std::string_view challenge_type);

// "<prefix>-<hash>" for other owned objects (solver Pods/Services/Ingresses, temporary key
// Secrets): prefix shortened to fit, the hash over seed.
std::string HashedName(std::string_view prefix, std::string_view seed);

}  // namespace certsmith::api
