#include "common/status_metrics.h"

#include "api/order.h"
#include "api/resources.h"
#include "kube/time_format.h"

namespace certsmith::reconcilers {
namespace {

std::string ReadyOf(const Json& status) {
  for (const Json& c : status.value("conditions", Json::array())) {
    if (c.is_object() && c.value("type", "") == api::kConditionReady) return c.value("status", "");
  }
  return "Unknown";
}

std::optional<double> EpochSeconds(const Json& status, const char* field) {
  auto it = status.find(field);
  if (it == status.end() || !it->is_string()) return std::nullopt;
  std::optional<Clock::TimePoint> t = kube::ParseTime(it->get<std::string>());
  if (!t) return std::nullopt;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

api::OrderState StateOf(const Json& status) {
  auto it = status.find("state");
  if (it == status.end() || !it->is_string()) return api::OrderState::kUnknown;
  return api::ParseOrderState(it->get<std::string>()).value_or(api::OrderState::kUnknown);
}

// The first write of a final state counts; rewriting it (or seeing it after a restart) does not.
bool BecameFinal(const Json& object, const Json& status) {
  const api::OrderState now = StateOf(status);
  return api::IsFinalOrderState(now) && StateOf(object.value("status", Json::object())) != now;
}

}  // namespace

void RecordStatusMetrics(Context& ctx, const kube::ResourceRef& res, const Json& object,
                         const Json& status) {
  if (ctx.metrics == nullptr || !status.is_object()) return;
  const Json& meta = object.value("metadata", Json::object());
  const std::string ns = meta.value("namespace", "");
  const std::string name = meta.value("name", "");
  if (res == api::kCertificates) {
    const Json& ref = object.value("spec", Json::object()).value("issuerRef", Json::object());
    ctx.metrics->SetCertificate({.ns = ns,
                                 .name = name,
                                 .issuer_kind = ref.value("kind", "Issuer"),
                                 .issuer_name = ref.value("name", ""),
                                 .not_after = EpochSeconds(status, "notAfter"),
                                 .renewal_time = EpochSeconds(status, "renewalTime"),
                                 .ready = ReadyOf(status)});
  } else if (res == api::kIssuers || res == api::kClusterIssuers) {
    ctx.metrics->SetIssuerReady(res.kind, ns, name, ReadyOf(status));
  } else if (res == api::kOrders && BecameFinal(object, status)) {
    ctx.metrics->CountOrderFinished(api::OrderStateName(StateOf(status)));
  } else if (res == api::kChallenges && BecameFinal(object, status)) {
    ctx.metrics->CountChallengeFinished(api::OrderStateName(StateOf(status)));
  }
}

}  // namespace certsmith::reconcilers
