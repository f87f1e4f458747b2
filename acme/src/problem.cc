#include "acme/problem.h"

#include <array>

#include "certsmith/log.h"
#include "json_fields.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

// ACME v1 servers (and a few v2 ones) still use the older namespace.
constexpr std::string_view kLegacyPrefix = "urn:acme:error:";

// Members RFC 7807 and RFC 8555 §6.7 define; everything else is the CA's own.
constexpr std::array<std::string_view, 7> kStandardMembers = {
    "type", "title", "detail", "status", "instance", "subproblems", "identifier"};

// Bounds a summary: subproblems of a 100-name order must not become a 100 kB status message.
constexpr size_t kMaxSummary = 2048;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string ShortTypeOf(std::string_view type) {
  if (StartsWith(type, kAcmeErrorPrefix)) return std::string(type.substr(kAcmeErrorPrefix.size()));
  if (StartsWith(type, kLegacyPrefix)) return std::string(type.substr(kLegacyPrefix.size()));
  return std::string(type);
}

std::optional<Identifier> ParseIdentifier(const json& object) {
  const json* id = json_fields::Object(object, "identifier");
  if (id == nullptr) return std::nullopt;
  return NormalizeIdentifier(
      Identifier{json_fields::String(*id, "type"), json_fields::String(*id, "value")});
}

Subproblem ParseSubproblem(const json& object) {
  return Subproblem{json_fields::String(object, "type"), json_fields::String(object, "detail"),
                    ParseIdentifier(object)};
}

std::string TypeAndDetail(std::string_view type, std::string_view detail) {
  std::string out(type.empty() ? "about:blank" : type);
  if (!detail.empty()) out += ": " + std::string(detail);
  return out;
}

}  // namespace

std::string Problem::ShortType() const { return ShortTypeOf(type); }

bool Problem::Is(std::string_view acme_error) const {
  return (StartsWith(type, kAcmeErrorPrefix) || StartsWith(type, kLegacyPrefix)) &&
         ShortType() == acme_error;
}

std::vector<std::string> Problem::ExtraFields() const {
  std::vector<std::string> out;
  if (!raw.is_object()) return out;
  for (const auto& [key, value] : raw.items()) {
    bool standard = false;
    for (std::string_view s : kStandardMembers) standard = standard || key == s;
    if (standard) continue;
    if (value.is_string()) {
      out.push_back(key + "=" + value.get<std::string>());
    } else if (value.is_number() || value.is_boolean()) {
      out.push_back(key + "=" + json_fields::Dump(value));
    }
  }
  return out;
}

std::string Problem::Summary() const {
  std::string out = TypeAndDetail(type, detail.empty() ? title : detail);
  std::vector<std::string> extra = ExtraFields();
  if (!extra.empty()) {
    out += " [";
    for (size_t i = 0; i < extra.size(); ++i) out += (i ? " " : "") + extra[i];
    out += "]";
  }
  if (!subproblems.empty()) {
    out += " (subproblems: ";
    for (size_t i = 0; i < subproblems.size(); ++i) {
      const Subproblem& sub = subproblems[i];
      if (i) out += "; ";
      if (sub.identifier) out += sub.identifier->ToString() + ": ";
      out += TypeAndDetail(sub.type, sub.detail);
    }
    out += ")";
  }
  return log::Sanitize(out, kMaxSummary);
}

Result<Problem> ParseProblem(std::string_view json_text) {
  ASSIGN_OR_RETURN(json doc, json_fields::ParseObject(json_text, "problem document"));
  Problem p;
  p.type = json_fields::String(doc, "type");
  if (p.type.empty()) p.type = "about:blank";  // RFC 7807 §4.2
  p.title = json_fields::String(doc, "title");
  p.detail = json_fields::String(doc, "detail");
  p.status = json_fields::Int(doc, "status").value_or(0);
  p.instance = json_fields::String(doc, "instance");
  if (const json* subs = json_fields::Array(doc, "subproblems")) {
    for (const json& sub : *subs) {
      if (sub.is_object()) p.subproblems.push_back(ParseSubproblem(sub));
    }
  }
  p.raw = std::move(doc);
  return p;
}

namespace {
ErrorCode CodeFor(const Problem& problem, std::optional<int> http_status) {
  if (problem.Is("rateLimited")) return ErrorCode::kResourceExhausted;
  if (problem.Is("unauthorized") || problem.Is("externalAccountRequired")) {
    return ErrorCode::kUnauthenticated;
  }
  if (problem.Is("accountDoesNotExist")) return ErrorCode::kNotFound;
  if (http_status == 503) return ErrorCode::kUnavailable;
  return ErrorCode::kAcmeProblem;
}
}  // namespace

Status StatusFromProblem(const Problem& problem, std::optional<int> http_status,
                         std::optional<std::chrono::seconds> retry_after) {
  Status s(CodeFor(problem, http_status), problem.Summary());
  // A Problem built in code (not parsed) may have an empty raw document: carry its fields, so
  // ProblemFromStatus reads back the same type and retryability.
  nlohmann::json payload = problem.raw.is_object() ? problem.raw : nlohmann::json::object();
  // A type missing, empty or not a string in the CA's document reads as about:blank
  // (ParseProblem, RFC 7807 §4.2): carry that, or ProblemFromStatus takes it for another peer's.
  if (json_fields::String(payload, "type").empty() && !problem.type.empty()) {
    payload["type"] = problem.type;
  }
  if (!payload.contains("detail") && !problem.detail.empty()) payload["detail"] = problem.detail;
  if (!payload.contains("status") && problem.status != 0) payload["status"] = problem.status;
  s.set_payload(json_fields::Dump(payload));
  if (http_status) s.set_http_status(*http_status);
  if (retry_after) s.set_retry_after(*retry_after);
  return s;
}

std::optional<Problem> ProblemFromStatus(const Status& status) {
  if (status.ok() || status.payload().empty()) return std::nullopt;
  Result<Problem> p = ParseProblem(status.payload());
  // Other peers (Kubernetes) put their own JSON in the payload: an ACME problem has a type.
  if (!p.ok() || json_fields::String(p->raw, "type").empty()) return std::nullopt;
  return *std::move(p);
}

// RFC 8555 §6.7, read as "can the same request (or a fresh order for the same names) succeed
// later without a person changing anything?":
// - badNonce: a fresh nonce fixes it (§6.5). rateLimited: after Retry-After (§6.6).
//   serverInternal: the CA's own transient failure.
// - connection, dns, tls, incorrectResponse: validation failures (§8) that are commonly
//   transient: DNS propagation, a solver not yet reachable, stale caches. Retried with backoff.
// - orderNotReady: a state race (authorizations still completing); refetch the order and retry.
// - compound: retryable only when every subproblem is.
// - Everything else needs a change by someone: malformed / badCSR / badPublicKey /
//   badSignatureAlgorithm / badRevocationReason (our request), unauthorized /
//   externalAccountRequired / accountDoesNotExist (credentials), rejectedIdentifier /
//   unsupportedIdentifier / caa (the names or DNS policy), invalidContact / unsupportedContact,
//   userActionRequired (terms of service), alreadyRevoked (nothing left to do). CA-specific codes
//   (Certigna's OUT_OF_CREDIT, DOMAIN_NOT_FOUND...) ride inside these types and follow them.
// - A non-ACME type falls back to the HTTP status: 429 and 5xx are retryable.
bool IsRetryable(const Problem& problem) {
  static constexpr std::array<std::string_view, 8> kTransient = {
      "badNonce", "rateLimited", "serverInternal",    "connection",
      "dns",      "tls",         "incorrectResponse", "orderNotReady"};
  for (std::string_view t : kTransient) {
    if (problem.Is(t)) return true;
  }
  if (problem.Is("compound")) {
    if (problem.subproblems.empty()) return false;
    for (const Subproblem& sub : problem.subproblems) {
      Problem p;
      p.type = sub.type;
      if (!IsRetryable(p)) return false;
    }
    return true;
  }
  bool acme_type =
      StartsWith(problem.type, kAcmeErrorPrefix) || StartsWith(problem.type, kLegacyPrefix);
  return !acme_type && (problem.status == 429 || problem.status >= 500);
}

}  // namespace certsmith::acme
