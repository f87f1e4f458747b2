#include "openssl_util.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>

namespace certsmith::acme::internal {

void FreeOpenSslString(char* s) { OPENSSL_free(s); }

void FreeGeneralNames(GENERAL_NAMES* n) { sk_GENERAL_NAME_pop_free(n, GENERAL_NAME_free); }

void FreeExtensionStack(STACK_OF(X509_EXTENSION) * s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}

Status OpenSslError(std::string_view what, ErrorCode code) {
  // The last error is the most specific one; older entries are usually its causes' wrappers.
  unsigned long err = ERR_peek_last_error();
  std::string message(what);
  if (err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return Status(code, std::move(message));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

BioPtr ReadOnlyBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), nullptr,
             EVP_sha256(), nullptr);
  return out;
}

std::string HexLower(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string IpBytesToText(const unsigned char* bytes, int len) {
  char text[INET6_ADDRSTRLEN] = {0};
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, bytes, text, sizeof text) == nullptr) return {};
  return text;
}

std::string BignumBytes(const BIGNUM* n, int width) {
  int len = width > 0 ? width : BN_num_bytes(n);
  std::string out(static_cast<size_t>(len), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (width > 0) {
    if (BN_bn2binpad(n, dst, width) < 0) return {};
  } else {
    BN_bn2bin(n, dst);
  }
  return out;
}

}  // namespace certsmith::acme::internal
