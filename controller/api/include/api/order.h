// Order (acme.certsmith.io/v1): one ACME order (RFC 8555 §7.4) for one revision of a
// Certificate. The Order reconciler drives it; its status is the order's progress, kept so a
// restart resumes polling the same order URL instead of ordering again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/condition.h"
#include "api/duration.h"
#include "api/meta.h"

namespace certsmith::api {

// RFC 8555 §7.1.6 order states plus "errored" (certsmith gave up on a non-ACME error).
enum class OrderState {
  kUnknown,
  kPending,
  kReady,
  kProcessing,
  kValid,
  kInvalid,
  kExpired,
  kErrored
};
const char* OrderStateName(OrderState s);  // "" for kUnknown
std::optional<OrderState> ParseOrderState(std::string_view s);
// valid, invalid, expired, errored: nothing more will happen.
bool IsFinalOrderState(OrderState s);

struct OrderSpec {
  std::string request;  // the CSR, base64 of DER or PEM
  IssuerRef issuer_ref;
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::optional<Duration> duration;
  std::string replaces;  // RFC 9773 §5: ARI certID of the certificate this order renews
  Json ToJson() const;
};

struct ChallengeRef {
  std::string url;
  std::string type;  // http-01, dns-01, tls-alpn-01, ...
  std::string token;
  Json ToJson() const;
};

struct AuthorizationStatus {
  std::string url;
  std::string identifier;
  bool wildcard = false;
  std::string initial_state;  // pending, valid (pre-validated domains), ...
  std::vector<ChallengeRef> challenges;
  Json ToJson() const;
};

struct OrderStatus {
  std::string url;
  std::string finalize_url;
  std::string certificate;  // base64 of the PEM chain
  OrderState state = OrderState::kUnknown;
  // Final states: the CA's words (problem type, detail and subproblems). Pending: what holds
  // the order up and needs a person (a Challenge's problem, api::ChallengeProblem), or empty.
  std::string reason;
  std::vector<AuthorizationStatus> authorizations;
  std::optional<Clock::TimePoint> failure_time;
  std::optional<Clock::TimePoint> last_poll_time;
  std::optional<Clock::TimePoint> next_poll_time;
  int64_t poll_attempts = 0;  // polls of a processing order, for backoff
  Json ToJson() const;
};

struct Order {
  ObjectMeta metadata;
  OrderSpec spec;
  OrderStatus status;

  static Result<Order> FromJson(const Json& object);
  FieldErrors Validate() const;
  Json ToJson() const;
  Json StatusToJson() const { return status.ToJson(); }
};

}  // namespace certsmith::api
