// Go's time.ParseDuration / Duration.String, re-stated from the Go documentation: a possibly
// signed sequence of decimal numbers, each with optional fraction and a unit suffix.
#include "api/duration.h"

#include <cstdint>
#include <limits>

namespace certsmith::api {

namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};

// Longest names first so "ms" is not read as "m".
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1'000},  // U+03BC Greek mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

Status Invalid(std::string_view text, std::string_view why) {
  return Status(ErrorCode::kInvalidArgument, "\"" + std::string(text) + "\" is not a duration (" +
                                                 std::string(why) +
                                                 "; use e.g. \"2160h\", \"90m\" or \"1h30m\")");
}

const Unit* MatchUnit(std::string_view rest, size_t* len) {
  const Unit* best = nullptr;
  for (const Unit& u : kUnits) {
    if (rest.substr(0, u.name.size()) == u.name && (best == nullptr || u.name.size() > *len)) {
      best = &u;
      *len = u.name.size();
    }
  }
  return best;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return Invalid(text, "empty");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  __int128 total = 0;
  while (!s.empty()) {
    __int128 whole = 0;
    size_t digits = 0;
    while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
      whole = whole * 10 + (s[0] - '0');
      if (whole > kMax) return Invalid(text, "too large");
      s.remove_prefix(1);
      ++digits;
    }
    __int128 frac = 0, scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
        if (scale < 1'000'000'000'000'000'000LL) {  // digits past 1e-18 cannot matter
          frac = frac * 10 + (s[0] - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
        ++digits;
      }
    }
    if (digits == 0) return Invalid(text, "expected a number");
    size_t unit_len = 0;
    const Unit* unit = MatchUnit(s, &unit_len);
    if (unit == nullptr) return Invalid(text, s.empty() ? "missing unit" : "unknown unit");
    s.remove_prefix(unit_len);
    total += whole * unit->nanos + frac * unit->nanos / scale;
    if (total > kMax) return Invalid(text, "too large");
  }
  int64_t n = static_cast<int64_t>(total);
  return Duration(negative ? -n : n);
}

namespace {

// "1.5" from 1500 with 3 fraction digits: trailing zeros (and a lone point) dropped.
std::string FixedPoint(uint64_t value, int frac_digits) {
  uint64_t pow = 1;
  for (int i = 0; i < frac_digits; ++i) pow *= 10;
  std::string out = std::to_string(value / pow);
  uint64_t frac = value % pow;
  if (frac == 0) return out;
  std::string f = std::to_string(frac);
  f.insert(0, static_cast<size_t>(frac_digits) - f.size(), '0');
  while (!f.empty() && f.back() == '0') f.pop_back();
  return out + "." + f;
}

}  // namespace

std::string FormatDuration(Duration d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  uint64_t u = n < 0 ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + FixedPoint(u, 3) + "\xC2\xB5s";
  if (u < 1'000'000'000) return sign + FixedPoint(u, 6) + "ms";
  uint64_t seconds_nanos = u % 60'000'000'000ULL;
  uint64_t minutes = u / 60'000'000'000ULL;
  std::string out = FixedPoint(seconds_nanos, 9) + "s";
  if (minutes > 0) {
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes >= 60) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

}  // namespace certsmith::api
