// JWS and JWK (RFC 7515, RFC 7638, RFC 8555 §6.2): what a request is built from comes partly from
// the CA (the URL from its directory, the nonce from Replay-Nonce, the account URL from
// Location), and JWKs and EAB keys come from users. Input: url NUL nonce NUL kid NUL payload.
// Properties: no crash; a signed request decodes back to exactly the url, nonce, kid and payload
// it was given (when they are text JSON can carry); thumbprints of arbitrary JSON never throw.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "acme/jws.h"
#include "acme/key.h"
#include "certsmith/base64.h"
#include "fuzz_input.h"

using namespace certsmith;

namespace {

const acme::KeySigner& Signer() {
  static const acme::KeySigner* signer = [] {
    auto key = acme::PrivateKey::Generate(acme::KeyType::kEcdsaP256);
    if (!key.ok()) fuzz::Fail("jws_fuzz", "cannot generate the signing key");
    return new acme::KeySigner(std::move(key).value());
  }();
  return *signer;
}

std::string Decoded(const nlohmann::json& jws, const char* member) {
  auto text = Base64DecodeLenient(jws.value(member, ""));
  fuzz::Check(text.ok(), "jws_fuzz", std::string("member ") + member + " is not base64url");
  return *text;
}

bool ValidUtf8(std::string_view s) {
  try {
    (void)nlohmann::json(std::string(s)).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Arbitrary JSON as a JWK (thumbprint) and arbitrary text as an EAB HMAC key.
  nlohmann::json jwk = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!jwk.is_discarded()) (void)acme::JwkThumbprint(jwk);
  (void)acme::DecodeEabHmacKey(text);

  auto fields = fuzz::SplitFields(text, 4);
  if (fields.size() < 4) return 0;
  const std::string_view url = fields[0], nonce = fields[1], kid = fields[2], payload = fields[3];
  auto jws = acme::SignJws(Signer(), url, nonce, kid, payload);
  if (!jws.ok()) return 0;
  fuzz::Check(Decoded(*jws, "payload") == payload, "jws_fuzz", "payload changed");
  fuzz::Check(!Decoded(*jws, "signature").empty(), "jws_fuzz", "empty signature");
  nlohmann::json header =
      nlohmann::json::parse(Decoded(*jws, "protected"), nullptr, /*allow_exceptions=*/false);
  fuzz::Check(header.is_object(), "jws_fuzz", "protected header is not a JSON object");
  if (!ValidUtf8(url) || !ValidUtf8(nonce) || !ValidUtf8(kid)) return 0;
  fuzz::Check(header.value("url", "") == url, "jws_fuzz", "url changed");
  fuzz::Check(header.value("nonce", "") == nonce, "jws_fuzz", "nonce changed");
  if (kid.empty()) {
    fuzz::Check(header.contains("jwk") && !header.contains("kid"), "jws_fuzz",
                "no kid: the header must carry the jwk");
  } else {
    fuzz::Check(header.value("kid", "") == kid && !header.contains("jwk"), "jws_fuzz",
                "kid changed or jwk sent with it");
  }
  return 0;
}
