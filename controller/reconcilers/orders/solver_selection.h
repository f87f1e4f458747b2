// Which of an issuer's solvers answers a name, with cert-manager's precedence so specs move over
// unchanged: a selector listing the name in dnsNames wins over one whose dnsZones contain it
// (the longest zone wins), which wins over one matching only by matchLabels (more labels win),
// which wins over a solver with no selector. Ties go to the solver listed first.
#pragma once

#include <string>
#include <vector>

#include "api/issuer.h"

namespace certsmith::reconcilers {

// nullptr when no solver applies. name is the identifier as ordered ("*.a.example" for a
// wildcard); labels are the Certificate's.
const api::AcmeSolver* SelectSolver(const std::vector<api::AcmeSolver>& solvers,
                                    const std::string& name, const api::StringMap& labels);

}  // namespace certsmith::reconcilers
