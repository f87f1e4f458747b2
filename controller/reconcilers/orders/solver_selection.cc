#include "orders/solver_selection.h"

#include <algorithm>

#include "api/names.h"

namespace certsmith::reconcilers {
namespace {

constexpr long kByName = 3'000'000;
constexpr long kByZone = 2'000'000;
constexpr long kByLabels = 1'000'000;

struct Match {
  long score = -1;  // -1: the solver does not apply
  std::string why;  // why it applies, or why not
};

Match Evaluate(const api::AcmeSolver& solver, const std::string& name,
               const api::StringMap& labels) {
  if (!solver.selector) return {0, "no selector, so it matches every name"};
  const api::SolverSelector& sel = *solver.selector;
  for (const auto& [k, v] : sel.match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) {
      return {-1, "selector.matchLabels " + k + "=" + v + " is not on the Certificate"};
    }
  }
  const long label_count = static_cast<long>(sel.match_labels.size());
  const std::string with_labels =
      label_count > 0 ? " and its " + std::to_string(label_count) + " matchLabels match" : "";
  const std::string normal = api::NormalizeDnsName(name);
  for (const std::string& n : sel.dns_names) {
    if (api::NormalizeDnsName(n) == normal) {
      return {kByName + label_count, "selector.dnsNames lists " + name + with_labels};
    }
  }
  long best_zone = -1;
  std::string zone_name;
  for (const std::string& z : sel.dns_zones) {
    if (api::IsUnderZone(normal, z) && static_cast<long>(z.size()) > best_zone) {
      best_zone = static_cast<long>(z.size());
      zone_name = z;
    }
  }
  if (best_zone >= 0) {
    return {kByZone + best_zone * 100 + label_count,
            "selector.dnsZones \"" + zone_name + "\" contains " + name + with_labels};
  }
  if (!sel.dns_names.empty() || !sel.dns_zones.empty()) {
    return {-1, "its selector's dnsNames and dnsZones do not cover " + name};
  }
  if (label_count > 0) {
    return {kByLabels + label_count, "selector.matchLabels (" + std::to_string(label_count) +
                                         ") match the Certificate's labels"};
  }
  return {0, "an empty selector matches every name"};
}

std::string Type(const api::AcmeSolver& s) { return s.http01 ? "http-01" : "dns-01"; }

std::string Describe(const api::AcmeSolver& s, size_t i) {
  std::string kind = s.http01 ? "http01" : "dns01";
  if (s.dns01 && s.dns01->rfc2136) kind += ".rfc2136";
  if (s.dns01 && s.dns01->webhook) kind += ".webhook";
  return "solvers[" + std::to_string(i) + "] (" + kind + ")";
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

SolverChoice SelectSolver(const std::vector<api::AcmeSolver>& solvers, const std::string& name,
                          const api::StringMap& labels,
                          const std::vector<std::string>& offered_types) {
  SolverChoice choice;
  long best_score = -1;
  std::string best_why;
  size_t ties = 0;
  std::vector<std::string> passed_over;
  for (size_t i = 0; i < solvers.size(); ++i) {
    const api::AcmeSolver& s = solvers[i];
    Match m = Evaluate(s, name, labels);
    if (m.score < 0) {
      passed_over.push_back(Describe(s, i) + ": " + m.why);
      continue;
    }
    if (!offered_types.empty() &&
        std::find(offered_types.begin(), offered_types.end(), Type(s)) == offered_types.end()) {
      passed_over.push_back(Describe(s, i) + ": the CA offers no " + Type(s) + " challenge for " +
                            name);
      continue;
    }
    if (m.score > best_score) {
      choice.solver = &s;
      choice.index = i;
      best_score = m.score;
      best_why = m.why;
      ties = 0;
    } else if (m.score == best_score) {
      ++ties;
    }
  }
  if (choice.solver == nullptr) {
    choice.reason = solvers.empty() ? "the issuer has no solvers" : Join(passed_over);
    return choice;
  }
  choice.reason = Describe(*choice.solver, choice.index) + ": " + best_why;
  if (ties > 0) {
    choice.reason += "; listed first of " + std::to_string(ties + 1) + " equally specific solvers";
  }
  if (!passed_over.empty()) choice.reason += "; passed over " + Join(passed_over);
  return choice;
}

}  // namespace certsmith::reconcilers
