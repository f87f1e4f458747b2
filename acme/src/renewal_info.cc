#include "acme/renewal_info.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "certsmith/base64.h"

namespace certsmith::acme {

namespace {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

// The serial's INTEGER content octets as DER encodes them (with a leading 0x00 when the high bit
// is set), without the tag and length: what RFC 9773 §4.1 asks for.
std::string SerialContentOctets(const ASN1_INTEGER* serial) {
  int len = i2d_ASN1_INTEGER(serial, nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ASN1_INTEGER(serial, &p);
  // Skip tag (1 byte) and the length: short form (1 byte) or long form (1 + n bytes).
  size_t header = 2;
  if (static_cast<unsigned char>(der[1]) & 0x80)
    header += static_cast<unsigned char>(der[1]) & 0x7f;
  return header <= der.size() ? der.substr(header) : std::string();
}

}  // namespace

Result<std::string> AriCertId(std::string_view certificate_pem) {
  std::unique_ptr<BIO, BioDeleter> bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  if (!bio) return MakeError(ErrorCode::kInternal, "out of memory");
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return MakeError(ErrorCode::kInvalidArgument, "not a PEM certificate");
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  if (aki == nullptr || ASN1_STRING_length(aki) <= 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the certificate has no Authority Key Identifier; ARI cannot name it");
  }
  std::string key_id(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                     static_cast<size_t>(ASN1_STRING_length(aki)));
  std::string serial = SerialContentOctets(X509_get0_serialNumber(cert.get()));
  if (serial.empty()) return MakeError(ErrorCode::kInvalidArgument, "unreadable serial number");
  return Base64UrlEncode(key_id) + "." + Base64UrlEncode(serial);
}

}  // namespace certsmith::acme
