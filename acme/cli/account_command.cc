// `certsmith acme account show|deactivate|rollover` (§7.3.1 lookup, §7.3.6, §7.3.5).
#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/key_file.h"
#include "cli/options.h"
#include "cli/session.h"

namespace certsmith::cli {

namespace {

constexpr char kSynopsis[] =
    "usage: certsmith acme account show|deactivate --server URL --account-key FILE\n"
    "       certsmith acme account rollover --server URL --account-key FILE --new-key FILE\n"
    "\n"
    "show: the account of the key (never creates one). deactivate: ends the account for good.\n"
    "rollover: moves the account to --new-key (created when absent); on success --account-key\n"
    "is replaced by the new key and the old key is kept in FILE.old.\n";

void PrintAccount(const acme::Account& account) {
  std::printf("account: %s\nstatus: %s\n", account.url.c_str(), acme::ToString(account.status));
  for (const std::string& c : account.contact) std::printf("contact: %s\n", c.c_str());
}

Status Rollover(const AccountOptions& options, Session& session, const Reporter& reporter) {
  ASSIGN_OR_RETURN(LoadedKey new_key, LoadOrCreateKey(options.new_key_path, options.new_key_type));
  if (new_key.key.SamePublicKey(session.account_key)) {
    return Status(ErrorCode::kInvalidArgument, "--new-key holds the same key as --account-key");
  }
  reporter.Step(std::string(new_key.created ? "created" : "loaded") + " new key " +
                options.new_key_path +
                " sha256:" + acme::PublicKeyFingerprint(new_key.key).substr(0, 16));
  RETURN_IF_ERROR(session.client->KeyRollover(std::make_shared<acme::KeySigner>(new_key.key)));
  // The CA now knows only the new key. Save the old one aside first, then replace the file;
  // if writing fails, the new key is still in --new-key: say so.
  Status saved =
      ReplaceKeyKeepingOld(options.server.account_key_path, session.account_key, new_key.key);
  if (!saved.ok()) {
    return saved.WithContext("the rollover succeeded and the account now uses the key in " +
                             options.new_key_path + ", but replacing " +
                             options.server.account_key_path + " failed");
  }
  // Proves the new key works: the CA finds the account by it (§7.3.1).
  ASSIGN_OR_RETURN(acme::Account account, session.client->LookupAccount());
  PrintAccount(account);
  std::printf("rolled over: %s now holds the new key; the old key is in %s.old\n",
              options.server.account_key_path.c_str(), options.server.account_key_path.c_str());
  return Status::Ok();
}

Status RunAction(const AccountOptions& options, const Reporter& reporter) {
  ASSIGN_OR_RETURN(Session session, OpenSession(options.server, /*create_key=*/false, reporter));
  ASSIGN_OR_RETURN(acme::Account account, session.client->LookupAccount());
  reporter.Step("account " + account.url + " (" + acme::ToString(account.status) + ")");
  switch (options.action) {
    case AccountAction::kShow:
      PrintAccount(account);
      return Status::Ok();
    case AccountAction::kDeactivate: {
      ASSIGN_OR_RETURN(acme::Account done, session.client->DeactivateAccount());
      PrintAccount(done);
      return Status::Ok();
    }
    case AccountAction::kRollover:
      return Rollover(options, session, reporter);
  }
  return Status::Ok();
}

}  // namespace

int RunAccount(const std::vector<std::string>& args) {
  int exit_code = kExitOk;
  std::optional<ParsedFlags> flags = ParseCommandLine(args, AccountFlags(), kSynopsis, &exit_code);
  if (!flags) return exit_code;
  Result<AccountOptions> options = ParseAccountOptions(*flags);
  if (!options.ok()) return Fail(options.status());
  Status status = RunAction(*options, Reporter(options->server.verbose));
  return status.ok() ? kExitOk : Fail(status);
}

}  // namespace certsmith::cli
