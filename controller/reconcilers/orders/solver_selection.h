// Which of an issuer's solvers answers a name, with cert-manager's precedence so specs move over
// unchanged: a selector listing the name in dnsNames wins over one whose dnsZones contain it
// (the longest zone wins), which wins over one matching only by matchLabels (more labels win),
// which wins over a solver with no selector. Ties go to the solver listed first. Solvers of a
// type the CA does not offer for the name (a wildcard gets dns-01 only, RFC 8555 §7.1.3) are
// passed over, as cert-manager does.
#pragma once

#include <string>
#include <vector>

#include "api/issuer.h"

namespace certsmith::reconcilers {

struct SolverChoice {
  const api::AcmeSolver* solver = nullptr;  // nullptr: none applies
  size_t index = 0;                         // in spec.acme.solvers
  // Why, for the Challenge (spec.solverSelection) or the Order's error: "solvers[1] (dns01):
  // selector.dnsZones "example.org" contains *.example.org; chosen over solvers[0] (...)".
  std::string reason;
};

// name is the identifier as ordered ("*.a.example" for a wildcard); labels are the
// Certificate's; offered_types are the challenge types the CA offers for the name (empty:
// every type is offered).
SolverChoice SelectSolver(const std::vector<api::AcmeSolver>& solvers, const std::string& name,
                          const api::StringMap& labels,
                          const std::vector<std::string>& offered_types = {});

}  // namespace certsmith::reconcilers
