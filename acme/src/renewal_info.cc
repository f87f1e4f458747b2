#include "acme/renewal_info.h"

#include "acme/certificate.h"

namespace certsmith::acme {

Result<std::string> AriCertId(std::string_view certificate_pem) {
  auto info = ParseCertificatePem(certificate_pem);
  if (!info.ok()) return MakeError(ErrorCode::kInvalidArgument, "not a PEM certificate");
  if (info->ari_cert_id.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the certificate has no Authority Key Identifier; ARI cannot name it");
  }
  return info->ari_cert_id;
}

}  // namespace certsmith::acme
