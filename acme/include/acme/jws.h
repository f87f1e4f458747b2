// JSON Web Signature for ACME (RFC 8555 §6.2, RFC 7515 flattened JSON serialization),
// JWK thumbprints (RFC 7638) and External Account Binding (RFC 8555 §7.3.4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::acme {

// The narrow interface through which requests are signed: the transport and the protocol
// code never hold the key itself.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string Algorithm() const = 0;     // "RS256", "ES256", "ES384"
  virtual nlohmann::json PublicJwk() const = 0;
  virtual Result<std::string> Sign(std::string_view signing_input) const = 0;
};

class KeySigner final : public Signer {
 public:
  explicit KeySigner(PrivateKey key) : key_(std::move(key)) {}
  std::string Algorithm() const override { return key_.JwsAlgorithm(); }
  nlohmann::json PublicJwk() const override { return key_.PublicJwk(); }
  Result<std::string> Sign(std::string_view in) const override { return key_.SignJws(in); }

 private:
  PrivateKey key_;
};

// Protected header carries "jwk" when kid is empty (newAccount, key-signed revocation),
// "kid" otherwise. nonce is omitted when empty (inner JWS of key rollover). payload is the
// JSON text; an empty payload means POST-as-GET (RFC 8555 §6.3: payload "").
// Returns the flattened JSON serialization {"protected","payload","signature"}.
Result<nlohmann::json> SignJws(const Signer& signer, std::string_view url, std::string_view nonce,
                               std::string_view kid, std::string_view payload);

// RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)).
std::string JwkThumbprint(const nlohmann::json& jwk);

// Key authorization "token.thumbprint" (RFC 8555 §8.1) and the dns-01 TXT value
// base64url(SHA-256(key authorization)) (§8.4).
std::string KeyAuthorization(std::string_view token, const nlohmann::json& account_jwk);
std::string Dns01TxtValue(std::string_view key_authorization);

enum class HmacAlgorithm { kHS256, kHS384, kHS512 };
Result<HmacAlgorithm> ParseHmacAlgorithm(std::string_view name);  // "HS256"..., case-insensitive
const char* HmacAlgorithmName(HmacAlgorithm alg);

struct ExternalAccountBinding {
  std::string key_id;
  std::string hmac_key;  // raw key bytes (already decoded); never logged
  HmacAlgorithm algorithm = HmacAlgorithm::kHS256;
};

// Decodes an EAB HMAC key as CAs hand it out: base64url or standard, padded or not.
// The error says what is wrong without echoing the key.
Result<std::string> DecodeEabHmacKey(std::string_view text);

// The inner JWS for newAccount's externalAccountBinding field: protected {alg, kid, url},
// payload = the account's public JWK, MAC'd with the HMAC key.
Result<nlohmann::json> MakeEabJws(const ExternalAccountBinding& eab,
                                  const nlohmann::json& account_jwk, std::string_view url);

}  // namespace certsmith::acme
