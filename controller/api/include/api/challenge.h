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
  // Which of the issuer's solvers was chosen and why ("solvers[1]: selector.dnsZones ...").
  std::string solver_selection;
  IssuerRef issuer_ref;
  Json ToJson() const;
};

// What one nameserver showed in the last propagation check of a dns-01 record.
struct NameserverCheck {
  std::string server;
  std::vector<std::string> values;  // the TXT values seen
  std::string error;
  bool found = false;
  Json ToJson() const;
  bool operator==(const NameserverCheck&) const = default;
};

// dns-01 progress, kept so a restarted controller cleans up exactly where it presented.
struct Dns01ChallengeStatus {
  std::string resolved_fqdn;  // where the TXT record is written (after CNAME following)
  std::string resolved_zone;  // the zone holding it
  int64_t failures = 0;       // consecutive failed present/clean-up attempts, for backoff
  int64_t checks = 0;         // propagation rounds that did not find the value everywhere
  std::optional<Clock::TimePoint> last_check_time;
  std::vector<NameserverCheck> nameservers;  // the last round, server by server
  Json ToJson() const;
};

// The http-01 solver Pod's health, as condition SolverReady (certsmith extra).
inline constexpr char kConditionSolverReady[] = "SolverReady";

struct ChallengeStatus {
  bool processing = false;
  bool presented = false;
  std::string reason;
  OrderState state = OrderState::kUnknown;  // challenge states share the order's names
  // Ready (dns-01): False with the step it is at, or with a reason that needs a person
  // (NeedsAttention); True once valid.
  std::vector<Condition> conditions;
  std::optional<Dns01ChallengeStatus> dns01;
  // Solver Pods that failed (phase Failed) and were replaced; the next one is made no earlier
  // than solver_retry_time (backoff).
  int64_t solver_pod_failures = 0;
  std::optional<Clock::TimePoint> solver_retry_time;
  Json ToJson() const;
};

// Ready=False reasons of a Challenge that cannot go on without a person (a wrong secret, a
// refused update, an unreachable server, no zone found, a webhook's error). Its Order and
// Certificate repeat the message.
inline constexpr char kChallengePresentError[] = "PresentError";
inline constexpr char kChallengeCleanUpError[] = "CleanUpError";
inline constexpr char kChallengeLookupError[] = "LookupError";
inline constexpr char kChallengePropagationError[] = "PropagationCheckError";
bool IsChallengeProblemReason(std::string_view reason);
// What needs a person: SolverReady=False (http-01: the solver Pod cannot run) or a Ready=False
// problem (dns-01), with its message; "" when nothing does.
std::string ChallengeProblem(const ChallengeStatus& status);

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
