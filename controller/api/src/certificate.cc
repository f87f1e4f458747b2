#include "api/certificate.h"

#include <algorithm>

#include "api/names.h"
#include "json_reader.h"
#include "object_header.h"
#include "validation.h"

namespace certsmith::api {

using internal::JsonReader;
using internal::PutList;
using internal::PutMap;
using internal::PutString;

namespace {

constexpr char kApiVersion[] = "certsmith.io/v1";
// RFC 5280 Appendix A: ub-common-name INTEGER ::= 64.
constexpr size_t kMaxCommonNameLength = 64;
// cert-manager's minimums, kept so a spec valid there is valid here and vice versa.
constexpr auto kMinDuration = std::chrono::hours(1);
constexpr auto kMinRenewBefore = std::chrono::minutes(5);

// The KeyUsage/ExtKeyUsage strings of cert-manager's API.
constexpr std::string_view kKnownUsages[] = {"signing",
                                             "digital signature",
                                             "content commitment",
                                             "key encipherment",
                                             "key agreement",
                                             "data encipherment",
                                             "cert sign",
                                             "crl sign",
                                             "encipher only",
                                             "decipher only",
                                             "any",
                                             "server auth",
                                             "client auth",
                                             "code signing",
                                             "email protection",
                                             "s/mime",
                                             "ipsec end system",
                                             "ipsec tunnel",
                                             "ipsec user",
                                             "timestamping",
                                             "ocsp signing",
                                             "microsoft sgc",
                                             "netscape sgc"};

X509Subject ParseSubject(const JsonReader& r) {
  X509Subject s;
  s.organizations = r.StringList("organizations");
  s.organizational_units = r.StringList("organizationalUnits");
  s.countries = r.StringList("countries");
  s.provinces = r.StringList("provinces");
  s.localities = r.StringList("localities");
  s.street_addresses = r.StringList("streetAddresses");
  s.postal_codes = r.StringList("postalCodes");
  s.serial_number = r.String("serialNumber");
  return s;
}

CertificatePrivateKey ParsePrivateKey(const JsonReader& r) {
  CertificatePrivateKey k;
  if (std::string v = r.String("algorithm"); !v.empty()) k.algorithm = v;
  k.size = static_cast<int>(r.Int("size").value_or(0));
  if (std::string v = r.String("encoding"); !v.empty()) k.encoding = v;
  if (std::string v = r.String("rotationPolicy"); !v.empty()) k.rotation_policy = v;
  return k;
}

CertificateSpec ParseSpec(const JsonReader& r) {
  CertificateSpec s;
  s.secret_name = r.String("secretName");
  s.issuer_ref = r.IssuerRefField("issuerRef");
  s.common_name = r.String("commonName");
  s.dns_names = r.StringList("dnsNames");
  s.ip_addresses = r.StringList("ipAddresses");
  s.duration = r.DurationField("duration");
  s.renew_before = r.DurationField("renewBefore");
  if (r.Has("subject")) s.subject = ParseSubject(r.Child("subject"));
  s.private_key = ParsePrivateKey(r.Child("privateKey"));
  s.usages = r.StringList("usages");
  if (r.Has("secretTemplate")) {
    JsonReader t = r.Child("secretTemplate");
    s.secret_template = SecretTemplate{t.StringMapField("annotations"), t.StringMapField("labels")};
  }
  if (std::optional<int64_t> limit = r.Int("revisionHistoryLimit")) {
    if (*limit < 1) r.errors()->Add(r.Path("revisionHistoryLimit"), "must be at least 1");
    s.revision_history_limit = static_cast<int>(std::max<int64_t>(*limit, 0));
  }
  s.secret_deletion_policy = r.String("secretDeletionPolicy");
  return s;
}

CertificateStatus ParseStatus(const JsonReader& r) {
  CertificateStatus s;
  if (const Json* c = r.Raw("conditions")) {
    s.conditions = ConditionsFromJson(*c, r.Path("conditions"), r.errors());
  }
  s.not_before = r.Time("notBefore");
  s.not_after = r.Time("notAfter");
  s.renewal_time = r.Time("renewalTime");
  s.revision = r.Int("revision").value_or(0);
  s.next_private_key_secret_name = r.String("nextPrivateKeySecretName");
  s.last_failure_time = r.Time("lastFailureTime");
  s.failed_issuance_attempts = r.Int("failedIssuanceAttempts").value_or(0);
  return s;
}

void ValidateIssuerRef(const IssuerRef& ref, const std::string& path, FieldErrors* errors) {
  if (ref.name.empty()) errors->Add(path + ".name", "required");
  internal::CheckEnum(ref.kind, {"Issuer", "ClusterIssuer"}, path + ".kind", errors);
  if (ref.group != "certsmith.io") {
    errors->Add(path + ".group", "must be certsmith.io (or left out), not \"" + ref.group + "\"");
  }
}

void ValidateNames(const CertificateSpec& s, FieldErrors* errors) {
  internal::CheckIdentifiers(s.common_name, s.dns_names, s.ip_addresses, errors);
  if (!s.common_name.empty()) {
    if (s.common_name.size() > kMaxCommonNameLength) {
      errors->Add("spec.commonName", "must be at most 64 characters (RFC 5280 ub-common-name)");
    } else if (!IsValidDnsName(s.common_name, true) && !IsValidIpAddress(s.common_name)) {
      errors->Add("spec.commonName",
                  "\"" + s.common_name + "\" is neither a valid DNS name nor an IP address");
    }
  }
}

void ValidateLifetime(const CertificateSpec& s, FieldErrors* errors) {
  if (s.duration && *s.duration < kMinDuration) {
    errors->Add("spec.duration", "must be at least 1h");
  }
  if (s.renew_before && *s.renew_before < kMinRenewBefore) {
    errors->Add("spec.renewBefore", "must be at least 5m");
  }
  if (s.duration && s.renew_before && *s.renew_before >= *s.duration) {
    errors->Add("spec.renewBefore", "must be shorter than spec.duration (" +
                                        FormatDuration(*s.renew_before) +
                                        " >= " + FormatDuration(*s.duration) + ")");
  }
}

void ValidateSubject(const X509Subject& s, FieldErrors* errors) {
  // RFC 5280 Appendix A: countryName is a two-letter ISO 3166 code; CAs reject anything else
  // only after the order, so catch it at apply time.
  for (size_t i = 0; i < s.countries.size(); ++i) {
    const std::string& c = s.countries[i];
    bool ok = c.size() == 2 && std::isupper(static_cast<unsigned char>(c[0])) &&
              std::isupper(static_cast<unsigned char>(c[1]));
    if (!ok) {
      errors->Add(IndexPath("spec.subject.countries", i),
                  "\"" + c + "\" is not a two-letter upper-case ISO 3166 country code");
    }
  }
}

void DedupeAppend(std::vector<std::string>* out, std::string value) {
  if (std::find(out->begin(), out->end(), value) == out->end()) out->push_back(std::move(value));
}

}  // namespace

bool IsKnownKeyUsage(std::string_view usage) {
  return std::find(std::begin(kKnownUsages), std::end(kKnownUsages), usage) !=
         std::end(kKnownUsages);
}

bool X509Subject::empty() const {
  return organizations.empty() && organizational_units.empty() && countries.empty() &&
         provinces.empty() && localities.empty() && street_addresses.empty() &&
         postal_codes.empty() && serial_number.empty();
}

int CertificatePrivateKey::EffectiveSize() const {
  if (size != 0) return size;
  return algorithm == "RSA" ? 2048 : 256;
}

std::vector<std::string> CertificateSpec::DnsIdentifiers() const {
  std::vector<std::string> out;
  if (!common_name.empty() && !IsValidIpAddress(common_name)) {
    DedupeAppend(&out, NormalizeDnsName(common_name));
  }
  for (const std::string& n : dns_names) DedupeAppend(&out, NormalizeDnsName(n));
  return out;
}

std::vector<std::string> CertificateSpec::IpIdentifiers() const {
  std::vector<std::string> out;
  if (!common_name.empty() && IsValidIpAddress(common_name)) DedupeAppend(&out, common_name);
  for (const std::string& ip : ip_addresses) DedupeAppend(&out, ip);
  return out;
}

Result<Certificate> Certificate::FromJson(const Json& object) {
  return internal::ParseObject<Certificate>(
      object, kApiVersion, {"Certificate"},
      [](const JsonReader& root, const std::string&, Certificate* cert) {
        cert->spec = ParseSpec(root.Child("spec"));
        cert->status = ParseStatus(root.Child("status"));
      });
}

FieldErrors Certificate::Validate() const {
  FieldErrors errors;
  internal::CheckSecretName(spec.secret_name, "spec.secretName", &errors);
  ValidateIssuerRef(spec.issuer_ref, "spec.issuerRef", &errors);
  ValidateNames(spec, &errors);
  ValidateLifetime(spec, &errors);
  if (spec.subject) ValidateSubject(*spec.subject, &errors);
  const CertificatePrivateKey& k = spec.private_key;
  internal::CheckKeyAlgorithmAndSize(k.algorithm, k.size, "spec.privateKey", &errors);
  internal::CheckEnum(k.encoding, {"PKCS1", "PKCS8"}, "spec.privateKey.encoding", &errors);
  internal::CheckEnum(k.rotation_policy, {"Never", "Always"}, "spec.privateKey.rotationPolicy",
                      &errors);
  if (!spec.secret_deletion_policy.empty()) {
    internal::CheckEnum(spec.secret_deletion_policy, {kSecretDeletionRetain, kSecretDeletionDelete},
                        "spec.secretDeletionPolicy", &errors);
  }
  for (size_t i = 0; i < spec.usages.size(); ++i) {
    if (!IsKnownKeyUsage(spec.usages[i])) {
      errors.Add(IndexPath("spec.usages", i), "\"" + spec.usages[i] + "\" is not a known usage");
    }
  }
  return errors;
}

Json X509Subject::ToJson() const {
  Json j = Json::object();
  PutList(j, "organizations", organizations);
  PutList(j, "organizationalUnits", organizational_units);
  PutList(j, "countries", countries);
  PutList(j, "provinces", provinces);
  PutList(j, "localities", localities);
  PutList(j, "streetAddresses", street_addresses);
  PutList(j, "postalCodes", postal_codes);
  PutString(j, "serialNumber", serial_number);
  return j;
}

Json CertificatePrivateKey::ToJson() const {
  Json j = {{"algorithm", algorithm}, {"encoding", encoding}, {"rotationPolicy", rotation_policy}};
  internal::PutInt(j, "size", size);
  return j;
}

Json SecretTemplate::ToJson() const {
  Json j = Json::object();
  PutMap(j, "annotations", annotations);
  PutMap(j, "labels", labels);
  return j;
}

Json CertificateSpec::ToJson() const {
  Json j = {{"secretName", secret_name}, {"issuerRef", issuer_ref.ToJson()}};
  PutString(j, "commonName", common_name);
  PutList(j, "dnsNames", dns_names);
  PutList(j, "ipAddresses", ip_addresses);
  internal::PutDuration(j, "duration", duration);
  internal::PutDuration(j, "renewBefore", renew_before);
  if (subject) j["subject"] = subject->ToJson();
  j["privateKey"] = private_key.ToJson();
  PutList(j, "usages", usages);
  if (secret_template) j["secretTemplate"] = secret_template->ToJson();
  internal::PutInt(j, "revisionHistoryLimit", revision_history_limit);
  PutString(j, "secretDeletionPolicy", secret_deletion_policy);
  return j;
}

Json CertificateStatus::ToJson() const {
  Json j = {{"conditions", ConditionsToJson(conditions)}};
  internal::PutTime(j, "notBefore", not_before);
  internal::PutTime(j, "notAfter", not_after);
  internal::PutTime(j, "renewalTime", renewal_time);
  internal::PutInt(j, "revision", revision);
  PutString(j, "nextPrivateKeySecretName", next_private_key_secret_name);
  internal::PutTime(j, "lastFailureTime", last_failure_time);
  internal::PutInt(j, "failedIssuanceAttempts", failed_issuance_attempts);
  return j;
}

Json Certificate::ToJson() const {
  Json j = internal::Header(kApiVersion, "Certificate", metadata);
  j["spec"] = spec.ToJson();
  j["status"] = status.ToJson();
  return j;
}

}  // namespace certsmith::api
