#include "plugin/secret_view.h"

#include "acme/key.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "kube/time_format.h"
#include "plugin/output.h"

namespace certsmith::plugin {
namespace {

std::optional<std::string> Data(const nlohmann::json& secret, const std::string& key) {
  const nlohmann::json data = secret.value("data", nlohmann::json::object());
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return std::nullopt;
  auto decoded = Base64DecodeLenient(it->get<std::string>());
  if (!decoded.ok()) return std::nullopt;
  return *decoded;
}

std::vector<acme::CertificateInfo> ParseBundle(const std::string& pem, std::string* error) {
  std::vector<acme::CertificateInfo> out;
  auto blocks = acme::SplitPemCertificates(pem);
  if (!blocks.ok()) {
    *error = blocks.status().message();
    return out;
  }
  for (const std::string& block : *blocks) {
    auto info = acme::ParseCertificatePem(block);
    if (!info.ok()) {
      *error = info.status().message();
      return out;
    }
    out.push_back(*info);
  }
  return out;
}

std::string KeyType(const acme::PrivateKey& key) {
  if (key.is_rsa()) return "RSA " + std::to_string(key.bits());
  return "ECDSA P-" + std::to_string(key.bits());
}

}  // namespace

SecretContents ReadSecret(const nlohmann::json& secret) {
  SecretContents c;
  const nlohmann::json data = secret.value("data", nlohmann::json::object());
  for (const auto& [key, value] : data.items()) {
    auto decoded = value.is_string() ? Base64DecodeLenient(value.get<std::string>())
                                     : Result<std::string>(std::string());
    c.data_sizes.emplace_back(key, decoded.ok() ? decoded->size() : 0);
  }
  auto crt = Data(secret, "tls.crt");
  if (!crt || crt->empty()) {
    c.chain_error = "no tls.crt";
  } else {
    c.chain = ParseBundle(*crt, &c.chain_error);
  }
  if (auto ca = Data(secret, "ca.crt"); ca && !ca->empty()) {
    std::string ignored;
    c.ca = ParseBundle(*ca, &ignored);
  }
  if (auto key_pem = Data(secret, "tls.key"); key_pem && !key_pem->empty()) {
    auto key = acme::PrivateKey::FromPem(*key_pem);
    if (!key.ok()) {
      c.key_error = key.status().message();
    } else {
      c.key_type = KeyType(*key);
      if (crt && !c.chain.empty()) c.key_matches = acme::CertificateMatchesKey(*crt, *key);
    }
  }
  return c;
}

std::string SubjectAltNames(const acme::CertificateInfo& info) {
  std::vector<std::string> names;
  for (const std::string& n : info.dns_names) names.push_back("DNS:" + n);
  for (const std::string& ip : info.ip_addresses) names.push_back("IP:" + ip);
  return names.empty() ? "-" : Join(names);
}

nlohmann::json CertificateInfoToJson(const acme::CertificateInfo& info) {
  return {{"subject", info.subject},
          {"issuer", info.issuer},
          {"serialNumber", info.serial_hex},
          {"notBefore", kube::FormatTime(info.not_before)},
          {"notAfter", kube::FormatTime(info.not_after)},
          {"dnsNames", info.dns_names},
          {"ipAddresses", info.ip_addresses},
          {"publicKeySHA256", info.public_key_sha256},
          {"isCA", info.is_ca}};
}

nlohmann::json SecretContentsToJson(const SecretContents& c) {
  nlohmann::json j = nlohmann::json::object();
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& info : c.chain) chain.push_back(CertificateInfoToJson(info));
  j["certificates"] = chain;
  if (!c.chain_error.empty()) j["certificateError"] = c.chain_error;
  nlohmann::json ca = nlohmann::json::array();
  for (const auto& info : c.ca) ca.push_back(CertificateInfoToJson(info));
  if (!ca.empty()) j["ca"] = ca;
  if (!c.key_type.empty()) j["keyType"] = c.key_type;
  if (!c.key_error.empty()) j["keyError"] = c.key_error;
  if (c.key_matches) j["keyMatchesCertificate"] = *c.key_matches;
  nlohmann::json sizes = nlohmann::json::object();
  for (const auto& [key, size] : c.data_sizes) sizes[key] = size;
  j["dataSizes"] = sizes;
  return j;
}

std::vector<std::string> DescribeCertificate(const acme::CertificateInfo& info,
                                             Clock::TimePoint now, const std::string& indent) {
  // Names and subjects come from the certificate: printable, never raw control characters.
  std::string validity =
      kube::FormatTime(info.not_before) + " .. " + kube::FormatTime(info.not_after);
  validity += now >= info.not_after ? " (EXPIRED " + Relative(info.not_after, now) + ")"
                                    : " (expires " + Relative(info.not_after, now) + ")";
  return {indent + "Subject:    " + log::Sanitize(info.subject.empty() ? "-" : info.subject),
          indent + "SANs:       " + log::Sanitize(SubjectAltNames(info)),
          indent + "Issuer:     " + log::Sanitize(info.issuer),
          indent + "Serial:     " + info.serial_hex, indent + "Validity:   " + validity};
}

}  // namespace certsmith::plugin
