// How long the CLI waits between polls of an authorization or order. The CLI is the one that
// waits (the library never sleeps). Most of a peer client's wall time is its fixed 1-3 s poll
// interval; we poll at once, then back off quickly from a short start, and always honour the
// CA's Retry-After (RFC 8555 §7.5.1, §7.4) when it sent one.
#pragma once

#include <chrono>
#include <optional>

namespace certsmith::cli {

inline constexpr std::chrono::milliseconds kFirstPollDelay{20};
inline constexpr std::chrono::milliseconds kMaxPollDelay{5000};

// Delay before poll number attempt (0-based): 0 for the first, then 20 ms doubling to 5 s;
// retry_after, when the CA sent one, wins.
std::chrono::milliseconds PollInterval(int attempt,
                                       std::optional<std::chrono::seconds> retry_after);

}  // namespace certsmith::cli
