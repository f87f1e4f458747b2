#include "acme/retry_after.h"

#include <time.h>

#include <algorithm>
#include <string>


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
// Seconds since the epoch: any year a peer writes, kept out of TimePoint's nanosecond range until
// the difference from now is taken.
std::optional<long long> ParseHttpDate(std::string_view s) {
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
    return static_cast<long long>(t);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, Clock::TimePoint now) {
  value = Trim(value);
  if (auto delay = ParseDelaySeconds(value)) return delay;
  std::optional<long long> when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  // In whole seconds: a date in year 1000 or 99999 minus now overflows nanoseconds (UBSan, found
  // by retry_after_fuzz). A date in the past means "now"; one years ahead is clamped by PollDelay.
  const long long now_s =
      std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  // (ceil(when - now) for a whole-second `when` is when - floor(now).)
  if (*when <= now_s) return std::chrono::seconds(0);
  const long long delta = *when - now_s;  // positive, and both within time_t's range
  return std::chrono::seconds(delta);
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
