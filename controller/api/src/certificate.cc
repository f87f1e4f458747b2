#include "api/certificate.h"

#include <algorithm>
#include <cctype>
#include <set>

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

KeystoreSpec ParseKeystore(const JsonReader& r) {
  KeystoreSpec k;
  k.create = r.Bool("create");
  k.password = r.String("password");
  k.password_secret_ref = r.SecretRef("passwordSecretRef");
  k.profile = r.String("profile");
  k.alias = r.String("alias");
  return k;
}

void ParseCertManagerFields(const JsonReader& r, CertificateSpec* s) {
  s->literal_subject = r.String("literalSubject");
  s->uris = r.StringList("uris");
  s->email_addresses = r.StringList("emailAddresses");
  r.ForEach("otherNames", [s](const JsonReader& o, size_t) {
    s->other_names.push_back(OtherName{o.String("oid"), o.String("utf8Value")});
  });
  s->is_ca = r.Bool("isCA");
  s->name_constraints = r.Object("nameConstraints");
  if (r.Has("encodeUsagesInRequest")) s->encode_usages_in_request = r.Bool("encodeUsagesInRequest");
  s->signature_algorithm = r.String("signatureAlgorithm");
  if (std::optional<int64_t> p = r.Int("renewBeforePercentage")) {
    s->renew_before_percentage = static_cast<int>(std::clamp<int64_t>(*p, -1, 1000));
  }
  if (r.Has("keystores")) {
    JsonReader k = r.Child("keystores");
    CertificateKeystores ks;
    if (k.Has("pkcs12")) ks.pkcs12 = ParseKeystore(k.Child("pkcs12"));
    if (k.Has("jks")) ks.jks = ParseKeystore(k.Child("jks"));
    s->keystores = ks;
  }
  r.ForEach("additionalOutputFormats", [s](const JsonReader& f, size_t) {
    s->additional_output_formats.push_back(f.String("type"));
  });
  if (r.Has("revokeOnDelete")) s->revoke_on_delete = r.Bool("revokeOnDelete");
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
  ParseCertManagerFields(r, &s);
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
  if (r.Has("renewalInfo")) {
    JsonReader a = r.Child("renewalInfo");
    CertificateStatus::RenewalInfo info;
    info.certificate_id = a.String("certificateID");
    info.window_start = a.Time("windowStart").value_or(Clock::TimePoint{});
    info.window_end = a.Time("windowEnd").value_or(Clock::TimePoint{});
    info.explanation_url = a.String("explanationURL");
    info.next_check_time = a.Time("nextCheckTime");
    s.renewal_info = info;
  }
  return s;
}

void ValidateIssuerRef(const IssuerRef& ref, const std::string& path, FieldErrors* errors) {
  if (ref.name.empty()) errors->Add(path + ".name", "required");
  internal::CheckEnum(ref.kind, {"Issuer", "ClusterIssuer"}, path + ".kind", errors);
  if (ref.group != "certsmith.io") {
    errors->Add(path + ".group", "must be certsmith.io (or left out), not \"" + ref.group +
                                     "\": certsmith signs only with its own Issuers and "
                                     "ClusterIssuers (apiVersion certsmith.io/v1)");
  }
}

void ValidateKeystore(const KeystoreSpec& k, const std::string& path, FieldErrors* errors) {
  const bool by_ref = !k.password_secret_ref.name.empty();
  if (by_ref == !k.password.empty()) {
    errors->Add(path, "set exactly one of password and passwordSecretRef");
  }
  if (by_ref)
    internal::CheckSecretName(k.password_secret_ref.name, path + ".passwordSecretRef.name", errors);
}

// The cert-manager fields certsmith either honours (checked here) or cannot honour with an ACME
// CA (refused with the reason, never ignored).
void ValidateCertManagerFields(const CertificateSpec& s, FieldErrors* errors) {
  if (s.is_ca) {
    errors->Add("spec.isCA",
                "ACME CAs issue end-entity certificates only; certsmith cannot "
                "obtain a CA certificate (use isCA: false or leave it out)");
  }
  if (!s.name_constraints.is_null() && !s.name_constraints.empty()) {
    errors->Add("spec.nameConstraints",
                "name constraints belong in CA certificates, which ACME "
                "CAs do not issue; remove the field");
  }
  if (!s.literal_subject.empty()) {
    if (!s.common_name.empty()) errors->Add("spec.literalSubject", "cannot be set with commonName");
    if (s.subject) errors->Add("spec.literalSubject", "cannot be set with subject");
    if (s.literal_subject.find('=') == std::string::npos) {
      errors->Add("spec.literalSubject",
                  "\"" + s.literal_subject + "\" is not an RFC 4514 string such as CN=a,O=b");
    }
  }
  for (size_t i = 0; i < s.uris.size(); ++i) {
    const std::string& u = s.uris[i];
    const size_t colon = u.find(':');
    if (colon == std::string::npos || colon == 0 ||
        !std::isalpha(static_cast<unsigned char>(u[0]))) {
      errors->Add(IndexPath("spec.uris", i), "\"" + u + "\" is not a URI with a scheme");
    }
  }
  for (size_t i = 0; i < s.email_addresses.size(); ++i) {
    if (!internal::LooksLikeEmail(s.email_addresses[i])) {
      errors->Add(IndexPath("spec.emailAddresses", i),
                  "\"" + s.email_addresses[i] + "\" is not an email address");
    }
  }
  for (size_t i = 0; i < s.other_names.size(); ++i) {
    const std::string& oid = s.other_names[i].oid;
    bool ok = !oid.empty() && std::isdigit(static_cast<unsigned char>(oid.front())) &&
              std::isdigit(static_cast<unsigned char>(oid.back())) &&
              oid.find('.') != std::string::npos && oid.find("..") == std::string::npos &&
              oid.find_first_not_of("0123456789.") == std::string::npos;
    if (!ok) {
      errors->Add(IndexPath("spec.otherNames", i) + ".oid",
                  "\"" + oid + "\" is not a dotted object identifier");
    }
  }
  if (!s.signature_algorithm.empty()) {
    // CSRs are signed with SHA-256 (acme/csr.h); the CA signs the certificate as it likes.
    const bool rsa = s.private_key.algorithm == "RSA";
    const std::string_view honoured = rsa ? "SHA256WithRSA" : "ECDSAWithSHA256";
    if (s.signature_algorithm != honoured) {
      errors->Add("spec.signatureAlgorithm",
                  "certsmith signs requests for " + s.private_key.algorithm + " keys with " +
                      std::string(honoured) + " only, not " + s.signature_algorithm);
    }
  }
  if (s.renew_before_percentage) {
    if (*s.renew_before_percentage < 1 || *s.renew_before_percentage > 99) {
      errors->Add("spec.renewBeforePercentage", "must be between 1 and 99");
    }
    if (s.renew_before) errors->Add("spec.renewBeforePercentage", "cannot be set with renewBefore");
  }
  if (s.keystores) {
    if (s.keystores->pkcs12) {
      ValidateKeystore(*s.keystores->pkcs12, "spec.keystores.pkcs12", errors);
      if (!s.keystores->pkcs12->profile.empty()) {
        internal::CheckEnum(s.keystores->pkcs12->profile,
                            {kPkcs12LegacyRc2, kPkcs12LegacyDes, kPkcs12Modern2023},
                            "spec.keystores.pkcs12.profile", errors);
      }
    }
    if (s.keystores->jks) ValidateKeystore(*s.keystores->jks, "spec.keystores.jks", errors);
  }
  std::set<std::string> formats;
  for (size_t i = 0; i < s.additional_output_formats.size(); ++i) {
    const std::string& f = s.additional_output_formats[i];
    const std::string path = IndexPath("spec.additionalOutputFormats", i) + ".type";
    internal::CheckEnum(f, {"CombinedPEM", "DER"}, path, errors);
    if (!formats.insert(f).second) errors->Add(path, "\"" + f + "\" is listed twice");
  }
}

void ValidateNames(const CertificateSpec& s, FieldErrors* errors) {
  // A literalSubject's CN counts as a name when it is a DNS name or IP (DnsIdentifiers()).
  const bool literal_name =
      s.common_name.empty() && !(s.DnsIdentifiers().empty() && s.IpIdentifiers().empty());
  internal::CheckIdentifiers(literal_name ? "literal" : s.common_name, s.dns_names, s.ip_addresses,
                             errors);
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

std::string CommonNameOfLiteralSubject(std::string_view literal) {
  // RFC 4514 §3: RDNs separated by unescaped ',' and attributes by unescaped '+'; a value may
  // escape any character with '\\' (or two hex digits).
  size_t i = 0;
  while (i < literal.size()) {
    size_t eq = literal.find('=', i);
    if (eq == std::string_view::npos) return "";
    std::string type(literal.substr(i, eq - i));
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    std::string value;
    size_t j = eq + 1;
    for (; j < literal.size() && literal[j] != ',' && literal[j] != '+'; ++j) {
      if (literal[j] == '\\' && j + 1 < literal.size()) {
        auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
        if (j + 2 < literal.size() && hex(literal[j + 1]) && hex(literal[j + 2])) {
          value += static_cast<char>(std::stoi(std::string(literal.substr(j + 1, 2)), nullptr, 16));
          j += 2;
        } else {
          value += literal[++j];
        }
      } else {
        value += literal[j];
      }
    }
    for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (type == "CN" || type == "COMMONNAME" || type == "2.5.4.3") {
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of(' ') + 1);
      return value;
    }
    i = j + 1;
  }
  return "";
}

std::string CertificateSpec::SubjectCommonName() const {
  if (!common_name.empty() || literal_subject.empty()) return common_name;
  return CommonNameOfLiteralSubject(literal_subject);
}

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
  // commonName is always ordered; a literalSubject's CN only when it is a DNS name.
  const std::string cn = SubjectCommonName();
  if (!cn.empty() && !IsValidIpAddress(cn) && (!common_name.empty() || IsValidDnsName(cn, true))) {
    DedupeAppend(&out, NormalizeDnsName(cn));
  }
  for (const std::string& n : dns_names) DedupeAppend(&out, NormalizeDnsName(n));
  return out;
}

std::vector<std::string> CertificateSpec::IpIdentifiers() const {
  std::vector<std::string> out;
  const std::string cn = SubjectCommonName();
  if (!cn.empty() && IsValidIpAddress(cn)) DedupeAppend(&out, cn);
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
  ValidateCertManagerFields(spec, &errors);
  if (spec.subject) ValidateSubject(*spec.subject, &errors);
  const CertificatePrivateKey& k = spec.private_key;
  if (k.algorithm == "Ed25519") {
    errors.Add("spec.privateKey.algorithm",
               "Ed25519: the ACME CAs certsmith serves do not sign Ed25519 keys; use ECDSA or RSA");
  } else {
    internal::CheckKeyAlgorithmAndSize(k.algorithm, k.size, "spec.privateKey", &errors);
  }
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

Json KeystoreSpec::ToJson() const {
  Json j = {{"create", create}};
  PutString(j, "password", password);
  if (!password_secret_ref.name.empty()) j["passwordSecretRef"] = password_secret_ref.ToJson();
  PutString(j, "profile", profile);
  PutString(j, "alias", alias);
  return j;
}

Json CertificateKeystores::ToJson() const {
  Json j = Json::object();
  if (pkcs12) j["pkcs12"] = pkcs12->ToJson();
  if (jks) j["jks"] = jks->ToJson();
  return j;
}

Json CertificateStatus::RenewalInfo::ToJson() const {
  Json j = Json::object();
  PutString(j, "certificateID", certificate_id);
  internal::PutTime(j, "windowStart", window_start);
  internal::PutTime(j, "windowEnd", window_end);
  PutString(j, "explanationURL", explanation_url);
  internal::PutTime(j, "nextCheckTime", next_check_time);
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
  PutString(j, "literalSubject", literal_subject);
  PutList(j, "uris", uris);
  PutList(j, "emailAddresses", email_addresses);
  if (!other_names.empty()) {
    Json list = Json::array();
    for (const OtherName& o : other_names)
      list.push_back({{"oid", o.oid}, {"utf8Value", o.utf8_value}});
    j["otherNames"] = list;
  }
  internal::PutBool(j, "isCA", is_ca);
  internal::PutObject(j, "nameConstraints", name_constraints);
  if (encode_usages_in_request) j["encodeUsagesInRequest"] = *encode_usages_in_request;
  PutString(j, "signatureAlgorithm", signature_algorithm);
  if (renew_before_percentage) j["renewBeforePercentage"] = *renew_before_percentage;
  if (keystores) j["keystores"] = keystores->ToJson();
  if (!additional_output_formats.empty()) {
    Json list = Json::array();
    for (const std::string& f : additional_output_formats) list.push_back({{"type", f}});
    j["additionalOutputFormats"] = list;
  }
  if (revoke_on_delete) j["revokeOnDelete"] = *revoke_on_delete;
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
  if (renewal_info) j["renewalInfo"] = renewal_info->ToJson();
  return j;
}

Json Certificate::ToJson() const {
  Json j = internal::Header(kApiVersion, "Certificate", metadata);
  j["spec"] = spec.ToJson();
  j["status"] = status.ToJson();
  return j;
}

}  // namespace certsmith::api
