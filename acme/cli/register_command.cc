// `certsmith acme register`: find the account for the key, or create it with EAB (§7.3, §7.3.4).
#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/options.h"
#include "cli/session.h"

namespace certsmith::cli {

namespace {

constexpr char kSynopsis[] =
    "usage: certsmith acme register --server URL --account-key FILE [--email ADDR]\n"
    "           [--eab-kid KID (--eab-hmac-key-file FILE | --eab-hmac-key KEY)] [--eab-alg ALG]\n"
    "           [--ca-bundle FILE]\n"
    "\n"
    "Looks up the account of --account-key (onlyReturnExisting) and registers one, bound with\n"
    "External Account Binding, only when there is none: running it again never consumes the EAB\n"
    "pair again. The key file is created (mode 0600) when absent. The HMAC key may also come\n"
    "from the CERTSMITH_EAB_HMAC_KEY environment variable (keeps it out of shell history).\n";

}  // namespace

int RunRegister(const std::vector<std::string>& args) {
  int exit_code = kExitOk;
  std::optional<ParsedFlags> flags = ParseCommandLine(args, RegisterFlags(), kSynopsis, &exit_code);
  if (!flags) return exit_code;
  Result<RegisterOptions> options = ParseRegisterOptions(*flags, ProcessEnv());
  if (!options.ok()) return Fail(options.status());
  Reporter reporter(options->server.verbose);
  Result<Session> session = OpenSession(options->server, /*create_key=*/true, reporter);
  if (!session.ok()) return Fail(session.status());
  Result<acme::Account> account = FindOrRegisterAccount(
      *session->client, options->account, reporter, RateLimitWait(options->server.max_wait));
  if (!account.ok()) return Fail(account.status());
  std::printf("account: %s\nstatus: %s\n%s\n", account->url.c_str(),
              acme::ToString(account->status),
              account->created ? "registered: new account"
                               : "registered: existing account "
                                 "(found by key; EAB not used)");
  return kExitOk;
}

}  // namespace certsmith::cli
