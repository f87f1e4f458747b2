// Printing for `kubectl certsmith`: `-o yaml|json` as kubectl prints objects, and the small
// formatting helpers of the human views (ages, lists).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/clock.h"
#include "certsmith/status.h"

namespace certsmith::plugin {

using Json = nlohmann::json;

// The value as a YAML block (kubectl's layout: two-space indent, list items at their key's
// indent). Strings are quoted whenever a YAML 1.1 or 1.2 reader could take them for anything
// but a string ("true", "1e3", "0x1f", "null", "08:00", leading "-" or "*", ...), so the output
// reads back exactly as the JSON it came from.
std::string ToYaml(const Json& value);
// Whether a string can be written without quotes (see ToYaml).
bool IsPlainYamlString(std::string_view s);

// JSON text (indent -1: one line); invalid UTF-8 is replaced rather than thrown on.
std::string DumpJson(const Json& value, int indent = -1);

// "", "yaml" or "json" (-o); anything else is a usage error naming the accepted ones.
Status CheckOutputFormat(std::string_view format);
// Writes value as JSON (indented, as kubectl) or YAML.
void PrintStructured(const Json& value, std::string_view format, std::ostream& out);

// "3m", "2h", "5d" (kubectl's short ages); "in 59d" / "3m ago" relative to now.
std::string ShortDuration(std::chrono::system_clock::duration d);
std::string Relative(Clock::TimePoint t, Clock::TimePoint now);
std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace certsmith::plugin
