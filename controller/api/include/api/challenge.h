// Challenge (acme.certsmith.io/v1): one ACME challenge (RFC 8555 §8) of one authorization, with
// a copy of the solver chosen for it, so presenting and cleaning up never depend on the Issuer
// still looking the same.
#pragma once

#include <optional>
#include <string>

#include "api/issuer.h"
#include "api/order.h"

namespace certsmith::api {

struct ChallengeSpec {
  std::string url;
  std::string authorization_url;
  std::string dns_name;
  bool wildcard = false;
  std::string type;   // http-01 | dns-01
  std::string token;  // base64url (RFC 8555 §8.1)
  std::string key;    // the key authorization (§8.1), or its digest for dns-01 (§8.4)
  AcmeSolver solver;
  IssuerRef issuer_ref;
  Json ToJson() const;
};

// The http-01 solver Pod's health, as condition SolverReady (certsmith extra).
inline constexpr char kConditionSolverReady[] = "SolverReady";

struct ChallengeStatus {
  bool processing = false;
  bool presented = false;
  std::string reason;
  OrderState state = OrderState::kUnknown;  // challenge states share the order's names
  // SolverReady: False with the Pod's reason and message while the solver Pod cannot run.
  std::vector<Condition> conditions;
  // Solver Pods that failed (phase Failed) and were replaced; the next one is made no earlier
  // than solver_retry_time (backoff).
  int64_t solver_pod_failures = 0;
  std::optional<Clock::TimePoint> solver_retry_time;
  Json ToJson() const;
};

struct Challenge {
  ObjectMeta metadata;
  ChallengeSpec spec;
  ChallengeStatus status;

  static Result<Challenge> FromJson(const Json& object);
  FieldErrors Validate() const;
  Json ToJson() const;
  Json StatusToJson() const { return status.ToJson(); }
};

}  // namespace certsmith::api
