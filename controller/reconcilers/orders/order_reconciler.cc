#include "orders/order_reconciler.h"

#include <algorithm>
#include <tuple>

#include "acme/identifier.h"
#include "acme/jws.h"
#include "acme/problem.h"
#include "api/challenge.h"
#include "api/naming.h"
#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "challenges/challenge_reconciler.h"
#include "kube/errors.h"
#include "orders/solver_selection.h"
#include "reconcilers/util.h"

namespace certsmith::reconcilers {
namespace {

// Pending authorizations are looked at again this often even when no Challenge changed.
constexpr auto kPendingRecheck = std::chrono::seconds(10);
constexpr auto kIssuerNotReadyDelay = std::chrono::seconds(5);
// How long deactivating a removed Order's authorizations may take in all (RFC 8555 §7.5.2;
// best effort: Let's Encrypt limits pending authorizations per account, they expire anyway).
constexpr auto kDeactivationBudget = std::chrono::seconds(20);
// A finalized Order the CA says to look at again within this long is not written "processing".
constexpr auto kBriefProcessing = std::chrono::seconds(5);

api::OrderState StateOf(acme::OrderStatus s) {
  switch (s) {
    case acme::OrderStatus::kPending:
      return api::OrderState::kPending;
    case acme::OrderStatus::kReady:
      return api::OrderState::kReady;
    case acme::OrderStatus::kProcessing:
      return api::OrderState::kProcessing;
    case acme::OrderStatus::kValid:
      return api::OrderState::kValid;
    case acme::OrderStatus::kInvalid:
      return api::OrderState::kInvalid;
    default:
      return api::OrderState::kUnknown;
  }
}

Duration Until(Clock::TimePoint t, Clock::TimePoint now, Duration cap) {
  Duration d = t > now ? Duration(t - now) : Duration::zero();
  return std::min(d, cap);
}

// The first failed challenge's problem in an authorization, in the CA's words.
std::string AuthorizationProblem(const acme::Authorization& authz) {
  for (const acme::Challenge& c : authz.challenges) {
    if (c.error) return c.error->Summary();
  }
  return "authorization for " + authz.identifier.value + " is " + acme::ToString(authz.status);
}

}  // namespace

void OrderReconciler::Deleted(const Json& obj) {
  auto order = api::Order::FromJson(obj);
  if (!order.ok() || order->status.url.empty()) return;     // never reached the CA
  if (api::IsFinalOrderState(order->status.state)) return;  // nothing left pending there
  Abandoned abandoned{order->spec.issuer_ref, order->metadata.namespace_, {}};
  for (const api::AuthorizationStatus& a : order->status.authorizations) {
    // Pre-validated (valid from the start) authorizations are the CA's to keep: reusable.
    if (a.initial_state == "pending") abandoned.authorizations.push_back(a.url);
  }
  if (abandoned.authorizations.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  abandoned_[kube::ObjectKey(obj)] = std::move(abandoned);
}

size_t OrderReconciler::AbandonedForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return abandoned_.size();
}

SyncResult OrderReconciler::DeactivateAbandoned(const std::string& key) {
  Abandoned abandoned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = abandoned_.find(key);
    if (it == abandoned_.end()) return SyncResult::Done();
    abandoned = std::move(it->second);
    abandoned_.erase(it);  // once: a CA that does not answer is not asked again
  }
  auto acme = AcmeClientFor(ctx_, abandoned.issuer_ref, abandoned.ns);
  if (!acme.ok()) return SyncResult::Done();  // the issuer went too: nothing to ask with
  // A budget of wall time (a duration, not the injected clock): with a CA that hangs, a worker
  // is held for at most about this plus one request's timeout.
  const auto started = std::chrono::steady_clock::now();
  int deactivated = 0;
  for (const std::string& url : abandoned.authorizations) {
    if (std::chrono::steady_clock::now() - started > kDeactivationBudget) {
      log::Warn("order: deactivation budget spent", {{"order", key}});
      break;
    }
    auto authz = (*acme)->GetAuthorization(url, 0);
    if (!authz.ok()) {
      log::Warn("order: reading an abandoned authorization failed",
                {{"order", key}, {"error", ErrorText(authz.status())}});
      continue;
    }
    if (authz->status != acme::AuthorizationStatus::kPending) continue;
    auto done = (*acme)->DeactivateAuthorization(url);
    if (!done.ok()) {
      log::Warn("order: deactivating an abandoned authorization failed",
                {{"order", key}, {"error", ErrorText(done.status())}});
      continue;
    }
    ++deactivated;
  }
  if (deactivated > 0) {
    log::Info("order removed: pending authorizations deactivated at the CA",
              {{"order", key}, {"count", std::to_string(deactivated)}});
  }
  return SyncResult::Done();
}

SyncResult OrderReconciler::Sync(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  auto got = ctx_.client->Get(api::kOrders, ns, name);
  if (!got.ok()) {
    if (kube::IsNotFound(got.status())) return DeactivateAbandoned(key);
    return SyncResult::Error(got.status());
  }
  const Json& obj = *got;
  // Being deleted (its Certificate went, in the foreground): no new Challenges or CA calls for
  // it; the garbage collector removes its Challenges, whose finalizer cleans up the solvers.
  if (obj["metadata"].contains("deletionTimestamp")) return SyncResult::Done();
  auto parsed = api::Order::FromJson(obj);
  if (!parsed.ok()) {
    log::Warn("invalid Order", {{"order", key}, {"error", parsed.status().message()}});
    return SyncResult::Done();
  }
  api::Order order = std::move(parsed).value();
  if (api::IsFinalOrderState(order.status.state)) return SyncResult::Done();
  auto issuer = GetIssuer(ctx_, order.spec.issuer_ref, ns);
  auto acme = AcmeClientFor(ctx_, order.spec.issuer_ref, ns);
  if (!issuer.ok() || !acme.ok()) return SyncResult::After(kIssuerNotReadyDelay);
  if (order.status.url.empty()) return Create(obj, std::move(order), **acme, *issuer);
  return Drive(obj, std::move(order), **acme, *issuer);
}

SyncResult OrderReconciler::Create(const Json& obj, api::Order order, acme::AcmeClient& acme,
                                   const api::Issuer& issuer) {
  acme::NewOrderRequest request;
  for (const std::string& n : order.spec.dns_names)
    request.identifiers.push_back(acme::DnsIdentifier(n));
  for (const std::string& ip : order.spec.ip_addresses) {
    auto id = acme::IpIdentifier(ip);
    if (!id.ok())
      return Terminal(obj, std::move(order), api::OrderState::kErrored, id.status().message());
    request.identifiers.push_back(*id);
  }
  // An order at the CA is not undone by deleting ours: ask the API server itself that the Order
  // and its Certificate are still there (a cache can be a moment behind the garbage collector).
  auto wanted = StillWanted(ctx_, api::kOrders, obj, &api::kCertificates);
  if (!wanted.ok()) return SyncResult::Error(wanted.status());
  if (!*wanted) return SyncResult::Done();
  // RFC 9773 §5: the certificate this order renews, when the CA's window asked for it.
  request.replaces = order.spec.replaces;
  // draft-aaron-acme-profiles, as Let's Encrypt offers them.
  request.profile = issuer.spec.acme.profile;
  // cert-manager's enableDurationFeature: the requested lifetime as notBefore/notAfter (§7.4).
  if (issuer.spec.acme.enable_duration_feature && order.spec.duration) {
    const auto now = std::chrono::floor<std::chrono::seconds>(ctx_.clock->Now());
    request.not_before = now;
    request.not_after =
        now + std::chrono::duration_cast<std::chrono::seconds>(*order.spec.duration);
  }
  auto remote = acme.NewOrder(request);
  if (!remote.ok() && !request.replaces.empty()) {
    // RFC 9773 §5: a CA refuses "replaces" for a certificate already replaced (or one it does
    // not know); the renewal must still happen, so order again without it.
    auto problem = acme::ProblemFromStatus(remote.status());
    if (problem && (problem->type == "urn:ietf:params:acme:error:alreadyReplaced" ||
                    problem->type == "urn:ietf:params:acme:error:conflict")) {
      Event(ctx_, obj, kube::kEventNormal, "ReplacesRefused",
            "The CA refused to mark the order as replacing " + request.replaces + " (" +
                problem->Summary() + "); ordering without it");
      request.replaces.clear();
      remote = acme.NewOrder(request);
    }
  }
  if (!remote.ok()) return AcmeError(obj, std::move(order), remote.status(), "creating the order");
  // Stored at once: a crash after this finds the order again instead of ordering twice.
  order.status.url = remote->url;
  order.status.finalize_url = remote->finalize;
  order.status.state = StateOf(remote->status);
  Event(ctx_, obj, kube::kEventNormal, "Created", "Created ACME order " + remote->url);
  return Write(obj, order, SyncResult::After(Duration::zero()));
}

SyncResult OrderReconciler::Drive(const Json& obj, api::Order order, acme::AcmeClient& acme,
                                  const api::Issuer& issuer) {
  const auto now = ctx_.clock->Now();
  const Duration cap = issuer.spec.acme.max_poll_interval.value_or(ctx_.options.max_poll_interval);
  auto remote = acme.GetOrder(order.status.url, static_cast<int>(order.status.poll_attempts));
  if (!remote.ok()) return AcmeError(obj, std::move(order), remote.status(), "fetching the order");
  order.status.state = StateOf(remote->status);
  // A pending Order's reason (a Challenge's problem) is worked out again in Authorizations.
  if (remote->status != acme::OrderStatus::kPending) order.status.reason.clear();
  switch (remote->status) {
    case acme::OrderStatus::kPending:
      return Authorizations(obj, std::move(order), *remote, acme, issuer);
    case acme::OrderStatus::kReady: {
      auto csr = Base64DecodeLenient(order.spec.request);
      if (!csr.ok())
        return Terminal(obj, std::move(order), api::OrderState::kErrored,
                        "spec.request is not base64");
      auto finalized = acme.Finalize(*remote, *csr);
      if (!finalized.ok())
        return AcmeError(obj, std::move(order), finalized.status(), "finalizing");
      order.status.state = StateOf(finalized->status);
      order.status.next_poll_time = finalized->next_poll;
      if (finalized->status == acme::OrderStatus::kInvalid) {
        return Terminal(obj, std::move(order), api::OrderState::kInvalid,
                        finalized->error ? finalized->error->Summary() : "order became invalid");
      }
      // Some CAs issue during the finalize request. Recording "valid" without the certificate
      // would end the Order (valid is final) with nothing to install.
      if (finalized->status == acme::OrderStatus::kValid) {
        return Download(obj, std::move(order), *finalized, acme, issuer);
      }
      // Most CAs (Let's Encrypt, Pebble) issue within a second or two of finalize: "processing"
      // is written only when the CA asks for a longer wait. Otherwise the next look writes the
      // outcome (valid with the certificate) in one status write instead of two. Nothing is
      // lost by not storing it: the URL is stored, and the CA's answer to that look decides.
      const Duration wait = Until(finalized->next_poll, now, cap);
      if (wait <= kBriefProcessing) return SyncResult::After(wait);
      return Write(obj, order, SyncResult::After(wait));
    }
    case acme::OrderStatus::kProcessing:
      // Slow CAs (Sectigo, ZeroSSL) can stay here for minutes: poll at next_poll, capped.
      order.status.poll_attempts += 1;
      order.status.last_poll_time = now;
      order.status.next_poll_time = remote->next_poll;
      return Write(obj, order, SyncResult::After(Until(remote->next_poll, now, cap)));
    case acme::OrderStatus::kValid:
      return Download(obj, std::move(order), *remote, acme, issuer);
    case acme::OrderStatus::kInvalid: {
      std::string reason = remote->error ? remote->error->Summary() : "";
      for (const std::string& url : remote->authorizations) {
        if (!reason.empty()) break;
        auto authz = acme.GetAuthorization(url, 0);
        if (authz.ok() && authz->status == acme::AuthorizationStatus::kInvalid) {
          reason = AuthorizationProblem(*authz);
        }
      }
      return Terminal(obj, std::move(order), api::OrderState::kInvalid,
                      reason.empty() ? "the CA marked the order invalid" : reason);
    }
    default:
      return Terminal(obj, std::move(order), api::OrderState::kErrored,
                      "the CA reported an unknown order status");
  }
}

SyncResult OrderReconciler::Authorizations(const Json& obj, api::Order order,
                                           const acme::Order& remote, acme::AcmeClient& acme,
                                           const api::Issuer& issuer) {
  const std::string ns = order.metadata.namespace_;
  api::StringMap cert_labels;
  auto owner_name = order.metadata.labels.find(api::kCertificateNameLabel);
  if (owner_name != order.metadata.labels.end()) {
    auto cert = ctx_.client->Get(api::kCertificates, ns, owner_name->second);
    if (cert.ok()) {
      const Json labels = (*cert)["metadata"].value("labels", Json::object());
      for (auto it = labels.begin(); it != labels.end(); ++it) {
        if (it->is_string()) cert_labels[it.key()] = it->get<std::string>();
      }
    }
  }
  std::vector<api::AuthorizationStatus> authorizations;
  std::vector<std::string> problems;
  for (const std::string& url : remote.authorizations) {
    auto authz = acme.GetAuthorization(url, 0);
    if (!authz.ok())
      return AcmeError(obj, std::move(order), authz.status(), "fetching an authorization");
    api::AuthorizationStatus as;
    as.url = url;
    as.identifier = authz->identifier.value;
    as.wildcard = authz->wildcard;
    as.initial_state = acme::ToString(authz->status);
    for (const acme::Challenge& c : authz->challenges)
      as.challenges.push_back({c.url, c.type, c.token});
    // CAs may list challenges in any order (Pebble shuffles them on every fetch): sorted, an
    // unchanged authorization writes no new status on the next look.
    std::sort(as.challenges.begin(), as.challenges.end(),
              [](const api::ChallengeRef& a, const api::ChallengeRef& b) {
                return std::tie(a.type, a.url) < std::tie(b.type, b.url);
              });
    authorizations.push_back(as);
    if (authz->status == acme::AuthorizationStatus::kValid) continue;  // pre-validated
    if (authz->status != acme::AuthorizationStatus::kPending) {
      order.status.authorizations = authorizations;
      return Terminal(obj, std::move(order), api::OrderState::kInvalid,
                      AuthorizationProblem(*authz));
    }
    const std::string name = (authz->wildcard ? "*." : "") + authz->identifier.value;
    std::vector<std::string> offered_types;
    for (const acme::Challenge& c : authz->challenges) offered_types.push_back(c.type);
    const SolverChoice choice =
        SelectSolver(issuer.spec.acme.solvers, name, cert_labels, offered_types);
    if (choice.solver == nullptr) {
      return Terminal(obj, std::move(order), api::OrderState::kErrored,
                      "no solver of issuer " + issuer.metadata.name + " can answer " + name + ": " +
                          choice.reason);
    }
    const api::AcmeSolver* solver = choice.solver;
    const std::string type = solver->http01 ? "http-01" : "dns-01";
    const acme::Challenge* offered = authz->FindChallenge(type);
    if (offered == nullptr) {
      return Terminal(obj, std::move(order), api::OrderState::kErrored,
                      "the CA offers no " + type + " challenge for " + name);
    }
    const std::string ch_name = api::ChallengeName(order.metadata.name, url, type);
    auto existing = ctx_.client->Get(api::kChallenges, ns, ch_name);
    if (existing.ok()) {
      const Json& st = existing->value("status", Json::object());
      const std::string state = st.value("state", "");
      if (state == "invalid" || state == "errored") {
        return Terminal(obj, std::move(order), api::OrderState::kInvalid,
                        "challenge " + ch_name + " failed: " + st.value("reason", ""));
      }
      // A challenge that needs a person (a refused DNS update, an unreachable server) is said
      // on the Order too, and from there on its Certificate.
      if (auto parsed = api::Challenge::FromJson(*existing); parsed.ok()) {
        if (std::string problem = api::ChallengeProblem(parsed->status); !problem.empty()) {
          problems.push_back("challenge " + ch_name + " for " + name + ": " + problem);
        }
      }
      continue;
    }
    if (!kube::IsNotFound(existing.status())) return SyncResult::Error(existing.status());
    api::Challenge ch;
    ch.metadata.name = ch_name;
    ch.metadata.namespace_ = ns;
    ch.metadata.labels = order.metadata.labels;
    ch.spec.url = offered->url;
    ch.spec.authorization_url = url;
    ch.spec.dns_name = authz->identifier.value;
    ch.spec.wildcard = authz->wildcard;
    ch.spec.type = type;
    ch.spec.token = offered->token;
    const std::string key_auth = acme.KeyAuthorization(offered->token);
    ch.spec.key = type == "dns-01" ? acme::Dns01TxtValue(key_auth) : key_auth;
    ch.spec.solver = *solver;
    ch.spec.solver_selection = choice.reason;
    ch.spec.issuer_ref = order.spec.issuer_ref;
    Json cj = ch.ToJson();
    cj.erase("status");
    cj["metadata"]["ownerReferences"] = Json::array({OwnerReference(obj)});
    // Created with the finalizer the Challenge reconciler needs (it cleans up the solver before
    // the Challenge goes): one write instead of a create and an update that adds it.
    cj["metadata"]["finalizers"] = Json::array({kChallengeFinalizer});
    auto created = ctx_.client->Create(api::kChallenges, ns, cj);
    if (!created.ok() && !kube::IsAlreadyExists(created.status())) {
      return SyncResult::Error(created.status());
    }
  }
  order.status.authorizations = authorizations;
  // While pending, reason says what holds the order up (empty when nothing needs a person).
  order.status.reason.clear();
  for (const std::string& p : problems) {
    order.status.reason += (order.status.reason.empty() ? "" : "; ") + p;
  }
  return Write(obj, order, SyncResult::After(kPendingRecheck));
}

SyncResult OrderReconciler::Download(const Json& obj, api::Order order, const acme::Order& remote,
                                     acme::AcmeClient& acme, const api::Issuer& issuer) {
  auto chain = acme.DownloadPreferredChain(remote.certificate, issuer.spec.acme.preferred_chain);
  if (!chain.ok())
    return AcmeError(obj, std::move(order), chain.status(), "downloading the certificate");
  order.status.state = api::OrderState::kValid;
  order.status.certificate = Base64Encode(chain->pem);
  Event(ctx_, obj, kube::kEventNormal, "Complete", "Order completed successfully");
  return Write(obj, order, SyncResult::Done());
}

SyncResult OrderReconciler::Terminal(const Json& obj, api::Order order, api::OrderState state,
                                     const std::string& reason) {
  order.status.state = state;
  order.status.reason = reason;
  order.status.failure_time = ctx_.clock->Now();
  Event(ctx_, obj, kube::kEventWarning, "Failed", reason);
  log::Warn("order failed", {{"order", kube::ObjectKey(obj)}, {"reason", reason}});
  return Write(obj, order, SyncResult::Done());
}

SyncResult OrderReconciler::AcmeError(const Json& obj, api::Order order, const Status& error,
                                      const std::string& what) {
  auto problem = acme::ProblemFromStatus(error);
  if (problem && !acme::IsRetryable(*problem)) {
    return Terminal(obj, std::move(order), api::OrderState::kInvalid, problem->Summary());
  }
  log::Warn("order: retrying",
            {{"order", kube::ObjectKey(obj)}, {"step", what}, {"error", ErrorText(error)}});
  if (error.retry_after()) return SyncResult::After(*error.retry_after());
  return SyncResult::Error(error.WithContext(what));
}

SyncResult OrderReconciler::Write(const Json& obj, const api::Order& order, SyncResult then) {
  auto w = WriteStatus(ctx_, api::kOrders, obj, order.status.ToJson());
  // NotFound: deleted during this sync (with its Certificate); nothing left to record or retry.
  if (!w.ok())
    return kube::IsNotFound(w.status()) ? SyncResult::Done() : SyncResult::Error(w.status());
  return then;
}

}  // namespace certsmith::reconcilers
