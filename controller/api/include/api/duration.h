// Go duration strings ("2160h", "90m", "1h30m", "1.5h", "300ms"), the format cert-manager's
// Certificate.spec.duration and renewBefore use (Go's time.ParseDuration), so specs move over
// unchanged.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "certsmith/status.h"

namespace certsmith::api {

using Duration = std::chrono::nanoseconds;

// Accepts a sequence of decimal numbers with units ns, us (or µs), ms, s, m, h, optionally signed;
// "0" alone is allowed. kInvalidArgument on anything else or on overflow.
Result<Duration> ParseDuration(std::string_view text);

// Go's time.Duration.String(): "2160h0m0s", "1h30m0s", "1.5s", "300ms", "0s".
std::string FormatDuration(Duration d);

}  // namespace certsmith::api
