#include "orders/solver_selection.h"

#include <algorithm>

#include "api/names.h"

namespace certsmith::reconcilers {
namespace {

constexpr long kByName = 3'000'000;
constexpr long kByZone = 2'000'000;
constexpr long kByLabels = 1'000'000;

// The solver's score for the name, or -1 when it does not apply.
long Score(const api::AcmeSolver& solver, const std::string& name, const api::StringMap& labels) {
  if (!solver.selector) return 0;
  const api::SolverSelector& sel = *solver.selector;
  for (const auto& [k, v] : sel.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return -1;
  }
  const long label_count = static_cast<long>(sel.match_labels.size());
  const std::string normal = api::NormalizeDnsName(name);
  for (const std::string& n : sel.dns_names) {
    if (api::NormalizeDnsName(n) == normal) return kByName + label_count;
  }
  long best_zone = -1;
  for (const std::string& z : sel.dns_zones) {
    if (api::IsUnderZone(normal, z)) best_zone = std::max(best_zone, static_cast<long>(z.size()));
  }
  if (best_zone >= 0) return kByZone + best_zone * 100 + label_count;
  if (!sel.dns_names.empty() || !sel.dns_zones.empty()) return -1;
  return label_count > 0 ? kByLabels + label_count : 0;
}

}  // namespace

const api::AcmeSolver* SelectSolver(const std::vector<api::AcmeSolver>& solvers,
                                    const std::string& name, const api::StringMap& labels) {
  const api::AcmeSolver* best = nullptr;
  long best_score = -1;
  for (const api::AcmeSolver& s : solvers) {
    long score = Score(s, name, labels);
    if (score > best_score) {
      best = &s;
      best_score = score;
    }
  }
  return best;
}

}  // namespace certsmith::reconcilers
