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
        ch->spec.issuer_ref = spec.IssuerRefField("issuerRef");
        JsonReader st = root.Child("status");
        ch->status.processing = st.Bool("processing");
        ch->status.presented = st.Bool("presented");
        ch->status.reason = st.String("reason");
        ch->status.state = internal::ReadState(st, "state");
        if (const Json* c = st.Raw("conditions")) {
          ch->status.conditions = ConditionsFromJson(*c, st.Path("conditions"), st.errors());
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
  return j;
}

Json ChallengeStatus::ToJson() const {
  Json j = Json::object();
  j["processing"] = processing;
  j["presented"] = presented;
  PutString(j, "reason", reason);
  PutString(j, "state", OrderStateName(state));
  if (!conditions.empty()) j["conditions"] = ConditionsToJson(conditions);
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
