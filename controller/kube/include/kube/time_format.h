// Kubernetes timestamps: Time (RFC 3339, seconds) and MicroTime (RFC 3339, microseconds).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "certsmith/clock.h"

namespace certsmith::kube {

// "2024-01-02T03:04:05Z"
std::string FormatTime(Clock::TimePoint t);
// "2024-01-02T03:04:05.000000Z"
std::string FormatMicroTime(Clock::TimePoint t);
// Parses either form (UTC "Z" only, as the API server writes them).
std::optional<Clock::TimePoint> ParseTime(std::string_view text);

}  // namespace certsmith::kube
