#include "cli/poll_interval.h"

#include <algorithm>

namespace certsmith::cli {

std::chrono::milliseconds PollInterval(int attempt,
                                       std::optional<std::chrono::seconds> retry_after) {
  if (retry_after) return std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
  if (attempt <= 0) return std::chrono::milliseconds(0);
  int shift = std::min(attempt - 1, 16);
  std::chrono::milliseconds delay(kFirstPollDelay.count() << shift);
  return std::min(delay, kMaxPollDelay);
}

}  // namespace certsmith::cli
