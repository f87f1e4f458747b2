// One function per `certsmith acme` subcommand; args exclude "acme" and the subcommand name.
// Each prints its result on stdout, errors (DescribeError) on stderr, and returns an exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certsmith/status.h"
#include "cli/flag_parser.h"

namespace certsmith::cli {

int RunRegister(const std::vector<std::string>& args);
int RunIssue(const std::vector<std::string>& args);
int RunRevoke(const std::vector<std::string>& args);
int RunAccount(const std::vector<std::string>& args);

// Shared by the subcommands: print the error and return its exit code.
int Fail(const Status& status);
// Parses a subcommand's flags. On --help prints synopsis and flag help to stdout; on a usage
// error prints it with the synopsis to stderr; both return nullopt with *exit_code set.
std::optional<ParsedFlags> ParseCommandLine(const std::vector<std::string>& args,
                                            const std::vector<FlagSpec>& specs,
                                            const char* synopsis, int* exit_code);

}  // namespace certsmith::cli
