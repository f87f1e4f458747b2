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

// Parses "O=Example Org,OU=IT,C=FR,ST=Ile-de-France,L=Paris". Attribute names are
// case-insensitive: CN, O, OU, C, ST, L, STREET, postalCode, serialNumber (and the long forms
// commonName, organizationName, ...). A value may contain an escaped comma ("\,"), and any RFC
// 4514 escape ("\\", "\+", "\=", "\2C"). Spaces around names and values are trimmed. Unknown
// attributes are an error naming the attribute; C must be two letters (upper-cased).
Result<Subject> ParseSubject(std::string_view text);
// The inverse of ParseSubject, for display: "CN=...,O=...,OU=...,..." with commas escaped.
std::string FormatSubject(const Subject& subject);

// An otherName SAN (RFC 5280 §4.2.1.6) whose value is a UTF8String (e.g. a Microsoft UPN,
// 1.3.6.1.4.1.311.20.2.3).
struct OtherNameSan {
  std::string oid;  // dotted
  std::string utf8_value;
};

struct CsrRequest {
  Subject subject;  // common_name empty: no CN in the subject (names only in SANs)
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;       // textual IPv4 / IPv6
  std::vector<std::string> uris{};             // uniformResourceIdentifier SANs
  std::vector<std::string> email_addresses{};  // rfc822Name SANs
  std::vector<OtherNameSan> other_names{};
  // An RFC 4514 string ("CN=a.example,O=Example,1.2.3.4=x") written as the subject verbatim
  // (last RDN of the string first in the DER, as RFC 4514 §2.1 orders them) instead of
  // `subject`. Attribute types are short names or dotted OIDs. Its CN is not checked against
  // the SANs: the CA decides.
  std::string literal_subject{};
  // cert-manager usage names ("digital signature", "server auth", ...), written as keyUsage
  // and extendedKeyUsage extensions when not empty. Unknown names are an error.
  std::vector<std::string> usages{};
};

// DER-encoded PKCS#10 CSR signed with key (SHA-256: sha256WithRSAEncryption or
// ecdsa-with-SHA256). DNS names are normalised (NormalizeDnsName) and deduplicated; IP addresses
// go into iPAddress SANs. The subjectAltName extension is critical when the subject is empty
// (RFC 5280 §4.2.1.6). Fails on an invalid DNS name or IP address, on no names at all, and on a
// common name that is not also one of the DNS names or IP addresses (RFC 8555 §7.4: the CA
// compares the CSR's names with the order's identifiers).
Result<std::string> MakeCsrDer(const PrivateKey& key, const CsrRequest& request);

// Lower-cases a DNS name and removes one trailing dot; the form used everywhere in certsmith.
std::string NormalizeDnsName(std::string_view name);

// The canonical text of an IPv4 or IPv6 address ("2001:DB8::0:1" -> "2001:db8::1", RFC 5952),
// as CertificateInfo::ip_addresses holds them. Error on anything that is not an address.
Result<std::string> NormalizeIpAddress(std::string_view address);

}  // namespace certsmith::acme
