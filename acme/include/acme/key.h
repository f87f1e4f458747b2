// Private keys: generation, PEM in and out, JOSE public keys (RFC 7517/7518) and signing.
// OpenSSL 3 EVP APIs only. The key material stays inside PrivateKey; nothing here logs it,
// and no error message carries key bytes.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "certsmith/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace certsmith::acme {

enum class KeyType { kEcdsaP256, kEcdsaP384, kRsa2048, kRsa3072, kRsa4096 };

// "ec256" | "ec384" | "rsa2048" | "rsa3072" | "rsa4096", case-insensitive, with the aliases
// "p256", "p-256", "ecdsa-p256", "ecdsa256", "prime256v1", "secp256r1" (and 384 forms), "rsa-2048"
// (and 3072/4096). Anything else is an error listing the accepted names.
Result<KeyType> ParseKeyType(std::string_view name);
const char* KeyTypeName(KeyType type);  // canonical short name, e.g. "ec256"

// cert-manager's Certificate spec.privateKey {algorithm, size}: "RSA" (2048 default, 3072,
// 4096) or "ECDSA" (256 default, 384), case-insensitive; size 0 means the default. Ed25519 and
// other sizes are an error saying what is supported.
Result<KeyType> KeyTypeFromAlgorithm(std::string_view algorithm, int size);

enum class PemEncoding {
  kPkcs1,  // "RSA PRIVATE KEY" for RSA, SEC1 "EC PRIVATE KEY" for ECDSA (traditional forms)
  kPkcs8,  // "PRIVATE KEY"
};
// spec.privateKey.encoding: "PKCS1" | "PKCS8", case-insensitive; "" means PKCS1 (cert-manager's
// default).
Result<PemEncoding> ParsePemEncoding(std::string_view name);

struct KeyState;  // defined in key.cc: the EVP_PKEY plus values derived once (JWK, SPKI)

// An RSA (2048..8192 bits) or ECDSA (P-256, P-384) private key. Immutable after construction:
// copies share one state, and every const method may be called from any thread at once.
class PrivateKey {
 public:
  // RSA generation is slow (about 0.1-0.2 s for 2048 bits, 0.5-1 s for 3072): callers on a
  // reconcile loop must run it off the worker thread. ECDSA takes well under a millisecond.
  static Result<PrivateKey> Generate(KeyType type);
  // Accepts PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY" (an "EC PARAMETERS" block before it
  // is skipped) and unencrypted PKCS#8 "PRIVATE KEY". Encrypted keys, other algorithms and
  // curves, and RSA under 2048 bits are rejected with a message saying which.
  static Result<PrivateKey> FromPem(std::string_view pem);
  // Wraps an EVP_PKEY built elsewhere (tests, other crypto code), taking a reference of its own
  // (EVP_PKEY_up_ref); the caller keeps and frees its own. The same checks as FromPem apply. The
  // key must not be modified afterwards.
  static Result<PrivateKey> FromEvpPkey(EVP_PKEY* pkey);

  // The PEM text holds the secret key: store it in a Secret, never log it.
  Result<std::string> ToPem(PemEncoding encoding = PemEncoding::kPkcs8) const;
  const std::string& PublicKeyDer() const;  // SubjectPublicKeyInfo DER

  bool is_rsa() const;
  bool is_ecdsa() const { return !is_rsa(); }
  int bits() const;  // RSA modulus size or EC curve size
  // The KeyType this key is (RSA with an unusual size maps to the nearest at or below).
  KeyType type() const;

  // JOSE: public JWK with only the required members (RFC 7638 §3.2: RSA {e, kty, n}, EC
  // {crv, kty, x, y} with x and y at the curve's full width), "RS256" | "ES256" | "ES384",
  // and the signature in JWS form (RSASSA-PKCS1-v1_5, or R||S fixed-width for ECDSA,
  // RFC 7518 §3.4). PublicJwk and its thumbprint are computed once, at construction.
  const nlohmann::json& PublicJwk() const;
  const std::string& JwkThumbprint() const;  // RFC 7638, base64url SHA-256
  const std::string& JwsAlgorithm() const;
  Result<std::string> SignJws(std::string_view signing_input) const;

  // True when both hold the same public key.
  bool SamePublicKey(const PrivateKey& other) const;

  EVP_PKEY* get() const;

 private:
  explicit PrivateKey(std::shared_ptr<const KeyState> state) : state_(std::move(state)) {}
  std::shared_ptr<const KeyState> state_;  // immutable once built; sharing is safe
};

// Hex (lower-case) SHA-256 of a key's SubjectPublicKeyInfo: a short, safe identifier for logs
// and status. CertificateInfo::public_key_sha256 is the same value for the certificate's key.
std::string PublicKeyFingerprint(const PrivateKey& key);

}  // namespace certsmith::acme
