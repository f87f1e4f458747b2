// Private keys: generation, PEM in and out, JOSE public keys (RFC 7517/7518) and signing.
// OpenSSL 3 EVP APIs only. The key material stays inside PrivateKey; nothing here logs it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "certsmith/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace certsmith::acme {

enum class KeyType { kEcdsaP256, kEcdsaP384, kRsa2048, kRsa3072, kRsa4096 };

// "ec256" | "ec384" | "rsa2048" | "rsa3072" | "rsa4096" (also "p256", "p384", "ecdsa-p256"...)
Result<KeyType> ParseKeyType(std::string_view name);
const char* KeyTypeName(KeyType type);  // canonical short name, e.g. "ec256"

enum class PemEncoding {
  kPkcs1,  // "RSA PRIVATE KEY" for RSA, SEC1 "EC PRIVATE KEY" for ECDSA (traditional forms)
  kPkcs8,  // "PRIVATE KEY"
};

class PrivateKey {
 public:
  // RSA generation is slow (0.2 s for 2048 bits, ~1 s for 3072): callers on a reconcile loop
  // must run it off the worker thread.
  static Result<PrivateKey> Generate(KeyType type);
  // Accepts PKCS#1, SEC1 and PKCS#8 (unencrypted) PEM.
  static Result<PrivateKey> FromPem(std::string_view pem);

  Result<std::string> ToPem(PemEncoding encoding = PemEncoding::kPkcs8) const;
  std::string PublicKeyDer() const;  // SubjectPublicKeyInfo DER

  bool is_rsa() const;
  bool is_ecdsa() const { return !is_rsa(); }
  int bits() const;  // RSA modulus size or EC curve size
  // The KeyType this key is (RSA with an unusual size maps to the nearest at or below).
  KeyType type() const;

  // JOSE: public JWK with only the required members, "RS256" | "ES256" | "ES384",
  // and the signature in JWS form (RSASSA-PKCS1-v1_5, or R||S fixed-width for ECDSA).
  nlohmann::json PublicJwk() const;
  std::string JwsAlgorithm() const;
  Result<std::string> SignJws(std::string_view signing_input) const;

  // True when both hold the same public key.
  bool SamePublicKey(const PrivateKey& other) const;

  EVP_PKEY* get() const { return pkey_.get(); }
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> pkey) : pkey_(std::move(pkey)) {}

 private:
  std::shared_ptr<EVP_PKEY> pkey_;  // immutable once built; sharing is safe
};

// Hex SHA-256 of a key's SubjectPublicKeyInfo: a short, safe identifier for logs and status.
std::string PublicKeyFingerprint(const PrivateKey& key);

}  // namespace certsmith::acme
