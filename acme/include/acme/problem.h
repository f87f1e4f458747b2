// ACME problem documents (RFC 7807 as profiled by RFC 8555 §6.7) and how they travel in a Status.
//
// A CA's problem is carried in a certsmith::Status: the code says what a caller should do
// (kAcmeProblem, kResourceExhausted for rateLimited, kUnauthenticated for unauthorized and EAB
// failures, kNotFound for accountDoesNotExist), the message is a one-line human summary with the
// CA's own words, and the payload is the problem JSON exactly as the CA sent it, so nothing the CA
// said (Certigna's DOMAIN_NOT_FOUND, OUT_OF_CREDIT, INVALID_DNSCAA, ...) is lost.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acme/identifier.h"
#include "certsmith/status.h"

namespace certsmith::acme {

// The RFC 8555 §6.7 namespace; ShortType() strips it.
inline constexpr std::string_view kAcmeErrorPrefix = "urn:ietf:params:acme:error:";

struct Subproblem {
  std::string type{};
  std::string detail{};
  std::optional<Identifier> identifier{};  // §6.7.1: which identifier this part is about
};

struct Problem {
  std::string type{};  // "urn:ietf:params:acme:error:rejectedIdentifier"; "about:blank" if absent
  std::string title{};
  std::string detail{};  // the CA's words, kept verbatim (sanitised only when printed)
  int status = 0;        // the "status" member (HTTP status the CA claims), 0 if absent
  std::string instance{};
  std::vector<Subproblem> subproblems{};
  nlohmann::json raw = nlohmann::json::object();  // the whole document, extra members included

  // "rejectedIdentifier" for an ACME error type, the full type otherwise.
  std::string ShortType() const;
  // True when type is urn:ietf:params:acme:error:<acme_error>.
  bool Is(std::string_view acme_error) const;
  // Members other than the standard ones whose values are strings or numbers, e.g. a CA-specific
  // "code": "OUT_OF_CREDIT", as "key=value" in document order.
  std::vector<std::string> ExtraFields() const;
  // One line: "urn:...:rejectedIdentifier: <detail> [code=X] (subproblems: dns a.example:
  // urn:...:caa: <detail>; ...)". Sanitised (control characters escaped), bounded in length.
  std::string Summary() const;
};

// Parses a problem document. Tolerant of missing members; fails only when the text is not a JSON
// object.
Result<Problem> ParseProblem(std::string_view json_text);

// The Status a problem becomes (see the file comment for the code mapping). http_status and
// retry_after are recorded on the Status when given.
Status StatusFromProblem(const Problem& problem, std::optional<int> http_status = std::nullopt,
                         std::optional<std::chrono::seconds> retry_after = std::nullopt);

// The problem carried by a Status built by StatusFromProblem (or by the ACME client), if any.
std::optional<Problem> ProblemFromStatus(const Status& status);

// Whether repeating the same request later can succeed without anyone changing anything.
// See problem.cc for the per-type reasoning (RFC 8555 §6.7).
bool IsRetryable(const Problem& problem);

}  // namespace certsmith::acme
