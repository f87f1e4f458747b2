// The options of each `certsmith acme` subcommand, parsed and checked before anything touches
// the network or the disk, so a usage error costs nothing.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "acme/csr.h"
#include "acme/jws.h"
#include "acme/key.h"
#include "acme/types.h"
#include "certsmith/status.h"
#include "cli/flag_parser.h"

namespace certsmith::cli {

// Reads an environment variable; injected so tests do not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

// Options every subcommand shares.
struct ServerOptions {
  std::string server;     // directory URL
  std::string ca_bundle;  // PEM file of extra trust anchors, empty = system store
  std::string account_key_path;
  acme::KeyType account_key_type = acme::KeyType::kEcdsaP256;
  bool verbose = false;
  std::chrono::seconds timeout{600};
  // A 429 whose Retry-After fits in this is waited out (cli/rate_limit_wait.h).
  std::chrono::seconds max_wait{60};
};

// EAB as given on the command line: the HMAC key is decoded here (lenient base64/base64url)
// and never kept in its text form.
struct EabOptions {
  std::string email;
  std::optional<acme::ExternalAccountBinding> eab;
};

struct RegisterOptions {
  ServerOptions server;
  EabOptions account;
};

enum class SolverKind { kHttp01Listen, kHttp01Webroot, kDns01Hook };

struct IssueOptions {
  ServerOptions server;
  EabOptions account;
  std::vector<std::string> names;  // -d, DNS names or IP addresses, in order
  SolverKind solver = SolverKind::kHttp01Listen;
  std::string http01_host = "0.0.0.0";
  uint16_t http01_port = 80;
  std::string webroot;
  std::string dns01_hook;
  acme::KeyType key_type = acme::KeyType::kEcdsaP256;
  acme::Subject subject;
  std::string preferred_chain;
  std::string out_dir;
  std::string save_csr;  // optional: where to write the CSR sent to the CA (PEM)
};

struct RevokeOptions {
  ServerOptions server;
  std::string cert_path;
  std::string cert_key_path;  // --key: sign with the certificate's key (§7.6)
  std::optional<acme::RevocationReason> reason;
};

enum class AccountAction { kShow, kDeactivate, kRollover };

struct AccountOptions {
  ServerOptions server;
  AccountAction action = AccountAction::kShow;
  std::string new_key_path;
  acme::KeyType new_key_type = acme::KeyType::kEcdsaP256;
};

// Flag tables (for parsing and --help).
std::vector<FlagSpec> RegisterFlags();
std::vector<FlagSpec> IssueFlags();
std::vector<FlagSpec> RevokeFlags();
std::vector<FlagSpec> AccountFlags();

// Each returns kInvalidArgument (exit 2) with a message naming the option that is wrong.
Result<RegisterOptions> ParseRegisterOptions(const ParsedFlags& flags, const EnvLookup& env);
Result<IssueOptions> ParseIssueOptions(const ParsedFlags& flags, const EnvLookup& env);
Result<RevokeOptions> ParseRevokeOptions(const ParsedFlags& flags);
Result<AccountOptions> ParseAccountOptions(const ParsedFlags& flags);

// "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses).
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text);
// "90", "90s", "10m", "1h".
Result<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace certsmith::cli
