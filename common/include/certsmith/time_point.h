// Whole seconds since the epoch to a Clock::TimePoint without overflow.
#pragma once

#include <chrono>

#include "certsmith/clock.h"

namespace certsmith {

// Saturated to what TimePoint holds (about the years 1678 to 2261 with nanosecond ticks) instead
// of overflowing: X.509 writes 99991231235959Z for "no well-defined expiration" (RFC 5280
// §4.1.2.5), and a peer can send any date. Found by tests/fuzz (retry_after_fuzz: "Fri, 31 Dec
// 9999 23:59:59 GMT" overflowed, UBSan: signed integer overflow).
inline Clock::TimePoint TimePointFromSeconds(long long seconds_since_epoch) {
  using Duration = Clock::TimePoint::duration;
  constexpr long long kMax =
      std::chrono::duration_cast<std::chrono::seconds>(Duration::max()).count() - 1;
  constexpr long long kMin =
      std::chrono::duration_cast<std::chrono::seconds>(Duration::min()).count() + 1;
  const long long clamped =
      seconds_since_epoch > kMax ? kMax : (seconds_since_epoch < kMin ? kMin : seconds_since_epoch);
  return Clock::TimePoint(std::chrono::duration_cast<Duration>(std::chrono::seconds(clamped)));
}

}  // namespace certsmith
