// Waiting without sleeping: the library never blocks; it says when to come back. The controller
// turns that into a delayed requeue, the CLI into a wait.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "certsmith/clock.h"

namespace certsmith::acme {

// Longest wait we accept from a Retry-After header: a CA (or a proxy) asking for days would
// otherwise park an order silently.
inline constexpr std::chrono::seconds kMaxRetryAfter = std::chrono::hours(1);
// Cap of the default exponential backoff.
inline constexpr std::chrono::seconds kMaxPollDelay = std::chrono::seconds(60);

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date (IMF-fixdate, and the obsolete
// RFC 850 and asctime forms). A date in the past gives 0 s. Unparseable -> nullopt.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, Clock::TimePoint now);

// How long to wait before poll number `attempt` (0-based): Retry-After when given, clamped to
// [0, kMaxRetryAfter]; otherwise 1 s, 2 s, 4 s, ... capped at kMaxPollDelay.
std::chrono::seconds PollDelay(int attempt,
                               std::optional<std::chrono::seconds> retry_after = std::nullopt);

}  // namespace certsmith::acme
