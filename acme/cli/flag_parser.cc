#include "cli/flag_parser.h"

#include <algorithm>

namespace certsmith::cli {

namespace {

const FlagSpec* FindLong(const std::vector<FlagSpec>& specs, std::string_view name) {
  for (const FlagSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const FlagSpec* FindShort(const std::vector<FlagSpec>& specs, char c) {
  for (const FlagSpec& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

Status Usage(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

std::optional<std::string> ParsedFlags::Get(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string ParsedFlags::GetOr(std::string_view name, std::string fallback) const {
  return Get(name).value_or(std::move(fallback));
}

const std::vector<std::string>& ParsedFlags::GetAll(std::string_view name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(std::string(name));
  return it == values_.end() ? kEmpty : it->second;
}

Result<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                               const std::vector<std::string>& args) {
  ParsedFlags out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.positional_.insert(out.positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      out.values_["help"].push_back("true");
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    std::string shown = arg;
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
        shown = "--" + name;
      }
      spec = FindLong(specs, name);
    } else if (arg.size() >= 2 && arg[0] == '-' && arg[1] != '-') {
      spec = FindShort(specs, arg[1]);
      shown = arg.substr(0, 2);
      if (arg.size() > 2) inline_value = arg.substr(2);  // -dexample.org
    } else {
      out.positional_.push_back(arg);
      continue;
    }
    if (spec == nullptr) return Usage("unknown option " + shown);
    std::string value = "true";
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Usage("option " + shown + " needs a value (" + spec->value_name + ")");
      }
    } else if (inline_value) {
      return Usage("option " + shown + " takes no value");
    }
    auto& slot = out.values_[spec->name];
    if (!spec->repeated) slot.clear();
    slot.push_back(std::move(value));
  }
  return out;
}

std::string FormatFlagHelp(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = "  ";
    if (s.short_name != 0) left += std::string("-") + s.short_name + ", ";
    left += "--" + s.name;
    if (s.takes_value) left += " " + s.value_name;
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "\n" + std::string(30, ' ');
    out += left + s.help + (s.repeated ? " (repeatable)" : "") + "\n";
  }
  return out;
}

}  // namespace certsmith::cli
