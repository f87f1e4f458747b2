// Helpers shared by the fuzz targets: splitting one fuzz input into several fields, and stopping
// with a message when a property the target checks does not hold (libFuzzer then saves the input
// as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace certsmith::fuzz {

// Splits data at each NUL byte (fields may be empty); at most max_fields, the last keeps the rest.
inline std::vector<std::string_view> SplitFields(std::string_view data, size_t max_fields) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_fields) {
    size_t nul = data.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(data.substr(0, nul));
    data.remove_prefix(nul + 1);
  }
  out.push_back(data);
  return out;
}

[[noreturn]] inline void Fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: property violated: %s\n", target, what.c_str());
  std::abort();
}

inline void Check(bool condition, const char* target, const std::string& what) {
  if (!condition) Fail(target, what);
}

}  // namespace certsmith::fuzz
