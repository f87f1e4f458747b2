// A scriptable in-memory AcmeClient for reconciler tests: every call is recorded, answers come
// from the fields a test sets. No network, no sleeps.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "acme/client.h"
#include "acme/problem.h"

namespace certsmith::reconcilers::testing {

class FakeAcmeClient : public acme::AcmeClient {
 public:
  std::vector<std::string> calls;
  std::string url_set;  // the last set_account_url (no request to the CA)
  bool account_exists = false;
  // What LookupAccount fails with instead of answering, if set (a CA that is down, a 5xx, a
  // refused key: anything but "does not exist").
  std::optional<Status> lookup_error;
  std::optional<Status> new_account_error;
  std::optional<acme::ExternalAccountBinding> last_eab;
  std::optional<Status> new_order_error;
  std::optional<Status> new_order_error_once;  // the first NewOrder only
  acme::Order order;  // what NewOrder/GetOrder return (url filled by NewOrder)
  std::map<std::string, acme::Authorization> authorizations;
  std::optional<Status> respond_error;  // what RespondToChallenge fails with, if set
  std::optional<acme::Order> after_finalize;
  std::string chain_pem;
  std::string finalized_csr;
  acme::Directory directory;
  std::optional<acme::NewOrderRequest> last_new_order;
  // ARI: what GetRenewalInfo answers (nullopt: the CA has no renewalInfo).
  std::optional<Result<acme::RenewalInfo>> renewal_info;
  int renewal_info_calls = 0;
  std::string renewal_info_pem;  // the certificate the last GetRenewalInfo named
  // Revocation: what RevokeCertificate answers, and what it was asked.
  Status revoke_result = Status::Ok();
  std::vector<std::pair<std::string, std::optional<acme::RevocationReason>>> revoked;

  Result<acme::Directory> GetDirectory() override { return directory; }
  Result<std::string> NewNonce() override { return std::string("nonce"); }
  Result<acme::Account> NewAccount(const acme::NewAccountRequest& request) override {
    calls.push_back("NewAccount");
    last_eab = request.eab;
    if (new_account_error) return *new_account_error;
    account_exists = true;
    acme::Account a = Account();
    a.created = true;
    return a;
  }
  Result<acme::Account> LookupAccount() override {
    calls.push_back("LookupAccount");
    if (lookup_error) return *lookup_error;
    if (!account_exists) return MakeError(ErrorCode::kNotFound, "accountDoesNotExist");
    return Account();
  }
  Result<acme::Account> GetAccount() override { return Unsupported(); }
  Result<acme::Account> UpdateAccount(const std::vector<std::string>&) override {
    return Unsupported();
  }
  Result<acme::Account> DeactivateAccount() override { return Unsupported(); }
  Status KeyRollover(std::shared_ptr<const acme::Signer>) override { return Unsupported(); }
  Result<acme::Order> NewOrder(const acme::NewOrderRequest& request) override {
    calls.push_back("NewOrder");
    last_new_order = request;
    if (new_order_error_once) {
      Status e = *new_order_error_once;
      new_order_error_once.reset();
      return e;
    }
    if (new_order_error) return *new_order_error;
    order.url = kOrderUrl;
    order.identifiers = request.identifiers;
    return order;
  }
  Result<acme::Order> GetOrder(const std::string& url, int) override {
    calls.push_back("GetOrder " + url);
    return order;
  }
  Result<acme::Authorization> GetAuthorization(const std::string& url, int) override {
    calls.push_back("GetAuthorization " + url);
    auto it = authorizations.find(url);
    if (it == authorizations.end()) return MakeError(ErrorCode::kNotFound, "no authz");
    return it->second;
  }
  Result<acme::Authorization> DeactivateAuthorization(const std::string& url) override {
    calls.push_back("DeactivateAuthorization " + url);
    auto it = authorizations.find(url);
    if (it == authorizations.end()) return MakeError(ErrorCode::kNotFound, "no authz");
    it->second.status = acme::AuthorizationStatus::kDeactivated;
    return it->second;
  }
  Result<acme::Challenge> GetChallenge(const std::string&) override { return Unsupported(); }
  Result<acme::Challenge> RespondToChallenge(const std::string& url) override {
    calls.push_back("RespondToChallenge " + url);
    if (respond_error) return *respond_error;
    // As Boulder and Pebble do: a challenge is answered once; past pending, answering is refused.
    for (const auto& [authz_url, authz] : authorizations) {
      for (const acme::Challenge& known : authz.challenges) {
        if (known.url != url || known.status == acme::ChallengeStatus::kPending) continue;
        acme::Problem p;
        p.type = "urn:ietf:params:acme:error:malformed";
        p.detail = std::string("Cannot update challenge with status ") +
                   acme::ToString(known.status) + ", only status pending";
        p.status = 400;
        return acme::StatusFromProblem(p, 400);
      }
    }
    acme::Challenge c;
    c.url = url;
    c.type = "http-01";
    c.status = acme::ChallengeStatus::kProcessing;
    return c;
  }
  Result<acme::Order> Finalize(const acme::Order& o, std::string_view csr_der) override {
    calls.push_back("Finalize");
    finalized_csr = std::string(csr_der);
    if (after_finalize) order = *after_finalize;
    (void)o;
    return order;
  }
  Result<acme::CertificateChain> DownloadCertificate(const std::string& url) override {
    return DownloadPreferredChain(url, "");
  }
  Result<acme::CertificateChain> DownloadPreferredChain(const std::string& url,
                                                        std::string_view) override {
    calls.push_back("Download");
    acme::CertificateChain chain;
    chain.url = url;
    chain.pem = chain_pem;
    return chain;
  }
  Status RevokeCertificate(std::string_view pem,
                           std::optional<acme::RevocationReason> reason) override {
    calls.push_back("RevokeCertificate");
    revoked.emplace_back(std::string(pem), reason);
    return revoke_result;
  }
  Status RevokeCertificateWithKey(std::string_view, const acme::Signer&,
                                  std::optional<acme::RevocationReason>) override {
    return Unsupported();
  }
  Result<acme::RenewalInfo> GetRenewalInfo(std::string_view certificate_pem) override {
    ++renewal_info_calls;
    renewal_info_pem = std::string(certificate_pem);
    if (!renewal_info) {
      return MakeError(ErrorCode::kFailedPrecondition, "no renewalInfo in the directory");
    }
    return *renewal_info;
  }
  std::string KeyAuthorization(std::string_view token) const override {
    return std::string(token) + ".thumbprint";
  }
  std::string account_url() const override { return kAccountUrl; }
  void set_account_url(std::string url) override { url_set = std::move(url); }

  static constexpr char kAccountUrl[] = "https://ca.test/acme/acct/1";
  static constexpr char kOrderUrl[] = "https://ca.test/acme/order/1";

 private:
  static acme::Account Account() {
    acme::Account a;
    a.url = kAccountUrl;
    a.status = acme::AccountStatus::kValid;
    return a;
  }
  static Status Unsupported() { return MakeError(ErrorCode::kInternal, "not faked"); }
};

}  // namespace certsmith::reconcilers::testing
