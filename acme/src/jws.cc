#include "acme/jws.h"

#include <openssl/evp.h>

#include <cctype>
#include <vector>

#include "certsmith/base64.h"
#include "openssl_util.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

// nlohmann::json throws on invalid UTF-8 when dumping (a URL or kid from a broken server):
// turn that into a Status at the edge.
Result<std::string> DumpJson(const json& value, std::string_view what) {
  try {
    return value.dump();
  } catch (const json::exception&) {
    return Status(ErrorCode::kInvalidArgument, std::string(what) + " is not valid UTF-8");
  }
}

// base64url(protected) "." base64url(payload): the JWS Signing Input (RFC 7515 §5.1).
std::string SigningInput(std::string_view protected64, std::string_view payload64) {
  std::string input;
  input.reserve(protected64.size() + 1 + payload64.size());
  input.append(protected64).append(1, '.').append(payload64);
  return input;
}

json FlattenedJws(std::string protected64, std::string payload64, std::string_view signature) {
  return json{{"protected", std::move(protected64)},
              {"payload", std::move(payload64)},
              {"signature", Base64UrlEncode(signature)}};
}

// RFC 7638 §3.2: the required members of each key type, already in lexicographic order.
const std::vector<const char*>* RequiredMembers(std::string_view kty) {
  static const std::vector<const char*> kRsa = {"e", "kty", "n"};
  static const std::vector<const char*> kEc = {"crv", "kty", "x", "y"};
  static const std::vector<const char*> kOkp = {"crv", "kty", "x"};
  static const std::vector<const char*> kOct = {"k", "kty"};
  if (kty == "RSA") return &kRsa;
  if (kty == "EC") return &kEc;
  if (kty == "OKP") return &kOkp;
  if (kty == "oct") return &kOct;
  return nullptr;
}

const char* DigestName(HmacAlgorithm alg) {
  switch (alg) {
    case HmacAlgorithm::kHS256:
      return "SHA256";
    case HmacAlgorithm::kHS384:
      return "SHA384";
    case HmacAlgorithm::kHS512:
      return "SHA512";
  }
  return "SHA256";
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

Result<json> SignJws(const Signer& signer, std::string_view url, std::string_view nonce,
                     std::string_view kid, std::string_view payload) {
  json header = {{"alg", signer.Algorithm()}, {"url", std::string(url)}};
  if (!nonce.empty()) header["nonce"] = std::string(nonce);
  if (kid.empty()) {
    header["jwk"] = signer.PublicJwk();
  } else {
    header["kid"] = std::string(kid);
  }
  ASSIGN_OR_RETURN(std::string header_text, DumpJson(header, "JWS protected header"));
  std::string protected64 = Base64UrlEncode(header_text);
  std::string payload64 = Base64UrlEncode(payload);  // "" stays "" (POST-as-GET)
  ASSIGN_OR_RETURN(std::string signature, signer.Sign(SigningInput(protected64, payload64)));
  return FlattenedJws(std::move(protected64), std::move(payload64), signature);
}

std::string JwkThumbprint(const json& jwk) {
  if (!jwk.is_object()) return "";
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return "";
  const auto* members = RequiredMembers(kty->get_ref<const std::string&>());
  if (members == nullptr) return "";
  // nlohmann::json objects keep keys sorted and dump() writes no whitespace: exactly the
  // canonical form RFC 7638 §3.3 asks for.
  json canonical = json::object();
  for (const char* name : *members) {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) return "";
    canonical[name] = *it;
  }
  auto text = DumpJson(canonical, "JWK");
  if (!text.ok()) return "";
  return Base64UrlEncode(internal::Sha256(*text));
}

std::string KeyAuthorization(std::string_view token, std::string_view account_thumbprint) {
  std::string out;
  out.reserve(token.size() + 1 + account_thumbprint.size());
  out.append(token).append(1, '.').append(account_thumbprint);
  return out;
}

std::string KeyAuthorization(std::string_view token, const json& account_jwk) {
  return KeyAuthorization(token, std::string_view(JwkThumbprint(account_jwk)));
}

std::string Dns01TxtValue(std::string_view key_authorization) {
  return Base64UrlEncode(internal::Sha256(key_authorization));
}

Result<HmacAlgorithm> ParseHmacAlgorithm(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "HS256") return HmacAlgorithm::kHS256;
  if (upper == "HS384") return HmacAlgorithm::kHS384;
  if (upper == "HS512") return HmacAlgorithm::kHS512;
  return Status(ErrorCode::kInvalidArgument, "unknown EAB key algorithm \"" + std::string(name) +
                                                 "\" (use HS256, HS384 or HS512)");
}

const char* HmacAlgorithmName(HmacAlgorithm alg) {
  switch (alg) {
    case HmacAlgorithm::kHS256:
      return "HS256";
    case HmacAlgorithm::kHS384:
      return "HS384";
    case HmacAlgorithm::kHS512:
      return "HS512";
  }
  return "HS256";
}

Result<std::string> ComputeHmac(HmacAlgorithm alg, std::string_view key, std::string_view data) {
  std::string mac(EVP_MAX_MD_SIZE, '\0');
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestName(alg), nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                reinterpret_cast<unsigned char*>(mac.data()), mac.size(), &len) == nullptr) {
    return internal::OpenSslError(std::string("computing ") + HmacAlgorithmName(alg));
  }
  mac.resize(len);
  return mac;
}

Result<std::string> DecodeEabHmacKey(std::string_view text) {
  bool blank = true;
  for (char c : text) blank = blank && IsAsciiSpace(c);
  if (blank) return Status(ErrorCode::kInvalidArgument, "EAB HMAC key is empty");
  auto decoded = Base64DecodeLenient(text);
  if (!decoded.ok()) {
    // The base64 decoder's message names a position, never the characters themselves.
    return Status(ErrorCode::kInvalidArgument,
                  "EAB HMAC key is not valid base64url: " + decoded.status().message());
  }
  if (decoded->empty()) return Status(ErrorCode::kInvalidArgument, "EAB HMAC key is empty");
  return std::move(decoded).value();
}

Result<json> MakeEabJws(const ExternalAccountBinding& eab, const json& account_jwk,
                        std::string_view url) {
  if (eab.key_id.empty()) return Status(ErrorCode::kInvalidArgument, "EAB key ID is empty");
  if (eab.hmac_key.empty()) return Status(ErrorCode::kInvalidArgument, "EAB HMAC key is empty");
  // RFC 8555 §7.3.4: no nonce in the inner JWS; its url equals the outer JWS's url.
  json header = {
      {"alg", HmacAlgorithmName(eab.algorithm)}, {"kid", eab.key_id}, {"url", std::string(url)}};
  ASSIGN_OR_RETURN(std::string header_text, DumpJson(header, "EAB protected header"));
  ASSIGN_OR_RETURN(std::string jwk_text, DumpJson(account_jwk, "account JWK"));
  std::string protected64 = Base64UrlEncode(header_text);
  std::string payload64 = Base64UrlEncode(jwk_text);
  ASSIGN_OR_RETURN(std::string mac,
                   ComputeHmac(eab.algorithm, eab.hmac_key, SigningInput(protected64, payload64)));
  return FlattenedJws(std::move(protected64), std::move(payload64), mac);
}

}  // namespace certsmith::acme
