// JSON Web Signature for ACME (RFC 8555 §6.2, RFC 7515 flattened JSON serialization),
// JWK thumbprints (RFC 7638) and External Account Binding (RFC 8555 §7.3.4).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "acme/key.h"
#include "certsmith/status.h"

namespace certsmith::acme {

// The narrow interface through which requests are signed: the transport and the protocol
// code never hold the key itself.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual std::string Algorithm() const = 0;  // "RS256", "ES256", "ES384"
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

// Protected header {alg, nonce, url, jwk|kid} (RFC 8555 §6.2): "jwk" when kid is empty
// (newAccount, key-signed revocation), "kid" (the account URL) otherwise. nonce is omitted when
// empty (inner JWS of key rollover, §7.3.5). payload is the JSON text, used as given; an empty
// payload means POST-as-GET (§6.3: payload ""). Returns the flattened JSON serialization
// {"protected","payload","signature"}, every member base64url without padding.
Result<nlohmann::json> SignJws(const Signer& signer, std::string_view url, std::string_view nonce,
                               std::string_view kid, std::string_view payload);

// RFC 7638 thumbprint: base64url(SHA-256(canonical JWK)). Only the required members of the
// key type take part (RSA: e, kty, n; EC: crv, kty, x, y; OKP: crv, kty, x; oct: k, kty), in
// lexicographic order, without whitespace. Returns "" for a JWK that is not an object, has an
// unknown kty or misses a required member (a key from PrivateKey never does).
std::string JwkThumbprint(const nlohmann::json& jwk);

// Key authorization "token.thumbprint" (RFC 8555 §8.1) and the dns-01 TXT value
// base64url(SHA-256(key authorization)) (§8.4). The string_view overload takes the account
// key's thumbprint (PrivateKey::JwkThumbprint()), which avoids hashing the JWK per challenge.
std::string KeyAuthorization(std::string_view token, const nlohmann::json& account_jwk);
std::string KeyAuthorization(std::string_view token, std::string_view account_thumbprint);
std::string Dns01TxtValue(std::string_view key_authorization);

enum class HmacAlgorithm { kHS256, kHS384, kHS512 };
// "HS256" | "HS384" | "HS512", case-insensitive. Anything else is an error naming the accepted
// algorithms (cert-manager silently used HS256 whatever was configured).
Result<HmacAlgorithm> ParseHmacAlgorithm(std::string_view name);
const char* HmacAlgorithmName(HmacAlgorithm alg);  // "HS256"...

// Raw HMAC over data (RFC 2104 with SHA-256/384/512). The key is never part of an error.
Result<std::string> ComputeHmac(HmacAlgorithm alg, std::string_view key, std::string_view data);

struct ExternalAccountBinding {
  std::string key_id;
  std::string hmac_key;  // raw key bytes (already decoded); never logged
  HmacAlgorithm algorithm = HmacAlgorithm::kHS256;
};

// Decodes an EAB HMAC key as CAs hand it out: base64url or standard alphabet, padded or not,
// with whitespace (line breaks from copy and paste) ignored. Empty or invalid text is an
// InvalidArgument error that says what is wrong and where (1-based position) without echoing
// any of the key.
Result<std::string> DecodeEabHmacKey(std::string_view text);

// The inner JWS for newAccount's externalAccountBinding field (RFC 8555 §7.3.4): protected
// {alg, kid, url} (no nonce), payload = base64url of the account's public JWK, MAC'd with the
// HMAC key. url is the newAccount URL, the same as the outer JWS's. Fails on an empty key ID or
// an empty HMAC key.
Result<nlohmann::json> MakeEabJws(const ExternalAccountBinding& eab,
                                  const nlohmann::json& account_jwk, std::string_view url);

}  // namespace certsmith::acme
