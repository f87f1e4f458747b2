// What a TLS Secret's content says on its own: the certificate's facts (names, validity, public
// key, ARI certificate ID) and the private key's type, and whether the two belong together.
// Decoding them is most of a Certificate sync's CPU (OpenSSL's PEM and key decoders), so they are
// read once per version of the Secret (uid + resourceVersion) and kept per Certificate: a
// restart over 10,000 issued Certificates, or a Certificate woken again with an unchanged
// Secret, does not decode the Secret again. Nothing here depends on the Certificate's spec or on
// the time: CheckIssuance (certificate_reconciler.h) compares the facts with the spec and the
// clock at every sync, so a certificate still becomes due when its time comes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "acme/certificate.h"
#include "acme/key.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

struct SecretFacts {
  // The first thing wrong with the Secret's content, in the order CheckIssuance reports them.
  enum class Problem { kNone, kMissingData, kInvalidCertificate, kInvalidKey, kKeyMismatch };
  Problem problem = Problem::kNone;
  // The leaf (first certificate of tls.crt) when it parsed: subject, issuer and serial texts
  // are dropped (nothing reads them from here) to keep the cache small.
  std::optional<acme::CertificateInfo> info;
  std::optional<acme::KeyType> key_type;  // tls.key's type when it parsed
};

// A data field of a Secret, base64-decoded; nullopt when secret is nullptr or the field is
// missing, not base64 or empty.
std::optional<std::string> SecretData(const Json* secret, const std::string& field);

// Decodes secret's tls.crt and tls.key.
SecretFacts ReadSecretFacts(const Json& secret);

// SecretFacts per Certificate (its namespace/name), for the version of the Secret they were read
// from. Thread-safe (the workers share it).
class SecretFactsCache {
 public:
  // The facts of secret's content: kept ones when the Certificate's last Secret had the same
  // uid and resourceVersion, else read now and kept.
  std::shared_ptr<const SecretFacts> Get(const std::string& certificate_key, const Json& secret);
  // The Certificate is gone.
  void Forget(const std::string& certificate_key);
  size_t Size() const;
  // How many times a Secret was decoded (a test's view of the cache).
  uint64_t Reads() const;

 private:
  struct Entry {
    std::string uid;
    std::string resource_version;
    std::shared_ptr<const SecretFacts> facts;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  uint64_t reads_ = 0;
};

}  // namespace certsmith::reconcilers
