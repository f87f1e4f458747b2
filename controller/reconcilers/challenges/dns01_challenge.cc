// The dns-01 half of the Challenge reconciler (RFC 8555 §8.4). Each sync takes one step:
//   1. find where the record goes (CNAME following with cnameStrategy Follow, then the zone) and
//      write it in status.dns01 before anything changes in the DNS, so a deletion or a restarted
//      controller removes the value exactly there;
//   2. present the value (rfc2136 or webhook);
//   3. one round of propagation queries; not visible everywhere: a delayed requeue of
//      NextCheckDelay(rounds), with the servers and the values they showed in status;
//   4. tell the CA (Respond), then Poll as for http-01;
// and on every end (valid, invalid, errored, deletion) remove the value. A step that fails in a
// way only a person can fix sets Ready=False with a reason of api::ChallengeProblem (repeated by
// the Order and the Certificate), records a Warning event when the message is new, and is tried
// again with backoff. No step sleeps.
#include <algorithm>

#include "api/resources.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "challenges/challenge_reconciler.h"
#include "kube/errors.h"
#include "reconcilers/util.h"
#include "solvers/dns01/dns_client.h"
#include "solvers/dns01/propagation.h"
#include "solvers/dns01/rfc2136_provider.h"
#include "solvers/dns01/webhook_provider.h"
#include "solvers/dns01/zone_lookup.h"

namespace certsmith::reconcilers {
namespace {

namespace dns01 = solvers::dns01;

constexpr auto kProblemBackoffBase = std::chrono::seconds(5);
constexpr auto kProblemBackoffCap = std::chrono::minutes(5);
constexpr auto kAccountWait = std::chrono::seconds(5);
constexpr char kDefaultTsigSecretKey[] = "secret";

// Where the issuer's Secrets live, which is also the webhook's resourceNamespace (cert-manager
// sends the cluster resource namespace for ClusterIssuers).
std::string SecretNamespace(const Context& ctx, const api::Challenge& ch) {
  return ch.spec.issuer_ref.IsClusterIssuer() ? ctx.options.cluster_resource_namespace
                                              : ch.metadata.namespace_;
}

Result<dns01::LookupServers> LookupFor(const Context& ctx, const api::Dns01Solver& s) {
  const std::vector<std::string>& texts = !s.nameservers.empty() ? s.nameservers
                                          : !ctx.options.dns01_recursive_nameservers.empty()
                                              ? ctx.options.dns01_recursive_nameservers
                                              : ctx.dns01_system_nameservers;
  ASSIGN_OR_RETURN(std::vector<dns01::Nameserver> servers, dns01::ParseNameservers(texts));
  return dns01::LookupServers{std::move(servers), true};
}

dns01::PropagationConfig PropagationFor(const Context& ctx, const api::Dns01Solver& s,
                                        dns01::LookupServers lookup) {
  dns01::PropagationConfig config;
  config.lookup = std::move(lookup);
  config.only_lookup_servers =
      !s.nameservers.empty() || ctx.options.dns01_recursive_nameservers_only;
  return config;
}

Result<dns01::TsigKey> ReadTsigKey(Context& ctx, const api::Challenge& ch,
                                   const api::Rfc2136Solver& r) {
  ASSIGN_OR_RETURN(dns01::TsigAlgorithm algorithm, dns01::ParseTsigAlgorithm(r.tsig_algorithm));
  const std::string ns = SecretNamespace(ctx, ch);
  const std::string key =
      r.tsig_secret_secret_ref.key.empty() ? kDefaultTsigSecretKey : r.tsig_secret_secret_ref.key;
  const std::string where = "Secret " + ns + "/" + r.tsig_secret_secret_ref.name;
  auto secret = ctx.client->Get(kube::kSecrets, ns, r.tsig_secret_secret_ref.name);
  if (!secret.ok()) {
    return secret.status().WithContext("reading the TSIG secret from " + where);
  }
  const Json data = secret->value("data", Json::object());
  if (!data.contains(key) || !data[key].is_string()) {
    return MakeError(ErrorCode::kNotFound,
                     where + " has no key \"" + key + "\" (tsigSecretSecretRef.key)");
  }
  auto text = Base64DecodeLenient(data[key].get<std::string>());
  if (!text.ok()) return MakeError(ErrorCode::kInvalidArgument, where + ": data is not base64");
  auto made = dns01::MakeTsigKey(r.tsig_key_name, algorithm, *text);
  if (!made.ok()) return made.status().WithContext(where + " key \"" + key + "\"");
  return made;
}

Result<std::unique_ptr<dns01::Provider>> MakeProvider(Context& ctx, const api::Challenge& ch) {
  const api::Dns01Solver& s = *ch.spec.solver.dns01;
  if (s.rfc2136) {
    dns01::Rfc2136Config config;
    ASSIGN_OR_RETURN(config.server, dns01::ParseNameserver(s.rfc2136->nameserver));
    config.transport =
        s.rfc2136->protocol == "TCP" ? dns01::Transport::kTcp : dns01::Transport::kUdp;
    if (!s.rfc2136->tsig_key_name.empty()) {
      ASSIGN_OR_RETURN(config.tsig, ReadTsigKey(ctx, ch, *s.rfc2136));
    }
    return std::unique_ptr<dns01::Provider>(
        std::make_unique<dns01::Rfc2136Provider>(*ctx.dns, std::move(config)));
  }
  const api::WebhookSolver& w = *s.webhook;
  std::unique_ptr<dns01::WebhookTransport> transport;
  if (!w.url.empty()) {
    TlsOptions tls;
    if (!w.ca_bundle.empty()) {
      ASSIGN_OR_RETURN(tls.ca_pem, Base64DecodeLenient(w.ca_bundle));
      tls.ca_only = true;  // a provider's own CA vouches for it, not the public ones
    }
    if (!ctx.https_transport) {
      return MakeError(ErrorCode::kFailedPrecondition, "no HTTPS transport for webhook url");
    }
    ASSIGN_OR_RETURN(std::shared_ptr<HttpTransport> http, ctx.https_transport(tls));
    transport = std::make_unique<dns01::HttpsWebhookTransport>(std::move(http), w.url);
  } else {
    transport = std::make_unique<dns01::AggregatedWebhookTransport>(*ctx.client, w.group_name,
                                                                    w.solver_name);
  }
  return std::unique_ptr<dns01::Provider>(
      std::make_unique<dns01::WebhookProvider>(std::move(transport), w.config));
}

dns01::ChallengeRecord RecordFor(const Context& ctx, const api::Challenge& ch) {
  dns01::ChallengeRecord r;
  r.uid = ch.metadata.uid;
  r.dns_name = ch.spec.dns_name;
  r.fqdn = ch.status.dns01->resolved_fqdn;
  r.zone = ch.status.dns01->resolved_zone;
  r.value = ch.spec.key;
  r.resource_namespace = SecretNamespace(ctx, ch);
  return r;
}

std::string Seconds(std::chrono::seconds d) { return std::to_string(d.count()) + "s"; }

// "TXT _acme-challenge.a.example. in zone example." (with the value: public, and what a person
// looks for in the zone).
std::string RecordText(const api::Challenge& ch) {
  return "TXT \"" + ch.spec.key + "\" at " + ch.status.dns01->resolved_fqdn + " in zone " +
         ch.status.dns01->resolved_zone;
}

void SetReady(Context& ctx, api::Challenge* ch, api::ConditionStatus status,
              const std::string& reason, const std::string& message) {
  SetCondition(ctx, &ch->status.conditions, api::kConditionReady, status, reason, message,
               ch->metadata.generation);
}

// The Order this Challenge belongs to has ended (the CA gave up on the authorization, or a new
// Order replaced it): retrying a failing step is pointless then.
std::optional<std::string> OrderEnded(Context& ctx, const Json& obj) {
  for (const Json& ref : obj["metadata"].value("ownerReferences", Json::array())) {
    if (ref.value("kind", "") != api::kOrders.kind) continue;
    auto order = ctx.client->Get(api::kOrders, kube::GetNamespace(obj), ref.value("name", ""));
    if (!order.ok()) continue;
    const std::string state = order->value("status", Json::object()).value("state", "");
    auto parsed = api::ParseOrderState(state);
    if (parsed && api::IsFinalOrderState(*parsed)) {
      return "Order " + ref.value("name", "") + " is " + state;
    }
  }
  return std::nullopt;
}

}  // namespace

SyncResult ChallengeReconciler::SyncDns01(const Json& obj, api::Challenge ch) {
  if (ch.status.processing) return Poll(obj, std::move(ch));
  if (!ch.status.dns01) ch.status.dns01.emplace();
  api::Dns01ChallengeStatus& st = *ch.status.dns01;
  if (st.failures > 0) {
    if (auto ended = OrderEnded(ctx_, obj)) {
      return FinishDns01(obj, std::move(ch), api::OrderState::kErrored,
                         *ended + "; last error: " + ch.status.reason);
    }
  }
  if (ctx_.dns == nullptr) {
    return Dns01Problem(obj, std::move(ch), api::kChallengeLookupError,
                        "this controller has no DNS client");
  }
  const api::Dns01Solver& solver = *ch.spec.solver.dns01;
  auto lookup = LookupFor(ctx_, solver);
  if (!lookup.ok()) {
    return Dns01Problem(obj, std::move(ch), api::kChallengeLookupError,
                        "nameservers: " + lookup.status().message());
  }

  // 1. Where the record goes, recorded before the DNS is touched.
  if (st.resolved_fqdn.empty()) {
    std::string fqdn = dns01::ChallengeRecordName(ch.spec.dns_name);
    if (solver.cname_strategy == "Follow") {
      auto target = dns01::FollowCnames(*ctx_.dns, *lookup, fqdn);
      if (!target.ok()) {
        return Dns01Problem(obj, std::move(ch), api::kChallengeLookupError,
                            "following the CNAMEs of " + fqdn + ": " + target.status().message());
      }
      fqdn = *target;
    }
    auto zone = dns01::FindZone(*ctx_.dns, *lookup, fqdn);
    if (!zone.ok()) {
      return Dns01Problem(obj, std::move(ch), api::kChallengeLookupError, zone.status().message());
    }
    st.resolved_fqdn = fqdn;
    st.resolved_zone = *zone;
    st.failures = 0;
    ch.status.state = api::OrderState::kPending;  // RFC 8555 §7.1.6: not yet answered
    const std::string message =
        "presenting " + RecordText(ch) + " with " +
        (ch.spec.solver_selection.empty() ? std::string("the solver") : ch.spec.solver_selection);
    ch.status.reason = message;
    SetReady(ctx_, &ch, api::ConditionStatus::kFalse, "Presenting", message);
    Event(ctx_, obj, kube::kEventNormal, "Presenting", "Presenting " + message);
    return Write(obj, ch, SyncResult::After(Duration::zero()));
  }

  // 2. The value.
  if (!ch.status.presented) {
    auto provider = MakeProvider(ctx_, ch);
    if (!provider.ok()) {
      return Dns01Problem(obj, std::move(ch), api::kChallengePresentError,
                          "presenting " + RecordText(ch) + ": " + provider.status().message());
    }
    Status presented = (*provider)->Present(RecordFor(ctx_, ch));
    if (!presented.ok()) {
      return Dns01Problem(obj, std::move(ch), api::kChallengePresentError, presented.message());
    }
    ch.status.presented = true;
    st.failures = 0;
    st.checks = 0;
    Event(ctx_, obj, kube::kEventNormal, "Presented",
          "Presented " + RecordText(ch) + " with " + (*provider)->Describe());
    // The first round of checks follows at once: many servers show an update immediately.
  }

  // 3. One round of propagation checks.
  auto round = dns01::CheckPropagation(*ctx_.dns, PropagationFor(ctx_, solver, *lookup),
                                       st.resolved_fqdn, st.resolved_zone, ch.spec.key);
  st.last_check_time = ctx_.clock->Now();
  if (!round.ok()) {
    return Dns01Problem(obj, std::move(ch), api::kChallengePropagationError,
                        "checking " + RecordText(ch) + ": " + round.status().message());
  }
  st.nameservers.clear();
  bool any_answered = false;
  for (const dns01::ServerCheck& c : round->servers) {
    st.nameservers.push_back({c.server, c.values, c.error, c.found});
    any_answered = any_answered || c.error.empty();
  }
  if (!any_answered) {
    return Dns01Problem(
        obj, std::move(ch), api::kChallengePropagationError,
        "checking " + RecordText(ch) + ": no nameserver answered: " + round->Summary());
  }
  if (!round->propagated) {
    st.checks += 1;
    st.failures = 0;
    const auto wait = dns01::NextCheckDelay(st.checks);
    const std::string message = "waiting for " + RecordText(ch) +
                                " at every nameserver: " + round->Summary() + " (check " +
                                std::to_string(st.checks) + ", next in " + Seconds(wait) + ")";
    ch.status.reason = message;
    SetReady(ctx_, &ch, api::ConditionStatus::kFalse, "Propagating", message);
    return Write(obj, ch, SyncResult::After(wait));
  }

  // 4. The CA.
  auto acme = AcmeClientFor(ctx_, ch.spec.issuer_ref, ch.metadata.namespace_);
  if (!acme.ok()) return Write(obj, ch, SyncResult::After(kAccountWait));
  st.failures = 0;
  SetReady(ctx_, &ch, api::ConditionStatus::kFalse, "Validating",
           RecordText(ch) + " is visible at " + round->Summary() + "; the CA validates it");
  return Respond(obj, std::move(ch), **acme);
}

SyncResult ChallengeReconciler::Dns01Problem(const Json& obj, api::Challenge ch,
                                             const std::string& reason,
                                             const std::string& message) {
  if (!ch.status.dns01) ch.status.dns01.emplace();
  ch.status.dns01->failures += 1;
  if (ch.status.state == api::OrderState::kUnknown) ch.status.state = api::OrderState::kPending;
  const bool changed =
      SetCondition(ctx_, &ch.status.conditions, api::kConditionReady, api::ConditionStatus::kFalse,
                   reason, message, ch.metadata.generation);
  // A final state keeps the CA's words in reason (the Order reads them); only the condition
  // says the clean-up failed.
  if (!api::IsFinalOrderState(ch.status.state)) ch.status.reason = message;
  if (changed) {
    Event(ctx_, obj, kube::kEventWarning, reason, message);
    log::Warn("dns-01 challenge needs attention",
              {{"challenge", kube::ObjectKey(obj)}, {"reason", reason}, {"error", message}});
  }
  const Duration wait = Backoff(ch.status.dns01->failures, kProblemBackoffBase, kProblemBackoffCap);
  return Write(obj, ch, SyncResult::After(wait));
}

SyncResult ChallengeReconciler::FinishDns01(const Json& obj, api::Challenge ch,
                                            api::OrderState state, const std::string& reason) {
  Release(kube::ObjectKey(obj));
  const bool changed = ch.status.state != state;
  ch.status.state = state;
  ch.status.reason = reason;
  ch.status.processing = false;
  if (changed && state != api::OrderState::kValid) {
    Event(ctx_, obj, kube::kEventWarning, "Failed", reason);
  }
  Status cleaned = CleanUpDns01(ch);
  if (!cleaned.ok() && ch.status.presented) {
    // Still there: the next sync tries again.
    return Dns01Problem(obj, std::move(ch), api::kChallengeCleanUpError, cleaned.message());
  }
  if (!cleaned.ok()) {
    // Never presented as far as status knows (every attempt failed): one try is enough.
    log::Warn("dns-01 clean-up of a value never presented failed",
              {{"challenge", kube::ObjectKey(obj)}, {"error", cleaned.message()}});
  }
  ch.status.presented = false;
  if (ch.status.dns01) ch.status.dns01->failures = 0;
  if (state == api::OrderState::kValid) {
    SetReady(ctx_, &ch, api::ConditionStatus::kTrue, "Valid", reason);
  } else {
    std::string name = api::OrderStateName(state);
    if (!name.empty()) name[0] = static_cast<char>(std::toupper(name[0]));
    SetReady(ctx_, &ch, api::ConditionStatus::kFalse, name, reason);
  }
  return Write(obj, ch, SyncResult::Done());
}

SyncResult ChallengeReconciler::DeleteDns01(const Json& obj, api::Challenge ch) {
  Status cleaned = CleanUpDns01(ch);
  if (cleaned.ok()) return SyncResult::Done();
  if (!ch.status.presented) {
    log::Warn("dns-01 clean-up of a value never presented failed",
              {{"challenge", kube::ObjectKey(obj)}, {"error", cleaned.message()}});
    return SyncResult::Done();
  }
  const auto now = ctx_.clock->Now();
  if (ch.metadata.deletion_timestamp &&
      now - *ch.metadata.deletion_timestamp >= ctx_.options.dns01_cleanup_deadline) {
    const std::string message = "gave up removing " + RecordText(ch) + " after " +
                                Seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                    ctx_.options.dns01_cleanup_deadline)) +
                                ": remove it by hand. Last error: " + cleaned.message();
    Event(ctx_, obj, kube::kEventWarning, "CleanUpAbandoned", message);
    log::Warn("dns-01 record left behind",
              {{"challenge", kube::ObjectKey(obj)}, {"error", message}});
    return SyncResult::Done();
  }
  return Dns01Problem(obj, std::move(ch), api::kChallengeCleanUpError, cleaned.message());
}

Status ChallengeReconciler::CleanUpDns01(const api::Challenge& ch) {
  // Nothing recorded: nothing was presented (the target is written down before presenting).
  if (!ch.status.dns01 || ch.status.dns01->resolved_fqdn.empty() || !ch.spec.solver.dns01) {
    return Status::Ok();
  }
  if (ctx_.dns == nullptr) return MakeError(ErrorCode::kFailedPrecondition, "no DNS client");
  auto provider = MakeProvider(ctx_, ch);
  if (!provider.ok()) {
    return provider.status().WithContext("removing " + RecordText(ch));
  }
  Status s = (*provider)->CleanUp(RecordFor(ctx_, ch));
  if (s.ok()) {
    log::Info("dns-01 record removed",
              {{"challenge", ch.metadata.namespace_ + "/" + ch.metadata.name},
               {"record", RecordText(ch)}});
  }
  return s;
}

}  // namespace certsmith::reconcilers
