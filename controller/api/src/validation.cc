#include "validation.h"

#include "api/names.h"

namespace certsmith::api::internal {

void CheckEnum(std::string_view value, std::initializer_list<std::string_view> allowed,
               const std::string& path, FieldErrors* errors) {
  std::string list;
  for (std::string_view a : allowed) {
    if (value == a) return;
    if (a.empty()) continue;
    if (!list.empty()) list += ", ";
    list += a;
  }
  errors->Add(path, "\"" + std::string(value) + "\" is not one of " + list);
}

void CheckDnsName(std::string_view name, const std::string& path, FieldErrors* errors) {
  if (!IsValidDnsName(name, true)) {
    errors->Add(path, "\"" + std::string(name) + "\" is not a valid DNS name");
  }
}

void CheckIdentifiers(const std::string& common_name, const std::vector<std::string>& dns_names,
                      const std::vector<std::string>& ip_addresses, FieldErrors* errors) {
  if (common_name.empty() && dns_names.empty() && ip_addresses.empty()) {
    errors->Add("spec", "at least one of commonName, dnsNames or ipAddresses is required");
  }
  for (size_t i = 0; i < dns_names.size(); ++i) {
    CheckDnsName(dns_names[i], IndexPath("spec.dnsNames", i), errors);
  }
  for (size_t i = 0; i < ip_addresses.size(); ++i) {
    if (!IsValidIpAddress(ip_addresses[i])) {
      errors->Add(IndexPath("spec.ipAddresses", i),
                  "\"" + ip_addresses[i] + "\" is not a valid IP address");
    }
  }
}

void CheckSecretName(std::string_view name, const std::string& path, FieldErrors* errors) {
  if (name.empty()) {
    errors->Add(path, "required");
  } else if (!IsDns1123Subdomain(name)) {
    errors->Add(path, "\"" + std::string(name) +
                          "\" is not a valid Secret name (lower-case DNS-1123 subdomain)");
  }
}

bool LooksLikeEmail(std::string_view email) {
  size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  return email.find_first_of(" \t\r\n,;") == std::string_view::npos;
}

void CheckKeyAlgorithmAndSize(std::string_view algorithm, int size, const std::string& path,
                              FieldErrors* errors) {
  if (algorithm == "RSA") {
    if (size != 0 && size != 2048 && size != 3072 && size != 4096) {
      errors->Add(path + ".size", "RSA keys must be 2048, 3072 or 4096 bits");
    }
  } else if (algorithm == "ECDSA") {
    // P-521 is left out on purpose: Let's Encrypt and most ACME CAs refuse it (CA/B Forum BR
    // 6.1.5 allows P-256 and P-384 only).
    if (size != 0 && size != 256 && size != 384) {
      errors->Add(path + ".size", "ECDSA keys must be 256 or 384 bits (P-256, P-384)");
    }
  } else {
    errors->Add(path + ".algorithm", "\"" + std::string(algorithm) + "\" is not one of RSA, ECDSA");
  }
}

}  // namespace certsmith::api::internal
