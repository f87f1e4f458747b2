// `certsmith acme revoke` (§7.6): signed by the account key, or with --key by the certificate's
// own key (which needs no account at all).
#include <cstdio>

#include "acme/certificate.h"
#include "cli/atomic_file.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/key_file.h"
#include "cli/options.h"
#include "cli/session.h"

namespace certsmith::cli {

namespace {

constexpr char kSynopsis[] =
    "usage: certsmith acme revoke --server URL --cert FILE\n"
    "           (--account-key FILE | --key CERT-KEY-FILE) [--reason N] [--ca-bundle FILE]\n"
    "\n"
    "Revokes a certificate, signed by the account that holds it (--account-key) or by the\n"
    "certificate's own private key (--key), e.g. after a key compromise (--reason 1).\n";

Status Revoke(const RevokeOptions& options, const Reporter& reporter) {
  ASSIGN_OR_RETURN(std::string cert_pem, ReadFile(options.cert_path));
  ASSIGN_OR_RETURN(acme::CertificateInfo info, acme::ParseCertificatePem(cert_pem));
  reporter.Step("revoking serial " + info.serial_hex + " (" + info.subject + ")");
  if (!options.cert_key_path.empty()) {
    ASSIGN_OR_RETURN(acme::PrivateKey cert_key, LoadKey(options.cert_key_path));
    if (!acme::CertificateMatchesKey(cert_pem, cert_key)) {
      return Status(
          ErrorCode::kInvalidArgument,
          "--key " + options.cert_key_path + " is not the key of --cert " + options.cert_path);
    }
    ASSIGN_OR_RETURN(std::shared_ptr<HttpTransport> transport, MakeTransport(options.server));
    ASSIGN_OR_RETURN(std::unique_ptr<acme::Client> client,
                     MakeClient(options.server, transport, cert_key));
    acme::KeySigner signer(cert_key);
    RETURN_IF_ERROR(client->RevokeCertificateWithKey(cert_pem, signer, options.reason));
  } else {
    ASSIGN_OR_RETURN(Session session, OpenSession(options.server, /*create_key=*/false, reporter));
    ASSIGN_OR_RETURN(acme::Account account, session.client->LookupAccount());
    reporter.Step("account " + account.url);
    RETURN_IF_ERROR(session.client->RevokeCertificate(cert_pem, options.reason));
  }
  std::printf("revoked: serial %s\n", info.serial_hex.c_str());
  return Status::Ok();
}

}  // namespace

int RunRevoke(const std::vector<std::string>& args) {
  int exit_code = kExitOk;
  std::optional<ParsedFlags> flags = ParseCommandLine(args, RevokeFlags(), kSynopsis, &exit_code);
  if (!flags) return exit_code;
  Result<RevokeOptions> options = ParseRevokeOptions(*flags);
  if (!options.ok()) return Fail(options.status());
  Status status = Revoke(*options, Reporter(options->server.verbose));
  return status.ok() ? kExitOk : Fail(status);
}

}  // namespace certsmith::cli
