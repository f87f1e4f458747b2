// Field checks shared by the kinds, each recording a FieldError with the path it was given.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "api/field_errors.h"

namespace certsmith::api::internal {

// value must be one of allowed ("" allowed only if listed).
void CheckEnum(std::string_view value, std::initializer_list<std::string_view> allowed,
               const std::string& path, FieldErrors* errors);
// A DNS name for a certificate (wildcards allowed).
void CheckDnsName(std::string_view name, const std::string& path, FieldErrors* errors);
// At least one name; dnsNames[i] DNS names, ipAddresses[i] IP addresses (paths under "spec").
void CheckIdentifiers(const std::string& common_name, const std::vector<std::string>& dns_names,
                      const std::vector<std::string>& ip_addresses, FieldErrors* errors);
// A required Secret name (DNS-1123 subdomain).
void CheckSecretName(std::string_view name, const std::string& path, FieldErrors* errors);
// Something with one '@', text on both sides, no spaces: enough to catch YAML slips; the CA
// applies its own rules (RFC 8555 §7.3 contact URLs).
bool LooksLikeEmail(std::string_view email);
// algorithm RSA (size 2048/3072/4096) or ECDSA (256/384); size 0 means the default. Paths get
// ".algorithm" / ".size" appended.
void CheckKeyAlgorithmAndSize(std::string_view algorithm, int size, const std::string& path,
                              FieldErrors* errors);

}  // namespace certsmith::api::internal
