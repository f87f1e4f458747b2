#include "unit/acme/crypto_test_util.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <stdexcept>

#include "certsmith/base64.h"

namespace certsmith::acme::testing {

namespace {
using BioPtr = std::unique_ptr<BIO, Free<BIO_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;

std::string Digest(const char* name, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_get_digestbyname(name), nullptr) != 1) {
    throw std::runtime_error("digest failed");
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) throw std::runtime_error("extension");
}

time_t ToTimeT(std::chrono::system_clock::time_point t) {
  return std::chrono::system_clock::to_time_t(t);
}
}  // namespace

std::string Base64UrlDecodeOrDie(std::string_view text) {
  auto r = Base64DecodeLenient(text);
  if (!r.ok()) throw std::runtime_error("bad base64 in test: " + r.status().message());
  return *r;
}

std::string Sha256(std::string_view data) { return Digest("SHA256", data); }

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool VerifySignature(EVP_PKEY* key, const char* digest, std::string_view data,
                     std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr, key, nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

std::string RawEcdsaToDer(std::string_view raw) {
  size_t half = raw.size() / 2;
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), int(half), nullptr);
  BIGNUM* s =
      BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half), int(half), nullptr);
  ECDSA_SIG_set0(sig.get(), r, s);  // takes r and s
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string ReferenceHmac(const char* digest, std::string_view key, std::string_view data) {
  const size_t block = std::string_view(digest) == "SHA256" ? 64 : 128;
  std::string k(key);
  if (k.size() > block) k = Digest(digest, k);
  k.resize(block, '\0');
  std::string inner(block, '\0'), outer(block, '\0');
  for (size_t i = 0; i < block; ++i) {
    inner[i] = static_cast<char>(k[i] ^ 0x36);
    outer[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  return Digest(digest, outer + Digest(digest, inner + std::string(data)));
}

X509Ptr MakeCertificate(const CertSpec& spec, EVP_PKEY* subject_key, EVP_PKEY* issuer_key,
                        X509* issuer) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  time_t nb = ToTimeT(spec.not_before);
  time_t na = ToTimeT(spec.not_after);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), nb);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), na);
  X509_set_pubkey(cert.get(), subject_key);
  if (spec.subject != nullptr) X509_set_subject_name(cert.get(), spec.subject);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (spec.subject == nullptr && !spec.organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.organization.c_str()),
                               -1, -1, 0);
  }
  if (spec.subject == nullptr && !spec.common_name.empty()) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                               -1, 0);
  }
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer ? issuer : cert.get();
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  if (!san.empty()) AddExtension(cert.get(), issuer_cert, NID_subject_alt_name, san);
  AddExtension(cert.get(), issuer_cert, NID_basic_constraints,
               spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  // Key identifiers as a real CA writes them: ARI (RFC 9773 §4.1) names a certificate by its
  // Authority Key Identifier.
  if (spec.is_ca) AddExtension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr && X509_get_ext_by_NID(issuer, NID_subject_key_identifier, -1) >= 0) {
    AddExtension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : subject_key, EVP_sha256()) <= 0) {
    throw std::runtime_error("signing the test certificate failed");
  }
  return cert;
}

std::string CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string CertificateToDer(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace certsmith::acme::testing
