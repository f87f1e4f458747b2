#include "cli/error_report.h"

#include "acme/problem.h"
#include "certsmith/log.h"
#include "cli/exit_codes.h"

namespace certsmith::cli {

namespace {

std::string HintFor(const Status& status, bool has_problem) {
  switch (status.code()) {
    case ErrorCode::kTls:
      return "the server's TLS certificate is not trusted: if the CA uses a private or test CA, "
             "pass its CA certificate with --ca-bundle FILE";
    case ErrorCode::kUnavailable:
      return has_problem ? "the CA is unavailable; try again later"
                         : "check the --server URL, that the server is running, and that this "
                           "machine can reach it (proxy, firewall)";
    case ErrorCode::kUnauthenticated:
      if (status.message().find("External Account Binding") == std::string::npos) {
        return "the CA refused this request for this account key";
      }
      return "check --eab-kid and the HMAC key: copy both again from the CA's portal (the HMAC "
             "key goes in --eab-hmac-key-file or CERTSMITH_EAB_HMAC_KEY)";
    case ErrorCode::kResourceExhausted:
      return "the CA is rate limiting this account or these names; wait before retrying";
    case ErrorCode::kDeadlineExceeded:
      return "the CA did not finish in time; raise --timeout or try again later";
    case ErrorCode::kInvalidArgument:
      if (status.message().find("requires External Account Binding") != std::string::npos) {
        return "give --eab-kid KID and the HMAC key with --eab-hmac-key-file FILE, the "
               "CERTSMITH_EAB_HMAC_KEY environment variable, or --eab-hmac-key KEY";
      }
      return "";
    default:
      return "";
  }
}

void AppendProblem(const acme::Problem& p, std::string* out) {
  *out += "  CA problem: " + log::Sanitize(p.type) + "\n";
  if (!p.detail.empty()) *out += "  detail: " + log::Sanitize(p.detail) + "\n";
  for (const std::string& extra : p.ExtraFields()) *out += "  " + log::Sanitize(extra) + "\n";
  for (const acme::Subproblem& sub : p.subproblems) {
    std::string who = sub.identifier ? sub.identifier->ToString() + ": " : "";
    *out += "  subproblem: " + log::Sanitize(who + sub.type + ": " + sub.detail) + "\n";
  }
}

}  // namespace

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk:
      return kExitOk;
    case ErrorCode::kInvalidArgument:
      return kExitUsage;
    case ErrorCode::kUnavailable:
    case ErrorCode::kTls:
      return kExitUnreachable;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
      return kExitAuth;
    case ErrorCode::kResourceExhausted:
      return kExitRateLimited;
    case ErrorCode::kDeadlineExceeded:
      return kExitTimeout;
    default:
      return kExitFailure;
  }
}

std::string DescribeError(const Status& status) {
  std::string out = "certsmith acme: error: " + log::Sanitize(status.message(), 2048) + "\n";
  std::optional<acme::Problem> problem = acme::ProblemFromStatus(status);
  if (problem) AppendProblem(*problem, &out);
  if (status.http_status()) out += "  HTTP status: " + std::to_string(*status.http_status()) + "\n";
  if (status.retry_after()) {
    out += "  retry after: " + std::to_string(status.retry_after()->count()) + " s\n";
  }
  std::string hint = HintFor(status, problem.has_value());
  if (!hint.empty()) out += "  hint: " + hint + "\n";
  return out;
}

}  // namespace certsmith::cli
