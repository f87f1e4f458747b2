// ACME Renewal Information (RFC 9773) for the Certificate reconciler: when the CA's directory
// offers renewalInfo, the renewal time of a valid certificate is a uniformly random point in the
// window the CA suggests (§4.2), kept while the window stays, drawn again when the CA moves it
// (a mass revocation moves it earlier), and re-checked when the CA's Retry-After says (§4.3).
// The CA's window and the next check are kept in status.renewalInfo, so a restart does not ask
// again early. Without renewalInfo the 2/3 rule (or renewBefore) stays.
#pragma once

#include <optional>
#include <string>

#include "api/certificate.h"
#include "certificates/certificate_reconciler.h"
#include "reconcilers/context.h"

namespace certsmith::reconcilers {

// A whole second in [start, end) at the fraction unit_random (in [0, 1)) of the window; start
// when the window is empty or inverted.
Clock::TimePoint PointInWindow(Clock::TimePoint start, Clock::TimePoint end, double unit_random);

// For a Certificate whose Secret (secret) holds a certificate valid and matching its spec
// (check->current_valid, check->info its leaf): asks the CA for its window when status says it
// is time to (or the certificate changed), and only then decodes the Secret's tls.crt; sets
// check->renewal_time, ->needed (the point has come), ->from_ari, ->recheck_at and ->replaces,
// and status->renewal_info. Leaves the 2/3 rule in place (and clears status->renewal_info) when
// the CA has no renewalInfo, the certificate cannot be named (no Authority Key Identifier), or
// the issuer's account is not registered yet.
void ApplyRenewalInfo(Context& ctx, const api::Certificate& cert, const Json* secret,
                      api::CertificateStatus* status, IssuanceCheck* check);

}  // namespace certsmith::reconcilers
