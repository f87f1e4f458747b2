#include "reconcilers/util.h"

#include "acme/problem.h"
#include "api/resources.h"
#include "certsmith/log.h"
#include "common/status_metrics.h"
#include "kube/errors.h"
#include "kube/rate_limiter.h"

namespace certsmith::reconcilers {

std::string IssuerKey(const api::IssuerRef& ref, std::string_view certificate_namespace) {
  if (ref.IsClusterIssuer()) return "ClusterIssuer/" + ref.name;
  return "Issuer/" + std::string(certificate_namespace) + "/" + ref.name;
}

std::optional<AccountRegistry::Entry> AccountRegistry::Find(const std::string& issuer_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(issuer_key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void AccountRegistry::Put(const std::string& issuer_key, Entry entry) {
  std::function<void(const std::string&)> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(issuer_key);
    const bool changed = it == entries_.end() || it->second.hash != entry.hash ||
                         it->second.account_url != entry.account_url;
    entries_[issuer_key] = std::move(entry);
    if (changed) notify = listener_;
  }
  if (notify) notify(issuer_key);
}

void AccountRegistry::OnRegistered(std::function<void(const std::string&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

void AccountRegistry::Remove(const std::string& issuer_key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(issuer_key);
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

namespace {
// Live: exists with this uid and no deletionTimestamp.
Result<bool> ExistsLive(kube::Client& live, const kube::ResourceRef& res, std::string_view ns,
                        std::string_view name, std::string_view uid) {
  auto got = live.Get(res, ns, name);
  if (!got.ok()) {
    if (kube::IsNotFound(got.status())) return false;
    return got.status();
  }
  return kube::GetUid(*got) == uid && !(*got)["metadata"].contains("deletionTimestamp");
}
}  // namespace

Result<bool> StillWanted(Context& ctx, const kube::ResourceRef& res, const Json& obj,
                         const kube::ResourceRef* owner) {
  kube::Client& live = ctx.live != nullptr ? *ctx.live : *ctx.client;
  const std::string ns = kube::GetNamespace(obj);
  ASSIGN_OR_RETURN(bool wanted,
                   ExistsLive(live, res, ns, obj["metadata"].value("name", ""), kube::GetUid(obj)));
  if (!wanted || owner == nullptr) return wanted;
  for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("kind", "") != owner->kind) continue;
    ASSIGN_OR_RETURN(bool owner_there,
                     ExistsLive(live, *owner, ns, ref.value("name", ""), ref.value("uid", "")));
    if (!owner_there) return false;
  }
  return true;
}

Status WriteInvalidSpec(Context& ctx, const kube::ResourceRef& res, const Json& obj,
                        const Status& why) {
  Json status = obj.value("status", Json::object());
  api::FieldErrors ignored;
  std::vector<api::Condition> conditions =
      api::ConditionsFromJson(status.value("conditions", Json::array()), "", &ignored);
  SetCondition(ctx, &conditions, api::kConditionReady, api::ConditionStatus::kFalse, "InvalidSpec",
               why.message(), obj["metadata"].value("generation", int64_t{0}));
  status["conditions"] = api::ConditionsToJson(conditions);
  return WriteStatus(ctx, res, obj, status).status();
}

std::string ForbiddenMessage(const Status& why) {
  if (auto missing = kube::MissingPermission(why)) {
    return "missing RBAC permission: " + *missing +
           "; grant it in the controller's Role or "
           "ClusterRole. The API server answered: " +
           log::Sanitize(why.message());
  }
  return "the API server refused the request: " + log::Sanitize(why.message());
}

namespace {

// The owner of obj of the given kind (from the cache), or nullopt.
std::optional<Json> OwnerOfKind(Context& ctx, const Json& obj, const kube::ResourceRef& owner) {
  for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("kind", "") != owner.kind) continue;
    auto got = ctx.client->Get(owner, kube::GetNamespace(obj), ref.value("name", ""));
    if (got.ok() && kube::GetUid(*got) == ref.value("uid", "")) return *got;
  }
  return std::nullopt;
}

void SetForbiddenCondition(Context& ctx, const kube::ResourceRef& res, const Json& obj,
                           const std::string& message) {
  Json status = obj.value("status", Json::object());
  api::FieldErrors ignored;
  std::vector<api::Condition> conditions =
      api::ConditionsFromJson(status.value("conditions", Json::array()), "", &ignored);
  // A Certificate whose Secret still holds a valid certificate stays Ready: its renewal is what
  // is blocked.
  const bool serving =
      res.kind == api::kCertificates.kind && api::IsConditionTrue(conditions, api::kConditionReady);
  SetCondition(ctx, &conditions, serving ? api::kConditionIssuing : api::kConditionReady,
               api::ConditionStatus::kFalse, "Forbidden", message,
               obj["metadata"].value("generation", int64_t{0}));
  status["conditions"] = api::ConditionsToJson(conditions);
  auto written = WriteStatus(ctx, res, obj, status);
  if (!written.ok()) {
    log::Warn("writing the Forbidden condition failed",
              {{"object", kube::ObjectKey(obj)}, {"error", written.status().ToString()}});
  }
}

}  // namespace

void ReportForbidden(Context& ctx, const kube::ResourceRef& res, const std::string& key,
                     const Status& why) {
  auto [ns, name] = SplitKey(key);
  auto obj = ctx.client->Get(res, ns, name);
  if (!obj.ok()) {
    log::Warn("refused by the API server", {{"object", key}, {"error", why.ToString()}});
    return;
  }
  const std::string message = ForbiddenMessage(why);
  Event(ctx, *obj, kube::kEventWarning, "Forbidden", message);
  if (res.kind == api::kIssuers.kind || res.kind == api::kClusterIssuers.kind ||
      res.kind == api::kCertificates.kind) {
    SetForbiddenCondition(ctx, res, *obj, message);
    return;
  }
  std::optional<Json> order;
  if (res.kind == api::kChallenges.kind) order = OwnerOfKind(ctx, *obj, api::kOrders);
  if (res.kind == api::kOrders.kind) order = *obj;
  if (!order) return;
  if (auto cert = OwnerOfKind(ctx, *order, api::kCertificates)) {
    Event(ctx, *cert, kube::kEventWarning, "Forbidden",
          kube::ObjectKey(*obj) + " (" + res.kind + "): " + message);
    SetForbiddenCondition(ctx, api::kCertificates, *cert, message);
  }
}

Json OwnerReference(const Json& owner) {
  return Json{{"apiVersion", owner.value("apiVersion", "")},
              {"kind", owner.value("kind", "")},
              {"name", kube::GetName(owner)},
              {"uid", kube::GetUid(owner)},
              {"controller", true},
              {"blockOwnerDeletion", true}};
}

bool IsOwnedBy(const Json& obj, const Json& owner) {
  const std::string uid = kube::GetUid(owner);
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->contains("ownerReferences")) return false;
  for (const Json& ref : (*meta)["ownerReferences"]) {
    if (ref.is_object() && ref.value("uid", "") == uid) return true;
  }
  return false;
}

Result<Json> WriteStatus(Context& ctx, const kube::ResourceRef& res, const Json& object,
                         const Json& status) {
  // Metrics follow what is stored: an unchanged status (a restarted controller re-exports it) or a
  // write that succeeded (not one refused because the object was deleted meanwhile).
  if (object.contains("status") && object["status"] == status) {
    RecordStatusMetrics(ctx, res, object, status);
    return object;
  }
  Json updated = object;
  updated["status"] = status;
  Result<Json> written = ctx.client->UpdateStatus(res, kube::GetNamespace(object), updated);
  if (written.ok()) RecordStatusMetrics(ctx, res, object, status);
  return written;
}

Result<api::Issuer> GetIssuer(Context& ctx, const api::IssuerRef& ref, std::string_view ns) {
  const kube::ResourceRef& res = ref.IsClusterIssuer() ? api::kClusterIssuers : api::kIssuers;
  ASSIGN_OR_RETURN(Json obj, ctx.client->Get(res, ref.IsClusterIssuer() ? "" : ns, ref.name));
  return api::Issuer::FromJson(obj);
}

std::string IssuerSecretNamespace(const Context& ctx, const api::Issuer& issuer) {
  return issuer.IsClusterIssuer() ? ctx.options.cluster_resource_namespace
                                  : issuer.metadata.namespace_;
}

Result<std::shared_ptr<acme::AcmeClient>> AcmeClientFor(Context& ctx, const api::IssuerRef& ref,
                                                        std::string_view ns) {
  auto entry = ctx.accounts->Find(IssuerKey(ref, ns));
  if (!entry) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     ref.kind + " " + ref.name + " has no registered ACME account yet");
  }
  return entry->client;
}

Duration Backoff(int64_t attempts, Duration base, Duration cap) {
  if (attempts <= 0) return Duration::zero();
  return kube::Backoff(static_cast<int>(std::min<int64_t>(attempts - 1, 40)), base, cap);
}

std::string ErrorText(const Status& status) {
  if (auto problem = acme::ProblemFromStatus(status)) return problem->Summary();
  return log::Sanitize(status.message());
}

void Event(Context& ctx, const Json& object, std::string_view type, std::string_view reason,
           std::string_view message) {
  if (ctx.events == nullptr) return;
  Status s = ctx.events->Record(object, type, reason, message);
  if (!s.ok()) {
    log::Warn("recording event failed", {{"object", kube::ObjectKey(object)},
                                         {"reason", std::string(reason)},
                                         {"error", s.ToString()}});
  }
}

bool SetCondition(Context& ctx, std::vector<api::Condition>* conditions, std::string_view type,
                  api::ConditionStatus status, std::string reason, std::string message,
                  int64_t generation) {
  api::Condition c;
  c.type = std::string(type);
  c.status = status;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = generation;
  return api::SetCondition(conditions, c, ctx.clock->Now());
}

}  // namespace certsmith::reconcilers
