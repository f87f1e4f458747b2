#include "kube/time_format.h"

#include <cstdio>
#include <ctime>

#include "certsmith/time_point.h"

namespace certsmith::kube {

std::string FormatTime(Clock::TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatMicroTime(Clock::TimePoint t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string s = FormatTime(secs);
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
  return s.substr(0, s.size() - 1) + frac + "Z";
}

std::optional<Clock::TimePoint> ParseTime(std::string_view text) {
  std::tm tm{};
  int frac_digits = 0;
  long long frac = 0;
  std::string s(text);
  if (s.size() < 20 || s.back() != 'Z') return std::nullopt;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  if (s[19] == '.') {
    for (size_t i = 20; i < s.size() - 1 && frac_digits < 9; ++i, ++frac_digits) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      frac = frac * 10 + (s[i] - '0');
    }
  }
  while (frac_digits++ < 9) frac *= 10;
  auto t = TimePointFromSeconds(timegm(&tm));
  return t + std::chrono::duration_cast<Clock::TimePoint::duration>(std::chrono::nanoseconds(frac));
}

}  // namespace certsmith::kube
