// Waiting out a CA's short rate limit (RFC 8555 §6.6: 429 rateLimited with Retry-After) in the
// one-shot CLI. Sectigo and Google Trust Services throttle bursts for a few seconds; giving up on
// the first 429 would make a user start over. A Retry-After within --max-wait (default 60 s) is
// waited out, saying so on stderr; a longer one, or a 429 without Retry-After, ends the command
// with the CA's error as before. The library itself never sleeps (acme/client.h).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "certsmith/status.h"

namespace certsmith::cli {

inline constexpr std::chrono::seconds kDefaultMaxWait{60};

class RateLimitWait {
 public:
  using Sleeper = std::function<void(std::chrono::seconds)>;
  using Printer = std::function<void(const std::string&)>;

  // max_wait bounds the total wait of one request. sleep and say default to the real sleep and
  // stderr; tests inject their own.
  explicit RateLimitWait(std::chrono::seconds max_wait, Sleeper sleep = nullptr,
                         Printer say = nullptr);

  // Calls call() (returning Status or Result<T>) again after each rate-limited answer whose
  // Retry-After still fits in max_wait. what names the request ("new order").
  template <typename F>
  auto Call(const std::string& what, F&& call) const -> decltype(call()) {
    std::chrono::seconds waited{0};
    for (;;) {
      auto result = call();
      std::optional<std::chrono::seconds> wait = WaitFor(StatusOf(result), what, waited);
      if (!wait) return result;
      waited += *wait;
    }
  }

  std::chrono::seconds max_wait() const { return max_wait_; }

 private:
  static const Status& StatusOf(const Status& s) { return s; }
  template <typename T>
  static const Status& StatusOf(const Result<T>& r) {
    return r.status();
  }
  // How long was waited before calling again, or nullopt: give up (not rate limited, no
  // Retry-After, or it would pass max_wait).
  std::optional<std::chrono::seconds> WaitFor(const Status& status, const std::string& what,
                                              std::chrono::seconds waited) const;

  std::chrono::seconds max_wait_;
  Sleeper sleep_;
  Printer say_;
};

}  // namespace certsmith::cli
