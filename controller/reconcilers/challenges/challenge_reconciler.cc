#include "challenges/challenge_reconciler.h"

#include <algorithm>

#include "acme/problem.h"
#include "api/resources.h"
#include "certsmith/log.h"
#include "kube/errors.h"
#include "reconcilers/util.h"
#include "solvers/http01/solver_resources.h"

namespace certsmith::reconcilers {
namespace {

constexpr auto kWaitDelay = std::chrono::seconds(5);
// Solver Pods start in about a second; poll readiness often so issuance is not slowed.
constexpr auto kSolverReadyPoll = std::chrono::milliseconds(500);
// A solver Pod this process created is expected to take this long to be Ready: until then its
// wait is not written (the Pod turning Ready wakes the Challenge), after it the Challenge says
// what it waits for. At the bench's pace this was one status write per issuance.
constexpr auto kSolverStartQuiet = std::chrono::seconds(5);
constexpr auto kPollCap = std::chrono::seconds(10);
// A failed solver Pod is replaced after 5 s, then 10 s, 20 s, ... at most 5 minutes apart.
constexpr auto kSolverRetryBase = std::chrono::seconds(5);
constexpr auto kSolverRetryCap = std::chrono::minutes(5);
// A route a Gateway refused waits for someone to change the Gateway or the Issuer; the
// HTTPRoute watch wakes the Challenge as soon as its status changes, so this is a fallback.
constexpr auto kRouteRefusedRetry = std::chrono::seconds(30);
// The Gateway API off or not installed: a person has to act (a flag, CRDs).
constexpr auto kGatewayApiRetry = std::chrono::minutes(1);
// Waiting for a Gateway to accept the route (HTTPRoute status changes wake it sooner).
constexpr auto kRouteAcceptPoll = std::chrono::seconds(2);

bool HasFinalizer(const Json& obj) {
  for (const Json& f : obj["metadata"].value("finalizers", Json::array())) {
    if (f == kChallengeFinalizer) return true;
  }
  return false;
}

// Whether the CA has moved the challenge at url (or its whole authorization) past pending, i.e.
// it was told to validate before; Poll then reads the outcome, valid or invalid.
bool AnsweredAtCa(const acme::Authorization& authz, const std::string& url) {
  if (authz.status != acme::AuthorizationStatus::kPending) {
    return authz.status != acme::AuthorizationStatus::kUnknown;
  }
  for (const acme::Challenge& c : authz.challenges) {
    if (c.url != url) continue;
    return c.status == acme::ChallengeStatus::kProcessing ||
           c.status == acme::ChallengeStatus::kValid || c.status == acme::ChallengeStatus::kInvalid;
  }
  return false;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// An HTTPRoute solver with the Gateway API off presents nothing, and the controller may have
// no RBAC for HTTPRoutes then: a deletion must not wait on them (what an earlier run with the
// flag on made is owned by the Challenge, so the garbage collector removes it).
bool ChallengeReconciler::HasSolverToCleanUp(const api::Challenge& ch) const {
  return solvers::http01::RouteSpec(ch) == nullptr || ctx_.options.enable_gateway_api;
}

bool ChallengeReconciler::Acquire(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (presented_.count(key)) return true;
  if (static_cast<int>(presented_.size()) >= ctx_.options.max_concurrent_challenges) return false;
  presented_.insert(key);
  return true;
}

void ChallengeReconciler::Release(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  presented_.erase(key);
  solver_created_.erase(key);
}

std::optional<Clock::TimePoint> ChallengeReconciler::SolverCreatedAt(
    const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = solver_created_.find(key);
  if (it == solver_created_.end()) return std::nullopt;
  return it->second;
}

size_t ChallengeReconciler::Presented() const {
  std::lock_guard<std::mutex> lock(mu_);
  return presented_.size();
}

SyncResult ChallengeReconciler::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  auto got = ctx_.client->Get(api::kChallenges, ns, name);
  if (!got.ok()) {
    if (!kube::IsNotFound(got.status())) return SyncResult::Error(got.status());
    Release(key);
    return SyncResult::Done();
  }
  Json obj = *got;
  auto parsed = api::Challenge::FromJson(obj);
  if (!parsed.ok()) {
    log::Warn("invalid Challenge", {{"challenge", key}, {"error", parsed.status().message()}});
    return SyncResult::Done();
  }
  api::Challenge ch = std::move(parsed).value();
  if (obj["metadata"].contains("deletionTimestamp")) return Delete(obj, ch);
  if (api::IsFinalOrderState(ch.status.state)) {
    if (!ch.status.presented) return SyncResult::Done();
    const api::OrderState state = ch.status.state;
    const std::string reason = ch.status.reason;
    return Finish(obj, std::move(ch), state, reason);
  }
  if (!HasFinalizer(obj)) {
    obj["metadata"]["finalizers"].push_back(kChallengeFinalizer);
    auto updated = ctx_.client->Update(api::kChallenges, ns, obj);
    if (!updated.ok()) return SyncResult::Error(updated.status());
    obj = *updated;
  }
  if (ch.spec.type == "dns-01") return SyncDns01(obj, std::move(ch));
  if (!ch.status.processing) return Present(obj, std::move(ch));
  return Poll(obj, std::move(ch));
}

SyncResult ChallengeReconciler::Present(const Json& obj, api::Challenge ch) {
  const std::string key = kube::ObjectKey(obj);
  auto acme = AcmeClientFor(ctx_, ch.spec.issuer_ref, ch.metadata.namespace_);
  if (!acme.ok()) return SyncResult::After(kWaitDelay);
  if (!Acquire(key)) {
    ch.status.reason = "waiting: " + std::to_string(ctx_.options.max_concurrent_challenges) +
                       " challenges are already presented (--max-concurrent-challenges)";
    return Write(obj, ch, SyncResult::After(kWaitDelay));
  }
  // A failed solver Pod was deleted; its replacement waits out the backoff.
  const auto now = ctx_.clock->Now();
  if (ch.status.solver_retry_time && now < *ch.status.solver_retry_time) {
    return Write(obj, ch, SyncResult::After(*ch.status.solver_retry_time - now));
  }
  const bool route_solver = solvers::http01::RouteSpec(ch) != nullptr;
  if (route_solver && !ctx_.options.enable_gateway_api) {
    Release(key);  // nothing is presented
    return RouteProblem(obj, std::move(ch), "GatewayAPIDisabled", "GatewayAPIDisabled",
                        "the solver uses http01.gatewayHTTPRoute, which needs the controller "
                        "flag --enable-gateway-api (Helm chart value enableGatewayAPI=true)",
                        kGatewayApiRetry);
  }
  const std::optional<Clock::TimePoint> created_at = SolverCreatedAt(key);
  const bool first_presentation = !ch.status.presented && !created_at;
  auto created = solvers::http01::Present(
      *ctx_.client, ch, obj,
      {.image = ctx_.options.solver_image, .first_presentation = first_presentation});
  if (!created.ok() && route_solver && kube::IsNotFound(created.status())) {
    // The API server does not know HTTPRoutes: the Gateway API CRDs are not installed. The
    // route is created first, so nothing else was.
    Release(key);
    return RouteProblem(obj, std::move(ch), "GatewayAPINotInstalled", "GatewayAPINotInstalled",
                        "the API server has no gateway.networking.k8s.io/v1 HTTPRoutes: install "
                        "the Gateway API CRDs to use http01.gatewayHTTPRoute",
                        kGatewayApiRetry);
  }
  if (!created.ok()) {
    return SyncResult::Error(created.status().WithContext("presenting http-01 solver"));
  }
  ch.status.presented = true;
  ch.status.solver_retry_time.reset();
  if (first_presentation && *created) {
    std::lock_guard<std::mutex> lock(mu_);
    solver_created_.emplace(key, now);
  }
  // A Service or Ingress created just now is not routed yet: the ingress controller learns of it
  // from its watch. A new Pod takes longer to be Ready than that, but a controller killed between
  // creating the Pod and the Ingress finds the Pod Ready after its restart: told at once, the CA
  // got a 503 and the Order failed. So the CA is asked one readiness poll after the last change.
  auto pod = solvers::http01::GetSolverPod(*ctx_.client, ch);
  if (!pod.ok() && !kube::IsNotFound(pod.status())) {
    return SyncResult::Error(pod.status().WithContext("reading the solver Pod"));
  }
  if (pod.ok() && !pod->reason.empty()) return SolverPodFailed(obj, std::move(ch), *pod);
  const bool pod_ready = pod.ok() && pod->ready;
  if (route_solver) {
    const std::string solver = solvers::http01::SolverName(ch);
    auto route = solvers::http01::GetRouteState(*ctx_.client, ch);
    if (!route.ok() && !kube::IsNotFound(route.status())) {
      return SyncResult::Error(route.status().WithContext("reading the solver HTTPRoute"));
    }
    if (route.ok() && route->refused) {
      std::string why = "HTTPRoute " + solver + " is not accepted by Gateway " + route->parent +
                        " (" + route->reason + ")";
      if (!route->message.empty()) why += ": " + log::Sanitize(route->message, 512);
      return RouteProblem(obj, std::move(ch), "HTTPRouteNotAccepted", route->reason, why,
                          kRouteRefusedRetry);
    }
    if (!route.ok() || !route->accepted) {
      std::string waiting;
      if (route.ok()) {
        for (const std::string& p : route->waiting) waiting += (waiting.empty() ? "" : ", ") + p;
      }
      ch.status.reason = "waiting for Gateway " +
                         (waiting.empty() ? std::string("") : waiting + " ") +
                         "to accept HTTPRoute " + solver + " before asking the CA to validate";
      return Write(obj, ch, SyncResult::After(kRouteAcceptPoll));
    }
  }
  if (pod_ready) {
    SetCondition(ctx_, &ch.status.conditions, api::kConditionSolverReady,
                 api::ConditionStatus::kTrue, "SolverPodReady",
                 "solver Pod " + solvers::http01::SolverName(ch) + " is Ready",
                 ch.metadata.generation);
  }
  auto ready = pod.ok() ? Result<bool>(pod_ready) : Result<bool>(pod.status());
  if (*created || !ready.ok() || !*ready) {
    // While a Pod this process created starts (kSolverStartQuiet), its wait is not written:
    // its readiness wakes this Challenge, whose next sync tells the CA and writes presented
    // with processing in one status write (a Pod still not Ready after that has its wait
    // written). A restart before that finds the objects by their AlreadyExists.
    const bool starting =
        (first_presentation && *created) || (created_at && now - *created_at < kSolverStartQuiet);
    if (starting && ready.ok() && !*ready) return SyncResult::After(kSolverReadyPoll);
    const std::string solver = solvers::http01::SolverName(ch);
    ch.status.reason = ready.ok() && *ready
                           ? "waiting for the ingress controller to route to the new solver " +
                                 solver + " before asking the CA to validate"
                           : "waiting for solver Pod " + solver +
                                 " to be Ready before asking the CA to validate";
    return Write(obj, ch, SyncResult::After(kSolverReadyPoll));
  }
  const bool self_check = ctx_.http_get && !ch.spec.solver.http01->skip_self_check;
  if (self_check) {
    const std::string url =
        "http://" + ch.spec.dns_name + solvers::http01::ChallengePath(ch);
    auto body = ctx_.http_get(url);
    if (!body.ok() || Trim(*body) != ch.spec.key) {
      ch.status.reason = "self check of " + url + " failed: " +
                         (body.ok() ? "wrong content" : ErrorText(body.status()));
      return Write(obj, ch, SyncResult::After(kWaitDelay));
    }
  }
  return Respond(obj, std::move(ch), **acme);
}

SyncResult ChallengeReconciler::Respond(const Json& obj, api::Challenge ch,
                                        acme::AcmeClient& acme) {
  auto responded = acme.RespondToChallenge(ch.spec.url);
  if (!responded.ok()) {
    // A CA refuses a second answer ("Cannot update challenge with status valid"), and one may be
    // due: a controller killed before the status write below, or a lost reply to an accepted
    // POST. The CA's record decides: past pending, Poll reads the outcome; pending, it failed.
    auto authz = acme.GetAuthorization(ch.spec.authorization_url, 0);
    if (!authz.ok()) {
      return SyncResult::Error(responded.status().WithContext("accepting the challenge"));
    }
    if (AnsweredAtCa(*authz, ch.spec.url)) return Accepted(obj, std::move(ch), Duration::zero());
    auto problem = acme::ProblemFromStatus(responded.status());
    if (problem && !acme::IsRetryable(*problem)) {
      return Finish(obj, std::move(ch), api::OrderState::kInvalid, problem->Summary());
    }
    return SyncResult::Error(responded.status().WithContext("accepting the challenge"));
  }
  return Accepted(obj, std::move(ch), std::chrono::seconds(1));
}

// The solver Pod cannot run: the Challenge says why (condition SolverReady, reason, a Warning
// event when that changes), in the Pod's words. A Failed Pod never runs again: it is deleted and
// replaced after a backoff that grows with each failure. A container the kubelet keeps retrying
// (image pull, crash loop) is left to it and looked at again.
SyncResult ChallengeReconciler::SolverPodFailed(const Json& obj, api::Challenge ch,
                                                const solvers::http01::SolverPodState& pod) {
  const std::string solver = solvers::http01::SolverName(ch);
  std::string why =
      "solver Pod " + solver + (pod.failed ? " failed" : " cannot run") + " (" + pod.reason + ")";
  if (!pod.message.empty()) why += ": " + log::Sanitize(pod.message, 512);
  Duration wait = kWaitDelay;
  if (pod.failed) {
    Status deleted = solvers::http01::DeleteSolverPod(*ctx_.client, ch);
    if (!deleted.ok()) return SyncResult::Error(deleted.WithContext("replacing the solver Pod"));
    ch.status.solver_pod_failures += 1;
    wait = Backoff(ch.status.solver_pod_failures, kSolverRetryBase, kSolverRetryCap);
    ch.status.solver_retry_time = ctx_.clock->Now() + wait;
  }
  const bool changed =
      SetCondition(ctx_, &ch.status.conditions, api::kConditionSolverReady,
                   api::ConditionStatus::kFalse, pod.reason, why, ch.metadata.generation);
  // Each failed Pod is a new failure; a waiting container is reported once per reason.
  if (changed || pod.failed) Event(ctx_, obj, kube::kEventWarning, "SolverPodFailed", why);
  log::Warn("solver Pod cannot run", {{"challenge", kube::ObjectKey(obj)}, {"reason", pod.reason}});
  ch.status.reason =
      pod.failed
          ? why + "; replacing it in " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) + "s"
          : why;
  return Write(obj, ch, SyncResult::After(wait));
}

SyncResult ChallengeReconciler::RouteProblem(const Json& obj, api::Challenge ch,
                                             const std::string& event_reason,
                                             const std::string& reason, const std::string& message,
                                             Duration wait) {
  const bool changed =
      SetCondition(ctx_, &ch.status.conditions, api::kConditionSolverReady,
                   api::ConditionStatus::kFalse, reason, message, ch.metadata.generation);
  if (changed) Event(ctx_, obj, kube::kEventWarning, event_reason, message);
  if (changed) {
    log::Warn("http-01 HTTPRoute solver cannot be used",
              {{"challenge", kube::ObjectKey(obj)}, {"reason", reason}});
  }
  ch.status.reason = message;
  return Write(obj, ch, SyncResult::After(wait));
}

SyncResult ChallengeReconciler::Accepted(const Json& obj, api::Challenge ch, Duration poll_in) {
  ch.status.processing = true;
  ch.status.state = api::OrderState::kPending;
  ch.status.reason = "Waiting for " + ch.spec.type + " challenge propagation/validation";
  return Write(obj, ch, SyncResult::After(poll_in));
}

SyncResult ChallengeReconciler::Poll(const Json& obj, api::Challenge ch) {
  // After a restart: an http-01 solver is presented, count it.
  if (ch.spec.type == "http-01") Acquire(kube::ObjectKey(obj));
  auto acme = AcmeClientFor(ctx_, ch.spec.issuer_ref, ch.metadata.namespace_);
  if (!acme.ok()) return SyncResult::After(kWaitDelay);
  auto authz = (*acme)->GetAuthorization(ch.spec.authorization_url, 0);
  if (!authz.ok()) {
    if (authz.status().retry_after()) return SyncResult::After(*authz.status().retry_after());
    return SyncResult::Error(authz.status());
  }
  const acme::Challenge* remote = nullptr;
  for (const acme::Challenge& c : authz->challenges) {
    if (c.url == ch.spec.url) remote = &c;
  }
  if (authz->status == acme::AuthorizationStatus::kValid ||
      (remote && remote->status == acme::ChallengeStatus::kValid)) {
    return Finish(obj, std::move(ch), api::OrderState::kValid, "Successfully authorized domain");
  }
  if (authz->status != acme::AuthorizationStatus::kPending ||
      (remote && remote->status == acme::ChallengeStatus::kInvalid)) {
    std::string reason = remote && remote->error ? remote->error->Summary()
                                                 : std::string("authorization is ") +
                                                       acme::ToString(authz->status);
    return Finish(obj, std::move(ch), api::OrderState::kInvalid, reason);
  }
  const auto now = ctx_.clock->Now();
  Duration wait = authz->next_poll > now ? Duration(authz->next_poll - now) : Duration::zero();
  return SyncResult::After(std::clamp<Duration>(wait, std::chrono::milliseconds(500), kPollCap));
}

SyncResult ChallengeReconciler::Finish(const Json& obj, api::Challenge ch, api::OrderState state,
                                       const std::string& reason) {
  if (ch.spec.type == "dns-01") return FinishDns01(obj, std::move(ch), state, reason);
  if (ch.spec.type == "http-01" && HasSolverToCleanUp(ch)) {
    Status s = solvers::http01::CleanUp(*ctx_.client, ch);
    if (!s.ok()) return SyncResult::Error(s.WithContext("cleaning up the http-01 solver"));
  }
  Release(kube::ObjectKey(obj));
  const bool changed = ch.status.state != state;
  ch.status.state = state;
  ch.status.reason = reason;
  ch.status.presented = false;
  ch.status.processing = false;
  if (changed && state != api::OrderState::kValid) {
    Event(ctx_, obj, kube::kEventWarning, "Failed", reason);
  }
  return Write(obj, ch, SyncResult::Done());
}

SyncResult ChallengeReconciler::Delete(const Json& obj, const api::Challenge& ch) {
  if (ch.spec.type == "dns-01") {
    SyncResult cleaned = DeleteDns01(obj, ch);
    if (!cleaned.status.ok() || cleaned.requeue_after) return cleaned;
  }
  if (ch.spec.type == "http-01" && HasSolverToCleanUp(ch)) {
    Status s = solvers::http01::CleanUp(*ctx_.client, ch);
    if (!s.ok()) return SyncResult::Error(s.WithContext("cleaning up the http-01 solver"));
  }
  Release(kube::ObjectKey(obj));
  if (!HasFinalizer(obj)) return SyncResult::Done();
  // The garbage collector writes a Challenge being deleted too (in a foreground deletion it
  // removes foregroundDeletion once the solver objects deleted above are gone), so the copy
  // read at the start of this sync is often stale by now: re-read and retry on conflict rather
  // than fail the sync and log it.
  Json current = obj;
  Status removed = kube::RetryOnConflict([&]() -> Status {
    if (!HasFinalizer(current)) return Status::Ok();
    Json updated = current;
    Json kept = Json::array();
    for (const Json& f : current["metadata"]["finalizers"]) {
      if (f != kChallengeFinalizer) kept.push_back(f);
    }
    updated["metadata"]["finalizers"] = kept;
    auto r = ctx_.client->Update(api::kChallenges, ch.metadata.namespace_, updated);
    if (r.ok() || kube::IsNotFound(r.status())) return Status::Ok();
    if (r.status().code() != ErrorCode::kConflict) return r.status();
    auto fresh = ctx_.client->Get(api::kChallenges, ch.metadata.namespace_, ch.metadata.name);
    if (!fresh.ok()) return kube::IsNotFound(fresh.status()) ? Status::Ok() : fresh.status();
    current = std::move(fresh).value();
    return r.status();
  });
  if (!removed.ok()) return SyncResult::Error(removed.WithContext("removing the finalizer"));
  return SyncResult::Done();
}

SyncResult ChallengeReconciler::Write(const Json& obj, const api::Challenge& ch, SyncResult then) {
  auto w = WriteStatus(ctx_, api::kChallenges, obj, ch.status.ToJson());
  // NotFound: deleted during this sync; the solver objects it owns go with it.
  if (!w.ok()) return kube::IsNotFound(w.status()) ? SyncResult::Done() : SyncResult::Error(w.status());
  return then;
}

}  // namespace certsmith::reconcilers
