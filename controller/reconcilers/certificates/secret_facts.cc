#include "certificates/secret_facts.h"

#include "certsmith/base64.h"
#include "kube/client.h"

namespace certsmith::reconcilers {

std::optional<std::string> SecretData(const Json* secret, const std::string& field) {
  if (secret == nullptr) return std::nullopt;
  auto data = secret->find("data");
  if (data == secret->end() || !data->is_object()) return std::nullopt;
  auto v = data->find(field);
  if (v == data->end() || !v->is_string()) return std::nullopt;
  auto decoded = Base64DecodeLenient(v->get<std::string>());
  if (!decoded.ok() || decoded->empty()) return std::nullopt;
  return *decoded;
}

SecretFacts ReadSecretFacts(const Json& secret) {
  SecretFacts facts;
  auto crt = SecretData(&secret, "tls.crt");
  auto key_pem = SecretData(&secret, "tls.key");
  if (!crt || !key_pem) {
    facts.problem = SecretFacts::Problem::kMissingData;
    return facts;
  }
  auto info = acme::ParseCertificatePem(*crt);
  if (!info.ok()) {
    facts.problem = SecretFacts::Problem::kInvalidCertificate;
    return facts;
  }
  // Not read from here: kept out of the cache.
  info->subject.clear();
  info->issuer.clear();
  info->issuer_common_name.clear();
  info->serial_hex.clear();
  facts.info = std::move(info).value();
  auto key = acme::PrivateKey::FromPem(*key_pem);
  if (!key.ok()) {
    facts.problem = SecretFacts::Problem::kInvalidKey;
    return facts;
  }
  facts.key_type = key->type();
  // The certificate's SPKI digest against the key's: the same comparison as
  // acme::CertificateMatchesKey without decoding the certificate again.
  if (facts.info->public_key_sha256 != acme::PublicKeyFingerprint(*key)) {
    facts.problem = SecretFacts::Problem::kKeyMismatch;
  }
  return facts;
}

std::shared_ptr<const SecretFacts> SecretFactsCache::Get(const std::string& certificate_key,
                                                         const Json& secret) {
  const std::string uid = kube::GetUid(secret);
  const std::string rv = kube::GetResourceVersion(secret);
  if (!uid.empty() && !rv.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(certificate_key);
    if (it != entries_.end() && it->second.uid == uid && it->second.resource_version == rv) {
      return it->second.facts;
    }
  }
  // Decoded outside the lock: the workers decode different Secrets at once.
  auto facts = std::make_shared<const SecretFacts>(ReadSecretFacts(secret));
  std::lock_guard<std::mutex> lock(mu_);
  ++reads_;
  // A Secret without uid or resourceVersion (not from the API server) is never kept.
  if (uid.empty() || rv.empty()) {
    entries_.erase(certificate_key);
  } else {
    entries_[certificate_key] = {uid, rv, facts};
  }
  return facts;
}

void SecretFactsCache::Forget(const std::string& certificate_key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(certificate_key);
}

size_t SecretFactsCache::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t SecretFactsCache::Reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

}  // namespace certsmith::reconcilers
