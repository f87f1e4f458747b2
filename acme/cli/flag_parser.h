// A small command-line parser: long flags ("--name value", "--name=value"), short aliases
// ("-d value"), boolean switches and repeatable flags. Errors are usage errors (exit 2).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certsmith/status.h"

namespace certsmith::cli {

struct FlagSpec {
  std::string name;     // "server" for --server
  char short_name = 0;  // 'd' for -d, 0 for none
  bool takes_value = true;
  bool repeated = false;
  std::string help;  // one line for --help
  std::string value_name = "VALUE";
};

class ParsedFlags {
 public:
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The last value given (flags given twice: the last one wins unless repeated).
  std::optional<std::string> Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string fallback) const;
  const std::vector<std::string>& GetAll(std::string_view name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses args (without the program and subcommand names). "--" ends flags; "--help"/"-h" is
// reported as a switch named "help". Unknown flags, missing values and values given to
// switches are kInvalidArgument errors naming the flag.
Result<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                               const std::vector<std::string>& args);

// "  --server URL        help text" lines, for a subcommand's --help.
std::string FormatFlagHelp(const std::vector<FlagSpec>& specs);

}  // namespace certsmith::cli
