// One error model for every certsmith library: a [[nodiscard]] Status and Result<T>.
// Libraries that throw (cpprestsdk, nlohmann::json, yaml-cpp) are wrapped where called;
// no exception crosses a module boundary.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace certsmith {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a user or a file: fix the input
  kNotFound,            // 404 or a missing file / object
  kAlreadyExists,       // 409 AlreadyExists on create
  kConflict,            // 409 Conflict on a stale resourceVersion
  kGone,                // 410 Gone (watch history compacted)
  kUnauthenticated,     // 401, bad token / bad EAB MAC
  kPermissionDenied,    // 403
  kFailedPrecondition,  // state does not allow the operation
  kResourceExhausted,   // 429 / ACME rateLimited: see retry_after
  kUnavailable,         // connection refused, DNS failure, 5xx: retry later
  kDeadlineExceeded,    // timeout
  kTls,                 // TLS handshake / certificate verification failed
  kProtocol,            // peer answered something we cannot understand
  kAcmeProblem,         // an ACME problem document (see acme/problem.h; payload holds the JSON)
  kCancelled,
  kInternal,
};

const char* ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // HTTP status of the response that caused the error, when there was one.
  std::optional<int> http_status() const { return http_status_; }
  Status& set_http_status(int s) { http_status_ = s; return *this; }

  // When the peer asked us to come back later (Retry-After), how long to wait.
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
  Status& set_retry_after(std::chrono::seconds d) { retry_after_ = d; return *this; }

  // Machine-readable detail from the peer, e.g. an ACME problem document or a Kubernetes
  // Status object, as JSON text. Never holds secrets.
  const std::string& payload() const { return payload_; }
  Status& set_payload(std::string p) { payload_ = std::move(p); return *this; }

  // Prefixes context: "reading account key: <message>".
  Status WithContext(const std::string& context) const {
    Status s = *this;
    s.message_ = context + ": " + message_;
    return s;
  }

  // "NotFound: message"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::optional<int> http_status_;
  std::optional<std::chrono::seconds> retry_after_;
  std::string payload_;
};

inline Status MakeError(ErrorCode code, std::string message) {
  return Status(code, std::move(message));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(ErrorCode::kInternal, "Result built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace certsmith

// Early-return helpers.
#define CERTSMITH_CONCAT_INNER(a, b) a##b
#define CERTSMITH_CONCAT(a, b) CERTSMITH_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::certsmith::Status _st = (expr);              \
    if (!_st.ok()) return _st;                     \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(CERTSMITH_CONCAT(_result_, __LINE__), lhs, expr)
