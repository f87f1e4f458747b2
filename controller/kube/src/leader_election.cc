#include "kube/leader_election.h"

#include "certsmith/log.h"

namespace certsmith::kube {

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config)
    : client_(client),
      config_(std::move(config)),
      sleeper_(config_.sleeper ? config_.sleeper : &own_sleeper_) {}

LeaderElector::~LeaderElector() { Stop(); }

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observed_leader_;
}

Json LeaderElector::BuildLease(const Json* existing, bool transition) const {
  std::string now = FormatMicroTime(config_.clock->Now());
  Json lease = existing ? *existing : Json::object();
  lease["apiVersion"] = kLeases.ApiVersion();
  lease["kind"] = kLeases.kind;
  lease["metadata"]["name"] = config_.lease_name;
  lease["metadata"]["namespace"] = config_.lease_namespace;
  Json& spec = lease["spec"];
  int64_t transitions = spec.is_object() ? spec.value("leaseTransitions", 0) : 0;
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  spec["renewTime"] = now;
  if (!existing || transition) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = existing ? transitions + 1 : 0;
  }
  return lease;
}

bool LeaderElector::TryAcquireOrRenew() {
  auto now = config_.clock->Now();
  Result<Json> got = client_.Get(kLeases, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) {
    if (got.status().code() != ErrorCode::kNotFound) {
      log::Warn("leader election: cannot read lease", {{"error", got.status().ToString()}});
      return false;
    }
    Result<Json> created =
        client_.Create(kLeases, config_.lease_namespace, BuildLease(nullptr, true));
    if (!created.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    observed_leader_ = config_.identity;
    observed_record_ = created->dump();
    observed_renew_ = now;
    last_renew_ = now;
    return true;
  }
  const Json spec = got->value("spec", Json::object());
  std::string holder = spec.value("holderIdentity", "");
  int64_t duration_s = spec.value("leaseDurationSeconds", 0);
  std::string record = spec.dump();
  bool new_leader = false;
  bool held_by_other_and_valid;
  {
    // Expiry is judged on our own clock from when we saw the record change, as client-go does,
    // so clock skew between replicas does not matter.
    std::lock_guard<std::mutex> lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_renew_ = now;
      if (holder != observed_leader_) {
        observed_leader_ = holder;
        new_leader = !holder.empty();
      }
    }
    bool held_by_other = !holder.empty() && holder != config_.identity;
    bool expired = *observed_renew_ + std::chrono::seconds(duration_s) <= now;
    held_by_other_and_valid = held_by_other && !expired;
  }
  // Outside the lock: the callback may call back into this elector.
  if (new_leader && config_.on_new_leader) config_.on_new_leader(holder);
  if (held_by_other_and_valid) return false;
  bool transition = holder != config_.identity;
  Result<Json> updated = client_.Update(kLeases, config_.lease_namespace, BuildLease(&*got, transition));
  if (!updated.ok()) return false;  // another replica won the race (409)
  std::lock_guard<std::mutex> lock(mu_);
  observed_leader_ = config_.identity;
  observed_record_ = updated->value("spec", Json::object()).dump();
  observed_renew_ = now;
  last_renew_ = now;
  return true;
}

void LeaderElector::Run() {
  while (!stopped_ && !TryAcquireOrRenew()) sleeper_->Sleep(config_.retry_period);
  if (stopped_) return;
  leader_ = true;
  log::Info("leader election: started leading", {{"lease", config_.lease_name},
                                                 {"identity", config_.identity}});
  if (config_.on_started_leading) config_.on_started_leading();
  while (!stopped_) {
    sleeper_->Sleep(config_.retry_period);
    if (stopped_) break;
    if (TryAcquireOrRenew()) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (config_.clock->Now() - last_renew_ >= config_.renew_deadline) break;
  }
  bool released = false;
  if (stopped_ && config_.release_on_stop) released = Release().ok();
  leader_ = false;
  log::Info("leader election: stopped leading",
            {{"lease", config_.lease_name}, {"released", released ? "true" : "false"}});
  if (config_.on_stopped_leading) config_.on_stopped_leading();
}

void LeaderElector::Stop() {
  stopped_ = true;
  own_sleeper_.Interrupt();
}

Status LeaderElector::Release() {
  ASSIGN_OR_RETURN(Json lease, client_.Get(kLeases, config_.lease_namespace, config_.lease_name));
  Json& spec = lease["spec"];
  if (!spec.is_object() || spec.value("holderIdentity", "") != config_.identity)
    return MakeError(ErrorCode::kFailedPrecondition, "lease is not held by this replica");
  // client-go's release: empty holder and a 1s lease, so the next candidate sees it expired.
  spec["holderIdentity"] = "";
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = FormatMicroTime(config_.clock->Now());
  RETURN_IF_ERROR(client_.Update(kLeases, config_.lease_namespace, lease).status());
  leader_ = false;
  return Status::Ok();
}

}  // namespace certsmith::kube
