// Status conditions (the Kubernetes metav1.Condition shape): every certsmith resource carries
// Ready, Certificates also Issuing. lastTransitionTime moves only when status changes, so
// `kubectl get` AGE-like reasoning ("Ready=False since ...") stays true across re-syncs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/meta.h"

namespace certsmith::api {

inline constexpr char kConditionReady[] = "Ready";
inline constexpr char kConditionIssuing[] = "Issuing";
// Issuers, while and after `kubectl certsmith account rollover` (its message names the request).
inline constexpr char kConditionAccountKeyRollover[] = "AccountKeyRollover";

enum class ConditionStatus { kTrue, kFalse, kUnknown };
const char* ConditionStatusName(ConditionStatus s);  // "True", "False", "Unknown"

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  std::string reason;   // CamelCase, machine-readable
  std::string message;  // what a person can act on
  std::optional<Clock::TimePoint> last_transition_time;
  int64_t observed_generation = 0;

  static Condition FromJson(const Json& j, std::string_view path, FieldErrors* errors);
  Json ToJson() const;
  bool operator==(const Condition&) const = default;
};

std::vector<Condition> ConditionsFromJson(const Json& list, std::string_view path,
                                          FieldErrors* errors);
Json ConditionsToJson(const std::vector<Condition>& conditions);

// Sets (adds or updates) the condition of c.type. last_transition_time becomes now only when the
// condition is new or its status changed; otherwise the old time is kept. Returns true when
// anything changed (so a reconciler writes status only then).
bool SetCondition(std::vector<Condition>* conditions, const Condition& c, Clock::TimePoint now);
// Removes the condition of that type; true if there was one.
bool RemoveCondition(std::vector<Condition>* conditions, std::string_view type);
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

}  // namespace certsmith::api
