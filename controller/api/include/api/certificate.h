// Certificate (certsmith.io/v1): the TLS Secret a user wants kept valid. Field names and
// meanings follow cert-manager v1's Certificate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/condition.h"
#include "api/duration.h"
#include "api/meta.h"

namespace certsmith::api {

struct X509Subject {
  std::vector<std::string> organizations;
  std::vector<std::string> organizational_units;
  std::vector<std::string> countries;
  std::vector<std::string> provinces;
  std::vector<std::string> localities;
  std::vector<std::string> street_addresses;
  std::vector<std::string> postal_codes;
  std::string serial_number;
  bool empty() const;
  Json ToJson() const;
};

struct CertificatePrivateKey {
  // Default ECDSA P-256: key generation is ~5000x faster than RSA-2048 and every public ACME CA
  // accepts it. Certigna accepts RSA 2048/3072 only: set algorithm RSA for it.
  std::string algorithm = "ECDSA";  // RSA | ECDSA
  int size = 0;                     // 0: 2048 for RSA, 256 for ECDSA
  std::string encoding = "PKCS1";  // PKCS1 | PKCS8 (PKCS1 means SEC1 for ECDSA, as in cert-manager)
  std::string rotation_policy = "Always";  // Never | Always
  int EffectiveSize() const;
  Json ToJson() const;
};

struct SecretTemplate {
  StringMap annotations;
  StringMap labels;
  Json ToJson() const;
};

// keystores.pkcs12 / keystores.jks: extra keystore files in the Secret. The password is given
// literally or by a Secret key (exactly one).
inline constexpr char kPkcs12LegacyRc2[] = "LegacyRC2";
inline constexpr char kPkcs12LegacyDes[] = "LegacyDES";
inline constexpr char kPkcs12Modern2023[] = "Modern2023";
struct KeystoreSpec {
  bool create = false;
  std::string password;
  SecretKeySelector password_secret_ref;  // key defaults to "password"
  std::string profile;                    // PKCS#12 only: "" means LegacyRC2, as cert-manager
  std::string alias;                      // JKS only: "" means "certificate", as cert-manager
  Json ToJson() const;
};
struct CertificateKeystores {
  std::optional<KeystoreSpec> pkcs12;
  std::optional<KeystoreSpec> jks;
  Json ToJson() const;
};

// An otherName SAN (RFC 5280 §4.2.1.6) whose value is a UTF8String, as cert-manager's otherNames.
struct OtherName {
  std::string oid;  // dotted
  std::string utf8_value;
  bool operator==(const OtherName&) const = default;
};

// What happens to the TLS Secret when its Certificate is deleted. Retain keeps it (workloads go on
// serving it, and a re-applied Certificate picks it up without a new order); Delete puts an
// ownerReference to the Certificate on it so the garbage collector removes it.
inline constexpr char kSecretDeletionRetain[] = "Retain";
inline constexpr char kSecretDeletionDelete[] = "Delete";

struct CertificateSpec {
  std::string secret_name;
  IssuerRef issuer_ref;
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::optional<Duration> duration;      // requested lifetime; CAs may ignore it
  std::optional<Duration> renew_before;  // default: renew at 2/3 of the lifetime
  std::optional<X509Subject> subject;
  CertificatePrivateKey private_key;
  std::vector<std::string> usages;
  std::optional<SecretTemplate> secret_template;
  int revision_history_limit = 0;  // 0: keep every Order
  // certsmith extra: Retain | Delete; empty means the controller's
  // --default-secret-deletion-policy (itself Retain unless set).
  std::string secret_deletion_policy;
  // The subject as an RFC 4514 string, used verbatim instead of commonName/subject.
  std::string literal_subject;
  std::vector<std::string> uris;
  std::vector<std::string> email_addresses;
  std::vector<OtherName> other_names;
  bool is_ca = false;     // refused when true: ACME CAs issue end-entity certificates only
  Json name_constraints;  // refused when set: only CA certificates carry them
  std::optional<bool> encode_usages_in_request;  // unset: true
  std::string signature_algorithm;               // "" or what the key signs with (SHA-256)
  std::optional<int> renew_before_percentage;
  std::optional<CertificateKeystores> keystores;
  std::vector<std::string> additional_output_formats;  // CombinedPEM, DER
  // certsmith extra: revoke the current certificate when the Certificate is deleted; unset: the
  // issuer's spec.revokeOnDelete.
  std::optional<bool> revoke_on_delete;

  // The CN the CSR carries: commonName, else the CN of literalSubject ("" when none).
  std::string SubjectCommonName() const;

  // The DNS identifiers to order, normalised and deduplicated in spec order: commonName (when it
  // is a DNS name) first, then dnsNames. RFC 8555 §7.4 has the CA reject a CSR whose names are
  // not exactly the order's identifiers, so commonName is always also a SAN; adding it here
  // (rather than refusing specs with commonName alone) keeps cert-manager specs working.
  std::vector<std::string> DnsIdentifiers() const;
  // ipAddresses plus commonName when it is an IP address, normalised and deduplicated.
  std::vector<std::string> IpIdentifiers() const;
  Json ToJson() const;
};

struct CertificateStatus {
  std::vector<Condition> conditions;
  std::optional<Clock::TimePoint> not_before;
  std::optional<Clock::TimePoint> not_after;
  std::optional<Clock::TimePoint> renewal_time;
  int64_t revision = 0;  // 0: never issued
  std::string next_private_key_secret_name;
  std::optional<Clock::TimePoint> last_failure_time;
  int64_t failed_issuance_attempts = 0;
  // The CA's renewal window (ARI, RFC 9773) for the current certificate, when it offers one.
  struct RenewalInfo {
    std::string certificate_id;  // ARI certID of the certificate the window is for
    Clock::TimePoint window_start{};
    Clock::TimePoint window_end{};
    std::string explanation_url;
    std::optional<Clock::TimePoint> next_check_time;
    Json ToJson() const;
    bool operator==(const RenewalInfo&) const = default;
  };
  std::optional<RenewalInfo> renewal_info;
  Json ToJson() const;
};

struct Certificate {
  ObjectMeta metadata;
  CertificateSpec spec;
  CertificateStatus status;

  static Result<Certificate> FromJson(const Json& object);
  FieldErrors Validate() const;
  Json ToJson() const;
  Json StatusToJson() const { return status.ToJson(); }
};

// The value of the first CN attribute of an RFC 4514 string ("" when none), unescaped.
std::string CommonNameOfLiteralSubject(std::string_view literal);

// Key usages cert-manager accepts (its KeyUsage strings).
bool IsKnownKeyUsage(std::string_view usage);

}  // namespace certsmith::api
