#include "api/challenge.h"

#include "api/names.h"
#include "certsmith/base64.h"
#include "json_reader.h"
#include "object_header.h"
#include "validation.h"

namespace certsmith::api {

using internal::JsonReader;
using internal::PutString;

namespace internal {
OrderState ReadState(const JsonReader& r, std::string_view key);  // order.cc
}  // namespace internal

namespace {
constexpr char kApiVersion[] = "acme.certsmith.io/v1";
}  // namespace

Result<Challenge> Challenge::FromJson(const Json& object) {
  return internal::ParseObject<Challenge>(
      object, kApiVersion, {"Challenge"},
      [](const JsonReader& root, const std::string&, Challenge* ch) {
        JsonReader spec = root.Child("spec");
        ch->spec.url = spec.String("url");
        ch->spec.authorization_url = spec.String("authorizationURL");
        ch->spec.dns_name = spec.String("dnsName");
        ch->spec.wildcard = spec.Bool("wildcard");
        ch->spec.type = spec.String("type");
        ch->spec.token = spec.String("token");
        ch->spec.key = spec.String("key");
        const Json* solver = spec.Raw("solver");
        ch->spec.solver =
            AcmeSolver::FromJson(solver ? *solver : Json(), "spec.solver", root.errors());
        ch->spec.solver_selection = spec.String("solverSelection");
        ch->spec.issuer_ref = spec.IssuerRefField("issuerRef");
        JsonReader st = root.Child("status");
        ch->status.processing = st.Bool("processing");
        ch->status.presented = st.Bool("presented");
        ch->status.reason = st.String("reason");
        ch->status.state = internal::ReadState(st, "state");
        if (const Json* c = st.Raw("conditions")) {
          ch->status.conditions = ConditionsFromJson(*c, "status.conditions", root.errors());
        }
        if (st.Has("dns01")) {
          JsonReader d = st.Child("dns01");
          Dns01ChallengeStatus dns;
          dns.resolved_fqdn = d.String("resolvedFQDN");
          dns.resolved_zone = d.String("resolvedZone");
          dns.failures = d.Int("failures").value_or(0);
          dns.checks = d.Int("checks").value_or(0);
          dns.last_check_time = d.Time("lastCheckTime");
          d.ForEach("nameservers", [&dns](const JsonReader& n, size_t) {
            dns.nameservers.push_back(NameserverCheck{n.String("server"), n.StringList("values"),
                                                      n.String("error"), n.Bool("found")});
          });
          ch->status.dns01 = dns;
        }
        ch->status.solver_pod_failures = st.Int("solverPodFailures").value_or(0);
        ch->status.solver_retry_time = st.Time("solverRetryTime");
      });
}

FieldErrors Challenge::Validate() const {
  FieldErrors errors;
  if (spec.url.empty()) errors.Add("spec.url", "required");
  if (spec.authorization_url.empty()) errors.Add("spec.authorizationURL", "required");
  if (!IsValidDnsName(spec.dns_name, false)) {
    errors.Add("spec.dnsName", "\"" + spec.dns_name + "\" is not a valid DNS name");
  }
  internal::CheckEnum(spec.type, {"http-01", "dns-01"}, "spec.type", &errors);
  // RFC 8555 §8.1: tokens are base64url; anything else could escape the well-known path.
  if (!IsBase64UrlToken(spec.token)) errors.Add("spec.token", "must be base64url characters");
  if (spec.key.empty()) errors.Add("spec.key", "required");
  if (spec.issuer_ref.name.empty()) errors.Add("spec.issuerRef.name", "required");
  if (spec.type == "http-01" && !spec.solver.http01) {
    errors.Add("spec.solver.http01", "required for an http-01 challenge");
  }
  if (spec.type == "dns-01" && !spec.solver.dns01) {
    errors.Add("spec.solver.dns01", "required for a dns-01 challenge");
  }
  return errors;
}

Json ChallengeSpec::ToJson() const {
  Json j = {{"url", url},
            {"authorizationURL", authorization_url},
            {"dnsName", dns_name},
            {"type", type},
            {"token", token},
            {"key", key},
            {"solver", solver.ToJson()},
            {"issuerRef", issuer_ref.ToJson()}};
  internal::PutBool(j, "wildcard", wildcard);
  PutString(j, "solverSelection", solver_selection);
  return j;
}

Json NameserverCheck::ToJson() const {
  Json j = {{"server", server}};
  internal::PutList(j, "values", values);
  PutString(j, "error", error);
  internal::PutBool(j, "found", found);
  return j;
}

Json Dns01ChallengeStatus::ToJson() const {
  Json j = Json::object();
  PutString(j, "resolvedFQDN", resolved_fqdn);
  PutString(j, "resolvedZone", resolved_zone);
  if (failures > 0) j["failures"] = failures;
  if (checks > 0) j["checks"] = checks;
  internal::PutTime(j, "lastCheckTime", last_check_time);
  Json list = Json::array();
  for (const NameserverCheck& n : nameservers) list.push_back(n.ToJson());
  if (!list.empty()) j["nameservers"] = list;
  return j;
}

bool IsChallengeProblemReason(std::string_view reason) {
  for (const char* r : {kChallengePresentError, kChallengeCleanUpError, kChallengeLookupError,
                        kChallengePropagationError}) {
    if (reason == r) return true;
  }
  return false;
}

std::string ChallengeProblem(const ChallengeStatus& status) {
  const Condition* solver = FindCondition(status.conditions, kConditionSolverReady);
  if (solver != nullptr && solver->status == ConditionStatus::kFalse) {
    return solver->message.empty() ? solver->reason : solver->message;
  }
  const Condition* ready = FindCondition(status.conditions, kConditionReady);
  if (ready == nullptr || ready->status != ConditionStatus::kFalse) return "";
  return IsChallengeProblemReason(ready->reason) ? ready->message : "";
}

Json ChallengeStatus::ToJson() const {
  Json j = Json::object();
  j["processing"] = processing;
  j["presented"] = presented;
  PutString(j, "reason", reason);
  PutString(j, "state", OrderStateName(state));
  if (!conditions.empty()) j["conditions"] = ConditionsToJson(conditions);
  if (dns01) j["dns01"] = dns01->ToJson();
  internal::PutInt(j, "solverPodFailures", solver_pod_failures);
  internal::PutTime(j, "solverRetryTime", solver_retry_time);
  return j;
}

Json Challenge::ToJson() const {
  Json j = internal::Header(kApiVersion, "Challenge", metadata);
  j["spec"] = spec.ToJson();
  j["status"] = status.ToJson();
  return j;
}

}  // namespace certsmith::api
