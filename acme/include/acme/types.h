// The ACME resources (RFC 8555 §7.1) as plain values, parsed from the CA's JSON by the client.
// Every string here came from the CA: sanitise before printing (certsmith::log::Sanitize).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/identifier.h"
#include "acme/problem.h"
#include "certsmith/clock.h"

namespace certsmith::acme {

using TimePoint = Clock::TimePoint;

// §7.1.1
struct DirectoryMeta {
  std::string terms_of_service{};
  std::string website{};
  std::vector<std::string> caa_identities{};
  bool external_account_required = false;
  // draft-aaron-acme-profiles: the profiles the CA issues under, name -> description.
  std::map<std::string, std::string> profiles{};
};

struct Directory {
  std::string url{};  // where it was fetched from
  std::string new_nonce{};
  std::string new_account{};
  std::string new_order{};
  std::string new_authz{};  // optional in RFC 8555 (pre-authorization); rarely offered
  std::string revoke_cert{};
  std::string key_change{};
  std::string renewal_info{};  // RFC 9773 (ARI); empty when the CA does not offer it
  DirectoryMeta meta{};
};

// Status values (§7.1.6). kUnknown stands for a value the RFC does not define.
enum class AccountStatus { kValid, kDeactivated, kRevoked, kUnknown };
enum class OrderStatus { kPending, kReady, kProcessing, kValid, kInvalid, kUnknown };
enum class AuthorizationStatus {
  kPending,
  kValid,
  kInvalid,
  kDeactivated,
  kExpired,
  kRevoked,
  kUnknown
};
enum class ChallengeStatus { kPending, kProcessing, kValid, kInvalid, kUnknown };

// The RFC's lower-case spelling ("processing"), and back (unknown text -> kUnknown).
const char* ToString(AccountStatus s);
const char* ToString(OrderStatus s);
const char* ToString(AuthorizationStatus s);
const char* ToString(ChallengeStatus s);
AccountStatus ParseAccountStatus(std::string_view s);
OrderStatus ParseOrderStatus(std::string_view s);
AuthorizationStatus ParseAuthorizationStatus(std::string_view s);
ChallengeStatus ParseChallengeStatus(std::string_view s);

// §7.1.2
struct Account {
  std::string url{};  // the "kid" of every later request (from the Location header)
  AccountStatus status = AccountStatus::kUnknown;
  std::vector<std::string> contact{};  // "mailto:admin@example.org"
  std::string orders{};                // URL of the orders list, if the CA offers it
  bool created = false;  // newAccount answered 201 (a new account) rather than 200 (existing)
};

// §7.1.3
struct Order {
  std::string url{};  // from the Location header of newOrder; kept by the caller across polls
  OrderStatus status = OrderStatus::kUnknown;
  std::optional<TimePoint> expires{};
  std::vector<Identifier> identifiers{};  // normalised
  std::optional<TimePoint> not_before{};
  std::optional<TimePoint> not_after{};
  std::vector<std::string> authorizations{};  // URLs
  std::string finalize{};                     // URL
  std::string certificate{};                  // URL, once valid
  std::optional<Problem> error{};             // why it is invalid, when the CA says
  std::string replaces{};                     // RFC 9773 §5: ARI certID this order replaces

  // When to fetch it again if it is not terminal (pending/ready/processing): now + Retry-After
  // when the CA sent one (clamped), else now + PollDelay(attempt). Set by GetOrder/NewOrder/
  // Finalize.
  TimePoint next_poll{};
  std::optional<std::chrono::seconds> retry_after{};  // as sent by the CA, if it did
};

// §7.1.5
struct Challenge {
  std::string url{};
  std::string type{};  // "http-01", "dns-01", "tls-alpn-01", ...
  ChallengeStatus status = ChallengeStatus::kUnknown;
  std::string token{};  // validated: base64url characters only (§8.3, §8.4)
  std::optional<TimePoint> validated{};
  std::optional<Problem> error{};
};

// §7.1.4
struct Authorization {
  std::string url{};
  Identifier identifier{};  // normalised; for a wildcard, the base name (the CA omits "*.")
  AuthorizationStatus status = AuthorizationStatus::kUnknown;
  std::optional<TimePoint> expires{};
  std::vector<Challenge> challenges{};
  bool wildcard = false;

  // The challenge of a type ("http-01"), or nullptr.
  const Challenge* FindChallenge(std::string_view type) const;

  TimePoint next_poll{};  // as Order::next_poll
  std::optional<std::chrono::seconds> retry_after{};
};

// §7.4.2: the certificate chain, PEM, leaf first, and the other chains the CA offers.
struct CertificateChain {
  std::string url{};                      // where this chain was downloaded from
  std::string pem{};                      // "application/pem-certificate-chain" as received
  std::vector<std::string> alternates{};  // absolute URLs from Link: <...>;rel="alternate"
};

// RFC 9773 §4.2
struct RenewalInfo {
  TimePoint window_start{};
  TimePoint window_end{};
  std::string explanation_url{};
  TimePoint next_poll{};  // from Retry-After (RFC 9773 §4.3), clamped; default 6 h
};

// §7.6 revocation reason codes (RFC 5280 §5.3.1).
enum class RevocationReason {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
};

}  // namespace certsmith::acme
