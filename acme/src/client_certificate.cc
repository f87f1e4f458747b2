// Certificate verbs: download with alternate chains (RFC 8555 §7.4.2), revocation (§7.6) and
// renewal information (RFC 9773).
#include <algorithm>

#include "acme/certificate.h"
#include "acme/client.h"
#include "acme/link_header.h"
#include "acme/renewal_info.h"
#include "acme/retry_after.h"
#include "certsmith/base64.h"
#include "certsmith/log.h"
#include "resource_parser.h"

namespace certsmith::acme {

namespace {

using nlohmann::json;

constexpr char kPemChain[] = "application/pem-certificate-chain";

// RFC 9773 §4.3: without Retry-After, poll ARI about every six hours; never more often than a
// minute nor less often than a day, whatever the CA says.
constexpr std::chrono::seconds kAriDefaultPoll = std::chrono::hours(6);
constexpr std::chrono::seconds kAriMinPoll = std::chrono::minutes(1);  // ClientOptions may lower it
constexpr std::chrono::seconds kAriMaxPoll = std::chrono::hours(24);

// The topmost certificate of a chain is the last one. It matches when it is issued by the
// preferred name or is itself that name (a chain that includes its root): cert-manager's and
// certbot's preferred-chain rule.
bool TopIssuerMatches(const std::string& pem, std::string_view preferred) {
  Result<std::vector<std::string>> certs = SplitPemCertificates(pem);
  if (!certs.ok() || certs->empty()) return false;
  Result<CertificateInfo> top = ParseCertificatePem(certs->back());
  if (!top.ok()) return false;
  return top->issuer_common_name == preferred || top->common_name == preferred;
}

// A failed alternate is skipped unless the failure is transient: the caller asked for that
// chain, so a temporary error should be retried rather than silently giving the default.
bool IsTransient(const Status& s) {
  return s.code() == ErrorCode::kUnavailable || s.code() == ErrorCode::kResourceExhausted ||
         s.code() == ErrorCode::kDeadlineExceeded;
}

Result<std::string> CertificateDer(std::string_view certificate) {
  if (certificate.find("-----BEGIN") == std::string_view::npos) return std::string(certificate);
  return CertificatePemToDer(certificate);
}

}  // namespace

Result<CertificateChain> Client::DownloadCertificate(const std::string& url) {
  ASSIGN_OR_RETURN(HttpResponse response, Post({.url = url, .accept = kPemChain}));
  Result<std::vector<std::string>> certs = SplitPemCertificates(response.body);
  if (!certs.ok()) {
    return MakeError(ErrorCode::kProtocol, "the ACME server's certificate at " +
                                               log::Sanitize(url) +
                                               " is not a PEM chain: " + certs.status().message());
  }
  CertificateChain chain;
  chain.url = url;
  chain.pem = std::move(response.body);
  chain.alternates = LinksWithRel(ParseLinkHeaders(response.Headers("link"), url), "alternate");
  return chain;
}

Result<CertificateChain> Client::DownloadPreferredChain(const std::string& url,
                                                        std::string_view preferred_issuer_cn) {
  ASSIGN_OR_RETURN(CertificateChain default_chain, DownloadCertificate(url));
  if (preferred_issuer_cn.empty() || TopIssuerMatches(default_chain.pem, preferred_issuer_cn)) {
    return default_chain;
  }
  for (const std::string& alternate : default_chain.alternates) {
    Result<CertificateChain> chain = DownloadCertificate(alternate);
    if (!chain.ok()) {
      if (IsTransient(chain.status())) return chain.status();
      log::Warn("acme alternate chain unusable",
                {{"url", log::Sanitize(alternate)}, {"error", chain.status().message()}});
      continue;
    }
    if (TopIssuerMatches(chain->pem, preferred_issuer_cn)) {
      chain->alternates = default_chain.alternates;
      return chain;
    }
  }
  log::Info("acme preferred chain not offered; using the default chain",
            {{"preferred", log::Sanitize(preferred_issuer_cn)}});
  return default_chain;
}

Status Client::Revoke(std::string_view certificate, const Signer* certificate_key,
                      std::optional<RevocationReason> reason) {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  if (directory.revoke_cert.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the ACME server does not offer revocation (no revokeCert in directory)");
  }
  ASSIGN_OR_RETURN(std::string der, CertificateDer(certificate));
  json payload = {{"certificate", Base64UrlEncode(der)}};
  if (reason) payload["reason"] = static_cast<int>(*reason);
  SignedPost post{.url = directory.revoke_cert, .payload = std::move(payload)};
  if (certificate_key != nullptr) {
    post.mode = KeyIdMode::kJwk;
    post.signer = certificate_key;
  }
  return Post(post).status();
}

// §7.6: signed by the account that ordered it (kid)...
Status Client::RevokeCertificate(std::string_view certificate,
                                 std::optional<RevocationReason> reason) {
  return Revoke(certificate, nullptr, reason);
}

// ...or by the certificate's own key (jwk), e.g. after the account is lost.
Status Client::RevokeCertificateWithKey(std::string_view certificate, const Signer& certificate_key,
                                        std::optional<RevocationReason> reason) {
  return Revoke(certificate, &certificate_key, reason);
}

// RFC 9773 §4.2: an unauthenticated GET of renewalInfo/<certID>.
Result<RenewalInfo> Client::GetRenewalInfo(std::string_view certificate_pem) {
  ASSIGN_OR_RETURN(Directory directory, GetDirectory());
  if (directory.renewal_info.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the ACME server does not offer renewal information (no renewalInfo)");
  }
  ASSIGN_OR_RETURN(std::string cert_id, AriCertId(certificate_pem));
  std::string base = directory.renewal_info;
  if (base.empty() || base.back() != '/') base += '/';
  ASSIGN_OR_RETURN(HttpResponse response, Get(base + cert_id, "renewal information"));
  ASSIGN_OR_RETURN(RenewalInfo info, ParseRenewalInfo(response.body));
  std::chrono::seconds wait = std::clamp(RetryAfterOf(response).value_or(kAriDefaultPoll),
                                         std::min(options_.ari_min_poll, kAriMinPoll), kAriMaxPoll);
  info.next_poll = clock_.Now() + wait;
  return info;
}

}  // namespace certsmith::acme
