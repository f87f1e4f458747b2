// ACME Renewal Information (RFC 9773): the certificate identifier used in the renewalInfo URL
// and in newOrder's "replaces" field.
#pragma once

#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::acme {

// RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(DER serial number bytes), from the
// first certificate of a PEM bundle. Fails when the certificate has no Authority Key Identifier
// with a keyIdentifier (ARI cannot name it then).
Result<std::string> AriCertId(std::string_view certificate_pem);

}  // namespace certsmith::acme
