#include "cli/acme_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include "certsmith/log.h"
#include "cli/commands.h"
#include "cli/error_report.h"
#include "cli/exit_codes.h"

namespace certsmith::cli {

namespace {

constexpr char kUsage[] =
    "usage: certsmith acme <subcommand> [options]\n"
    "\n"
    "A one-shot ACME client (RFC 8555) for checking CA credentials and issuing by hand.\n"
    "\n"
    "subcommands:\n"
    "  register   find or create the account for --account-key (External Account Binding)\n"
    "  issue      obtain a certificate (http-01 listener or webroot, or dns-01 hook)\n"
    "  revoke     revoke a certificate\n"
    "  account    show | deactivate | rollover (change the account key)\n"
    "\n"
    "The EAB HMAC key can come from --eab-hmac-key-file FILE or the CERTSMITH_EAB_HMAC_KEY\n"
    "environment variable instead of --eab-hmac-key, so it stays out of shell history.\n"
    "\n"
    "Exit codes: 0 ok, 1 failure, 2 usage or bad input, 3 server unreachable or TLS failure,\n"
    "4 credentials refused (EAB, unauthorized), 5 rate limited, 6 timed out.\n"
    "\n"
    "Run 'certsmith acme <subcommand> --help' for its options.\n";

}  // namespace

int Fail(const Status& status) {
  std::fputs(DescribeError(status).c_str(), stderr);
  return ExitCodeFor(status);
}

std::optional<ParsedFlags> ParseCommandLine(const std::vector<std::string>& args,
                                            const std::vector<FlagSpec>& specs,
                                            const char* synopsis, int* exit_code) {
  Result<ParsedFlags> flags = ParseFlags(specs, args);
  if (flags.ok() && flags->Has("help")) {
    std::printf("%s\noptions:\n%s", synopsis, FormatFlagHelp(specs).c_str());
    *exit_code = kExitOk;
    return std::nullopt;
  }
  if (!flags.ok()) {
    std::fprintf(stderr, "certsmith acme: %s\n\n%s(--help for all options)\n",
                 flags.status().message().c_str(), synopsis);
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::move(flags).value();
}

int RunAcmeCommand(int argc, char** argv) {
  // The library logs protocol steps at debug level; --verbose prints our own steps instead.
  log::SetLevel(log::Level::kWarning);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string sub = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (sub == "register") return RunRegister(args);
  if (sub == "issue") return RunIssue(args);
  if (sub == "revoke") return RunRevoke(args);
  if (sub == "account") return RunAccount(args);
  std::fprintf(stderr, "certsmith acme: unknown subcommand '%s'\n\n%s", sub.c_str(), kUsage);
  return kExitUsage;
}

}  // namespace certsmith::cli
