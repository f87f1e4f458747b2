// Helpers for the crypto unit tests: independent checks built directly on OpenSSL (so a test
// does not verify certsmith with certsmith), and a builder for throw-away certificates.
// Keys and certificates are generated at run time; nothing is checked in.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace certsmith::acme::testing {

// unique_ptr deleter calling an OpenSSL free function: std::unique_ptr<BIO, Free<BIO_free>>.
template <auto Fn>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;

std::string Base64UrlDecodeOrDie(std::string_view text);
std::string Sha256(std::string_view data);
std::string Hex(std::string_view bytes);

// Verifies a DER signature (RSA PKCS#1 v1.5 or DER ECDSA) with the key's public half.
bool VerifySignature(EVP_PKEY* key, const char* digest, std::string_view data,
                     std::string_view signature);
// JWS R||S (RFC 7518 §3.4) back to the DER form OpenSSL verifies.
std::string RawEcdsaToDer(std::string_view raw);

// HMAC written out from RFC 2104 over EVP digests: independent of EVP_MAC/EVP_Q_mac.
std::string ReferenceHmac(const char* digest, std::string_view key, std::string_view data);

// A certificate signed by issuer_key (self-signed when issuer is null).
struct CertSpec {
  std::string common_name;
  std::string organization;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  long serial = 1;
  bool is_ca = false;
  const X509_NAME* subject = nullptr;  // when set, used instead of common_name/organization
};
X509Ptr MakeCertificate(const CertSpec& spec, EVP_PKEY* subject_key, EVP_PKEY* issuer_key,
                        X509* issuer = nullptr);
std::string CertificateToPem(X509* cert);
std::string CertificateToDer(X509* cert);

}  // namespace certsmith::acme::testing
