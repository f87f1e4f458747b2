#include "cli/session.h"

#include <cstdio>

#include "certsmith/log.h"
#include "cli/atomic_file.h"
#include "cli/key_file.h"

namespace certsmith::cli {

void Reporter::Step(const std::string& line) const {
  if (!verbose_) return;
  // Elapsed time since the command started: where a slow issuance spends its time.
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "  > [%7.3fs] %s\n", elapsed, log::Sanitize(line, 1024).c_str());
}

Result<std::shared_ptr<HttpTransport>> MakeTransport(const ServerOptions& options) {
  TransportOptions transport_options;
  transport_options.user_agent = "certsmith-acme/" CERTSMITH_CLI_VERSION;
  if (!options.ca_bundle.empty()) {
    Result<std::string> pem = ReadFile(options.ca_bundle);
    if (!pem.ok()) {
      return Status(ErrorCode::kInvalidArgument, "cannot read --ca-bundle " + options.ca_bundle);
    }
    transport_options.tls.ca_pem = std::move(pem).value();
  }
  std::shared_ptr<HttpTransport> transport = MakeCpprestTransport(transport_options);
  if (!transport) {
    return Status(ErrorCode::kInternal, "no HTTP transport is built into this certsmith");
  }
  return transport;
}

Result<std::unique_ptr<acme::Client>> MakeClient(const ServerOptions& options,
                                                 std::shared_ptr<HttpTransport> transport,
                                                 const acme::PrivateKey& key) {
  acme::ClientOptions client_options;
  client_options.directory_url = options.server;
  // A one-shot command should not fail on a CA's nonce churn: badNonce retries are cheap, and
  // with Pebble rejecting half of all nonces 5 retries still fail one request in 64.
  client_options.max_bad_nonce_retries = 10;
  return std::make_unique<acme::Client>(client_options, std::move(transport),
                                        SystemClock::Instance(),
                                        std::make_shared<acme::KeySigner>(key));
}

namespace {

Result<LoadedKey> AccountKey(const ServerOptions& options, bool create_key) {
  if (create_key) return LoadOrCreateKey(options.account_key_path, options.account_key_type);
  ASSIGN_OR_RETURN(acme::PrivateKey key, LoadKey(options.account_key_path));
  return LoadedKey{std::move(key), false};
}

}  // namespace

Result<Session> OpenSession(const ServerOptions& options, bool create_key,
                            const Reporter& reporter) {
  ASSIGN_OR_RETURN(std::shared_ptr<HttpTransport> transport, MakeTransport(options));
  ASSIGN_OR_RETURN(LoadedKey loaded, AccountKey(options, create_key));
  if (loaded.created) {
    std::fprintf(stderr, "certsmith acme: created account key %s (%s)\n",
                 options.account_key_path.c_str(), acme::KeyTypeName(loaded.key.type()));
  }
  reporter.Step("account key " + options.account_key_path +
                " sha256:" + acme::PublicKeyFingerprint(loaded.key).substr(0, 16));
  ASSIGN_OR_RETURN(std::unique_ptr<acme::Client> client,
                   MakeClient(options, transport, loaded.key));
  return Session{std::move(transport), std::move(loaded.key), loaded.created, std::move(client)};
}

Result<acme::Account> FindOrRegisterAccount(acme::Client& client, const EabOptions& account,
                                            const Reporter& reporter, const RateLimitWait& limits) {
  ASSIGN_OR_RETURN(acme::Directory directory,
                   limits.Call("the directory", [&] { return client.GetDirectory(); }));
  reporter.Step(
      "directory " + directory.url +
      (directory.meta.external_account_required ? " (External Account Binding required)" : ""));
  // Called by acme::AcmeClient::EnsureAccount only when the CA has no account for this key: the
  // EAB is never sent otherwise, whatever the lookup's error.
  auto new_account = [&]() -> Result<acme::NewAccountRequest> {
    reporter.Step(std::string("no account for this key; registering") +
                  (account.eab ? " with EAB key ID " + account.eab->key_id : ""));
    acme::NewAccountRequest request;
    if (!account.email.empty()) request.contact.push_back(account.email);
    request.eab = account.eab;
    return request;
  };
  // A 429 on either step is waited out (within --max-wait) and the whole rule run again: a
  // rate-limited lookup is not "no account", so it never spends the EAB.
  ASSIGN_OR_RETURN(acme::Account found,
                   limits.Call("the account", [&] { return client.EnsureAccount(new_account); }));
  reporter.Step((found.created ? "registered account " : "found existing account ") + found.url +
                " (" + acme::ToString(found.status) + ")" +
                (found.created ? "" : "; EAB not sent"));
  return found;
}

}  // namespace certsmith::cli
