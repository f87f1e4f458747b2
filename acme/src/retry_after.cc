#include "acme/retry_after.h"

#include <time.h>

#include <algorithm>
#include <string>

#include "certsmith/time_point.h"

namespace certsmith::acme {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// delay-seconds = 1*DIGIT. Values beyond a day are saturated: they get clamped anyway.
std::optional<std::chrono::seconds> ParseDelaySeconds(std::string_view s) {
  if (s.empty()) return std::nullopt;
  long long value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = std::min<long long>(value * 10 + (c - '0'), 86'400LL * 365);
  }
  return std::chrono::seconds(value);
}

// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms that
// recipients must still accept. Always GMT. strptime parses in the C locale's English names.
std::optional<Clock::TimePoint> ParseHttpDate(std::string_view s) {
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // Sun, 06 Nov 1994 08:49:37 GMT
      "%A, %d-%b-%y %H:%M:%S GMT",  // Sunday, 06-Nov-94 08:49:37 GMT
      "%a %b %e %H:%M:%S %Y",       // Sun Nov  6 08:49:37 1994
  };
  std::string text(s);
  for (const char* format : kFormats) {
    struct tm tm = {};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    return TimePointFromSeconds(t);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, Clock::TimePoint now) {
  value = Trim(value);
  if (auto delay = ParseDelaySeconds(value)) return delay;
  std::optional<Clock::TimePoint> when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  auto delta = std::chrono::ceil<std::chrono::seconds>(*when - now);
  return std::max(delta, std::chrono::seconds(0));
}

std::chrono::seconds PollDelay(int attempt, std::optional<std::chrono::seconds> retry_after) {
  if (retry_after) {
    return std::clamp(*retry_after, std::chrono::seconds(0), kMaxRetryAfter);
  }
  // 1 s << attempt, without overflowing for large attempt counts.
  int shift = std::clamp(attempt, 0, 16);
  return std::min(std::chrono::seconds(1LL << shift), kMaxPollDelay);
}

}  // namespace certsmith::acme
