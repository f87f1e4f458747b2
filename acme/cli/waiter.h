// Waiting for the CA, bounded by --timeout: the CLI is the one that sleeps (the library only
// says when to come back). Transient answers that carry Retry-After (503, rateLimited on a poll)
// are waited out too, within the same deadline.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "certsmith/status.h"
#include "cli/poll_interval.h"

namespace certsmith::cli {

class Waiter {
 public:
  explicit Waiter(std::chrono::seconds timeout)
      : timeout_(timeout), deadline_(std::chrono::steady_clock::now() + timeout) {}

  // Calls fetch(attempt) until done(value) is true, sleeping PollInterval between calls.
  // what names the resource for the timeout message ("order https://...").
  template <typename T>
  Result<T> Until(const std::string& what, const std::function<Result<T>(int)>& fetch,
                  const std::function<bool(const T&)>& done,
                  const std::function<std::optional<std::chrono::seconds>(const T&)>& retry_after,
                  const std::function<std::string(const T&)>& describe) {
    std::optional<std::chrono::seconds> wait_hint;
    std::string last = "not fetched yet";
    for (int attempt = 0;; ++attempt) {
      RETURN_IF_ERROR(Sleep(PollInterval(attempt, wait_hint), what, last));
      Result<T> value = fetch(attempt);
      if (!value.ok()) {
        if (!Transient(value.status())) return value.status();
        wait_hint = value.status().retry_after();
        last = value.status().message();
        continue;
      }
      if (done(*value)) return value;
      wait_hint = retry_after(*value);
      last = describe(*value);
    }
  }

  std::chrono::seconds timeout() const { return timeout_; }

 private:
  static bool Transient(const Status& s) {
    return s.retry_after().has_value() &&
           (s.code() == ErrorCode::kUnavailable || s.code() == ErrorCode::kResourceExhausted);
  }

  Status Sleep(std::chrono::milliseconds delay, const std::string& what,
               const std::string& last) const {
    auto now = std::chrono::steady_clock::now();
    if (now + delay > deadline_) {
      return Status(ErrorCode::kDeadlineExceeded,
                    "gave up after --timeout " + std::to_string(timeout_.count()) +
                        "s waiting for " + what + " (last seen: " + last + ")");
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    return Status::Ok();
  }

  std::chrono::seconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace certsmith::cli
