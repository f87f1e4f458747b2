#include "kube/errors.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "certsmith/log.h"

namespace certsmith::kube {

std::optional<std::chrono::seconds> ParseRetryAfter(const HttpResponse& response) {
  auto h = response.Header("retry-after");
  if (!h || h->empty()) return std::nullopt;
  long long secs = 0;
  for (char c : *h) {
    if (c < '0' || c > '9') return std::nullopt;
    secs = secs * 10 + (c - '0');
    if (secs > 86'400) return std::chrono::seconds(86'400);
  }
  return std::chrono::seconds(secs);
}

namespace {

ErrorCode CodeFor(int http, const std::string& reason) {
  switch (http) {
    case 400:
    case 422:
      return ErrorCode::kInvalidArgument;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kPermissionDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
    case 410:
      return ErrorCode::kGone;
    case 429:
      return ErrorCode::kResourceExhausted;
    case 504:
      return ErrorCode::kDeadlineExceeded;
    default:
      if (http >= 500) return ErrorCode::kUnavailable;
      return ErrorCode::kProtocol;
  }
}

}  // namespace

Status StatusFromResponse(const HttpResponse& response, std::string_view what) {
  std::string reason, message;
  std::string payload;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.value("kind", "") == "Status") {
    reason = body.value("reason", "");
    message = body.value("message", "");
    payload = body.dump();
  }
  if (message.empty()) message = "HTTP " + std::to_string(response.status);
  Status st(CodeFor(response.status, reason),
            std::string(what) + ": " + log::Sanitize(message, 1024));
  st.set_http_status(response.status);
  if (!payload.empty()) st.set_payload(payload);
  if (auto ra = ParseRetryAfter(response)) st.set_retry_after(*ra);
  return st;
}

bool IsNotFound(const Status& s) { return s.code() == ErrorCode::kNotFound; }
bool IsConflict(const Status& s) { return s.code() == ErrorCode::kConflict; }
bool IsAlreadyExists(const Status& s) { return s.code() == ErrorCode::kAlreadyExists; }
bool IsGone(const Status& s) { return s.code() == ErrorCode::kGone; }
bool IsForbidden(const Status& s) { return s.code() == ErrorCode::kPermissionDenied; }

std::optional<std::string> MissingPermission(const Status& s) {
  if (!IsForbidden(s)) return std::nullopt;
  // pkg/registry/rbac/validation and the RBAC authorizer's reason, as kube-apiserver words it.
  static const std::regex kRbac(
      R"re(User "([^"]*)" cannot ([a-z]+) resource "([^"]+)" in API group "([^"]*)"( in the namespace "([^"]+)"| at the cluster scope)?)re");
  std::smatch m;
  if (!std::regex_search(s.message(), m, kRbac)) return std::nullopt;
  std::string out = m[2].str() + " " + m[3].str() + " in API group \"" + m[4].str() + "\"";
  out += m[6].matched ? " in namespace \"" + m[6].str() + "\"" : " cluster-wide";
  return out + " (user " + m[1].str() + ")";
}

}  // namespace certsmith::kube
