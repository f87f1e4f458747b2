#include "api/condition.h"

#include <algorithm>

#include "json_reader.h"

namespace certsmith::api {

const char* ConditionStatusName(ConditionStatus s) {
  switch (s) {
    case ConditionStatus::kTrue:
      return "True";
    case ConditionStatus::kFalse:
      return "False";
    case ConditionStatus::kUnknown:
      break;
  }
  return "Unknown";
}

Condition Condition::FromJson(const Json& j, std::string_view path, FieldErrors* errors) {
  internal::JsonReader r(&j, std::string(path), errors);
  Condition c;
  c.type = r.String("type");
  std::string status = r.String("status");
  if (status == "True") {
    c.status = ConditionStatus::kTrue;
  } else if (status == "False") {
    c.status = ConditionStatus::kFalse;
  } else if (!status.empty() && status != "Unknown") {
    errors->Add(r.Path("status"), "must be True, False or Unknown");
  }
  c.reason = r.String("reason");
  c.message = r.String("message");
  c.last_transition_time = r.Time("lastTransitionTime");
  c.observed_generation = r.Int("observedGeneration").value_or(0);
  return c;
}

Json Condition::ToJson() const {
  Json j = {{"type", type}, {"status", ConditionStatusName(status)}};
  internal::PutString(j, "reason", reason);
  internal::PutString(j, "message", message);
  internal::PutTime(j, "lastTransitionTime", last_transition_time);
  internal::PutInt(j, "observedGeneration", observed_generation);
  return j;
}

std::vector<Condition> ConditionsFromJson(const Json& list, std::string_view path,
                                          FieldErrors* errors) {
  std::vector<Condition> out;
  if (list.is_null()) return out;
  if (!list.is_array()) {
    errors->Add(std::string(path), "must be a list");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    out.push_back(Condition::FromJson(list[i], IndexPath(path, i), errors));
  }
  return out;
}

Json ConditionsToJson(const std::vector<Condition>& conditions) {
  Json j = Json::array();
  for (const Condition& c : conditions) j.push_back(c.ToJson());
  return j;
}

bool SetCondition(std::vector<Condition>* conditions, const Condition& c, Clock::TimePoint now) {
  auto it = std::find_if(conditions->begin(), conditions->end(),
                         [&](const Condition& x) { return x.type == c.type; });
  Condition next = c;
  if (it == conditions->end()) {
    next.last_transition_time = now;
    conditions->push_back(next);
    return true;
  }
  next.last_transition_time = it->status == c.status && it->last_transition_time
                                  ? it->last_transition_time
                                  : std::optional<Clock::TimePoint>(now);
  if (*it == next) return false;
  *it = next;
  return true;
}

bool RemoveCondition(std::vector<Condition>* conditions, std::string_view type) {
  auto it = std::remove_if(conditions->begin(), conditions->end(),
                           [&](const Condition& x) { return x.type == type; });
  bool removed = it != conditions->end();
  conditions->erase(it, conditions->end());
  return removed;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == ConditionStatus::kTrue;
}

}  // namespace certsmith::api
