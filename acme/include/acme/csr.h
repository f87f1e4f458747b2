// Certificate signing requests (PKCS#10) with DNS and IP SANs and OV subject fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::acme {

struct Subject {
  std::string common_name;
  std::vector<std::string> organizations;         // O
  std::vector<std::string> organizational_units;  // OU
  std::vector<std::string> countries;             // C (two letters)
  std::vector<std::string> provinces;             // ST
  std::vector<std::string> localities;            // L
  std::vector<std::string> street_addresses;      // street
  std::vector<std::string> postal_codes;          // postalCode
  std::string serial_number;                      // serialNumber
  bool empty() const;
};

// Parses "O=Example Org,OU=IT,C=FR,ST=Ile-de-France,L=Paris" (also CN=). A value may contain an
// escaped comma ("\,"). Unknown attributes are an error naming the attribute.
Result<Subject> ParseSubject(std::string_view text);

struct CsrRequest {
  Subject subject;  // common_name empty: no CN in the subject (names only in SANs)
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // textual IPv4 / IPv6
};

// DER-encoded CSR signed with key (SHA-256). Fails on an invalid IP address or no names at all.
Result<std::string> MakeCsrDer(const PrivateKey& key, const CsrRequest& request);

// Lower-cases a DNS name and removes one trailing dot; the form used everywhere in certsmith.
std::string NormalizeDnsName(std::string_view name);

}  // namespace certsmith::acme
