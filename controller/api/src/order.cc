#include "api/order.h"

#include "api/names.h"
#include "json_reader.h"
#include "object_header.h"
#include "validation.h"

namespace certsmith::api {

using internal::JsonReader;
using internal::PutList;
using internal::PutString;

namespace {

constexpr char kApiVersion[] = "acme.certsmith.io/v1";

struct StateName {
  OrderState state;
  const char* name;
};
constexpr StateName kStateNames[] = {
    {OrderState::kPending, "pending"},       {OrderState::kReady, "ready"},
    {OrderState::kProcessing, "processing"}, {OrderState::kValid, "valid"},
    {OrderState::kInvalid, "invalid"},       {OrderState::kExpired, "expired"},
    {OrderState::kErrored, "errored"},
};

AuthorizationStatus ParseAuthorization(const JsonReader& r) {
  AuthorizationStatus a;
  a.url = r.String("url");
  a.identifier = r.String("identifier");
  a.wildcard = r.Bool("wildcard");
  a.initial_state = r.String("initialState");
  r.ForEach("challenges", [&](const JsonReader& c, size_t) {
    a.challenges.push_back(ChallengeRef{c.String("url"), c.String("type"), c.String("token")});
  });
  return a;
}

}  // namespace

namespace internal {
OrderState ReadState(const JsonReader& r, std::string_view key);
}  // namespace internal

namespace {

OrderStatus ParseStatus(const JsonReader& st) {
  OrderStatus status;
  status.url = st.String("url");
  status.finalize_url = st.String("finalizeURL");
  status.certificate = st.String("certificate");
  status.state = internal::ReadState(st, "state");
  status.reason = st.String("reason");
  st.ForEach("authorizations", [&](const JsonReader& a, size_t) {
    status.authorizations.push_back(ParseAuthorization(a));
  });
  status.failure_time = st.Time("failureTime");
  status.last_poll_time = st.Time("lastPollTime");
  status.next_poll_time = st.Time("nextPollTime");
  status.poll_attempts = st.Int("pollAttempts").value_or(0);
  return status;
}

}  // namespace

const char* OrderStateName(OrderState s) {
  for (const StateName& n : kStateNames) {
    if (n.state == s) return n.name;
  }
  return "";
}

std::optional<OrderState> ParseOrderState(std::string_view s) {
  if (s.empty()) return OrderState::kUnknown;
  for (const StateName& n : kStateNames) {
    if (s == n.name) return n.state;
  }
  return std::nullopt;
}

bool IsFinalOrderState(OrderState s) {
  return s == OrderState::kValid || s == OrderState::kInvalid || s == OrderState::kExpired ||
         s == OrderState::kErrored;
}

namespace internal {

// Shared with Challenge, whose status.state uses the same names.
OrderState ReadState(const JsonReader& r, std::string_view key) {
  std::string text = r.String(key);
  std::optional<OrderState> state = ParseOrderState(text);
  if (!state) {
    r.errors()->Add(r.Path(key), "\"" + text + "\" is not an ACME state");
    return OrderState::kUnknown;
  }
  return *state;
}

}  // namespace internal

Result<Order> Order::FromJson(const Json& object) {
  return internal::ParseObject<Order>(object, kApiVersion, {"Order"},
                                      [](const JsonReader& root, const std::string&, Order* order) {
                                        JsonReader spec = root.Child("spec");
                                        order->spec.request = spec.String("request");
                                        order->spec.issuer_ref = spec.IssuerRefField("issuerRef");
                                        order->spec.common_name = spec.String("commonName");
                                        order->spec.dns_names = spec.StringList("dnsNames");
                                        order->spec.ip_addresses = spec.StringList("ipAddresses");
                                        order->spec.duration = spec.DurationField("duration");
                                        order->spec.replaces = spec.String("replaces");
                                        order->status = ParseStatus(root.Child("status"));
                                      });
}

FieldErrors Order::Validate() const {
  FieldErrors errors;
  if (spec.request.empty()) errors.Add("spec.request", "required: the CSR (base64 DER or PEM)");
  if (spec.issuer_ref.name.empty()) errors.Add("spec.issuerRef.name", "required");
  internal::CheckEnum(spec.issuer_ref.kind, {"Issuer", "ClusterIssuer"}, "spec.issuerRef.kind",
                      &errors);
  internal::CheckIdentifiers(spec.common_name, spec.dns_names, spec.ip_addresses, &errors);
  return errors;
}

Json OrderSpec::ToJson() const {
  Json j = {{"request", request}, {"issuerRef", issuer_ref.ToJson()}};
  PutString(j, "commonName", common_name);
  PutList(j, "dnsNames", dns_names);
  PutList(j, "ipAddresses", ip_addresses);
  internal::PutDuration(j, "duration", duration);
  internal::PutString(j, "replaces", replaces);
  return j;
}

Json ChallengeRef::ToJson() const {
  Json j = {{"url", url}, {"type", type}};
  PutString(j, "token", token);
  return j;
}

Json AuthorizationStatus::ToJson() const {
  Json j = {{"url", url}, {"identifier", identifier}};
  internal::PutBool(j, "wildcard", wildcard);
  PutString(j, "initialState", initial_state);
  Json list = Json::array();
  for (const ChallengeRef& c : challenges) list.push_back(c.ToJson());
  if (!challenges.empty()) j["challenges"] = list;
  return j;
}

Json OrderStatus::ToJson() const {
  Json j = Json::object();
  PutString(j, "url", url);
  PutString(j, "finalizeURL", finalize_url);
  PutString(j, "certificate", certificate);
  PutString(j, "state", OrderStateName(state));
  PutString(j, "reason", reason);
  if (!authorizations.empty()) {
    Json list = Json::array();
    for (const AuthorizationStatus& a : authorizations) list.push_back(a.ToJson());
    j["authorizations"] = list;
  }
  internal::PutTime(j, "failureTime", failure_time);
  internal::PutTime(j, "lastPollTime", last_poll_time);
  internal::PutTime(j, "nextPollTime", next_poll_time);
  internal::PutInt(j, "pollAttempts", poll_attempts);
  return j;
}

Json Order::ToJson() const {
  Json j = internal::Header(kApiVersion, "Order", metadata);
  j["spec"] = spec.ToJson();
  j["status"] = status.ToJson();
  return j;
}

}  // namespace certsmith::api
