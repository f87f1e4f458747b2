// What every subcommand starts with: the transport (with --ca-bundle), the account key and the
// ACME client, plus the verbose step printer.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "acme/client.h"
#include "acme/key.h"
#include "certsmith/status.h"
#include "cli/options.h"
#include "cli/rate_limit_wait.h"

namespace certsmith::cli {

// --verbose output on stderr: protocol steps, URLs and statuses only. Strings from the CA are
// sanitised; nothing secret is ever passed here.
class Reporter {
 public:
  explicit Reporter(bool verbose) : verbose_(verbose) {}
  void Step(const std::string& line) const;
  bool verbose() const { return verbose_; }

 private:
  bool verbose_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct Session {
  std::shared_ptr<HttpTransport> transport;
  acme::PrivateKey account_key;
  bool account_key_created = false;
  std::unique_ptr<acme::Client> client;
};

// Loads (or, when create_key, creates) the account key and builds the client. Nothing is sent.
Result<Session> OpenSession(const ServerOptions& options, bool create_key,
                            const Reporter& reporter);
// A client signing with key (revocation with the certificate's key uses no account key).
Result<std::unique_ptr<acme::Client>> MakeClient(const ServerOptions& options,
                                                 std::shared_ptr<HttpTransport> transport,
                                                 const acme::PrivateKey& key);
Result<std::shared_ptr<HttpTransport>> MakeTransport(const ServerOptions& options);

// The existing account for the key (onlyReturnExisting, no EAB sent), or a new one bound with
// EAB when there is none (§7.3, §7.3.4): an EAB pair is consumed only when really needed.
// Short rate limits are waited out (limits).
Result<acme::Account> FindOrRegisterAccount(acme::Client& client, const EabOptions& account,
                                            const Reporter& reporter, const RateLimitWait& limits);

}  // namespace certsmith::cli
