#include "cli/options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "acme/identifier.h"

namespace certsmith::cli {

namespace {

constexpr char kHmacEnv[] = "CERTSMITH_EAB_HMAC_KEY";

Status Usage(std::string message) {
  return Status(ErrorCode::kInvalidArgument, std::move(message));
}

std::vector<FlagSpec> ServerFlags() {
  return {
      {"server", 0, true, false, "ACME directory URL (required)", "URL"},
      {"ca-bundle", 0, true, false, "PEM file of CA certificates to trust for the server's TLS",
       "FILE"},
      {"account-key", 0, true, false, "account private key (PEM); created (mode 0600) when absent",
       "FILE"},
      {"account-key-type", 0, true, false,
       "type of a new account key: ec256 (default), ec384, rsa2048, rsa3072, rsa4096", "TYPE"},
      {"timeout", 0, true, false, "give up waiting for the CA after this long (default 10m)",
       "DURATION"},
      {"max-wait", 0, true, false,
       "wait out a CA's rate limit (HTTP 429) whose Retry-After is at most this long (default "
       "60s; 0 never waits)",
       "DURATION"},
      {"verbose", 'v', false, false, "show the protocol steps (URLs, statuses; never secrets)"},
  };
}

std::vector<FlagSpec> EabFlags() {
  return {
      {"email", 0, true, false, "contact address for a new account", "ADDR"},
      {"eab-kid", 0, true, false, "External Account Binding key ID from the CA's portal", "KID"},
      {"eab-hmac-key", 0, true, false,
       "EAB HMAC key (base64url or base64; visible in shell history and ps: prefer the next two)",
       "KEY"},
      {"eab-hmac-key-file", 0, true, false, "read the EAB HMAC key from FILE", "FILE"},
      {"eab-alg", 0, true, false, "EAB MAC algorithm: HS256 (default), HS384, HS512", "ALG"},
  };
}

std::vector<FlagSpec> Concat(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Result<std::string> ReadSmallFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Usage("cannot read " + what + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status ParseServer(const ParsedFlags& flags, bool key_required, ServerOptions* out) {
  out->server = flags.GetOr("server", "");
  if (out->server.empty()) return Usage("--server URL is required (the ACME directory URL)");
  if (out->server.rfind("https://", 0) != 0 && out->server.rfind("http://", 0) != 0) {
    return Usage("--server must be an http(s) URL of the ACME directory");
  }
  out->ca_bundle = flags.GetOr("ca-bundle", "");
  out->account_key_path = flags.GetOr("account-key", "");
  if (key_required && out->account_key_path.empty()) {
    return Usage("--account-key FILE is required (created when absent)");
  }
  if (auto type = flags.Get("account-key-type")) {
    ASSIGN_OR_RETURN(out->account_key_type, acme::ParseKeyType(*type));
  }
  if (auto t = flags.Get("timeout")) {
    ASSIGN_OR_RETURN(out->timeout, ParseDuration(*t));
  }
  if (auto t = flags.Get("max-wait")) {
    ASSIGN_OR_RETURN(out->max_wait, ParseDuration(*t));
  }
  out->verbose = flags.Has("verbose");
  return Status::Ok();
}

// The HMAC key comes from --eab-hmac-key, --eab-hmac-key-file or CERTSMITH_EAB_HMAC_KEY (in that
// order), so it need not appear in shell history. Errors never echo it.
Status ParseEab(const ParsedFlags& flags, const EnvLookup& env, EabOptions* out) {
  out->email = flags.GetOr("email", "");
  std::optional<std::string> kid = flags.Get("eab-kid");
  std::optional<std::string> key_text = flags.Get("eab-hmac-key");
  std::string source = "--eab-hmac-key";
  if (!key_text && flags.Has("eab-hmac-key-file")) {
    source = "--eab-hmac-key-file";
    ASSIGN_OR_RETURN(key_text, ReadSmallFile(*flags.Get("eab-hmac-key-file"), "EAB HMAC key file"));
  }
  if (!key_text && kid) {
    key_text = env(kHmacEnv);
    source = kHmacEnv;
  }
  if (!kid) {
    if (flags.Has("eab-hmac-key") || flags.Has("eab-hmac-key-file")) {
      return Usage("an EAB HMAC key was given without --eab-kid");
    }
    return Status::Ok();
  }
  if (kid->empty()) return Usage("--eab-kid is empty");
  if (!key_text) {
    return Usage("--eab-kid needs the HMAC key: give --eab-hmac-key-file FILE, set " +
                 std::string(kHmacEnv) + ", or --eab-hmac-key KEY");
  }
  acme::ExternalAccountBinding eab;
  eab.key_id = *kid;
  Result<std::string> decoded = acme::DecodeEabHmacKey(*key_text);
  if (!decoded.ok()) {
    return Usage("the EAB HMAC key from " + source +
                 " is malformed: " + decoded.status().message() +
                 " (paste it exactly as the CA's portal shows it; base64url or base64, padded or "
                 "not)");
  }
  eab.hmac_key = std::move(decoded).value();
  if (auto alg = flags.Get("eab-alg")) {
    ASSIGN_OR_RETURN(eab.algorithm, acme::ParseHmacAlgorithm(*alg));
  }
  out->eab = std::move(eab);
  return Status::Ok();
}

Status ParseSolver(const ParsedFlags& flags, IssueOptions* out) {
  int solvers = flags.Has("http01-listen") + flags.Has("http01-webroot") + flags.Has("dns01-hook");
  if (solvers != 1) {
    return Usage(
        "give exactly one of --http01-listen HOST:PORT, --http01-webroot DIR, --dns01-hook CMD "
        "(authorizations the CA already considers valid need none of them, but one is still "
        "required in case some are not)");
  }
  if (auto listen = flags.Get("http01-listen")) {
    out->solver = SolverKind::kHttp01Listen;
    ASSIGN_OR_RETURN(auto host_port, ParseListenAddress(*listen));
    out->http01_host = host_port.first;
    out->http01_port = host_port.second;
  } else if (auto root = flags.Get("http01-webroot")) {
    out->solver = SolverKind::kHttp01Webroot;
    out->webroot = *root;
    if (out->webroot.empty()) return Usage("--http01-webroot DIR is empty");
  } else {
    out->solver = SolverKind::kDns01Hook;
    out->dns01_hook = *flags.Get("dns01-hook");
    if (out->dns01_hook.empty()) return Usage("--dns01-hook CMD is empty");
  }
  return Status::Ok();
}

Status ParseNames(const ParsedFlags& flags, IssueOptions* out) {
  out->names = flags.GetAll("domain");
  if (out->names.empty()) return Usage("give at least one name with -d NAME");
  for (const std::string& name : out->names) {
    Result<acme::Identifier> id = acme::IdentifierFor(name);
    if (!id.ok()) return Usage("-d " + name + ": " + id.status().message());
  }
  return Status::Ok();
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::vector<FlagSpec> RegisterFlags() { return Concat(ServerFlags(), EabFlags()); }

std::vector<FlagSpec> IssueFlags() {
  return Concat(
      RegisterFlags(),
      {
          {"domain", 'd', true, true, "DNS name or IP address to certify (first one is the CN)",
           "NAME"},
          {"http01-listen", 0, true, false,
           "answer http-01 with a built-in server on HOST:PORT (e.g. :80)", "HOST:PORT"},
          {"http01-webroot", 0, true, false,
           "answer http-01 by writing DIR/.well-known/acme-challenge/<token>", "DIR"},
          {"dns01-hook", 0, true, false,
           "answer dns-01 by running `CMD present|cleanup <record-name> <txt-value>`", "CMD"},
          {"key-type", 0, true, false,
           "certificate key: ec256 (default), ec384, rsa2048, rsa3072, rsa4096", "TYPE"},
          {"subject", 0, true, false, "OV subject, e.g. \"O=Example,OU=IT,C=FR,ST=IDF,L=Paris\"",
           "DN"},
          {"preferred-chain", 0, true, false,
           "pick the chain whose top certificate is issued by this CN", "ISSUER-CN"},
          {"out", 0, true, false, "write privkey.pem, cert.pem, chain.pem, fullchain.pem here",
           "DIR"},
          {"save-csr", 0, true, false, "also write the CSR sent to the CA (PEM) to FILE", "FILE"},
      });
}

std::vector<FlagSpec> RevokeFlags() {
  return Concat(
      ServerFlags(),
      {
          {"cert", 0, true, false, "the certificate to revoke (PEM)", "FILE"},
          {"key", 0, true, false,
           "sign the revocation with the certificate's own key instead of the account key", "FILE"},
          {"reason", 0, true, false,
           "RFC 5280 reason code: 0 unspecified, 1 keyCompromise, 3 affiliationChanged, "
           "4 superseded, 5 cessationOfOperation",
           "N"},
      });
}

std::vector<FlagSpec> AccountFlags() {
  return Concat(
      ServerFlags(),
      {
          {"new-key", 0, true, false,
           "rollover: the new account key (created when absent); it replaces --account-key, the "
           "old key is kept as FILE.old",
           "FILE"},
          {"new-key-type", 0, true, false, "type of a new key created for rollover (default ec256)",
           "TYPE"},
      });
}

Result<RegisterOptions> ParseRegisterOptions(const ParsedFlags& flags, const EnvLookup& env) {
  RegisterOptions out;
  RETURN_IF_ERROR(ParseServer(flags, /*key_required=*/true, &out.server));
  RETURN_IF_ERROR(ParseEab(flags, env, &out.account));
  return out;
}

Result<IssueOptions> ParseIssueOptions(const ParsedFlags& flags, const EnvLookup& env) {
  IssueOptions out;
  RETURN_IF_ERROR(ParseServer(flags, /*key_required=*/true, &out.server));
  RETURN_IF_ERROR(ParseEab(flags, env, &out.account));
  RETURN_IF_ERROR(ParseNames(flags, &out));
  RETURN_IF_ERROR(ParseSolver(flags, &out));
  if (auto type = flags.Get("key-type")) {
    ASSIGN_OR_RETURN(out.key_type, acme::ParseKeyType(*type));
  }
  if (auto subject = flags.Get("subject")) {
    Result<acme::Subject> parsed = acme::ParseSubject(*subject);
    if (!parsed.ok()) return Usage("--subject: " + parsed.status().message());
    out.subject = std::move(parsed).value();
  }
  out.preferred_chain = flags.GetOr("preferred-chain", "");
  out.out_dir = flags.GetOr("out", "");
  if (out.out_dir.empty()) return Usage("--out DIR is required");
  out.save_csr = flags.GetOr("save-csr", "");
  return out;
}

Result<RevokeOptions> ParseRevokeOptions(const ParsedFlags& flags) {
  RevokeOptions out;
  out.cert_key_path = flags.GetOr("key", "");
  // Signed by the certificate's key, the request needs no account (§7.6).
  RETURN_IF_ERROR(ParseServer(flags, /*key_required=*/out.cert_key_path.empty(), &out.server));
  out.cert_path = flags.GetOr("cert", "");
  if (out.cert_path.empty()) return Usage("--cert FILE is required");
  if (auto reason = flags.Get("reason")) {
    static const std::vector<std::string> kCodes = {"0", "1", "3", "4", "5"};
    bool known = false;
    for (const auto& c : kCodes) known = known || c == *reason;
    if (!known) return Usage("--reason must be one of 0, 1, 3, 4, 5 (RFC 5280 §5.3.1)");
    out.reason = static_cast<acme::RevocationReason>(std::atoi(reason->c_str()));
  }
  return out;
}

Result<AccountOptions> ParseAccountOptions(const ParsedFlags& flags) {
  AccountOptions out;
  const auto& pos = flags.positional();
  if (pos.size() != 1) return Usage("give one action: show, deactivate or rollover");
  if (pos[0] == "show") {
    out.action = AccountAction::kShow;
  } else if (pos[0] == "deactivate") {
    out.action = AccountAction::kDeactivate;
  } else if (pos[0] == "rollover") {
    out.action = AccountAction::kRollover;
  } else {
    return Usage("unknown account action '" + pos[0] + "' (show, deactivate, rollover)");
  }
  RETURN_IF_ERROR(ParseServer(flags, /*key_required=*/true, &out.server));
  out.new_key_path = flags.GetOr("new-key", "");
  if (out.action == AccountAction::kRollover && out.new_key_path.empty()) {
    return Usage("account rollover needs --new-key FILE");
  }
  if (out.new_key_path == out.server.account_key_path && !out.new_key_path.empty()) {
    return Usage("--new-key must be a different file from --account-key");
  }
  if (auto type = flags.Get("new-key-type")) {
    ASSIGN_OR_RETURN(out.new_key_type, acme::ParseKeyType(*type));
  }
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return Usage("listen address must be HOST:PORT or :PORT");
  std::string host(text.substr(0, colon));
  std::string port_text(text.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Usage("listen address " + std::string(text) + ": port must be 0..65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  std::string t(text);
  char* end = nullptr;
  long long n = std::strtoll(t.c_str(), &end, 10);
  std::string unit(end);
  if (t.empty() || end == t.c_str() || n < 0) {
    return Usage("duration '" + t + "' must be a number with s, m or h");
  }
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  return Usage("duration '" + t + "' must be a number with s, m or h");
}

}  // namespace certsmith::cli
