// PEM and DER certificates and keys: a CA's certificate chain, a TLS Secret's tls.crt and
// tls.key (anyone with write access to the Secret), an account key file. Input: the first byte
// chooses how the rest is read. Properties: no crash; a certificate that parses as PEM parses the
// same as its DER; every block SplitPemCertificates returns parses on its own or fails cleanly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "acme/certificate.h"
#include "acme/key.h"
#include "fuzz_input.h"

using namespace certsmith;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 3;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    auto info = acme::ParseCertificateDer(rest);
    if (info.ok()) (void)acme::FormatRfc3339(info->not_after);
    return 0;
  }
  if (mode == 1) {
    auto blocks = acme::SplitPemCertificates(rest);
    if (blocks.ok()) {
      for (const std::string& block : *blocks) (void)acme::ParseCertificatePem(block);
    }
    auto info = acme::ParseCertificatePem(rest);
    if (info.ok()) {
      auto der = acme::CertificatePemToDer(rest);
      fuzz::Check(der.ok(), "pem_der_fuzz", "a parsed PEM certificate has no DER");
      auto again = acme::ParseCertificateDer(*der);
      fuzz::Check(again.ok() && again->serial_hex == info->serial_hex &&
                      again->public_key_sha256 == info->public_key_sha256,
                  "pem_der_fuzz", "PEM and DER of one certificate parse differently");
    }
    return 0;
  }
  // A private key (tls.key, an account key file), and whether a certificate in the same input
  // matches it: "KEY PEM" NUL "CERTIFICATE PEM".
  auto fields = fuzz::SplitFields(rest, 2);
  auto key = acme::PrivateKey::FromPem(fields[0]);
  if (key.ok()) {
    (void)key->PublicJwk();
    if (fields.size() > 1) (void)acme::CertificateMatchesKey(fields[1], *key);
  }
  return 0;
}
