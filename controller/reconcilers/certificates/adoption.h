// Taking over a TLS Secret that cert-manager wrote, so a Certificate converted from cert-manager
// (`kubectl certsmith convert`) keeps the certificate already served instead of ordering a new
// one (README "Moving from cert-manager"). The Certificate reconciler adopts a Secret only when
// nothing else calls for an issuance: the key matches the certificate, the names match the spec,
// it is not due for renewal, and cert-manager's annotations say it came from the Issuer the
// Certificate names (same name and kind; a converted Issuer keeps its name).
#pragma once

#include <nlohmann/json.hpp>

#include "api/certificate.h"

namespace certsmith::reconcilers {

// True when the Secret carries no certsmith issuer annotation and cert-manager's issuer
// annotations name cert.spec.issuerRef (kind defaulting to Issuer and group to cert-manager.io,
// as cert-manager writes them).
bool WrittenByCertManagerForIssuer(const api::Certificate& cert, const nlohmann::json& secret);

// The Secret as certsmith keeps it: its managed-by and certificate-name labels, issuer and
// revision annotations (so the controller's Secret cache and later checks see it as its own).
// cert-manager's ownerReference to its Certificate goes (deleting that Certificate must not
// collect the Secret); cert-manager's annotations stay, so a rollback finds what it wrote.
nlohmann::json AdoptedSecret(const api::Certificate& cert, nlohmann::json secret, int64_t revision);

}  // namespace certsmith::reconcilers
