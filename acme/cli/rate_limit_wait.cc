#include "cli/rate_limit_wait.h"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace certsmith::cli {

RateLimitWait::RateLimitWait(std::chrono::seconds max_wait, Sleeper sleep, Printer say)
    : max_wait_(max_wait), sleep_(std::move(sleep)), say_(std::move(say)) {
  if (!sleep_) sleep_ = [](std::chrono::seconds d) { std::this_thread::sleep_for(d); };
  if (!say_) say_ = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
}

std::optional<std::chrono::seconds> RateLimitWait::WaitFor(const Status& status,
                                                           const std::string& what,
                                                           std::chrono::seconds waited) const {
  if (status.code() != ErrorCode::kResourceExhausted || !status.retry_after()) return std::nullopt;
  // At least a second per round: a CA answering "Retry-After: 0" again and again still ends.
  const std::chrono::seconds wait = std::max(*status.retry_after(), std::chrono::seconds(1));
  if (waited + wait > max_wait_) {
    if (waited.count() > 0) {
      say_("certsmith acme: still rate limited after waiting " + std::to_string(waited.count()) +
           "s for " + what + "; giving up (--max-wait " + std::to_string(max_wait_.count()) + "s)");
    }
    return std::nullopt;
  }
  say_("certsmith acme: the CA is rate limiting " + what + " (HTTP 429); waiting " +
       std::to_string(wait.count()) + "s as its Retry-After asks (--max-wait " +
       std::to_string(max_wait_.count()) + "s)");
  sleep_(wait);
  return wait;
}

}  // namespace certsmith::cli
