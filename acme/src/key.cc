#include "acme/key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "acme/jws.h"
#include "certsmith/base64.h"
#include "openssl_util.h"

namespace certsmith::acme {

using internal::BignumPtr;
using internal::EvpPkeyPtr;
using internal::OpenSslError;

// Everything derived from the key is computed once here, so the hot paths (signing each ACME
// request, key authorizations) do no encoding work and PrivateKey stays immutable.
struct KeyState {
  EvpPkeyPtr pkey;
  bool rsa = false;
  int bits = 0;
  KeyType type = KeyType::kEcdsaP256;
  std::string jws_algorithm;  // RS256 | ES256 | ES384
  const char* digest = "SHA256";
  int coordinate_bytes = 0;  // ECDSA: width of R and S in the JWS signature (RFC 7518 §3.4)
  nlohmann::json jwk;
  std::string thumbprint;
  std::string spki_der;
};

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

struct KeyTypeInfo {
  KeyType type;
  const char* name;
  const char* aliases[6];
};

constexpr std::array<KeyTypeInfo, 5> kKeyTypes = {{
    {KeyType::kEcdsaP256,
     "ec256",
     {"p256", "p-256", "ecdsa-p256", "ecdsa256", "prime256v1", "secp256r1"}},
    {KeyType::kEcdsaP384,
     "ec384",
     {"p384", "p-384", "ecdsa-p384", "ecdsa384", "secp384r1", nullptr}},
    {KeyType::kRsa2048, "rsa2048", {"rsa-2048", nullptr}},
    {KeyType::kRsa3072, "rsa3072", {"rsa-3072", nullptr}},
    {KeyType::kRsa4096, "rsa4096", {"rsa-4096", nullptr}},
}};

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A BIGNUM parameter of the key (public values only are read here).
Result<BignumPtr> GetBignum(const EVP_PKEY* pkey, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1 || bn == nullptr) {
    return OpenSslError(std::string("reading public key parameter ") + param);
  }
  return BignumPtr(bn);
}

Status FillRsa(KeyState& state) {
  state.rsa = true;
  state.bits = EVP_PKEY_get_bits(state.pkey.get());
  if (state.bits < kMinRsaBits || state.bits > kMaxRsaBits) {
    return Status(ErrorCode::kInvalidArgument,
                  "RSA key of " + std::to_string(state.bits) + " bits is not supported (use " +
                      std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) + ")");
  }
  state.type = state.bits >= 4096   ? KeyType::kRsa4096
               : state.bits >= 3072 ? KeyType::kRsa3072
                                    : KeyType::kRsa2048;
  state.jws_algorithm = "RS256";
  ASSIGN_OR_RETURN(BignumPtr n, GetBignum(state.pkey.get(), OSSL_PKEY_PARAM_RSA_N));
  ASSIGN_OR_RETURN(BignumPtr e, GetBignum(state.pkey.get(), OSSL_PKEY_PARAM_RSA_E));
  // RFC 7518 §6.3.1: n and e as unsigned big-endian integers in the fewest octets.
  state.jwk = {{"e", Base64UrlEncode(internal::BignumBytes(e.get()))},
               {"kty", "RSA"},
               {"n", Base64UrlEncode(internal::BignumBytes(n.get()))}};
  return Status::Ok();
}

Status FillEc(KeyState& state) {
  char group[64] = {0};
  size_t group_len = 0;
  if (EVP_PKEY_get_group_name(state.pkey.get(), group, sizeof group, &group_len) != 1) {
    return OpenSslError("reading the EC key's curve", ErrorCode::kInvalidArgument);
  }
  std::string_view curve(group, group_len);
  const char* crv = nullptr;
  if (curve == "prime256v1" || curve == "P-256") {
    crv = "P-256";
    state.type = KeyType::kEcdsaP256;
    state.bits = 256;
    state.jws_algorithm = "ES256";
    state.digest = "SHA256";
  } else if (curve == "secp384r1" || curve == "P-384") {
    crv = "P-384";
    state.type = KeyType::kEcdsaP384;
    state.bits = 384;
    state.jws_algorithm = "ES384";
    state.digest = "SHA384";
  } else {
    return Status(ErrorCode::kInvalidArgument,
                  "EC curve " + std::string(curve) + " is not supported (use P-256 or P-384)");
  }
  state.coordinate_bytes = state.bits / 8;
  ASSIGN_OR_RETURN(BignumPtr x, GetBignum(state.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  ASSIGN_OR_RETURN(BignumPtr y, GetBignum(state.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  // RFC 7518 §6.2.1.2: x and y are the full coordinate width, leading zeros kept.
  state.jwk = {{"crv", crv},
               {"kty", "EC"},
               {"x", Base64UrlEncode(internal::BignumBytes(x.get(), state.coordinate_bytes))},
               {"y", Base64UrlEncode(internal::BignumBytes(y.get(), state.coordinate_bytes))}};
  return Status::Ok();
}

Result<std::string> EncodeSpki(const EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return OpenSslError("encoding the public key");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

Result<std::shared_ptr<const KeyState>> BuildState(EvpPkeyPtr pkey) {
  auto state = std::make_shared<KeyState>();
  state->pkey = std::move(pkey);
  if (EVP_PKEY_is_a(state->pkey.get(), "RSA")) {
    RETURN_IF_ERROR(FillRsa(*state));
  } else if (EVP_PKEY_is_a(state->pkey.get(), "EC")) {
    RETURN_IF_ERROR(FillEc(*state));
  } else {
    const char* name = EVP_PKEY_get0_type_name(state->pkey.get());
    return Status(ErrorCode::kInvalidArgument,
                  std::string("key algorithm ") + (name ? name : "(unknown)") +
                      " is not supported (use RSA or ECDSA P-256/P-384)");
  }
  state->thumbprint = acme::JwkThumbprint(state->jwk);
  ASSIGN_OR_RETURN(state->spki_der, EncodeSpki(state->pkey.get()));
  return std::shared_ptr<const KeyState>(std::move(state));
}

// Never prompt for a pass phrase (OpenSSL would read the terminal): encrypted keys just fail.
int NoPassphrase(char*, int, int, void*) { return -1; }

bool LooksEncrypted(std::string_view pem) {
  return pem.find("ENCRYPTED PRIVATE KEY") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

bool HasPrivateComponent(const EVP_PKEY* pkey) {
  const char* param = EVP_PKEY_is_a(pkey, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
  BIGNUM* secret = nullptr;
  bool ok = EVP_PKEY_get_bn_param(pkey, param, &secret) == 1 && secret != nullptr;
  BN_clear_free(secret);
  internal::ClearOpenSslErrors();
  return ok;
}

// JWS signatures for ECDSA are R||S, each left-padded to the curve width (RFC 7518 §3.4);
// OpenSSL produces the DER SEQUENCE of two INTEGERs.
Result<std::string> DerToRawEcdsa(std::string_view der, int width) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  internal::EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return OpenSslError("decoding the ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out = internal::BignumBytes(r, width);
  out += internal::BignumBytes(s, width);
  if (out.size() != static_cast<size_t>(2 * width)) {
    return Status(ErrorCode::kInternal, "ECDSA signature does not fit the curve width");
  }
  return out;
}

}  // namespace

Result<KeyType> ParseKeyType(std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const KeyTypeInfo& info : kKeyTypes) {
    if (lower == info.name) return info.type;
    for (const char* alias : info.aliases) {
      if (alias != nullptr && lower == alias) return info.type;
    }
  }
  return Status(ErrorCode::kInvalidArgument,
                "unknown key type \"" + std::string(name) +
                    "\" (use ec256, ec384, rsa2048, rsa3072 or rsa4096)");
}

Result<KeyType> KeyTypeFromAlgorithm(std::string_view algorithm, int size) {
  std::string alg = AsciiLower(algorithm);
  if (alg == "rsa") {
    if (size == 0 || size == 2048) return KeyType::kRsa2048;
    if (size == 3072) return KeyType::kRsa3072;
    if (size == 4096) return KeyType::kRsa4096;
    return Status(ErrorCode::kInvalidArgument,
                  "RSA key size " + std::to_string(size) + " is not supported (2048, 3072, 4096)");
  }
  if (alg == "ecdsa") {
    if (size == 0 || size == 256) return KeyType::kEcdsaP256;
    if (size == 384) return KeyType::kEcdsaP384;
    return Status(ErrorCode::kInvalidArgument,
                  "ECDSA key size " + std::to_string(size) + " is not supported (256, 384)");
  }
  return Status(ErrorCode::kInvalidArgument,
                "key algorithm \"" + std::string(algorithm) + "\" is not supported (RSA or ECDSA)");
}

Result<PemEncoding> ParsePemEncoding(std::string_view name) {
  std::string lower = AsciiLower(name);
  if (lower.empty() || lower == "pkcs1") return PemEncoding::kPkcs1;
  if (lower == "pkcs8") return PemEncoding::kPkcs8;
  return Status(ErrorCode::kInvalidArgument,
                "private key encoding \"" + std::string(name) + "\" is not PKCS1 or PKCS8");
}

const char* KeyTypeName(KeyType type) {
  for (const KeyTypeInfo& info : kKeyTypes) {
    if (info.type == type) return info.name;
  }
  return "unknown";
}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEcdsaP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEcdsaP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
  }
  if (raw == nullptr) {
    return OpenSslError(std::string("generating a ") + KeyTypeName(type) + " key");
  }
  ASSIGN_OR_RETURN(auto state, BuildState(EvpPkeyPtr(raw)));
  return PrivateKey(std::move(state));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  if (LooksEncrypted(pem)) {
    return Status(ErrorCode::kInvalidArgument,
                  "the private key is encrypted; certsmith needs it unencrypted (PKCS#1, SEC1 or "
                  "PKCS#8)");
  }
  internal::BioPtr bio = internal::ReadOnlyBio(pem);
  if (!bio) return OpenSslError("reading the private key");
  // PEM_read_bio_PrivateKey_ex skips blocks of other types (such as "EC PARAMETERS").
  EVP_PKEY* raw =
      PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, NoPassphrase, nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return OpenSslError(
        "no usable PEM private key (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)",
        ErrorCode::kInvalidArgument);
  }
  ASSIGN_OR_RETURN(auto state, BuildState(EvpPkeyPtr(raw)));
  return PrivateKey(std::move(state));
}

Result<PrivateKey> PrivateKey::FromEvpPkey(EVP_PKEY* pkey) {
  if (pkey == nullptr) return Status(ErrorCode::kInvalidArgument, "no key");
  if (EVP_PKEY_up_ref(pkey) != 1) return OpenSslError("referencing the key");
  ASSIGN_OR_RETURN(auto state, BuildState(EvpPkeyPtr(pkey)));
  if (!HasPrivateComponent(pkey)) {
    return Status(ErrorCode::kInvalidArgument, "a public key where a private key is needed");
  }
  return PrivateKey(std::move(state));
}

Result<std::string> PrivateKey::ToPem(PemEncoding encoding) const {
  // The secure-memory BIO wipes its buffer when freed: the PEM text is the secret key.
  internal::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) return OpenSslError("encoding the private key");
  int ok =
      encoding == PemEncoding::kPkcs8
          ? PEM_write_bio_PKCS8PrivateKey(bio.get(), get(), nullptr, nullptr, 0, nullptr, nullptr)
          : PEM_write_bio_PrivateKey_traditional(bio.get(), get(), nullptr, nullptr, 0, nullptr,
                                                 nullptr);
  if (ok != 1) return OpenSslError("encoding the private key");
  return internal::BioContents(bio.get());
}

const std::string& PrivateKey::PublicKeyDer() const { return state_->spki_der; }
bool PrivateKey::is_rsa() const { return state_->rsa; }
int PrivateKey::bits() const { return state_->bits; }
KeyType PrivateKey::type() const { return state_->type; }
const nlohmann::json& PrivateKey::PublicJwk() const { return state_->jwk; }
const std::string& PrivateKey::JwkThumbprint() const { return state_->thumbprint; }
const std::string& PrivateKey::JwsAlgorithm() const { return state_->jws_algorithm; }
EVP_PKEY* PrivateKey::get() const { return state_->pkey.get(); }

Result<std::string> PrivateKey::SignJws(std::string_view signing_input) const {
  // A fresh context per call: the EVP_PKEY is only read, so concurrent signing is safe.
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, state_->digest, nullptr, nullptr, get(),
                                    nullptr) != 1) {
    return OpenSslError("signing: initialising");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
    return OpenSslError("signing");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1) {
    return OpenSslError("signing");
  }
  sig.resize(len);
  if (state_->rsa) return sig;
  return DerToRawEcdsa(sig, state_->coordinate_bytes);
}

bool PrivateKey::SamePublicKey(const PrivateKey& other) const {
  return state_ == other.state_ || state_->spki_der == other.state_->spki_der;
}

std::string PublicKeyFingerprint(const PrivateKey& key) {
  return internal::HexLower(internal::Sha256(key.PublicKeyDer()));
}

}  // namespace certsmith::acme
