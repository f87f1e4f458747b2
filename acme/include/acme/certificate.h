// X.509 certificate parsing: what the controller and the CLI need to decide, and to show.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "acme/csr.h"
#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::acme {

struct CertificateInfo {
  std::string subject;      // one line, RFC 2253 form: "CN=a.example,O=Example" (UTF-8 kept)
  std::string common_name;  // empty when the subject has no CN
  // The subject's attributes that certsmith can request (other attributes are left out), to
  // compare with a Certificate spec's subject; values in the certificate's order.
  Subject subject_fields;
  std::string issuer;  // one line, RFC 2253 form
  std::string issuer_common_name;
  std::string serial_hex;  // upper-case hex, no separators, no leading zeros
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> dns_names;     // as written in the certificate, in order
  std::vector<std::string> ip_addresses;  // canonical text (see NormalizeIpAddress)
  std::vector<std::string> uris;            // uniformResourceIdentifier SANs, in order
  std::vector<std::string> email_addresses;  // rfc822Name SANs, in order
  std::string public_key_sha256;          // hex SHA-256 of the SPKI (matches PublicKeyFingerprint)
  bool is_ca = false;                     // basicConstraints cA=TRUE
  // RFC 9773 §4.1 certificate identifier (renewal_info.h); empty when the certificate has no
  // Authority Key Identifier with a keyIdentifier (ARI cannot name it then).
  std::string ari_cert_id;
};

// Splits a PEM bundle into its CERTIFICATE blocks (each a complete PEM string ending in a
// newline), in order. Other PEM blocks and text between blocks are skipped. Error when there is
// no certificate or a block is not terminated. Blocks are not decoded here.
Result<std::vector<std::string>> SplitPemCertificates(std::string_view pem_bundle);

// Parses the first certificate of a PEM bundle.
Result<CertificateInfo> ParseCertificatePem(std::string_view pem);
Result<CertificateInfo> ParseCertificateDer(std::string_view der);
Result<std::string> CertificatePemToDer(std::string_view pem);

// True when the first certificate in pem carries key's public key.
bool CertificateMatchesKey(std::string_view pem, const PrivateKey& key);

// Formats a time as RFC 3339 UTC with whole seconds, the Kubernetes metav1.Time form
// ("2026-11-23T15:04:05Z"; sub-second parts are truncated). Parses RFC 3339 §5.6 date-times:
// "Z" or a numeric offset ("+02:00"), optional fractional seconds (kept to the clock's
// resolution), "T"/"Z" in either case.
std::string FormatRfc3339(std::chrono::system_clock::time_point t);
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace certsmith::acme
