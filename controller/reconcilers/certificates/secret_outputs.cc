#include "certificates/secret_outputs.h"

#include <algorithm>

#include "acme/certificate.h"
#include "acme/jws.h"
#include "acme/keystore.h"
#include "certsmith/base64.h"
#include "kube/errors.h"

namespace certsmith::reconcilers {
namespace {

constexpr char kDefaultPasswordKey[] = "password";
constexpr char kDefaultJksAlias[] = "certificate";

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

Result<std::string> Password(Context& ctx, const api::Certificate& cert,
                             const api::KeystoreSpec& ks, const std::string& field) {
  if (!ks.password.empty()) return ks.password;
  const std::string key =
      ks.password_secret_ref.key.empty() ? kDefaultPasswordKey : ks.password_secret_ref.key;
  const std::string where = field + ".passwordSecretRef: Secret " + ks.password_secret_ref.name;
  auto secret =
      ctx.client->Get(kube::kSecrets, cert.metadata.namespace_, ks.password_secret_ref.name);
  if (!secret.ok()) {
    if (kube::IsNotFound(secret.status())) {
      return MakeError(ErrorCode::kFailedPrecondition, where + " does not exist");
    }
    return secret.status().WithContext(where);
  }
  const Json data = secret->value("data", Json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) {
    return MakeError(ErrorCode::kFailedPrecondition, where + " has no key " + key);
  }
  auto decoded = Base64DecodeLenient(it->get<std::string>());
  if (!decoded.ok() || decoded->empty()) {
    return MakeError(ErrorCode::kFailedPrecondition, where + " key " + key + " is empty");
  }
  return *decoded;
}

// The data keys this feature owns, with what they should hold ("" = absent).
struct Outputs {
  std::map<std::string, std::string> data;
  std::string digest_input;
};

Result<Outputs> Build(Context& ctx, const api::Certificate& cert, const acme::PrivateKey& key,
                      const std::string& chain_pem, const std::string& ca_pem, bool build) {
  Outputs out;
  for (const char* k :
       {kKeystoreP12, kTruststoreP12, kKeystoreJks, kTruststoreJks, kCombinedPem, kKeyDer}) {
    out.data[k] = "";
  }
  const auto& formats = cert.spec.additional_output_formats;
  const bool combined = std::count(formats.begin(), formats.end(), "CombinedPEM") > 0;
  const bool der = std::count(formats.begin(), formats.end(), "DER") > 0;
  const auto* ks = cert.spec.keystores ? &*cert.spec.keystores : nullptr;
  const bool p12 = ks && ks->pkcs12 && ks->pkcs12->create;
  const bool jks = ks && ks->jks && ks->jks->create;
  ASSIGN_OR_RETURN(std::string key_pkcs8, key.ToPem(acme::PemEncoding::kPkcs8));
  out.digest_input = key_pkcs8 + "|" + chain_pem + "|" + ca_pem + "|" + Join(formats);
  std::string p12_password, jks_password;
  if (p12) {
    ASSIGN_OR_RETURN(p12_password, Password(ctx, cert, *ks->pkcs12, "spec.keystores.pkcs12"));
    out.digest_input += "|p12:" + ks->pkcs12->profile + ":" + p12_password;
  }
  if (jks) {
    ASSIGN_OR_RETURN(jks_password, Password(ctx, cert, *ks->jks, "spec.keystores.jks"));
    out.digest_input += "|jks:" + ks->jks->alias + ":" + jks_password;
  }
  if (!build) return out;
  if (combined) {
    // cert-manager's CombinedPEM: the private key, then the chain.
    ASSIGN_OR_RETURN(std::string key_pem, key.ToPem(cert.spec.private_key.encoding == "PKCS8"
                                                        ? acme::PemEncoding::kPkcs8
                                                        : acme::PemEncoding::kPkcs1));
    out.data[kCombinedPem] = key_pem + (key_pem.back() == '\n' ? "" : "\n") + chain_pem;
  }
  if (der) {
    // cert-manager's DER: the private key, PKCS#8 DER.
    const std::string body = key_pkcs8.substr(key_pkcs8.find('\n') + 1);
    ASSIGN_OR_RETURN(out.data[kKeyDer], Base64DecodeLenient(body.substr(0, body.find("-----END"))));
  }
  if (p12) {
    ASSIGN_OR_RETURN(acme::Pkcs12Profile profile, acme::ParsePkcs12Profile(ks->pkcs12->profile));
    auto keystore = acme::MakePkcs12Keystore(key, chain_pem, p12_password, profile);
    if (!keystore.ok()) return keystore.status().WithContext("spec.keystores.pkcs12");
    out.data[kKeystoreP12] = *keystore;
    if (!ca_pem.empty()) {
      auto trust = acme::MakePkcs12Truststore(ca_pem, p12_password, profile);
      if (!trust.ok()) return trust.status().WithContext("spec.keystores.pkcs12");
      out.data[kTruststoreP12] = *trust;
    }
  }
  if (jks) {
    const std::string alias = ks->jks->alias.empty() ? kDefaultJksAlias : ks->jks->alias;
    auto keystore =
        acme::MakeJksKeystore(key, chain_pem, ca_pem, jks_password, alias, ctx.clock->Now());
    if (!keystore.ok()) return keystore.status().WithContext("spec.keystores.jks");
    out.data[kKeystoreJks] = *keystore;
    if (!ca_pem.empty()) {
      auto trust = acme::MakeJksTruststore(ca_pem, jks_password, ctx.clock->Now());
      if (!trust.ok()) return trust.status().WithContext("spec.keystores.jks");
      out.data[kTruststoreJks] = *trust;
    }
  }
  return out;
}

// cert-manager's Secret annotations, from the issued certificate (what it holds, not what was
// asked for), plus the issuer and Certificate names.
std::map<std::string, std::string> Annotations(const api::Certificate& cert,
                                               const acme::CertificateInfo& info) {
  const acme::Subject& s = info.subject_fields;
  return {{kCommonNameAnnotation, info.common_name},
          {kAltNamesAnnotation, Join(info.dns_names)},
          {kIpSansAnnotation, Join(info.ip_addresses)},
          {kUriSansAnnotation, Join(info.uris)},
          {kEmailSansAnnotation, Join(info.email_addresses)},
          {kIssuerGroupAnnotation, cert.spec.issuer_ref.group},
          {kCertificateNameAnnotation, cert.metadata.name},
          {"certsmith.io/subject-organizations", Join(s.organizations)},
          {"certsmith.io/subject-organizationalunits", Join(s.organizational_units)},
          {"certsmith.io/subject-countries", Join(s.countries)},
          {"certsmith.io/subject-provinces", Join(s.provinces)},
          {"certsmith.io/subject-localities", Join(s.localities)},
          {"certsmith.io/subject-streetaddresses", Join(s.street_addresses)},
          {"certsmith.io/subject-postalcodes", Join(s.postal_codes)},
          {"certsmith.io/subject-serialnumber", s.serial_number}};
}

bool SetAnnotation(Json& meta, const std::string& key, const std::string& value) {
  Json& annotations = meta["annotations"];
  if (!annotations.is_object()) annotations = Json::object();
  if (value.empty()) return annotations.erase(key) > 0;
  if (annotations.value(key, "") == value) return false;
  annotations[key] = value;
  return true;
}

}  // namespace

Result<bool> ApplySecretOutputs(Context& ctx, const api::Certificate& cert,
                                const acme::CertificateInfo& leaf, const PrivateKeySource& key_source,
                                const std::string& chain_pem, const std::string& ca_pem,
                                Json* secret) {
  Json& meta = (*secret)["metadata"];
  bool changed = false;
  for (const auto& [k, v] : Annotations(cert, leaf)) changed |= SetAnnotation(meta, k, v);

  const auto& formats = cert.spec.additional_output_formats;
  const auto* ks = cert.spec.keystores ? &*cert.spec.keystores : nullptr;
  const bool wanted = !formats.empty() ||
                      (ks && ((ks->pkcs12 && ks->pkcs12->create) || (ks->jks && ks->jks->create)));
  Json& data = (*secret)["data"];
  if (!data.is_object()) data = Json::object();
  if (!wanted) {
    for (const char* k :
         {kKeystoreP12, kTruststoreP12, kKeystoreJks, kTruststoreJks, kCombinedPem, kKeyDer}) {
      changed |= data.erase(k) > 0;
    }
    changed |= SetAnnotation(meta, kOutputsDigestAnnotation, "");
    return changed;
  }
  ASSIGN_OR_RETURN(const acme::PrivateKey key, key_source());
  ASSIGN_OR_RETURN(Outputs plan, Build(ctx, cert, key, chain_pem, ca_pem, false));
  ASSIGN_OR_RETURN(std::string key_pem, key.ToPem(acme::PemEncoding::kPkcs8));
  ASSIGN_OR_RETURN(std::string mac,
                   acme::ComputeHmac(acme::HmacAlgorithm::kHS256, key_pem, plan.digest_input));
  const std::string digest = Base64UrlEncode(mac);
  if (meta["annotations"].value(kOutputsDigestAnnotation, "") == digest) return changed;
  ASSIGN_OR_RETURN(Outputs outputs, Build(ctx, cert, key, chain_pem, ca_pem, true));
  for (const auto& [k, v] : outputs.data) {
    if (v.empty()) {
      data.erase(k);
    } else {
      data[k] = Base64Encode(v);
    }
  }
  SetAnnotation(meta, kOutputsDigestAnnotation, digest);
  return true;
}

}  // namespace certsmith::reconcilers
