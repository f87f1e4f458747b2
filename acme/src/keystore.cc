#include "acme/keystore.h"

#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

#include "openssl_util.h"

namespace certsmith::acme {

namespace {

using internal::OpenSslError;

using Pkcs12Ptr = std::unique_ptr<PKCS12, internal::OpenSslDeleter<PKCS12_free>>;
void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), internal::OpenSslDeleter<FreeX509Stack>>;

// PKCS#12 default iteration count (RFC 7292 recommends at least 1024; OpenSSL and Go use 2048).
constexpr int kPkcs12Iterations = 2048;

Result<std::vector<internal::X509Ptr>> ParseChain(std::string_view pem) {
  internal::BioPtr bio = internal::ReadOnlyBio(pem);
  std::vector<internal::X509Ptr> out;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  internal::ClearOpenSslErrors();  // the end of the input reads as an error
  if (out.empty()) return Status(ErrorCode::kInvalidArgument, "no PEM certificate found");
  return out;
}

Result<X509StackPtr> StackOf(const std::vector<internal::X509Ptr>& certs, size_t from) {
  X509StackPtr stack(sk_X509_new_null());
  if (!stack) return OpenSslError("building a certificate list");
  for (size_t i = from; i < certs.size(); ++i) {
    if (X509_up_ref(certs[i].get()) != 1) return OpenSslError("building a certificate list");
    if (sk_X509_push(stack.get(), certs[i].get()) == 0) {
      X509_free(certs[i].get());
      return OpenSslError("building a certificate list");
    }
  }
  return stack;
}

// RC2 lives in OpenSSL 3's legacy provider: a library context of its own loads it (with the
// default provider), leaving the process-wide default context as it is.
OSSL_LIB_CTX* LegacyContext() {
  static OSSL_LIB_CTX* ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c == nullptr) return c;
    if (OSSL_PROVIDER_load(c, "default") == nullptr || OSSL_PROVIDER_load(c, "legacy") == nullptr) {
      internal::ClearOpenSslErrors();
      OSSL_LIB_CTX_free(c);
      return static_cast<OSSL_LIB_CTX*>(nullptr);
    }
    return c;
  }();
  return ctx;
}

struct Pkcs12Algorithms {
  int key_nid;
  int cert_nid;
  const EVP_MD* mac;
  OSSL_LIB_CTX* libctx;  // nullptr: the default context
};

Result<Pkcs12Algorithms> AlgorithmsFor(Pkcs12Profile profile) {
  switch (profile) {
    case Pkcs12Profile::kLegacyRc2: {
      OSSL_LIB_CTX* legacy = LegacyContext();
      if (legacy == nullptr) {
        return Status(ErrorCode::kFailedPrecondition,
                      "PKCS#12 profile LegacyRC2 needs OpenSSL's legacy provider, which is not "
                      "installed; use LegacyDES or Modern2023");
      }
      return Pkcs12Algorithms{NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                              NID_pbe_WithSHA1And40BitRC2_CBC, EVP_sha1(), legacy};
    }
    case Pkcs12Profile::kLegacyDes:
      return Pkcs12Algorithms{NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
                              NID_pbe_WithSHA1And3_Key_TripleDES_CBC, EVP_sha1(), nullptr};
    case Pkcs12Profile::kModern2023:
      // A cipher NID (not a PBE one) makes OpenSSL use PBES2 with PBKDF2-HMAC-SHA-256.
      return Pkcs12Algorithms{NID_aes_256_cbc, NID_aes_256_cbc, EVP_sha256(), nullptr};
  }
  return Status(ErrorCode::kInvalidArgument, "unknown PKCS#12 profile");
}

Result<std::string> EncodePkcs12(EVP_PKEY* pkey, X509* leaf, STACK_OF(X509) * cas,
                                 std::string_view password, Pkcs12Profile profile) {
  ASSIGN_OR_RETURN(Pkcs12Algorithms alg, AlgorithmsFor(profile));
  const std::string pass(password);
  // mac_iter -1: no MAC yet; it is set below with the profile's digest (PKCS12_create's own
  // choice differs between OpenSSL versions).
  Pkcs12Ptr p12(PKCS12_create_ex(pass.c_str(), nullptr, pkey, leaf, cas, alg.key_nid, alg.cert_nid,
                                 kPkcs12Iterations, -1, 0, alg.libctx, nullptr));
  if (!p12) return OpenSslError("writing the PKCS#12 file");
  if (PKCS12_set_mac(p12.get(), pass.c_str(), -1, nullptr, 0, kPkcs12Iterations, alg.mac) != 1) {
    return OpenSslError("writing the PKCS#12 MAC");
  }
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return OpenSslError("encoding the PKCS#12 file");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

// -- JKS ------------------------------------------------------------------------------------

constexpr uint32_t kJksMagic = 0xFEEDFEED;
constexpr uint32_t kJksVersion = 2;
constexpr uint32_t kJksPrivateKeyTag = 1;
constexpr uint32_t kJksTrustedCertTag = 2;
constexpr size_t kJksSaltLength = 20;
// DER of OID 1.3.6.1.4.1.42.2.17.1.1, the JKS key protector.
constexpr unsigned char kJksKeyProtectorOid[] = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                                 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01};

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}
// Java's DataOutput.writeUTF: a 2-byte length, then (for the ASCII and BMP text used here) UTF-8.
Status PutUtf(std::string* out, std::string_view s) {
  if (s.size() > 0xffff) return Status(ErrorCode::kInvalidArgument, "JKS alias too long");
  out->push_back(static_cast<char>(s.size() >> 8));
  out->push_back(static_cast<char>(s.size() & 0xff));
  out->append(s);
  return Status::Ok();
}
void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

std::string DerLength(size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string bytes;
  while (n > 0) {
    bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    n >>= 8;
  }
  return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}
std::string Der(unsigned char tag, std::string_view content) {
  return std::string(1, static_cast<char>(tag)) + DerLength(content.size()) + std::string(content);
}

// Java chars are UTF-16 code units; JKS hashes each as two big-endian bytes.
std::string Utf16Be(std::string_view utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    uint32_t cp = c;
    size_t len = 1;
    if (c >= 0xf0 && i + 3 < utf8.size()) {
      cp = ((c & 0x07u) << 18) | ((utf8[i + 1] & 0x3fu) << 12) | ((utf8[i + 2] & 0x3fu) << 6) |
           (utf8[i + 3] & 0x3fu);
      len = 4;
    } else if (c >= 0xe0 && i + 2 < utf8.size()) {
      cp = ((c & 0x0fu) << 12) | ((utf8[i + 1] & 0x3fu) << 6) | (utf8[i + 2] & 0x3fu);
      len = 3;
    } else if (c >= 0xc0 && i + 1 < utf8.size()) {
      cp = ((c & 0x1fu) << 6) | (utf8[i + 1] & 0x3fu);
      len = 2;
    }
    i += len;
    auto unit = [&out](uint32_t u) {
      out.push_back(static_cast<char>(u >> 8));
      out.push_back(static_cast<char>(u & 0xff));
    };
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xd800 + (cp >> 10));
      unit(0xdc00 + (cp & 0x3ff));
    } else {
      unit(cp);
    }
  }
  return out;
}

std::string Sha1(std::string_view a, std::string_view b) {
  unsigned char md[SHA_DIGEST_LENGTH];
  EVP_MD_CTX* raw = EVP_MD_CTX_new();
  internal::EvpMdCtxPtr ctx(raw);
  EVP_DigestInit_ex(raw, EVP_sha1(), nullptr);
  EVP_DigestUpdate(raw, a.data(), a.size());
  EVP_DigestUpdate(raw, b.data(), b.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(raw, md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

Result<std::string> Pkcs8Der(const PrivateKey& key) {
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, internal::OpenSslDeleter<PKCS8_PRIV_KEY_INFO_free>> p8(
      EVP_PKEY2PKCS8(key.get()));
  if (!p8) return OpenSslError("encoding the private key");
  unsigned char* der = nullptr;
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der);
  if (len <= 0) return OpenSslError("encoding the private key");
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

// EncryptedPrivateKeyInfo { AlgorithmIdentifier { key protector OID, NULL }, OCTET STRING
// salt || key XOR stream || SHA-1(password || key) }.
Result<std::string> ProtectKey(const PrivateKey& key, std::string_view password) {
  ASSIGN_OR_RETURN(std::string plain, Pkcs8Der(key));
  std::string salt(kJksSaltLength, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return OpenSslError("drawing a salt");
  }
  const std::string pass = Utf16Be(password);
  std::string stream = JksKeyStream(password, salt, plain.size());
  std::string protected_key = salt;
  for (size_t i = 0; i < plain.size(); ++i) protected_key.push_back(plain[i] ^ stream[i]);
  protected_key += Sha1(pass, plain);
  OPENSSL_cleanse(plain.data(), plain.size());
  const std::string algorithm = Der(
      0x30,
      std::string(reinterpret_cast<const char*>(kJksKeyProtectorOid), sizeof(kJksKeyProtectorOid)) +
          std::string("\x05\x00", 2));
  return Der(0x30, algorithm + Der(0x04, protected_key));
}

std::string CertDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return "";
  internal::OpenSslStringPtr owner(reinterpret_cast<char*>(der));
  return std::string(owner.get(), static_cast<size_t>(len));
}

Status PutTrustedCert(std::string* out, std::string_view alias, X509* cert, uint64_t millis) {
  PutU32(out, kJksTrustedCertTag);
  RETURN_IF_ERROR(PutUtf(out, alias));
  PutU64(out, millis);
  RETURN_IF_ERROR(PutUtf(out, "X.509"));
  PutBytes(out, CertDer(cert));
  return Status::Ok();
}

std::string JksFile(uint32_t entries, const std::string& body, std::string_view password) {
  std::string out;
  PutU32(&out, kJksMagic);
  PutU32(&out, kJksVersion);
  PutU32(&out, entries);
  out += body;
  out += Sha1(Utf16Be(password) + "Mighty Aphrodite", out);
  return out;
}

uint64_t Millis(std::chrono::system_clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

Result<Pkcs12Profile> ParsePkcs12Profile(std::string_view name) {
  if (name.empty() || name == "LegacyRC2") return Pkcs12Profile::kLegacyRc2;
  if (name == "LegacyDES") return Pkcs12Profile::kLegacyDes;
  if (name == "Modern2023") return Pkcs12Profile::kModern2023;
  return Status(ErrorCode::kInvalidArgument, "unknown PKCS#12 profile \"" + std::string(name) +
                                                 "\" (LegacyRC2, LegacyDES, Modern2023)");
}

Result<std::string> MakePkcs12Keystore(const PrivateKey& key, std::string_view chain_pem,
                                       std::string_view password, Pkcs12Profile profile) {
  ASSIGN_OR_RETURN(auto certs, ParseChain(chain_pem));
  ASSIGN_OR_RETURN(X509StackPtr cas, StackOf(certs, 1));
  return EncodePkcs12(key.get(), certs[0].get(), cas.get(), password, profile);
}

Result<std::string> MakePkcs12Truststore(std::string_view ca_pem, std::string_view password,
                                         Pkcs12Profile profile) {
  ASSIGN_OR_RETURN(auto certs, ParseChain(ca_pem));
  ASSIGN_OR_RETURN(X509StackPtr cas, StackOf(certs, 0));
  return EncodePkcs12(nullptr, nullptr, cas.get(), password, profile);
}

std::string JksKeyStream(std::string_view password, std::string_view salt, size_t length) {
  const std::string pass = Utf16Be(password);
  std::string stream;
  std::string digest(salt);
  while (stream.size() < length) {
    digest = Sha1(pass, digest);
    stream += digest;
  }
  stream.resize(length);
  return stream;
}

Result<std::string> MakeJksKeystore(const PrivateKey& key, std::string_view chain_pem,
                                    std::string_view ca_pem, std::string_view password,
                                    std::string_view alias,
                                    std::chrono::system_clock::time_point created) {
  ASSIGN_OR_RETURN(auto chain, ParseChain(chain_pem));
  ASSIGN_OR_RETURN(std::string protected_key, ProtectKey(key, password));
  std::string body;
  uint32_t entries = 1;
  PutU32(&body, kJksPrivateKeyTag);
  RETURN_IF_ERROR(PutUtf(&body, alias));
  PutU64(&body, Millis(created));
  PutBytes(&body, protected_key);
  PutU32(&body, static_cast<uint32_t>(chain.size()));
  for (const auto& cert : chain) {
    RETURN_IF_ERROR(PutUtf(&body, "X.509"));
    PutBytes(&body, CertDer(cert.get()));
  }
  if (!ca_pem.empty()) {
    ASSIGN_OR_RETURN(auto cas, ParseChain(ca_pem));
    RETURN_IF_ERROR(PutTrustedCert(&body, "ca", cas[0].get(), Millis(created)));
    ++entries;
  }
  return JksFile(entries, body, password);
}

Result<std::string> MakeJksTruststore(std::string_view ca_pem, std::string_view password,
                                      std::chrono::system_clock::time_point created) {
  ASSIGN_OR_RETURN(auto cas, ParseChain(ca_pem));
  std::string body;
  for (size_t i = 0; i < cas.size(); ++i) {
    const std::string alias = i == 0 ? "ca" : "ca-" + std::to_string(i);
    RETURN_IF_ERROR(PutTrustedCert(&body, alias, cas[i].get(), Millis(created)));
  }
  return JksFile(static_cast<uint32_t>(cas.size()), body, password);
}

}  // namespace certsmith::acme
