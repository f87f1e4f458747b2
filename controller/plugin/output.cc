#include "plugin/output.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace certsmith::plugin {
namespace {

// Words YAML 1.1 (go-yaml v2, which kubectl's decoder is built on) or 1.2 reads as bool or null.
bool IsReservedWord(std::string_view s) {
  static constexpr std::string_view kWords[] = {"true", "false", "yes", "no",   "on",
                                                "off",  "y",     "n",   "null", "~"};
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view w : kWords) {
    if (lower == w) return true;
  }
  return false;
}

}  // namespace

std::string DumpJson(const Json& value, int indent) {
  // Bytes that are not UTF-8 (a server's or a file's) are replaced, not a reason to fail.
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

namespace {

std::string Indent(int n) { return std::string(static_cast<size_t>(n), ' '); }

std::string Scalar(const Json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return IsPlainYamlString(s) ? s : DumpJson(Json(s));  // JSON's escapes are YAML's too
  }
  return DumpJson(v);
}

bool IsCollection(const Json& v) { return (v.is_object() || v.is_array()) && !v.empty(); }

void Write(const Json& v, int indent, std::ostream& out);

// "key: value" lines of an object at indent; the first key may follow a "- " already written.
void WriteObject(const Json& obj, int indent, bool first_inline, std::ostream& out) {
  bool first = true;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!(first && first_inline)) out << Indent(indent);
    first = false;
    const std::string key = IsPlainYamlString(it.key()) ? it.key() : DumpJson(Json(it.key()));
    out << key << ":";
    const Json& value = it.value();
    if (!IsCollection(value)) {
      out << " " << (value.is_object() ? "{}" : value.is_array() ? "[]" : Scalar(value)) << "\n";
    } else {
      out << "\n";
      // kubectl's layout: list items at the key's own indent.
      Write(value, value.is_array() ? indent : indent + 2, out);
    }
  }
}

void Write(const Json& v, int indent, std::ostream& out) {
  if (v.is_object()) {
    WriteObject(v, indent, false, out);
    return;
  }
  for (const Json& item : v) {
    out << Indent(indent) << "-";
    if (item.is_object() && !item.empty()) {
      out << " ";
      WriteObject(item, indent + 2, true, out);
    } else if (item.is_array() && !item.empty()) {
      out << "\n";
      Write(item, indent + 2, out);
    } else {
      out << " " << (item.is_object() ? "{}" : item.is_array() ? "[]" : Scalar(item)) << "\n";
    }
  }
}

}  // namespace

bool IsPlainYamlString(std::string_view s) {
  if (s.empty() || IsReservedWord(s)) return false;
  // Letters, digits and a few marks; no ":", "#", quotes, brackets, spaces or control characters.
  static const std::regex kSafe(R"([A-Za-z0-9_./@+-]+)");
  if (!std::regex_match(s.begin(), s.end(), kSafe)) return false;
  const char c = s[0];
  if (c == '-' || c == '+' || c == '.' || c == '@') return false;  // indicators, signs, ".5"
  if (std::isdigit(static_cast<unsigned char>(c))) {
    // Digits then letters ("2160h", "1h30m", "90d"): Go durations, never numbers. Anything
    // else starting with a digit ("0x1f", "1e3", "1_000", "08", "1.5") is quoted.
    static const std::regex kDuration(R"(([0-9]+[a-zA-Z]+)+)");
    if (s.size() > 1 && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'b')) return false;
    return std::regex_match(s.begin(), s.end(), kDuration) &&
           s.find_first_of("eE") == std::string_view::npos;
  }
  return true;
}

std::string ToYaml(const Json& value) {
  std::ostringstream out;
  if (!IsCollection(value)) {
    out << (value.is_object() ? "{}" : value.is_array() ? "[]" : Scalar(value)) << "\n";
  } else {
    Write(value, 0, out);
  }
  return out.str();
}

Status CheckOutputFormat(std::string_view format) {
  if (format.empty() || format == "yaml" || format == "json") return Status::Ok();
  return Status(ErrorCode::kInvalidArgument,
                "unknown output format \"" + std::string(format) + "\" (use yaml or json)");
}

void PrintStructured(const Json& value, std::string_view format, std::ostream& out) {
  if (format == "json") {
    out << DumpJson(value, 4) << "\n";
  } else {
    out << ToYaml(value);
  }
}

std::string ShortDuration(std::chrono::system_clock::duration d) {
  using namespace std::chrono;
  const int64_t s = std::max<int64_t>(duration_cast<seconds>(d).count(), 0);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 120 * 60) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::string Relative(Clock::TimePoint t, Clock::TimePoint now) {
  return t >= now ? "in " + ShortDuration(t - now) : ShortDuration(now - t) + " ago";
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += separator;
    out += s;
  }
  return out;
}

}  // namespace certsmith::plugin
