// What a TLS Secret holds, read for people: its certificates (subject, names, issuer, serial,
// validity), its key's type and whether it matches, and which keys its data has. The private
// key itself is never printed or returned.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "acme/certificate.h"
#include "certsmith/clock.h"

namespace certsmith::plugin {

struct SecretContents {
  std::vector<acme::CertificateInfo> chain;  // tls.crt, leaf first
  std::string chain_error;                   // why tls.crt could not be read ("" when it could)
  std::vector<acme::CertificateInfo> ca;     // ca.crt
  std::string key_type;                      // "ECDSA P-256", "RSA 2048"; "" without a key
  std::string key_error;
  std::optional<bool> key_matches;                         // tls.key carries the leaf's public key
  std::vector<std::pair<std::string, size_t>> data_sizes;  // every data key and its size
};

SecretContents ReadSecret(const nlohmann::json& secret);

// "subject", "dnsNames", "ipAddresses", "issuer", "serialNumber", "notBefore", "notAfter", ...
nlohmann::json CertificateInfoToJson(const acme::CertificateInfo& info);
nlohmann::json SecretContentsToJson(const SecretContents& contents);
// Aligned "Label:  value" lines describing one certificate, each prefixed by indent.
std::vector<std::string> DescribeCertificate(const acme::CertificateInfo& info,
                                             Clock::TimePoint now, const std::string& indent);
// "DNS:a.example, IP:10.0.0.1".
std::string SubjectAltNames(const acme::CertificateInfo& info);

}  // namespace certsmith::plugin
